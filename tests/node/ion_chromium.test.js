'use strict';
/*
 * ion-sdk-js 0.4.1 (the ion/protoo client library, bundled with esbuild:
 * lib/ion_peer.js) in headless Chromium, and a real @discordjs/voice
 * member, in one room of the real server (docs/ION.md).
 *
 * The ion page joins with the voice token in the URL (?token=, uid = the
 * token's user), publishes a 440 Hz WebAudio sine (its publish peer
 * connection is the voice state's own media member) and subscribes to
 * every stream the server announces (stream-add with tracks): the djs
 * member's (a down leg carrying that source only). The djs member (child
 * process: djs needs NODE_EXTRA_CA_CERTS) plays a 660 Hz Opus tone made
 * with libopus once the ion subscription is connected.
 *
 * Checked:
 *   - ion-sdk-js's join and publish succeed, and it learns the djs
 *     member's stream (mid "<user>-<ssrc>") and subscribes to it;
 *   - the subscribe peer connection reaches "connected" (ICE-lite,
 *     DTLS, SRTP, direction sendonly from us);
 *   - the page receives >= 95 % of the djs member's packets, under the
 *     djs member's SSRC, and the decoded audio has energy
 *     (totalAudioEnergy > 0, from the subscribe PC's getStats);
 *   - djs receives the ion client's Opus under its user (it learnt the
 *     SSRC from Speaking) and libopus decodes it to 440 Hz (+- 5 Hz);
 *   - a second ion client (550 Hz) in the same room: the two subscribe
 *     to each other and receive each other's audio with energy (ion to
 *     ion through the publish member and a leg); nobody receives itself.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, FRAMES } = require('./lib/tone_room');

const MIN_RATIO = 0.95;
const MIN_FROM_ION = 100;
const HZ_TOLERANCE = 5;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('ion_chromium');
const servers = [];

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/ion_peer');
  const room = await openRoom({ buildDir, servers });
  const { srv, tool } = room;
  const djsInfo = await room.member();
  const ionInfo = await room.member();
  const ion2Info = await room.member();

  const djs = room.startDjs({ info: djsInfo, listenTo: ionInfo.user_id, rxName: 'from-ion.opus', group: 'ion-djs' });
  const b = await launchBrowser();
  let peer = null;
  let peer2 = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    peer = await startPeer(b.browser, srv, ionInfo, { freq: 440 });
    checks.ok(new RegExp(`^${ionInfo.user_id}-\\d+$`).test(peer.mid || ''), `ion-sdk-js published, mid ${peer.mid}`);
    const djsMid = `${djsInfo.user_id}-${djs.ready.ssrc}`;
    checks.ok(await waitFor(async () => (await peer.state()).streams.includes(djsMid), 10000),
      `ion-sdk-js learnt the djs member's stream ${djsMid}: ${JSON.stringify((await peer.state()).streams)}`);
    const connected = (st, role) => st.pcs.some((p) => p.role === role && p.connectionState === 'connected');
    checks.ok(await waitFor(async () => connected(await peer.state(), 'publish'), 15000),
      `publish peer connection connected: ${JSON.stringify((await peer.state()).pcs)}`);
    checks.ok(await waitFor(async () => connected(await peer.state(), 'subscribe'), 15000),
      `subscribe peer connection connected: ${JSON.stringify((await peer.state()).pcs)}`);
    /* A second ion client (550 Hz): the two hear each other, ion to ion. */
    peer2 = await startPeer(b.browser, srv, ion2Info, { freq: 550 });
    checks.ok(await waitFor(async () => (await peer.state()).subscribed.includes(peer2.mid) &&
      (await peer2.state()).subscribed.includes(peer.mid), 15000),
      `the two ion clients subscribed to each other (${peer.mid}, ${peer2.mid})`);
    await sleep(300);

    djs.say('play');
    await sleep(FRAMES * 20 + 700);
    const inbound = await peer.inbound();
    const res = await djs.finish();
    const st = await peer.state();
    checks.ok(st.subscribed.includes(djsMid), `ion-sdk-js's subscribe resolved (a track unmuted): ${JSON.stringify(st)}`);
    const rx = inbound.find((s) => s.ssrc === djs.ready.ssrc) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(res.sent > 0 && rx.packetsReceived >= res.sent * MIN_RATIO,
      `the subscribe PC received ${rx.packetsReceived}/${res.sent} of the djs member's packets (SSRC ${djs.ready.ssrc}); inbound ${JSON.stringify(inbound)}`);
    checks.ok(rx.totalAudioEnergy > 0, `its decoded audio has energy: totalAudioEnergy ${rx.totalAudioEnergy}`);
    checks.ok(res.received >= MIN_FROM_ION, `djs received ${res.received} Opus packets from the ion client`);
    const ssrcOf = (mid) => Number(String(mid).split('-')[1]);
    const in2 = await peer2.inbound();
    const from2 = inbound.find((x) => x.ssrc === ssrcOf(peer2.mid)) || { packetsReceived: 0, totalAudioEnergy: 0 };
    const from1 = in2.find((x) => x.ssrc === ssrcOf(peer.mid)) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(from2.packetsReceived >= MIN_FROM_ION && from2.totalAudioEnergy > 0 &&
      from1.packetsReceived >= MIN_FROM_ION && from1.totalAudioEnergy > 0,
      `ion to ion: ${from2.packetsReceived} packets (energy ${from2.totalAudioEnergy}) one way, ` +
      `${from1.packetsReceived} (energy ${from1.totalAudioEnergy}) the other`);
    checks.ok(!inbound.some((x) => x.ssrc === ssrcOf(peer.mid)), 'an ion client never receives its own stream');
    if (res.received > 0) {
      const a = tool.analyze(djs.rxFile);
      checks.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
        `libopus decodes the ion client's audio to ${a.dominant_hz} Hz (want 440 +- ${HZ_TOLERANCE}), rms ${a.rms}`);
    }
  } finally {
    if (peer2) await peer2.close();
    if (peer) await peer.close();
    await b.close();
    djs.kill();
    await room.close();
  }
}

run('ion_chromium', 120000, body, { checks: () => checks, servers: () => servers });
