/*
 * sc_demux: what kind of datagram arrived on a shared UDP port (Discord
 * UDP and WebRTC share the Ready port; RFC 7983, RFC 5761). The worker
 * first looks the source tuple up, then asks the function for that case:
 *
 * - a tuple of a WebRTC member: sc_demux_webrtc, by first byte;
 * - an unknown tuple: sc_demux_unknown, which only recognises a STUN
 *   message (full header test) and a Discord IP discovery request;
 *   everything else is SC_DEMUX_OTHER and goes to the Discord UDP handler
 *   (an RTP packet authenticates there or is dropped);
 * - a tuple of a Discord UDP member: never classified here. Its 8-byte
 *   keepalive has an arbitrary first byte, so the Discord handler decides.
 *
 * Owns: nothing. Pure functions over (buf, len): no state, no allocation,
 * safe on any thread and on any input.
 */
#ifndef SC_DEMUX_H
#define SC_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  SC_DEMUX_OTHER = 0, /* not ours to read here: drop or hand to the Discord handler */
  SC_DEMUX_STUN,      /* to sc_stun / sc_ice */
  SC_DEMUX_DTLS,      /* known tuple only: first byte 20..63, a record header fits */
  SC_DEMUX_RTP,       /* known tuple only: first byte 128..191, 12+ bytes */
  SC_DEMUX_RTCP,      /* known tuple only: as RTP with byte1 & 0x7F in 64..95, 8+ bytes */
  SC_DEMUX_DISCOVERY, /* unknown tuple only: 74 bytes, type 1, length 70 */
} sc_demux_kind_t;

/* The STUN header test for a datagram from an unknown tuple: len >= 20,
 * byte 0 < 4 (RFC 7983), the magic cookie 0x2112A442 in bytes
 * 4..7, and a length field that is a multiple of 4 and equals len - 20.
 * A discovery request can never pass it (its length field is 70). */
int sc_demux_is_stun(const uint8_t *buf, size_t len);

/* A datagram from a known WebRTC tuple, by first byte (RFC 7983): 0..3
 * STUN (if 20+ bytes), 20..63 DTLS (if 13+ bytes), 128..191 RTP or RTCP
 * (RFC 5761), else OTHER. */
sc_demux_kind_t sc_demux_webrtc(const uint8_t *buf, size_t len);

/* A datagram from a tuple the worker does not know: STUN (sc_demux_is_stun),
 * DISCOVERY, else OTHER. */
sc_demux_kind_t sc_demux_unknown(const uint8_t *buf, size_t len);

#endif
