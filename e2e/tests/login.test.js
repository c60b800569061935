// 登录：只用键盘能登录；输错密码有中文提示，页面仍可继续使用。
// Login: keyboard only, visible focus; a wrong password explains itself in Chinese and the
// page stays usable.
import assert from 'node:assert/strict';
import { ACCOUNTS, PASSWORD, PHONE, suite } from '../lib/harness.js';

const env = suite();

/** What has the keyboard focus, and how its focus is drawn. */
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  return {
    id: el.id,
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || '').trim(),
    outlineStyle: s.outlineStyle,
    outlineWidth: parseFloat(s.outlineWidth),
    boxShadow: s.boxShadow,
  };
});

function assertFocusVisible(f, what) {
  assert.ok(f.outlineStyle !== 'none' && f.outlineWidth >= 2,
    `${what} 获得焦点时应有清晰的焦点框 / visible focus (outline ${f.outlineStyle} ${f.outlineWidth}px)`);
}

env.test('只用键盘登录 / log in with the keyboard only', async ({ newPage }) => {
  const page = await newPage();
  await page.goto('/login');

  // Tab through the page from wherever the focus starts until the username field.
  const seen = [];
  let f = await focused(page);
  for (let i = 0; i < 25 && f.id !== 'username'; i++) {
    await page.keyboard.press('Tab');
    f = await focused(page);
    seen.push(f.id || f.text || f.tag);
  }
  assert.equal(f.id, 'username', `Tab 应能到达用户名输入框（经过：${seen.join(' → ')}）`);
  assertFocusVisible(f, '用户名');
  await page.keyboard.type(ACCOUNTS.grid);

  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.id, 'password', '用户名之后 Tab 应到密码框');
  assertFocusVisible(f, '密码');
  await page.keyboard.type(PASSWORD);

  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.tag, 'button');
  assert.equal(f.text, '登录', '密码之后 Tab 应到“登录”按钮');
  assertFocusVisible(f, '登录按钮');

  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.keyboard.press('Enter'),
  ]);
  await page.getByRole('navigation', { name: '主菜单' }).waitFor();
  await page.getByRole('button', { name: '退出' }).waitFor();
});

env.test('键盘能到达“跳到正文”并跳到正文 / the skip link is reachable, visible and works', async ({ newPage }) => {
  const page = await newPage();
  await page.goto('/login');
  await page.locator('h1').click(); // start from the page, not the autofocused field
  await page.keyboard.press('Shift+Tab');
  for (let i = 0; i < 10; i++) {
    const f = await focused(page);
    if (f.text === '跳到正文') break;
    await page.keyboard.press('Shift+Tab');
  }
  const skip = page.getByRole('link', { name: '跳到正文' });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true, '应能用键盘到达“跳到正文”');
  const box = await skip.boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0, '获得焦点的“跳到正文”应出现在屏幕上');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', '回车后焦点应到正文');
});

env.test('输错密码有中文提示，页面仍可用 / a wrong password shows a Chinese message; the page stays usable', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await page.goto('/login');
  await page.getByLabel('用户名').fill(ACCOUNTS.secretary);
  await page.getByLabel('密码', { exact: true }).fill(`${PASSWORD}-wrong`);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
    page.getByRole('button', { name: '登录', exact: true }).click(),
  ]);
  assert.equal(res.status(), 401);
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: /用户名或密码不正确/ }).waitFor();
  assert.doesNotMatch(await alert.innerText(), /[A-Za-z]{4,}/, '提示应为中文，不应是英文或内部错误');

  // Still on a working login form, the username kept, the password cleared.
  assert.equal(await page.getByLabel('用户名').inputValue(), ACCOUNTS.secretary);
  assert.equal(await page.getByLabel('密码', { exact: true }).inputValue(), '');
  await page.locator('.hint').filter({ hasText: '连续输错5次' }).waitFor(); // the form's own advice is still there

  // An unknown user gets the same words (no hint which accounts exist).
  await page.getByLabel('用户名').fill('nobody-here');
  await page.getByLabel('密码', { exact: true }).fill('whatever-123');
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /用户名或密码不正确/ }).waitFor();

  // And the right password now works from the same page.
  await page.getByLabel('用户名').fill(ACCOUNTS.secretary);
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: '登录', exact: true }).click(),
  ]);
  await page.getByRole('navigation', { name: '主菜单' }).waitFor();
  assert.equal(await page.getByRole('alert').count(), 0);
});
