/*
 * dv_crypto: see dv_crypto.h. A mode is one row of dv_modes: its primitive
 * (detached: ciphertext and tag apart), whether it is an AEAD over the
 * clear header ("rtpsize") or a secretbox with the tag first, and where its
 * nonce comes from (counter, random suffix, or the clear header). One open
 * and one seal path serve every mode; the header itself is read by the
 * core's RTP parser (sc_rtp).
 */
#include "dv_crypto.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "sc_bytes.h"
#include "sc_rtp.h"
#include "sc_token.h"

#define DV_MAX_NONCE 24
#define DV_REPLAY_WINDOW 64
#define DV_SUFFIX_RECENT 64 /* suffix nonces remembered for replay checks */
#define DV_SUFFIX_PREFIX 16 /* random part of our own suffix nonces */
/* Largest UDP payload; also keeps every length below INT_MAX for OpenSSL. */
#define DV_MAX_DATAGRAM 65535
#define DV_RTP_HEADER 12
#define DV_RTCP_HEADER 8

typedef enum { NONCE_COUNTER, NONCE_SUFFIX, NONCE_HEADER } dv_nonce_kind_t;

/* One AEAD/secretbox call. nonce is zero beyond the bytes the mode fills;
 * tag is output of encrypt and input of decrypt (a copy, so the packet
 * stays const). aad is ignored by secretbox. */
typedef struct {
  uint8_t nonce[DV_MAX_NONCE];
  const uint8_t *aad;
  size_t aad_len;
  const uint8_t *in;
  uint8_t *out;
  size_t len;
  uint8_t tag[DV_TAG_LEN];
} dv_aead_io_t;

typedef struct {
  const char *name;
  int aead; /* 1: rtpsize AEAD; 0: secretbox (tag before ciphertext) */
  dv_nonce_kind_t nonce;
  size_t wire_nonce; /* nonce bytes at the end of the datagram */
  int (*init)(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN]);
  void (*fini)(dv_cipher_t *c);
  int (*encrypt)(dv_cipher_t *c, dv_aead_io_t *io);
  int (*decrypt)(dv_cipher_t *c, dv_aead_io_t *io); /* 0 or -EBADMSG */
} dv_mode_desc_t;

/* Sliding window over one stream's 32-bit counters. */
typedef struct {
  int any;         /* top is valid */
  uint32_t top;    /* highest counter accepted */
  uint64_t window; /* bit i set: counter top - i accepted */
} dv_replay_t;

/* Where the parts of one received datagram are. */
typedef struct {
  sc_rtp_info_t rtp;
  size_t clear; /* bytes before the sealed part */
  const uint8_t *ct, *tag, *wire_nonce;
  size_t ct_len;
} dv_frame_t;

/* Bytes of libsodium's AES-GCM state that a packet reads: 1.0.18's
 * AES-NI code keeps H and the 15 round keys at the front of its 512-byte
 * state. Only the prefetch range depends on it (a hint; a wrong value
 * costs speed, never correctness). */
#define DV_AES_STATE_HOT (16 + 15 * 16) /* H, then rkeys[0..14] */

/* Worker thread only (control thread until handed over).
 * Layout: the media plane prefetches one range of a receiver's cipher
 * before sealing for a room (dv_cipher_ops.hot_range), so what every
 * packet reads sits together: one cache line of per-packet fields, then
 * the key material right after it. Fields for creation, the OpenSSL
 * fallback and the suffix mode come first, outside the range. */
struct dv_cipher {
  int portable;        /* 1: use EVP even where the fast path is available */
  EVP_CIPHER_CTX *enc; /* AES-GCM fallback: key schedule set once at creation */
  EVP_CIPHER_CTX *dec;
  uint8_t suffix_prefix[DV_SUFFIX_PREFIX];
  /* suffix mode only (512 bytes that every other mode's member would
   * carry for nothing): folds of recent nonces */
  uint64_t *recent;
  unsigned recent_next, recent_n;
  /* Read only for payloads that end like a DAVE frame: off the hot line. */
  dv_e2ee_gate_t *gate;

