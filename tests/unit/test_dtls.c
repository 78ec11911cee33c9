/* Unit tests for sc_dtls: handshakes with a real OpenSSL DTLS 1.2 client
 * over memory (tests/unit/dtls_fx.h), retransmission, the fingerprint
 * check, garbage, the deadline, close_notify, a second ClientHello, the
 * handshake budget, and the certificate in the state directory. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dtls_fx.h"
#include "sc_dtls.h"
#include "sc_sdp.h"
#include "sc_test.h"

#define BOTH "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

static sc_dtls_ctx_t *ctx;
static char root[64];

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static sc_dtls_stats_t stats(void) {
  sc_dtls_stats_t st;
  sc_dtls_ctx_stats(ctx, &st);
  return st;
}

/* A full handshake with a client offering `profiles`; checks both sides'
 * keys agree and returns the profile the server chose. */
static uint16_t handshake_and_compare(const char *profiles) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_srtp_keys_t sk, ck;
  ASSERT_EQ(fx_client_init(&c, profiles, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &sk), -EAGAIN);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_TRUE(c.done);
  ASSERT_EQ(SSL_version(c.ssl), DTLS1_2_VERSION);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &sk), 0);
  ASSERT_EQ(fx_client_keys(&c, &ck), 0);
  ASSERT_EQ(sk.profile, ck.profile);
  ASSERT_EQ(sk.key_len, 16);
  ASSERT_EQ(sk.salt_len, sk.profile == SC_SRTP_AEAD_AES_128_GCM ? 12 : 14);
  ASSERT_MEMEQ(sk.local_key, ck.remote_key, sk.key_len);
  ASSERT_MEMEQ(sk.remote_key, ck.local_key, sk.key_len);
  ASSERT_MEMEQ(sk.local_salt, ck.remote_salt, sk.salt_len);
  ASSERT_MEMEQ(sk.remote_salt, ck.local_salt, sk.salt_len);
  ASSERT_TRUE(memcmp(sk.local_key, sk.remote_key, 16) != 0);
  ASSERT_EQ(sc_dtls_next_timeout_ms(s, 0), -1);
  uint16_t profile = sk.profile;
  sc_dtls_free(s);
  fx_client_free(&c);
  return profile;
}

static void test_handshake_profiles(void) {
  sc_dtls_stats_t before = stats();
  ASSERT_EQ(handshake_and_compare("SRTP_AEAD_AES_128_GCM"), SC_SRTP_AEAD_AES_128_GCM);
  ASSERT_EQ(handshake_and_compare("SRTP_AES128_CM_SHA1_80"), SC_SRTP_AES128_CM_SHA1_80);
  /* Both offered, the client preferring CM: the server's order wins. */
  ASSERT_EQ(handshake_and_compare("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"),
            SC_SRTP_AEAD_AES_128_GCM);
  sc_dtls_stats_t after = stats();
  ASSERT_EQ(after.connected - before.connected, 3);
  ASSERT_EQ(after.started - before.started, 3);
  ASSERT_EQ(after.in_progress, 0);
}

