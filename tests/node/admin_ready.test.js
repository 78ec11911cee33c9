'use strict';
/*
 * Readiness and liveness on the admin listener (docs/OPERATIONS.md
 * "Readiness and liveness"), against the running binary:
 *  - GET /ready needs no token and answers 200 {ready: true} while a new
 *    call could start here; /health (liveness) answers 200 all along and
 *    carries the same verdict in "readiness";
 *  - at --max-voice-states and --max-channels (voice states made over
 *    LVSP): 503 with both reasons, and 200 again once one ends;
 *  - the voice gateway's connections holding every client fd
 *    (--max-connections, plain TCP connections): 503 "connections_full",
 *    and 200 once they close;
 *  - POST /drain with a call in progress: /ready 503 {ready: false, status:
 *    "draining", reasons: ["draining"]} while /health stays 200 (status
 *    draining); `litecord-voice status` prints NOT READY, and
 *    `status --path /ready` prints the reason and exits 1 (0 before);
 *  - the call ending still stops the process (exit 0).
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { startServer, HOST } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { adminGet } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const MAX_CONNECTIONS = 8;
const c = new Checks('admin_ready');
const servers = [];

function cli(args) {
  return new Promise((resolve) => {
    execFile(path.join(build, 'litecord-voice'), args, { timeout: 20000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

/* GET /ready without a token: {status, json}. */
async function ready(srv) {
  const r = await adminGet(srv.adminUrl, '/ready');
  return { status: r.status, json: r.json, text: r.text, type: r.headers['content-type'] };
}

const reasons = (r) => JSON.stringify(r.json && r.json.reasons);

async function limits(srv, lv) {
  const [G, CH1, CH2, U1, U2] = snowflakes(5);
  let r = await ready(srv);
  c.ok(r.status === 200 && r.json && r.json.ready === true && r.json.status === 'serving' &&
    Array.isArray(r.json.reasons) && r.json.reasons.length === 0 && /^application\/json/.test(r.type),
  `GET /ready without a token while idle: ${r.status} ${r.text}`);
  const one = await lv.requestVoiceState({ user_id: U1, channel_id: CH1, guild_id: G });
  r = await ready(srv);
  c.ok(r.status === 200, `1 of 2 voice states, 1 of 2 channels: /ready ${r.status}`);
  const two = await lv.requestVoiceState({ user_id: U2, channel_id: CH2, guild_id: G });
  r = await ready(srv);
  c.ok(r.status === 503 && r.json && r.json.ready === false && r.json.status === 'serving' &&
    reasons(r) === '["voice_states_full","channels_full"]',
  `at --max-voice-states 2 and --max-channels 2: /ready ${r.status} ${r.text}`);
  const h = await adminGet(srv.adminUrl, '/health', srv.adminToken());
  c.ok(h.status === 200 && h.json.status === 'serving' && h.json.readiness && h.json.readiness.ready === false &&
    JSON.stringify(h.json.readiness.reasons) === reasons(r),
  `/health (liveness) still 200 at the limits, readiness ${JSON.stringify(h.json && h.json.readiness)}`);
  lv.endVoiceState({ user_id: U2, session_id: two.session_id });
  const back = await waitFor(async () => (await ready(srv)).status === 200, 5000, 100);
  c.ok(back === true, 'a voice state and its channel ended: /ready 200 again');
  return one;
}

/* Plain TCP connections to the voice gateway, one after another, until
 * /ready says the client fds are all taken (or `max` were opened). */
async function fillConnections(srv, max) {
  const conns = [];
  for (let i = 0; i < max; i++) {
    const s = net.connect({ host: HOST, port: srv.ports.gateway });
    s.on('error', () => {});
    await new Promise((resolve) => { s.once('connect', resolve); s.once('error', resolve); });
    conns.push(s);
    if (i + 1 >= MAX_CONNECTIONS && (await ready(srv)).status === 503) break;
  }
  return conns;
}

async function connections(srv) {
  const conns = await fillConnections(srv, MAX_CONNECTIONS + 40);
  const r = await ready(srv);
  c.ok(r.status === 503 && reasons(r) === '["connections_full"]',
    `${conns.length} gateway connections open (--max-connections ${MAX_CONNECTIONS}): /ready ${r.status} ${r.text}`);
  for (const s of conns) s.destroy();
  const back = await waitFor(async () => (await ready(srv)).status === 200, 5000, 100);
  c.ok(back === true, 'the connections closed: /ready 200 again');
}

async function drain(srv, lv, call) {
  const args = ['--admin-url', srv.adminUrl, '--admin-token', srv.adminToken()];
  const before = await cli(['status', '--path', '/ready', ...args]);
  c.ok(before.code === 0 && before.stdout.trim() === 'ready (serving)',
    `status --path /ready before the drain: exit ${before.code}, "${before.stdout.trim()}"`);
  const d = await adminGet(srv.adminUrl, '/drain', srv.adminToken(), { method: 'POST' });
  c.ok(d.status === 200 && d.json && d.json.started === true, `POST /drain: ${d.status}`);
  const r = await ready(srv);
  c.ok(r.status === 503 && r.json && r.json.ready === false && r.json.status === 'draining' &&
    reasons(r) === '["draining"]', `/ready while draining: ${r.status} ${r.text}`);
  const h = await adminGet(srv.adminUrl, '/health', srv.adminToken());
  c.ok(h.status === 200 && h.json && h.json.status === 'draining' && h.json.readiness.ready === false,
    `/health (liveness) while draining: ${h.status}, status ${h.json && h.json.status}`);
  const st = await cli(['status', ...args]);
  c.ok(st.code === 0 && /\n?NOT READY: draining \(GET \/ready answers 503\)\n/.test(st.stdout),
    `litecord-voice status while draining: ${st.stdout.split('\n').slice(0, 3).join(' / ')}`);
  const after = await cli(['status', '--path', '/ready', ...args]);
  c.ok(after.code === 1 && after.stdout.trim() === 'not ready (draining): draining',
    `status --path /ready while draining: exit ${after.code}, "${after.stdout.trim()}" ${after.stderr.trim()}`);
  lv.endVoiceState({ user_id: call.user_id, session_id: call.session_id });
  const e = await Promise.race([srv.exited, sleep(20000).then(() => null)]);
  c.ok(e && e.code === 0, `the call ended: the drain stopped the process (${JSON.stringify(e)})`);
}

run('admin_ready', 90000, async () => {
  const srv = await startServer({
    buildDir: build,
    extraArgs: ['--max-voice-states', '2', '--max-channels', '2', '--max-connections', String(MAX_CONNECTIONS),
      '--drain-timeout', '120'],
  });
  servers.push(srv);
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca: fs.readFileSync(srv.certPath) });
  const call = await c.step('limits', () => limits(srv, lv));
  await c.step('connections', () => connections(srv));
  if (call) await c.step('drain', () => drain(srv, lv, call));
  await lv.close().catch(() => {});
}, { checks: () => c, servers: () => servers });
