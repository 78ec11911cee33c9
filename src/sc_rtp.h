/*
 * sc_rtp: RTP and RTCP header parsing (RFC 3550, RFC 8285 extension
 * preamble); compound RTCP is sc_rtcp's. Pure functions over (buf, len): no I/O, no allocation,
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

/* The first byte of element id (1..14) in an RFC 8285 one-byte-header
 * extension body of len bytes (e.g. RFC 6464's audio level): 1 and *val,
 * or 0 if it is not there or the body is malformed before it. */
int sc_rtp_ext_one_byte(const uint8_t *ext, size_t len, uint8_t id, uint8_t *val);

/* 1 if the first two bytes look like RTP/RTCP version 2 and len >= 8. */
int sc_rtp_looks_like_rtp(const uint8_t *buf, size_t len);

#endif
