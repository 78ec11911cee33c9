'use strict';
/*
 * The admin dashboard (docs/ADMIN.md "Dashboard") in a real browser:
 *  - GET /dashboard and its files come from the admin listener with a strict
 *    policy (CSP default-src 'self', nosniff, no-store, no framing), and the
 *    page names no other host;
 *  - without the token the data is refused: GET /state answers 401 (from
 *    node, and from the page's own origin in the browser), and a wrong token
 *    typed into the page shows the refusal and no member;
 *  - two real @discordjs/voice clients talk in one channel (lib/talkers.js);
 *    Debian's chromium (puppeteer-core, headless) opens the page, the token
 *    is typed in, both members appear with their mode, the LVSP link shows
 *    up, and the packet count of a member moves between two reads; flags
 *    Litecord sets (self-mute, self-deafen) appear; loss,
 *    jitter and RTT show a value exactly when /state has one ("–" otherwise);
 *  - every request the page made went to the admin listener, no script
 *    error and no policy violation was logged, no cookie was set, and the
 *    page's connections stayed under the cap of unauthenticated ones;
 *  - at 1366 x 768, with a second room of members with 20-digit ids, every
 *    flag set and no client, the page does not scroll sideways, each
 *    members table fits its box, and cells cut short keep their text as a
 *    title; that room fills --max-voice-states, and the readiness badge
 *    says so;
 *  - after POST /drain the status shows draining, its reason and time left;
 *  - signing out stops the view.
 * A screenshot goes to a temp file, or to docs/dashboard.png with
 * SC_UPDATE_SCREENSHOT=1. Env: SC_BUILD_DIR, SC_SOURCE_DIR.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { startServer } = require('./lib/server');
const { LvspClient, INFO_LATER } = require('./lib/lvsp_client');
const { adminGet, adminState, findMember } = require('./lib/admin_client');
const { startTalkers } = require('./lib/talkers');
const { Checks, run, sleep } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const c = new Checks('dashboard');
const servers = [];

async function checkFiles(srv) {
  for (const [p, type] of [['/dashboard', 'text/html'], ['/', 'text/html'],
    ['/dashboard.js', 'text/javascript'], ['/dashboard.css', 'text/css']]) {
    const r = await adminGet(srv.adminUrl, p); // no token: the page holds no data
    const h = r.headers;
    c.ok(r.status === 200 && (h['content-type'] || '').startsWith(type) &&
      /(^|;)\s*default-src 'self'/.test(h['content-security-policy'] || '') &&
      /frame-ancestors 'none'/.test(h['content-security-policy']) &&
      h['x-content-type-options'] === 'nosniff' && h['cache-control'] === 'no-store',
    `GET ${p} without a token: ${r.status} ${h['content-type']}, CSP "${h['content-security-policy']}", ` +
      `${h['x-content-type-options']}, ${h['cache-control']}`);
    c.ok(!/https?:\/\//.test(r.text.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')),
      `${p} names no other host (${r.text.length} bytes)`);
  }
  const html = (await adminGet(srv.adminUrl, '/dashboard')).text;
  c.ok(!/<script>|<script [^>]*>[^<\s]|<style|\son[a-z]+=/i.test(html), 'the page has no inline script, style or handler');
}

async function checkRefused(srv) {
  const none = await adminGet(srv.adminUrl, '/state');
  const wrong = await adminGet(srv.adminUrl, '/state', 'x'.repeat(64));
  c.ok(none.status === 401 && wrong.status === 401 && !/channels/.test(none.text + wrong.text),
    `GET /state without the token ${none.status}, with a wrong one ${wrong.status}`);
}

function launch(profile) {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`],
  });
}

/* The text of one member cell (by class), or null. */
function cell(page, userId, cls) {
  return page.$eval(`tr[data-user="${userId}"] td.${cls}`, (e) => e.textContent).catch(() => null);
}

const asCount = (t) => (t === null ? NaN : Number(t.replace(/,/g, '')));

