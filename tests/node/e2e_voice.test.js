'use strict';
/*
 * End-to-end test: real @discordjs/voice clients through litecord-voice.
 *
 * Per run (default modes -> AES-GCM; --modes xchacha,... -> XChaCha):
 * start the server, act as Litecord over LVSP (HMAC identify in one run,
 * plain secret in the other), create voice states A+B in channel C1 and X
 * in C2, join all three with djs, A plays a 440 Hz Opus tone that B must
 * receive (>= 95 %, 440 +- 5 Hz), B plays 660 Hz for A, X (other channel)
 * and self-subscriptions receive nothing, then LVSP ends B's voice state
 * and B's connection must go Disconnected with close code 4014.
 *
 * The djs side runs in a child process (this file with --client) started
 * with NODE_EXTRA_CA_CERTS = the server's self-signed certificate.
 * Env: SC_BUILD_DIR (server + tests/opus_tone), SC_SOURCE_DIR.
 * Exit 0 = pass. Logs stay in the printed work directory.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MODE_AES = 'aead_aes256_gcm_rtpsize';
const MODE_XCHACHA = 'aead_xchacha20_poly1305_rtpsize';
const RUNS = [
  { name: 'aes-gcm', modes: null, auth: 'hmac', expectMode: MODE_AES },
  { name: 'xchacha', modes: `${MODE_XCHACHA},${MODE_AES}`, auth: 'plain', expectMode: MODE_XCHACHA },
];
const TONE_FRAMES = 250; // 5 s of 20 ms frames
const MIN_RATIO = 0.95;
const HZ_TOLERANCE = 5;
const RUN_TIMEOUT_MS = 75000;
const TOTAL_TIMEOUT_MS = 175000;

const ts = () => new Date().toISOString().slice(11, 23);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------ */
/* Client side (child process): LVSP stand-in + three djs connections. */

class Checks {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.warnings = [];
    this.passed = 0;
  }

  ok(cond, msg) {
    if (cond) this.passed++;
    else this.failures.push(msg);
    console.log(`${ts()} [${this.name}] ${cond ? 'ok  ' : 'FAIL'} ${msg}`);
    return cond;
  }

  warn(cond, msg) {
    if (!cond) this.warnings.push(msg);
    console.log(`${ts()} [${this.name}] ${cond ? 'ok  ' : 'WARN'} ${msg}`);
    return cond;
  }
}

function snowflakes(n) {
  const base = (BigInt(Date.now() - 1420070400000) << 22n) + BigInt(process.pid % 4096) * 4096n;
  return Array.from({ length: n }, (_, i) => (base + BigInt(i + 1)).toString());
}

function checkInfo(c, who, info, want) {
  c.ok(info.user_id === want.user_id && info.channel_id === want.channel_id,
    `${who}: VST reply names user ${info.user_id} channel ${info.channel_id}`);
  c.ok(typeof info.session_id === 'string' && info.session_id.length > 0,
    `${who}: VST reply has session_id ${JSON.stringify(info.session_id)}`);
  c.ok(typeof info.token === 'string' && info.token.length >= 16,
    `${who}: VST reply has a voice token (${typeof info.token}, ${String(info.token).length} chars)`);
  c.ok(info.endpoint === want.endpoint,
    `${who}: endpoint ${JSON.stringify(info.endpoint)} == ${JSON.stringify(want.endpoint)}`);
  if (info.guild_id !== want.guild_id) {
    c.warn(false, `${who}: VST reply guild_id ${info.guild_id} != ${want.guild_id}; using ours`);
  }
  return { ...info, guild_id: want.guild_id };
}

/* Counts raw datagrams (> 8 bytes, i.e. not keepalives) per RTP SSRC. */
function tapUdp(djs, peer) {
  peer.rawBySsrc = new Map();
  peer.rawTotal = 0;
  djs.udpSocket(peer.conn).on('message', (msg) => {
    if (msg.length <= 8) return;
    const ssrc = msg.length >= 12 ? msg.readUInt32BE(8) : -1;
    peer.rawTotal++;
    peer.rawBySsrc.set(ssrc, (peer.rawBySsrc.get(ssrc) || 0) + 1);
  });
  peer.speakingStarts = [];
  peer.conn.receiver.speaking.on('start', (id) => peer.speakingStarts.push(id));
}

