// 网格员用手机查找张德顺、打开档案、开启长辈模式。
// A grid worker on a phone finds 张德顺 by pinyin initials, opens his file, switches
// 长辈模式 on and checks what the MIIT 适老化 rules require: text ≥ 18 px, main touch
// targets ≥ 60×60 px, no sideways scrolling, and the setting remembered.
import assert from 'node:assert/strict';
import {
  ACCOUNTS, PHONE, elderModeOn, fullIdNumbers, login, logout, navTo, searchPeople, suite,
} from '../lib/harness.js';

const env = suite();

/** Font sizes (px) of the elements matching a selector, in the page. */
async function fontSizes(page, selector) {
  return page.locator(selector).evaluateAll((els) =>
    els.map((e) => ({ text: e.innerText.trim().slice(0, 20), px: parseFloat(getComputedStyle(e).fontSize) })));
}

/**
 * Bounding boxes of the visible main touch targets: the header buttons, every `.btn`,
 * the main menu links and the person rows. Returns those smaller than 60×60 px.
 */
async function smallTargets(page) {
  return page.evaluate(() => {
    const selectors = ['header button', 'header .btn', '.btn', 'nav[aria-label="主菜单"] a', '.person-row'];
    const seen = new Set();
    const small = [];
    let measured = 0;
    for (const sel of selectors) {
      for (const el of document.querySelectorAll(sel)) {
        if (seen.has(el)) continue;
        seen.add(el);
        const r = el.getBoundingClientRect();
        // Rendered (not inside a closed <details>, not display:none) and on the screen
        // horizontally (the skip link waits off-screen until focused).
        const visible = el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true })
          && r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth;
        if (!visible) continue;
        measured += 1;
        if (r.width < 60 || r.height < 60) {
          small.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).replace(/\s+/g, '.') : ''} "${(el.innerText || '').trim().slice(0, 16)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
      }
    }
    return { measured, small };
  });
}

async function assertNoSidewaysScroll(page, where) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(
    m.scrollWidth <= m.innerWidth && m.scrollWidth <= PHONE.viewport.width,
    `${where}: 页面可以左右滚动 / scrolls sideways (scrollWidth ${m.scrollWidth} > ${m.innerWidth})`,
  );
}

