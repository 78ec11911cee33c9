#include "sc_dtls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sc_sdp.h"
#include "sc_statedir.h"

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
#define CERT_CN "litecord-voice-dtls"
#define CERT_DAYS 3652
#define CERT_FILE_MAX 16384
#define SCAN_RECORDS_MAX 32
#define RECORD_HEADER 13
/* Retransmission: first after 100 ms, doubling up to 4 s; OpenSSL gives up
 * after 12 timeouts, which with these values lands near the deadline. */
#define RETRANSMIT_FIRST_US 100000u
#define RETRANSMIT_MAX_US 4000000u

struct sc_dtls_ctx {
  SSL_CTX *ssl_ctx;
  uint8_t fp[SC_DTLS_FP_LEN];
  char fp_text[SC_DTLS_FP_TEXT];
  int max_handshakes;
  _Atomic uint64_t started, connected, closed, refused, bad_datagrams, late_handshake, out_dropped;
  _Atomic uint64_t failed[SC_DTLS_FAIL_COUNT];
  _Atomic int64_t in_progress;
};

struct sc_dtls {
  sc_dtls_ctx_t *ctx;
  SSL *ssl;           /* NULL once shed */
  BIO *rbio;          /* owned by ssl */
  sc_dtls_out_t *out; /* the current call's sink */
  sc_dtls_state_t state;
  sc_dtls_fail_t failure;
  int64_t deadline_ms;
  int has_expected, fp_mismatch;
  uint8_t expected[SC_DTLS_FP_LEN];
  sc_srtp_keys_t keys;
};

#define COUNT(c, field) atomic_fetch_add_explicit(&(c)->field, 1, memory_order_relaxed)
#define LOAD(c, field) atomic_load_explicit(&(c)->field, memory_order_relaxed)

/* ---- output --------------------------------------------------------------- */

void sc_dtls_out_init(sc_dtls_out_t *o, uint8_t *buf, size_t cap) {
  memset(o, 0, sizeof *o);
  o->buf = buf;
  o->cap = cap;
}

static void emit(sc_dtls_t *s, const void *data, size_t len) {
  sc_dtls_out_t *o = s->out;
  if (!o || o->n >= SC_DTLS_OUT_MAX || o->cap - o->used < len) {
    COUNT(s->ctx, out_dropped);
    return;
  }
  memcpy(o->buf + o->used, data, len);
  o->off[o->n] = (uint32_t)o->used;
  o->len[o->n] = (uint32_t)len;
  o->n++;
  o->used += len;
}

/* Every completed write to the outgoing memory BIO is one datagram: OpenSSL
 * writes one record per call, sized to the MTU. Emptying the BIO at once
 * keeps its pending count at zero, so OpenSSL sizes every record to the
 * full MTU instead of packing it behind earlier ones. */
static long on_bio_out(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl,
                       int ret, size_t *processed) {
  (void)len, (void)argi, (void)argl;
  if (oper == (BIO_CB_WRITE | BIO_CB_RETURN) && ret > 0 && processed && *processed > 0) {
    emit((sc_dtls_t *)BIO_get_callback_arg(bio), argp, *processed);
    BIO_reset(bio);
  }
  return oper & BIO_CB_RETURN ? ret : 1;
}

static unsigned int on_timer(SSL *ssl, unsigned int timer_us) {
  (void)ssl;
  if (timer_us == 0) return RETRANSMIT_FIRST_US;
  return timer_us >= RETRANSMIT_MAX_US / 2 ? RETRANSMIT_MAX_US : 2 * timer_us;
}

/* ---- fingerprints ------------------------------------------------------- */

static int cert_digest(const X509 *cert, uint8_t out[SC_DTLS_FP_LEN]) {
  unsigned int n = 0;
  return X509_digest(cert, EVP_sha256(), out, &n) == 1 && n == SC_DTLS_FP_LEN ? 0 : -1;
}

/* The peer must present the certificate its SDP named; any other, even a
 * valid one, ends the handshake. Self-signed certificates are the norm. */
