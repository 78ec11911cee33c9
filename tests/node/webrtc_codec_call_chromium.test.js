'use strict';
/*
 * The call-wide video codec (docs/GATEWAY.md "Video codec of a call")
 * with real Chromium on both ends: two pages of the "Discord web client"
 * (lib/webrtc_page.html) in one room:
 *   A  sender, fake camera, offering H264 then VP8 (Discord's Chrome
 *      client): op 4 H264, it encodes H264;
 *   C  receiver offering VP8 alone, joining later: op 4 VP8, and A gets
 *      op 14 VP8, which the page applies as Discord's web client does
 *      (applySessionUpdate: it answers its own new offer under VP8).
 * Checked: A's encoder switches to VP8 under its own VP8 PT; C decodes
 * A's video (framesDecoded, keyFramesDecoded > 0) as video/VP8 under C's
 * own VP8 PT. Before the call-wide codec A kept sending H264, which C's
 * transport never carried: C decoded nothing.
 * Env: SC_BUILD_DIR, CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
 */
const path = require('node:path');

const { Checks, run, sleep, waitFor } = require('./lib/checks');
const { openRoom } = require('./lib/tone_room');
const { connectPage, openGateway } = require('./lib/webrtc_video_room');

const buildDir = process.env.SC_BUILD_DIR || path.join(__dirname, '..', '..', 'build');
const DISCORD_CODECS = ['H264', 'VP8'];

const checks = new Checks('webrtc_codec_call_chromium');
const servers = [];

const ptOf = (d, name) => (d.codecs.find((c) => c.name === name) || {}).payload_type;

async function body() {
  const { launchChromium } = require('./lib/chromium');
  const room = await openRoom({ buildDir, servers, toneHz: null });
  const { srv, ca } = room;
  const aInfo = await room.member();
  const cInfo = await room.member();
  const extraArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
  const chA = await launchChromium({ extraArgs });
  const chC = await launchChromium({ extraArgs });
  const gws = [];
  try {
    const gA = await openGateway(srv, ca, aInfo);
    gws.push(gA);
    const a = await connectPage(checks, chA.page, gA, { video: true, camera: true, videoCodecs: DISCORD_CODECS },
      { expectCodec: 'H264' });
    const own = await chA.page.evaluate((i) => localSsrcs(i), a.id);
    gA.send(5, { speaking: 1, delay: 5, ssrc: own.audio });
    gA.send(12, { audio_ssrc: own.audio, video_ssrc: own.video, rtx_ssrc: own.rtx,
                  streams: [{ type: 'video', rid: '100', ssrc: own.video, rtx_ssrc: own.rtx, active: true,
                              quality: 100, max_resolution: { type: 'fixed', width: 320, height: 240 } }] });
    const outCodec = async () => ((await a.stats()).outboundVideo[0] || {}).codec || {};
    await waitFor(async () => (await outCodec()).mimeType === 'video/H264', 10000, 100);
    checks.ok((await outCodec()).mimeType === 'video/H264', `A encodes H264 first: ${JSON.stringify(await outCodec())}`);

    /* C (VP8 alone) joins: op 4 VP8, op 14 VP8 to A. */
    const gC = await openGateway(srv, ca, cInfo);
    gws.push(gC);
    let op12 = null;
    const c = await connectPage(checks, chC.page, gC, { video: true, videoCodecs: ['VP8'] }, { expectCodec: 'VP8',
      remotesFor: async () => {
        op12 = (await gC.take(12, { pred: (f) => f.d && f.d.user_id === aInfo.user_id && f.d.video_ssrc })).d;
        return [{ user_id: aInfo.user_id, ssrc: op12.audio_ssrc, kind: 'audio' },
          { user_id: aInfo.user_id, ssrc: op12.video_ssrc, rtx_ssrc: op12.rtx_ssrc, kind: 'video' }];
      } });
    const up = await gA.take(14, { timeoutMs: 5000 }).catch(() => null);
    checks.ok(up && up.d.video_codec === 'VP8' && up.d.media_session_id === a.op4.media_session_id,
      `A gets op 14 VP8: ${JSON.stringify(up && up.d)}`);
    const applied = up ? await chA.page.evaluate((i, d) => applySessionUpdate(i, d, []), a.id, up.d) : {};
    checks.ok(applied.ok && applied.changed, `A re-answers under VP8: ${applied.error || applied.signalingState}`);
    const aVp8 = ptOf(a.d, 'VP8');
    await waitFor(async () => (await outCodec()).mimeType === 'video/VP8', 10000, 100);
    const out = await outCodec();
    checks.ok(out.mimeType === 'video/VP8' && out.payloadType === aVp8, `A now encodes VP8 under its PT ${aVp8}: ${JSON.stringify(out)}`);

    const cVp8 = ptOf(c.d, 'VP8');
    const inbound = async () => (await c.stats()).inboundVideo.find((s) => s.ssrc === own.video) || {};
    await waitFor(async () => (await inbound()).framesDecoded > 0, 20000, 100);
    await sleep(1000);
    const inb = await inbound();
    checks.ok(inb.framesDecoded > 0 && inb.keyFramesDecoded > 0, `C decodes A's video: ${JSON.stringify(inb)}`);
    checks.ok(inb.codec && inb.codec.mimeType === 'video/VP8' && inb.codec.payloadType === cVp8,
      `C's codec is video/VP8 under its own PT ${cVp8}: ${JSON.stringify(inb.codec)}`);
  } finally {
    for (const g of gws) {
      g.stopHeartbeat();
      g.kill();
    }
    await chA.close();
    await chC.close();
    await room.close();
  }
}

run('webrtc_codec_call_chromium', 150000, body, { checks: () => checks, servers: () => servers });
