/*
 * dv_webrtc_codec: reading a codecs list's video capabilities and the
 * call-wide codec choice (pure functions), and sc_rtc_video's one-way
 * filter that the choice drives.
 */
#include "dv_webrtc_codec.h"
#include "sc_rtc_video.h"
#include "sc_test.h"

/* A member from a JSON codecs list. */
static dv_codec_caps_t member(const char *codecs_json) {
  json_error_t err;
  json_t *codecs = json_loads(codecs_json, 0, &err);
  ASSERT_TRUE(codecs != NULL);
  dv_codec_caps_t c;
  ASSERT_EQ(dv_codec_caps_read(codecs, &c), 0);
  json_decref(codecs);
  return c;
}

#define OPUS "{\"name\":\"opus\",\"type\":\"audio\",\"priority\":1000,\"payload_type\":111}"
#define CHROME                                                   \
  "[" OPUS                                                       \
  ",{\"name\":\"H264\",\"priority\":1000,\"payload_type\":102}," \
  "{\"name\":\"VP8\",\"priority\":2000,\"payload_type\":96}]"
#define VP8_ONLY "[" OPUS ",{\"name\":\"VP8\",\"priority\":2000,\"payload_type\":96}]"
#define H264_ONLY "[" OPUS ",{\"name\":\"H264\",\"priority\":1000,\"payload_type\":102}]"
#define VP8_FIRST                                              \
  "[" OPUS                                                     \
  ",{\"name\":\"VP8\",\"priority\":1000,\"payload_type\":96}," \
  "{\"name\":\"H264\",\"priority\":2000,\"payload_type\":102}]"

static void test_read(void) {
  dv_codec_caps_t c = member(CHROME);
  ASSERT_EQ(c.encode, 3);
  ASSERT_EQ(c.decode, 3);
  ASSERT_EQ(c.priority[DV_CODEC_H264], 1000);
  ASSERT_EQ(c.priority[DV_CODEC_VP8], 2000);
  c = member(
      "[{\"name\":\"h264\",\"encode\":false},{\"name\":\"VP8\",\"decode\":false},"
      "{\"name\":\"VP9\"},{\"name\":\"AV1\"},7,null]");
  ASSERT_EQ(c.encode, 1u << DV_CODEC_VP8);
  ASSERT_EQ(c.decode, 1u << DV_CODEC_H264);
  ASSERT_EQ(c.priority[DV_CODEC_H264], INT32_MAX);
  c = member("[" OPUS "]");
  ASSERT_TRUE(!dv_codec_caps_video(&c));
  ASSERT_EQ(dv_codec_caps_read(json_null(), &c), -1);
  ASSERT_TRUE(!dv_codec_caps_video(&c));
  ASSERT_STREQ(dv_codec_name(DV_CODEC_VP8), "VP8");
  ASSERT_STREQ(dv_codec_name(-1), "H264");
}

/* A VP8-only member joining H264+VP8 members takes the call to VP8; when
 * it leaves the call is back at H264. */
static void test_choose_common(void) {
  dv_codec_caps_t m[4] = {member(CHROME), member(CHROME), member(VP8_ONLY), member("[" OPUS "]")};
  ASSERT_EQ(dv_codec_choose(m, 2), DV_CODEC_H264);
  ASSERT_EQ(dv_codec_choose(m, 3), DV_CODEC_VP8);
  ASSERT_EQ(dv_codec_choose(m, 4), DV_CODEC_VP8); /* audio-only members do not count */
  ASSERT_EQ(dv_codec_choose(&m[3], 1), -1);
  ASSERT_EQ(dv_codec_choose(m, 0), -1);
}

/* Priorities decide between common codecs only when every member agrees. */
static void test_choose_priorities(void) {
  dv_codec_caps_t m[3] = {member(VP8_FIRST), member(VP8_FIRST), member(CHROME)};
  ASSERT_EQ(dv_codec_choose(m, 2), DV_CODEC_VP8);
  ASSERT_EQ(dv_codec_choose(m, 3), DV_CODEC_H264);
  /* a member without priorities does not agree */
  m[2] = member("[{\"name\":\"H264\"},{\"name\":\"VP8\"}]");
  ASSERT_EQ(dv_codec_choose(m, 3), DV_CODEC_H264);
  /* a member that can do only VP8 has no say in the order */
  m[2] = member(VP8_ONLY);
  ASSERT_EQ(dv_codec_choose(m, 3), DV_CODEC_VP8);
}

/* encode:false / decode:false: a codec counts only both ways; without a
 * common codec the one most members can do wins (H264 on a tie). */
static void test_choose_directions(void) {
  dv_codec_caps_t m[3] = {member(CHROME),
                          member("[{\"name\":\"H264\",\"decode\":false},{\"name\":\"VP8\"}]"),
                          member(H264_ONLY)};
  ASSERT_EQ(dv_codec_choose(m, 2), DV_CODEC_VP8);
  ASSERT_EQ(dv_codec_choose(m, 3), DV_CODEC_H264); /* 2 of 3 can do H264, 2 of 3 VP8: tie */
  dv_codec_caps_t split[2] = {member(H264_ONLY), member(VP8_ONLY)};
  ASSERT_EQ(dv_codec_choose(split, 2), DV_CODEC_H264);
  dv_codec_caps_t most[3] = {member(H264_ONLY), member(VP8_ONLY), member(VP8_ONLY)};
  ASSERT_EQ(dv_codec_choose(most, 3), DV_CODEC_VP8);
  dv_codec_caps_t one_way[1] = {member("[{\"name\":\"VP8\",\"encode\":false}]")};
  ASSERT_EQ(dv_codec_choose(one_way, 1), -1);
}

/* The transport's filter: PTs switched off one way keep the table. */
static void test_rtc_video_filter(void) {
  sc_rtc_video_t v;
  uint8_t pts[SC_RTC_VIDEO_PTS] = {
      [SC_RTC_VP8] = 96, [SC_RTC_VP8_RTX] = 97, [SC_RTC_H264] = 102, [SC_RTC_H264_RTX] = 103};
  sc_rtc_video_init(&v, pts, 111);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_PT_CORE), 102);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 96), SC_RTC_VP8_PT_CORE);
  /* the call is at VP8: H264 and its RTX are not sealed to it any more */
  sc_rtc_video_set_filter(&v, 1u << SC_RTC_H264 | 1u << SC_RTC_H264_RTX, 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_PT_CORE), 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_H264_RTX_PT_CORE), 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_VP8_PT_CORE), 96);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 102), SC_RTC_H264_PT_CORE); /* still opened */
  /* it cannot encode VP8: not opened */
  sc_rtc_video_set_filter(&v, 0, 1u << SC_RTC_VP8);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 96), 0);
  ASSERT_EQ(sc_rtc_video_peer_pt(&v, SC_RTC_VP8_PT_CORE), 96);
  sc_rtc_video_set_filter(&v, 0, 0);
  ASSERT_EQ(sc_rtc_video_core_pt(&v, 96), SC_RTC_VP8_PT_CORE);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_read);
  RUN_TEST(test_choose_common);
  RUN_TEST(test_choose_priorities);
  RUN_TEST(test_choose_directions);
  RUN_TEST(test_rtc_video_filter);
  SC_TEST_DONE();
}