static int on_verify(int preverify_ok, X509_STORE_CTX *store) {
  (void)preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  sc_dtls_t *s = ssl ? SSL_get_app_data(ssl) : NULL;
  if (!s || !s->has_expected || X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  uint8_t fp[SC_DTLS_FP_LEN];
  X509 *cert = X509_STORE_CTX_get_current_cert(store);
  if (cert && cert_digest(cert, fp) == 0 && CRYPTO_memcmp(fp, s->expected, sizeof fp) == 0)
    return 1;
  s->fp_mismatch = 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

/* ---- the certificate ---------------------------------------------------- */

static int make_cert(EVP_PKEY **key_out, X509 **cert_out) {
  uint8_t serial[16];
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  BIGNUM *bn = NULL;
  int ok = key && x && RAND_bytes(serial, sizeof serial) == 1;
  if (ok) {
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x01); /* positive, 16 bytes */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_NAME *name = X509_get_subject_name(x);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
         X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) && X509_set_pubkey(x, key) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)CERT_CN, -1,
                                    -1, 0) &&
         X509_set_issuer_name(x, name) && X509_sign(x, key, EVP_sha256()) > 0;
  }
  BN_free(bn);
  if (!ok) {
    EVP_PKEY_free(key);
    X509_free(x);
    return -EIO;
  }
  *key_out = key;
  *cert_out = x;
  return 0;
}

/* The key then the certificate, PEM, in one file: one link() publishes both. */
static int save_cert(const char *dir, EVP_PKEY *key, X509 *cert) {
  BIO *mem = BIO_new(BIO_s_mem());
  char *data = NULL;
  int rc = -EIO;
  if (mem && PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) &&
      PEM_write_bio_X509(mem, cert)) {
    long n = BIO_get_mem_data(mem, &data);
    rc = sc_statedir_create_file(dir, SC_DTLS_CERT_FILE, data, (size_t)n);
  }
  if (data) OPENSSL_cleanse(data, (size_t)BIO_get_mem_data(mem, &data));
  BIO_free(mem);
  return rc;
}

static int is_p256(EVP_PKEY *key) {
  char group[32];
  size_t n = 0;
  return EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_group_name(key, group, sizeof group, &n) == 1 &&
         strcmp(group, "prime256v1") == 0;
}

static int parse_cert(const char *data, size_t len, EVP_PKEY **key_out, X509 **cert_out) {
  BIO *mem = BIO_new_mem_buf(data, (int)len);
  EVP_PKEY *key = mem ? PEM_read_bio_PrivateKey(mem, NULL, NULL, NULL) : NULL;
  X509 *cert = key ? PEM_read_bio_X509(mem, NULL, NULL, NULL) : NULL;
  BIO_free(mem);
  if (!cert || !is_p256(key) || X509_check_private_key(cert, key) != 1) {
    EVP_PKEY_free(key);
    X509_free(cert);
    return -EINVAL;
  }
  *key_out = key;
  *cert_out = cert;
  return 0;
}

static int load_cert(const char *dir, EVP_PKEY **key, X509 **cert, char *err, size_t err_size) {
  char data[CERT_FILE_MAX];
  size_t len = 0;
  int rc = sc_statedir_read_file(dir, SC_DTLS_CERT_FILE, data, sizeof data, &len);
  if (rc == -ENOENT) {
    if ((rc = make_cert(key, cert)) < 0) {
      snprintf(err, err_size, "cannot generate the DTLS certificate");
      return rc;
    }
    rc = save_cert(dir, *key, *cert);
    if (rc == 0) return 0;
    EVP_PKEY_free(*key);
    X509_free(*cert);
    if (rc != -EEXIST) {
      snprintf(err, err_size, "%s/%s: cannot write: %s", dir, SC_DTLS_CERT_FILE, strerror(-rc));
      return rc;
    }
    /* Another start created it first: use that one. */
    rc = sc_statedir_read_file(dir, SC_DTLS_CERT_FILE, data, sizeof data, &len);
  }
  if (rc == 0) rc = parse_cert(data, len, key, cert);
  OPENSSL_cleanse(data, sizeof data);
  if (rc == -EINVAL)
    snprintf(err, err_size,
             "%s/%s: not a PEM P-256 private key followed by its certificate"
             " (remove the file to generate a new one)",
             dir, SC_DTLS_CERT_FILE);
  else if (rc < 0)
    snprintf(err, err_size, "%s/%s: %s", dir, SC_DTLS_CERT_FILE, strerror(-rc));
  return rc;
}

