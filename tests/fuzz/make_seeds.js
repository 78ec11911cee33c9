#!/usr/bin/env node
'use strict';
/*
 * Writes the seed corpora tests/fuzz/corpus/<target>/seed-* : real packets
 * and real messages in each target's input format (see the comment at the
 * top of each tests/fuzz/fuzz_*.c). Packets are sealed with Node's crypto
 * (AES-256-GCM) and @noble/ciphers (XChaCha20-Poly1305) under the keys the
 * targets use. Deterministic: rerunning rewrites identical files.
 *
 *   node tests/fuzz/make_seeds.js        (needs tests/node/node_modules)
 *
 * Files other than seed-* (crash-*, inputs libFuzzer found) are kept.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const NOBLE = path.join(__dirname, '..', 'node', 'node_modules', '@noble', 'ciphers');
const { xchacha20poly1305 } = require(path.join(NOBLE, 'chacha'));
const { xsalsa20poly1305 } = require(path.join(NOBLE, 'salsa'));

const CORPUS = path.join(__dirname, 'corpus');
const AES = 0;
const XCHACHA = 1;

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };

/* Keys: as in fuzz_cipher_open.c, fuzz_cipher_sealed.c, fuzz_media.c. */
const OPEN_KEY = hex('0f1e2d3c4b5a69788796a5b4c3d2e1f0 0123456789abcdeffedcba9876543210');
const MEDIA = [
  { ssrc: 1111, mode: AES, key: Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1)) },
  { ssrc: 2222, mode: XCHACHA, key: Buffer.from(Array.from({ length: 32 }, (_, i) => i + 101)) },
  { ssrc: 3333, mode: AES, key: Buffer.from(Array.from({ length: 32 }, (_, i) => i + 201)) },
  { ssrc: 4444, mode: AES, key: Buffer.from([...Array(8).fill(7), ...Array(8).fill(9), ...Array(8).fill(5), ...Array(8).fill(3)]) },
];

/* rtpsize: clear || AEAD(plain) || tag16 || ctr4 (nonce = ctr || zeros). */
function seal(mode, key, clear, ctr, plain) {
  let sealed;
  if (mode === AES) {
    const nonce = Buffer.concat([u32(ctr), Buffer.alloc(8)]);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(clear);
    sealed = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  } else {
    const nonce = Buffer.concat([u32(ctr), Buffer.alloc(20)]);
    sealed = Buffer.from(xchacha20poly1305(key, nonce, clear).encrypt(plain));
  }
  return Buffer.concat([clear, sealed, u32(ctr)]);
}

/* An RTP header: opts {pt, seq, ts, ssrc, csrcs, ext (body length in words), pad}. */
function rtpHeader({ pt = 120, marker = 0, seq = 1, ts = 960, ssrc = 1111, csrcs = [], ext = -1, pad = 0 } = {}) {
  const b0 = 0x80 | (pad ? 0x20 : 0) | (ext >= 0 ? 0x10 : 0) | csrcs.length;
  const parts = [Buffer.from([b0, (marker << 7) | pt]), u16(seq), u32(ts), u32(ssrc), ...csrcs.map(u32)];
  if (ext >= 0) parts.push(Buffer.from([0xbe, 0xde]), u16(ext));
  return Buffer.concat(parts);
}

const rtcpHeader = (pt, ssrc, words = 6) => Buffer.concat([Buffer.from([0x80, pt]), u16(words), u32(ssrc)]);

/* A real Opus packet (20 ms of silence, as clients send after speaking)
 * and a short voiced-looking one. */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
const OPUS_FRAME = hex('7880e1c6f7a3d1b2c9e0ff1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f');
const EXT_ONE_BYTE = hex('10 ab 00 00'); // RFC 8285 one-byte element (id 1, len 1) + padding

function write(target, name, data) {
  const dir = path.join(CORPUS, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `seed-${name}`), data);
}

const rec16 = (buf) => Buffer.concat([u16(buf.length), buf]);

/* Legacy secretbox modes: clear = the first 12 (RTP) / 8 (RTCP) bytes;
 * wire = clear || tag16 || ct(rest of the packet) || W, where W and the
 * 24-byte nonce are: lite: u32 counter (nonce = W || zeros); suffix: 24
 * bytes (nonce = W); plain: none (nonce = clear || zeros). */
