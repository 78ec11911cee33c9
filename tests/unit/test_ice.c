/* sc_ice: the ICE-lite agent. Answers only to authenticated checks (and
 * never larger than the request), every refusal with its counter,
 * XOR-MAPPED-ADDRESS for IPv4 and IPv6, nomination, tuple eviction,
 * consent expiry at 30 s and the per-source flood budget. Requests come
 * from stun_fx.h (OpenSSL HMAC(), bitwise CRC), answers are checked with
 * it too; time is passed explicitly. */
#include <errno.h>

#include "addr_fx.h"
#include "sc_ice.h"
#include "sc_test.h"
#include "sc_token.h"
#include "stun_fx.h"

static sc_ice_t agent;
static char username[64];

static void fresh_agent(void) {
  ASSERT_EQ(sc_ice_init(&agent), 0);
  snprintf(username, sizeof username, "%s:peer", agent.ufrag);
}

/* Sends a request built with flags from `from` at now; returns what
 * sc_ice_on_stun returned and checks any answer's shape. */
static int check_from(struct sockaddr_storage from, int64_t now, int flags, uint8_t seed,
                      sc_stun_msg_t *answer) {
  fx_msg_t req;
  fx_request(&req, username, agent.pwd, flags, seed);
  uint8_t out[256];
  memset(out, 0xAA, sizeof out);
  int n = sc_ice_on_stun(&agent, now, req.b, req.len, &from, out, sizeof out);
  if (n <= 0) {
    ASSERT_EQ(out[0], 0xAA); /* nothing written that could leak */
    return n;
  }
  ASSERT_TRUE((size_t)n <= req.len);
  ASSERT_EQ(sc_stun_parse(out, (size_t)n, answer), 0);
  ASSERT_MEMEQ(answer->tid, req.b + 8, 12);
  ASSERT_TRUE(answer->mi_off > 0);
  ASSERT_EQ(fx_mi_valid(out, answer->mi_off, agent.pwd), 1);
  ASSERT_EQ(fx_crc32(out, answer->fp_off) ^ 0x5354554Eu,
            (uint32_t)out[answer->fp_off + 4] << 24 | (uint32_t)out[answer->fp_off + 5] << 16 |
                (uint32_t)out[answer->fp_off + 6] << 8 | out[answer->fp_off + 7]);
  return n;
}

static void test_credentials(void) {
  fresh_agent();
  sc_ice_t other;
  sc_ice_init(&other);
  ASSERT_EQ(strlen(agent.ufrag), SC_ICE_UFRAG_LEN);
  ASSERT_EQ(strlen(agent.pwd), SC_ICE_PWD_LEN);
  ASSERT_TRUE(SC_ICE_UFRAG_LEN >= 4 && SC_ICE_PWD_LEN >= 22);
  const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  ASSERT_EQ(strspn(agent.ufrag, alphabet), SC_ICE_UFRAG_LEN);
  ASSERT_EQ(strspn(agent.pwd, alphabet), SC_ICE_PWD_LEN);
  ASSERT_TRUE(strcmp(agent.pwd, other.pwd) != 0);
  ASSERT_TRUE(strcmp(agent.ufrag, other.ufrag) != 0);
  ASSERT_EQ(sc_ice_state(&agent, 0), SC_ICE_NEW);
  ASSERT_TRUE(sc_ice_send_tuple(&agent, 0) == NULL);
}

static void test_answer_v4(void) {
  fresh_agent();
  sc_stun_msg_t a;
  struct sockaddr_storage from = v4("192.0.2.7", 50123);
  int n = check_from(from, 1000, 0, 1, &a);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V4);
  ASSERT_EQ(a.type, SC_STUN_BINDING_SUCCESS);
  ASSERT_EQ(a.has_mapped, 1);
  ASSERT_MEMEQ(&a.mapped, &from, sizeof(struct sockaddr_in));
  ASSERT_EQ(agent.counters.answered, 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 1000, &from), 1);
  ASSERT_EQ(sc_ice_state(&agent, 1000), SC_ICE_CONNECTED);
  ASSERT_TRUE(sc_ice_send_tuple(&agent, 1000) == NULL); /* not nominated yet */
  struct sockaddr_storage other = v4("192.0.2.7", 50124);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 1000, &other), 0);
}