  /* ---- read by every packet: one cache line ---- */
  _Alignas(SC_CACHE_LINE) const dv_mode_desc_t *mode;
  uint64_t send_counter; /* last nonce counter seal used; 64-bit to see exhaustion */
  /* [0] RTP, [1] RTCP: whether a client numbers both from one counter or
   * from two, one stream can never push the other out of its window.
   * xsalsa20_poly1305 uses [0] over extended RTP sequence numbers. */
  dv_replay_t rx[2];
  uint32_t key_len; /* bytes of key material (key_of) */
  uint32_t key_hot; /* of which a packet reads (for the prefetch range) */
  /* The key material follows on the next cache line (key_of): for
   * AES-GCM on the fast path libsodium's state (AES-NI/PCLMUL, key
   * schedule and GHASH key expanded once by crypto_aead_aes256gcm_beforenm,
   * so a packet costs only the cipher work; OpenSSL 3's EVP sequence spends
   * about half its per-packet instructions in parameter handling,
   * docs/BENCHMARKS.md, so it is only the fallback); for the libsodium
   * modes the 32-byte key; nothing for the EVP fallback. */
};

/* Where the key material starts: the first cache line after the struct
 * (16-byte alignment is what libsodium's AES state needs). */
#define DV_KEY_OFFSET ((sizeof(dv_cipher_t) + SC_CACHE_LINE - 1) / SC_CACHE_LINE * SC_CACHE_LINE)

static uint8_t *key_of(const dv_cipher_t *c) {
  return (uint8_t *)c + DV_KEY_OFFSET;
}

/* Bytes of key material a mode needs (0: the EVP fallback). */
static size_t key_bytes(dv_mode_t mode, int portable) {
  if (mode != DV_MODE_AES256_GCM_RTPSIZE) return DV_KEY_LEN;
  if (portable || sodium_init() < 0 || !crypto_aead_aes256gcm_is_available()) return 0;
  return sizeof(crypto_aead_aes256gcm_state);
}

/* For an AES-GCM cipher: the libsodium state, or NULL when it runs
 * through EVP. */
static crypto_aead_aes256gcm_state *sodium_gcm(dv_cipher_t *c) {
  return c->key_len ? (crypto_aead_aes256gcm_state *)(void *)key_of(c) : NULL;
}

/* ---- AES-256-GCM (OpenSSL): per packet only IV, AAD, data and tag ---- */

static int gcm_init(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN]) {
  if (sodium_gcm(c)) return crypto_aead_aes256gcm_beforenm(sodium_gcm(c), key) == 0 ? 0 : -EIO;
  c->enc = EVP_CIPHER_CTX_new();
  c->dec = EVP_CIPHER_CTX_new();
  if (!c->enc || !c->dec) return -ENOMEM;
  if (EVP_EncryptInit_ex(c->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(c->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
    return -EIO;
  return 0;
}

static void gcm_fini(dv_cipher_t *c) {
  EVP_CIPHER_CTX_free(c->enc); /* also cleanses the key schedule */
  EVP_CIPHER_CTX_free(c->dec);
}

static int gcm_encrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  crypto_aead_aes256gcm_state *st = sodium_gcm(c);
  if (st) {
    crypto_aead_aes256gcm_encrypt_detached_afternm(io->out, io->tag, NULL, io->in, io->len, io->aad,
                                                   io->aad_len, NULL, io->nonce, st);
    return 0;
  }
  EVP_CIPHER_CTX *x = c->enc;
  uint8_t fin[DV_TAG_LEN];
  int n;
  if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, io->nonce) != 1) return -EIO;
  if (io->aad_len && EVP_EncryptUpdate(x, NULL, &n, io->aad, (int)io->aad_len) != 1) return -EIO;
  if (io->len && EVP_EncryptUpdate(x, io->out, &n, io->in, (int)io->len) != 1) return -EIO;
  if (EVP_EncryptFinal_ex(x, fin, &n) != 1) return -EIO;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, DV_TAG_LEN, io->tag) != 1) return -EIO;
  return 0;
}

