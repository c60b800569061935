// 工作人员在电脑上的日常：组织树、登记楼栋和人员、标签、账号、导出台账。
// Staff work at a desktop: the organisation tree, registering a building and a person,
// tags, accounts, exporting a ledger.
import assert from 'node:assert/strict';
import {
  ACCOUNTS, PASSWORD, idCheckChar, login, logout, navTo, suite, zhangDeshunPath,
} from '../lib/harness.js';

const env = suite();

/** A checksum-valid ID number for someone born in 汶上 on 1950-05-0d. */
function newIdNumber(serial) {
  const first17 = `37083019500505${String(serial).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
}

env.test('社区书记登记楼栋和人员，填错时有中文提示 / a secretary registers a building and a person; mistakes get Chinese messages', async ({ newPage }) => {
  const page = await newPage();
  await login(page, ACCOUNTS.secretary);
  // The tree: 东门社区 → a compound branch → a grid.
  await navTo(page, '组织');
  await page.getByRole('heading', { level: 1 }).filter({ hasText: '东门社区' }).waitFor();
  await page.locator('ul.tree a').filter({ hasText: '小区党支部' }).first().click();
  await page.locator('ul.tree a').filter({ hasText: '网格党小组' }).first().click();
  const gridUrl = new URL(page.url());
  const [, , county, unitId] = gridUrl.pathname.split('/');

  // 楼栋与住户: add a building, then a household inside it.
  await page.getByRole('link', { name: '楼栋与住户' }).click();
  await page.getByLabel('类型').selectOption({ label: '楼栋' });
  await page.getByLabel('名称（如 3号楼、2单元、501室）').fill('99号楼');
  await page.getByRole('button', { name: '登记', exact: true }).click();
  await page.getByRole('status').filter({ hasText: '已创建' }).waitFor();
  await page.getByRole('link', { name: /99号楼/ }).click();
  await page.getByLabel('类型').selectOption({ label: '户' });
  await page.getByLabel('名称（如 3号楼、2单元、501室）').fill('99号楼101室');
  await page.getByRole('button', { name: '登记', exact: true }).click();
  await page.getByText('99号楼101室').waitFor();

  // 登记人员 from the grid's people list: a wrong check digit first.
  await page.goto(`/people?unit=${county}/${unitId}`);
  await page.getByRole('link', { name: '登记人员' }).click();
  const good = newIdNumber(731);
  const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
  await page.getByLabel('姓名').fill('孙秀英');
  await page.getByLabel(/^身份证号码/).fill(bad);
  await page.getByLabel('手机号码').fill('13905370731');
  await page.getByLabel('户', { exact: true }).selectOption({ label: '99号楼101室' });
  await page.getByRole('button', { name: '保存' }).click();
  const error = page.getByRole('alert');
  await error.waitFor();
  assert.match(await error.innerText(), /第18位/);
  assert.equal(await page.getByLabel(/^身份证号码/).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('姓名').inputValue(), '孙秀英', '填过的内容不会丢');

  await page.getByLabel(/^身份证号码/).fill(good);
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: '孙秀英' }).waitFor();
  const facts = await page.locator('.facts').first().innerText();
  assert.match(facts, /1950-05-05（76岁）/, '出生日期和年龄按身份证号自动填写');
  assert.match(facts, /99号楼101室/);
  assert.ok(!(await page.content()).includes(good), '档案页不显示完整号码');

  // The household lists its new resident.
  await page.goto(`/org/${county}/${unitId}/places`);
  await page.getByRole('link', { name: /99号楼/ }).click();
  await page.getByRole('link', { name: '孙秀英' }).waitFor();
});

env.test('市级管理员定义标签，县级管理员贴标签、建账号，新账号首次登录须改密 / the city defines a tag, a county admin applies it and adds an account; the new user must change the initial password', async ({ newPage }) => {
  const page = await newPage();
  // Tag definitions are city-wide: the city administrator defines one.
  await login(page, ACCOUNTS.admin);
  await navTo(page, '标签');
  await page.getByLabel('代码（英文小写，规则中引用，如 gaoling）').fill('kunnan');
  await page.getByLabel('名称', { exact: true }).last().fill('困难老人');
  await page.getByLabel('类别').last().selectOption('人群特征');
  await page.getByRole('button', { name: '创建' }).click();
  await page.getByRole('link', { name: '困难老人' }).waitFor();
  await logout(page);
  // The county administrator sees the vocabulary without the form to change it, and puts
  // the tag on 张德顺.
  await login(page, ACCOUNTS.county);
  await navTo(page, '标签');
  await page.getByRole('link', { name: '困难老人' }).waitFor();
  assert.equal(await page.getByRole('button', { name: '创建' }).count(), 0, '县级不能定义全市标签');
  await page.goto(await zhangDeshunPath(page));
  await page.locator('summary', { hasText: '添加标签' }).click();
  await page.getByRole('combobox', { name: '标签', exact: true }).selectOption({ label: '人群特征 · 困难老人' });
  await page.getByRole('button', { name: '添加标签' }).click();
  const row = page.locator('tr', { hasText: '困难老人' });
  await row.waitFor();
  assert.match(await row.innerText(), /人工标注/);
  assert.match(await row.innerText(), /汶上县管理员/);

  // An account for a new grid worker on 张德顺's grid.
  const gridLink = page.locator('.facts a').first();
  await gridLink.click();
  const unitKey = (await page.locator('.facts dd').first().innerText()).trim();
  await navTo(page, '账号');
  await page.getByRole('link', { name: '新建账号' }).click();
  await page.getByLabel('用户名（英文字母、数字）').fill('newgrid');
  await page.getByLabel('姓名').fill('新网格员');
  const initial = await page.getByLabel('初始密码（本人首次登录时须修改）').inputValue();
  await page.getByLabel('角色').selectOption({ label: '网格员' });
  await page.getByLabel(/^授权组织编号/).fill(unitKey);
  await page.getByRole('button', { name: '创建账号' }).click();
  await page.getByRole('status').filter({ hasText: '已创建' }).waitFor();
  await logout(page);

  // The new grid worker logs in and is sent to change the password first.
  await page.getByLabel('用户名').fill('newgrid');
  await page.getByLabel('密码', { exact: true }).fill(initial);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(/\/account\/password$/);
  await page.getByText('首次登录请先把初始密码改成').waitFor();
  await page.goto('/people');
  await page.waitForURL(/\/account\/password$/);
  await page.getByLabel('当前密码').fill(initial);
  await page.getByLabel('新密码', { exact: true }).fill('short');
  await page.getByLabel('再输入一次新密码').fill('short');
  await page.getByRole('button', { name: '保存新密码' }).click();
  assert.match(await page.getByRole('alert').innerText(), /至少/);
  await page.getByLabel('当前密码').fill(initial);
  await page.getByLabel('新密码', { exact: true }).fill(PASSWORD + '-New');
  await page.getByLabel('再输入一次新密码').fill(PASSWORD + '-New');
  await page.getByRole('button', { name: '保存新密码' }).click();
  await page.getByRole('status').filter({ hasText: '密码已修改' }).waitFor();
  await navTo(page, '人员');
  await page.getByText('张德顺').first().waitFor();
});

env.test('导出的人员台账是脱敏的Excel / the exported people ledger is a masked Excel file', async ({ newPage }) => {
  const page = await newPage();
  await login(page, ACCOUNTS.grid);
  await navTo(page, '人员');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '导出Excel' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^人员台账-\d{4}-\d{2}-\d{2}\.xlsx$/);
  const file = await download.path();
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an .xlsx is a zip file');
});
