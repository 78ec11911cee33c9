/* sc_rtp: header parsing of RTP and RTCP, including every truncation, and
 * the report blocks of compound RTCP packets. */
#include <errno.h>

#include "sc_rtcp.h"
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
  p[0] = 0x8F;                                 /* CC=15: 72 bytes of CSRCs */
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

static size_t put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
  return 4;
}

/* One report block: source, fraction lost, 24-bit cumulative lost,
 * extended highest seq, jitter, LSR, DLSR. */
static size_t put_block(uint8_t *p, uint32_t ssrc, uint8_t frac, uint32_t lost24, uint32_t jitter) {
  size_t n = put32(p, ssrc);
  n += put32(p + n, (uint32_t)frac << 24 | (lost24 & 0xFFFFFF));
  n += put32(p + n, 0x00010203);
  n += put32(p + n, jitter);
  n += put32(p + n, 0);
  return n + put32(p + n, 0);
}

/* SR (2 blocks) + SDES + RR (1 block), as an official client sends them. */
static size_t compound(uint8_t *buf) {
  size_t n = 0;
  buf[n++] = 0x82, buf[n++] = 200, buf[n++] = 0, buf[n++] = 2 + 5 + 12 - 1; /* 19 words */
  n += put32(buf + n, 0xAABBCCDD);
  n += put32(buf + n, 1), n += put32(buf + n, 2), n += put32(buf + n, 3); /* NTP, RTP ts */
  n += put32(buf + n, 500), n += put32(buf + n, 64000);                   /* packets, octets */
  n += put_block(buf + n, 0x11, 25, 7, 480);
  n += put_block(buf + n, 0x22, 3, 0xFFFFFE, 960);             /* -2: duplicates */
  buf[n++] = 0x81, buf[n++] = 202, buf[n++] = 0, buf[n++] = 2; /* SDES: 3 words */
  n += put32(buf + n, 0xAABBCCDD), n += put32(buf + n, 0x01000000);
  buf[n++] = 0x81, buf[n++] = 201, buf[n++] = 0, buf[n++] = 7; /* RR: 2 + 6 words */
  n += put32(buf + n, 0xAABBCCDD);
  n += put_block(buf + n, 0x33, 200, 1000, 48);
  return n;
}

static void test_rtcp_reports(void) {
  uint8_t buf[256];
  size_t n = compound(buf);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_sr, 1);
  ASSERT_EQ(r.n_rr, 1);
  ASSERT_EQ(r.n_other, 1);
  ASSERT_EQ(r.sender_ssrc, 0xAABBCCDDu);
  ASSERT_EQ(r.has_sender_info, 1);
  ASSERT_EQ(r.sender_packets, 500);
  ASSERT_EQ(r.sender_octets, 64000);
  ASSERT_EQ(r.n_blocks, 3);
  ASSERT_EQ(r.blocks[0].ssrc, 0x11);
  ASSERT_EQ(r.blocks[0].fraction_lost, 25);
  ASSERT_EQ(r.blocks[0].cumulative_lost, 7);
  ASSERT_EQ(r.blocks[0].highest_seq, 0x00010203);
  ASSERT_EQ(r.blocks[0].jitter, 480);
  ASSERT_EQ(r.blocks[1].cumulative_lost, -2);
  ASSERT_EQ(r.blocks[2].ssrc, 0x33);
  ASSERT_EQ(r.worst_fraction_lost, 200);
  ASSERT_EQ(r.total_cumulative_lost, 7 - 2 + 1000);
  ASSERT_EQ(r.worst_jitter, 960);
  /* Every cut inside a packet is malformed; cuts between packets are not. */
  for (size_t k = 0; k < n; k++) {
    int between = k == 76 || k == 88; /* after the SR, after the SDES */
    ASSERT_EQ(sc_rtcp_parse(buf, k, &r), between ? 0 : -EINVAL);
  }
  buf[0] = 0x83; /* RC 3 in an SR with room for 2 */
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), -EINVAL);
  buf[0] = 0x42; /* version 1 */
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), -EINVAL);
}

/* More blocks than are kept: all are summarized. */
static void test_rtcp_many_blocks(void) {
  uint8_t buf[8 + 24 * 31];
  buf[0] = 0x80 | 31, buf[1] = 201, buf[2] = 0, buf[3] = (uint8_t)(1 + 6 * 31);
  put32(buf + 4, 9);
  for (uint32_t i = 0; i < 31; i++) put_block(buf + 8 + 24 * i, i, (uint8_t)i, 1, i * 10);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, sizeof buf, &r), 0);
  ASSERT_EQ(r.n_blocks, 31);
  ASSERT_EQ(r.blocks[SC_RTCP_MAX_BLOCKS - 1].ssrc, SC_RTCP_MAX_BLOCKS - 1);
  ASSERT_EQ(r.worst_fraction_lost, 30);
  ASSERT_EQ(r.worst_jitter, 300);
  ASSERT_EQ(r.total_cumulative_lost, 31);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_plain_rtp);
  RUN_TEST(test_csrc_and_extension);
  RUN_TEST(test_rtcp_and_versions);
  RUN_TEST(test_rtcp_reports);
  RUN_TEST(test_rtcp_many_blocks);
  SC_TEST_DONE();
}