static void test_fingerprint_format(void) {
  const char *fp = sc_dtls_ctx_fingerprint(ctx);
  uint8_t bytes[SC_DTLS_FP_LEN], parsed[SC_DTLS_FP_LEN], peer[SC_DTLS_FP_LEN];
  unsigned int n = 0;
  ASSERT_EQ(strlen(fp), SC_DTLS_FP_TEXT - 1);
  for (int i = 0; i < SC_DTLS_FP_TEXT - 1; i++)
    ASSERT_TRUE(i % 3 == 2 ? fp[i] == ':' : strchr("0123456789ABCDEF", fp[i]) != NULL);
  sc_dtls_ctx_fingerprint_bytes(ctx, bytes);
  ASSERT_EQ(sc_sdp_fingerprint_parse(fp, strlen(fp), parsed), 0);
  ASSERT_MEMEQ(bytes, parsed, SC_DTLS_FP_LEN);
  /* It is the digest of the certificate a client actually receives. */
  fx_client_t c;
  sc_dtls_t *s = NULL;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_EQ(X509_digest(SSL_get0_peer_certificate(c.ssl), EVP_sha256(), peer, &n), 1);
  ASSERT_MEMEQ(peer, bytes, SC_DTLS_FP_LEN);
  sc_dtls_free(s);
  fx_client_free(&c);
  /* Parsing: either case; anything else refused. */
  char lower[SC_DTLS_FP_TEXT];
  for (int i = 0; i < SC_DTLS_FP_TEXT; i++) lower[i] = (char)tolower((unsigned char)fp[i]);
  ASSERT_EQ(sc_sdp_fingerprint_parse(lower, strlen(lower), parsed), 0);
  ASSERT_MEMEQ(bytes, parsed, SC_DTLS_FP_LEN);
  lower[2] = '-';
  ASSERT_EQ(sc_sdp_fingerprint_parse(lower, strlen(lower), parsed), -EINVAL);
  ASSERT_EQ(sc_sdp_fingerprint_parse(fp, strlen(fp) - 3, parsed), -EINVAL);
  ASSERT_EQ(sc_sdp_fingerprint_parse("zz", 2, parsed), -EINVAL);
}

static void test_expected_fingerprint(void) {
  uint8_t wrong[SC_DTLS_FP_LEN] = {0};
  fx_client_t c;
  sc_dtls_t *s = NULL;
  /* The right one: connected. */
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, c.fp, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  sc_dtls_free(s);
  fx_client_free(&c);
  /* Another certificate: failed and counted; the client gets an alert. */
  sc_dtls_stats_t before = stats();
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  memcpy(wrong, c.fp, sizeof wrong);
  wrong[31] ^= 1;
  ASSERT_EQ(sc_dtls_new(&s, ctx, wrong, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_FAILED);
  ASSERT_EQ(sc_dtls_failure(s), SC_DTLS_FAIL_FINGERPRINT);
  ASSERT_STREQ(sc_dtls_failure_name(sc_dtls_failure(s)), "fingerprint");
  ASSERT_TRUE(c.failed);
  ASSERT_TRUE(!c.done);
  sc_srtp_keys_t k;
  ASSERT_EQ(sc_dtls_srtp_keys(s, &k), -EAGAIN);
  sc_dtls_stats_t after = stats();
  ASSERT_EQ(after.failed[SC_DTLS_FAIL_FINGERPRINT] - before.failed[SC_DTLS_FAIL_FINGERPRINT], 1);
  ASSERT_EQ(after.in_progress, 0);
  sc_dtls_free(s);
  fx_client_free(&c);
}

/* The server's first flight is lost; the client (whose own timer is 1 s)
 * waits, the server's timer (100 ms) sends the flight again. OpenSSL packs
 * a flight's records into datagrams of at most the MTU (its buffering BIO
 * flushes once per datagram), so ours is one datagram. */
static void test_retransmit(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  uint8_t buf[8192], first[2048];
  sc_dtls_out_t out;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 1000), 0);
  ASSERT_EQ(sc_dtls_next_timeout_ms(s, 1000), SC_DTLS_HANDSHAKE_MS); /* no flight sent yet */
  fx_client_step(&c);
  ASSERT_EQ(c.out.n, 1); /* ClientHello */
  sc_dtls_out_init(&out, buf, sizeof buf);
  ASSERT_EQ(sc_dtls_feed(s, c.out.data[0], c.out.len[0], 1000, &out), SC_DTLS_HANDSHAKING);
  c.out.n = 0;
  ASSERT_EQ(out.n, 1); /* lost */
  ASSERT_TRUE(out.len[0] > 400 && out.len[0] <= SC_DTLS_MTU);
  size_t first_len = out.len[0];
  memcpy(first, out.buf, first_len);
  int64_t wait = sc_dtls_next_timeout_ms(s, 1000);
  ASSERT_TRUE(wait > 0 && wait <= 100);
  sc_dtls_out_init(&out, buf, sizeof buf);
  ASSERT_EQ(sc_dtls_on_timeout(s, 1000, &out), SC_DTLS_HANDSHAKING); /* early: nothing */
  ASSERT_EQ(out.n, 0);
  sleep_ms((int)wait + 20);
  ASSERT_EQ(sc_dtls_next_timeout_ms(s, 1000 + wait + 20), 0);
  ASSERT_EQ(sc_dtls_on_timeout(s, 1000 + wait + 20, &out), SC_DTLS_HANDSHAKING);
  /* The same flight again, one record per datagram this time (OpenSSL
   * resends message by message): the same records, new sequence numbers. */
  ASSERT_TRUE(out.n >= 1);
  ASSERT_EQ(out.used, first_len);
  ASSERT_MEMEQ(out.buf + 13, first + 13, 60); /* the ServerHello: same random */
  /* The timer doubled: the next retransmission is ~200 ms away. */
  int64_t next = sc_dtls_next_timeout_ms(s, 1000 + wait + 20);
  ASSERT_TRUE(next > 100 && next <= 200);
  for (int i = 0; i < out.n; i++) {
    ASSERT_TRUE(out.len[i] <= SC_DTLS_MTU);
    fx_client_receive(&c, out.buf + out.off[i], out.len[i]);
  }
  ASSERT_TRUE(c.out.n > 0); /* the client's second flight */
  ASSERT_EQ(fx_handshake(&c, s, 1000 + wait + 20, 10), SC_DTLS_CONNECTED);
  ASSERT_TRUE(c.done);
  sc_dtls_free(s);
  fx_client_free(&c);
}

