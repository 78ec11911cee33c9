'use strict';
/*
 * The signalling half of Discord's webrtc mode with real WebRTC stacks
 * (no server: media is not wired yet). Our C code (tests/tools/sdp_answer,
 * linked with src/sc_sdp) reads the fragments that werift and Debian's
 * headless Chromium send in op 1, and writes the eight-line op 4 answer;
 * the "Discord web client" emulation on both stacks (lib/discord_webrtc.js,
 * lib/webrtc_page.html) synthesizes the full answer from it as Discord's
 * client does, and the stack must accept it (setRemoteDescription
 * resolves, signalingState "stable", the audio transceiver sendrecv).
 * Without our fingerprint lines the answer must be refused: by the
 * emulation's own op 4 check (as Discord's client checks), and by
 * Chromium itself when the synthesized answer lacks them (werift checks
 * the fingerprint only when DTLS starts, so only the first applies there).
 * Each accepting stack must then send STUN binding requests to the
 * candidate of our answer with USERNAME "<our ufrag>:<its ufrag>" (a UDP
 * socket of the test stands there and answers nothing), and renegotiate
 * locally when a second remote user's audio is announced.
 */
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Checks, run } = require('./lib/checks');
const { DiscordWebClient } = require('./lib/discord_webrtc');
const { launchChromium } = require('./lib/chromium');

const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
const TOOL = path.join(buildDir, 'tests', 'sdp_answer');
const c = new Checks('webrtc_signal');

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const iceString = (n) => Array.from(crypto.randomBytes(n), (b) => ICE_CHARS[b & 63]).join('');
const fingerprintText = (buf) => Array.from(buf, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');

/* Our op 4 sdp for fresh credentials (Discord's lengths: 4 and 22) and
 * a candidate on `port`. Returns { op4, ufrag }. */
function ourAnswer(port, ip = '127.0.0.1') {
  const ufrag = iceString(4);
  const args = [ip, String(port), ufrag, iceString(22), fingerprintText(crypto.randomBytes(32))];
  const r = spawnSync(TOOL, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sdp_answer ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return { op4: r.stdout, ufrag };
}

/* A UDP socket standing where our candidate points: it records the STUN
 * binding requests the stack sends once it has our answer (it answers
 * none: no ICE here, only proof that our candidate and ufrag were used). */
async function stunListener() {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const usernames = [];
  sock.on('message', (msg) => {
    const u = stunUsername(msg);
    if (u) usernames.push(u);
  });
  return { port: sock.address().port, usernames, close: () => sock.close() };
}

/* USERNAME (0x0006) of a STUN binding request (RFC 8489), or null. */
function stunUsername(msg) {
  if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== 0x2112a442) return null;
  for (let off = 20; off + 4 <= msg.length;) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    if (type === 0x0006) return msg.toString('utf8', off + 4, off + 4 + len);
    off += 4 + ((len + 3) & ~3);
  }
  return null;
}

async function sawCheck(l, want, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end && !l.usernames.includes(want);) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return l.usernames.includes(want);
}

