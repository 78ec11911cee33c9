'use strict';
/*
 * sc_dtls and sc_srtp (src/) against a real browser, before the media
 * worker carries them: headless Chromium (Debian's, driven by
 * puppeteer-core) connects to lcv_dtls_peer (tests/bench/dtls_peer.c: one
 * UDP socket, ICE-lite STUN answers, sc_dtls as DTLS server, sc_srtp) with
 * an answer shaped as the WebRTC reference's minimal answer (ice-lite,
 * setup:passive, rtcp-mux), sending an oscillator's Opus.
 *
 * Checks: Chromium reaches "connected" with DTLS 1.2 (tlsVersion FEFD,
 * though it could offer 1.3) and SRTP_AEAD_AES_128_GCM, as DTLS client;
 * it saw our certificate (sha-256 fingerprint as announced); the peer
 * verified Chromium's certificate against the offer's a=fingerprint,
 * chose the GCM profile, and authenticated 100 RTP packets with no SRTP
 * error; Chromium decrypted the packets the peer sent back (sc_srtp's
 * outbound direction, under an SSRC the answer announced).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Checks, run } = require('./lib/checks');

const c = new Checks('dtls-chromium');
const buildDir = process.env.SC_BUILD_DIR ||
  path.join(process.env.SC_SOURCE_DIR || path.resolve(__dirname, '..', '..'), 'build');
const ICE_PWD = 'Zq3vLw9XyTb2Kp7Rm4Hs8N';
const ICE_UFRAG = 'lcv1';
const ECHO_SSRC = 0x4C435631; /* lcv_dtls_peer sends our RTP back under it */

function startPeer() {
  const bin = path.join(buildDir, 'tests', 'bench', 'lcv_dtls_peer');
  if (!fs.existsSync(bin)) throw new Error(`lcv_dtls_peer not built: ${bin}`);
  const proc = spawn(bin, [ICE_PWD, '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  const waiters = [];
  proc.stdout.on('data', (d) => {
    text += d;
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise((r) => proc.on('exit', r));
  /* Resolves with the first match of re in the output so far or later. */
  const line = (re, ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} from lcv_dtls_peer: ${text}`)), ms);
    const look = () => {
      const m = re.exec(text);
      if (m) { clearTimeout(timer); resolve(m); } else waiters.push(look);
    };
    look();
  });
  return { proc, line, exited };
}

/* Page side, step 1: a connection sending an oscillator; returns the
 * offer's mid and fingerprint. */
async function makeOffer() {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const ac = new AudioContext();
  const osc = ac.createOscillator();
  const dst = ac.createMediaStreamDestination();
  osc.connect(dst);
  osc.start();
  pc.addTrack(dst.stream.getAudioTracks()[0], dst.stream);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return { mid: /a=mid:(\S+)/.exec(offer.sdp)[1], fp: /a=fingerprint:sha-256 (\S+)/.exec(offer.sdp)[1] };
}

/* Page side, step 2: our answer; waits for "connected" and returns stats. */
async function answerAndWait(sdp) {
  const pc = window.pc;
  await pc.setRemoteDescription({ type: 'answer', sdp });
  const t0 = Date.now();
  while (!['connected', 'failed'].includes(pc.connectionState) && Date.now() - t0 < 20000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  /* Our packets come back under the echo SSRC: wait until Chromium
   * decrypted 20 (it counts only packets that authenticated). */
  const inbound = async () => {
    let got = null;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') got = s; });
    return got;
  };
  const t1 = Date.now();
  while (Date.now() - t1 < 10000 && !(((await inbound()) || {}).packetsReceived >= 20)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const stats = [];
  (await pc.getStats()).forEach((s) => stats.push(s));
  return { state: pc.connectionState, ms: Date.now() - t0, stats };
}

function answerSdp(mid, port, fp) {
  return ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=group:BUNDLE ${mid}`, 'a=ice-lite',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111`, 'c=IN IP4 127.0.0.1', `a=mid:${mid}`,
    `a=ice-ufrag:${ICE_UFRAG}`, `a=ice-pwd:${ICE_PWD}`, `a=fingerprint:sha-256 ${fp}`,
    'a=setup:passive', 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2',
    'a=msid:lcv lcv-audio', `a=ssrc:${ECHO_SSRC} cname:lcv`,
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates', ''].join('\r\n');
}

let browser = null;
let peer = null;

async function body() {
  const puppeteer = require('puppeteer-core');
  peer = startPeer();
  const fp = (await peer.line(/FP (\S+)/, 10000))[1];
  const port = Number((await peer.line(/PORT (\d+)/, 10000))[1]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcv-chromium-'));
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true, userDataDir: dir,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required',
      '--allow-loopback-in-peer-connection', '--disable-background-networking', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  console.log(`browser ${await browser.version()}`);
  const offer = await page.evaluate(makeOffer);
  peer.proc.stdin.write(`EXPECT ${offer.fp}\n`);
  const r = await page.evaluate(answerAndWait, answerSdp(offer.mid, port, fp));
  const transport = r.stats.find((s) => s.type === 'transport') || {};
  const remoteCert = r.stats.find((s) => s.id === transport.remoteCertificateId) || {};
  c.ok(r.state === 'connected', `Chromium connected (${r.state} after ${r.ms} ms)`);
  c.ok(transport.dtlsState === 'connected' && transport.dtlsRole === 'client',
    `DTLS connected, Chromium the client (${transport.dtlsState}, ${transport.dtlsRole})`);
  c.ok(transport.tlsVersion === 'FEFD', `DTLS 1.2 negotiated (tlsVersion ${transport.tlsVersion})`);
  c.ok(transport.srtpCipher === 'SRTP_AEAD_AES_128_GCM', `SRTP cipher ${transport.srtpCipher}`);
  c.ok(remoteCert.fingerprint === fp && remoteCert.fingerprintAlgorithm === 'sha-256',
    `Chromium saw our certificate (${remoteCert.fingerprintAlgorithm} ${remoteCert.fingerprint})`);
  await peer.line(/CONNECTED (\S+)/, 10000).then((m) =>
    c.ok(m[1] === 'SRTP_AEAD_AES_128_GCM', `peer: connected with ${m[1]}`));
  const m = await peer.line(/RESULT (.*)/, 40000);
  const res = Object.fromEntries(m[1].split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  c.ok(res.verified === 1 && res.state === 1, `peer verified Chromium's fingerprint and is connected (${m[1]})`);
  c.ok(res.rtp_ok >= 100 && res.srtp_errors === 0, `100 RTP packets authenticated, no SRTP error (${m[1]})`);
  c.ok(res.stun >= 1, `ICE-lite checks answered (${res.stun})`);
  const inbound = r.stats.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio') || {};
  c.ok(inbound.ssrc === ECHO_SSRC && inbound.packetsReceived >= 20,
    `Chromium decrypted our SRTP (ssrc ${inbound.ssrc}, packetsReceived ${inbound.packetsReceived})`);
  await peer.exited;
}

run('webrtc_dtls_chromium', 120000, async () => {
  try {
    await body();
  } finally {
    if (browser) await browser.close();
  }
}, { checks: () => c });

process.on('exit', () => {
  if (peer && peer.proc.exitCode === null) peer.proc.kill();
});
