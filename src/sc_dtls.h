/*
 * sc_dtls: DTLS 1.2 server side of DTLS-SRTP (RFC 5763/5764) for WebRTC
 * members. We are always the DTLS server (the browser's answer has
 * a=setup:passive for us).
 *
 * Owns: the process-wide context (sc_dtls_ctx_t: the ECDSA P-256
 * certificate and key, their SHA-256 fingerprint, the one SSL_CTX, the
 * counters) and per member one session (sc_dtls_t: the SSL object with
 * its two memory BIOs, the timers, the exported SRTP keys).
 * Threads: the context is created and freed on the main thread; in
 * between any thread may create sessions and read its counters (relaxed
 * atomics). A session is used by one thread at a time but carries no
 * thread-bound state, so it may be handed between threads (e.g. a
 * handshake thread, then the media worker). Every call clears the calling
 * thread's OpenSSL error queue first.
 * Memory: the context is allocated once; a session is allocated by
 * sc_dtls_new, and OpenSSL allocates inside it during the handshake.
 * Between datagrams a session holds no record buffers (they are freed
 * after every call and set up again by the next). A connected session
 * still holds OpenSSL's handshake leftovers (DTLS keeps them to answer a
 * retransmitted last flight) until sc_dtls_shed frees the SSL object and
 * keeps the state and keys. Datagrams to send are written to a
 * caller-provided sc_dtls_out_t, each BIO write its own datagram of at
 * most SC_DTLS_MTU bytes; nothing is allocated per datagram outside
 * OpenSSL. The caller frees sessions (sc_dtls_free) before the context
 * (sc_dtls_ctx_free).
 */
#ifndef SC_DTLS_H
#define SC_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_srtp.h"

#define SC_DTLS_FP_LEN 32            /* SHA-256 */
#define SC_DTLS_FP_TEXT 96           /* "AB:CD:...:EF" plus NUL */
#define SC_DTLS_MTU 1200             /* largest datagram we send */
#define SC_DTLS_DATAGRAM_MAX 2048    /* longer datagrams are dropped unread */
#define SC_DTLS_HANDSHAKE_MS 30000   /* a handshake not done by then fails */
#define SC_DTLS_CERT_FILE "dtls.pem" /* key and certificate in the state dir */

typedef enum {
  SC_DTLS_HANDSHAKING = 0,
  SC_DTLS_CONNECTED,
  SC_DTLS_FAILED,
  SC_DTLS_CLOSED
} sc_dtls_state_t;

/* Why a session failed (also the index of the failure counters). */
typedef enum {
  SC_DTLS_FAIL_NONE = 0,
  SC_DTLS_FAIL_PROTOCOL,    /* OpenSSL ended the handshake (bad message, peer's alert) */
  SC_DTLS_FAIL_FINGERPRINT, /* the peer's certificate is not the one its SDP named */
  SC_DTLS_FAIL_NO_SRTP,     /* no SRTP profile in common */
  SC_DTLS_FAIL_TIMEOUT,     /* not connected within SC_DTLS_HANDSHAKE_MS */
  SC_DTLS_FAIL_ALERT,       /* a fatal alert or error after the handshake */
  SC_DTLS_FAIL_INTERNAL,    /* keying material export or allocation */
  SC_DTLS_FAIL_COUNT
} sc_dtls_fail_t;

/* A snapshot of the context's counters. */
typedef struct {
  uint64_t started, connected, closed;
  uint64_t failed[SC_DTLS_FAIL_COUNT];
  uint64_t refused;        /* sc_dtls_new over the handshake budget */
  uint64_t bad_datagrams;  /* not DTLS records, or too long: dropped before OpenSSL */
  uint64_t late_handshake; /* plaintext handshake records (a new ClientHello) once connected */
  uint64_t out_dropped;    /* datagrams that did not fit the caller's sc_dtls_out_t */
  int64_t in_progress;     /* sessions handshaking now */
} sc_dtls_stats_t;

/* Where a call puts the datagrams to send: back to back in the caller's
 * buffer, datagram i at buf + off[i], len[i] bytes. A datagram that does
 * not fit is dropped and counted (the retransmission timer repairs it);
 * 4 KiB and SC_DTLS_OUT_MAX slots hold any flight of ours. */
#define SC_DTLS_OUT_MAX 16
typedef struct {
  uint8_t *buf;
  size_t cap, used;
  int n;
  uint32_t off[SC_DTLS_OUT_MAX], len[SC_DTLS_OUT_MAX];
} sc_dtls_out_t;

