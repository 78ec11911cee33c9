#!/usr/bin/env node
'use strict';
/*
 * Writes the seed corpus of fuzz_sdp (tests/fuzz/corpus/fuzz_sdp/seed-*):
 *
 *   seed-real-*   Discord fragments made by real stacks: Debian's headless
 *                 Chromium (lib/chromium.js, the page's RTCPeerConnection
 *                 with an audio and a video transceiver, or audio only)
 *                 and werift (lib/discord_webrtc.js), each cut from its
 *                 gathered local offer by the rule of reference webrtc.md
 *                 §1 (lib/discord_sdp.js makeFragment). test_sdp parses
 *                 every seed-real-* file too.
 *   seed-full-*   the whole offers they came from (line reader input)
 *   seed-*        hand-made shapes: Chrome/Firefox fragments of the
 *                 reference, our 8-line answer, and one per refusal
 *
 * The real seeds differ on every run (fresh ICE credentials, certificates,
 * candidates); rerun only to refresh them. Files other than seed-* are kept.
 *
 *   node tests/fuzz/make_sdp_seeds.js        (needs tests/node/node_modules)
 */
const fs = require('node:fs');
const path = require('node:path');

const LIB = path.join(__dirname, '..', 'node', 'lib');
const { launchChromium } = require(path.join(LIB, 'chromium'));
const { DiscordWebClient } = require(path.join(LIB, 'discord_webrtc'));
const { makeFragment } = require(path.join(LIB, 'discord_sdp'));

const OUT = path.join(__dirname, 'corpus', 'fuzz_sdp');
const FP = '4A:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:9F';
const CREDS = 'a=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n';

const HAND = {
  'seed-chrome-shape': `a=extmap-allow-mixed\n${CREDS}a=ice-options:trickle\na=fingerprint:sha-256 ${FP}\n` +
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n' +
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\n' +
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\n' +
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\na=rtpmap:111 opus/48000/2\n' +
    'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\na=extmap:13 urn:3gpp:video-orientation\n' +
    'a=rtpmap:96 VP8/90000\na=rtpmap:97 rtx/90000',
  'seed-firefox-shape': 'a=ice-options:trickle\r\na=ice-pwd:b5d3c4a1e9f0827364a5b6c7d8e9f001\r\n' +
    'a=ice-ufrag:3e1f0a9b\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n' +
    'a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n' +
    'a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtpmap:109 opus/48000/2\r\n' +
    'a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n' +
    'a=rtpmap:120 VP8/90000\r\na=rtpmap:124 rtx/90000\r\n',
  'seed-answer': `m=audio 50001 ICE/SDP\na=fingerprint:sha-256 ${FP}\nc=IN IP4 203.0.113.7\na=rtcp:50001\n` +
    `a=ice-ufrag:AbC+\na=ice-pwd:0123456789abcdef/+XYZW\na=fingerprint:sha-256 ${FP}\n` +
    'a=candidate:1 1 UDP 4261412862 203.0.113.7 50001 typ host\n',
  'seed-missing-pwd': 'a=ice-ufrag:Xk3q\na=rtpmap:111 opus/48000/2\n',
  'seed-binary': `${CREDS}a=extmap:1 urn:x\u0000\u0001\r`,
  'seed-conflicts': `${CREDS}a=ice-ufrag:Yk3q\na=extmap:3 urn:a\na=extmap:3 urn:b\na=rtpmap:111 opus/48000/2\n` +
    'a=rtpmap:111 opus/48000/1\na=fingerprint:sha-256 4A:19\na=fingerprint:sha-1 00:11\n',
  'seed-bounds': `${CREDS}a=extmap:255/sendonly urn:x attr\na=extmap:256 urn:y\na=rtpmap:127 x/4294967295/255\n` +
    'a=rtpmap:128 y/1\na=extmap:0001 urn:z\nm=audio 9 X 0\nm=video 9 X 0\n',
  'seed-many-lines': `${CREDS}${'a=x\n'.repeat(1100)}`,
};

async function chromiumOffers() {
  const ch = await launchChromium();
  try {
    const out = {};
    for (const [name, video] of [['chromium-av', true], ['chromium-audio', false]]) {
      const r = await ch.page.evaluate((v) => window.startClient({ video: v }), video);
      out[name] = r.offer;
    }
    return out;
  } finally {
    await ch.close();
  }
}

async function weriftOffer() {
  const c = new DiscordWebClient();
  try {
    return { 'werift-av': await c.makeOffer() };
  } finally {
    await c.close();
  }
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.startsWith('seed-')) fs.rmSync(path.join(OUT, f));
  for (const [name, text] of Object.entries(HAND)) fs.writeFileSync(path.join(OUT, name), text);
  const offers = { ...(await chromiumOffers()), ...(await weriftOffer()) };
  for (const [name, offer] of Object.entries(offers)) {
    fs.writeFileSync(path.join(OUT, `seed-real-${name}`), makeFragment(offer));
    fs.writeFileSync(path.join(OUT, `seed-full-${name}`), offer);
  }
  console.log(`wrote ${fs.readdirSync(OUT).filter((f) => f.startsWith('seed-')).length} seeds to ${OUT}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
