/*
 * test_lvsp: the LVSP state machine (lvsp/lvsp_proto) driven through a
 * capturing lvsp_io_t against a real registry (no media plane, no
 * sockets): the handshake in both dialects, every close code, heartbeats,
 * health, and the seed dialect's messages. Checks what Litecord would see
 * (messages, fields, close codes) and the registry state they leave.
 * The later dialect: test_lvsp_later.c; sequence numbers, RESUME and
 * snapshots: test_lvsp_resume.c.
 */
#include <ctype.h>

#include "lvsp_fx.h"
#include "sc_jcheck.h"

static void test_hello(void) {
  fx_t *a = fx_new(), *b = fx_new();
  json_t *d = last_d(a, LVSP_OP_HELLO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "heartbeat_interval")), 45000);
  const char *nonce = json_string_value(json_object_get(d, "nonce"));
  ASSERT_TRUE(nonce != NULL);
  ASSERT_EQ(strlen(nonce), 10);
  for (int i = 0; i < 10; i++) ASSERT_TRUE(isalnum((unsigned char)nonce[i]));
  ASSERT_STREQ(nonce, a->c[0].conn.nonce);
  const char *other = json_string_value(json_object_get(last_d(b, 0), "nonce"));
  ASSERT_TRUE(strcmp(nonce, other) != 0); /* fresh per connection */
  fx_free(a);
  fx_free(b);
}

static void test_identify_secret(void) {
  fx_t *f = fx_ready();
  ASSERT_TRUE(f->c[0].conn.ready);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_READY)) == 1.0);
  fx_free(f);
}

/* The HMAC is computed here with OpenSSL, independently of sc_token. */
static void test_identify_hmac(void) {
  fx_t *f = fx_new();
  identify_on(f, 0, LVSP_DIALECT_LATER);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_READY)) == 1.0);
  fx_free(f);
}

static void test_identify_rejected(void) {
  expect_close("{\"op\":1,\"d\":{\"token\":\"wrong-horse-battery-staple\"}}", 4001, 0);
  expect_close("{\"op\":1,\"d\":{\"token\":\"" SECRET "x\"}}", 4001, 0);
  expect_close("{\"op\":1,\"d\":{\"token\":\"correct-horse\"}}", 4001, 0);
  expect_close("{\"op\":1,\"d\":{\"token\":\"\"}}", 4001, 0);
  /* The HMAC of someone else's nonce. */
  char mac[65], msg[128];
  ASSERT_EQ(sc_token_hmac_sha256_hex(mac, sizeof mac, SECRET, strlen(SECRET), "AAAAAAAAAA", 10), 0);
  snprintf(msg, sizeof msg, "{\"op\":1,\"d\":{\"token\":\"%s\"}}", mac);
  expect_close(msg, 4001, 0);
  /* A NUL inside the token cannot truncate the comparison. */
  expect_close("{\"op\":1,\"d\":{\"token\":\"" SECRET "\\u0000x\"}}", 4002, 0);
  expect_close("{\"op\":1,\"d\":{\"token\":12}}", 4000, 0);
  expect_close("{\"op\":1,\"d\":{}}", 4000, 0);
}

static void test_resume_rejected(void) {
  expect_close("{\"op\":2,\"d\":{\"token\":\"nope\",\"seq\":0}}", 4001, 0);
  expect_close("{\"op\":2,\"d\":{\"seq\":0}}", 4000, 0);
  expect_close("{\"op\":2,\"d\":{\"token\":\"" SECRET "\",\"seq\":\"1\"}}", 4000, 0);
}

static void test_phase_errors(void) {
  expect_close("{\"op\":4,\"d\":{\"s\":1}}", 4000, 0);
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"2\"}}", 4000, 0);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"2\",\"bitrate\":1}}}", 4000, 0);
  expect_close("{\"op\":1,\"d\":{\"token\":\"" SECRET "\"}}", 4000, 1); /* second IDENTIFY */
  expect_close("{\"op\":2,\"d\":{\"token\":\"" SECRET "\"}}", 4000, 1);
}

