/*
 * test_admin: the admin API's pieces that need no socket: the /state JSON
 * built from a real registry (no media plane), the status command's URL
 * and HTTP response parsers (pure), the loopback rule that decides plain
 * HTTP, and the printed summary.
 */
#include <errno.h>
#include <jansson.h>

#include "sc_admin.h"
#include "sc_admin_cli.h"
#include "sc_admin_print.h"
#include "sc_admin_state.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

static json_t *member_of(json_t *st, const char *user) {
  size_t i, j;
  json_t *ch, *m;
  json_array_foreach(json_object_get(st, "channels"), i, ch) {
    json_array_foreach(json_object_get(ch, "members"), j, m) {
      if (strcmp(json_string_value(json_object_get(m, "user_id")), user) == 0) return m;
    }
  }
  return NULL;
}

static void test_state_json(void) {
  sc_app_t app;
  memset(&app, 0, sizeof app);
  app.cfg.capacity = 10;
  app.registry = sc_registry_create(NULL);
  sc_channel_t *ch = sc_registry_channel(app.registry, "200", "300");
  ch->bitrate = 64000;
  ch->pinned = 1;
  sc_registry_channel(app.registry, "201", NULL)->pinned = 1; /* empty */
  sc_vstate_t *a = sc_registry_create_state(app.registry, "1", "200", "300");
  sc_registry_create_state(app.registry, "2", "200", "300");
  snprintf(a->transport, sizeof a->transport, "aead_aes256_gcm_rtpsize");
  a->speaking = 1;
  sc_vflags_t f = {.mute = 1, .self_deaf = 1};
  sc_registry_set_flags(app.registry, a, &f);
  a->stats->rx_packets = 7;
  a->stats->tx_bytes = 1234;
  a->stats->drops = 2;
  /* Two legs: their rx/tx count towards the member's, also once removed. */
  sc_member_stats_t *leg1 = sc_registry_add_leg(app.registry, a, NULL);
  sc_member_stats_t *leg2 = sc_registry_add_leg(app.registry, a, NULL);
  leg1->tx_bytes = 100;
  leg2->tx_bytes = 10;
  leg2->tx_packets = 3;
  sc_registry_remove_leg(app.registry, a, leg2);
  json_t *st = sc_admin_state_json(&app);
  ASSERT_TRUE(st != NULL);
  ASSERT_EQ(json_integer_value(json_object_get(st, "voice_states")), 2);
  ASSERT_EQ(json_integer_value(json_object_get(st, "channel_count")), 2);
  ASSERT_EQ(json_array_size(json_object_get(st, "channels")), 2);
  ASSERT_TRUE(json_is_null(json_object_get(st, "media")));
  json_t *m = member_of(st, "1");
  ASSERT_TRUE(m != NULL);
  ASSERT_EQ(json_integer_value(json_object_get(m, "ssrc")), a->ssrc);
  ASSERT_STREQ(json_string_value(json_object_get(m, "mode")), "aead_aes256_gcm_rtpsize");
  ASSERT_STREQ(json_string_value(json_object_get(m, "session_id")), a->session_id);
  ASSERT_EQ(json_integer_value(json_object_get(m, "speaking")), 1);
  ASSERT_TRUE(json_is_false(json_object_get(m, "connected")));
  json_t *fl = json_object_get(m, "flags");
  ASSERT_TRUE(json_is_true(json_object_get(fl, "mute")) &&
              json_is_true(json_object_get(fl, "self_deaf")));
  ASSERT_TRUE(json_is_false(json_object_get(fl, "deaf")));
  json_t *s = json_object_get(m, "stats");
  ASSERT_EQ(json_integer_value(json_object_get(s, "rx_packets")), 7);
  ASSERT_EQ(json_integer_value(json_object_get(s, "tx_bytes")), 1234 + 100 + 10);
  ASSERT_EQ(json_integer_value(json_object_get(s, "tx_packets")), 3);
  ASSERT_EQ(json_integer_value(json_object_get(m, "legs")), 1);
  ASSERT_EQ(json_integer_value(json_object_get(member_of(st, "2"), "legs")), 0);
  ASSERT_EQ(json_integer_value(json_object_get(s, "drops")), 2);
  ASSERT_TRUE(json_is_null(json_object_get(member_of(st, "2"), "mode")));
  /* No voice token anywhere. */
  char *text = json_dumps(st, JSON_COMPACT);
  ASSERT_TRUE(strstr(text, a->token) == NULL);
  ASSERT_TRUE(strstr(text, "\"bitrate\":64000") != NULL);
  free(text);
  json_t *h = sc_admin_health_json(&app);
  ASSERT_TRUE(json_object_get(h, "channels") == NULL);
  ASSERT_EQ(json_integer_value(json_object_get(h, "capacity")), 10);
  /* The summary names channels, users and modes. */
  char *out = NULL;
  size_t out_len = 0;
  FILE *mem = open_memstream(&out, &out_len);
  sc_admin_print_summary(mem, st);
  fclose(mem);
  ASSERT_TRUE(strstr(out, "2 voice state(s) in 2 channel(s)") != NULL);
  ASSERT_TRUE(strstr(out, "channel 200 (guild 300): bitrate 64000, 2 member(s)") != NULL);
  ASSERT_TRUE(strstr(out, "aead_aes256_gcm_rtpsize") != NULL);
  ASSERT_TRUE(strstr(out, " mute self_deaf") != NULL);
  free(out);
  json_decref(h);
  json_decref(st);
  sc_registry_destroy(app.registry);
}