static int gcm_decrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  crypto_aead_aes256gcm_state *st = sodium_gcm(c);
  if (st)
    return crypto_aead_aes256gcm_decrypt_detached_afternm(io->out, NULL, io->in, io->len, io->tag,
                                                          io->aad, io->aad_len, io->nonce, st) == 0
               ? 0
               : -EBADMSG;
  EVP_CIPHER_CTX *x = c->dec;
  uint8_t fin[DV_TAG_LEN];
  int n;
  if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, io->nonce) != 1) return -EIO;
  if (io->aad_len && EVP_DecryptUpdate(x, NULL, &n, io->aad, (int)io->aad_len) != 1)
    return -EBADMSG;
  if (io->len && EVP_DecryptUpdate(x, io->out, &n, io->in, (int)io->len) != 1) return -EBADMSG;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, DV_TAG_LEN, io->tag) != 1) return -EIO;
  return EVP_DecryptFinal_ex(x, fin, &n) > 0 ? 0 : -EBADMSG;
}

/* ---- libsodium: XChaCha20-Poly1305 IETF and XSalsa20-Poly1305 ---- */

static int sodium_key_init(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN]) {
  if (sodium_init() < 0) return -EIO;
  memcpy(key_of(c), key, DV_KEY_LEN);
  sc_token_random(c->suffix_prefix, sizeof c->suffix_prefix);
  return 0;
}

static void sodium_key_fini(dv_cipher_t *c) {
  (void)c; /* key wiped by dv_cipher_free */
}

static int suffix_init(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN]) {
  c->recent = calloc(DV_SUFFIX_RECENT, sizeof *c->recent);
  if (!c->recent) return -ENOMEM;
  return sodium_key_init(c, key);
}

static void suffix_fini(dv_cipher_t *c) {
  free(c->recent);
}

static int xchacha_encrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  unsigned long long taglen;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      io->out, io->tag, &taglen, io->in, io->len, io->aad, io->aad_len, NULL, io->nonce, key_of(c));
  return 0;
}

static int xchacha_decrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
      io->out, NULL, io->in, io->len, io->tag, io->aad, io->aad_len, io->nonce, key_of(c));
  return rc == 0 ? 0 : -EBADMSG;
}

static int secretbox_encrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  return crypto_secretbox_detached(io->out, io->tag, io->in, io->len, io->nonce, key_of(c)) == 0
             ? 0
             : -EIO;
}

static int secretbox_decrypt(dv_cipher_t *c, dv_aead_io_t *io) {
  int rc = crypto_secretbox_open_detached(io->out, io->in, io->tag, io->len, io->nonce, key_of(c));
  return rc == 0 ? 0 : -EBADMSG;
}

static const dv_mode_desc_t dv_modes[DV_MODE_COUNT] = {
    [DV_MODE_AES256_GCM_RTPSIZE] = {"aead_aes256_gcm_rtpsize", 1, NONCE_COUNTER, 4, gcm_init,
                                    gcm_fini, gcm_encrypt, gcm_decrypt},
    [DV_MODE_XCHACHA20_POLY1305_RTPSIZE] = {"aead_xchacha20_poly1305_rtpsize", 1, NONCE_COUNTER, 4,
                                            sodium_key_init, sodium_key_fini, xchacha_encrypt,
                                            xchacha_decrypt},
    [DV_MODE_XSALSA20_POLY1305_LITE] = {"xsalsa20_poly1305_lite", 0, NONCE_COUNTER, 4,
                                        sodium_key_init, sodium_key_fini, secretbox_encrypt,
                                        secretbox_decrypt},
    [DV_MODE_XSALSA20_POLY1305_SUFFIX] = {"xsalsa20_poly1305_suffix", 0, NONCE_SUFFIX, 24,
                                          suffix_init, suffix_fini, secretbox_encrypt,
                                          secretbox_decrypt},
    [DV_MODE_XSALSA20_POLY1305] = {"xsalsa20_poly1305", 0, NONCE_HEADER, 0, sodium_key_init,
                                   sodium_key_fini, secretbox_encrypt, secretbox_decrypt},
};

