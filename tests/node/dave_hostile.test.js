'use strict';
/*
 * DAVE under attack (issue 15 point 6): real @discordjs/voice 0.19.2 +
 * @snazzah/davey 0.1.12 members A and B talk in an E2EE call (A plays
 * without pause) while hostile members, bare gateway sockets of users the
 * server authenticated, send what a broken or malicious client would:
 *   - op 26 before op 4, op 28 before op 4, an empty binary frame, an
 *     unknown binary op: dropped, dave.binary_refused;
 *   - a key package carrying A's user id, one with a flipped signature
 *     byte, one with cipher suite 1, one with a trailing byte, 390 random
 *     bytes as op 26: dave.kp_refused, each with its reason in the log;
 *   - a 5000-byte op 26: dave.binary_oversize;
 *   - a commit from a member outside the group (no proposals for it):
 *     dave.commit_late;
 *   - op 23 naming no open transition: dave.ready_unknown;
 *   - a 1 MiB binary frame: close 4020 (message over the gateway's cap);
 *   - then H joins the group honestly (its davey key package; A or B
 *     commits it; H applies its welcome) and, when J's join opens the next
 *     round, races A and B with three bad commits built from its own real
 *     commit: a wrong epoch, an inline proposal, no welcome for J. A and B
 *     send their (honest) commits 300 ms late so that H's arrive first:
 *     all three refused (dave.commit_refused, reasons in the log), one
 *     honest commit wins, the other is late (dave.commit_late).
 * After every case the bystanders are judged from their own state: A and
 * B in the same epoch (after H's and J's joins: exactly one epoch further
 * each time) with one voice privacy code, and B's davey went on decrypting
 * A's frames (successes grew, no new failures); no member ever reported an
 * invalid commit (op 31).
 * Unit-level refusals stay in test_dv_mls / test_dv_dave.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, snowflakes } = require('./lib/checks');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');
const { daveOf, daveView, converge, joinPeer, daveAdmin, RawMember, follow } = require('./lib/dave');

const WATCHDOG_MS = 150000;
const SETTLE_MS = 500;
const HONEST_DELAY_MS = 300;

/* ---- client side (child: djs needs the server's CA) ---------------------- */

function logSince(cfg, offset) {
  return fs.readFileSync(cfg.logPath).subarray(offset).toString();
}

/* One hostile case: run `act`, then the named counters moved by exactly
 * `delta` (or the check of `judge`), the log says `reasons`, and the
 * bystanders were not disturbed. */
async function hostileCase(cfg, c, ctx, name, act, { delta = {}, reasons = [], judge } = {}) {
  const { A, B } = ctx;
  const before = await daveAdmin(cfg);
  const vA = daveView(A), vB = daveView(B);
  const dec0 = daveOf(B.conn).session.getDecryptionStats(A.info.user_id);
  const logAt = fs.statSync(cfg.logPath).size;
  const extra = await act();
  await sleep(SETTLE_MS);
  const after = await daveAdmin(cfg);
  for (const [k, d] of Object.entries(delta)) {
    c.ok(after[k] - before[k] === d, `${name}: dave.${k} ${before[k]} -> ${after[k]} (expected +${d})`);
  }
  if (judge) judge(before, after, extra);
  const log = logSince(cfg, logAt);
  for (const r of reasons) c.ok(log.includes(`refused: ${r}`), `${name}: the log says "refused: ${r}"`);
  const wA = daveView(A), wB = daveView(B);
  c.ok(wA.epoch === vA.epoch && wB.epoch === vA.epoch && wA.code === vA.code && wB.code === vA.code &&
    vB.code === vA.code, `${name}: A and B still in epoch ${wA.epoch} with code ${wA.code}`);
  const dec1 = daveOf(B.conn).session.getDecryptionStats(A.info.user_id);
  c.ok(dec1.successes > dec0.successes && dec1.failures === dec0.failures,
    `${name}: B's davey decrypted ${dec1.successes - dec0.successes} more of A's frames, ` +
    `${dec1.failures - dec0.failures} new failures`);
  c.ok(after.invalid_commits === before.invalid_commits, `${name}: no member sent op 31`);
  return extra;
}