/* The server's last flight is lost: it is connected, the client is not.
 * The client's retransmitted flight reaches the connected session (whose
 * record buffers were freed), which sends its last flight again. */
static void test_last_flight_lost(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  fx_client_step(&c);
  fx_exchange(&c, s, 0, 0, 0);        /* ClientHello -> flight 1 */
  fx_exchange(&c, s, 0, 0, 0xffffff); /* flight 2 -> our CCS+Finished, lost */
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_CONNECTED);
  ASSERT_TRUE(!c.done);
  sleep_ms(130);
  ASSERT_EQ(DTLSv1_handle_timeout(c.ssl), 1);
  ASSERT_TRUE(c.out.n > 0);
  fx_exchange(&c, s, 0, 0, 0);
  ASSERT_TRUE(c.done);
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_CONNECTED);
  sc_srtp_keys_t sk, ck;
  ASSERT_EQ(sc_dtls_srtp_keys(s, &sk), 0);
  ASSERT_EQ(fx_client_keys(&c, &ck), 0);
  ASSERT_MEMEQ(sk.local_key, ck.remote_key, 16);
  /* Our own close after that: a write with no read before it. */
  uint8_t buf[4096];
  sc_dtls_out_t out;
  sc_dtls_out_init(&out, buf, sizeof buf);
  sc_dtls_close(s, &out);
  ASSERT_EQ(out.n, 1);
  sc_dtls_free(s);
  fx_client_free(&c);
}

/* Garbage never reaches OpenSSL or breaks the session; a real handshake
 * on the same session still completes afterwards. */
static void test_garbage(void) {
  uint8_t junk[SC_DTLS_DATAGRAM_MAX + 10];
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_dtls_out_t out;
  uint8_t buf[4096];
  sc_dtls_out_init(&out, buf, sizeof buf);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  sc_dtls_stats_t before = stats();
  memset(junk, 0x16, sizeof junk);
  ASSERT_EQ(sc_dtls_feed(s, junk, 0, 0, &out), SC_DTLS_HANDSHAKING);
  ASSERT_EQ(sc_dtls_feed(s, junk, 5, 0, &out), SC_DTLS_HANDSHAKING);
  ASSERT_EQ(sc_dtls_feed(s, junk, sizeof junk, 0, &out), SC_DTLS_HANDSHAKING);
  for (int i = 0; i < 50; i++) {
    RAND_bytes(junk, 200);
    junk[0] = (uint8_t)(i < 25 ? 0x80 : 0x01); /* RTP-ish, STUN-ish */
    sc_dtls_feed(s, junk, 200, 0, &out);
  }
  ASSERT_EQ(stats().bad_datagrams - before.bad_datagrams, 53);
  ASSERT_EQ(out.n, 0);
  /* A well-formed record header with a nonsense handshake body goes to
   * OpenSSL, which drops it without harm. */
  uint8_t rec[13 + 20] = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20};
  memset(rec + 13, 0xEE, 20);
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_HANDSHAKING);
  sc_dtls_feed(s, rec, sizeof rec, 0, &out);
  if (sc_dtls_state(s) == SC_DTLS_HANDSHAKING) {
    ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
    ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
    fx_client_free(&c);
  } else {
    ASSERT_EQ(sc_dtls_failure(s), SC_DTLS_FAIL_PROTOCOL);
  }
  sc_dtls_free(s);
}