const LEGACY = {
  lite: { wire: (ctr) => u32(ctr), nonce: (clear, w) => Buffer.concat([w, Buffer.alloc(20)]) },
  suffix: { wire: (ctr) => Buffer.concat([u32(ctr), Buffer.alloc(20, 0x5a)]), nonce: (clear, w) => w },
  plain: { wire: () => Buffer.alloc(0), nonce: (clear) => Buffer.concat([clear, Buffer.alloc(24 - clear.length)]) },
};

function sealLegacy(kind, key, packet, ctr) {
  const clearLen = packet[1] >= 200 && packet[1] <= 204 ? 8 : 12;
  const clear = packet.subarray(0, clearLen);
  const w = LEGACY[kind].wire(ctr);
  const sealed = Buffer.from(xsalsa20poly1305(key, LEGACY[kind].nonce(clear, w)).encrypt(packet.subarray(clearLen)));
  return Buffer.concat([clear, sealed, w]);
}

function legacyOpenSeeds(target, kind) {
  const opus = sealLegacy(kind, OPEN_KEY, Buffer.concat([rtpHeader(), OPUS_FRAME]), 1);
  const ext = sealLegacy(kind, OPEN_KEY, Buffer.concat([rtpHeader({ ext: 1, seq: 2, csrcs: [9] }), EXT_ONE_BYTE, OPUS_FRAME]), 2);
  const padded = sealLegacy(kind, OPEN_KEY, Buffer.concat([rtpHeader({ pad: 1, seq: 3 }), OPUS_FRAME, Buffer.from([0, 0, 3])]), 3);
  const rtcp = sealLegacy(kind, OPEN_KEY, Buffer.concat([rtcpHeader(201, 1111, 1), Buffer.alloc(24, 1)]), 4);
  write(target, 'opus', rec16(opus));
  write(target, 'replayed', Buffer.concat([rec16(opus), rec16(opus)]));
  write(target, 'ext-pad-rtcp', Buffer.concat([rec16(ext), rec16(padded), rec16(rtcp)]));
  const forged = Buffer.from(opus);
  forged[14] ^= 1;
  write(target, 'forged', rec16(forged));
  write(target, 'short', rec16(opus.subarray(0, 20)));
}

function rtpSeeds() {
  write('fuzz_rtp', 'opus', Buffer.concat([rtpHeader(), OPUS_FRAME]));
  write('fuzz_rtp', 'csrc-ext', Buffer.concat([rtpHeader({ csrcs: [7, 8], ext: 1 }), EXT_ONE_BYTE, OPUS_FRAME]));
  write('fuzz_rtp', 'ext-huge-len', Buffer.concat([rtpHeader({ ext: 0xffff }), OPUS_SILENCE]));
  write('fuzz_rtp', 'rtcp-sr', Buffer.concat([rtcpHeader(200, 1111), Buffer.alloc(20)]));
  write('fuzz_rtp', 'rtcp-rr', rtcpHeader(201, 1111, 1));
  write('fuzz_rtp', 'short', Buffer.from([0x80, 0x78, 0, 1, 0, 0, 3, 0xc0, 0]));
  write('fuzz_rtp', 'csrc-truncated', rtpHeader({ csrcs: [1, 2, 3] }).subarray(0, 20));
  write('fuzz_rtp', 'version0', Buffer.concat([Buffer.from([0x00]), rtpHeader().subarray(1)]));
}

