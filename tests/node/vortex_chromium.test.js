'use strict';
/*
 * mediasoup-client 3.24.1 (the library Revolt's clients use) in headless
 * Chromium, speaking Vortex (seed 000) to litecord-voice, in one room with
 * a real @discordjs/voice member. The page is lib/vortex_entry.js bundled
 * with esbuild, driven through lib/vortex_peer.js; the djs member is
 * lib/tone_room.js's (it plays a 660 Hz Opus tone made with libopus on
 * "play" and records what it hears from the browser's user).
 *
 * Checked:
 *   - the Vortex flow: Authenticate (userId, rtpCapabilities that make
 *     canProduce('audio') true), RoomInfo lists the djs member with audio,
 *     InitializeTransports, a consumer of the djs member, a producer;
 *   - both transports reach "connected" (ICE-lite, DTLS as signalled, SRTP);
 *   - the browser receives >= 95 % of the djs member's packets on the
 *     consumer (under its own SSRC, not the djs member's) and the decoded audio has energy;
 *   - djs receives the browser's Opus under the browser's user, and
 *     libopus decodes it to 440 Hz (+- 5 Hz);
 *   - a second mediasoup-client page (660 Hz) joins: the two hear each
 *     other (Vortex to Vortex through the receive legs), and while the
 *     first page's consumer of the second is paused on the server
 *     (SetConsumerPause only: the page's consumer keeps running), no
 *     packet of it arrives; resumed, they flow again; and when the second
 *     page closes its producer and makes a new one (a new SSRC, revite's
 *     microphone toggle), the first consumes it anew and hears it; a
 *     server deafen (LVSP) stops everything to the first page, not from it.
 * DAVE is at its default: the Vortex member attaches with e2ee capability
 * 0 (sc_registry_set_e2ee), so the djs member must not encrypt for it.
 * Env: SC_BUILD_DIR, CHROMIUM. Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, FRAMES } = require('./lib/tone_room');

const MIN_RATIO = 0.95;
const MIN_FROM_BROWSER = 100;
const HZ_TOLERANCE = 5;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('vortex_chromium');
const servers = [];

/* Packets the page has received from userId's consumer so far. */
async function from(peer, userId) {
  const s = (await peer.inbound()).find((x) => x.userId === userId);
  return s ? s.packetsReceived : 0;
}