async function beforeLogin(page, srv) {
  await page.goto(`${srv.adminUrl}/dashboard`, { waitUntil: 'load' });
  await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
  const inPage = await page.evaluate(async () => {
    const r = await fetch('/state');
    return { status: r.status, text: await r.text() };
  });
  c.ok(inPage.status === 401 && !/channels/.test(inPage.text),
    `in the browser, fetch('/state') without the token: ${inPage.status} ${inPage.text}`);
  await page.type('#token', 'x'.repeat(64));
  await page.click('#login button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', { timeout: 5000 });
  const after = await page.evaluate(() => ({
    error: document.getElementById('login-error').textContent,
    rows: document.querySelectorAll('tr[data-user]').length,
    view: !document.getElementById('view').hidden,
  }));
  c.ok(after.rows === 0 && !after.view && /refused/.test(after.error),
    `a wrong token in the page: "${after.error}", ${after.rows} member rows, view shown ${after.view}`);
}

/* Loss, jitter, RTT: a figure exactly when /state has one. */
function checkQualityCells(rowsNow, st, infos) {
  const bad = [];
  for (const name of ['A', 'B']) {
    const q = findMember(st, infos[name].user_id).member.quality || {};
    const row = rowsNow[name];
    for (const [cls, field] of [['loss', 'loss_fraction'], ['jitter', 'jitter_ms'], ['rtt', 'rtt_ms']]) {
      const has = typeof q[field] === 'number';
      if (has !== (row[cls] !== '–')) bad.push(`${name} ${cls} "${row[cls]}" for ${field}=${q[field]}`);
    }
  }
  c.ok(bad.length === 0, `loss, jitter, RTT shown when /state has them, "–" when not` +
    `${bad.length ? `: ${bad.join('; ')}` : ` (A: ${JSON.stringify(rowsNow.A)})`}`);
}

async function rowTexts(page, userId) {
  return page.$eval(`tr[data-user="${userId}"]`, (tr) =>
    Object.fromEntries([...tr.children].map((td) => [td.className, td.textContent])));
}

async function afterLogin(page, srv, infos, lv) {
  await page.type('#token', srv.adminToken());
  await page.click('#login button');
  const ids = [infos.A.user_id, infos.B.user_id];
  for (const id of ids) await page.waitForSelector(`tr[data-user="${id}"]`, { timeout: 5000 });
  const st = await adminState(srv.adminUrl, srv.adminToken());
  const mode = findMember(st, infos.A.user_id).member.mode;
  const rows = { A: await rowTexts(page, infos.A.user_id), B: await rowTexts(page, infos.B.user_id) };
  c.ok(rows.A.mode === mode && rows.B.mode === mode && rows.A.transport === 'discord_udp' &&
    rows.A.session === findMember(st, infos.A.user_id).member.session_id.slice(0, 8),
  `both members shown: A ${JSON.stringify(rows.A)}; B mode ${rows.B.mode} (/state: ${JSON.stringify(st).length} bytes a read)`);
  const sections = await page.$$eval('section[data-channel]', (s) => s.map((e) => e.dataset.channel));
  c.ok(sections.length === 1 && sections[0] === infos.A.channel_id, `one channel shown: ${sections}`);
  checkQualityCells(rows, st, infos);

  const first = asCount(await cell(page, infos.A.user_id, 'rx-packets'));
  await sleep(2500);
  const second = asCount(await cell(page, infos.A.user_id, 'rx-packets'));
  const kbps = await cell(page, infos.A.user_id, 'rx-kbps');
  c.ok(first > 0 && second > first, `A's packets in on the page moved: ${first} -> ${second} (${kbps} kb/s in)`);
  const cards = await page.$$eval('.card', (cs) => Object.fromEntries(
    cs.map((e) => [e.dataset.card, e.querySelector('.v').textContent])));
  const status = await page.$eval('#status', (e) => e.textContent);
  c.ok(cards['LVSP link'] === 'up' && /^[0-9.]+$/.test(cards.Health) && /^[0-9.]+ %$/.test(cards['Media CPU']) &&
    cards['Voice states'].startsWith('2 /') && status === 'serving',
  `cards: ${JSON.stringify(cards)}; status ${status}`);
  // Flags Litecord sends show up (self-mute and self-deafen: the server forwards on).
  lv.info(INFO_LATER.VST_UPDATE, { user_id: infos.B.user_id, guild_id: infos.B.guild_id, self_mute: true, self_deaf: true });
  const flags = await page.waitForFunction((id) => {
    const td = document.querySelector(`tr[data-user="${id}"] td.flags`);
    return td && /self-muted/.test(td.textContent) && /self-deaf/.test(td.textContent) && td.textContent;
  }, { timeout: 5000 }, infos.B.user_id).then((h) => h.jsonValue()).catch(() => null);
  c.ok(flags !== null, `B self-muted and self-deafened by Litecord: "${flags}"`);
  const stored = await page.evaluate(() => ({ cookie: document.cookie, url: location.href }));
  c.ok(stored.cookie === '' && !stored.url.includes(srv.adminToken()), `no cookie, the token is not in the URL (${stored.url})`);
}

