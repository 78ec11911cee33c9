'use strict';
/*
 * Hostile input on the WebRTC transport of the real server, while two djs
 * clients keep talking in another channel (harness: lib/hostile.js, which
 * also checks that the server stays healthy and exits cleanly). Each case
 * gets a fresh WebRTC member: Identify, op 1 webrtc with a fragment, op 4's
 * ufrag/pwd; then raw datagrams to the shared UDP port from a socket of
 * its own. Expected: no answer (or the answer named), and the counter of
 * the admin state (media.webrtc.*, media.drops.*) that must grow.
 */
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const zlib = require('node:zlib');

const { runSuite, wsOpen, identifyData, voiceState } = require('./lib/hostile');
const { HOST, sleep } = require('./lib/server');

const CREDS = 'a=ice-ufrag:Hx7q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n';
const FRAGMENT = `${CREDS}a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\na=rtpmap:111 opus/48000/2`;
const COOKIE = 0x2112a442;

/* A WebRTC member: its gateway socket, our credentials, the UDP port. */
async function webMember(ctx) {
  const vi = await voiceState(ctx);
  const c = wsOpen(`wss://${ctx.srv.endpoint}/?v=8`, ctx.ca);
  await c.opened;
  c.ws.send(JSON.stringify({ op: 0, d: identifyData(vi) }));
  const ready = await waitFrame(c, 2);
  c.ws.send(JSON.stringify({ op: 1, d: { protocol: 'webrtc', data: FRAGMENT, sdp: FRAGMENT,
    codecs: [{ name: 'opus', type: 'audio', priority: 1000, payload_type: 111, rtx_payload_type: null }] } }));
  const op4 = await waitFrame(c, 4);
  const ufrag = /a=ice-ufrag:(.+)/.exec(op4.d.sdp)[1];
  const pwd = /a=ice-pwd:(.+)/.exec(op4.d.sdp)[1];
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, HOST, r));
  const rx = [];
  sock.on('message', (m) => rx.push(m));
  return { c, vi, ssrc: ready.d.ssrc, port: ready.d.port, ufrag, pwd, sock, rx,
           send: (b) => sock.send(b, ready.d.port, HOST),
           close: () => { sock.close(); c.ws.terminate(); } };
}

async function waitFrame(c, op, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const f = c.frames.find((x) => x && x.op === op);
    if (f) return f;
    await sleep(10);
  }
  throw new Error(`no op ${op}`);
}

function attr(type, value) {
  const pad = (4 - (value.length % 4)) % 4;
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc(pad)]);
}

/* A binding request as Chrome sends it: USERNAME, ICE-CONTROLLING,
 * PRIORITY, [USE-CANDIDATE], MESSAGE-INTEGRITY under pwd, FINGERPRINT. */
function bindingRequest(username, pwd, { useCandidate = false, badFingerprint = false } = {}) {
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e7f1eff);
  let body = Buffer.concat([attr(0x0006, Buffer.from(username)), attr(0x802a, crypto.randomBytes(8)),
    attr(0x0024, prio), useCandidate ? attr(0x0025, Buffer.alloc(0)) : Buffer.alloc(0)]);
  const header = (len) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0001, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(COOKIE, 4);
    crypto.randomBytes(12).copy(h, 8);
    return h;
  };
  let h = header(body.length + 24);
  const mac = crypto.createHmac('sha1', pwd).update(Buffer.concat([h, body])).digest();
  body = Buffer.concat([body, attr(0x0008, mac)]);
  h.writeUInt16BE(body.length + 8, 2);
  const crc = (zlib.crc32(Buffer.concat([h, body])) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE(badFingerprint ? (crc ^ 1) >>> 0 : crc);
  return Buffer.concat([h, body, attr(0x8028, fp)]);
}

/* Sends, waits, and says what came back. */
async function exchange(m, packets, waitMs = 300) {
  for (const p of packets) m.send(p);
  await sleep(waitMs);
  return m.rx.length ? `answered ${m.rx.length}` : 'dropped';
}

