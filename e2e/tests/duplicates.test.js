// 重复登记转县级复核：网格员登记一个在别处已有档案的身份证号，页面照常保存、不提示；县管理员
// 在手机上（长辈模式）打开“重复登记复核”，看到两份打码的档案，选择并档。
// Duplicate registrations routed to the county: a grid worker registers an ID number that a
// file elsewhere already holds and is told nothing; the county administrator, on a phone in
// 长辈模式, opens 重复登记复核, sees both files masked side by side and merges them.
import assert from 'node:assert/strict';
import {
  ACCOUNTS, PHONE, elderModeOn, fullIdNumbers, login, navTo, suite, zhangDeshunPath,
} from '../lib/harness.js';

const env = suite();

env.test('县管理员在手机长辈模式下复核重复登记 / the county reviews a duplicate on a phone in elder mode', async ({ newPage }) => {
  // The grid worker of 张德顺's grid reads his full number (a reveal, audited).
  const grid = await newPage();
  await login(grid, ACCOUNTS.grid);
  const filePath = await zhangDeshunPath(grid);
  await grid.goto(filePath);
  await Promise.all([
    grid.waitForURL(/\/reveal$/),
    grid.locator('dd', { has: grid.locator('#id-number') })
      .getByRole('button', { name: '显示完整号码' }).click(),
  ]);
  const number = (await grid.locator('#id-number').innerText()).trim();
  assert.match(number, /^\d{17}[\dX]$/);

  // The other grid's worker registers someone with that number in their own grid.
  const other = await newPage(PHONE);
  await login(other, ACCOUNTS.otherGrid);
  const me = await (await other.request.get('/api/v1/me')).json();
  const home = me.grants[0];
  await other.goto(`/people/new?unit=${home.unit_county_code}/${home.unit_id}`);
  await other.getByLabel('姓名').fill('张得顺');
  await other.getByLabel(/^身份证号码/).fill(number);
  await Promise.all([
    other.waitForURL(/\/people\/\d+\/\d+\?ok=created$/),
    other.getByRole('button', { name: '保存' }).click(),
  ]);
  await other.getByText('已创建。').waitFor();
  const told = await other.content();
  for (const word of ['其他辖区', '复核', '已登记']) {
    assert.ok(!told.includes(word), `登记人不应看到“${word}”`);
  }

  // The county administrator, on a phone, in 长辈模式.
  const county = await newPage(PHONE);
  await login(county, ACCOUNTS.county);
  await elderModeOn(county);
  await navTo(county, '重复登记复核');
  await county.waitForURL((u) => u.pathname === '/people/duplicates');
  await county.getByRole('heading', { level: 1, name: '重复登记复核' }).waitFor();
  const item = county.locator('li.duplicate').filter({ hasText: '张得顺' });
  await item.waitFor();
  const text = await item.innerText();
  assert.ok(text.includes('新登记的档案') && text.includes('已有档案') && text.includes('张德顺'), text);
  assert.match(text, /\d\*{15}[\dX]{2}/, '号码应打码显示');
  assert.deepEqual(fullIdNumbers(await county.content()), [], '复核页不应出现完整号码');
  assert.ok(!text.includes('1944-03-15'), '复核页不应出现完整出生日期');

  // Nothing runs off the side of the phone; the choices and the button are large targets.
  const overflow = await county.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `页面不应左右滚动（多出 ${overflow}px）`);
  const merge = item.getByRole('radio', { name: /是同一人，并档/ });
  const submit = item.getByRole('button', { name: '提交处理结果' });
  for (const [what, box] of [
    ['并档选项', await item.locator('label.choice', { has: county.locator('input[value="merge"]') }).boundingBox()],
    ['提交按钮', await submit.boundingBox()],
  ]) {
    assert.ok(box.height >= 60 && box.width >= 60, `${what}应不小于60×60：${box.width}×${box.height}`);
  }

  await merge.check();
  await item.getByLabel('处理说明（可不填）').fill('同一人，户籍在东门社区');
  await Promise.all([
    county.waitForURL((u) => u.pathname === '/people/duplicates' && u.searchParams.get('done') === 'merge'),
    submit.click(),
  ]);
  await county.getByText('已并档：新登记的档案已关闭，以原有档案为准。').waitFor();
  assert.equal(await county.locator('li.duplicate').filter({ hasText: '张得顺' }).count(), 0,
    '已处理的登记不应留在待复核列表');
  assert.ok(await county.locator('html.elder').count(), '处理后仍是长辈模式');
});
