/*
 * ion/ion_msg (the protoo envelope reader) and ion/ion_conn (what goes
 * out, close 4000, size and rate limits) without a socket: a capture
 * stands in for libwebsockets.
 */
#include <jansson.h>
#include <string.h>

#include "ion_conn.h"
#include "ion_msg.h"
#include "sc_test.h"

static int parse(const char *text, ion_msg_t *m) {
  return ion_msg_parse(text, strlen(text), m);
}

static void test_request(void) {
  ion_msg_t m;
  ASSERT_EQ(parse("{\"request\":true,\"id\":124495,\"method\":\"join\",\"data\":{\"rid\":\"100\","
                  "\"uid\":\"7\",\"info\":{\"name\":\"a\",\"token\":\"tok\"}}}",
                  &m),
            0);
  ASSERT_EQ(m.kind, ION_MSG_REQUEST);
  ASSERT_EQ(m.id, 124495);
  ASSERT_EQ(m.method, ION_M_JOIN);
  ASSERT_STREQ(m.rid, "100");
  ASSERT_STREQ(m.uid, "7");
  ASSERT_STREQ(m.token, "tok");
  ASSERT_TRUE(m.bad == NULL);
  ion_msg_free(&m);
  /* An integral real is a JavaScript number like any other. */
  ASSERT_EQ(parse("{\"request\":true,\"id\":3.0,\"method\":\"subscribe\",\"data\":{\"mid\":\"1-2\","
                  "\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}}",
                  &m),
            0);
  ASSERT_EQ(m.id, 3);
  ASSERT_EQ(m.method, ION_M_SUBSCRIBE);
  ASSERT_STREQ(m.jsep_type, "offer");
  ASSERT_EQ(m.sdp_len, 5);
  ion_msg_free(&m);
}

static void test_bad_data_is_400(void) {
  ion_msg_t m;
  ASSERT_EQ(parse("{\"request\":true,\"id\":1,\"method\":\"join\",\"data\":{\"rid\":5}}", &m), 0);
  ASSERT_TRUE(m.bad != NULL);
  ion_msg_free(&m);
  ASSERT_EQ(
      parse("{\"request\":true,\"id\":1,\"method\":\"publish\",\"data\":{\"jsep\":\"x\"}}", &m), 0);
  ASSERT_TRUE(m.bad != NULL);
  ion_msg_free(&m);
  ASSERT_EQ(parse("{\"request\":true,\"id\":1,\"method\":\"leave\",\"data\":[]}", &m), 0);
  ASSERT_TRUE(m.bad != NULL);
  ion_msg_free(&m);
  ASSERT_EQ(parse("{\"request\":true,\"id\":1,\"method\":\"fly\"}", &m), 0);
  ASSERT_EQ(m.method, ION_M_UNKNOWN);
  ASSERT_STREQ(m.method_name, "fly");
  ion_msg_free(&m);
}

static void test_envelope_errors(void) {
  ion_msg_t m;
  ASSERT_EQ(parse("{\"request\":true,", &m), ION_MSG_ERR_JSON);
  ASSERT_EQ(parse("[1]", &m), ION_MSG_ERR_OBJECT);
  ASSERT_EQ(parse("{\"id\":1,\"method\":\"join\"}", &m), ION_MSG_ERR_KIND);
  ASSERT_EQ(parse("{\"request\":true,\"id\":\"1\",\"method\":\"join\"}", &m), ION_MSG_ERR_ID);
  ASSERT_EQ(parse("{\"request\":true,\"id\":-1,\"method\":\"join\"}", &m), ION_MSG_ERR_ID);
  ASSERT_EQ(parse("{\"request\":true,\"id\":1.5,\"method\":\"join\"}", &m), ION_MSG_ERR_ID);
  ASSERT_EQ(parse("{\"request\":true,\"id\":9007199254740992,\"method\":\"join\"}", &m),
            ION_MSG_ERR_ID);
  ASSERT_EQ(parse("{\"request\":true,\"id\":1,\"method\":\"\"}", &m), ION_MSG_ERR_METHOD);
  ASSERT_EQ(parse("{\"notification\":true}", &m), ION_MSG_ERR_METHOD);
  ASSERT_EQ(parse("{\"response\":true,\"id\":1,\"ok\":true}", &m), 0);
  ASSERT_EQ(m.kind, ION_MSG_RESPONSE);
  ion_msg_free(&m);
}

/* ---- ion_conn ---------------------------------------------------------- */

typedef struct {
  char last[512];
  int sent, close_code;
} cap_t;

static int cap_send(void *ctx, const char *text, size_t len) {
  cap_t *c = ctx;
  snprintf(c->last, sizeof c->last, "%.*s", (int)len, text);
  c->sent++;
  return 0;
}

static void cap_close(void *ctx, int code, const char *reason) {
  (void)reason;
  ((cap_t *)ctx)->close_code = code;
}

static const ion_io_t cap_io = {cap_send, cap_close};

static void test_conn_out(void) {
  cap_t cap = {0};
  ion_counts_t counts = {0};
  ion_conn_t c;
  ion_conn_init(&c, &cap_io, &cap, &counts);
  ion_conn_reply(&c, 42, json_pack("{s:s}", "mid", "1-2"));
  json_t *j = json_loads(cap.last, 0, NULL);
  ASSERT_TRUE(json_is_true(json_object_get(j, "response")) &&
              json_is_true(json_object_get(j, "ok")));
  ASSERT_EQ(json_integer_value(json_object_get(j, "id")), 42);
  json_decref(j);
  ion_conn_reply_error(&c, 43, 404, "no such stream");
  j = json_loads(cap.last, 0, NULL);
  ASSERT_TRUE(json_is_false(json_object_get(j, "ok")));
  ASSERT_EQ(json_integer_value(json_object_get(j, "errorCode")), 404);
  ASSERT_STREQ(json_string_value(json_object_get(j, "errorReason")), "no such stream");
  json_decref(j);
  ion_conn_notify(&c, "peer-join", NULL);
  ASSERT_TRUE(strstr(cap.last, "\"notification\":true") && strstr(cap.last, "peer-join"));
  ion_conn_close(&c, ION_CLOSE_FOR_GOOD, "bye");
  ASSERT_EQ(cap.close_code, 4000);
  int before = cap.sent;
  ion_conn_notify(&c, "peer-leave", NULL); /* nothing after a close */
  ASSERT_EQ(cap.sent, before);
}

static void test_conn_limits(void) {
  cap_t cap = {0};
  ion_counts_t counts = {0};
  ion_limits_t lim = {.max_message = 100, .rate_limit = 3, .rate_window_ms = 1000};
  ion_conn_t c;
  ion_conn_init(&c, &cap_io, &cap, &counts);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 100, 10), 0);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 20), 0);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 30), 0);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 1011), 0); /* a new window */
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 1012), 0);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 1013), 0);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 10, 1014), -1);
  ASSERT_EQ(counts.rate_limited, 1);
  ASSERT_EQ(cap.close_code, 4000);
  ion_conn_init(&c, &cap_io, &cap, &counts);
  ASSERT_EQ(ion_conn_admit(&c, &lim, 101, 0), -1);
  ASSERT_EQ(counts.too_large, 1);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_request);
  RUN_TEST(test_bad_data_is_400);
  RUN_TEST(test_envelope_errors);
  RUN_TEST(test_conn_out);
  RUN_TEST(test_conn_limits);
  SC_TEST_DONE();
}
