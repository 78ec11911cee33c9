'use strict';
/*
 * An older client and a current one in one room: a real discord.py 2.2.2
 * VoiceClient (gateway v4, xsalsa20 modes only; lib/dpy_voice.py, Debian's
 * python3-discord) and a real @discordjs/voice 0.19.2 client (v8, AES-GCM)
 * join the same channel through a Litecord stand-in; each plays an Opus
 * tone to the other; each must receive the other's packets byte-identical
 * (and the decoded tone at its frequency), each in its own mode.
 *
 * Runs: the default mode list (discord.py picks xsalsa20_poly1305_lite),
 * then servers offering only AES-GCM plus xsalsa20_poly1305_suffix, and
 * plus xsalsa20_poly1305, so discord.py uses each legacy mode once.
 *
 * The clients run in a child process (this file with --client) started
 * with NODE_EXTRA_CA_CERTS; discord.py gets the CA file. Env: SC_BUILD_DIR.
 * Needs /usr/bin/python3 with python3-discord and python3-nacl
 * (contrib/install-deps.sh --test).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Checks, sleep, ts, snowflakes } = require('./lib/checks');
const { PYTHON, startDpy } = require('./lib/dpy_client');

const AES = 'aead_aes256_gcm_rtpsize';
const RUNS = [
  { name: 'lite', modes: null, want: 'xsalsa20_poly1305_lite' },
  { name: 'suffix', modes: `${AES},xsalsa20_poly1305_suffix`, want: 'xsalsa20_poly1305_suffix' },
  { name: 'plain', modes: `${AES},xsalsa20_poly1305`, want: 'xsalsa20_poly1305' },
];
const TONE_FRAMES = 150; // 3 s
const MIN_RATIO = 0.95;

/* ------------------------------------------------------------------ */
/* Client side (child process).                                        */

function checkReceived(c, an, what, got, sent, hz) {
  const sentSet = new Set(sent.map((p) => p.toString('hex')));
  const intact = got.filter((p) => sentSet.has(p.toString('hex'))).length;
  c.ok(got.length >= MIN_RATIO * sent.length && intact === got.length,
    `${what}: ${got.length}/${sent.length} packets received, ${intact} byte-identical`);
  if (!got.length) return;
  const a = an.tool.analyzePackets(got, path.join(an.dir, `${what.replace(/\W+/g, '_')}.opus`));
  c.ok(Math.abs(a.dominant_hz - hz) <= 5, `${what}: decoded tone at ${a.dominant_hz} Hz (want ${hz})`);
}

async function scenario(cfg, c, djs, lvsp, ctx) {
  const [guild, channel, uD, uJ] = snowflakes(4);
  const vD = { ...(await lvsp.requestVoiceState({ user_id: uD, channel_id: channel, guild_id: guild })), guild_id: guild };
  const vJ = { ...(await lvsp.requestVoiceState({ user_id: uJ, channel_id: channel, guild_id: guild })), guild_id: guild };
  ctx.J = djs.join(vJ, { group: `legacy-${cfg.name}` });
  await djs.voice.entersState(ctx.J.conn, djs.voice.VoiceConnectionStatus.Ready, 15000);
  c.ok(djs.encryptionMode(ctx.J.conn) === AES, `djs in ${djs.encryptionMode(ctx.J.conn)}`);
  const fromD = djs.collectOpus(ctx.J.conn, uD).packets;
  ctx.dpy = startDpy({ ...vD, channel_id: channel, ca: cfg.ca, log: path.join(cfg.workDir, 'dpy.log') },
    (l) => console.log(`${ts()} [${cfg.name}] ${l}`));
  const ready = await ctx.dpy.next('ready');
  c.ok(ready.event === 'ready' && ready.mode === cfg.want,
    `discord.py connected in ${ready.mode} (want ${cfg.want}): ${JSON.stringify(ready)}`);
  c.ok(ready.discovered && ready.discovered.port === ready.local.port && ready.discovered.ip === '127.0.0.1',
    `discord.py's first datagram was the discovery answer: it names its own address ` +
    `${JSON.stringify(ready.discovered)} (socket ${JSON.stringify(ready.local)})`);
  await sleep(300);
  const { readPackets } = require('./lib/opus_tool');
  const t440 = readPackets(cfg.tone440);
  const t660 = readPackets(cfg.tone660);
  ctx.dpy.send({ cmd: 'play', file: cfg.tone660 });
  const sentJ = await djs.playOpus(ctx.J.conn, t440);
  const played = await ctx.dpy.next('played');
  c.ok(played.count === t660.length && sentJ === t440.length,
    `both played their tone (discord.py ${played.count}, djs ${sentJ} packets)`);
  await sleep(800);
  const dumpFile = path.join(cfg.workDir, 'dpy-from-djs.opus');
  const ssrcJ = djs.connectionData(ctx.J.conn).ssrc;
  ctx.dpy.send({ cmd: 'dump', ssrc: ssrcJ, file: dumpFile });
  const dumped = await ctx.dpy.next('dumped');
  c.ok(dumped.bad === 0 && Object.keys(dumped.ssrcs).every((s) => Number(s) === ssrcJ),
    `discord.py opened every datagram, all under djs's SSRC: ${JSON.stringify(dumped)}`);
  const an = { tool: require('./lib/opus_tool').opusTool(cfg.buildDir), dir: cfg.workDir };
  checkReceived(c, an, `discord.py <- djs (${cfg.want})`, readPackets(dumpFile), t440, 440);
  checkReceived(c, an, `djs <- discord.py (${cfg.want})`, fromD, t660, 660);
  const op5 = djs.gatewayFrames(ctx.J.debugLines, '<<').filter((f) => f.op === 5 && f.d.user_id === uD);
  c.ok(op5.some((f) => f.d.ssrc === ready.ssrc && f.d.speaking === 1),
    `djs learned discord.py's SSRC from op 5 (its Speaking had no ssrc): ${JSON.stringify(op5.map((f) => f.d))}`);
  ctx.dpy.send({ cmd: 'quit' });
  const bye = await ctx.dpy.next('bye');
  c.ok(bye.event === 'bye', `discord.py ${bye.version} left cleanly`);
}

