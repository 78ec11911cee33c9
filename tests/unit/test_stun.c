/* sc_stun: the RFC 5769 vectors (parse, MESSAGE-INTEGRITY, FINGERPRINT,
 * and the builder reproducing both responses byte for byte), the bounds
 * of the parser (truncation, attribute count and lengths, padding, order),
 * and error responses. Requests are built by stun_fx.h with OpenSSL's
 * HMAC() and a bitwise CRC, independently of the code under test. */
#include <errno.h>

#include "addr_fx.h"
#include "sc_stun.h"
#include "sc_test.h"
#include "stun_fx.h"

static sc_stun_key_t rfc_key(void) {
  sc_stun_key_t k;
  sc_stun_key_init(&k, FX_RFC5769_PWD, strlen(FX_RFC5769_PWD));
  return k;
}

static void test_crc32(void) {
  ASSERT_EQ(sc_stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
  ASSERT_EQ(sc_stun_crc32(NULL, 0), 0);
  uint8_t buf[300];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
  ASSERT_EQ(sc_stun_crc32(buf, sizeof buf), fx_crc32(buf, sizeof buf));
}

static void test_rfc5769_request(void) {
  const uint8_t *req = fx_rfc5769_request;
  sc_stun_msg_t m;
  ASSERT_EQ(sc_stun_parse(req, sizeof fx_rfc5769_request, &m), 0);
  ASSERT_EQ(m.type, SC_STUN_BINDING_REQUEST);
  ASSERT_MEMEQ(m.tid, req + 8, 12);
  ASSERT_EQ(m.username_len, 9);
  ASSERT_EQ(m.our_ufrag_len, 4);
  ASSERT_MEMEQ(m.our_ufrag, "evtj", 4);
  ASSERT_EQ(m.peer_ufrag_len, 4);
  ASSERT_MEMEQ(m.peer_ufrag, "h6vY", 4);
  ASSERT_EQ(m.has_priority, 1);
  ASSERT_EQ(m.priority, 0x6e0001ffu);
  ASSERT_EQ(m.has_controlled, 1);
  ASSERT_EQ(m.has_controlling, 0);
  ASSERT_EQ(m.tiebreaker, 0x932ff9b151263b36ull);
  ASSERT_EQ(m.mi_off, 76);
  ASSERT_EQ(m.fp_off, 100);
  ASSERT_EQ(m.n_unknown, 0);
  sc_stun_key_t k = rfc_key();
  ASSERT_EQ(sc_stun_check_integrity(req, &m, &k), 1);
  ASSERT_EQ(sc_stun_check_fingerprint(req, &m), 1);
  sc_stun_key_t wrong;
  sc_stun_key_init(&wrong, "VOkJxbRl1RmTxUk/WvJxBu", 22);
  ASSERT_EQ(sc_stun_check_integrity(req, &m, &wrong), 0);
  /* One flipped bit anywhere before MI breaks MI and FINGERPRINT. */
  for (size_t at = 0; at < 76; at += 5) {
    uint8_t copy[sizeof fx_rfc5769_request];
    memcpy(copy, req, sizeof copy);
    copy[at] ^= 0x04;
    sc_stun_msg_t c;
    if (sc_stun_parse(copy, sizeof copy, &c) < 0) continue;
    ASSERT_EQ(sc_stun_check_integrity(copy, &c, &k), 0);
    ASSERT_EQ(sc_stun_check_fingerprint(copy, &c), 0);
  }
  const uint8_t *uf;
  size_t ulen;
  ASSERT_EQ(sc_stun_peek_ufrag(req, sizeof fx_rfc5769_request, &uf, &ulen), 0);
  ASSERT_EQ(ulen, 4);
  ASSERT_MEMEQ(uf, "evtj", 4);
}

static void check_rfc_response(const uint8_t *vec, size_t len, struct sockaddr_storage want) {
  sc_stun_msg_t m;
  ASSERT_EQ(sc_stun_parse(vec, len, &m), 0);
  ASSERT_EQ(m.type, SC_STUN_BINDING_SUCCESS);
  ASSERT_EQ(m.has_mapped, 1);
  ASSERT_EQ(m.mapped.ss_family, want.ss_family);
  ASSERT_MEMEQ(
      &m.mapped, &want,
      want.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
  sc_stun_key_t k = rfc_key();
  ASSERT_EQ(sc_stun_check_integrity(vec, &m, &k), 1);
  ASSERT_EQ(sc_stun_check_fingerprint(vec, &m), 1);
  /* The builder reproduces the vector exactly (SOFTWARE included). */
  uint8_t out[128];
  int n = sc_stun_build_success(vec + 8, (const struct sockaddr *)&want, "test vector", &k, out,
                                sizeof out);
  ASSERT_EQ(n, len);
  ASSERT_MEMEQ(out, vec, len);
  /* Without SOFTWARE: what the server sends. */
  n = sc_stun_build_success(vec + 8, (const struct sockaddr *)&want, NULL, &k, out, sizeof out);
  ASSERT_EQ(n, want.ss_family == AF_INET ? SC_STUN_SUCCESS_LEN_V4 : SC_STUN_SUCCESS_LEN_V6);
  sc_stun_msg_t r;
  ASSERT_EQ(sc_stun_parse(out, (size_t)n, &r), 0);
  ASSERT_EQ(fx_mi_valid(out, r.mi_off, FX_RFC5769_PWD), 1);
  ASSERT_EQ(fx_crc32(out, r.fp_off) ^ 0x5354554Eu,
            (uint32_t)out[r.fp_off + 4] << 24 | (uint32_t)out[r.fp_off + 5] << 16 |
                (uint32_t)out[r.fp_off + 6] << 8 | out[r.fp_off + 7]);
  ASSERT_MEMEQ(&r.mapped, &m.mapped, sizeof r.mapped);
  /* Too small a buffer: refused, at every size. */
  for (size_t cap = 0; cap < (size_t)n; cap++)
    ASSERT_EQ(sc_stun_build_success(vec + 8, (const struct sockaddr *)&want, NULL, &k, out, cap),
              -ENOSPC);
}

static void test_rfc5769_response_v4(void) {
  check_rfc_response(fx_rfc5769_response_v4, sizeof fx_rfc5769_response_v4, v4("192.0.2.1", 32853));
}

static void test_rfc5769_response_v6(void) {
  check_rfc_response(fx_rfc5769_response_v6, sizeof fx_rfc5769_response_v6,
                     v6("2001:db8:1234:5678:11:2233:4455:6677", 32853));
}

static void test_v4_mapped_is_written_as_v4(void) {
  struct sockaddr_storage mapped = v6("::ffff:198.51.100.9", 4000);
  sc_stun_key_t k = rfc_key();
  uint8_t out[128], tid[12] = {1, 2, 3};
  int n = sc_stun_build_success(tid, (const struct sockaddr *)&mapped, NULL, &k, out, sizeof out);
  ASSERT_EQ(n, SC_STUN_SUCCESS_LEN_V4);
  sc_stun_msg_t m;
  ASSERT_EQ(sc_stun_parse(out, (size_t)n, &m), 0);
  struct sockaddr_storage want = v4("198.51.100.9", 4000);
  ASSERT_MEMEQ(&m.mapped, &want, sizeof(struct sockaddr_in));
  struct sockaddr_storage unix_addr = {.ss_family = AF_UNIX};
  ASSERT_EQ(
      sc_stun_build_success(tid, (const struct sockaddr *)&unix_addr, NULL, &k, out, sizeof out),
      -EAFNOSUPPORT);
}

/* A long password is hashed first (RFC 2104); both paths match HMAC(). */
static void test_integrity_matches_openssl(void) {
  const char *pwds[] = {"x", FX_RFC5769_PWD,
                        "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < 3; i++) {
    fx_msg_t m;
    fx_request(&m, "abcdefgh:wxyz", pwds[i], 0, (uint8_t)i);
    sc_stun_msg_t p;
    ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
    sc_stun_key_t k;
    sc_stun_key_init(&k, pwds[i], strlen(pwds[i]));
    ASSERT_EQ(sc_stun_check_integrity(m.b, &p, &k), 1);
    ASSERT_EQ(sc_stun_check_fingerprint(m.b, &p), 1);
  }
}

static void test_truncation(void) {
  /* Every prefix, with and without the length field fixed up: only the
   * attribute boundaries parse. */
  const size_t bounds[] = {20, 40, 48, 60, 76, 100, 108};
  for (size_t n = 0; n <= sizeof fx_rfc5769_request; n++) {
    uint8_t copy[sizeof fx_rfc5769_request];
    memcpy(copy, fx_rfc5769_request, n);
    sc_stun_msg_t m;
    if (n < sizeof copy) ASSERT_EQ(sc_stun_parse(copy, n, &m), -EINVAL);
    if (n < 20) continue;
    copy[2] = (uint8_t)((n - 20) >> 8), copy[3] = (uint8_t)(n - 20);
    int boundary = 0;
    for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) boundary |= bounds[i] == n;
    ASSERT_EQ(sc_stun_parse(copy, n, &m), boundary ? 0 : -EINVAL);
  }
}

static void test_header_checks(void) {
  uint8_t b[sizeof fx_rfc5769_request];
  sc_stun_msg_t m;
  memcpy(b, fx_rfc5769_request, sizeof b);
  b[4] ^= 1; /* cookie */
  ASSERT_EQ(sc_stun_parse(b, sizeof b, &m), -EINVAL);
  memcpy(b, fx_rfc5769_request, sizeof b);
  b[0] |= 0x40; /* top bits */
  ASSERT_EQ(sc_stun_parse(b, sizeof b, &m), -EINVAL);
  memcpy(b, fx_rfc5769_request, sizeof b);
  b[3] = 0x57; /* length field not len - 20 */
  ASSERT_EQ(sc_stun_parse(b, sizeof b, &m), -EINVAL);
  /* Too long to be parsed at all, however well formed. */
  static fx_msg_t big;
  fx_start(&big, 1, 0);
  uint8_t blob[508] = {0};
  for (int i = 0; i < 4; i++) fx_attr(&big, 0x8030, blob, sizeof blob);
  ASSERT_TRUE(big.len > SC_STUN_MAX_LEN);
  ASSERT_EQ(sc_stun_parse(big.b, big.len, &m), -EINVAL);
}

static void test_attribute_count_limit(void) {
  fx_msg_t m;
  fx_start(&m, 1, 0);
  for (int i = 0; i < SC_STUN_MAX_ATTRS; i++) fx_attr(&m, 0x8030, "ab", 2);
  sc_stun_msg_t p;
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.n_attrs, SC_STUN_MAX_ATTRS);
  fx_attr(&m, 0x8030, "ab", 2);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), -EINVAL);
}