function openSeeds(target, mode) {
  const opus = seal(mode, OPEN_KEY, rtpHeader(), 1, OPUS_FRAME);
  const ext = seal(mode, OPEN_KEY, rtpHeader({ ext: 1, seq: 2 }), 2, Buffer.concat([EXT_ONE_BYTE, OPUS_FRAME]));
  const padded = seal(mode, OPEN_KEY, rtpHeader({ pad: 1, seq: 3 }), 3, Buffer.concat([OPUS_FRAME, Buffer.from([0, 0, 3])]));
  const rtcp = seal(mode, OPEN_KEY, rtcpHeader(201, 1111, 1), 1, Buffer.alloc(0));
  const csrc = seal(mode, OPEN_KEY, rtpHeader({ csrcs: [5], seq: 4 }), 4, OPUS_SILENCE);
  write(target, 'opus', rec16(opus));
  write(target, 'replayed', Buffer.concat([rec16(opus), rec16(opus)]));
  write(target, 'ext-pad-rtcp', Buffer.concat([rec16(ext), rec16(padded), rec16(rtcp), rec16(csrc)]));
  const forged = Buffer.from(opus);
  forged[20] ^= 1;
  write(target, 'forged', rec16(forged));
  write(target, 'short-tag', rec16(opus.subarray(0, 12 + 10)));
  write(target, 'ext-longer-than-packet', rec16(Buffer.concat([rtpHeader({ ext: 40 }), Buffer.alloc(24)])));
}

/* fuzz_cipher_sealed record: b0 b1 rest-of-header ctr u16-len plain flags u16-pos. */
function sealedRecord(header, ctr, plain, flags = 0, pos = 0) {
  return Buffer.concat([header, u32(ctr), u16(plain.length), plain, Buffer.from([flags]), u16(pos)]);
}

function sealedSeeds() {
  for (const [mode, name] of [[AES, 'aes'], [XCHACHA, 'xchacha']]) {
    const recs = [
      sealedRecord(rtpHeader(), 1, OPUS_FRAME, 1),
      sealedRecord(rtpHeader({ ext: 1, seq: 2 }), 2, Buffer.concat([EXT_ONE_BYTE, OPUS_FRAME])),
      sealedRecord(rtpHeader({ pad: 1, seq: 3 }), 3, Buffer.concat([OPUS_FRAME, Buffer.from([0, 2])]), 2, 77),
      sealedRecord(rtcpHeader(200, 1111), 1, Buffer.alloc(20), 1),
      sealedRecord(rtpHeader({ seq: 9 }), 200, OPUS_SILENCE),
      sealedRecord(rtpHeader({ seq: 8 }), 100, OPUS_SILENCE), // behind the window
      sealedRecord(rtpHeader({ seq: 10 }), 0xffffffff, OPUS_SILENCE),
      sealedRecord(rtpHeader({ seq: 11 }), 0, OPUS_SILENCE), // across the wrap
    ];
    write('fuzz_cipher_sealed', `${name}-sequence`, Buffer.concat([Buffer.from([mode]), ...recs]));
    write('fuzz_cipher_sealed', `${name}-bad-padding`, Buffer.concat([Buffer.from([mode]),
      sealedRecord(rtpHeader({ pad: 1 }), 5, Buffer.concat([OPUS_SILENCE, Buffer.from([9])]))]));
  }
}

