#!/usr/bin/env node
// Test vectors for discord_voice/dv_crypto, made with implementations that
// share no code with ours: Node's crypto (OpenSSL inside node, AES-256-GCM)
// and @noble/ciphers (pure JS XChaCha20-Poly1305 and XSalsa20-Poly1305).
// Packets are built per the Discord layouts (discord-voice-protocol.md §2):
// "rtpsize" AEAD modes:
//   clear = RTP header incl. CSRCs + 4-byte extension preamble (the AAD)
//   wire  = clear || AEAD(ext body || payload || padding) || tag16 || nonce4
//   nonce = u32 BE counter in bytes 0..3, zeros up to 12 (GCM) / 24 (XChaCha)
// legacy secretbox modes (clear = the first 12 RTP / 8 RTCP bytes, not
// authenticated; everything after it is sealed, tag first):
//   wire  = clear || tag16 || ct(CSRCs || ext preamble+body || payload || pad) || W
//   xsalsa20_poly1305_lite:   W = nonce4,  nonce = u32 BE counter, zeros
//   xsalsa20_poly1305_suffix: W = nonce24 (random), nonce = W
//   xsalsa20_poly1305:        W = none,    nonce = clear header, zeros
// Fields: clear_len (bytes in clear), header_auth (header authenticated,
// directly or as the nonce), nonce_len (W), tag_first (secretbox layout).
//
// Output: JSON lines. First {"type":"meta",...} (the seed used), then one
// {"type":"vector",...} per packet, last {"type":"end","count":N}.
// Deterministic: seed = argv[2] || $SC_VECTOR_SEED || a fixed string.
'use strict';

const crypto = require('crypto');
const { xchacha20poly1305 } = require('@noble/ciphers/chacha');
const { xsalsa20poly1305 } = require('@noble/ciphers/salsa');

const seed = process.argv[2] || process.env.SC_VECTOR_SEED || 'litecord-voice dv_crypto v1';

// Deterministic byte stream: SHA-256(seed || block index).
let block = 0;
let pool = Buffer.alloc(0);
function rand(n) {
  while (pool.length < n) {
    const h = crypto.createHash('sha256').update(seed).update(String(block++)).digest();
    pool = Buffer.concat([pool, h]);
  }
  const out = pool.subarray(0, n);
  pool = pool.subarray(n);
  return Buffer.from(out);
}
const randU32 = () => rand(4).readUInt32BE(0);

const MODES = {
  aead_aes256_gcm_rtpsize: {
    nonceLen: 12,
    seal(key, nonce, aad, plain) {
      const c = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
      c.setAAD(aad);
      const ct = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([ct, c.getAuthTag()]);
    },
  },
  aead_xchacha20_poly1305_rtpsize: {
    nonceLen: 24,
    seal(key, nonce, aad, plain) {
      return Buffer.from(xchacha20poly1305(key, nonce, aad).encrypt(plain)); // ct || tag
    },
  },
};

