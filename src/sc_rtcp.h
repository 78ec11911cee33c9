/*
 * sc_rtcp: RTCP (RFC 3550 §6, RFC 4585 feedback) for the media plane.
 *
 * - The parser (sc_rtcp_parse): a whole compound packet in clear, as it is
 *   after decryption, regular or reduced-size (RFC 5506: any packet type
 *   first). Reports (SR, RR) give their blocks and the sender info;
 *   SDES, BYE, APP and feedback (NACK, transport-cc, PLI, FIR, REMB) are
 *   counted; the SSRCs PLI and FIR ask a key frame of are kept. Pure over (buf, len): no I/O, no
 * allocation, no state.
 * - The writers (sc_rtcp_write_*): one SR, RR, SDES or PLI packet into a
 *   caller's buffer. Pure.
 * - A leg's sender state (sc_rtcp_leg_t): what a WebRTC receiver needs to
 *   hear about it and from it, terminated per leg (we never relay RTCP
 *   between members). For each source SSRC forwarded to the leg the RTP
 *   timestamp and time of the last packet, the source's RTP clock (Opus
 *   48 kHz, video 90 kHz: its SR's RTP time advances on it, so a receiver
 *   can line video up with audio) and the packet and octet counts (a
 *   fixed table of SC_RTCP_SOURCES, the least recently forwarded
 *   evicted: no allocation per packet); the peer's last SR (for LSR and
 *   DLSR); the previous reading of our receive statistics of its stream
 *   (for the fraction lost); and when its next report is due (RFC 3550
 *   §6.2 randomised interval). sc_rtcp_leg_report writes the compound
 *   packet: SRs of the sources forwarded lately, an RR about the peer's
 *   stream, SDES CNAME chunks for every SSRC in it.
 *
 * Threads: a leg's state belongs to the thread that owns the member (its
 * media worker). Memory: the leg state is embedded in its owner; nothing
 * here allocates.
 */
#ifndef SC_RTCP_H
#define SC_RTCP_H

#include <stddef.h>
#include <stdint.h>

#include "sc_quality.h"

#define SC_RTCP_SR 200
#define SC_RTCP_RR 201
#define SC_RTCP_SDES 202
#define SC_RTCP_BYE 203
#define SC_RTCP_APP 204
#define SC_RTCP_RTPFB 205 /* FMT 1 generic NACK, 15 transport-cc */
#define SC_RTCP_PSFB 206  /* FMT 1 PLI, 4 FIR, 15 application layer (REMB) */

/* One report block: how the reporter receives source `ssrc`. */
typedef struct {
  uint32_t ssrc;
  uint8_t fraction_lost;   /* lost since the previous report, in 1/256 */
  int32_t cumulative_lost; /* 24-bit signed on the wire */
  uint32_t highest_seq;    /* extended highest sequence number received */
  uint32_t jitter;         /* interarrival jitter, RTP timestamp units */
  uint32_t lsr;            /* middle 32 bits of the NTP time of the last SR */
  uint32_t dlsr;           /* delay since that SR, 1/65536 s */
} sc_rtcp_block_t;

#define SC_RTCP_MAX_BLOCKS 8
#define SC_RTCP_MAX_KEYFRAME 4 /* distinct SSRCs kept from PLI and FIR */

/* What one compound RTCP packet holds. Blocks beyond SC_RTCP_MAX_BLOCKS
 * are counted in n_blocks and folded into the worst/sum fields, not kept. */
typedef struct {
  int n_sr, n_rr; /* sender / receiver report packets */
  int n_other;    /* every packet that is not SR or RR */
  int n_sdes, n_bye, n_app;
  int n_nack, n_twcc; /* RTPFB messages */
  int n_pli, n_fir;   /* PSFB: picture loss, full intra requests (FCI entries) */
  int n_remb;         /* PSFB application layer "REMB" */
  int n_fb_other;     /* other feedback (RTPFB/PSFB formats not above, XR, ...) */
  /* The media SSRCs that PLIs and FIR entries ask a key frame of, each
   * once; beyond SC_RTCP_MAX_KEYFRAME distinct ones, not kept. */
  int n_keyframe;
  uint32_t keyframe_ssrc[SC_RTCP_MAX_KEYFRAME];
  uint32_t sender_ssrc; /* of the first packet */
  /* The first SR's sender info, if there was an SR. */
  int has_sender_info;
  uint32_t sr_ssrc;
  uint64_t sr_ntp; /* NTP timestamp, 32.32 fixed point */
  uint32_t sr_rtp_ts;
  uint32_t sender_packets;
  uint32_t sender_octets;
  int n_blocks;
  sc_rtcp_block_t blocks[SC_RTCP_MAX_BLOCKS];
  uint8_t worst_fraction_lost;
  int64_t total_cumulative_lost;
  uint32_t worst_jitter;
} sc_rtcp_report_t;

/* Parses a whole compound RTCP packet. Every packet must be version 2
 * with a length that fits; SR/RR report counts must fit in their packet;
 * a feedback packet must hold its two SSRCs. Returns 0, or -EINVAL (then
 * *out is only partly filled). */
int sc_rtcp_parse(const uint8_t *buf, size_t len, sc_rtcp_report_t *out);

/* ---- writers: bytes written, or 0 if cap is too small -------------------- */

typedef struct {
  uint32_t ssrc;
  uint64_t ntp; /* 32.32 */
  uint32_t rtp_ts, packets, octets;
} sc_rtcp_sender_t;

