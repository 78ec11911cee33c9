'use strict';
/*
 * The configuration file at run time (src/sc_reload.c), against the real
 * binary:
 * - SIGHUP re-reads --config FILE: a lowered --gw-max-message closes a new
 *   socket whose Identify passed before with 4020, the log level rises to
 *   debug (the admin API's debug line appears), the log format turns to
 *   JSON, --capacity changes in
 *   /state, and a changed restart-only key (media-workers) is logged as
 *   needing a restart;
 * - a bad file on SIGHUP (unknown key) is logged with file and line and
 *   the settings in force stay (the limit, the log level, the capacity);
 * - --check-config exits 0 on a good file and prints the effective
 *   settings with the secrets masked, and exits 1 on a certificate and key
 *   that do not match;
 * - the example file contrib/litecord-voice.conf names every key, and its
 *   defaults, uncommented, are the built-in defaults.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');
const { GwClient } = require('./lib/gw_client');
const { LvspClient } = require('./lib/lvsp_client');
const { adminGet } = require('./lib/admin_client');
const { startServer } = require('./lib/server');

const c = new Checks('config');
const servers = [];
const buildDir = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const binary = path.join(buildDir, 'litecord-voice');
const PAD = 6000; // an Identify this much larger than usual
let ids;
let nextId = 0;
const id = () => ids[nextId++];

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

/* A new socket sends an Identify padded to ~PAD bytes: 'ready' or the close code. */
async function bigIdentify(ctx) {
  const vi = await ctx.lvsp.requestVoiceState({ user_id: id(), channel_id: ctx.channel, guild_id: ctx.guild });
  const g = await GwClient.open(ctx.srv.endpoint, { ca: ctx.ca, version: 8 });
  g.send(0, { server_id: ctx.guild, user_id: vi.user_id, session_id: vi.session_id, token: vi.token,
              max_dave_protocol_version: 0, pad: 'x'.repeat(PAD) });
  const res = await Promise.race([g.take(2).then(() => 'ready', () => null), g.waitClose(5000)]);
  const out = res === 'ready' ? 'ready' : (g.closeInfo ? g.closeInfo.code : 'nothing');
  if (!g.closeInfo) await g.close();
  return out;
}

/* An admin request; its debug line ("/nope-a -> 404") shows at debug level only. */
async function adminDebugLine(ctx, tag) {
  await adminGet(ctx.srv.adminUrl, `/nope-${tag}`, ctx.srv.adminToken());
  await sleep(200);
  return ctx.srv.tail(50).includes(`/nope-${tag} -> `);
}

async function capacity(ctx) {
  const r = await adminGet(ctx.srv.adminUrl, '/state', ctx.srv.adminToken());
  return r.json && r.json.capacity;
}

/* Writes the file, sends SIGHUP, waits for the log line with marker. */
async function reload(ctx, text, marker) {
  const count = () => ctx.srv.lines.filter((l) => l.includes(marker)).length;
  const before = count();
  fs.writeFileSync(ctx.file, text);
  ctx.srv.proc.kill('SIGHUP');
  await waitFor(() => count() > before, 5000);
  return ctx.srv.tail(10);
}

async function reloadScenario(work) {
  const file = path.join(work, 'litecord-voice.conf');
  const base = '# written by config_reload.test.js\ncapacity = 500\n[discord voice gateway]\n';
  fs.writeFileSync(file, `${base}gw-max-message = 16384\n`);
  const srv = await startServer({ buildDir, logLevel: null, extraArgs: ['--config', file] });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const ctx = { srv, ca, lvsp, file, guild: id(), channel: id() };

  c.ok((await bigIdentify(ctx)) === 'ready', 'a 6 KB Identify passes under gw-max-message = 16384');
  c.ok(!(await adminDebugLine(ctx, 'a')), 'log level info from the default: no debug line');
  c.ok((await capacity(ctx)) === 500, 'capacity 500 from the file');

  let log = await reload(ctx, `log-level = debug\nlog-format = json\nmedia-workers = 2\n` +
    `${base.replace('500', '77')}gw-max-message = 4096\n`, 'settings reloaded');
  c.ok(log.includes('changed: capacity, log-level, log-format, gw-max-message'),
    `the reload names the keys it applied:\n${log}`);
  const last = log.split('\n').filter((l) => l.includes('settings reloaded')).pop() || '';
  let parsed = null;
  try { parsed = JSON.parse(last); } catch { /* not JSON */ }
  c.ok(parsed && parsed.level === 'info' && parsed.module === 'config' && /^SIGHUP: settings reloaded/.test(parsed.msg),
    `after SIGHUP the log lines are JSON objects: ${last}`);
  c.ok(/in force after a restart: media-workers/.test(log), 'the restart-only key is named');
  c.ok(await adminDebugLine(ctx, 'b'), 'after SIGHUP: log level debug');
  c.ok((await bigIdentify(ctx)) === 4020, 'after SIGHUP: the same Identify gets 4020 (gw-max-message = 4096)');
  c.ok((await capacity(ctx)) === 77, 'after SIGHUP: capacity 77 in /state');

  log = await reload(ctx, `log-level = warn\ncapacity = 9\nbogus-key = 1\n`, 'keeping the current settings');
  c.ok(log.includes(`keeping the current settings: ${file}:3: unknown key 'bogus-key'`),
    `a bad file is logged with file and line:\n${log}`);
  c.ok(await adminDebugLine(ctx, 'c'), 'after a bad file: still at debug level');
  c.ok((await bigIdentify(ctx)) === 4020, 'after a bad file: gw-max-message still 4096');
  c.ok((await capacity(ctx)) === 77, 'after a bad file: capacity still 77');
  c.ok(!srv.diedUnexpectedly(), 'the server runs on');
  await lvsp.close();
}

