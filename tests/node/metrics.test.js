'use strict';
/*
 * GET /metrics (docs/ADMIN.md "Metrics") against a real call:
 *  - on the loopback admin listener it needs no token; the body is the
 *    Prometheus text format 0.0.4, parsed by a real parser (Debian's
 *    python3-prometheus-client, text_string_to_metric_families), and
 *    follows the conventions: names litecord_voice_* or process_*, every
 *    sample named *_total belongs to a counter, histogram buckets are
 *    cumulative with +Inf = _count;
 *  - two real @discordjs/voice clients talk (lib/talkers.js): between a
 *    scrape before and one during the call, media packets and bytes in and
 *    out (transport discord_udp, their mode) grew, 2 voice states, the
 *    gateway counted 2 joins and 2 join times, the forwarding-delay
 *    histogram counted packets, the LVSP link is up, worker 0 has CPU;
 *  - a gateway client with a wrong token is closed with 4004 and
 *    litecord_voice_gateway_closes_total{code="4004"} counts it;
 *  - after Litecord destroys the channel, no counter went down or
 *    vanished: what the members counted stays in the totals, and the
 *    voice states ended with reason channel_gone;
 *  - a non-loopback admin listener (HTTPS) wants the bearer token for
 *    /metrics: 401 without or with a wrong one, 200 with it.
 * Env: SC_BUILD_DIR; SC_METRICS_DUMP=FILE writes the scrape taken during
 * the call there. Prints "N passed, N failed".
 */
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, freeTcpPort, waitForTcp } = require('./lib/server');
const { LvspClient, INFO_LATER } = require('./lib/lvsp_client');
const { adminGet, adminState, findMember } = require('./lib/admin_client');
const { startTalkers } = require('./lib/talkers');
const { GwClient } = require('./lib/gw_client');
const { Checks, run, sleep } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const PYTHON = '/usr/bin/python3';
const c = new Checks('metrics');
const servers = [];

/* The real parser: families as JSON {name, type, samples: [[name, labels, value]]}. */
const PARSE = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type,
                "samples": [[s.name, s.labels, None if math.isnan(s.value) else s.value]
                            for s in f.samples]})
