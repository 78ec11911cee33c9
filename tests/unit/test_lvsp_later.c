/*
 * test_lvsp_later: the later LVSP dialect (Litecord's client code: INFO
 * bodies under "data", InfoType 0 CHANNEL_REQ .. 6 VST_LEAVE) driven
 * through lvsp_proto against a real registry. Fake voice connections
 * attached to the states show what their clients would be told (ended
 * with which reason: the gateway maps LEFT/CHANNEL_GONE/REPLACED to
 * close 4014; peers leaving: op 13).
 */
#include <ctype.h>

#include "lvsp_fx.h"

static int is_hex(const char *s, size_t n) {
  if (!s || strlen(s) != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)s[i])) return 0;
  return 1;
}

/* Sends an INFO {type, data} and returns how many frames came back. */
static int info(fx_t *f, int type, const char *data) {
  char msg[512];
  snprintf(msg, sizeof msg, "{\"op\":6,\"d\":{\"type\":%d,\"data\":%s}}", type, data);
  int n = f->c[0].cap.n;
  ASSERT_EQ(say(f, msg), 0);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  return f->c[0].cap.n - n;
}

/* The data of the last frame, which must be INFO of that type. */
static json_t *last_data(fx_t *f, int type) {
  json_t *d = last_d(f, LVSP_OP_INFO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "type")), type);
  ASSERT_TRUE(json_object_get(d, "info") == NULL);
  json_t *data = json_object_get(d, "data");
  ASSERT_TRUE(json_is_object(data));
  return data;
}

/* VST_CREATE and its reply; returns the state the reply names. */
static sc_vstate_t *create(fx_t *f, const char *user, const char *channel, const char *guild) {
  char data[256];
  if (guild)
    snprintf(data, sizeof data, "{\"user_id\":\"%s\",\"channel_id\":\"%s\",\"guild_id\":\"%s\"}",
             user, channel, guild);
  else
    snprintf(data, sizeof data, "{\"user_id\":\"%s\",\"channel_id\":\"%s\"}", user, channel);
  ASSERT_EQ(info(f, LVSP_INFO_VST_CREATE, data), 1);
  json_t *d = last_data(f, LVSP_INFO_VST_CREATE);
  ASSERT_STREQ(str_of(d, "user_id"), user);
  ASSERT_STREQ(str_of(d, "channel_id"), channel);
  if (guild)
    ASSERT_STREQ(str_of(d, "guild_id"), guild);
  else
    ASSERT_TRUE(json_is_null(json_object_get(d, "guild_id")));
  ASSERT_TRUE(is_hex(str_of(d, "session_id"), SC_SESSION_ID_LEN));
  ASSERT_EQ(strlen(str_of(d, "token")), SC_VOICE_TOKEN_LEN);
  ASSERT_STREQ(str_of(d, "endpoint"), FX_ENDPOINT);
  sc_vstate_t *vs = sc_registry_find_session(f->app.registry, str_of(d, "session_id"));
  ASSERT_TRUE(vs != NULL);
  ASSERT_STREQ(str_of(d, "token"), vs->token);
  return vs;
}

