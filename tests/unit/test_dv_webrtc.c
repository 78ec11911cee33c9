/*
 * Select Protocol with protocol "webrtc" (discord_voice/dv_webrtc.h): the
 * offer reader (fragment, sdp vs data, codecs and its cross-check), the
 * gateway's answers (4020 with the reason and the counter for a bad
 * offer, 4012 for a valid one while no transport is wired), and op 4 with
 * the eight-line answer. Driven without sockets (dv_gw_harness.h).
 */
#include "dv_gw_harness.h"
#include <errno.h>

#include "dv_session.h"
#include "dv_webrtc.h"

#define FP                                                                                        \
  "4A:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:" \
  "9F"
static const char chrome[] =
    "a=extmap-allow-mixed\na=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n"
    "a=ice-options:trickle\na=fingerprint:sha-256 " FP
    "\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\n"
    "a=rtpmap:111 opus/48000/2\na=rtpmap:96 VP8/90000\na=rtpmap:97 rtx/90000";

/* op 1's d: protocol webrtc, the fragment in `field` ("sdp", "data",
 * "both"), codecs with Opus at pt (0: no codecs). */
static json_t *offer_d(const char *fragment, const char *field, int pt) {
  json_t *d = json_pack("{s:s}", "protocol", "webrtc");
  int both = strcmp(field, "both") == 0;
  if (both || strcmp(field, "sdp") == 0) json_object_set_new(d, "sdp", json_string(fragment));
  if (both || strcmp(field, "data") == 0) json_object_set_new(d, "data", json_string(fragment));
  if (pt)
    json_object_set_new(
        d, "codecs",
        json_pack("[{s:s, s:s, s:i, s:i, s:n}, {s:s, s:s, s:i, s:i, s:i}]", "name", "opus", "type",
                  "audio", "priority", 1000, "payload_type", pt, "rtx_payload_type", "name", "VP8",
                  "type", "video", "priority", 2000, "payload_type", 96, "rtx_payload_type", 97));
  return d;
}

/* dv_webrtc_read_offer on d (stolen): its result, the reason in why. */
static char why[96];
static dv_webrtc_offer_t offer;
static int read_offer(json_t *d) {
  why[0] = '\0';
  int rc = dv_webrtc_read_offer(d, &offer, why, sizeof why);
  json_decref(d);
  return rc;
}

static void test_read_offer(void) {
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 111)), 0);
  ASSERT_STREQ(offer.sdp.ufrag, "Xk3q");
  ASSERT_EQ(offer.sdp.has_fingerprint, 1);
  ASSERT_EQ(offer.opus_pt, 111);
  ASSERT_EQ(offer.audio_level_id, 1);
  ASSERT_EQ(read_offer(offer_d(chrome, "data", 111)), 0); /* newer clients: data only */
  ASSERT_EQ(read_offer(offer_d(chrome, "sdp", 0)), 0);    /* no codecs: the rtpmap's PT */
  ASSERT_EQ(offer.opus_pt, 111);
  /* sdp wins when it is a string; data is read only when it is not */
  json_t *d = offer_d(chrome, "data", 111);
  json_object_set_new(d, "sdp", json_string("a=ice-ufrag:Xk3q\n"));
  ASSERT_EQ(read_offer(d), -1);
  ASSERT_STREQ(why, "webrtc sdp: missing_pwd");
  d = offer_d(chrome, "data", 111);
  json_object_set_new(d, "sdp", json_integer(5));
  ASSERT_EQ(read_offer(d), 0);
  d = offer_d(chrome, "data", 111);
  json_object_set_new(d, "data", json_pack("{s:s}", "mode", "x"));
  ASSERT_EQ(read_offer(d), -1);
  ASSERT_STREQ(why, "webrtc: sdp (or data) must be SDP text");
}

/* codecs' VP8/H264 entries are the member's video PTs; a bad entry is
 * left out and the offer still stands. */
static void test_read_offer_video(void) {
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 111)), 0);
  ASSERT_EQ(offer.video_pt[SC_RTC_VP8], 96);
  ASSERT_EQ(offer.video_pt[SC_RTC_VP8_RTX], 97);
  ASSERT_EQ(offer.video_pt[SC_RTC_H264], 0);
  ASSERT_EQ(read_offer(offer_d(chrome, "sdp", 0)), 0); /* no codecs: no video */
  ASSERT_EQ(offer.video_pt[SC_RTC_VP8], 0);
  json_t *d = offer_d(chrome, "both", 111);
  json_t *codecs = json_object_get(d, "codecs");
  json_array_append_new(codecs, json_pack("{s:s, s:i, s:i}", "name", "H264", "payload_type", 102,
                                          "rtx_payload_type", 300)); /* rtx out of range */
  json_array_append_new(codecs, json_pack("{s:s, s:i}", "name", "vp8", "payload_type", 111));
  ASSERT_EQ(read_offer(d), 0);
  ASSERT_EQ(offer.video_pt[SC_RTC_H264], 102);
  ASSERT_EQ(offer.video_pt[SC_RTC_H264_RTX], 0);
  /* The later VP8 entry maps the Opus rtpmap's PT: left out, the first kept. */
  ASSERT_EQ(offer.video_pt[SC_RTC_VP8], 96);
  d = offer_d(chrome, "both", 111);
  json_object_set_new(json_array_get(json_object_get(d, "codecs"), 1), "payload_type",
                      json_integer(97)); /* the fragment's rtx PT, not VP8 */
  ASSERT_EQ(read_offer(d), 0);
  ASSERT_EQ(offer.video_pt[SC_RTC_VP8], 0);
  ASSERT_EQ(offer.opus_pt, 111);
}

