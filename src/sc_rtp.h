/*
 * sc_rtp: RTP and RTCP header parsing (RFC 3550, RFC 8285 extension
 * preamble) and the reception reports of RTCP sender/receiver reports
 * (RFC 3550 §6.4). Pure functions over (buf, len): no I/O, no allocation,
 * no state; safe on any thread and on any input.
 */
#ifndef SC_RTP_H
#define SC_RTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  int is_rtcp;        /* byte 1 in 200..204 (SR, RR, SDES, BYE, APP) */
  int padding;        /* P bit */
  int extension;      /* X bit (RTP only) */
  int csrc_count;     /* CC (RTP only) */
  uint8_t marker_pt;  /* byte 1: marker | payload type (RTCP: packet type) */
  uint16_t seq;       /* RTP only */
  uint32_t timestamp; /* RTP only */
  uint32_t ssrc;      /* RTP SSRC, or RTCP sender SSRC */
  /* Bytes before the payload that travel in clear: 12 + 4*CC, plus the
   * 4-byte extension preamble when X=1 (RTCP: the 8-byte header). */
  size_t clear_len;
  /* X=1: the extension body's length in bytes (4 * preamble length). It
   * follows the preamble; in Discord's rtpsize modes it is encrypted. */
  size_t ext_body_len;
} sc_rtp_info_t;

/* Parses the fixed header of an RTP or RTCP packet. Returns 0, or -EINVAL
 * if buf is not version 2, is shorter than its clear part, or (RTP) is
 * shorter than 12 bytes. The extension body's length is reported, not
 * checked against len: in rtpsize modes it lies inside the ciphertext. */
int sc_rtp_parse(const uint8_t *buf, size_t len, sc_rtp_info_t *out);

/* 1 if the first two bytes look like RTP/RTCP version 2 and len >= 8. */
int sc_rtp_looks_like_rtp(const uint8_t *buf, size_t len);

/* One report block: how the reporter receives source `ssrc`. */
typedef struct {
  uint32_t ssrc;
  uint8_t fraction_lost;   /* lost since the previous report, in 1/256 */
  int32_t cumulative_lost; /* 24-bit signed on the wire */
  uint32_t highest_seq;    /* extended highest sequence number received */
  uint32_t jitter;         /* interarrival jitter, RTP timestamp units */
} sc_rtcp_block_t;

#define SC_RTCP_MAX_BLOCKS 8

/* What one compound RTCP packet reports. Blocks beyond SC_RTCP_MAX_BLOCKS
 * are counted in n_blocks and folded into the worst/sum fields, not kept. */
typedef struct {
  int n_sr, n_rr;          /* sender / receiver report packets */
  int n_other;             /* SDES, BYE, APP, feedback, ...: skipped */
  uint32_t sender_ssrc;    /* of the first packet */
  int has_sender_info;     /* an SR was present: the next two are set */
  uint32_t sender_packets; /* SR sender's packet count */
  uint32_t sender_octets;
  int n_blocks;
  sc_rtcp_block_t blocks[SC_RTCP_MAX_BLOCKS];
  uint8_t worst_fraction_lost;
  int64_t total_cumulative_lost;
  uint32_t worst_jitter;
} sc_rtcp_report_t;

/* Parses a whole compound RTCP packet (clear header first, as it is after
 * decryption). Every packet must be version 2 with a length that fits;
 * SR/RR report counts must fit in their packet. Returns 0, or -EINVAL
 * (then *out is only partly filled). */
int sc_rtcp_parse(const uint8_t *buf, size_t len, sc_rtcp_report_t *out);

#endif
