/*
 * sc_rtc_rtcp: a WebRTC member's RTCP endpoint, the RTCP side of its
 * transport (sc_rtc). RTCP is terminated per member, never relayed:
 *
 * - What the peer sends (after SRTCP): parsed (sc_rtcp_parse) into the
 *   worker's counters (feedback, round trips from its report blocks on
 *   our SRs), its SR kept for the LSR/DLSR of our next report.
 * - Every copy sealed to the member: noted in its fixed table of
 *   forwarded sources (sc_rtcp_leg_sent), what the SR for that source
 *   will say. No allocation.
 * - Our compound report (SR per recent source, RR about the peer's
 *   stream, SDES) and key-frame requests (RR + PLI) about the peer's
 *   video: written, SRTCP-protected and sent to its send tuple.
 *
 * Shape: sc_rtc keeps its member state (sc_rtc_t) private. The only
 * state here is the member's sc_rtcp_leg_t, embedded in sc_rtc_t; for a
 * call that sends, sc_rtc fills a sc_rtc_rtcp_link_t, a view of the
 * member's transport at that moment (its SRTP sessions, its send tuple,
 * the worker's emit and counters), so this module never sees sc_rtc_t
 * and never calls back into sc_rtc (sc_rtc calls it; the public entry
 * points, sc_rtc_rtcp_tick and sc_rtc_request_keyframe, stay in sc_rtc.h
 * since they walk sc_rtc's members).
 *
 * Threads: the member's media worker (sc_rtc's open, seal and timer
 * turn). Memory: nothing allocated; the leg is its owner's, the link's
 * pointers are borrowed for the call.
 */
#ifndef SC_RTC_RTCP_H
#define SC_RTC_RTCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_media.h"
#include "sc_rtc_video.h"
#include "sc_rtcp.h"
#include "sc_srtp.h"
#include "sc_udp.h"

/* The member's transport as the RTCP side needs it, at now_ms. */
typedef struct {
  sc_srtp_t *srtp;         /* its SRTP sessions; NULL: not keyed yet */
  const sc_udp_addr_t *to; /* its send tuple; NULL: no consent */
  /* The worker's send batch (sc_rtc_emit_fn): one datagram per call. */
  void (*emit)(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to);
  void *emit_ctx;
  sc_rtc_stats_t *stats; /* the worker's WebRTC counters */
  int64_t now_ms;        /* monotonic */
} sc_rtc_rtcp_link_t;

/* A new member's leg; seed_text (its ICE ufrag, random) spreads its
 * reports in time. */
void sc_rtc_rtcp_init(sc_rtcp_leg_t *leg, const char *seed_text);

/* An authentic compound RTCP packet from the peer (in clear), at now_ms:
 * counted in st (received, malformed, feedback, round trips). Its SR is
 * kept for our LSR/DLSR if it is the peer's bound SSRC (has_peer,
 * peer_ssrc) or none is bound yet. */
void sc_rtc_rtcp_received(sc_rtcp_leg_t *leg, const uint8_t *buf, size_t len, int has_peer,
                          uint32_t peer_ssrc, int64_t now_ms, sc_rtc_stats_t *st);

/* A copy of in (the media plane's packet, Opus or video under its core
 * PT) sealed and protected for the member at now_ms under ssrc (the
 * SSRC the member sees: in's own, or its consumer SSRC, sc_ssrcmap):
 * noted on its source's RTP clock (SC_RTCP_AUDIO_HZ, SC_RTCP_VIDEO_HZ). */
void sc_rtc_rtcp_forwarded(sc_rtcp_leg_t *leg, const sc_media_pkt_t *in, uint32_t ssrc,
                           int64_t now_ms);

/* The member's compound report (sc_rtcp_leg_report; peer: its stream as
 * we receive it), sent through k; schedules the next. Counted in
 * k->stats: rtcp_sent and rtcp_sent_bytes, or rtcp_send_failed. Call it
 * when sc_rtcp_leg_due says so and the member is ready. */
void sc_rtc_rtcp_report(sc_rtcp_leg_t *leg, const sc_rtcp_peer_t *peer,
                        const sc_rtc_rtcp_link_t *k);

/* A key-frame request (RR + PLI) about the peer's video_ssrc, within
 * its video state's rate limit (v). 0 (sent), -EBUSY (rate-limited),
 * -EAGAIN (not keyed, no send tuple, SRTCP refused); each counted
 * (pli_sent, pli_limited, pli_unsent). */
int sc_rtc_rtcp_keyframe(sc_rtc_video_t *v, uint32_t video_ssrc, const sc_rtc_rtcp_link_t *k);

#endif