async function screenshot(page) {
  const update = process.env.SC_UPDATE_SCREENSHOT === '1';
  const out = update ? path.join(source, 'docs', 'dashboard.png')
    : path.join(os.tmpdir(), `lcv-dashboard-${process.pid}.png`);
  await page.screenshot({ path: out, fullPage: true });
  c.ok(fs.statSync(out).size > 10000, `screenshot ${out} (${fs.statSync(out).size} bytes)`);
  if (!update) fs.rmSync(out, { force: true });
}

/* A laptop's 1366 x 768: a room of members with the longest ids (20
 * digits), every flag set and no client yet, beside the talkers' room.
 * The page must not scroll sideways, each members table must fit its
 * box (no last column behind a scroll bar), and a cell cut short keeps
 * its whole text in its title. */
const LONG_MEMBERS = 8;
const MAX_VOICE_STATES = 2 + LONG_MEMBERS; // the talkers and the long room: not ready
async function fitsLaptop(page, lv) {
  const channel = '18446744073709550001';
  const users = [];
  for (let i = 0; i < LONG_MEMBERS; i++) {
    const user_id = String(18446744073709551000n + BigInt(i));
    const r = (await lv.vstCreate({ user_id, channel_id: channel, guild_id: '18446744073709550002',
      mute: true, deaf: true, self_mute: true, self_deaf: true, suppress: true })).d.data;
    if (!r.error) users.push(user_id);
  }
  c.ok(users.length === LONG_MEMBERS, `${users.length} members with 20-digit ids and every flag in a second room`);
  await page.setViewport({ width: 1366, height: 768 });
  await page.waitForSelector(`tr[data-user="${users[users.length - 1]}"]`, { timeout: 5000 });
  await sleep(1200); // a poll after the resize
  if (process.env.SC_LAPTOP_SCREENSHOT) await page.screenshot({ path: process.env.SC_LAPTOP_SCREENSHOT, fullPage: true });
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const tables = [...document.querySelectorAll('section[data-channel] table')].map((t) => ({
      channel: t.closest('section').dataset.channel, table: t.scrollWidth, box: t.parentElement.clientWidth,
      cut: [...t.querySelectorAll('th, td')].filter((td) => td.scrollWidth > td.clientWidth + 1)
        .map((td) => ({ text: td.textContent, title: td.title })),
    }));
    return { scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, tables };
  });
  c.ok(m.scrollWidth <= m.innerWidth, `at 1366 x 768 the page does not scroll sideways: scrollWidth ${m.scrollWidth}, innerWidth ${m.innerWidth}`);
  const wide = m.tables.filter((t) => t.table > t.box);
  c.ok(m.tables.length === 2 && wide.length === 0,
    `each members table fits its box: ${m.tables.map((t) => `${t.channel}: ${t.table} in ${t.box} px`).join(', ')}`);
  const untitled = m.tables.flatMap((t) => t.cut).filter((x) => !x.title || !x.title.startsWith(x.text));
  const ready = await page.$eval('#ready', (e) => (e.hidden ? null : e.textContent));
  c.ok(ready === 'not ready: voice_states_full',
    `${2 + LONG_MEMBERS} voice states at --max-voice-states ${MAX_VOICE_STATES}: the readiness badge says "${ready}"`);
  c.ok(untitled.length === 0, `cells cut short carry their whole text as a title ` +
    `(${m.tables.reduce((n, t) => n + t.cut.length, 0)} cut: ${[...new Set(m.tables.flatMap((t) => t.cut.map((x) => x.text)))].join(' | ')}${untitled.length ? `; without: ${JSON.stringify(untitled.slice(0, 3))}` : ''})`);
}

