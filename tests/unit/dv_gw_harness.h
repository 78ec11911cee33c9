/*
 * dv_gw_harness: drives the voice gateway (discord_voice/dv_gateway.h)
 * without sockets, for test_dv_gateway.c and test_dv_session.c. Each test
 * "client" is a dv_conn_t whose output is captured as parsed JSON; voice
 * states are created in a real registry as LVSP creates them; the
 * gateway's timers run on a manual clock (advance()).
 */
#ifndef DV_GW_HARNESS_H
#define DV_GW_HARNESS_H

#include <jansson.h>
#include <stdarg.h>

#include "dv_gateway.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

#define MAX_MSGS 256

typedef struct {
  dv_conn_t conn;
  json_t *msgs[MAX_MSGS];
  int n, next; /* captured, and next one to read */
  int close_code;
  char close_reason[128]; /* of the first close */
  int open;               /* dv_gw_closed not yet called */
} client_t;

static sc_app_t app;
static dv_gw_t *gw;

static inline int cap_send(void *ctx, const char *text, size_t len) {
  client_t *c = ctx;
  json_error_t err;
  json_t *m = json_loadb(text, len, 0, &err);
  if (!m) SC_FAIL("server sent invalid JSON: %.*s", (int)len, text);
  if (c->n == MAX_MSGS) SC_FAIL("too many messages");
  c->msgs[c->n++] = m;
  return 0;
}

/* A binary frame (DAVE) is captured as {"op", "seq", "d": hex payload,
 * "binary": true}, so expect_msg reads it like the JSON ones. */
static inline int cap_send_binary(void *ctx, const uint8_t *buf, size_t len) {
  client_t *c = ctx;
  if (len < 3) SC_FAIL("binary frame of %zu bytes", len);
  char *hex = malloc(2 * len + 1);
  for (size_t i = 3; i < len; i++) sprintf(hex + 2 * (i - 3), "%02x", buf[i]);
  hex[2 * (len - 3)] = '\0';
  json_t *m = json_pack("{s:i, s:i, s:s, s:b}", "op", buf[2], "seq", (buf[0] << 8) | buf[1], "d",
                        hex, "binary", 1);
  free(hex);
  if (c->n == MAX_MSGS) SC_FAIL("too many messages");
  c->msgs[c->n++] = m;
  return 0;
}

static inline void cap_close(void *ctx, int code, const char *reason) {
  client_t *c = ctx;
  if (c->close_code) return;
  c->close_code = code;
  snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
}

static const dv_io_t cap_io __attribute__((unused)) = {cap_send, cap_close, NULL, cap_send_binary};

static inline void harness_init(void) {
  ASSERT_EQ(sc_token_init(), 0);
  ASSERT_EQ(sc_config_parse(&app, NULL, 0, 1, (char *[]){"litecord-voice", NULL}, stdout, stderr),
            SC_CONFIG_RUN);
  ASSERT_TRUE(dv_settings(&app) != NULL);
  strcpy(dv_settings(&app)->ready_ip, "127.0.0.1");
  app.registry = sc_registry_create(NULL);
  gw = dv_gw_create(&app, NULL);
  ASSERT_TRUE(gw != NULL);
}

static inline void harness_fini(void) {
  ASSERT_EQ(sc_registry_count_states(app.registry), 0);
  ASSERT_EQ(dv_gw_session_count(gw), 0);
  dv_gw_destroy(gw);
  sc_registry_destroy(app.registry);
  sc_config_free(&app);
}

static inline void advance(uint64_t ms) {
  dv_timers_advance(dv_gw_timers(gw), ms);
}

static inline void client_open(client_t *c, int version) {
  memset(c, 0, sizeof *c);
  c->open = 1;
  dv_gw_open(&c->conn, gw, version, &cap_io, c);
}

/* The socket goes away (as LWS_CALLBACK_CLOSED); messages stay readable. */
static inline void client_drop(client_t *c) {
  if (c->open) dv_gw_closed(&c->conn);
  c->open = 0;
}

static inline void client_free(client_t *c) {
  client_drop(c);
  for (int i = 0; i < c->n; i++) json_decref(c->msgs[i]);
  c->n = c->next = 0;
}

/* Next captured message (the whole envelope); asserts its op. */
static inline json_t *expect_msg(client_t *c, int op) {
  if (c->next >= c->n) SC_FAIL("expected op %d, nothing was sent", op);
  json_t *m = c->msgs[c->next++];
  json_int_t got = json_integer_value(json_object_get(m, "op"));
  if (got != op) SC_FAIL("expected op %d, got %s", op, json_dumps(m, JSON_COMPACT));
  ASSERT_TRUE(json_object_get(m, "d") != NULL); /* always present */
  return m;
}

static inline json_t *expect_op(client_t *c, int op) {
  return json_object_get(expect_msg(c, op), "d");
}

static inline json_int_t seq_of(json_t *msg) {
  return json_integer_value(json_object_get(msg, "seq"));
}

static inline void expect_silence(client_t *c) {
  ASSERT_EQ(c->n - c->next, 0);
}

static inline void skip_all(client_t *c) {
  c->next = c->n;
}

static inline void send_json(client_t *c, const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  dv_gw_text(&c->conn, buf, strlen(buf));
}

static inline void identify(client_t *c, const sc_vstate_t *vs) {
  send_json(c,
            "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
            "\"token\":\"%s\",\"max_dave_protocol_version\":1}}",
            vs->server_id, vs->user_id, vs->session_id, vs->token);
}

/* Opens, identifies and reads Hello and Ready (and whatever follows). */
static inline void join(client_t *c, int version, const sc_vstate_t *vs) {
  client_open(c, version);
  identify(c, vs);
  expect_op(c, 8);
  expect_op(c, 2);
  skip_all(c);
}

/* End of a test: frees the clients, then ends the voice states (each list
 * NULL-terminated). */
static inline void teardown(client_t *const *clients, sc_vstate_t *const *states) {
  for (; *clients; clients++) client_free(*clients);
  for (; *states; states++) sc_registry_end_state(app.registry, *states, SC_END_LEFT);
}

static inline sc_vstate_t *state(const char *user, const char *channel) {
  sc_vstate_t *vs = sc_registry_create_state(app.registry, user, channel, "500");
  ASSERT_TRUE(vs != NULL);
  return vs;
}

#endif