function discoveryRequest(ssrc) {
  const b = Buffer.alloc(74);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(70, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

function discoveryResponse(ssrc, ip, port) {
  const b = Buffer.alloc(74);
  b.writeUInt16BE(2, 0);
  b.writeUInt16BE(70, 2);
  b.writeUInt32BE(ssrc, 4);
  b.write(ip, 8, 'ascii');
  b.writeUInt16BE(port, 72);
  return b;
}

function discoverySeeds() {
  write('fuzz_discovery', 'request', discoveryRequest(1111));
  write('fuzz_discovery', 'response-v4', discoveryResponse(1111, '203.0.113.7', 50004));
  write('fuzz_discovery', 'response-v6', discoveryResponse(2222, '2001:db8::1', 6000));
  write('fuzz_discovery', 'response-no-nul', Buffer.concat([discoveryResponse(1, '', 0).subarray(0, 8),
    Buffer.alloc(64, 0x41), u16(1)]));
  write('fuzz_discovery', 'wrong-length-field', Buffer.concat([u16(1), u16(74), discoveryRequest(5).subarray(4)]));
  write('fuzz_discovery', 'short', discoveryRequest(7).subarray(0, 73));
}

function udpDatagramSeeds() {
  const rec = (src, buf) => Buffer.concat([Buffer.from([src]), rec16(buf)]);
  write('fuzz_udp_datagram', 'discover-then-foreign', Buffer.concat([
    rec(0, discoveryRequest(1111)), rec(1, discoveryRequest(1111)), rec(3, discoveryRequest(2222)),
  ]));
  write('fuzz_udp_datagram', 'unknown-and-keepalive', Buffer.concat([
    rec(0, discoveryRequest(9)), rec(0, Buffer.from([0, 0, 0, 1, 0, 0, 0, 2])), rec(2, Buffer.alloc(75)),
  ]));
  write('fuzz_udp_datagram', 'response-type', rec(0, discoveryResponse(1111, '127.0.0.1', 1)));
}

function lvspSeeds() {
  const L = (...msgs) => `${msgs.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join('\n')}\n`;
  const identify = { op: 1, d: { token: '@k0@' } };
  const vst = (user, channel, guild = '1') => ({ op: 7, d: { user_id: user, channel_id: channel, guild_id: guild } });
  write('fuzz_lvsp', 'session', L(identify, { op: 4, d: { s: 1 } }, vst('1', '10'), vst('2', '10'),
    { op: 6, d: { type: 0, info: { id: '10', guild_id: '1', bitrate: 64000 } } },
    { op: 6, d: { type: 1, info: { user_id: '1', session_id: '@s1@', self_mute: true, mute: true } } },
    { op: 6, d: { type: 1, info: { user_id: '2', guild_id: '1', channel_id: null } } },
    vst('1', '11'), { op: 4, d: { s: null } }));
  write('fuzz_lvsp', 'hmac-identify', L({ op: 1, d: { token: '@h0@' } }, vst('3', '12', null), { op: 4, d: {} }));
  write('fuzz_lvsp', 'resume', L({ op: 2, d: { token: '@k0@', seq: 4 } }, vst('4', '12')));
  write('fuzz_lvsp', 'later-dialect', L(identify,
    { op: 6, d: { type: 0, data: { channel_id: '20', guild_id: '1' } } },
    { op: 6, d: { type: 4, data: { user_id: '5', channel_id: '20', guild_id: '1' } } }));
  write('fuzz_lvsp', 'before-auth', L(vst('1', '10')));
  write('fuzz_lvsp', 'wrong-secret', L({ op: 1, d: { token: 'nope' } }));
  write('fuzz_lvsp', 'second-identify', L(identify, identify));
  write('fuzz_lvsp', 'bad-json', L(identify, '{"op":4,"d":'));
  write('fuzz_lvsp', 'bad-types', L(identify, { op: 7, d: { user_id: 12.5, channel_id: [], guild_id: {} } }));
  write('fuzz_lvsp', 'unknown-op', L(identify, { op: 99, d: {} }));
  write('fuzz_lvsp', 'duplicate-keys', L('{"op":1,"op":1,"d":{"token":"@k0@"}}'));
  write('fuzz_lvsp', 'nul-token', L('{"op":1,"d":{"token":"@k0@\\u0000"}}'));
  write('fuzz_lvsp', 'nested', L(`${'['.repeat(3000)}${']'.repeat(3000)}`));
  // Two connections on one link: the first dies, the second resumes.
  write('fuzz_lvsp', 'resume-after-loss', L(identify, vst('1', '10'), vst('2', '10'), vst('3', '10'),
    vst('4', '10'), vst('5', '10'), '!1',
    `>${JSON.stringify({ op: 2, d: { token: '@h2@', seq: 5 } })}`, `>${JSON.stringify({ op: 4, d: { s: 9 } })}`));
  write('fuzz_lvsp', 'replaced-link', L(identify, `>${JSON.stringify({ op: 1, d: { token: '@k0@' } })}`,
    { op: 4, d: { s: 1 } }, `>${JSON.stringify(vst('6', '10'))}`));
}

function gatewaySeeds() {
  const G = (...lines) => `${lines.map((l) => (typeof l === 'string' ? l : `${l[0]}${JSON.stringify(l[1])}`)).join('\n')}\n`;
  const ident = (n) => ({ op: 0, d: { server_id: '10', user_id: String(n), session_id: `@s${n}@`, token: `@t${n}@`, max_dave_protocol_version: 0 } });
  const select = (mode) => ({ op: 1, d: { protocol: 'udp', data: { address: '127.0.0.1', port: 50000, mode } } });
  write('fuzz_gateway', 'call', G(['a', ident(1)], ['b', ident(2)], ['a', select('aead_aes256_gcm_rtpsize')],
    ['b', select('aead_xchacha20_poly1305_rtpsize')], ['a', { op: 5, d: { speaking: 1, delay: 0, ssrc: 1 } }],
    ['a', { op: 3, d: { t: 1234, seq_ack: 3 } }], ['b', { op: 3, d: 1234 }], ['b', { op: 5, d: { speaking: false } }],
    'F2', 'E23', ['a', { op: 3, d: { t: 2 } }]));
  // The call's video codec: native members' codecs, op 14 switches, a bad op 14, a leave.
  const h264vp8 = [{ name: 'opus', payload_type: 120 }, { name: 'H264', payload_type: 101, priority: 1000 },
    { name: 'VP8', payload_type: 103, priority: 2000 }];
  const vp8 = [{ name: 'VP8', payload_type: 103, encode: true, decode: true }];
  const withCodecs = (mode, codecs) => ({ op: 1, d: { ...select(mode).d, codecs } });
  write('fuzz_gateway', 'codec-call', G(['a', ident(1)], ['b', ident(2)],
    ['a', withCodecs('aead_aes256_gcm_rtpsize', h264vp8)], ['b', withCodecs('aead_aes256_gcm_rtpsize', vp8)],
    ['b', { op: 14, d: { codecs: h264vp8 } }], ['a', { op: 14, d: { codecs: vp8 } }], ['a', { op: 14, d: { codecs: 'VP8' } }],
    ['b', { op: 14, d: {} }], ['a', { op: 14, d: null }], 'E20', ['a', { op: 14, d: { codecs: h264vp8 } }]));
  write('fuzz_gateway', 'takeover', G(['a', ident(1)], ['b', ident(1)], 'A8', ['a', ident(1)], 'R1', ['a', ident(1)]));
  write('fuzz_gateway', 'stale-credentials', G('E10', ['a', ident(1)], 'R2', 'B4', ['b', ident(2)]));
  write('fuzz_gateway', 'other-user', G(['a', { op: 0, d: { server_id: '10', user_id: '2', session_id: '@s1@', token: '@t1@' } }]));
  write('fuzz_gateway', 'cross-token', G(['a', { op: 0, d: { server_id: '10', user_id: '1', session_id: '@s1@', token: '@t2@' } }]));
  write('fuzz_gateway', 'before-identify', G(['a', select('aead_aes256_gcm_rtpsize')], ['b', { op: 5, d: { speaking: 1 } }]));
  write('fuzz_gateway', 'bad-select', G(['a', ident(3)], ['a', { op: 1, d: { protocol: 'webrtc', data: 'x' } }],
    ['b', ident(1)], ['b', { op: 1, d: { protocol: 'udp', data: { mode: 'xsalsa20_poly1305' } } }]));
  write('fuzz_gateway', 'resume-and-dave', G(['a', { op: 7, d: { server_id: '10', session_id: '@s1@', token: '@t1@', seq_ack: 2 } }],
    ['b', ident(2)], ['b', { op: 12, d: { audio_ssrc: 1, video_ssrc: 0 } }], ['b', { op: 31, d: { transition_id: 0 } }]));
  // webrtc: a valid Chrome-shaped offer (not served yet: 4012), then bad ones.
  const frag = 'a=extmap-allow-mixed\na=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n' +
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\na=rtpmap:111 opus/48000/2\na=rtpmap:96 VP8/90000';
  const webrtc = (extra) => ({ op: 1, d: { protocol: 'webrtc', data: frag, sdp: frag,
    codecs: [{ name: 'opus', type: 'audio', priority: 1000, payload_type: 111, rtx_payload_type: null }], ...extra } });
  write('fuzz_gateway', 'webrtc', G(['a', ident(1)], ['a', webrtc({})], ['b', ident(2)],
    ['b', webrtc({ sdp: 'a=ice-ufrag:Xk3q', codecs: [{ name: 'opus', payload_type: 96 }] })], 'B8', ['b', ident(2)],
    ['b', webrtc({ codecs: 'opus' })], 'A8', ['a', ident(3)], ['a', webrtc({ sdp: 7, data: { mode: 'x' } })]));
  write('fuzz_gateway', 'garbage', G('a{"op":"0"}', 'b[1,2]', 'a{"op":99,"d":null}', 'bnot json'));
  // The socket of a selected session goes away; a new one resumes it.
  write('fuzz_gateway', 'resume', G(['a', ident(1)], ['a', select('aead_aes256_gcm_rtpsize')],
    ['b', ident(2)], 'A8', 'T5',
    ['a', { op: 7, d: { server_id: '10', session_id: '@s1@', token: '@t1@', seq_ack: 1 } }],
    ['a', { op: 3, d: { t: 7, seq_ack: 4 } }], 'B6', 'T9', 'T9', 'T9', 'T9', 'T9', 'T9', 'T9'));
  write('fuzz_gateway', 'heartbeat-timeout', G(['a', ident(1)], 'T9', 'T9', 'T9', 'T9', 'T9', 'T9',
    ['a', { op: 3, d: { t: 1 } }]));
  write('fuzz_gateway', 'flood-and-binary', G(...Array(150).fill(['b', { op: 3, d: 1 }]),
    'x\u0000\u0001dave', 'O', ['a', { op: 3, d: { t: 1 } }]));
}

function mediaSeeds() {
  // record: u8 op, u16 len, bytes. op: bits 0-1 socket, bit 2 seal, bits 3-4 member, bit 5 force SSRC.
  const raw = (sock, buf) => Buffer.concat([Buffer.from([sock]), rec16(buf)]);
  const sealRec = (sock, member, header, ctr, plain, force = true) =>
    Buffer.concat([Buffer.from([sock | 4 | (member << 3) | (force ? 0x20 : 0)]),
      rec16(Buffer.concat([header, u32(ctr), plain]))]);
  write('fuzz_media', 'call', Buffer.concat([
    raw(0, discoveryRequest(1111)), raw(1, discoveryRequest(2222)),
    sealRec(0, 0, rtpHeader({ ssrc: 1111 }), 1, OPUS_FRAME),
    sealRec(1, 1, rtpHeader({ ssrc: 2222, ext: 1 }), 1, Buffer.concat([EXT_ONE_BYTE, OPUS_FRAME])),
    sealRec(0, 0, rtcpHeader(200, 1111), 2, Buffer.alloc(20)),
    raw(0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])),
  ]));
  write('fuzz_media', 'hostile', Buffer.concat([
    sealRec(2, 0, rtpHeader({ ssrc: 1111 }), 5, OPUS_FRAME), // right key, foreign address
    sealRec(0, 0, rtpHeader({ ssrc: 1111 }), 6, OPUS_FRAME),
    sealRec(0, 0, rtpHeader({ ssrc: 1111 }), 6, OPUS_FRAME), // replay
    raw(2, discoveryRequest(3333)), sealRec(2, 2, rtpHeader({ ssrc: 3333, pad: 1 }), 1, Buffer.concat([OPUS_FRAME, Buffer.from([0, 2])])),
    sealRec(2, 3, rtpHeader({ ssrc: 4444 }), 1, OPUS_FRAME), // room 2
    raw(1, discoveryRequest(1111)), raw(1, discoveryRequest(77)),
    raw(0, Buffer.concat([rtpHeader({ ssrc: 1111 }), Buffer.alloc(3)])),
    raw(0, Buffer.alloc(3000, 0x80)),
  ]));
}

rtpSeeds();
openSeeds('fuzz_open_aes', AES);
openSeeds('fuzz_open_xchacha', XCHACHA);
legacyOpenSeeds('fuzz_open_xsalsa_lite', 'lite');
legacyOpenSeeds('fuzz_open_xsalsa_suffix', 'suffix');
legacyOpenSeeds('fuzz_open_xsalsa', 'plain');
sealedSeeds();
discoverySeeds();
udpDatagramSeeds();
lvspSeeds();
gatewaySeeds();
mediaSeeds();
console.log(`seeds written under ${CORPUS}`);
