'use strict';
/*
 * The WebRTC transport on /metrics (docs/ADMIN.md "Metrics"), moved by a
 * real WebRTC stack: a werift web client (lib/discord_webrtc.js: ICE,
 * DTLS 1.2, SRTP/SRTCP) and a Discord UDP member (lib/media_client.js)
 * in one room, plus a stray STUN request with a ufrag nobody has.
 *
 * Checked, between a scrape before the call and one during it:
 *   - every litecord_voice_webrtc_* family is there from the start, the
 *     *_total ones typed counter, webrtc_members a gauge at 0;
 *   - stun_answered, tuples_added, nominations, dtls_datagrams and
 *     dtls_connected grew, dtls_failed did not; stun_refused grew by the
 *     stray request; not_opus by the werift packets of a payload type it
 *     did not negotiate; webrtc_members is 1;
 *   - RTCP terminated per leg: reports were sent to the werift member
 *     (rtcp_sent, rtcp_sent_bytes: at least an SR or RR and SDES each),
 *     werift's own RTCP received, one authentic but malformed compound
 *     counted in rtcp_malformed, the PLI werift sent (through its own
 *     SRTCP: its receiver sends PLI for video only) counted in
 *     webrtc_rtcp_feedback_total{type="pli"}; its receiver reports on
 *     our SRs measure round trips (webrtc_rtt_seconds, a histogram:
 *     count >= 1, a mean under 5 s);
 * and after the web member's voice state ends, webrtc_members is 0 and no
 * counter went down. Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { Message, classes, methods, RtcpPayloadSpecificFeedback, RtpHeader, RtpPacket } = require('werift');

const { adminMetrics } = require('./lib/admin_client');
const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { DiscordWebClient } = require('./lib/discord_webrtc');
const { webGateway } = require('./lib/gw_client');
const { snowflake } = require('./lib/ids');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { startServer } = require('./lib/server');

const N = 150; /* 3 s of packets each way: a report interval or two */
const P = 'litecord_voice_webrtc_';
const COUNTERS = ['stun_answered', 'stun_refused', 'tuples_added', 'nominations', 'dtls_datagrams',
  'dtls_connected', 'dtls_failed', 'dtls_refused', 'dtls_deferred', 'dtls_dropped', 'foreign_ssrc',
  'not_opus', 'no_consent', 'no_keys', 'unknown_tuple', 'wrong_direction', 'rtcp_sent', 'rtcp_sent_bytes',
  'rtcp_send_failed', 'rtcp_received', 'rtcp_malformed', 'rtcp_bye'];

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_metrics');
const servers = [];

const scrape = adminMetrics; /* { types, values } */
const v = (s, name) => s.values[`${P}${name}`];

/* A STUN binding request naming a ufrag the server never gave out. */
function strayStun() {
  const m = new Message(methods.BINDING, classes.REQUEST, Buffer.alloc(12, 7));
  m.setAttribute('USERNAME', 'nobodyxx:peer');
  m.setAttribute('PRIORITY', 0x6e7f1eff);
  m.setAttribute('ICE-CONTROLLING', 1n);
  m.addMessageIntegrity(Buffer.from('not-the-password-at-all'));
  m.addFingerprint();
  return m.bytes;
}

function pli(senderSsrc, mediaSsrc) {
  const { PictureLossIndication } = require(path.join(path.dirname(require.resolve('werift')), '..', '..', 'rtp',
    'src', 'rtcp', 'psfb', 'pictureLossIndication'));
  return new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc, mediaSsrc }) });
}

/* Authentic (werift's SRTCP) but malformed: an RR, then one whose length
 * claims 32 bytes where 8 are. */
function malformed(ssrc) {
  const b = Buffer.from('80c90001000000008' + '1c90007' + '00000000', 'hex');
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(ssrc, 12);
  return b;
}