static void test_attribute_lengths(void) {
  static const struct {
    uint16_t type;
    size_t good, bad;
  } cases[] = {{0x0006, 513, 514}, {0x0006, 1, 0},  {0x0024, 4, 5},   {0x0025, 0, 4},
               {0x802A, 8, 4},     {0x8029, 8, 12}, {0x0008, 20, 32}, {0x8028, 4, 8}};
  uint8_t v[600];
  memset(v, 'a', sizeof v);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    fx_msg_t m;
    sc_stun_msg_t p;
    fx_start(&m, 1, 0);
    fx_attr(&m, cases[i].type, v, cases[i].good);
    ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
    fx_start(&m, 1, 0);
    fx_attr(&m, cases[i].type, v, cases[i].bad);
    ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), -EINVAL);
  }
}

static void test_padding_and_order(void) {
  /* An attribute whose padding is cut off: the length field is made to
   * match the datagram, so only the attribute walk can refuse it. */
  fx_msg_t m;
  sc_stun_msg_t p;
  fx_start(&m, 1, 0);
  fx_attr(&m, 0x8030, "abcd", 4);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  m.b[23] = 5; /* 5 value bytes need 8 with padding; 4 are left */
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), -EINVAL);
  m.b[23] = 9; /* runs past the end */
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), -EINVAL);
  /* Nothing may follow FINGERPRINT. */
  fx_request(&m, "abcdefgh:wxyz", "pw", 0, 1);
  fx_attr(&m, 0x8030, "abcd", 4);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), -EINVAL);
  /* After MESSAGE-INTEGRITY only FINGERPRINT counts. */
  fx_request(&m, "abcdefgh:wxyz", "pw", FX_NO_FP | FX_NO_PRIORITY, 1);
  fx_attr(&m, 0x7F02, "zz", 2);
  uint8_t prio[4] = {0, 0, 0, 9};
  fx_attr(&m, 0x0024, prio, 4);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.n_unknown, 0);
  ASSERT_EQ(p.has_priority, 0);
}

