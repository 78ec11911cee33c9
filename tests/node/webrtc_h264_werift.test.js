'use strict';
/*
 * H264 (and its RTX) across the WebRTC transport at the byte level, with
 * werift as Discord's web client (lib/discord_webrtc.js, `codecs` as
 * Discord's Chrome client: H264 then VP8) and a Discord UDP member
 * (lib/media_client.js) in one room:
 *   A  werift, H264 on werift's PT, RTX on 99 (its op 1 codecs); sends a
 *      key frame (STAP-A with SPS and PPS, then FU-A fragments of an IDR
 *      slice) and single-NAL frames under the video SSRC it announced in
 *      op 12, then RTX copies (original seq first) under its RTX SSRC;
 *   B  werift whose codecs put H264 on 125 and its RTX on 126;
 *   C  werift without video (an audio-only member: a VP8-only one would
 *      take the call to VP8, webrtc_codec_call_werift);
 *   D  Discord UDP (H264 101, RTX 102 inside the media plane).
 * Checked:
 *   - op 4 says H264 (the call's codec) to A, B and C;
 *   - B gets every one of A's H264 packets byte for byte, seq, timestamp
 *     and marker kept, under PT 125; A's RTX under 126 with the original
 *     seq inside intact; D gets them under 101 and 102; C none (filtered);
 *   - D's H264 (101) and RTX (102) reach B under 125 and 126, not C;
 *   - a PLI from B about A's video reaches A from the server.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader } = require('werift');

const { adminState } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { MediaClient, rtpHeader } = require('./lib/media_client');
const { joinWerift, pliPacket } = require('./lib/webrtc_video_room');

const A_VIDEO = 0x264A0001;
const A_RTX = 0x264A0002;
const D_VIDEO = 0x264D0001;
const D_RTX = 0x264D0002;
const A_RTX_PT = 99;
const B_PT = 125;
const B_RTX_PT = 126;
const CORE_PT = 101;
const CORE_RTX_PT = 102;
const DISCORD_CODECS = ['H264', 'VP8'];

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_h264_werift');
const servers = [];

/* H264 RTP payloads (RFC 6184) of one key frame and a few P frames:
 * [{ payload, marker }] in order, one timestamp per frame (frame index). */
function h264Frames() {
  const sps = Buffer.from('6742e01fda0140169b', 'hex');
  const pps = Buffer.from('68ce3c80', 'hex');
  const len = (b) => Buffer.from([b.length >> 8, b.length & 0xff]);
  const out = [{ frame: 0, marker: false, payload: Buffer.concat([Buffer.from([0x78]), len(sps), sps, len(pps), pps]) }];
  const idr = Buffer.alloc(3000, 0).map((_, i) => (i * 7 + 3) & 0xff); /* an IDR slice body over one MTU */
  const parts = [idr.subarray(0, 1100), idr.subarray(1100, 2200), idr.subarray(2200)];
  parts.forEach((body, i) => {
    const fuHeader = (i === 0 ? 0x80 : 0) | (i === parts.length - 1 ? 0x40 : 0) | 5; /* S, E, type 5 */
    out.push({ frame: 0, marker: i === parts.length - 1, payload: Buffer.concat([Buffer.from([0x7c, fuHeader]), body]) });
  });
  for (let f = 1; f <= 12; f++) out.push({ frame: f, marker: true, payload: Buffer.from(`\x41\x9a${'p'.repeat(40 + f)}`, 'latin1') });
  return out;
}