/* POST /drain: the status turns to draining, with reason and time left. */
async function drainShown(page, srv) {
  const r = await adminGet(srv.adminUrl, '/drain', srv.adminToken(), { method: 'POST' });
  const shown = await page.waitForFunction(() => {
    const t = document.getElementById('status').textContent;
    return /^draining \(admin request\), \d+ s left$/.test(t) && t;
  }, { timeout: 5000 }).then((h) => h.jsonValue()).catch(() => null);
  c.ok(r.status === 200 && shown !== null, `POST /drain ${r.status}: the page shows "${shown}"`);
}

async function signOut(page) {
  await page.click('#signout');
  await sleep(1500);
  const s = await page.evaluate(() => ({
    login: !document.getElementById('login').hidden, view: !document.getElementById('view').hidden,
    stored: sessionStorage.length,
  }));
  c.ok(s.login && !s.view && s.stored === 0, `sign out: login shown ${s.login}, view ${s.view}, stored ${s.stored}`);
}

async function browserPart(srv, infos, lv) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-chromium-'));
  const browser = await launch(profile);
  const requests = [];
  const problems = [];
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1360, height: 640 });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // The 401s this test provokes are logged by Chrome as failed loads.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await beforeLogin(page, srv);
    await afterLogin(page, srv, infos, lv);
    await screenshot(page);
    await fitsLaptop(page, lv);
    await drainShown(page, srv);
    await signOut(page);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const foreign = requests.filter((u) => !u.startsWith(`${srv.adminUrl}/`));
  c.ok(requests.length > 4 && foreign.length === 0,
    `${requests.length} requests, all to the admin listener${foreign.length ? `; foreign: ${foreign.join(' ')}` : ''}`);
  c.ok(problems.length === 0, `no script error or policy violation${problems.length ? `: ${problems.join('; ')}` : ''}`);
  // The page's own connections stay under the cap of unauthenticated ones.
  const evicted = fs.readFileSync(srv.logPath, 'utf8').split('\n').filter((l) => /dropped .* admin connection/.test(l));
  c.ok(evicted.length === 0, `no admin connection evicted while the page loaded${evicted.length ? `: ${evicted[0]}` : ''}`);
}

run('dashboard', 180000, async () => {
  const srv = await startServer({ buildDir: build, logLevel: 'info',
    extraArgs: ['--max-voice-states', String(MAX_VOICE_STATES)] });
  servers.push(srv);
  await checkFiles(srv);
  await checkRefused(srv);
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca: fs.readFileSync(srv.certPath) });
  let beats = 0;
  const keepAlive = setInterval(() => lv.heartbeat(++beats).catch(() => {}), 2000);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-dashboard-'));
  const talkers = await startTalkers({ srv, lvsp: lv, buildDir: build, workDir });
  try {
    await browserPart(srv, talkers.infos, lv);
  } finally {
    const heard = await talkers.stop();
    c.ok(heard.A.received > 0 && heard.B.received > 0, `the call ran: A heard ${heard.A.received}, B heard ${heard.B.received}`);
    clearInterval(keepAlive);
    await lv.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}, { checks: () => c, servers: () => servers });
