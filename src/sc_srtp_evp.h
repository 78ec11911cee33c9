/*
 * sc_srtp_evp: libsrtp2's primitives for both profiles we negotiate on
 * OpenSSL: AES-128-GCM, AES-128-ICM (the CM profile's cipher and libsrtp's
 * key derivation) and HMAC-SHA1, registered with libsrtp's own
 * srtp_replace_cipher_type / srtp_replace_auth_type. libsrtp keeps doing
 * SRTP (key derivation, replay windows, ROC, streams); only the
 * primitives change.
 *
 * Why: Debian's libsrtp2 is built on NSS, whose AES-GCM builds and frees
 * a PKCS#11 context on every packet (allocations, locks) and looks its key
 * up in tables that slow down with every key alive (libsrtp initialises
 * NSS with NSS_INIT_OPTIMIZESPACE): one protect costs several times more
 * with a thousand members connected than with one, and each cipher holds
 * about 8 KiB of NSS state (docs/BENCHMARKS.md, WebRTC members); its
 * AES-ICM and HMAC do the same. One AES-ECB EVP_CIPHER_CTX per cipher
 * (plus OpenSSL's GCM128 state for GCM) and three SHA_CTX per HMAC, keyed
 * once, allocate nothing per packet.
 *
 * Owns: the types (static) and, per libsrtp cipher, one EVP_CIPHER_CTX
 * (and a GCM128_CONTEXT for GCM),
 * per HMAC its SHA-1 states (libsrtp allocates and frees them through the
 * types).
 * Threads: sc_srtp_evp_register once, before any session exists (sc_srtp's
 * one-time init); a cipher is used by the thread that uses its session.
 * Memory: alloc/dealloc per cipher; nothing per packet. Only if AES-ICM could
 * not be replaced, one idle libsrtp session of the CM profile lives as
 * long as the process, so NSS stays loaded for the key derivation
 * (sc_srtp_evp.c says why).
 */
#ifndef SC_SRTP_EVP_H
#define SC_SRTP_EVP_H

#define SC_SRTP_EVP_GCM 1  /* AES-128-GCM */
#define SC_SRTP_EVP_ICM 2  /* AES-128-ICM */
#define SC_SRTP_EVP_HMAC 4 /* HMAC-SHA1 */

/* Replaces libsrtp's AES-128-GCM, AES-128-ICM and HMAC-SHA1 with these;
 * libsrtp first runs its known-answer tests, ours and those of the type
 * it replaces, on each. Returns 0, or -1 if one was refused (libsrtp
 * keeps its own for that one). Call once, after srtp_init(). */
int sc_srtp_evp_register(void);

/* The SC_SRTP_EVP_* bits of the primitives now on OpenSSL. */
int sc_srtp_evp_active(void);

#endif
