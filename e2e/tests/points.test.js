// 积分兑换（故事一的后半）：张大爷在手机上用长辈模式打开“我的积分”，出示兑换码（6位大字和二维码）；
// 超市收银员在另一部手机上输入兑换码、选商品、兑换，看到回执（姓名打码）；张大爷点“查看回执”，
// 看到回执，积分减少了商品的价格；再在“我的兑换记录”里点“不是我本人兑换”，在同一页上确认，
// 看到已报告县里，县里的冒用兑换报告里有这一笔。
// Redemption on phones: 张大爷 (张德顺) opens 我的积分 in 长辈模式 and shows a code (six large
// digits and a QR code); the shop's till (`chaoshi`, a second browser) types the code, picks
// goods and redeems, and sees the receipt with the name masked; on 张大爷's phone 查看回执
// shows the receipt, and his balance went down by the price. Targets ≥ 60×60 px and text
// ≥ 18 px in 长辈模式, no sideways scrolling, as in orders.test.js. Then, in 我的兑换记录,
// he taps 不是我本人兑换, confirms on the same screen (no pop-up) and sees that it reached
// the county, whose list of reports shows it.
import assert from 'node:assert/strict';
import { ACCOUNTS, DESKTOP, PHONE, contrastInPage, elderModeOn, login, navTo, suite } from '../lib/harness.js';

const env = suite();

