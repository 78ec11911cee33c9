/*
 * The voice gateway's message handling, driven directly: each test
 * connection is a dv_conn_t whose output is captured, on a real registry
 * whose voice states are created as LVSP creates them.
 */
#include <jansson.h>
#include <stdarg.h>

#include "dv_gateway.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

#define MAX_MSGS 64

typedef struct {
  dv_conn_t conn;
  json_t *msgs[MAX_MSGS];
  int n, next;   /* captured, and next one to read */
  int close_code;
} client_t;

static int cap_send(void *ctx, const char *text, size_t len) {
  client_t *c = ctx;
  json_error_t err;
  json_t *m = json_loadb(text, len, 0, &err);
  if (!m) SC_FAIL("server sent invalid JSON: %.*s", (int)len, text);
  if (c->n == MAX_MSGS) SC_FAIL("too many messages");
  c->msgs[c->n++] = m;
  return 0;
}

static void cap_close(void *ctx, int code, const char *reason) {
  (void)reason;
  client_t *c = ctx;
  if (!c->close_code) c->close_code = code;
}

static const dv_io_t cap_io = {cap_send, cap_close};
static sc_app_t app;
static dv_modes_t modes;

static void client_open(client_t *c, int version) {
  memset(c, 0, sizeof *c);
  dv_conn_open(&c->conn, &app, &modes, version, &cap_io, c);
}

static void client_free(client_t *c) {
  dv_conn_closed(&c->conn);
  for (int i = 0; i < c->n; i++) json_decref(c->msgs[i]);
}

/* Next captured message; asserts its op. */
static json_t *expect_op(client_t *c, int op) {
  if (c->next >= c->n) SC_FAIL("expected op %d, nothing was sent", op);
  json_t *m = c->msgs[c->next++];
  ASSERT_EQ(json_integer_value(json_object_get(m, "op")), op);
  ASSERT_TRUE(json_object_get(m, "d") != NULL); /* always present */
  return json_object_get(m, "d");
}

static void expect_silence(client_t *c) { ASSERT_EQ(c->n - c->next, 0); }

static void send_json(client_t *c, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dv_conn_handle_text(&c->conn, buf, strlen(buf));
}

static void identify(client_t *c, const sc_vstate_t *vs) {
  send_json(c, "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
               "\"token\":\"%s\",\"max_dave_protocol_version\":1}}",
            vs->server_id, vs->user_id, vs->session_id, vs->token);
}

static sc_vstate_t *state(const char *user, const char *channel) {
  sc_vstate_t *vs = sc_registry_create_state(app.registry, user, channel, "500");
  ASSERT_TRUE(vs != NULL);
  return vs;
}

