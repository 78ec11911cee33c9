/* sc_rtp: header parsing of RTP and RTCP, including every truncation. */
#include <errno.h>

#include "sc_rtp.h"
#include "sc_test.h"

static void test_plain_rtp(void) {
  const uint8_t p[] = {0x80, 0xF8, 0x12, 0x34, 0, 0, 0x03, 0xC0, 0xDE, 0xAD, 0xBE, 0xEF, 0xAA};
  sc_rtp_info_t i;
  ASSERT_EQ(sc_rtp_parse(p, sizeof p, &i), 0);
  ASSERT_EQ(i.is_rtcp, 0);
  ASSERT_EQ(i.marker_pt, 0xF8);
  ASSERT_EQ(i.seq, 0x1234);
  ASSERT_EQ(i.timestamp, 960);
  ASSERT_EQ(i.ssrc, 0xDEADBEEFu);
  ASSERT_EQ(i.clear_len, 12);
  for (size_t n = 0; n < 12; n++) ASSERT_EQ(sc_rtp_parse(p, n, &i), -EINVAL);
}

static void test_csrc_and_extension(void) {
  uint8_t p[32] = {0x92, 0x78, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7};
  /* two CSRCs (8 bytes), then the preamble BEDE with length 2 words */
  p[20] = 0xBE, p[21] = 0xDE, p[22] = 0, p[23] = 2;
  sc_rtp_info_t i;
  ASSERT_EQ(sc_rtp_parse(p, 24, &i), 0);
  ASSERT_EQ(i.csrc_count, 2);
  ASSERT_EQ(i.extension, 1);
  ASSERT_EQ(i.clear_len, 24);
  ASSERT_EQ(i.ext_body_len, 8);
  ASSERT_EQ(i.ssrc, 7);
  ASSERT_EQ(sc_rtp_parse(p, 23, &i), -EINVAL); /* preamble cut */
  p[0] = 0x8F;                                  /* CC=15: 72 bytes of CSRCs */
  ASSERT_EQ(sc_rtp_parse(p, 32, &i), -EINVAL);
}

static void test_rtcp_and_versions(void) {
  uint8_t p[12] = {0x81, 201, 0, 1, 0x01, 0x02, 0x03, 0x04};
  sc_rtp_info_t i;
  ASSERT_EQ(sc_rtp_parse(p, 8, &i), 0);
  ASSERT_EQ(i.is_rtcp, 1);
  ASSERT_EQ(i.ssrc, 0x01020304u);
  ASSERT_EQ(i.clear_len, 8);
  ASSERT_EQ(sc_rtp_parse(p, 7, &i), -EINVAL);
  p[0] = 0x40; /* version 1 */
  ASSERT_EQ(sc_rtp_parse(p, 12, &i), -EINVAL);
  ASSERT_EQ(sc_rtp_looks_like_rtp(p, 12), 0);
}

int main(void) {
  RUN_TEST(test_plain_rtp);
  RUN_TEST(test_csrc_and_extension);
  RUN_TEST(test_rtcp_and_versions);
  SC_TEST_DONE();
}
