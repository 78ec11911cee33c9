'use strict';
/*
 * LVSP over the wire, both dialects, against the real server, with raw
 * voice-gateway clients standing in for users (lib/raw_voice_client):
 *
 *  - every server frame carries "s", increasing across connections;
 *  - later dialect: CHANNEL_REQ -> CHANNEL_ASSIGN, CHANNEL_UPDATE (bitrate
 *    seen in the admin API), VST_CREATE -> credentials that work,
 *    VST_UPDATE flags (admin API) and a move (old socket 4014, old room op
 *    13, new credentials that join the new room), VST_LEAVE (4014, op 13),
 *    CHANNEL_DESTROY (4014, room gone);
 *  - seed dialect on a second connection, which replaces the first (4000)
 *    without touching voice: INFO CHANNEL, VST_REQUEST, INFO VST flags,
 *    INFO VST channel_id null (4014);
 *  - one user in two guilds at once;
 *  - close codes 4001, 4002, 4000 on the wire, voice untouched;
 *  - a server with --lvsp-replay 1 --lvsp-heartbeat-timeout-ms 1500: a
 *    RESUME from before an evicted frame closes 4000, the IDENTIFY after
 *    it gets a snapshot of every channel and voice state; a silent link is
 *    closed 4000 after the timeout while the voice client stays; the
 *    default server keeps a silent link open.
 * Env: SC_BUILD_DIR. Prints "N passed, N failed".
 */
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./lib/server');
const { LvspClient, OP, INFO_TYPE, INFO_LATER } = require('./lib/lvsp_client');
const { rawJoin } = require('./lib/raw_voice_client');
const { adminState, findMember } = require('./lib/admin_client');
const { Checks, run, sleep, waitWsClose, snowflakes } = require('./lib/checks');

const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
const c = new Checks('lvsp');
const servers = [];
const ids = snowflakes(20);
const [G1, G2, C1, C2, C3, UA, UB, UX, UM] = ids;

function isHex(s, n) {
  return typeof s === 'string' && s.length === n && /^[0-9a-f]+$/.test(s);
}

/* Checks a VST_CREATE-shaped (later) or INFO VST (seed) reply body. */
function checkVoiceInfo(what, d, want, endpoint) {
  c.ok(d.user_id === want.user_id && d.channel_id === want.channel_id &&
    d.guild_id === (want.guild_id || null) && isHex(d.session_id, 32) &&
    typeof d.token === 'string' && d.token.length === 40 && d.endpoint === endpoint &&
    ['mute', 'deaf', 'self_mute', 'self_deaf', 'suppress'].every((k) => typeof d[k] === 'boolean'),
  `${what}: reply ${JSON.stringify({ ...d, token: `<${String(d.token).length} chars>` })}`);
  return d;
}

function checkSeqs(what, frames) {
  const s = frames.map((m) => m.s);
  const ok = s.every((v, i) => Number.isInteger(v) && (i === 0 || v > s[i - 1]));
  c.ok(ok, `${what}: every frame has an increasing "s" (${s.slice(0, 12).join(',')}${s.length > 12 ? ',...' : ''})`);
}

async function expectVoiceClose(what, vc, code) {
  const closed = await waitWsClose(vc.ws, 8000);
  c.ok(closed && closed.code === code, `${what}: voice socket closed ${closed ? closed.code : 'not within 8 s'} (want ${code})`);
}

async function expectOp13(what, vc, userId) {
  const ok = await waitFor(() => vc.frames.some((f) => f.op === 13 && f.d && f.d.user_id === userId), 5000);
  c.ok(ok, `${what}: op 13 for ${userId}`);
}

async function waitFor(pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return Boolean(await pred());
}

