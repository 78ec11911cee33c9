'use strict';
/*
 * The Vortex dialect's every JSON shape and its state machine, with the
 * real mediasoup-client 3.24.1 in Node: its FakeHandler stands in for the
 * browser's RTCPeerConnection (no ICE/DTLS), so Device.load,
 * createSend/RecvTransport, produce and consume run the library's own
 * checks on what the server sent (lib/ortc.js: Opus channels 2, the
 * consumer PT among the router's, ...). Signalling goes through
 * lib/vortex_signal.js over the `ws` package.
 *
 * Checked: Authenticate, RoomInfo, InitializeTransports (ICE-lite
 * parameters, a host candidate on the room's UDP port, DTLS role server
 * with a sha-256 fingerprint), ConnectTransport, StartProduce ->
 * producerId and UserStartProduce to the peer, StartConsume (PT 100,
 * the producer's voice-state SSRC), SetConsumerPause, StopProduce ->
 * UserStopProduce, StopConsume, UserJoined/UserLeft, server mute ->
 * ProducerFailure, the states (1002), a token of another room (4001)
 * and a second connection with the same token replacing the first (4003).
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const WebSocket = require('ws');
const { Device } = require('mediasoup-client');
const { FakeHandler } = require('mediasoup-client/handlers/FakeHandler');
/* Not in the package's exports map: required by file path. */
const fakeParameters = require(path.join(path.dirname(require.resolve('mediasoup-client')), 'test', 'fakeParameters.js'));
const { FakeMediaStreamTrack } = require('fake-mediastreamtrack');

const { Checks, run, sleep, waitFor: pollUntil } = require('./lib/checks');
const { snowflake } = require('./lib/ids');
const { VortexSignal } = require('./lib/vortex_signal');

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('vortex_signal');
const servers = [];
const FP_RE = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

const waitFor = (pred, ms, step = 20) => pollUntil(pred, ms, step);

async function expectError(p, name, what) {
  try {
    await p;
    checks.ok(false, `${what}: answered without error`);
  } catch (e) {
    checks.ok(e.error === name && typeof e.reply.message === 'string' && Number.isInteger(e.reply.id),
      `${what}: error ${e.error} "${e.reply && e.reply.message}" (want ${name})`);
  }
}

async function expectClose(sig, code, what) {
  const c = await Promise.race([sig.closed, sleep(5000).then(() => null)]);
  checks.ok(c && c.code === code, `${what}: close ${c && c.code} "${c && c.reason}" (want ${code})`);
}

/* A FakeHandler client that authenticated and loaded its Device. */
async function client(srv, ca, vs, roomId = vs.channel_id) {
  const url = `wss://127.0.0.1:${srv.ports.vortex}/`;
  const sig = await VortexSignal.open(url, { WebSocket, wsOptions: { ca } });
  const auth = await sig.request('Authenticate', { token: vs.token, roomId });
  const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
  await device.load({ routerRtpCapabilities: auth.rtpCapabilities });
  return { sig, auth, device };
}

function wire(c, t) {
  t.on('connect', ({ dtlsParameters }, ok, fail) =>
    c.sig.request('ConnectTransport', { id: t.id, dtlsParameters }).then(() => ok(), fail));
  t.on('produce', ({ rtpParameters }, ok, fail) =>
    c.sig.request('StartProduce', { type: 'audio', rtpParameters }).then((d) => ok({ id: d.producerId }), fail));
}

async function transports(c) {
  const tr = await c.sig.request('InitializeTransports',
    { mode: 'SplitWebRTC', rtpCapabilities: c.device.rtpCapabilities });
  c.tr = tr;
  c.send = c.device.createSendTransport(tr.sendTransport);
  c.recv = c.device.createRecvTransport(tr.recvTransport);
  wire(c, c.send);
  wire(c, c.recv);
  return tr;
}

function checkTransport(t, srv, name) {
  const cand = t.iceCandidates[0] || {};
  checks.ok(typeof t.id === 'string' && t.id.length > 0 && t.sctpParameters === null,
    `${name}: id ${t.id}, sctpParameters null`);
  checks.ok(t.iceParameters.iceLite === true && /^[A-Za-z0-9+/]{4,}$/.test(t.iceParameters.usernameFragment) &&
    t.iceParameters.password.length >= 22, `${name}: ICE-lite parameters ${JSON.stringify(t.iceParameters.usernameFragment)}`);
  checks.ok(t.iceCandidates.length === 1 && cand.ip === '127.0.0.1' && cand.port === srv.ports.udp &&
    cand.protocol === 'udp' && cand.type === 'host', `${name}: one UDP host candidate ${JSON.stringify(cand)}`);
  const fps = t.dtlsParameters.fingerprints;
  checks.ok(t.dtlsParameters.role === 'server' && fps.length === 1 && fps[0].algorithm === 'sha-256' &&
    FP_RE.test(fps[0].value), `${name}: DTLS role server, sha-256 ${fps[0] && fps[0].value.slice(0, 8)}...`);
}