static void test_deadline(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_dtls_stats_t before = stats();
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 5000), 0);
  fx_client_step(&c);
  fx_exchange(&c, s, 5000, 0, 0xff); /* the server's flight never arrives */
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_HANDSHAKING);
  ASSERT_TRUE(sc_dtls_next_timeout_ms(s, 5000 + SC_DTLS_HANDSHAKE_MS - 10) <= 10);
  ASSERT_EQ(sc_dtls_on_timeout(s, 5000 + SC_DTLS_HANDSHAKE_MS - 1, NULL), SC_DTLS_HANDSHAKING);
  ASSERT_EQ(sc_dtls_on_timeout(s, 5000 + SC_DTLS_HANDSHAKE_MS, NULL), SC_DTLS_FAILED);
  ASSERT_EQ(sc_dtls_failure(s), SC_DTLS_FAIL_TIMEOUT);
  ASSERT_EQ(sc_dtls_next_timeout_ms(s, 0), -1);
  sc_dtls_stats_t after = stats();
  ASSERT_EQ(after.failed[SC_DTLS_FAIL_TIMEOUT] - before.failed[SC_DTLS_FAIL_TIMEOUT], 1);
  ASSERT_EQ(after.in_progress, 0);
  /* A datagram past the deadline fails a session too. */
  sc_dtls_t *s2 = NULL;
  ASSERT_EQ(sc_dtls_new(&s2, ctx, NULL, 0), 0);
  fx_client_free(&c);
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(fx_handshake(&c, s2, SC_DTLS_HANDSHAKE_MS, 10), SC_DTLS_FAILED);
  ASSERT_EQ(sc_dtls_failure(s2), SC_DTLS_FAIL_TIMEOUT);
  sc_dtls_free(s2);
  sc_dtls_free(s);
  fx_client_free(&c);
}

static void test_close_notify(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_dtls_stats_t before = stats();
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  SSL_shutdown(c.ssl);
  ASSERT_EQ(c.out.n, 1);
  uint8_t buf[4096];
  sc_dtls_out_t out;
  sc_dtls_out_init(&out, buf, sizeof buf);
  ASSERT_EQ(sc_dtls_feed(s, c.out.data[0], c.out.len[0], 0, &out), SC_DTLS_CLOSED);
  ASSERT_EQ(out.n, 1); /* our close_notify */
  BIO_write(c.rbio, out.buf, (int)out.len[0]);
  ASSERT_EQ(SSL_shutdown(c.ssl), 1);
  ASSERT_EQ(stats().closed - before.closed, 1);
  sc_dtls_free(s);
  fx_client_free(&c);
  /* Our own close. */
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  sc_dtls_out_init(&out, buf, sizeof buf);
  sc_dtls_close(s, &out);
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_CLOSED);
  ASSERT_EQ(out.n, 1);
  fx_client_receive(&c, out.buf, out.len[0]);
  ASSERT_EQ(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN);
  sc_dtls_free(s);
  fx_client_free(&c);
}

/* Once connected, a new ClientHello is ignored (counted) and the session
 * keeps its keys; a renegotiation inside the session is refused too. */
