// 银龄浏览器测试的公共部分：启动演示服务、启动浏览器、登录、失败截图、适老化度量。
// Shared harness for the Yinling browser suite: starts the real demo server on a free
// port with its own temporary SQLite database, launches the system Chromium through
// playwright-core, and offers the few helpers every test file needs.
//
// Environment (all optional):
//   YINLING_BIN          the yinling binary (default: <repo>/target/debug/yinling, or
//                        $CARGO_TARGET_DIR/debug/yinling)
//   CHROMIUM_PATH        the browser (default: /usr/bin/chromium)
//   YINLING_E2E_PEOPLE   demo size (default: 3000)
//   YINLING_E2E_HEADED=1 show the browser window (needs a display)
//   YINLING_E2E_KEEP=1   keep the temporary directory (database, server log) afterwards

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO_DIR = path.resolve(E2E_DIR, '..');
export const RESULTS_DIR = path.join(E2E_DIR, 'test-results');

/** The password every demo account gets (`--admin-password`). */
export const PASSWORD = `E2e-Yinling-${Math.random().toString(36).slice(2, 10)}`;

/** Demo accounts, see `yinling demo`. */
export const ACCOUNTS = {
  admin: 'admin', // 市级管理员
  county: 'wenshang', // 汶上县管理员
  secretary: 'dongmen', // 东门社区书记
  grid: 'wangge', // 张德顺所在网格的网格员
  otherGrid: 'wangge2', // 东门社区另一个网格的网格员
  volunteer: 'lilaoshi', // 李秀兰
  resident: 'zhangdaye', // 张德顺
  shop: 'chaoshi', // 东门社区服务积分兑换超市的收银员
};

export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};
export const DESKTOP = { viewport: { width: 1280, height: 900 } };

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

function yinlingBin() {
  if (process.env.YINLING_BIN) return path.resolve(process.env.YINLING_BIN);
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_DIR, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_DIR, 'target');
  return path.join(target, 'debug', 'yinling');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `yinling demo` in a fresh temporary directory and waits until /healthz answers 200.
 * Returns { baseURL, dir, log(), stop() }.
 */
export async function startServer({ people = Number(process.env.YINLING_E2E_PEOPLE || 3000) } = {}) {
  const bin = yinlingBin();
  if (!existsSync(bin)) {
    throw new Error(`找不到 yinling 程序 / yinling binary not found: ${bin}\n请先运行 / build it first: cargo build -p yinling`);
  }
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yinling-e2e-'));
    const port = await freePort();
    try {
      return await launch(bin, dir, port, people);
    } catch (e) {
      lastError = e;
      if (!process.env.YINLING_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
      if (!e.retryable) break;
    }
  }
  throw lastError;
}

async function launch(bin, dir, port, people) {
  const baseURL = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    YINLING_DATABASE_URL: `sqlite://${dir}/demo.db`,
    RUST_LOG: process.env.RUST_LOG || 'warn',
  };
  delete env.YINLING_CONFIG;
  const child = spawn(
    bin,
    ['demo', '--people', String(people), '--admin-password', PASSWORD, '--listen', `127.0.0.1:${port}`],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const killOnExit = () => {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  };
  process.on('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(t);
    }
    try { writeFileSync(path.join(dir, 'server.log'), output); } catch { /* dir gone */ }
    if (process.env.YINLING_E2E_KEEP) {
      console.log(`# kept ${dir}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (exited) {
      const err = new Error(
        `yinling demo 提前退出 / exited early (code ${exited.code}, signal ${exited.signal}):\n${output.slice(-4000)}`,
      );
      err.retryable = /address|地址|in use|占用/i.test(output);
      throw err;
    }
    try {
      const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) {
        return { baseURL, dir, log: () => output, stop };
      }
    } catch { /* not listening yet */ }
    await sleep(200);
  }
  await stop();
  throw new Error(`yinling demo 启动超时 / did not become healthy in time:\n${output.slice(-4000)}`);
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `找不到浏览器 / Chromium not found at ${executablePath}. 安装 / install: apt-get install -y chromium`,
    );
  }
  const headed = process.env.YINLING_E2E_HEADED === '1';
  return chromium.launch({
    executablePath,
    headless: !headed,
    args: headed ? LAUNCH_ARGS.filter((a) => a !== '--headless') : LAUNCH_ARGS,
  });
}

/**
 * One test file's environment: a server and a browser, started once for the file.
 *   const env = suite();           // at top level, registers before/after hooks
 *   env.test('name', async ({ newPage }) => { ... })
 */
export function suite() {
  const env = { server: null, browser: null };
  before(async () => {
    const [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    env.server = server;
    env.browser = browser;
  }, { timeout: 360_000 });
  after(async () => {
    await env.browser?.close().catch(() => {});
    await env.server?.stop();
  }, { timeout: 60_000 });

  /**
   * A test with fresh browser contexts; screenshots and HTML of every open page on failure.
   * `options` go to node:test, e.g. `{ todo: 'known bug …' }` for a check that documents an
   * open product bug: it runs and reports, but does not fail the suite until the flag is removed.
   */
  env.test = (name, fn, options = {}) =>
    test(name, { timeout: 120_000, ...options }, async () => {
      const contexts = [];
      const newPage = async (device = DESKTOP) => {
        const context = await env.browser.newContext({
          ...device,
          baseURL: env.server.baseURL,
          locale: 'zh-CN',
          timezoneId: 'Asia/Shanghai',
        });
        context.setDefaultTimeout(15_000);
        context.setDefaultNavigationTimeout(30_000);
        contexts.push(context);
        return context.newPage();
      };
      try {
        await fn({ newPage, baseURL: env.server.baseURL });
      } catch (e) {
        await capture(name, contexts, env.server);
        throw e;
      } finally {
        for (const c of contexts) await c.close().catch(() => {});
      }
    });
  return env;
}

async function capture(name, contexts, server) {
  const slug = name.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 80);
  mkdirSync(RESULTS_DIR, { recursive: true });
  let n = 0;
  for (const c of contexts) {
    for (const p of c.pages()) {
      n += 1;
      const base = path.join(RESULTS_DIR, `${slug}-${n}`);
      try {
        await p.screenshot({ path: `${base}.png`, fullPage: true, timeout: 10_000 });
        writeFileSync(`${base}.html`, `<!-- ${p.url()} -->\n${await p.content()}`);
        console.log(`# 失败截图 / failure screenshot: ${path.relative(REPO_DIR, base)}.png (${p.url()})`);
      } catch { /* page already gone */ }
    }
  }
  if (server) {
    writeFileSync(path.join(RESULTS_DIR, `${slug}-server.log`), server.log());
  }
}