print(json.dumps(out))
`;

function parse(text) {
  const r = spawnSync(PYTHON, ['-c', PARSE], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prometheus_client parser failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/* Sum of the samples named `name` whose labels include `labels`. */
function value(fams, name, labels = {}) {
  let sum = 0;
  let found = false;
  for (const f of fams) {
    for (const [n, l, v] of f.samples) {
      if (n !== name) continue;
      if (Object.entries(labels).some(([k, want]) => l[k] !== want)) continue;
      sum += v;
      found = true;
    }
  }
  return found ? sum : undefined;
}

/* Buckets cumulative, +Inf last and equal to _count, per label set. */
function histogramProblems(f) {
  const groups = new Map();
  for (const [n, l, v] of f.samples) {
    const { le, ...rest } = l;
    const key = JSON.stringify(rest);
    if (!groups.has(key)) groups.set(key, { buckets: [], count: undefined });
    if (n.endsWith('_bucket')) groups.get(key).buckets.push([le === '+Inf' ? Infinity : Number(le), v]);
    if (n.endsWith('_count')) groups.get(key).count = v;
  }
  const bad = [];
  for (const [key, g] of groups) {
    g.buckets.sort((a, b) => a[0] - b[0]);
    const cumulative = g.buckets.every((b, i) => i === 0 || b[1] >= g.buckets[i - 1][1]);
    const inf = g.buckets.at(-1);
    if (!cumulative || !inf || inf[0] !== Infinity || inf[1] !== g.count) {
      bad.push(`histogram ${f.name}${key} not cumulative or +Inf != count`);
    }
  }
  return bad;
}

function checkConventions(what, text, fams) {
  c.ok(fams.length > 30, `${what}: ${fams.length} families parsed by prometheus_client`);
  const bad = [];
  for (const f of fams) {
    if (!/^(litecord_voice_|process_)[a-z0-9_]+$/.test(f.name)) bad.push(`name ${f.name}`);
    for (const [n] of f.samples) if (n.endsWith('_total') && f.type !== 'counter') bad.push(`${n} in a ${f.type}`);
    if (f.type === 'counter' && !f.samples.every(([n]) => n.endsWith('_total'))) bad.push(`counter ${f.name} without _total`);
    if (f.type === 'histogram') bad.push(...histogramProblems(f));
  }
  // The TYPE lines themselves (the parser strips _total from counter names).
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (m[1].endsWith('_total') && m[2] !== 'counter') bad.push(`TYPE ${m[1]} ${m[2]}`);
  }
  c.ok(bad.length === 0,
    `${what}: names, types, _total and histograms follow the conventions${bad.length ? `: ${bad.join('; ')}` : ''}`);
}

async function scrape(srv, what) {
  const r = await adminGet(srv.adminUrl, '/metrics'); // no token: loopback
  c.ok(r.status === 200 && /^text\/plain; version=0\.0\.4/.test(r.headers['content-type'] || ''),
    `${what}: GET /metrics without a token on loopback: HTTP ${r.status}, ${r.headers['content-type']}`);
  const fams = parse(r.text);
  checkConventions(what, r.text, fams);
  return { text: r.text, fams };
}

/* Every counter sample and histogram bucket/count, by name and labels. */
function counterSnapshot(fams) {
  const out = {};
  for (const f of fams) {
    if (f.type !== 'counter' && f.type !== 'histogram') continue;
    for (const [n, l, v] of f.samples) {
      if (f.type === 'histogram' && !n.endsWith('_count') && !n.endsWith('_bucket')) continue;
      out[`${n}${JSON.stringify(l)}`] = v;
    }
  }
  return out;
}

function checkDuring(before, f, modeName) {
  const lab = (direction) => ({ transport: 'discord_udp', mode: modeName, direction });
  const pin = value(f, 'litecord_voice_media_packets_total', lab('in'));
  const pout = value(f, 'litecord_voice_media_packets_total', lab('out'));
  const bin = value(f, 'litecord_voice_media_bytes_total', lab('in'));
  const bout = value(f, 'litecord_voice_media_bytes_total', lab('out'));
  c.ok(pin > 50 && pout > 50 && bin > pin && bout > pout,
    `during: packets in ${pin} / out ${pout}, bytes in ${bin} / out ${bout} (transport discord_udp, mode ${modeName})`);
  const g = (name, labels) => value(f, name, labels);
  c.ok(g('litecord_voice_voice_states') === 2 && g('litecord_voice_channels') === 1 &&
    g('litecord_voice_voice_states_created_total') === 2,
  `during: voice_states ${g('litecord_voice_voice_states')}, channels ${g('litecord_voice_channels')}, ` +
    `created ${g('litecord_voice_voice_states_created_total')}`);
  c.ok(g('litecord_voice_gateway_identifies_total') === 2 && g('litecord_voice_gateway_join_seconds_count') === 2 &&
    g('litecord_voice_gateway_sessions') === 2,
  `during: gateway identifies ${g('litecord_voice_gateway_identifies_total')}, join_seconds_count ` +
    `${g('litecord_voice_gateway_join_seconds_count')} (sum ${g('litecord_voice_gateway_join_seconds_sum')} s), ` +
    `sessions ${g('litecord_voice_gateway_sessions')}`);
  const fwd = g('litecord_voice_forward_delay_seconds_count');
  c.ok(fwd >= pout * 0.9 && fwd > value(before, 'litecord_voice_forward_delay_seconds_count') &&
    g('litecord_voice_forward_delay_seconds_sum') > 0,
  `during: forward_delay_seconds_count ${fwd} (packets out ${pout}), sum ${g('litecord_voice_forward_delay_seconds_sum')} s`);
  c.ok(g('litecord_voice_lvsp_up') === 1 && value(before, 'litecord_voice_lvsp_up') === 0,
    `lvsp_up: ${value(before, 'litecord_voice_lvsp_up')} before, ${g('litecord_voice_lvsp_up')} during`);
  const cpu0 = g('litecord_voice_media_worker_cpu_seconds_total', { worker: '0' });
  c.ok(cpu0 !== undefined && g('process_cpu_seconds_total') > 0 && g('process_resident_memory_bytes') > 1e6 &&
    g('process_open_fds') > 5 && g('process_max_fds') >= g('process_open_fds') &&
    Math.abs(g('process_start_time_seconds') - Date.now() / 1000) < 600,
  `process: cpu ${g('process_cpu_seconds_total')} s, rss ${g('process_resident_memory_bytes')}, ` +
    `fds ${g('process_open_fds')}/${g('process_max_fds')}, start ${g('process_start_time_seconds')}; worker 0 cpu ${cpu0}`);
  return pin;
}

async function callPart(srv) {
  const ca = fs.readFileSync(srv.certPath);
  const before = await scrape(srv, 'before the call');
  c.ok(value(before.fams, 'litecord_voice_voice_states') === 0 &&
    value(before.fams, 'litecord_voice_media_packets_total', { transport: 'discord_udp' }) === undefined,
  'before: no voice states, no discord_udp traffic yet');

  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-metrics-'));
  const talkers = await startTalkers({ srv, lvsp: lv, buildDir: build, workDir });
  await sleep(1500);
  const during = await scrape(srv, 'during the call');
  if (process.env.SC_METRICS_DUMP) fs.writeFileSync(process.env.SC_METRICS_DUMP, during.text); // for docs
  const st = await adminState(srv.adminUrl, srv.adminToken());
  const a = findMember(st, talkers.infos.A.user_id);
  const modeName = a && a.member.mode;
  const pin = checkDuring(before.fams, during.fams, modeName);

  // A client with a wrong token: closed with 4004, counted by code.
  const g = await GwClient.open(srv.endpoint, { ca, version: 8 });
  g.send(0, { server_id: talkers.infos.A.guild_id, user_id: talkers.infos.A.user_id,
    session_id: a.member.session_id, token: 'x'.repeat(40) });
  const { code } = await g.closed;
  const closes = value((await scrape(srv, 'after a failed Identify')).fams,
    'litecord_voice_gateway_closes_total', { code: '4004' });
  c.ok(code === 4004 && closes === 1 && value(during.fams, 'litecord_voice_gateway_closes_total', { code: '4004' }) === undefined,
    `a wrong token: close ${code}, gateway_closes_total{code="4004"} ${closes}`);

  const heard = await talkers.stop();
  c.ok(heard.A.received > 0 && heard.B.received > 0, `the call ran: A heard ${heard.A.received}, B heard ${heard.B.received}`);
  lv.info(INFO_LATER.CHANNEL_DESTROY, { channel_id: a.channel.id });
  await lv.heartbeat(3);
  await sleep(300);
  const after = await scrape(srv, 'after the channel was destroyed');
  const wentDown = [];
  const b = counterSnapshot(during.fams);
  const af = counterSnapshot(after.fams);
  for (const [k, v] of Object.entries(b)) if (!(k in af) || af[k] < v) wentDown.push(`${k}: ${v} -> ${af[k]}`);
  c.ok(wentDown.length === 0 && Object.keys(b).length > 40,
    `after: none of ${Object.keys(b).length} counter samples went down or vanished` +
    `${wentDown.length ? `: ${wentDown.slice(0, 5).join('; ')}` : ''}`);
  const lab = { transport: 'discord_udp', mode: modeName, direction: 'in' };
  const pinAfter = value(after.fams, 'litecord_voice_media_packets_total', lab);
  c.ok(value(after.fams, 'litecord_voice_voice_states') === 0 && pinAfter >= pin,
    `after: voice_states ${value(after.fams, 'litecord_voice_voice_states')}, packets in kept (${pin} -> ${pinAfter})`);
  const gone = value(after.fams, 'litecord_voice_voice_states_ended_total', { reason: 'channel_gone' });
  c.ok(gone === 2, `after: voice_states_ended_total{reason="channel_gone"} ${gone}`);
  await lv.close();
  fs.rmSync(workDir, { recursive: true, force: true });
}

function httpsGet(url, ca, token) {
  return new Promise((resolve, reject) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    https.get(url, { ca, headers, timeout: 5000, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    }).on('error', reject);
  });
}

async function remotePart() {
  const port = await freeTcpPort();
  const srv = await startServer({ buildDir: build, logLevel: 'info', extraArgs: ['--admin-listen', `0.0.0.0:${port}`] });
  servers.push(srv);
  // startServer waits for the LVSP port; the admin listener comes after it.
  c.ok(await waitForTcp('127.0.0.1', port, { proc: srv.proc }), `admin listener on 0.0.0.0:${port} accepts`);
  const ca = fs.readFileSync(srv.certPath);
  const url = `https://127.0.0.1:${port}/metrics`;
  const none = await httpsGet(url, ca);
  const wrong = await httpsGet(url, ca, 'x'.repeat(64));
  const good = await httpsGet(url, ca, srv.adminToken());
  c.ok(none.status === 401 && wrong.status === 401 && !/litecord_voice_/.test(none.text),
    `non-loopback admin listener (HTTPS): /metrics without a token ${none.status}, wrong token ${wrong.status}`);
  c.ok(good.status === 200 && parse(good.text).length > 30, `non-loopback admin listener: with the token ${good.status}`);
  await srv.stop();
}

run('metrics', 120000, async () => {
  const srv = await startServer({ buildDir: build, logLevel: 'info' });
  servers.push(srv);
  c.ok(await waitForTcp('127.0.0.1', srv.ports.admin, { proc: srv.proc }), 'admin listener accepts');
  await callPart(srv);
  await srv.stop();
  await remotePart();
}, { checks: () => c, servers: () => servers });
