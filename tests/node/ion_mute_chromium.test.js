'use strict';
/*
 * ion-sdk-js 0.4.1 (bundled with esbuild: lib/ion_peer.js) in headless
 * Chromium beside a real @discordjs/voice member, for what the server
 * shows ion clients of Litecord's moderation and for a clean leave
 * (docs/ION.md).
 *
 * The djs member plays a 660 Hz libopus tone long enough for the whole
 * sequence; the ion page publishes a sine and subscribes to every stream
 * the server announces.
 *
 * Checked:
 *   - the page receives the djs member's audio on its subscription;
 *   - Litecord server-mutes the djs member (LVSP VST_UPDATE mute): the
 *     page gets stream-remove for its stream, and ion-sdk-js closes that
 *     subscription;
 *   - the mute is lifted: stream-add again, ion-sdk-js subscribes anew
 *     (its subscribe resolves once RTP flows), and the new subscription
 *     receives the djs member's packets with audio energy: media resumes;
 *   - the same for suppress (the mechanism an ion publisher already had);
 *   - ion-sdk-js's leave(): leave, then the unpublish and unsubscribe it
 *     sends after it, are all answered without an error.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, sumInbound } = require('./lib/tone_room');

const TONE_FRAMES = 1000; /* 20 s of djs audio: the tone outlasts both cycles */
const MIN_PACKETS = 25; /* half a second of 20 ms packets on a subscription */

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('ion_mute_chromium');
const servers = [];

/* Packets and energy the page's open subscriptions got from ssrc. */
async function fromSsrc(peer, ssrc) {
  return sumInbound((await peer.inbound()).filter((s) => s.ssrc === ssrc));
}

/* One moderation cycle on the djs member: flag set, then cleared. */
async function cycle(room, peer, djsInfo, djsMid, ssrc, flag) {
  const { INFO_LATER } = require('./lib/lvsp_client');
  const count = (list) => list.filter((m) => m === djsMid).length;
  const before = await peer.state();
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsInfo.user_id, guild_id: room.guild_id, [flag]: true });
  checks.ok(await waitFor(async () => count((await peer.state()).removed) === count(before.removed) + 1, 10000),
    `Litecord sets ${flag} on the djs member: the page gets stream-remove for ${djsMid}`);
  checks.ok(await waitFor(async () => (await fromSsrc(peer, ssrc)).packets === 0, 10000),
    `ion-sdk-js closed its subscription (no open peer connection receives ${ssrc})`);
  await sleep(300);
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsInfo.user_id, guild_id: room.guild_id, [flag]: false });
  checks.ok(await waitFor(async () => count((await peer.state()).streams) === count(before.streams) + 1, 10000),
    `${flag} lifted: stream-add for ${djsMid} again`);
  checks.ok(await waitFor(async () => (await peer.state()).subscribed.includes(djsMid), 15000),
    `ion-sdk-js subscribed again and its subscribe resolved (RTP flows): ${JSON.stringify(await peer.state())}`);
  checks.ok(await waitFor(async () => {
    const rx = await fromSsrc(peer, ssrc);
    return rx.packets >= MIN_PACKETS && rx.energy > 0;
  }, 10000), `media resumes on the new subscription: ${JSON.stringify(await fromSsrc(peer, ssrc))}`);
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/ion_peer');
  const room = await openRoom({ buildDir, servers, frames: TONE_FRAMES });
  const djsInfo = await room.member();
  const ionInfo = await room.member();
  const djs = room.startDjs({ info: djsInfo, listenTo: ionInfo.user_id, rxName: 'from-ion.opus', group: 'ion-mute-djs' });
  const b = await launchBrowser();
  let peer = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    const ssrc = djs.ready.ssrc;
    const djsMid = `${djsInfo.user_id}-${ssrc}`;
    peer = await startPeer(b.browser, room.srv, ionInfo, { freq: 440 });
    checks.ok(Boolean(peer.mid), `ion-sdk-js published (mid ${peer.mid})`);
    checks.ok(await waitFor(async () => (await peer.state()).streams.includes(djsMid), 10000),
      `ion-sdk-js learnt the djs member's stream ${djsMid}`);
    djs.say('play');
    checks.ok(await waitFor(async () => {
      const rx = await fromSsrc(peer, ssrc);
      return rx.packets >= MIN_PACKETS && rx.energy > 0;
    }, 15000), `the page receives the djs member's audio: ${JSON.stringify(await fromSsrc(peer, ssrc))}`);

    await cycle(room, peer, djsInfo, djsMid, ssrc, 'mute');
    await cycle(room, peer, djsInfo, djsMid, ssrc, 'suppress');

    const st = await peer.state();
    checks.ok(st.requests.every((r) => r.outcome === 'ok'),
      `every request ion-sdk-js made so far was answered ok: ${JSON.stringify(st.requests)}`);
    const after = await peer.leave();
    const methods = after.map((r) => r.method).sort().join(',');
    checks.ok(methods === 'leave,unpublish,unsubscribe',
      `ion-sdk-js's leave() sent leave, unpublish and unsubscribe: ${JSON.stringify(after)}`);
    checks.ok(after.length > 0 && after.every((r) => r.outcome === 'ok'),
      `a clean leave: no error answer (${after.map((r) => `${r.method} ${r.outcome}`).join('; ')})`);
    await djs.finish();
  } finally {
    if (peer) await peer.close();
    await b.close();
    djs.kill();
    await room.close();
  }
}

run('ion_mute_chromium', 150000, body, { checks: () => checks, servers: () => servers });
