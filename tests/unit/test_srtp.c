/* Unit tests for sc_srtp: keys from a real DTLS handshake (sc_dtls against
 * an OpenSSL client, tests/unit/dtls_fx.h); the client's side is libsrtp
 * set up here directly from the client's own export, so the key split,
 * the profile table and the error mapping are all checked end to end. */
#include <errno.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtls_fx.h"
#include "sc_dtls.h"
#include "sc_srtp.h"
#include "sc_srtp_evp.h"
#include "sc_test.h"

#define BUF 1500

static sc_dtls_ctx_t *ctx;

typedef struct {
  sc_srtp_t *server;   /* under test */
  srtp_t client_out;   /* the client protects with its own key */
  srtp_t client_in;    /* and unprotects with ours */
  sc_srtp_keys_t keys; /* the server's */
} pair_t;

static srtp_t raw_session(uint16_t profile, const uint8_t *key, const uint8_t *salt, int inbound) {
  srtp_policy_t p;
  uint8_t master[30];
  size_t salt_len = profile == SC_SRTP_AEAD_AES_128_GCM ? 12 : 14;
  memset(&p, 0, sizeof p);
  if (profile == SC_SRTP_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
  }
  memcpy(master, key, 16);
  memcpy(master + 16, salt, salt_len);
  p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  p.key = master;
  p.window_size = 1024;
  srtp_t s = NULL;
  ASSERT_EQ(srtp_create(&s, &p), srtp_err_status_ok);
  return s;
}

static void pair_open(pair_t *p, const char *profiles, int max_streams) {
  fx_client_t c;
  sc_dtls_t *d = NULL;
  sc_srtp_keys_t ck;
  memset(p, 0, sizeof *p);
  ASSERT_EQ(fx_client_init(&c, profiles, 1), 0);
  ASSERT_EQ(sc_dtls_new(&d, ctx, NULL, 0), 0);
  ASSERT_EQ(fx_handshake(&c, d, 0, 10), SC_DTLS_CONNECTED);
  ASSERT_EQ(sc_dtls_srtp_keys(d, &p->keys), 0);
  ASSERT_EQ(fx_client_keys(&c, &ck), 0);
  sc_dtls_free(d);
  fx_client_free(&c);
  ASSERT_EQ(sc_srtp_new(&p->server, &p->keys, max_streams), 0);
  p->client_out = raw_session(ck.profile, ck.local_key, ck.local_salt, 0);
  p->client_in = raw_session(ck.profile, ck.remote_key, ck.remote_salt, 1);
}

static void pair_close(pair_t *p) {
  sc_srtp_free(p->server);
  srtp_dealloc(p->client_out);
  srtp_dealloc(p->client_in);
}

static size_t make_rtp(uint8_t *b, uint32_t ssrc, uint16_t seq) {
  memset(b, 0, BUF);
  b[0] = 0x80;
  b[1] = 111;
  b[2] = (uint8_t)(seq >> 8);
  b[3] = (uint8_t)seq;
  b[7] = (uint8_t)(seq * 960);
  b[8] = (uint8_t)(ssrc >> 24);
  b[9] = (uint8_t)(ssrc >> 16);
  b[10] = (uint8_t)(ssrc >> 8);
  b[11] = (uint8_t)ssrc;
  for (int i = 0; i < 40; i++) b[12 + i] = (uint8_t)(i * 7 + seq);
  return 52;
}

/* A receiver report with one report block: 32 bytes. */
static size_t make_rtcp(uint8_t *b, uint32_t ssrc) {
  memset(b, 0, BUF);
  b[0] = 0x81;
  b[1] = 201;
  b[3] = 7;
  b[4] = (uint8_t)(ssrc >> 24);
  b[5] = (uint8_t)(ssrc >> 16);
  b[6] = (uint8_t)(ssrc >> 8);
  b[7] = (uint8_t)ssrc;
  for (int i = 8; i < 32; i++) b[i] = (uint8_t)i;
  return 32;
}

