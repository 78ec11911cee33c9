/*
 * test_lvsp: the LVSP state machine (lvsp/lvsp_proto) driven through a
 * capturing lvsp_io_t against a real registry (no media plane, no
 * sockets). Checks what Litecord would see: the messages, their fields,
 * the close codes, and the registry state the messages leave behind.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lvsp_json.h"
#include "lvsp_proto.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

#define SECRET "correct-horse-battery-staple"
#define MAX_MSGS 16

typedef struct {
  json_t *msgs[MAX_MSGS];
  int n;
  int n_closes;
  int close_code;
  char reason[128];
  int fail_sends; /* make send_text fail (peer not reading) */
} capture_t;

typedef struct {
  sc_app_t app;
  capture_t cap;
  lvsp_conn_t conn;
} fx_t;

static int cap_send(void *ctx, const char *data, size_t len) {
  capture_t *c = ctx;
  if (c->fail_sends) return -ENOBUFS;
  json_error_t err;
  json_t *m = json_loadb(data, len, 0, &err);
  if (!m) SC_FAIL("server sent invalid JSON: %.*s", (int)len, data);
  if (c->n >= MAX_MSGS) SC_FAIL("too many messages");
  c->msgs[c->n++] = m;
  return 0;
}

static void cap_close(void *ctx, int code, const char *reason) {
  capture_t *c = ctx;
  c->n_closes++;
  c->close_code = code;
  snprintf(c->reason, sizeof c->reason, "%s", reason);
}

static const lvsp_io_t cap_io = {cap_send, cap_close};

static fx_t *fx_new(void) {
  fx_t *f = calloc(1, sizeof *f);
  ASSERT_TRUE(f != NULL);
  snprintf(f->app.cfg.lvsp_secret, sizeof f->app.cfg.lvsp_secret, "%s", SECRET);
  f->app.cfg.lvsp_heartbeat_ms = 45000;
  f->app.cfg.capacity = 100;
  snprintf(f->app.endpoint, sizeof f->app.endpoint, "voice.example.org:8443");
  f->app.registry = sc_registry_create(NULL);
  ASSERT_TRUE(f->app.registry != NULL);
  ASSERT_EQ(lvsp_conn_open(&f->conn, &f->app, &cap_io, &f->cap), 0);
  ASSERT_EQ(f->cap.n, 1); /* HELLO */
  return f;
}

static void fx_free(fx_t *f) {
  for (int i = 0; i < f->cap.n; i++) json_decref(f->cap.msgs[i]);
  sc_registry_destroy(f->app.registry);
  free(f);
}

static int say(fx_t *f, const char *text) { return lvsp_handle_text(&f->conn, text, strlen(text)); }

static json_t *last(fx_t *f) {
  ASSERT_TRUE(f->cap.n > 0);
  return f->cap.msgs[f->cap.n - 1];
}

static json_t *last_d(fx_t *f, int op) {
  json_t *m = last(f);
  ASSERT_EQ(json_integer_value(json_object_get(m, "op")), op);
  json_t *d = json_object_get(m, "d");
  ASSERT_TRUE(json_is_object(d));
  return d;
}

static void assert_closed(fx_t *f, const char *text, int code) {
  int n = f->cap.n;
  ASSERT_TRUE(say(f, text) < 0);
  ASSERT_EQ(f->cap.n_closes, 1);
  ASSERT_EQ(f->cap.close_code, code);
  ASSERT_EQ(f->cap.n, n); /* nothing sent with the close */
  /* Input after a close is ignored. */
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1}}"), -EPIPE);
  ASSERT_EQ(f->cap.n_closes, 1);
}

/* A fresh connection, one message, the expected close code. */
static void expect_close(const char *text, int code, int identified) {
  fx_t *f = fx_new();
  if (identified) ASSERT_EQ(say(f, "{\"op\":1,\"d\":{\"token\":\"" SECRET "\"}}"), 0);
  assert_closed(f, text, code);
  fx_free(f);
}

static fx_t *fx_ready(void) {
  fx_t *f = fx_new();
  ASSERT_EQ(say(f, "{\"op\":1,\"d\":{\"token\":\"" SECRET "\"}}"), 0);
  ASSERT_EQ(f->cap.n_closes, 0);
  last_d(f, LVSP_OP_READY);
  return f;
}