/* ---- replay protection ----
 * Counters compare modulo 2^32 (serial-number arithmetic), so the window
 * slides across the wrap from 0xFFFFFFFF to 0. */

static int replay_seen(const dv_replay_t *r, uint32_t ctr) {
  uint32_t ahead = ctr - r->top;
  if (!r->any || (ahead != 0 && ahead < 0x80000000u)) return 0;
  uint32_t behind = r->top - ctr;
  if (behind >= DV_REPLAY_WINDOW) return 1;
  return (int)((r->window >> behind) & 1u);
}

static void replay_mark(dv_replay_t *r, uint32_t ctr) {
  uint32_t ahead = ctr - r->top;
  if (!r->any) {
    r->any = 1;
    r->top = ctr;
    r->window = 1;
  } else if (ahead != 0 && ahead < 0x80000000u) {
    r->window = ahead >= DV_REPLAY_WINDOW ? 1 : (r->window << ahead) | 1u;
    r->top = ctr;
  } else {
    r->window |= (uint64_t)1 << (r->top - ctr);
  }
}

static int replay_window(dv_replay_t *r, uint32_t ctr) {
  if (replay_seen(r, ctr)) return -EALREADY;
  replay_mark(r, ctr);
  return 0;
}

/* A 16-bit RTP sequence number placed next to the highest one accepted,
 * so the 32-bit window also works for xsalsa20_poly1305. */
static uint32_t extend_seq(const dv_replay_t *r, uint16_t seq) {
  if (!r->any) return seq;
  return r->top + (uint32_t)(int32_t)(int16_t)(uint16_t)(seq - (uint16_t)r->top);
}

/* Remembers a 64-bit fold of each nonce: any byte of it may be the one
 * that varies (clients: random; ours: a counter at the end). */
static int replay_suffix(dv_cipher_t *c, const uint8_t *nonce) {
  uint64_t v = 0;
  for (int i = 0; i < 24; i++) v ^= (uint64_t)nonce[i] << (8 * (i % 8));
  for (unsigned i = 0; i < c->recent_n; i++)
    if (c->recent[i] == v) return -EALREADY;
  c->recent[c->recent_next] = v;
  c->recent_next = (c->recent_next + 1) % DV_SUFFIX_RECENT;
  if (c->recent_n < DV_SUFFIX_RECENT) c->recent_n++;
  return 0;
}

/* Only authentic packets get here: forged ones cannot move any window. */
static int replay_check(dv_cipher_t *c, const dv_frame_t *f) {
  switch (c->mode->nonce) {
    case NONCE_COUNTER: return replay_window(&c->rx[f->rtp.is_rtcp], sc_rd32(f->wire_nonce));
    case NONCE_SUFFIX: return replay_suffix(c, f->wire_nonce);
    case NONCE_HEADER:
      return f->rtp.is_rtcp ? 0 : replay_window(&c->rx[0], extend_seq(&c->rx[0], f->rtp.seq));
  }
  return -EINVAL;
}

/* ---- receive ---- */

static int locate(const dv_mode_desc_t *d, const uint8_t *pkt, size_t len, dv_frame_t *f) {
  if (len > DV_MAX_DATAGRAM) return -EINVAL;
  int rc = sc_rtp_parse(pkt, len, &f->rtp);
  if (rc) return rc;
  /* rtpsize: CSRCs and the extension preamble are clear (and AAD);
   * secretbox modes encrypt everything after the fixed header. */
  f->clear = d->aead ? f->rtp.clear_len : f->rtp.is_rtcp ? DV_RTCP_HEADER : DV_RTP_HEADER;
  size_t fixed = f->clear + DV_TAG_LEN + d->wire_nonce;
  if (len < fixed) return -EINVAL;
  f->ct_len = len - fixed;
  const uint8_t *sealed = pkt + f->clear;
  f->tag = d->aead ? sealed + f->ct_len : sealed;
  f->ct = d->aead ? sealed : sealed + DV_TAG_LEN;
  f->wire_nonce = pkt + len - d->wire_nonce;
  if (d->aead && f->rtp.ext_body_len > f->ct_len) return -EINVAL;
  return 0;
}

