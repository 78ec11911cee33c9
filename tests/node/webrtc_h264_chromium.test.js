'use strict';
/*
 * H264 across the WebRTC transport, with real Chromium on both ends: two
 * pages of the "Discord web client" (lib/webrtc_page.html) in the
 * gateway's webrtc mode, in one room. Each offers `codecs` as Discord's
 * Chrome client does (H264 first, then VP8), so op 4 says H264 and each
 * page answers its video section with the H264 PT its codecs named and
 * that PT's own fmtp (packetization-mode=1 and its profile-level-id). The
 * two pick different H264 entries of Chrome's offer, so their PTs differ
 * and the server must map one to the other:
 *   A  sender, fake camera (--use-fake-device-for-media-stream), H264
 *      constrained baseline 42e01f (Chrome's PT 108);
 *   B  receiver, H264 baseline 42001f (PT 102), joins a few seconds
 *      later, so its first video is mid-stream and it needs a key frame:
 *      the server asks A for one with a PLI when B's keys first work.
 *
 * Checked:
 *   - op 4 names H264 to both; both connect; B learns A's video SSRC
 *     from op 12;
 *   - A really encodes H264: outbound-rtp's codec (codecId) is video/H264
 *     under A's own PT, framesEncoded > 0;
 *   - B decodes it: inbound-rtp for A's SSRC has framesDecoded > 0 and
 *     keyFramesDecoded > 0, its codec is video/H264 under B's PT (not
 *     A's), its packetsReceived keeps rising;
 *   - key frames: A's pliCount > 0 and keyFramesEncoded grows after B
 *     joins (only the server talks to A); the server's pli_sent and
 *     video_received grew (/metrics).
 * Printed, not asserted: the encoder and decoder Chromium used (Chrome
 * names the decoder only to a page with capture permission), and the
 * time from B's "connected" to its first decoded frame.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { connectPage, openGateway, webrtcMetrics } = require('./lib/webrtc_video_room');

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const SENDER_HEAD_START_MS = 2500; /* the receiver joins mid-stream */
const DISCORD_CODECS = ['H264', 'VP8']; /* Discord's Chrome client: H264 priority 1000, VP8 2000 */
const A_PROFILE = '42e01f';
const B_PROFILE = '42001f';

const checks = new Checks('webrtc_h264_chromium');
const servers = [];

const h264PtOf = (d) => (d.codecs.find((c) => c.name === 'H264') || {}).payload_type;

