/*
 * sc_stun: STUN messages as ICE uses them (RFC 8489, RFC 8445 §7.1.1):
 * a bounded parser, the MESSAGE-INTEGRITY (HMAC-SHA1, short-term
 * credentials) and FINGERPRINT checks, and builders for the binding
 * success and error responses. No policy: which request is answered, and
 * how, is sc_ice's.
 *
 * Owns: nothing. Pure functions over (buf, len) and caller buffers; the
 * parsed message points into buf. No I/O, no allocation (the HMAC runs
 * on OpenSSL's SHA-1 with the context on the stack: the EVP HMAC of
 * OpenSSL 3 allocates a provider context per call), no state; safe on any
 * thread and on any input.
 */
#ifndef SC_STUN_H
#define SC_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SC_STUN_HEADER_LEN 20
#define SC_STUN_COOKIE 0x2112A442u
#define SC_STUN_TID_LEN 12
/* Bounds of what is parsed at all: a longer datagram or more attributes
 * is malformed. A browser's check is about 100 bytes and 8 attributes. */
#define SC_STUN_MAX_LEN 2048
#define SC_STUN_MAX_ATTRS 32
#define SC_STUN_USERNAME_MAX 513 /* RFC 8489 §14.3 */
/* Unknown comprehension-required attributes kept for a 420 answer. */
#define SC_STUN_MAX_UNKNOWN 4

#define SC_STUN_BINDING_REQUEST 0x0001
#define SC_STUN_BINDING_INDICATION 0x0011
#define SC_STUN_BINDING_SUCCESS 0x0101
#define SC_STUN_BINDING_ERROR 0x0111

/* Length of the success response sc_stun_build_success writes without a
 * SOFTWARE attribute: header, XOR-MAPPED-ADDRESS, MI, FINGERPRINT. */
#define SC_STUN_SUCCESS_LEN_V4 64
#define SC_STUN_SUCCESS_LEN_V6 76

/* A parsed message. Pointers point into the parsed buffer. Attributes
 * after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489
 * §14.5); of a repeated attribute the first counts. */
typedef struct {
  uint16_t type; /* method and class, e.g. SC_STUN_BINDING_REQUEST */
  uint8_t tid[SC_STUN_TID_LEN];
  size_t len;  /* of the whole message (header included) */
  int n_attrs; /* every attribute seen, ignored ones included */

  const uint8_t *username; /* NULL if absent */
  size_t username_len;
  /* USERNAME split at its first ':' (RFC 8445 §7.2.2: "ours:theirs" as
   * the receiver sees it); without a ':' our_ufrag is the whole name. */
  const uint8_t *our_ufrag, *peer_ufrag;
  size_t our_ufrag_len, peer_ufrag_len;

  int has_priority;
  uint32_t priority;
  int use_candidate;
  int has_controlling, has_controlled;
  uint64_t tiebreaker; /* of ICE-CONTROLLING or ICE-CONTROLLED */

  size_t mi_off; /* offset of the MESSAGE-INTEGRITY attribute; 0 = absent */
  size_t fp_off; /* offset of the FINGERPRINT attribute; 0 = absent */

  /* Comprehension-required (< 0x8000) attributes this parser does not
   * know, before MESSAGE-INTEGRITY: n_unknown counts all, unknown[] keeps
   * the first SC_STUN_MAX_UNKNOWN. */
  int n_unknown;
  uint16_t unknown[SC_STUN_MAX_UNKNOWN];

  /* Responses (tests and tools read these). */
  int has_mapped;
  struct sockaddr_storage mapped; /* XOR-MAPPED-ADDRESS, decoded */
  int error_code;                 /* ERROR-CODE class*100 + number; 0 = absent */
} sc_stun_msg_t;

/* Parses a STUN message. 0, or -EINVAL if it is malformed: not the STUN
 * header (sc_demux_is_stun: byte 0 < 4, cookie, length), longer than SC_STUN_MAX_LEN, an attribute
 * that does not fit with its padding, more than SC_STUN_MAX_ATTRS
 * attributes, a known attribute of the wrong length (USERNAME 1..513,
 * PRIORITY 4, USE-CANDIDATE 0, ICE-CONTROLLING/CONTROLLED 8, MI 20,
 * FINGERPRINT 4, XOR-MAPPED-ADDRESS 8 or 20, ERROR-CODE 4..767), or
 * anything after FINGERPRINT. */
int sc_stun_parse(const uint8_t *buf, size_t len, sc_stun_msg_t *m);

/* Our ufrag from a message's USERNAME (the part before ':'), for the
 * worker's lookup of the agent, without verifying anything: the caller
 * must still pass the message to its agent. 0 and *ufrag points into buf,
 * or -EINVAL (malformed, no USERNAME, or an empty ufrag). */
int sc_stun_peek_ufrag(const uint8_t *buf, size_t len, const uint8_t **ufrag, size_t *ufrag_len);

/* A short-term credential key (RFC 8489 §9.1.1: the password itself),
 * padded to SHA-1's block as HMAC needs it. */
typedef struct {
  uint8_t block[64];
} sc_stun_key_t;

/* pwd is used as given (ICE passwords are ASCII: no SASLprep needed). */
void sc_stun_key_init(sc_stun_key_t *k, const void *pwd, size_t pwd_len);

/* 1 if m (parsed from buf) carries a MESSAGE-INTEGRITY that verifies
 * under k, compared in constant time; 0 if absent or wrong. */
int sc_stun_check_integrity(const uint8_t *buf, const sc_stun_msg_t *m, const sc_stun_key_t *k);

/* 1 if m carries a correct FINGERPRINT (CRC-32 of what precedes it XOR
 * 0x5354554E); 0 if absent or wrong. */
int sc_stun_check_fingerprint(const uint8_t *buf, const sc_stun_msg_t *m);

/* CRC-32 (ISO-HDLC, zlib's crc32) of buf: own table, no zlib. */
uint32_t sc_stun_crc32(const uint8_t *buf, size_t len);

/* A binding success response: type 0x0101, transaction tid,
 * [SOFTWARE software if not NULL,] XOR-MAPPED-ADDRESS of mapped (IPv4, or
 * IPv6; an IPv4-mapped IPv6 address is written as IPv4), MESSAGE-INTEGRITY
 * under k, FINGERPRINT. Returns the length, -ENOSPC if it does not fit in
 * cap (nothing useful written), -EAFNOSUPPORT for another family. */
int sc_stun_build_success(const uint8_t tid[SC_STUN_TID_LEN], const struct sockaddr *mapped,
                          const char *software, const sc_stun_key_t *k, uint8_t *out, size_t cap);

/* A binding error response: type 0x0111, tid, ERROR-CODE code (300..699)
 * with a short reason phrase, UNKNOWN-ATTRIBUTES listing unknown[0..n)
 * when n > 0 (420), then MESSAGE-INTEGRITY under k (if k is not NULL)
 * and FINGERPRINT. Returns the length, -ENOSPC, or -EINVAL (bad code). */
int sc_stun_build_error(const uint8_t tid[SC_STUN_TID_LEN], int code, const uint16_t *unknown,
                        int n, const sc_stun_key_t *k, uint8_t *out, size_t cap);

#endif
