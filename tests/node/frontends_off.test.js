'use strict';
/*
 * An operator can turn a seed dialect off (--vortex-listen off,
 * --galene-listen off, --ion-listen off; README "Command line"):
 *  - on defaults each dialect's listener accepts TCP and the start-up
 *    banner names it (the positive control: the same ports, the same
 *    binary);
 *  - with all three off, nothing listens on those ports, the banner leaves
 *    them out, the log says so, and the server still serves: the voice
 *    gateway accepts TCP, /state answers, and it stops cleanly;
 *  - a bad value ("nope") is refused at start with a clear message and a
 *    non-zero exit, not taken for "off".
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const path = require('node:path');
const net = require('node:net');
const { spawnSync } = require('node:child_process');
const { startServer, pickPorts, HOST } = require('./lib/server');
const { adminState } = require('./lib/admin_client');
const { Checks, run } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const binary = path.join(build, 'litecord-voice');
const DIALECTS = ['vortex', 'galene', 'ion'];
const c = new Checks('frontends_off');
const servers = [];

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

/* The banner's lines (stdout between "ready" and the admin line). */
function bannerText(srv) {
  return srv.tail(200);
}

async function main() {
  const ports = await pickPorts(HOST, binary);
  for (const d of DIALECTS) c.ok(ports[d] > 0, `${d}: a listener flag in --help (port ${ports[d]})`);

  const on = await startServer({ buildDir: build, ports });
  servers.push(on);
  for (const d of DIALECTS) {
    c.ok(await accepts(ports[d]), `defaults: ${d} listener accepts TCP on ${ports[d]}`);
    c.ok(bannerText(on).includes(`:${ports[d]}/`), `defaults: the banner names ${d}'s port ${ports[d]}`);
  }
  await on.stop();
  servers.pop();

  const offArgs = DIALECTS.flatMap((d) => [`--${d}-listen`, 'off']);
  const off = await startServer({ buildDir: build, ports, extraArgs: offArgs });
  servers.push(off);
  const log = bannerText(off);
  for (const d of DIALECTS) {
    c.ok(!(await accepts(ports[d])), `off: nothing listens on ${d}'s port ${ports[d]}`);
    c.ok(!log.includes(`:${ports[d]}/`), `off: the banner leaves ${d} out`);
    c.ok(log.includes(`--${d}-listen off`), `off: the log says ${d}'s listener is off`);
  }
  c.ok(await accepts(ports.gateway), `off: the voice gateway still accepts TCP on ${ports.gateway}`);
  const st = await adminState(off.adminUrl, off.adminToken());
  c.ok(st && typeof st === 'object', 'off: /state answers');

  const bad = spawnSync(binary, ['--vortex-listen', 'nope', '--help'], { encoding: 'utf8' });
  const said = `${bad.stdout}${bad.stderr}`;
  c.ok(bad.status !== 0 && /--vortex-listen: bad HOST:PORT 'nope'/.test(said),
    `a bad value is refused: exit ${bad.status}, ${JSON.stringify(said.slice(0, 120))}`);
}

run('frontends_off', 120000, main, { checks: () => c, servers: () => servers });