static void test_channel_req_assign(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_REQ, "{\"channel_id\":\"2002\",\"guild_id\":\"3003\"}"), 1);
  json_t *d = last_data(f, LVSP_INFO_CHANNEL_ASSIGN);
  ASSERT_STREQ(str_of(d, "channel_id"), "2002");
  ASSERT_STREQ(str_of(d, "guild_id"), "3003");
  ASSERT_TRUE(is_hex(str_of(d, "token"), SC_CHANNEL_TOKEN_LEN));
  sc_channel_t *ch = sc_registry_find_channel(f->app.registry, "2002");
  ASSERT_TRUE(ch != NULL && ch->pinned);
  ASSERT_STREQ(str_of(d, "token"), ch->token);
  /* Asked again (integer ids): the same assignment. */
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_REQ, "{\"channel_id\":2002,\"guild_id\":3003}"), 1);
  ASSERT_STREQ(str_of(last_data(f, LVSP_INFO_CHANNEL_ASSIGN), "token"), ch->token);
  /* No guild (DM call). */
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_REQ, "{\"channel_id\":\"77\",\"guild_id\":null}"), 1);
  d = last_data(f, LVSP_INFO_CHANNEL_ASSIGN);
  ASSERT_STREQ(str_of(d, "channel_id"), "77");
  ASSERT_TRUE(json_is_null(json_object_get(d, "guild_id")));
  /* Assigned channels outlive their voice states. */
  sc_vstate_t *vs = create(f, "1", "2002", "3003");
  sc_registry_end_state(f->app.registry, vs, SC_END_LEFT);
  ASSERT_TRUE(sc_registry_find_channel(f->app.registry, "2002") == ch);
  fx_free(f);
}

static void test_channel_update(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  info(f, LVSP_INFO_CHANNEL_REQ, "{\"channel_id\":\"2002\",\"guild_id\":\"3003\"}");
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_UPDATE,
                 "{\"channel_id\":\"2002\",\"bitrate\":96000,\"user_limit\":5,\"name\":\"x\"}"),
            0);
  sc_channel_t *ch = sc_registry_find_channel(f->app.registry, "2002");
  ASSERT_EQ(ch->bitrate, 96000);
  ASSERT_EQ(ch->user_limit, 5);
  /* Absent fields stay. */
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_UPDATE, "{\"channel_id\":\"2002\",\"bitrate\":8000}"), 0);
  ASSERT_EQ(ch->bitrate, 8000);
  ASSERT_EQ(ch->user_limit, 5);
  /* An update for a channel not seen yet creates it. */
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_UPDATE, "{\"channel_id\":\"2010\",\"bitrate\":64000}"), 0);
  ASSERT_EQ(sc_registry_find_channel(f->app.registry, "2010")->bitrate, 64000);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":2,\"data\":{\"channel_id\":\"2\",\"bitrate\":-1}}}", 4000,
               1);
  expect_close("{\"op\":6,\"d\":{\"type\":2,\"data\":{\"channel_id\":\"2\",\"bitrate\":\"64k\"}}}",
               4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":2,\"data\":{\"bitrate\":1}}}", 4000, 1);
}

static void test_channel_destroy(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  fake_voice_t a = {0}, b = {0}, x = {0};
  fv_attach(f, create(f, "1", "2002", "3003"), &a);
  fv_attach(f, create(f, "2", "2002", "3003"), &b);
  fv_attach(f, create(f, "3", "2003", "3003"), &x);
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_DESTROY, "{\"channel_id\":\"2002\"}"), 0);
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_CHANNEL_GONE);
  ASSERT_EQ(b.ended, 1);
  ASSERT_EQ(b.why, SC_END_CHANNEL_GONE);
  ASSERT_EQ(x.ended, 0);
  ASSERT_EQ(x.left, 0);
  ASSERT_TRUE(sc_registry_find_channel(f->app.registry, "2002") == NULL);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 1);
  /* Unknown (or already destroyed) channel: ignored, the link stays. */
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_DESTROY, "{\"channel_id\":\"2002\"}"), 0);
  fx_free(f);
}