function subscribe(djs, peer, target) {
  const sub = { packets: [], error: null };
  const stream = peer.conn.receiver.subscribe(target.userId, {
    end: { behavior: djs.voice.EndBehaviorType.Manual },
  });
  stream.on('data', (p) => sub.packets.push(Buffer.from(p)));
  stream.on('error', (e) => { sub.error = e.message; });
  peer.subs[target.name] = sub;
  return sub;
}

/* Plays packets on the 20 ms grid; returns how many djs dispatched. */
async function play(peer, packets) {
  const t0 = performance.now();
  let sent = 0;
  for (let i = 0; i < packets.length; i++) {
    const wait = t0 + i * 20 - performance.now();
    if (wait > 0) await sleep(wait);
    if (peer.conn.playOpusPacket(packets[i])) sent++;
  }
  peer.conn.setSpeaking(false);
  return sent;
}

async function joinPeer(djs, name, info, c, workDir) {
  const peer = { name, userId: info.user_id, info, subs: {}, ...djs.join(info, { group: `e2e-${name}` }) };
  peer.logFile = path.join(workDir, `djs-${name}.log`);
  try {
    await djs.voice.entersState(peer.conn, djs.voice.VoiceConnectionStatus.Ready, 15000);
  } catch (err) {
    peer.conn.destroy();
    fs.writeFileSync(peer.logFile, peer.debugLines.join('\n'));
    throw new Error(`${name} did not reach Ready (status ${peer.conn.state.status}): ` +
      `${err.message}\n--- last djs debug lines of ${name}:\n${peer.debugLines.slice(-15).join('\n')}`);
  }
  c.ok(true, `${name} (user ${info.user_id}, channel ${info.channel_id}) reached Ready`);
  peer.ssrc = djs.connectionData(peer.conn).ssrc;
  return peer;
}

function checkMode(djs, c, peer, expectMode) {
  const used = djs.encryptionMode(peer.conn);
  const op4 = djs.gatewayFrames(peer.debugLines, '<<').find((f) => f.op === 4);
  const op2 = djs.gatewayFrames(peer.debugLines, '<<').find((f) => f.op === 2);
  c.ok(used === expectMode && op4 && op4.d.mode === expectMode,
    `${peer.name}: encryption mode in use ${used}, op 4 mode ${op4 && op4.d.mode} ` +
    `(server offered ${op2 && JSON.stringify(op2.d.modes)}; want ${expectMode})`);
  c.ok(op4 && Array.isArray(op4.d.secret_key) && op4.d.secret_key.length === 32,
    `${peer.name}: op 4 secret_key is 32 bytes`);
  return used;
}

/* Checks one tone transfer sender -> receiver; an = {tool, workDir}. */
function checkTransfer(c, an, from, to, hz, sent, tones) {
  const sub = to.subs[from.name];
  const got = sub.packets.length;
  const ratio = sent ? got / sent : 0;
  c.ok(!sub.error, `${to.name} <- ${from.name}: receive stream error: ${sub.error || 'none'}`);
  c.ok(sent === tones.length, `${from.name} dispatched ${sent}/${tones.length} packets`);
  c.ok(ratio >= MIN_RATIO && got <= sent,
    `${to.name} received ${got}/${sent} packets of ${from.name} (${(100 * ratio).toFixed(1)} %, need >= ${100 * MIN_RATIO} %)`);
  const sentSet = new Set(tones.map((p) => p.toString('hex')));
  const intact = sub.packets.filter((p) => sentSet.has(p.toString('hex'))).length;
  c.ok(intact === got, `${to.name}: ${intact}/${got} received packets byte-identical to sent Opus`);
  let analysis = null;
  if (got > 0) {
    analysis = an.tool.analyzePackets(sub.packets, path.join(an.workDir, `rx-${from.name}-to-${to.name}.opus`));
    c.ok(Math.abs(analysis.dominant_hz - hz) <= HZ_TOLERANCE,
      `${to.name}: decoded audio of ${from.name} peaks at ${analysis.dominant_hz} Hz (want ${hz} +- ${HZ_TOLERANCE}), rms ${analysis.rms}`);
  }
  return { from: from.name, to: to.name, sent, received: got, ratio, analysis };
}

