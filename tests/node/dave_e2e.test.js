'use strict';
/*
 * DAVE (E2EE) end to end with the real clients: @discordjs/voice 0.19.2 +
 * @snazzah/davey 0.1.12 against litecord-voice as Delivery Service
 * (shared/reference/dave-server.md). Judged only from the clients' state:
 *  - A and B join one channel: both reach DAVE protocol 1, davey status
 *    active in the same epoch, equal 30-digit voice privacy codes;
 *  - A plays Opus: what reaches B's DAVE layer ends with the FA FA
 *    marker and is not the plaintext (the server forwarded ciphertext),
 *    and what B's receiver delivers is exactly what A played;
 *  - C joins: the three share the next epoch and one privacy code;
 *    /state's per-channel DAVE view follows (protocol 1, epoch 1 -> 2,
 *    members and group members 2 -> 3, no key package pending) and holds
 *    nothing but those counts (no keys, no key packages);
 *  - C leaves: A and B move to a new epoch together, audio goes on;
 *  - B's socket drops and resumes: the group stays (same epoch), audio goes on;
 *  - discord.py 2.2.2 (no DAVE) joins while A plays: A and B go to protocol
 *    0; discord.py never gets a frame ending FA FA and hears A's plain Opus
 *    byte for byte, as does B; discord.py leaves: A and B are upgraded back
 *    to protocol 1 in a new group, audio E2EE again;
 *  - B leaves: A, alone, is reset to a pending group; E joins: A and E form
 *    a new group and E's audio reaches A decrypted.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, ts, snowflakes } = require('./lib/checks');
const { startDpy } = require('./lib/dpy_client');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');
const { daveOf, daveView, converge, joinPeer, daveAdmin } = require('./lib/dave');

const WATCHDOG_MS = 150000;
const TONE_FRAMES = 100;
const LONG_TONE_FRAMES = 250; /* A plays through discord.py's join */

/* ---- client side (child: djs needs the server's CA) ---------------------- */

/* The DAVE frame marker: an E2EE frame ends FA FA. */
const endsFaFa = (p) => p.length > 2 && p[p.length - 1] === 0xfa && p[p.length - 2] === 0xfa;

/* Records what reaches `peer`'s DAVE layer from senders (transport-decrypted). */
function tapDave(peer) {
  const d = daveOf(peer.conn);
  const frames = [];
  const orig = d.decrypt.bind(d);
  d.decrypt = (packet, userId) => {
    frames.push(Buffer.from(packet));
    return orig(packet, userId);
  };
  return frames;
}

/* `from` plays tones to `to`: what reached to's DAVE layer (frames), what
 * its receiver delivered (got), how many were played (sent) and how many
 * delivered packets are one of the tones byte for byte (intact). */
async function playTo(djs, from, to, tones) {
  const frames = tapDave(to);
  const got = djs.collectOpus(to.conn, from.info.user_id);
  const sent = await djs.playOpus(from.conn, tones);
  await sleep(600);
  const sentSet = new Set(tones.map((p) => p.toString('hex')));
  const intact = got.packets.filter((p) => sentSet.has(p.toString('hex'))).length;
  return { frames, got, sent, sentSet, intact };
}

async function transfer(c, djs, from, to, tones, label) {
  const { frames, got, sent, sentSet, intact } = await playTo(djs, from, to, tones);
  const marked = frames.filter(endsFaFa);
  const plain = frames.filter((f) => sentSet.has(f.toString('hex'))).length;
  c.ok(sent === tones.length && intact >= 0.9 * sent && intact === got.packets.length,
    `${label}: ${to.name} got ${got.packets.length} packets of ${from.name}, ${intact} identical to ` +
    `the ${sent} played`);
  c.ok(frames.length >= 0.9 * sent && marked.length === frames.length && plain === 0,
    `${label}: ${frames.length} forwarded frames reached ${to.name}'s DAVE layer, ${marked.length} end ` +
    `FA FA, ${plain} are plaintext`);
  const stats = daveOf(to.conn).session.getDecryptionStats(from.info.user_id);
  c.ok(stats && stats.successes > 0, `${label}: ${to.name}'s davey decrypted ${JSON.stringify(stats)}`);
  return { sent, intact };
}