/* Client -> server RTP; returns sc_srtp's result. */
static int client_sends(pair_t *p, uint32_t ssrc, uint16_t seq, uint8_t *wire, int *wire_len) {
  uint8_t clear[BUF];
  size_t len = make_rtp(clear, ssrc, seq);
  memcpy(wire, clear, BUF);
  *wire_len = (int)len;
  ASSERT_EQ(srtp_protect(p->client_out, wire, wire_len), srtp_err_status_ok);
  uint8_t copy[BUF];
  memcpy(copy, wire, (size_t)*wire_len);
  int rc = sc_srtp_unprotect_rtp(p->server, copy, (size_t)*wire_len);
  if (rc >= 0) {
    ASSERT_EQ(rc, len);
    ASSERT_MEMEQ(copy, clear, len);
  }
  return rc;
}

static void round_trips(const char *profiles, uint16_t want_profile, int tag) {
  pair_t p;
  uint8_t buf[BUF], clear[BUF], wire[BUF];
  int n;
  pair_open(&p, profiles, 4);
  ASSERT_EQ(p.keys.profile, want_profile);
  for (uint16_t seq = 1; seq <= 3; seq++) {
    /* Client to server, RTP. */
    ASSERT_EQ(client_sends(&p, 0x11223344, seq, wire, &n), 52);
    ASSERT_EQ(n, 52 + tag);
    /* Server to client, RTP. */
    size_t len = make_rtp(clear, 0xAABBCCDD, seq);
    memcpy(buf, clear, BUF);
    int rc = sc_srtp_protect_rtp(p.server, buf, len, sizeof buf);
    ASSERT_EQ(rc, 52 + tag);
    ASSERT_TRUE(memcmp(buf + 12, clear + 12, 40) != 0);
    n = rc;
    ASSERT_EQ(srtp_unprotect(p.client_in, buf, &n), srtp_err_status_ok);
    ASSERT_EQ(n, 52);
    ASSERT_MEMEQ(buf, clear, 52);
  }
  /* RTCP both ways: 4 bytes of E flag and index, then the tag. */
  size_t len = make_rtcp(clear, 0x11223344);
  memcpy(buf, clear, BUF);
  n = (int)len;
  ASSERT_EQ(srtp_protect_rtcp(p.client_out, buf, &n), srtp_err_status_ok);
  ASSERT_EQ(n, 32 + 4 + tag);
  ASSERT_EQ(sc_srtp_unprotect_rtcp(p.server, buf, (size_t)n), 32);
  ASSERT_MEMEQ(buf, clear, 32);
  len = make_rtcp(clear, 0xAABBCCDD);
  memcpy(buf, clear, BUF);
  int rc = sc_srtp_protect_rtcp(p.server, buf, len, sizeof buf);
  ASSERT_EQ(rc, 32 + 4 + tag);
  n = rc;
  ASSERT_EQ(srtp_unprotect_rtcp(p.client_in, buf, &n), srtp_err_status_ok);
  ASSERT_EQ(n, 32);
  ASSERT_MEMEQ(buf, clear, 32);
  ASSERT_EQ(sc_srtp_inbound_streams(p.server), 1);
  ASSERT_EQ(sc_srtp_outbound_streams(p.server), 1);
  pair_close(&p);
}

static void test_round_trip_gcm(void) {
  round_trips("SRTP_AEAD_AES_128_GCM", SC_SRTP_AEAD_AES_128_GCM, 16);
}

/* Both profiles run on OpenSSL (sc_srtp_evp), which libsrtp took only
 * after its known-answer tests passed; the round trips below and the
 * Chromium and werift tests (tests/node) exercise them against other
 * implementations. */
static void test_gcm_on_evp(void) {
  ASSERT_EQ(sc_srtp_evp_active(), SC_SRTP_EVP_GCM | SC_SRTP_EVP_ICM | SC_SRTP_EVP_HMAC);
  ASSERT_EQ(sc_srtp_evp_register(), 0); /* again: the same types, accepted again */
}

/* The CM profile on OpenSSL (AES-ICM for the key derivation and the
 * payload, HMAC-SHA1 for the tag) against libsrtp's reference packets
 * (test/srtp_driver.c, srtp_validate: SSRC 0xcafebabe, seq 0x1234), made
 * by another implementation: the process's libsrtp now runs ours. */
