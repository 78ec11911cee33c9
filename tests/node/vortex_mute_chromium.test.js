'use strict';
/*
 * mediasoup-client 3.24.1 (lib/vortex_peer.js: a Vortex client that does
 * what revite's VoiceClient does) in headless Chromium beside a real
 * @discordjs/voice member, for what a Vortex client is shown when Litecord
 * server-mutes or suppresses a member of another dialect (docs/VORTEX.md,
 * "Server flags").
 *
 * The djs member plays a 660 Hz libopus tone long enough for the whole
 * sequence; the page consumes every user the server says produces audio.
 * The djs member is the page's first consumer: mediasoup-client never
 * closes the first m-section of a receive transport (it keeps its SSRC),
 * so a consumer made again for the same user works in Chrome only under
 * a new SSRC (docs/VORTEX.md, "Consumer SSRCs"). A second
 * mediasoup-client page (a bystander) joins before the djs member without
 * producing, so its first consumer is the page's; it produces (550 Hz)
 * once the djs member is in.
 *
 * Checked:
 *   - the page consumes the djs member and receives its audio;
 *   - Litecord server-mutes the djs member (LVSP VST_UPDATE mute): the page
 *     gets UserStopProduce {id, type: "audio"} for it, closes its consumer
 *     and sends StopConsume, which is acknowledged; meanwhile RoomInfo
 *     shows the djs member with audio false and StartConsume of it is
 *     answered ProducerNotFound;
 *   - the mute is lifted: UserStartProduce for it, the page consumes it
 *     anew (a new consumer id) and the new consumer receives the djs
 *     member's packets with audio energy: media resumes; RoomInfo shows
 *     audio true again;
 *   - the same for suppress;
 *   - the page stops and starts producing (StopProduce, StartProduce: a
 *     microphone toggle): the bystander's first consumer, of the page,
 *     closes, comes back under a new consumer SSRC and has energy;
 *   - no request the page made on its own got an error reply.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, sumInbound } = require('./lib/tone_room');

const TONE_FRAMES = 1000; /* 20 s of djs audio: the tone outlasts both cycles */
const MIN_PACKETS = 25; /* half a second of 20 ms packets on a consumer */

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('vortex_mute_chromium');
const servers = [];

/* Packets and energy the page's current consumer of userId got. */
async function fromUser(peer, userId) {
  return sumInbound((await peer.inbound()).filter((s) => s.userId === userId));
}

const flowing = async (peer, userId) => {
  const rx = await fromUser(peer, userId);
  return rx.packets >= MIN_PACKETS && rx.energy > 0;
};

function countEvents(st, type, userId) {
  return st.events.filter((e) => e.type === type && e.data && e.data.id === userId && e.data.type === 'audio').length;
}

const consumerOf = (st, userId) => st.consumers.find((c) => c.userId === userId);

/* One moderation cycle on the djs member: flag set, then cleared. */
async function cycle(room, peer, djsId, byId, flag) {
  const { INFO_LATER } = require('./lib/lvsp_client');
  const before = await peer.state();
  const byBefore = (await fromUser(peer, byId)).packets;
  const oldConsumer = consumerOf(before, djsId);
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsId, guild_id: room.guild_id, [flag]: true });
  checks.ok(await waitFor(async () => countEvents(await peer.state(), 'UserStopProduce', djsId) ===
    countEvents(before, 'UserStopProduce', djsId) + 1, 10000),
    `Litecord sets ${flag} on the djs member: the page gets UserStopProduce for it`);
  checks.ok(await waitFor(async () => !consumerOf(await peer.state(), djsId), 10000),
    `the page closed its consumer of the djs member (and sent StopConsume): ${JSON.stringify((await peer.state()).consumers)}`);
  const info = await peer.request('RoomInfo');
  const u = info.data && info.data.users && info.data.users[djsId];
  checks.ok(u && u.audio === false, `while ${flag} is set, RoomInfo shows the djs member without audio: ${JSON.stringify(info)}`);
  const probe = await peer.request('StartConsume', { type: 'audio', userId: djsId });
  checks.ok(probe.error === 'ProducerNotFound', `while ${flag} is set, StartConsume of it: ${JSON.stringify(probe)}`);
  await sleep(300);
  const byNow = (await fromUser(peer, byId)).packets;
  checks.ok(byNow > byBefore && countEvents(await peer.state(), 'UserStopProduce', byId) === 0,
    `the bystander's consumer is untouched and keeps receiving: ${byBefore} -> ${byNow} packets`);
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsId, guild_id: room.guild_id, [flag]: false });
  checks.ok(await waitFor(async () => countEvents(await peer.state(), 'UserStartProduce', djsId) ===
    countEvents(before, 'UserStartProduce', djsId) + 1, 10000),
    `${flag} lifted: UserStartProduce for the djs member again`);
  checks.ok(await waitFor(async () => {
    const c = consumerOf(await peer.state(), djsId);
    return c && c.id && c.id !== oldConsumer.id;
  }, 10000), `the page consumes it anew: ${JSON.stringify((await peer.state()).consumers)}`);
  checks.ok(await waitFor(() => flowing(peer, djsId), 10000),
    `media resumes on the new consumer: ${JSON.stringify(await fromUser(peer, djsId))}`);
  const again = await peer.request('RoomInfo');
  const v = again.data && again.data.users && again.data.users[djsId];
  checks.ok(v && v.audio === true, `RoomInfo shows the djs member with audio again: ${JSON.stringify(again)}`);
}