/* Our C reader over a fragment: its JSON line. */
function ourRead(fragment) {
  const r = spawnSync(TOOL, ['--parse'], { input: fragment, encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

const withoutFingerprint = (sdp) => sdp.replace(/^a=fingerprint:.*\n/mg, '');
const attr = (sdp, name) => (new RegExp(`^a=${name}:(.*?)\\r?$`, 'm').exec(sdp) || [])[1];

/* Op 1 of a stack: the fields, and our reader agreeing with its offer. */
function checkSelectProtocol(stack, d, offer) {
  c.ok(d.protocol === 'webrtc' && d.sdp === d.data && !/^[vosmtc]=/m.test(d.sdp),
    `${stack}: op 1 is protocol webrtc with the trimmed fragment in sdp and data (${d.sdp.split('\n').length} lines)`);
  const got = ourRead(d.sdp);
  const opus = d.codecs.find((x) => x.name === 'opus');
  c.ok(!got.error && got.ufrag === attr(offer, 'ice-ufrag') && got.pwd === attr(offer, 'ice-pwd') &&
    got.fingerprint === attr(offer, 'fingerprint').split(' ')[1].toUpperCase(),
  `${stack}: sc_sdp reads the fragment's ICE credentials and fingerprint: ${JSON.stringify(got)}`);
  c.ok(got.opus_pt === opus.payload_type && got.opus_pt >= 96 && got.audio_level_id > 0,
    `${stack}: sc_sdp finds the Opus PT of codecs (${opus.payload_type}) and the audio-level extmap (${got.audio_level_id})`);
}

function checkAnswerText(op4, port) {
  const lines = op4.split('\n');
  c.ok(lines.length === 9 && lines[8] === '' && lines[0] === `m=audio ${port} ICE/SDP` &&
    lines[2] === 'c=IN IP4 127.0.0.1' && lines[7] === `a=candidate:1 1 UDP 4261412862 127.0.0.1 ${port} typ host` &&
    lines[1] === lines[6] && /^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(lines[1]),
  `our op 4 sdp is the eight-line template:\n${op4}`);
}

const REMOTES = [{ user_id: '1001', ssrc: 11111, kind: 'audio' },
  { user_id: '1001', ssrc: 22222, rtx_ssrc: 22223, kind: 'video' }];
const SECOND = { user_id: '1002', ssrc: 33333, kind: 'audio' };

async function werift() {
  const l = await stunListener();
  const { op4, ufrag } = ourAnswer(l.port);
  checkAnswerText(op4, l.port);
  const w = new DiscordWebClient();
  try {
    const d = await w.selectProtocol();
    checkSelectProtocol('werift', d, w.offer);
    const a = await w.applyAnswer(op4, REMOTES);
    const audio = w.audio.currentDirection || w.audio.direction;
    c.ok(w.pc.signalingState === 'stable' && a.assigned.length === 2 && audio === 'sendrecv',
      `werift accepts the synthesized answer: ${w.pc.signalingState}, audio ${audio}, ` +
      `remote streams in mids ${a.assigned.map((x) => x.mid).join(',')}`);
    const want = `${ufrag}:${attr(w.offer, 'ice-ufrag')}`;
    c.ok(await sawCheck(l, want), `werift sends STUN checks to our candidate as ${want} (saw ${[...new Set(l.usernames)]})`);
    const more = await w.renegotiate([...REMOTES, SECOND]);
    c.ok(w.pc.signalingState === 'stable' && more.assigned.length === 3 && more.assigned[2].mid === '2',
      `werift renegotiates locally for a second remote audio stream: ${w.pc.signalingState}, ` +
      `mids ${more.assigned.map((x) => `${x.ssrc}@${x.mid}`).join(',')}`);
  } finally {
    await w.close();
    l.close();
  }
  const w2 = new DiscordWebClient();
  try {
    await w2.selectProtocol();
    const err = await w2.applyAnswer(withoutFingerprint(ourAnswer(9).op4), REMOTES).then(() => null, (e) => e.message);
    c.ok(err && /fingerprint/.test(err) && w2.pc.signalingState === 'have-local-offer',
      `werift client refuses our answer without its fingerprint lines: ${err}`);
  } finally {
    await w2.close();
  }
}

async function chromium(launching) {
  const ch = await launching;
  const page = ch.page;
  try {
    for (const video of [true, false]) {
      const name = `Chromium (${video ? 'audio+video' : 'audio'})`;
      const l = await stunListener();
      const { op4, ufrag } = ourAnswer(l.port);
      const r = await page.evaluate((v) => window.startClient({ video: v }), video);
      checkSelectProtocol(name, r.d, r.offer);
      const res = await page.evaluate((id, s, rem) => window.applyAnswer(id, s, rem), r.id, op4, REMOTES);
      const tr = await page.evaluate((id) => window.transceivers(id), r.id);
      const audio = tr.find((t) => t.kind === 'audio');
      c.ok(res.ok && res.signalingState === 'stable' && audio.currentDirection === 'sendrecv' &&
        res.assigned.length === (video ? 2 : 1),
      `${name} accepts the synthesized answer: ${res.ok ? res.signalingState : res.error}, ` +
        `transceivers ${JSON.stringify(tr)}`);
      const want = `${ufrag}:${attr(r.offer, 'ice-ufrag')}`;
      c.ok(await sawCheck(l, want), `${name} sends STUN checks to our candidate as ${want} (saw ${[...new Set(l.usernames)]})`);
      l.close();
      const more = await page.evaluate((id, rem) => window.renegotiate(id, rem), r.id, [...REMOTES, SECOND]);
      c.ok(more.ok && more.signalingState === 'stable' && more.assigned.some((x) => x.ssrc === SECOND.ssrc),
        `${name} renegotiates locally for a second remote audio stream: ` +
        `${more.ok ? more.assigned.map((x) => `${x.ssrc}@${x.mid}`).join(',') : more.error}`);
    }
    const { op4 } = ourAnswer(9);
    let r = await page.evaluate(() => window.startClient({ video: true }));
    let res = await page.evaluate((id, s, rem) => window.applyAnswer(id, s, rem, { stripFingerprint: true }),
      r.id, op4, REMOTES);
    c.ok(!res.ok && /fingerprint/i.test(res.error) && res.signalingState === 'have-local-offer',
      `Chromium refuses the synthesized answer without our fingerprint: ${res.error}`);
    r = await page.evaluate(() => window.startClient({ video: true }));
    res = await page.evaluate((id, s, rem) => window.applyAnswer(id, s, rem), r.id, withoutFingerprint(op4), REMOTES);
    c.ok(!res.ok && /fingerprint/.test(res.error), `Chromium client refuses our op 4 without its fingerprint lines: ${res.error}`);
  } finally {
    await ch.close();
  }
}

run('webrtc_signal', 60000, async () => {
  const t0 = Date.now();
  const launching = launchChromium(); /* starts while werift runs */
  launching.catch(() => {});
  await c.step('werift', werift);
  await c.step('chromium', () => chromium(launching));
  console.log(`webrtc_signal: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, { checks: () => c });
