'use strict';
/*
 * Hostile input on the ion/protoo front end (docs/ION.md) of the real
 * server, while two djs clients keep talking in another channel
 * (harness: lib/hostile.js, which also checks that the server stays
 * healthy and exits cleanly). Each case opens its own WebSocket with the
 * subprotocol protoo (raw `ws`: exact control over what is sent).
 * Expected: the answer named ("error <code>" for a protoo error
 * response, "close 4000", "dropped" for no answer with the socket left
 * open), and the front end's counter (admin /state,
 * frontends["ion/protoo"]) that must grow: each row checks it itself and
 * reports "(<counter> did not grow)" otherwise.
 * Server flags: --ion-max-subscriptions 4, --ion-rate-limit 200 per 10 s.
 */
const crypto = require('node:crypto');
const WebSocket = require('ws');

const { frontendState } = require('./lib/admin_client');
const { runSuite, voiceState } = require('./lib/hostile');
const { HOST, sleep } = require('./lib/server');
const { rawJoin } = require('./lib/raw_voice_client');
const { chromeLikeOffer: offer } = require('./lib/ion_protoo');

const MAX_SUBS = 4;
const WAIT_MS = 1500;

const ionStatus = (srv) => frontendState(srv, 'ion/protoo');

/* A protoo socket: frames parsed, close recorded. */
function ionOpen(ctx, query = {}) {
  const q = new URLSearchParams(query).toString();
  const ws = new WebSocket(`wss://${HOST}:${ctx.srv.ports.ion}/ws${q ? `?${q}` : ''}`, 'protoo', { ca: ctx.ca, maxPayload: 1 << 22 });
  const c = { ws, frames: [], close: null, nextId: 1 };
  c.closed = new Promise((resolve) => {
    ws.on('close', (code) => { c.close = code; resolve(code); });
    ws.on('error', () => {});
  });
  ws.on('message', (d) => { try { c.frames.push(JSON.parse(d.toString())); } catch { c.frames.push(String(d)); } });
  c.opened = new Promise((resolve, reject) => {
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
  });
  c.request = (method, data) => {
    const id = c.nextId++;
    ws.send(JSON.stringify({ request: true, id, method, data }));
    return id;
  };
  c.response = async (id, ms = 5000) => {
    for (const end = Date.now() + ms; Date.now() < end && c.close === null;) {
      const f = c.frames.find((x) => x && x.response && x.id === id);
      if (f) return f;
      await sleep(10);
    }
    return c.frames.find((x) => x && x.response && x.id === id) || null;
  };
  return c.opened;
}

/* What the server did with the last request / frames. */
async function outcome(c, id) {
  const r = id === undefined ? null : await c.response(id, WAIT_MS);
  if (r && !r.ok) {
    const closed = await Promise.race([c.closed, sleep(300).then(() => null)]);
    c.ws.terminate();
    return `error ${r.errorCode}${closed ? ` + close ${closed}` : ''}`;
  }
  if (r && r.ok) {
    c.ws.terminate();
    return 'ok';
  }
  const closed = await Promise.race([c.closed, sleep(WAIT_MS).then(() => null)]);
  c.ws.terminate();
  if (closed) return `close ${closed}`;
  return c.frames.length ? `answered ${JSON.stringify(c.frames[0]).slice(0, 80)}` : 'dropped';
}

/* A joined client in ctx.room (its own voice state). */
async function joined(ctx) {
  const vi = await voiceState(ctx, ctx.room);
  const c = await ionOpen(ctx, { token: vi.token });
  const id = c.request('join', { rid: ctx.room.channel_id, uid: vi.user_id });
  const r = await c.response(id);
  if (!r || !r.ok) throw new Error(`join failed: ${JSON.stringify(r)}`);
  return c;
}

/* A row whose counter (ion status field, or "methods.<name>") must grow. */
function row(id, what, expect, counter, fn) {
  return {
    id, plane: 'ion', what: `${what} [${counter}]`, expect,
    run: async (ctx) => {
      const get = (s) => counter.split('.').reduce((o, k) => (o ? o[k] : undefined), s);
      const before = get(await ionStatus(ctx.srv));
      const observed = await fn(ctx);
      const after = get(await ionStatus(ctx.srv));
      return after > before ? observed : `${observed} (${counter} did not grow: ${before} -> ${after})`;
    },
  };
}

