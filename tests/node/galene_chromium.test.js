'use strict';
/*
 * A Galène client and a real Discord library in one room. Headless
 * Chromium (lib/chromium.js) runs the Galène client written here from the
 * protocol (lib/galene_client.js, through lib/galene_peer.js): handshake
 * version 2, join with the LVSP voice token (group = channel id), request
 * audio, publish a 440 Hz WebAudio sine as an up stream (its offer, our
 * answer), answer the server's offer of a down stream for the other
 * member. An @discordjs/voice client (child process: djs needs
 * NODE_EXTRA_CA_CERTS) is that member and plays a 660 Hz Opus tone made
 * with libopus (tests/tools/opus_tone).
 *
 * Checked:
 *   - the handshake, `joined` (group, username = user id, permissions
 *     present + message) and `user add` for both members (self first);
 *   - the server offers exactly one down stream, for the djs member
 *     (source = its user id), whose SDP carries a=msid and a=ssrc = the
 *     djs member's SSRC (op 5 told djs's roommates the same);
 *   - `renegotiate` of it: a new offer (new id, `replace` = the old one,
 *     fresh ICE credentials) whose peer connection connects; the audio
 *     below flows on it;
 *   - a renegotiation of the up stream without ICE restart is answered on
 *     the same transport; then Chromium restarts its ICE (createOffer
 *     {iceRestart: true}, what restartIce() leads to): the answer carries
 *     new ICE credentials of ours, the same DTLS fingerprint, and the up
 *     peer connection settles on a new candidate pair that our new
 *     credentials answered, with no new DTLS handshake; the audio below
 *     flows on it;
 *   - the browser's down pc receives >= 95 % of the djs member's packets
 *     and the decoded audio has energy (getStats: packetsReceived,
 *     totalAudioEnergy);
 *   - djs receives the browser's Opus under the Galène member's user id,
 *     at least MIN_FROM_BROWSER packets, and libopus decodes a 440 Hz tone;
 *   - the server's counters (GET /state, "galene") saw the join, the
 *     answers and the down streams, and refused nothing.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { frontendState } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom, FRAMES } = require('./lib/tone_room');

const MIN_RATIO = 0.95;
const MIN_FROM_BROWSER = 100;
const HZ_TOLERANCE = 5;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('galene_chromium');
const servers = [];

function checkGreeting(msgs, info, djsInfo, clientId) {
  const hs = msgs[0] || {};
  checks.ok(hs.type === 'handshake' && Array.isArray(hs.version) && hs.version.includes('2') && !hs.id,
    `the server's handshake comes first, version ["2"], no id: ${JSON.stringify(hs)}`);
  const joined = msgs.find((m) => m.type === 'joined') || {};
  checks.ok(joined.kind === 'join' && joined.group === info.channel_id && joined.username === info.user_id &&
    JSON.stringify(joined.permissions) === '["present","message"]' && joined.rtcConfiguration,
    `joined: ${JSON.stringify(joined)}`);
  const adds = msgs.filter((m) => m.type === 'user' && m.kind === 'add');
  checks.ok(adds.length === 2 && adds[0].id === clientId && adds[0].username === info.user_id &&
    adds[1].id === djsInfo.user_id,
    `user add for self (client id) then the djs member: ${JSON.stringify(adds.map((a) => [a.id, a.username]))}`);
}

function checkOffer(msgs, djsInfo, djsSsrc) {
  const offers = msgs.filter((m) => m.type === 'offer');
  const o = offers[0] || {};
  checks.ok(offers.length === 1 && o.source === djsInfo.user_id && o.username === djsInfo.user_id && o.label === 'camera',
    `one down-stream offer, for the djs member: ${JSON.stringify(offers.map((x) => [x.id, x.source, x.label]))}`);
  const sdp = o.sdp || '';
  checks.ok(/a=msid:\S+ \S+/.test(sdp) && sdp.includes(`a=ssrc:${djsSsrc} `) && sdp.includes('a=ice-lite') &&
    sdp.includes('a=sendonly') && sdp.includes('a=setup:actpass'),
    `the offer is sendonly, ICE-lite, actpass, with a=msid and a=ssrc:${djsSsrc}`);
}

/* The client asks for a new offer of its down stream (what protocol.js
 * does when its ICE fails): a new stream with fresh ICE credentials
 * replaces it, and its peer connection connects; the audio checks that
 * follow run on it. */
