/*
 * test_dv_discovery: IP discovery request parsing and response building
 * (byte-exact), response parsing. dv_udp_on_datagram needs a media worker
 * and is exercised end to end by the media-plane tests (test_media,
 * test_media_addr: it answers only known SSRCs and binds nothing).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr_fx.h"
#include "dv_discovery.h"
#include "sc_test.h"

static void make_request(uint8_t req[DV_DISCOVERY_LEN], uint32_t ssrc) {
  memset(req, 0, DV_DISCOVERY_LEN);
  req[1] = 1;  /* type 1 */
  req[3] = 70; /* length 70 */
  req[4] = (uint8_t)(ssrc >> 24);
  req[5] = (uint8_t)(ssrc >> 16);
  req[6] = (uint8_t)(ssrc >> 8);
  req[7] = (uint8_t)ssrc;
}

static void test_parse_request(void) {
  uint8_t req[DV_DISCOVERY_LEN + 1] = {0};
  uint32_t ssrc = 0;
  make_request(req, 0xDEADBEEF);
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), 0);
  ASSERT_EQ(ssrc, 0xDEADBEEF);

  ssrc = 7;
  ASSERT_EQ(dv_discovery_parse_request(req, 73, &ssrc), -EINVAL);
  ASSERT_EQ(dv_discovery_parse_request(req, 75, &ssrc), -EINVAL);
  ASSERT_EQ(dv_discovery_parse_request(req, 0, &ssrc), -EINVAL);
  ASSERT_EQ(ssrc, 7); /* untouched on error */

  req[1] = 2; /* a response is not a request */
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), -EINVAL);
  req[1] = 1;
  req[0] = 1; /* type 0x0101 */
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), -EINVAL);
  req[0] = 0;
  req[3] = 74; /* length field must be 70 */
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), -EINVAL);
  req[3] = 70;
  req[2] = 1; /* 0x0146 */
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), -EINVAL);
  req[2] = 0;
  ASSERT_EQ(dv_discovery_parse_request(req, DV_DISCOVERY_LEN, &ssrc), 0);
}

/* The exact 74 bytes a response for (ssrc, ip text, port) must be. */
static void expected_response(uint8_t out[DV_DISCOVERY_LEN], uint32_t ssrc, const char *ip,
                              uint16_t port) {
  memset(out, 0, DV_DISCOVERY_LEN);
  out[1] = 2;
  out[3] = 70;
  out[4] = (uint8_t)(ssrc >> 24);
  out[5] = (uint8_t)(ssrc >> 16);
  out[6] = (uint8_t)(ssrc >> 8);
  out[7] = (uint8_t)ssrc;
  memcpy(out + 8, ip, strlen(ip));
  out[72] = (uint8_t)(port >> 8);
  out[73] = (uint8_t)port;
}

static void check_build(const struct sockaddr_storage *from, uint32_t ssrc, const char *ip,
                        uint16_t port) {
  uint8_t got[DV_DISCOVERY_LEN], want[DV_DISCOVERY_LEN];
  memset(got, 0xAA, sizeof got); /* every byte must be written */
  expected_response(want, ssrc, ip, port);
  ASSERT_EQ(dv_discovery_build_response(ssrc, from, got), 0);
  ASSERT_MEMEQ(got, want, DV_DISCOVERY_LEN);
  ASSERT_EQ(got[72], port >> 8);
  ASSERT_EQ(got[73], port & 0xFF);
}

static void test_build_response(void) {
  struct sockaddr_storage a = v4("203.0.113.7", 50004);
  check_build(&a, 0x01020304, "203.0.113.7", 50004);
  a = v4("255.255.255.255", 65535);
  check_build(&a, 0xFFFFFFFF, "255.255.255.255", 65535);
  a = v4("0.0.0.1", 1);
  check_build(&a, 1, "0.0.0.1", 1);
  /* A dual-stack socket sees IPv4 peers as mapped IPv6: write plain IPv4. */
  a = v6("::ffff:198.51.100.23", 40000);
  check_build(&a, 77, "198.51.100.23", 40000);
  a = v6("2001:db8::1", 443);
  check_build(&a, 5, "2001:db8::1", 443);
  a = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 9);
  check_build(&a, 5, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 9);

  struct sockaddr_storage unix_addr;
  memset(&unix_addr, 0, sizeof unix_addr);
  unix_addr.ss_family = AF_UNIX;
  uint8_t out[DV_DISCOVERY_LEN];
  ASSERT_EQ(dv_discovery_build_response(1, &unix_addr, out), -EAFNOSUPPORT);
}

static void test_parse_response(void) {
  uint8_t buf[DV_DISCOVERY_LEN];
  char ip[64];
  uint32_t ssrc = 0;
  uint16_t port = 0;
  struct sockaddr_storage a = v6("::ffff:192.0.2.200", 61234);
  ASSERT_EQ(dv_discovery_build_response(0xCAFEBABE, &a, buf), 0);
  ASSERT_EQ(dv_discovery_parse_response(buf, sizeof buf, &ssrc, ip, sizeof ip, &port), 0);
  ASSERT_EQ(ssrc, 0xCAFEBABE);
  ASSERT_STREQ(ip, "192.0.2.200");
  ASSERT_EQ(port, 61234);

  ASSERT_EQ(dv_discovery_parse_response(buf, sizeof buf, &ssrc, ip, 12, &port), 0);
  ASSERT_EQ(dv_discovery_parse_response(buf, sizeof buf, &ssrc, ip, 11, &port), -ENOSPC);
  ASSERT_EQ(dv_discovery_parse_response(buf, 73, &ssrc, ip, sizeof ip, &port), -EINVAL);

  uint8_t bad[DV_DISCOVERY_LEN];
  make_request(bad, 1); /* type 1 */
  ASSERT_EQ(dv_discovery_parse_response(bad, sizeof bad, &ssrc, ip, sizeof ip, &port), -EINVAL);
  memcpy(bad, buf, sizeof bad);
  memset(bad + 8, 'x', 64); /* no NUL inside the address field */
  ASSERT_EQ(dv_discovery_parse_response(bad, sizeof bad, &ssrc, ip, sizeof ip, &port), -EINVAL);
  memset(bad + 8, 0, 64); /* empty address */
  ASSERT_EQ(dv_discovery_parse_response(bad, sizeof bad, &ssrc, ip, sizeof ip, &port), -EINVAL);
  memcpy(bad, buf, sizeof bad);
  bad[3] = 71;
  ASSERT_EQ(dv_discovery_parse_response(bad, sizeof bad, &ssrc, ip, sizeof ip, &port), -EINVAL);

  /* 63 characters (the longest that fits with its NUL) round-trips. */
  memcpy(bad, buf, sizeof bad);
  memset(bad + 8, '9', 63);
  bad[71] = 0;
  ASSERT_EQ(dv_discovery_parse_response(bad, sizeof bad, &ssrc, ip, sizeof ip, &port), 0);
  ASSERT_EQ(strlen(ip), 63);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_parse_request);
  RUN_TEST(test_build_response);
  RUN_TEST(test_parse_response);
  SC_TEST_DONE();
}