static void test_answer_v6(void) {
  fresh_agent();
  sc_stun_msg_t a;
  struct sockaddr_storage from = v6("2001:db8::42", 61000);
  int n = check_from(from, 5, FX_USE_CANDIDATE, 2, &a);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V6);
  ASSERT_EQ(a.mapped.ss_family, AF_INET6);
  ASSERT_MEMEQ(&a.mapped, &from, sizeof(struct sockaddr_in6));
  const sc_udp_addr_t *to = sc_ice_send_tuple(&agent, 5);
  ASSERT_TRUE(to != NULL);
  ASSERT_EQ(sc_udp_addr_equal(to, &from), 1);
}

/* Wrong password, missing MI: no answer, counted, no tuple. */
static void test_no_answer_to_bad_integrity(void) {
  fresh_agent();
  struct sockaddr_storage from = v4("192.0.2.8", 4000);
  fx_msg_t req;
  fx_request(&req, username, "not-the-password-at-all", FX_USE_CANDIDATE, 3);
  uint8_t out[256];
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out),
            -SC_ICE_BAD_INTEGRITY);
  sc_stun_msg_t a;
  ASSERT_EQ(check_from(from, 0, FX_NO_MI, 4, &a), -SC_ICE_BAD_INTEGRITY);
  ASSERT_EQ(agent.counters.bad_integrity, 2);
  ASSERT_EQ(agent.counters.answered, 0);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 0, &from), 0);
  ASSERT_EQ(sc_ice_state(&agent, 0), SC_ICE_NEW);
}

static void test_no_answer_to_unknown_ufrag(void) {
  fresh_agent();
  struct sockaddr_storage from = v4("192.0.2.9", 4000);
  fx_msg_t req;
  uint8_t out[256];
  fx_request(&req, "ZZZZZZZZ:peer", agent.pwd, 0, 5); /* right password, wrong ufrag */
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out),
            -SC_ICE_UNKNOWN_UFRAG);
  char shorter[64];
  snprintf(shorter, sizeof shorter, "%.4s:peer", agent.ufrag); /* a prefix of ours */
  fx_request(&req, shorter, agent.pwd, 0, 5);
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out),
            -SC_ICE_UNKNOWN_UFRAG);
  /* The peer's part must match once its ufrag is known. */
  ASSERT_EQ(sc_ice_set_remote_ufrag(&agent, "Peer", 4), 0);
  sc_stun_msg_t a;
  ASSERT_EQ(check_from(from, 0, 0, 6, &a), -SC_ICE_UNKNOWN_UFRAG); /* "peer" != "Peer" */
  snprintf(username, sizeof username, "%s:Peer", agent.ufrag);
  ASSERT_TRUE(check_from(from, 0, 0, 7, &a) > 0);
  ASSERT_EQ(agent.counters.unknown_ufrag, 3);
  ASSERT_EQ(agent.counters.answered, 1);
  ASSERT_EQ(sc_ice_set_remote_ufrag(&agent, "", 0), -EINVAL);
}

