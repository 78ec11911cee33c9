/* sc_demux: the first-byte ranges of RFC 7983 for a known WebRTC tuple
 * (every byte value, and the minimum lengths), RTCP by RFC 5761, and the
 * unknown-tuple test that keeps STUN and Discord IP discovery apart. */
#include <errno.h>

#include "sc_demux.h"
#include "sc_stun.h"
#include "sc_test.h"
#include "stun_fx.h"

static sc_demux_kind_t webrtc_first(uint8_t b0, uint8_t b1, size_t len) {
  uint8_t buf[64] = {b0, b1};
  return sc_demux_webrtc(buf, len);
}

static void test_every_first_byte(void) {
  for (int b = 0; b < 256; b++) {
    sc_demux_kind_t want = SC_DEMUX_OTHER;
    if (b <= 3)
      want = SC_DEMUX_STUN;
    else if (b >= 20 && b <= 63)
      want = SC_DEMUX_DTLS;
    else if (b >= 128 && b <= 191)
      want = SC_DEMUX_RTP; /* byte 1 = 0: PT 0 */
    ASSERT_EQ(webrtc_first((uint8_t)b, 0, 64), want);
  }
  ASSERT_EQ(sc_demux_webrtc(NULL, 0), SC_DEMUX_OTHER);
}

static void test_rtcp_by_second_byte(void) {
  for (int b1 = 0; b1 < 256; b1++) {
    int pt = b1 & 0x7F;
    sc_demux_kind_t want = pt >= 64 && pt <= 95 ? SC_DEMUX_RTCP : SC_DEMUX_RTP;
    ASSERT_EQ(webrtc_first(0x80, (uint8_t)b1, 64), want);
  }
  ASSERT_EQ(webrtc_first(0x81, 200, 8), SC_DEMUX_RTCP);  /* SR */
  ASSERT_EQ(webrtc_first(0x8F, 206, 8), SC_DEMUX_RTCP);  /* PSFB */
  ASSERT_EQ(webrtc_first(0x90, 111, 12), SC_DEMUX_RTP);  /* Opus, Chrome */
  ASSERT_EQ(webrtc_first(0x80, 0xF8, 12), SC_DEMUX_RTP); /* PT 120 with marker */
}

static void test_minimum_lengths(void) {
  ASSERT_EQ(webrtc_first(0x00, 1, 19), SC_DEMUX_OTHER);
  ASSERT_EQ(webrtc_first(0x00, 1, 20), SC_DEMUX_STUN);
  ASSERT_EQ(webrtc_first(22, 0xFE, 12), SC_DEMUX_OTHER);
  ASSERT_EQ(webrtc_first(22, 0xFE, 13), SC_DEMUX_DTLS);
  ASSERT_EQ(webrtc_first(0x80, 111, 11), SC_DEMUX_OTHER);
  ASSERT_EQ(webrtc_first(0x80, 111, 12), SC_DEMUX_RTP);
  ASSERT_EQ(webrtc_first(0x80, 200, 7), SC_DEMUX_OTHER);
  ASSERT_EQ(webrtc_first(0x80, 200, 8), SC_DEMUX_RTCP);
  ASSERT_EQ(webrtc_first(0x80, 200, 1), SC_DEMUX_OTHER);
}

static void test_unknown_tuple_stun(void) {
  uint8_t b[sizeof fx_rfc5769_request];
  memcpy(b, fx_rfc5769_request, sizeof b);
  ASSERT_EQ(sc_demux_unknown(b, sizeof b), SC_DEMUX_STUN);
  ASSERT_EQ(sc_demux_is_stun(b, sizeof b), 1);
  ASSERT_EQ(sc_demux_unknown(b, sizeof b - 4), SC_DEMUX_OTHER); /* length field */
  ASSERT_EQ(sc_demux_unknown(b, 19), SC_DEMUX_OTHER);
  b[7] ^= 1; /* cookie */
  ASSERT_EQ(sc_demux_unknown(b, sizeof b), SC_DEMUX_OTHER);
  b[7] ^= 1;
  b[0] = 0x40; /* byte 0 >= 4 */
  ASSERT_EQ(sc_demux_unknown(b, sizeof b), SC_DEMUX_OTHER);
  b[0] = 0x2B; /* top bits clear (RFC 8489) but a DTLS first byte (RFC 7983) */
  ASSERT_EQ(sc_demux_unknown(b, sizeof b), SC_DEMUX_OTHER);
  ASSERT_EQ(sc_demux_webrtc(b, sizeof b), SC_DEMUX_DTLS);
  sc_stun_msg_t m;
  ASSERT_EQ(sc_stun_parse(b, sizeof b, &m), -EINVAL);
  /* Length field not a multiple of 4 even if it matches. */
  uint8_t odd[22] = {0, 1, 0, 2, 0x21, 0x12, 0xA4, 0x42};
  ASSERT_EQ(sc_demux_unknown(odd, sizeof odd), SC_DEMUX_OTHER);
  /* A known WebRTC tuple's RTP never looks like STUN from an unknown one. */
  uint8_t rtp[64] = {0x80, 111};
  ASSERT_EQ(sc_demux_unknown(rtp, sizeof rtp), SC_DEMUX_OTHER);
}

static void test_unknown_tuple_discovery(void) {
  uint8_t d[74] = {0, 1, 0, 70, 0x00, 0x00, 0x30, 0x39};
  ASSERT_EQ(sc_demux_unknown(d, sizeof d), SC_DEMUX_DISCOVERY);
  /* Byte 0 is 0 as for STUN; even the cookie as SSRC does not make it
   * STUN, since its length field (70) is not len - 20. */
  d[4] = 0x21, d[5] = 0x12, d[6] = 0xA4, d[7] = 0x42;
  ASSERT_EQ(sc_demux_is_stun(d, sizeof d), 0);
  ASSERT_EQ(sc_demux_unknown(d, sizeof d), SC_DEMUX_DISCOVERY);
  ASSERT_EQ(sc_demux_unknown(d, 73), SC_DEMUX_OTHER);
  d[1] = 2; /* a response is not a request */
  ASSERT_EQ(sc_demux_unknown(d, sizeof d), SC_DEMUX_OTHER);
  d[1] = 1, d[3] = 71;
  ASSERT_EQ(sc_demux_unknown(d, sizeof d), SC_DEMUX_OTHER);
  /* The 8-byte keepalive and 0x1337CAFE ping: left to the Discord handler. */
  uint8_t ka[8] = {0x13, 0x37, 0xCA, 0xFE, 0, 0, 0, 1};
  ASSERT_EQ(sc_demux_unknown(ka, sizeof ka), SC_DEMUX_OTHER);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_every_first_byte);
  RUN_TEST(test_rtcp_by_second_byte);
  RUN_TEST(test_minimum_lengths);
  RUN_TEST(test_unknown_tuple_stun);
  RUN_TEST(test_unknown_tuple_discovery);
  SC_TEST_DONE();
}