static void test_second_client_hello(void) {
  fx_client_t c, c2;
  sc_dtls_t *s = NULL;
  sc_srtp_keys_t k1, k2;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &k1), 0);
  sc_dtls_stats_t before = stats();
  ASSERT_EQ(fx_client_init(&c2, BOTH, 1), 0);
  fx_client_step(&c2);
  ASSERT_EQ(c2.out.n, 1);
  uint8_t buf[8192];
  sc_dtls_out_t out;
  sc_dtls_out_init(&out, buf, sizeof buf);
  ASSERT_EQ(sc_dtls_feed(s, c2.out.data[0], c2.out.len[0], 0, &out), SC_DTLS_CONNECTED);
  ASSERT_EQ(out.n, 0);
  ASSERT_EQ(stats().late_handshake - before.late_handshake, 1);
  /* Renegotiation inside the session: OpenSSL refuses it with a warning. */
  ASSERT_EQ(SSL_renegotiate(c.ssl), 1);
  SSL_do_handshake(c.ssl);
  ASSERT_TRUE(c.out.n >= 1);
  fx_exchange(&c, s, 0, 0, 0);
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_CONNECTED);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &k2), 0);
  ASSERT_MEMEQ(&k1, &k2, sizeof k1);
  ASSERT_EQ(stats().connected - before.connected, 0);
  sc_dtls_free(s);
  fx_client_free(&c);
  fx_client_free(&c2);
}

static void test_refusals(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_dtls_stats_t before = stats();
  /* No client certificate. */
  ASSERT_EQ(fx_client_init(&c, BOTH, 0), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_FAILED);
  ASSERT_EQ(sc_dtls_failure(s), SC_DTLS_FAIL_PROTOCOL);
  sc_dtls_free(s);
  fx_client_free(&c);
  /* No use_srtp, and only a profile we do not offer. */
  const char *offers[] = {NULL, "SRTP_AES128_CM_SHA1_32"};
  for (int i = 0; i < 2; i++) {
    ASSERT_EQ(fx_client_init(&c, offers[i], 1), 0);
    ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
    ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_FAILED);
    ASSERT_EQ(sc_dtls_failure(s), SC_DTLS_FAIL_NO_SRTP);
    sc_dtls_free(s);
    fx_client_free(&c);
  }
  sc_dtls_stats_t after = stats();
  ASSERT_EQ(after.failed[SC_DTLS_FAIL_PROTOCOL] - before.failed[SC_DTLS_FAIL_PROTOCOL], 1);
  ASSERT_EQ(after.failed[SC_DTLS_FAIL_NO_SRTP] - before.failed[SC_DTLS_FAIL_NO_SRTP], 2);
  ASSERT_EQ(after.in_progress, 0);
}

static void test_budget(void) {
  char err[256];
  sc_dtls_ctx_t *small = NULL;
  sc_dtls_t *a = NULL, *b = NULL, *d = NULL;
  ASSERT_EQ(sc_dtls_ctx_new(&small, NULL, 2, err, sizeof err), 0);
  ASSERT_EQ(sc_dtls_new(&a, small, NULL, 0), 0);
  ASSERT_EQ(sc_dtls_new(&b, small, NULL, 0), 0);
  ASSERT_EQ(sc_dtls_ctx_in_progress(small), 2);
  ASSERT_EQ(sc_dtls_new(&d, small, NULL, 0), -EBUSY);
  ASSERT_TRUE(d == NULL);
  fx_client_t c;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(fx_handshake(&c, a, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_EQ(sc_dtls_ctx_in_progress(small), 1);
  ASSERT_EQ(sc_dtls_new(&d, small, NULL, 0), 0);
  sc_dtls_free(b); /* freed while handshaking: no longer counted */
  ASSERT_EQ(sc_dtls_ctx_in_progress(small), 1);
  sc_dtls_stats_t st;
  sc_dtls_ctx_stats(small, &st);
  ASSERT_EQ(st.refused, 1);
  ASSERT_EQ(st.started, 3);
  sc_dtls_free(a);
  sc_dtls_free(d);
  ASSERT_EQ(sc_dtls_ctx_in_progress(small), 0);
  fx_client_free(&c);
  sc_dtls_ctx_free(small);
}

/* After the handshake the SSL object can go; the keys stay. */
static void test_shed(void) {
  fx_client_t c;
  sc_dtls_t *s = NULL;
  sc_srtp_keys_t k1, k2;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, ctx, NULL, 0), 0);
  ASSERT_EQ(sc_dtls_shed(s), -EINVAL); /* not yet connected */
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &k1), 0);
  ASSERT_EQ(sc_dtls_shed(s), 0);
  ASSERT_EQ(sc_dtls_srtp_keys(s, &k2), 0);
  ASSERT_MEMEQ(&k1, &k2, sizeof k1);
  SSL_shutdown(c.ssl);
  ASSERT_EQ(sc_dtls_feed(s, c.out.data[0], c.out.len[0], 0, NULL), SC_DTLS_CONNECTED);
  sc_dtls_close(s, NULL);
  ASSERT_EQ(sc_dtls_state(s), SC_DTLS_CLOSED);
  sc_dtls_free(s);
  fx_client_free(&c);
}

