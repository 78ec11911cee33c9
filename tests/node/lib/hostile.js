'use strict';
/*
 * The hostile-input harness (tests/node/hostile_*.test.js): a table of
 * cases run against the real binary while two djs clients in another
 * channel keep talking (lib/talkers.js). Each case is one row:
 *
 *   { id, plane, what, expect, counter, run: async (ctx) => observed }
 *
 * `expect` is the observed value the case must produce: "close 4002", or
 * "dropped" (nothing forwarded, nothing answered, the server still works),
 * or a case-specific word. `counter` names the sc_media_stats_t fields
 * ("drop_auth", "discovery", ...) that must grow while the row runs; they
 * are read from the admin API (GET /state, docs/ADMIN.md) before and
 * after, and the row fails if one did not grow. (A server without the
 * admin API skips that part.)
 *
 * After the table: the server must still be alive, answer a fresh LVSP
 * HEARTBEAT and let a fresh client join; the talkers must have heard each
 * other throughout (ratio >= MIN_RATIO, no gap > MAX_GAP_MS); the server
 * must exit 0 on SIGINT (srv.stop) with no sanitizer report.
 */
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const WebSocket = require('ws');

const { HOST, startServer, sleep } = require('./server');
const { LvspClient } = require('./lvsp_client');
const { startTalkers } = require('./talkers');
const { rawJoin } = require('./raw_voice_client');
const { snowflake } = require('./ids');

const MIN_RATIO = 0.8;
const MAX_GAP_MS = 1000;
const MIN_TALK_MS = 4000;
const SUITE_TIMEOUT_MS = 170000;
const CLOSE_WAIT_MS = 4000;

/* ---- WebSocket probes ----------------------------------------------------- */

/* Opens a wss connection; frames (parsed if JSON) collect in c.frames. */
function wsOpen(url, ca) {
  const ws = new WebSocket(url, { ca, maxPayload: 1 << 20 });
  const c = { ws, frames: [], close: null };
  c.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      c.close = { code, reason: reason.toString() };
      resolve(c.close);
    });
    ws.on('error', () => {});
  });
  ws.on('message', (data) => {
    try { c.frames.push(JSON.parse(data.toString())); } catch { c.frames.push(data.toString()); }
  });
  c.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    c.closed.then(() => reject(new Error(`closed ${c.close.code} before open`)));
  });
  c.waitOp = async (op, ms = 5000) => {
    const t = Date.now() + ms;
    while (Date.now() < t && !c.close) {
      const f = c.frames.find((m) => m && m.op === op);
      if (f) return f;
      await sleep(10);
    }
    const f = c.frames.find((m) => m && m.op === op);
    if (f) return f;
    throw new Error(`no op ${op} (close ${JSON.stringify(c.close)})`);
  };
  return c;
}

/* Sends each frame (string, Buffer = binary, or object = JSON) and
 * resolves with "close <code>" or "open" if the server kept it open. */
async function sendAndWaitClose(c, frames, waitMs = CLOSE_WAIT_MS) {
  for (const f of frames) {
    if (c.close) break;
    if (Buffer.isBuffer(f)) c.ws.send(f, { binary: true });
    else c.ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  }
  const timer = sleep(waitMs).then(() => null);
  const close = await Promise.race([c.closed, timer]);
  if (!close) {
    c.ws.terminate();
    return 'open';
  }
  return `close ${close.code}`;
}

/* LVSP: HELLO, optionally IDENTIFY (plain secret) -> READY, then frames. */
async function lvspProbe(ctx, frames, { auth = false } = {}) {
  const c = wsOpen(ctx.srv.lvspUrl, ctx.ca);
  await c.opened;
  const hello = await c.waitOp(0);
  if (auth) {
    c.ws.send(JSON.stringify({ op: 1, d: { token: ctx.srv.secret } }));
    await c.waitOp(3);
  }
  const list = typeof frames === 'function' ? frames(hello.d) : frames;
  return sendAndWaitClose(c, list);
}

/* Gateway: Hello, optionally Identify with a VoiceInfo -> Ready, then frames. */
async function gwProbe(ctx, frames, { identify = null, query = '?v=8' } = {}) {
  const c = wsOpen(`wss://${ctx.srv.endpoint}/${query}`, ctx.ca);
  await c.opened;
  if (identify) {
    c.ws.send(JSON.stringify({ op: 0, d: identifyData(identify) }));
    await c.waitOp(2);
  }
  return sendAndWaitClose(c, frames);
}

function identifyData(vi) {
  return { server_id: vi.guild_id, user_id: vi.user_id, session_id: vi.session_id, token: vi.token };
}

/* ---- the suite ------------------------------------------------------------ */

