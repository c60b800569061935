// 长辈模式下的对比度（WCAG 2，≥ 4.5:1）：正文、主按钮、页眉按钮、菜单、提示文字。
// Contrast in 长辈模式 (WCAG 2 ratio ≥ 4.5:1) for body text, the primary button and the
// other text a person reads, measured from computed colours in the browser.
import assert from 'node:assert/strict';
import { ACCOUNTS, PHONE, contrastInPage, elderModeOn, login, suite } from '../lib/harness.js';

const env = suite();

async function check(page, checks) {
  const failures = [];
  const results = [];
  for (const [label, selector] of checks) {
    const els = await page.locator(selector).elementHandles();
    assert.ok(els.length > 0, `页面上应有 ${label}（${selector}）`);
    for (const el of els.slice(0, 5)) {
      const visible = await el.evaluate((e) => e.checkVisibility());
      if (!visible) continue;
      const c = await el.evaluate(contrastInPage);
      results.push(`${label} ${c.ratio.toFixed(2)}`);
      if (c.ratio < 4.5) failures.push(`${label}“${c.text}” ${c.color} on ${c.background}: ${c.ratio.toFixed(2)}:1`);
    }
  }
  assert.deepEqual(failures, [], `对比度不足 4.5:1 / contrast below 4.5:1 (${results.join(', ')})`);
}

env.test('登录页长辈模式的对比度 / contrast on the login page in elder mode', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await page.goto('/login');
  await elderModeOn(page);
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elder')));
  const body = await page.evaluate(contrastInPage, 'body');
  assert.ok(body.ratio >= 4.5, `正文对比度 ${body.ratio.toFixed(2)}:1 < 4.5`);
  await check(page, [
    ['正文', 'body'],
    ['标题', 'h1'],
    ['标签', 'label'],
    ['主按钮', '.btn.primary'],
    ['页眉按钮', 'header .btn'],
    ['提示', '.hint'],
    ['演示提示', '.demo-banner'],
    ['页脚', '.foot'],
  ]);
});

env.test('人员页长辈模式的对比度 / contrast on the people pages in elder mode', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.secretary);
  await elderModeOn(page);
  await page.goto('/people?q=zds');
  await page.locator('.person-row').first().waitFor();
  await check(page, [
    ['主按钮', '.btn.primary'],
    ['按钮', '.btn:not(.primary)'],
    ['菜单', 'nav[aria-label="主菜单"] a'],
    ['当前菜单', 'nav[aria-label="主菜单"] a[aria-current="page"]'],
    ['账号信息', '.who'],
    ['姓名', '.person-row .pname'],
    ['说明文字', '.person-row .pmeta'],
    ['人数', '#result-count'],
  ]);
  await page.locator('.person-row').first().click();
  await page.locator('dl.facts').waitFor();
  await check(page, [
    ['正文', 'dl.facts dd'],
    ['项目名', 'dl.facts dt'],
    ['标签', '.chip'],
    ['链接', 'dl.facts dd a'],
  ]);
});
