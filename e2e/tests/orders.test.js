// 点单到接单（故事一）：张大爷在手机上用长辈模式点“助老送餐”，网格员一键派单，
// 李老师（李秀兰）接单、到达签到、完成服务，张大爷打五星。
// Story 1 on phones: 张大爷 (张德顺, 82) orders 助老送餐 for tomorrow noon in 长辈模式; the
// grid worker dispatches it with one click; 李老师 (李秀兰) accepts, checks in and completes
// it with a note; 张大爷 gives five stars. Each step checks what a person sees: words for
// the state, targets ≥ 60×60 px in 长辈模式, text ≥ 18 px, no sideways scrolling.
// The four tests run in order and share the order they create.
import assert from 'node:assert/strict';
import { ACCOUNTS, PHONE, elderModeOn, login, navTo, suite } from '../lib/harness.js';

const env = suite();

/** The order placed in the first test, e.g. `/orders/370830/12`. */
let orderPath = null;

function needOrder() {
  assert.ok(orderPath, '前一个测试没有成功下单 / the first test placed no order');
  return orderPath;
}

/** Tomorrow's date in Beijing time, `2026-07-02`. */
function tomorrowInBeijing() {
  return new Date(Date.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
}

/** Visible buttons, big choices and cards smaller than 60×60 px (长辈模式 targets). */
async function smallTargets(page) {
  return page.evaluate(() => {
    const selectors = ['header button', 'main .btn', 'main button', '.choice', '.star-choice', '.order-card', '.item-choice'];
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
  // On a phone the layout viewport widens to fit wide content, so compare with the device too.
  assert.ok(
    m.scrollWidth <= m.innerWidth && m.scrollWidth <= PHONE.viewport.width,
    `${where}: 页面可以左右滚动 / scrolls sideways (scrollWidth ${m.scrollWidth} > ${m.innerWidth})`,
  );
}

env.test('张大爷在手机上用长辈模式点“助老送餐”，明天中午送 / 张大爷 orders meals for tomorrow noon', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.resident);
  await elderModeOn(page);

  // Step 1: the services of his community as big buttons.
  await navTo(page, '我要点单');
  await page.getByRole('heading', { name: '您需要什么服务？' }).waitFor();
  const meal = page.locator('a.item-choice').filter({ hasText: '助老送餐' });
  assert.equal(await meal.count(), 1, '应有一项“助老送餐” / one 助老送餐 button');
  assert.match(await meal.innerText(), /助餐/, '按钮上写着类别 / the category is shown');
  await assertElderPage(page, '选服务 / choose a service');

  // Step 2: when, with quick choices; a note.
  await meal.click();
  await page.getByRole('heading', { name: '什么时候来？' }).waitFor();
  assert.equal((await page.locator('#chosen-item').innerText()).trim(), '助老送餐');
  await page.getByLabel('明天中午 12:00').check();
  await page.getByLabel(/还有什么要说的/).fill('少放盐，谢谢');
  await assertElderPage(page, '选时间 / choose a time');
  await Promise.all([
    page.waitForURL(/\/orders\/\d+\/\d+\/placed$/),
    page.getByRole('button', { name: '提交', exact: true }).click(),
  ]);

  // The confirmation says what was ordered and what happens next.
  const done = page.getByRole('status').filter({ hasText: '已提交' });
  const text = await done.innerText();
  assert.match(text, /助老送餐/);
  assert.ok(text.includes(`${tomorrowInBeijing()} 12:00`), `应写明明天中午12点：${text}`);
  await page.getByRole('heading', { name: '接下来会怎样' }).waitFor();
  await assertElderPage(page, '点单成功 / placed');
  orderPath = new URL(page.url()).pathname.replace(/\/placed$/, '');

  // 我的订单 lists it, waiting for dispatch, in words.
  await page.getByRole('link', { name: '查看我的订单' }).click();
  await page.getByRole('heading', { name: '我的订单' }).waitFor();
  const card = page.locator(`a.order-card[href="${orderPath}"]`);
  const cardText = await card.innerText();
  assert.match(cardText, /助老送餐/);
  assert.match(cardText, /状态：\s*待派单/, `订单状态用文字写明“待派单”：${cardText}`);
  await assertElderPage(page, '我的订单 / my orders');
});

env.test('网格员在订单页看到推荐理由并一键派单 / the grid worker one-click dispatches it', async ({ newPage }) => {
  const order = needOrder();
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.grid);

  // The community's order list, filtered to meals awaiting dispatch.
  await navTo(page, '服务订单');
  await page.getByRole('heading', { name: '服务订单', level: 1 }).waitFor();
  await page.getByLabel('状态').selectOption({ label: '待派单' });
  await page.getByLabel('类别').selectOption({ label: '助餐' });
  await Promise.all([
    page.waitForURL(/state=submitted/),
    page.getByRole('button', { name: '筛选' }).click(),
  ]);
  const row = page.locator(`#orders-results a[href="${order}"]`);
  assert.match(await row.innerText(), /助老送餐[\s\S]*待派单[\s\S]*张德顺/);
  await assertNoSidewaysScroll(page, '订单列表 / order list');
  await row.click();

  // Candidates with each score part's reason; one click dispatches to the best.
  const candidates = page.locator('#candidates');
  await candidates.waitFor();
  const table = await candidates.locator('table').innerText();
  assert.match(table, /李秀兰/, '推荐名单中有李老师（李秀兰）');
  for (const part of ['技能', '时间', '负荷']) assert.ok(table.includes(part), `应说明“${part}”得分的原因`);
  const best = page.getByRole('button', { name: /^一键派单/ });
  assert.match(await best.innerText(), /李秀兰/, '最合适的是李老师 / the best candidate is 李秀兰');
  await assertNoSidewaysScroll(page, '订单页 / order page');
  await best.click();
  await page.getByRole('status').filter({ hasText: '已派单' }).waitFor();
  assert.match(await page.locator('#order-state').innerText(), /待接单/);
  assert.match(await page.locator('#order-history').innerText(), /派单/);
});