/* Bytes of an authentic RTP plaintext before the media payload: the
 * extension body (rtpsize), or CSRCs plus the whole extension (legacy). */
static int payload_skip(const dv_mode_desc_t *d, const dv_frame_t *f, const uint8_t *plain,
                        size_t n, size_t *skip) {
  if (f->rtp.is_rtcp || d->aead) {
    *skip = f->rtp.is_rtcp ? 0 : f->rtp.ext_body_len;
    return 0;
  }
  size_t s = 4u * (size_t)f->rtp.csrc_count;
  if (f->rtp.extension) {
    if (n < s + 4) return -EINVAL;
    s += 4 + 4u * sc_rd16(plain + s + 2);
  }
  if (s > n) return -EINVAL;
  *skip = s;
  return 0;
}

/* Strips what precedes the payload and any padding from an authentic
 * plaintext of n bytes and fills *out from the clear header. */
static int fill(const dv_mode_desc_t *d, const uint8_t *pkt, const dv_frame_t *f,
                const uint8_t *plain, size_t n, sc_media_pkt_t *out) {
  size_t skip;
  if (payload_skip(d, f, plain, n, &skip)) return -EINVAL;
  size_t body = n - skip;
  if (f->rtp.padding && !f->rtp.is_rtcp) {
    uint8_t pad = body ? plain[n - 1] : 0;
    if (pad == 0 || pad > body) return -EINVAL;
    body -= pad;
  }
  memset(out, 0, sizeof *out);
  out->is_rtcp = f->rtp.is_rtcp;
  out->marker_pt = pkt[1];
  out->ssrc = f->rtp.ssrc;
  if (!f->rtp.is_rtcp) {
    out->seq = f->rtp.seq;
    out->timestamp = f->rtp.timestamp;
  }
  out->payload = plain + skip;
  out->payload_len = body;
  return 0;
}

int dv_cipher_open(dv_cipher_t *c, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
                   sc_media_pkt_t *out) {
  const dv_mode_desc_t *d = c->mode;
  dv_frame_t f;
  int rc = locate(d, pkt, len, &f);
  if (rc) return rc;
  if (f.ct_len > cap) return -EINVAL;
  dv_aead_io_t io = {.aad = pkt, .aad_len = f.clear, .in = f.ct, .out = plain, .len = f.ct_len};
  memcpy(io.tag, f.tag, DV_TAG_LEN);
  if (d->nonce == NONCE_HEADER)
    memcpy(io.nonce, pkt, f.clear);
  else
    memcpy(io.nonce, f.wire_nonce, d->wire_nonce);
  rc = d->decrypt(c, &io);
  if (rc) return rc;
  rc = replay_check(c, &f);
  if (rc) return rc;
  return fill(d, pkt, &f, plain, f.ct_len, out);
}

/* ---- send: header || sealed payload || wire nonce ---- */

/* Fills nonce for the next packet and writes its wire form to `wire`. */
static void next_nonce(dv_cipher_t *c, const uint8_t *hdr, uint8_t *nonce, uint8_t *wire) {
  switch (c->mode->nonce) {
    case NONCE_COUNTER: sc_wr32(nonce, (uint32_t)++c->send_counter); break;
    case NONCE_SUFFIX: {
      uint64_t ctr = ++c->send_counter;
      memcpy(nonce, c->suffix_prefix, DV_SUFFIX_PREFIX);
      sc_wr32(nonce + DV_SUFFIX_PREFIX, (uint32_t)(ctr >> 32));
      sc_wr32(nonce + DV_SUFFIX_PREFIX + 4, (uint32_t)ctr);
      break;
    }
    case NONCE_HEADER: memcpy(nonce, hdr, DV_RTP_HEADER); break;
  }
  memcpy(wire, nonce, c->mode->wire_nonce);
}

