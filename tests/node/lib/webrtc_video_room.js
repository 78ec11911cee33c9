'use strict';
/*
 * The gateway half of the browser video tests (webrtc_video_chromium,
 * webrtc_h264_chromium): pages of lib/webrtc_page.html that join a room
 * in Discord's webrtc mode as Discord's web client does.
 *
 *   const g = await openGateway(srv, ca, info);    // Identify (video) .. first op 12
 *   const c = await connectPage(checks, page, g, { video: true, camera: true,
 *                                                  videoCodecs: ['H264', 'VP8'] },
 *                               { expectCodec: 'H264', remotesFor });
 *   await c.stats();                               // the page's clientStats
 *   const m = await webrtcMetrics(srv);            // litecord_voice_webrtc_* without the prefix
 *   g.stopHeartbeat(); g.kill();
 *
 * The same member on werift (lib/discord_webrtc.js) instead of a page,
 * keeping every RTP and RTCP packet it receives (after SRTP):
 *   const w = await joinWerift(srv, ca, info, { video: true, videoCodecs: ['H264', 'VP8'],
 *                                               editD: (d) => d });  // op 1's d, edited
 *   // w: { g, web, dtls, op4, rtp, rtcp }
 *   await w.dtls.sendRtcp([pliPacket(1, mediaSsrc)]);  // a PLI (RFC 4585 6.3.1)
 *
 * connectPage sends op 1 from the page's offer, checks op 4's video_codec,
 * applies the answer the page synthesizes (with remotesFor()'s streams,
 * under op 4's codec) and waits for "connected".
 */
const { adminGet } = require('./admin_client');
const { waitFor } = require('./checks');
const { GwClient } = require('./gw_client');

const PREFIX = 'litecord_voice_webrtc_';

function pliPacket(senderSsrc, mediaSsrc) {
  const path = require('node:path');
  const { RtcpPayloadSpecificFeedback } = require('werift');
  const psfb = path.join(path.dirname(require.resolve('werift')), '..', '..', 'rtp', 'src', 'rtcp', 'psfb');
  const { PictureLossIndication } = require(path.join(psfb, 'pictureLossIndication'));
  return new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc, mediaSsrc }) });
}

async function webrtcMetrics(srv) {
  const r = await adminGet(srv.adminUrl, '/metrics', srv.adminToken());
  const out = {};
  for (const line of r.text.split('\n')) {
    const m = line.match(/^(litecord_voice_webrtc_\S+) (\S+)$/);
    if (m) out[m[1].slice(PREFIX.length)] = Number(m[2]);
  }
  return out;
}

/* Identify (video, as Discord's web client), Ready, op 16, the first
 * all-zero op 12. */
async function openGateway(srv, ca, info) {
  const g = await GwClient.open(srv.endpoint, { ca, version: 8 });
  const hello = await g.take(8);
  const hb = setInterval(() => g.send(3, { t: Date.now(), seq_ack: -1 }),
    Math.floor(hello.d.heartbeat_interval * 0.8));
  hb.unref();
  g.stopHeartbeat = () => clearInterval(hb);
  g.send(0, { server_id: info.guild_id, user_id: info.user_id, session_id: info.session_id,
              token: info.token, video: true, streams: [{ type: 'video', rid: '100', quality: 100 }] });
  await g.take(2);
  g.send(16, {});
  g.send(12, { audio_ssrc: 0, video_ssrc: 0, rtx_ssrc: 0, streams: [] });
  return g;
}

/* A page's client: op 1 from its offer, op 4, the answer with remotes. */
async function connectPage(checks, page, g, opts, { expectCodec = 'VP8', remotesFor } = {}) {
  const { id, d } = await page.evaluate((o) => startClient(o), opts);
  g.send(1, d);
  const op4 = await g.take(4);
  checks.ok(op4.d.video_codec === expectCodec,
    `op 4's video_codec ${op4.d.video_codec}, the call's (expected ${expectCodec}; codecs ${JSON.stringify(d.codecs)})`);
  const remotes = remotesFor ? await remotesFor() : [];
  const applied = await page.evaluate((i, sdp, r, vc) => applyAnswer(i, sdp, r, { videoCodec: vc }), id, op4.d.sdp,
    remotes, op4.d.video_codec);
  checks.ok(applied.ok, `answer accepted ${applied.error || ''} (remotes ${JSON.stringify(remotes)})`);
  const stats = () => page.evaluate((i) => clientStats(i), id);
  checks.ok(await waitFor(async () => (await stats()).connectionState === 'connected', 15000, 100),
    `connectionState ${(await stats()).connectionState}`);
  return { id, d, op4: op4.d, answer: applied.sdp, stats };
}

async function joinWerift(srv, ca, info, { video, videoCodecs, editD = (d) => d, remotes = [] }) {
  const { DiscordWebClient } = require('./discord_webrtc');
  const g = await openGateway(srv, ca, info);
  const web = new DiscordWebClient({ video, videoCodecs });
  g.send(1, editD(await web.selectProtocol()));
  const op4 = await g.take(4);
  await web.applyAnswer(op4.d.sdp, remotes, undefined, op4.d.video_codec);
  await waitFor(() => web.pc.connectionState === 'connected', 10000, 20);
  const dtls = web.audio.sender.dtlsTransport;
  const rtp = [];
  const rtcp = [];
  dtls.onRtp.subscribe((p) => rtp.push(p));
  dtls.onRtcp.subscribe((p) => rtcp.push(p));
  return { g, web, dtls, op4: op4.d, rtp, rtcp };
}

module.exports = { openGateway, connectPage, joinWerift, pliPacket, webrtcMetrics };
