'use strict';
/*
 * DAVE recovery from op 31 (dave_mls_invalid_commit_welcome) with the real
 * clients, @discordjs/voice 0.19.2 + @snazzah/davey 0.1.12: the server
 * re-creates the group when removing and re-adding the flagging members
 * cannot help (dv_dave_guard.h), and one member flagging again and again
 * is held back. Each scenario has its own channel (so its own budgets):
 *  1. every member flags: A, B, C, D in a group; the commit that removes D
 *     (after D leaves) reaches A, B and C corrupted (each client's own
 *     processing of op 29 fails, so each sends op 31 and resets, as djs
 *     does): the server re-creates the group once (/state recreations +1,
 *     every client gets op 21 with transition 0), and A, B, C meet in a new
 *     group with one privacy code, hearing each other (E2EE frames
 *     decrypted to exactly what was played, decoded to 440 Hz);
 *  2. a bad committer: A's client corrupts every welcome it makes and
 *     always commits first (B's, C's and E's commits go out 300 ms late).
 *     E joins; A's welcome fails, so E, the whole welcome set, flags.
 *     Re-adding E would let A win again, forever; the server re-creates
 *     the group and drops A's commits (commit_barred), and A, B, C, E meet
 *     in one group, A welcomed by someone else, and hear each other;
 *  3. a misbehaving member M (a bare socket with its own davey session)
 *     joins honestly, then sends op 31 and a new key package every 100 ms,
 *     30 times, while A plays to B and E joins: past its budget M's op 31s
 *     are counted (invalid_limited) and logged, at most one re-creation
 *     happens, the call commits a bounded number of times (old servers
 *     re-keyed on every op 31 and every key package), E gets in, and A, B,
 *     C, E end in one group, hearing each other.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, snowflakes } = require('./lib/checks');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');
const { daveOf, daveView, converge, joinPeer, daveAdmin, RawMember } = require('./lib/dave');

const WATCHDOG_MS = 170000;
const TONE_FRAMES = 100;
const HONEST_DELAY_MS = 300;
const SPAM_COUNT = 30;
const SPAM_EVERY_MS = 100;
/* Commits a call may make while M spams: its re-creation (up to 3 rounds
 * as key packages trickle in), M's two flags within budget (a remove and
 * an add each), E's join, and slack. */
const SPAM_COMMITS_MAX = 12;
const HZ_TOLERANCE = 15;

/* ---- client side (child: djs needs the server's CA) ---------------------- */

/* Ids unique across the run (snowflakes() repeats within a millisecond). */
const idPool = snowflakes(64);
const newId = () => idPool.shift();

/* A new channel: info(user) is the user's VoiceInfo for it. */
async function room(lvsp) {
  const [guild, channel] = [newId(), newId()];
  const info = async (user) => ({
    ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
    guild_id: guild, channel_id: channel,
  });
  return { channel, info };
}

async function joinAll(djs, r, names, peers) {
  const out = [];
  for (const name of names) out.push(await joinPeer(djs, name, await r.info(newId()), peers));
  return out;
}

function leave(lvsp, peer) {
  peer.conn.destroy();
  lvsp.endVoiceState({ user_id: peer.info.user_id, session_id: peer.info.session_id });
}

const flipLast = (b) => {
  const x = Buffer.from(b);
  x[x.length - 1] ^= 0x01;
  return x;
};

/* The peer's client will fail to process its next op 29 (kind 'commit')
 * or op 30 ('welcome'): the payload's last byte (the commit's membership
 * tag, the welcome's AEAD tag) is flipped before djs hands it to davey,
 * so djs takes its own recovery path (op 31, reset, new key package). */
function failNext(peer, kind) {
  const dave = daveOf(peer.conn);
  const name = kind === 'commit' ? 'processCommit' : 'processWelcome';
  const orig = dave[name].bind(dave);
  const arm = { fired: 0 };
  dave[name] = (payload) => {
    if (arm.fired) return orig(payload);
    arm.fired++;
    return orig(flipLast(payload));
  };
  return arm;
}

