'use strict';
/*
 * systemd Type=notify (contrib/litecord-voice.service, src/sc_service.h):
 * the real binary under a fake $NOTIFY_SOCKET, a datagram socket bound by
 * tests/tools/notify_sink (Node has no AF_UNIX datagram sockets).
 *
 * Scenario 1 (a path socket, WATCHDOG_USEC = 1 s, two media workers):
 *  - READY=1 is sent only once every listener accepts: the sink stops the
 *    server (SIGSTOP) the moment READY=1 arrives, and the LVSP, gateway
 *    and admin ports must accept a TCP connection while it is stopped;
 *  - READY=1 carries STATUS=0 sessions, 0 channels;
 *  - WATCHDOG=1 keeps arriving (at half the period);
 *  - a voice state created over LVSP shows in a later STATUS= line;
 *  - SIGTERM brings STOPPING=1 (with a "draining" STATUS) at once; the
 *    drain feeds the watchdog on and exits 0 when the voice state ends.
 * Scenario 2 (an abstract "@name" socket, no WATCHDOG_USEC): READY=1 and
 * STOPPING=1 arrive, WATCHDOG=1 never does.
 * That a stuck media worker stops WATCHDOG=1 is tested in
 * tests/unit/test_service.c (a worker really blocked in its handler).
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, pickPorts, sleep, HOST, TIME_SCALE } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { Checks, run } = require('./lib/checks');
const { snowflake } = require('./lib/ids');
const net = require('node:net');

const c = new Checks('notify');
const check = (ok, what) => c.ok(ok, what);
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');
const servers = [];

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, 3000 * TIME_SCALE);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(timer); s.destroy(); resolve(false); });
  });
}

/* Starts notify_sink on `where`; msgs collects every datagram as
 * {pid, fields: ['READY=1', 'STATUS=...']}; onStopped(pid) runs when the
 * sink stopped the server at READY=1. */
