'use strict';
/*
 * Launching litecord-voice (and node children that must trust its
 * self-signed certificate) from node tests.
 *
 *   const srv = await startServer({ buildDir, modes, secret });
 *   // srv.ports.{lvsp,gateway,udp,admin}, srv.certPath, srv.lvspUrl, srv.endpoint,
 *   // srv.adminUrl, srv.adminToken() (read from the state dir)
 *   const child = spawnNode(script, args, { caFile: srv.certPath });
 *   await srv.stop();
 *
 * Every process started here is killed when the test process exits, even
 * on an uncaught exception, so a failing test never leaves a server behind.
 * The server's stdout+stderr go to <stateDir>/server.log; the last lines
 * are kept in memory for failure messages (srv.tail()).
 *
 * Memory errors fail the test: every line a server prints is checked for
 * ASan/LSan/UBSan/valgrind reports (srv.sanitizerReports); if any server of
 * this test process reported one, the process exits non-zero whatever the
 * test itself decided, after printing the reports. SC_SERVER_WRAPPER (e.g.
 * "valgrind --error-exitcode=99 --leak-check=full") runs the server under
 * that command, with start and stop timeouts scaled by SC_TIMEOUT_SCALE
 * (default 10 with a wrapper, else 1).
 */
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const HOST = '127.0.0.1';
const TAIL_LINES = 200;
const live = new Set();

/* Lines that mean a sanitizer or valgrind found a memory error. */
const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|ERROR SUMMARY: [1-9]|WARNING: ThreadSanitizer/;
const sanitizerReports = [];
const SANITIZER_EXIT_CODES = [86, 99];
const wrapper = (process.env.SC_SERVER_WRAPPER || '').split(/\s+/).filter(Boolean);
const TIME_SCALE = Number(process.env.SC_TIMEOUT_SCALE) || (wrapper.length ? 10 : 1);

process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (sanitizerReports.length) {
    console.error(`FAIL: the server reported ${sanitizerReports.length} memory error line(s):`);
    for (const r of sanitizerReports.slice(0, 20)) console.error(`  ${r}`);
    process.exitCode = 1;
  }
});
// Signals skip 'exit' handlers unless turned into an exit.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => process.exit(128 + os.constants.signals[sig]));
}