/* An SR with no report blocks (28 bytes). */
size_t sc_rtcp_write_sr(uint8_t *buf, size_t cap, const sc_rtcp_sender_t *s);
/* An RR from ssrc with n (0..31) blocks (8 + 24 n bytes). */
size_t sc_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const sc_rtcp_block_t *b, int n);
/* An SDES with one CNAME chunk per SSRC (n 1..31; cname 1..255 bytes). */
size_t sc_rtcp_write_sdes(uint8_t *buf, size_t cap, const uint32_t *ssrcs, int n,
                          const char *cname);

/* A PLI (RFC 4585 6.3.1, 12 bytes) from sender_ssrc about media_ssrc. */
size_t sc_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* Unix time in nanoseconds as an NTP timestamp (32.32). */
uint64_t sc_rtcp_ntp(int64_t unix_ns);

/* RFC 3550 6.4.1: the round trip a report block about one of our SRs
 * measures, in microseconds, from its LSR and DLSR and the NTP time it
 * arrived; -1 if the block names no SR (LSR 0) or the result is negative
 * or over SC_RTCP_RTT_MAX_US (clocks stepped, a forged block). */
#define SC_RTCP_RTT_MAX_US 60000000
int64_t sc_rtcp_rtt_us(uint32_t lsr, uint32_t dlsr, uint64_t ntp_arrival);
/* The round trip the first kept block naming one of our SRs measures
 * (sc_rtcp_rtt_us), -1 if none does or it is out of range. */
int64_t sc_rtcp_report_rtt_us(const sc_rtcp_report_t *rep, uint64_t ntp_arrival);

/* ---- a leg's state ---------------------------------------------------------- */

#define SC_RTCP_SOURCES 8               /* sources reported on per leg (least recent evicted) */
#define SC_RTCP_INTERVAL_MS 2000        /* mean report interval, randomised over [0.5, 1.5] x */
#define SC_RTCP_SENDER_TIMEOUT 2        /* a source is a sender for this many intervals */
#define SC_RTCP_SERVER_SSRC 0x4C560001u /* our own SSRC as a receiver (RRs) */
#define SC_RTCP_CNAME "litecord-voice"
#define SC_RTCP_REPORT_MAX 600             /* the largest compound sc_rtcp_leg_report writes */
#define SC_RTCP_AUDIO_HZ SC_QUALITY_RTP_HZ /* Opus's RTP clock, whatever its sample rate */
#define SC_RTCP_VIDEO_HZ 90000             /* every video payload format's (VP8, H264, their RTX) */

typedef struct {
  uint32_t ssrc;     /* 0: free */
  uint32_t rtp_ts;   /* of the last packet forwarded */
  int64_t at_ms;     /* monotonic ms it was forwarded */
  uint32_t packets;  /* forwarded since the entry was made */
  uint32_t octets;   /* payload octets, likewise */
  uint32_t clock_hz; /* its RTP clock, from its last packet */
} sc_rtcp_source_t;

typedef struct {
  sc_rtcp_source_t src[SC_RTCP_SOURCES];
  uint32_t peer_lsr;       /* middle 32 bits of the peer's last SR (0: none) */
  int64_t peer_sr_ms;      /* monotonic ms it arrived */
  uint32_t expected_prior; /* A.3: at the previous report */
  uint32_t received_prior;
  uint32_t base_prior; /* the stream start those belong to */
  int64_t next_ms;     /* next report due (0: not scheduled yet) */
  uint32_t rng;        /* xorshift state for the interval */
  int last;            /* the entry the previous packet used (the common case) */
} sc_rtcp_leg_t;

/* seed: any per-leg value (it only spreads the reports in time). */
void sc_rtcp_leg_init(sc_rtcp_leg_t *l, uint32_t seed);
/* One RTP packet of source ssrc, whose RTP clock runs at clock_hz
 * (SC_RTCP_AUDIO_HZ, SC_RTCP_VIDEO_HZ; 0 counts as audio), forwarded to
 * the leg at now_ms. A source that left stops being reported
 * SC_RTCP_SENDER_TIMEOUT intervals after its last packet; its entry is
 * reused when a new source needs one. */
void sc_rtcp_leg_sent(sc_rtcp_leg_t *l, uint32_t ssrc, uint32_t rtp_ts, uint32_t clock_hz,
                      size_t payload_len, int64_t now_ms);
/* ssrc is no longer sent on the leg (a closed consumer's): no more SR
 * about it, so none goes out under an SSRC whose SRTP stream is gone. */
void sc_rtcp_leg_forget(sc_rtcp_leg_t *l, uint32_t ssrc);
/* The peer's SR (its NTP time) arrived at now_ms. */
void sc_rtcp_leg_peer_sr(sc_rtcp_leg_t *l, uint64_t ntp, int64_t now_ms);
/* 1 if a report is due at now_ms (the first call schedules the first). */
int sc_rtcp_leg_due(sc_rtcp_leg_t *l, int64_t now_ms);

/* The peer's stream as we receive it: rx from sc_quality_read (NULL or
 * nothing received: no RR block), its SSRC. */
typedef struct {
  const sc_quality_reading_t *rx;
  uint32_t peer_ssrc;
} sc_rtcp_peer_t;

/* Writes the leg's compound report for now (monotonic now_ms, wall clock
 * unix_ns) into buf (cap >= SC_RTCP_REPORT_MAX) and schedules the next.
 * Returns its length, 0 if there is nothing to report (no recent source,
 * no peer stream). */
size_t sc_rtcp_leg_report(sc_rtcp_leg_t *l, const sc_rtcp_peer_t *peer, int64_t now_ms,
                          int64_t unix_ns, uint8_t *buf, size_t cap);

#endif
