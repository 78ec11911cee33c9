'use strict';
/*
 * Whole-SDP offer/answer (src/sc_sdp_oa, through tests/tools/sdp_oa)
 * against a second WebRTC stack: werift 0.24.4 (pure TypeScript), beside
 * the Chromium test (sdp_oa_chromium.test.js). No server: signalling only.
 *
 *   - werift's sendonly offer: our reader finds its opus PT, ssrc and
 *     msid; werift accepts our recvonly answer (currentDirection sendonly).
 *   - werift's recvonly offer: werift accepts our sendonly answer and
 *     announces a remote track.
 *   - an audio + video offer: video rejected with port 0, werift accepts.
 *   - our offer of two send-only sections: werift accepts it and answers
 *     recvonly with a=setup:active, which our reader parses back.
 */
const crypto = require('node:crypto');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { RTCPeerConnection, MediaStreamTrack } = require('werift');
const { Checks, run } = require('./lib/checks');

const source = process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const buildDir = process.env.SC_BUILD_DIR || path.join(source, 'build');
const TOOL = path.join(buildDir, 'tests', 'sdp_oa');
const c = new Checks('sdp_oa_werift');

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const iceString = (n) => Array.from(crypto.randomBytes(n), (b) => ICE_CHARS[b & 63]).join('');
const fingerprintText = () => Array.from(crypto.randomBytes(32), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
const LOCAL = ['127.0.0.1', '40010', iceString(4), iceString(22), fingerprintText()];

function tool(args, input) {
  const r = spawnSync(TOOL, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sdp_oa ${args[0]}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const ourParse = (sdp) => JSON.parse(tool(['parse'], sdp));

const newPc = () => new RTCPeerConnection({ iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] });

async function offerFrom(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
}

async function sendonly() {
  const pc = newPc();
  try {
    const track = new MediaStreamTrack({ kind: 'audio' });
    pc.addTransceiver(track, { direction: 'sendonly' });
    const offer = await offerFrom(pc);
    const seen = ourParse(offer).sections[0];
    c.ok(seen.direction === 'sendonly' && seen.opus_pt >= 0 && seen.ssrc > 0,
      `our reader: werift's sendonly offer (${JSON.stringify(seen)})`);
    await pc.setRemoteDescription({ type: 'answer', sdp: tool(['answer', ...LOCAL, 'r'], offer) });
    const t = pc.getTransceivers()[0];
    c.ok(pc.signalingState === 'stable' && t.currentDirection === 'sendonly',
      `werift accepts our recvonly answer: ${pc.signalingState} ${t.currentDirection}`);
  } finally {
    await pc.close();
  }
}

async function recvonly() {
  const pc = newPc();
  try {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const tracks = [];
    pc.onTrack.subscribe((track) => tracks.push(track.kind));
    const offer = await offerFrom(pc);
    await pc.setRemoteDescription({ type: 'answer', sdp: tool(['answer', ...LOCAL, 's'], offer) });
    const t = pc.getTransceivers()[0];
    c.ok(t.currentDirection === 'recvonly' && tracks.join() === 'audio',
      `werift accepts our sendonly answer and announces the track: ${t.currentDirection} [${tracks}]`);
  } finally {
    await pc.close();
  }
}

async function audioVideo() {
  const pc = newPc();
  try {
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
    const offer = await offerFrom(pc);
    const answer = tool(['answer', ...LOCAL, 'r-'], offer);
    c.ok(/^m=video 0 /m.test(answer), 'our answer rejects video with port 0');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    c.ok(pc.signalingState === 'stable', `werift accepts it: ${pc.signalingState}`);
  } finally {
    await pc.close();
  }
}

async function ourOffer() {
  const pc = newPc();
  try {
    const tracks = [];
    pc.onTrack.subscribe((track) => tracks.push(track.kind));
    await pc.setRemoteDescription({ type: 'offer', sdp: tool(['offer', ...LOCAL, '2']) });
    await pc.setLocalDescription(await pc.createAnswer());
    const back = ourParse(pc.localDescription.sdp);
    const dirs = back.sections.map((s) => `${s.mid}:${s.direction}`).join(' ');
    c.ok(back.setup === 'active' && dirs === 'a0:recvonly a1:recvonly',
      `werift answers our offer with a=setup:active, recvonly: ${back.setup} ${dirs}`);
    c.ok(tracks.length === 2, `a track per offered section: [${tracks}]`);
  } finally {
    await pc.close();
  }
}

run('sdp_oa_werift', 120000, async () => {
  await c.step('sendonly offer', sendonly);
  await c.step('recvonly offer', recvonly);
  await c.step('audio+video offer', audioVideo);
  await c.step('our offer', ourOffer);
}, { checks: () => c });