/* ---- the context ---------------------------------------------------------- */

static SSL_CTX *make_ssl_ctx(EVP_PKEY *key, X509 *cert) {
  SSL_CTX *c = SSL_CTX_new(DTLS_method());
  if (!c) return NULL;
  int ok = SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) &&
           SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) &&
           SSL_CTX_use_certificate(c, cert) == 1 && SSL_CTX_use_PrivateKey(c, key) == 1 &&
           SSL_CTX_check_private_key(c) == 1 &&
           SSL_CTX_set_tlsext_use_srtp(c, SRTP_PROFILES) == 0; /* 0 is success here */
  if (!ok) {
    SSL_CTX_free(c);
    return NULL;
  }
  SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, on_verify);
  return c;
}

int sc_dtls_ctx_new(sc_dtls_ctx_t **out, const char *state_dir, int max_handshakes, char *err,
                    size_t err_size) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  int rc;
  *out = NULL;
  snprintf(err, err_size, "out of memory");
  sc_dtls_ctx_t *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->max_handshakes = max_handshakes;
  if (state_dir && *state_dir) {
    rc = load_cert(state_dir, &key, &cert, err, err_size);
  } else {
    rc = make_cert(&key, &cert);
    if (rc < 0) snprintf(err, err_size, "cannot generate the DTLS certificate");
  }
  if (rc == 0 && (cert_digest(cert, c->fp) < 0 || !(c->ssl_ctx = make_ssl_ctx(key, cert)))) {
    snprintf(err, err_size, "cannot set up the DTLS context");
    rc = -EIO;
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  if (rc < 0) {
    free(c);
    return rc;
  }
  sc_sdp_fingerprint_text(c->fp, c->fp_text);
  *out = c;
  return 0;
}

void sc_dtls_ctx_free(sc_dtls_ctx_t *c) {
  if (!c) return;
  SSL_CTX_free(c->ssl_ctx);
  free(c);
}

const char *sc_dtls_ctx_fingerprint(const sc_dtls_ctx_t *c) {
  return c->fp_text;
}

void sc_dtls_ctx_fingerprint_bytes(const sc_dtls_ctx_t *c, uint8_t out[SC_DTLS_FP_LEN]) {
  memcpy(out, c->fp, SC_DTLS_FP_LEN);
}

int64_t sc_dtls_ctx_in_progress(const sc_dtls_ctx_t *c) {
  return LOAD(c, in_progress);
}

void sc_dtls_ctx_stats(const sc_dtls_ctx_t *c, sc_dtls_stats_t *out) {
  out->started = LOAD(c, started);
  out->connected = LOAD(c, connected);
  out->closed = LOAD(c, closed);
  out->refused = LOAD(c, refused);
  out->bad_datagrams = LOAD(c, bad_datagrams);
  out->late_handshake = LOAD(c, late_handshake);
  out->out_dropped = LOAD(c, out_dropped);
  out->in_progress = LOAD(c, in_progress);
  for (int i = 0; i < SC_DTLS_FAIL_COUNT; i++)
    out->failed[i] = atomic_load_explicit(&c->failed[i], memory_order_relaxed);
}

/* ---- records ------------------------------------------------------------- */