static void test_unknown_attributes(void) {
  fx_msg_t m;
  sc_stun_msg_t p;
  fx_request(&m, "abcdefgh:wxyz", "pw", FX_UNKNOWN_REQUIRED, 1);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.n_unknown, 1); /* 0xC057 (>= 0x8000) is ignored, 0x7F01 is not */
  ASSERT_EQ(p.unknown[0], 0x7F01);
  fx_start(&m, 1, 0);
  for (int i = 0; i < 6; i++) fx_attr(&m, (uint16_t)(0x7000 + i), "x", 1);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.n_unknown, 6);
  ASSERT_EQ(p.unknown[SC_STUN_MAX_UNKNOWN - 1], 0x7000 + SC_STUN_MAX_UNKNOWN - 1);
}

static void test_username_split(void) {
  fx_msg_t m;
  sc_stun_msg_t p;
  const uint8_t *uf;
  size_t n;
  fx_request(&m, "onlyours", "pw", 0, 1);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.our_ufrag_len, 8);
  ASSERT_TRUE(p.peer_ufrag == NULL);
  fx_request(&m, ":theirs", "pw", 0, 1);
  ASSERT_EQ(sc_stun_peek_ufrag(m.b, m.len, &uf, &n), -EINVAL); /* empty ufrag */
  fx_start(&m, 1, 0);
  ASSERT_EQ(sc_stun_peek_ufrag(m.b, m.len, &uf, &n), -EINVAL); /* no USERNAME */
  fx_request(&m, "a:b:c", "pw", 0, 1);
  ASSERT_EQ(sc_stun_peek_ufrag(m.b, m.len, &uf, &n), 0);
  ASSERT_EQ(n, 1);
  ASSERT_EQ(sc_stun_parse(m.b, m.len, &p), 0);
  ASSERT_EQ(p.peer_ufrag_len, 3);
}