/* The drain in the admin view: "serving" and drain null, then
 * "draining" with reason, since, timeout and deadline, and the summary's
 * DRAINING line with the time left. */
static void test_drain_view(void) {
  static sc_app_t app;
  memset(&app, 0, sizeof app);
  app.registry = sc_registry_create(NULL);
  json_t *h = sc_admin_health_json(&app);
  ASSERT_STREQ(json_string_value(json_object_get(h, "status")), "serving");
  ASSERT_TRUE(json_is_null(json_object_get(h, "drain")));
  json_decref(h);
  json_int_t now = 1700000000000;
  sc_drain_begin(&app.drain, "SIGTERM", 600, 5, now - 12000);
  h = sc_admin_health_json(&app);
  ASSERT_STREQ(json_string_value(json_object_get(h, "status")), "draining");
  json_t *d = json_object_get(h, "drain");
  ASSERT_STREQ(json_string_value(json_object_get(d, "reason")), "SIGTERM");
  ASSERT_EQ(json_integer_value(json_object_get(d, "since")), now - 12000);
  ASSERT_EQ(json_integer_value(json_object_get(d, "timeout_s")), 600);
  ASSERT_EQ(json_integer_value(json_object_get(d, "deadline")), now - 12000 + 600000);
  json_object_set_new(h, "now", json_integer(now)); /* a fixed clock for the text */
  char *out = NULL;
  size_t out_len = 0;
  FILE *mem = open_memstream(&out, &out_len);
  sc_admin_print_summary(mem, h);
  fclose(mem);
  ASSERT_TRUE(strstr(out, "(draining): 0 voice state(s)") != NULL);
  ASSERT_TRUE(strstr(out,
                     "DRAINING (SIGTERM, 12 s ago): no new calls; stops when the last voice "
                     "state ends or in 588 s (--drain-timeout 600)") != NULL);
  free(out);
  json_decref(h);
  sc_registry_destroy(app.registry);
}

/* Readiness: each limit on its own, all at once, and "no limit" (0);
 * the fd rule is accept()'s: the lowest free fd must be below
 * client_below. */