async function pausePhase(browser, srv, peer, vxInfo, info2, lvsp) {
  const { startPeer } = require('./lib/vortex_peer');
  const peer2 = await startPeer(browser, srv, info2, { freq: 660 });
  try {
    const flowing = await waitFor(async () => await from(peer, info2.user_id) > 50 &&
      await from(peer2, vxInfo.user_id) > 50, 15000, 200);
    checks.ok(flowing, `two mediasoup-client pages hear each other: ${await from(peer, info2.user_id)} and ` +
      `${await from(peer2, vxInfo.user_id)} packets`);
    await peer.serverPause(info2.user_id, true);
    await sleep(300); /* what was on the way */
    const n1 = await from(peer, info2.user_id);
    await sleep(1500);
    const n2 = await from(peer, info2.user_id);
    checks.ok(n2 - n1 <= 2, `paused on the server: ${n2 - n1} packets arrived in 1.5 s (${n1} -> ${n2})`);
    checks.ok(await from(peer2, vxInfo.user_id) > 0, 'the other direction is not paused');
    await peer.serverPause(info2.user_id, false);
    checks.ok(await waitFor(async () => await from(peer, info2.user_id) > n2 + 25, 5000, 100),
      `resumed: ${await from(peer, info2.user_id) - n2} packets since`);
    /* The second page closes its producer and makes a new one (a new SSRC
     * on the same send transport): the first consumes it anew and hears it. */
    const before = await peer.state();
    const ssrc2 = await peer2.reproduce(660);
    const again = await waitFor(async () => {
      const st = await peer.state();
      const c = st.consumers.find((x) => x.userId === info2.user_id);
      return c && before.consumers.every((x) => x.id !== c.id) && await from(peer, info2.user_id) > 25;
    }, 10000, 200);
    checks.ok(again, `a new producer (SSRC ${ssrc2}) on the same transport is consumed and heard: ` +
      `${await from(peer, info2.user_id)} packets, errors ${JSON.stringify((await peer.state()).errors)}`);
    /* Litecord deafens the first page's user: its receive leg gets nothing. */
    const { INFO_LATER } = require('./lib/lvsp_client');
    lvsp.info(INFO_LATER.VST_UPDATE, { user_id: vxInfo.user_id, guild_id: vxInfo.guild_id, deaf: true });
    await sleep(300);
    const d1 = await from(peer, info2.user_id);
    const o1 = await from(peer2, vxInfo.user_id);
    await sleep(1500);
    const d2 = await from(peer, info2.user_id);
    checks.ok(d2 - d1 <= 2, `server-deafened: ${d2 - d1} packets reached the deafened page in 1.5 s`);
    checks.ok(await from(peer2, vxInfo.user_id) > o1 + 25, 'the deafened user is still heard');
  } finally {
    await peer2.close();
  }
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/vortex_peer');
  const room = await openRoom({ buildDir, servers });
  const { srv, lvsp, channel_id, tool } = room;
  const djsInfo = await room.member();
  const vxInfo = await room.member();

  const djs = room.startDjs({ info: djsInfo, listenTo: vxInfo.user_id, rxName: 'from-vortex.opus', group: 'webrtc-djs' });
  const b = await launchBrowser();
  let peer = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    peer = await startPeer(b.browser, srv, vxInfo, { freq: 440 });
    const j = peer.joined;
    checks.ok(j.userId === vxInfo.user_id, `Authenticate answers userId ${j.userId}`);
    checks.ok(j.canProduce === true, 'the router capabilities let Chrome produce audio (opus channels 2)');
    checks.ok(j.roomInfo.id === channel_id && j.roomInfo.videoAllowed === false &&
      j.roomInfo.users[djsInfo.user_id] && j.roomInfo.users[djsInfo.user_id].audio === true,
      `RoomInfo lists the djs member with audio: ${JSON.stringify(j.roomInfo)}`);
    checks.ok(j.producerId === vxInfo.user_id, `StartProduce answers producerId ${j.producerId}`);
    checks.ok(await waitFor(async () => {
      const s = await peer.state();
      return s.sendState === 'connected' && s.recvState === 'connected';
    }, 15000), `both transports connected: ${JSON.stringify(await peer.state())}`);
    const state = await peer.state();
    checks.ok(state.consumers.length === 1 && state.consumers[0].userId === djsInfo.user_id,
      `one consumer, of the djs member: ${JSON.stringify(state.consumers)}`);
    await sleep(300);

    djs.say('play');
    await sleep(FRAMES * 20 + 800);
    const inbound = (await peer.inbound()).find((s) => s.userId === djsInfo.user_id) ||
      { packetsReceived: 0, totalAudioEnergy: 0 };
    const res = await djs.finish();
    checks.ok(res.sent > 0 && inbound.packetsReceived >= res.sent * MIN_RATIO,
      `browser received ${inbound.packetsReceived}/${res.sent} of the djs member's packets (SSRC ${djs.ready.ssrc})`);
    checks.ok(inbound.ssrc && inbound.ssrc !== djs.ready.ssrc,
      `the consumer has its own SSRC (${inbound.ssrc}), not the djs member's (${djs.ready.ssrc})`);
    checks.ok(inbound.totalAudioEnergy > 0, `the consumer's decoded audio has energy: totalAudioEnergy ${inbound.totalAudioEnergy}`);
    checks.ok(res.received >= MIN_FROM_BROWSER, `djs received ${res.received} Opus packets from the mediasoup-client browser`);
    if (res.received > 0) {
      const a = tool.analyze(djs.rxFile);
      checks.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
        `libopus decodes the browser's audio to ${a.dominant_hz} Hz (want 440 +- ${HZ_TOLERANCE}), rms ${a.rms}`);
    }
    const st2 = await peer.state();
    checks.ok(st2.errors.length === 0, `no Vortex error replies: ${JSON.stringify(st2.errors)}`);
    await pausePhase(b.browser, srv, peer, vxInfo, await room.member(), lvsp);
  } finally {
    if (peer) await peer.close();
    await b.close();
    djs.kill();
    await room.close();
  }
}

run('vortex_chromium', 120000, body, { checks: () => checks, servers: () => servers });
