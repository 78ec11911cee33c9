'use strict';
/*
 * Our RTCP sender reports run on each source's own RTP clock: a werift
 * web client (lib/discord_webrtc.js) A sends Opus (48 kHz) and VP8
 * (90 kHz) through the server to another, B, which keeps every RTP and
 * RTCP packet it receives in arrival order.
 *
 * A sends in bursts (PAUSE_MS of silence after each BURST_MS of 20 ms
 * frames, shorter than the server's 4 s sender timeout, so both sources
 * stay reported). Two consecutive SRs about one SSRC with none of its RTP
 * arriving between them both map the same last packet: Δrtp / Δntp is
 * then the clock the server advances that source's RTP time on. Checked,
 * for a pair at least MIN_SPAN_S apart: about 90000 for A's video SSRC
 * (an SR on Opus's clock gives 48000; none at all fails too) and about
 * 48000 for A's audio SSRC. A correctness check with a wide band, not a
 * timing assertion.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader, RtpPacket } = require('werift');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { DiscordWebClient, OPUS_PT } = require('./lib/discord_webrtc');
const { webGateway } = require('./lib/gw_client');
const { openRoom } = require('./lib/tone_room');

const A_VIDEO = 0x5EED0101;
const A_RTX = 0x5EED0102;
const FRAME_MS = 20;
const BURST_MS = 300;
const PAUSE_MS = 3600; /* under the server's sender timeout (2 x 2 s) */
const CYCLES = 5;      /* at most; each pause has two reports in it most of the time */
const MIN_SPAN_S = 0.9;
const BANDS = { video: [80000, 100000], audio: [42000, 54000] };
const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_sr_clock_werift');
const servers = [];

/* A werift web client in the room, connected; B-side capture of every
 * RTP and RTCP packet (after SRTP) in arrival order. */
async function join(srv, ca, info, gws) {
  const w = await webGateway(srv, ca, info);
  gws.push(w.g);
  const web = new DiscordWebClient({ video: true });
  const op1 = await web.selectProtocol();
  const vp8Pt = op1.codecs.find((c) => c.name === 'VP8').payload_type;
  w.g.send(1, op1);
  const op4 = await w.g.take(4);
  await web.applyAnswer(op4.d.sdp, []);
  await waitFor(() => web.pc.connectionState === 'connected', 10000);
  const dtls = web.audio.sender.dtlsTransport;
  const events = [];
  dtls.onRtp.subscribe((p) => events.push({ rtp: p.header.ssrc }));
  dtls.onRtcp.subscribe((p) => {
    if (p.type !== 200) return;
    const ntp = BigInt(p.senderInfo.ntpTimestamp);
    events.push({ sr: p.ssrc, ntp: Number(ntp >> 32n) + Number(ntp & 0xffffffffn) / 2 ** 32,
                  rtp: p.senderInfo.rtpTimestamp });
  });
  return { g: w.g, ready: w.ready, web, dtls, vp8Pt, events };
}

/* The first two consecutive SRs about ssrc, MIN_SPAN_S apart or more,
 * with none of its RTP between them: {ratio, span}, or null. */
function samePacketPair(events, ssrc) {
  let prev = null;
  for (const e of events) {
    if (e.rtp === ssrc) prev = null;
    if (e.sr !== ssrc) continue;
    if (prev && e.ntp - prev.ntp >= MIN_SPAN_S) {
      const span = e.ntp - prev.ntp;
      return { ratio: ((e.rtp - prev.rtp) >>> 0) / span, span };
    }
    prev = e;
  }
  return null;
}

async function body() {
  const room = await openRoom({ buildDir, servers, frames: BURST_MS / FRAME_MS });
  const { srv, ca, tone } = room;
  const aInfo = await room.member();
  const bInfo = await room.member();
  const gws = [];
  const clients = [];
  try {
    const a = await join(srv, ca, aInfo, gws);
    clients.push(a);
    const b = await join(srv, ca, bInfo, gws);
    clients.push(b);
    checks.ok([a, b].every((m) => m.web.pc.connectionState === 'connected'), 'A and B are connected');
    a.g.send(5, { speaking: 1, delay: 5, ssrc: a.web.audio.sender.ssrc });
    a.g.send(12, { audio_ssrc: 0, video_ssrc: A_VIDEO, rtx_ssrc: A_RTX,
                   streams: [{ type: 'video', rid: '100', ssrc: A_VIDEO, rtx_ssrc: A_RTX, active: true, quality: 100 }] });
    await b.g.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc });
    const audio = a.ready.ssrc; /* forwarded under the member's SSRC */

    /* Frame i is due at t0 + 20 i with RTP times 960 i and 1800 i; the
     * frames of a pause are never sent. */
    const perCycle = (BURST_MS + PAUSE_MS) / FRAME_MS;
    const t0 = Date.now();
    let found = {};
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (let k = 0; k < BURST_MS / FRAME_MS; k++) {
        const i = cycle * perCycle + k;
        const wait = t0 + i * FRAME_MS - Date.now();
        if (wait > 0) await sleep(wait);
        await a.web.audio.sender.sendRtp(new RtpPacket(new RtpHeader({
          payloadType: OPUS_PT, sequenceNumber: (100 + i) & 0xffff, timestamp: (i * 960) >>> 0 }), tone[k]));
        await a.dtls.sendRtp(Buffer.from(`vp8-${i}`), new RtpHeader({ payloadType: a.vp8Pt,
          sequenceNumber: (200 + i) & 0xffff, timestamp: (i * 1800) >>> 0, ssrc: A_VIDEO, marker: true }));
      }
      await sleep(t0 + (cycle + 1) * perCycle * FRAME_MS - Date.now());
      found = { video: samePacketPair(b.events, A_VIDEO), audio: samePacketPair(b.events, audio) };
      if (found.video && found.audio) break;
    }
    const srs = (ssrc) => b.events.filter((e) => e.sr === ssrc).length;
    checks.ok(b.events.some((e) => e.rtp === A_VIDEO) && b.events.some((e) => e.rtp === audio),
      `B got A's audio (SSRC ${audio}) and video (SSRC ${A_VIDEO}) RTP`);
    for (const kind of ['video', 'audio']) {
      const f = found[kind];
      const [lo, hi] = BANDS[kind];
      checks.ok(f && f.ratio >= lo && f.ratio <= hi,
        `${kind}: two SRs ${f ? f.span.toFixed(3) : '-'} s apart on one packet advance ` +
        `${f ? Math.round(f.ratio) : '-'} RTP units a second (want ${lo}..${hi}; ` +
        `${srs(kind === 'video' ? A_VIDEO : audio)} SRs about it)`);
    }
  } finally {
    for (const g of gws) {
      g.stopHeartbeat();
      g.kill();
    }
    for (const c of clients) await c.web.close().catch(() => {});
    await room.close();
  }
}

run('webrtc_sr_clock_werift', 60000, body, { checks: () => checks, servers: () => servers });
