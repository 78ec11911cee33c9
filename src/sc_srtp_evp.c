/*
 * sc_srtp_evp: see sc_srtp_evp.h. The calls follow libsrtp's cipher
 * contract as srtp.c drives an AEAD cipher per packet: set_iv (with the
 * direction), set_aad, then encrypt + get_tag, or decrypt over the
 * ciphertext with the tag at its end.
 */
#include "sc_srtp_evp.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#define GCM_IV_LEN 12
#define GCM_TAG_MAX 16

typedef struct {
  EVP_CIPHER_CTX *ctx;
  const EVP_CIPHER *evp;
  int key_size, tag_size;
  srtp_cipher_direction_t dir;
} gcm_t;

static const srtp_cipher_type_t gcm_128_type;
static int active;
/* Keeps NSS initialised for the process (see keep_nss_loaded). */
static srtp_t nss_keeper;

/* The known answer libsrtp runs before it accepts the type (it refuses a
 * type without one): test case 4 of the GCM specification (McGrew and
 * Viega), AES-128, 60 bytes with 20 of AAD; the key is followed by the 12
 * salt bytes libsrtp passes along (unused by the cipher). */
static const uint8_t kat_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
    0x83, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
static uint8_t kat_iv[GCM_IV_LEN] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
                                     0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t kat_plain[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
    0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
    0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
    0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
static const uint8_t kat_aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
                                    0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
static const uint8_t kat_cipher[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    /* the tag */
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47};
static const srtp_cipher_test_case_t kat = {SRTP_AES_GCM_128_KEY_LEN_WSALT,
                                            kat_key,
                                            kat_iv,
                                            sizeof kat_plain,
                                            kat_plain,
                                            sizeof kat_cipher,
                                            kat_cipher,
                                            sizeof kat_aad,
                                            kat_aad,
                                            16,
                                            NULL};

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len) {
  if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT || (tag_len != 16 && tag_len != 8))
    return srtp_err_status_bad_param;
  srtp_cipher_t *c = calloc(1, sizeof *c);
  gcm_t *g = calloc(1, sizeof *g);
  if (g) g->ctx = EVP_CIPHER_CTX_new();
  if (!c || !g || !g->ctx) {
    if (g) EVP_CIPHER_CTX_free(g->ctx);
    free(g);
    free(c);
    return srtp_err_status_alloc_fail;
  }
  g->evp = EVP_aes_128_gcm();
  g->key_size = SRTP_AES_128_KEY_LEN;
  g->tag_size = tag_len;
  g->dir = srtp_direction_any;
  c->type = &gcm_128_type;
  c->algorithm = SRTP_AES_GCM_128;
  c->key_len = key_len;
  c->state = g;
  *cp = c;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t c) {
  gcm_t *g = c->state;
  if (g) {
    EVP_CIPHER_CTX_free(g->ctx); /* clears the key schedule */
    free(g);
  }
  free(c);
  return srtp_err_status_ok;
}

/* The key only (libsrtp passes key and salt; the salt is in its IVs). */
static srtp_err_status_t gcm_init(void *state, const uint8_t *key) {
  gcm_t *g = state;
  g->dir = srtp_direction_any;
  if (!EVP_CIPHER_CTX_reset(g->ctx) || !EVP_CipherInit_ex(g->ctx, g->evp, NULL, key, NULL, 0))
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir) {
  gcm_t *g = state;
  if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  g->dir = dir;
  if (!EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, iv, dir == srtp_direction_encrypt))
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len) {
  gcm_t *g = state;
  int out = 0;
  if (g->dir != srtp_direction_encrypt && g->dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  if (len && !EVP_CipherUpdate(g->ctx, NULL, &out, aad, (int)len)) return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

/* In place; the tag is computed now and read by get_tag. */
static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_t *g = state;
  int out = 0;
  if (g->dir != srtp_direction_encrypt) return srtp_err_status_bad_param;
  if (*len && !EVP_CipherUpdate(g->ctx, buf, &out, buf, (int)*len))
    return srtp_err_status_algo_fail;
  if (!EVP_CipherFinal_ex(g->ctx, buf + out, &out)) return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len) {
  gcm_t *g = state;
  if (!EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, g->tag_size, tag))
    return srtp_err_status_algo_fail;
  *len = (uint32_t)g->tag_size;
  return srtp_err_status_ok;
}

/* buf holds the ciphertext and then the tag; *len covers both and comes
 * back without the tag. A wrong tag is srtp_err_status_auth_fail. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_t *g = state;
  int out = 0;
  if (g->dir != srtp_direction_decrypt || *len < (unsigned)g->tag_size)
    return srtp_err_status_bad_param;
  unsigned int body = *len - (unsigned)g->tag_size;
  uint8_t tag[GCM_TAG_MAX];
  memcpy(tag, buf + body, (size_t)g->tag_size);
  if (!EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_TAG, g->tag_size, tag))
    return srtp_err_status_algo_fail;
  if (body && !EVP_CipherUpdate(g->ctx, buf, &out, buf, (int)body))
    return srtp_err_status_algo_fail;
  if (EVP_CipherFinal_ex(g->ctx, buf + out, &out) <= 0) return srtp_err_status_auth_fail;
  *len = body;
  return srtp_err_status_ok;
}

static const srtp_cipher_type_t gcm_128_type = {
    .alloc = gcm_alloc,
    .dealloc = gcm_dealloc,
    .init = gcm_init,
    .set_aad = gcm_set_aad,
    .encrypt = gcm_encrypt,
    .decrypt = gcm_decrypt,
    .set_iv = gcm_set_iv,
    .get_tag = gcm_get_tag,
    .description = "AES-128 GCM on OpenSSL EVP (sc_srtp_evp)",
    .test_data = &kat,
    .id = SRTP_AES_GCM_128,
};

/* libsrtp's key derivation stays on NSS (AES-ICM), and each NSS cipher
 * opens an NSS context and closes it when freed; when the last one
 * closes, NSS shuts down and unloads its softoken (dlclose), so every
 * srtp_create would load and initialise it again (about 1 ms). While the
 * GCM ciphers were NSS's, live members kept it loaded; now one idle
 * session of the NSS-backed CM profile does, for the life of the
 * process (reachable through this pointer, never freed). */
static void keep_nss_loaded(void) {
  static const uint8_t zero[SRTP_AES_ICM_128_KEY_LEN_WSALT];
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
  p.ssrc.type = ssrc_any_outbound;
  p.key = (uint8_t *)zero;
  if (!nss_keeper && srtp_create(&nss_keeper, &p) != srtp_err_status_ok) nss_keeper = NULL;
}

int sc_srtp_evp_register(void) {
  /* libsrtp first runs our known answer and those of the type being
   * replaced on it, and refuses it if one fails. */
  if (srtp_replace_cipher_type(&gcm_128_type, SRTP_AES_GCM_128) != srtp_err_status_ok) return -1;
  keep_nss_loaded();
  active = 1;
  return 0;
}

int sc_srtp_evp_active(void) {
  return active;
}
