'use strict';
/*
 * WebRTC and Discord UDP in one room, fast: a Discord web client emulated
 * on werift 0.24.4 (real ICE, DTLS 1.2, SRTP; lib/discord_webrtc.js) and a
 * Discord UDP client (lib/media_client.js: AES-256-GCM rtpsize, our own
 * byte-level client, so payload types are visible) join the same channel.
 *
 * The web client goes Hello -> Identify -> Ready -> op 1 protocol webrtc
 * (the trimmed fragment, codecs with Opus PT 111) -> op 4 (the eight-line
 * partial answer) -> synthesizes its full answer with the UDP member's
 * SSRC from op 5 -> ICE + DTLS -> op 5 with its own SSRC. Then each side
 * sends N distinct payloads; checked:
 *   - the werift peer reaches connectionState "connected";
 *   - >= 95 % of the UDP member's payloads arrive byte-identical at the
 *     web client, with PT 111 (its Opus PT) and the SSRC the gateway
 *     announced for the UDP member;
 *   - >= 95 % of the web client's payloads arrive byte-identical at the
 *     UDP member, with PT 120 and the web member's Ready SSRC (the SSRC
 *     every other member is told in op 5), not the browser's own SSRC;
 *   - browser to browser: a second web client whose Opus PT is 109 (as
 *     Firefox numbers it) gets >= 95 % of the first one's payloads
 *     byte-identical with PT 109 and the first one's Ready SSRC; the
 *     first one keys SRTP_AEAD_AES_128_GCM (werift's first choice), the
 *     second offers SRTP_AES128_CM_SHA1_80 alone, so both profiles run
 *     against werift's own SRTP;
 *   - the admin state's media.webrtc counters show the checks answered
 *     and both DTLS sessions keyed.
 * Env: SC_BUILD_DIR. Exit 0 = pass.
 */
const path = require('node:path');
const { RtpHeader, RtpPacket } = require('werift');

const SRTP_CM_SHA1_80 = 1; // DTLS-SRTP profile ids (RFC 5764, RFC 7714)
const SRTP_AEAD_GCM = 7;

const { adminState } = require('./lib/admin_client');
const { Checks, run, sleep } = require('./lib/checks');
const { DiscordWebClient } = require('./lib/discord_webrtc');
const { webGateway } = require('./lib/gw_client');
const { snowflake } = require('./lib/ids');
const { LvspClient } = require('./lib/lvsp_client');
const { MediaClient } = require('./lib/media_client');
const { startServer } = require('./lib/server');

const N = 100;
const MIN_RATIO = 0.95;
const WEB_OPUS_PT = 111;
const WEB2_OPUS_PT = 109;

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const checks = new Checks('webrtc_werift');
const servers = [];

async function waitFor(pred, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

function connected(pc, ms) {
  return waitFor(() => pc.connectionState === 'connected', ms);
}

/* A web client with Opus PT pt that hears `remotes`: op 1, op 4, answer,
 * connected. Returns { g, web, ready, rx }. */
async function joinWeb(srv, ca, info, pt, remotes, srtpProfiles) {
  const { g, ready } = await webGateway(srv, ca, info);
  const web = new DiscordWebClient({ video: false, opusPt: pt, srtpProfiles });
  const rx = [];
  web.pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => rx.push(rtp)));
  g.send(1, await web.selectProtocol());
  const op4 = await g.take(4);
  await web.applyAnswer(op4.d.sdp, remotes);
  await connected(web.pc, 10000);
  return { g, web, ready, rx };
}