async function laterDialect(srv, ca, ctx) {
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  ctx.lvsp = lv;
  const token = srv.adminToken();
  const assign = await lv.channelReq({ channel_id: C1, guild_id: G1 });
  c.ok(assign.d.type === INFO_LATER.CHANNEL_ASSIGN && assign.d.data.channel_id === C1 &&
    assign.d.data.guild_id === G1 && isHex(assign.d.data.token, 32),
  `CHANNEL_REQ -> CHANNEL_ASSIGN ${JSON.stringify(assign.d)}`);
  lv.info(INFO_LATER.CHANNEL_UPDATE, { channel_id: C1, bitrate: 96000 });
  const vA = checkVoiceInfo('VST_CREATE A', (await lv.vstCreate({ user_id: UA, channel_id: C1, guild_id: G1 })).d.data,
    { user_id: UA, channel_id: C1, guild_id: G1 }, srv.endpoint);
  const vB = checkVoiceInfo('VST_CREATE B', (await lv.vstCreate({ user_id: UB, channel_id: C1, guild_id: G1 })).d.data,
    { user_id: UB, channel_id: C1, guild_id: G1 }, srv.endpoint);
  const vX = checkVoiceInfo('VST_CREATE X', (await lv.vstCreate({ user_id: UX, channel_id: C2, guild_id: G1 })).d.data,
    { user_id: UX, channel_id: C2, guild_id: G1 }, srv.endpoint);
  const A = await rawJoin(vA, { ca });
  ctx.B = await rawJoin(vB, { ca });
  const X = await rawJoin(vX, { ca });
  c.ok(true, 'A, B, X joined with the VST_CREATE credentials');
  let st = await adminState(srv.adminUrl, token);
  c.ok(st.channels.find((ch) => ch.id === C1)?.bitrate === 96000, 'CHANNEL_UPDATE: admin shows bitrate 96000 for C1');

  lv.info(INFO_LATER.VST_UPDATE, { user_id: UA, guild_id: G1, mute: true, suppress: true });
  await lv.heartbeat(11);
  st = await adminState(srv.adminUrl, token);
  const fa = findMember(st, UA)?.member.flags;
  c.ok(fa && fa.mute && fa.suppress && !fa.deaf, `VST_UPDATE flags applied live: ${JSON.stringify(fa)}`);

  const moved = (await lv.vstCreate({ user_id: UA, guild_id: G1, channel_id: C2 }, 10000, INFO_LATER.VST_UPDATE)).d.data;
  checkVoiceInfo('VST_UPDATE move A -> C2', moved, { user_id: UA, channel_id: C2, guild_id: G1 }, srv.endpoint);
  c.ok(moved.session_id !== vA.session_id && moved.mute === true, 'move: new session, flags kept');
  await expectVoiceClose('move: A\'s old socket', A, 4014);
  await expectOp13('move: B (old room) sees A leave', ctx.B, UA);
  const A2 = await rawJoin(moved, { ca });
  const op11 = await waitFor(() => X.frames.some((f) => f.op === 11 && (f.d.user_ids || []).includes(UA)), 5000);
  c.ok(op11, 'move: A joined C2 with the new credentials; X got op 11 for A');
  st = await adminState(srv.adminUrl, token);
  c.ok(findMember(st, UA, C2) && !findMember(st, UA, C1), 'move: admin shows A in C2 only');

  lv.info(INFO_LATER.VST_LEAVE, { user_id: UX, guild_id: G1 });
  await expectVoiceClose('VST_LEAVE X', X, 4014);
  await expectOp13('VST_LEAVE: A (same room) sees X leave', A2, UX);

  lv.info(INFO_LATER.CHANNEL_DESTROY, { channel_id: C2 });
  await expectVoiceClose('CHANNEL_DESTROY C2: A', A2, 4014);
  st = await adminState(srv.adminUrl, token);
  c.ok(!st.channels.some((ch) => ch.id === C2) && st.voice_states === 1,
    `CHANNEL_DESTROY: C2 gone, ${st.voice_states} voice state left (B)`);
  checkSeqs('later-dialect connection', lv.frames);
}

async function seedDialect(srv, ca, ctx) {
  const first = ctx.lvsp;
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'plain', ca });
  const gone = await first.closed;
  c.ok(gone.code === 4000, `a second authenticated connection replaces the first: first closed ${gone.code}`);
  c.ok(ctx.B.closeInfo === null, 'B\'s voice socket untouched by the replacement');
  c.ok(lv.frames[0].s > first.maxSeq, `"s" continues across connections (${first.maxSeq} -> HELLO ${lv.frames[0].s})`);
  const snapUsers = lv.frames.filter((m) => m.op === OP.INFO && m.d.type === INFO_TYPE.VST).map((m) => m.d.info.user_id);
  c.ok(snapUsers.length === 1 && snapUsers[0] === UB, `seed IDENTIFY snapshot names the live state: ${JSON.stringify(snapUsers)}`);
  lv.send(OP.INFO, { type: INFO_TYPE.CHANNEL, info: { id: C3, bitrate: 32000, guild_id: G2 } });
  const vM = checkVoiceInfo('VST_REQUEST M', await lv.requestVoiceState({ user_id: UM, channel_id: C3, guild_id: G2 }),
    { user_id: UM, channel_id: C3, guild_id: G2 }, srv.endpoint);
  const M = await rawJoin(vM, { ca });
  lv.sendVoiceState({ user_id: UM, session_id: vM.session_id, deaf: true });
  await lv.heartbeat(21);
  const st = await adminState(srv.adminUrl, srv.adminToken());
  const m = findMember(st, UM, C3);
  c.ok(m && m.channel.bitrate === 32000 && m.member.flags.deaf, `seed INFO CHANNEL + INFO VST flags: ${JSON.stringify(m && { bitrate: m.channel.bitrate, flags: m.member.flags })}`);
  c.ok(st.frontends.lvsp.connected && st.frontends.lvsp.dialect === 'seed', 'admin: LVSP connected, seed dialect');
  lv.endVoiceState({ user_id: UM, session_id: vM.session_id });
  await expectVoiceClose('INFO VST channel_id null', M, 4014);
  checkSeqs('seed-dialect connection', lv.frames);
  ctx.lvsp = lv;
}

