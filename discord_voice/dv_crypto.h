/*
 * dv_crypto: Discord voice packet protection for one member, behind the
 * media plane's sc_cipher_ops_t (src/sc_media.h).
 *
 * Modes (../shared/reference/discord-voice-protocol.md §2):
 *  - AEAD "rtpsize" (aead_aes256_gcm_rtpsize, aead_xchacha20_poly1305_rtpsize):
 *    the RTP header (incl. CSRCs and the 4-byte extension preamble) is
 *    authenticated in clear; the wire ends with tag16 || nonce4 (counter).
 *  - legacy secretbox (XSalsa20-Poly1305): only the first 12 (RTP) or 8
 *    (RTCP) bytes travel in clear, unauthenticated; everything after them
 *    (CSRCs, extension, payload, padding) is inside tag16 || ciphertext:
 *      xsalsa20_poly1305_lite    ... || nonce4   nonce = u32 BE counter, zeros
 *      xsalsa20_poly1305_suffix  ... || nonce24  nonce = 24 bytes on the wire
 *      xsalsa20_poly1305         (no nonce)     nonce = clear header, zeros
 *
 * Replay protection on receive (only authentic packets move any state):
 *  - counter modes (rtpsize, lite): 64-packet sliding window over the
 *    32-bit nonce counter, one window for RTP and one for RTCP;
 *  - xsalsa20_poly1305: the nonce is the RTP header, so a 64-packet window
 *    over the (extended) RTP sequence number; RTCP has no counter there
 *    and is not replay-checked (it is only counted, never forwarded);
 *  - suffix: nonces are random, so the last 64 nonces are remembered and
 *    a repeat of one of them is dropped; an older replay is not detected.
 * On send, counter modes use this member's own counter (first nonce 1);
 * suffix uses 16 random bytes chosen at creation followed by a 64-bit
 * counter (unique, which is all a nonce needs; no syscall per packet);
 * xsalsa20_poly1305 uses the header, whose uniqueness rests on the
 * senders' sequence numbers (the mode's design; docs/GATEWAY.md).
 *
 * Owns: one dv_cipher_t per member: the key (as cipher contexts prepared
 * once), the receive replay state and this member's own send counter.
 * Threads: dv_cipher_new runs on the control thread; once handed to the
 * media plane with sc_media_post_cipher, open/seal/free run only on the
 * worker thread that owns the member. No globals, no I/O, no allocation
 * per packet.
 * Memory: dv_cipher_new allocates; whoever holds the cipher frees it with
 * dv_cipher_free (after sc_media_post_cipher: the worker, via ops->free).
 * The key material is wiped on free.
 *
 * Note: Discord uses the same key and the same nonce construction in both
 * directions; that is the protocol, not a choice made here.
 */
#ifndef DV_CRYPTO_H
#define DV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "sc_media.h"

/* Mode ids index the module's mode table, in the default offer order. */
typedef enum {
  DV_MODE_AES256_GCM_RTPSIZE,
  DV_MODE_XCHACHA20_POLY1305_RTPSIZE,
  DV_MODE_XSALSA20_POLY1305_LITE,
  DV_MODE_XSALSA20_POLY1305_SUFFIX,
  DV_MODE_XSALSA20_POLY1305,
  DV_MODE_COUNT
} dv_mode_t;

#define DV_KEY_LEN 32
#define DV_TAG_LEN 16
#define DV_WIRE_NONCE_LEN 4
/* Bytes a sealed packet adds to its payload in the rtpsize and lite modes:
 * header, tag, wire nonce (see dv_mode_overhead for every mode). */
#define DV_SEAL_OVERHEAD (12 + DV_TAG_LEN + DV_WIRE_NONCE_LEN)

typedef struct dv_cipher dv_cipher_t;

/* Mode by its protocol name ("aead_aes256_gcm_rtpsize", ...); -1 if unknown. */
int dv_mode_from_name(const char *name);
/* Protocol name of a mode; NULL if out of range. */
const char *dv_mode_name(dv_mode_t mode);
/* Bytes seal() adds to a payload in this mode (12-byte header, tag and
 * wire nonce); 0 if out of range. */
size_t dv_mode_overhead(dv_mode_t mode);

