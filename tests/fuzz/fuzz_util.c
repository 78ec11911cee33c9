#include "fuzz_util.h"

#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_token.h"

void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
  abort();
}

void fuzz_init_once(void) {
  static int done;
  if (done) return;
  done = 1;
  /* FUZZ_VERBOSE=1 shows the server's own log: what an input reached. */
  sc_log_set_level(getenv("FUZZ_VERBOSE") ? SC_LOG_DEBUG : SC_LOG_ERROR);
  FUZZ_CHECK(sc_token_init() == 0);
}

int fuzz_verbose(void) {
  return getenv("FUZZ_VERBOSE") != NULL;
}

/* ---- messages split at '\n' ------------------------------------------- */

void fuzz_lines_init(fuzz_lines_t *it, const uint8_t *data, size_t size) {
  it->p = data;
  it->end = data + size;
}

int fuzz_lines_next(fuzz_lines_t *it, const uint8_t **msg, size_t *len) {
  /* A trailing newline does not start one more (empty) message. */
  if (!it->p || it->p == it->end) return 0;
  const uint8_t *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
  const uint8_t *stop = nl ? nl : it->end;
  *msg = it->p;
  *len = (size_t)(stop - it->p);
  it->p = nl ? nl + 1 : NULL;
  return 1;
}

/* ---- binary records ---------------------------------------------------- */

void fuzz_reader_init(fuzz_reader_t *r, const uint8_t *data, size_t size) {
  r->p = data;
  r->left = size;
}

static int take(fuzz_reader_t *r, size_t n, uint32_t *v) {
  *v = 0;
  if (r->left < n) {
    r->left = 0;
    return 0;
  }
  for (size_t i = 0; i < n; i++) *v = *v << 8 | r->p[i];
  r->p += n;
  r->left -= n;
  return 1;
}

int fuzz_take_u8(fuzz_reader_t *r, uint8_t *v) {
  uint32_t x;
  int ok = take(r, 1, &x);
  *v = (uint8_t)x;
  return ok;
}

int fuzz_take_u16(fuzz_reader_t *r, uint16_t *v) {
  uint32_t x;
  int ok = take(r, 2, &x);
  *v = (uint16_t)x;
  return ok;
}

int fuzz_take_u32(fuzz_reader_t *r, uint32_t *v) {
  return take(r, 4, v);
}

size_t fuzz_take_bytes(fuzz_reader_t *r, size_t n, const uint8_t **out) {
  if (n > r->left) n = r->left;
  *out = r->p;
  r->p += n;
  r->left -= n;
  return n;
}

void fuzz_source_address(const uint8_t *data, size_t size, struct sockaddr_storage *ss) {
  uint8_t b[19] = {0};
  memcpy(b, data + (size > sizeof b ? size - sizeof b : 0), size < sizeof b ? size : sizeof b);
  memset(ss, 0, sizeof *ss);
  if (b[0] & 1) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    a6->sin6_family = AF_INET6;
    memcpy(&a6->sin6_addr, b + 1, 16);
    a6->sin6_port = (uint16_t)(b[17] << 8 | b[18]);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, b + 1, 4);
    a->sin_port = (uint16_t)(b[5] << 8 | b[6]);
  }
}

uint8_t *fuzz_dup(const uint8_t *p, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  FUZZ_CHECK(copy != NULL);
  if (len) memcpy(copy, p, len);
  return copy;
}

/* ---- an independent rtpsize AEAD ---------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* AES-256-GCM in one direction over one packet; 1 on success. */
static int gcm(int enc, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
               size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]) {
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  int n, ok = x && EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
  if (ok && aad_len) ok = EVP_CipherUpdate(x, NULL, &n, aad, (int)aad_len) == 1;
  if (ok && len) ok = EVP_CipherUpdate(x, out, &n, in, (int)len) == 1;
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
  uint8_t fin[16];
  if (ok) ok = EVP_CipherFinal_ex(x, fin, &n) == 1;
  if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(x);
  return ok;
}

int fuzz_seal(int mode, const uint8_t key[32], const uint8_t *clear, size_t clear_len, uint32_t ctr,
              const uint8_t *plain, size_t plain_len, uint8_t *out, size_t cap) {
  size_t total = clear_len + plain_len + 16 + 4;
  if (total > cap || total > 65535) return -1;
  uint8_t nonce[24] = {0};
  put32(nonce, ctr);
  memmove(out, clear, clear_len);
  uint8_t *ct = out + clear_len, *tag = ct + plain_len;
  if (mode == 0) {
    if (!gcm(1, key, nonce, out, clear_len, plain, plain_len, ct, tag)) return -1;
  } else {
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, plain, plain_len, out,
                                                        clear_len, NULL, nonce, key);
  }
  put32(tag + 16, ctr);
  return (int)total;
}

int fuzz_open(int mode, const uint8_t key[32], const uint8_t *pkt, size_t len, size_t clear_len,
              uint8_t *plain) {
  if (len < clear_len + 20) return -1;
  size_t ct_len = len - clear_len - 20;
  uint8_t nonce[24] = {0}, tag[16];
  memcpy(nonce, pkt + len - 4, 4);
  memcpy(tag, pkt + clear_len + ct_len, 16);
  int ok;
  if (mode == 0)
    ok = gcm(0, key, nonce, pkt, clear_len, pkt + clear_len, ct_len, plain, tag);
  else
    ok = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(plain, NULL, pkt + clear_len, ct_len,
                                                             tag, pkt, clear_len, nonce, key) == 0;
  return ok ? (int)ct_len : -1;
}

/* ---- output oracle ----------------------------------------------------- */

void fuzz_check_frame(const char *text, size_t len, int d_object) {
  json_error_t err;
  json_t *m = json_loadb(text, len, 0, &err);
  json_t *d = json_object_get(m, "d");
  FUZZ_CHECK(json_is_object(m) && json_is_integer(json_object_get(m, "op")));
  FUZZ_CHECK(d_object ? json_is_object(d) : d != NULL);
  json_decref(m);
}

/* ---- placeholders ------------------------------------------------------- */

long fuzz_substitute(const uint8_t *in, size_t len, char *out, size_t cap, fuzz_subst_fn subst,
                     void *ctx) {
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    const char *rep = NULL;
    if (in[i] == '@' && i + 3 < len && in[i + 3] == '@')
      rep = subst(ctx, (char)in[i + 1], (char)in[i + 2]);
    size_t n = rep ? strlen(rep) : 1;
    if (o + n + 1 > cap) return -1;
    if (rep) {
      memcpy(out + o, rep, n);
      i += 4;
    } else {
      out[o] = (char)in[i++];
    }
    o += n;
  }
  out[o] = '\0';
  return (long)o;
}

uint8_t *fuzz_substituted(const uint8_t *in, size_t len, fuzz_subst_fn subst, void *ctx,
                          size_t *out_len) {
  /* A 4-byte placeholder becomes at most 64 characters (an HMAC). */
  char *text = malloc(len * 16 + 1);
  FUZZ_CHECK(text != NULL);
  long n = fuzz_substitute(in, len, text, len * 16 + 1, subst, ctx);
  FUZZ_CHECK(n >= 0);
  uint8_t *exact = fuzz_dup((const uint8_t *)text, (size_t)n);
  free(text);
  *out_len = (size_t)n;
  return exact;
}
