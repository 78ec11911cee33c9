/*
 * dv_webrtc_call: the call-wide video codec of Discord's voice gateway,
 * at the gateway layer beside dv_webrtc (dv_conn <- dv_session <-
 * dv_gateway/dv_webrtc/dv_webrtc_call). As Discord's server does, a call
 * (a channel) has one video codec that its members are told to send:
 *
 *  - each member's codecs (op 1, WebRTC or UDP; client op 14 later) are
 *    kept in its session (dv_webrtc_codec reads them) and the call's codec
 *    is dv_codec_tally_choose over every member that has selected a
 *    protocol: one every video-capable member can both encode and decode
 *    (H264 first, VP8 if they all rank it first); with no such member the
 *    codec stays what it was (H264 for a new call);
 *  - op 4 (Select Protocol's answer) names the call's codec as it is with
 *    the newcomer in it; when a join, a leave or a member's op 14 changes
 *    it, every member that was told the old one gets op 14
 *    {audio_codec, video_codec, media_session_id} (its own session id) and
 *    a WebRTC member's transport switches its video PTs
 *    (sc_media_post_video_filter): it is sent only the call's codec and
 *    its RTX, and only if it can decode it (`decode: false` honoured); it
 *    is taken only the codecs it can encode (`encode: false` honoured);
 *  - a client's op 14 with codecs costs its relay budget when it changes
 *    the call's codec (op 14 bytes times the members told): over it the
 *    update is dropped and the caller closes 4021, like ops 12/18/20.
 *
 * Counters: the table's stats codec_switches, codec_updates,
 * codec_refused; a log line per switch, at most every 10 s.
 * Threads: control (lws) thread only. Memory: nothing allocated here but
 * the op 14 messages (handed to dv_session_send) and media commands.
 */
#ifndef DV_WEBRTC_CALL_H
#define DV_WEBRTC_CALL_H

#include <jansson.h>
#include <stdint.h>

#include "dv_session.h"

/* s selects a protocol with s->codecs set: the call's codec with s in
 * it, told to the others who had another one (op 14). Sets s->video_told
 * and s->media_session_id (once). Returns DV_CODEC_*. */
int dv_webrtc_call_join(dv_session_t *s);
/* s left the call (ended; its state is already detached): the others are
 * re-evaluated. Does nothing while the table is stopping. */
void dv_webrtc_call_leave(dv_session_t *s);
/* Client op 14 (d an object): with `codecs`, s's capabilities are re-read
 * (a WebRTC member's limited to the codecs op 1 gave PTs) and the call
 * re-evaluated. 0 (also without codecs: nothing to do); -EINVAL when
 * codecs is not an array (dropped, counted, logged); -ENOBUFS over the
 * relay budget (dropped, counted: the caller closes 4021). */
int dv_webrtc_call_update(dv_session_t *s, json_t *d);
/* The video filter of s's WebRTC transport for the call's codec (bits
 * 1 << SC_RTC_VP8 ... for sc_rtc_params_t.video_seal_off/open_off). */
void dv_webrtc_call_filter(const dv_session_t *s, int codec, uint8_t *seal_off, uint8_t *open_off);

#endif
