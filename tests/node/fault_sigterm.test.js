'use strict';
/*
 * Fault: the server is told to stop at once in the middle of a call:
 * SIGINT, and SIGTERM with --drain-timeout 0 (a SIGTERM otherwise starts
 * a graceful drain: fault_drain.test.js). Documented shutdown (README,
 * docs/RELIABILITY.md): every
 * voice client's socket is closed with 4015 (Discord clients answer it by
 * resuming, i.e. they reconnect), Litecord's LVSP link with 4000 (it
 * reconnects), and the process exits with status 0 within STOP_BOUND_MS.
 *
 * Clients: two raw media clients sending audio to each other, a real
 * @discordjs/voice client in a child process (it must react to the close
 * by entering its Resuming state), and the LVSP link.
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer, spawnNode, sleep, TIME_SCALE } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { Checks, run } = require('./lib/checks');
const { snowflake } = require('./lib/ids');

const STOP_BOUND_MS = 5000;
const TIMEOUT_MS = 150000;

const c = new Checks('sigterm');
const check = (ok, what) => c.ok(ok, what);
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');

/* ---- child: one djs client, reports how its networking saw the close --- */

async function clientMain(info) {
  const djs = require('./lib/djs_adapter');
  const { conn } = djs.join(info, { group: 'sigterm' });
  await djs.voice.entersState(conn, djs.voice.VoiceConnectionStatus.Ready, 20000);
  const nw = conn.state.networking;
  const seen = { closeCodes: [], states: [] };
  nw.state.ws.on('close', (e) => seen.closeCodes.push(e.code));
  nw.on('stateChange', (o, n) => seen.states.push(n.code));
  console.log('READY');
  const report = () => {
    console.log(`RESULT ${JSON.stringify({ ...seen, resuming: seen.states.includes(djs.voice.NetworkingStatusCode.Resuming) })}`);
    conn.destroy();
    process.exit(0);
  };
  const timer = setTimeout(report, 20000);
  nw.on('stateChange', (o, n) => {
    if (n.code === djs.voice.NetworkingStatusCode.Resuming) { clearTimeout(timer); setTimeout(report, 200); }
  });
}

/* ---- parent ------------------------------------------------------------- */

async function djsClient(srv, info) {
  let ready = false;
  let result = null;
  const child = spawnNode(__filename, ['--client', JSON.stringify(info)], {
    caFile: srv.certPath,
    onLine: (l) => {
      if (l === 'READY') ready = true;
      else if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7));
      else console.log(`  [djs] ${l}`);
    },
  });
  for (const end = Date.now() + 30000; !ready && child.proc.exitCode === null && Date.now() < end;) await sleep(50);
  if (!ready) throw new Error('djs client did not reach Ready');
  return { child, result: () => result };
}

async function scenario(signal, extraArgs = []) {
  console.log(`--- ${signal} ${extraArgs.join(' ')} during a call`);
  const srv = await startServer({ buildDir, logLevel: 'info', extraArgs });
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const channel_id = snowflake();
  const vs = async () => ({ ...(await lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id })), guild_id });
  const a = await MediaClient.join(await vs(), { ca });
  const b = await MediaClient.join(await vs(), { ca });
  const d = await djsClient(srv, await vs());
  let heard = 0;
  b.on('audio', () => heard++);
  const talk = setInterval(() => a.sendOpus(Buffer.from('tone')), 20);
  await sleep(1000);
  check(heard > 20, `${signal}: media flows before the signal (${heard} packets)`);

  const t0 = Date.now();
  srv.stopping = true;
  srv.proc.kill(signal);
  const killer = setTimeout(() => srv.proc.kill('SIGKILL'), 20000 * TIME_SCALE);
  const exit = await srv.exited;
  const ms = Date.now() - t0;
  clearTimeout(killer);
  clearInterval(talk);
  await lvsp.closed;
  await d.child.done;
  const r = d.result();
  check(exit.code === 0, `${signal}: exit status 0 (got ${JSON.stringify(exit)})`);
  check(ms <= STOP_BOUND_MS * TIME_SCALE, `${signal}: exited within ${STOP_BOUND_MS * TIME_SCALE} ms (took ${ms} ms)`);
  check(lvsp.closeInfo.code === 4000, `${signal}: LVSP link closed with 4000 (got ${JSON.stringify(lvsp.closeInfo)})`);
  for (const [name, mc] of [['A', a], ['B', b]]) {
    const ci = mc.vc.closeInfo;
    check(ci && ci.code === 4015, `${signal}: voice client ${name} closed with 4015 (got ${JSON.stringify(ci)})`);
  }
  check(r && r.closeCodes.includes(4015) && r.resuming,
    `${signal}: djs client got 4015 and started resuming (${JSON.stringify(r)})`);
  check(srv.sanitizerReports.length === 0, `${signal}: no sanitizer report (${srv.sanitizerReports.slice(0, 2).join(' | ')})`);
  await a.close();
  await b.close();
  if (c.failures.length) console.log(srv.tail(40));
  else srv.removeStateDir();
}

if (process.argv[2] === '--client') {
  clientMain(JSON.parse(process.argv[3])).catch((err) => {
    console.log(`client failed: ${err.stack || err}`);
    process.exit(1);
  });
} else {
  run('fault_sigterm', TIMEOUT_MS, async () => {
    await scenario('SIGTERM', ['--drain-timeout', '0']);
    await scenario('SIGINT');
  }, { checks: () => c });
}