/* Stage 1: H, a member outside the group, and K. */
async function outsiderCases(cfg, c, ctx, lvsp, info) {
  const H = await RawMember.open(cfg, await info(ctx.uh));
  ctx.raw.push(H);
  const kpOfA = () => H.session(ctx.es, ctx.A.info.user_id).getSerializedKeyPackage();
  await hostileCase(cfg, c, ctx, 'op 26 and op 28 before op 4', async () => {
    H.send(26, Buffer.from(ctx.kpVec, 'hex'));
    H.send(28, crypto.randomBytes(200));
  }, { delta: { binary_refused: 2 } });
  const version = await H.select();
  c.ok(version === 1, `H told DAVE version ${version}`);
  ctx.es = await H.bin(25);
  const own = H.session(ctx.es);
  const kp = own.getSerializedKeyPackage();
  await hostileCase(cfg, c, ctx, 'a key package carrying A\'s user id', async () => H.send(26, kpOfA()),
    { delta: { kp_refused: 1 }, reasons: ['wrong_identity'] });
  const badSig = Buffer.from(kp);
  badSig[badSig.length - 1] ^= 0x01;
  await hostileCase(cfg, c, ctx, 'a key package with a bad signature', async () => H.send(26, badSig),
    { delta: { kp_refused: 1 }, reasons: ['bad_signature'] });
  const suite1 = Buffer.from(kp);
  c.ok(suite1.readUInt16BE(2) === 2, `davey's key package is cipher suite ${suite1.readUInt16BE(2)}`);
  suite1.writeUInt16BE(1, 2);
  await hostileCase(cfg, c, ctx, 'a key package for cipher suite 1', async () => H.send(26, suite1),
    { delta: { kp_refused: 1 }, reasons: ['bad_suite'] });
  await hostileCase(cfg, c, ctx, 'a key package with a trailing byte',
    async () => H.send(26, Buffer.concat([kp, Buffer.from([0])])),
    { delta: { kp_refused: 1 }, reasons: ['trailing_bytes'] });
  await hostileCase(cfg, c, ctx, 'binary garbage', async () => {
    H.g.sendRaw(Buffer.alloc(0));
    H.send(0xff, crypto.randomBytes(100));
    H.send(26, crypto.randomBytes(390));
  }, { delta: { binary_refused: 2, kp_refused: 1 } });
  await hostileCase(cfg, c, ctx, 'a 5000-byte op 26', async () => H.send(26, crypto.randomBytes(5000)),
    { delta: { binary_oversize: 1 } });
  await hostileCase(cfg, c, ctx, 'a commit from a member outside the group',
    async () => H.send(28, Buffer.from(ctx.commitVec, 'hex')), { delta: { commit_late: 1, commits: 0 } });
  await hostileCase(cfg, c, ctx, 'op 23 for an unknown transition',
    async () => H.g.send(23, { transition_id: 4242 }), { delta: { ready_unknown: 1, transitions: 0 } });
  c.ok(H.g.closeInfo === null, `H's socket is still open after its refused frames (${JSON.stringify(H.g.closeInfo)})`);

  const K = await RawMember.open(cfg, await info(ctx.uk));
  ctx.raw.push(K);
  await K.select();
  const closed = await hostileCase(cfg, c, ctx, 'a 1 MiB binary frame', async () => {
    K.send(28, crypto.randomBytes(1 << 20));
    return K.g.waitClose(5000);
  });
  c.ok(closed && closed.code === 4020, `K's 1 MiB frame: closed ${JSON.stringify(closed)} (4020 expected)`);
  lvsp.endVoiceState({ user_id: K.vi.user_id, session_id: K.vi.session_id });
  return { H, own, kp };
}

