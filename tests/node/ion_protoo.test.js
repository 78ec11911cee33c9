'use strict';
/*
 * The ion/protoo front end (docs/ION.md) with protoo-client 4.0.8, the
 * signalling library of ion-sdk-js 0.4.x, in Node (no media here: that is
 * ion_chromium.test.js). One room holds a raw Discord gateway client (D,
 * attached, so it has a stream) and two ion peers (A with ?token= in the
 * URL, B with join info.token).
 *
 * Checked:
 *   - the 101 selects the WebSocket subprotocol "protoo";
 *   - join answers {pubs, users} naming D, and then (after the answer)
 *     notifies peer-join and stream-add for D, the stream with the seed's
 *     minfo and ion-sdk-js's tracks (type audio, D's SSRC);
 *   - B's join: A gets peer-join for B (no stream-add: B publishes
 *     nothing), B gets peer-join for A and D and stream-add for D;
 *   - broadcast reaches the others as a notification with the sender's uid;
 *     keepalive answers {};
 *   - B publishes (a Chrome-like offer): the answer is recvonly, passive,
 *     ICE-lite; A gets stream-add with B's SSRC in tracks; A subscribes:
 *     the answer is sendonly with a=ssrc and a=msid of B's stream; Litecord
 *     suppresses B: stream-remove (A's subscription to it ends),
 *     unsuppresses: stream-add; subscribe again, unsubscribe, unpublish
 *     (stream-remove);
 *   - errors: unknown method 405, subscribe to an unknown mid 404, a
 *     publish whose jsep is not an offer 400, a malformed SDP 400,
 *     requests before join 403, a second join 409;
 *   - credentials: a token for another room (rid mismatch) is answered 401
 *     and closed with 4000 (protoo gives up: 'close', no reconnect); an
 *     unknown URL token is closed with 4000; a uid that is not the
 *     token's user 401;
 *   - one voice state, one session: a new connection with A's token
 *     closes the old one with 4000, and joins;
 *   - Litecord server-mutes D: A and B get stream-remove for it (subscribe
 *     404), unmutes: stream-add again;
 *   - E joins, publishes, subscribes to D and leaves: unpublish and
 *     unsubscribe of what the leave ended are answered ok (what
 *     ion-sdk-js sends after leave), anything else 403; never joined: 403;
 *   - D leaves: A gets stream-remove and peer-leave for D; B leaves: A
 *     gets peer-leave for B.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');

const { Checks, run, sleep } = require('./lib/checks');
const { ionUrl, openPeer, requestOutcome, chromeLikeOffer } = require('./lib/ion_protoo');
const { snowflake } = require('./lib/ids');

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('ion_protoo');
const servers = [];

function subprotocolOf(url, ca) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'protoo', { ca });
    ws.on('open', () => { resolve(ws.protocol); ws.close(); });
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

async function body() {
  const { LvspClient, INFO_LATER } = require('./lib/lvsp_client');
  const { rawJoin } = require('./lib/raw_voice_client');
  const { startServer } = require('./lib/server');
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  checks.ok(srv.ports.ion > 0, `the server lists --ion-listen (port ${srv.ports.ion})`);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const rid = snowflake();
  const vs = async (channel_id = rid) => ({ ...await lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id }), guild_id });
  const dInfo = await vs();
  const aInfo = await vs();
  const bInfo = await vs();
  const cInfo = await vs();
  const eInfo = await vs();
  const other = await vs(snowflake());
  const d = await rawJoin(dInfo, { ca });
  const dMid = `${dInfo.user_id}-${d.ready.ssrc}`;

  checks.ok(await subprotocolOf(ionUrl(srv, { token: aInfo.token }), ca) === 'protoo',
    'the 101 selects the subprotocol protoo');

  const a = await openPeer(ionUrl(srv, { token: aInfo.token, peer: aInfo.user_id }), ca);
  checks.ok(await requestOutcome(a, 'keepalive', { rid }) === '403 join first', 'keepalive before join: 403');
  const joined = await a.peer.request('join', { rid, uid: aInfo.user_id, info: { name: 'A' } });
  const pub = (joined.pubs || []).find((p) => p.uid === dInfo.user_id);
  checks.ok(pub && pub.mid === dMid && pub.minfo && pub.minfo.audio === true && pub.rid === rid,
    `join answer pubs name D's stream ${JSON.stringify(pub)}`);
  checks.ok((joined.users || []).some((u) => u.uid === dInfo.user_id && u.rid === rid),
    `join answer users name D ${JSON.stringify(joined.users)}`);
  const addD = await a.waitNote('stream-add', (x) => x.uid === dInfo.user_id);
  const tracks = addD.tracks && addD.tracks[dMid];
  checks.ok(addD.mid === dMid && addD.minfo && addD.minfo.audio === true && Array.isArray(tracks) &&
    tracks[0].type === 'audio' && tracks[0].ssrc === d.ready.ssrc,
    `stream-add for D carries minfo and tracks ${JSON.stringify(addD)}`);
  const order = a.events.filter((e) => /join|peer-join|stream-add/.test(e));
  checks.ok(order[0] === 'response join' && order[1] === 'notification peer-join' && order[2] === 'notification stream-add',
    `the join answer comes first, then peer-join, then stream-add: ${order.join(', ')}`);
  checks.ok(await requestOutcome(a, 'join', { rid }) === '409 already joined', 'a second join: 409');
  checks.ok(await requestOutcome(a, 'keepalive', { rid }) === 'ok', 'keepalive: ok');

  const b = await openPeer(ionUrl(srv, { peer: bInfo.user_id }), ca);
  await b.peer.request('join', { rid, uid: bInfo.user_id, info: { name: 'B', token: bInfo.token } });
  const bSees = await b.waitNote('peer-join', (x) => x.uid === aInfo.user_id).then(() => true, () => false);
  checks.ok(bSees && await b.waitNote('stream-add', (x) => x.uid === dInfo.user_id).then(() => true, () => false),
    'B (token in join info) is told of A and of D\'s stream');
  const aSeesB = await a.waitNote('peer-join', (x) => x.uid === bInfo.user_id).catch(() => null);
  checks.ok(aSeesB && aSeesB.info && aSeesB.info.name === 'B' && aSeesB.info.token === undefined,
    `A gets peer-join for B with its info, never its token ${JSON.stringify(aSeesB)}`);
  await sleep(200);
  checks.ok(!a.notes.some((n) => n.method === 'stream-add' && n.data.uid === bInfo.user_id),
    'no stream-add for B, which published nothing');

  await b.peer.request('broadcast', { rid, uid: bInfo.user_id, info: { msg: 'hello' } });
  const bc = await a.waitNote('broadcast').catch(() => null);
  checks.ok(bc && bc.uid === bInfo.user_id && bc.info && bc.info.msg === 'hello' && bc.rid === rid,
    `broadcast reaches A ${JSON.stringify(bc)}`);

  /* B publishes (signalling only: a Chrome-like offer, no media). */
  const pubB = await b.peer.request('publish', { rid, jsep: { type: 'offer', sdp: chromeLikeOffer('sendrecv') },
    options: { codec: 'VP8' } });
  checks.ok(new RegExp(`^${bInfo.user_id}-\\d+$`).test(pubB.mid) && pubB.jsep && pubB.jsep.type === 'answer' &&
    /a=recvonly/.test(pubB.jsep.sdp) && /a=setup:passive/.test(pubB.jsep.sdp) && /a=ice-lite/.test(pubB.jsep.sdp),
    `publish answers recvonly, passive, ice-lite; mid ${pubB.mid}`);
  const bSsrc = Number(pubB.mid.split('-')[1]);
  const addB = await a.waitNote('stream-add', (n) => n.uid === bInfo.user_id).catch(() => null);
  checks.ok(addB && addB.mid === pubB.mid && addB.tracks[pubB.mid][0].ssrc === bSsrc,
    `A gets stream-add for B's stream ${JSON.stringify(addB && addB.tracks)}`);
  const subB = await a.peer.request('subscribe', { rid, mid: pubB.mid, jsep: { type: 'offer', sdp: chromeLikeOffer('recvonly') } });
  const ans = subB.jsep ? subB.jsep.sdp : '';
  checks.ok(subB.mid === pubB.mid && subB.sid && /a=sendonly/.test(ans) && ans.includes(`a=ssrc:${bSsrc} `) &&
    ans.includes(`a=msid:${pubB.mid} `), `subscribe answers sendonly with B's SSRC and msid (sid ${subB.sid})`);
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: bInfo.user_id, guild_id, suppress: true });
  const rmB = await a.waitNote('stream-remove', (n) => n.uid === bInfo.user_id).catch(() => null);
  checks.ok(rmB && rmB.mid === pubB.mid, 'Litecord suppresses B: A gets stream-remove for it');
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: bInfo.user_id, guild_id, suppress: false });
  const adds = () => a.notes.filter((n) => n.method === 'stream-add' && n.data.uid === bInfo.user_id).length;
  for (const end = Date.now() + 3000; adds() < 2 && Date.now() < end;) await sleep(20);
  checks.ok(adds() === 2, 'B may speak again: stream-add again');
  checks.ok(/^404 /.test(await requestOutcome(a, 'unsubscribe', { sid: subB.sid })),
    'the suppression ended A\'s subscription to B (ion-sdk-js closes it on stream-remove): unsubscribe 404');
  const subB2 = await a.peer.request('subscribe', { rid, mid: pubB.mid, jsep: { type: 'offer', sdp: chromeLikeOffer('recvonly') } });
  checks.ok(await requestOutcome(a, 'unsubscribe', { mid: pubB.mid, sid: subB2.sid }) === 'ok',
    'A subscribes to B again, and unsubscribes by sid: ok');
  checks.ok(/^404 /.test(await requestOutcome(a, 'unsubscribe', { sid: subB2.sid })), 'the same sid again: 404');
  checks.ok(await requestOutcome(b, 'unpublish', { rid, mid: pubB.mid }) === 'ok', 'unpublish: ok');
  const removes = () => a.notes.filter((n) => n.method === 'stream-remove' && n.data.uid === bInfo.user_id).length;
  for (const end = Date.now() + 3000; removes() < 2 && Date.now() < end;) await sleep(20);
  checks.ok(removes() === 2, 'unpublish: A gets stream-remove');

  checks.ok(/^405 /.test(await requestOutcome(a, 'fly', { rid })), 'unknown method: 405');
  checks.ok(/^404 /.test(await requestOutcome(a, 'subscribe', { rid, mid: 'nobody-1', jsep: { type: 'offer', sdp: 'v=0\r\n' } })),
    'subscribe to an unknown mid: 404');
  checks.ok(/^400 /.test(await requestOutcome(a, 'publish', { rid, jsep: { type: 'answer', sdp: 'v=0\r\n' } })),
    'publish with a jsep that is not an offer: 400');
  checks.ok(/^400 /.test(await requestOutcome(a, 'publish', { rid, jsep: { type: 'offer', sdp: 'v=0\r\nm=audio\r\n' } })),
    'publish with a malformed SDP: 400');
  checks.ok(/^401 /.test(await requestOutcome(a, 'keepalive', { rid: snowflake() })),
    'a request naming another room: 401');

  /* A token for another room. */
  const x = await openPeer(ionUrl(srv, { token: other.token }), ca);
  const xr = await requestOutcome(x, 'join', { rid });
  const xc = await Promise.race([x.closed, sleep(3000).then(() => 'open')]);
  checks.ok(/^401 /.test(xr) && xc === 'close', `a token for another room: ${xr}, then ${xc} (4000: no reconnect)`);
  /* An unknown token in the URL. */
  const y = await openPeer(ionUrl(srv, { token: 'x'.repeat(40) }), ca).catch(() => null);
  const yc = y ? await Promise.race([y.closed, sleep(3000).then(() => 'open')]) : 'close';
  checks.ok(yc === 'close', `an unknown URL token is closed for good (${yc})`);
  /* A uid that is not the token's user. */
  const z = await openPeer(ionUrl(srv), ca);
  const zr = await requestOutcome(z, 'join', { rid, uid: snowflake(), info: { token: cInfo.token } });
  checks.ok(/^401 /.test(zr), `a uid that is not the token's user: ${zr}`);

  /* Litecord server-mutes D (a Discord member): its stream is withdrawn
   * from every ion client, and comes back when the mute is lifted. */
  const dNotes = (p, method) => p.notes.filter((n) => n.method === method && n.data.uid === dInfo.user_id).length;
  const [aRm, bRm, aAdd, bAdd] = [dNotes(a, 'stream-remove'), dNotes(b, 'stream-remove'),
    dNotes(a, 'stream-add'), dNotes(b, 'stream-add')];
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: dInfo.user_id, guild_id, mute: true });
  for (const end = Date.now() + 3000; (dNotes(a, 'stream-remove') === aRm || dNotes(b, 'stream-remove') === bRm) &&
    Date.now() < end;) await sleep(20);
  checks.ok(dNotes(a, 'stream-remove') === aRm + 1 && dNotes(b, 'stream-remove') === bRm + 1,
    'Litecord server-mutes D: A and B get stream-remove for D\'s stream');
  checks.ok(/^404 /.test(await requestOutcome(a, 'subscribe', { rid, mid: dMid, jsep: { type: 'offer', sdp: chromeLikeOffer('recvonly') } })),
    'subscribing to the muted D: 404');
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: dInfo.user_id, guild_id, mute: false });
  for (const end = Date.now() + 3000; (dNotes(a, 'stream-add') === aAdd || dNotes(b, 'stream-add') === bAdd) &&
    Date.now() < end;) await sleep(20);
  checks.ok(dNotes(a, 'stream-add') === aAdd + 1 && dNotes(b, 'stream-add') === bAdd + 1,
    'the mute is lifted: stream-add for D again');

  /* E joins, publishes and subscribes to D, then leaves: the unpublish
   * and unsubscribe ion-sdk-js sends after its leave are answered {},
   * anything else after the leave still 403. A client that never joined
   * gets 403 for them. */
  const e = await openPeer(ionUrl(srv, { token: eInfo.token }), ca);
  checks.ok(await requestOutcome(e, 'unpublish', { rid, mid: `${eInfo.user_id}-1` }) === '403 join first' &&
    await requestOutcome(e, 'unsubscribe', { mid: dMid }) === '403 join first', 'never joined: unpublish and unsubscribe 403');
  await e.peer.request('join', { rid, uid: eInfo.user_id });
  const pubE = await e.peer.request('publish', { rid, jsep: { type: 'offer', sdp: chromeLikeOffer('sendrecv') } });
  const subE = await e.peer.request('subscribe', { rid, mid: dMid, jsep: { type: 'offer', sdp: chromeLikeOffer('recvonly') } });
  checks.ok(await requestOutcome(e, 'leave', { rid, uid: eInfo.user_id }) === 'ok', 'E leaves');
  checks.ok(await requestOutcome(e, 'unpublish', { rid, mid: pubE.mid }) === 'ok', 'unpublish after leave: ok');
  checks.ok(await requestOutcome(e, 'unpublish', { rid, mid: pubE.mid }) === 'ok', 'again: ok (the leave ended it)');
  checks.ok(await requestOutcome(e, 'unsubscribe', { mid: dMid }) === 'ok' &&
    await requestOutcome(e, 'unsubscribe', { sid: subE.sid }) === 'ok', 'unsubscribe after leave (by mid, by sid): ok');
  checks.ok(await requestOutcome(e, 'unpublish', { rid, mid: dMid }) === '403 join first' &&
    await requestOutcome(e, 'unsubscribe', { sid: 'sub-999' }) === '403 join first' &&
    await requestOutcome(e, 'unpublish', { rid: snowflake(), mid: pubE.mid }) === '403 join first' &&
    await requestOutcome(e, 'keepalive', { rid }) === '403 join first' &&
    await requestOutcome(e, 'subscribe', { rid, mid: dMid, jsep: { type: 'offer', sdp: chromeLikeOffer('recvonly') } }) === '403 join first',
    'after leave, what the leave did not end (another mid, another sid, another room, keepalive, subscribe): 403');
  await e.peer.request('join', { rid, uid: eInfo.user_id });
  checks.ok(/^404 /.test(await requestOutcome(e, 'unsubscribe', { sid: subE.sid })),
    'joined again: the old leave is forgotten (unsubscribe of its sid: 404)');
  e.close();

  /* D's voice state ends (Litecord): stream-remove and peer-leave. */
  await d.close();
  lvsp.endVoiceState({ user_id: dInfo.user_id, session_id: dInfo.session_id });
  const rmD = await a.waitNote('stream-remove', (n) => n.uid === dInfo.user_id).catch(() => null);
  const lvD = await a.waitNote('peer-leave', (n) => n.uid === dInfo.user_id).catch(() => null);
  checks.ok(rmD && rmD.mid === dMid && lvD, `D leaves: stream-remove ${JSON.stringify(rmD)} and peer-leave`);

  /* B leaves. */
  checks.ok(await requestOutcome(b, 'leave', { rid }) === 'ok', 'leave: ok');
  checks.ok(await a.waitNote('peer-leave', (n) => n.uid === bInfo.user_id).then(() => true, () => false),
    'A gets peer-leave for B');
  checks.ok(await requestOutcome(b, 'keepalive', { rid }) === '403 join first', 'after leave: 403');

  /* A second connection with A's token replaces the first. */
  const a2 = await openPeer(ionUrl(srv, { token: aInfo.token }), ca);
  const a2j = await requestOutcome(a2, 'join', { rid });
  const ac = await Promise.race([a.closed, sleep(3000).then(() => 'open')]);
  checks.ok(a2j === 'ok' && ac === 'close', `a second connection takes A over (${a2j}); the first is closed for good (${ac})`);

  const { adminGet } = require('./lib/admin_client');
  const metrics = (await adminGet(srv.adminUrl, '/metrics')).text;
  const joins = /^litecord_voice_ion_requests_total\{method="join"\} (\d+)/m.exec(metrics);
  const badTokens = /^litecord_voice_ion_refused_total\{reason="bad_token"\} (\d+)/m.exec(metrics);
  checks.ok(joins && Number(joins[1]) >= 5 && badTokens && Number(badTokens[1]) >= 3,
    `/metrics counts ion joins (${joins && joins[1]}) and refused tokens (${badTokens && badTokens[1]})`);

  for (const p of [a2, b, x, z]) p.close();
  await lvsp.close().catch(() => {});
}

run('ion_protoo', 60000, body, { checks: () => checks, servers: () => servers });
