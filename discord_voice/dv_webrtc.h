/*
 * dv_webrtc: Select Protocol with protocol "webrtc" (Discord's browser
 * client; reference webrtc.md §1), at the gateway layer beside
 * dv_gateway (dv_conn <- dv_session <- dv_gateway/dv_webrtc;
 * docs/ARCHITECTURE.md). It owns:
 *
 *  - reading op 1's offer: the SDP fragment (`sdp` if it is a string, else
 *    `data`) parsed by the core's sc_sdp (size, bytes, lines, ICE
 *    credentials required), and `codecs`: the Opus payload_type (96..127)
 *    this connection uses both ways, cross-checked with the fragment's
 *    rtpmap of that PT when it has one; its VP8 and H264 entries (and
 *    their RTX) are the member's video PTs (sc_rtc_video), an entry that
 *    is out of range or contradicts the fragment is left out;
 *  - dv_webrtc_select, where the core's WebRTC transport (src/sc_rtc)
 *    plugs in: the member's ICE/DTLS/SRTP state is posted to the media
 *    plane as its cipher, then op 4 goes out (-ENOTSUP, answered 4012,
 *    only without a DTLS context or media plane);
 *  - dv_webrtc_send_answer, op 4 with Discord's eight-line sdp, for the
 *    transport to call once it holds its ICE credentials (video_codec
 *    "H264"; dv_webrtc_select names the call's codec, dv_webrtc_call,
 *    and its transport's video filter follows that codec).
 *
 * Threads: control (lws) thread only.
 * Memory: nothing allocated here beyond one op 4 message; an offer is a
 * caller struct (fixed-size arrays; about 12 KiB, fine on the stack).
 */
#ifndef DV_WEBRTC_H
#define DV_WEBRTC_H

#include <jansson.h>
#include <stddef.h>

#include "dv_session.h"
#include "dv_webrtc_codec.h"
#include "sc_rtc_video.h"
#include "sc_sdp.h"

/* The transport kind of WebRTC members (sc_registry_set_transport). */
#define DV_WEBRTC_TRANSPORT_KIND "webrtc"
/* The Opus PT range a browser may pick (dynamic payload types). */
#define DV_WEBRTC_PT_MIN 96
#define DV_WEBRTC_PT_MAX 127

/* What op 1 offered. */
typedef struct {
  sc_sdp_fragment_t sdp;              /* ufrag, pwd, optional fingerprint, extmaps, rtpmaps */
  int opus_pt;                        /* Opus PT on this connection, both ways */
  int audio_level_id;                 /* extmap id of ssrc-audio-level; 0: not offered */
  uint8_t video_pt[SC_RTC_VIDEO_PTS]; /* codecs' VP8/H264 (and RTX) PTs; 0: not offered */
  dv_codec_caps_t caps;               /* what codecs says it encodes/decodes (with a PT) */
  const char *video_codec;            /* its own best codec alone: "H264" or "VP8" (static) */
} dv_webrtc_offer_t;

/* Reads op 1's d (protocol "webrtc"). Returns 0, or -1 with a reason for
 * the 4020 close in why ("webrtc sdp: missing_ufrag", "webrtc codecs: ...").
 * Any byte string is safe: sc_sdp bounds it. */
int dv_webrtc_read_offer(json_t *d, dv_webrtc_offer_t *out, char *why, size_t why_len);

/* The WebRTC transport (src/sc_rtc) for a valid offer, on an identified
 * session: posts the member's state (our ICE-lite credentials from the
 * CSPRNG, the peer's ufrag, its DTLS fingerprint when the fragment had
 * one, opus_pt, audio_level_id, and the session's DAVE gate as the
 * receive policy) to the media plane as its cipher, sets s->selected and
 * the registry's transport, then sends op 4 with dave_version (the
 * call's, dv_e2ee). Returns 0 when op 4 went out, -ENOTSUP when the
 * app has no DTLS context or media plane (the gateway closes 4012), -ENOMEM (4020 "out of
 * memory", like the UDP path). */
int dv_webrtc_select(dv_session_t *s, const dv_webrtc_offer_t *offer, int dave_version);

/* Sends op 4 {audio_codec, video_codec, media_session_id, sdp,
 * dave_protocol_version} with sc_sdp_write_discord_answer's eight
 * lines for a. Returns 0, or -EINVAL when a is refused by the writer. */
int dv_webrtc_send_answer(dv_session_t *s, const sc_sdp_answer_t *a, int dave_version);

#endif