/* Stage 2: H in the group races A and B with bad commits on J's round. */
async function memberCases(cfg, c, ctx, lvsp, info, { H, own, kp }) {
  const { A, B } = ctx;
  const e1 = daveView(A).epoch;
  follow(H, own, null);
  H.send(26, kp);
  const e2 = await converge([A, B], 10000, e1);
  c.ok(BigInt(e2.epoch) === BigInt(e1) + 1n && String(own.epoch) === e2.epoch &&
    own.voicePrivacyCode === e2.code, `H joined honestly: A, B and H in epoch ${e2.epoch} with one code`);

  const J = await RawMember.open(cfg, await info(ctx.uj));
  ctx.raw.push(J);
  await J.select();
  const jSess = J.session(await J.bin(25));
  follow(J, jSess, null);
  const users = [A.info.user_id, B.info.user_id, H.vi.user_id, J.vi.user_id];
  const sent = [];
  follow(H, own, (op27) => {
    const r = own.processProposals(op27[0], op27.subarray(1), users);
    const wrongEpoch = Buffer.from(r.commit);
    wrongEpoch.writeBigUInt64BE(wrongEpoch.readBigUInt64BE(13) + 5n, 13);
    const inline = Buffer.from(r.commit);
    inline[29] = 1; /* the first ProposalOrRef: a proposal instead of a reference */
    for (const m of [Buffer.concat([wrongEpoch, r.welcome]), Buffer.concat([inline, r.welcome]), r.commit]) {
      H.send(28, m);
      sent.push(m.length);
    }
  });
  /* A and B answer op 27 HONEST_DELAY_MS late (slow honest clients), so
   * H's bad commits reach the server first and meet its checks. */
  for (const p of [A, B]) {
    const ws = p.conn.state.networking.state.ws;
    const orig = ws.sendBinaryMessage.bind(ws);
    ws.sendBinaryMessage = (op, payload) => {
      if (op === 28) setTimeout(() => orig(op, payload), HONEST_DELAY_MS);
      else orig(op, payload);
    };
  }
  const before = await daveAdmin(cfg);
  const logAt = fs.statSync(cfg.logPath).size;
  J.send(26, jSess.getSerializedKeyPackage());
  const e3 = await converge([A, B], 10000, e2.epoch);
  await sleep(SETTLE_MS);
  const after = await daveAdmin(cfg);
  const refused = after.commit_refused - before.commit_refused;
  const late = after.commit_late - before.commit_late;
  const log = logSince(cfg, logAt);
  const reasons = (log.match(/DAVE op 28 refused: [a-z_ ]+/g) || []).map((l) => l.slice(20));
  c.ok(sent.length === 3 && refused === 3 && reasons.length === 3 && reasons.includes('inline_proposal'),
    `H's 3 bad commits (wrong epoch, inline proposal, no welcome for J) refused: ${refused} ` +
    `(${reasons.join(', ')})`);
  c.ok(late === 1, `the honest commit that lost to the other honest one is late (${late})`);
  c.ok(after.commits - before.commits === 1 && after.invalid_commits === before.invalid_commits,
    `one commit won the round (${after.commits - before.commits}), no member sent op 31`);
  c.ok(BigInt(e3.epoch) === BigInt(e2.epoch) + 1n && String(jSess.epoch) === e3.epoch &&
    jSess.voicePrivacyCode === e3.code && !J.error,
    `J joined despite H: A, B, J in epoch ${e3.epoch} with one code (J: ${J.error || 'ok'})`);
  const dec0 = daveOf(B.conn).session.getDecryptionStats(A.info.user_id);
  await sleep(SETTLE_MS);
  const dec1 = daveOf(B.conn).session.getDecryptionStats(A.info.user_id);
  c.ok(dec1.successes > dec0.successes && dec1.failures === dec0.failures,
    `after the round B decrypts A again (${dec1.successes - dec0.successes} more, ` +
    `${dec1.failures - dec0.failures} failures)`);
}

async function scenario(cfg, c, djs, lvsp, peers, ctx) {
  const { readPackets } = require('./lib/opus_tool');
  const tones = readPackets(cfg.tone440);
  const [guild, channel, ua, ub, uh, uk, uj] = snowflakes(7);
  Object.assign(ctx, { uh, uk, uj, raw: [] });
  const vectors = require('../unit/data/dave/vectors.json');
  ctx.kpVec = vectors.kp_a;
  ctx.commitVec = vectors.commit_add_b;
  const info = async (user) => ({
    ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
    guild_id: guild, channel_id: channel,
  });
  ctx.A = await joinPeer(djs, 'A', await info(ua), peers);
  ctx.B = await joinPeer(djs, 'B', await info(ub), peers);
  const two = await converge([ctx.A, ctx.B], 15000);
  c.ok(/^\d{30}$/.test(two.code), `A and B: epoch ${two.epoch}, privacy code ${two.code}`);
  djs.collectOpus(ctx.B.conn, ua); /* B subscribes: its davey decrypts A */
  ctx.playing = (async () => {
    while (!ctx.stop) await djs.playOpus(ctx.A.conn, tones);
  })();
  await sleep(SETTLE_MS);
  const h = await outsiderCases(cfg, c, ctx, lvsp, info);
  await memberCases(cfg, c, ctx, lvsp, info, h);
  ctx.stop = true;
  await ctx.playing;
}

function clientMain(cfg) {
  runClient(cfg, 'dave_hostile', scenario, {
    cleanup: (ctx) => {
      ctx.stop = true;
      for (const r of ctx.raw || []) r.g.kill();
    },
  });
}

/* ---- parent ------------------------------------------------------------------ */

async function main() {
  const watchdog = setTimeout(() => { console.log('dave_hostile: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dave-hostile-'));
  const { tone440 } = toneFiles(build, workDir, 100);
  const srv = await startServer({ buildDir: build });
  const result = await runChild(__filename, srv, {
    workDir, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, ca: srv.certPath, logPath: srv.logPath,
    adminUrl: srv.adminUrl, adminToken: srv.adminToken() });
  finish('dave_hostile', srv, workDir, result, await childFailures(srv, result));
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`dave_hostile: FAIL ${err.stack || err}`); process.exit(1); });
