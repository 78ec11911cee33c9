/*
 * sc_rtc_rtcp: see sc_rtc_rtcp.h. A WebRTC member's RTCP endpoint: what
 * the peer sends, what we forward to it, our reports and PLIs.
 */
#include "sc_rtc_rtcp.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "sc_lathist.h"

void sc_rtc_rtcp_init(sc_rtcp_leg_t *leg, const char *seed_text) {
  uint32_t seed = 0;
  for (const char *c = seed_text; *c; c++) seed = seed * 31 + (uint8_t)*c;
  sc_rtcp_leg_init(leg, seed);
}

static int64_t unix_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Feedback is counted, the SR kept; the media plane accounts the report
 * blocks about the peer's stream (sc_mpath); nothing is relayed. */
void sc_rtc_rtcp_received(sc_rtcp_leg_t *leg, const uint8_t *buf, size_t len, int has_peer,
                          uint32_t peer_ssrc, int64_t now_ms, sc_rtc_stats_t *st) {
  sc_rtcp_report_t rep;
  st->rtcp_received++;
  if (sc_rtcp_parse(buf, len, &rep) < 0) {
    st->rtcp_malformed++;
    return;
  }
  st->rtcp_pli += (uint64_t)rep.n_pli;
  st->rtcp_fir += (uint64_t)rep.n_fir;
  st->rtcp_nack += (uint64_t)rep.n_nack;
  st->rtcp_remb += (uint64_t)rep.n_remb;
  st->rtcp_twcc += (uint64_t)rep.n_twcc;
  st->rtcp_bye += (uint64_t)rep.n_bye;
  int64_t rtt_us = sc_rtcp_report_rtt_us(&rep, sc_rtcp_ntp(unix_now_ns()));
  if (rtt_us >= 0) {
    st->rtt_hist[sc_lathist_bucket((uint64_t)rtt_us)]++;
    st->rtt_sum_us += (uint64_t)rtt_us;
  }
  if (rep.has_sender_info && (!has_peer || rep.sr_ssrc == peer_ssrc))
    sc_rtcp_leg_peer_sr(leg, rep.sr_ntp, now_ms);
}

/* Inside the media plane a packet's PT is a core one (Opus 120, video
 * Discord's 101..104): video and its RTX run on 90 kHz, Opus on 48. */
void sc_rtc_rtcp_forwarded(sc_rtcp_leg_t *leg, const sc_media_pkt_t *in, uint32_t ssrc,
                           int64_t now_ms) {
  uint32_t hz = sc_rtc_video_is_core(in->marker_pt & 0x7f) ? SC_RTCP_VIDEO_HZ : SC_RTCP_AUDIO_HZ;
  sc_rtcp_leg_sent(leg, ssrc, in->timestamp, hz, in->payload_len, now_ms);
}

/* RTCP of len bytes in buf (cap: room for SRTCP) to the send tuple: the
 * bytes sent, or 0 (SRTCP refused, no send tuple). */
static size_t srtcp_send(const sc_rtc_rtcp_link_t *k, uint8_t *buf, size_t len, size_t cap) {
  int n = sc_srtp_protect_rtcp(k->srtp, buf, len, cap);
  const sc_udp_addr_t *to = k->to;
  if (n <= 0 || !to) return 0;
  struct sockaddr_storage dst;
  memset(&dst, 0, sizeof dst);
  sc_udp_addr_get(to, &dst);
  k->emit(k->emit_ctx, buf, (size_t)n, &dst);
  return (size_t)n;
}

void sc_rtc_rtcp_report(sc_rtcp_leg_t *leg, const sc_rtcp_peer_t *peer,
                        const sc_rtc_rtcp_link_t *k) {
  uint8_t buf[SC_RTCP_REPORT_MAX + SC_SRTP_SPARE];
  size_t len = sc_rtcp_leg_report(leg, peer, k->now_ms, unix_now_ns(), buf, sizeof buf);
  if (!len) return;
  size_t n = srtcp_send(k, buf, len, sizeof buf);
  if (!n) {
    k->stats->rtcp_send_failed++;
    return;
  }
  k->stats->rtcp_sent++;
  k->stats->rtcp_sent_bytes += (uint64_t)n;
}

int sc_rtc_rtcp_keyframe(sc_rtc_video_t *v, uint32_t video_ssrc, const sc_rtc_rtcp_link_t *k) {
  if (!k->srtp || !k->to) {
    k->stats->pli_unsent++;
    return -EAGAIN;
  }
  if (!sc_rtc_video_pli_allowed(v, video_ssrc, k->now_ms)) { /* one will do */
    k->stats->pli_limited++;
    return -EBUSY;
  }
  uint8_t buf[SC_RTC_PLI_LEN + SC_SRTP_SPARE];
  size_t len = sc_rtc_video_write_pli(buf, sizeof buf, video_ssrc);
  if (!srtcp_send(k, buf, len, sizeof buf)) {
    k->stats->pli_unsent++;
    return -EAGAIN;
  }
  k->stats->pli_sent++;
  return 0;
}