/* The page toggles its microphone: the bystander consumes it anew, in its
 * receive transport's first m-section, and hears it. */
async function reproduce(peer, bystander, vxId) {
  const before = consumerOf(await bystander.state(), vxId);
  const ssrcBefore = ((await bystander.inbound()).find((s) => s.userId === vxId) || {}).ssrc;
  await peer.reproduce(440);
  checks.ok(await waitFor(async () => {
    const c = consumerOf(await bystander.state(), vxId);
    return c && c.id && c.id !== before.id;
  }, 10000), `the bystander consumes the re-produced page anew: ${JSON.stringify((await bystander.state()).consumers)}`);
  checks.ok(await waitFor(() => flowing(bystander, vxId), 10000),
    `the bystander's new first consumer receives the page with energy: ${JSON.stringify(await fromUser(bystander, vxId))}, ` +
    `errors ${JSON.stringify((await bystander.state()).errors)}`);
  const ssrcAfter = ((await bystander.inbound()).find((s) => s.userId === vxId) || {}).ssrc;
  checks.ok(ssrcAfter && ssrcAfter !== ssrcBefore, `a new consumer SSRC: ${ssrcBefore} -> ${ssrcAfter}`);
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/vortex_peer');
  const room = await openRoom({ buildDir, servers, frames: TONE_FRAMES });
  const djsInfo = await room.member();
  const vxInfo = await room.member();
  const byInfo = await room.member();
  const b = await launchBrowser();
  let peer = null, bystander = null, djs = null;
  try {
    peer = await startPeer(b.browser, room.srv, vxInfo, { freq: 440 });
    bystander = await startPeer(b.browser, room.srv, byInfo, { produce: false });
    djs = room.startDjs({ info: djsInfo, listenTo: vxInfo.user_id, rxName: 'from-vortex.opus', group: 'vortex-mute-djs' });
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    checks.ok(await waitFor(async () => Boolean(consumerOf(await peer.state(), djsInfo.user_id)), 10000),
      'the page consumes the djs member (UserStartProduce when it joined)');
    const first = (await peer.state()).consumers[0];
    checks.ok(first && first.userId === djsInfo.user_id, `the page's first consumer is the djs member's: ${JSON.stringify(first)}`);
    await bystander.produce(550);
    checks.ok(await waitFor(async () => Boolean(consumerOf(await peer.state(), byInfo.user_id)), 10000),
      'the page consumes the bystander once it produces');
    const byFirst = (await bystander.state()).consumers[0];
    checks.ok(byFirst && byFirst.userId === vxInfo.user_id, `the bystander's first consumer is the page's: ${JSON.stringify(byFirst)}`);
    checks.ok(await waitFor(() => flowing(bystander, vxInfo.user_id), 15000),
      `the bystander hears the page: ${JSON.stringify(await fromUser(bystander, vxInfo.user_id))}`);
    djs.say('play');
    checks.ok(await waitFor(() => flowing(peer, djsInfo.user_id), 15000),
      `the page receives the djs member's audio: ${JSON.stringify(await fromUser(peer, djsInfo.user_id))}`);

    await cycle(room, peer, djsInfo.user_id, byInfo.user_id, 'mute');
    await cycle(room, peer, djsInfo.user_id, byInfo.user_id, 'suppress');
    await reproduce(peer, bystander, vxInfo.user_id);

    const st = await peer.state();
    checks.ok(st.errors.length === 0, `no error reply to the page's own requests: ${JSON.stringify(st.errors)}`);
    await djs.finish();
  } finally {
    if (peer) await peer.close();
    if (bystander) await bystander.close();
    await b.close();
    if (djs) djs.kill();
    await room.close();
  }
}

run('vortex_mute_chromium', 150000, body, { checks: () => checks, servers: () => servers });