async function multipleGuilds(srv, ca, ctx) {
  const lv = ctx.lvsp;
  const [g1, g2] = [await lv.requestVoiceState({ user_id: UM, channel_id: C1, guild_id: G1 }),
    await lv.requestVoiceState({ user_id: UM, channel_id: C3, guild_id: G2 })];
  const m1 = await rawJoin(g1, { ca });
  const m2 = await rawJoin(g2, { ca });
  await sleep(200);
  const st = await adminState(srv.adminUrl, srv.adminToken());
  c.ok(findMember(st, UM, C1)?.member.connected && findMember(st, UM, C3)?.member.connected &&
    m1.closeInfo === null && m2.closeInfo === null, 'one user in two guilds at once, both connected');
  await m1.close();
  await m2.close();
}

async function closeCodes(srv, ca, ctx) {
  const cases = [
    ['wrong token', (ws) => ws.send(JSON.stringify({ op: 1, d: { token: 'nope' } })), 4001],
    ['invalid JSON', (ws) => ws.send('{"op":1,'), 4002],
    ['unknown op', (ws) => ws.send(JSON.stringify({ op: 42, d: {} })), 4000],
    ['INFO before IDENTIFY', (ws) => ws.send(JSON.stringify({ op: 6, d: { type: 0, data: { channel_id: '1' } } })), 4000],
  ];
  for (const [what, act, code] of cases) {
    const lv = await LvspClient.open(srv.lvspUrl, { ca });
    act(lv.ws);
    const got = await Promise.race([lv.closed, sleep(5000).then(() => null)]);
    c.ok(got && got.code === code, `${what}: closed ${got ? got.code : 'not within 5 s'} (want ${code})`);
  }
  c.ok(ctx.B.closeInfo === null, 'B\'s voice socket untouched by the failed LVSP connections');
  const alive = await ctx.lvsp.heartbeat(31).then(() => true, () => false);
  c.ok(alive, 'the live LVSP connection is untouched by the failed ones');
}

/* Server 2: tiny replay buffer and a heartbeat timeout. */
async function staleAndTimeout() {
  const srv = await startServer({ buildDir: build, extraArgs: ['--lvsp-replay', '1', '--lvsp-heartbeat-timeout-ms', '1500'] });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const lv = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  const before = lv.maxSeq; // READY
  await lv.channelReq({ channel_id: C1, guild_id: G1 });
  const v = (await lv.vstCreate({ user_id: UA, channel_id: C1, guild_id: G1 })).d.data;
  await lv.vstCreate({ user_id: UB, channel_id: C1, guild_id: G1 });
  const A = await rawJoin(v, { ca });
  lv.kill();
  const r = await LvspClient.open(srv.lvspUrl, { ca });
  const stale = await r.resume({ secret: srv.secret, seq: before }).then(() => null, () => r.closeInfo);
  c.ok(stale && stale.code === 4000, `RESUME from before evicted frames: closed ${stale ? stale.code : 'not at all'} (want 4000)`);
  const fresh = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, auth: 'hmac', ca });
  await sleep(300);
  const infos = fresh.frames.filter((m) => m.op === OP.INFO).map((m) => m.d);
  const assigns = infos.filter((d) => d.type === INFO_LATER.CHANNEL_ASSIGN).map((d) => d.data.channel_id);
  const states = infos.filter((d) => d.type === INFO_LATER.VST_CREATE).map((d) => d.data.user_id).sort();
  c.ok(JSON.stringify(assigns) === JSON.stringify([C1]) && JSON.stringify(states) === JSON.stringify([UA, UB].sort()),
    `IDENTIFY after a stale resume: snapshot ${JSON.stringify({ assigns, states })}`);
  const t0 = Date.now();
  const timedOut = await Promise.race([fresh.closed, sleep(10000).then(() => null)]);
  c.ok(timedOut && timedOut.code === 4000, `silent link closed ${timedOut ? timedOut.code : 'not within 10 s'} by --lvsp-heartbeat-timeout-ms (after ${Date.now() - t0} ms)`);
  await sleep(300);
  c.ok(A.closeInfo === null, 'the voice client stays connected when the link times out');
  const st = await adminState(srv.adminUrl, srv.adminToken());
  c.ok(st.voice_states === 2 && !st.frontends.lvsp.connected, `voice states kept (${st.voice_states}), link down`);
  await A.close();
}

async function quietLinkKept(srv, ctx) {
  const before = ctx.lvsp.closeInfo;
  await sleep(3000);
  c.ok(before === null && ctx.lvsp.closeInfo === null, 'default settings: a link silent for 3 s stays open');
}

async function main() {
  const srv = await startServer({ buildDir: build });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const ctx = {};
  await c.step('later dialect', () => laterDialect(srv, ca, ctx));
  await c.step('seed dialect', () => seedDialect(srv, ca, ctx));
  await c.step('multiple guilds', () => multipleGuilds(srv, ca, ctx));
  await c.step('close codes', () => closeCodes(srv, ca, ctx));
  await c.step('quiet link', () => quietLinkKept(srv, ctx));
  await c.step('stale resume and timeout', () => staleAndTimeout());
  if (ctx.B) await ctx.B.close();
  if (ctx.lvsp) await ctx.lvsp.close();
}

run('lvsp_dialects', 150000, main, { checks: () => c, servers: () => servers });