async function renegotiate(peer) {
  const old = (await peer.messages()).find((m) => m.type === 'offer');
  const from = (await peer.messages()).length;
  await peer.page.evaluate((id) => window.gc.renegotiate(id), old.id);
  const fresh = await peer.page.evaluate((id, n) => window.gc.waitFor((m) => m.type === 'offer' && m.replace === id, 5000, n),
    old.id, from).catch(() => ({}));
  const ufrag = (sdp) => ((sdp || '').match(/a=ice-ufrag:(\S+)/) || [])[1];
  checks.ok(fresh.id && fresh.id !== old.id && fresh.source === old.source && ufrag(fresh.sdp) && ufrag(fresh.sdp) !== ufrag(old.sdp),
    `renegotiate ${old.id}: offer ${fresh.id} replaces it, ufrag ${ufrag(old.sdp)} -> ${ufrag(fresh.sdp)}`);
  const ok = await waitFor(() => peer.page.evaluate((id) => {
    const c = window.gc.down[id];
    return Boolean(c) && c.pc.connectionState === 'connected' && Object.keys(window.gc.down).length === 1;
  }, fresh.id), 10000);
  checks.ok(ok, `the replacing down stream ${fresh.id} connects (and is the only one)`);
}

const ufragOf = (sdp) => ((sdp || '').match(/a=ice-ufrag:(\S+)/) || [])[1];

/* The client renegotiates its up stream without an ICE restart: the
 * answer keeps our credentials and the transport stays (the audio checks
 * below run on it). */
async function renegotiateUp(peer) {
  const msgs = await peer.messages();
  const first = msgs.find((m) => m.type === 'answer');
  const reply = await peer.page.evaluate((id) => window.gc.renegotiateUp(id), first.id);
  checks.ok(reply.type === 'answer' && ufragOf(reply.sdp) === ufragOf(first.sdp),
    `up-stream renegotiation answered on the same transport (ufrag ${ufragOf(first.sdp)} -> ${ufragOf(reply.sdp)})`);
}

/* The up peer connection's selected candidate pair (getStats). */
function upPair(peer, id) {
  return peer.page.evaluate(async (upId) => {
    const pc = window.gc.up[upId].pc;
    const pairs = {};
    let transport = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'transport') transport = s;
      if (s.type === 'candidate-pair') pairs[s.id] = s;
    });
    const sel = (transport && pairs[transport.selectedCandidatePairId]) || {};
    return { local: sel.localCandidateId, state: sel.state, responses: sel.responsesReceived || 0,
             dtls: transport && transport.dtlsState, ice: pc.iceConnectionState };
  }, id);
}

/* Chromium restarts the up stream's ICE (a browser keeps its DTLS session
 * across it): our answer has new ICE credentials and the same
 * fingerprint, and the connection moves to a new candidate pair, checked
 * with the new credentials (docs/GALENE.md). */
async function iceRestartUp(peer) {
  const first = (await peer.messages()).find((m) => m.type === 'answer');
  const before = await upPair(peer, first.id);
  const reply = await peer.page.evaluate((id) => window.gc.renegotiateUp(id, { iceRestart: true }), first.id);
  const fp = (sdp) => ((sdp || '').match(/a=fingerprint:(.+)/) || [])[1];
  checks.ok(reply.type === 'answer' && ufragOf(reply.sdp) && ufragOf(reply.sdp) !== ufragOf(first.sdp) &&
    fp(reply.sdp) === fp(first.sdp),
    `an ICE restart of the up stream is answered (${reply.type}) with new ICE credentials (ufrag ${ufragOf(first.sdp)} -> ${ufragOf(reply.sdp)}) and the same fingerprint`);
  let after = null;
  const moved = await waitFor(async () => {
    after = await upPair(peer, first.id);
    return after.local && after.local !== before.local && after.state === 'succeeded' && after.responses > 0;
  }, 15000);
  checks.ok(moved && after.dtls === 'connected',
    `the up connection moved to a new candidate pair our new credentials answered, DTLS kept: ${JSON.stringify({ before, after })}`);
}