async function body() {
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const ca = fs.readFileSync(srv.certPath);
  const before = await scrape(srv);
  checks.ok(COUNTERS.every((n) => before.types[`${P}${n}_total`] === 'counter' && v(before, `${n}_total`) === 0),
    `every webrtc counter family is there at 0 before the call (${COUNTERS.length} families)`);
  checks.ok(before.types[`${P}rtcp_feedback_total`] === 'counter' && before.types[`${P}members`] === 'gauge' &&
    v(before, 'members') === 0, 'webrtc_rtcp_feedback_total is a counter, webrtc_members a gauge at 0');

  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const channel_id = snowflake();
  const vs = async () => ({ ...await lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id }), guild_id });
  const udpInfo = await vs();
  const webInfo = await vs();
  const udp = await MediaClient.join(udpInfo, { ca });
  const { g, ready } = await webGateway(srv, ca, webInfo);
  const web = new DiscordWebClient({ video: false });
  const stray = dgram.createSocket('udp4');
  try {
    g.send(1, await web.selectProtocol());
    const op4 = await g.take(4);
    const op5 = await g.take(5, { pred: (f) => f.d && f.d.user_id === udpInfo.user_id });
    await web.applyAnswer(op4.d.sdp, [{ user_id: udpInfo.user_id, ssrc: op5.d.ssrc, kind: 'audio' }]);
    checks.ok(await waitFor(() => web.pc.connectionState === 'connected', 10000),
      `werift connectionState ${web.pc.connectionState}`);
    g.send(5, { speaking: 1, delay: 5, ssrc: web.audio.sender.ssrc });
    await new Promise((r) => stray.send(strayStun(), ready.port, '127.0.0.1', r));

    const dtls = web.audio.sender.dtlsTransport;
    for (let i = 0; i < N; i++) {
      udp.sendOpus(Buffer.from(`udp-${i}`));
      const h = new RtpHeader({ payloadType: 111, sequenceNumber: (100 + i) & 0xffff, timestamp: i * 960,
                                ssrc: web.audio.sender.ssrc });
      if (i < 5) { /* a PT it never negotiated (neither Opus nor its VP8): straight to
                      * werift's SRTP (its sender would set PT 111) */
        h.payloadType = 35;
        await dtls.sendRtp(Buffer.from(`video-${i}`), h);
      } else {
        await web.audio.sender.sendRtp(new RtpPacket(h, Buffer.from(`web-${i}`)));
      }
      /* werift's receiver sends PLI for video only: the packet, through its SRTCP. */
      if (i === N / 2) await dtls.sendRtcp([pli(web.audio.receiver.rtcpSsrc, op5.d.ssrc)]);
      if (i === N / 3) await dtls.sendRtcp([{ serialize: () => malformed(web.audio.sender.ssrc) }]);
      await sleep(20);
    }
    let during = null;
    await waitFor(async () => {
      during = await scrape(srv);
      return v(during, 'rtcp_sent_total') >= 2 && v(during, 'rtcp_feedback_total{type="pli"}') >= 1 &&
        v(during, 'rtt_seconds_count') >= 1;
    }, 8000);
    const grew = ['stun_answered', 'tuples_added', 'nominations', 'dtls_datagrams', 'dtls_connected', 'stun_refused',
      'not_opus', 'rtcp_sent', 'rtcp_received'].map((n) => `${n} ${v(before, `${n}_total`)} -> ${v(during, `${n}_total`)}`);
    checks.ok(['stun_answered', 'tuples_added', 'nominations', 'dtls_datagrams', 'dtls_connected', 'stun_refused',
      'not_opus'].every((n) => v(during, `${n}_total`) > v(before, `${n}_total`)) &&
      v(during, 'dtls_connected_total') === 1 && v(during, 'dtls_failed_total') === 0,
    `ICE, DTLS and media counters moved: ${grew.slice(0, 7).join(', ')}`);
    checks.ok(v(during, 'members') === 1, `webrtc_members ${v(during, 'members')} during the call`);
    const sent = v(during, 'rtcp_sent_total');
    const bytes = v(during, 'rtcp_sent_bytes_total');
    checks.ok(sent >= 2 && bytes >= sent * (28 + 4 + 12) && v(during, 'rtcp_send_failed_total') === 0,
      `RTCP reports sent to the web member: ${sent}, ${bytes} bytes (${(bytes / sent).toFixed(0)} per report)`);
    checks.ok(v(during, 'rtcp_received_total') > 1 && v(during, 'rtcp_malformed_total') === 1,
      `werift's RTCP received: ${v(during, 'rtcp_received_total')}, malformed ${v(during, 'rtcp_malformed_total')} ` +
      '(the one made so)');
    const rtt = v(during, 'rtt_seconds_sum') / v(during, 'rtt_seconds_count');
    checks.ok(v(during, 'rtt_seconds_count') >= 1 && rtt >= 0 && rtt < 5 && before.types[`${P}rtt_seconds`] === 'histogram',
      `werift's receiver reports on our SRs give round trips: webrtc_rtt_seconds_count ` +
      `${v(during, 'rtt_seconds_count')}, mean ${(rtt * 1000).toFixed(2)} ms`);
    checks.ok(v(during, 'rtcp_feedback_total{type="pli"}') === 1,
      `werift's PLI counted: webrtc_rtcp_feedback_total{type="pli"} ${v(during, 'rtcp_feedback_total{type="pli"}')}`);

    g.stopHeartbeat();
    await web.close().catch(() => {});
    g.kill();
    lvsp.endVoiceState({ user_id: webInfo.user_id, session_id: webInfo.session_id }); /* it leaves */
    let after = null;
    await waitFor(async () => {
      after = await scrape(srv);
      return v(after, 'members') === 0;
    }, 10000);
    checks.ok(v(after, 'members') === 0, `webrtc_members ${v(after, 'members')} after the web client left`);
    const down = Object.keys(during.values)
      .filter((k) => k.startsWith(P) && k.endsWith('_total') && after.values[k] < during.values[k]);
    checks.ok(down.length === 0, `no webrtc counter went down (${down.join(', ') || 'none'})`);
  } finally {
    g.stopHeartbeat();
    await web.close().catch(() => {});
    g.kill();
    stray.close();
    await udp.close().catch(() => {});
    await lvsp.close().catch(() => {});
  }
}

run('webrtc_metrics', 60000, body, { checks: () => checks, servers: () => servers });
