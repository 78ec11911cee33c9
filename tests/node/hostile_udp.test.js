'use strict';
/*
 * Hostile input on the UDP media port (open to anyone), against the
 * running binary, while two djs clients keep talking in another channel
 * (harness: lib/hostile.js).
 *
 * Two raw media clients H1 and H2 (lib/media_client.js) share a channel;
 * an attacker socket sends from another address. A "dropped" row means:
 * H2 got nothing of what the row sent, nobody got an answer, and a
 * control packet H1 sends right after still reaches H2 (so the server is
 * alive and H1's address binding and replay window were not disturbed).
 * An authentic packet of H1 from a new address is not an attack but a
 * NAT rebinding: the binding follows it (U12), and back.
 * Discovery rows measure bytes in and out: an answer is never larger
 * than its request and unknown SSRCs get none (no amplification).
 */
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const { runSuite, voiceState } = require('./lib/hostile');
const { MediaClient, sealRtpsize, rtpHeader } = require('./lib/media_client');
const { discoveryRequest } = require('./lib/raw_voice_client');
const { HOST, sleep } = require('./lib/server');

const FLOOD = 2000;

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

async function setup(ctx) {
  const where = { guild_id: ctx.snowflake(), channel_id: ctx.snowflake() };
  ctx.h1 = await MediaClient.join(await voiceState(ctx, where), { ca: ctx.ca });
  ctx.h2 = await MediaClient.join(await voiceState(ctx, where), { ca: ctx.ca });
  for (const h of [ctx.h1, ctx.h2]) {
    h.rx = [];
    h.on('audio', (a) => h.rx.push(a.payload.toString('latin1')));
  }
  const att = dgram.createSocket('udp4');
  await new Promise((r) => att.bind(0, HOST, r));
  ctx.att = { sock: att, datagrams: 0, bytesIn: 0 };
  att.on('message', (m) => { ctx.att.datagrams++; ctx.att.bytesIn += m.length; });
  ctx.attSend = (buf) => att.send(buf, ctx.h1.server.port, ctx.h1.server.ip);
  ctx.h1.sendOpus(Buffer.from('warm-up'));
  if (!await waitFor(() => ctx.h2.rx.includes('warm-up'), 3000)) throw new Error('H1 -> H2 does not work');
}

async function teardown(ctx) {
  ctx.att.sock.close();
  await ctx.h1.close();
  await ctx.h2.close();
}

/* Runs send(ctx), then checks the drop as described at the top. */
async function dropped(ctx, id, send) {
  const mark = ctx.h2.rx.length;
  const attMark = ctx.att.datagrams;
  await send(ctx);
  await sleep(150);
  const ctl = `ctl-${id}`;
  ctx.h1.sendOpus(Buffer.from(ctl));
  const arrived = await waitFor(() => ctx.h2.rx.includes(ctl), 3000);
  const extra = ctx.h2.rx.slice(mark).filter((p) => p !== ctl);
  const answers = ctx.att.datagrams - attMark;
  if (extra.length) return `forwarded ${extra.length}: ${JSON.stringify(extra.slice(0, 3))}`;
  if (answers) return `answered ${answers} datagrams`;
  return arrived ? 'dropped' : 'control packet lost';
}

const row = (id, what, counter, send) => ({ id, what, counter, expect: 'dropped', run: (ctx) => dropped(ctx, id, send) });
const h1Header = (ctx, extra = {}) => rtpHeader({ seq: 1, ts: 1, ssrc: ctx.h1.ssrc, ...extra });

/* A packet H1's key authenticates, with a counter far from H1's own. */
function authenticH1(ctx, payload, ctr = (ctx.h1.ctr + 1000) >>> 0, header = h1Header(ctx)) {
  return ctx.h1.seal(header, Buffer.from(payload), ctr);
}

/* H1's next own counter: an authentic packet moves the replay window even
 * when it is dropped afterwards (bad padding), as a real client's would. */
function nextCtr(ctx) {
  ctx.h1.ctr = (ctx.h1.ctr + 1) >>> 0;
  return ctx.h1.ctr;
}