async function body() {
  const { launchBrowser } = require('./lib/chromium');
  const { startPeer } = require('./lib/galene_peer');
  const room = await openRoom({ buildDir, servers });
  const { srv, tool } = room;
  const djsInfo = await room.member();
  const glInfo = await room.member();

  /* No DAVE: a Galène member cannot take part in it. */
  const djs = room.startDjs({ info: djsInfo, listenTo: glInfo.user_id, rxName: 'from-galene.opus', group: 'galene-djs', dave: false });
  const b = await launchBrowser();
  let peer = null;
  try {
    checks.ok(await djs.untilReady(30000), 'djs member is Ready');
    peer = await startPeer(b.browser, srv, glInfo, { freq: 440 });
    checks.ok(true, `the Galène client joined group ${glInfo.channel_id} and its up stream was answered`);
    const connected = await peer.page.evaluate(() => window.gc.waitConnected(15000));
    const events = await peer.page.evaluate(() => window.gc.events);
    checks.ok(connected, `every peer connection (up and down) reaches "connected": ${JSON.stringify(events)}`);
    const msgs = await peer.messages();
    checkGreeting(msgs, glInfo, djsInfo, peer.clientId);
    checkOffer(msgs, djsInfo, djs.ready.ssrc);
    await renegotiate(peer);
    await renegotiateUp(peer);
    await iceRestartUp(peer);
    await sleep(500);

    djs.say('play');
    await sleep(FRAMES * 20 + 800);
    const inbound = await peer.inbound();
    const res = await djs.finish();
    const rx = inbound.find((s) => s.ssrc === djs.ready.ssrc) || { packetsReceived: 0, totalAudioEnergy: 0 };
    checks.ok(res.sent > 0 && rx.packetsReceived >= res.sent * MIN_RATIO,
      `the Galène client received ${rx.packetsReceived}/${res.sent} of the djs member's packets (SSRC ${djs.ready.ssrc})`);
    checks.ok(rx.totalAudioEnergy > 0, `its decoded audio has energy: totalAudioEnergy ${rx.totalAudioEnergy}`);
    checks.ok(res.received >= MIN_FROM_BROWSER, `djs received ${res.received} Opus packets from the Galène client`);
    if (res.received > 0) {
      const a = tool.analyze(djs.rxFile);
      checks.ok(Math.abs(a.dominant_hz - 440) <= HZ_TOLERANCE,
        `libopus decodes the Galène client's audio to ${a.dominant_hz} Hz (want 440 +- ${HZ_TOLERANCE}), rms ${a.rms}`);
    }
    const errors = await peer.errors();
    checks.ok(errors.length === 0, `the client saw no protocol error: ${JSON.stringify(errors)}`);
    const st = await frontendState(srv, 'galene');
    const refused = st ? Object.values(st.refused).reduce((x, y) => x + y, 0) : -1;
    checks.ok(st && st.joins === 1 && st.up_answers === 3 && st.down_offers === 2 && st.down_answers === 2 &&
      refused === 0,
      `server counters: ${JSON.stringify(st && { joins: st.joins, up_answers: st.up_answers, down_offers: st.down_offers, down_answers: st.down_answers, refused })}`);
  } finally {
    if (peer) await peer.close();
    await b.close();
    djs.kill();
    await room.close();
  }
}

run('galene_chromium', 120000, body, { checks: () => checks, servers: () => servers });
