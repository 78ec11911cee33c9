'use strict';
/*
 * Video across the WebRTC transport, with real Chromium on both ends: two
 * pages of the "Discord web client" (lib/webrtc_page.html) in the
 * gateway's webrtc mode, in one room. The sender's video section carries
 * Chrome's fake camera (--use-fake-device-for-media-stream, VP8 as the
 * synthesized answer negotiates); it announces its SSRCs in op 12 as
 * Discord's client does. The receiver joins a few seconds later, so the
 * first video it gets would not be a key frame: the server asks the
 * sender for one (a PLI in the sender's SRTCP) when the receiver's first
 * authentic packet arrives, and passes on the receiver's own PLIs if it
 * still sends any (webrtc_video_werift checks that path byte by byte).
 *
 * Checked:
 *   - both peer connections reach "connected"; the receiver is told the
 *     sender's video SSRC in op 12;
 *   - the receiver's inbound-rtp video for that SSRC decodes frames
 *     (framesDecoded > 0) and its packetsReceived keeps rising;
 *   - the sender's outbound-rtp video shows pliCount > 0 (only the server
 *     can have sent those: nothing else talks to it), and the server's
 *     counters agree: webrtc video_received and pli_sent grew
 *     (/metrics); no video is dropped as under an unannounced SSRC once
 *     op 12 is in (before it, the sender's first packets are);
 *   - the receiver's remote-outbound-rtp for the sender's video SSRC:
 *     the browser took our SR about the video (node.webrtc_sr_clock_werift
 *     checks its RTP time runs on 90 kHz).
 * Figure (printed, not asserted): the time from the receiver's
 * "connected" to its first decoded frame.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { connectPage, openGateway, webrtcMetrics: metrics } = require('./lib/webrtc_video_room');

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const SENDER_HEAD_START_MS = 2500; /* the receiver joins mid-stream */

const checks = new Checks('webrtc_video_chromium');
const servers = [];

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
    const before = await metrics(srv);
    /* A: the sender, with its camera. */
    const gA = await openGateway(srv, ca, aInfo);
    gws.push(gA);
    const a = await connectPage(checks, chA.page, gA, { video: true, camera: true });
    const own = await chA.page.evaluate((i) => localSsrcs(i), a.id);
    checks.ok(own.video > 0 && own.audio > 0, `sender's SSRCs from its offer ${JSON.stringify(own)}`);
    gA.send(5, { speaking: 1, delay: 5, ssrc: own.audio });
    gA.send(12, { audio_ssrc: own.audio, video_ssrc: own.video, rtx_ssrc: own.rtx,
                  streams: [{ type: 'video', rid: '100', ssrc: own.video, rtx_ssrc: own.rtx, active: true,
                              quality: 100, max_resolution: { type: 'fixed', width: 320, height: 240 } }] });
    await sleep(SENDER_HEAD_START_MS);
    const aEarly = (await a.stats()).outboundVideo[0] || {};
    checks.ok(aEarly.framesEncoded > 0, `sender encodes video: ${JSON.stringify(aEarly)}`);

    /* B: the receiver; the room's op 12 tells it the sender's video. */
    const gB = await openGateway(srv, ca, bInfo);
    gws.push(gB);
    let op12 = null;
    const b = await connectPage(checks, chB.page, gB, { video: true }, { remotesFor: async () => {
      op12 = (await gB.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc })).d;
      return [{ user_id: aInfo.user_id, ssrc: op12.audio_ssrc, kind: 'audio' },
        { user_id: aInfo.user_id, ssrc: op12.video_ssrc, rtx_ssrc: op12.rtx_ssrc, kind: 'video' }];
    } });
    checks.ok(op12 && op12.video_ssrc === own.video, `op 12 to the receiver names the sender's video SSRC ${op12 && op12.video_ssrc}`);
    const t0 = Date.now();
    let firstPliB = 0;
    let firstPliA = 0;
    let firstFrame = 0;
    const video = async () => {
      const sb = await b.stats();
      const sa = await a.stats();
      const inb = sb.inboundVideo.find((s) => s.ssrc === own.video) || {};
      const out = sa.outboundVideo[0] || {};
      if (!firstPliB && inb.pliCount > 0) firstPliB = Date.now();
      if (!firstPliA && out.pliCount > 0) firstPliA = Date.now();
      if (!firstFrame && inb.framesDecoded > 0) firstFrame = Date.now();
      return { inb, out };
    };
    await waitFor(async () => { const v = await video(); return v.inb.framesDecoded > 0 && v.out.pliCount > 0; }, 15000, 50);
    const first = await video();
    const mid = await metrics(srv);
    await sleep(1500);
    const later = await video();
    checks.ok(first.inb.framesDecoded > 0, `receiver decodes the sender's video: ${JSON.stringify(first.inb)}`);
    checks.ok(later.inb.packetsReceived > first.inb.packetsReceived,
      `receiver's packetsReceived rises: ${first.inb.packetsReceived} -> ${later.inb.packetsReceived}`);
    checks.ok(later.out.pliCount > 0, `sender got PLIs from the server: pliCount ${later.out.pliCount} ` +
      `(receiver sent ${later.inb.pliCount}, fir ${later.inb.firCount})`);
    console.log(`figure: first frame decoded ${firstFrame - t0} ms after the receiver connected; ` +
      `the sender's first PLI ${firstPliA ? firstPliA - t0 : '-'} ms, the receiver's own ` +
      `${firstPliB ? firstPliB - t0 : '-'} ms (getStats polled every 50 ms)`);
    const srVideo = async () => (await b.stats()).remoteOutbound.find((s) => s.ssrc === own.video);
    await waitFor(srVideo, 6000, 100);
    const ro = await srVideo();
    checks.ok(ro && ro.kind === 'video' && ro.packetsSent > 0 && ro.remoteTimestamp > 0,
      `receiver's remote-outbound-rtp for the video SSRC (our SR): ${JSON.stringify(ro)}`);
    const after = await metrics(srv);
    const grew = (n) => `${n} ${before[`${n}_total`]} -> ${after[`${n}_total`]}`;
    checks.ok(after.video_received_total > before.video_received_total, `server counted video: ${grew('video_received')}`);
    checks.ok(after.pli_sent_total > before.pli_sent_total,
      `server passed PLIs: ${grew('pli_sent')}, ${grew('pli_limited')}, ${grew('pli_unsent')}, ${grew('pli_unknown_ssrc')}`);
    /* Before op 12 reaches the server the sender's video SSRC is not its
     * own yet (dropped, counted); once announced, nothing is dropped. */
    checks.ok(after.video_foreign_ssrc_total === mid.video_foreign_ssrc_total,
      `no video dropped as unannounced once op 12 is in: ${before.video_foreign_ssrc_total} -> ` +
      `${mid.video_foreign_ssrc_total} -> ${after.video_foreign_ssrc_total}`);
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

run('webrtc_video_chromium', 120000, body, { checks: () => checks, servers: () => servers });