// ---------------------------------------------------------------------------------------
// Page helpers

/** Logs in through the login form, as a person would, and waits for the signed-in page. */
export async function login(page, username, password = PASSWORD) {
  if (!page.url().includes('/login')) await page.goto('/login');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: '登录', exact: true }).click(),
  ]);
  await page.getByRole('navigation', { name: '主菜单' }).waitFor();
}

/**
 * Opens the main menu when it is folded behind the 菜单 button (长辈模式 on a phone), as a
 * person would before choosing an item.
 */
export async function openMenu(page) {
  const toggle = page.getByRole('button', { name: '菜单', exact: true });
  if (await toggle.isVisible()) {
    await toggle.click();
    await page.getByRole('button', { name: '收起菜单', exact: true }).waitFor();
  }
}

/** Follows a main-menu link, opening the menu first if it is folded. */
export async function navTo(page, name) {
  await openMenu(page);
  await page.getByRole('navigation', { name: '主菜单' }).getByRole('link', { name, exact: true }).click();
}

export async function logout(page) {
  await openMenu(page);
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/login')),
    page.getByRole('button', { name: '退出', exact: true }).click(),
  ]);
}

/** Searches people from the 人员 page; returns the results list locator. */
export async function searchPeople(page, q) {
  await navTo(page, '人员');
  await page.waitForURL(/\/people(\?|$)/);
  await page.getByLabel('查找', { exact: true }).fill(q);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/people' && u.searchParams.get('q') === q),
    page.getByRole('search').getByRole('button', { name: '查找', exact: true }).click(),
  ]);
  await page.locator('#result-count').waitFor();
  return page.locator('#people-results');
}

/** Finds 张德顺 as the grid worker (or anyone who may see him) and returns his file's path. */
export async function zhangDeshunPath(page) {
  const results = await searchPeople(page, 'zds');
  const link = results.getByRole('link').filter({ hasText: '张德顺' });
  const href = await link.first().getAttribute('href');
  if (!href) throw new Error('张德顺 not in search results');
  return href;
}

/** Turns 长辈模式 on with the header button and waits for the page to say so. */
export async function elderModeOn(page) {
  const on = page.getByRole('button', { name: '长辈模式：已开启' });
  if (await on.count()) return;
  await page.getByRole('button', { name: '开启长辈模式' }).click();
  await on.waitFor();
}

/** Every 18-digit run (a full ID number) in a text, ignoring digits inside longer tokens. */
export function fullIdNumbers(text) {
  return text.match(/(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g) ?? [];
}

/** GB 11643 check character of the first 17 digits. */
export function idCheckChar(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return '10X98765432'[sum % 11];
}

/**
 * Runs in the page: WCAG 2 contrast ratio of an element's text colour against the
 * background actually behind it (the nearest ancestor with an opaque-ish background,
 * alpha-composited down to the page).
 */
export function contrastInPage(selector) {
  const el = typeof selector === 'string' ? document.querySelector(selector) : selector;
  if (!el) return null;
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const layers = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const bg = parse(getComputedStyle(n).backgroundColor);
    if (bg && bg.a > 0) {
      layers.push(bg);
      if (bg.a >= 1) break;
    }
  }
  let bg = { r: 255, g: 255, b: 255, a: 1 }; // the canvas
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  let fg = parse(getComputedStyle(el).color);
  fg = over(fg, bg);
  const lum = ({ r, g, b }) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return {
    ratio: (a + 0.05) / (b + 0.05),
    color: getComputedStyle(el).color,
    background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`,
    text: (el.innerText || el.value || '').trim().slice(0, 30),
  };
}
