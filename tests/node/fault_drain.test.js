'use strict';
/*
 * Graceful drain (docs/ADMIN.md "Drain"): the first SIGTERM, or an admin
 * POST /drain, stops new calls from starting here while the calls in
 * progress go on, reports health 0 to Litecord and "draining" in /state,
 * and the process exits 0 once no voice state is left, or at
 * --drain-timeout with 4015 to the clients still connected. A second
 * SIGTERM stops at once.
 *
 * Clients: real @discordjs/voice clients in a child process (djs needs
 * NODE_EXTRA_CA_CERTS), each playing a tone and counting the RTP
 * datagrams it receives; the LVSP stand-in plays Litecord.
 *
 * Scenarios:
 *   1. call ends: SIGTERM with a call of two in progress: still running,
 *      audio flows on, health 0, /state draining, /ready 503 (200 before
 *      the signal), a VST_CREATE for a new
 *      channel gets the "draining" error INFO (link up), one for the call's
 *      channel succeeds and that client joins and hears the call; when the
 *      LVSP client ends the voice states the process exits 0, well before
 *      the deadline (a pinned channel without a call neither admits a new
 *      voice state nor keeps the drain alive).
 *   2. deadline: --drain-timeout 2: the call goes on, then both clients
 *      get 4015 and the process exits 0.
 *   3. second SIGTERM: stops at once (4015, exit 0) with the deadline far.
 *   4. admin: POST /drain without or with a wrong token: 401, nothing
 *      changes; with the token: draining ("admin request"); again (with
 *      `litecord-voice drain`): already draining; a SIGTERM then keeps
 *      draining; the call ending stops the process.
 * Figures (packets received during the drain, time from the last voice
 * state ended to the exit) are printed as "FIGURE" lines.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startServer, spawnNode, sleep, TIME_SCALE } = require('./lib/server');
const { LvspClient, INFO_LATER } = require('./lib/lvsp_client');
const { adminGet } = require('./lib/admin_client');
const { Checks, run } = require('./lib/checks');
const { snowflake } = require('./lib/ids');

const TIMEOUT_MS = 170000;
const LONG_DRAIN_S = 120; // the deadline the tests must not be waiting for
const c = new Checks('drain');
const check = (ok, what) => c.ok(ok, what);
const figures = [];
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');

/* ---- child: djs clients driven by lines on stdin ------------------------ */
/* in:  JOIN <name> <VoiceInfo json> | COUNTS | STOP
 * out: READY <name> | FAILED <name> <why> | CLOSE <name> <code> | COUNTS <json> */

async function childMain(toneFile) {
  const djs = require('./lib/djs_adapter');
  const { readPackets } = require('./lib/opus_tool');
  const tone = readPackets(toneFile);
  const peers = {};
  const join = async (name, info) => {
    const p = { conn: djs.join(info, { group: `drain-${name}` }).conn, rx: 0, closes: [] };
    peers[name] = p;
    try {
      await djs.voice.entersState(p.conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
    } catch (err) {
      console.log(`FAILED ${name} ${err.message}`);
      return;
    }
    const nw = p.conn.state.networking;
    nw.state.ws.on('close', (e) => console.log(`CLOSE ${name} ${e.code}`));
    djs.udpSocket(p.conn).on('message', (m) => {
      if (m.length > 12 && m[0] >> 6 === 2) p.rx++; // RTP, not a keepalive
    });
    let i = 0;
    const t0 = Date.now();
    const tick = () => {
      if (p.stopped) return;
      p.conn.playOpusPacket(tone[i++ % tone.length]);
      setTimeout(tick, Math.max(0, t0 + i * 20 - Date.now()));
    };
    tick();
    console.log(`READY ${name}`);
  };
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const [cmd, name, ...rest] = line.split(' ');
      if (cmd === 'JOIN') join(name, JSON.parse(rest.join(' ')));
      else if (cmd === 'COUNTS') {
        const counts = {};
        for (const [n, p] of Object.entries(peers)) counts[n] = p.rx;
        console.log(`COUNTS ${JSON.stringify(counts)}`);
      } else if (cmd === 'STOP') {
        for (const p of Object.values(peers)) { p.stopped = true; p.conn.destroy(); }
        setTimeout(() => process.exit(0), 100);
      }
    }
  });
}

