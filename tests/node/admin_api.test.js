'use strict';
/*
 * The read-only admin API and `litecord-voice status`, against what the
 * test itself did:
 *  - auth: no token, a wrong token of the same length, a prefix, another
 *    scheme: 401 with WWW-Authenticate; unknown path 404; POST 405;
 *  - after LVSP (later dialect) set up C1 (bitrate 64000) with A and B and
 *    C2 with X, A and B joined with different encryption modes, A said it
 *    speaks, B and X got flags, and A sent 20 AES-GCM RTP packets (plus one
 *    forged) that B received: /state shows each channel's bitrate and
 *    members, each member's SSRC (as in its Ready), mode, speaking, flags,
 *    exact packet and byte counts in and out, drops; the LVSP link
 *    (connected, dialect, last heartbeat, seq, health 1 - 3/50); media
 *    totals; and never a voice token;
 *  - call quality: B's RTCP receiver report (25 % lost, 5 in all, jitter
 *    2 ms) in B's /state "quality" and the status line, A's last-packet
 *    age, X (never sent) none; the /metrics aggregates;
 *  - /health; the status command: summary, --json, rejected token (exit
 *    1), unreachable server (exit 1), bad usage (exit 2).
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const crypto = require('node:crypto');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, freeTcpPort } = require('./lib/server');
const { LvspClient, INFO_LATER } = require('./lib/lvsp_client');
const { rawJoin } = require('./lib/raw_voice_client');
const { sealRtpsize } = require('./lib/media_client');
const { adminGet, adminState, findMember } = require('./lib/admin_client');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const MODE_AES = 'aead_aes256_gcm_rtpsize';
const MODE_XCHACHA = 'aead_xchacha20_poly1305_rtpsize';
const N_PACKETS = 20;
const c = new Checks('admin');
const servers = [];

/* aead_aes256_gcm_rtpsize: header (AAD) || ct || tag16 || nonce4. */
function sealAes(key, seq, ssrc, counter, payload) {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0x78;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 960, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(counter, 0);
  const ci = crypto.createCipheriv('aes-256-gcm', Buffer.from(key), nonce, { authTagLength: 16 });
  ci.setAAD(h);
  const ct = Buffer.concat([ci.update(payload), ci.final()]);
  return Buffer.concat([h, ct, ci.getAuthTag(), nonce.subarray(0, 4)]);
}

