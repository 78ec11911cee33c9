#!/usr/bin/env node
'use strict';
/*
 * Writes tests/fuzz/corpus/fuzz_galene/seed-*: one Galène message per
 * file, as protocol.js (version 2) and our test client send them, plus
 * the malformed shapes the hostile suite sends. Deterministic.
 *
 *   node tests/fuzz/make_galene_seeds.js
 */
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, 'corpus', 'fuzz_galene');
const SDP = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'a=msid-semantic: WMS s1', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8', 'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:Ab12', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendonly', 'a=msid:s1 t1', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1', 'a=ssrc:1234 cname:x', '',
].join('\r\n');

const seeds = {
  handshake: { type: 'handshake', version: ['2'], id: 'a1b2c3d4' },
  'handshake-v1': { type: 'handshake', version: ['1'], id: 'x' },
  'join-token': { type: 'join', kind: 'join', group: '1234567890', token: 'a'.repeat(40) },
  'join-password': { type: 'join', kind: 'join', group: '1', username: '2', password: 'b'.repeat(40) },
  'join-both': { type: 'join', kind: 'join', group: '1', token: 'x', password: 'y' },
  leave: { type: 'join', kind: 'leave', group: '1' },
  request: { type: 'request', request: { '': ['audio', 'video'] } },
  'request-old': { type: 'request', request: { audio: true } },
  offer: { type: 'offer', id: 'u1', label: 'camera', source: 'a1b2c3d4', username: '2', kind: '', sdp: SDP },
  answer: { type: 'answer', id: 'lcv-1', sdp: SDP.replace('actpass', 'active') },
  ice: { type: 'ice', id: 'lcv-1', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0' } },
  renegotiate: { type: 'renegotiate', id: 'lcv-1' },
  close: { type: 'close', id: 'u1' },
  abort: { type: 'abort', id: 'lcv-1' },
  ping: { type: 'ping' },
  chat: { type: 'chat', source: 'a', username: 'b', kind: '', value: 'hi' },
  'bad-id': { type: 'close', id: 'a b"<>' },
  'wrong-types': { type: 'join', group: 7, token: ['x'] },
  'no-type': { id: 'x' },
};
fs.mkdirSync(DIR, { recursive: true });
for (const [name, m] of Object.entries(seeds)) fs.writeFileSync(path.join(DIR, `seed-${name}`), JSON.stringify(m));
fs.writeFileSync(path.join(DIR, 'seed-not-json'), '{"type": "join",');
fs.writeFileSync(path.join(DIR, 'seed-array'), '["handshake"]');
fs.writeFileSync(path.join(DIR, 'seed-dup-key'), '{"type":"ping","type":"join"}');
fs.writeFileSync(path.join(DIR, 'seed-nul'), '{"type":"join","token":"ab\\u0000cd"}');