/* ---- parent side --------------------------------------------------------- */

/* The child, and waiting for its lines. */
function startClients(srv, toneFile) {
  const lines = [];
  const waiters = [];
  const child = spawnNode(__filename, ['--child', toneFile], {
    caFile: srv.certPath,
    stdin: 'pipe',
    onLine: (l) => {
      if (/^(READY|FAILED|CLOSE|COUNTS) /.test(l)) lines.push(l);
      else if (l.trim()) console.log(`  [djs] ${l}`);
      for (const w of waiters.splice(0)) w();
    },
  });
  const waitLine = async (pred, ms = 25000) => {
    const end = Date.now() + ms * TIME_SCALE;
    for (;;) {
      const i = lines.findIndex(pred);
      if (i >= 0) return lines.splice(i, 1)[0];
      if (Date.now() > end || child.proc.exitCode !== null) return null;
      await Promise.race([new Promise((r) => waiters.push(r)), sleep(200)]);
    }
  };
  return {
    async join(name, info) {
      child.proc.stdin.write(`JOIN ${name} ${JSON.stringify(info)}\n`);
      const l = await waitLine((x) => x === `READY ${name}` || x.startsWith(`FAILED ${name} `));
      if (l !== `READY ${name}`) throw new Error(`client ${name} did not reach Ready: ${l}`);
    },
    async counts() {
      child.proc.stdin.write('COUNTS\n');
      const l = await waitLine((x) => x.startsWith('COUNTS '), 5000);
      return l ? JSON.parse(l.slice(7)) : {};
    },
    /* The first close code the client's voice socket saw, or null. */
    async closeCode(name, ms) {
      const l = await waitLine((x) => x.startsWith(`CLOSE ${name} `), ms);
      return l ? Number(l.split(' ')[2]) : null;
    },
    async stop() {
      if (child.proc.exitCode === null) child.proc.stdin.write('STOP\n');
      const t = setTimeout(() => child.proc.kill('SIGKILL'), 5000);
      await child.done;
      clearTimeout(t);
    },
  };
}

/* A server, the LVSP link, and a call of `names` in one channel. */
async function setUp(label, drainTimeoutS, names = ['A', 'B']) {
  console.log(`--- ${label}`);
  const srv = await startServer({ buildDir, logLevel: 'info', extraArgs: ['--drain-timeout', String(drainTimeoutS)] });
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const toneFile = path.join(srv.stateDir, 'tone.opus');
  require('./lib/opus_tool').opusTool(buildDir).encode(440, 50, toneFile);
  const clients = startClients(srv, toneFile);
  const call = { guild_id: snowflake(), channel_id: snowflake(), infos: {} };
  for (const n of names) {
    const vi = await lvsp.requestVoiceState({ user_id: snowflake(), channel_id: call.channel_id, guild_id: call.guild_id });
    call.infos[n] = { ...vi, guild_id: call.guild_id };
    await clients.join(n, call.infos[n]);
  }
  return { srv, lvsp, clients, call, token: srv.adminToken() };
}

/* Every client of names heard more than `min` packets since `before`. */
async function heardSince(ctx, before, names, min, what) {
  const now = await ctx.clients.counts();
  for (const n of names) {
    const got = (now[n] || 0) - (before[n] || 0);
    check(got > min, `${what}: ${n} received ${got} packets`);
  }
  return now;
}

async function state(ctx) {
  const r = await adminGet(ctx.srv.adminUrl, '/state', ctx.token);
  return r.json || {};
}

async function tearDown(ctx) {
  await ctx.clients.stop();
  await ctx.lvsp.close().catch(() => {});
  if (ctx.srv.exit === null) await ctx.srv.stop();
  check(ctx.srv.sanitizerReports.length === 0, `no sanitizer report (${ctx.srv.sanitizerReports.slice(0, 2).join(' | ')})`);
  if (c.failures.length) console.log(ctx.srv.tail(40));
  else ctx.srv.removeStateDir();
}