function rowWith(id, what, expect, counter, body) {
  return {
    id, plane: 'webrtc', what, expect, counter,
    run: async (ctx) => {
      const m = await webMember(ctx);
      try {
        return await body(m, ctx);
      } finally {
        m.close();
      }
    },
  };
}

const user = (m) => `${m.ufrag}:Hx7q`;

const cases = [
  rowWith('R0', 'a valid check (control row): one answer, no larger than the request', 'answered 1 (not larger)',
    'webrtc_stun_answered', async (m) => {
      const req = bindingRequest(user(m), m.pwd, { useCandidate: true });
      const r = await exchange(m, [req]);
      return m.rx.length === 1 && m.rx[0].length <= req.length ? `${r} (not larger)` : `${r}, ${m.rx.map((x) => x.length)} vs ${req.length}`;
    }),
  rowWith('R1', 'STUN with our ufrag and a wrong MESSAGE-INTEGRITY', 'dropped', 'webrtc_stun_refused',
    (m) => exchange(m, [bindingRequest(user(m), 'not-the-password-at-all!')])),
  rowWith('R2', 'STUN with an unknown ufrag', 'dropped', 'webrtc_stun_refused',
    (m) => exchange(m, [bindingRequest('zzzzzzzz:Hx7q', m.pwd)])),
  rowWith('R3', 'STUN with a wrong FINGERPRINT', 'dropped', 'webrtc_stun_refused',
    (m) => exchange(m, [bindingRequest(user(m), m.pwd, { badFingerprint: true })])),
  rowWith('R4', 'STUN with a truncated attribute (USERNAME longer than the message)', 'dropped', 'webrtc_stun_refused',
    (m) => {
      const req = bindingRequest(user(m), m.pwd);
      req.writeUInt16BE(400, 22); /* USERNAME's length field */
      return exchange(m, [req]);
    }),
  rowWith('R5', 'a binding flood from one source (300 valid checks at once)', 'answered at most 12 of 300',
    'webrtc_stun_refused', async (m) => {
      const reqs = Array.from({ length: 300 }, () => bindingRequest(user(m), m.pwd));
      await exchange(m, reqs, 500);
      return m.rx.length >= 1 && m.rx.length <= 12 ? 'answered at most 12 of 300' : `answered ${m.rx.length} of 300`;
    }),
  rowWith('R6', 'DTLS garbage from a tuple no check validated', 'dropped', 'drop_malformed',
    (m) => exchange(m, [Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), crypto.randomBytes(60)])])),
  rowWith('R7', 'DTLS garbage from a validated tuple', 'dropped (after the check\'s answer)', 'webrtc_dtls_datagrams',
    async (m) => {
      await exchange(m, [bindingRequest(user(m), m.pwd, { useCandidate: true })]);
      m.rx.length = 0;
      const r = await exchange(m, Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), crypto.randomBytes(80)])));
      return r === 'dropped' ? "dropped (after the check's answer)" : r;
    }),
  rowWith('R8', 'SRTP-looking packets from a validated tuple before any DTLS', 'dropped', 'webrtc_no_keys',
    async (m) => {
      await exchange(m, [bindingRequest(user(m), m.pwd, { useCandidate: true })]);
      m.rx.length = 0;
      const rtp = Buffer.alloc(60);
      rtp[0] = 0x80;
      rtp[1] = 111;
      rtp.writeUInt32BE(12345, 8);
      return exchange(m, [rtp, rtp, rtp]);
    }),
  rowWith('R9', "RTP naming the WebRTC member's SSRC from an unknown tuple", 'dropped', 'drop_foreign_addr',
    (m) => {
      const rtp = Buffer.alloc(60);
      rtp[0] = 0x80;
      rtp[1] = 120;
      rtp.writeUInt32BE(m.ssrc, 8);
      return exchange(m, [rtp, rtp]);
    }),
];

runSuite({ name: 'hostile_webrtc', cases });