/* Our header never sets X, so bytes 12-13 are sealed bytes. Receivers
 * that look for the extension preamble BE DE there without checking the X
 * bit (@discordjs/voice 0.19.2, VoiceReceiver.parsePacket) would then strip
 * "4 * len" bytes and deliver an empty or cut Opus frame: 1 packet in
 * 65,536 at random. Where the nonce is ours to choose, seal again with the
 * next one; where it is the header (xsalsa20_poly1305) it cannot change. */
static int looks_like_extension(const dv_mode_desc_t *d, const uint8_t *out) {
  return d->nonce != NONCE_HEADER && out[DV_RTP_HEADER] == 0xBE && out[DV_RTP_HEADER + 1] == 0xDE;
}

/* ---- the DAVE gate ---- */

struct dv_e2ee_gate {
  atomic_uint refs;
  atomic_int accept;
};

dv_e2ee_gate_t *dv_e2ee_gate_new(void) {
  dv_e2ee_gate_t *g = malloc(sizeof *g);
  if (!g) return NULL;
  atomic_init(&g->refs, 1);
  atomic_init(&g->accept, 0);
  return g;
}

void dv_e2ee_gate_put(dv_e2ee_gate_t *g) {
  if (g && atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1) free(g);
}

void dv_e2ee_gate_set(dv_e2ee_gate_t *g, int accept) {
  if (g) atomic_store_explicit(&g->accept, accept ? 1 : 0, memory_order_relaxed);
}

void dv_cipher_set_gate(dv_cipher_t *c, dv_e2ee_gate_t *g) {
  dv_e2ee_gate_hold(g);
  dv_e2ee_gate_put(c->gate);
  c->gate = g;
}

int dv_is_e2ee_frame(const uint8_t *payload, size_t len) {
  return len >= 2 && payload[len - 1] == DV_E2EE_MAGIC && payload[len - 2] == DV_E2EE_MAGIC;
}

/* A DAVE frame only to a member whose gate is open (no gate: closed). */
int dv_e2ee_gate_declines(void *gate, const sc_media_pkt_t *in) {
  const dv_e2ee_gate_t *g = gate;
  if (!dv_is_e2ee_frame(in->payload, in->payload_len)) return 0;
  return !g || !atomic_load_explicit(&g->accept, memory_order_relaxed);
}

void dv_e2ee_gate_hold(dv_e2ee_gate_t *g) {
  if (g) atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
}

void dv_e2ee_gate_release(void *g) {
  dv_e2ee_gate_put(g);
}

static int declines(const dv_cipher_t *c, const sc_media_pkt_t *in) {
  return dv_e2ee_gate_declines(c->gate, in);
}

int dv_cipher_seal(dv_cipher_t *c, const sc_media_pkt_t *in, uint8_t *out, size_t cap) {
  const dv_mode_desc_t *d = c->mode;
  if (in->is_rtcp) return -EINVAL;
  if (declines(c, in)) return SC_MEDIA_SEAL_DECLINED;
  size_t n = in->payload_len, over = DV_RTP_HEADER + DV_TAG_LEN + d->wire_nonce;
  if (n > cap || cap - n < over) return -ENOSPC;
  if (n > DV_MAX_DATAGRAM - over) return -EMSGSIZE;
  /* Never wrap: a repeated nonce under the same key breaks every mode
   * (checked before every nonce, see the reseal loop below). */
  out[0] = 0x80;
  out[1] = in->marker_pt;
  sc_wr16(out + 2, in->seq);
  sc_wr32(out + 4, in->timestamp);
  sc_wr32(out + 8, in->ssrc);
  uint8_t *sealed = out + DV_RTP_HEADER;
  dv_aead_io_t io = {.aad = out,
                     .aad_len = DV_RTP_HEADER,
                     .in = in->payload,
                     .out = d->aead ? sealed : sealed + DV_TAG_LEN,
                     .len = n};
  do {
    if (d->nonce == NONCE_COUNTER && c->send_counter >= UINT32_MAX) return -EOVERFLOW;
    next_nonce(c, out, io.nonce, sealed + DV_TAG_LEN + n);
    int rc = d->encrypt(c, &io);
    if (rc) return rc;
    memcpy(d->aead ? sealed + n : sealed, io.tag, DV_TAG_LEN);
  } while (looks_like_extension(d, out));
  return (int)(n + over);
}

