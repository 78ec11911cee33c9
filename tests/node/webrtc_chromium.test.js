'use strict';
/*
 * A real browser and a real Discord library in one room: headless
 * Chromium (Debian's, puppeteer-core; lib/chromium.js) runs the "Discord
 * web client" page (lib/webrtc_page.html: op 1 fragment from its own
 * offer, the full answer synthesized from op 4's eight lines, a 440 Hz
 * WebAudio oscillator as its microphone, received tracks played into
 * <audio> elements); the test speaks the gateway for it (GwClient). An
 * @discordjs/voice client (child process: djs needs NODE_EXTRA_CA_CERTS)
 * is the other member and plays a 660 Hz Opus tone made with libopus
 * (tests/tools/opus_tone).
 *
 * Checked:
 *   - the browser's RTCPeerConnection reaches "connected" (ICE-lite +
 *     DTLS 1.2 + SRTP against the server);
 *   - the browser receives >= 95 % of the djs member's packets (its
 *     inbound-rtp for the SSRC op 5 announced) and the decoded audio has
 *     energy (totalAudioEnergy > 0);
 *   - djs receives the browser's Opus under the browser member's user,
 *     at least MIN_FROM_BROWSER packets, and libopus decodes it to a
 *     440 Hz tone (+- 5 Hz);
 *   - resume: one second into the tone the browser's gateway socket is
 *     dropped (no close frame) and it resumes (op 7 -> op 9) on a new
 *     one; the counts above span the drop, so media never stopped.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { GwClient, heartbeats, webGateway } = require('./lib/gw_client');
const { openRoom, FRAMES } = require('./lib/tone_room');

const MIN_RATIO = 0.95;
const MIN_FROM_BROWSER = 100;
const HZ_TOLERANCE = 5;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');

const checks = new Checks('webrtc_chromium');
const servers = [];

async function browserGateway(srv, ca, info) {
  const gw = await webGateway(srv, ca, info);
  gw.g.send(16, {});
  gw.g.send(12, { audio_ssrc: 0, video_ssrc: 0, rtx_ssrc: 0, streams: [] });
  return gw;
}

async function body() {
  const { launchChromium } = require('./lib/chromium');
  const room = await openRoom({ buildDir, servers });
  const { srv, ca, tool } = room;
  const djsInfo = await room.member();
  const webInfo = await room.member();

  const djs = room.startDjs({ info: djsInfo, listenTo: webInfo.user_id, rxName: 'from-browser.opus', group: 'webrtc-djs' });
  const ch = await launchChromium();
  let g = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    const gw = await browserGateway(srv, ca, webInfo);
    g = gw.g;
    const { id, d } = await ch.page.evaluate(() => startClient({ video: true }));
    g.send(1, d);
    const op4 = await g.take(4);
    checks.ok(typeof op4.d.sdp === 'string' && op4.d.audio_codec === 'opus', 'op 4 with an sdp');
    const op5 = await g.take(5, { pred: (f) => f.d && f.d.user_id === djsInfo.user_id });
    checks.ok(op5.d.ssrc === djs.ready.ssrc && op5.d.ssrc !== 0, `op 5 announces the djs member's SSRC ${op5.d.ssrc}`);
    const applied = await ch.page.evaluate((i, sdp, remotes) => applyAnswer(i, sdp, remotes), id, op4.d.sdp,
      [{ user_id: djsInfo.user_id, ssrc: op5.d.ssrc, kind: 'audio' }]);
    checks.ok(applied.ok, `the browser accepts the synthesized answer ${applied.error || ''}`);
    const stats = () => ch.page.evaluate((i) => clientStats(i), id);
    checks.ok(await waitFor(async () => (await stats()).connectionState === 'connected', 15000),
      `browser connectionState ${(await stats()).connectionState}`);
    const out = (await stats()).outbound[0];
    g.send(5, { speaking: 1, delay: 5, ssrc: out ? out.ssrc : 0 });
    await sleep(300);

    djs.say('play');
    await sleep(1000);
    g.stopHeartbeat();
    await g.kill(); /* the browser's socket drops; it resumes on a new one */
    g = await GwClient.open(srv.endpoint, { ca, version: 8 });
    heartbeats(g, await g.take(8));
    g.send(7, { server_id: webInfo.guild_id, session_id: webInfo.session_id, token: webInfo.token, seq_ack: -1 });
    const resumed = await g.take(9).then(() => true, () => false);
    checks.ok(resumed, 'the browser member resumed (op 9) on a new socket');
    await sleep(FRAMES * 20 + 500);
    const st = await stats();
    const res = await djs.finish();
    const inbound = st.inbound.find((s) => s.ssrc === op5.d.ssrc) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(res.sent > 0 && inbound.packetsReceived >= res.sent * MIN_RATIO,
      `browser received ${inbound.packetsReceived}/${res.sent} of the djs member's packets (SSRC ${op5.d.ssrc})`);
    checks.ok(inbound.totalAudioEnergy > 0, `browser's decoded audio has energy: totalAudioEnergy ${inbound.totalAudioEnergy}`);
    checks.ok(res.received >= MIN_FROM_BROWSER, `djs received ${res.received} Opus packets from the browser`);
    if (res.received > 0) {
      const a = tool.analyze(djs.rxFile);
      checks.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
        `libopus decodes the browser's audio to ${a.dominant_hz} Hz (want 440 +- ${HZ_TOLERANCE}), rms ${a.rms}`);
    }
  } finally {
    if (g) {
      g.stopHeartbeat();
      g.kill();
    }
    await ch.close();
    djs.kill();
    await room.close();
  }
}

run('webrtc_chromium', 120000, body, { checks: () => checks, servers: () => servers });