static void test_hello_and_ready(void) {
  client_t c;
  client_open(&c, 8);
  json_t *hello = expect_op(&c, 8);
  ASSERT_EQ(json_integer_value(json_object_get(hello, "heartbeat_interval")), 41250);
  ASSERT_EQ(json_integer_value(json_object_get(hello, "v")), 8);
  ASSERT_TRUE(json_object_get(c.msgs[0], "seq") == NULL); /* Hello is not numbered */
  sc_vstate_t *vs = state("10", "100");
  identify(&c, vs);
  json_t *ready = expect_op(&c, 2);
  ASSERT_EQ(json_integer_value(json_object_get(ready, "ssrc")), vs->ssrc);
  ASSERT_STREQ(json_string_value(json_object_get(ready, "ip")), "127.0.0.1");
  ASSERT_EQ(json_integer_value(json_object_get(ready, "port")), 7702);
  json_t *m = json_object_get(ready, "modes");
  ASSERT_EQ(json_array_size(m), 2);
  ASSERT_STREQ(json_string_value(json_array_get(m, 0)), "aead_aes256_gcm_rtpsize");
  ASSERT_STREQ(json_string_value(json_array_get(m, 1)), "aead_xchacha20_poly1305_rtpsize");
  ASSERT_EQ(json_integer_value(json_object_get(c.msgs[1], "seq")), 1); /* v8 seq from 1 */
  expect_silence(&c);                                                  /* nobody else here */
  client_free(&c);
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

static void test_bad_identify(void) {
  sc_vstate_t *vs = state("11", "101");
  const char *variants[][4] = {
      {"500", "11", "nosuchsession", NULL}, /* unknown session */
      {"500", "12", NULL, NULL},            /* wrong user */
      {"501", "11", NULL, NULL},            /* wrong server */
      {"500", "11", NULL, "wrongtoken"},    /* wrong token */
  };
  for (int i = 0; i < 4; i++) {
    client_t c;
    client_open(&c, 4);
    send_json(&c, "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
                  "\"token\":\"%s\"}}",
              variants[i][0], variants[i][1], variants[i][2] ? variants[i][2] : vs->session_id,
              variants[i][3] ? variants[i][3] : vs->token);
    ASSERT_EQ(c.close_code, DV_CLOSE_AUTH_FAILED);
    ASSERT_TRUE(vs->ops == NULL); /* not attached */
    client_free(&c);
  }
  client_t c;
  client_open(&c, 4);
  send_json(&c, "{\"op\":0,\"d\":{\"server_id\":\"500\"}}");
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  client_free(&c);
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

static void test_close_codes(void) {
  struct {
    const char *msg;
    int code;
  } cases[] = {
      {"not json", DV_CLOSE_DECODE_ERROR},
      {"[1,2]", DV_CLOSE_DECODE_ERROR},
      {"{\"op\":\"0\"}", DV_CLOSE_DECODE_ERROR},
      {"{\"op\":99,\"d\":{}}", DV_CLOSE_UNKNOWN_OPCODE},
      {"{\"op\":-1,\"d\":{}}", DV_CLOSE_UNKNOWN_OPCODE},
      {"{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{}}}", DV_CLOSE_NOT_AUTHENTICATED},
      {"{\"op\":5,\"d\":{\"speaking\":1}}", DV_CLOSE_NOT_AUTHENTICATED},
      {"{\"op\":7,\"d\":{}}", DV_CLOSE_SESSION_INVALID},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    client_t c;
    client_open(&c, 4);
    dv_conn_handle_text(&c.conn, cases[i].msg, strlen(cases[i].msg));
    if (c.close_code != cases[i].code) SC_FAIL("%s: close %d, want %d", cases[i].msg, c.close_code, cases[i].code);
    client_free(&c);
  }
  /* Ops real clients send that a version-0 server ignores: never 4001. */
  client_t c;
  client_open(&c, 8);
  const int ignored[] = {12, 14, 15, 16, 17, 18, 19, 20, 23, 31};
  for (int i = 0; i < 10; i++) send_json(&c, "{\"op\":%d,\"d\":{}}", ignored[i]);
  ASSERT_EQ(c.close_code, 0);
  client_free(&c);
}

static void test_heartbeat_shapes(void) {
  client_t c;
  client_open(&c, 4);
  expect_op(&c, 8);
  send_json(&c, "{\"op\":3,\"d\":1234567}");
  ASSERT_EQ(json_integer_value(expect_op(&c, 6)), 1234567); /* v4: bare nonce */
  client_free(&c);
  client_open(&c, 8);
  expect_op(&c, 8);
  send_json(&c, "{\"op\":3,\"d\":{\"t\":1700000000123,\"seq_ack\":-1}}");
  json_t *ack = expect_op(&c, 6);
  ASSERT_EQ(json_integer_value(json_object_get(ack, "t")), 1700000000123LL); /* v8: {t} */
  ASSERT_TRUE(json_object_get(c.msgs[1], "seq") == NULL);                    /* ACK not numbered */
  client_free(&c);
}

static void test_select_protocol(void) {
  sc_vstate_t *vs = state("20", "102");
  const char *bad[][2] = {{"webrtc", "aead_aes256_gcm_rtpsize"}, {"udp", "xsalsa20_poly1305"}};
  const int want[] = {DV_CLOSE_UNKNOWN_PROTOCOL, DV_CLOSE_UNKNOWN_MODE};
  for (int i = 0; i < 2; i++) {
    client_t c;
    client_open(&c, 8);
    identify(&c, vs);
    send_json(&c, "{\"op\":1,\"d\":{\"protocol\":\"%s\",\"data\":{\"address\":\"127.0.0.1\","
                  "\"port\":5000,\"mode\":\"%s\"}}}", bad[i][0], bad[i][1]);
    ASSERT_EQ(c.close_code, want[i]);
    client_free(&c);
  }
  client_t c;
  client_open(&c, 8);
  identify(&c, vs);
  send_json(&c, "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"127.0.0.1\","
                "\"port\":5000,\"mode\":\"aead_xchacha20_poly1305_rtpsize\"}}}");
  expect_op(&c, 8);
  expect_op(&c, 2);
  json_t *sd = expect_op(&c, 4);
  ASSERT_STREQ(json_string_value(json_object_get(sd, "mode")), "aead_xchacha20_poly1305_rtpsize");
  ASSERT_STREQ(json_string_value(json_object_get(sd, "audio_codec")), "opus");
  ASSERT_EQ(json_integer_value(json_object_get(sd, "dave_protocol_version")), 0);
  json_t *key = json_object_get(sd, "secret_key");
  ASSERT_EQ(json_array_size(key), 32);
  int nonzero = 0;
  for (size_t i = 0; i < 32; i++) {
    json_int_t b = json_integer_value(json_array_get(key, i));
    ASSERT_TRUE(b >= 0 && b <= 255);
    nonzero += b != 0;
  }
  ASSERT_TRUE(nonzero > 16); /* 32 CSPRNG bytes, not a constant */
  send_json(&c, "{\"op\":0,\"d\":{}}");
  ASSERT_EQ(c.close_code, DV_CLOSE_ALREADY_AUTHENTICATED);
  client_free(&c);
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

/* Two members of one channel, a third elsewhere: joins, speaking, leaves. */
static void test_room_events(void) {
  sc_vstate_t *va = state("30", "103"), *vb = state("31", "103"), *vx = state("32", "104");
  client_t a, b, x;
  client_open(&a, 8);
  client_open(&x, 8);
  identify(&a, va);
  identify(&x, vx);
  expect_op(&a, 8);
  expect_op(&a, 2);
  expect_silence(&a);
  client_open(&b, 4);
  identify(&b, vb);
  /* The newcomer learns who is here: op 11, then op 5 mapping A's SSRC. */
  expect_op(&b, 8);
  expect_op(&b, 2);
  json_t *cc = expect_op(&b, 11);
  ASSERT_STREQ(json_string_value(json_array_get(json_object_get(cc, "user_ids"), 0)), "30");
  json_t *sp = expect_op(&b, 5);
  ASSERT_STREQ(json_string_value(json_object_get(sp, "user_id")), "30");
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), va->ssrc);
  /* A learns about B. */
  cc = expect_op(&a, 11);
  ASSERT_STREQ(json_string_value(json_array_get(json_object_get(cc, "user_ids"), 0)), "31");
  sp = expect_op(&a, 5);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), vb->ssrc);
  /* B speaks (an old client: no ssrc field): A hears of it, X does not. */
  send_json(&b, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0}}");
  sp = expect_op(&a, 5);
  ASSERT_STREQ(json_string_value(json_object_get(sp, "user_id")), "31");
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), vb->ssrc);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "speaking")), 1);
  ASSERT_TRUE(json_object_get(sp, "delay") == NULL);
  expect_silence(&b); /* not echoed */
  expect_op(&x, 8);
  expect_op(&x, 2);
  expect_silence(&x);
  /* Litecord ends B's state: B gets 4014, A gets op 13. */
  sc_registry_end_state(app.registry, vb, SC_END_LEFT);
  ASSERT_EQ(b.close_code, DV_CLOSE_DISCONNECTED);
  json_t *dc = expect_op(&a, 13);
  ASSERT_STREQ(json_string_value(json_object_get(dc, "user_id")), "31");
  expect_silence(&x);
  client_free(&b);
  /* A's socket goes away: the state stays (Litecord owns it). */
  client_free(&a);
  ASSERT_TRUE(sc_registry_find_session(app.registry, va->session_id) == va);
  ASSERT_TRUE(va->ops == NULL);
  client_free(&x);
  sc_registry_end_state(app.registry, va, SC_END_LEFT);
  sc_registry_end_state(app.registry, vx, SC_END_LEFT);
}