/* The RTX payload of an original packet (RFC 4588 4): its seq, then its payload. */
const rtxPayload = (seq, payload) => Buffer.concat([Buffer.from([seq >> 8, seq & 0xff]), payload]);

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
    const atD = [];
    d.on('audio', (p) => atD.push(p));
    let aPt = 0;
    const a = await joinWerift(srv, ca, aInfo, { video: true, videoCodecs: DISCORD_CODECS, editD: (o) => {
      const h = o.codecs.find((x) => x.name === 'H264');
      aPt = h.payload_type;
      h.rtx_payload_type = A_RTX_PT;
      return o;
    } });
    const b = await joinWerift(srv, ca, bInfo, { video: true, videoCodecs: DISCORD_CODECS, editD: (o) => {
      o.codecs = o.codecs.map((c) => (c.name === 'H264' ? { ...c, payload_type: B_PT, rtx_payload_type: B_RTX_PT } : c));
      return o;
    } });
    const c = await joinWerift(srv, ca, cInfo, { video: false });
    members.push(a, b, c);
    checks.ok([a, b, c].every((m) => m.web.pc.connectionState === 'connected'), 'the three werift clients are connected');
    checks.ok([a, b, c].every((m) => m.op4.video_codec === 'H264'),
      `op 4 video_codec (the call's): A ${a.op4.video_codec}, B ${b.op4.video_codec}, C (audio only) ${c.op4.video_codec}`);
    a.g.send(12, { audio_ssrc: 0, video_ssrc: A_VIDEO, rtx_ssrc: A_RTX,
                   streams: [{ type: 'video', rid: '100', ssrc: A_VIDEO, rtx_ssrc: A_RTX, active: true, quality: 100 }] });
    d.vc.send(12, { audio_ssrc: d.ssrc, video_ssrc: D_VIDEO, rtx_ssrc: D_RTX, streams: [] });
    await b.g.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc === A_VIDEO });
    await b.g.take(12, { pred: (f) => f.d && f.d.user_id === dInfo.user_id && f.d.video_ssrc === D_VIDEO });
    const before = await adminState(srv.adminUrl, token);

    /* A: the frames, then RTX copies of the key frame's packets. */
    const frames = h264Frames();
    const sent = frames.map((f, i) => ({ ...f, seq: 4000 + i, ts: 90000 + f.frame * 6000 }));
    for (const p of sent) {
      await a.dtls.sendRtp(p.payload, new RtpHeader({ payloadType: aPt, sequenceNumber: p.seq, timestamp: p.ts,
        ssrc: A_VIDEO, marker: p.marker }));
      await sleep(3);
    }
    const resent = sent.slice(0, 4).map((p, i) => ({ ...p, seq: 200 + i, payload: rtxPayload(p.seq, p.payload) }));
    for (const p of resent) {
      await a.dtls.sendRtp(p.payload, new RtpHeader({ payloadType: A_RTX_PT, sequenceNumber: p.seq, timestamp: p.ts,
        ssrc: A_RTX, marker: p.marker }));
    }
    const bGot = (ssrc) => b.rtp.filter((p) => p.header.ssrc === ssrc);
    const dGot = (ssrc) => atD.filter((p) => p.ssrc === ssrc);
    await waitFor(() => bGot(A_VIDEO).length >= sent.length && bGot(A_RTX).length >= resent.length &&
      dGot(A_VIDEO).length >= sent.length && dGot(A_RTX).length >= resent.length, 5000);
    const same = (got, want, pt) => got.length === want.length && got.every((p, i) => p.header.payloadType === pt &&
      p.payload.equals(want[i].payload) && p.header.sequenceNumber === want[i].seq &&
      p.header.timestamp === want[i].ts && p.header.marker === want[i].marker);
    checks.ok(same(bGot(A_VIDEO), sent, B_PT), `B got ${bGot(A_VIDEO).length}/${sent.length} of A's H264 (STAP-A, ` +
      `FU-A, single NALs) byte for byte under its PT ${B_PT} (first PT ${(bGot(A_VIDEO)[0] || { header: {} }).header.payloadType})`);
    checks.ok(same(bGot(A_RTX), resent, B_RTX_PT), `B got ${bGot(A_RTX).length}/${resent.length} of A's RTX ` +
      `(original seq inside) byte for byte under its RTX PT ${B_RTX_PT}`);
    const dSame = (got, want, pt) => got.length === want.length &&
      got.every((p, i) => p.pt === pt && p.seq === want[i].seq && Buffer.from(p.payload).equals(want[i].payload));
    checks.ok(dSame(dGot(A_VIDEO), sent, CORE_PT) && dSame(dGot(A_RTX), resent, CORE_RTX_PT),
      `the Discord UDP member got A's H264 (${dGot(A_VIDEO).length}) and RTX (${dGot(A_RTX).length}) byte for byte ` +
      `under Discord's PTs ${CORE_PT}/${CORE_RTX_PT}`);
    checks.ok(!c.rtp.some((p) => p.header.ssrc === A_VIDEO || p.header.ssrc === A_RTX),
      `C (audio only) got none of A's H264 (got ${c.rtp.length} RTP)`);

    /* D's H264 and RTX under Discord's PTs reach B under its own. */
    const dSent = [];
    for (let i = 0; i < 8; i++) {
      const rtx = i >= 6;
      const p = { ssrc: rtx ? D_RTX : D_VIDEO, pt: rtx ? CORE_RTX_PT : CORE_PT, seq: 700 + i,
                  payload: rtx ? rtxPayload(700 + i - 6, Buffer.from(`\x65udp-idr-${i - 6}`, 'latin1'))
                    : Buffer.from(`\x65udp-idr-${i}`, 'latin1') };
      d.ctr = (d.ctr + 1) >>> 0;
      d.sendRaw(d.seal(rtpHeader({ pt: p.pt, seq: p.seq, ts: 3000 * i, ssrc: p.ssrc }), p.payload, d.ctr));
      dSent.push(p);
      await sleep(3);
    }
    const fromD = () => b.rtp.filter((p) => p.header.ssrc === D_VIDEO || p.header.ssrc === D_RTX);
    await waitFor(() => fromD().length >= dSent.length, 3000);
    checks.ok(fromD().length === dSent.length && fromD().every((p, i) => p.payload.equals(dSent[i].payload) &&
      p.header.payloadType === (dSent[i].pt === CORE_PT ? B_PT : B_RTX_PT)),
    `B got ${fromD().length}/${dSent.length} of the Discord UDP member's H264/RTX under ${B_PT}/${B_RTX_PT}`);
    checks.ok(!c.rtp.some((p) => p.header.ssrc === D_VIDEO || p.header.ssrc === D_RTX), 'C got none of it');
    const mid = await adminState(srv.adminUrl, token);
    checks.ok(mid.media.seal_filtered > before.media.seal_filtered,
      `C's copies are filtered: seal_filtered ${before.media.seal_filtered} -> ${mid.media.seal_filtered}`);

    /* A key-frame request from B about A's H264 (past the rate limit's
     * window of the server's own asks at members' first packets). */
    await sleep(600);
    const plisAtA = () => a.rtcp.filter((p) => p.type === 206 && p.feedback && p.feedback.mediaSsrc === A_VIDEO).length;
    const plisBefore = plisAtA();
    await b.dtls.sendRtcp([pliPacket(1, A_VIDEO)]);
    checks.ok(await waitFor(() => plisAtA() > plisBefore, 3000), `A got a PLI about its H264 from B: ${plisBefore} -> ${plisAtA()}`);
    /* The server asks key frames only of SSRCs that carried codec packets:
     * never of A's RTX or audio aliases. */
    const pliSsrcs = [...new Set(a.rtcp.filter((p) => p.type === 206 && p.feedback).map((p) => p.feedback.mediaSsrc))];
    checks.ok(pliSsrcs.length === 1 && pliSsrcs[0] === A_VIDEO,
      `every PLI A got names its H264 SSRC ${A_VIDEO}: ${JSON.stringify(pliSsrcs)}`);
  } finally {
    for (const m of members) {
      if (m.g) { m.g.stopHeartbeat(); m.g.kill(); }
      if (m.web) await m.web.close().catch(() => {});
      if (m.close) await m.close().catch(() => {});
    }
    await room.close();
  }
}

run('webrtc_h264_werift', 60000, body, { checks: () => checks, servers: () => servers });