static void test_cm_on_evp(void) {
  static const uint8_t key[16] = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                  0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39};
  static const uint8_t salt[14] = {0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                   0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
  static const uint8_t rtp_clear[28] = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                                        0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                        0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
  static const uint8_t rtp_wire[38] = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                                       0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8,
                                       0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d,
                                       0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb};
  static const uint8_t rtcp_clear[24] = {0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
                                         0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                         0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
  static const uint8_t rtcp_wire[38] = {0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28,
                                        0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41,
                                        0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e,
                                        0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98};
  sc_srtp_keys_t k = {.profile = SC_SRTP_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
  memcpy(k.local_key, key, 16);
  memcpy(k.remote_key, key, 16);
  memcpy(k.local_salt, salt, 14);
  memcpy(k.remote_salt, salt, 14);
  sc_srtp_t *s;
  uint8_t buf[BUF];
  ASSERT_EQ(sc_srtp_new(&s, &k, 4), 0);
  memcpy(buf, rtp_clear, sizeof rtp_clear);
  ASSERT_EQ(sc_srtp_protect_rtp(s, buf, sizeof rtp_clear, sizeof buf), 38);
  ASSERT_MEMEQ(buf, rtp_wire, 38);
  ASSERT_EQ(sc_srtp_unprotect_rtp(s, buf, 38), 28);
  ASSERT_MEMEQ(buf, rtp_clear, 28);
  memcpy(buf, rtcp_clear, sizeof rtcp_clear);
  ASSERT_EQ(sc_srtp_protect_rtcp(s, buf, sizeof rtcp_clear, sizeof buf), 38);
  ASSERT_MEMEQ(buf, rtcp_wire, 38);
  ASSERT_EQ(sc_srtp_unprotect_rtcp(s, buf, 38), 24);
  ASSERT_MEMEQ(buf, rtcp_clear, 24);
  sc_srtp_free(s);
}

static void test_round_trip_cm(void) {
  round_trips("SRTP_AES128_CM_SHA1_80", SC_SRTP_AES128_CM_SHA1_80, 10);
}

static void test_tampered(void) {
  const char *profiles[] = {"SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80"};
  for (int i = 0; i < 2; i++) {
    pair_t p;
    uint8_t wire[BUF], copy[BUF];
    int n;
    pair_open(&p, profiles[i], 4);
    uint8_t clear[BUF];
    size_t len = make_rtp(clear, 0x01020304, 10);
    memcpy(wire, clear, BUF);
    n = (int)len;
    ASSERT_EQ(srtp_protect(p.client_out, wire, &n), srtp_err_status_ok);
    const int spots[] = {2, 20, n - 1}; /* header (seq), payload, tag */
    for (int k = 0; k < 3; k++) {
      memcpy(copy, wire, (size_t)n);
      copy[spots[k]] ^= 0x01;
      ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, copy, (size_t)n), SC_SRTP_E_AUTH);
    }
    /* A failed packet for a new SSRC takes no stream. */
    ASSERT_EQ(sc_srtp_inbound_streams(p.server), 0);
    memcpy(copy, wire, (size_t)n);
    ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, copy, (size_t)n),
              (int)len); /* the original is fine */
    /* RTCP too. */
    len = make_rtcp(clear, 0x01020304);
    memcpy(wire, clear, BUF);
    n = (int)len;
    ASSERT_EQ(srtp_protect_rtcp(p.client_out, wire, &n), srtp_err_status_ok);
    wire[10] ^= 0x80;
    ASSERT_EQ(sc_srtp_unprotect_rtcp(p.server, wire, (size_t)n), SC_SRTP_E_AUTH);
    pair_close(&p);
  }
}

