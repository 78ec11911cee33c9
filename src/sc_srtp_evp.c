/*
 * sc_srtp_evp: see sc_srtp_evp.h. The calls follow libsrtp's cipher
 * contract as srtp.c drives an AEAD cipher per packet: set_iv (with the
 * direction), set_aad, then encrypt + get_tag, or decrypt over the
 * ciphertext with the tag at its end.
 */
#include "sc_srtp_evp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SHA_CTX (see the HMAC below) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <openssl/sha.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#define GCM_IV_LEN 12
#define GCM_BLOCK 16
#define GCM_BATCH 32 /* counter blocks encrypted per EVP call */

/* ---- What the two AES ciphers share ----------------------------------------
 *
 * Each is an srtp_cipher_t around a state whose first member is one
 * AES-128-ECB EVP context, keyed by init and never re-initialised per
 * packet; the rest of the state is the cipher's own. */

/* A cipher of the type with a zeroed state of state_size bytes (gcm_t or
 * icm_t), its ECB context made. */
static srtp_err_status_t aes_alloc(srtp_cipher_pointer_t *cp, const srtp_cipher_type_t *type,
                                   int key_len, size_t state_size) {
  srtp_cipher_t *c = calloc(1, sizeof *c);
  EVP_CIPHER_CTX **ecb = calloc(1, state_size); /* the state's first member */
  if (ecb) *ecb = EVP_CIPHER_CTX_new();
  if (!c || !ecb || !*ecb) {
    if (ecb) EVP_CIPHER_CTX_free(*ecb);
    free(ecb);
    free(c);
    return srtp_err_status_alloc_fail;
  }
  c->type = type;
  c->algorithm = type->id;
  c->key_len = key_len;
  c->state = ecb;
  *cp = c;
  return srtp_err_status_ok;
}

/* Frees the ECB context (clearing its key schedule) and the state, cleared. */
static srtp_err_status_t aes_dealloc(srtp_cipher_pointer_t c, size_t state_size) {
  EVP_CIPHER_CTX **ecb = c->state;
  if (ecb) {
    EVP_CIPHER_CTX_free(*ecb);
    OPENSSL_cleanse(ecb, state_size);
    free(ecb);
  }
  free(c);
  return srtp_err_status_ok;
}

/* Keys ecb with the key's first 16 bytes (the rest is salt). */
static srtp_err_status_t ecb_rekey(EVP_CIPHER_CTX *ecb, const uint8_t *key) {
  if (!EVP_CIPHER_CTX_reset(ecb) || !EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, key, NULL) ||
      !EVP_CIPHER_CTX_set_padding(ecb, 0))
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

/* ---- AES-128-GCM ------------------------------------------------------------ */

typedef struct {
  EVP_CIPHER_CTX *ecb; /* first (aes_alloc); AES-128 keyed once, ECB: GCM128's block cipher */
  GCM128_CONTEXT *gcm;
  int tag_size;
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

/* out = in XOR ks, n bytes, a word at a time (in and out may be the same). */
static void xor_stream(uint8_t *out, const uint8_t *in, const uint8_t *ks, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t a, b;
    memcpy(&a, in + i, 8);
    memcpy(&b, ks + i, 8);
    a ^= b;
    memcpy(out + i, &a, 8);
  }
  for (; i < n; i++) out[i] = in[i] ^ ks[i];
}

/* AES on one keyed ECB context (AES-NI through EVP), as the block
 * function and the 32-bit counter mode of OpenSSL's GCM128 (GHASH with
 * PCLMULQDQ). Driving GCM through EVP re-initialises the context for
 * every IV and sets and reads the tag through OSSL_PARAM lookups, which
 * cost more per packet than the cipher itself; GCM128 takes the IV and
 * the tag directly, and nothing here allocates after init. */
static EVP_CIPHER_CTX *ecb_of(const void *key) {
  return (EVP_CIPHER_CTX *)(uintptr_t)key;
}

static void ecb_block(const unsigned char in[16], unsigned char out[16], const void *key) {
  int n = 0;
  EVP_EncryptUpdate(ecb_of(key), out, &n, in, GCM_BLOCK);
}