async function body() {
  const { launchChromium } = require('./lib/chromium');
  const room = await openRoom({ buildDir, servers, toneHz: null });
  const { srv, ca } = room;
  const vs = () => room.member();
  const aInfo = await vs();
  const bInfo = await vs();
  const extraArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
  const chA = await launchChromium({ extraArgs });
  const chB = await launchChromium({ extraArgs });
  const gws = [];
  try {
    const caps = await chA.page.evaluate(() => ({
      send: RTCRtpSender.getCapabilities('video').codecs.filter((c) => c.mimeType === 'video/H264').length,
      recv: RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => c.mimeType === 'video/H264').length,
    }));
    checks.ok(caps.send > 0 && caps.recv > 0, `Chromium offers H264 both ways: ${JSON.stringify(caps)}`);
    const before = await webrtcMetrics(srv);

    /* A: the sender, with its camera. */
    const gA = await openGateway(srv, ca, aInfo);
    gws.push(gA);
    const a = await connectPage(checks, chA.page, gA,
      { video: true, camera: true, videoCodecs: DISCORD_CODECS, h264Profile: A_PROFILE }, { expectCodec: 'H264' });
    const aPt = h264PtOf(a.d);
    checks.ok(new RegExp(`a=fmtp:${aPt} .*packetization-mode=1.*profile-level-id=${A_PROFILE}`).test(a.answer),
      `A's answer keeps its H264 PT ${aPt}'s fmtp (mode 1, ${A_PROFILE})`);
    const own = await chA.page.evaluate((i) => localSsrcs(i), a.id);
    checks.ok(own.video > 0 && own.audio > 0, `sender's SSRCs from its offer ${JSON.stringify(own)}`);
    gA.send(5, { speaking: 1, delay: 5, ssrc: own.audio });
    gA.send(12, { audio_ssrc: own.audio, video_ssrc: own.video, rtx_ssrc: own.rtx,
                  streams: [{ type: 'video', rid: '100', ssrc: own.video, rtx_ssrc: own.rtx, active: true,
                              quality: 100, max_resolution: { type: 'fixed', width: 320, height: 240 } }] });
    await sleep(SENDER_HEAD_START_MS);
    const aEarly = (await a.stats()).outboundVideo[0] || {};
    checks.ok(aEarly.framesEncoded > 0 && aEarly.codec && aEarly.codec.mimeType === 'video/H264' &&
      aEarly.codec.payloadType === aPt, `sender encodes H264 under its PT ${aPt}: ${JSON.stringify(aEarly)}`);

    /* B: the receiver; the room's op 12 tells it the sender's video. */
    const gB = await openGateway(srv, ca, bInfo);
    gws.push(gB);
    let op12 = null;
    const b = await connectPage(checks, chB.page, gB,
      { video: true, videoCodecs: DISCORD_CODECS, h264Profile: B_PROFILE }, { expectCodec: 'H264', remotesFor: async () => {
        op12 = (await gB.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc })).d;
        return [{ user_id: aInfo.user_id, ssrc: op12.audio_ssrc, kind: 'audio' },
          { user_id: aInfo.user_id, ssrc: op12.video_ssrc, rtx_ssrc: op12.rtx_ssrc, kind: 'video' }];
      } });
    const bPt = h264PtOf(b.d);
    checks.ok(aPt && bPt && aPt !== bPt, `the two pages put H264 on different PTs: A ${aPt}, B ${bPt}`);
    checks.ok(op12 && op12.video_ssrc === own.video, `op 12 to the receiver names the sender's video SSRC ${op12 && op12.video_ssrc}`);
    const t0 = Date.now();
    let firstFrame = 0;
    const video = async () => {
      const inb = (await b.stats()).inboundVideo.find((s) => s.ssrc === own.video) || {};
      const out = (await a.stats()).outboundVideo[0] || {};
      if (!firstFrame && inb.framesDecoded > 0) firstFrame = Date.now();
      return { inb, out };
    };
    await waitFor(async () => { const v = await video(); return v.inb.framesDecoded > 0 && v.out.pliCount > 0; }, 20000, 100);
    const first = await video();
    await sleep(1500);
    const later = await video();
    const inCodec = later.inb.codec || {};
    checks.ok(first.inb.framesDecoded > 0 && later.inb.keyFramesDecoded > 0,
      `receiver decodes the sender's H264: ${JSON.stringify(later.inb)}`);
    checks.ok(inCodec.mimeType === 'video/H264' && inCodec.payloadType === bPt,
      `receiver's codec is video/H264 under its own PT ${bPt}: ${JSON.stringify(inCodec)}`);
    checks.ok(later.inb.packetsReceived > first.inb.packetsReceived,
      `receiver's packetsReceived rises: ${first.inb.packetsReceived} -> ${later.inb.packetsReceived}`);
    checks.ok(later.out.pliCount > 0 && later.out.keyFramesEncoded > aEarly.keyFramesEncoded,
      `sender got PLIs from the server and encoded key frames: pliCount ${later.out.pliCount}, keyFramesEncoded ` +
      `${aEarly.keyFramesEncoded} -> ${later.out.keyFramesEncoded} (receiver sent ${later.inb.pliCount} PLIs)`);
    console.log(`figure: encoder ${later.out.encoderImplementation}, decoder ${later.inb.decoderImplementation ||
      'not shown (the receiver page has no capture permission)'}; ` +
      `first H264 frame decoded ${firstFrame ? firstFrame - t0 : '-'} ms after the receiver connected ` +
      `(getStats polled every 100 ms)`);
    const after = await webrtcMetrics(srv);
    const grew = (n) => `${n} ${before[`${n}_total`]} -> ${after[`${n}_total`]}`;
    checks.ok(after.video_received_total > before.video_received_total, `server counted video: ${grew('video_received')}`);
    checks.ok(after.pli_sent_total > before.pli_sent_total,
      `server passed PLIs: ${grew('pli_sent')}, ${grew('pli_limited')}, ${grew('pli_unsent')}`);
  } finally {
    for (const g of gws) {
      g.stopHeartbeat();
      g.kill();
    }
    await chA.close();
    await chB.close();
    await room.close();
  }
}

run('webrtc_h264_chromium', 150000, body, { checks: () => checks, servers: () => servers });