/* A fresh voice state in its own guild+channel (or in `where`). */
async function voiceState(ctx, where = {}) {
  const guild_id = where.guild_id || snowflake();
  const channel_id = where.channel_id || snowflake();
  const vi = await ctx.lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id });
  return { ...vi, guild_id };
}

/* ---- counters (admin API, docs/ADMIN.md) ------------------------------- */

/* Every number of the front ends' admin status as "<front end>.<path>"
 * ("vortex.closes.1003", "vortex.errors.UserNotFound"). */
function flattenCounts(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'number') out[`${prefix}${k}`] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) flattenCounts(v, `${prefix}${k}.`, out);
  }
}

/* The media counters by sc_media_stats_t name (drop_auth, discovery, ...),
 * from GET /state; null if the server has no admin API. */
function readCounters(srv) {
  if (!srv.adminUrl) return Promise.resolve(null);
  return new Promise((resolve) => {
    const req = http.get(`${srv.adminUrl}/state`, { headers: { Authorization: `Bearer ${srv.adminToken()}` }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          const m = JSON.parse(body).media;
          const out = {
            discovery: m.discovery, keepalives: m.keepalives, rx_datagrams: m.rx_datagrams,
            hint_refused: m.hint_refused, addr_moved: m.addr_moved, send_errors: m.send_errors,
          };
          for (const [k, v] of Object.entries(m.drops)) out[`drop_${k}`] = v;
          for (const [k, v] of Object.entries(m.send_error_reasons || {})) out[`send_${k}`] = v;
          for (const [k, v] of Object.entries(m.webrtc || {})) out[`webrtc_${k}`] = v;
          flattenCounts(JSON.parse(body).frontends || {}, '', out);
          resolve(out);
        } catch { resolve(null); }
      });
    });
    req.on('error', () => resolve(null));
  });
}

/* "drop_auth" or "discovery, drop_unknown_ssrc": each must have grown. */
function counterCheck(before, after, names) {
  if (!names || !before || !after) return null;
  /* A front end's counter appears in its status once it is non-zero. */
  const at = (o, n) => o[n] || 0;
  const grew = names.split(/,\s*/).map((n) => `${n} +${at(after, n) - at(before, n)}`);
  const ok = names.split(/,\s*/).every((n) => at(after, n) > at(before, n));
  return { ok, text: grew.join(', ') };
}

async function runCase(ctx, c) {
  let observed;
  const before = c.counter ? await readCounters(ctx.srv) : null;
  try {
    observed = await c.run(ctx);
  } catch (err) {
    observed = `error: ${err.message}`;
  }
  const want = Array.isArray(c.expect) ? c.expect : [c.expect];
  let ok = want.includes(observed);
  const counted = c.counter ? counterCheck(before, await readCounters(ctx.srv), c.counter) : null;
  if (counted) {
    observed += ` [${counted.text}]`;
    ok = ok && counted.ok;
  }
  return { ...c, observed, ok };
}

async function healthChecks(ctx, record) {
  record('server still running', !ctx.srv.diedUnexpectedly(), JSON.stringify(ctx.srv.exit));
  let detail = '';
  try {
    const l = await LvspClient.connect(ctx.srv.lvspUrl, { secret: ctx.srv.secret, auth: 'hmac', ca: ctx.ca });
    const ack = await l.heartbeat(77);
    detail = JSON.stringify(ack);
    const vi = await voiceState({ ...ctx, lvsp: l });
    const vc = await rawJoin(vi, { ca: ctx.ca });
    detail += `; fresh client joined, mode ${vc.session.mode}`;
    await vc.close();
    await l.close();
    record('fresh LVSP link + fresh voice client work after the suite', true, detail);
  } catch (err) {
    record('fresh LVSP link + fresh voice client work after the suite', false, `${detail} ${err.message}`);
  }
}

function checkTalkers(result, record) {
  for (const rx of ['A', 'B']) {
    const r = result[rx];
    record(`talker ${rx} kept hearing the other (ratio >= ${MIN_RATIO}, no gap > ${MAX_GAP_MS} ms)`,
      r.ratio >= MIN_RATIO && r.maxGapMs <= MAX_GAP_MS,
      `${r.received}/${r.sent} packets (${(100 * r.ratio).toFixed(1)} %), longest gap ${r.maxGapMs} ms`);
  }
}

function printTable(rows) {
  console.log('\n| # | case | plane | expected | observed | counter | result |');
  console.log('|---|---|---|---|---|---|---|');
  rows.forEach((r, i) => {
    const exp = Array.isArray(r.expect) ? r.expect.join(' / ') : r.expect;
    console.log(`| ${i + 1} | ${r.id}: ${r.what} | ${r.plane} | ${exp} | ${r.observed} | ${r.counter || '-'} | ${r.ok ? 'ok' : 'FAIL'} |`);
  });
}

