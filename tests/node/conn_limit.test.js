'use strict';
/*
 * The connection limit (--max-connections, src/sc_fdlimit.h), against the
 * running binary:
 *  - the server sets its own soft fd limit from --max-connections (lws
 *    sizes a table by it and scans the table on every close), whatever
 *    limit it inherited;
 *  - 3 x MAX plain TCP connections to the voice gateway: at least MAX stay
 *    open, the rest are closed at once, and the server neither spins (before
 *    this, accept() hit EMFILE and lws retried it in a busy loop: a full
 *    core and a log line per retry) nor floods its log;
 *  - while the gateway is full, Litecord's LVSP link still connects and
 *    gets voice states, and the admin API and `litecord-voice status`
 *    answer, showing the refusals;
 *  - once the clients leave, a voice client joins end to end.
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startServer, HOST } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { rawJoin } = require('./lib/raw_voice_client');
const { adminState } = require('./lib/admin_client');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const MAX = 30;
const TRIES = 3 * MAX;
const c = new Checks('conn_limit');
const servers = [];

function softFdLimit(pid) {
  const line = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.trim().split(/\s+/)[3]);
}

/* utime + stime of the process, in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/* Opens n TCP connections, one after another; each records whether the
 * server closed it. */
async function openMany(port, n) {
  const conns = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ host: HOST, port });
    const conn = { s, closedByServer: false };
    s.on('end', () => { conn.closedByServer = true; });
    s.on('close', () => { conn.closedByServer = true; });
    s.on('error', () => { conn.closedByServer = true; });
    await new Promise((resolve) => { s.once('connect', resolve); s.once('error', resolve); });
    conns.push(conn);
  }
  return conns;
}

async function main() {
  const srv = await startServer({ buildDir: build, extraArgs: ['--max-connections', String(MAX)] });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const token = srv.adminToken();
  const pid = srv.proc.pid;

  const soft = softFdLimit(pid);
  c.ok(soft >= MAX && soft <= MAX + 200, `soft fd limit set from --max-connections ${MAX}: ${soft}`);
  const before = await adminState(srv.adminUrl, token);
  c.ok(before.connections && before.connections.max >= MAX && before.connections.refused === 0 &&
    before.connections.fd_limit === soft, `/state connections before: ${JSON.stringify(before.connections)}`);

  const conns = await openMany(srv.ports.gateway, TRIES);
  await sleep(500);
  const cpu0 = cpuSeconds(pid);
  await sleep(2000);
  const cpu = cpuSeconds(pid) - cpu0;
  const held = conns.filter((x) => !x.closedByServer).length;
  const refused = TRIES - held;
  c.ok(held >= MAX && held < soft, `${held} of ${TRIES} connections held (at least --max-connections ${MAX}, ` +
    `fewer than the fd limit ${soft})`);
  c.ok(refused > 0, `${refused} connections closed by the server at the limit`);
  c.ok(cpu < 0.5, `server CPU over 2 s with the gateway full: ${cpu.toFixed(2)} s (a spinning accept loop: ~2 s)`);
  const log = fs.readFileSync(srv.logPath, 'utf8');
  const acceptErrors = (log.match(/accept: errno/g) || []).length;
  const refusalLines = (log.match(/refused \d+ new connection/g) || []).length;
  c.ok(acceptErrors === 0, `no accept() failures in the log: ${acceptErrors}`);
  c.ok(refusalLines >= 1 && refusalLines <= 2, `refusals logged ${refusalLines} time(s), not once each`);

  // Litecord's link and the admin API use the spare kept for control.
  const [G, CH, U] = snowflakes(3);
  let lv = null;
  let vi = null;
  await c.step('LVSP while the gateway is full', async () => {
    lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
    vi = await lv.requestVoiceState({ user_id: U, channel_id: CH, guild_id: G });
    c.ok(vi && /^[0-9a-f]+$/.test(vi.session_id) && vi.token, `voice state while full: session ${vi && vi.session_id}`);
  });
  const full = await adminState(srv.adminUrl, token);
  c.ok(full.connections.refused >= refused, `/state connections while full: ${JSON.stringify(full.connections)}`);
  const status = await new Promise((resolve) => {
    execFile(path.join(build, 'litecord-voice'), ['status', '--admin-url', srv.adminUrl, '--state-dir', srv.stateDir],
      { timeout: 20000 }, (err, stdout) => resolve({ code: err ? err.code : 0, stdout }));
  });
  const m = /connections: up to (\d+) \(fd limit (\d+)\), (\d+) refused at the limit/.exec(status.stdout);
  c.ok(status.code === 0 && m && Number(m[1]) >= MAX && Number(m[2]) === soft && Number(m[3]) >= refused,
    `litecord-voice status while full: ${m ? m[0] : status.stdout}`);

  for (const x of conns) x.s.destroy();
  await sleep(500);
  await c.step('voice client joins after the crowd left', async () => {
    const vc = await rawJoin({ ...vi, guild_id: G }, { ca });
    c.ok(vc.session && vc.session.secret_key && vc.session.secret_key.length === 32,
      `joined: Ready ssrc ${vc.ready.ssrc}, mode ${vc.session && vc.session.mode}`);
    await vc.close();
  });
  if (lv) await lv.close();
}

run('conn_limit', 120000, main, { checks: () => c, servers: () => servers });
