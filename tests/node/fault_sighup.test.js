'use strict';
/*
 * Fault: the TLS certificate is replaced on disk and the server gets
 * SIGHUP (src/sc_server.c, sc_server_reload_tls). New TLS connections on
 * both listeners must present the new certificate; connections that were
 * open keep working (voice keeps flowing, gateway and LVSP heartbeats are
 * answered); a client trusting only the new certificate can join and hear
 * the old ones. A broken pair (key not matching) is refused: the server
 * keeps the certificate it had and keeps running. A --no-tls server
 * ignores SIGHUP.
 */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { startServer, sleep, HOST } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { Checks, run } = require('./lib/checks');
const { snowflake } = require('./lib/ids');

const TIMEOUT_MS = 120000;
const c = new Checks('sighup');
const check = (ok, what) => c.ok(ok, what);
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');

/* A self-signed P-256 pair for 127.0.0.1, as PEM strings. */
function makePair(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
}

/* Replaces a file the way deploy tools do: write aside, rename over. */
function install(file, data) {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}

const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;

/* The certificate a new TLS connection to port is shown. */
function presented(port) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

async function heard(rx, tx, tag) {
  tx.sendOpus(Buffer.from(tag));
  return waitFor(() => rx.got.includes(tag), 3000);
}

async function reloadScenario(work) {
  const A = makePair(work, 'first');
  const B = makePair(work, 'second');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-hup-'));
  const certFile = path.join(stateDir, 'cert.pem');
  const keyFile = path.join(stateDir, 'key.pem');
  install(certFile, A.cert);
  install(keyFile, A.key);
  const srv = await startServer({ buildDir, stateDir, logLevel: 'info',
    extraArgs: ['--tls-cert', certFile, '--tls-key', keyFile] });
  const ports = [srv.ports.gateway, srv.ports.lvsp];
  try {
    check((await presented(ports[0])) === fingerprint(A.cert), 'gateway presents the first certificate');
    const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca: A.cert });
    const where = { guild_id: snowflake(), channel_id: snowflake() };
    const vs = async () => ({ ...(await lvsp.requestVoiceState({ user_id: snowflake(), ...where })), guild_id: where.guild_id });
    const c1 = await MediaClient.join(await vs(), { ca: A.cert });
    const c2 = await MediaClient.join(await vs(), { ca: A.cert });
    for (const mc of [c1, c2]) { mc.got = []; mc.on('audio', (a) => mc.got.push(a.payload.toString())); }
    check(await heard(c2, c1, 'before'), 'voice flows before the reload');

    install(certFile, B.cert);
    install(keyFile, B.key);
    srv.proc.kill('SIGHUP');
    const swapped = await waitFor(async () => (await presented(ports[0])) === fingerprint(B.cert), 5000);
    check(swapped, 'after SIGHUP the gateway presents the new certificate');
    check((await presented(ports[1])) === fingerprint(B.cert), 'after SIGHUP the LVSP listener presents the new certificate');
    check(await heard(c2, c1, 'after') && await heard(c1, c2, 'back'), 'voice on the old connections still flows both ways');
    c1.vc.send(3, { t: 4242, seq_ack: -1 });
    check(await waitFor(() => c1.vc.frames.some((f) => f.op === 6 && f.d && f.d.t === 4242), 3000),
      'an old gateway connection still answers heartbeats');
    check((await lvsp.heartbeat(9)).s === 9, 'the old LVSP link still answers heartbeats');
    const c3 = await MediaClient.join(await vs(), { ca: B.cert });
    c3.got = [];
    c3.on('audio', (a) => c3.got.push(a.payload.toString()));
    check(await heard(c3, c1, 'to-new'), 'a client trusting only the new certificate joins and hears an old one');

    // A key that does not match the certificate: refused, B stays.
    install(certFile, A.cert);
    srv.proc.kill('SIGHUP');
    await sleep(500);
    check((await presented(ports[0])) === fingerprint(B.cert), 'a mismatched pair is refused: the certificate stays');
    check(srv.tail(20).includes('keeping the current certificate'), 'the refusal is logged');
    check(await heard(c2, c1, 'still'), 'voice still flows after the refused reload');
    for (const mc of [c1, c2, c3]) await mc.close();
    await lvsp.close();
  } finally {
    const e = await srv.stop();
    check(e.code === 0, `exit status 0 (${JSON.stringify(e)})`);
    check(srv.sanitizerReports.length === 0, 'no sanitizer report');
    if (!c.failures.length) srv.removeStateDir();
    else console.log(srv.tail(30));
  }
}

async function noTlsScenario() {
  // startServer waits for <stateDir>/cert.pem, which --no-tls never writes.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-notls-'));
  fs.writeFileSync(path.join(stateDir, 'cert.pem'), '');
  const srv = await startServer({ buildDir, stateDir, logLevel: 'info', extraArgs: ['--no-tls'] });
  srv.proc.kill('SIGHUP');
  await waitFor(() => srv.tail(10).includes('--no-tls'), 2000);
  check(!srv.diedUnexpectedly() && srv.tail(10).includes('--no-tls'), '--no-tls: SIGHUP is logged and ignored');
  const e = await srv.stop();
  check(e.code === 0, `--no-tls: exit status 0 (${JSON.stringify(e)})`);
  srv.removeStateDir();
}

run('fault_sighup', TIMEOUT_MS, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-sighup-'));
  await reloadScenario(work);
  await noTlsScenario();
  fs.rmSync(work, { recursive: true, force: true });
}, { checks: () => c });
