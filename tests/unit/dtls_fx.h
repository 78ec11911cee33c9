/*
 * dtls_fx: a real DTLS 1.2 client (OpenSSL, DTLS_client_method, its own
 * self-signed P-256 certificate, use_srtp) and the shuttle that carries
 * datagrams between it and an sc_dtls server session in memory. Used by
 * test_dtls.c, test_srtp.c and the cost program (tests/bench). Each BIO
 * write of the client is one datagram, as on a real socket; a test may
 * drop any of them. Header-only; no assertions (callers check results).
 */
#ifndef DTLS_FX_H
#define DTLS_FX_H

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "sc_dtls.h"

#define FX_QUEUE_MAX 32
#define FX_DGRAM_MAX 2048

typedef struct {
  int n;
  size_t len[FX_QUEUE_MAX];
  uint8_t data[FX_QUEUE_MAX][FX_DGRAM_MAX];
} fx_queue_t;

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio;
  fx_queue_t out; /* datagrams the client sent, not yet delivered */
  uint8_t fp[SC_DTLS_FP_LEN];
  int done, failed;
} fx_client_t;

static inline long fx_on_client_write(BIO *bio, int oper, const char *argp, size_t len, int argi,
                                      long argl, int ret, size_t *processed) {
  (void)len, (void)argi, (void)argl;
  if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret > 0 && processed && *processed > 0) {
    fx_queue_t *q = (fx_queue_t *)BIO_get_callback_arg(bio);
    if (q->n < FX_QUEUE_MAX && *processed <= FX_DGRAM_MAX) {
      memcpy(q->data[q->n], argp, *processed);
      q->len[q->n++] = *processed;
    }
    BIO_reset(bio);
  }
  return oper & BIO_CB_RETURN ? ret : 1;
}

static inline int fx_accept_any(int ok, X509_STORE_CTX *store) {
  (void)ok, (void)store;
  return 1;
}

/* The client retransmits after 100 ms (OpenSSL's default is 1 s), so
 * tests of lost server flights wait little. */
static inline unsigned int fx_client_timer(SSL *ssl, unsigned int us) {
  (void)ssl;
  return us ? 2 * us : 100000;
}

/* A self-signed P-256 certificate made independently of sc_dtls. */
static inline int fx_self_signed(EVP_PKEY **key_out, X509 **cert_out) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  int ok = key && x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
           X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
           X509_gmtime_adj(X509_getm_notAfter(x), 86400) && X509_set_pubkey(x, key) &&
           X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                      (const unsigned char *)"fx-client", -1, -1, 0) &&
           X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_sign(x, key, EVP_sha256());
  if (!ok) {
    EVP_PKEY_free(key);
    X509_free(x);
    return -1;
  }
  *key_out = key;
  *cert_out = x;
  return 0;
}

/* A client offering `profiles` (NULL: no use_srtp) with a certificate
 * (with_cert) or without. 0 or -1. */
static inline int fx_client_init(fx_client_t *c, const char *profiles, int with_cert) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  unsigned int n = 0;
  memset(c, 0, sizeof *c);
  c->ctx = SSL_CTX_new(DTLS_client_method());
  if (!c->ctx) return -1;
  SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, fx_accept_any);
  if (profiles && SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles) != 0) return -1;
  if (with_cert) {
    if (fx_self_signed(&key, &cert) < 0) return -1;
    int ok = SSL_CTX_use_certificate(c->ctx, cert) == 1 &&
             SSL_CTX_use_PrivateKey(c->ctx, key) == 1 &&
             X509_digest(cert, EVP_sha256(), c->fp, &n) == 1;
    EVP_PKEY_free(key);
    X509_free(cert);
    if (!ok) return -1;
  }
  c->ssl = SSL_new(c->ctx);
  c->rbio = BIO_new(BIO_s_mem());
  BIO *wbio = BIO_new(BIO_s_mem());
  if (!c->ssl || !c->rbio || !wbio) return -1;
  BIO_set_mem_eof_return(c->rbio, -1);
  BIO_set_callback_ex(wbio, fx_on_client_write);
  BIO_set_callback_arg(wbio, (char *)&c->out);
  SSL_set_bio(c->ssl, c->rbio, wbio);
  SSL_set_mtu(c->ssl, 1200);
  DTLS_set_timer_cb(c->ssl, fx_client_timer);
  SSL_set_connect_state(c->ssl);
  return 0;
}