static void test_not_ready(void) {
  sc_admin_ready_in_t in = {
      .voice_states = 5, .channels = 2, .lowest_free_fd = 9, .client_below = 10};
  ASSERT_EQ(sc_admin_not_ready(&in), 0u);
  in.draining = 1;
  ASSERT_EQ(sc_admin_not_ready(&in), (unsigned)SC_NOT_READY_DRAINING);
  in.draining = 0;
  in.max_voice_states = 5;
  ASSERT_EQ(sc_admin_not_ready(&in), (unsigned)SC_NOT_READY_VOICE_STATES);
  in.max_voice_states = 6;
  in.max_channels = 2;
  ASSERT_EQ(sc_admin_not_ready(&in), (unsigned)SC_NOT_READY_CHANNELS);
  in.max_channels = 0;
  in.lowest_free_fd = 10;
  ASSERT_EQ(sc_admin_not_ready(&in), (unsigned)SC_NOT_READY_CONNECTIONS);
  in.lowest_free_fd = -1; /* EMFILE */
  ASSERT_EQ(sc_admin_not_ready(&in), (unsigned)SC_NOT_READY_CONNECTIONS);
  in.lowest_free_fd = -2; /* unknown: not held against the server */
  ASSERT_EQ(sc_admin_not_ready(&in), 0u);
  in.lowest_free_fd = 50;
  in.client_below = 0; /* no fd plan */
  ASSERT_EQ(sc_admin_not_ready(&in), 0u);
  sc_admin_ready_in_t all = {1, 3, 3, 4, 4, -1, 10};
  ASSERT_EQ(sc_admin_not_ready(&all), 15u);
  ASSERT_STREQ(sc_admin_not_ready_name(SC_NOT_READY_CONNECTIONS), "connections_full");

  /* The JSON and its two printed forms, from a real registry. */
  static sc_app_t app;
  memset(&app, 0, sizeof app);
  app.registry = sc_registry_create(NULL);
  app.cfg.max_channels = 1;
  int ready = -1;
  json_t *r = sc_admin_ready_json(&app, &ready);
  ASSERT_TRUE(ready == 1 && json_is_true(json_object_get(r, "ready")));
  ASSERT_EQ(json_array_size(json_object_get(r, "reasons")), 0);
  json_decref(r);
  sc_registry_channel(app.registry, "200", "300");
  sc_drain_begin(&app.drain, "SIGTERM", 600, 5, 1700000000000);
  r = sc_admin_ready_json(&app, &ready);
  ASSERT_TRUE(ready == 0 && json_is_false(json_object_get(r, "ready")));
  ASSERT_STREQ(json_string_value(json_object_get(r, "status")), "draining");
  json_t *h = sc_admin_health_json(&app);
  char *out = NULL;
  size_t out_len = 0;
  FILE *mem = open_memstream(&out, &out_len);
  sc_admin_print_ready(mem, r);
  sc_admin_print_summary(mem, h);
  fclose(mem);
  ASSERT_TRUE(strstr(out, "not ready (draining): draining, channels_full\n") != NULL);
  ASSERT_TRUE(strstr(out, "NOT READY: draining, channels_full (GET /ready answers 503)\n") != NULL);
  free(out);
  json_decref(h);
  json_decref(r);
  sc_registry_destroy(app.registry);
}

/* litecord-voice status prints one line per DAVE channel of the gateway's
 * status, with the open transition when there is one. */
static void test_dave_status_lines(void) {
  json_t *st = json_loads(
      "{\"frontends\": {\"discord voice gateway\": {\"sessions\": 3, \"dave\": {\"channels\": "
      "{\"77\": {\"version\": 1, \"epoch\": 2, \"members\": 3, \"group_members\": 2, "
      "\"pending_key_packages\": 1, \"proposals\": 1, \"transition\": {\"id\": 5, "
      "\"version\": 1, \"age_ms\": 120}}}}}}}",
      0, NULL);
  ASSERT_TRUE(st != NULL);
  char *out = NULL;
  size_t out_len = 0;
  FILE *mem = open_memstream(&out, &out_len);
  sc_admin_print_summary(mem, st);
  fclose(mem);
  ASSERT_TRUE(strstr(out,
                     "  DAVE channel 77: protocol 1, epoch 2, 3 member(s), 2 in the group, 1 key "
                     "package(s) pending, transition 5 open for 120 ms\n") != NULL);
  free(out);
  json_decref(st);
}

