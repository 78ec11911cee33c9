'use strict';
/*
 * Logs (docs/ADMIN.md "Log level", docs/OPERATIONS.md "Logs"):
 *  - POST /log-level changes the level at run time: 401 without the token
 *    (and the level stays), 400 for a body that names no level (413 over
 *    256 bytes), 200 with
 *    {"level":"debug","previous":"info"}; from then on debug lines appear
 *    (the admin API's own "/state -> 200"), and none did before; back at
 *    "warn", info lines stop too;
 *  - ids are structured fields: with --log-format json, the LVSP front
 *    end's "voice state created" and the gateway's "identified" lines carry
 *    "user", "channel" and "session" equal to the voice state's, and their
 *    message does not repeat them.
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./lib/server');
const { LvspClient } = require('./lib/lvsp_client');
const { GwClient } = require('./lib/gw_client');
const { adminGet } = require('./lib/admin_client');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const c = new Checks('log_level');
const servers = [];

/* The server's JSON log lines so far, parsed (others skipped). */
function jsonLines(srv) {
  const out = [];
  for (const l of srv.lines) {
    const i = l.indexOf('{');
    if (i < 0) continue;
    try { out.push(JSON.parse(l.slice(i))); } catch { /* not a log object */ }
  }
  return out;
}

const debugStateLines = (srv) => jsonLines(srv).filter((o) => o.level === 'debug' && o.module === 'admin' &&
  /^\/state -> 200/.test(o.msg));

async function setLevel(srv, token, body) {
  return adminGet(srv.adminUrl, '/log-level', token, { method: 'POST', body });
}

async function main() {
  const srv = await startServer({ buildDir: build, logLevel: 'info', extraArgs: ['--log-format', 'json'] });
  servers.push(srv);
  const token = srv.adminToken();
  await adminGet(srv.adminUrl, '/state', token);
  await sleep(200);
  c.ok(debugStateLines(srv).length === 0, 'at info: no debug line for GET /state');

  const none = await setLevel(srv, undefined, { level: 'debug' });
  const wrong = await setLevel(srv, 'x'.repeat(64), { level: 'debug' });
  c.ok(none.status === 401 && wrong.status === 401, `POST /log-level without / with a wrong token: ${none.status} / ${wrong.status}`);
  const bad = [];
  for (const body of ['{"level":"loud"}', '{"lvl":"debug"}', 'debug', '{"level":"debug","x":1}', '']) {
    const r = await setLevel(srv, token, body);
    if (r.status !== 400) bad.push(`${body.slice(0, 30)} -> ${r.status}`);
  }
  const big = await setLevel(srv, token, `{"level":"${'d'.repeat(400)}"}`);
  c.ok(bad.length === 0 && big.status === 413,
    `bodies that name no level get 400, one over 256 bytes ${big.status}${bad.length ? `: ${bad.join('; ')}` : ''}`);
  await adminGet(srv.adminUrl, '/state', token);
  await sleep(200);
  c.ok(debugStateLines(srv).length === 0, 'refused requests changed nothing: still no debug line');

  const ok = await setLevel(srv, token, { level: 'debug' });
  c.ok(ok.status === 200 && ok.json && ok.json.level === 'debug' && ok.json.previous === 'info',
    `POST /log-level {"level":"debug"}: ${ok.status} ${ok.text}`);
  await adminGet(srv.adminUrl, '/state', token);
  await sleep(200);
  c.ok(debugStateLines(srv).length === 1, `at debug: GET /state logged (${debugStateLines(srv).length} line)`);
  c.ok(jsonLines(srv).some((o) => o.module === 'admin' && /log level debug \(was info\)/.test(o.msg)),
    'the change itself is logged');

  // Structured ids from the LVSP and gateway front ends.
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca: fs.readFileSync(srv.certPath) });
  const [user, channel, guild] = snowflakes(3);
  const vi = await lv.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild });
  const g = await GwClient.open(vi.endpoint, { ca: fs.readFileSync(srv.certPath) });
  g.send(0, { server_id: guild, user_id: user, session_id: vi.session_id, token: vi.token });
  await g.take(2);
  await sleep(200);
  const lines = jsonLines(srv);
  const created = lines.find((o) => o.module === 'lvsp' && o.msg === 'voice state created');
  const identified = lines.find((o) => o.module === 'gateway' && /^identified/.test(o.msg));
  const idsOk = (o) => o && o.user === user && o.channel === channel && o.session === vi.session_id &&
    !o.msg.includes(user) && !o.msg.includes(vi.session_id);
  c.ok(idsOk(created), `lvsp "voice state created" carries user, channel, session: ${JSON.stringify(created)}`);
  c.ok(idsOk(identified), `gateway "identified" carries user, channel, session: ${JSON.stringify(identified)}`);

  const warn = await setLevel(srv, token, { level: 'warn' });
  c.ok(warn.status === 200 && warn.json && warn.json.previous === 'debug', `back to warn: ${warn.text}`);
  const before = srv.lines.length;
  await adminGet(srv.adminUrl, '/state', token);
  await g.close();
  await sleep(300);
  const after = jsonLines({ lines: srv.lines.slice(before) });
  c.ok(!after.some((o) => o.level === 'info' || o.level === 'debug'),
    `at warn: no info or debug line (${after.length} line(s) after)`);
  await lv.close();
  await srv.stop();
}

run('log_level', 90000, main, { checks: () => c, servers: () => servers });
