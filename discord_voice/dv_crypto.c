/*
 * dv_crypto: see dv_crypto.h. A mode is one row of dv_modes: its AEAD
 * primitive (detached: ciphertext and tag apart) and its wire layout. The
 * two rtpsize modes share one layout and differ only in the primitive; the
 * legacy xsalsa20 modes will bring their own layout functions.
 */
#include "dv_crypto.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#define DV_MAX_NONCE 24
#define DV_REPLAY_WINDOW 64
/* Largest UDP payload; also keeps every length below INT_MAX for OpenSSL. */
#define DV_MAX_DATAGRAM 65535
#define DV_RTP_HEADER 12
#define DV_RTCP_HEADER 8

/* One AEAD call. nonce is zero beyond the 4 counter bytes; tag is output
 * of encrypt and input of decrypt (a copy, so the packet stays const). */
typedef struct {
  uint8_t nonce[DV_MAX_NONCE];
  const uint8_t *aad;
  size_t aad_len;
  const uint8_t *in;
  uint8_t *out;
  size_t len;
  uint8_t tag[DV_TAG_LEN];
} dv_aead_io_t;

/* Where the clear header ends and what the plaintext carries besides the
 * payload, as read from the clear header of one received packet. */
typedef struct {
  int is_rtcp;
  int padded;
  size_t clear_len; /* authenticated-only prefix */
  size_t ext_body;  /* encrypted extension body at the plaintext's start */
} dv_layout_t;

typedef struct {
  const char *name;
  int (*init)(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN]);
  void (*fini)(dv_cipher_t *c);
  int (*encrypt)(dv_cipher_t *c, dv_aead_io_t *io);
  int (*decrypt)(dv_cipher_t *c, dv_aead_io_t *io); /* 0 or -EBADMSG */
  int (*open)(dv_cipher_t *c, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
              sc_media_pkt_t *out);
  int (*seal)(dv_cipher_t *c, const sc_media_pkt_t *in, uint8_t *out, size_t cap);
} dv_mode_desc_t;

/* Sliding window over one stream's 32-bit nonce counters. */
typedef struct {
  int any;         /* top is valid */
  uint32_t top;    /* highest counter accepted */
  uint64_t window; /* bit i set: counter top - i accepted */
} dv_replay_t;

/* Worker thread only (control thread until handed over). */
struct dv_cipher {
  const dv_mode_desc_t *mode;
  EVP_CIPHER_CTX *enc; /* AES-GCM: key schedule set once at creation */
  EVP_CIPHER_CTX *dec;
  uint8_t key[DV_KEY_LEN]; /* libsodium modes */
  uint64_t send_counter;   /* last nonce counter seal used; 64-bit to see exhaustion */
  /* [0] RTP, [1] RTCP: whether a client numbers both from one counter or
   * from two, one stream can never push the other out of its window. */
  dv_replay_t rx[2];
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* ---- AES-256-GCM (OpenSSL): per packet only IV, AAD, data and tag ---- */

static int gcm_init(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN])
{
  c->enc = EVP_CIPHER_CTX_new();
  c->dec = EVP_CIPHER_CTX_new();
  if (!c->enc || !c->dec) return -ENOMEM;
  if (EVP_EncryptInit_ex(c->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(c->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1)
    return -EIO;
  return 0;
}

static void gcm_fini(dv_cipher_t *c)
{
  EVP_CIPHER_CTX_free(c->enc); /* also cleanses the key schedule */
  EVP_CIPHER_CTX_free(c->dec);
}

static int gcm_encrypt(dv_cipher_t *c, dv_aead_io_t *io)
{
  EVP_CIPHER_CTX *x = c->enc;
  uint8_t fin[DV_TAG_LEN];
  int n;
  if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, io->nonce) != 1) return -EIO;
  if (io->aad_len && EVP_EncryptUpdate(x, NULL, &n, io->aad, (int)io->aad_len) != 1)
    return -EIO;
  if (io->len && EVP_EncryptUpdate(x, io->out, &n, io->in, (int)io->len) != 1) return -EIO;
  if (EVP_EncryptFinal_ex(x, fin, &n) != 1) return -EIO;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, DV_TAG_LEN, io->tag) != 1) return -EIO;
  return 0;
}

static int gcm_decrypt(dv_cipher_t *c, dv_aead_io_t *io)
{
  EVP_CIPHER_CTX *x = c->dec;
  uint8_t fin[DV_TAG_LEN];
  int n;
  if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, io->nonce) != 1) return -EIO;
  if (io->aad_len && EVP_DecryptUpdate(x, NULL, &n, io->aad, (int)io->aad_len) != 1)
    return -EBADMSG;
  if (io->len && EVP_DecryptUpdate(x, io->out, &n, io->in, (int)io->len) != 1)
    return -EBADMSG;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, DV_TAG_LEN, io->tag) != 1) return -EIO;
  return EVP_DecryptFinal_ex(x, fin, &n) > 0 ? 0 : -EBADMSG;
}