/* out = in XOR AES(ivec), AES(ivec + 1), ...: only ivec's last 32 bits
 * count (GCM128 handles their wrap). */
static void ecb_ctr32(const unsigned char *in, unsigned char *out, size_t blocks, const void *key,
                      const unsigned char ivec[16]) {
  uint8_t ctr[GCM_BATCH * GCM_BLOCK], ks[GCM_BATCH * GCM_BLOCK];
  uint32_t c =
      (uint32_t)ivec[12] << 24 | (uint32_t)ivec[13] << 16 | (uint32_t)ivec[14] << 8 | ivec[15];
  while (blocks) {
    size_t n = blocks < GCM_BATCH ? blocks : GCM_BATCH;
    for (size_t b = 0; b < n; b++, c++) {
      uint8_t *blk = ctr + b * GCM_BLOCK;
      memcpy(blk, ivec, 12);
      blk[12] = (uint8_t)(c >> 24);
      blk[13] = (uint8_t)(c >> 16);
      blk[14] = (uint8_t)(c >> 8);
      blk[15] = (uint8_t)c;
    }
    int len = 0;
    EVP_EncryptUpdate(ecb_of(key), ks, &len, ctr, (int)(n * GCM_BLOCK));
    xor_stream(out, in, ks, n * GCM_BLOCK);
    in += n * GCM_BLOCK;
    out += n * GCM_BLOCK;
    blocks -= n;
  }
}

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len) {
  if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT || (tag_len != 16 && tag_len != 8))
    return srtp_err_status_bad_param;
  srtp_err_status_t rc = aes_alloc(cp, &gcm_128_type, key_len, sizeof(gcm_t));
  if (rc == srtp_err_status_ok) {
    gcm_t *g = (*cp)->state;
    g->tag_size = tag_len;
    g->dir = srtp_direction_any;
  }
  return rc;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t c) {
  gcm_t *g = c->state;
  if (g && g->gcm) CRYPTO_gcm128_release(g->gcm); /* clears it */
  return aes_dealloc(c, sizeof(gcm_t));
}

/* The key only (libsrtp passes key and salt; the salt is in its IVs). */
static srtp_err_status_t gcm_init(void *state, const uint8_t *key) {
  gcm_t *g = state;
  g->dir = srtp_direction_any;
  if (ecb_rekey(g->ecb, key) != srtp_err_status_ok) return srtp_err_status_init_fail;
  if (!g->gcm)
    g->gcm = CRYPTO_gcm128_new(g->ecb, ecb_block); /* computes H */
  else
    CRYPTO_gcm128_init(g->gcm, g->ecb, ecb_block);
  return g->gcm ? srtp_err_status_ok : srtp_err_status_init_fail;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir) {
  gcm_t *g = state;
  if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  g->dir = dir;
  CRYPTO_gcm128_setiv(g->gcm, iv, GCM_IV_LEN);
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len) {
  gcm_t *g = state;
  if (g->dir != srtp_direction_encrypt && g->dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  if (len && CRYPTO_gcm128_aad(g->gcm, aad, len) != 0) return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

/* In place; get_tag then finishes the tag. */
static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_t *g = state;
  if (g->dir != srtp_direction_encrypt) return srtp_err_status_bad_param;
  if (*len && CRYPTO_gcm128_encrypt_ctr32(g->gcm, buf, buf, *len, ecb_ctr32) != 0)
    return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len) {
  gcm_t *g = state;
  CRYPTO_gcm128_tag(g->gcm, tag, (size_t)g->tag_size);
  *len = (uint32_t)g->tag_size;
  return srtp_err_status_ok;
}

/* buf holds the ciphertext and then the tag; *len covers both and comes
 * back without the tag. A wrong tag is srtp_err_status_auth_fail (the
 * comparison is CRYPTO_gcm128_finish's, in constant time). */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_t *g = state;
  if (g->dir != srtp_direction_decrypt || *len < (unsigned)g->tag_size)
    return srtp_err_status_bad_param;
  unsigned int body = *len - (unsigned)g->tag_size;
  if (body && CRYPTO_gcm128_decrypt_ctr32(g->gcm, buf, buf, body, ecb_ctr32) != 0)
    return srtp_err_status_algo_fail;
  if (CRYPTO_gcm128_finish(g->gcm, buf + body, (size_t)g->tag_size) != 0)
    return srtp_err_status_auth_fail;
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
    .description = "AES-128 GCM on OpenSSL GCM128 and EVP AES (sc_srtp_evp)",
    .test_data = &kat,
    .id = SRTP_AES_GCM_128,
};