static void test_structural_errors(void) {
  expect_close("{\"op\":1,", 4002, 0);
  expect_close("not json", 4002, 0);
  expect_close("{\"op\":4,\"op\":4,\"d\":{}}", 4002, 1); /* duplicate keys */
  expect_close("[1,2]", 4000, 1);
  expect_close("42", 4000, 1);
  expect_close("{\"op\":\"4\",\"d\":{}}", 4000, 1);
  expect_close("{\"op\":4.0,\"d\":{}}", 4000, 1);
  expect_close("{\"op\":4}", 4000, 1);
  expect_close("{\"op\":4,\"d\":[]}", 4000, 1);
  expect_close("{\"op\":4,\"d\":{\"s\":\"x\"}}", 4000, 1);
  expect_close("{\"op\":99,\"d\":{}}", 4000, 1);
  expect_close("{\"op\":-1,\"d\":{}}", 4000, 1);
  expect_close("{\"op\":3,\"d\":{}}", 4000, 1); /* a server op */
  expect_close("{\"op\":0,\"d\":{}}", 4000, 0);
  /* Oversized frame. */
  size_t n = LVSP_MAX_FRAME + 1;
  char *big = malloc(n + 1);
  memset(big, ' ', n);
  memcpy(big, "{\"op\":4,\"d\":{}}", 15);
  big[n] = '\0';
  expect_close(big, 4000, 1);
  free(big);
}

static void test_heartbeat(void) {
  fx_t *f = fx_ready();
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1234}}"), 0);
  json_t *d = last_d(f, LVSP_OP_HEARTBEAT_ACK);
  ASSERT_EQ(json_integer_value(json_object_get(d, "s")), 1234);
  ASSERT_TRUE(health_of(d) == 1.0);
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{}}"), 0);
  d = last_d(f, LVSP_OP_HEARTBEAT_ACK);
  ASSERT_TRUE(json_is_null(json_object_get(d, "s")));
  ASSERT_EQ(f->c[0].cap.n, 4);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
}

static void check_info(json_t *info, const char *user, const char *channel, const char *guild) {
  ASSERT_STREQ(json_string_value(json_object_get(info, "user_id")), user);
  ASSERT_STREQ(json_string_value(json_object_get(info, "channel_id")), channel);
  if (guild)
    ASSERT_STREQ(json_string_value(json_object_get(info, "guild_id")), guild);
  else
    ASSERT_TRUE(json_is_null(json_object_get(info, "guild_id")));
  ASSERT_EQ(strlen(json_string_value(json_object_get(info, "session_id"))), SC_SESSION_ID_LEN);
  ASSERT_EQ(strlen(json_string_value(json_object_get(info, "token"))), SC_VOICE_TOKEN_LEN);
  ASSERT_STREQ(json_string_value(json_object_get(info, "endpoint")), FX_ENDPOINT);
  static const char *const flags[] = {"deaf", "mute", "self_deaf", "self_mute", "suppress"};
  for (int i = 0; i < 5; i++) ASSERT_TRUE(json_is_false(json_object_get(info, flags[i])));
}

/* Sends a VST_REQUEST and returns the state the INFO reply names. */
static sc_vstate_t *request(fx_t *f, const char *text) {
  ASSERT_EQ(say(f, text), 0);
  json_t *d = last_d(f, LVSP_OP_INFO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "type")), LVSP_INFO_VST);
  json_t *info = json_object_get(d, "info");
  const char *sid = json_string_value(json_object_get(info, "session_id"));
  sc_vstate_t *vs = sc_registry_find_session(f->app.registry, sid);
  ASSERT_TRUE(vs != NULL);
  ASSERT_STREQ(json_string_value(json_object_get(info, "token")), vs->token);
  return vs;
}

static void test_vst_request(void) {
  fx_t *f = fx_ready();
  sc_vstate_t *vs = request(f,
                            "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\","
                            "\"guild_id\":\"3003\"}}");
  check_info(json_object_get(last_d(f, LVSP_OP_INFO), "info"), "1001", "2002", "3003");
  ASSERT_STREQ(vs->server_id, "3003");
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 1);
  /* DM call: no guild; the channel is the server. */
  vs = request(f, "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"4004\"}}");
  check_info(json_object_get(last_d(f, LVSP_OP_INFO), "info"), "1001", "4004", NULL);
  ASSERT_STREQ(vs->server_id, "4004");
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  /* Health follows the number of states: 2 of 100. */
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":0}}"), 0);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_HEARTBEAT_ACK)) == 0.98);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
}

