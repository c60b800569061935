// 朗读本页：按下按钮后用浏览器语音朗读正文。
// Read-aloud: the 朗读本页 button hands the page's main text to speechSynthesis.
// speechSynthesis.speak is replaced before any page script runs, so the test hears what
// would have been spoken without a sound device.
import assert from 'node:assert/strict';
import { ACCOUNTS, PHONE, elderModeOn, login, suite, zhangDeshunPath } from '../lib/harness.js';

const env = suite();

async function captureSpeech(page) {
  await page.addInitScript(() => {
    window.__spoken = [];
    const record = (u) => window.__spoken.push({ text: u.text, lang: u.lang, rate: u.rate });
    if ('speechSynthesis' in window) {
      window.speechSynthesis.speak = record;
    } else {
      window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
      Object.defineProperty(window, 'speechSynthesis', {
        value: { speak: record, cancel() {}, getVoices: () => [] },
      });
    }
  });
}

env.test('朗读张德顺的档案 / read 张德顺\'s file aloud', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await captureSpeech(page);
  await login(page, ACCOUNTS.grid);
  await page.goto(await zhangDeshunPath(page));
  await page.getByRole('heading', { level: 1, name: /张德顺/ }).waitFor();

  const button = page.getByRole('button', { name: '朗读本页' });
  assert.equal(await button.getAttribute('aria-pressed'), 'false');
  await button.click();

  const pressed = page.locator('#read-aloud[aria-pressed="true"]');
  await pressed.waitFor();
  const spoken = await page.evaluate(() => window.__spoken);
  assert.equal(spoken.length, 1, '应朗读一次');
  assert.match(spoken[0].text, /张德顺/, '朗读内容应包含姓名');
  assert.match(spoken[0].text, /82岁/, '朗读内容应包含年龄');
  assert.equal(spoken[0].lang, 'zh-CN');
  assert.doesNotMatch(spoken[0].text, /\d{17}[\dX]/, '朗读内容不应包含完整身份证号');
  await page.getByText('正在朗读本页').waitFor(); // said on screen too (aria-live)

  // Pressing it again stops.
  await page.getByRole('button', { name: '停止朗读' }).click();
  await page.locator('#read-aloud[aria-pressed="false"]').waitFor();
  await page.getByText('已停止朗读').waitFor();
});

env.test('张大爷在长辈模式下朗读首页 / 张德顺 himself, elder mode, reads his home page', async ({ newPage }) => {
  const page = await newPage(PHONE);
  await captureSpeech(page);
  await login(page, ACCOUNTS.resident);
  await elderModeOn(page);
  await page.getByRole('button', { name: '朗读本页' }).click();
  await page.locator('#read-aloud[aria-pressed="true"]').waitFor();
  const spoken = await page.evaluate(() => window.__spoken);
  assert.equal(spoken.length, 1);
  assert.match(spoken[0].text, /张德顺/);
  assert.ok(spoken[0].rate < 1, `长辈模式下语速应放慢，实际 ${spoken[0].rate}`);
});