/* ---- AES-128-ICM (the CM profile's cipher and libsrtp's key derivation) --
 *
 * Counter mode over one keyed AES-ECB context: the counter blocks are
 * built here and encrypted in one EVP call per packet. Re-setting the IV
 * of an EVP CTR context per packet goes through OpenSSL 3's init path
 * (parameter handling) for each packet; an ECB context is keyed once and
 * never re-initialised. SRTP's counter is the low 16 bits of the block
 * (RFC 3711 4.1.1), so a call never covers more than 2^16 blocks. */

#define ICM_BLOCK 16
#define ICM_BATCH 32 /* counter blocks encrypted per EVP call */

typedef struct {
  EVP_CIPHER_CTX *ecb;        /* first (see aes_alloc) */
  uint8_t offset[ICM_BLOCK];  /* the salt, its last two bytes zero */
  uint8_t counter[ICM_BLOCK]; /* the next block's counter */
  uint8_t ks[ICM_BLOCK];      /* keystream left over from the last call */
  unsigned ks_left;
} icm_t;

static const srtp_cipher_type_t icm_128_type;

/* RFC 3711 B.2 (the keystream for an all-zero plaintext); the key is
 * followed by the salt, the IV is zero. */
static const uint8_t icm_kat_key[SRTP_AES_ICM_128_KEY_LEN_WSALT] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
    0x3c, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static uint8_t icm_kat_iv[ICM_BLOCK];
static const uint8_t icm_kat_plain[48];
static const uint8_t icm_kat_cipher[48] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
    0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd, 0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0};
static const srtp_cipher_test_case_t icm_kat = {SRTP_AES_ICM_128_KEY_LEN_WSALT,
                                                icm_kat_key,
                                                icm_kat_iv,
                                                sizeof icm_kat_plain,
                                                icm_kat_plain,
                                                sizeof icm_kat_cipher,
                                                icm_kat_cipher,
                                                0,
                                                NULL,
                                                0,
                                                NULL};

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len) {
  (void)tag_len;
  if (key_len != SRTP_AES_ICM_128_KEY_LEN_WSALT) return srtp_err_status_bad_param;
  return aes_alloc(cp, &icm_128_type, key_len, sizeof(icm_t));
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c) {
  return aes_dealloc(c, sizeof(icm_t));
}

/* key: the 16 key bytes, then the 14 salt bytes. */
static srtp_err_status_t icm_init(void *state, const uint8_t *key) {
  icm_t *m = state;
  memset(m->offset, 0, sizeof m->offset);
  memcpy(m->offset, key + SRTP_AES_128_KEY_LEN, SRTP_SALT_LEN);
  memcpy(m->counter, m->offset, sizeof m->counter);
  m->ks_left = 0;
  return ecb_rekey(m->ecb, key);
}

/* The counter block is the salt XOR the IV libsrtp built (SSRC, index). */
static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir) {
  icm_t *m = state;
  (void)dir;
  for (int i = 0; i < ICM_BLOCK; i++) m->counter[i] = m->offset[i] ^ iv[i];
  m->ks_left = 0;
  return srtp_err_status_ok;
}

/* Encrypts = decrypts, in place, continuing the keystream of earlier
 * calls since the last set_iv. */
