/* sc_rtc_video: the PT tables both ways (what a peer did not negotiate,
 * or negotiated badly, is never mapped), opening a video packet, the PLI
 * rate limit per sender SSRC, and the PLI packet read back by sc_rtcp. */
#include <errno.h>
#include <string.h>

#include "sc_rtc_video.h"
#include "sc_rtcp.h"
#include "sc_test.h"

static void test_pts(void) {
  sc_rtc_video_t v;
  uint8_t pts[SC_RTC_VIDEO_PTS] = {[SC_RTC_VP8] = 96, [SC_RTC_VP8_RTX] = 97};
  sc_rtc_video_init(&v, pts, 111);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 96), SC_RTC_VP8_PT_CORE);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 97), SC_RTC_VP8_RTX_PT_CORE);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 111), 0);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 0), 0); /* "not negotiated" is no PT */
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_VP8_PT_CORE), 96);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_PT_CORE), 0); /* never sent H264 */
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, 120), 0);
  ASSERT_TRUE(sc_rtc_video_is_core(SC_RTC_H264_RTX_PT_CORE));
  ASSERT_TRUE(!sc_rtc_video_is_core(120));
  /* Out of range, the Opus PT, a PT twice: left out. */
  uint8_t bad[SC_RTC_VIDEO_PTS] = {
      [SC_RTC_VP8] = 111, [SC_RTC_VP8_RTX] = 35, [SC_RTC_H264] = 102, [SC_RTC_H264_RTX] = 102};
  sc_rtc_video_init(&v, bad, 111);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_VP8_PT_CORE), 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_VP8_RTX_PT_CORE), 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_PT_CORE), 102);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_RTX_PT_CORE), 0);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 102), SC_RTC_H264_PT_CORE);
  sc_rtc_video_init(&v, NULL, 111);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 96), 0);
}

static void test_open(void) {
  sc_rtc_video_t v;
  uint8_t pts[SC_RTC_VIDEO_PTS] = {[SC_RTC_VP8] = 96};
  sc_rtc_video_init(&v, pts, 111);
  uint8_t pkt[16] = {0x80, 0x80 | 96, 0x12, 0x34, 0, 0, 0, 9, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3, 4};
  sc_rtp_info_t h;
  ASSERT_EQ(sc_rtp_parse(pkt, sizeof pkt, &h), 0);
  sc_media_pkt_t out;
  ASSERT_EQ(sc_rtc_video_open(&v, pkt, &h, 12, 16, &out), 0);
  ASSERT_EQ(out.marker_pt, 0x80 | SC_RTC_VP8_PT_CORE); /* the marker kept */
  ASSERT_EQ(out.ssrc, 0xAABBCCDD);
  ASSERT_EQ(out.seq, 0x1234);
  ASSERT_EQ(out.timestamp, 9);
  ASSERT_EQ(out.payload_len, 4);
  ASSERT_EQ(out.is_rtcp, 0);
  pkt[1] = 97; /* an RTX PT it did not negotiate */
  ASSERT_EQ(sc_rtc_video_open(&v, pkt, &h, 12, 16, &out), -EPROTO);
}

static void test_pli_limit(void) {
  sc_rtc_video_t v;
  sc_rtc_video_init(&v, NULL, 111);
  ASSERT_TRUE(sc_rtc_video_pli_allowed(&v, 7, 1000));
  ASSERT_TRUE(!sc_rtc_video_pli_allowed(&v, 7, 1000 + SC_RTC_PLI_INTERVAL_MS - 1));
  ASSERT_TRUE(sc_rtc_video_pli_allowed(&v, 8, 1001)); /* another SSRC: its own limit */
  ASSERT_TRUE(sc_rtc_video_pli_allowed(&v, 7, 1000 + SC_RTC_PLI_INTERVAL_MS));
  /* More SSRCs than remembered: the least recent entry is reused, and a
   * remembered one stays limited. */
  for (uint32_t s = 20; s < 20 + SC_RTC_VIDEO_SOURCES; s++)
    ASSERT_TRUE(sc_rtc_video_pli_allowed(&v, s, 2000 + s));
  ASSERT_TRUE(!sc_rtc_video_pli_allowed(&v, 20 + SC_RTC_VIDEO_SOURCES - 1, 2100));
}

/* Only codec packets make a stream one a key frame is asked of: not
 * RTX, not audio; more SSRCs than remembered replace the oldest. */
static void test_senders(void) {
  sc_rtc_video_t v;
  sc_rtc_video_init(&v, NULL, 111);
  ASSERT_TRUE(!sc_rtc_video_sends(&v, 5));
  sc_rtc_video_note_sender(&v, 5, SC_RTC_VP8_RTX_PT_CORE);
  sc_rtc_video_note_sender(&v, 6, SC_RTC_H264_RTX_PT_CORE);
  sc_rtc_video_note_sender(&v, 7, 120);
  ASSERT_TRUE(!sc_rtc_video_sends(&v, 5) && !sc_rtc_video_sends(&v, 6) &&
              !sc_rtc_video_sends(&v, 7));
  sc_rtc_video_note_sender(&v, 5, 0x80 | SC_RTC_VP8_PT_CORE); /* marker bit set */
  sc_rtc_video_note_sender(&v, 6, SC_RTC_H264_PT_CORE);
  sc_rtc_video_note_sender(&v, 6, SC_RTC_H264_PT_CORE); /* once */
  ASSERT_TRUE(sc_rtc_video_sends(&v, 5) && sc_rtc_video_sends(&v, 6));
  ASSERT_TRUE(!sc_rtc_video_sends(&v, 0));
  for (uint32_t s = 30; s < 30 + SC_RTC_VIDEO_SOURCES; s++)
    sc_rtc_video_note_sender(&v, s, SC_RTC_VP8_PT_CORE);
  ASSERT_TRUE(!sc_rtc_video_sends(&v, 5) && sc_rtc_video_sends(&v, 30 + SC_RTC_VIDEO_SOURCES - 1));
}

static void test_write_pli(void) {
  uint8_t buf[SC_RTC_PLI_LEN];
  ASSERT_EQ(sc_rtc_video_write_pli(buf, sizeof buf - 1, 5), 0);
  ASSERT_EQ(sc_rtc_video_write_pli(buf, sizeof buf, 0xCAFE), SC_RTC_PLI_LEN);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, sizeof buf, &r), 0);
  ASSERT_EQ(r.n_rr, 1);
  ASSERT_EQ(r.n_pli, 1);
  ASSERT_EQ(r.n_keyframe, 1);
  ASSERT_EQ(r.keyframe_ssrc[0], 0xCAFE);
  ASSERT_EQ(r.sender_ssrc, SC_RTCP_SERVER_SSRC);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_pts);
  RUN_TEST(test_open);
  RUN_TEST(test_pli_limit);
  RUN_TEST(test_senders);
  RUN_TEST(test_write_pli);
  SC_TEST_DONE();
}