void sc_dtls_out_init(sc_dtls_out_t *o, uint8_t *buf, size_t cap);

typedef struct sc_dtls_ctx sc_dtls_ctx_t;
typedef struct sc_dtls sc_dtls_t;

/* The context. state_dir NULL or "": a fresh certificate in memory. Else
 * "<state_dir>/SC_DTLS_CERT_FILE" is loaded, or generated (mode 0600) when
 * missing; a file that is not one P-256 key and its certificate is
 * -EINVAL with the reason in err. max_handshakes bounds the sessions
 * handshaking at once (0: no bound). 0 or -errno (err says why). */
int sc_dtls_ctx_new(sc_dtls_ctx_t **out, const char *state_dir, int max_handshakes, char *err,
                    size_t err_size);
void sc_dtls_ctx_free(sc_dtls_ctx_t *c);
/* For SDP a=fingerprint:sha-256: upper-case colon-separated hex. */
const char *sc_dtls_ctx_fingerprint(const sc_dtls_ctx_t *c);
void sc_dtls_ctx_fingerprint_bytes(const sc_dtls_ctx_t *c, uint8_t out[SC_DTLS_FP_LEN]);
void sc_dtls_ctx_stats(const sc_dtls_ctx_t *c, sc_dtls_stats_t *out);
int64_t sc_dtls_ctx_in_progress(const sc_dtls_ctx_t *c);

/* Checks that buf is one or more whole DTLS records (content type 20-23,
 * version 0xFEFF or 0xFEFD, lengths within buf, at most 32 records).
 * *plain_handshake is set when one is a plaintext (epoch 0) handshake
 * record. 0 or -EINVAL. Pure, bounded by len <= SC_DTLS_DATAGRAM_MAX. */
int sc_dtls_scan(const uint8_t *buf, size_t len, int *plain_handshake);

/* A session in accept state. expected_fp: the SHA-256 of the certificate
 * the peer's SDP announced, or NULL (then any certificate is accepted).
 * now_ms: the caller's monotonic clock, which starts the handshake
 * deadline. 0, -EBUSY (over max_handshakes, counted) or -ENOMEM. */
int sc_dtls_new(sc_dtls_t **out, sc_dtls_ctx_t *ctx, const uint8_t *expected_fp, int64_t now_ms);
void sc_dtls_free(sc_dtls_t *s);

/* One datagram from the peer; replies go to out (may be NULL: counted as
 * dropped). Returns the state afterwards. Once connected, a plaintext
 * handshake record (a second ClientHello) is ignored and counted: the
 * session stays connected with its keys (a browser that restarts DTLS
 * comes with a new SDP, hence a new session). */
sc_dtls_state_t sc_dtls_feed(sc_dtls_t *s, const uint8_t *dgram, size_t len, int64_t now_ms,
                             sc_dtls_out_t *out);
/* Milliseconds from now_ms until sc_dtls_on_timeout is due (0: now), or
 * -1 when no timer runs (connected, failed, closed). */
int64_t sc_dtls_next_timeout_ms(const sc_dtls_t *s, int64_t now_ms);
/* Retransmits a flight when OpenSSL's timer expired; fails the session
 * past the handshake deadline. Returns the state afterwards. */
sc_dtls_state_t sc_dtls_on_timeout(sc_dtls_t *s, int64_t now_ms, sc_dtls_out_t *out);

sc_dtls_state_t sc_dtls_state(const sc_dtls_t *s);
sc_dtls_fail_t sc_dtls_failure(const sc_dtls_t *s);
const char *sc_dtls_failure_name(sc_dtls_fail_t f);

/* The negotiated profile and keys (local = ours, the DTLS server's;
 * remote = the client's). 0, or -EAGAIN when not connected. */
int sc_dtls_srtp_keys(const sc_dtls_t *s, sc_srtp_keys_t *out);

/* Ends a connected session with a close_notify (into out): state closed. */
void sc_dtls_close(sc_dtls_t *s, sc_dtls_out_t *out);

/* Frees the SSL object of a connected session, keeping its state and keys.
 * Call it only once the peer's first SRTP packet authenticated (proof that
 * it has our last flight: until then it may retransmit its own, and only
 * the SSL object can answer). Afterwards datagrams are ignored, so the end
 * of the session comes from ICE consent, not close_notify. 0 or -EINVAL. */
int sc_dtls_shed(sc_dtls_t *s);

#endif