env.test('李老师在手机上接单、到达签到、完成服务 / 李老师 accepts, checks in and completes', async ({ newPage }) => {
  const order = needOrder();
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.volunteer);
  await elderModeOn(page);
  await navTo(page, '我的接单');
  await page.getByRole('heading', { name: '我的接单', level: 1 }).waitFor();

  const card = page.locator('li.order-offer').filter({ has: page.locator(`a[href="${order}"]`) });
  const text = await card.innerText();
  assert.match(text, /助老送餐/);
  assert.match(text, /张德顺/, '卡片上有居民姓名');
  assert.ok(text.includes(`${tomorrowInBeijing()} 12:00`), `卡片上有服务时间：${text}`);
  assert.match(text, /待接单/);
  assert.equal(await card.getByRole('button', { name: '到达签到' }).count(), 0, '接单前不能签到');
  await assertElderPage(page, '我的接单 / offered orders');

  await card.getByRole('button', { name: '接单', exact: true }).click();
  await page.getByRole('status').filter({ hasText: '您已接单' }).waitFor();
  assert.match(await card.innerText(), /已接单/);
  assert.equal(await card.getByRole('button', { name: '接单', exact: true }).count(), 0, '接单后不再显示“接单”');

  await card.getByRole('button', { name: '到达签到' }).click();
  await page.getByRole('status').filter({ hasText: '已签到' }).waitFor();
  assert.match(await card.innerText(), /服务中/);
  await assertElderPage(page, '我的接单（服务中）/ in service');

  await card.getByRole('link', { name: '完成服务' }).click();
  await page.getByRole('heading', { name: '完成服务', level: 1 }).waitFor();
  await page.getByLabel(/服务情况/).fill('午饭已送到，老人吃得很好');
  await assertElderPage(page, '完成服务 / complete');
  await page.getByRole('button', { name: '确认完成服务' }).click();
  await page.getByRole('status').filter({ hasText: '服务已完成' }).waitFor();
  assert.match(await card.innerText(), /已完成/);
});

env.test('张大爷给五星好评，看到“已评价” / 张大爷 gives five stars', async ({ newPage }) => {
  const order = needOrder();
  const page = await newPage(PHONE);
  await login(page, ACCOUNTS.resident);
  await elderModeOn(page);
  await navTo(page, '我的订单');
  const card = page.locator(`a.order-card[href="${order}"]`);
  assert.match(await card.innerText(), /状态：\s*已完成/);
  await card.click();

  await page.getByRole('heading', { name: '给这次服务打分' }).waitFor();
  assert.match(await page.locator('.facts').innerText(), /午饭已送到/, '看得到服务情况');
  assert.equal(await page.getByRole('button', { name: '取消这张订单' }).count(), 0, '完成后不能取消');
  const five = page.getByLabel('5星 非常满意');
  for (const label of ['5星 非常满意', '4星 满意', '3星 一般', '2星 不满意', '1星 很不满意']) {
    const box = await page.locator('label.star-choice').filter({ hasText: label }).boundingBox();
    assert.ok(box && box.height >= 60 && box.width >= 60, `“${label}”应 ≥ 60×60px`);
  }
  await assertElderPage(page, '评价 / rating');
  await five.check();
  await page.getByRole('button', { name: '提交评价' }).click();
  await page.getByRole('status').filter({ hasText: '谢谢您的评价' }).waitFor();
  assert.match(await page.locator('#order-state').innerText(), /已评价/);
  assert.match(await page.locator('#rating').innerText(), /5星/);
  assert.equal(await page.getByRole('heading', { name: '给这次服务打分' }).count(), 0, '不能再评一次');

  await navTo(page, '我的订单');
  assert.match(await page.locator(`a.order-card[href="${order}"]`).innerText(), /状态：\s*已评价/);
});