static void test_replay(void) {
  pair_t p;
  uint8_t wire[BUF], copy[BUF];
  int n;
  pair_open(&p, "SRTP_AEAD_AES_128_GCM", 4);
  ASSERT_EQ(client_sends(&p, 0x55, 1, wire, &n), 52);
  ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, wire, (size_t)n), SC_SRTP_E_REPLAY); /* again */
  /* Far ahead, then one older than the 1024 window (replay_old). */
  ASSERT_EQ(client_sends(&p, 0x55, 2, wire, &n), 52);
  uint8_t old_wire[BUF];
  int old_n;
  memcpy(old_wire, wire, BUF); /* seq 2, already accepted: a replay */
  old_n = n;
  ASSERT_EQ(client_sends(&p, 0x55, 3, wire, &n), 52);
  for (uint16_t seq = 4; seq < 1100; seq += 100)
    ASSERT_EQ(client_sends(&p, 0x55, seq, wire, &n), 52);
  ASSERT_EQ(client_sends(&p, 0x55, 1200, wire, &n), 52);
  memcpy(copy, old_wire, (size_t)old_n);
  ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, copy, (size_t)old_n), SC_SRTP_E_REPLAY);
  /* A packet never seen but older than the window is refused the same way
   * (a second sender with the client's key, whose own index is still low). */
  uint8_t clear[BUF];
  size_t len = make_rtp(clear, 0x55, 5);
  memcpy(wire, clear, BUF);
  n = (int)len;
  srtp_t late = raw_session(p.keys.profile, p.keys.remote_key, p.keys.remote_salt, 0);
  ASSERT_EQ(srtp_protect(late, wire, &n), srtp_err_status_ok);
  srtp_dealloc(late);
  ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, wire, (size_t)n), SC_SRTP_E_REPLAY);
  /* Our own retransmissions (same seq) are allowed on the way out. */
  len = make_rtp(clear, 0x66, 7);
  for (int i = 0; i < 2; i++) {
    memcpy(wire, clear, BUF);
    ASSERT_TRUE(sc_srtp_protect_rtp(p.server, wire, len, sizeof wire) > 0);
  }
  pair_close(&p);
}

static void test_stream_budget(void) {
  pair_t p;
  uint8_t wire[BUF], buf[BUF];
  int n;
  pair_open(&p, "SRTP_AES128_CM_SHA1_80", 2);
  ASSERT_EQ(client_sends(&p, 1, 1, wire, &n), 52);
  ASSERT_EQ(client_sends(&p, 2, 1, wire, &n), 52);
  ASSERT_EQ(client_sends(&p, 3, 1, wire, &n), SC_SRTP_E_STREAMS);
  ASSERT_EQ(client_sends(&p, 2, 2, wire, &n), 52); /* known SSRCs go on */
  ASSERT_EQ(sc_srtp_remove_inbound(p.server, 1), 0);
  ASSERT_EQ(sc_srtp_remove_inbound(p.server, 1), -ENOENT);
  ASSERT_EQ(client_sends(&p, 3, 2, wire, &n), 52);
  ASSERT_EQ(sc_srtp_inbound_streams(p.server), 2);
  /* Outbound: the same budget. */
  for (uint32_t ssrc = 10; ssrc < 13; ssrc++) {
    size_t len = make_rtp(buf, ssrc, 1);
    int rc = sc_srtp_protect_rtp(p.server, buf, len, sizeof buf);
    ASSERT_EQ(rc < 0 ? rc : 0, ssrc < 12 ? 0 : SC_SRTP_E_STREAMS);
  }
  ASSERT_EQ(sc_srtp_remove_outbound(p.server, 10), 0);
  size_t len = make_rtp(buf, 12, 1);
  ASSERT_TRUE(sc_srtp_protect_rtp(p.server, buf, len, sizeof buf) > 0);
  pair_close(&p);
}

/* A budget per direction: 1 SSRC from the peer, 3 to it. */
static void test_split_budget(void) {
  pair_t p;
  uint8_t wire[BUF], buf[BUF];
  int n;
  pair_open(&p, "SRTP_AEAD_AES_128_GCM", 4);
  sc_srtp_free(p.server);
  ASSERT_EQ(sc_srtp_new_budget(&p.server, &p.keys, 1, 3), 0);
  ASSERT_EQ(client_sends(&p, 1, 1, wire, &n), 52);
  ASSERT_EQ(client_sends(&p, 2, 1, wire, &n), SC_SRTP_E_STREAMS);
  for (uint32_t ssrc = 10; ssrc < 14; ssrc++) {
    size_t len = make_rtp(buf, ssrc, 1);
    int rc = sc_srtp_protect_rtp(p.server, buf, len, sizeof buf);
    ASSERT_EQ(rc < 0 ? rc : 0, ssrc < 13 ? 0 : SC_SRTP_E_STREAMS);
  }
  ASSERT_EQ(sc_srtp_outbound_streams(p.server), 3);
  sc_srtp_t *s = NULL;
  ASSERT_EQ(sc_srtp_new_budget(&s, &p.keys, 0, 3), -EINVAL);
  ASSERT_EQ(sc_srtp_new_budget(&s, &p.keys, 3, 65), -EINVAL);
  pair_close(&p);
}