/* New cipher state for one member. Returns NULL on a bad mode or if the
 * crypto library fails. */
dv_cipher_t *dv_cipher_new(dv_mode_t mode, const uint8_t key[DV_KEY_LEN]);
/* The same, but AES-GCM always through OpenSSL EVP (the path used where
 * the CPU lacks AES-NI/PCLMUL): lets tests cover both implementations. */
dv_cipher_t *dv_cipher_new_portable(dv_mode_t mode, const uint8_t key[DV_KEY_LEN]);
void dv_cipher_free(dv_cipher_t *c);

/* Authenticates and decrypts one datagram from the member (RTP, or RTCP if
 * byte 1 is 200..204). Writes the clear payload into plain (cap bytes) and
 * fills *out (out->payload points into plain). For RTP the payload has
 * CSRCs (legacy modes), the extension and padding removed; for RTCP it is
 * everything after the 8-byte header, and only ssrc (the sender's) and
 * marker_pt (the RTCP packet type) are set. Returns 0, -EINVAL if
 * malformed (or cap too small, or bad padding/extension), -EBADMSG if
 * authentication fails, -EALREADY for an authentic packet that is a
 * replay by the mode's rule above. */
int dv_cipher_open(dv_cipher_t *c, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
                   sc_media_pkt_t *out);

/* Builds the datagram to the member: fresh 12-byte RTP header from *in,
 * payload encrypted under the member's key and the mode's next nonce. In
 * every mode whose nonce is not the header, bytes 12-13 are never BE DE
 * (a receiver that ignores the X bit would read an extension there): such
 * a packet is sealed again with the following nonce (1 in 65,536).
 * Returns the datagram length, -ENOSPC if cap is too small, -EINVAL for an
 * RTCP packet, -EOVERFLOW once the 32-bit send counter is used up,
 * SC_MEDIA_SEAL_DECLINED for a DAVE frame the member may not get (below). */
int dv_cipher_seal(dv_cipher_t *c, const sc_media_pkt_t *in, uint8_t *out, size_t cap);

/* ---- DAVE (E2EE) frames and who may receive them ----
 * A DAVE frame (reference dave-server.md section 5) ends with the magic
 * marker FA FA. It is never sealed for a member whose client is not in the
 * call's E2EE group (a client without DAVE, or any member after a
 * downgrade): seal returns SC_MEDIA_SEAL_DECLINED, which the media plane
 * counts. Whether a member may get them is its gate, shared by its session
 * (the control thread sets it) and its cipher (the worker reads it),
 * reference-counted: the last holder frees it. A cipher without a gate
 * gets no DAVE frames. */
#define DV_E2EE_MAGIC 0xFA
typedef struct dv_e2ee_gate dv_e2ee_gate_t;
/* A new gate, closed, with one reference. NULL on ENOMEM. */
dv_e2ee_gate_t *dv_e2ee_gate_new(void);
/* Drops a reference (NULL: nothing). */
void dv_e2ee_gate_put(dv_e2ee_gate_t *g);
/* Opens (accept 1) or closes the gate; in force on the worker's next seal. */
void dv_e2ee_gate_set(dv_e2ee_gate_t *g, int accept);
/* The gate as another transport's receive policy (sc_rtc_params_t):
 * declines an E2EE frame unless g is open; hold takes a reference for
 * it, release drops one. */
int dv_e2ee_gate_declines(void *g, const sc_media_pkt_t *in);
void dv_e2ee_gate_hold(dv_e2ee_gate_t *g);
void dv_e2ee_gate_release(void *g);
/* The cipher takes a reference to g (replacing any gate it had). Call
 * before handing the cipher to the media plane. */
void dv_cipher_set_gate(dv_cipher_t *c, dv_e2ee_gate_t *g);
/* 1 if payload ends with the DAVE marker FA FA. */
int dv_is_e2ee_frame(const uint8_t *payload, size_t len);

/* Tests: the next seal uses nonce counter next_minus_one + 1. */
void dv_cipher_set_send_counter(dv_cipher_t *c, uint32_t next_minus_one);

/* open/seal/free over a void* dv_cipher_t, for sc_media_post_cipher. */
extern const sc_cipher_ops_t dv_cipher_ops;

#endif
