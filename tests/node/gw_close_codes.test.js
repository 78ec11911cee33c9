'use strict';
/*
 * Every voice-gateway close code over the wire, against the real binary
 * (TLS, a Litecord stand-in over LVSP creating the voice states), plus the
 * frames real clients send that must NOT close (ops 12/14-20/23/31, binary
 * DAVE frames), v8 resume on a new socket with a raw client, the resume
 * grace period, and the op 12 relay. Timings come from small limits passed
 * on the command line; nothing asserts how long anything took.
 *
 * Env: SC_BUILD_DIR (the server). Prints "N passed, N failed".
 */
const fs = require('node:fs');
const path = require('node:path');
const { Checks, run, sleep, snowflakes } = require('./lib/checks');
const { GwClient } = require('./lib/gw_client');
const { LvspClient } = require('./lib/lvsp_client');
const { startServer } = require('./lib/server');

const HB_TIMEOUT_MS = 1500;
const GRACE_MS = 1500;
const RATE_LIMIT = 30;
const MAX_MESSAGE = 4096;

const c = new Checks('gw');
const servers = [];
let ids;
let nextId = 0;
const id = () => ids[nextId++];

function identifyData(vi, over = {}) {
  return { server_id: vi.guild_id, user_id: vi.user_id, session_id: vi.session_id,
           token: vi.token, max_dave_protocol_version: 1, ...over };
}

async function voiceState(ctx, { guild = ctx.guild, channel = ctx.channel } = {}) {
  const vi = await ctx.lvsp.requestVoiceState({ user_id: id(), channel_id: channel, guild_id: guild });
  return { ...vi, guild_id: guild };
}

async function open(ctx, version = 8) {
  return GwClient.open(ctx.srv.endpoint, { ca: ctx.ca, version });
}

/* Identified client: Hello, Ready taken. keepAlive: heartbeat in time
 * (v8 shape, acknowledging what it got) until the socket closes. */
async function joined(ctx, vi, { version = 8, keepAlive = false } = {}) {
  const g = await open(ctx, version);
  g.send(0, identifyData(vi));
  await g.take(8);
  g.ready = (await g.take(2)).d;
  if (keepAlive) {
    const beat = setInterval(() => {
      const seqs = g.frames.filter((f) => f.seq).map((f) => f.seq);
      g.send(3, { t: Date.now(), seq_ack: seqs.length ? Math.max(...seqs) : -1 });
    }, HB_TIMEOUT_MS / 3);
    g.closed.then(() => clearInterval(beat));
  }
  return g;
}

async function expectClose(what, g, code, timeoutMs = 5000) {
  const got = await g.waitClose(timeoutMs);
  c.ok(got && got.code === code, `${what}: close ${got ? `${got.code} "${got.reason}"` : 'none'} (want ${code})`);
  if (!got) g.kill();
}

/* One fresh socket per code; frames are sent right after open. */
async function simpleCodes(ctx) {
  const vi = await voiceState(ctx);
  const cases = [
    ['4001 unknown opcode', [{ op: 99, d: {} }], 4001],
    ['4002 undecodable payload', ['not json'], 4002],
    ['4002 op of the wrong type', [{ op: '0', d: {} }], 4002],
    ['4003 Select Protocol before Identify',
      [{ op: 1, d: { protocol: 'udp', data: { address: '127.0.0.1', port: 1, mode: 'aead_aes256_gcm_rtpsize' } } }], 4003],
    ['4003 Speaking before Identify', [{ op: 5, d: { speaking: 1, delay: 0 } }], 4003],
    ['4004 wrong token', [{ op: 0, d: identifyData(vi, { token: 'x'.repeat(40) }) }], 4004],
    ['4006 resume of an unknown session',
      [{ op: 7, d: { server_id: vi.guild_id, session_id: 'f'.repeat(32), token: vi.token, seq_ack: 1 } }], 4006],
    ['4011 server without voice states',
      [{ op: 0, d: identifyData(vi, { server_id: id(), session_id: 'f'.repeat(32) }) }], 4011],
    ['4020 Identify without token', [{ op: 0, d: { server_id: vi.guild_id, user_id: vi.user_id } }], 4020],
    ['4020 message over --gw-max-message', [JSON.stringify({ op: 3, d: 'x'.repeat(MAX_MESSAGE) })], 4020],
  ];
  for (const [what, frames, code] of cases) {
    const g = await open(ctx);
    for (const f of frames) g.sendRaw(typeof f === 'string' ? f : JSON.stringify(f));
    await expectClose(what, g, code);
  }
}

