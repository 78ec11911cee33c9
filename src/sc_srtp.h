/*
 * sc_srtp: SRTP/SRTCP for one WebRTC member, both directions, keyed from
 * the DTLS-SRTP export (sc_dtls). A thin interface over libsrtp2, so that
 * an in-place implementation on OpenSSL EVP could replace it later
 * without touching the callers.
 *
 * Owns: one inbound and one outbound libsrtp session per sc_srtp_t, and
 * the table of SSRCs each direction has seen (a fixed budget: libsrtp
 * allocates one stream per new SSRC, so a member can never make it
 * allocate more than its budget of them).
 * Threads: sc_srtp_global_init() once from any thread before the first
 * sc_srtp_new (it is idempotent and thread-safe). An sc_srtp_t is used
 * by one thread at a time; it may be handed from one thread to another.
 * Memory: sc_srtp_new allocates everything the member needs; protect and
 * unprotect work in place in the caller's buffer and allocate only for the
 * first packet of a new SSRC (libsrtp's stream). sc_srtp_free frees it all.
 */
#ifndef SC_SRTP_H
#define SC_SRTP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profile ids (RFC 5764, RFC 7714). */
#define SC_SRTP_AES128_CM_SHA1_80 0x0001
#define SC_SRTP_AEAD_AES_128_GCM 0x0007

#define SC_SRTP_KEY_MAX 16  /* master key bytes of the supported profiles */
#define SC_SRTP_SALT_MAX 14 /* master salt bytes (12 for GCM) */

/* Room a protect call needs after the packet: libsrtp's worst-case
 * trailer (tag + MKI) plus SRTCP's 4-byte E flag and index. */
#define SC_SRTP_SPARE 148

/* Errors (negative errno values) of protect and unprotect. */
#define SC_SRTP_E_AUTH (-EBADMSG)    /* authentication failed */
#define SC_SRTP_E_REPLAY (-EALREADY) /* replayed, or older than the window */
#define SC_SRTP_E_STREAMS (-ENOSPC)  /* the SSRC budget is used up */
#define SC_SRTP_E_INVAL (-EINVAL)    /* not a packet libsrtp accepts */
#define SC_SRTP_E_NOBUFS (-ENOBUFS)  /* less than SC_SRTP_SPARE room */
#define SC_SRTP_E_IO (-EIO)          /* any other libsrtp error */

/* The keys one side of a DTLS-SRTP association uses: local protects what
 * we send, remote unprotects what the peer sends. */
typedef struct {
  uint16_t profile; /* SC_SRTP_* */
  uint8_t key_len, salt_len;
  uint8_t local_key[SC_SRTP_KEY_MAX], local_salt[SC_SRTP_SALT_MAX];
  uint8_t remote_key[SC_SRTP_KEY_MAX], remote_salt[SC_SRTP_SALT_MAX];
} sc_srtp_keys_t;

/* Key and salt lengths of a profile: 0, or -EINVAL if unsupported. */
int sc_srtp_profile_lengths(uint16_t profile, size_t *key_len, size_t *salt_len);
/* "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM" or "unknown". */
const char *sc_srtp_profile_name(uint16_t profile);

/* Initialises libsrtp once per process. 0 or SC_SRTP_E_IO. */
int sc_srtp_global_init(void);

typedef struct sc_srtp sc_srtp_t;

/* A member's two sessions (replay window 1024 positions inbound, 256
 * outbound; repeated sends allowed), each allowed max_streams SSRCs
 * (1..64). 0, -EINVAL (bad profile or lengths), -ENOMEM or SC_SRTP_E_IO. */
int sc_srtp_new(sc_srtp_t **out, const sc_srtp_keys_t *keys, int max_streams);
/* The same with a budget per direction: max_in SSRCs the peer may send,
 * max_out SSRCs we may send it (each 1..64; 4 bytes per SSRC slot). */
int sc_srtp_new_budget(sc_srtp_t **out, const sc_srtp_keys_t *keys, int max_in, int max_out);
void sc_srtp_free(sc_srtp_t *s);

/* Protect in place: pkt holds len clear bytes in a buffer of cap bytes
 * (cap >= len + SC_SRTP_SPARE). Returns the protected length or an
 * SC_SRTP_E_* error. */
int sc_srtp_protect_rtp(sc_srtp_t *s, uint8_t *pkt, size_t len, size_t cap);
int sc_srtp_protect_rtcp(sc_srtp_t *s, uint8_t *pkt, size_t len, size_t cap);

/* Unprotect in place: returns the clear length or an SC_SRTP_E_* error
 * (SC_SRTP_E_AUTH, SC_SRTP_E_REPLAY, ...). The packet is garbage after
 * an error. */
int sc_srtp_unprotect_rtp(sc_srtp_t *s, uint8_t *pkt, size_t len);
int sc_srtp_unprotect_rtcp(sc_srtp_t *s, uint8_t *pkt, size_t len);

/* Forgets an SSRC in one direction (a departed sender, a stream we no
 * longer forward) and frees its libsrtp stream. 0 or -ENOENT. */
int sc_srtp_remove_inbound(sc_srtp_t *s, uint32_t ssrc);
int sc_srtp_remove_outbound(sc_srtp_t *s, uint32_t ssrc);

/* SSRCs currently known in each direction. */
int sc_srtp_inbound_streams(const sc_srtp_t *s);
int sc_srtp_outbound_streams(const sc_srtp_t *s);

#endif
