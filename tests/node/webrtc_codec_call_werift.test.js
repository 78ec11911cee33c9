'use strict';
/*
 * The call-wide video codec (docs/GATEWAY.md "Video codec of a call"),
 * with werift as Discord's web client (lib/discord_webrtc.js):
 *   A, B  werift offering H264 then VP8 (Discord's Chrome client); B's
 *         codecs put VP8 on 125 (RTX 126) and H264 on 123, so every
 *         receiver's PT is visibly its own;
 *   C     werift offering VP8 alone, joining after them.
 * Checked:
 *   - op 4 says H264 to A and B; C's op 4 says VP8, and A and B get op 14
 *     {audio_codec opus, video_codec VP8, media_session_id of their op 4};
 *     C gets no op 14;
 *   - after A and B re-answer (applySessionUpdate), VP8 flows between all
 *     three: each receiver gets the other two's VP8 byte for byte under
 *     its own VP8 PT; A's H264 no longer reaches B (B's transport takes
 *     only the call's codec);
 *   - C leaves (Litecord ends its voice state): A and B get op 14 H264
 *     (the call goes back to the codec all can do that Discord prefers),
 *     re-answer, and A's H264 reaches B under B's H264 PT;
 *   - the gateway's status counts the two switches.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader } = require('werift');

const { adminState } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { joinWerift } = require('./lib/webrtc_video_room');

const DISCORD_CODECS = ['H264', 'VP8'];
const B_VP8 = 125;
const B_VP8_RTX = 126;
const B_H264 = 123;
const SSRC = { A: 0xC0DE0A01, B: 0xC0DE0B01, C: 0xC0DE0C01 };

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_codec_call_werift');
const servers = [];

const ptOf = (d, name) => (d.codecs.find((c) => c.name === name) || {}).payload_type;

async function join(srv, ca, info, videoCodecs, editD = (d) => d) {
  let d1 = null;
  const m = await joinWerift(srv, ca, info, { video: true, videoCodecs, editD: (d) => { d1 = editD(d); return d1; } });
  m.d1 = d1;
  m.info = info;
  return m;
}

/* Op 12 with the member's video SSRC, seen by every other member. */
async function announce(m, others) {
  const ssrc = SSRC[m.name];
  m.g.send(12, { audio_ssrc: 0, video_ssrc: ssrc, rtx_ssrc: 0,
                 streams: [{ type: 'video', rid: '100', ssrc, active: true, quality: 100 }] });
  for (const o of others) await o.g.take(12, { pred: (f) => f.d && f.d.user_id === m.info.user_id && f.d.video_ssrc === ssrc });
}

/* A few frames of the member's codec under its own PT; returns them. */
async function sendVideo(m, codec, seq0) {
  const pt = ptOf(m.d1, codec);
  const out = [];
  for (let i = 0; i < 6; i++) {
    const p = { seq: seq0 + i, ts: 9000 * (i + 1), payload: Buffer.from(`${m.name}-${codec}-${i}-${'x'.repeat(30 + i)}`) };
    await m.dtls.sendRtp(p.payload, new RtpHeader({ payloadType: pt, sequenceNumber: p.seq, timestamp: p.ts,
      ssrc: SSRC[m.name], marker: true }));
    out.push(p);
    await sleep(3);
  }
  return out;
}

const got = (rx, from, seq0) => rx.rtp.filter((p) => p.header.ssrc === SSRC[from.name] && p.header.sequenceNumber >= seq0 &&
  p.header.sequenceNumber < seq0 + 6);
const same = (pkts, want, pt) => pkts.length === want.length && pkts.every((p, i) => p.header.payloadType === pt &&
  p.payload.equals(want[i].payload) && p.header.sequenceNumber === want[i].seq);