async function identifiedCodes(ctx) {
  const vi = await voiceState(ctx);
  let g = await joined(ctx, vi);
  g.send(0, identifyData(vi));
  await expectClose('4005 second Identify', g, 4005);
  for (const [what, data, code] of [
    ['4012 unknown protocol', { protocol: 'tcp', data: { address: '127.0.0.1', port: 9 } }, 4012],
    ['4020 webrtc fragment without ICE credentials', { protocol: 'webrtc', data: 'v=0', sdp: 'v=0' }, 4020],
    ['4016 unknown mode', { protocol: 'udp', data: { address: '127.0.0.1', port: 9, mode: 'xsalsa20_poly1305_lite_rtpsize' } }, 4016],
  ]) {
    g = await joined(ctx, vi);
    g.send(1, data);
    await expectClose(what, g, code);
  }
  g = await joined(ctx, vi);
  for (let i = 0; i < RATE_LIMIT + 5 && !g.closeInfo; i++) g.send(3, { t: i, seq_ack: -1 });
  await expectClose(`4021 more than ${RATE_LIMIT} messages per window`, g, 4021);
  g = await joined(ctx, vi);
  await expectClose(`4009 no heartbeat within ${HB_TIMEOUT_MS} ms`, g, 4009, HB_TIMEOUT_MS + 5000);
  g = await joined(ctx, vi);
  ctx.lvsp.endVoiceState({ user_id: vi.user_id, session_id: vi.session_id });
  await expectClose('4014 Litecord ended the voice state', g, 4014);
}

/* Frames real clients send that a version-0 server must accept. */
async function tolerated(ctx) {
  const vi = await voiceState(ctx);
  const g = await joined(ctx, vi, { version: 4 });
  for (const op of [12, 14, 15, 16, 17, 18, 19, 20, 23, 31]) g.send(op, {});
  g.send(12, { audio_ssrc: g.ready.ssrc }); // pre-2023 "client connect"
  g.send(5, { speaking: 1, delay: 0 });     // v4 Speaking without ssrc
  g.sendRaw(Buffer.from([26, 0, 1, 2, 3])); // binary DAVE key package
  g.sendRaw(Buffer.from([23]));
  g.send(3, 1234567);                       // v4 bare-integer heartbeat
  const ack = await g.take(6).catch((e) => ({ error: e.message }));
  c.ok(ack.d === 1234567, `v4 heartbeat answered with the bare nonce after ignored ops: ${JSON.stringify(ack)}`);
  c.ok(!g.closeInfo, `ops 12, 14-20, 23, 31 and binary DAVE frames do not close (${JSON.stringify(g.closeInfo)})`);
  c.ok(g.frames.every((f) => 'd' in f), 'every server message has a "d" key');
  await g.close();
}

/* v8 resume with a raw client: the socket dies, the room goes on, a new
 * socket resumes and gets the missed message; then the grace period. */