/* Ends the call's voice states over LVSP; resolves with the time the last
 * end was sent. */
function endCall(ctx, infos) {
  for (const vi of infos) ctx.lvsp.endVoiceState({ user_id: vi.user_id, session_id: vi.session_id });
  return Date.now();
}

/* Waits for the process to exit, or `ms`; {exit, ms} (exit null: still running). */
async function exitWithin(srv, ms) {
  const t0 = Date.now();
  const exit = await Promise.race([srv.exited, sleep(ms * TIME_SCALE).then(() => null)]);
  return { exit, ms: Date.now() - t0 };
}

async function callEnds() {
  const ctx = await setUp('1. SIGTERM with a call in progress; the call ends', LONG_DRAIN_S);
  const { srv, lvsp, clients, call } = ctx;
  let counts = await ctx.clients.counts();
  for (let i = 0; i < 50 && !(counts.A > 0 && counts.B > 0); i++) {
    await sleep(100);
    counts = await ctx.clients.counts();
  }
  check(counts.A > 0 && counts.B > 0, `audio flows before the signal (${JSON.stringify(counts)})`);
  // A channel Litecord announced that holds no call (pinned, empty).
  const pinned = { channel_id: snowflake(), guild_id: call.guild_id };
  const assign = (await lvsp.channelReq(pinned)).d.data;
  check(!assign.error && assign.token, 'CHANNEL_REQ before the drain: assigned (a pinned empty channel)');
  const readyBefore = await adminGet(srv.adminUrl, '/ready');
  check(readyBefore.status === 200, `GET /ready (no token) before the signal: ${readyBefore.status} ${readyBefore.text}`);
  const atSignal = counts;
  srv.proc.kill('SIGTERM');
  const tSignal = Date.now();
  await sleep(1000);
  check(srv.exit === null, `still running 1 s after SIGTERM (${JSON.stringify(srv.exit)})`);
  counts = await heardSince(ctx, counts, ['A', 'B'], 20, 'audio flows on during the drain (1 s)');
  const ack = await lvsp.heartbeat(7);
  check(ack.health === 0, `HEARTBEAT_ACK health is 0 while draining (got ${ack.health})`);
  const st = await state(ctx);
  check(st.status === 'draining' && st.drain && st.drain.reason === 'SIGTERM' &&
    st.drain.timeout_s === LONG_DRAIN_S, `/state says draining (SIGTERM): ${JSON.stringify({ status: st.status, drain: st.drain })}`);
  check(st.frontends && st.frontends.lvsp && st.frontends.lvsp.health === 0, '/state: LVSP health 0');
  const readyDraining = await adminGet(srv.adminUrl, '/ready');
  check(readyDraining.status === 503 && readyDraining.json && readyDraining.json.status === 'draining' &&
    JSON.stringify(readyDraining.json.reasons) === '["draining"]',
  `GET /ready while draining: 503 for load balancers (${readyDraining.status} ${readyDraining.text})`);

  // A new call: refused with the error INFO, and the link stays up.
  const other = { user_id: snowflake(), channel_id: snowflake(), guild_id: call.guild_id };
  const refused = (await lvsp.vstCreate(other)).d.data;
  check(refused.error && refused.error.code === 'draining' && !refused.token && !refused.session_id,
    `VST_CREATE for a new channel: error INFO "draining" without credentials (${JSON.stringify(refused)})`);
  check(lvsp.closeInfo === null, 'the LVSP link stays up after the refusal');
  const ack2 = await lvsp.heartbeat(8);
  check(ack2.s === 8, 'LVSP heartbeats still answered after the refusal');
  const toPinned = (await lvsp.vstCreate({ user_id: snowflake(), ...pinned })).d.data;
  check(toPinned.error && toPinned.error.code === 'draining',
    `VST_CREATE for the pinned empty channel: refused, no call there (${JSON.stringify(toPinned.error)})`);
  const chReq = await lvsp.channelReq({ channel_id: snowflake(), guild_id: call.guild_id });
  check(chReq.d.data.error && chReq.d.data.error.code === 'draining',
    `CHANNEL_REQ for a new channel: error CHANNEL_ASSIGN "draining" (${JSON.stringify(chReq.d.data)})`);

  // A friend joins the call in progress.
  const joinC = (await lvsp.vstCreate({ user_id: snowflake(), channel_id: call.channel_id, guild_id: call.guild_id })).d.data;
  check(!joinC.error && typeof joinC.token === 'string' && typeof joinC.session_id === 'string',
    `VST_CREATE for the call's channel succeeds (${joinC.error ? JSON.stringify(joinC.error) : 'credentials given'})`);
  const infoC = { ...joinC, guild_id: call.guild_id };
  const joined = await c.step('client C joins the call in progress', async () => {
    await clients.join('C', infoC);
    return true;
  });
  check(joined === true, 'client C reached Ready during the drain');
  await sleep(1000);
  counts = await heardSince(ctx, counts, ['A', 'B', 'C'], 20, 'after C joined (1 s)');
  check(srv.exit === null, 'still running while the call goes on');
  const duringDrain = counts.A - atSignal.A + counts.B - atSignal.B;

  endCall(ctx, [call.infos.A, call.infos.B, infoC]);
  const { exit, ms } = await exitWithin(srv, 20000);
  check(exit && exit.code === 0, `exit status 0 once the call ended (${JSON.stringify(exit)})`);
  check(exit && ms < LONG_DRAIN_S * 1000 / 2,
    `it exited because the call ended, not at the deadline (${ms} ms after the last voice state ended; deadline ${LONG_DRAIN_S} s)`);
  check(srv.lines.some((l) => l.includes('drain: no voice state left')), 'log: "drain: no voice state left"');
  check(srv.lines.some((l) => /refused 1 request\(s\) from Litecord: .*draining/.test(l)), 'log: the refused new call');
  figures.push(`call ends: A+B received ${duringDrain} packets and C ${counts.C} during ${Date.now() - tSignal} ms of drain; ` +
    `exit ${ms} ms after the last voice state ended`);
  await tearDown(ctx);
}

