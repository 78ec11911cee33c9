'use strict';
/*
 * Hostile input on the Galène front end (--galene-listen, path /ws), run
 * with lib/hostile.js's harness: two djs talkers in another channel keep
 * talking throughout and must keep hearing each other; the server must
 * survive, exit 0 and print no sanitizer report.
 *
 * Each row sends what a broken or malicious Galène client would and
 * expects the answer docs/GALENE.md promises: "close <code>", or the
 * messages that came back ("usermessage error", "joined fail
 * not-authorised", "abort + usermessage error"). Each row also names the
 * front end's refusal counter (GET /state, frontends.galene.refused.<name>)
 * that must grow while it runs; the observed value says so when it did
 * not. The last rows check that Litecord's flags reach a joined client:
 * server mute -> `joined change` without `present` (then an offer is
 * aborted), the end of the voice state -> `usermessage kicked` + `joined
 * leave`; deafen closes the down streams, undeafen offers them again;
 * a second connection with the same token replaces the first.
 */

const { frontendState } = require('./lib/admin_client');
const { runSuite, wsOpen, voiceState } = require('./lib/hostile');
const { HOST, sleep } = require('./lib/server');

const MAX_MESSAGE = 32768; /* --galene-max-message default */
const RATE_LIMIT = 200;    /* --galene-rate-limit default */

/* ---- probes ------------------------------------------------------------------ */

/* The front end's refusal counters (GET /state). */
const galeneState = async (srv) => {
  const st = await frontendState(srv, 'galene');
  return st ? st.refused ?? null : null;
};

async function waitFrame(c, pred, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end && !c.close;) {
    const f = c.frames.find(pred);
    if (f) return f;
    await sleep(10);
  }
  const f = c.frames.find(pred);
  if (f) return f;
  throw new Error(`no such frame (close ${JSON.stringify(c.close)})`);
}

/* A socket on /ws, after our handshake (handshake) and a join (vs). */
async function glOpen(ctx, { handshake = true, vs = null } = {}) {
  const c = wsOpen(`wss://${HOST}:${ctx.srv.ports.galene}/ws`, ctx.ca);
  await c.opened;
  if (handshake) {
    c.ws.send(JSON.stringify({ type: 'handshake', version: ['2'], id: 'probe1' }));
    await waitFrame(c, (f) => f.type === 'handshake');
  }
  if (vs) {
    c.ws.send(JSON.stringify({ type: 'join', kind: 'join', group: vs.channel_id, token: vs.token }));
    const j = await waitFrame(c, (f) => f.type === 'joined');
    if (j.kind !== 'join') throw new Error(`join failed: ${JSON.stringify(j)}`);
  }
  return c;
}

function describe(f) {
  if (f.type === 'usermessage') return `usermessage ${f.kind}`;
  if (f.type === 'joined') return `joined ${f.kind}${f.error ? ` ${f.error}` : ''}`;
  return f.type;
}

/* Sends frames; resolves with "close <code>" or what came back after them
 * (" + "-joined), "nothing" if nothing did. */
async function answerTo(c, frames, ms = 1500) {
  const from = c.frames.length;
  for (const f of frames) {
    if (c.close) break;
    c.ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  }
  const end = Date.now() + ms;
  while (Date.now() < end && !c.close && c.frames.length === from) await sleep(10);
  await sleep(200); /* what follows the first answer */
  if (c.close) return `close ${c.close.code}`;
  const got = c.frames.slice(from).map(describe);
  c.ws.terminate();
  return got.length ? got.join(' + ') : 'nothing';
}

/* Runs fn(ctx) -> observed, and appends a note unless refusal counter
 * `name` grew meanwhile. */
function counted(name, fn) {
  return async (ctx) => {
    const before = await galeneState(ctx.srv);
    const observed = await fn(ctx);
    const after = await galeneState(ctx.srv);
    if (!before || !after) return `${observed} (no counters)`;
    return after[name] > before[name] ? observed : `${observed} (refused.${name} did not grow)`;
  };
}

const FAKE_SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' +
  'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=mid:0\r\n';

/* ---- the cases ---------------------------------------------------------------- */

const row = (id, what, expect, refusal, run) =>
  ({ id, plane: 'galene', what: `${what} [refused.${refusal}]`, expect, run: counted(refusal, run) });