function runStatus(args, env = {}) {
  return new Promise((resolve) => {
    execFile(path.join(build, 'litecord-voice'), ['status', ...args], { env: { ...process.env, ...env }, timeout: 20000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

async function checkAuth(srv, token) {
  const wrong = token.replace(/.$/, (ch) => (ch === '0' ? '1' : '0'));
  for (const [what, tok] of [['no token', undefined], ['wrong token', wrong], ['token prefix', token.slice(0, 10)]]) {
    const r = await adminGet(srv.adminUrl, '/state', tok);
    c.ok(r.status === 401 && /Bearer/.test(r.headers['www-authenticate'] || '') && !/channels/.test(r.text),
      `${what}: HTTP ${r.status}, www-authenticate ${r.headers['www-authenticate']}`);
  }
  const basic = await new Promise((resolve) => {
    require('node:http').get(`${srv.adminUrl}/state`, { headers: { Authorization: `Basic ${token}` } },
      (res) => { res.resume(); resolve(res.statusCode); });
  });
  c.ok(basic === 401, `another scheme (Basic): HTTP ${basic}`);
  const nf = await adminGet(srv.adminUrl, '/secrets', token);
  c.ok(nf.status === 404, `unknown path: HTTP ${nf.status}`);
  const post = await adminGet(srv.adminUrl, '/state', token, { method: 'POST' });
  c.ok(post.status === 405, `POST: HTTP ${post.status}`);
}

/* LVSP + three raw clients; A sends RTP that B receives. */
async function setUp(srv, ca, ids) {
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  await lv.channelReq({ channel_id: ids.C1, guild_id: ids.G });
  lv.info(INFO_LATER.CHANNEL_UPDATE, { channel_id: ids.C1, bitrate: 64000 });
  const info = {};
  for (const [u, ch] of [[ids.A, ids.C1], [ids.B, ids.C1], [ids.X, ids.C2]]) {
    info[u] = (await lv.vstCreate({ user_id: u, channel_id: ch, guild_id: ids.G })).d.data;
  }
  const A = await rawJoin(info[ids.A], { ca, mode: MODE_AES });
  const B = await rawJoin(info[ids.B], { ca, mode: MODE_XCHACHA });
  const X = await rawJoin(info[ids.X], { ca });
  A.send(5, { speaking: 1, delay: 0, ssrc: A.ready.ssrc });
  lv.info(INFO_LATER.VST_UPDATE, { user_id: ids.B, guild_id: ids.G, self_mute: true, suppress: true });
  lv.info(INFO_LATER.VST_UPDATE, { user_id: ids.X, guild_id: ids.G, mute: true });
  await lv.heartbeat(3);
  const got = [];
  B.udp.on('message', (m) => { if (m.length > 12) got.push(m.length); });
  const sent = [];
  for (let i = 0; i < N_PACKETS; i++) {
    const pkt = sealAes(A.session.secret_key, 100 + i, A.ready.ssrc, i + 1, crypto.randomBytes(40 + i));
    sent.push(pkt.length);
    A.udp.send(pkt, A.ready.port, A.ready.ip);
    await sleep(5);
  }
  const forged = sealAes(A.session.secret_key, 200, A.ready.ssrc, 99, Buffer.alloc(30));
  forged[forged.length - 6] ^= 1; // breaks the tag
  A.udp.send(forged, A.ready.port, A.ready.ip);
  for (let i = 0; i < 100 && got.length < N_PACKETS; i++) await sleep(20);
  await sleep(200);
  c.ok(got.length === N_PACKETS, `B received ${got.length}/${N_PACKETS} forwarded packets`);
  // B's RTCP receiver report on A: 64/256 lost, 5 in all, jitter 96 (2 ms at 48 kHz).
  const rr = Buffer.alloc(8);
  rr[0] = 0x81; // V=2, one report block
  rr[1] = 201;
  rr.writeUInt16BE(7, 2); // 8 words - 1
  rr.writeUInt32BE(B.ready.ssrc >>> 0, 4);
  const block = Buffer.alloc(24);
  block.writeUInt32BE(A.ready.ssrc >>> 0, 0);
  block.writeUInt32BE((64 << 24) | 5, 4);
  block.writeUInt32BE(119, 8);
  block.writeUInt32BE(96, 12);
  B.udp.send(sealRtpsize(MODE_XCHACHA, Buffer.from(B.session.secret_key), rr, block, 1), B.ready.port, B.ready.ip);
  await sleep(200);
  return { lv, info, A, B, X, sent, got };
}

function checkState(st, ids, s) {
  const text = JSON.stringify(st);
  const { A, B, X } = s;
  const c1 = st.channels.find((ch) => ch.id === ids.C1);
  c.ok(c1 && c1.bitrate === 64000 && c1.guild_id === ids.G && c1.members.length === 2,
    `C1: bitrate ${c1 && c1.bitrate}, ${c1 && c1.members.length} members`);
  const a = findMember(st, ids.A, ids.C1)?.member;
  const b = findMember(st, ids.B, ids.C1)?.member;
  const x = findMember(st, ids.X, ids.C2)?.member;
  c.ok(a && b && x, 'A and B listed in C1, X in C2');
  if (!a || !b || !x) return;
  c.ok(a.ssrc === A.ready.ssrc && b.ssrc === B.ready.ssrc && x.ssrc === X.ready.ssrc, 'SSRCs as in each client\'s Ready');
  c.ok(a.mode === MODE_AES && b.mode === MODE_XCHACHA, `modes: A ${a.mode}, B ${b.mode}`);
  c.ok(a.connected && b.connected && x.connected, 'all three connected');
  c.ok(a.speaking === 1 && b.speaking === 0, `speaking: A ${a.speaking}, B ${b.speaking}`);
  c.ok(b.flags.self_mute && b.flags.suppress && !b.flags.mute && x.flags.mute && !a.flags.mute,
    `flags: B ${JSON.stringify(b.flags)}, X mute ${x.flags.mute}`);
  const sentBytes = s.sent.reduce((p, v) => p + v, 0);
  const gotBytes = s.got.reduce((p, v) => p + v, 0);
  c.ok(a.stats.rx_packets === N_PACKETS && a.stats.rx_bytes === sentBytes && a.stats.drops === 1,
    `A in: ${a.stats.rx_packets} packets / ${a.stats.rx_bytes} B (sent ${N_PACKETS} / ${sentBytes}), drops ${a.stats.drops} (1 forged)`);
  c.ok(b.stats.tx_packets === N_PACKETS && b.stats.tx_bytes === gotBytes && b.stats.rx_packets === 0,
    `B out: ${b.stats.tx_packets} packets / ${b.stats.tx_bytes} B (received ${s.got.length} / ${gotBytes})`);
  c.ok(x.stats.tx_packets === 0, `X (other channel) was sent ${x.stats.tx_packets} packets`);
  const l = st.frontends && st.frontends.lvsp;
  c.ok(l && l.connected && l.dialect === 'later' && Number.isInteger(l.last_heartbeat) &&
    Math.abs(l.last_heartbeat - Date.now()) < 60000 && l.seq >= s.lv.maxSeq,
  `LVSP link: ${JSON.stringify(l && { connected: l.connected, dialect: l.dialect, last_heartbeat: l.last_heartbeat, seq: l.seq })}`);
  const ld = l && l.load;
  const want = ld && 1 - Math.max(3 / 50, ld.media_cpu_share, Math.min(1, 10 * ld.drop_ratio));
  c.ok(ld && Math.abs(l.health - want) < 1e-5 && l.health <= 1 - 3 / 50,
    `health ${l && l.health} = 1 - max(3/50, cpu ${ld && ld.media_cpu_share}, 10 x drops ${ld && ld.drop_ratio})`);
  c.ok(st.voice_states === 3 && st.capacity === 50, `voice_states ${st.voice_states}, capacity ${st.capacity}`);
  c.ok(st.media && st.media.rx_rtp >= N_PACKETS && st.media.drops.auth >= 1 && st.media.tx_packets >= N_PACKETS,
    `media totals: rx_rtp ${st.media && st.media.rx_rtp}, auth drops ${st.media && st.media.drops.auth}, tx ${st.media && st.media.tx_packets}`);
  const fd = st.media && st.media.forward_delay;
  const inBuckets = fd ? fd.buckets.reduce((n, [, k]) => n + k, 0) : -1;
  c.ok(fd && fd.count === N_PACKETS && inBuckets === fd.count && fd.p50_us > 0 &&
    fd.p50_us <= fd.p99_us && fd.p99_us <= fd.p999_us && fd.buckets.every(([up], i, a) => i === 0 || up === null || up > a[i - 1][0]),
  `forwarding delay: ${fd && fd.count} samples (want ${N_PACKETS}: A's packets, each forwarded to B), ${inBuckets} in buckets, p50 < ${fd && fd.p50_us} us, p99 < ${fd && fd.p99_us} us`);
  const qa = a && a.quality, qb = b && b.quality, qx = x && x.quality;
  const rtcp = qb && qb.rtcp;
  c.ok(qa && Number.isInteger(qa.last_rx_age_ms) && qa.last_rx_age_ms >= 0 && qa.rtcp === null &&
    qx && qx.last_rx_age_ms === null && rtcp && rtcp.receiver_reports === 1 && rtcp.sources === 1 &&
    rtcp.fraction_lost === 0.25 && rtcp.cumulative_lost === 5 && rtcp.jitter_ms === 2,
  `quality: A last packet ${qa && qa.last_rx_age_ms} ms ago, no RTCP; X never sent (${qx && qx.last_rx_age_ms}); ` +
    `B's RTCP ${JSON.stringify(rtcp)}`);
  const leaked = Object.values(s.info).filter((i) => text.includes(i.token));
  c.ok(leaked.length === 0, 'no voice token appears in /state');
}

async function checkCli(srv, ids) {
  const dirArgs = ['--admin-url', srv.adminUrl, '--state-dir', srv.stateDir];
  const sum = await runStatus(dirArgs);
  c.ok(sum.code === 0 && sum.stdout.includes(ids.C1) && sum.stdout.includes(ids.A) &&
    sum.stdout.includes(MODE_XCHACHA) && /LVSP: connected \(later dialect/.test(sum.stdout) &&
    /forwarding delay since start: p50 < \d+ us, p99 < \d+ us/.test(sum.stdout) &&
    /connections: up to 200 \(fd limit \d+\), 0 refused at the limit/.test(sum.stdout) &&
    /RTCP: loss 25\.0 % \(5 lost\), jitter 2\.0 ms, 1 report\(s\)/.test(sum.stdout) &&
    /last packet \d+ ms ago/.test(sum.stdout) && /no packet yet/.test(sum.stdout),
  `status (token from the state dir): exit ${sum.code}\n${sum.stdout}${sum.stderr}`);
  const js = await runStatus([...dirArgs, '--json']);
  let parsed = null;
  try { parsed = JSON.parse(js.stdout); } catch { /* checked below */ }
  c.ok(js.code === 0 && parsed && findMember(parsed, ids.B, ids.C1), `status --json: exit ${js.code}, parses, lists B`);
  const health = await runStatus(['--admin-url', `${srv.adminUrl}/health`, '--json'], { LITECORD_VOICE_ADMIN_TOKEN: srv.adminToken() });
  let h = null;
  try { h = JSON.parse(health.stdout); } catch { /* checked below */ }
  c.ok(health.code === 0 && h && h.voice_states === 3 && !('channels' in h), `status of /health with the token from the environment: exit ${health.code}`);
  const bad = await runStatus(['--admin-url', srv.adminUrl, '--admin-token', 'nope']);
  c.ok(bad.code === 1 && /rejected/.test(bad.stderr), `status with a wrong token: exit ${bad.code}, ${bad.stderr.trim()}`);
  const port = await freeTcpPort();
  const down = await runStatus(['--admin-url', `http://127.0.0.1:${port}`, '--admin-token', 'x']);
  c.ok(down.code === 1 && /cannot connect/.test(down.stderr), `status of a server that is not there: exit ${down.code}`);
  const usage = await runStatus(['--bogus']);
  c.ok(usage.code === 2 && /usage/.test(usage.stderr), `status --bogus: exit ${usage.code}`);
}

async function main() {
  const srv = await startServer({ buildDir: build, extraArgs: ['--capacity', '50'] });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const token = srv.adminToken();
  const mode = fs.statSync(path.join(srv.stateDir, 'admin_token')).mode & 0o777;
  c.ok(/^[0-9a-f]{64}$/.test(token) && mode === 0o600, `admin_token generated: 64 hex chars, mode ${mode.toString(8)}`);
  await c.step('auth', () => checkAuth(srv, token));
  const [G, C1, C2, A, B, X] = snowflakes(6);
  const ids = { G, C1, C2, A, B, X };
  const s = await setUp(srv, ca, ids);
  try {
    checkState(await adminState(srv.adminUrl, token), ids, s);
    const m = (await adminGet(srv.adminUrl, '/metrics')).text;
    c.ok(/^litecord_voice_members_rtcp_reporting 1$/m.test(m) && /^litecord_voice_member_rtcp_fraction_lost_max 0\.25$/m.test(m) &&
      /^litecord_voice_member_rtcp_jitter_seconds_max 0\.002$/m.test(m) && /^litecord_voice_members_rtcp_lost_packets 5$/m.test(m),
    `/metrics quality aggregates: ${m.split('\n').filter((l) => /rtcp/.test(l) && !l.startsWith('#')).join(', ')}`);
    const h = await adminGet(srv.adminUrl, '/health', token);
    c.ok(h.status === 200 && h.json.voice_states === 3 && h.json.channel_count === 2 && !h.json.channels,
      `/health: ${h.status} ${h.text.slice(0, 120)}`);
    await c.step('status command', () => checkCli(srv, ids));
  } finally {
    for (const vc of [s.A, s.B, s.X]) await vc.close();
    await s.lv.close();
  }
}

run('admin_api', 120000, main, { checks: () => c, servers: () => servers });