env.test('网格员手机查找张德顺并在长辈模式下查看档案 / grid worker on a phone: find 张德顺, elder mode', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.grid);

  // --- search by pinyin initials ---
  const results = await searchPeople(page, 'zds');
  const row = results.getByRole('link').filter({ hasText: '张德顺' });
  await row.first().waitFor();
  assert.equal(await row.count(), 1, '搜索 zds 应恰好找到一位张德顺');
  assert.deepEqual(fullIdNumbers(await page.content()), [], '搜索结果页不应出现完整身份证号');
  await assertNoSidewaysScroll(page, '搜索结果 / search results');

  // --- his file ---
  await Promise.all([page.waitForURL(/\/people\/\d+\/\d+$/), row.click()]);
  const fileUrl = page.url();
  const heading = page.getByRole('heading', { level: 1 });
  await heading.filter({ hasText: '张德顺' }).waitFor();
  assert.match(await heading.innerText(), /82岁/, '标题应显示年龄 82岁');
  const facts = page.locator('dl.facts');
  assert.match(await facts.innerText(), /（82岁）/, '出生日期后应显示 82岁');

  const idText = (await page.locator('#id-number').innerText()).trim();
  assert.match(idText, /^\d\*{15}[\dX]{2}$/, `身份证号应打码显示（首位和末两位）：${idText}`);
  assert.deepEqual(fullIdNumbers(await page.content()), [], '档案页 HTML 中不应出现完整身份证号');

  const tags = page.getByRole('region', { name: '标签' });
  for (const tag of ['高龄', '独居']) {
    const tagRow = tags.locator('tr').filter({ has: page.getByText(tag, { exact: true }) });
    assert.equal(await tagRow.count(), 1, `应有标签 ${tag}`);
    assert.match(await tagRow.innerText(), /有效/, `标签 ${tag} 应为有效`);
  }
  await assertNoSidewaysScroll(page, '档案页（普通模式）/ file, default mode');

  // --- 长辈模式 on, from the header ---
  const toggle = page.getByRole('banner').getByRole('button', { name: '开启长辈模式' });
  await toggle.click();
  const toggled = page.getByRole('banner').getByRole('button', { name: '长辈模式：已开启' });
  await toggled.waitFor();
  assert.equal(page.url(), fileUrl, '切换后应回到同一页面');
  assert.equal(await toggled.getAttribute('aria-pressed'), 'true');

  // Main text ≥ 18 px.
  const body = await fontSizes(page, 'body');
  assert.ok(body[0].px >= 18, `正文字号应 ≥ 18px，实际 ${body[0].px}px`);
  const dds = await fontSizes(page, 'dl.facts dd');
  assert.ok(dds.length >= 5, '应有基本信息');
  for (const dd of dds) assert.ok(dd.px >= 18, `基本信息“${dd.text}”字号 ${dd.px}px < 18px`);
  const lineHeight = await page.evaluate(() => {
    const s = getComputedStyle(document.querySelector('dl.facts dd'));
    return parseFloat(s.lineHeight) / parseFloat(s.fontSize);
  });
  assert.ok(lineHeight >= 1.3, `行高应 ≥ 1.3，实际 ${lineHeight.toFixed(2)}`);

  // Main touch targets ≥ 60×60 px on the file page …
  let t = await smallTargets(page);
  assert.ok(t.measured >= 8, `应测量到页眉按钮、菜单和按钮（只找到 ${t.measured} 个）`);
  assert.deepEqual(t.small, [], '长辈模式下这些点击目标小于 60×60px / targets under 60×60 px on the file page');
  await assertNoSidewaysScroll(page, '档案页（长辈模式）/ file, elder mode');

  // … and on the search results, where the person rows are.
  await page.goto('/people?q=zds');
  await results.getByRole('link').filter({ hasText: '张德顺' }).waitFor();
  t = await smallTargets(page);
  assert.deepEqual(t.small, [], '长辈模式下这些点击目标小于 60×60px / targets under 60×60 px on the results page');
  const rows = await fontSizes(page, '.person-row .pname');
  for (const r of rows) assert.ok(r.px >= 18, `姓名“${r.text}”字号 ${r.px}px < 18px`);
  await assertNoSidewaysScroll(page, '搜索结果（长辈模式）/ results, elder mode');

  // --- remembered: after a reload, after logging out and in, and on another phone ---
  await page.goto(fileUrl);
  await page.reload();
  await toggled.waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elder')));

  await logout(page);
  await page.getByRole('button', { name: '长辈模式：已开启' }).waitFor(); // the login page too
  await login(page, ACCOUNTS.grid);
  await page.getByRole('button', { name: '长辈模式：已开启' }).waitFor();

  const other = await newPage(PHONE); // no cookies: the account itself remembers
  await login(other, ACCOUNTS.grid);
  await other.getByRole('button', { name: '长辈模式：已开启' }).waitFor();
  assert.ok(await other.evaluate(() => document.documentElement.classList.contains('elder')));

  // And it can be switched off again.
  await page.goto(fileUrl);
  await page.getByRole('button', { name: '长辈模式：已开启' }).click();
  await page.getByRole('button', { name: '开启长辈模式' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), false);
});

env.test('长辈模式下首页与组织页没有左右滚动 / elder mode: home and org pages fit a phone', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.secretary);
  await elderModeOn(page);
  await assertNoSidewaysScroll(page, '首页 / home');
  // On a phone in 长辈模式 the menu folds behind one large 菜单 button.
  const toggle = page.getByRole('button', { name: '菜单', exact: true });
  assert.ok(await toggle.isVisible(), '长辈模式手机上应有“菜单”按钮 / a 菜单 button on a phone in elder mode');
  const tb = await toggle.boundingBox();
  assert.ok(tb.width >= 60 && tb.height >= 60, `菜单按钮 ${Math.round(tb.width)}×${Math.round(tb.height)}px`);
  await navTo(page, '组织');
  await page.waitForURL(/\/org/);
  await assertNoSidewaysScroll(page, '组织 / org');
  const t = await smallTargets(page);
  assert.deepEqual(t.small, [], '组织页点击目标小于 60×60px / targets under 60×60 px on the org page');
});

// In 长辈模式 `.search` is a column; the search box must stay one line tall (a flex-basis
// meant as a width once turned into a 350 px height).
env.test('长辈模式下查找框高度正常 / elder mode: the search box is one line tall', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.grid);
  await elderModeOn(page);
  for (const where of ['/', '/people']) {
    await page.goto(where);
    const box = await page.getByRole('search').getByRole('textbox').first().boundingBox();
    assert.ok(box.height >= 60, `${where}: 查找框应 ≥ 60px 高，实际 ${Math.round(box.height)}px`);
    assert.ok(box.height <= 130, `${where}: 查找框高 ${Math.round(box.height)}px，应为一行（≤ 130px）`);
  }
});
