'use strict';
/*
 * Video across the WebRTC transport at the byte level, with werift
 * (lib/discord_webrtc.js) as Discord's web client and a Discord UDP
 * member (lib/media_client.js) in one room:
 *   A  werift, VP8 on its PT (97; its op 1 codecs), sends VP8 RTP under the
 *      video SSRC it announced in op 12, and a few under one it never
 *      announced;
 *   B  werift whose op 1 codecs put VP8 on PT 100;
 *   C  werift without video (no VP8 in its codecs);
 *   D  Discord UDP.
 * Checked (D also sends VP8 under Discord's PT 103, which B gets with
 * its PT and C not at all):
 *   - B gets every one of A's announced video payloads byte for byte
 *     under A's video SSRC with PT 100 (its own), D with Discord's VP8 PT
 *     103; C gets none (it did not negotiate VP8: counted as filtered);
 *   - nobody gets the packets under the unannounced SSRC
 *     (webrtc.video.foreign_ssrc counts them);
 *   - key frames: B sends a burst of PLIs (and one FIR) naming A's video
 *     SSRC through its SRTCP: A receives a PLI about its video SSRC from
 *     the server in its SRTCP, fewer than B sent (the rest folded:
 *     webrtc.video.pli_limited); a PLI naming D's audio SSRC (not a
 *     video) is counted as unknown and goes nowhere; one naming D's
 *     announced video SSRC is counted as not passed (the server sends no
 *     RTCP on Discord's UDP path).
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader } = require('werift');

const { adminState } = require('./lib/admin_client');
const { Checks, run, sleep } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { MediaClient, rtpHeader } = require('./lib/media_client');
const { joinWerift, pliPacket: pli } = require('./lib/webrtc_video_room');

const N = 40; /* video packets */
const A_VIDEO = 0x5EED0001;
const A_RTX = 0x5EED0002;
const STRAY = 0x5EED0099; /* never announced */
const A_LAYERS = [0x5EED0011, 0x5EED0012, 0x5EED0013]; /* more streams (simulcast layers) */
const D_VIDEO = 0x5EED0201; /* the Discord UDP member's (announced, never sent) */
const B_VP8_PT = 100;
const CORE_VP8_PT = 103;
const PLI_BURST = 10;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_video_werift');
const servers = [];

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await pred()) return true;
    await sleep(20);
  }
  return pred();
}

/* A FIR with one entry (RFC 5104 4.3.1.1), written by hand: werift's
 * serializer puts a length one word short. */
function fir(senderSsrc, ssrc) {
  const b = Buffer.from('84ce0004' + '00000000' + '00000000' + '00000000' + '01000000', 'hex');
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(ssrc, 12);
  return { serialize: () => b };
}

const videoOf = (st) => st.media.webrtc.video;