/* The peer's client corrupts every welcome it makes (its op 28). */
function corruptWelcomes(peer) {
  const s = daveOf(peer.conn).session;
  const orig = s.processProposals.bind(s);
  const arm = { fired: 0 };
  s.processProposals = (...args) => {
    const r = orig(...args);
    if (!r || !r.welcome) return r;
    arm.fired++;
    return { commit: r.commit, welcome: flipLast(r.welcome) };
  };
  return arm;
}

/* The peer's commits (op 28) reach the server ms late. */
function delayCommits(peer, ms) {
  const ws = peer.conn.state.networking.state.ws;
  const orig = ws.sendBinaryMessage.bind(ws);
  ws.sendBinaryMessage = (op, payload) => {
    if (op === 28) setTimeout(() => orig(op, payload), ms);
    else orig(op, payload);
  };
}

/* op 21 frames with transition 0 the peer's client received so far. */
const resets = (djs, peer) => djs.gatewayFrames(peer.debugLines)
  .filter((f) => f.op === 21 && f.d && f.d.transition_id === 0).length;

/* `from` plays the 440 Hz tone to `to`: what to's receiver delivered is
 * exactly what was played (decrypted by its davey), E2EE on the wire, and
 * it decodes to 440 Hz. */
async function hear(cfg, c, djs, from, to, label) {
  const { readPackets, opusTool } = require('./lib/opus_tool');
  const tones = readPackets(cfg.tone440).slice(0, TONE_FRAMES);
  const dec0 = daveOf(to.conn).session.getDecryptionStats(from.info.user_id) || { successes: 0 };
  const got = djs.collectOpus(to.conn, from.info.user_id);
  const sent = await djs.playOpus(from.conn, tones);
  await sleep(600);
  const played = new Set(tones.map((p) => p.toString('hex')));
  const intact = got.packets.filter((p) => played.has(p.toString('hex'))).length;
  const dec1 = daveOf(to.conn).session.getDecryptionStats(from.info.user_id);
  const file = path.join(cfg.workDir, `${label.replace(/\W+/g, '_')}.opus`);
  const a = got.packets.length ? opusTool(cfg.buildDir).analyzePackets(got.packets, file) : { dominant_hz: 0 };
  c.ok(sent === tones.length && intact >= 0.9 * sent && intact === got.packets.length &&
    dec1.successes - dec0.successes >= 0.9 * sent,
  `${label}: ${to.name} got ${got.packets.length} of ${from.name}'s ${sent} packets, ${intact} identical ` +
    `to what was played, ${dec1.successes - dec0.successes} decrypted by its davey`);
  c.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE, `${label}: decoded to ${a.dominant_hz} Hz (440 played)`);
}

function delta(before, after, key) {
  return after[key] - before[key];
}

/* 1. Every member flags the commit that removes D. */
async function everyMemberFlags(cfg, c, djs, lvsp, peers) {
  const r = await room(lvsp);
  const [A, B, C, D] = await joinAll(djs, r, ['A1', 'B1', 'C1', 'D1'], peers);
  const g0 = await converge([A, B, C, D], 20000);
  c.ok(g0.code, `1: A, B, C, D in epoch ${g0.epoch} with one code`);
  const arms = [A, B, C].map((p) => failNext(p, 'commit'));
  const z0 = [A, B, C].map((p) => resets(djs, p));
  const before = await daveAdmin(cfg);
  leave(lvsp, D);
  const g1 = await converge([A, B, C], 20000, g0.epoch);
  await sleep(300);
  const after = await daveAdmin(cfg);
  c.ok(arms.every((a) => a.fired === 1), `1: the commit removing D failed in each client (${arms.map((a) => a.fired)})`);
  c.ok(delta(before, after, 'invalid_commits') === 3 && delta(before, after, 'recreations') === 1,
    `1: 3 op 31s (${delta(before, after, 'invalid_commits')}), the group re-created once ` +
    `(${delta(before, after, 'recreations')})`);
  const z1 = [A, B, C].map((p, i) => resets(djs, p) - z0[i]);
  c.ok(z1.every((n) => n === 1), `1: each client got one op 21 with transition 0 (${z1})`);
  const st = (await daveAdmin(cfg)).channels[r.channel];
  c.ok(BigInt(g1.epoch) <= 2n && st.group_members === 3 && String(st.epoch) === g1.epoch,
    `1: A, B, C in a new group, epoch ${g1.epoch} (was ${g0.epoch}), one code (${g1.ms} ms); ` +
    `/state: ${JSON.stringify(st)}`);
  await hear(cfg, c, djs, A, B, '1: A to B');
  await hear(cfg, c, djs, C, A, '1: C to A');
  for (const p of [A, B, C]) leave(lvsp, p);
}