static void test_takeover_and_replace(void) {
  sc_vstate_t *vs = state("40", "105");
  client_t old, fresh;
  client_open(&old, 8);
  identify(&old, vs);
  client_open(&fresh, 8);
  identify(&fresh, vs); /* a reconnect wins over a stale socket */
  ASSERT_EQ(old.close_code, DV_CLOSE_SESSION_INVALID);
  ASSERT_EQ(fresh.close_code, 0);
  ASSERT_TRUE(vs->conn == &fresh.conn);
  client_free(&old);
  ASSERT_TRUE(vs->conn == &fresh.conn); /* the old socket's close changes nothing */
  /* A new state for the same user and guild replaces this one. */
  sc_vstate_t *moved = state("40", "106");
  ASSERT_EQ(fresh.close_code, DV_CLOSE_DISCONNECTED);
  ASSERT_TRUE(sc_registry_find_user(app.registry, "40", "500") == moved);
  client_free(&fresh);
  sc_registry_end_state(app.registry, moved, SC_END_LEFT);
}

static void test_versions(void) {
  ASSERT_EQ(dv_gateway_version(NULL), 4);
  ASSERT_EQ(dv_gateway_version("4"), 4);
  ASSERT_EQ(dv_gateway_version("8"), 8);
  ASSERT_EQ(dv_gateway_version("9"), 8);
  ASSERT_EQ(dv_gateway_version("3"), -1);
  ASSERT_EQ(dv_gateway_version("x"), -1);
  sc_config_t cfg = {.n_modes = 1};
  strcpy(cfg.modes[0], "nonsense");
  dv_modes_t m;
  ASSERT_EQ(dv_modes_from_config(&cfg, &m), -1);
}

int main(void) {
  ASSERT_EQ(sc_token_init(), 0);
  ASSERT_EQ(sc_config_parse(&app.cfg, 1, (char *[]){"litecord-voice", NULL}, stdout, stderr),
            SC_CONFIG_RUN);
  strcpy(app.ready_ip, "127.0.0.1");
  app.registry = sc_registry_create(NULL);
  ASSERT_EQ(dv_modes_from_config(&app.cfg, &modes), 0);
  RUN_TEST(test_hello_and_ready);
  RUN_TEST(test_bad_identify);
  RUN_TEST(test_close_codes);
  RUN_TEST(test_heartbeat_shapes);
  RUN_TEST(test_select_protocol);
  RUN_TEST(test_room_events);
  RUN_TEST(test_takeover_and_replace);
  RUN_TEST(test_versions);
  ASSERT_EQ(sc_registry_count_states(app.registry), 0);
  sc_registry_destroy(app.registry);
  SC_TEST_DONE();
}