/* The member's own best codec (op 4's when it is alone in the call,
 * dv_webrtc_codec): H264 when codecs offer it both ways, unless flagged
 * `encode: false` (then VP8 if that one can be sent); VP8 alone: VP8. */
static void test_read_offer_video_codec(void) {
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 111)), 0);
  ASSERT_STREQ(offer.video_codec, "VP8");
  json_t *d = offer_d(chrome, "both", 111);
  json_t *h264 =
      json_pack("{s:s, s:i, s:i}", "name", "H264", "payload_type", 102, "rtx_payload_type", 103);
  json_array_append(json_object_get(d, "codecs"), h264);
  ASSERT_EQ(read_offer(d), 0);
  ASSERT_STREQ(offer.video_codec, "H264");
  ASSERT_EQ(offer.video_pt[SC_RTC_H264_RTX], 103);
  d = offer_d(chrome, "both", 111);
  json_object_set_new(h264, "encode", json_false());
  json_object_set_new(h264, "decode", json_true());
  json_array_append(json_object_get(d, "codecs"), h264);
  ASSERT_EQ(read_offer(d), 0);
  ASSERT_STREQ(offer.video_codec, "VP8");      /* it can only decode H264 */
  ASSERT_EQ(offer.video_pt[SC_RTC_H264], 102); /* and is still sent it */
  d = offer_d(chrome, "both", 111);
  json_object_set_new(json_array_get(json_object_get(d, "codecs"), 1), "encode", json_false());
  json_array_append(json_object_get(d, "codecs"), h264);
  ASSERT_EQ(read_offer(d), 0);
  ASSERT_STREQ(offer.video_codec, "H264"); /* neither: Discord's default */
  json_decref(h264);
}

static void test_read_offer_refusals(void) {
  ASSERT_EQ(read_offer(offer_d("a=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM", "both", 111)), -1);
  ASSERT_STREQ(why, "webrtc sdp: missing_ufrag");
  ASSERT_EQ(read_offer(offer_d("a=ice-ufrag:Xk3q\na=rtpmap:111 opus", "both", 111)), -1);
  ASSERT_STREQ(why, "webrtc sdp: bad_rtpmap (line 2)");
  /* a NUL inside the JSON string reaches the reader as a byte */
  json_t *d = json_pack("{s:s, s:s#}", "protocol", "webrtc", "sdp", "a=ice-ufrag:Xk3q\0x", 18);
  ASSERT_EQ(read_offer(d), -1);
  ASSERT_STREQ(why, "webrtc sdp: binary");
  /* codecs */
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 95)), -1);
  ASSERT_STREQ(why, "webrtc codecs: opus payload_type must be 96..127");
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 128)), -1);
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 109)), -1); /* the sdp has Opus at 111 */
  ASSERT_STREQ(why, "webrtc codecs: opus PT 109, the sdp says 111");
  ASSERT_EQ(read_offer(offer_d(chrome, "both", 96)), -1); /* 96 is VP8 here */
  ASSERT_STREQ(why, "webrtc codecs: opus PT 96 is VP8 in the sdp");
  static const char no_opus[] =
      "a=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\na=rtpmap:96 VP8/90000";
  ASSERT_EQ(read_offer(offer_d(no_opus, "both", 120)), 0); /* codecs alone name it */
  ASSERT_EQ(offer.opus_pt, 120);
  ASSERT_EQ(offer.audio_level_id, 0);
  ASSERT_EQ(read_offer(offer_d(no_opus, "both", 0)), -1);
  d = offer_d(chrome, "both", 0);
  json_object_set_new(d, "codecs", json_string("opus"));
  ASSERT_EQ(read_offer(d), -1);
  d = offer_d(chrome, "both", 0);
  json_object_set_new(d, "codecs", json_pack("[{s:s, s:i}]", "name", "VP8", "payload_type", 96));
  ASSERT_EQ(read_offer(d), -1);
  ASSERT_STREQ(why, "webrtc codecs: no opus entry");
  d = offer_d(chrome, "both", 0);
  json_object_set_new(d, "codecs",
                      json_pack("[{s:s, s:s}]", "name", "opus", "payload_type", "111"));
  ASSERT_EQ(read_offer(d), -1);
  d = offer_d(chrome, "both", 0);
  json_t *many = json_array();
  for (int i = 0; i < 33; i++) json_array_append_new(many, json_object());
  json_object_set_new(d, "codecs", many);
  ASSERT_EQ(read_offer(d), -1);
}