function checkIsolation(c, djs, peers, phase) {
  const { A, B, X } = peers;
  const xGot = X.subs.A.packets.length + X.subs.B.packets.length;
  c.ok(xGot === 0, `${phase}: X (other channel) got ${xGot} audio packets from A/B (want 0)`);
  c.ok(X.rawTotal === 0, `${phase}: X's UDP socket got ${X.rawTotal} media datagrams (want 0)`);
  c.ok(X.speakingStarts.length === 0, `${phase}: X saw speaking events ${JSON.stringify(X.speakingStarts)} (want none)`);
  const leaked = djs.gatewayFrames(X.debugLines, '<<').filter((f) =>
    (f.op === 5 && f.d && [A.userId, B.userId].includes(f.d.user_id)) ||
    (f.op === 11 && f.d && (f.d.user_ids || []).some((u) => [A.userId, B.userId].includes(u))));
  c.ok(leaked.length === 0, `${phase}: X got no gateway op 5/11 about A/B (saw ${JSON.stringify(leaked)})`);
  for (const p of [A, B]) {
    const self = p.subs[p.name].packets.length;
    const echoed = p.rawBySsrc.get(p.ssrc) || 0;
    c.ok(self === 0 && echoed === 0,
      `${phase}: ${p.name} got none of its own packets (subscription ${self}, raw datagrams with own SSRC ${echoed})`);
  }
}

function waitDisconnected(djs, conn, timeoutMs) {
  const S = djs.voice.VoiceConnectionStatus;
  return new Promise((resolve) => {
    const seen = [];
    const timer = setTimeout(() => {
      conn.off('stateChange', onChange);
      resolve({ status: 'timeout', seen });
    }, timeoutMs);
    function onChange(oldS, newS) {
      seen.push(newS.status);
      if (newS.status === S.Disconnected || newS.status === S.Destroyed) {
        clearTimeout(timer);
        conn.off('stateChange', onChange);
        resolve({ status: newS.status, reason: newS.reason, closeCode: newS.closeCode, seen });
      }
    }
    conn.on('stateChange', onChange);
  });
}

async function endVoiceStateOfB(c, djs, lvsp, peers) {
  const { A, B } = peers;
  const pending = waitDisconnected(djs, B.conn, 8000);
  lvsp.endVoiceState({ user_id: B.userId, session_id: B.info.session_id });
  const d = await pending;
  const R = djs.voice.VoiceConnectionDisconnectReason;
  c.ok(d.status === 'disconnected' && d.reason === R.WebSocketClose && d.closeCode === 4014,
    `B after LVSP end of voice state: ${d.status === 'timeout'
      ? `not Disconnected within 8 s (states seen: ${JSON.stringify(d.seen)})`
      : `status ${d.status}, reason ${d.reason} (want ${R.WebSocketClose} WebSocketClose), ` +
        `closeCode ${d.closeCode} (want 4014)`}`);
  await sleep(500);
  const op13 = djs.gatewayFrames(A.debugLines, '<<').some((f) => f.op === 13 && f.d && f.d.user_id === B.userId);
  c.warn(op13, 'A got op 13 Client Disconnect for B');
  return d;
}

async function clientScenario(cfg, c, djs, LvspClient) {
  const lvspLog = [];
  const lvsp = await LvspClient.connect(cfg.lvspUrl, {
    secret: cfg.secret, auth: cfg.auth, log: (l) => lvspLog.push(`${ts()} ${l}`),
  });
  const ctx = { cfg, lvsp, lvspLog, peers: {} };
  try {
    await scenarioBody(cfg, c, djs, ctx);
  } finally {
    for (const p of Object.values(ctx.peers)) {
      if (p.conn.state.status !== 'destroyed') p.conn.destroy();
      fs.writeFileSync(p.logFile, p.debugLines.join('\n'));
    }
    await lvsp.close();
    fs.writeFileSync(path.join(cfg.workDir, 'lvsp.log'), lvspLog.join('\n'));
  }
  return ctx.result;
}