int sc_dtls_scan(const uint8_t *buf, size_t len, int *plain_handshake) {
  *plain_handshake = 0;
  if (len == 0 || len > SC_DTLS_DATAGRAM_MAX) return -EINVAL;
  for (int n = 0; len > 0; n++) {
    if (n == SCAN_RECORDS_MAX || len < RECORD_HEADER) return -EINVAL;
    uint8_t type = buf[0];
    uint16_t version = (uint16_t)(buf[1] << 8 | buf[2]);
    uint16_t epoch = (uint16_t)(buf[3] << 8 | buf[4]);
    size_t body = (size_t)buf[11] << 8 | buf[12];
    if (type < 20 || type > 23 || (version != 0xFEFF && version != 0xFEFD) ||
        body > len - RECORD_HEADER)
      return -EINVAL;
    if (type == 22 && epoch == 0) *plain_handshake = 1;
    buf += RECORD_HEADER + body;
    len -= RECORD_HEADER + body;
  }
  return 0;
}

/* ---- sessions ---------------------------------------------------------------- */

const char *sc_dtls_failure_name(sc_dtls_fail_t f) {
  static const char *const names[SC_DTLS_FAIL_COUNT] = {
      "none", "protocol", "fingerprint", "no_srtp", "timeout", "alert", "internal"};
  return f >= 0 && f < SC_DTLS_FAIL_COUNT ? names[f] : "unknown";
}

static void leave_handshake(sc_dtls_t *s) {
  if (s->state == SC_DTLS_HANDSHAKING)
    atomic_fetch_sub_explicit(&s->ctx->in_progress, 1, memory_order_relaxed);
}

static sc_dtls_state_t fail(sc_dtls_t *s, sc_dtls_fail_t why) {
  if (s->state == SC_DTLS_FAILED || s->state == SC_DTLS_CLOSED) return s->state;
  leave_handshake(s);
  s->state = SC_DTLS_FAILED;
  s->failure = why;
  atomic_fetch_add_explicit(&s->ctx->failed[why], 1, memory_order_relaxed);
  return s->state;
}

int sc_dtls_new(sc_dtls_t **out, sc_dtls_ctx_t *ctx, const uint8_t *expected_fp, int64_t now_ms) {
  *out = NULL;
  ERR_clear_error();
  int64_t busy = atomic_fetch_add_explicit(&ctx->in_progress, 1, memory_order_relaxed);
  if (ctx->max_handshakes > 0 && busy >= ctx->max_handshakes) {
    atomic_fetch_sub_explicit(&ctx->in_progress, 1, memory_order_relaxed);
    COUNT(ctx, refused);
    return -EBUSY;
  }
  sc_dtls_t *s = calloc(1, sizeof *s);
  BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
  SSL *ssl = SSL_new(ctx->ssl_ctx);
  if (!s || !rbio || !wbio || !ssl) {
    atomic_fetch_sub_explicit(&ctx->in_progress, 1, memory_order_relaxed);
    free(s);
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl);
    return -ENOMEM;
  }
  s->ctx = ctx;
  s->ssl = ssl;
  s->rbio = rbio;
  s->state = SC_DTLS_HANDSHAKING;
  s->deadline_ms = now_ms + SC_DTLS_HANDSHAKE_MS;
  if (expected_fp) {
    s->has_expected = 1;
    memcpy(s->expected, expected_fp, SC_DTLS_FP_LEN);
  }
  BIO_set_mem_eof_return(rbio, -1); /* empty means "no datagram yet", not EOF */
  BIO_set_callback_ex(wbio, on_bio_out);
  BIO_set_callback_arg(wbio, (char *)s);
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_app_data(ssl, s);
  SSL_set_mtu(ssl, SC_DTLS_MTU);
  DTLS_set_link_mtu(ssl, SC_DTLS_MTU);
  DTLS_set_timer_cb(ssl, on_timer);
  SSL_set_accept_state(ssl);
  COUNT(ctx, started);
  *out = s;
  return 0;
}

static void drop_ssl(sc_dtls_t *s) {
  SSL_free(s->ssl); /* frees both BIOs */
  s->ssl = NULL;
  s->rbio = NULL;
}