/* A self-signed pair named name.crt / name.key in dir. */
function makePair(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return { cert, key };
}

function checkConfigScenario(work) {
  const a = makePair(work, 'a');
  const b = makePair(work, 'b');
  const secretFile = path.join(work, 'lvsp_secret');
  fs.writeFileSync(secretFile, 'lvsp-secret-from-a-file\n', { mode: 0o600 });
  const stateDir = path.join(work, 'never-created');
  const conf = (pair) => `state-dir = ${stateDir}\ntls-cert = ${pair.cert}\ntls-key = ${pair.key}\n` +
    `admin-token = admin-token-in-the-file\n[lvsp]\nlvsp-secret-file = ${secretFile}\n`;
  const file = path.join(work, 'check.conf');
  fs.writeFileSync(file, conf(a));
  const env = { ...process.env };
  delete env.LVSP_SECRET;
  let r = spawnSync(binary, ['--config', file, '--check-config'], { env, encoding: 'utf8' });
  c.ok(r.status === 0, `--check-config on a good file exits 0 (${r.status}: ${r.stderr})`);
  c.ok(r.stdout.includes('lvsp-secret = ********') && r.stdout.includes('admin-token = ********'),
    `the secrets are shown masked:\n${r.stdout}`);
  c.ok(!r.stdout.includes('lvsp-secret-from-a-file') && !r.stdout.includes('admin-token-in-the-file'),
    'no secret is printed');
  c.ok(r.stdout.includes(`tls-cert = ${a.cert}`) && r.stdout.includes('[discord voice gateway]'),
    'the effective settings are printed by group');
  c.ok(!fs.existsSync(stateDir), '--check-config creates no state directory');

  fs.writeFileSync(file, conf({ cert: a.cert, key: b.key }));
  r = spawnSync(binary, ['--config', file, '--check-config'], { env, encoding: 'utf8' });
  c.ok(r.status === 1, `--check-config on a mismatched certificate and key exits 1 (${r.status})`);
  c.ok(/litecord-voice: .*(match|key)/i.test(r.stderr), `the mismatch is named: ${r.stderr.trim()}`);

  fs.writeFileSync(file, 'capacity = lots\n');
  r = spawnSync(binary, ['--config', file, '--check-config'], { env, encoding: 'utf8' });
  c.ok(r.status === 1 && r.stderr.includes(`${file}:1: `), `a bad value: exit 1, file and line named (${r.stderr.trim()})`);
}

/* "#key = value" lines are defaults; "# key = value" lines are examples. */
function exampleScenario(work) {
  const example = fs.readFileSync(path.join(__dirname, '..', '..', 'contrib', 'litecord-voice.conf'), 'utf8');
  const uncommented = example.split('\n').map((l) => (/^#[a-z]/.test(l) ? l.slice(1) : l)).join('\n');
  const file = path.join(work, 'example.conf');
  fs.writeFileSync(file, uncommented);
  const env = { ...process.env };
  delete env.LVSP_SECRET;
  const opts = { env, encoding: 'utf8', cwd: work };
  const withFile = spawnSync(binary, ['--config', file, '--check-config'], opts);
  c.ok(withFile.status === 0, `the example's defaults, uncommented, parse (${withFile.stderr.trim()})`);
  const builtIn = spawnSync(binary, ['--config', 'none', '--check-config'], opts);
  const body = (r) => r.stdout.split('\n').filter((l) => !l.startsWith('# litecord-voice ')).join('\n');
  c.ok(builtIn.status === 0 && body(withFile) === body(builtIn), 'they are the built-in defaults');
  const keys = builtIn.stdout.split('\n').map((l) => /^(?:# )?([a-z][a-z0-9-]*)(?: = |: not set)/.exec(l))
    .filter(Boolean).map((m) => m[1]).concat(['admin-token-file', 'lvsp-secret-file']);
  const missing = keys.filter((k) => !new RegExp(`^# ?${k} = `, 'm').test(example));
  c.ok(keys.length > 25 && missing.length <= 2, `the example names every key but the raw secrets (missing: ${missing})`);
  c.ok(missing.every((k) => k === 'admin-token' || k === 'lvsp-secret'), 'only the raw secrets are left out');
}

run('config_reload', 120000, async () => {
  ids = snowflakes(100);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'config-reload-'));
  await c.step('SIGHUP reload', () => reloadScenario(work));
  await c.step('--check-config', () => checkConfigScenario(work));
  await c.step('the example file', () => exampleScenario(work));
  fs.rmSync(work, { recursive: true, force: true });
}, { checks: () => c, servers: () => servers });