static void test_vst_create(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  create(f, "1001", "2002", "3003");
  create(f, "1002", "4004", NULL); /* DM: the channel is the server */
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1002", "4004") != NULL);
  /* Flags given at creation are applied and echoed. */
  ASSERT_EQ(info(f, LVSP_INFO_VST_CREATE,
                 "{\"user_id\":\"1003\",\"channel_id\":\"2002\",\"guild_id\":\"3003\","
                 "\"mute\":true,\"self_deaf\":true}"),
            1);
  json_t *d = last_data(f, LVSP_INFO_VST_CREATE);
  ASSERT_TRUE(json_is_true(json_object_get(d, "mute")));
  ASSERT_TRUE(json_is_true(json_object_get(d, "self_deaf")));
  ASSERT_TRUE(json_is_false(json_object_get(d, "deaf")));
  sc_vstate_t *vs = sc_registry_find_user(f->app.registry, "1003", "3003");
  ASSERT_EQ(vs->flags.mute, 1);
  ASSERT_EQ(vs->flags.self_deaf, 1);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 3);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":4,\"data\":{\"channel_id\":\"2\"}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":4,\"data\":{\"user_id\":\"1\"}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":4,\"data\":{\"user_id\":\"u\",\"channel_id\":\"2\"}}}",
               4000, 1);
  expect_close(
      "{\"op\":6,\"d\":{\"type\":4,\"data\":{\"user_id\":\"1\",\"channel_id\":\"2\","
      "\"mute\":\"yes\"}}}",
      4000, 1);
}

static void test_vst_update_flags(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  sc_vstate_t *vs = create(f, "1001", "2002", "3003");
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE,
                 "{\"user_id\":\"1001\",\"guild_id\":\"3003\",\"mute\":true,\"suppress\":true}"),
            0);
  ASSERT_EQ(vs->flags.mute, 1);
  ASSERT_EQ(vs->flags.suppress, 1);
  /* By session id; absent flags stay. */
  char data[256];
  snprintf(data, sizeof data, "{\"session_id\":\"%s\",\"deaf\":true,\"mute\":false}",
           vs->session_id);
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE, data), 0);
  ASSERT_EQ(vs->flags.mute, 0);
  ASSERT_EQ(vs->flags.deaf, 1);
  ASSERT_EQ(vs->flags.suppress, 1);
  /* By user and channel (the channel's guild is the server). */
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE,
                 "{\"user_id\":\"1001\",\"channel_id\":\"2002\",\"self_mute\":true}"),
            0);
  ASSERT_EQ(vs->flags.self_mute, 1);
  /* Unknown state: ignored. */
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE, "{\"user_id\":\"9\",\"guild_id\":\"3003\"}"), 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":5,\"data\":{\"mute\":true}}}", 4000, 1);
}

static void test_vst_update_moves(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  fake_voice_t a = {0}, b = {0}, c = {0};
  sc_vstate_t *va = create(f, "1", "2002", "3003");
  fv_attach(f, va, &a);
  fv_attach(f, create(f, "2", "2002", "3003"), &b);
  fv_attach(f, create(f, "3", "2003", "3003"), &c);
  char old_session[SC_SESSION_ID_LEN + 1];
  snprintf(old_session, sizeof old_session, "%s", va->session_id);
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE,
                 "{\"user_id\":\"1\",\"guild_id\":\"3003\",\"channel_id\":\"2003\",\"mute\":true}"),
            1);
  /* The user's old connection ends (4014), the old room sees it leave. */
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_REPLACED);
  ASSERT_EQ(b.left, 1);
  ASSERT_EQ(c.left, 0);
  /* New credentials, answered like a creation. */
  json_t *d = last_data(f, LVSP_INFO_VST_CREATE);
  ASSERT_STREQ(str_of(d, "channel_id"), "2003");
  ASSERT_TRUE(strcmp(str_of(d, "session_id"), old_session) != 0);
  ASSERT_TRUE(json_is_true(json_object_get(d, "mute")));
  sc_vstate_t *moved = sc_registry_find_user(f->app.registry, "1", "3003");
  ASSERT_STREQ(moved->channel->id, "2003");
  ASSERT_STREQ(moved->session_id, str_of(d, "session_id"));
  ASSERT_EQ(moved->flags.mute, 1);
  ASSERT_EQ(sc_registry_find_channel(f->app.registry, "2002")->n_states, 1);
  ASSERT_EQ(sc_registry_find_channel(f->app.registry, "2003")->n_states, 2);
  /* channel_id null ends it. */
  ASSERT_EQ(info(f, LVSP_INFO_VST_UPDATE,
                 "{\"user_id\":\"2\",\"guild_id\":\"3003\","
                 "\"channel_id\":null}"),
            0);
  ASSERT_EQ(b.ended, 1);
  ASSERT_EQ(b.why, SC_END_LEFT);
  fx_free(f);
}

