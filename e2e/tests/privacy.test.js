// 敏感信息与数据范围：谁能看到完整身份证号，谁能看到谁的档案。
// Sensitive data and scope: who may reveal a full ID number, who may see whose file.
import assert from 'node:assert/strict';
import {
  ACCOUNTS, fullIdNumbers, idCheckChar, login, searchPeople, suite, zhangDeshunPath,
} from '../lib/harness.js';

const env = suite();

const idCell = (page) => page.locator('dd', { has: page.locator('#id-number') });

env.test('网格员可显示完整身份证号，市级管理员不可 / grid worker may reveal, city admin may not', async ({ newPage }) => {
  // --- the grid worker reveals ---
  const page = await newPage();
  await login(page, ACCOUNTS.grid);
  const filePath = await zhangDeshunPath(page);
  await page.goto(filePath);
  const masked = (await page.locator('#id-number').innerText()).trim();
  assert.match(masked, /^\d\*{15}[\dX]{2}$/);

  await Promise.all([
    page.waitForURL(/\/reveal$/),
    idCell(page).getByRole('button', { name: '显示完整号码' }).click(),
  ]);
  await page.locator('#reveal-note').filter({ hasText: '审计日志' }).waitFor();
  const full = (await page.locator('#id-number').innerText()).trim();
  assert.match(full, /^\d{17}[\dX]$/, `应显示完整的18位号码：${full}`);
  assert.equal(full[0], masked[0], '首位应与打码号一致');
  assert.equal(full.slice(-2), masked.slice(-2), '末两位应与打码号一致');
  assert.equal(full[17], idCheckChar(full.slice(0, 17)), 'GB 11643 校验位');

  // Shown once: opening the file again masks it again.
  await page.goto(filePath);
  assert.equal((await page.locator('#id-number').innerText()).trim(), masked);
  assert.ok(!(await page.content()).includes(full), '再次打开档案时不应再有完整号码');

  // --- the city admin sees the file, masked, with no reveal button ---
  const admin = await newPage();
  await login(admin, ACCOUNTS.admin);
  await admin.goto(filePath);
  await admin.getByRole('heading', { level: 1, name: /张德顺/ }).waitFor();
  assert.equal((await admin.locator('#id-number').innerText()).trim(), masked);
  assert.equal(await idCell(admin).getByRole('button', { name: '显示完整号码' }).count(), 0,
    '市级管理员不应看到“显示完整号码”');
  assert.ok(!(await admin.content()).includes(full));

  // Posting the reveal form anyway is refused by the server, not just hidden.
  await Promise.all([
    admin.waitForURL(/\/reveal$/),
    admin.evaluate((action) => {
      const f = document.createElement('form');
      f.method = 'post';
      f.action = action;
      for (const [k, v] of [['csrf_token', document.querySelector('input[name=csrf_token]').value], ['field', 'id_number']]) {
        const i = document.createElement('input');
        i.type = 'hidden'; i.name = k; i.value = v;
        f.append(i);
      }
      document.body.append(f);
      f.submit();
    }, `${filePath}/reveal`),
  ]);
  await admin.getByRole('heading', { level: 1, name: '无权操作' }).waitFor();
  assert.ok(!(await admin.content()).includes(full), '被拒绝时不应泄露号码');

  // --- and the audit log shows the grid worker's view ---
  const key = filePath.replace(/^\/people\//, '');
  await admin.goto(`/audit?action=person.reveal&entity_key=${encodeURIComponent(key)}`);
  const rows = admin.locator('tbody tr').filter({ hasText: '查看完整敏感信息' });
  assert.ok(await rows.count() >= 1, '审计日志应记录“查看完整敏感信息”');
  assert.match(await rows.first().innerText(), new RegExp(key.replace('/', '\\/')));
  assert.deepEqual(fullIdNumbers(await admin.content()), [], '审计日志不应记录完整号码');
});

env.test('另一网格的网格员看不到张德顺 / another grid\'s worker cannot see 张德顺', async ({ newPage }) => {
  const page = await newPage();
  await login(page, ACCOUNTS.grid);
  const filePath = await zhangDeshunPath(page);
  await page.goto(filePath);
  const masked = (await page.locator('#id-number').innerText()).trim();

  const other = await newPage();
  await login(other, ACCOUNTS.otherGrid);
  await searchPeople(other, 'zds');
  assert.equal(await other.getByText('张德顺').count(), 0, 'wangge2 搜索 zds 不应找到张德顺');

  const res = await other.goto(filePath);
  assert.equal(res.status(), 404);
  await other.getByRole('heading', { level: 1, name: '没有找到' }).waitFor();
  const html = await other.content();
  for (const secret of ['张德顺', masked, '1944-03-15']) {
    assert.ok(!html.includes(secret), `没有权限时页面不应出现“${secret}”`);
  }
  await other.getByRole('link', { name: '返回首页' }).waitFor();
});

// The message page's 返回上一页 must work under the site's own Content-Security-Policy
// (script-src 'self'): no `javascript:` URLs.
env.test('“没有找到”页的“返回上一页”可用 / the not-found page\'s 返回上一页 works', async ({ newPage }) => {
  const page = await newPage();
  await login(page, ACCOUNTS.otherGrid);
  await page.goto('/people');
  await page.goto('/people/370830/999999999');
  await page.getByRole('heading', { level: 1, name: '没有找到' }).waitFor();
  await page.getByRole('link', { name: '返回上一页' }).click();
  await page.waitForURL((u) => u.pathname === '/people', { timeout: 5_000 });
});
