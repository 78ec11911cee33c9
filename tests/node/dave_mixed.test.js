'use strict';
/*
 * A DAVE call and a member of another front end (shared/reference/
 * dave-server.md 2.5, seed-frontends.md 0): two real @discordjs/voice
 * 0.19.2 + @snazzah/davey members A and B in an E2EE call, and a real
 * mediasoup-client member (Vortex front end, lib/vortex_peer.js, in
 * headless Chromium) that joins and leaves while A talks.
 *  - before: A and B at protocol 1 in one epoch with one privacy code;
 *  - the Vortex member joins: A and B each get op 21 {protocol_version 0,
 *    transition_id T != 0} and then op 22 {T}, end at protocol 0; /state
 *    says the call is at 0 with one foreign member;
 *  - B heard A all through the downgrade (>= 95 % of A's packets, which
 *    libopus decodes to A's 440 Hz); then the Vortex member hears A
 *    (>= 95 % of A's packets, audio energy) and B hears the Vortex
 *    member's 880 Hz;
 *  - the Vortex member leaves: A and B get op 24 {protocol_version 1},
 *    then op 22 for the new group, and converge to protocol 1 in one epoch
 *    with one code; B heard A's 440 Hz all through the upgrade, and after
 *    it B's davey decrypts A's frames (E2EE again).
 * The djs members and the browser run in the child (djs needs the server's
 * CA). Env: SC_BUILD_DIR, CHROMIUM. Exit 0 = pass.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, snowflakes } = require('./lib/checks');
const { runClient, runChild, childFailures, finish } = require('./lib/child_run');
const { daveOf, daveView, converge, joinPeer, daveAdmin } = require('./lib/dave');

const WATCHDOG_MS = 150000;
const TALK_FRAMES = 300; /* 6 s of A talking across each transition */
const MIN_RATIO = 0.95;
const HZ_TOLERANCE = 5;

/* ---- client side (child) ----------------------------------------------------- */

async function waitFor(cond, timeoutMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

/* The DAVE transition frames (ops 21, 22, 24) a peer received, in order. */
function transitions(djs, peer) {
  return djs.gatewayFrames(peer.debugLines, '<<').filter((f) => [21, 22, 24].includes(f.op));
}

/* A talks (TALK_FRAMES of 440 Hz) while `during` runs one second in: how
 * many A sent, and what B's receiver delivered of A meanwhile. */
async function talkThrough(djs, A, B, tones, during) {
  const got = djs.collectOpus(B.conn, A.info.user_id);
  const from = got.packets.length;
  const playing = djs.playOpus(A.conn, tones);
  await sleep(1000);
  await during();
  const sent = await playing;
  await sleep(500);
  return { sent, packets: got.packets.slice(from) };
}

function checkHeard(c, cfg, label, { sent, packets }) {
  const { opusTool } = require('./lib/opus_tool');
  const a = packets.length ? opusTool(cfg.buildDir).analyzePackets(packets, path.join(cfg.workDir, `${label}.opus`))
    : { dominant_hz: 0, rms: 0 };
  c.ok(sent === TALK_FRAMES && packets.length >= MIN_RATIO * sent,
    `${label}: B got ${packets.length} of the ${sent} packets A played`);
  c.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
    `${label}: libopus decodes them to ${a.dominant_hz} Hz (A plays 440), rms ${a.rms}`);
}

async function downgrade(cfg, c, djs, ctx, [A, B], vF, tones) {
  const { startPeer } = require('./lib/vortex_peer');
  const before = [A, B].map((p) => transitions(djs, p).length);
  const heard = await talkThrough(djs, A, B, tones, async () => {
    ctx.foreign = await startPeer(ctx.browser.browser, { ports: cfg.ports }, vF, { freq: 880 });
    const ms = await waitFor(() => [A, B].every((p) => daveOf(p.conn).protocolVersion === 0), 10000);
    c.ok(ms >= 0, `Vortex member joined: A and B at protocol ${[A, B].map((p) => daveOf(p.conn).protocolVersion)}`);
  });
  [A, B].forEach((p, i) => {
    const seen = transitions(djs, p).slice(before[i]);
    const tid = seen.length && seen[0].d.transition_id;
    c.ok(seen.length === 2 && seen[0].op === 21 && seen[0].d.protocol_version === 0 && tid !== 0 &&
      seen[1].op === 22 && seen[1].d.transition_id === tid,
    `${p.name} saw op 21 to protocol 0 then op 22 of that transition: ${JSON.stringify(seen)}`);
  });
  checkHeard(c, cfg, 'through the downgrade', heard);
  const st = (await daveAdmin(cfg)).channels[ctx.channel];
  c.ok(st && st.version === 0 && st.foreign_members === 1 && st.members === 2,
    `/state: the call at protocol 0 with one foreign member: ${JSON.stringify(st)}`);
  /* At protocol 0 the Vortex member hears A (it joined while A talked). */
  /* A Vortex consumer has its own SSRC: its stats name the user. */
  const ofA = async () => (await ctx.foreign.inbound()).find((s) => s.userId === A.info.user_id) ||
    { packetsReceived: 0, totalAudioEnergy: 0 };
  const v0 = await ofA();
  const sent = await djs.playOpus(A.conn, tones.slice(0, 100));
  await sleep(500);
  const v1 = await ofA();
  c.ok(v1.packetsReceived - v0.packetsReceived >= MIN_RATIO * sent &&
    v1.totalAudioEnergy > v0.totalAudioEnergy,
  `the Vortex member got ${v1.packetsReceived - v0.packetsReceived} of A's ${sent} packets, ` +
    `audio energy ${v0.totalAudioEnergy} -> ${v1.totalAudioEnergy}`);
}