/* 2. A bad committer: A's welcomes always fail and A always commits first. */
async function badCommitter(cfg, c, djs, lvsp, peers) {
  const r = await room(lvsp);
  const [A, B, C] = await joinAll(djs, r, ['A2', 'B2', 'C2'], peers);
  const g0 = await converge([A, B, C], 20000);
  const bad = corruptWelcomes(A);
  for (const p of [B, C]) delayCommits(p, HONEST_DELAY_MS);
  const before = await daveAdmin(cfg);
  const [E] = await joinAll(djs, r, ['E2'], peers);
  delayCommits(E, HONEST_DELAY_MS);
  const g1 = await converge([A, B, C, E], 25000, g0.epoch);
  await sleep(300);
  const after = await daveAdmin(cfg);
  const failed = E.debugLines.filter((l) => l.includes('MLS welcome errored')).length;
  c.ok(bad.fired >= 1 && failed >= 1, `2: A made ${bad.fired} corrupt welcome(s), E failed ${failed}`);
  c.ok(delta(before, after, 'recreations') === 1 && delta(before, after, 'commit_barred') >= 1,
    `2: the group re-created once (${delta(before, after, 'recreations')}), A's commits dropped ` +
    `${delta(before, after, 'commit_barred')} time(s)`);
  c.ok(g1.code && daveView(A).epoch === g1.epoch,
    `2: A, B, C, E in one group, epoch ${g1.epoch}, one code (${g1.ms} ms after E was Ready)`);
  await hear(cfg, c, djs, E, A, '2: E to A');
  await hear(cfg, c, djs, B, E, '2: B to E');
  for (const p of [A, B, C, E]) leave(lvsp, p);
}

/* M, a bare member with its own davey session: applies what it is sent
 * (op 29/30, then op 23), remembers the last transition id. */
function honestRaw(M, sess) {
  M.lastTid = 0;
  M.onBin = (f) => {
    if (f.op !== 29 && f.op !== 30) return;
    M.lastTid = f.payload.readUInt16BE(0);
    try {
      if (f.op === 30) sess.processWelcome(f.payload.subarray(2));
      else sess.processCommit(f.payload.subarray(2));
      M.g.send(23, { transition_id: M.lastTid });
    } catch (err) {
      M.error = String(err.message || err);
    }
  };
}