async function deadline() {
  const ctx = await setUp('2. SIGTERM with --drain-timeout 2: the call is cut at the deadline', 2);
  const { srv, clients } = ctx;
  const before = await clients.counts();
  srv.proc.kill('SIGTERM');
  const t0 = Date.now();
  await sleep(1000);
  const mid = await heardSince(ctx, before, ['A', 'B'], 20, 'audio flows before the deadline');
  const { exit } = await exitWithin(srv, 15000);
  const ms = Date.now() - t0;
  check(exit && exit.code === 0, `exit status 0 at the deadline (${JSON.stringify(exit)}, ${ms} ms after SIGTERM)`);
  for (const n of ['A', 'B']) {
    const code = await clients.closeCode(n, 5000);
    check(code === 4015, `client ${n} got 4015 at the deadline (got ${code})`);
  }
  check(srv.lines.some((l) => l.includes('--drain-timeout (2 s) passed with 2 voice state(s)')),
    'log: the deadline passed with 2 voice states');
  figures.push(`deadline: exit ${ms} ms after SIGTERM (--drain-timeout 2); A+B received ${(mid.A - (before.A || 0)) + (mid.B - (before.B || 0))} packets in the first second`);
  await tearDown(ctx);
}

async function secondSigterm() {
  const ctx = await setUp('3. a second SIGTERM stops at once', LONG_DRAIN_S);
  const { srv, clients } = ctx;
  srv.proc.kill('SIGTERM');
  let st = {};
  for (let i = 0; i < 50 && st.status !== 'draining'; i++) { await sleep(100); st = await state(ctx); }
  check(st.status === 'draining', 'draining after the first SIGTERM');
  const t0 = Date.now();
  srv.proc.kill('SIGTERM');
  const { exit } = await exitWithin(srv, 15000);
  const ms = Date.now() - t0;
  check(exit && exit.code === 0 && ms < LONG_DRAIN_S * 1000 / 2,
    `second SIGTERM: exit 0 at once (${JSON.stringify(exit)} after ${ms} ms; deadline ${LONG_DRAIN_S} s)`);
  for (const n of ['A', 'B']) {
    const code = await clients.closeCode(n, 5000);
    check(code === 4015, `client ${n} got 4015 (got ${code})`);
  }
  figures.push(`second SIGTERM: exit ${ms} ms after it`);
  await tearDown(ctx);
}