static void test_bad_fingerprint_malformed_not_request(void) {
  fresh_agent();
  struct sockaddr_storage from = v4("192.0.2.10", 4000);
  fx_msg_t req;
  uint8_t out[256];
  fx_request(&req, username, agent.pwd, 0, 8);
  req.b[req.len - 1] ^= 1;
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out),
            -SC_ICE_BAD_FINGERPRINT);
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, 10, &from, out, sizeof out), -SC_ICE_MALFORMED);
  fx_request(&req, username, agent.pwd, 0, 9);
  req.b[1] = 0x11; /* a binding indication: no answer, no consent */
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out), -SC_ICE_NOT_REQUEST);
  fx_request(&req, username, agent.pwd, 0, 10);
  struct sockaddr_storage unix_from = {.ss_family = AF_UNIX};
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &unix_from, out, sizeof out),
            -SC_ICE_MALFORMED);
  ASSERT_EQ(agent.counters.bad_fingerprint, 1);
  ASSERT_EQ(agent.counters.malformed, 2);
  ASSERT_EQ(agent.counters.not_request, 1);
  ASSERT_EQ(sc_ice_state(&agent, 0), SC_ICE_NEW);
}

static void test_error_answers_after_integrity(void) {
  fresh_agent();
  struct sockaddr_storage from = v4("192.0.2.11", 4000);
  sc_stun_msg_t a;
  ASSERT_TRUE(check_from(from, 0, FX_CONTROLLED, 10, &a) > 0);
  ASSERT_EQ(a.error_code, 487);
  ASSERT_EQ(agent.counters.role_conflict, 1);
  ASSERT_TRUE(check_from(from, 0, FX_NO_PRIORITY, 11, &a) > 0);
  ASSERT_EQ(a.error_code, 400);
  ASSERT_TRUE(check_from(from, 0, FX_NO_FP, 12, &a) > 0);
  ASSERT_EQ(a.error_code, 400);
  ASSERT_EQ(agent.counters.bad_request, 2);
  /* None of these validates the tuple. */
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 0, &from), 0);
  ASSERT_EQ(agent.counters.answered, 0);
}

/* 420 only once integrity passed; without it, silence. */
static void test_unknown_attribute_420_after_integrity(void) {
  fresh_agent();
  struct sockaddr_storage from = v4("192.0.2.12", 4000);
  fx_msg_t req;
  uint8_t out[256];
  fx_request(&req, username, "wrong-password-wrong-pass", FX_UNKNOWN_REQUIRED, 13);
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from, out, sizeof out),
            -SC_ICE_BAD_INTEGRITY);
  ASSERT_EQ(agent.counters.unknown_attr, 0);
  sc_stun_msg_t a;
  ASSERT_TRUE(check_from(from, 0, FX_UNKNOWN_REQUIRED, 14, &a) > 0);
  ASSERT_EQ(a.error_code, 420);
  ASSERT_EQ(agent.counters.unknown_attr, 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 0, &from), 0);
}

/* A valid request smaller than the answer gets none (IPv6 success: 76
 * bytes; a minimal request with a short USERNAME: 72). */
static void test_answer_never_larger_than_request(void) {
  fresh_agent();
  struct sockaddr_storage from6 = v6("2001:db8::7", 5000);
  snprintf(username, sizeof username, "%s", agent.ufrag);
  fx_msg_t req;
  fx_request(&req, username, agent.pwd, FX_MINIMAL, 15);
  ASSERT_TRUE(req.len < SC_STUN_SUCCESS_LEN_V6);
  uint8_t out[256];
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from6, out, sizeof out), -SC_ICE_TOO_LARGE);
  ASSERT_EQ(agent.counters.too_large, 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 0, &from6), 0);
  /* The same request over IPv4 fits (64 bytes) and is answered. */
  struct sockaddr_storage from4 = v4("192.0.2.13", 5000);
  int n = sc_ice_on_stun(&agent, 0, req.b, req.len, &from4, out, sizeof out);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V4);
  ASSERT_TRUE((size_t)n <= req.len);
  /* A caller buffer too small is refused the same way. */
  fx_request(&req, username, agent.pwd, 0, 16);
  ASSERT_EQ(sc_ice_on_stun(&agent, 0, req.b, req.len, &from4, out, 40), -SC_ICE_TOO_LARGE);
}

