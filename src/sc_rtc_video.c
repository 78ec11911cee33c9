/*
 * sc_rtc_video: see sc_rtc_video.h. PT tables and the PLI rate limit.
 */
#include "sc_rtc_video.h"

#include <errno.h>
#include <string.h>

#include "sc_rtcp.h"

static const uint8_t core_pt[SC_RTC_VIDEO_PTS] = {
    [SC_RTC_VP8] = SC_RTC_VP8_PT_CORE,
    [SC_RTC_VP8_RTX] = SC_RTC_VP8_RTX_PT_CORE,
    [SC_RTC_H264] = SC_RTC_H264_PT_CORE,
    [SC_RTC_H264_RTX] = SC_RTC_H264_RTX_PT_CORE,
};

void sc_rtc_video_init(sc_rtc_video_t *v, const uint8_t *peer_pt, uint8_t opus_pt) {
  memset(v, 0, sizeof *v);
  for (int i = 0; peer_pt && i < SC_RTC_VIDEO_PTS; i++) {
    uint8_t pt = peer_pt[i];
    if (pt < 96 || pt > 127 || pt == opus_pt || sc_rtc_video_core_pt(v, pt)) continue;
    v->peer_pt[i] = pt;
  }
}

void sc_rtc_video_set_filter(sc_rtc_video_t *v, uint8_t seal_off, uint8_t open_off) {
  v->seal_off = seal_off;
  v->open_off = open_off;
}

uint8_t sc_rtc_video_core_pt(const sc_rtc_video_t *v, uint8_t peer_pt) {
  for (int i = 0; i < SC_RTC_VIDEO_PTS; i++)
    if (v->peer_pt[i] && v->peer_pt[i] == peer_pt)
      return (v->open_off & (1u << i)) ? 0 : core_pt[i];
  return 0;
}

uint8_t sc_rtc_video_peer_pt(const sc_rtc_video_t *v, uint8_t pt) {
  for (int i = 0; i < SC_RTC_VIDEO_PTS; i++)
    if (core_pt[i] == pt) return (v->seal_off & (1u << i)) ? 0 : v->peer_pt[i];
  return 0;
}

int sc_rtc_video_is_core(uint8_t pt) {
  for (int i = 0; i < SC_RTC_VIDEO_PTS; i++)
    if (core_pt[i] == pt) return 1;
  return 0;
}

int sc_rtc_video_pli_allowed(sc_rtc_video_t *v, uint32_t ssrc, int64_t now_ms) {
  int oldest = 0;
  for (int i = 0; i < SC_RTC_VIDEO_SOURCES; i++) {
    if (v->pli[i].ssrc == ssrc && ssrc) {
      if (now_ms - v->pli[i].at_ms < SC_RTC_PLI_INTERVAL_MS) return 0;
      v->pli[i].at_ms = now_ms;
      return 1;
    }
    if (!v->pli[i].ssrc || (v->pli[oldest].ssrc && v->pli[i].at_ms < v->pli[oldest].at_ms))
      oldest = i;
  }
  v->pli[oldest].ssrc = ssrc;
  v->pli[oldest].at_ms = now_ms;
  return 1;
}

int sc_rtc_video_open(const sc_rtc_video_t *v, uint8_t *plain, const sc_rtp_info_t *h, size_t start,
                      size_t end, sc_media_pkt_t *out) {
  uint8_t core = sc_rtc_video_core_pt(v, plain[1] & 0x7f);
  if (!core) return -EPROTO;
  out->is_rtcp = 0;
  out->marker_pt = (uint8_t)((plain[1] & 0x80) | core);
  out->seq = h->seq;
  out->timestamp = h->timestamp;
  out->ssrc = h->ssrc;
  out->payload = plain + start;
  out->payload_len = end - start;
  return 0;
}

void sc_rtc_video_note_sender(sc_rtc_video_t *v, uint32_t ssrc, uint8_t core_pt) {
  core_pt &= 0x7f;
  if (core_pt != SC_RTC_VP8_PT_CORE && core_pt != SC_RTC_H264_PT_CORE) return;
  if (sc_rtc_video_sends(v, ssrc)) return;
  v->codec_ssrc[v->codec_next] = ssrc;
  v->codec_next = (uint8_t)((v->codec_next + 1) % SC_RTC_VIDEO_SOURCES);
}

int sc_rtc_video_sends(const sc_rtc_video_t *v, uint32_t ssrc) {
  for (int i = 0; i < SC_RTC_VIDEO_SOURCES; i++)
    if (ssrc && v->codec_ssrc[i] == ssrc) return 1;
  return 0;
}

size_t sc_rtc_video_write_pli(uint8_t *buf, size_t cap, uint32_t video_ssrc) {
  if (cap < SC_RTC_PLI_LEN) return 0;
  size_t len = sc_rtcp_write_rr(buf, cap, SC_RTCP_SERVER_SSRC, NULL, 0);
  return len + sc_rtcp_write_pli(buf + len, cap - len, SC_RTCP_SERVER_SSRC, video_ssrc);
}