void sc_dtls_free(sc_dtls_t *s) {
  if (!s) return;
  ERR_clear_error();
  leave_handshake(s);
  if (s->ssl) drop_ssl(s);
  OPENSSL_cleanse(&s->keys, sizeof s->keys);
  free(s);
}

/* RFC 5764 4.2: client key | server key | client salt | server salt. */
static int export_keys(sc_dtls_t *s, uint16_t profile) {
  uint8_t km[2 * (SC_SRTP_KEY_MAX + SC_SRTP_SALT_MAX)];
  size_t k, n;
  if (sc_srtp_profile_lengths(profile, &k, &n) < 0) return -1;
  if (SSL_export_keying_material(s->ssl, km, 2 * (k + n), EXPORTER_LABEL, sizeof EXPORTER_LABEL - 1,
                                 NULL, 0, 0) != 1)
    return -1;
  sc_srtp_keys_t *o = &s->keys;
  o->profile = profile;
  o->key_len = (uint8_t)k;
  o->salt_len = (uint8_t)n;
  memcpy(o->remote_key, km, k);
  memcpy(o->local_key, km + k, k);
  memcpy(o->remote_salt, km + 2 * k, n);
  memcpy(o->local_salt, km + 2 * k + n, n);
  OPENSSL_cleanse(km, sizeof km);
  return 0;
}

/* The verify callback already checked the fingerprint; checking the
 * certificate the session ended up with as well costs one digest. */
static int peer_matches(sc_dtls_t *s) {
  uint8_t fp[SC_DTLS_FP_LEN];
  X509 *peer = SSL_get0_peer_certificate(s->ssl);
  if (!s->has_expected) return peer != NULL;
  return peer && cert_digest(peer, fp) == 0 && CRYPTO_memcmp(fp, s->expected, sizeof fp) == 0;
}

static sc_dtls_state_t on_handshake_done(sc_dtls_t *s) {
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
  if (!peer_matches(s)) return fail(s, SC_DTLS_FAIL_FINGERPRINT);
  if (!p) return fail(s, SC_DTLS_FAIL_NO_SRTP);
  if (export_keys(s, (uint16_t)p->id) < 0) return fail(s, SC_DTLS_FAIL_INTERNAL);
  leave_handshake(s);
  s->state = SC_DTLS_CONNECTED;
  COUNT(s->ctx, connected);
  return s->state;
}