static srtp_err_status_t icm_encrypt(void *state, uint8_t *buf, unsigned int *len) {
  icm_t *m = state;
  uint8_t ctr[ICM_BATCH * ICM_BLOCK], ks[ICM_BATCH * ICM_BLOCK];
  size_t todo = *len, used = m->ks_left < todo ? m->ks_left : todo;
  unsigned block = (unsigned)m->counter[14] << 8 | m->counter[15];
  if ((todo - used + ICM_BLOCK - 1) / ICM_BLOCK > 0x10000u - block) return srtp_err_status_terminus;
  xor_stream(buf, buf, m->ks + ICM_BLOCK - m->ks_left, used);
  m->ks_left -= (unsigned)used;
  buf += used;
  todo -= used;
  while (todo) {
    size_t blocks = (todo + ICM_BLOCK - 1) / ICM_BLOCK, n = 0;
    if (blocks > ICM_BATCH) blocks = ICM_BATCH;
    for (size_t b = 0; b < blocks; b++, block++) {
      memcpy(ctr + b * ICM_BLOCK, m->counter, ICM_BLOCK - 2);
      ctr[b * ICM_BLOCK + 14] = (uint8_t)(block >> 8);
      ctr[b * ICM_BLOCK + 15] = (uint8_t)block;
    }
    int out = 0;
    if (!EVP_EncryptUpdate(m->ecb, ks, &out, ctr, (int)(blocks * ICM_BLOCK)) ||
        out != (int)(blocks * ICM_BLOCK))
      return srtp_err_status_cipher_fail;
    n = todo < blocks * ICM_BLOCK ? todo : blocks * ICM_BLOCK;
    xor_stream(buf, buf, ks, n);
    if (n % ICM_BLOCK) { /* keep the rest of the last block for the next call */
      m->ks_left = (unsigned)(ICM_BLOCK - n % ICM_BLOCK);
      memcpy(m->ks + n % ICM_BLOCK, ks + n, m->ks_left);
    }
    buf += n;
    todo -= n;
  }
  m->counter[14] = (uint8_t)(block >> 8);
  m->counter[15] = (uint8_t)block;
  return srtp_err_status_ok;
}

static const srtp_cipher_type_t icm_128_type = {
    .alloc = icm_alloc,
    .dealloc = icm_dealloc,
    .init = icm_init,
    .encrypt = icm_encrypt,
    .decrypt = icm_encrypt,
    .set_iv = icm_set_iv,
    .description = "AES-128 ICM on OpenSSL EVP (sc_srtp_evp)",
    .test_data = &icm_kat,
    .id = SRTP_AES_ICM_128,
};

/* ---- HMAC-SHA1 (the CM profile's authentication) ---------------------------
 *
 * The inner and outer SHA-1 states after the padded key are computed once
 * per key; a packet starts from a copy of the inner one (a struct copy).
 * OpenSSL 3's EVP_MAC and EVP_MD_CTX_copy allocate a provider context per
 * copy or re-init, so this uses the SHA_CTX interface (deprecated in
 * OpenSSL 3, still provided, and on the same SHA-1 assembly). */

#define SHA1_BLOCK 64

typedef struct {
  SHA_CTX inner, outer, work;
} hmac_t;

static const srtp_auth_type_t hmac_type;

/* RFC 2202, test case 2. */
static const uint8_t hmac_kat_key[] = {'J', 'e', 'f', 'e'};
static const uint8_t hmac_kat_data[] = "what do ya want for nothing?";
static const uint8_t hmac_kat_tag[SHA_DIGEST_LENGTH] = {0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f,
                                                        0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                                                        0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79};
static const srtp_auth_test_case_t hmac_kat = {
    sizeof hmac_kat_key, hmac_kat_key, sizeof hmac_kat_data - 1, hmac_kat_data, sizeof hmac_kat_tag,
    hmac_kat_tag,        NULL};