async function body() {
  const srv = await startServer({ buildDir });
  servers.push(srv);
  const ca = require('node:fs').readFileSync(srv.certPath);
  const lvsp = await LvspClient.connect(srv.lvspUrl, { secret: srv.secret, ca });
  const guild_id = snowflake();
  const channel_id = snowflake();
  const vs = async () => ({ ...await lvsp.requestVoiceState({ user_id: snowflake(), channel_id, guild_id }), guild_id });
  const udpInfo = await vs();
  const webInfo = await vs();
  const web2Info = await vs();
  let second = null;

  const udp = await MediaClient.join(udpInfo, { ca });
  const fromWeb = [];
  udp.on('audio', (a) => fromWeb.push(a));

  const { g, ready } = await webGateway(srv, ca, webInfo);
  const web = new DiscordWebClient({ video: false });
  const fromUdp = [];
  web.pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => fromUdp.push(rtp));
  });
  try {
    const d = await web.selectProtocol();
    g.send(1, d);
    const op4 = await g.take(4);
    checks.ok(typeof op4.d.sdp === 'string' && op4.d.audio_codec === 'opus' &&
      /^[0-9a-f]{32}$/.test(op4.d.media_session_id) && op4.d.dave_protocol_version === 0 &&
      !('secret_key' in op4.d), `op 4 has the webrtc shape: ${JSON.stringify(Object.keys(op4.d))}`);
    checks.ok(op4.d.sdp.split('\n').filter(Boolean).length === 8 &&
      op4.d.sdp.startsWith(`m=audio ${ready.port} ICE/SDP\n`), 'op 4 sdp: eight lines, m= on the Ready port');
    const op5 = await g.take(5, { pred: (f) => f.d && f.d.user_id === udpInfo.user_id });
    checks.ok(op5.d.ssrc === udp.ssrc, `op 5 announces the UDP member's SSRC ${op5.d.ssrc}`);
    await web.applyAnswer(op4.d.sdp, [{ user_id: udpInfo.user_id, ssrc: op5.d.ssrc, kind: 'audio' }]);
    checks.ok(await connected(web.pc, 10000), `werift connectionState ${web.pc.connectionState}`);
    const webSsrc = web.audio.sender.ssrc;
    g.send(5, { speaking: 1, delay: 5, ssrc: webSsrc });
    second = await joinWeb(srv, ca, web2Info, WEB2_OPUS_PT,
      [{ user_id: webInfo.user_id, ssrc: ready.ssrc, kind: 'audio' }], [SRTP_CM_SHA1_80]);
    checks.ok(second.web.pc.connectionState === 'connected', `second web client (Opus PT ${WEB2_OPUS_PT}) connected`);
    checks.ok(web.srtpProfile() === SRTP_AEAD_GCM && second.web.srtpProfile() === SRTP_CM_SHA1_80,
      `SRTP profiles: first ${web.srtpProfile()} (GCM, 7), second ${second.web.srtpProfile()} (CM, 1)`);
    await sleep(200);

    const sentUdp = [];
    const sentWeb = [];
    for (let i = 0; i < N; i++) {
      const a = Buffer.from(`udp-${i}-${'x'.repeat(i % 40)}`);
      const b = Buffer.from(`web-${i}-${'y'.repeat(i % 40)}`);
      sentUdp.push(a.toString('latin1'));
      sentWeb.push(b.toString('latin1'));
      udp.sendOpus(a);
      const h = new RtpHeader({ payloadType: WEB_OPUS_PT, sequenceNumber: (1000 + i) & 0xffff, timestamp: i * 960, marker: i === 0 });
      await web.audio.sender.sendRtp(new RtpPacket(h, b));
      await sleep(10);
    }
    await waitFor(() => fromUdp.length >= N && fromWeb.length >= N && second.rx.length >= N, 3000);

    const atWeb = fromUdp.filter((r) => sentUdp.includes(r.payload.toString('latin1')));
    checks.ok(atWeb.length >= N * MIN_RATIO, `web client got ${atWeb.length}/${N} UDP payloads byte-identical`);
    checks.ok(atWeb.length > 0 && atWeb.every((r) => r.header.payloadType === WEB_OPUS_PT),
      `... all with PT ${WEB_OPUS_PT} (${[...new Set(fromUdp.map((r) => r.header.payloadType))]})`);
    checks.ok(atWeb.length > 0 && atWeb.every((r) => r.header.ssrc === udp.ssrc),
      `... all with the UDP member's announced SSRC ${udp.ssrc}`);

    const atUdp = fromWeb.filter((a) => sentWeb.includes(a.payload.toString('latin1')));
    checks.ok(atUdp.length >= N * MIN_RATIO, `UDP member got ${atUdp.length}/${N} web payloads byte-identical`);
    checks.ok(atUdp.length > 0 && atUdp.every((a) => a.pt === 120),
      `... all with PT 120 (${[...new Set(fromWeb.map((a) => a.pt))]})`);
    checks.ok(atUdp.length > 0 && atUdp.every((a) => a.ssrc === ready.ssrc),
      `... all with the web member's Ready SSRC ${ready.ssrc} (browser's own: ${webSsrc})`);
    const at2 = second.rx.filter((r) => sentWeb.includes(r.payload.toString('latin1')));
    checks.ok(at2.length >= N * MIN_RATIO, `second web client got ${at2.length}/${N} of the first one's payloads`);
    checks.ok(at2.length > 0 && at2.every((r) => r.header.payloadType === WEB2_OPUS_PT && r.header.ssrc === ready.ssrc),
      `... all with its PT ${WEB2_OPUS_PT} and the first one's Ready SSRC ${ready.ssrc}`);
    const w = (await adminState(srv.adminUrl, srv.adminToken())).media.webrtc;
    checks.ok(w.dtls_connected === 2 && w.stun_answered > 0 && w.nominations >= 2 && w.dtls_failed === 0,
      `admin state media.webrtc counts the session: ${JSON.stringify(w)}`);
  } finally {
    if (second) {
      second.g.stopHeartbeat();
      await second.web.close().catch(() => {});
      second.g.kill();
    }
    g.stopHeartbeat();
    await web.close().catch(() => {});
    g.kill();
    await udp.close().catch(() => {});
    await lvsp.close().catch(() => {});
  }
}

run('webrtc_werift', 60000, body, { checks: () => checks, servers: () => servers });
