/*
 * sc_rtc_video: what a WebRTC member's transport (sc_rtc) knows about
 * video. Pure state and functions, embedded in the member's sc_rtc_t:
 *
 * - Payload types. Inside the media plane video travels under the PTs
 *   Discord's own clients use (SC_RTC_VP8_PT_CORE and the rest below,
 *   what a Discord UDP member sends and gets, like Opus's 120); each
 *   WebRTC member negotiated its own (Discord's op 1 `codecs`). Open maps
 *   the peer's PT to the core one, seal maps it back; a codec the
 *   receiver did not negotiate is never sent to it.
 * - Key-frame requests to this member as a video sender: at most one PLI
 *   per sender SSRC every SC_RTC_PLI_INTERVAL_MS, however many receivers
 *   ask (a receiver joining, or several losing packets at once, need one
 *   key frame, not one each). A fixed table of SC_RTC_VIDEO_SOURCES
 *   SSRCs (a sender has one video SSRC and its RTX one, or a few
 *   simulcast layers); the least recently asked entry is reused.
 *
 * - Opening a video packet for the media plane, and the PLI sent to a
 *   sender (sc_rtc protects and sends it).
 *
 * Threads: the member's worker (inside sc_rtc's open, seal and feedback).
 * Memory: embedded in sc_rtc_t; nothing allocated.
 */
#ifndef SC_RTC_VIDEO_H
#define SC_RTC_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "sc_media.h"
#include "sc_rtp.h"

/* Core video PTs (Discord's clients: H264 101/102, VP8 103/104). */
#define SC_RTC_H264_PT_CORE 101
#define SC_RTC_H264_RTX_PT_CORE 102
#define SC_RTC_VP8_PT_CORE 103
#define SC_RTC_VP8_RTX_PT_CORE 104

/* Index of a video PT in sc_rtc_params_t.video_pt / sc_rtc_video_t. */
enum { SC_RTC_VP8 = 0, SC_RTC_VP8_RTX, SC_RTC_H264, SC_RTC_H264_RTX, SC_RTC_VIDEO_PTS };

#define SC_RTC_PLI_INTERVAL_MS 500 /* at most one PLI per sender SSRC this often */
#define SC_RTC_VIDEO_SOURCES 4     /* sender SSRCs whose last PLI is remembered */

typedef struct {
  uint8_t peer_pt[SC_RTC_VIDEO_PTS]; /* the peer's PT per index; 0: not negotiated */
  struct {
    uint32_t ssrc; /* 0: free */
    int64_t at_ms; /* when the last PLI about it went out */
  } pli[SC_RTC_VIDEO_SOURCES];
  /* SSRCs the peer sent codec packets (VP8, H264; not RTX) on, so that a
   * key frame is asked only of a stream that carries one; 0: free. */
  uint32_t codec_ssrc[SC_RTC_VIDEO_SOURCES];
  uint8_t codec_next; /* the slot the next new SSRC replaces when all are taken */
  /* Bits 1 << index of PTs switched off one way while kept in peer_pt
   * (a front end's runtime choice, e.g. Discord's call-wide codec): never
   * sealed to the peer (seal_off), not opened from it (open_off). 0 after
   * init: both ways, as negotiated. */
  uint8_t seal_off, open_off;
} sc_rtc_video_t;

/* peer_pt: SC_RTC_VIDEO_PTS entries (0: not negotiated), or NULL (no
 * video). A PT outside 96..127, equal to opus_pt or to an earlier entry
 * is left out (0). */
void sc_rtc_video_init(sc_rtc_video_t *v, const uint8_t *peer_pt, uint8_t opus_pt);
/* Switches video PTs off one way (bits 1 << SC_RTC_VP8 ...; 0: on),
 * replacing the previous filter; the PT table itself stays. */
void sc_rtc_video_set_filter(sc_rtc_video_t *v, uint8_t seal_off, uint8_t open_off);
/* The core PT of the peer's PT, 0 if it is none of its video PTs (or
 * opening it is switched off). */
uint8_t sc_rtc_video_core_pt(const sc_rtc_video_t *v, uint8_t peer_pt);
/* The peer's PT for a core video PT, 0 if it did not negotiate it (or
 * sealing it is switched off). */
uint8_t sc_rtc_video_peer_pt(const sc_rtc_video_t *v, uint8_t core_pt);
/* 1 if core_pt is one of the core video PTs. */
int sc_rtc_video_is_core(uint8_t core_pt);
/* 1 if a PLI about ssrc may go at now_ms (it is then noted as sent), 0 if
 * one went less than SC_RTC_PLI_INTERVAL_MS before. */
int sc_rtc_video_pli_allowed(sc_rtc_video_t *v, uint32_t ssrc, int64_t now_ms);

/* An SRTP-opened video packet (plain, its header h, payload from start to
 * end): the packet for the media plane under the core PT, its own SSRC,
 * seq and timestamp. 0, or -EPROTO if its PT is none of v's. */
int sc_rtc_video_open(const sc_rtc_video_t *v, uint8_t *plain, const sc_rtp_info_t *h, size_t start,
                      size_t end, sc_media_pkt_t *out);

/* Notes that the peer sent a packet of core_pt on ssrc (no allocation). */
void sc_rtc_video_note_sender(sc_rtc_video_t *v, uint32_t ssrc, uint8_t core_pt);
/* 1 if the peer sent codec (not RTX) packets on ssrc lately. */
int sc_rtc_video_sends(const sc_rtc_video_t *v, uint32_t ssrc);

/* A key-frame request to a video sender as one compound RTCP packet: an
 * empty RR and a PLI (RFC 4585 6.3.1), both from SC_RTCP_SERVER_SSRC,
 * about video_ssrc. Bytes written (SC_RTC_PLI_LEN), 0 if cap is short. */
#define SC_RTC_PLI_LEN 20
size_t sc_rtc_video_write_pli(uint8_t *buf, size_t cap, uint32_t video_ssrc);

#endif