static void test_error_responses(void) {
  sc_stun_key_t k = rfc_key();
  uint8_t out[128], tid[12] = {9, 9, 9};
  const uint16_t unknown[2] = {0x7F01, 0x0030};
  int n = sc_stun_build_error(tid, 420, unknown, 2, &k, out, sizeof out);
  ASSERT_TRUE(n > 0);
  sc_stun_msg_t m;
  ASSERT_EQ(sc_stun_parse(out, (size_t)n, &m), 0);
  ASSERT_EQ(m.type, SC_STUN_BINDING_ERROR);
  ASSERT_EQ(m.error_code, 420);
  ASSERT_MEMEQ(m.tid, tid, 12);
  ASSERT_EQ(fx_mi_valid(out, m.mi_off, FX_RFC5769_PWD), 1);
  ASSERT_EQ(sc_stun_check_fingerprint(out, &m), 1);
  ASSERT_EQ(m.n_unknown, 0); /* UNKNOWN-ATTRIBUTES is known */
  n = sc_stun_build_error(tid, 487, NULL, 0, NULL, out, sizeof out);
  ASSERT_EQ(sc_stun_parse(out, (size_t)n, &m), 0);
  ASSERT_EQ(m.error_code, 487);
  ASSERT_EQ(m.mi_off, 0);
  ASSERT_EQ(sc_stun_build_error(tid, 200, NULL, 0, &k, out, sizeof out), -EINVAL);
  ASSERT_EQ(sc_stun_build_error(tid, 400, NULL, 0, &k, out, 40), -ENOSPC);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_crc32);
  RUN_TEST(test_rfc5769_request);
  RUN_TEST(test_rfc5769_response_v4);
  RUN_TEST(test_rfc5769_response_v6);
  RUN_TEST(test_v4_mapped_is_written_as_v4);
  RUN_TEST(test_integrity_matches_openssl);
  RUN_TEST(test_truncation);
  RUN_TEST(test_header_checks);
  RUN_TEST(test_attribute_count_limit);
  RUN_TEST(test_attribute_lengths);
  RUN_TEST(test_padding_and_order);
  RUN_TEST(test_unknown_attributes);
  RUN_TEST(test_username_split);
  RUN_TEST(test_error_responses);
  SC_TEST_DONE();
}
