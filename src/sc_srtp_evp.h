/*
 * sc_srtp_evp: AES-GCM for libsrtp2 on OpenSSL EVP, registered with
 * libsrtp's own srtp_replace_cipher_type. libsrtp keeps doing SRTP (key
 * derivation, replay windows, ROC, streams); only its AES-GCM primitive
 * changes.
 *
 * Why: Debian's libsrtp2 is built on NSS, whose AES-GCM builds and frees
 * a PKCS#11 context on every packet (allocations, locks) and looks its key
 * up in tables that slow down with every key alive (libsrtp initialises
 * NSS with NSS_INIT_OPTIMIZESPACE): one protect costs several times more
 * with a thousand members connected than with one, and each cipher holds
 * about 8 KiB of NSS state (docs/BENCHMARKS.md, WebRTC members). One
 * EVP_CIPHER_CTX per cipher, keyed once, allocates nothing per packet.
 *
 * Owns: the cipher type (static) and, per libsrtp cipher, one
 * EVP_CIPHER_CTX (libsrtp allocates and frees ciphers through the type).
 * Threads: sc_srtp_evp_register once, before any session exists (sc_srtp's
 * one-time init); a cipher is used by the thread that uses its session.
 * Memory: alloc/dealloc per cipher; nothing per packet. One idle libsrtp
 * session of the (NSS) CM profile lives as long as the process, so NSS
 * stays loaded for the key derivation (sc_srtp_evp.c says why).
 */
#ifndef SC_SRTP_EVP_H
#define SC_SRTP_EVP_H

/* Replaces libsrtp's AES-128-GCM (the profile we negotiate) with the EVP
 * one; libsrtp first runs its known-answer tests, ours and those of the
 * type it replaces, on it. Returns 0, or -1 (libsrtp keeps its own
 * implementation). Call after srtp_init(). */
int sc_srtp_evp_register(void);

/* 1 once AES-128-GCM (the profile browsers negotiate) is the EVP one. */
int sc_srtp_evp_active(void);

#endif