static srtp_err_status_t hmac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len) {
  if (key_len < 0 || key_len > SHA1_BLOCK || out_len < 1 || out_len > SHA_DIGEST_LENGTH)
    return srtp_err_status_bad_param;
  srtp_auth_t *a = calloc(1, sizeof *a);
  hmac_t *h = calloc(1, sizeof *h);
  if (!a || !h) {
    free(a);
    free(h);
    return srtp_err_status_alloc_fail;
  }
  a->type = &hmac_type;
  a->state = h;
  a->out_len = out_len;
  a->key_len = key_len;
  a->prefix_len = 0;
  *ap = a;
  return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_pointer_t a) {
  if (a->state) OPENSSL_cleanse(a->state, sizeof(hmac_t));
  free(a->state);
  free(a);
  return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len) {
  hmac_t *h = state;
  uint8_t ipad[SHA1_BLOCK], opad[SHA1_BLOCK];
  if (key_len < 0 || key_len > SHA1_BLOCK) return srtp_err_status_bad_param;
  memset(ipad, 0x36, sizeof ipad);
  memset(opad, 0x5c, sizeof opad);
  for (int i = 0; i < key_len; i++) {
    ipad[i] ^= key[i];
    opad[i] ^= key[i];
  }
  int ok = SHA1_Init(&h->inner) && SHA1_Update(&h->inner, ipad, sizeof ipad) &&
           SHA1_Init(&h->outer) && SHA1_Update(&h->outer, opad, sizeof opad);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  h->work = h->inner;
  return ok ? srtp_err_status_ok : srtp_err_status_init_fail;
}

static srtp_err_status_t hmac_start(void *state) {
  hmac_t *h = state;
  h->work = h->inner;
  return srtp_err_status_ok;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *msg, int len) {
  hmac_t *h = state;
  if (len < 0 || !SHA1_Update(&h->work, msg, (size_t)len)) return srtp_err_status_auth_fail;
  return srtp_err_status_ok;
}

/* Absorbs msg, then writes the first tag_len bytes of the MAC. The outer
 * hash runs in work too (start copies the inner state back), so no keyed
 * state is left on the stack. */
static srtp_err_status_t hmac_compute(void *state, const uint8_t *msg, int len, int tag_len,
                                      uint8_t *tag) {
  hmac_t *h = state;
  uint8_t md[SHA_DIGEST_LENGTH];
  if (tag_len < 0 || tag_len > SHA_DIGEST_LENGTH || len < 0) return srtp_err_status_bad_param;
  int ok = SHA1_Update(&h->work, msg, (size_t)len) && SHA1_Final(md, &h->work);
  h->work = h->outer;
  ok = ok && SHA1_Update(&h->work, md, sizeof md) && SHA1_Final(md, &h->work);
  memcpy(tag, md, (size_t)tag_len);
  OPENSSL_cleanse(md, sizeof md);
  return ok ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

static const srtp_auth_type_t hmac_type = {
    .alloc = hmac_alloc,
    .dealloc = hmac_dealloc,
    .init = hmac_init,
    .compute = hmac_compute,
    .update = hmac_update,
    .start = hmac_start,
    .description = "HMAC-SHA1 on OpenSSL (sc_srtp_evp)",
    .test_data = &hmac_kat,
    .id = SRTP_HMAC_SHA1,
};

/* If AES-ICM stays NSS's (its replacement refused), libsrtp's key
 * derivation runs on NSS, and each NSS cipher opens an NSS context and
 * closes it when freed; when the last one closes, NSS shuts down and
 * unloads its softoken (dlclose), so every srtp_create would load and
 * initialise it again (about 1 ms). One idle session of the CM profile
 * then keeps it loaded for the life of the process (reachable through
 * this pointer, never freed). */
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
  if (srtp_replace_cipher_type(&gcm_128_type, SRTP_AES_GCM_128) == srtp_err_status_ok)
    active |= SC_SRTP_EVP_GCM;
  if (srtp_replace_cipher_type(&icm_128_type, SRTP_AES_ICM_128) == srtp_err_status_ok)
    active |= SC_SRTP_EVP_ICM;
  if (srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) == srtp_err_status_ok)
    active |= SC_SRTP_EVP_HMAC;
  if (!(active & SC_SRTP_EVP_ICM)) keep_nss_loaded();
  return active == (SC_SRTP_EVP_GCM | SC_SRTP_EVP_ICM | SC_SRTP_EVP_HMAC) ? 0 : -1;
}

int sc_srtp_evp_active(void) {
  return active;
}
