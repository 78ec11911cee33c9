'use strict';
/*
 * Whole-SDP offer/answer (src/sc_sdp_oa) against real headless Chromium,
 * as Galène's and ion's browser clients use it (no server: signalling
 * only). tests/tools/sdp_oa reads Chromium's offers and writes our answers
 * and offers; lib/sdp_oa_browser.js gives them to RTCPeerConnection.
 *
 *   - Chromium's sendonly offer (Galène/ion publish): our recvonly answer
 *     is accepted (signalingState stable, currentDirection sendonly) and
 *     Chromium sends STUN checks with USERNAME "<our ufrag>:<its ufrag>"
 *     to our one host candidate (a UDP socket of the test stands there).
 *   - Chromium's recvonly offer (ion subscribe): our sendonly answer is
 *     accepted, and its track event names our msid stream.
 *   - audio + video + data channel: audio taken, video and application
 *     rejected with port 0 in the offer's order; Chromium accepts it,
 *     stops the video transceiver and has no SCTP transport.
 *     The offer rewritten by sdp-transform (as ion-sdk-js sends it) reads
 *     the same to our reader.
 *   - the same answers made wrong (a=setup:actpass, no fingerprint, m-line
 *     order swapped) are refused: the checks above can fail.
 *   - our offer of one and of two send-only sections: Chromium accepts it,
 *     answers recvonly with a=setup:active, fires a track per section with
 *     our msid, and our reader parses its answer back.
 */
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const sdpTransform = require('sdp-transform');
const { Checks, run } = require('./lib/checks');
const { launchBrowser } = require('./lib/chromium');
const { openOaPage } = require('./lib/sdp_oa_browser');

const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
const TOOL = path.join(buildDir, 'tests', 'sdp_oa');
const c = new Checks('sdp_oa_chromium');

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const iceString = (n) => Array.from(crypto.randomBytes(n), (b) => ICE_CHARS[b & 63]).join('');
const fingerprintText = () => Array.from(crypto.randomBytes(32), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');

function tool(args, input) {
  const r = spawnSync(TOOL, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sdp_oa ${args[0]}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/* Our side: fresh credentials and a candidate on port. */
function local(port) {
  return { ip: '127.0.0.1', port: String(port), ufrag: iceString(4), pwd: iceString(22), fp: fingerprintText() };
}
const localArgs = (l) => [l.ip, l.port, l.ufrag, l.pwd, l.fp];
const ourAnswer = (l, offer, takes) => tool(['answer', ...localArgs(l), takes], offer);
const ourOffer = (l, n) => tool(['offer', ...localArgs(l), String(n)]);
const ourParse = (sdp) => JSON.parse(tool(['parse'], sdp));
const attr = (sdp, name) => (new RegExp(`^a=${name}:(.*?)\\r?$`, 'm').exec(sdp) || [])[1];

/* A UDP socket where our candidate points: records STUN USERNAMEs. */
async function stunListener() {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const usernames = [];
  sock.on('message', (msg) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== 0x2112a442) return;
    for (let off = 20; off + 4 <= msg.length;) {
      const type = msg.readUInt16BE(off);
      const len = msg.readUInt16BE(off + 2);
      if (type === 0x0006) usernames.push(msg.toString('utf8', off + 4, off + 4 + len));
      off += 4 + ((len + 3) & ~3);
    }
  });
  return { port: sock.address().port, usernames, close: () => sock.close() };
}

async function sawCheck(l, want, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end && !l.usernames.includes(want);) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return l.usernames.includes(want);
}

/* Chromium's verdict on an answer to a fresh offer of kind: the result of
 * applyAnswer, or { error }. */
async function tryAnswer(page, kind, makeAnswer) {
  const offer = await page.evaluate((k) => window.oa.offer(k), kind);
  const answer = makeAnswer(offer.sdp);
  try {
    return { offer, answer, ...(await page.evaluate((i, a) => window.oa.applyAnswer(i, a), offer.id, answer)) };
  } catch (err) {
    return { offer, answer, error: String(err.message || err).split('\n')[0] };
  } finally {
    await page.evaluate((i) => window.oa.close(i), offer.id);
  }
}

async function publishOffer(page) {
  const stun = await stunListener();
  try {
    const l = local(stun.port);
    const r = await tryAnswer(page, 'sendonly', (sdp) => ourAnswer(l, sdp, 'r'));
    const t = (r.transceivers || [])[0] || {};
    c.ok(!r.error && r.signalingState === 'stable' && t.currentDirection === 'sendonly',
      `sendonly offer, our recvonly answer accepted: ${r.error || `${r.signalingState} ${t.currentDirection}`}`);
    const seen = ourParse(r.offer.sdp).sections[0];
    c.ok(seen.direction === 'sendonly' && seen.opus_pt === 111 && seen.msid_stream.length > 0 && seen.ssrc > 0,
      `our reader: Chromium's publish offer is sendonly opus with msid and ssrc (${JSON.stringify(seen)})`);
    /* The page keeps no pc open after tryAnswer; re-run with the pc kept. */
    const offer = await page.evaluate(() => window.oa.offer('sendonly'));
    await page.evaluate((i, a) => window.oa.applyAnswer(i, a), offer.id, ourAnswer(l, offer.sdp, 'r'));
    const want = `${l.ufrag}:${attr(offer.sdp, 'ice-ufrag')}`;
    c.ok(await sawCheck(stun, want), `Chromium sends STUN checks to our candidate as ${want}`);
    await page.evaluate((i) => window.oa.close(i), offer.id);
  } finally {
    stun.close();
  }
}

