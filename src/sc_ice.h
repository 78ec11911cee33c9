/*
 * sc_ice: the ICE-lite agent of one WebRTC member (RFC 8445 §2.5 lite,
 * RFC 7675 consent). It owns the member's ICE credentials, answers the
 * peer's binding requests, and keeps the few source tuples those requests
 * validated: which may carry media, and which one media is sent to.
 *
 * Policy (webrtc.md §2.2, issue 14):
 * - A request is answered only after its USERNAME names our ufrag and its
 *   MESSAGE-INTEGRITY verifies under our password. A request that fails
 *   either gets no answer at all (counted): no oracle, no reflection.
 * - After integrity: a missing PRIORITY or FINGERPRINT is answered 400, an
 *   unknown comprehension-required attribute 420, ICE-CONTROLLED (both
 *   sides controlled: we are always controlled) 487; else a success
 *   response with XOR-MAPPED-ADDRESS. Every answer carries MI and
 *   FINGERPRINT, and none is larger than its request (else not sent,
 *   counted as too_large).
 * - A bad FINGERPRINT, or a malformed message, is dropped (counted).
 * - Each source gets at most SC_ICE_RATE_PER_SEC requests checked per
 *   second (the rest dropped, counted), before the HMAC is computed.
 * - Every authenticated source becomes a validated tuple (at most
 *   SC_ICE_MAX_PAIRS; a new one evicts an expired one, else the least
 *   recently checked one that is not selected). USE-CANDIDATE selects the
 *   send tuple; the latest nomination wins.
 * - Consent: a tuple not refreshed by an authenticated check for
 *   SC_ICE_CONSENT_MS is no longer valid; when the selected one expires,
 *   no media is sent until a new nomination.
 *
 * Owns: the agent struct only (fixed size, no allocation at all: the
 * caller embeds or allocates it). Threads: created on any thread, then
 * used only by the one media worker that owns the member; no locks.
 * Counters are plain integers the worker writes; copy them out on the
 * worker. Time is the caller's monotonic now_ms (never read here).
 */
#ifndef SC_ICE_H
#define SC_ICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_stun.h"
#include "sc_udp.h"

/* Credentials: Discord's minimums are 4 and 22 characters; longer ones
 * make a guessed ufrag or password less likely (6 bits per character). */
#define SC_ICE_UFRAG_LEN 8
#define SC_ICE_PWD_LEN 24
#define SC_ICE_MAX_PAIRS 4
#define SC_ICE_MAX_SOURCES 8 /* rate budgets kept (least recently seen evicted) */
#define SC_ICE_RATE_PER_SEC 10
#define SC_ICE_CONSENT_MS 30000
#define SC_ICE_REMOTE_UFRAG_MAX 256

/* Why a request got no answer: sc_ice_on_stun returns the negative. */
typedef enum {
  SC_ICE_MALFORMED = 1,   /* not a parsable STUN message (or from is not IPv4/IPv6) */
  SC_ICE_NOT_REQUEST,     /* a response or indication: ignored */
  SC_ICE_UNKNOWN_UFRAG,   /* USERNAME absent or not ours:theirs */
  SC_ICE_BAD_FINGERPRINT, /* FINGERPRINT present and wrong */
  SC_ICE_RATE_LIMITED,    /* over this source's budget */
  SC_ICE_BAD_INTEGRITY,   /* MESSAGE-INTEGRITY absent or wrong */
  SC_ICE_TOO_LARGE,       /* the answer would be larger than the request */
} sc_ice_refusal_t;

typedef struct {
  uint64_t answered;      /* success responses */
  uint64_t bad_request;   /* 400 sent */
  uint64_t unknown_attr;  /* 420 sent */
  uint64_t role_conflict; /* 487 sent */
  uint64_t malformed, not_request, unknown_ufrag, bad_fingerprint, rate_limited, bad_integrity,
      too_large;          /* no answer, by reason */
  uint64_t nominations;   /* USE-CANDIDATE accepted (selected tuple set) */
  uint64_t pairs_evicted; /* a validated tuple replaced by a new one */
} sc_ice_counters_t;

typedef struct {
  sc_udp_addr_t addr;
  int used;
  int64_t checked_ms; /* last authenticated check: consent runs from here */
  uint32_t priority;  /* the peer's PRIORITY of the last check */
} sc_ice_pair_t;