/* Sends op 1 with d (stolen) on c. */
static void send_op1(client_t *c, json_t *d) {
  json_t *msg = json_pack("{s:i, s:o}", "op", 1, "d", d);
  char *text = json_dumps(msg, JSON_COMPACT);
  dv_gw_text(&c->conn, text, strlen(text));
  free(text);
  json_decref(msg);
}

static uint64_t refused(void) {
  return gw->sessions.stats.webrtc_refused;
}

static void test_gateway_answers(void) {
  sc_vstate_t *vs = state("30", "300");
  client_t c;
  uint64_t before = refused();
  /* valid: not served yet, as before (4012) */
  join(&c, 8, vs);
  send_op1(&c, offer_d(chrome, "both", 111));
  ASSERT_EQ(c.close_code, DV_CLOSE_UNKNOWN_PROTOCOL);
  ASSERT_STREQ(c.close_reason, "unknown protocol: webrtc is not served yet");
  ASSERT_EQ(refused(), before);
  client_free(&c);
  /* unreadable: 4020 naming what is wrong, counted */
  join(&c, 8, vs);
  send_op1(&c, offer_d("a=ice-ufrag:Xk3q", "both", 111));
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  ASSERT_STREQ(c.close_reason, "webrtc sdp: missing_pwd");
  ASSERT_EQ(refused(), before + 1);
  client_free(&c);
  join(&c, 8, vs);
  send_op1(&c, offer_d(chrome, "both", 100));
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  ASSERT_STREQ(c.close_reason, "webrtc codecs: opus PT 100, the sdp says 111");
  ASSERT_EQ(refused(), before + 2);
  json_t *st = dv_gw_status_json(gw);
  ASSERT_EQ(json_integer_value(json_object_get(st, "webrtc_refused")), (json_int_t)before + 2);
  json_decref(st);
  /* the status object keeps its earlier counters */
  client_free(&c);
  /* before Identify: 4003 as for udp */
  client_open(&c, 8);
  send_op1(&c, offer_d(chrome, "both", 111));
  ASSERT_EQ(c.close_code, DV_CLOSE_NOT_AUTHENTICATED);
  ASSERT_EQ(refused(), before + 2);
  teardown((client_t *[]){&c, NULL}, (sc_vstate_t *[]){vs, NULL});
}

static void test_send_answer(void) {
  sc_vstate_t *vs = state("31", "301");
  client_t c;
  join(&c, 8, vs);
  dv_session_t *s = c.conn.session;
  ASSERT_TRUE(s != NULL);
  sc_sdp_answer_t a = {
      .ip = "127.0.0.1", .port = 7702, .ufrag = "AbC+", .pwd = "0123456789abcdef/+XYZW"};
  memset(a.fingerprint, 0xab, sizeof a.fingerprint);
  ASSERT_EQ(dv_webrtc_send_answer(s, &a, 0), 0);
  json_t *d = expect_op(&c, 4);
  ASSERT_STREQ(json_string_value(json_object_get(d, "audio_codec")), "opus");
  ASSERT_STREQ(json_string_value(json_object_get(d, "video_codec")), "H264");
  ASSERT_EQ(json_string_length(json_object_get(d, "media_session_id")), 32);
  ASSERT_EQ(json_integer_value(json_object_get(d, "dave_protocol_version")), 0);
  ASSERT_TRUE(json_object_get(d, "mode") == NULL && json_object_get(d, "secret_key") == NULL);
  const char *sdp = json_string_value(json_object_get(d, "sdp"));
  char want[SC_SDP_ANSWER_MAX];
  ASSERT_TRUE(sc_sdp_write_discord_answer(&a, want, sizeof want) > 0);
  ASSERT_STREQ(sdp, want);
  int lines = 0;
  for (const char *p = sdp; *p; p++) lines += *p == '\n';
  ASSERT_EQ(lines, 8);
  a.pwd = "short";
  ASSERT_EQ(dv_webrtc_send_answer(s, &a, 0), -EINVAL);
  expect_silence(&c);
  teardown((client_t *[]){&c, NULL}, (sc_vstate_t *[]){vs, NULL});
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  harness_init();
  RUN_TEST(test_read_offer);
  RUN_TEST(test_read_offer_video);
  RUN_TEST(test_read_offer_video_codec);
  RUN_TEST(test_read_offer_refusals);
  RUN_TEST(test_gateway_answers);
  RUN_TEST(test_send_answer);
  harness_fini();
  SC_TEST_DONE();
}
