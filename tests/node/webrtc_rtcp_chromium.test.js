'use strict';
/*
 * RTCP terminated per leg, seen by a real browser: headless Chromium
 * (lib/chromium.js, the "Discord web client" page) and a werift web
 * client (lib/discord_webrtc.js) in one room. The werift member sends a
 * libopus 660 Hz tone; the browser sends its 440 Hz oscillator. The server
 * sends each WebRTC member SRTCP compound reports (sc_rtcp): an SR per
 * source it forwards to it, an RR about the member's own stream, SDES
 * CNAME.
 *
 * Checked, in the browser's getStats:
 *   - remote-inbound-rtp for its own audio SSRC (built from our RR):
 *     packetsLost, fractionLost and jitter present, and a round-trip time
 *     measured (our LSR/DLSR echo its SR);
 *   - remote-outbound-rtp for the werift member's SSRC (op 5), built from
 *     our SR: packetsSent > 0 and at most what werift sent, a
 *     remoteTimestamp;
 * and on the server: the admin state's media.webrtc.rtcp counts reports
 * sent and RTCP received from the peers, and round trips measured from
 * their receiver reports on our SRs (LSR/DLSR), and /metrics has
 * litecord_voice_webrtc_rtcp_sent_total > 0 and webrtc_members 2.
 * Env: SC_BUILD_DIR, CHROMIUM. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader, RtpPacket } = require('werift');

const { adminState, adminMetrics } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor: pollUntil } = require('./lib/checks');
const { DiscordWebClient } = require('./lib/discord_webrtc');
const { webGateway } = require('./lib/gw_client');
const { openRoom } = require('./lib/tone_room');

const FRAMES = 400; /* 8 s of 20 ms frames: several report intervals */
const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_rtcp_chromium');
const servers = [];

const waitFor = (pred, ms, step = 100) => pollUntil(pred, ms, step);

async function body() {
  const { launchChromium } = require('./lib/chromium');
  const room = await openRoom({ buildDir, servers, frames: FRAMES });
  const { srv, ca, tone } = room;
  const webInfo = await room.member();
  const wInfo = await room.member();

  const ch = await launchChromium();
  const gws = [];
  const werift = new DiscordWebClient({ video: false });
  try {
    /* The browser: in the room first, so it hears the werift member's op 5. */
    const b = await webGateway(srv, ca, webInfo);
    gws.push(b.g);
    b.g.send(12, { audio_ssrc: 0, video_ssrc: 0, rtx_ssrc: 0, streams: [] });
    const { id, d } = await ch.page.evaluate(() => startClient({ video: false }));
    b.g.send(1, d);
    const op4b = await b.g.take(4);

    /* The werift member: connected, speaking. */
    const w = await webGateway(srv, ca, wInfo);
    gws.push(w.g);
    w.g.send(1, await werift.selectProtocol());
    const op4w = await w.g.take(4);
    await werift.applyAnswer(op4w.d.sdp, [{ user_id: webInfo.user_id, ssrc: b.ready.ssrc, kind: 'audio' }]);
    checks.ok(await waitFor(() => werift.pc.connectionState === 'connected', 10000),
      `werift connectionState ${werift.pc.connectionState}`);
    w.g.send(5, { speaking: 1, delay: 5, ssrc: werift.audio.sender.ssrc });

    const op5 = await b.g.take(5, { pred: (f) => f.d && f.d.user_id === wInfo.user_id });
    const source = op5.d.ssrc;
    checks.ok(source === w.ready.ssrc, `op 5 announces the werift member's SSRC ${source}`);
    const applied = await ch.page.evaluate((i, sdp, remotes) => applyAnswer(i, sdp, remotes), id, op4b.d.sdp,
      [{ user_id: wInfo.user_id, ssrc: source, kind: 'audio' }]);
    checks.ok(applied.ok, `the browser accepts the synthesized answer ${applied.error || ''}`);
    const stats = () => ch.page.evaluate((i) => clientStats(i), id);
    checks.ok(await waitFor(async () => (await stats()).connectionState === 'connected', 15000),
      `browser connectionState ${(await stats()).connectionState}`);
    const own = (await stats()).outbound[0];
    b.g.send(5, { speaking: 1, delay: 5, ssrc: own ? own.ssrc : 0 });

    let sent = 0;
    const t0 = Date.now();
    for (let i = 0; i < FRAMES; i++) {
      const wait = t0 + i * 20 - Date.now();
      if (wait > 0) await sleep(wait);
      const h = new RtpHeader({ payloadType: 111, sequenceNumber: (500 + i) & 0xffff, timestamp: i * 960,
                                marker: i === 0 });
      await werift.audio.sender.sendRtp(new RtpPacket(h, tone[i]));
      sent++;
    }
    let st = await stats();
    const ready = async () => {
      st = await stats();
      const ri = st.remoteInbound.find((s) => own && s.ssrc === own.ssrc);
      const ro = st.remoteOutbound.find((s) => s.ssrc === source);
      return ri && ro && ri.roundTripTimeMeasurements > 0;
    };
    await waitFor(ready, 6000);
    const ri = st.remoteInbound.find((s) => own && s.ssrc === own.ssrc);
    checks.ok(ri && typeof ri.packetsLost === 'number' && typeof ri.fractionLost === 'number' &&
      typeof ri.jitter === 'number',
    `remote-inbound-rtp for the browser's SSRC ${own && own.ssrc} (our RR): ${JSON.stringify(ri)}`);
    checks.ok(ri && ri.roundTripTimeMeasurements > 0 && ri.roundTripTime >= 0 && ri.roundTripTime < 5,
      `... with a round-trip time from our LSR/DLSR: ${ri && ri.roundTripTime} s`);
    const ro = st.remoteOutbound.find((s) => s.ssrc === source);
    checks.ok(ro && ro.packetsSent > 0 && ro.packetsSent <= sent && ro.remoteTimestamp > 0,
      `remote-outbound-rtp for the werift member's SSRC ${source} (our SR), ${sent} sent: ${JSON.stringify(ro)}`);

    const rtc = (await adminState(srv.adminUrl, srv.adminToken())).media.webrtc;
    checks.ok(rtc.rtcp.sent > 0 && rtc.rtcp.send_failed === 0 && rtc.rtcp.received > 0 && rtc.members === 2,
      `admin state media.webrtc: ${JSON.stringify({ members: rtc.members, rtcp: rtc.rtcp })}`);
    checks.ok(rtc.rtcp.rtt_samples > 0 && rtc.rtcp.rtt_mean_ms >= 0 && rtc.rtcp.rtt_mean_ms < 5000,
      `the peers' receiver reports on our SRs give round trips: ${rtc.rtcp.rtt_samples} samples, ` +
      `mean ${rtc.rtcp.rtt_mean_ms} ms`);
    const scraped = (await adminMetrics(srv)).values;
    const metric = (name) => scraped[`litecord_voice_${name}`] ?? NaN;
    checks.ok(metric('webrtc_rtcp_sent_total') > 0 && metric('webrtc_members') === 2,
      `/metrics: webrtc_rtcp_sent_total ${metric('webrtc_rtcp_sent_total')}, ` +
      `webrtc_rtcp_sent_bytes_total ${metric('webrtc_rtcp_sent_bytes_total')}, webrtc_members ${metric('webrtc_members')}`);
  } finally {
    for (const g of gws) {
      g.stopHeartbeat();
      g.kill();
    }
    await werift.close().catch(() => {});
    await ch.close();
    await room.close();
  }
}

run('webrtc_rtcp_chromium', 90000, body, { checks: () => checks, servers: () => servers });