/*
 * Runs a suite. options: name, cases (rows), setup(ctx) before the rows,
 * teardown(ctx), serverArgs (extra server flags), buildDir (default
 * SC_BUILD_DIR).
 */
async function runSuite({ name, cases, setup, teardown, serverArgs = [] }) {
  const watchdog = setTimeout(() => {
    console.log(`${name}: FAIL (timed out after ${SUITE_TIMEOUT_MS / 1000} s)`);
    process.exit(1);
  }, SUITE_TIMEOUT_MS);
  const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..', '..');
  const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const checks = [];
  const record = (what, ok, detail) => {
    checks.push({ what, ok });
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` -- ${detail}` : ''}`);
  };
  const srv = await startServer({ buildDir, logLevel: 'info', extraArgs: serverArgs });
  const ctx = { srv, ca: fs.readFileSync(srv.certPath), buildDir, workDir, snowflake };
  let rows = [];
  try {
    ctx.lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca: ctx.ca });
    const talkers = await startTalkers({ srv, lvsp: ctx.lvsp, buildDir, workDir });
    const talkersSince = Date.now();
    ctx.talkers = talkers;
    if (setup) await setup(ctx);
    for (const c of cases) {
      const r = await runCase(ctx, c);
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${c.id} (${c.plane}) ${c.what}: expected ${JSON.stringify(c.expect)}, observed ${r.observed}`);
      rows.push(r);
    }
    if (teardown) await teardown(ctx);
    // Long enough that "the audio never stopped" means something.
    const talked = Date.now() - talkersSince;
    if (talked < MIN_TALK_MS) await sleep(MIN_TALK_MS - talked);
    checkTalkers(await talkers.stop(), record);
    await healthChecks(ctx, record);
  } catch (err) {
    record('suite ran to the end', false, err.stack || String(err));
  } finally {
    const e = await srv.stop();
    record('server exits 0 on SIGINT', e.code === 0, JSON.stringify(e));
    record('no sanitizer/valgrind report from the server', srv.sanitizerReports.length === 0,
      srv.sanitizerReports.slice(0, 3).join(' | '));
  }
  printTable(rows);
  if (!cases.length) record('the suite has hostile cases', false);
  rows = rows.concat(checks);
  const failed = rows.filter((r) => !r.ok).length;
  if (failed) {
    console.log(`server log: ${srv.logPath}\n${srv.tail(40)}`);
  } else {
    fs.rmSync(workDir, { recursive: true, force: true });
    srv.removeStateDir();
  }
  console.log(`${name}: ${cases.length} hostile cases; ${rows.length - failed} passed, ${failed} failed`);
  clearTimeout(watchdog);
  process.exit(failed ? 1 : 0);
}

/* CPU ticks (1/100 s) the server's main thread (the control plane: lws,
 * LVSP, gateway) has used so far. */
function controlTicks(srv) {
  const f = fs.readFileSync(`/proc/${srv.proc.pid}/task/${srv.proc.pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); /* utime, stime */
}

/* Sends raw bytes over TCP (or TLS) to `port`; resolves with the server's
 * first line, "closed" if it closed without answering, or "held" if it
 * kept the connection past waitMs (then the client closes). */
function rawExchange(ctx, port, bytes, { useTls, waitMs }) {
  return new Promise((resolve) => {
    const s = useTls ? tls.connect({ host: HOST, port, ca: ctx.ca }) : net.connect({ host: HOST, port });
    let got = '';
    const first = () => got.split('\r\n')[0];
    const timer = setTimeout(() => { s.destroy(); resolve(got ? first() : 'held'); }, waitMs);
    s.on('error', () => {});
    s.once(useTls ? 'secureConnect' : 'connect', () => s.write(bytes));
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => { clearTimeout(timer); resolve(got ? first() : 'closed'); });
  });
}

/* A plain HTTP GET (no WebSocket upgrade) over TLS to `port`; the client
 * gives up after 1 s. Then 1.5 s of watching the control thread: a server
 * that left the request unanswered used to poll the closed connection in
 * a busy loop until lws's own timeout.
 * Resolves "<status line, closed or held>, control thread idle|busy (N ticks)". */
async function httpWithoutUpgrade(ctx, port) {
  const t0 = controlTicks(ctx.srv);
  const line = await rawExchange(ctx, port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    { useTls: true, waitMs: 1000 });
  await sleep(1500);
  const used = controlTicks(ctx.srv) - t0;
  /* A busy loop burns ~150 ticks here; an idle control thread ~0. */
  return `${line.replace(/\s+$/, '')}, control thread ${used < 50 ? 'idle' : `busy (${used} ticks)`}`;
}

module.exports = {
  runSuite, lvspProbe, gwProbe, wsOpen, sendAndWaitClose, identifyData, voiceState, snowflake,
  httpWithoutUpgrade, rawExchange,
};