async function body() {
  const room = await openRoom({ buildDir, servers, toneHz: null });
  const { srv, ca } = room;
  const token = srv.adminToken();
  const [aInfo, bInfo, cInfo] = [await room.member(), await room.member(), await room.member()];
  const members = [];
  try {
    const a = await join(srv, ca, aInfo, DISCORD_CODECS);
    const b = await join(srv, ca, bInfo, DISCORD_CODECS, (d) => {
      d.codecs = d.codecs.map((c) => (c.name === 'VP8' ? { ...c, payload_type: B_VP8, rtx_payload_type: B_VP8_RTX }
        : c.name === 'H264' ? { ...c, payload_type: B_H264, rtx_payload_type: null } : c));
      return d;
    });
    a.name = 'A';
    b.name = 'B';
    members.push(a, b);
    checks.ok(a.op4.video_codec === 'H264' && b.op4.video_codec === 'H264',
      `A and B (H264+VP8) get op 4 H264: ${a.op4.video_codec}, ${b.op4.video_codec}`);
    const st0 = await adminState(srv.adminUrl, token);
    const gwStatus = (st) => Object.values(st.frontends || {}).find((f) => f && f.video_codec) || {};
    const switches0 = (gwStatus(st0).video_codec || {}).switches || 0;

    /* C (VP8 alone) joins: the call goes to VP8. */
    const c = await join(srv, ca, cInfo, ['VP8']);
    c.name = 'C';
    members.push(c);
    checks.ok(c.op4.video_codec === 'VP8', `C (VP8 alone) gets op 4 VP8: ${c.op4.video_codec}`);
    const up = await Promise.all([a, b].map((m) => m.g.take(14, { timeoutMs: 5000 }).catch(() => null)));
    checks.ok(up.every((f, i) => f && f.d.video_codec === 'VP8' && f.d.audio_codec === 'opus' &&
      f.d.media_session_id === [a, b][i].op4.media_session_id),
    `A and B get op 14 VP8 with their media_session_id: ${JSON.stringify(up.map((f) => f && f.d))}`);
    for (const [i, m] of [a, b].entries()) if (up[i]) await m.web.applySessionUpdate(up[i].d, []);
    const answered = (m) => (/^m=video .*\r\n(?:[^m].*\r\n)*?a=rtpmap:\d+ (\w+)\/90000/m.exec(m.web.pc.remoteDescription.sdp) || [])[1];
    checks.ok(answered(a) === 'VP8' && answered(b) === 'VP8', `A and B re-answered VP8: ${answered(a)}, ${answered(b)}`);
    checks.ok([a, b, c].every((m) => m.web.pc.connectionState === 'connected'),
      `all connected after the re-answer: ${[a, b, c].map((m) => m.web.pc.connectionState)}`);
    await announce(a, [b, c]);
    await announce(b, [a, c]);
    await announce(c, [a, b]);

    /* VP8 between all three, each under the receiver's own VP8 PT. */
    const sent = {};
    for (const m of [a, b, c]) sent[m.name] = await sendVideo(m, 'VP8', 1000);
    const pairs = [];
    for (const rx of [a, b, c]) for (const tx of [a, b, c]) if (rx !== tx) pairs.push([rx, tx]);
    await waitFor(() => pairs.every(([rx, tx]) => got(rx, tx, 1000).length >= 6), 5000);
    for (const [rx, tx] of pairs) {
      const pt = ptOf(rx.d1, 'VP8');
      checks.ok(same(got(rx, tx, 1000), sent[tx.name], pt),
        `${rx.name} got ${got(rx, tx, 1000).length}/6 of ${tx.name}'s VP8 byte for byte under its VP8 PT ${pt}`);
    }
    /* A's H264 is not for B while the call is at VP8. */
    await sendVideo(a, 'H264', 2000);
    await sleep(300);
    checks.ok(got(b, a, 2000).length === 0 && got(c, a, 2000).length === 0,
      `A's H264 reaches neither B nor C during VP8: ${got(b, a, 2000).length}, ${got(c, a, 2000).length}`);

    /* C leaves: back to H264. */
    room.lvsp.endVoiceState({ user_id: cInfo.user_id, session_id: cInfo.session_id });
    const back = await Promise.all([a, b].map((m) => m.g.take(14, { timeoutMs: 5000 }).catch(() => null)));
    checks.ok(back.every((f) => f && f.d.video_codec === 'H264'),
      `after C left, A and B get op 14 H264: ${JSON.stringify(back.map((f) => f && f.d.video_codec))}`);
    for (const [i, m] of [a, b].entries()) if (back[i]) await m.web.applySessionUpdate(back[i].d, []);
    const h264 = await sendVideo(a, 'H264', 3000);
    await waitFor(() => got(b, a, 3000).length >= 6, 5000);
    checks.ok(same(got(b, a, 3000), h264, B_H264),
      `B got ${got(b, a, 3000).length}/6 of A's H264 byte for byte under its H264 PT ${B_H264}`);
    const st1 = await adminState(srv.adminUrl, token);
    const switches1 = (gwStatus(st1).video_codec || {}).switches;
    checks.ok(switches1 === switches0 + 2, `the gateway counts two codec switches: ${switches0} -> ${switches1}`);
  } finally {
    for (const m of members) {
      m.g.stopHeartbeat();
      m.g.kill();
      await m.web.close().catch(() => {});
    }
    await room.close();
  }
}

run('webrtc_codec_call_werift', 60000, body, { checks: () => checks, servers: () => servers });