static inline void fx_client_free(fx_client_t *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
  memset(c, 0, sizeof *c);
}

/* Runs the client's state machine once (after start or new input). */
static inline void fx_client_step(fx_client_t *c) {
  if (c->done || c->failed) {
    if (c->done) { /* consume alerts and retransmissions after the handshake */
      uint8_t sink[2048];
      int rc;
      while ((rc = SSL_read(c->ssl, sink, sizeof sink)) > 0) {
      }
      int err = SSL_get_error(c->ssl, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_ZERO_RETURN) c->failed = 1;
    }
    return;
  }
  int rc = SSL_do_handshake(c->ssl);
  if (rc == 1) {
    c->done = 1;
    return;
  }
  int err = SSL_get_error(c->ssl, rc);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) c->failed = 1;
}

static inline void fx_client_receive(fx_client_t *c, const uint8_t *d, size_t len) {
  BIO_write(c->rbio, d, (int)len);
  fx_client_step(c);
  BIO_reset(c->rbio);
}

/* Delivers the client's queued datagrams to the server, skipping those
 * whose bit is set in drop (bit i: the i-th of this batch), and the
 * server's replies back to the client, skipping those in drop_reply (bit
 * j: the j-th reply of this batch). */
static inline void fx_exchange(fx_client_t *c, sc_dtls_t *s, int64_t now, uint32_t drop,
                               uint32_t drop_reply) {
  static uint8_t buf[8192];
  sc_dtls_out_t out;
  fx_queue_t q = c->out;
  c->out.n = 0;
  sc_dtls_out_init(&out, buf, sizeof buf);
  for (int i = 0; i < q.n; i++)
    if (!(drop >> i & 1)) sc_dtls_feed(s, q.data[i], q.len[i], now, &out);
  for (int j = 0; j < out.n; j++)
    if (!(drop_reply >> j & 1)) fx_client_receive(c, out.buf + out.off[j], out.len[j]);
}

/* Drives both sides until the server leaves the handshake or neither
 * moves (at most `rounds` exchanges); returns the server's state. */
static inline sc_dtls_state_t fx_handshake(fx_client_t *c, sc_dtls_t *s, int64_t now, int rounds) {
  if (!c->done && !c->failed && c->out.n == 0) fx_client_step(c);
  for (int r = 0; r < rounds && c->out.n > 0; r++) {
    fx_exchange(c, s, now, 0, 0);
    if (sc_dtls_state(s) != SC_DTLS_HANDSHAKING && c->out.n == 0) break;
  }
  return sc_dtls_state(s);
}

/* The client's view of the DTLS-SRTP keys: its own are `local`. */
static inline int fx_client_keys(fx_client_t *c, sc_srtp_keys_t *k) {
  uint8_t km[60];
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(c->ssl);
  /* RFC 5764 and RFC 7714 lengths, independent of sc_srtp's table. */
  size_t kl = 16, sl = p && p->id == 0x0007 ? 12 : 14;
  if (!p || (p->id != 0x0001 && p->id != 0x0007)) return -1;
  if (SSL_export_keying_material(c->ssl, km, 2 * (kl + sl), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
                                 0) != 1)
    return -1;
  memset(k, 0, sizeof *k);
  k->profile = (uint16_t)p->id;
  k->key_len = (uint8_t)kl;
  k->salt_len = (uint8_t)sl;
  memcpy(k->local_key, km, kl);
  memcpy(k->remote_key, km + kl, kl);
  memcpy(k->local_salt, km + 2 * kl, sl);
  memcpy(k->remote_salt, km + 2 * kl + sl, sl);
  return 0;
}

#endif