/* Outbound, a packet more than 256 positions behind the newest of its
 * stream is refused (our own too-late send); within 256 it goes. */
static void test_outbound_window(void) {
  pair_t p;
  uint8_t buf[BUF];
  pair_open(&p, "SRTP_AEAD_AES_128_GCM", 4);
  size_t len = make_rtp(buf, 0x77, 1000);
  ASSERT_TRUE(sc_srtp_protect_rtp(p.server, buf, len, sizeof buf) > 0);
  len = make_rtp(buf, 0x77, 1000 - 200);
  ASSERT_TRUE(sc_srtp_protect_rtp(p.server, buf, len, sizeof buf) > 0);
  len = make_rtp(buf, 0x77, 1000 - 300);
  ASSERT_EQ(sc_srtp_protect_rtp(p.server, buf, len, sizeof buf), SC_SRTP_E_REPLAY);
  pair_close(&p);
}

static void test_bad_input(void) {
  pair_t p;
  uint8_t buf[BUF];
  pair_open(&p, "SRTP_AEAD_AES_128_GCM", 4);
  size_t len = make_rtp(buf, 9, 1);
  ASSERT_EQ(sc_srtp_protect_rtp(p.server, buf, len, len + SC_SRTP_SPARE - 1), SC_SRTP_E_NOBUFS);
  ASSERT_EQ(sc_srtp_protect_rtp(p.server, buf, 11, sizeof buf), SC_SRTP_E_INVAL);
  ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, buf, 11), SC_SRTP_E_INVAL);
  ASSERT_EQ(sc_srtp_unprotect_rtcp(p.server, buf, 7), SC_SRTP_E_INVAL);
  buf[0] = 0x40; /* RTP version 1 */
  ASSERT_EQ(sc_srtp_unprotect_rtp(p.server, buf, len), SC_SRTP_E_INVAL);
  make_rtp(buf, 9, 1);
  ASSERT_TRUE(sc_srtp_unprotect_rtp(p.server, buf, 20) < 0); /* shorter than header + tag */
  for (int i = 0; i < 200; i++) {
    RAND_bytes(buf, 100);
    buf[0] = 0x80;
    ASSERT_TRUE(sc_srtp_unprotect_rtp(p.server, buf, 100) < 0);
    buf[0] = 0x80;
    ASSERT_TRUE(sc_srtp_unprotect_rtcp(p.server, buf, 100) < 0);
  }
  sc_srtp_t *s = NULL;
  sc_srtp_keys_t k = p.keys;
  k.salt_len = 14; /* GCM's is 12 */
  ASSERT_EQ(sc_srtp_new(&s, &k, 4), -EINVAL);
  k = p.keys;
  k.profile = 0x0008; /* AES-256-GCM: not offered, not supported */
  ASSERT_EQ(sc_srtp_new(&s, &k, 4), -EINVAL);
  ASSERT_EQ(sc_srtp_new(&s, &p.keys, 0), -EINVAL);
  ASSERT_TRUE(s == NULL);
  ASSERT_STREQ(sc_srtp_profile_name(SC_SRTP_AEAD_AES_128_GCM), "SRTP_AEAD_AES_128_GCM");
  pair_close(&p);
}

int main(int argc, char **argv) {
  char err[256];
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_srtp_global_init(), 0);
  ASSERT_EQ(sc_srtp_global_init(), 0); /* idempotent */
  ASSERT_EQ(sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err), 0);
  RUN_TEST(test_gcm_on_evp);
  RUN_TEST(test_cm_on_evp);
  RUN_TEST(test_round_trip_gcm);
  RUN_TEST(test_round_trip_cm);
  RUN_TEST(test_tampered);
  RUN_TEST(test_replay);
  RUN_TEST(test_stream_budget);
  RUN_TEST(test_split_budget);
  RUN_TEST(test_outbound_window);
  RUN_TEST(test_bad_input);
  sc_dtls_ctx_free(ctx);
  SC_TEST_DONE();
}