/* ---- XChaCha20-Poly1305 IETF (libsodium) ---- */

static int xchacha_init(dv_cipher_t *c, const uint8_t key[DV_KEY_LEN])
{
  if (sodium_init() < 0) return -EIO;
  memcpy(c->key, key, DV_KEY_LEN);
  return 0;
}

static void xchacha_fini(dv_cipher_t *c) { (void)c; /* key wiped by dv_cipher_free */ }

static int xchacha_encrypt(dv_cipher_t *c, dv_aead_io_t *io)
{
  unsigned long long taglen;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(io->out, io->tag, &taglen, io->in,
                                                      io->len, io->aad, io->aad_len, NULL,
                                                      io->nonce, c->key);
  return 0;
}

static int xchacha_decrypt(dv_cipher_t *c, dv_aead_io_t *io)
{
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
      io->out, NULL, io->in, io->len, io->tag, io->aad, io->aad_len, io->nonce, c->key);
  return rc == 0 ? 0 : -EBADMSG;
}

/* ---- replay window over the sender's 32-bit nonce counter ----
 * Counters compare modulo 2^32 (serial-number arithmetic), so the window
 * slides across the wrap from 0xFFFFFFFF to 0. */

static int replay_seen(const dv_replay_t *r, uint32_t ctr)
{
  uint32_t ahead = ctr - r->top;
  if (!r->any || (ahead != 0 && ahead < 0x80000000u)) return 0;
  uint32_t behind = r->top - ctr;
  if (behind >= DV_REPLAY_WINDOW) return 1;
  return (int)((r->window >> behind) & 1u);
}