async function waitFor(cond, timeoutMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (cond()) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

/* discord.py joins while A plays (downgrade), then leaves (upgrade). */
async function legacyJoinsAndLeaves(cfg, c, djs, lvsp, ctx, peers, info) {
  const { readPackets } = require('./lib/opus_tool');
  const [A, B] = peers;
  const tones = readPackets(cfg.tone440);
  const before = daveView(A).epoch;
  const playing = djs.playOpus(A.conn, tones);
  await sleep(500);
  const vD = await info(ctx.userD);
  ctx.dpy = startDpy({ ...vD, ca: cfg.ca, log: path.join(cfg.workDir, 'dpy.log') },
    (l) => console.log(`${ts()} [dave] ${l}`));
  const ready = await ctx.dpy.next('ready');
  c.ok(ready.event === 'ready', `discord.py joined in ${ready.mode}`);
  const ms = await waitFor(() => [A, B].every((p) => daveOf(p.conn).protocolVersion === 0), 10000);
  c.ok(ms >= 0, `downgrade: A and B at protocol ${[A, B].map((p) => daveOf(p.conn).protocolVersion)} ` +
    `(${ms} ms after discord.py was ready)`);
  await playing;
  await sleep(500);
  const dumpFile = path.join(cfg.workDir, 'dpy-from-A.opus');
  ctx.dpy.send({ cmd: 'dump', ssrc: djs.connectionData(A.conn).ssrc, file: dumpFile });
  const dumped = await ctx.dpy.next('dumped');
  const got = readPackets(dumpFile);
  const sentSet = new Set(tones.map((p) => p.toString('hex')));
  c.ok(dumped.bad === 0 && got.length > 0 && got.filter(endsFaFa).length === 0,
    `discord.py got ${got.length} packets of A while the call downgraded, ${got.filter(endsFaFa).length} ` +
    `ending FA FA (${dumped.bad} failed transport decryption)`);
  c.ok(got.filter((p) => sentSet.has(p.toString('hex'))).length === got.length,
    'every packet discord.py got is A\'s plain Opus, byte for byte');
  const plain = await transferPlain(c, djs, A, B, tones.slice(0, TONE_FRAMES));
  c.ok(plain, 'at protocol 0, B hears A\'s plain Opus');

  ctx.dpy.send({ cmd: 'quit' });
  await ctx.dpy.next('bye');
  lvsp.endVoiceState({ user_id: vD.user_id, session_id: vD.session_id });
  const up = await converge([A, B], 15000);
  c.ok(up.code && up.epoch, `discord.py left: A and B upgraded to protocol 1, epoch ${up.epoch} ` +
    `(group before the downgrade: ${before}), equal codes (${up.ms} ms)`);
  await transfer(c, djs, A, B, tones.slice(0, TONE_FRAMES), 'after the upgrade');
}

/* At protocol 0: B's receiver gets A's Opus as played, none of it E2EE. */
async function transferPlain(c, djs, from, to, tones) {
  const { frames, sent, intact } = await playTo(djs, from, to, tones);
  c.ok(sent === tones.length && intact >= 0.9 * sent && frames.filter(endsFaFa).length === 0,
    `protocol 0: ${to.name} got ${intact}/${sent} of ${from.name}'s packets intact, ` +
    `${frames.filter(endsFaFa).length} of ${frames.length} frames E2EE`);
  return intact >= 0.9 * sent;
}

/* A hostile member H (a bare socket claiming DAVE) sends a key package
 * of another user, garbage as op 26 and op 28: refused; A and B stay in
 * their epoch and keep hearing each other. */
async function hostileMember(cfg, c, djs, lvsp, peers, info, userH, tones) {
  const { GwClient } = require('./lib/gw_client');
  const [A, B] = peers;
  const before = daveView(A);
  const vH = await info(userH);
  const g = await GwClient.open(vH.endpoint, { ca: fs.readFileSync(cfg.ca), version: 8 });
  g.send(0, { server_id: vH.guild_id, user_id: userH, session_id: vH.session_id, token: vH.token,
    max_dave_protocol_version: 1 });
  await g.take(2);
  g.send(1, { protocol: 'udp', data: { address: '127.0.0.1', port: 9, mode: 'aead_aes256_gcm_rtpsize' } });
  const op4 = await g.take(4);
  c.ok(op4.d.dave_protocol_version === 1, `hostile H told DAVE version ${op4.d.dave_protocol_version}`);
  const kpOther = Buffer.from(require('../unit/data/dave/vectors.json').kp_a, 'hex');
  g.sendRaw(Buffer.concat([Buffer.from([26]), kpOther]));
  g.sendRaw(Buffer.concat([Buffer.from([26]), require('node:crypto').randomBytes(390)]));
  g.sendRaw(Buffer.concat([Buffer.from([28]), require('node:crypto').randomBytes(900)]));
  g.sendRaw(Buffer.from([30, 0, 1]));
  await sleep(300);
  const after = daveView(A);
  c.ok(after.epoch === before.epoch && after.code === before.code && daveView(B).code === before.code,
    `H's frames changed nothing: A and B still in epoch ${after.epoch} with one code`);
  c.ok(g.closeInfo === null, `H's socket is still open (${JSON.stringify(g.closeInfo)})`);
  await transfer(c, djs, A, B, tones, 'with a hostile member');
  g.kill();
  lvsp.endVoiceState({ user_id: userH, session_id: vH.session_id });
  await sleep(200);
}

/* The channel's DAVE view in /state. */
async function daveState(cfg, channel) {
  return (await daveAdmin(cfg)).channels[channel];
}

function checkDaveState(c, v, epoch, members, label) {
  const keys = Object.keys(v || {}).sort().join();
  c.ok(keys === 'epoch,foreign_members,group_members,members,pending_key_packages,proposals,transition,version',
    `${label}: /state DAVE fields ${keys}`);
  c.ok(v && v.version === 1 && String(v.epoch) === epoch && v.members === members &&
    v.group_members === members && v.pending_key_packages === 0 && v.foreign_members === 0,
    `${label}: /state says ${JSON.stringify(v)} (epoch ${epoch}, ${members} in the group expected)`);
}

async function scenario(cfg, c, djs, lvsp, peers, ctx) {
  const { readPackets } = require('./lib/opus_tool');
  const tones = readPackets(cfg.tone440).slice(0, TONE_FRAMES);
  const [guild, channel, ua, ub, uc, ud, ue, uh] = snowflakes(8);
  ctx.userH = uh;
  ctx.userD = ud;
  ctx.userE = ue;
  const info = async (user) => ({
    ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
    guild_id: guild,
  });
  const A = await joinPeer(djs, 'A', await info(ua), peers);
  const B = await joinPeer(djs, 'B', await info(ub), peers);
  const two = await converge([A, B], 15000);
  c.ok(/^\d{30}$/.test(two.code), `A and B: protocol 1, epoch ${two.epoch}, privacy code ${two.code} ` +
    `(${two.ms} ms after B was Ready)`);
  await transfer(c, djs, A, B, tones, 'two members');
  checkDaveState(c, await daveState(cfg, channel), two.epoch, 2, 'A and B');
  await hostileMember(cfg, c, djs, lvsp, [A, B], info, ctx.userH, tones);

  const C = await joinPeer(djs, 'C', await info(uc), peers);
  const three = await converge([A, B, C], 15000, two.epoch);
  c.ok(BigInt(three.epoch) > BigInt(two.epoch),
    `A, B, C: one epoch ${three.epoch} (was ${two.epoch}), one privacy code (${three.ms} ms)`);
  await transfer(c, djs, A, C, tones, 'three members');
  checkDaveState(c, await daveState(cfg, channel), three.epoch, 3, 'C joined');

  /* Leaving: the client disconnects and Litecord ends its voice state. */
  C.conn.destroy();
  lvsp.endVoiceState({ user_id: C.info.user_id, session_id: C.info.session_id });
  const after = await converge([A, B], 15000, three.epoch);
  c.ok(BigInt(after.epoch) > BigInt(three.epoch),
    `C left: A and B in epoch ${after.epoch} (was ${three.epoch}), equal codes (${after.ms} ms)`);
  await transfer(c, djs, A, B, tones, 'after C left');

  /* B's socket drops; djs resumes on a new one. */
  const nw = B.conn.state.networking;
  nw.state.ws.ws._socket.destroy();
  await sleep(3000);
  const resumed = await converge([A, B], 15000);
  const op7 = djs.gatewayFrames(B.debugLines, '>>').filter((f) => f.op === 7).length;
  c.ok(op7 === 1 && resumed.epoch === after.epoch,
    `B resumed (${op7} op 7 sent): still epoch ${resumed.epoch} (was ${after.epoch})`);
  await transfer(c, djs, A, B, tones, 'after resume');

  await legacyJoinsAndLeaves(cfg, c, djs, lvsp, ctx, [A, B], info);

  /* B leaves: A, alone, starts over (pending, epoch 0); E joins: a new group. */
  B.conn.destroy();
  lvsp.endVoiceState({ user_id: B.info.user_id, session_id: B.info.session_id });
  const ms = await waitFor(() => {
    const v = daveView(A);
    return v.version === 1 && v.status === 1 && v.epoch === '0';
  }, 10000);
  c.ok(ms >= 0, `B left: A alone is reset to a pending group, epoch 0 (${JSON.stringify(daveView(A))})`);
  const E = await joinPeer(djs, 'E', await info(ctx.userE), peers);
  const again = await converge([A, E], 15000);
  c.ok(again.epoch === '1', `E joined: A and E in a new group, epoch ${again.epoch}, equal codes`);
  await transfer(c, djs, E, A, tones, 'new group');
}

function clientMain(cfg) {
  runClient(cfg, 'dave', scenario, {
    cleanup: (ctx) => { if (ctx.dpy && ctx.dpy.proc.exitCode === null) ctx.dpy.proc.kill('SIGKILL'); },
  });
}

/* ---- parent ------------------------------------------------------------------ */

async function main() {
  const watchdog = setTimeout(() => { console.log('dave_e2e: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const build = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dave-e2e-'));
  const { tone440 } = toneFiles(build, workDir, LONG_TONE_FRAMES);
  const srv = await startServer({ buildDir: build });
  const result = await runChild(__filename, srv, {
    workDir, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, ca: srv.certPath,
    adminUrl: srv.adminUrl, adminToken: srv.adminToken() });
  finish('dave_e2e', srv, workDir, result, await childFailures(srv, result));
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`dave_e2e: FAIL ${err.stack || err}`); process.exit(1); });