async function body() {
  const room = await openRoom({ buildDir, servers, toneHz: null });
  const { srv, ca } = room;
  const token = srv.adminToken();
  const vs = () => room.member();
  const [aInfo, bInfo, cInfo, dInfo] = [await vs(), await vs(), await vs(), await vs()];
  const members = [];
  try {
    const d = await MediaClient.join(dInfo, { ca });
    members.push({ close: () => d.close() });
    const fromA = [];
    d.on('audio', (p) => { if (p.ssrc === A_VIDEO || p.ssrc === STRAY) fromA.push(p); });
    let aPt = 0;
    const a = await joinWerift(srv, ca, aInfo, { video: true, editD: (o) => {
      aPt = o.codecs.find((x) => x.name === 'VP8').payload_type;
      return o;
    } });
    const b = await joinWerift(srv, ca, bInfo, { video: true, editD: (o) => {
      o.codecs = o.codecs.map((c) => (c.name === 'VP8' ? { ...c, payload_type: B_VP8_PT, rtx_payload_type: null } : c));
      return o;
    } });
    const c = await joinWerift(srv, ca, cInfo, { video: false });
    members.push(a, b, c);
    checks.ok([a, b, c].every((m) => m.web.pc.connectionState === 'connected'), 'the three werift clients are connected');
    a.g.send(12, { audio_ssrc: 0, video_ssrc: A_VIDEO, rtx_ssrc: A_RTX,
                   streams: [{ type: 'video', rid: '100', ssrc: A_VIDEO, rtx_ssrc: A_RTX, active: true, quality: 100 },
                     ...A_LAYERS.map((ssrc, i) => ({ type: 'video', rid: String(50 - 10 * i), ssrc, active: true }))] });
    d.vc.send(12, { audio_ssrc: d.ssrc, video_ssrc: D_VIDEO, rtx_ssrc: 0, streams: [] });
    const op12 = await b.g.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc });
    checks.ok(op12.d.video_ssrc === A_VIDEO, `B is told A's video SSRC ${op12.d.video_ssrc}`);
    const before = await adminState(srv.adminUrl, token);

    const sent = [];
    for (let i = 0; i < N; i++) {
      const payload = Buffer.from(`vp8-frame-${i}-${'x'.repeat(i)}`);
      const h = new RtpHeader({ payloadType: aPt, sequenceNumber: 1000 + i, timestamp: i * 3000, ssrc: A_VIDEO,
                                marker: i % 4 === 3 });
      await a.dtls.sendRtp(payload, h);
      sent.push(payload);
      if (i < 5) await a.dtls.sendRtp(Buffer.from('stray'), new RtpHeader({ payloadType: aPt, sequenceNumber: i,
        timestamp: 0, ssrc: STRAY }));
      await sleep(5);
    }
    const bVideo = () => b.rtp.filter((p) => p.header.ssrc === A_VIDEO);
    await waitFor(() => bVideo().length >= N && fromA.length >= N, 5000);
    const got = bVideo();
    checks.ok(got.length === N && got.every((p, i) => p.header.payloadType === B_VP8_PT && p.payload.equals(sent[i]) &&
      p.header.sequenceNumber === 1000 + i && p.header.marker === (i % 4 === 3)),
    `B got ${got.length}/${N} of A's VP8 byte for byte with its own PT ${B_VP8_PT} (first PT ` +
      `${got[0] && got[0].header.payloadType}), seq and marker kept`);
    checks.ok(fromA.filter((p) => p.ssrc === A_VIDEO).length === N && fromA.every((p) => p.pt === CORE_VP8_PT),
      `the Discord UDP member got ${fromA.length} of A's video with Discord's VP8 PT ${CORE_VP8_PT}`);
    checks.ok(!c.rtp.some((p) => p.header.ssrc === A_VIDEO), `C (no VP8) got none of A's video (got ${c.rtp.length} RTP)`);
    checks.ok(![b, c].some((m) => m.rtp.some((p) => p.header.ssrc === STRAY)) && !fromA.some((p) => p.ssrc === STRAY),
      'nobody got the video under the SSRC A never announced');
    /* D's video (Discord's VP8 PT 103, under its announced SSRC) reaches
     * B with B's PT, and not C. */
    const dSent = [];
    for (let i = 0; i < 10; i++) {
      const payload = Buffer.from(`udp-vp8-${i}`);
      d.ctr = (d.ctr + 1) >>> 0;
      d.sendRaw(d.seal(rtpHeader({ pt: CORE_VP8_PT, seq: 500 + i, ts: i * 3000, ssrc: D_VIDEO }), payload, d.ctr));
      dSent.push(payload);
      await sleep(5);
    }
    /* A's other streams: B's transport then carries more SSRCs (A's four,
     * D's, our RTCP one) than a single-stream budget would allow. */
    for (const [i, ssrc] of A_LAYERS.entries()) {
      await a.dtls.sendRtp(Buffer.from(`layer-${i}`), new RtpHeader({ payloadType: aPt, sequenceNumber: 7,
        timestamp: 0, ssrc }));
    }
    const bFromD = () => b.rtp.filter((p) => p.header.ssrc === D_VIDEO);
    await waitFor(() => bFromD().length >= dSent.length, 3000);
    checks.ok(bFromD().length === dSent.length &&
      bFromD().every((p, i) => p.header.payloadType === B_VP8_PT && p.payload.equals(dSent[i])),
    `B got ${bFromD().length}/${dSent.length} of the Discord UDP member's VP8 (PT 103) with its PT ${B_VP8_PT}`);
    checks.ok(!c.rtp.some((p) => p.header.ssrc === D_VIDEO), 'C (no VP8) got none of it');
    await waitFor(() => A_LAYERS.every((ssrc) => b.rtp.some((p) => p.header.ssrc === ssrc)), 2000);
    checks.ok(A_LAYERS.every((ssrc) => b.rtp.some((p) => p.header.ssrc === ssrc)),
      `B got A's other streams too (${A_LAYERS.filter((x) => b.rtp.some((p) => p.header.ssrc === x)).length}` +
      `/${A_LAYERS.length}): its transport carries every source's SSRC`);
    const mid = await adminState(srv.adminUrl, token);
    checks.ok(videoOf(mid).received - videoOf(before).received >= N + 5 &&
      videoOf(mid).foreign_ssrc - videoOf(before).foreign_ssrc === 5,
    `server: video ${JSON.stringify(videoOf(before))} -> ${JSON.stringify(videoOf(mid))}`);
    checks.ok(mid.media.seal_filtered > before.media.seal_filtered,
      `C's copies are filtered: seal_filtered ${before.media.seal_filtered} -> ${mid.media.seal_filtered}`);

    /* Key frames: a burst from B about A's video, and one about D's audio.
     * Past the rate limit's window of the server's own asks (members' first
     * packets), so B's first request is passed. */
    await sleep(600);
    const plisBefore = a.rtcp.filter((p) => p.type === 206 && p.feedback && p.feedback.mediaSsrc === A_VIDEO).length;
    for (let i = 0; i < PLI_BURST; i++) await b.dtls.sendRtcp([pli(1, A_VIDEO)]);
    await b.dtls.sendRtcp([fir(1, A_VIDEO)]);
    await b.dtls.sendRtcp([pli(1, d.ssrc)]);
    await b.dtls.sendRtcp([pli(1, D_VIDEO)]);
    const plisAtA = () => a.rtcp.filter((p) => p.type === 206 && p.feedback && p.feedback.mediaSsrc === A_VIDEO);
    await waitFor(() => plisAtA().length > plisBefore, 3000);
    let after = null;
    const m0 = videoOf(mid);
    /* Besides B's requests, a member's first authentic packet makes the
     * server ask A itself (for each of its video SSRCs): at least B's. */
    const asked = () => after.pli_sent + after.pli_limited - m0.pli_sent - m0.pli_limited;
    await waitFor(async () => {
      after = videoOf(await adminState(srv.adminUrl, token));
      return asked() >= PLI_BURST + 1 && after.pli_unknown_ssrc > m0.pli_unknown_ssrc &&
        after.pli_not_passed > m0.pli_not_passed;
    }, 3000);
    const burst = plisAtA().length - plisBefore;
    checks.ok(burst >= 1 && burst < PLI_BURST + 1,
      `A got ${burst} PLI(s) about its video from the server for B's ${PLI_BURST + 1} requests`);
    checks.ok(after.pli_sent > m0.pli_sent && after.pli_limited - m0.pli_limited >= PLI_BURST - 1 &&
      asked() >= PLI_BURST + 1,
    `server: pli_sent ${m0.pli_sent} -> ${after.pli_sent}, pli_limited ${m0.pli_limited} -> ${after.pli_limited} ` +
      `(B asked ${PLI_BURST + 1} times)`);
    checks.ok(after.pli_unknown_ssrc - videoOf(mid).pli_unknown_ssrc === 1,
      `a PLI naming the Discord UDP member's audio SSRC is unknown: ${after.pli_unknown_ssrc}`);
    checks.ok(after.pli_not_passed - videoOf(mid).pli_not_passed === 1,
      `a PLI naming the Discord UDP member's video SSRC is counted as not passed: ${after.pli_not_passed}`);
  } finally {
    for (const m of members) {
      if (m.g) { m.g.stopHeartbeat(); m.g.kill(); }
      if (m.web) await m.web.close().catch(() => {});
      if (m.close) await m.close().catch(() => {});
    }
    await room.close();
  }
}

run('webrtc_video_werift', 60000, body, { checks: () => checks, servers: () => servers });