async function clientMain(cfg) {
  const djs = require('./lib/djs_adapter');
  const { LvspClient } = require('./lib/lvsp_client');
  const c = new Checks(cfg.name);
  const ctx = {};
  let fatal = null;
  const lvsp = await LvspClient.connect(cfg.lvspUrl, { secret: cfg.secret });
  try {
    await scenario(cfg, c, djs, lvsp, ctx);
  } catch (err) {
    fatal = err.stack || String(err);
    console.log(`${ts()} [${cfg.name}] FATAL ${fatal}`);
  } finally {
    if (ctx.J) {
      ctx.J.conn.destroy();
      fs.writeFileSync(path.join(cfg.workDir, 'djs.log'), ctx.J.debugLines.join('\n'));
    }
    if (ctx.dpy) {
      const e = await Promise.race([ctx.dpy.exited, sleep(5000).then(() => null)]);
      if (!e) ctx.dpy.proc.kill('SIGKILL');
      else c.ok(e.code === 0, `discord.py driver exit ${JSON.stringify(e)}`);
    }
    await lvsp.close();
  }
  console.log(`RESULT ${JSON.stringify({ fatal, failures: c.failures, passed: c.passed })}`);
  process.exit(0);
}

/* ------------------------------------------------------------------ */
/* Orchestrator (parent process).                                      */

function dpyAvailable() {
  const r = require('node:child_process').spawnSync(PYTHON, ['-c', 'import discord, nacl; print(discord.__version__)'],
    { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function runOnce(run, base) {
  const { startServer, spawnNode } = require('./lib/server');
  const workDir = path.join(base.workDir, run.name);
  fs.mkdirSync(workDir);
  const srv = await startServer({ buildDir: base.build, modes: run.modes });
  let result = null;
  const child = spawnNode(__filename, ['--client', JSON.stringify({
    ...run, workDir, buildDir: base.build, lvspUrl: srv.lvspUrl, secret: srv.secret,
    ca: srv.certPath, tone440: base.tone440, tone660: base.tone660 })], {
    caFile: srv.certPath,
    onLine: (l) => { if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7)); else console.log(l); },
  });
  await child.done;
  result = result || { fatal: 'the client gave no result', failures: [], passed: 0 };
  if (srv.diedUnexpectedly()) result.failures.push(`server died: ${JSON.stringify(srv.exit)}`);
  const e = await srv.stop();
  if (!(e.code === 0 || e.signal === 'SIGTERM')) result.failures.push(`server exit ${JSON.stringify(e)}`);
  if (result.fatal) result.failures.push(`fatal: ${result.fatal.split('\n')[0]}`);
  if (result.failures.length) console.log(`--- server log (${srv.logPath}):\n${srv.tail(50)}\n---`);
  else srv.removeStateDir();
  return result;
}

async function main() {
  const watchdog = setTimeout(() => { console.log('gw_legacy_client: FAIL (timed out)'); process.exit(1); }, 170000);
  watchdog.unref();
  const version = dpyAvailable();
  if (!version) {
    console.log(`gw_legacy_client: FAIL: ${PYTHON} cannot import discord and nacl ` +
      '(apt install python3-discord python3-nacl, or contrib/install-deps.sh --test)');
    console.log('gw_legacy_client: 0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`${ts()} discord.py ${version}`);
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-legacy-'));
  const { toneFiles } = require('./lib/opus_tool');
  const base = { build, workDir, ...toneFiles(build, workDir, TONE_FRAMES) };
  let passed = 0;
  let failed = 0;
  for (const run of RUNS) {
    const r = await runOnce(run, base);
    passed += r.passed;
    failed += r.failures.length;
    for (const f of r.failures) console.log(`  failed [${run.name}]: ${f}`);
  }
  if (!failed) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir}`);
  console.log(`gw_legacy_client: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`gw_legacy_client: FAIL ${err.stack || err}`); process.exit(1); });
