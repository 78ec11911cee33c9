'use strict';
/*
 * Hostile input on the Vortex front end (--vortex-listen) of the real
 * server, while two djs clients keep talking in another channel (harness:
 * lib/hostile.js: the server must stay healthy, the talkers keep hearing
 * each other, and it exits cleanly). Each case opens its own socket and
 * expects a close code or an error reply, and the front end's counter
 * (admin /state frontends.vortex: closes by code, refused frames by
 * verdict, error replies by name) that must grow.
 */
const { runSuite, wsOpen, sendAndWaitClose, voiceState } = require('./lib/hostile');
const { sleep } = require('./lib/server');

const AUTH_TIMEOUT_MS = 1000;
const BIG_FRAME_SOCKETS = 8;
const FP = Array.from({ length: 32 }, (_, i) => (i * 7 % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
const CAPS = { codecs: [{ kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2 }] };

function vxOpen(ctx) {
  return wsOpen(`wss://127.0.0.1:${ctx.srv.ports.vortex}/`, ctx.ca);
}

/* The next reply to request id (or null after ms). */
async function reply(c, id, ms = 3000) {
  for (const end = Date.now() + ms; Date.now() < end && !c.close;) {
    const f = c.frames.find((m) => m && m.id === id);
    if (f) return f;
    await sleep(10);
  }
  return c.frames.find((m) => m && m.id === id) || null;
}

/* An authenticated socket (its own room unless vi is given), optionally
 * with transports. */
async function authed(ctx, { transports = false, vi = null } = {}) {
  const v = vi || await voiceState(ctx);
  const c = vxOpen(ctx);
  await c.opened;
  c.ws.send(JSON.stringify({ id: 1, type: 'Authenticate', data: { token: v.token, roomId: v.channel_id } }));
  const a = await reply(c, 1);
  if (!a || !a.data) throw new Error(`no Authenticate reply (close ${JSON.stringify(c.close)})`);
  if (transports) {
    c.ws.send(JSON.stringify({ id: 2, type: 'InitializeTransports', data: { mode: 'SplitWebRTC', rtpCapabilities: CAPS } }));
    c.tr = (await reply(c, 2)).data;
  }
  c.vi = v;
  return c;
}

/* Sends one request on an authenticated socket; "error <Name>" or "ok". */
async function ask(c, id, type, data) {
  c.ws.send(JSON.stringify({ id, type, data }));
  const r = await reply(c, id);
  c.ws.terminate();
  if (!r) return `no reply (close ${c.close && c.close.code})`;
  return r.error ? `error ${r.error}` : 'ok';
}

async function probe(ctx, frames, opts) {
  const c = opts && opts.authed ? await authed(ctx, opts) : vxOpen(ctx);
  await c.opened;
  return sendAndWaitClose(c, frames);
}

const cases = [
  { id: 'V1', plane: 'vortex', what: 'RoomInfo before Authenticate', expect: 'close 1002', counter: 'vortex.closes.1002',
    run: (ctx) => probe(ctx, [{ id: 1, type: 'RoomInfo' }]) },
  { id: 'V2', plane: 'vortex', what: 'StartConsume before InitializeTransports', expect: 'close 1002', counter: 'vortex.closes.1002',
    run: (ctx) => probe(ctx, [{ id: 5, type: 'StartConsume', data: { type: 'audio', userId: '1' } }], { authed: true }) },
  { id: 'V3', plane: 'vortex', what: 'Authenticate twice', expect: 'close 1002', counter: 'vortex.closes.1002',
    run: async (ctx) => {
      const c = await authed(ctx);
      return sendAndWaitClose(c, [{ id: 9, type: 'Authenticate', data: { token: c.vi.token, roomId: c.vi.channel_id } }]);
    } },
  { id: 'V4', plane: 'vortex', what: 'not JSON', expect: 'close 1003', counter: 'vortex.refused.not_json',
    run: (ctx) => probe(ctx, ['{"id":1,"type":"Authent']) },
  { id: 'V5', plane: 'vortex', what: 'id of the wrong type', expect: 'close 1003', counter: 'vortex.refused.bad_envelope',
    run: (ctx) => probe(ctx, [{ id: 'one', type: 'Authenticate', data: {} }]) },
  { id: 'V6', plane: 'vortex', what: 'Authenticate with a numeric token', expect: 'close 1003', counter: 'vortex.refused.bad_data',
    run: (ctx) => probe(ctx, [{ id: 1, type: 'Authenticate', data: { token: 12345, roomId: '1' } }]) },
  { id: 'V7', plane: 'vortex', what: 'unknown request type', expect: 'close 1003', counter: 'vortex.refused.unknown_type',
    run: (ctx) => probe(ctx, [{ id: 1, type: 'DeleteRoom', data: {} }]) },
  { id: 'V8', plane: 'vortex', what: 'SetConsumerPause with paused a string', expect: 'close 1003', counter: 'vortex.refused.bad_data',
    run: (ctx) => probe(ctx, [{ id: 7, type: 'SetConsumerPause', data: { id: 'x', paused: 'no' } }], { authed: true, transports: true }) },
  { id: 'V9', plane: 'vortex', what: 'unknown token', expect: 'close 4001', counter: 'vortex.closes.4001',
    run: (ctx) => probe(ctx, [{ id: 1, type: 'Authenticate', data: { token: 'x'.repeat(40), roomId: '12345' } }]) },
  { id: 'V10', plane: 'vortex', what: 'a valid token for another room', expect: 'close 4001', counter: 'vortex.closes.4001',
    run: async (ctx) => {
      const v = await voiceState(ctx);
      return probe(ctx, [{ id: 1, type: 'Authenticate', data: { token: v.token, roomId: ctx.snowflake() } }]);
    } },
  { id: 'V11', plane: 'vortex', what: 'no Authenticate at all', expect: 'close 4001', counter: 'vortex.closes.4001',
    run: async (ctx) => {
      const c = vxOpen(ctx);
      await c.opened;
      return sendAndWaitClose(c, [], AUTH_TIMEOUT_MS + 3000);
    } },
  { id: 'V12', plane: 'vortex', what: 'ConnectTransport of a transport id that is not ours', expect: 'error TransportConnectionFailure',
    counter: 'vortex.errors.TransportConnectionFailure',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'ConnectTransport',
      { id: 'f'.repeat(32), dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: FP }] } }) },
  { id: 'V13', plane: 'vortex', what: 'ConnectTransport without a sha-256 fingerprint', expect: 'error TransportConnectionFailure',
    counter: 'vortex.errors.TransportConnectionFailure',
    run: async (ctx) => {
      const c = await authed(ctx, { transports: true });
      return ask(c, 8, 'ConnectTransport', { id: c.tr.sendTransport.id,
        dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-1', value: '35:99' }] } });
    } },
  { id: 'V14', plane: 'vortex', what: 'SetConsumerPause of a consumer id that is not ours', expect: 'error ConsumerNotFound',
    counter: 'vortex.errors.ConsumerNotFound',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'SetConsumerPause', { id: 'beef', paused: false }) },
  { id: 'V15', plane: 'vortex', what: 'StopConsume of a consumer id that is not ours', expect: 'error ConsumerNotFound',
    counter: 'vortex.errors.ConsumerNotFound',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'StopConsume', { id: 'beef' }) },
  { id: 'V16', plane: 'vortex', what: 'StartConsume of a user of another room (a talker)', expect: 'error UserNotFound',
    counter: 'vortex.errors.UserNotFound',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'StartConsume',
      { type: 'audio', userId: ctx.talkers.infos ? ctx.talkers.infos.A.user_id : '42' }) },
  { id: 'V17', plane: 'vortex', what: 'StartProduce of video', expect: 'error ProducerFailure', counter: 'vortex.errors.ProducerFailure',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'StartProduce',
      { type: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }] } }) },
  { id: 'V18', plane: 'vortex', what: 'StartProduce before ConnectTransport', expect: 'error ProducerFailure', counter: 'vortex.errors.ProducerFailure',
    run: async (ctx) => ask(await authed(ctx, { transports: true }), 8, 'StartProduce',
      { type: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }] } }) },
  { id: 'V19', plane: 'vortex', what: 'a flood of 400 RoomInfo', expect: 'close 1008', counter: 'vortex.closes.1008',
    run: async (ctx) => {
      const c = await authed(ctx);
      return sendAndWaitClose(c, Array.from({ length: 400 }, (_, i) => ({ id: 10 + i, type: 'RoomInfo' })));
    } },
  /* Several sockets: the server must read the client's close reply before
   * it hangs up, or it resets a socket with the frame's tail unread and
   * the client never reads 1009 (the race sc_wsq's close_handed fixes). */
  { id: 'V20', plane: 'vortex', what: `a 2 MiB frame, on ${BIG_FRAME_SOCKETS} sockets one after another`,
    expect: 'close 1009', counter: 'vortex.closes.1009',
    run: async (ctx) => {
      const big = `{"id":1,"type":"RoomInfo","data":{"x":"${'a'.repeat(2 << 20)}"}}`;
      const seen = [];
      for (let i = 0; i < BIG_FRAME_SOCKETS; i++) seen.push(await probe(ctx, [big]));
      const odd = seen.filter((s) => s !== 'close 1009');
      return odd.length ? `${odd.length}/${seen.length} saw ${odd.join(', ')}` : 'close 1009';
    } },
  { id: 'V21', plane: 'vortex', what: 'a binary frame, then RoomInfo', expect: 'ok',
    run: async (ctx) => {
      const c = await authed(ctx);
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      return ask(c, 4, 'RoomInfo');
    } },
  { id: 'V22', plane: 'vortex', what: '3000-deep nested data (past the JSON depth limit)', expect: 'close 1003', counter: 'vortex.refused.not_json',
    run: (ctx) => probe(ctx, [`{"id":1,"type":"RoomInfo","data":${'['.repeat(3000)}${']'.repeat(3000)}}`]) },
];

runSuite({
  name: 'hostile_vortex',
  cases,
  serverArgs: ['--vortex-auth-timeout-ms', String(AUTH_TIMEOUT_MS), '--vortex-rate-limit', '200'],
});