static void test_vst_request_integer_ids(void) {
  fx_t *f = fx_ready();
  request(f,
          "{\"op\":7,\"d\":{\"user_id\":123456789012345678,\"channel_id\":42,"
          "\"guild_id\":null}}");
  check_info(json_object_get(last_d(f, LVSP_OP_INFO), "info"), "123456789012345678", "42", NULL);
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "123456789012345678", "42") != NULL);
  fx_free(f);
}

static void test_vst_request_invalid(void) {
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"abc\",\"channel_id\":\"2\"}}", 4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":-5,\"channel_id\":\"2\"}}", 4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"123456789012345678901\"}}",
               4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\"}}", 4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"\"}}", 4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"2\",\"guild_id\":\"g\"}}", 4000,
               1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":1.5,\"channel_id\":\"2\"}}", 4000, 1);
}

static void test_info_channel(void) {
  fx_t *f = fx_ready();
  int n = f->c[0].cap.n;
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"2002\",\"bitrate\":64000}}}"),
            0);
  sc_channel_t *ch = sc_registry_find_channel(f->app.registry, "2002");
  ASSERT_TRUE(ch != NULL);
  ASSERT_EQ(ch->bitrate, 64000);
  ASSERT_EQ(f->c[0].cap.n, n); /* no reply */
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":2002,\"bitrate\":96000}}}"), 0);
  ASSERT_EQ(ch->bitrate, 96000);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"x\",\"bitrate\":1}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"2\",\"bitrate\":-1}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":9,\"info\":{}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0}}", 4000, 1);
  /* Neither body key. */
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"body\":{\"id\":\"2\"}}}", 4000, 1);
}

static void test_info_vst_flags(void) {
  fx_t *f = fx_ready();
  sc_vstate_t *vs = request(f,
                            "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\","
                            "\"guild_id\":\"3003\"}}");
  int n = f->c[0].cap.n;
  /* By session id. */
  char msg[256];
  snprintf(msg, sizeof msg,
           "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\",\"channel_id\":\"2002\","
           "\"session_id\":\"%s\",\"mute\":true,\"deaf\":false}}}",
           vs->session_id);
  ASSERT_EQ(say(f, msg), 0);
  ASSERT_EQ(vs->flags.mute, 1);
  ASSERT_EQ(vs->flags.deaf, 0);
  /* By user + guild; absent flags keep their value. */
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\","
                "\"channel_id\":\"2002\",\"guild_id\":\"3003\",\"self_deaf\":true,"
                "\"suppress\":true}}}"),
            0);
  ASSERT_EQ(vs->flags.mute, 1);
  ASSERT_EQ(vs->flags.self_deaf, 1);
  ASSERT_EQ(vs->flags.suppress, 1);
  ASSERT_EQ(vs->flags.self_mute, 0);
  /* A session id of another user is not that user's state. */
  snprintf(msg, sizeof msg,
           "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"999\",\"session_id\":\"%s\","
           "\"mute\":false}}}",
           vs->session_id);
  ASSERT_EQ(say(f, msg), 0);
  ASSERT_EQ(vs->flags.mute, 1);
  /* Unknown state: ignored, the link stays up. */
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"77\","
                "\"channel_id\":\"2002\",\"guild_id\":\"3003\",\"mute\":true}}}"),
            0);
  ASSERT_EQ(f->c[0].cap.n, n);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":1,\"info\":{\"mute\":true}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1\",\"mute\":1}}}", 4000, 1);
}

static void test_info_vst_leave(void) {
  fx_t *f = fx_ready();
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\"}}");
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1002\",\"channel_id\":\"2002\"}}");
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\","
                "\"channel_id\":null,\"guild_id\":null,\"session_id\":null}}}"),
            0);
  /* channel_id null and no guild: the DM state cannot be located. */
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  sc_vstate_t *vs = sc_registry_find_user(f->app.registry, "1001", "2002");
  ASSERT_TRUE(vs != NULL);
  char msg[256];
  snprintf(msg, sizeof msg,
           "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\",\"channel_id\":null,"
           "\"session_id\":\"%s\"}}}",
           vs->session_id);
  ASSERT_EQ(say(f, msg), 0);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 1);
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1001", "2002") == NULL);
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1002", "2002") != NULL);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
}

/* A VST naming another channel moves the user: new credentials in an
 * INFO VST reply, the old connection ends, the old room sees it leave. */