static void test_nomination_switching(void) {
  fresh_agent();
  struct sockaddr_storage a = v4("192.0.2.20", 1000), b = v6("2001:db8::20", 2000);
  sc_stun_msg_t r;
  ASSERT_TRUE(check_from(a, 0, FX_USE_CANDIDATE, 20, &r) > 0);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 0), &a), 1);
  ASSERT_TRUE(check_from(b, 100, 0, 21, &r) > 0); /* validated, not nominated */
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 100), &a), 1);
  ASSERT_TRUE(check_from(b, 200, FX_USE_CANDIDATE, 22, &r) > 0);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 200), &b), 1);
  ASSERT_TRUE(check_from(a, 300, FX_USE_CANDIDATE, 23, &r) > 0); /* latest wins */
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 300), &a), 1);
  ASSERT_EQ(agent.counters.nominations, 3);
  /* Authenticated media from the other valid tuple moves the send tuple. */
  ASSERT_EQ(sc_ice_media_from(&agent, 400, &b), 1);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 400), &b), 1);
  struct sockaddr_storage stranger = v4("203.0.113.1", 9);
  ASSERT_EQ(sc_ice_media_from(&agent, 400, &stranger), 0);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 400), &b), 1);
}

/* A fifth tuple evicts the least recently checked one that is not selected. */
static void test_tuple_eviction(void) {
  fresh_agent();
  struct sockaddr_storage s[SC_ICE_MAX_PAIRS + 1];
  sc_stun_msg_t r;
  for (int i = 0; i <= SC_ICE_MAX_PAIRS; i++) s[i] = v4("192.0.2.30", (uint16_t)(3000 + i));
  ASSERT_TRUE(check_from(s[0], 0, FX_USE_CANDIDATE, 30, &r) > 0); /* oldest, but selected */
  for (int i = 1; i < SC_ICE_MAX_PAIRS; i++)
    ASSERT_TRUE(check_from(s[i], 10 * i, 0, (uint8_t)(30 + i), &r) > 0);
  ASSERT_TRUE(check_from(s[SC_ICE_MAX_PAIRS], 100, 0, 40, &r) > 0);
  ASSERT_EQ(agent.counters.pairs_evicted, 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 100, &s[0]), 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 100, &s[1]), 0); /* evicted */
  for (int i = 2; i <= SC_ICE_MAX_PAIRS; i++) ASSERT_EQ(sc_ice_tuple_valid(&agent, 100, &s[i]), 1);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 100), &s[0]), 1);
}

static void test_consent_expiry(void) {
  fresh_agent();
  struct sockaddr_storage a = v4("192.0.2.40", 1000), b = v4("192.0.2.41", 1000);
  sc_stun_msg_t r;
  ASSERT_TRUE(check_from(a, 1000, FX_USE_CANDIDATE, 50, &r) > 0);
  ASSERT_TRUE(check_from(b, 11000, 0, 51, &r) > 0);
  int64_t end_a = 1000 + SC_ICE_CONSENT_MS;
  ASSERT_EQ(SC_ICE_CONSENT_MS, 30000);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, end_a - 1, &a), 1);
  ASSERT_TRUE(sc_ice_send_tuple(&agent, end_a - 1) != NULL);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, end_a, &a), 0);
  ASSERT_TRUE(sc_ice_send_tuple(&agent, end_a) == NULL);    /* selected expired: no media */
  ASSERT_EQ(sc_ice_state(&agent, end_a), SC_ICE_CONNECTED); /* b still holds */
  ASSERT_EQ(sc_ice_state(&agent, 11000 + SC_ICE_CONSENT_MS), SC_ICE_EXPIRED);
  /* A consent check refreshes: b checked again at 35 s lives to 65 s. */
  ASSERT_TRUE(check_from(b, 35000, 0, 52, &r) > 0);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 64999, &b), 1);
  ASSERT_EQ(sc_ice_tuple_valid(&agent, 65000, &b), 0);
  ASSERT_EQ(sc_ice_state(&agent, 65000), SC_ICE_EXPIRED);
}