static int file_mode(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_cert_persisted(void) {
  char err[512], path[128];
  sc_dtls_ctx_t *a = NULL, *b = NULL, *mem = NULL;
  snprintf(path, sizeof path, "%s/%s", root, SC_DTLS_CERT_FILE);
  ASSERT_EQ(sc_dtls_ctx_new(&a, root, 0, err, sizeof err), 0);
  ASSERT_EQ(file_mode(path), 0600);
  ASSERT_EQ(sc_dtls_ctx_new(&b, root, 0, err, sizeof err), 0);
  ASSERT_STREQ(sc_dtls_ctx_fingerprint(a), sc_dtls_ctx_fingerprint(b));
  ASSERT_EQ(sc_dtls_ctx_new(&mem, NULL, 0, err, sizeof err), 0);
  ASSERT_TRUE(strcmp(sc_dtls_ctx_fingerprint(a), sc_dtls_ctx_fingerprint(mem)) != 0);
  /* The reloaded certificate works: a handshake against the second context. */
  fx_client_t c;
  sc_dtls_t *s = NULL;
  ASSERT_EQ(fx_client_init(&c, BOTH, 1), 0);
  ASSERT_EQ(sc_dtls_new(&s, b, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, s, 0, 10), SC_DTLS_CONNECTED);
  sc_dtls_free(s);
  fx_client_free(&c);
  sc_dtls_ctx_free(a);
  sc_dtls_ctx_free(b);
  sc_dtls_ctx_free(mem);
  /* A corrupt file is a clear error, and is left alone. */
  FILE *f = fopen(path, "w");
  ASSERT_TRUE(f != NULL);
  fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n", f);
  fclose(f);
  ASSERT_EQ(sc_dtls_ctx_new(&a, root, 0, err, sizeof err), -EINVAL);
  ASSERT_TRUE(a == NULL);
  ASSERT_TRUE(strstr(err, path) != NULL);
  ASSERT_TRUE(strstr(err, "not a PEM P-256 private key") != NULL);
  ASSERT_EQ(file_mode(path), 0600);
  unlink(path);
}

int main(int argc, char **argv) {
  char err[256];
  SC_TEST_ARGS(argc, argv);
  snprintf(root, sizeof root, "/tmp/sc_dtls_XXXXXX");
  ASSERT_TRUE(mkdtemp(root) != NULL);
  ASSERT_EQ(sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err), 0);
  RUN_TEST(test_handshake_profiles);
  RUN_TEST(test_fingerprint_format);
  RUN_TEST(test_expected_fingerprint);
  RUN_TEST(test_retransmit);
  RUN_TEST(test_last_flight_lost);
  RUN_TEST(test_garbage);
  RUN_TEST(test_deadline);
  RUN_TEST(test_close_notify);
  RUN_TEST(test_second_client_hello);
  RUN_TEST(test_refusals);
  RUN_TEST(test_budget);
  RUN_TEST(test_shed);
  RUN_TEST(test_cert_persisted);
  sc_dtls_ctx_free(ctx);
  rmdir(root);
  SC_TEST_DONE();
}