async function subscribeOffer(page) {
  const l = local(40000);
  const r = await tryAnswer(page, 'recvonly', (sdp) => ourAnswer(l, sdp, 's'));
  const t = (r.transceivers || [])[0] || {};
  const track = (r.tracks || [])[0] || {};
  c.ok(!r.error && t.currentDirection === 'recvonly',
    `recvonly offer, our sendonly answer accepted: ${r.error || t.currentDirection}`);
  c.ok(track.kind === 'audio' && (track.streams || [])[0] === 'sc-stream-0',
    `its track event carries our msid stream: ${JSON.stringify(r.tracks)}`);
}

async function mixedOffer(page) {
  const l = local(40001);
  const r = await tryAnswer(page, 'av-data', (sdp) => ourAnswer(l, sdp, 'r--'));
  const dirs = (r.transceivers || []).map((t) => `${t.kind}:${t.currentDirection}`).join(' ');
  c.ok(!r.error && r.signalingState === 'stable', `audio+video+data offer, answer accepted: ${r.error || r.signalingState}`);
  c.ok(dirs === 'audio:sendonly' && r.sctp === null,
    `audio taken; video transceiver stopped and gone, no SCTP transport: ${dirs}; sctp ${r.sctp}`);
  const mlines = r.answer.match(/^m=.*$/mg).map((m) => m.trim());
  c.ok(mlines.length === 3 && /^m=audio [1-9]/.test(mlines[0]) && /^m=video 0 /.test(mlines[1]) &&
    /^m=application 0 /.test(mlines[2]), `our answer keeps the m-line order, rejected with port 0: ${mlines.join(' | ')}`);
  c.ok(/^a=group:BUNDLE 0\r?$/m.test(r.answer), 'BUNDLE lists the accepted mid only');
  /* ion-sdk-js sends its offers through sdp-transform (parse, write): its
   * own line order, same facts. */
  const rewritten = sdpTransform.write(sdpTransform.parse(r.offer.sdp));
  const same = JSON.stringify(ourParse(rewritten)) === JSON.stringify(ourParse(r.offer.sdp));
  c.ok(rewritten !== r.offer.sdp && same, 'our reader reads the sdp-transform rewrite of the offer the same');
}

async function wrongAnswers(page) {
  const l = local(40002);
  const cases = {
    'a=setup:actpass': (sdp) => ourAnswer(l, sdp, 'r').replace('a=setup:passive', 'a=setup:actpass'),
    'no fingerprint': (sdp) => ourAnswer(l, sdp, 'r').replace(/^a=fingerprint:.*\r\n/m, ''),
    'm-lines swapped': (sdp) => {
      const a = ourAnswer(l, sdp, 'r--');
      const [head, ...sections] = a.split(/(?=^m=)/m);
      return head + [sections[1], sections[0], sections[2]].join('');
    },
  };
  for (const [what, make] of Object.entries(cases)) {
    const r = await tryAnswer(page, what === 'm-lines swapped' ? 'av-data' : 'sendonly', make);
    c.ok(Boolean(r.error), `an answer with ${what} is refused: ${r.error}`);
  }
}

async function ourOffers(page) {
  for (const n of [1, 2]) {
    const l = local(40003);
    const offer = ourOffer(l, n);
    const a = await c.step(`our offer of ${n}`, () => page.evaluate((s) => window.oa.answerOffer(s), offer));
    if (!a) continue;
    const back = ourParse(a.sdp);
    const dirs = back.sections.map((s) => s.direction).join(',');
    c.ok(back.setup === 'active' && dirs === Array(n).fill('recvonly').join(','),
      `our offer of ${n}: Chromium answers a=setup:active, recvonly (${back.setup}; ${dirs})`);
    c.ok(back.sections.every((s, i) => s.mid === `a${i}` && s.opus_pt === 111),
      `its answer parses back with our mids and opus PT: ${back.sections.map((s) => `${s.mid}/${s.opus_pt}`).join(' ')}`);
    const streams = a.tracks.map((t) => t.streams[0]).sort().join(',');
    const want = Array.from({ length: n }, (_, i) => `sc-stream-${i}`).join(',');
    c.ok(streams === want, `a track per section with our msid: ${streams}`);
    await page.evaluate((i) => window.oa.close(i), a.id);
  }
}

run('sdp_oa_chromium', 180000, async () => {
  const b = await launchBrowser();
  try {
    const page = await openOaPage(b.browser);
    await publishOffer(page);
    await subscribeOffer(page);
    await mixedOffer(page);
    await wrongAnswers(page);
    await ourOffers(page);
  } finally {
    await b.close();
  }
}, { checks: () => c });
