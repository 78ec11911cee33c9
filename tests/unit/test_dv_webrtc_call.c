/*
 * dv_webrtc_call through the gateway (dv_gw_harness: a real registry, no
 * sockets): native (UDP) members' op 1 codecs count in the call's video
 * codec; op 4 names the call's codec; op 14 goes to every member told
 * another one when a join, a leave or a client op 14 changes it; a bad
 * client op 14 is dropped and counted; a switch over the member's relay
 * budget closes 4021. (WebRTC members and their transports:
 * tests/node/webrtc_codec_call_werift.test.js.)
 */
#include "dv_gw_harness.h"
#include "dv_session.h"

#define H264_VP8                                                                        \
  "[{\"name\":\"opus\",\"payload_type\":120},{\"name\":\"H264\",\"payload_type\":101}," \
  "{\"name\":\"VP8\",\"payload_type\":103}]"
#define VP8_ONLY \
  "[{\"name\":\"opus\",\"payload_type\":120},{\"name\":\"VP8\",\"payload_type\":103}]"

/* UDP Select Protocol with codecs (NULL: none); returns op 4's d. */
static json_t *select_udp(client_t *c, const char *codecs) {
  send_json(c,
            "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"127.0.0.1\","
            "\"port\":5000,\"mode\":\"aead_xchacha20_poly1305_rtpsize\"}%s%s}}",
            codecs ? ",\"codecs\":" : "", codecs ? codecs : "");
  ASSERT_EQ(c->close_code, 0);
  for (; c->next < c->n; c->next++) {
    json_t *m = c->msgs[c->next];
    if (json_integer_value(json_object_get(m, "op")) == 4) {
      c->next++;
      return json_object_get(m, "d");
    }
  }
  SC_FAIL("no op 4");
}

/* The op 14s sent to c since the last call (their video_codec, joined by
 * commas, in buf); the media_session_id must be op 4's. */
static const char *updates(client_t *c, json_t *op4, char *buf, size_t cap) {
  buf[0] = '\0';
  for (; c->next < c->n; c->next++) {
    json_t *m = c->msgs[c->next], *d = json_object_get(m, "d");
    if (json_integer_value(json_object_get(m, "op")) != 14) continue;
    ASSERT_STREQ(json_string_value(json_object_get(d, "audio_codec")), "opus");
    ASSERT_STREQ(json_string_value(json_object_get(d, "media_session_id")),
                 json_string_value(json_object_get(op4, "media_session_id")));
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
             json_string_value(json_object_get(d, "video_codec")));
  }
  return buf;
}

static json_int_t stat(const char *key) {
  json_t *st = dv_gw_status_json(gw);
  json_int_t v = json_integer_value(json_object_get(json_object_get(st, "video_codec"), key));
  json_decref(st);
  return v;
}

static void test_call_codec(void) {
  char buf[64];
  sc_vstate_t *va = state("40", "400"), *vb = state("41", "400"), *vc = state("42", "400");
  client_t a, b, c;
  json_int_t switches = stat("switches");
  join(&a, 8, va);
  json_t *a4 = select_udp(&a, H264_VP8);
  ASSERT_STREQ(json_string_value(json_object_get(a4, "video_codec")), "H264");
  /* a VP8-only native client: the call goes to VP8 */
  join(&b, 8, vb);
  json_t *b4 = select_udp(&b, VP8_ONLY);
  ASSERT_STREQ(json_string_value(json_object_get(b4, "video_codec")), "VP8");
  ASSERT_STREQ(updates(&a, a4, buf, sizeof buf), "VP8");
  ASSERT_STREQ(updates(&b, b4, buf, sizeof buf), "");
  ASSERT_EQ(stat("switches"), switches + 1);
  /* a member without codecs gets the call's codec and changes nothing */
  join(&c, 8, vc);
  json_t *c4 = select_udp(&c, NULL);
  ASSERT_STREQ(json_string_value(json_object_get(c4, "video_codec")), "VP8");
  ASSERT_STREQ(updates(&a, a4, buf, sizeof buf), "");
  /* B's client can now do H264: every member gets op 14 H264, B too */
  json_int_t updated = stat("updates");
  send_json(&b, "{\"op\":14,\"d\":{\"codecs\":" H264_VP8 "}}");
  ASSERT_EQ(stat("updates"), updated + 1);
  ASSERT_STREQ(updates(&a, a4, buf, sizeof buf), "H264");
  ASSERT_STREQ(updates(&b, b4, buf, sizeof buf), "H264");
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "H264");
  /* op 14 without codecs, or with unreadable ones: nothing changes */
  json_int_t refused = stat("refused");
  send_json(&b, "{\"op\":14,\"d\":{}}");
  send_json(&b, "{\"op\":14,\"d\":{\"codecs\":\"VP8\"}}");
  ASSERT_EQ(b.close_code, 0);
  ASSERT_EQ(stat("refused"), refused + 1);
  ASSERT_STREQ(updates(&a, a4, buf, sizeof buf), "");
  /* A goes VP8-only and back, paying op 14 bytes x 3 members each time
   * out of a budget of two such switches */
  uint32_t budget = dv_gw_limits(gw)->relay_bytes;
  dv_gw_limits(gw)->relay_bytes = 1000;
  send_json(&a, "{\"op\":14,\"d\":{\"codecs\":" VP8_ONLY "}}");
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "VP8");
  send_json(&a, "{\"op\":14,\"d\":{\"codecs\":" H264_VP8 "}}");
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "H264");
  /* a third: over the relay budget, the switch is dropped, 4021 */
  send_json(&a, "{\"op\":14,\"d\":{\"codecs\":" VP8_ONLY "}}");
  ASSERT_EQ(a.close_code, DV_CLOSE_RATE_LIMITED);
  ASSERT_EQ(stat("refused"), refused + 2);
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "");
  dv_gw_limits(gw)->relay_bytes = budget;
  teardown((client_t *[]){&a, NULL}, (sc_vstate_t *[]){va, NULL});
  /* the member that kept H264 common leaves: still H264 (B, C remain) */
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "");
  /* a VP8-only member joins, and leaves: VP8, then back to H264 */
  sc_vstate_t *vd = state("43", "400");
  client_t d;
  join(&d, 8, vd);
  select_udp(&d, VP8_ONLY);
  ASSERT_STREQ(updates(&b, b4, buf, sizeof buf), "VP8,H264,VP8"); /* A's two switches, then D's */
  sc_registry_end_state(app.registry, vd, SC_END_LEFT);
  ASSERT_STREQ(updates(&b, b4, buf, sizeof buf), "H264");
  ASSERT_STREQ(updates(&c, c4, buf, sizeof buf), "VP8,H264");
  client_free(&d);
  teardown((client_t *[]){&b, &c, NULL}, (sc_vstate_t *[]){vb, vc, NULL});
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  harness_init();
  RUN_TEST(test_call_codec);
  harness_fini();
  SC_TEST_DONE();
}