async function scenarioBody(cfg, c, djs, ctx) {
  const { lvsp } = ctx;
  c.ok(Number.isFinite(lvsp.hello.heartbeat_interval), `LVSP HELLO ${JSON.stringify(lvsp.hello)}`);
  c.ok(true, `LVSP READY after ${cfg.auth} IDENTIFY: ${JSON.stringify(lvsp.ready)}`);
  const ack = await lvsp.heartbeat(1);
  c.ok(ack.s === 1, `LVSP HEARTBEAT {s:1} -> ACK ${JSON.stringify(ack)}`);

  const [guild, c1, c2, uA, uB, uX] = snowflakes(6);
  const want = { A: [uA, c1], B: [uB, c1], X: [uX, c2] };
  const infos = {};
  for (const [name, [user_id, channel_id]] of Object.entries(want)) {
    const vi = await lvsp.requestVoiceState({ user_id, channel_id, guild_id: guild });
    infos[name] = checkInfo(c, name, vi, { user_id, channel_id, guild_id: guild, endpoint: cfg.endpoint });
  }
  const toks = new Set(Object.values(infos).map((i) => i.token));
  c.ok(toks.size === 3, 'voice tokens of A, B, X are distinct');

  const peers = ctx.peers;
  for (const name of ['A', 'B', 'X']) peers[name] = await joinPeer(djs, name, infos[name], c, cfg.workDir);
  const modes = {};
  for (const p of Object.values(peers)) {
    modes[p.name] = checkMode(djs, c, p, cfg.expectMode);
    tapUdp(djs, p);
  }
  const { A, B } = peers;
  for (const [rx, tx] of [['B', 'A'], ['A', 'B'], ['A', 'A'], ['B', 'B'], ['X', 'A'], ['X', 'B']]) {
    subscribe(djs, peers[rx], peers[tx]);
  }

  const { opusTool, readPackets } = require('./lib/opus_tool');
  const an = { tool: opusTool(cfg.buildDir), workDir: cfg.workDir };
  const t440 = readPackets(cfg.tone440);
  const t660 = readPackets(cfg.tone660);
  const sentA = await play(A, t440);
  await sleep(800);
  const aToB = checkTransfer(c, an, A, B, 440, sentA, t440);
  checkIsolation(c, djs, peers, 'after A spoke');

  const sentB = await play(B, t660);
  await sleep(800);
  const bToA = checkTransfer(c, an, B, A, 660, sentB, t660);
  checkIsolation(c, djs, peers, 'after B spoke');

  const disc = await endVoiceStateOfB(c, djs, lvsp, peers);
  const ack2 = await lvsp.heartbeat(2);
  c.ok(ack2.s === 2, 'LVSP link still answers heartbeats at the end');
  ctx.result = { modes, aToB, bToA, disconnect: disc };
}

async function clientMain(cfg) {
  const djs = require('./lib/djs_adapter');
  const { LvspClient } = require('./lib/lvsp_client');
  const c = new Checks(cfg.name);
  let result = null;
  let fatal = null;
  const watchdog = setTimeout(() => {
    console.log(`RESULT ${JSON.stringify({ name: cfg.name, fatal: `client timed out after ${RUN_TIMEOUT_MS} ms`, failures: c.failures })}`);
    process.exit(3);
  }, RUN_TIMEOUT_MS);
  try {
    result = await clientScenario(cfg, c, djs, LvspClient);
  } catch (err) {
    fatal = err.stack || String(err);
    console.log(`${ts()} [${cfg.name}] FATAL ${fatal}`);
  }
  clearTimeout(watchdog);
  console.log(`RESULT ${JSON.stringify({ name: cfg.name, fatal, failures: c.failures, warnings: c.warnings, passed: c.passed, ...result })}`);
  process.exit(0);
}

/* ------------------------------------------------------------------ */
/* Orchestrator (parent process): tone files, server, child per run.   */

function dirs() {
  const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
  const build = process.env.SC_BUILD_DIR || path.join(source, 'build');
  return { source, build };
}

function ensureNodeModules() {
  if (fs.existsSync(path.join(__dirname, 'node_modules', '@discordjs', 'voice'))) return;
  console.log('tests/node/node_modules missing: running npm ci');
  require('node:child_process').execFileSync('npm', ['ci', '--no-audit', '--no-fund'],
    { cwd: __dirname, stdio: 'inherit' });
}

function makeTones(tool, workDir) {
  const out = {};
  for (const hz of [440, 660]) {
    const file = path.join(workDir, `tone${hz}.opus`);
    const packets = tool.encode(hz, TONE_FRAMES, file);
    const a = tool.analyze(file);
    if (packets.length !== TONE_FRAMES || a.packets !== TONE_FRAMES || Math.abs(a.dominant_hz - hz) > 2) {
      throw new Error(`opus_tone self-check failed for ${hz} Hz: ${JSON.stringify(a)}`);
    }
    console.log(`${ts()} opus_tone self-check ${hz} Hz: ${JSON.stringify(a)}`);
    out[hz] = file;
  }
  return out;
}