static double health_of(json_t *d) {
  json_t *h = json_object_get(d, "health");
  ASSERT_TRUE(json_is_number(h));
  return json_number_value(h);
}

static void test_hello(void) {
  fx_t *a = fx_new(), *b = fx_new();
  json_t *d = last_d(a, LVSP_OP_HELLO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "heartbeat_interval")), 45000);
  const char *nonce = json_string_value(json_object_get(d, "nonce"));
  ASSERT_TRUE(nonce != NULL);
  ASSERT_EQ(strlen(nonce), 10);
  for (int i = 0; i < 10; i++) ASSERT_TRUE(isalnum((unsigned char)nonce[i]));
  ASSERT_STREQ(nonce, a->conn.nonce);
  const char *other = json_string_value(json_object_get(last_d(b, 0), "nonce"));
  ASSERT_TRUE(strcmp(nonce, other) != 0); /* fresh per connection */
  fx_free(a);
  fx_free(b);
}

static void test_identify_secret(void) {
  fx_t *f = fx_ready();
  ASSERT_TRUE(f->conn.ready);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_READY)) == 1.0);
  fx_free(f);
}

/* The HMAC is computed here with OpenSSL, independently of sc_token. */
static void test_identify_hmac(void) {
  fx_t *f = fx_new();
  unsigned char mac[32];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)f->conn.nonce,
       strlen(f->conn.nonce), mac, &mac_len);
  ASSERT_EQ(mac_len, 32);
  char msg[256];
  int o = snprintf(msg, sizeof msg, "{\"op\":1,\"d\":{\"token\":\"");
  for (int i = 0; i < 32; i++) o += snprintf(msg + o, sizeof msg - (size_t)o, "%02x", mac[i]);
  snprintf(msg + o, sizeof msg - (size_t)o, "\"}}");
  ASSERT_EQ(say(f, msg), 0);
  ASSERT_EQ(f->cap.n_closes, 0);
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

static void test_resume_is_identify(void) {
  fx_t *f = fx_new();
  ASSERT_EQ(say(f, "{\"op\":2,\"d\":{\"token\":\"" SECRET "\",\"seq\":5}}"), 0);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_READY)) == 1.0);
  fx_free(f);
  expect_close("{\"op\":2,\"d\":{\"token\":\"nope\",\"seq\":5}}", 4001, 0);
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
  ASSERT_EQ(f->cap.n, 4);
  ASSERT_EQ(f->cap.n_closes, 0);
  fx_free(f);
}

static void check_info(json_t *info, const char *user, const char *channel, const char *guild) {
  ASSERT_STREQ(json_string_value(json_object_get(info, "user_id")), user);
  ASSERT_STREQ(json_string_value(json_object_get(info, "channel_id")), channel);
  if (guild) ASSERT_STREQ(json_string_value(json_object_get(info, "guild_id")), guild);
  else ASSERT_TRUE(json_is_null(json_object_get(info, "guild_id")));
  ASSERT_EQ(strlen(json_string_value(json_object_get(info, "session_id"))), SC_SESSION_ID_LEN);
  ASSERT_EQ(strlen(json_string_value(json_object_get(info, "token"))), SC_VOICE_TOKEN_LEN);
  ASSERT_STREQ(json_string_value(json_object_get(info, "endpoint")), "voice.example.org:8443");
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
  sc_vstate_t *vs = request(f, "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\","
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
  ASSERT_EQ(f->cap.n_closes, 0);
  fx_free(f);
}

static void test_vst_request_integer_ids(void) {
  fx_t *f = fx_ready();
  request(f, "{\"op\":7,\"d\":{\"user_id\":123456789012345678,\"channel_id\":42,"
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
  expect_close("{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"2\",\"guild_id\":\"g\"}}",
               4000, 1);
  expect_close("{\"op\":7,\"d\":{\"user_id\":1.5,\"channel_id\":\"2\"}}", 4000, 1);
}

static void test_info_channel(void) {
  fx_t *f = fx_ready();
  int n = f->cap.n;
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"2002\",\"bitrate\":64000}}}"),
            0);
  sc_channel_t *ch = sc_registry_find_channel(f->app.registry, "2002");
  ASSERT_TRUE(ch != NULL);
  ASSERT_EQ(ch->bitrate, 64000);
  ASSERT_EQ(f->cap.n, n); /* no reply */
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":2002,\"bitrate\":96000}}}"), 0);
  ASSERT_EQ(ch->bitrate, 96000);
  ASSERT_EQ(f->cap.n_closes, 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"x\",\"bitrate\":1}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"2\",\"bitrate\":-1}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":9,\"info\":{}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":0}}", 4000, 1);
  /* The later dialect's body is not handled yet. */
  expect_close("{\"op\":6,\"d\":{\"type\":0,\"data\":{\"channel_id\":\"2\"}}}", 4000, 1);
}

