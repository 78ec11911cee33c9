/*
 * lg_webrtc: the WebRTC half of one simulated browser client (Discord's
 * web client in the gateway's webrtc mode, ../shared/reference/webrtc.md
 * section 1): the op 1 fragment it offers, op 4's partial answer read
 * with the core's SDP reader, then what a browser does on the wire as the
 * ICE-controlling side and DTLS client: a binding check with
 * MESSAGE-INTEGRITY, FINGERPRINT and USE-CANDIDATE (retried), a DTLS 1.2
 * handshake on OpenSSL (its own P-256 certificate, one SRTP profile
 * offered, the server's certificate checked against op 4's fingerprint),
 * libsrtp2 keyed from the exporter (sc_srtp), a first Opus packet (as a
 * browser's track sends at once) and consent checks every few seconds.
 *
 * Owns: lg_rtc_t (ICE credentials, the DTLS client of tests/unit/dtls_fx.h
 * from op 1 until the handshake ends, then only the sc_srtp_t).
 * Threads: lg_rtc_new, lg_rtc_fragment and lg_rtc_answer on the main
 * (control) thread; lg_rtc_answer publishes the state with a release
 * store, after which only the media thread calls lg_rtc_tick and
 * lg_rtc_input. lg_rtc_state may be read from any thread (acquire).
 * Memory: lg_rtc_new allocates, the handshake's OpenSSL objects are freed
 * once connected, lg_rtc_free frees the rest. Nothing per packet.
 */
#ifndef LG_WEBRTC_H
#define LG_WEBRTC_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_srtp.h"

#define LG_RTC_OPUS_PT 111 /* Chrome's Opus payload type, both ways */
#define LG_RTC_LEVEL_ID 1  /* extmap id of ssrc-audio-level in our offer */
#define LG_RTC_LEVEL_EXT 8 /* bytes the audio-level extension adds to a packet */

typedef enum {
  LG_RTC_NEW = 0,   /* fragment offered, no answer yet */
  LG_RTC_START,     /* answer read: the media thread starts ICE */
  LG_RTC_ICE,       /* checks sent, no valid answer yet */
  LG_RTC_DTLS,      /* handshaking */
  LG_RTC_CONNECTED, /* SRTP keyed, the first packet sent */
  LG_RTC_FAILED
} lg_rtc_state_t;

typedef struct lg_rtc lg_rtc_t;

/* A client offering one SRTP profile (SC_SRTP_*). NULL on failure. */
lg_rtc_t *lg_rtc_new(uint16_t profile);
void lg_rtc_free(lg_rtc_t *r);

/* Op 1's trimmed SDP fragment (ICE credentials, fingerprint, audio-level
 * extmap, Opus rtpmap; LF-separated). The first call creates the DTLS
 * client (its key and certificate: held only until connected, so only
 * joins in progress cost its buffers). Returns its length or -1. */
int lg_rtc_fragment(lg_rtc_t *r, char *out, size_t cap);

/* Op 4's partial answer: the server's ufrag, pwd and fingerprint (the
 * candidate is the Ready address the caller gives as `to`, the socket is
 * the client's). ssrc: what the client sends under. 0, or -1 when the
 * answer lacks one of them. Hands the client to the media thread. */
int lg_rtc_answer(lg_rtc_t *r, const char *sdp, size_t len, uint32_t ssrc, int fd,
                  const struct sockaddr_in *to);

lg_rtc_state_t lg_rtc_state(const lg_rtc_t *r);
/* Why a client failed (a static string), or NULL. */
const char *lg_rtc_error(const lg_rtc_t *r);

/* Media thread: timers (first check, retries, DTLS retransmissions,
 * consent every few seconds). Cheap when nothing is due. */
void lg_rtc_tick(lg_rtc_t *r, int64_t now_ns);
/* Media thread: a STUN or DTLS datagram from the server. */
void lg_rtc_input(lg_rtc_t *r, const uint8_t *buf, size_t len, int64_t now_ns);
/* The SRTP state once connected (else NULL); media thread only. */
sc_srtp_t *lg_rtc_srtp(lg_rtc_t *r);

/* 1 for a datagram lg_rtc_input handles (STUN or DTLS, RFC 7983). */
static inline int lg_rtc_is_control(const uint8_t *buf, size_t len) {
  return len > 0 && (buf[0] < 4 || (buf[0] >= 20 && buf[0] <= 63));
}

/* An RTP header for our Opus with the audio-level extension (level -30
 * dBov, as a quiet talker): 12 + LG_RTC_LEVEL_EXT bytes written to out. */
size_t lg_rtc_header(uint8_t *out, int pt, uint16_t seq, uint32_t ts, uint32_t ssrc);

#endif