async function runOnce(run, ctx) {
  const { startServer, spawnNode } = require('./lib/server');
  const workDir = path.join(ctx.workDir, run.name);
  fs.mkdirSync(workDir);
  const srv = await startServer({ buildDir: ctx.build, modes: run.modes });
  console.log(`${ts()} [${run.name}] server up: lvsp ${srv.ports.lvsp}, gateway ${srv.ports.gateway}, ` +
    `udp ${srv.ports.udp}, modes ${run.modes || '(default)'}, log ${srv.logPath}`);
  let result = null;
  try {
    const cfg = {
      ...run, workDir, buildDir: ctx.build, lvspUrl: srv.lvspUrl, endpoint: srv.endpoint,
      secret: srv.secret, tone440: ctx.tones[440], tone660: ctx.tones[660],
    };
    const child = spawnNode(__filename, ['--client', JSON.stringify(cfg)], {
      caFile: srv.certPath,
      onLine: (l) => {
        if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7));
        else console.log(l);
      },
    });
    const exit = await child.done;
    if (!result) result = { name: run.name, fatal: `client exited ${JSON.stringify(exit)} without a result`, failures: [] };
  } finally {
    result = result || { name: run.name, fatal: 'client could not be run', failures: [] };
    if (srv.diedUnexpectedly()) {
      result.failures.push(`server exited during the run: ${JSON.stringify(srv.exit)}`);
    }
    const e = await srv.stop();
    result.serverExit = e;
    if (!(e.code === 0 || e.signal === 'SIGTERM')) {
      result.failures.push(`server did not exit cleanly on SIGINT: ${JSON.stringify(e)} (see ${srv.logPath})`);
    }
    result.serverLog = srv.logPath;
    if (result.fatal || result.failures.length) {
      console.log(`--- last server log lines (${srv.logPath}):\n${srv.tail(80)}\n---`);
    } else {
      srv.removeStateDir();
    }
  }
  return result;
}

function summarize(results) {
  let failedRuns = 0;
  const parts = [];
  for (const r of results) {
    if (!r.fatal && !r.failures.length && !r.passed) r.failures.push('the run made no check');
    const bad = r.fatal || r.failures.length;
    if (bad) failedRuns++;
    const fmt = (t) => (t ? `${t.from}->${t.to} ${t.received}/${t.sent} ${(100 * t.ratio).toFixed(1)}% ` +
      `${t.analysis ? t.analysis.dominant_hz : '-'}Hz` : 'n/a');
    const line = `${r.name}: ${bad ? 'FAIL' : 'PASS'} mode=${r.modes ? r.modes.A : '?'} ` +
      `${fmt(r.aToB)}, ${fmt(r.bToA)}, B disconnect ${r.disconnect ? (r.disconnect.closeCode ?? r.disconnect.status) : 'n/a'}, ` +
      `server exit ${JSON.stringify(r.serverExit)}`;
    parts.push(line);
    console.log(line);
    if (r.fatal) console.log(`  fatal: ${r.fatal.split('\n')[0]}`);
    for (const f of r.failures) console.log(`  failed: ${f}`);
    for (const w of r.warnings || []) console.log(`  warning: ${w}`);
  }
  return { failedRuns, parts };
}

async function main() {
  const watchdog = setTimeout(() => {
    console.log(`e2e_voice: FAIL (timed out after ${TOTAL_TIMEOUT_MS / 1000} s)`);
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();
  const { build } = dirs();
  ensureNodeModules();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-voice-'));
  console.log(`${ts()} work dir ${workDir}, build dir ${build}`);
  const { opusTool } = require('./lib/opus_tool');
  const tones = makeTones(opusTool(build), workDir);
  const results = [];
  for (const run of RUNS) results.push(await runOnce(run, { build, workDir, tones }));
  const { failedRuns, parts } = summarize(results);
  if (!failedRuns) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir} (djs-*.log, lvsp.log, rx-*.opus) and the server logs above`);
  console.log(`e2e_voice: ${RUNS.length - failedRuns} passed, ${failedRuns} failed`);
  console.log(`e2e_voice: ${failedRuns ? 'FAIL' : 'PASS'} | ${parts.join(' | ')}`);
  process.exit(failedRuns ? 1 : 0);
}

if (process.argv[2] === '--client') {
  clientMain(JSON.parse(process.argv[3]));
} else {
  main().catch((err) => {
    console.log(`e2e_voice: FAIL ${err.stack || err}`);
    process.exit(1);
  });
}