static void test_info_vst_flags(void) {
  fx_t *f = fx_ready();
  sc_vstate_t *vs = request(f, "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\","
                               "\"guild_id\":\"3003\"}}");
  int n = f->cap.n;
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
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\","
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
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"77\","
                   "\"channel_id\":\"2002\",\"guild_id\":\"3003\",\"mute\":true}}}"),
            0);
  ASSERT_EQ(f->cap.n, n);
  ASSERT_EQ(f->cap.n_closes, 0);
  fx_free(f);
  expect_close("{\"op\":6,\"d\":{\"type\":1,\"info\":{\"mute\":true}}}", 4000, 1);
  expect_close("{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1\",\"mute\":1}}}", 4000, 1);
}

static void test_info_vst_leave(void) {
  fx_t *f = fx_ready();
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1001\",\"channel_id\":\"2002\"}}");
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1002\",\"channel_id\":\"2002\"}}");
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":1,\"info\":{\"user_id\":\"1001\","
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
  ASSERT_EQ(f->cap.n_closes, 0);
  fx_free(f);
}

static void test_send_failure_closes(void) {
  fx_t *f = fx_ready();
  f->cap.fail_sends = 1;
  ASSERT_TRUE(say(f, "{\"op\":4,\"d\":{\"s\":1}}") < 0);
  ASSERT_EQ(f->cap.close_code, 4000);
  fx_free(f);
}

static void test_health(void) {
  fx_t *f = fx_ready();
  f->app.cfg.capacity = 2;
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"9\"}}");
  ASSERT_TRUE(lvsp_health(&f->app) == 0.5);
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"2\",\"channel_id\":\"9\"}}");
  request(f, "{\"op\":7,\"d\":{\"user_id\":\"3\",\"channel_id\":\"9\"}}");
  ASSERT_TRUE(lvsp_health(&f->app) == 0.0); /* over capacity: clamped */
  fx_free(f);
}

static void test_json_table(void) {
  static const lvsp_jfield_t t[] = {
      {"a", LVSP_JT_ID, LVSP_JF_REQUIRED},
      {"b", LVSP_JT_BOOL | LVSP_JT_NULL, 0},
  };
  const char *bad = NULL;
  json_t *o = json_pack("{s:s,s:b}", "a", "12", "b", 1);
  ASSERT_EQ(lvsp_json_check(o, t, 2, &bad), 0);
  json_object_set_new(o, "b", json_string("yes"));
  ASSERT_EQ(lvsp_json_check(o, t, 2, &bad), -EINVAL);
  ASSERT_STREQ(bad, "b");
  json_object_del(o, "a");
  ASSERT_EQ(lvsp_json_check(o, t, 2, &bad), -EINVAL);
  ASSERT_STREQ(bad, "a");
  char id[SC_ID_MAX];
  json_object_set_new(o, "a", json_integer(0));
  ASSERT_EQ(lvsp_json_get_id(o, "a", id), 0);
  ASSERT_STREQ(id, "0");
  ASSERT_EQ(lvsp_json_get_id(o, "zz", id), -ENOENT);
  json_decref(o);
}

int main(void) {
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_hello);
  RUN_TEST(test_identify_secret);
  RUN_TEST(test_identify_hmac);
  RUN_TEST(test_identify_rejected);
  RUN_TEST(test_resume_is_identify);
  RUN_TEST(test_phase_errors);
  RUN_TEST(test_structural_errors);
  RUN_TEST(test_heartbeat);
  RUN_TEST(test_vst_request);
  RUN_TEST(test_vst_request_integer_ids);
  RUN_TEST(test_vst_request_invalid);
  RUN_TEST(test_info_channel);
  RUN_TEST(test_info_vst_flags);
  RUN_TEST(test_info_vst_leave);
  RUN_TEST(test_send_failure_closes);
  RUN_TEST(test_health);
  RUN_TEST(test_json_table);
  SC_TEST_DONE();
}