static void test_flood_budget(void) {
  fresh_agent();
  struct sockaddr_storage flood = v4("198.51.100.1", 7000), calm = v4("198.51.100.2", 7000);
  sc_stun_msg_t r;
  int answered = 0, limited = 0;
  for (int i = 0; i < 100; i++) {
    int n = check_from(flood, 5000 + i * 9, 0, (uint8_t)i, &r); /* 100 in 0.9 s */
    if (n > 0) answered++;
    if (n == -SC_ICE_RATE_LIMITED) limited++;
  }
  ASSERT_EQ(answered, SC_ICE_RATE_PER_SEC);
  ASSERT_EQ(limited, 100 - SC_ICE_RATE_PER_SEC);
  ASSERT_EQ(agent.counters.rate_limited, 100 - SC_ICE_RATE_PER_SEC);
  ASSERT_TRUE(check_from(calm, 5500, 0, 1, &r) > 0);  /* another source is not starved */
  ASSERT_TRUE(check_from(flood, 6000, 0, 2, &r) > 0); /* next second: budget again */
  /* The budget is charged before the HMAC: forged checks count too. */
  fx_msg_t req;
  uint8_t out[256];
  fx_request(&req, username, "forged-forged-forged-forged", 0, 3);
  for (int i = 0; i < 20; i++) sc_ice_on_stun(&agent, 7000, req.b, req.len, &flood, out, 256);
  ASSERT_EQ(agent.counters.bad_integrity, SC_ICE_RATE_PER_SEC);
}

/* Real Chromium 156 checks (captured, stun_fx.h): the first is answered
 * and validates the tuple, the nominating one selects it. */
static void test_chromium_checks(void) {
  fresh_agent();
  memcpy(agent.ufrag, "fuzzfuzz", SC_ICE_UFRAG_LEN);
  sc_stun_key_init(&agent.key, FX_RFC5769_PWD, strlen(FX_RFC5769_PWD));
  struct sockaddr_storage from = v4("127.0.0.1", 54321);
  uint8_t out[256];
  int n = sc_ice_on_stun(&agent, 0, fx_chromium_check, sizeof fx_chromium_check, &from, out,
                         sizeof out);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V4);
  ASSERT_EQ(fx_mi_valid(out, 32, FX_RFC5769_PWD), 1); /* MI right after XOR-MAPPED-ADDRESS */
  ASSERT_TRUE(sc_ice_send_tuple(&agent, 0) == NULL);
  n = sc_ice_on_stun(&agent, 500, fx_chromium_nominate, sizeof fx_chromium_nominate, &from, out,
                     sizeof out);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V4);
  ASSERT_EQ(sc_udp_addr_equal(sc_ice_send_tuple(&agent, 500), &from), 1);
  ASSERT_EQ(agent.counters.answered, 2);
  ASSERT_EQ(agent.counters.nominations, 1);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  if (sc_token_init() != 0) return 1;
  RUN_TEST(test_credentials);
  RUN_TEST(test_answer_v4);
  RUN_TEST(test_answer_v6);
  RUN_TEST(test_no_answer_to_bad_integrity);
  RUN_TEST(test_no_answer_to_unknown_ufrag);
  RUN_TEST(test_bad_fingerprint_malformed_not_request);
  RUN_TEST(test_error_answers_after_integrity);
  RUN_TEST(test_unknown_attribute_420_after_integrity);
  RUN_TEST(test_answer_never_larger_than_request);
  RUN_TEST(test_nomination_switching);
  RUN_TEST(test_tuple_eviction);
  RUN_TEST(test_consent_expiry);
  RUN_TEST(test_flood_budget);
  RUN_TEST(test_chromium_checks);
  SC_TEST_DONE();
}
