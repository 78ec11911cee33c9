'use strict';
/*
 * A "Discord web client" in Node on werift 0.24.4 (pure TypeScript ICE,
 * DTLS, SRTP): the WebRTC half of Discord's browser client as reference
 * webrtc.md §1 describes it. It offers one sendrecv audio section (Opus
 * with PT 111, as Chrome numbers it, audio-level and transport-cc
 * extensions) and, unless video is false, one sendrecv video section
 * (VP8, or the codecs of videoCodecs: ['H264', 'VP8'] as Discord's Chrome
 * client, answered with op 4's video_codec); it
 * sends op 1 with the trimmed fragment and `codecs`, and from op 4's
 * eight-line `sdp` plus the SSRCs the gateway announced it synthesizes
 * the full answer itself (lib/discord_sdp.js) and sets it.
 *
 *   const c = new DiscordWebClient();
 *   const d = await c.selectProtocol();      // op 1 d
 *   await c.applyAnswer(op4.d.sdp, [{ user_id, ssrc, kind: 'audio' }]);
 *   c.pc.signalingState === 'stable'
 *   await c.renegotiate([...remotes, { user_id: 'B', ssrc: S2, kind: 'audio' }]);
 *   await c.applySessionUpdate(op14.d, remotes); // the call's new video_codec: re-answered
 *   c.audio.sender.sendRtp(...), c.audio.receiver.track.onReceiveRtp
 *   c.srtpProfile()                          // the negotiated profile id
 *   await c.close();
 */
const {
  RTCPeerConnection, RTCRtpCodecParameters, useVP8, useH264, useAudioLevelIndication, useSdesMid, useTransportWideCC,
  useAbsSendTime,
} = require('werift');
const DiscordSdp = require('./discord_sdp');

const OPUS_PT = 111;
const GATHER_TIMEOUT_MS = 5000;

class DiscordWebClient {
  /* srtpProfiles: DTLS-SRTP profile ids to offer instead of werift's
   * (GCM, then CM), e.g. [1] for SRTP_AES128_CM_HMAC_SHA1_80 alone. */
  constructor({ video = true, opusPt = OPUS_PT, hosts, srtpProfiles, videoCodecs = ['VP8'] } = {}) {
    this.srtpProfiles = srtpProfiles;
    this.videoCodecs = videoCodecs;
    this.videoCodec = 'VP8';
    const make = { VP8: useVP8, H264: useH264 };
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: opusPt,
                                            rtcpFeedback: [{ type: 'transport-cc' }] })],
        video: videoCodecs.map((name) => make[name]()),
      },
      headerExtensions: {
        audio: [useAudioLevelIndication(), useSdesMid(), useTransportWideCC()],
        video: [useSdesMid(), useAbsSendTime(), useTransportWideCC()],
      },
      iceUseIpv6: false,
      iceAdditionalHostAddresses: hosts || ['127.0.0.1'],
    });
    this.audio = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.video = video ? this.pc.addTransceiver('video', { direction: 'sendrecv' }) : null;
    this.offer = null;
  }

  srtpProfile() {
    const t = this.pc.getTransceivers().find((x) => x.dtlsTransport);
    return t && t.dtlsTransport.dtls && t.dtlsTransport.dtls.srtp ? t.dtlsTransport.dtls.srtp.srtpProfile : undefined;
  }

  async gathered() {
    const pc = this.pc;
    if (pc.iceGatheringState === 'complete') return;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ICE gathering did not complete')), GATHER_TIMEOUT_MS);
      const sub = pc.iceGatheringStateChange.subscribe((s) => {
        if (s !== 'complete') return;
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      });
    });
  }

  /* The local offer after gathering (the fragment is made from it). */
  async makeOffer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    this.offer = this.pc.localDescription.sdp;
    /* werift narrows a transceiver's codecs to those an answer took;
     * Chrome keeps offering all of them: kept to restore on op 14. */
    if (!this.offeredCodecs) this.offeredCodecs = new Map(this.pc.getTransceivers().map((t) => [t, t.codecs]));
    return this.offer;
  }

  /* Op 1's d: protocol webrtc, sdp and data (the fragment), codecs. */
  async selectProtocol() {
    return DiscordSdp.selectProtocol(await this.makeOffer(), { video: this.videoCodecs });
  }

  /* Builds the full answer from op 4's sdp and the remote streams, and
   * sets it. `edit(sdp)` may change the text first (tests); videoCodec:
   * op 4's video_codec. Returns { sdp, assigned }. */
  async applyAnswer(op4Sdp, remotes = [], edit = (s) => s, videoCodec = 'VP8') {
    this.videoCodec = videoCodec;
    const partial = DiscordSdp.parsePartialAnswer(op4Sdp);
    this.partial = partial;
    this.answerVersion = 2;
    this.sessionId = Date.now();
    return this.setAnswer(remotes, edit);
  }

  async setAnswer(remotes, edit = (s) => s) {
    const answer = DiscordSdp.synthesizeAnswer(this.offer, this.partial, remotes,
      { sessionId: this.sessionId, version: this.answerVersion++, videoCodec: this.videoCodec });
    answer.sdp = edit(answer.sdp);
    if (this.srtpProfiles) { // read when the DTLS handshake starts, on the remote answer
      for (const t of this.pc.getTransceivers()) if (t.dtlsTransport) t.dtlsTransport.srtpProfiles = this.srtpProfiles;
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    return answer;
  }

  /* New remote streams (op 5 / op 12) without SDP on the gateway: as
   * Discord's client does, add recvonly sections for the remotes no
   * section carries yet, make a new local offer and answer it from the
   * same op 4. remotes: every remote stream (the previous ones too). */
  async renegotiate(remotes) {
    const sending = (kind) => DiscordSdp.sections(this.offer)
      .filter((s) => s.kind === kind && (s.direction === 'sendrecv' || s.direction === 'recvonly')).length;
    for (const kind of ['audio', 'video']) {
      const missing = remotes.filter((r) => r.kind === kind).length - sending(kind);
      for (let i = 0; i < missing; i++) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.offer = this.pc.localDescription.sdp;
    return this.setAnswer(remotes);
  }

  /* Server op 14 (Session Update) as Discord's web client takes it: a
   * new video_codec makes it answer a new local offer under that codec
   * (its video sections then send and take only it). Returns true if the
   * codec changed. */
  async applySessionUpdate(d, remotes = []) {
    if (!d || !d.video_codec || d.video_codec === this.videoCodec) return false;
    this.videoCodec = d.video_codec;
    for (const [t, codecs] of this.offeredCodecs || []) t.codecs = codecs;
    await this.renegotiate(remotes);
    return true;
  }

  async close() {
    await this.pc.close();
  }
}

module.exports = { DiscordWebClient, OPUS_PT };