function track(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/* A TCP port that was free a moment ago (bind to 0, read, close). */
function freeTcpPort(host = HOST) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function freeUdpPort(host = HOST) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, host, () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

const CORE_LISTENERS = ['lvsp', 'gateway', 'udp', 'admin'];
const listenerCache = new Map();

/* The other front ends' TCP listeners the binary has (each "--NAME-listen"
 * flag its --help lists, e.g. "vortex"), so every test server gets a free
 * port for each and parallel tests never collide on a default port. */
function frontendListeners(binary) {
  if (!binary) return [];
  if (!listenerCache.has(binary)) {
    let help = '';
    try {
      help = execFileSync(binary, ['--help'], { encoding: 'utf8' });
    } catch (e) {
      help = String(e.stdout || '');
    }
    const names = [...help.matchAll(/--([a-z][a-z0-9]*)-listen\b/g)].map((m) => m[1]);
    listenerCache.set(binary, [...new Set(names)].filter((n) => !CORE_LISTENERS.includes(n)));
  }
  return listenerCache.get(binary);
}

/* Distinct free ports: lvsp, gateway, admin (TCP) and udp, and one per
 * front-end listener of binary (frontendListeners). */
async function pickPorts(host = HOST, binary = null) {
  const ports = {};
  const used = new Set();
  for (const name of ['lvsp', 'gateway', 'admin', ...frontendListeners(binary)]) {
    let p = await freeTcpPort(host);
    while (used.has(p)) p = await freeTcpPort(host);
    used.add(p);
    ports[name] = p;
  }
  ports.udp = await freeUdpPort(host);
  return ports;
}

function tryConnect(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Retries a TCP connect until it works, the process exits or time runs out. */
async function waitForTcp(host, port, { timeoutMs = 10000, proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) return false;
    if (await tryConnect(host, port)) return true;
    await sleep(50);
  }
  return false;
}

function serverArgs({ ports, stateDir, modes, logLevel, extraArgs }) {
  const args = [
    '--lvsp-listen', `${HOST}:${ports.lvsp}`,
    '--gateway-listen', `${HOST}:${ports.gateway}`,
    '--udp-listen', `${HOST}:${ports.udp}`,
    '--public-host', HOST,
    '--state-dir', stateDir,
  ];
  // A test may put the admin API elsewhere (extraArgs), e.g. off loopback.
  if (!extraArgs.includes('--admin-listen')) args.push('--admin-listen', `${HOST}:${ports.admin}`);
  for (const [name, port] of Object.entries(ports)) {
    if (CORE_LISTENERS.includes(name) || extraArgs.includes(`--${name}-listen`)) continue;
    args.push(`--${name}-listen`, `${HOST}:${port}`);
  }
  if (logLevel) args.push('--log-level', logLevel);
  if (modes) args.push('--modes', modes);
  return args.concat(extraArgs);
}

/* Collects a child's output lines into a file and an in-memory tail. */
function captureOutput(proc, logPath) {
  const out = fs.createWriteStream(logPath);
  const lines = [];
  let partial = '';
  const onData = (chunk) => {
    out.write(chunk);
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop();
    for (const l of parts) {
      lines.push(l);
      if (lines.length > TAIL_LINES) lines.shift();
      if (SANITIZER_RE.test(l)) sanitizerReports.push(`${logPath}: ${l}`);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  proc.once('exit', () => { if (partial) lines.push(partial); out.end(); });
  return lines;
}

function exitPromise(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve({ code: proc.exitCode, signal: proc.signalCode });
      return;
    }
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/*
 * Starts build/litecord-voice on fresh ports with a fresh state dir and
 * waits until its LVSP and admin ports accept TCP and the certificate exists.
 * options: buildDir | binary, secret (random if absent), modes (string or
 * null for the default), logLevel (null: no --log-level flag), extraArgs, env, readyTimeoutMs,
 * stateDir (an existing directory to use; with --tls-cert, put the
 * certificate there as cert.pem so srv.certPath names it), ports (from
 * pickPorts(), when the test must know them before the server starts).
 */
async function startServer(options = {}) {
  const binary = options.binary || path.join(options.buildDir, 'litecord-voice');
  if (!fs.existsSync(binary)) throw new Error(`server binary not found: ${binary}`);
  const secret = options.secret || crypto.randomBytes(24).toString('hex');
  const stateDir = options.stateDir || fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-state-'));
  const ports = options.ports ? { ...options.ports } : await pickPorts(HOST, binary);
  for (const name of frontendListeners(binary)) {
    if (!(name in ports)) ports[name] = await freeTcpPort(HOST);
  }
  const args = serverArgs({
    ports, stateDir, modes: options.modes,
    logLevel: options.logLevel === null ? null : (options.logLevel || 'debug'),
    extraArgs: options.extraArgs || [],
  });
  const cmd = wrapper.length ? [...wrapper, binary, ...args] : [binary, ...args];
  const proc = track(spawn(cmd[0], cmd.slice(1), {
    env: { ...process.env, ...options.env, LVSP_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const logPath = path.join(stateDir, 'server.log');
  const lines = captureOutput(proc, logPath);
  const srv = new ServerHandle({ proc, binary, args, secret, stateDir, ports, logPath, lines });
  const wait = { timeoutMs: (options.readyTimeoutMs || 15000) * TIME_SCALE, proc };
  // The admin listener starts after the front ends' (LVSP first): wait for
  // it too, unless the test put it elsewhere (then the test waits for it).
  const ownAdmin = !(options.extraArgs || []).includes('--admin-listen');
  const ok = await waitForTcp(HOST, ports.lvsp, wait) &&
    (!ownAdmin || await waitForTcp(HOST, ports.admin, wait));
  if (!ok || !fs.existsSync(srv.certPath)) {
    await srv.stop();
    throw new Error(`server did not become ready (exit ${JSON.stringify(srv.exit)}, ` +
      `cert ${fs.existsSync(srv.certPath) ? 'present' : 'missing'}):\n${srv.tail(40)}`);
  }
  return srv;
}

class ServerHandle {
  constructor(f) {
    Object.assign(this, f);
    this.certPath = path.join(f.stateDir, 'cert.pem');
    this.keyPath = path.join(f.stateDir, 'key.pem');
    this.lvspUrl = `wss://${HOST}:${f.ports.lvsp}/`;
    this.endpoint = `${HOST}:${f.ports.gateway}`;
    this.adminUrl = `http://${HOST}:${f.ports.admin}`;
    this.exit = null;
    this.stopping = false;
    this.exited = exitPromise(f.proc).then((e) => {
      this.exit = e;
      // contrib/test.sh makes ASan exit with 86; valgrind is told 99.
      if (SANITIZER_EXIT_CODES.includes(e.code)) sanitizerReports.push(`${f.logPath}: exit status ${e.code}`);
      return e;
    });
  }

  /* The admin API's bearer token (generated in the state dir at start). */
  adminToken() {
    return fs.readFileSync(path.join(this.stateDir, 'admin_token'), 'utf8').trim();
  }

  /* True if the server exited although nobody asked it to. */
  diedUnexpectedly() {
    return this.exit !== null && !this.stopping;
  }

  /* For runs that passed: their logs are not needed any more. */
  removeStateDir() {
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  tail(n = 60) {
    return this.lines.slice(-n).join('\n');
  }

  /* Memory-error lines this server printed so far. */
  get sanitizerReports() {
    return sanitizerReports.filter((r) => r.startsWith(`${this.logPath}: `));
  }

  /* SIGINT (stop at once: SIGTERM would start a graceful drain that waits
   * for the calls a test left behind), then SIGKILL after graceMs;
   * resolves with {code, signal}. */
  async stop(graceMs = 3000) {
    this.stopping = true;
    if (this.exit) return this.exit;
    this.proc.kill('SIGINT');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs * TIME_SCALE);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }
}

/*
 * Spawns `node script ...args`. caFile becomes NODE_EXTRA_CA_CERTS, which
 * node reads only at start-up: that is why clients of the server's
 * self-signed certificate (djs offers no TLS options) run in a child.
 * Resolves { code, signal, stdout } when the child exits; onLine(line)
 * sees each stdout line as it arrives; stderr is passed through.
 * stdin: 'ignore' (default) or 'pipe' (then write to proc.stdin).
 */
function spawnNode(script, args, { caFile, env, onLine, stdin = 'ignore' } = {}) {
  const childEnv = { ...process.env, ...env };
  if (caFile) childEnv.NODE_EXTRA_CA_CERTS = caFile;
  const proc = track(spawn(process.execPath, [script, ...args], {
    env: childEnv, stdio: [stdin, 'pipe', 'inherit'],
  }));
  let stdout = '';
  let partial = '';
  proc.stdout.on('data', (chunk) => {
    stdout += chunk;
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop();
    for (const l of parts) if (onLine) onLine(l);
  });
  const done = exitPromise(proc).then((e) => {
    if (partial && onLine) onLine(partial);
    return { ...e, stdout };
  });
  return { proc, done };
}

module.exports = {
  HOST, freeTcpPort, freeUdpPort, pickPorts, waitForTcp, startServer, spawnNode, sleep,
  sanitizerReports, TIME_SCALE,
};