/** Visible buttons, big choices and cards smaller than 60×60 px (长辈模式 targets). */
async function smallTargets(page) {
  return page.evaluate(() => {
    const selectors = ['header button', 'main .btn', 'main button', '.choice', '.item-choice'];
    const seen = new Set();
    const small = [];
    let measured = 0;
    for (const sel of selectors) {
      for (const el of document.querySelectorAll(sel)) {
        if (seen.has(el)) continue;
        seen.add(el);
        const r = el.getBoundingClientRect();
        const visible = el.checkVisibility({ visibilityProperty: true })
          && r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth;
        if (!visible) continue;
        measured += 1;
        if (r.width < 60 || r.height < 60) {
          small.push(`${el.tagName.toLowerCase()}.${String(el.className).replace(/\s+/g, '.')} "${(el.innerText || '').trim().slice(0, 16)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
      }
    }
    return { measured, small };
  });
}

async function assertElderPage(page, where) {
  assert.ok(
    await page.evaluate(() => document.documentElement.classList.contains('elder')),
    `${where}: 应为长辈模式 / elder mode on`,
  );
  const t = await smallTargets(page);
  assert.ok(t.measured >= 2, `${where}: 应测量到按钮（只找到 ${t.measured} 个）`);
  assert.deepEqual(t.small, [], `${where}: 长辈模式下这些点击目标小于 60×60px`);
  const px = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('main')).fontSize));
  assert.ok(px >= 18, `${where}: 正文字号应 ≥ 18px，实际 ${px}px`);
  await assertNoSidewaysScroll(page, where);
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

async function fontPx(locator) {
  return locator.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
}

env.test('张大爷出示兑换码，超市兑换一袋大米，双方看到回执 / a code shown, redeemed at the shop, receipts on both sides', async ({ newPage }) => {
  // 张大爷: 我的积分 in 长辈模式.
  const elder = await newPage(PHONE);
  await login(elder, ACCOUNTS.resident);
  await elderModeOn(elder);
  await navTo(elder, '我的积分');
  await elder.getByRole('heading', { name: '我的积分', level: 1 }).waitFor();
  const before = Number((await elder.locator('#points-balance').innerText()).replace(/\D/g, ''));
  assert.ok(before >= 60, `张大爷应有足够的积分换一袋大米，实际 ${before}`);
  assert.match(await elder.locator('#minutes-balance').innerText(), /小时|分钟/, '时间银行写成“几小时几分钟”');
  assert.ok(await fontPx(elder.locator('#points-balance')) >= 36, '余额数字要大');
  await assertElderPage(elder, '我的积分 / my points');
  for (const sel of ['#points-balance', '.line-change']) {
    const c = await elder.evaluate(contrastInPage, sel);
    assert.ok(c && c.ratio >= 4.5, `${sel} 对比度 ${c?.ratio?.toFixed(2)}:1 < 4.5`);
  }

  // 去兑换 → 出示兑换码: six big digits and a QR code, with the expiry time.
  await elder.getByRole('link', { name: '去兑换' }).click();
  await elder.getByRole('heading', { name: '出示兑换码', level: 1 }).waitFor();
  await assertElderPage(elder, '出示兑换码 / before the code');
  await Promise.all([
    elder.waitForURL(/\/points\/redeem\/\d{6}$/),
    elder.getByRole('button', { name: '出示兑换码' }).click(),
  ]);
  const digits = elder.locator('#code-digits');
  assert.ok(await digits.isVisible(), '兑换码可见 / the digits are visible');
  const shown = (await digits.innerText()).trim();
  assert.match(shown, /^\d{3} \d{3}$/, `兑换码是6位数字，分两组：${shown}`);
  const code = shown.replace(/\s/g, '');
  assert.ok(await fontPx(digits) >= 40, `兑换码字号应很大，实际 ${await fontPx(digits)}px`);
  const qr = elder.locator('#code-qr svg.qr');
  assert.ok(await qr.isVisible(), '有二维码 / a QR code');
  assert.match(await qr.getAttribute('aria-label'), /兑换码/);
  const box = await qr.boundingBox();
  assert.ok(box && box.width >= 180 && box.height >= 180, `二维码要够大：${JSON.stringify(box)}`);
  assert.match(await elder.locator('#code-expires').innerText(), /^\d{2}:\d{2}$/);
  assert.match(await elder.locator('main').innerText(), /5分钟内有效/);
  await assertElderPage(elder, '兑换码 / the code');

  // Before the shop has done anything: 还没有兑换, with a refresh button, no pop-up.
  await elder.getByRole('link', { name: '已兑换？查看回执' }).click();
  await elder.getByRole('heading', { name: '还没有兑换', level: 1 }).waitFor();
  await assertElderPage(elder, '还没有兑换 / not yet');

  // The till, on another phone: type the code, choose the rice, redeem.
  const till = await newPage(PHONE);
  await login(till, ACCOUNTS.shop);
  await navTo(till, '积分兑换');
  await till.getByRole('heading', { name: '输入兑换码' }).waitFor();
  const codeInput = till.getByRole('textbox', { name: /兑换码/ });
  assert.equal(await codeInput.getAttribute('inputmode'), 'numeric', '数字键盘 / numeric keypad');
  await codeInput.fill(code);
  const rice = till.locator('#goods_id option').filter({ hasText: '大米10斤' });
  const riceText = await rice.innerText();
  const price = Number(riceText.match(/(\d+)积分/)[1]);
  await till.locator('#goods_id').selectOption(await rice.getAttribute('value'));
  assert.equal(await till.getByLabel('数量').inputValue(), '1');
  await assertNoSidewaysScroll(till, '收银 / the till');
  await Promise.all([
    till.waitForURL(/\/shop\/\d+\/\d+\/receipt\?key=/),
    till.getByRole('button', { name: '确认兑换' }).click(),
  ]);
  await till.getByRole('heading', { name: '兑换成功', level: 1 }).waitFor();
  assert.equal((await till.locator('#receipt-person').innerText()).trim(), '张*顺', '收银员只看到打码的姓名');
  assert.match(await till.locator('#receipt-goods').innerText(), /大米10斤 × 1/);
  assert.equal((await till.locator('#receipt-points').innerText()).trim(), `${price} 分`);
  assert.ok(!(await till.locator('main').innerText()).includes('张德顺'), '收银页面不出现全名');
  await assertNoSidewaysScroll(till, '收银回执 / the till receipt');

  // The same code a second time is refused at the till and takes nothing.
  await till.getByRole('link', { name: '继续兑换' }).click();
  await till.getByRole('textbox', { name: /兑换码/ }).fill(code);
  await till.locator('#goods_id').selectOption(await till.locator('#goods_id option').filter({ hasText: '挂面' }).getAttribute('value'));
  await till.getByRole('button', { name: '确认兑换' }).click();
  await till.getByRole('alert').filter({ hasText: '兑换码不对或已过期' }).waitFor();
  assert.equal(await till.getByRole('textbox', { name: /兑换码/ }).getAttribute('aria-invalid'), 'true');

  // 张大爷 refreshes: the receipt, and the balance went down by the price.
  await elder.getByRole('link', { name: '刷新' }).click();
  await elder.getByRole('heading', { name: '兑换回执', level: 1 }).waitFor();
  assert.match(await elder.locator('#receipt-shop').innerText(), /服务积分兑换超市/);
  assert.match(await elder.locator('#receipt-goods').innerText(), /大米10斤 × 1/);
  assert.equal((await elder.locator('#receipt-points').innerText()).trim(), `${price} 分`);
  assert.equal((await elder.locator('#receipt-balance').innerText()).trim(), `${before - price} 分`);
  await assertElderPage(elder, '兑换回执 / the receipt');
  await elder.getByRole('link', { name: '返回我的积分' }).click();
  await elder.getByRole('heading', { name: '我的积分', level: 1 }).waitFor();
  const after = Number((await elder.locator('#points-balance').innerText()).replace(/\D/g, ''));
  assert.equal(after, before - price, '积分减少了商品的价格 / down by the price');
  assert.match(await elder.locator('#recent-lines').innerText(), /积分兑换/);

  // The shop's month lists it.
  await till.getByRole('link', { name: '月度结算' }).click();
  await till.getByRole('heading', { name: /月度结算/ }).waitFor();
  assert.match(await till.locator('#settlement-lines').innerText(), /张\*顺[\s\S]*大米10斤/);
  // 我的兑换记录 lists it: shop, goods, points, time. 张大爷 says it was not him: one tap on
  // 不是我本人兑换 opens the confirmation in place — same page, no pop-up — and one more tap
  // sends it; the page says it reached the county and pauses new codes.
  let dialogs = 0;
  elder.on('dialog', (d) => { dialogs += 1; d.dismiss().catch(() => {}); });
  const item = elder.locator('#my-redemptions li.redemption').first();
  const itemText = await item.innerText();
  assert.match(itemText, /服务积分兑换超市/);
  assert.match(itemText, /大米10斤 × 1/);
  assert.match(itemText, new RegExp(`−${price}分`));
  assert.match(itemText, /\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}|\d{2}:\d{2}/, `有时间：${itemText}`);
  const notMe = item.getByText('不是我本人兑换', { exact: true });
  const confirm = item.getByRole('button', { name: '确认，不是我兑换的' });
  assert.ok(!(await confirm.isVisible()), '确认按钮先不出现 / the confirmation starts closed');
  const pageUrl = elder.url();
  await notMe.click();
  await confirm.waitFor();
  assert.equal(elder.url(), pageUrl, '确认就在同一页 / the confirmation is on the same page');
  await confirm.scrollIntoViewIfNeeded();
  assert.ok(await confirm.isVisible(), '确认按钮在屏幕上 / the confirmation is on screen');
  const cbox = await confirm.boundingBox();
  assert.ok(cbox && cbox.width >= 60 && cbox.height >= 60, `确认按钮要够大：${JSON.stringify(cbox)}`);
  assert.match(await item.innerText(), /县里核实之前暂停出示兑换码/);
  await assertElderPage(elder, '不是我本人兑换的确认 / the confirmation');
  await Promise.all([
    elder.waitForURL(/\/points\?done=reported/),
    confirm.click(),
  ]);
  await elder.getByRole('heading', { name: '我的积分', level: 1 }).waitFor();
  assert.match(await elder.locator('main').innerText(), /已报告县里/, '告诉老人已送到县里 / says it was sent');
  const reported = elder.locator('#my-redemptions li.redemption').first();
  const status = reported.getByRole('status');
  assert.match(await status.innerText(), /已报告，等待县里核实/);
  // The page opens at that redemption, so what became of the tap is on the first screen.
  const sbox = await status.boundingBox();
  assert.ok(sbox && sbox.y >= 0 && sbox.y + sbox.height <= PHONE.viewport.height,
    `“已报告”在屏幕上 / the status is on screen: ${JSON.stringify(sbox)}`);
  assert.ok(await elder.locator('#redeem-paused').isVisible(), '暂停出示兑换码 / codes paused');
  assert.equal(dialogs, 0, '没有弹窗 / no pop-up');
  await assertElderPage(elder, '已报告 / reported');

  // The county sees it on its list.
  const county = await newPage(DESKTOP);
  await login(county, ACCOUNTS.county);
  await county.goto('/ledger/redeem-reports');
  await county.getByRole('heading', { name: '冒用兑换报告', level: 1 }).waitFor();
  assert.match(await county.locator('#redeem-reports').innerText(), /张德顺[\s\S]*服务积分兑换超市[\s\S]*大米10斤[\s\S]*等待县里核实/);
});