function u16(v) { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
function u32(v) { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; }

// Builds one vector. h: {markerPt, seq, ts, ssrc, csrcs[], extBody (Buffer,
// multiple of 4) or null, pad (Buffer incl. count byte) or null}.
function rtpVector(name, modeName, counter, h, payload, extra = {}) {
  const mode = MODES[modeName];
  const key = rand(32);
  let b0 = 0x80 | h.csrcs.length;
  if (h.pad) b0 |= 0x20;
  if (h.extBody) b0 |= 0x10;
  const parts = [Buffer.from([b0, h.markerPt]), u16(h.seq), u32(h.ts), u32(h.ssrc)];
  h.csrcs.forEach((c) => parts.push(u32(c)));
  let extLenOff = -1;
  if (h.extBody) {
    extLenOff = 12 + 4 * h.csrcs.length + 2;
    parts.push(Buffer.from([0xbe, 0xde]), u16(h.extBody.length / 4));
  }
  const aad = Buffer.concat(parts);
  const plain = Buffer.concat([h.extBody || Buffer.alloc(0), payload, h.pad || Buffer.alloc(0)]);
  const nonce = Buffer.alloc(mode.nonceLen);
  nonce.writeUInt32BE(counter >>> 0, 0);
  const sealed = mode.seal(key, nonce, aad, plain);
  const packet = Buffer.concat([aad, sealed, u32(counter)]);
  return {
    type: 'vector', name, mode: modeName, key: key.toString('hex'), counter,
    packet: packet.toString('hex'), clear_len: aad.length, header_auth: 1, nonce_len: 4,
    tag_first: 0, ext_len_off: extLenOff, is_rtcp: 0, marker_pt: h.markerPt, seq: h.seq, timestamp: h.ts, ssrc: h.ssrc,
    payload: payload.toString('hex'),
    // What our seal() must output for (key, counter, header fields, payload):
    // only a header our seal writes (0x80, no CSRC/extension/padding).
    seal: b0 === 0x80 && counter !== 0, error: null, ...extra,
  };
}

// RTCP (PT 200..204): 8-byte clear header (V=2 RC=1, PT, length 7, sender
// SSRC) || AEAD(24 more bytes, e.g. one report block) || tag || nonce4.
function rtcpVector(name, modeName, counter, pt) {
  const mode = MODES[modeName];
  const key = rand(32);
  const ssrc = randU32();
  const aad = Buffer.concat([Buffer.from([0x81, pt]), u16(7), u32(ssrc)]);
  const body = rand(24);
  const nonce = Buffer.alloc(mode.nonceLen);
  nonce.writeUInt32BE(counter >>> 0, 0);
  const packet = Buffer.concat([aad, mode.seal(key, nonce, aad, body), u32(counter)]);
  return {
    type: 'vector', name, mode: modeName, key: key.toString('hex'), counter,
    packet: packet.toString('hex'), clear_len: 8, header_auth: 1, nonce_len: 4, tag_first: 0,
    ext_len_off: -1, is_rtcp: 1,
    marker_pt: pt, seq: 0, timestamp: 0, ssrc, payload: body.toString('hex'),
    seal: false, error: null,
  };
}

// Legacy secretbox modes: how the wire nonce W and the 24-byte nonce are
// made from the clear header and the counter.
const LEGACY = {
  xsalsa20_poly1305_lite: {
    headerAuth: 0,
    wire: (ctr) => u32(ctr),
    nonce: (clear, wire) => Buffer.concat([wire, Buffer.alloc(20)]),
  },
  xsalsa20_poly1305_suffix: {
    headerAuth: 0,
    wire: () => rand(24),
    nonce: (clear, wire) => wire,
  },
  xsalsa20_poly1305: {
    headerAuth: 1,
    wire: () => Buffer.alloc(0),
    nonce: (clear) => Buffer.concat([clear, Buffer.alloc(24 - clear.length)]),
  },
};

function secretboxSeal(modeName, key, clear, plain, counter) {
  const m = LEGACY[modeName];
  const wire = m.wire(counter);
  const sealed = Buffer.from(xsalsa20poly1305(key, m.nonce(clear, wire)).encrypt(plain)); // tag || ct
  return { packet: Buffer.concat([clear, sealed, wire]), nonceLen: wire.length };
}

// RTP in a legacy mode: only the fixed 12 bytes are clear; CSRCs, the
// extension (preamble and body) and padding are inside the ciphertext.
// extHeader: optional Buffer replacing the real preamble (malformed cases).
function legacyVector(name, modeName, counter, h, payload, extra = {}) {
  const key = rand(32);
  let b0 = 0x80 | h.csrcs.length;
  if (h.pad) b0 |= 0x20;
  if (h.extBody) b0 |= 0x10;
  const clear = Buffer.concat([Buffer.from([b0, h.markerPt]), u16(h.seq), u32(h.ts), u32(h.ssrc)]);
  const inner = h.csrcs.map((c) => u32(c));
  if (h.extBody) {
    inner.push(h.extHeader || Buffer.concat([Buffer.from([0xbe, 0xde]), u16(h.extBody.length / 4)]));
    inner.push(h.extBody);
  }
  const plain = Buffer.concat([...inner, payload, h.pad || Buffer.alloc(0)]);
  const { packet, nonceLen } = secretboxSeal(modeName, key, clear, plain, counter);
  const sealable = b0 === 0x80 && (modeName === 'xsalsa20_poly1305' ||
                                   (modeName === 'xsalsa20_poly1305_lite' && counter !== 0));
  return {
    type: 'vector', name, mode: modeName, key: key.toString('hex'), counter,
    packet: packet.toString('hex'), clear_len: 12, header_auth: LEGACY[modeName].headerAuth,
    nonce_len: nonceLen, tag_first: 1, ext_len_off: -1, is_rtcp: 0, marker_pt: h.markerPt,
    seq: h.seq, timestamp: h.ts, ssrc: h.ssrc, payload: payload.toString('hex'),
    // suffix nonces are random, so our seal output cannot be predicted.
    seal: sealable, error: null, ...extra,
  };
}

function legacyRtcpVector(name, modeName, counter, pt) {
  const key = rand(32);
  const ssrc = randU32();
  const clear = Buffer.concat([Buffer.from([0x81, pt]), u16(7), u32(ssrc)]);
  const body = rand(24);
  const { packet, nonceLen } = secretboxSeal(modeName, key, clear, body, counter);
  return {
    type: 'vector', name, mode: modeName, key: key.toString('hex'), counter,
    packet: packet.toString('hex'), clear_len: 8, header_auth: LEGACY[modeName].headerAuth,
    nonce_len: nonceLen, tag_first: 1, ext_len_off: -1, is_rtcp: 1, marker_pt: pt, seq: 0,
    timestamp: 0, ssrc, payload: body.toString('hex'), seal: false, error: null,
  };
}

function header(extra = {}) {
  return { markerPt: 0x78, seq: rand(2).readUInt16BE(0), ts: randU32(), ssrc: randU32(),
           csrcs: [], extBody: null, pad: null, ...extra };
}

function padBytes(n) { const p = Buffer.alloc(n); p[n - 1] = n; return p; }

const COUNTERS = [1, 2, 0xffffffff, 0x80000000, 0];
const SIZES = [3, 20, 160, 1200];
const out = [];

// One family of vectors per mode: vec builds RTP vectors, rtcp RTCP ones.
function family(mode, vec, rtcp) {
  COUNTERS.forEach((ctr, i) => {
    SIZES.forEach((size) => {
      const marker = i % 2 ? 0x80 : 0;
      out.push(vec(`${mode}/plain/ctr${ctr}/len${size}`, mode, ctr,
                   header({ markerPt: 0x78 | marker }), rand(size)));
    });
  });
  out.push(vec(`${mode}/plain/empty`, mode, 7, header(), Buffer.alloc(0)));
  out.push(vec(`${mode}/plain/silence`, mode, randU32() || 1, header(),
               Buffer.from([0xf8, 0xff, 0xfe])));
  [1, 2, 0xffffffff].forEach((ctr, i) => {
    out.push(vec(`${mode}/csrc2/ctr${ctr}`, mode, ctr,
                 header({ csrcs: [randU32(), randU32()] }), rand(160)));
    // One-byte-header extension, 2 words: id 1 len 1 (2 bytes), id 2 len 2
    // (3 bytes), padded with zeros to 8 bytes.
    const ext = Buffer.from([0x11, rand(1)[0], rand(1)[0], 0x22, ...rand(3), 0x00]);
    out.push(vec(`${mode}/ext2/ctr${ctr}`, mode, ctr, header({ extBody: ext }), rand(120)));
    out.push(vec(`${mode}/pad4/ctr${ctr}`, mode, ctr, header({ pad: padBytes(4) }), rand(57)));
    out.push(vec(`${mode}/csrc2-ext1-pad1/ctr${ctr}`, mode, ctr,
                 header({ csrcs: [randU32(), randU32()], extBody: rand(4), pad: padBytes(1) }),
                 rand(33)));
    const pt = [200, 201, 204][i];
    out.push(rtcp(`${mode}/rtcp-pt${pt}/ctr${ctr}`, mode, ctr, pt));
  });
  // Authentic but malformed plaintexts: the receiver must refuse them.
  out.push(vec(`${mode}/bad-pad-zero`, mode, 9, header({ pad: Buffer.alloc(3) }), rand(10),
               { error: 'EINVAL' }));
  out.push(vec(`${mode}/bad-pad-too-long`, mode, 10, header({ pad: Buffer.from([200]) }),
               rand(10), { error: 'EINVAL' }));
}

for (const mode of Object.keys(MODES)) family(mode, rtpVector, rtcpVector);

for (const mode of Object.keys(LEGACY)) {
  // discord.py's lite counter starts at 0, so 0 is an ordinary first nonce.
  family(mode, legacyVector, legacyRtcpVector);
  // The encrypted preamble claims 100 words of extension in a short packet.
  out.push(legacyVector(`${mode}/bad-ext-too-long`, mode, 11,
                        header({ extBody: rand(4), extHeader: Buffer.from([0xbe, 0xde, 0, 100]) }),
                        rand(10), { error: 'EINVAL' }));
}

process.stdout.write(JSON.stringify({ type: 'meta', seed, node: process.version,
                                      openssl: process.versions.openssl }) + '\n');
out.forEach((v) => process.stdout.write(JSON.stringify(v) + '\n'));
process.stdout.write(JSON.stringify({ type: 'end', count: out.length }) + '\n');