typedef struct {
  sc_udp_addr_t addr;
  int used;
  int64_t window_ms; /* start of the current one-second window */
  uint32_t in_window;
  int64_t seen_ms;
} sc_ice_source_t;

typedef struct {
  char ufrag[SC_ICE_UFRAG_LEN + 1];
  char pwd[SC_ICE_PWD_LEN + 1];
  sc_stun_key_t key;
  /* The peer's ufrag from its SDP, if known: then USERNAME must be
   * "<ufrag>:<remote_ufrag>" exactly. Length 0: any peer part is
   * accepted. Kept as length and SHA-1 (it may be 256 characters; the
   * comparison is for routing, the password authenticates). */
  uint16_t remote_ufrag_len;
  uint8_t remote_ufrag_sha1[20];
  sc_ice_pair_t pairs[SC_ICE_MAX_PAIRS];
  int selected; /* index into pairs, or -1 */
  int ever_valid;
  sc_ice_source_t sources[SC_ICE_MAX_SOURCES];
  sc_ice_counters_t counters;
} sc_ice_t;

/* Fresh credentials from the CSPRNG (sc_token_random; sc_token_init must
 * have run), no tuples. Returns 0. */
int sc_ice_init(sc_ice_t *a);

/* New ICE credentials for an ICE restart of a running agent: ours made
 * on the control thread (sc_ice_creds_new, from the CSPRNG) for the
 * answer, applied where the agent runs (sc_ice_restart). remote_ufrag is
 * the peer's new a=ice-ufrag ("" = any peer part). */
typedef struct {
  char ufrag[SC_ICE_UFRAG_LEN + 1];
  char pwd[SC_ICE_PWD_LEN + 1];
  char remote_ufrag[SC_ICE_REMOTE_UFRAG_MAX + 1];
} sc_ice_creds_t;

/* Fresh credentials of ours, and the peer's ufrag copied: 0, or -EINVAL
 * (remote_ufrag overlong). */
int sc_ice_creds_new(sc_ice_creds_t *c, const char *remote_ufrag);
/* An ICE restart: from now on only checks with the new credentials are
 * answered. Validated tuples and the selected one stay (their consent
 * runs on, and the peer's new checks refresh it), so media keeps flowing
 * while the peer checks its new pairs; the DTLS and SRTP above are not
 * the agent's and are untouched. Returns 0. */
int sc_ice_restart(sc_ice_t *a, const sc_ice_creds_t *c);

/* Sets the peer's ufrag (its a=ice-ufrag). 0, or -EINVAL if longer than
 * SC_ICE_REMOTE_UFRAG_MAX or empty. */
int sc_ice_set_remote_ufrag(sc_ice_t *a, const char *ufrag, size_t len);

/* Handles one STUN datagram (buf, len) from `from` at now_ms. Returns the
 * length of the answer written to out (cap bytes; never more than len),
 * or -sc_ice_refusal_t (nothing to send; counted). */
int sc_ice_on_stun(sc_ice_t *a, int64_t now_ms, const uint8_t *buf, size_t len,
                   const struct sockaddr_storage *from, uint8_t *out, size_t cap);

/* 1 if `from` is a validated tuple whose consent has not expired: media
 * from it belongs to this member. */
int sc_ice_tuple_valid(const sc_ice_t *a, int64_t now_ms, const struct sockaddr_storage *from);

/* Where media is sent: the selected tuple if its consent holds, else NULL. */
const sc_udp_addr_t *sc_ice_send_tuple(const sc_ice_t *a, int64_t now_ms);

/* Authenticated DTLS or SRTP arrived from `from`: if it is a valid tuple
 * it becomes the send tuple (a peer may settle on another pair than the
 * one it nominated). Returns 1 if the send tuple changed. */
int sc_ice_media_from(sc_ice_t *a, int64_t now_ms, const struct sockaddr_storage *from);

typedef enum {
  SC_ICE_NEW = 0,   /* no authenticated check yet */
  SC_ICE_CONNECTED, /* at least one tuple holds consent */
  SC_ICE_EXPIRED,   /* there were tuples, and every one expired: drop the session */
} sc_ice_state_t;
sc_ice_state_t sc_ice_state(const sc_ice_t *a, int64_t now_ms);

#endif