static void test_vst_leave(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  fake_voice_t a = {0}, b = {0};
  fv_attach(f, create(f, "1", "2002", "3003"), &a);
  sc_vstate_t *vb = create(f, "2", "2002", "3003");
  fv_attach(f, vb, &b);
  ASSERT_EQ(info(f, LVSP_INFO_VST_LEAVE, "{\"user_id\":\"1\",\"guild_id\":\"3003\"}"), 0);
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_LEFT);
  ASSERT_EQ(b.left, 1);
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1", "3003") == NULL);
  char data[128];
  snprintf(data, sizeof data, "{\"session_id\":\"%s\"}", vb->session_id);
  ASSERT_EQ(info(f, LVSP_INFO_VST_LEAVE, data), 0);
  ASSERT_EQ(b.ended, 1);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 0);
  /* Again: unknown now, ignored. */
  ASSERT_EQ(info(f, LVSP_INFO_VST_LEAVE, data), 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":6,\"data\":{\"guild_id\":\"3\"}}}", 4000, 1);
}

/* One user in several guilds at once, many channels at once. */
static void test_multiples(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  sc_vstate_t *g1 = create(f, "1", "2002", "3003");
  sc_vstate_t *g2 = create(f, "1", "2102", "3103");
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1", "3003") == g1);
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1", "3103") == g2);
  info(f, LVSP_INFO_VST_LEAVE, "{\"user_id\":\"1\",\"guild_id\":\"3003\"}");
  ASSERT_TRUE(sc_registry_find_user(f->app.registry, "1", "3103") == g2);
  char user[16], channel[16];
  for (int i = 0; i < 40; i++) {
    snprintf(channel, sizeof channel, "%d", 5000 + i / 4);
    snprintf(user, sizeof user, "%d", 100 + i);
    create(f, user, channel, "3003");
  }
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 41);
  ASSERT_EQ(sc_registry_count_channels(f->app.registry), 11);
  fx_free(f);
}

static void test_errors(void) {
  /* CHANNEL_ASSIGN is ours to send; 7+ does not exist. */
  expect_close("{\"op\":6,\"d\":{\"type\":1,\"data\":{\"channel_id\":\"2\",\"token\":\"t\"}}}",
               4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":7,\"data\":{}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":-1,\"data\":{}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"data\":{}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"data\":{\"channel_id\":\"x\"}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"data\":[]}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":3,\"data\":{\"channel_id\":null}}}", 4000, 1);
}

/* The dialect is per message: a reply follows the message, not IDENTIFY. */
static void test_dialect_per_message(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_SEED);
  ASSERT_EQ(info(f, LVSP_INFO_CHANNEL_REQ, "{\"channel_id\":\"2002\"}"), 1);
  last_data(f, LVSP_INFO_CHANNEL_ASSIGN);
  fx_free(f);
  f = fx_ready_as(LVSP_DIALECT_LATER);
  ASSERT_EQ(say(f, "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"2\"}}"), 0);
  json_t *d = last_d(f, LVSP_OP_INFO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "type")), LVSP_INFO_VST);
  ASSERT_TRUE(json_is_object(json_object_get(d, "info")));
  fx_free(f);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_channel_req_assign);
  RUN_TEST(test_channel_update);
  RUN_TEST(test_channel_destroy);
  RUN_TEST(test_vst_create);
  RUN_TEST(test_vst_update_flags);
  RUN_TEST(test_vst_update_moves);
  RUN_TEST(test_vst_leave);
  RUN_TEST(test_multiples);
  RUN_TEST(test_errors);
  RUN_TEST(test_dialect_per_message);
  SC_TEST_DONE();
}
