'use strict';
/*
 * The Galène client (lib/galene_client.js through lib/galene_peer.js) in
 * headless Chromium beside a real @discordjs/voice member, for what a
 * Galène client is shown when Litecord server-mutes or suppresses another
 * member (docs/GALENE.md, "Litecord's flags").
 *
 * The djs member plays a 660 Hz libopus tone long enough for the whole
 * sequence; the page requests audio (one down stream per member) and
 * publishes a sine.
 *
 * Checked:
 *   - the page receives the djs member's audio on its down stream;
 *   - Litecord server-mutes the djs member (LVSP VST_UPDATE mute): the
 *     page gets `close {id}` of that down stream (it closes the peer
 *     connection) and `user change` for the djs member without `present`;
 *   - the mute is lifted: `user change` with `present`, and a fresh
 *     `offer` of a down stream (a new id, source = the djs member), which
 *     the page answers; the new peer connection receives the djs member's
 *     packets with audio energy: media resumes;
 *   - the same for suppress;
 *   - no protocol error on the page, nothing refused by the server.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { frontendState } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, sumInbound } = require('./lib/tone_room');

const TONE_FRAMES = 1000; /* 20 s of djs audio: the tone outlasts both cycles */
const MIN_PACKETS = 25; /* half a second of 20 ms packets on a down stream */

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('galene_mute_chromium');
const servers = [];

/* Packets and energy of the page's open down streams from source. */
async function fromSource(peer, source) {
  return sumInbound((await peer.inbound()).filter((s) => s.source === source));
}

const flowing = async (peer, source) => {
  const rx = await fromSource(peer, source);
  return rx.packets >= MIN_PACKETS && rx.energy > 0;
};

/* The ids of the page's open down streams from source. */
const downsOf = (peer, source) => peer.page.evaluate(
  (s) => Object.entries(window.gc.down).filter(([, c]) => c.source === s).map(([id]) => id), source);

/* The first message from index `from` on that matches pred. */
async function seen(peer, from, pred) {
  return (await peer.messages()).slice(from).find(pred);
}

const isChange = (m, id, present) => m.type === 'user' && m.kind === 'change' && m.id === id &&
  Array.isArray(m.permissions) && m.permissions.includes('present') === present;

/* One moderation cycle on the djs member: flag set, then cleared. */
async function cycle(room, peer, djsId, flag) {
  const { INFO_LATER } = require('./lib/lvsp_client');
  const [oldId] = await downsOf(peer, djsId);
  let from = (await peer.messages()).length;
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsId, guild_id: room.guild_id, [flag]: true });
  checks.ok(await waitFor(() => seen(peer, from, (m) => m.type === 'close' && m.id === oldId), 10000),
    `Litecord sets ${flag} on the djs member: the page gets close {id: ${oldId}} of its down stream`);
  checks.ok(await waitFor(() => seen(peer, from, (m) => isChange(m, djsId, false)), 10000),
    `and user change for the djs member without present: ${JSON.stringify(await seen(peer, from, (m) => m.type === 'user'))}`);
  checks.ok((await downsOf(peer, djsId)).length === 0 && (await fromSource(peer, djsId)).packets === 0,
    'the page closed that down stream (no open peer connection carries the djs member)');
  await sleep(300);
  checks.ok(!(await seen(peer, from, (m) => m.type === 'offer')), `no offer while ${flag} is set`);
  from = (await peer.messages()).length;
  room.lvsp.info(INFO_LATER.VST_UPDATE, { user_id: djsId, guild_id: room.guild_id, [flag]: false });
  checks.ok(await waitFor(() => seen(peer, from, (m) => isChange(m, djsId, true)), 10000),
    `${flag} lifted: user change for the djs member with present`);
  checks.ok(await waitFor(() => seen(peer, from, (m) => m.type === 'offer' && m.source === djsId && m.id !== oldId), 10000),
    `and a fresh offer of its down stream: ${JSON.stringify(((await seen(peer, from, (m) => m.type === 'offer')) || {}).id)}`);
  checks.ok(await waitFor(() => peer.page.evaluate((s) => {
    const open = Object.values(window.gc.down).filter((c) => c.source === s);
    return open.length === 1 && open[0].pc.connectionState === 'connected';
  }, djsId), 10000), 'the page answered it and its new peer connection connects');
  checks.ok(await waitFor(() => flowing(peer, djsId), 10000),
    `media resumes on the new down stream: ${JSON.stringify(await fromSource(peer, djsId))}`);
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/galene_peer');
  const room = await openRoom({ buildDir, servers, frames: TONE_FRAMES });
  const djsInfo = await room.member();
  const glInfo = await room.member();
  /* No DAVE: a Galène member cannot take part in it. */
  const djs = room.startDjs({ info: djsInfo, listenTo: glInfo.user_id, rxName: 'from-galene.opus',
    group: 'galene-mute-djs', dave: false });
  const b = await launchBrowser();
  let peer = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    peer = await startPeer(b.browser, room.srv, glInfo, { freq: 440 });
    checks.ok(await waitFor(async () => (await downsOf(peer, djsInfo.user_id)).length === 1, 10000),
      'the server offered a down stream of the djs member');
    djs.say('play');
    checks.ok(await waitFor(() => flowing(peer, djsInfo.user_id), 15000),
      `the page receives the djs member's audio: ${JSON.stringify(await fromSource(peer, djsInfo.user_id))}`);

    await cycle(room, peer, djsInfo.user_id, 'mute');
    await cycle(room, peer, djsInfo.user_id, 'suppress');

    const errors = await peer.errors();
    checks.ok(errors.length === 0, `the client saw no protocol error: ${JSON.stringify(errors)}`);
    const st = await frontendState(room.srv, 'galene');
    const refused = st ? Object.values(st.refused).reduce((x, y) => x + y, 0) : -1;
    checks.ok(st && refused === 0 && st.down_streams === 1,
      `server counters: ${JSON.stringify(st && { down_offers: st.down_offers, down_streams: st.down_streams, refused })}`);
    await djs.finish();
  } finally {
    if (peer) await peer.close();
    await b.close();
    djs.kill();
    await room.close();
  }
}

run('galene_mute_chromium', 150000, body, { checks: () => checks, servers: () => servers });