static void test_info_vst_move(void) {
  fx_t *f = fx_ready();
  sc_vstate_t *a = request(f,
                           "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"20\","
                           "\"guild_id\":\"30\"}}");
  sc_vstate_t *b = request(f,
                           "{\"op\":7,\"d\":{\"user_id\":\"2\",\"channel_id\":\"20\","
                           "\"guild_id\":\"30\"}}");
  fake_voice_t va = {0}, vb = {0};
  fv_attach(f, a, &va);
  fv_attach(f, b, &vb);
  int n = f->c[0].cap.n;
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1\",\"guild_id\":\"30\","
                "\"channel_id\":\"21\",\"self_mute\":true}}}"),
            0);
  ASSERT_EQ(f->c[0].cap.n, n + 1);
  json_t *info = json_object_get(last_d(f, LVSP_OP_INFO), "info");
  ASSERT_STREQ(json_string_value(json_object_get(info, "channel_id")), "21");
  ASSERT_TRUE(json_is_true(json_object_get(info, "self_mute")));
  ASSERT_EQ(va.ended, 1);
  ASSERT_EQ(va.why, SC_END_REPLACED);
  ASSERT_EQ(vb.left, 1);
  sc_vstate_t *moved = sc_registry_find_user(f->app.registry, "1", "30");
  ASSERT_STREQ(moved->channel->id, "21");
  ASSERT_STREQ(json_string_value(json_object_get(info, "session_id")), moved->session_id);
  ASSERT_STREQ(json_string_value(json_object_get(info, "token")), moved->token);
  fx_free(f);
}

static void test_send_failure_closes(void) {
  fx_t *f = fx_ready();
  f->c[0].cap.fail_sends = 1;
  ASSERT_TRUE(say(f, "{\"op\":4,\"d\":{\"s\":1}}") < 0);
  ASSERT_EQ(f->c[0].cap.close_code, 4000);
  fx_free(f);
}

static void test_health(void) {
  fx_t *f = fx_ready();
  f->app.cfg.capacity = 2;
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"9\"}}");
  ASSERT_TRUE(lvsp_health(&f->app, &f->link) == 0.5);
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"2\",\"channel_id\":\"9\"}}");
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"3\",\"channel_id\":\"9\"}}");
  ASSERT_TRUE(lvsp_health(&f->app, &f->link) == 0.0); /* over capacity: clamped */
  fx_free(f);
}

static void test_json_table(void) {
  static const sc_jfield_t t[] = {
      {"a", SC_JT_ID, SC_JF_REQUIRED},
      {"b", SC_JT_BOOL | SC_JT_NULL, 0},
  };
  const char *bad = NULL;
  json_t *o = json_pack("{s:s,s:b}", "a", "12", "b", 1);
  ASSERT_EQ(sc_jcheck(o, t, 2, &bad), 0);
  json_object_set_new(o, "b", json_string("yes"));
  ASSERT_EQ(sc_jcheck(o, t, 2, &bad), -EINVAL);
  ASSERT_STREQ(bad, "b");
  json_object_del(o, "a");
  ASSERT_EQ(sc_jcheck(o, t, 2, &bad), -EINVAL);
  ASSERT_STREQ(bad, "a");
  char id[SC_ID_MAX];
  json_object_set_new(o, "a", json_integer(0));
  ASSERT_EQ(sc_jcheck_get_id(o, "a", id), 0);
  ASSERT_STREQ(id, "0");
  ASSERT_EQ(sc_jcheck_get_id(o, "zz", id), -ENOENT);
  json_decref(o);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_hello);
  RUN_TEST(test_identify_secret);
  RUN_TEST(test_identify_hmac);
  RUN_TEST(test_identify_rejected);
  RUN_TEST(test_resume_rejected);
  RUN_TEST(test_phase_errors);
  RUN_TEST(test_structural_errors);
  RUN_TEST(test_heartbeat);
  RUN_TEST(test_vst_request);
  RUN_TEST(test_vst_request_integer_ids);
  RUN_TEST(test_vst_request_invalid);
  RUN_TEST(test_info_channel);
  RUN_TEST(test_info_vst_flags);
  RUN_TEST(test_info_vst_leave);
  RUN_TEST(test_info_vst_move);
  RUN_TEST(test_send_failure_closes);
  RUN_TEST(test_health);
  RUN_TEST(test_json_table);
  SC_TEST_DONE();
}