const cases = [
  row('U1', 'random garbage, 1..1400 bytes', 'drop_malformed', (ctx) => {
    for (const n of [1, 7, 9, 13, 100, 1400]) ctx.attSend(crypto.randomBytes(n));
  }),
  row('U2', 'zero-length datagram', 'drop_malformed', (ctx) => ctx.attSend(Buffer.alloc(0))),
  row('U3', 'RTP with an unknown SSRC', 'drop_unknown_ssrc', (ctx) =>
    ctx.attSend(Buffer.concat([rtpHeader({ seq: 1, ts: 1, ssrc: 0x0badf00d }), crypto.randomBytes(60)]))),
  row('U4', 'truncated RTP (11 bytes, H1 SSRC prefix)', 'drop_malformed', (ctx) =>
    ctx.h1.sendRaw(h1Header(ctx).subarray(0, 11))),
  row('U5', 'bare RTP header with H1 SSRC from a foreign address', 'drop_foreign_addr', (ctx) =>
    ctx.attSend(h1Header(ctx))),
  row('U6', 'oversized datagram (3000 bytes) from H1 itself', 'drop_malformed', (ctx) =>
    ctx.h1.sendRaw(Buffer.concat([h1Header(ctx), crypto.randomBytes(2988)]))),
  row('U7', 'maximum-size datagram (65507 bytes)', 'drop_malformed', (ctx) =>
    ctx.attSend(Buffer.concat([h1Header(ctx), crypto.randomBytes(65495)]))),
  row('U8', 'forged packet: H1 SSRC and address, random ciphertext and tag', 'drop_auth', (ctx) =>
    ctx.h1.sendRaw(Buffer.concat([h1Header(ctx), crypto.randomBytes(60), Buffer.from([0, 0, 0x10, 0])]))),
  row('U9', 'H1 packet sealed with another member\'s (H2) key', 'drop_auth', (ctx) =>
    ctx.h1.sendRaw(sealRtpsize(ctx.h2.mode, ctx.h2.key, h1Header(ctx), Buffer.from('wrong-key'), ctx.h1.ctr + 500))),
  { id: 'U10', what: 'replayed packet (captured and resent twice)', counter: 'drop_replay', expect: 'delivered once',
    run: async (ctx) => {
      const pkt = ctx.h1.nextPacket(Buffer.from('orig-U10'));
      ctx.h1.sendRaw(pkt);
      if (!await waitFor(() => ctx.h2.rx.includes('orig-U10'), 2000)) return 'original lost';
      const r = await dropped(ctx, 'U10', (c) => { c.h1.sendRaw(pkt); c.h1.sendRaw(pkt); });
      return r === 'dropped' ? 'delivered once' : r;
    } },
  row('U11', 'authentic packet whose counter is 100 behind (outside the window)', 'drop_replay', (ctx) =>
    ctx.h1.sendRaw(authenticH1(ctx, 'old-U11', (ctx.h1.ctr - 100) >>> 0))),
  { id: 'U12', what: 'H1 SSRC, H1 key, next counter, from a new address (what a NAT rebinding looks like)',
    counter: 'addr_moved', expect: 'binding moved, then back',
    run: async (ctx) => {
      // Only H1's key can do this, so it is H1 that moved: the binding follows.
      ctx.attSend(authenticH1(ctx, 'moved-U12', nextCtr(ctx)));
      if (!await waitFor(() => ctx.h2.rx.includes('moved-U12'), 2000)) return 'authentic packet from the new address lost';
      const attMark = ctx.att.datagrams;
      ctx.h2.sendOpus(Buffer.from('to-new-U12'));
      if (!await waitFor(() => ctx.att.datagrams > attMark, 2000)) return 'the new address hears nothing';
      ctx.h1.sendOpus(Buffer.from('home-U12')); // and moves back
      if (!await waitFor(() => ctx.h2.rx.includes('home-U12'), 2000)) return 'H1 lost after moving back';
      ctx.h2.sendOpus(Buffer.from('back-U12'));
      return await waitFor(() => ctx.h1.rx.includes('back-U12'), 2000) ? 'binding moved, then back' : 'H1 does not hear after moving back';
    } },
  row('U13', 'RTCP with H1 SSRC from a foreign address', 'drop_foreign_addr', (ctx) => {
    const rtcp = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 0]);
    rtcp.writeUInt32BE(ctx.h1.ssrc, 4);
    ctx.attSend(Buffer.concat([rtcp, crypto.randomBytes(44)]));
  }),
  row('U14', 'talker A\'s SSRC from a foreign address', 'drop_foreign_addr', (ctx) => {
    for (let i = 0; i < 20; i++) ctx.attSend(Buffer.concat([rtpHeader({ seq: i, ts: i, ssrc: ctx.talkers.ssrcs.A }), crypto.randomBytes(80)]));
  }),
  row('U15', 'authentic packet whose extension is longer than the packet', 'drop_malformed', (ctx) => {
    const h = Buffer.concat([h1Header(ctx), Buffer.from([0xbe, 0xde, 0x00, 0x40])]);
    h[0] |= 0x10;
    ctx.h1.sendRaw(authenticH1(ctx, 'ext-U15', nextCtr(ctx), h));
  }),
  row('U16', 'authentic packet with a padding count larger than the payload', 'drop_malformed', (ctx) => {
    const h = h1Header(ctx);
    h[0] |= 0x20;
    ctx.h1.sendRaw(ctx.h1.seal(h, Buffer.from([1, 2, 200]), nextCtr(ctx)));
  }),
  { id: 'U17', what: 'IP discovery for H1 SSRC from a foreign address', counter: 'discovery', expect: 'answered 74/74 bytes, H1 not rebound',
    run: async (ctx) => {
      const before = ctx.att.bytesIn;
      ctx.attSend(discoveryRequest(ctx.h1.ssrc));
      await waitFor(() => ctx.att.bytesIn > before, 1000);
      const got = ctx.att.bytesIn - before;
      const r = await dropped(ctx, 'U17', () => {});
      ctx.h2.sendOpus(Buffer.from('back-U17')); // H1 must still receive at its own address
      const back = await waitFor(() => ctx.h1.rx.includes('back-U17'), 2000);
      return r === 'dropped' && back ? `answered ${got}/74 bytes, H1 not rebound` : `${r}, H1 receives: ${back}`;
    } },
  row('U18', 'IP discovery for an unknown SSRC', 'drop_unknown_ssrc', (ctx) => ctx.attSend(discoveryRequest(0x7777))),
  row('U19', 'IP discovery of the wrong size (73 and 75 bytes)', 'drop_malformed', (ctx) => {
    ctx.attSend(discoveryRequest(ctx.h1.ssrc).subarray(0, 73));
    ctx.attSend(Buffer.concat([discoveryRequest(ctx.h1.ssrc), Buffer.alloc(1)]));
  }),
  row('U20', 'IP discovery response (type 2) sent to the server', 'drop_malformed', (ctx) => {
    const b = discoveryRequest(ctx.h1.ssrc);
    b.writeUInt16BE(2, 0);
    ctx.attSend(b);
  }),
  row('U21', 'keepalive (8 bytes) from a stranger', 'keepalives', (ctx) => ctx.attSend(crypto.randomBytes(8))),
  { id: 'U22', what: `IP discovery flood (${FLOOD} requests + ${FLOOD / 4} malformed)`, counter: 'discovery, drop_unknown_ssrc',
    expect: 'no amplification',
    run: async (ctx) => {
      const before = { n: ctx.att.datagrams, b: ctx.att.bytesIn };
      let sentBytes = 0;
      for (let i = 0; i < FLOOD; i++) {
        const req = discoveryRequest(i % 2 ? ctx.h1.ssrc : 0x10000 + i);
        ctx.attSend(req);
        sentBytes += req.length;
        if (i % 4 === 0) { ctx.attSend(req.subarray(0, 70)); sentBytes += 70; }
        if (i % 200 === 0) await sleep(5);
      }
      await sleep(1000);
      const answers = ctx.att.datagrams - before.n;
      const outBytes = ctx.att.bytesIn - before.b;
      console.log(`     U22: sent ${sentBytes} bytes, got ${answers} answers / ${outBytes} bytes back`);
      const r = await dropped(ctx, 'U22', () => {});
      if (r !== 'dropped') return r;
      return outBytes <= sentBytes && answers <= FLOOD / 2 ? 'no amplification' : `amplified: ${outBytes} > ${sentBytes}`;
    } },
  row('U23', `burst of ${FLOOD} forged packets (H2's key) with H1 SSRC from a foreign address`, 'drop_foreign_addr', async (ctx) => {
    for (let i = 0; i < FLOOD; i++) {
      ctx.attSend(sealRtpsize(ctx.h2.mode, ctx.h2.key, h1Header(ctx), Buffer.from(`burst-${i}`), (ctx.h1.ctr + 5000 + i) >>> 0));
      if (i % 200 === 0) await sleep(5);
    }
  }),
];
for (const c of cases) c.plane = 'udp';

runSuite({ name: 'hostile_udp', cases, setup, teardown }).catch((err) => {
  console.log(`hostile_udp: FAIL ${err.stack || err}`);
  process.exit(1);
});
