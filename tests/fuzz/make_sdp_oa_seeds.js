#!/usr/bin/env node
'use strict';
/*
 * Captures whole SDP documents from Debian's headless Chromium
 * (lib/sdp_oa_browser.js) for src/sc_sdp_oa's tests:
 *
 *   tests/unit/data/sdp_oa/chromium-<kind>.sdp   test_sdp_oa parses each
 *       sendonly    Galène's / ion's publish offer (a track in a stream)
 *       recvonly    ion's subscribe offer
 *       av-data     audio + video + data channel offer
 *       answer      Chromium's answer to the sendonly offer
 *   tests/fuzz/corpus/fuzz_sdp_oa/seed-real-<kind>   the same texts
 *   tests/fuzz/corpus/fuzz_sdp_oa/seed-*             hand-made shapes and
 *                                                    one per refusal
 *   (files not named seed-*, such as hand-firefox-shape (the Firefox
 *   offer of test_sdp_oa.c), are kept)
 *
 * The captures differ on every run (fresh ICE credentials, certificates,
 * SSRCs, candidates); rerun only to refresh them. test_sdp_oa checks the
 * facts that do not change (kinds, directions, mids, opus PT, setup).
 *
 *   node tests/fuzz/make_sdp_oa_seeds.js     (needs tests/node/node_modules)
 */
const fs = require('node:fs');
const path = require('node:path');

const LIB = path.join(__dirname, '..', 'node', 'lib');
const { launchBrowser } = require(path.join(LIB, 'chromium'));
const { openOaPage } = require(path.join(LIB, 'sdp_oa_browser'));

const DATA = path.join(__dirname, '..', 'unit', 'data', 'sdp_oa');
const CORPUS = path.join(__dirname, 'corpus', 'fuzz_sdp_oa');
const FP = '4A:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:9F';
const HEAD = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:Xk3q\r\n' +
  'a=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\r\na=fingerprint:sha-256 ' + FP + '\r\n';
const AUDIO = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n';

const HAND = {
  'seed-minimal': `${HEAD}a=setup:actpass\r\n${AUDIO}a=mid:0\r\na=sendonly\r\n` +
    'a=fmtp:111 minptime=10;useinbandfec=1\r\na=msid:s t\r\na=ssrc:1 cname:c\r\n',
  'seed-rejected': `${HEAD}${AUDIO}a=mid:a\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\n` +
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\n',
  'seed-session-dir': `${HEAD}a=recvonly\r\n${AUDIO}a=mid:0\r\n${AUDIO}a=mid:1\r\na=sendonly\r\n`,
  'seed-bad-mid': `${HEAD}${AUDIO}a=mid:0\r\n${AUDIO}a=mid:0\r\n`,
  'seed-bad-setup': `${HEAD}a=setup:actpass\r\n${AUDIO}a=setup:active\r\n`,
  'seed-bad-mline': `${HEAD}m=audio 99999 RTP/AVP\r\n`,
  'seed-bad-ssrc': `${HEAD}${AUDIO}a=ssrc:4294967296 cname:x\r\n`,
  'seed-bad-fmtp': `${HEAD}${AUDIO}a=fmtp:111 a=1\r\na=fmtp:111 a=2\r\n`,
  'seed-bad-msid': `${HEAD}${AUDIO}a=msid:a b c\r\n`,
  'seed-bad-direction': `${HEAD}${AUDIO}a=sendonly\r\na=recvonly\r\n`,
  'seed-no-sections': HEAD,
  'seed-too-many': HEAD + `${AUDIO}`.repeat(17),
};

async function capture() {
  const b = await launchBrowser();
  try {
    const page = await openOaPage(b.browser);
    const out = {};
    for (const kind of ['sendonly', 'recvonly', 'av-data']) {
      out[kind] = (await page.evaluate((k) => window.oa.offer(k), kind)).sdp;
    }
    out.answer = (await page.evaluate((s) => window.oa.answerOffer(s), out.sendonly)).sdp;
    return out;
  } finally {
    await b.close();
  }
}

async function main() {
  fs.mkdirSync(DATA, { recursive: true });
  fs.mkdirSync(CORPUS, { recursive: true });
  for (const f of fs.readdirSync(CORPUS)) if (f.startsWith('seed-')) fs.rmSync(path.join(CORPUS, f));
  for (const [name, text] of Object.entries(HAND)) fs.writeFileSync(path.join(CORPUS, name), text);
  for (const [kind, sdp] of Object.entries(await capture())) {
    fs.writeFileSync(path.join(DATA, `chromium-${kind}.sdp`), sdp);
    fs.writeFileSync(path.join(CORPUS, `seed-real-${kind}`), sdp);
  }
  console.log(`wrote ${DATA} and ${fs.readdirSync(CORPUS).length} seeds to ${CORPUS}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