const cases = [
  row('I1', 'keepalive before join', 'error 403', 'errors_sent', async (ctx) => {
    const c = await ionOpen(ctx);
    return outcome(c, c.request('keepalive', { rid: ctx.room.channel_id }));
  }),
  row('I2', 'publish before join', 'error 403', 'errors_sent', async (ctx) => {
    const c = await ionOpen(ctx);
    return outcome(c, c.request('publish', { rid: ctx.room.channel_id, jsep: { type: 'offer', sdp: offer('sendrecv') } }));
  }),
  row('I3', 'not JSON', 'close 4000', 'malformed', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send('{"request":true,');
    return outcome(c);
  }),
  row('I4', 'a JSON array', 'close 4000', 'malformed', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send('[{"request":true,"id":1,"method":"join"}]');
    return outcome(c);
  }),
  row('I5', 'a request whose id is a string', 'close 4000', 'malformed', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send(JSON.stringify({ request: true, id: '7', method: 'join', data: {} }));
    return outcome(c);
  }),
  row('I6', 'JSON nested 30000 deep', 'close 4000', 'malformed', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send(`${'['.repeat(30000)}${']'.repeat(30000)}`);
    return outcome(c);
  }),
  row('I7', 'join whose rid is a number (wrong type)', 'error 400', 'errors_sent', async (ctx) => {
    const c = await ionOpen(ctx);
    return outcome(c, c.request('join', { rid: 12345, uid: ['x'] }));
  }),
  row('I8', 'an unknown method', 'error 405', 'methods.unknown', async (ctx) => {
    const c = await ionOpen(ctx);
    return outcome(c, c.request('trickle', { candidate: {} }));
  }),
  row('I9', 'a response to an id we never sent', 'dropped', 'foreign_response', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send(JSON.stringify({ response: true, id: 424242, ok: true, data: {} }));
    return outcome(c);
  }),
  row('I10', 'a notification from the client', 'dropped', 'client_notification', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send(JSON.stringify({ notification: true, method: 'stream-add', data: { mid: 'x' } }));
    return outcome(c);
  }),
  row('I11', 'binary frame', 'close 4000', 'closed_by_us', async (ctx) => {
    const c = await ionOpen(ctx);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    return outcome(c);
  }),
  row('I12', 'unknown token in the URL', 'close 4000', 'bad_token', async (ctx) => {
    const c = await ionOpen(ctx, { token: crypto.randomBytes(20).toString('hex') });
    return outcome(c);
  }),
  row('I13', 'a token for another room (join names ours)', 'error 401 + close 4000', 'bad_token', async (ctx) => {
    const vi = await voiceState(ctx);
    const c = await ionOpen(ctx, { token: vi.token });
    return outcome(c, c.request('join', { rid: ctx.room.channel_id }));
  }),
  row('I14', "?peer= that is not the token's user", 'close 4000', 'bad_token', async (ctx) => {
    const vi = await voiceState(ctx, ctx.room);
    const c = await ionOpen(ctx, { token: vi.token, peer: ctx.snowflake() });
    return outcome(c);
  }),
  row('I15', "subscribe to the talkers' stream (another room)", 'error 404', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    const t = ctx.talkers.infos.A;
    return outcome(c, c.request('subscribe', { rid: ctx.room.channel_id, mid: `${t.user_id}-${ctx.talkers.ssrcs.A}`, jsep: { type: 'offer', sdp: offer('recvonly') } }));
  }),
  row('I16', "unpublish another member's mid", 'error 404', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    return outcome(c, c.request('unpublish', { rid: ctx.room.channel_id, mid: ctx.roomMid }));
  }),
  row('I17', 'unsubscribe a sid that is not ours', 'error 404', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    return outcome(c, c.request('unsubscribe', { sid: 'sub-1' }));
  }),
  row('I18', 'publish a malformed SDP', 'error 400', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    return outcome(c, c.request('publish', { rid: ctx.room.channel_id, jsep: { type: 'offer', sdp: 'v=0\r\nm=audio x\r\n\u0001' } }));
  }),
  row('I19', 'publish a 60 kB SDP (over the SDP reader\'s limit)', 'error 400', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    const huge = offer('sendrecv') + 'a=x-filler:'.padEnd(60000, 'z') + '\r\n';
    return outcome(c, c.request('publish', { rid: ctx.room.channel_id, jsep: { type: 'offer', sdp: huge } }));
  }),
  row('I20', 'a 100 kB message (over --ion-max-message)', 'close 4000', 'too_large', async (ctx) => {
    const c = await joined(ctx);
    c.request('broadcast', { rid: ctx.room.channel_id, info: { blob: 'x'.repeat(100000) } });
    return outcome(c);
  }),
  row('I21', 'a flood of 300 keepalives (rate limit 200)', 'close 4000', 'rate_limited', async (ctx) => {
    const c = await joined(ctx);
    for (let i = 0; i < 300; i++) c.request('keepalive', { rid: ctx.room.channel_id });
    const closed = await Promise.race([c.closed, sleep(3000).then(() => null)]);
    c.ws.terminate();
    return closed ? `close ${closed}` : 'open';
  }),
  row('I22', `subscription flood (${MAX_SUBS + 1} subscriptions, limit ${MAX_SUBS})`, 'error 429', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    for (let i = 0; i < MAX_SUBS; i++) {
      const r = await c.response(c.request('subscribe', { rid: ctx.room.channel_id, mid: ctx.roomMid, jsep: { type: 'offer', sdp: offer('recvonly') } }));
      if (!r || !r.ok) return `subscription ${i + 1} refused: ${JSON.stringify(r)}`;
    }
    return outcome(c, c.request('subscribe', { rid: ctx.room.channel_id, mid: ctx.roomMid, jsep: { type: 'offer', sdp: offer('recvonly') } }));
  }),
  row('I23', 'a 20 kB broadcast (over 8 kB: every roommate would get a copy)', 'error 413', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    return outcome(c, c.request('broadcast', { rid: ctx.room.channel_id, info: { blob: 'x'.repeat(20000) } }));
  }),
  row('I24', 'a request naming another room', 'error 401', 'errors_sent', async (ctx) => {
    const c = await joined(ctx);
    return outcome(c, c.request('broadcast', { rid: ctx.snowflake(), info: {} }));
  }),
];

/* The room of the rows: a Discord member is attached there (a stream to
 * subscribe to). */
async function setup(ctx) {
  ctx.room = { guild_id: ctx.snowflake(), channel_id: ctx.snowflake() };
  const vi = await voiceState(ctx, ctx.room);
  ctx.member = await rawJoin(vi, { ca: ctx.ca });
  ctx.roomMid = `${vi.user_id}-${ctx.member.ready.ssrc}`;
}

async function teardown(ctx) {
  await ctx.member.close().catch(() => {});
}

runSuite({ name: 'hostile_ion', cases, setup, teardown,
  serverArgs: ['--ion-max-subscriptions', String(MAX_SUBS), '--ion-rate-limit', '200'] });