function cli(args) {
  return new Promise((resolve) => {
    execFile(path.join(buildDir, 'litecord-voice'), args, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

async function adminDrain() {
  const ctx = await setUp('4. admin POST /drain', LONG_DRAIN_S, ['A']);
  const { srv, lvsp, call } = ctx;
  const none = await adminGet(srv.adminUrl, '/drain', undefined, { method: 'POST' });
  check(none.status === 401, `POST /drain without a token: 401 (got ${none.status})`);
  const wrong = await adminGet(srv.adminUrl, '/drain', 'x'.repeat(64), { method: 'POST' });
  check(wrong.status === 401, `POST /drain with a wrong token: 401 (got ${wrong.status})`);
  let st = await state(ctx);
  check(st.status === 'serving' && st.drain === null, `still serving after the 401s (${st.status})`);
  check((await lvsp.heartbeat(1)).health > 0, 'health above 0 while serving');
  const ok = await adminGet(srv.adminUrl, '/drain', ctx.token, { method: 'POST' });
  check(ok.status === 200 && ok.json && ok.json.started === true && ok.json.drain.reason === 'admin request',
    `POST /drain with the token: 200, started (${ok.status} ${ok.text})`);
  st = await state(ctx);
  check(st.status === 'draining', `/state says draining (${st.status})`);
  check((await lvsp.heartbeat(2)).health === 0, 'health 0 after POST /drain');
  const again = await cli(['drain', '--admin-url', srv.adminUrl, '--admin-token', ctx.token]);
  check(again.code === 0 && /already draining/.test(again.stdout) && /DRAINING \(admin request/.test(again.stdout),
    `litecord-voice drain again: "already draining" (${again.code}: ${again.stdout.trim()} ${again.stderr.trim()})`);
  const status = await cli(['status', '--admin-url', srv.adminUrl, '--admin-token', ctx.token]);
  check(status.code === 0 && /\(draining\)/.test(status.stdout) && /DRAINING \(admin request, \d+ s ago\)/.test(status.stdout),
    `litecord-voice status shows the drain (${status.stdout.split('\n').slice(0, 2).join(' / ')})`);
  // A first SIGTERM during an admin drain keeps draining (a second would stop).
  srv.proc.kill('SIGTERM');
  await sleep(500);
  check(srv.exit === null, 'a SIGTERM during the admin drain keeps draining');
  const refused = (await lvsp.vstCreate({ user_id: snowflake(), channel_id: snowflake(), guild_id: call.guild_id })).d.data;
  check(refused.error && refused.error.code === 'draining', 'a new call is refused during the admin drain');
  const tEnd = endCall(ctx, [call.infos.A]);
  const { exit, ms } = await exitWithin(srv, 20000);
  check(exit && exit.code === 0, `exit 0 once the call ended (${JSON.stringify(exit)}, ${ms} ms after)`);
  figures.push(`admin drain: exit ${Date.now() - tEnd} ms after the last voice state ended`);
  await tearDown(ctx);
}

if (process.argv[2] === '--child') {
  childMain(process.argv[3]).catch((err) => {
    console.log(`child failed: ${err.stack || err}`);
    process.exit(1);
  });
} else {
  run('fault_drain', TIMEOUT_MS, async () => {
    await c.step('call ends', callEnds);
    await c.step('deadline', deadline);
    await c.step('second SIGTERM', secondSigterm);
    await c.step('admin drain', adminDrain);
    for (const f of figures) console.log(`FIGURE ${f}`);
  }, { checks: () => c });
}