async function startSink(where, { stopOnReady = false, onStopped } = {}) {
  const bin = path.join(buildDir, 'tests', 'notify_sink');
  if (!fs.existsSync(bin)) throw new Error(`notify_sink not built: ${bin}`);
  const proc = spawn(bin, stopOnReady ? [where, '--stop-on-ready'] : [where],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const msgs = [];
  let listening;
  const ready = new Promise((r) => { listening = r; });
  let partial = '';
  proc.stdout.on('data', (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop();
    for (const l of lines) {
      if (l === 'LISTENING') listening();
      const m = /^MSG (\d+) (.*)$/.exec(l);
      if (m) msgs.push({ pid: Number(m[1]), fields: m[2].split('\t') });
      const st = /^STOPPED (\d+)$/.exec(l);
      if (st && onStopped) onStopped(Number(st[1]));
    }
  });
  await Promise.race([ready, sleep(5000).then(() => { throw new Error('notify_sink did not start'); })]);
  return { proc, msgs, stop: () => proc.kill('SIGKILL') };
}

const has = (msgs, field) => msgs.filter((m) => m.fields.includes(field));
const statuses = (msgs) => msgs.flatMap((m) => m.fields.filter((f) => f.startsWith('STATUS=')));

async function waitFor(cond, ms) {
  for (const end = Date.now() + ms * TIME_SCALE; Date.now() < end;) {
    if (cond()) return true;
    await sleep(50);
  }
  return cond();
}

async function scenarioPathSocket(tmp) {
  console.log('--- path socket, watchdog on, 2 media workers');
  const ports = await pickPorts();
  let atReady = null;
  const sink = await startSink(path.join(tmp, 'notify.sock'), {
    stopOnReady: true,
    onStopped: async (pid) => {
      /* The server is frozen where it said READY=1. */
      const r = {};
      for (const k of ['lvsp', 'gateway', 'admin']) r[k] = await accepts(ports[k]);
      atReady = r;
      process.kill(pid, 'SIGCONT');
    },
  });
  try {
    const srv = await startServer({
      buildDir, ports, logLevel: 'info', extraArgs: ['--media-workers', '2'],
      env: { NOTIFY_SOCKET: path.join(tmp, 'notify.sock'), WATCHDOG_USEC: '1000000' },
    });
    servers.push(srv);
    await waitFor(() => atReady !== null, 10000);
    check(atReady && atReady.lvsp && atReady.gateway && atReady.admin,
      `at READY=1 the LVSP, gateway and admin listeners accept (${JSON.stringify(atReady)})`);
    const ready = has(sink.msgs, 'READY=1');
    check(ready.length === 1 && ready[0].pid === srv.proc.pid,
      `one READY=1, from the server's pid (${JSON.stringify(ready)}, pid ${srv.proc.pid})`);
    check(ready.length === 1 && ready[0].fields.includes('STATUS=0 sessions, 0 channels'),
      `READY=1 carries the first STATUS (${JSON.stringify(ready[0])})`);

    const n0 = has(sink.msgs, 'WATCHDOG=1').length;
    const fed = await waitFor(() => has(sink.msgs, 'WATCHDOG=1').length >= n0 + 3, 10000);
    check(fed, `WATCHDOG=1 keeps arriving with WATCHDOG_USEC=1000000 (${has(sink.msgs, 'WATCHDOG=1').length} so far)`);

    const ca = fs.readFileSync(srv.certPath);
    const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
    const user = snowflake();
    const vi = await lvsp.requestVoiceState({ user_id: user, channel_id: snowflake(), guild_id: snowflake() });
    const shown = await waitFor(() => statuses(sink.msgs).includes('STATUS=1 session, 1 channel'), 10000);
    check(shown, `a voice state shows in STATUS (${JSON.stringify(statuses(sink.msgs))})`);

    /* SIGHUP reloads: RELOADING=1 (with MONOTONIC_USEC), then READY=1 again
     * once the settings are in force. */
    srv.proc.kill('SIGHUP');
    const reloaded = await waitFor(() => has(sink.msgs, 'READY=1').length >= 2, 10000);
    const iReload = sink.msgs.findIndex((m) => m.fields.includes('RELOADING=1'));
    const iReady2 = sink.msgs.findIndex((m, i) => i > iReload && m.fields.includes('READY=1'));
    check(reloaded && iReload >= 0 && iReady2 > iReload,
      `SIGHUP: RELOADING=1, then READY=1 (${JSON.stringify(sink.msgs.filter((m) => !m.fields.includes('WATCHDOG=1')))})`);
    check(iReload >= 0 && sink.msgs[iReload].fields.some((f) => /^MONOTONIC_USEC=\d+$/.test(f)),
      'RELOADING=1 carries MONOTONIC_USEC');

    /* SIGTERM drains: STOPPING=1 at once, the watchdog fed on while the
     * voice state holds the process, exit when it ends. */
    srv.stopping = true;
    srv.proc.kill('SIGTERM');
    await waitFor(() => has(sink.msgs, 'STOPPING=1').length > 0, 5000);
    const nDrain = has(sink.msgs, 'WATCHDOG=1').length;
    const fedDraining = await waitFor(() => has(sink.msgs, 'WATCHDOG=1').length >= nDrain + 2, 10000);
    check(fedDraining && srv.exit === null,
      `draining: still running and WATCHDOG=1 still arrives (${has(sink.msgs, 'WATCHDOG=1').length - nDrain} since STOPPING=1)`);
    lvsp.endVoiceState({ user_id: user, session_id: vi.session_id });
    const exit = await srv.exited;
    await lvsp.closed;
    const stopping = has(sink.msgs, 'STOPPING=1');
    check(stopping.length === 1, `SIGTERM: one STOPPING=1 (${JSON.stringify(stopping)})`);
    check(stopping.length === 1 && stopping[0].fields.some((f) => f.startsWith('STATUS=draining: ')),
      `STOPPING=1 carries a draining STATUS (${JSON.stringify(stopping[0])})`);
    check(exit.code === 0, `exit status 0 after SIGTERM (${JSON.stringify(exit)})`);
    check(srv.sanitizerReports.length === 0, 'no sanitizer report');
    if (!c.failures.length) srv.removeStateDir();
  } finally {
    sink.stop();
  }
}

async function scenarioAbstractSocket() {
  console.log('--- abstract socket, no watchdog');
  const name = `@lcv-notify-${crypto.randomBytes(6).toString('hex')}`;
  const sink = await startSink(name);
  try {
    const srv = await startServer({ buildDir, logLevel: 'info', env: { NOTIFY_SOCKET: name } });
    servers.push(srv);
    check(await waitFor(() => has(sink.msgs, 'READY=1').length === 1, 10000),
      `READY=1 over the abstract socket ${name}`);
    await sleep(1500); /* three ticks' worth at the 1 s period of scenario 1 */
    const exit = await srv.stop();
    await waitFor(() => has(sink.msgs, 'STOPPING=1').length > 0, 2000);
    check(has(sink.msgs, 'STOPPING=1').length === 1, 'STOPPING=1 over the abstract socket');
    check(has(sink.msgs, 'WATCHDOG=1').length === 0,
      `no WATCHDOG=1 without WATCHDOG_USEC (${JSON.stringify(sink.msgs)})`);
    check(exit.code === 0, `exit status 0 (${JSON.stringify(exit)})`);
    if (!c.failures.length) srv.removeStateDir();
  } finally {
    sink.stop();
  }
}

run('systemd_notify', 90000, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-notify-'));
  try {
    await scenarioPathSocket(tmp);
    await scenarioAbstractSocket();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, { checks: () => c, servers: () => servers });