async function resumeAndGrace(ctx) {
  const channel = id();
  const va = await voiceState(ctx, { channel });
  const vb = await voiceState(ctx, { channel });
  const a = await joined(ctx, va, { keepAlive: true });
  const b = await joined(ctx, vb);
  await a.take(11);
  await b.take(11); // B knows A: Ready, op 11, op 5 are all it will get for now
  await b.take(5);
  const bSeen = Math.max(...b.frames.filter((f) => f.seq).map((f) => f.seq));
  b.kill();
  await sleep(200);
  a.send(5, { speaking: 1, delay: 0, ssrc: a.ready.ssrc });
  await sleep(200);
  const b2 = await open(ctx);
  b2.send(7, { server_id: vb.guild_id, session_id: vb.session_id, token: vb.token, seq_ack: bSeen });
  const hello = await b2.take(8).catch(() => null);
  const resumed = await b2.take(9).catch(() => null);
  const missed = await b2.take(5, { pred: (f) => f.d.user_id === va.user_id && f.d.speaking === 1 })
    .catch(() => null);
  c.ok(hello && resumed && resumed.d === null, `resume on a new socket: Hello then Resumed (${JSON.stringify(resumed)})`);
  c.ok(missed && missed.seq === bSeen + 1, `missed Speaking re-sent with seq ${missed && missed.seq} (last seen ${bSeen})`);
  const after = b2.frames.filter((f) => f.seq).map((f) => f.seq);
  c.ok(after.every((q, i) => q === bSeen + 1 + i), `B's numbering goes on from ${bSeen + 1}: ${JSON.stringify(after)}`);
  c.ok(b2.seen(2).length === 0, 'no new Ready after resume');
  c.ok(a.seen(13).length === 0, 'the other member saw no Client Disconnect during the resume');
  b2.kill();
  const left = await a.take(13, { timeoutMs: GRACE_MS + 5000 }).catch(() => null);
  c.ok(left && left.d.user_id === vb.user_id, `after ${GRACE_MS} ms without a resume the others get op 13: ${JSON.stringify(left && left.d)}`);
  const b3 = await open(ctx);
  b3.send(7, { server_id: vb.guild_id, session_id: vb.session_id, token: vb.token, seq_ack: bSeen });
  await expectClose('4006 resume after the grace period', b3, 4006);
  await a.close();
}

/* Op 12 with video SSRCs reaches the others with user_id. */
async function videoRelay(ctx) {
  const channel = id();
  const va = await voiceState(ctx, { channel });
  const vb = await voiceState(ctx, { channel });
  const a = await joined(ctx, va);
  const b = await joined(ctx, vb);
  a.send(12, { audio_ssrc: a.ready.ssrc, video_ssrc: 777001, rtx_ssrc: 777002,
               streams: [{ type: 'video', rid: '100', ssrc: 777001, rtx_ssrc: 777002, active: true, quality: 100 }] });
  a.send(18, { flags: 2 });
  a.send(20, { platform: 0 });
  const v = await b.take(12).catch(() => null);
  c.ok(v && v.d.user_id === va.user_id && v.d.video_ssrc === 777001 && v.d.audio_ssrc === a.ready.ssrc,
    `op 12 relayed with user_id and audio_ssrc: ${JSON.stringify(v && v.d)}`);
  const f = await b.take(18).catch(() => null);
  const p = await b.take(20).catch(() => null);
  c.ok(f && f.d.user_id === va.user_id && f.d.flags === 2, `op 18 relayed: ${JSON.stringify(f && f.d)}`);
  c.ok(p && p.d.user_id === va.user_id && p.d.platform === 0, `op 20 relayed: ${JSON.stringify(p && p.d)}`);
  await a.close();
  await b.close();
}

/* SIGTERM: connected clients get 4015 (and would resume elsewhere). */
async function shutdown(ctx) {
  const g = await joined(ctx, await voiceState(ctx));
  const stopped = ctx.srv.stop();
  await expectClose('4015 server shutting down', g, 4015);
  await stopped;
}

async function main() {
  ids = snowflakes(200);
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const srv = await startServer({
    buildDir: build,
    extraArgs: ['--gw-heartbeat-timeout-ms', String(HB_TIMEOUT_MS), '--gw-resume-grace-ms', String(GRACE_MS),
                '--gw-rate-limit', String(RATE_LIMIT), '--gw-rate-window-ms', '60000',
                '--gw-max-message', String(MAX_MESSAGE)],
  });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const ctx = { srv, ca, lvsp, guild: id(), channel: id() };
  await c.step('codes before/without Identify', () => simpleCodes(ctx));
  await c.step('codes of identified sockets', () => identifiedCodes(ctx));
  await c.step('tolerated frames', () => tolerated(ctx));
  await c.step('resume and grace', () => resumeAndGrace(ctx));
  await c.step('video relay', () => videoRelay(ctx));
  await c.step('shutdown', () => shutdown(ctx));
  await lvsp.close();
}

run('gw_close_codes', 150000, main, { checks: () => c, servers: () => servers });