/* B hears the Vortex member's 880 Hz (it produces from its join on). */
async function hearForeign(cfg, c, djs, B, vF) {
  const { opusTool } = require('./lib/opus_tool');
  const got = djs.collectOpus(B.conn, vF.user_id);
  await sleep(2000);
  const a = got.packets.length
    ? opusTool(cfg.buildDir).analyzePackets(got.packets, path.join(cfg.workDir, 'from-vortex.opus'))
    : { dominant_hz: 0 };
  c.ok(got.packets.length >= 90 && Math.abs(a.dominant_hz - 880) <= HZ_TOLERANCE,
    `B got ${got.packets.length} packets of the Vortex member in 2 s, decoded to ${a.dominant_hz} Hz (880)`);
}

async function upgrade(cfg, c, djs, lvsp, ctx, [A, B], vF, tones) {
  const before = [A, B].map((p) => transitions(djs, p).length);
  const decrypted = () => daveOf(B.conn).session.getDecryptionStats(A.info.user_id).successes;
  let up = null;
  const heard = await talkThrough(djs, A, B, tones, async () => {
    await ctx.foreign.close();
    ctx.foreign = null;
    lvsp.endVoiceState({ user_id: vF.user_id, session_id: vF.session_id });
    up = await converge([A, B], 15000);
  });
  c.ok(up && up.code, `Vortex member left: A and B back at protocol 1, epoch ${up && up.epoch}, one code`);
  [A, B].forEach((p, i) => {
    const seen = transitions(djs, p).slice(before[i]);
    const at24 = seen.findIndex((f) => f.op === 24 && f.d.protocol_version === 1);
    c.ok(at24 >= 0 && seen.slice(at24 + 1).some((f) => f.op === 22),
      `${p.name} saw op 24 to protocol 1, then op 22 of the new group: ${JSON.stringify(seen)}`);
  });
  checkHeard(c, cfg, 'through the upgrade', heard);
  const d0 = decrypted();
  const after = await talkThrough(djs, A, B, tones.slice(0, 100), async () => {});
  c.ok(decrypted() - d0 >= MIN_RATIO * after.sent,
    `after the upgrade B's davey decrypted ${decrypted() - d0} of A's ${after.sent} frames`);
  const st = (await daveAdmin(cfg)).channels[ctx.channel];
  c.ok(st && st.version === 1 && st.foreign_members === 0, `/state: ${JSON.stringify(st)}`);
}

async function scenario(cfg, c, djs, lvsp, peers, ctx) {
  const { readPackets } = require('./lib/opus_tool');
  const { launchBrowser } = require('./lib/chromium');
  const tones = readPackets(cfg.tone440).slice(0, TALK_FRAMES);
  const [guild, channel, ua, ub, uf] = snowflakes(5);
  ctx.channel = channel;
  const info = async (user) => ({
    ...(await lvsp.requestVoiceState({ user_id: user, channel_id: channel, guild_id: guild })),
    guild_id: guild,
  });
  const A = await joinPeer(djs, 'A', await info(ua), peers);
  const B = await joinPeer(djs, 'B', await info(ub), peers);
  const two = await converge([A, B], 15000);
  c.ok(/^\d{30}$/.test(two.code), `A and B: protocol 1, epoch ${two.epoch}, one privacy code`);
  ctx.browser = await launchBrowser();
  const vF = await info(uf);
  await downgrade(cfg, c, djs, ctx, [A, B], vF, tones);
  await hearForeign(cfg, c, djs, B, vF);
  await upgrade(cfg, c, djs, lvsp, ctx, [A, B], vF, tones);
  c.ok(daveView(A).code === daveView(B).code, 'A and B end with one privacy code');
  await ctx.browser.close();
  ctx.browser = null;
}

function clientMain(cfg) {
  runClient(cfg, 'dave_mixed', scenario, {
    watchdogMs: WATCHDOG_MS - 10000,
    cleanup: (ctx) => {
      if (ctx.browser) ctx.browser.close();
    },
  });
}

/* ---- parent ------------------------------------------------------------------ */

async function main() {
  const watchdog = setTimeout(() => { console.log('dave_mixed: FAIL (timed out)'); process.exit(1); }, WATCHDOG_MS);
  watchdog.unref();
  const { startServer } = require('./lib/server');
  const { toneFiles } = require('./lib/opus_tool');
  const buildDir = process.env.SC_BUILD_DIR || path.resolve(__dirname, '..', '..', 'build');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dave-mixed-'));
  const { tone440 } = toneFiles(buildDir, workDir, TALK_FRAMES);
  const srv = await startServer({ buildDir });
  const result = await runChild(__filename, srv, {
    workDir, buildDir, lvspUrl: srv.lvspUrl, secret: srv.secret, tone440, ports: srv.ports,
    adminUrl: srv.adminUrl, adminToken: srv.adminToken() });
  finish('dave_mixed', srv, workDir, result, await childFailures(srv, result));
}

if (process.argv[2] === '--client') clientMain(JSON.parse(process.argv[3]));
else main().catch((err) => { console.log(`dave_mixed: FAIL ${err.stack || err}`); process.exit(1); });