/* 3. M flags again and again; A plays to B throughout; E joins meanwhile. */
async function misbehavingMember(cfg, c, djs, lvsp, peers, ctx) {
  const { readPackets } = require('./lib/opus_tool');
  const r = await room(lvsp);
  const [A, B, C] = await joinAll(djs, r, ['A3', 'B3', 'C3'], peers);
  const g0 = await converge([A, B, C], 20000);
  const M = await RawMember.open(cfg, await r.info(newId()));
  ctx.raw.push(M);
  await M.select();
  const sess = M.session(await M.bin(25));
  honestRaw(M, sess);
  M.send(26, sess.getSerializedKeyPackage());
  const g1 = await converge([A, B, C], 15000, g0.epoch);
  c.ok(String(sess.epoch) === g1.epoch && sess.voicePrivacyCode === g1.code,
    `3: M joined honestly: epoch ${g1.epoch}, same code as A, B, C`);

  const tones = readPackets(cfg.tone440);
  const got = djs.collectOpus(B.conn, A.info.user_id);
  ctx.playing = (async () => {
    while (!ctx.stop) await djs.playOpus(A.conn, tones);
  })();
  const before = await daveAdmin(cfg);
  const logAt = fs.statSync(cfg.logPath).size;
  let E = null;
  for (let i = 0; i < SPAM_COUNT; i++) {
    M.g.send(31, { transition_id: M.lastTid });
    sess.reinit(1, M.vi.user_id, M.vi.channel_id); /* what djs does after op 31 */
    M.send(26, sess.getSerializedKeyPackage());
    if (i === 10) E = joinPeer(djs, 'E3', await r.info(newId()), peers);
    await sleep(SPAM_EVERY_MS);
  }
  E = await E;
  const g2 = await converge([A, B, C, E], 20000);
  await sleep(500);
  const after = await daveAdmin(cfg);
  const log = fs.readFileSync(cfg.logPath).subarray(logAt).toString();
  const limited = delta(before, after, 'invalid_limited');
  c.ok(delta(before, after, 'invalid_commits') === SPAM_COUNT && limited >= SPAM_COUNT - 5,
    `3: M's ${SPAM_COUNT} op 31s counted (${delta(before, after, 'invalid_commits')}), ${limited} over its budget`);
  c.ok(/DAVE op 31 over its budget/.test(log), '3: the log says M\'s op 31s were over its budget');
  const commits = delta(before, after, 'commits');
  c.ok(delta(before, after, 'recreations') <= 1 && commits <= SPAM_COMMITS_MAX,
    `3: M made the call re-create its group ${delta(before, after, 'recreations')} time(s) and commit ` +
    `${commits} times (at most ${SPAM_COMMITS_MAX})`);
  const st = after.channels[r.channel];
  c.ok(g2.code && st.group_members === 4 && st.members === 5,
    `3: E got in while M spammed: A, B, C, E in epoch ${g2.epoch} with one code; /state ${JSON.stringify(st)}`);
  const n0 = got.packets.length;
  await sleep(1000);
  const dec = daveOf(B.conn).session.getDecryptionStats(A.info.user_id);
  c.ok(got.packets.length - n0 >= 40, `3: B kept hearing A (${got.packets.length - n0} packets in the last ` +
    `second, ${dec.successes} decrypted in all, ${dec.failures} failures)`);
  ctx.stop = true;
  await ctx.playing;
  await hear(cfg, c, djs, E, C, '3: E to C');
}

async function scenario(cfg, c, djs, lvsp, peers, ctx) {
  ctx.raw = [];
  await c.step('every member flags', () => everyMemberFlags(cfg, c, djs, lvsp, peers));
  await c.step('a bad committer', () => badCommitter(cfg, c, djs, lvsp, peers));
  await c.step('a misbehaving member', () => misbehavingMember(cfg, c, djs, lvsp, peers, ctx));
}

function clientMain(cfg) {
  runClient(cfg, 'dave_recover', scenario, {
    cleanup: (ctx) => {
      ctx.stop = true;
      for (const r of ctx.raw || []) r.g.kill();
    },
  });
}

/* ---- parent ------------------------------------------------------------------ */

async function main() {
  const watchdog = setTimeout(() => { console.log('dave_recover: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dave-recover-'));
  const { tone440 } = toneFiles(build, workDir, TONE_FRAMES);
  const srv = await startServer({ buildDir: build });
  const result = await runChild(__filename, srv, {
    workDir, buildDir: build, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, ca: srv.certPath,
    logPath: srv.logPath, adminUrl: srv.adminUrl, adminToken: srv.adminToken() });
  finish('dave_recover', srv, workDir, result, await childFailures(srv, result));
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`dave_recover: FAIL ${err.stack || err}`); process.exit(1); });