/* ---- modes, lifetime, vtable ---- */

int dv_mode_from_name(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < DV_MODE_COUNT; i++)
    if (strcmp(dv_modes[i].name, name) == 0) return i;
  return -1;
}

const char *dv_mode_name(dv_mode_t mode) {
  if ((unsigned)mode >= DV_MODE_COUNT) return NULL;
  return dv_modes[mode].name;
}

size_t dv_mode_overhead(dv_mode_t mode) {
  if ((unsigned)mode >= DV_MODE_COUNT) return 0;
  return DV_RTP_HEADER + DV_TAG_LEN + dv_modes[mode].wire_nonce;
}

static dv_cipher_t *cipher_new(dv_mode_t mode, const uint8_t key[DV_KEY_LEN], int portable) {
  if ((unsigned)mode >= DV_MODE_COUNT || !key) return NULL;
  size_t klen = key_bytes(mode, portable), align = _Alignof(dv_cipher_t);
  /* aligned_alloc wants a multiple of the alignment */
  size_t size = (DV_KEY_OFFSET + klen + align - 1) / align * align;
  dv_cipher_t *c = aligned_alloc(align, size);
  if (!c) return NULL;
  memset(c, 0, size);
  c->portable = portable;
  c->key_len = (uint32_t)klen;
  c->key_hot = mode == DV_MODE_AES256_GCM_RTPSIZE && klen ? DV_AES_STATE_HOT : (uint32_t)klen;
  c->mode = &dv_modes[mode];
  if (c->mode->init(c, key) != 0) {
    dv_cipher_free(c);
    return NULL;
  }
  return c;
}

dv_cipher_t *dv_cipher_new(dv_mode_t mode, const uint8_t key[DV_KEY_LEN]) {
  return cipher_new(mode, key, 0);
}

dv_cipher_t *dv_cipher_new_portable(dv_mode_t mode, const uint8_t key[DV_KEY_LEN]) {
  return cipher_new(mode, key, 1);
}

void dv_cipher_free(dv_cipher_t *c) {
  if (!c) return;
  c->mode->fini(c);
  dv_e2ee_gate_put(c->gate);
  sodium_memzero(c, DV_KEY_OFFSET + c->key_len);
  free(c);
}

void dv_cipher_set_send_counter(dv_cipher_t *c, uint32_t next_minus_one) {
  c->send_counter = next_minus_one;
}

static int ops_open(void *state, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
                    sc_media_pkt_t *out) {
  return dv_cipher_open(state, pkt, len, plain, cap, out);
}

static int ops_seal(void *state, const sc_media_pkt_t *in, uint8_t *out, size_t cap) {
  return dv_cipher_seal(state, in, out, cap);
}

static void ops_free(void *state) {
  dv_cipher_free(state);
}

/* The per-packet line and the part of the key material a packet reads. */
static void ops_hot_range(const void *state, const void **base, size_t *len) {
  const dv_cipher_t *c = state;
  *base = &c->mode;
  *len = DV_KEY_OFFSET - offsetof(dv_cipher_t, mode) + c->key_hot;
}

const sc_cipher_ops_t dv_cipher_ops = {ops_open, ops_seal, ops_free, ops_hot_range};