static void replay_mark(dv_replay_t *r, uint32_t ctr)
{
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

/* ---- rtpsize layout: clear header || ciphertext || tag16 || nonce4 ---- */

static int rtpsize_layout(const uint8_t *pkt, size_t len, dv_layout_t *l)
{
  memset(l, 0, sizeof *l);
  if (len < DV_RTCP_HEADER || (pkt[0] >> 6) != 2) return -EINVAL;
  if (pkt[1] >= 200 && pkt[1] <= 204) {
    l->is_rtcp = 1;
    l->clear_len = DV_RTCP_HEADER;
    return 0;
  }
  if (len < DV_RTP_HEADER) return -EINVAL;
  l->clear_len = DV_RTP_HEADER + 4u * (pkt[0] & 0x0Fu);
  l->padded = (pkt[0] & 0x20) != 0;
  if (pkt[0] & 0x10) {
    if (len < l->clear_len + 4) return -EINVAL;
    l->ext_body = 4u * rd16(pkt + l->clear_len + 2);
    l->clear_len += 4;
  }
  return 0;
}

/* Strips extension body and padding from an authentic plaintext of n
 * bytes and fills *out from the clear header. */
static int rtpsize_fill(const uint8_t *pkt, const dv_layout_t *l, const uint8_t *plain,
                        size_t n, sc_media_pkt_t *out)
{
  size_t body = n - l->ext_body;
  if (l->padded) {
    uint8_t pad = body ? plain[n - 1] : 0;
    if (pad == 0 || pad > body) return -EINVAL;
    body -= pad;
  }
  memset(out, 0, sizeof *out);
  out->is_rtcp = l->is_rtcp;
  out->marker_pt = pkt[1];
  if (l->is_rtcp) {
    out->ssrc = rd32(pkt + 4);
  } else {
    out->seq = rd16(pkt + 2);
    out->timestamp = rd32(pkt + 4);
    out->ssrc = rd32(pkt + 8);
  }
  out->payload = plain + l->ext_body;
  out->payload_len = body;
  return 0;
}

static int rtpsize_open(dv_cipher_t *c, const uint8_t *pkt, size_t len, uint8_t *plain,
                        size_t cap, sc_media_pkt_t *out)
{
  dv_layout_t l;
  int rc = rtpsize_layout(pkt, len, &l);
  if (rc) return rc;
  if (len > DV_MAX_DATAGRAM || len < l.clear_len + DV_TAG_LEN + DV_WIRE_NONCE_LEN)
    return -EINVAL;
  size_t ct_len = len - l.clear_len - DV_TAG_LEN - DV_WIRE_NONCE_LEN;
  if (l.ext_body > ct_len || ct_len > cap) return -EINVAL;
  dv_aead_io_t io = {.aad = pkt, .aad_len = l.clear_len, .in = pkt + l.clear_len,
                     .out = plain, .len = ct_len};
  memcpy(io.tag, pkt + l.clear_len + ct_len, DV_TAG_LEN);
  memcpy(io.nonce, pkt + len - DV_WIRE_NONCE_LEN, DV_WIRE_NONCE_LEN);
  rc = c->mode->decrypt(c, &io);
  if (rc) return rc;
  /* Only an authentic counter may move the window, or forged packets
   * could push real ones out of it. */
  uint32_t ctr = rd32(pkt + len - DV_WIRE_NONCE_LEN);
  dv_replay_t *r = &c->rx[l.is_rtcp];
  if (replay_seen(r, ctr)) return -EALREADY;
  replay_mark(r, ctr);
  return rtpsize_fill(pkt, &l, plain, ct_len, out);
}

static int rtpsize_seal(dv_cipher_t *c, const sc_media_pkt_t *in, uint8_t *out, size_t cap)
{
  if (in->is_rtcp) return -EINVAL;
  size_t n = in->payload_len;
  if (n > cap || cap - n < DV_SEAL_OVERHEAD) return -ENOSPC;
  if (n > DV_MAX_DATAGRAM - DV_SEAL_OVERHEAD) return -EMSGSIZE;
  /* Never wrap: a repeated nonce under the same key breaks both AEADs. */
  if (c->send_counter >= UINT32_MAX) return -EOVERFLOW;
  uint32_t ctr = (uint32_t)++c->send_counter;
  out[0] = 0x80;
  out[1] = in->marker_pt;
  wr16(out + 2, in->seq);
  wr32(out + 4, in->timestamp);
  wr32(out + 8, in->ssrc);
  dv_aead_io_t io = {.aad = out, .aad_len = DV_RTP_HEADER, .in = in->payload,
                     .out = out + DV_RTP_HEADER, .len = n};
  wr32(io.nonce, ctr);
  int rc = c->mode->encrypt(c, &io);
  if (rc) return rc;
  memcpy(out + DV_RTP_HEADER + n, io.tag, DV_TAG_LEN);
  wr32(out + DV_RTP_HEADER + n + DV_TAG_LEN, ctr);
  return (int)(n + DV_SEAL_OVERHEAD);
}

static const dv_mode_desc_t dv_modes[DV_MODE_COUNT] = {
    [DV_MODE_AES256_GCM_RTPSIZE] = {"aead_aes256_gcm_rtpsize", gcm_init, gcm_fini,
                                    gcm_encrypt, gcm_decrypt, rtpsize_open, rtpsize_seal},
    [DV_MODE_XCHACHA20_POLY1305_RTPSIZE] = {"aead_xchacha20_poly1305_rtpsize", xchacha_init,
                                            xchacha_fini, xchacha_encrypt, xchacha_decrypt,
                                            rtpsize_open, rtpsize_seal},
};

int dv_mode_from_name(const char *name)
{
  if (!name) return -1;
  for (int i = 0; i < DV_MODE_COUNT; i++)
    if (strcmp(dv_modes[i].name, name) == 0) return i;
  return -1;
}

const char *dv_mode_name(dv_mode_t mode)
{
  if ((unsigned)mode >= DV_MODE_COUNT) return NULL;
  return dv_modes[mode].name;
}

dv_cipher_t *dv_cipher_new(dv_mode_t mode, const uint8_t key[DV_KEY_LEN])
{
  if ((unsigned)mode >= DV_MODE_COUNT || !key) return NULL;
  dv_cipher_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->mode = &dv_modes[mode];
  if (c->mode->init(c, key) != 0) {
    dv_cipher_free(c);
    return NULL;
  }
  return c;
}

void dv_cipher_free(dv_cipher_t *c)
{
  if (!c) return;
  c->mode->fini(c);
  sodium_memzero(c, sizeof *c);
  free(c);
}

int dv_cipher_open(dv_cipher_t *c, const uint8_t *pkt, size_t len, uint8_t *plain,
                   size_t cap, sc_media_pkt_t *out)
{
  return c->mode->open(c, pkt, len, plain, cap, out);
}

int dv_cipher_seal(dv_cipher_t *c, const sc_media_pkt_t *in, uint8_t *out, size_t cap)
{
  return c->mode->seal(c, in, out, cap);
}

void dv_cipher_set_send_counter(dv_cipher_t *c, uint32_t next_minus_one)
{
  c->send_counter = next_minus_one;
}

static int ops_open(void *state, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
                    sc_media_pkt_t *out)
{
  return dv_cipher_open(state, pkt, len, plain, cap, out);
}

static int ops_seal(void *state, const sc_media_pkt_t *in, uint8_t *out, size_t cap)
{
  return dv_cipher_seal(state, in, out, cap);
}

static void ops_free(void *state) { dv_cipher_free(state); }

const sc_cipher_ops_t dv_cipher_ops = {ops_open, ops_seal, ops_free};