static sc_dtls_state_t step_handshake(sc_dtls_t *s) {
  int rc = SSL_do_handshake(s->ssl);
  if (rc == 1) return on_handshake_done(s);
  int err = SSL_get_error(s->ssl, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return s->state;
  return fail(s, s->fp_mismatch ? SC_DTLS_FAIL_FINGERPRINT : SC_DTLS_FAIL_PROTOCOL);
}

/* After the handshake SSL_read only consumes what arrives: alerts (a
 * close_notify ends the session), a retransmitted client Finished (OpenSSL
 * answers with our last flight), application data (discarded). */
static sc_dtls_state_t step_connected(sc_dtls_t *s) {
  uint8_t sink[SC_DTLS_DATAGRAM_MAX];
  for (;;) {
    int rc = SSL_read(s->ssl, sink, sizeof sink);
    if (rc > 0) continue;
    int err = SSL_get_error(s->ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return s->state;
    if (err != SSL_ERROR_ZERO_RETURN) return fail(s, SC_DTLS_FAIL_ALERT);
    SSL_shutdown(s->ssl); /* our close_notify in reply */
    s->state = SC_DTLS_CLOSED;
    COUNT(s->ctx, closed);
    return s->state;
  }
}

sc_dtls_state_t sc_dtls_feed(sc_dtls_t *s, const uint8_t *dgram, size_t len, int64_t now_ms,
                             sc_dtls_out_t *out) {
  int plain_handshake;
  if (s->state != SC_DTLS_HANDSHAKING && s->state != SC_DTLS_CONNECTED) return s->state;
  if (s->state == SC_DTLS_HANDSHAKING && now_ms >= s->deadline_ms)
    return fail(s, SC_DTLS_FAIL_TIMEOUT);
  if (sc_dtls_scan(dgram, len, &plain_handshake) < 0) {
    COUNT(s->ctx, bad_datagrams);
    return s->state;
  }
  if (s->state == SC_DTLS_CONNECTED && plain_handshake) {
    COUNT(s->ctx, late_handshake);
    return s->state;
  }
  if (!s->ssl) return s->state; /* shed: nothing left to read it with */
  ERR_clear_error();
  s->out = out;
  BIO_write(s->rbio, dgram, (int)len);
  sc_dtls_state_t st = s->state == SC_DTLS_HANDSHAKING ? step_handshake(s) : step_connected(s);
  if (s->ssl) {
    BIO_reset(s->rbio); /* never let a datagram's rest run into the next one */
    /* Between datagrams a session keeps no record buffers (two of ~17 KB):
     * OpenSSL refuses while they hold data and sets them up on the next
     * read. A write outside a read must set them up itself. */
    SSL_free_buffers(s->ssl);
  }
  s->out = NULL;
  return st;
}

int64_t sc_dtls_next_timeout_ms(const sc_dtls_t *s, int64_t now_ms) {
  struct timeval tv;
  if (s->state != SC_DTLS_HANDSHAKING) return -1;
  int64_t left = s->deadline_ms > now_ms ? s->deadline_ms - now_ms : 0;
  if (s->ssl && DTLSv1_get_timeout(s->ssl, &tv) == 1) {
    int64_t retransmit = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    if (retransmit < left) left = retransmit;
  }
  return left;
}

sc_dtls_state_t sc_dtls_on_timeout(sc_dtls_t *s, int64_t now_ms, sc_dtls_out_t *out) {
  if (s->state != SC_DTLS_HANDSHAKING) return s->state;
  if (now_ms >= s->deadline_ms) return fail(s, SC_DTLS_FAIL_TIMEOUT);
  /* OpenSSL keeps its own clock: it retransmits only once its timer ran
   * out, and fails the handshake after too many timeouts. */
  struct timeval tv;
  if (DTLSv1_get_timeout(s->ssl, &tv) != 1 || tv.tv_sec > 0 || tv.tv_usec > 0) return s->state;
  ERR_clear_error();
  s->out = out;
  if (SSL_alloc_buffers(s->ssl) != 1) {
    fail(s, SC_DTLS_FAIL_INTERNAL);
  } else {
    if (DTLSv1_handle_timeout(s->ssl) < 0) fail(s, SC_DTLS_FAIL_TIMEOUT);
    SSL_free_buffers(s->ssl);
  }
  s->out = NULL;
  return s->state;
}

sc_dtls_state_t sc_dtls_state(const sc_dtls_t *s) {
  return s->state;
}
sc_dtls_fail_t sc_dtls_failure(const sc_dtls_t *s) {
  return s->failure;
}

int sc_dtls_srtp_keys(const sc_dtls_t *s, sc_srtp_keys_t *out) {
  if (s->state != SC_DTLS_CONNECTED) return -EAGAIN;
  *out = s->keys;
  return 0;
}

void sc_dtls_close(sc_dtls_t *s, sc_dtls_out_t *out) {
  if (s->state != SC_DTLS_CONNECTED) return;
  if (s->ssl) {
    ERR_clear_error();
    s->out = out;
    /* Reads set the record buffers up again, a lone write does not. */
    if (SSL_alloc_buffers(s->ssl) == 1) SSL_shutdown(s->ssl);
    s->out = NULL;
  }
  s->state = SC_DTLS_CLOSED;
  COUNT(s->ctx, closed);
}

int sc_dtls_shed(sc_dtls_t *s) {
  if (s->state != SC_DTLS_CONNECTED || !s->ssl) return -EINVAL;
  ERR_clear_error();
  drop_ssl(s);
  return 0;
}