static void test_parse_url(void) {
  sc_admin_url_t u;
  ASSERT_EQ(sc_admin_parse_url("http://127.0.0.1:7703", &u), 0);
  ASSERT_EQ(u.tls, 0);
  ASSERT_STREQ(u.host, "127.0.0.1");
  ASSERT_STREQ(u.port, "7703");
  ASSERT_STREQ(u.path, "");
  ASSERT_EQ(sc_admin_parse_url("https://voice.example.org/health", &u), 0);
  ASSERT_EQ(u.tls, 1);
  ASSERT_STREQ(u.host, "voice.example.org");
  ASSERT_STREQ(u.port, "443");
  ASSERT_STREQ(u.path, "/health");
  ASSERT_EQ(sc_admin_parse_url("http://[::1]:8080/state", &u), 0);
  ASSERT_STREQ(u.host, "::1");
  ASSERT_STREQ(u.port, "8080");
  ASSERT_EQ(sc_admin_parse_url("http://[::1]/", &u), 0);
  ASSERT_STREQ(u.port, "80");
  ASSERT_EQ(sc_admin_parse_url("ftp://x:1", &u), -EINVAL);
  ASSERT_EQ(sc_admin_parse_url("http://", &u), -EINVAL);
  ASSERT_EQ(sc_admin_parse_url("http://h:99999", &u), -EINVAL);
  ASSERT_EQ(sc_admin_parse_url("http://h:0", &u), -EINVAL);
  ASSERT_EQ(sc_admin_parse_url("http://a:1:2", &u), -EINVAL);
}

static int parse(const char *text, int *status, char *body, size_t cap) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", text);
  const char *b;
  size_t n;
  int rc = sc_admin_parse_response(buf, strlen(buf), status, &b, &n);
  if (rc == 0) snprintf(body, cap, "%.*s", (int)n, b);
  return rc;
}

static void test_parse_response(void) {
  int status;
  char body[128];
  ASSERT_EQ(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}trailing", &status, body, sizeof body),
      0);
  ASSERT_EQ(status, 200);
  ASSERT_STREQ(body, "{}");
  ASSERT_EQ(
      parse("HTTP/1.0 401 Unauthorized\r\ncontent-type: x\r\n\r\nno", &status, body, sizeof body),
      0);
  ASSERT_EQ(status, 401);
  ASSERT_STREQ(body, "no"); /* read to close */
  ASSERT_EQ(
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            &status, body, sizeof body),
      0);
  ASSERT_STREQ(body, "abcde");
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc", &status, body,
                  sizeof body),
            -EBADMSG);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}", &status, body, sizeof body),
            -EBADMSG);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\n", &status, body, sizeof body), -EBADMSG);
  ASSERT_EQ(parse("SSH-2.0-x\r\n\r\n", &status, body, sizeof body), -EBADMSG);
  ASSERT_EQ(parse("HTTP/1.1 999 What\r\n\r\n", &status, body, sizeof body), -EBADMSG);
}

static void test_loopback(void) {
  ASSERT_TRUE(sc_admin_is_loopback("127.0.0.1"));
  ASSERT_TRUE(sc_admin_is_loopback("127.1.2.3"));
  ASSERT_TRUE(sc_admin_is_loopback("::1"));
  ASSERT_TRUE(sc_admin_is_loopback("localhost"));
  ASSERT_TRUE(!sc_admin_is_loopback("0.0.0.0"));
  ASSERT_TRUE(!sc_admin_is_loopback("10.0.0.1"));
  ASSERT_TRUE(!sc_admin_is_loopback("128.0.0.1"));
  ASSERT_TRUE(!sc_admin_is_loopback("::"));
  sc_app_t app;
  memset(&app, 0, sizeof app);
  char url[300];
  snprintf(app.cfg.admin_listen.host, sizeof app.cfg.admin_listen.host, "10.1.2.3");
  app.cfg.admin_listen.port = 7703;
  sc_admin_url(&app, url, sizeof url);
  ASSERT_STREQ(url, "https://10.1.2.3:7703");
  app.cfg.no_tls = 1;
  sc_admin_url(&app, url, sizeof url);
  ASSERT_STREQ(url, "http://10.1.2.3:7703");
  snprintf(app.cfg.admin_listen.host, sizeof app.cfg.admin_listen.host, "::1");
  sc_admin_url(&app, url, sizeof url);
  ASSERT_STREQ(url, "http://[::1]:7703");
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_state_json);
  RUN_TEST(test_drain_view);
  RUN_TEST(test_not_ready);
  RUN_TEST(test_dave_status_lines);
  RUN_TEST(test_parse_url);
  RUN_TEST(test_parse_response);
  RUN_TEST(test_loopback);
  SC_TEST_DONE();
}