const cases = [
  row('G1', 'join before the handshake', 'close 1002', 'before_handshake', async (ctx) => {
    const c = await glOpen(ctx, { handshake: false });
    return answerTo(c, [{ type: 'join', kind: 'join', group: '1', token: 'x' }]);
  }),
  row('G2', 'not JSON before the handshake', 'close 1002', 'before_handshake', async (ctx) => {
    const c = await glOpen(ctx, { handshake: false });
    return answerTo(c, ['hello']);
  }),
  row('G3', 'handshake without version "2" (protocol 1)', 'close 1002', 'bad_version', async (ctx) => {
    const c = await glOpen(ctx, { handshake: false });
    return answerTo(c, [{ type: 'handshake', version: ['1'], id: 'x' }]);
  }),
  row('G4', 'request before join', 'usermessage error', 'before_join', async (ctx) =>
    answerTo(await glOpen(ctx), [{ type: 'request', request: { '': ['audio'] } }])),
  row('G5', 'offer before join', 'usermessage error', 'before_join', async (ctx) =>
    answerTo(await glOpen(ctx), [{ type: 'offer', id: 'u1', sdp: FAKE_SDP }])),
  row('G6', 'not JSON after the handshake', 'usermessage error', 'malformed', async (ctx) =>
    answerTo(await glOpen(ctx), ['{"type":'])),
  row('G7', 'wrong field types (group a number, token an array)', 'usermessage error', 'malformed',
    async (ctx) => answerTo(await glOpen(ctx), [{ type: 'join', kind: 'join', group: 7, token: ['x'] }])),
  row('G8', 'an id with characters outside the token set', 'usermessage error', 'malformed', async (ctx) =>
    answerTo(await glOpen(ctx), [{ type: 'close', id: 'a"<b>' }])),
  row('G9', 'unknown message type', 'usermessage error', 'unknown_type', async (ctx) =>
    answerTo(await glOpen(ctx), [{ type: 'frobnicate' }])),
  row('G10', 'chat (no Discord counterpart)', 'usermessage error', 'unsupported', async (ctx) =>
    answerTo(await glOpen(ctx), [{ type: 'chat', kind: '', value: 'hi' }])),
  row('G11', 'join with an unknown token', 'joined fail not-authorised', 'auth', async (ctx) => {
    const vs = await voiceState(ctx);
    return answerTo(await glOpen(ctx), [{ type: 'join', kind: 'join', group: vs.channel_id, token: 'f'.repeat(40) }]);
  }),
  row('G12', 'a valid token for another group', 'joined fail not-authorised', 'auth', async (ctx) => {
    const vs = await voiceState(ctx);
    return answerTo(await glOpen(ctx), [{ type: 'join', kind: 'join', group: ctx.snowflake(), token: vs.token }]);
  }),
  row('G13', 'password form with another user name', 'joined fail not-authorised', 'auth', async (ctx) => {
    const vs = await voiceState(ctx);
    return answerTo(await glOpen(ctx), [{ type: 'join', kind: 'join', group: vs.channel_id, username: ctx.snowflake(), password: vs.token }]);
  }),
  row('G14', 'answer for a stream id that is not ours', 'usermessage error', 'not_ours', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'answer', id: 'lcv-99', sdp: FAKE_SDP }])),
  row('G15', 'close, abort, renegotiate and ice for ids not ours', 'usermessage error + usermessage error + usermessage error + usermessage error',
    'not_ours', async (ctx) =>
      answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'close', id: 'x1' }, { type: 'abort', id: 'x2' },
        { type: 'renegotiate', id: 'x3' }, { type: 'ice', id: 'x4', candidate: {} }])),
  row('G16', 'offer with a spoofed source', 'abort + usermessage error', 'spoof', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'offer', id: 'u1', source: 'someone-else', sdp: FAKE_SDP }])),
  row('G17', 'offer with a spoofed username', 'abort + usermessage error', 'spoof', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'offer', id: 'u1', username: '42', sdp: FAKE_SDP }])),
  row('G18', 'offer with malformed SDP', 'abort + usermessage error', 'bad_sdp', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'offer', id: 'u1', sdp: 'v=0\r\nm=audio x\r\n\u0001' }])),
  row('G19', 'offer with 3000 SDP lines (15 KB)', 'abort + usermessage error', 'bad_sdp', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'offer', id: 'u1', sdp: FAKE_SDP + 'a=x\r\n'.repeat(3000) }])),
  row('G20', `a message over ${MAX_MESSAGE} bytes (huge SDP)`, 'close 1009', 'too_big', async (ctx) =>
    answerTo(await glOpen(ctx, { vs: await voiceState(ctx) }), [{ type: 'offer', id: 'u1', sdp: 'a'.repeat(MAX_MESSAGE + 10) }])),
  row('G21', `a flood of ${RATE_LIMIT + 50} pings`, 'close 1008', 'rate', async (ctx) =>
    answerTo(await glOpen(ctx), Array.from({ length: RATE_LIMIT + 50 }, () => ({ type: 'ping' })), 3000)),
  row('G22', 'join twice on one socket', 'joined fail already-joined', 'auth', async (ctx) => {
    const vs = await voiceState(ctx);
    return answerTo(await glOpen(ctx, { vs }), [{ type: 'join', kind: 'join', group: vs.channel_id, token: vs.token }]);
  }),
  {
    id: 'G23', plane: 'galene', what: 'Litecord server-mutes a joined client, which then offers [refused.no_permission]',
    expect: 'joined change [message] + abort + usermessage error',
    run: counted('no_permission', async (ctx) => {
      const vs = await voiceState(ctx);
      const c = await glOpen(ctx, { vs });
      const from = c.frames.length;
      ctx.lvsp.sendVoiceState({ ...vs, mute: true });
      const change = await waitFrame(c, (f) => f.type === 'joined' && f.kind === 'change');
      c.frames.splice(from); /* the user change that follows is not the row's point */
      const rest = await answerTo(c, [{ type: 'offer', id: 'u1', sdp: FAKE_SDP }]);
      return `joined change ${JSON.stringify(change.permissions)} + ${rest}`.replace(/"/g, '');
    }),
  },
  {
    id: 'G24', plane: 'galene', what: 'Litecord ends the voice state of a joined client',
    expect: 'usermessage kicked + joined leave',
    run: async (ctx) => {
      const vs = await voiceState(ctx);
      const c = await glOpen(ctx, { vs });
      const from = c.frames.length;
      ctx.lvsp.endVoiceState(vs);
      await waitFrame(c, (f) => f.type === 'joined' && f.kind === 'leave');
      const got = c.frames.slice(from).map(describe).join(' + ');
      c.ws.terminate();
      return got;
    },
  },
  {
    id: 'G25', plane: 'galene', what: 'a second connection joins with the same token (it replaces the first)',
    expect: 'joined join; first: usermessage kicked + joined leave',
    run: async (ctx) => {
      const vs = await voiceState(ctx);
      const first = await glOpen(ctx, { vs });
      const from = first.frames.length;
      const second = await glOpen(ctx, { vs });
      await waitFrame(first, (f) => f.type === 'joined' && f.kind === 'leave');
      const got = first.frames.slice(from).map(describe).join(' + ');
      first.ws.terminate();
      second.ws.terminate();
      return `joined join; first: ${got}`;
    },
  },
  {
    id: 'G26', plane: 'galene', what: 'deafen and undeafen a client hearing a peer, then the peer leaves',
    expect: 'offer for the peer; deafen: close; undeafen: offer; peer leaves: close + user delete',
    run: async (ctx) => {
      const where = { guild_id: ctx.snowflake(), channel_id: ctx.snowflake() };
      const a = await voiceState(ctx, where);
      const b = await voiceState(ctx, where);
      const ca = await glOpen(ctx, { vs: a });
      const cb = await glOpen(ctx, { vs: b });
      ca.ws.send(JSON.stringify({ type: 'request', request: { '': ['audio'] } }));
      const o1 = await waitFrame(ca, (f) => f.type === 'offer');
      const out = [`offer ${o1.source === b.user_id && o1.username === b.user_id ? 'for the peer' : JSON.stringify(o1.source)}`];
      ctx.lvsp.sendVoiceState({ ...a, deaf: true });
      await waitFrame(ca, (f) => f.type === 'close' && f.id === o1.id);
      out.push('deafen: close');
      ctx.lvsp.sendVoiceState({ ...a, deaf: false });
      const o2 = await waitFrame(ca, (f) => f.type === 'offer' && f.id !== o1.id);
      out.push('undeafen: offer');
      cb.ws.terminate();
      await waitFrame(ca, (f) => f.type === 'close' && f.id === o2.id);
      await waitFrame(ca, (f) => f.type === 'user' && f.kind === 'delete' && f.id === b.user_id);
      out.push('peer leaves: close + user delete');
      ca.ws.terminate();
      return out.join('; ');
    },
  },
];

runSuite({ name: 'hostile_galene', cases });