async function body() {
  const { INFO_LATER } = require('./lib/lvsp_client');
  const { adminState, findMember } = require('./lib/admin_client');
  const { openRoom } = require('./lib/tone_room');
  const room = await openRoom({ buildDir, servers, toneHz: null });
  const { srv, ca, lvsp, guild_id, channel_id } = room;
  const infoA = await room.member();
  const infoB = await room.member();
  const infoC = await room.member();
  const other = await room.member(snowflake());
  const url = `wss://127.0.0.1:${srv.ports.vortex}/`;
  const open = () => VortexSignal.open(url, { WebSocket, wsOptions: { ca } });

  /* States. */
  let s = await open();
  s.request('RoomInfo').catch(() => {});
  await expectClose(s, 1002, 'RoomInfo before Authenticate');
  s = await open();
  await s.request('Authenticate', { token: infoC.token, roomId: channel_id });
  s.request('StartConsume', { type: 'audio', userId: infoA.user_id }).catch(() => {});
  await expectClose(s, 1002, 'StartConsume before InitializeTransports');
  s = await open();
  s.request('Authenticate', { token: other.token, roomId: channel_id }).catch(() => {});
  await expectClose(s, 4001, 'a token of another room');

  /* A: authenticate, room info, transports. */
  const a = await client(srv, ca, infoA);
  const caps = a.auth.rtpCapabilities;
  const opus = caps.codecs[0] || {};
  checks.ok(a.auth.userId === infoA.user_id && a.auth.roomId === channel_id && typeof a.auth.version === 'string',
    `Authenticate: userId ${a.auth.userId}, roomId, version ${a.auth.version}`);
  checks.ok(caps.codecs.length === 1 && opus.mimeType === 'audio/opus' && opus.preferredPayloadType === 100 &&
    opus.clockRate === 48000 && opus.channels === 2, `router capabilities: ${JSON.stringify(opus)}`);
  checks.ok(a.device.canProduce('audio'), 'mediasoup-client can produce audio with them');
  const roomA = await a.sig.request('RoomInfo');
  checks.ok(roomA.id === channel_id && roomA.videoAllowed === false &&
    JSON.stringify(roomA.users) === JSON.stringify({ [infoA.user_id]: { audio: false } }),
  `RoomInfo: ${JSON.stringify(roomA)}`);
  const tr = await transports(a);
  checkTransport(tr.sendTransport, srv, 'sendTransport');
  checkTransport(tr.recvTransport, srv, 'recvTransport');
  checks.ok(tr.sendTransport.id !== tr.recvTransport.id &&
    tr.sendTransport.iceParameters.usernameFragment !== tr.recvTransport.iceParameters.usernameFragment,
  'two transports with their own ids and ICE credentials');
  await expectError(a.sig.request('InitializeTransports', { mode: 'SplitWebRTC', rtpCapabilities: a.device.rtpCapabilities }),
    'TransportConnectionFailure', 'InitializeTransports twice');

  /* B joins: A sees UserJoined. */
  const b = await client(srv, ca, infoB);
  checks.ok(await waitFor(() => a.sig.events.some((e) => e.type === 'UserJoined' && e.data.id === infoB.user_id), 3000),
    `A gets UserJoined {id: B}: ${JSON.stringify(a.sig.events)}`);
  await transports(b);

  /* A produces: ConnectTransport then StartProduce; B hears of it. */
  const producer = await a.send.produce({ track: new FakeMediaStreamTrack({ kind: 'audio' }) });
  checks.ok(producer.id === infoA.user_id, `StartProduce: producerId ${producer.id}`);
  checks.ok(await waitFor(() => b.sig.events.some((e) => e.type === 'UserStartProduce' &&
    e.data.id === infoA.user_id && e.data.type === 'audio'), 3000), 'B gets UserStartProduce {id: A, type: audio}');
  await expectError(a.sig.request('ConnectTransport', { id: a.send.id, dtlsParameters: fakeParameters.generateLocalDtlsParameters() }),
    'TransportConnectionFailure', 'ConnectTransport twice');
  await expectError(a.sig.request('StartProduce', { type: 'audio', rtpParameters: producer.rtpParameters }),
    'ProducerFailure', 'StartProduce while producing');
  const roomB = await b.sig.request('RoomInfo');
  checks.ok(roomB.users[infoA.user_id] && roomB.users[infoA.user_id].audio === true, `B's RoomInfo: A has audio ${JSON.stringify(roomB.users)}`);

  /* B consumes A. */
  const st = await adminState(srv.adminUrl, srv.adminToken());
  const ssrcA = (findMember(st, infoA.user_id) || { member: {} }).member.ssrc;
  const d = await b.sig.request('StartConsume', { type: 'audio', userId: infoA.user_id });
  const rp = d.rtpParameters;
  checks.ok(typeof d.id === 'string' && d.producerId === infoA.user_id && d.kind === 'audio',
    `StartConsume: id ${d.id}, producerId ${d.producerId}, kind ${d.kind}`);
  checks.ok(rp.codecs.length === 1 && rp.codecs[0].payloadType === 100 && rp.codecs[0].channels === 2 &&
    Number.isInteger(rp.encodings[0].ssrc) && rp.encodings[0].ssrc > 0 && rp.encodings[0].ssrc !== ssrcA &&
    rp.rtcp.reducedSize === true && typeof rp.mid === 'string',
  `consumer rtpParameters: PT ${rp.codecs[0].payloadType}, its own ssrc ${rp.encodings[0].ssrc} (A's ${ssrcA}), mid ${rp.mid}`);
  const consumer = await b.recv.consume({ id: d.id, producerId: d.producerId, kind: d.kind, rtpParameters: rp });
  checks.ok(consumer.id === d.id && consumer.paused === false, 'mediasoup-client accepts the consumer');
  await b.sig.request('SetConsumerPause', { id: d.id, paused: false });
  checks.ok(true, 'SetConsumerPause acknowledged');
  await expectError(b.sig.request('StartConsume', { type: 'audio', userId: infoA.user_id }),
    'ConsumerFailure', 'StartConsume of a user already consumed');
  await expectError(b.sig.request('StartConsume', { type: 'audio', userId: infoC.user_id }),
    'UserNotFound', 'StartConsume of a user not in the room');
  await expectError(b.sig.request('SetConsumerPause', { id: 'f00d', paused: true }),
    'ConsumerNotFound', 'SetConsumerPause of an id that is not ours');

  /* Server mute while producing: peers see the producer stop, then come back. */
  const count = (c, type) => c.sig.events.filter((e) => e.type === type && e.data.id === infoA.user_id).length;
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: infoA.user_id, guild_id, mute: true });
  checks.ok(await waitFor(() => count(b, 'UserStopProduce') === 1, 3000), 'server mute of a producer: B gets UserStopProduce');
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: infoA.user_id, guild_id, mute: false });
  checks.ok(await waitFor(() => count(b, 'UserStartProduce') === 2, 3000), 'unmuted: B gets UserStartProduce again');

  /* A stops producing: B hears of it, stops its consumer. */
  await a.sig.request('StopProduce', { type: 'audio' });
  checks.ok(await waitFor(() => count(b, 'UserStopProduce') === 2, 3000), 'B gets UserStopProduce {id: A}');
  await expectError(a.sig.request('StopProduce', { type: 'audio' }), 'ProducerNotFound', 'StopProduce twice');
  await b.sig.request('StopConsume', { id: d.id });
  await expectError(b.sig.request('StopConsume', { id: d.id }), 'ConsumerNotFound', 'StopConsume twice');

  /* Server mute: StartProduce refused. */
  lvsp.info(INFO_LATER.VST_UPDATE, { user_id: infoB.user_id, guild_id, mute: true });
  await sleep(300);
  await expectError(b.send.produce({ track: new FakeMediaStreamTrack({ kind: 'audio' }) }).then(() => null, (e) => { throw e; }),
    'ProducerFailure', 'StartProduce while server-muted');

  /* A second connection with A's token replaces the first; B sees no leave. */
  const a2 = await client(srv, ca, infoA);
  await expectClose(a.sig, 4003, 'the first connection of a replaced voice state');
  checks.ok(a2.auth.userId === infoA.user_id, 'the second connection is authenticated');
  await sleep(200);
  checks.ok(!b.sig.events.some((e) => e.type === 'UserLeft'), 'B saw no UserLeft for a replacement');

  /* A leaves: B gets UserLeft. */
  a2.sig.close();
  checks.ok(await waitFor(() => b.sig.events.some((e) => e.type === 'UserLeft' && e.data.id === infoA.user_id), 3000),
    'B gets UserLeft {id: A} when A\'s socket closes');
  b.sig.close();

  /* What happened above, in /metrics. */
  const { adminMetrics } = require('./lib/admin_client');
  const { text, values } = await adminMetrics(srv);
  const metric = (line) => values[line] ?? 0;
  checks.ok(metric('litecord_voice_vortex_closes_total{code="1002"}') === 2 &&
    metric('litecord_voice_vortex_closes_total{code="4001"}') === 1 &&
    metric('litecord_voice_vortex_errors_total{error="ConsumerNotFound"}') === 2 &&
    metric('litecord_voice_vortex_requests_total{type="StartConsume"}') >= 4 &&
    metric('litecord_voice_vortex_authenticated_total') === 4,
  `/metrics: ${text.split('\n').filter((l) => l.startsWith('litecord_voice_vortex_')).join(', ')}`);
  await room.close();
}

run('vortex_signal', 60000, body, { checks: () => checks, servers: () => servers });
