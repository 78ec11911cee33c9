/*
 * Voice sessions that outlive their sockets (dv_gw_harness.h): v8 buffered
 * resume (seq numbering, seq_ack trimming, re-delivery in order, no new
 * Ready, 4006 when impossible), resume of older clients, the grace period
 * after which the others see the member leave, and takeovers.
 */
#include "dv_gw_harness.h"
#include "dv_session.h"

static const char *resume_fmt =
    "{\"op\":7,\"d\":{\"server_id\":\"%s\",\"session_id\":\"%s\",\"token\":\"%s\","
    "\"seq_ack\":%lld}}";

static void resume(client_t *c, const sc_vstate_t *vs, long long seq_ack) {
  send_json(c, resume_fmt, vs->server_id, vs->session_id, vs->token, seq_ack);
}

/* The wire seq of the last numbered message c got. */
static long long last_seq(const client_t *c) {
  for (int i = c->n - 1; i >= 0; i--)
    if (json_object_get(c->msgs[i], "seq")) return seq_of(c->msgs[i]);
  return -1;
}

/* Every numbered message c got, in order, counts 1, 2, 3, ... */
static void expect_consecutive(const client_t *c) {
  long long want = 1;
  for (int i = 0; i < c->n; i++) {
    json_t *seq = json_object_get(c->msgs[i], "seq");
    if (!seq) continue;
    if (json_integer_value(seq) != want)
      SC_FAIL("message %d has seq %lld, want %lld", i, (long long)json_integer_value(seq), want);
    want++;
  }
  sc_test_checks++;
}

/* B's socket dies; what happens in the room meanwhile reaches B after its
 * resume on a new socket: Hello, Resumed, then the missed messages in
 * order with their original numbers; no Ready. A never sees B leave. */
static void test_resume_v8(void) {
  sc_vstate_t *va = state("70", "200"), *vb = state("71", "200");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  skip_all(&a);
  dv_session_t *sb = vb->conn;
  long long seen = last_seq(&b);
  ASSERT_TRUE(seen >= 2); /* Ready, op 11, op 5 */
  client_drop(&b);
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0,\"ssrc\":%u}}", va->ssrc);
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":0,\"delay\":0,\"ssrc\":%u}}", va->ssrc);
  expect_silence(&a); /* no op 13 for B */
  ASSERT_TRUE(vb->conn == sb);
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b2.close_code, 0);
  expect_op(&b2, 8); /* Hello on every socket */
  json_t *resumed = expect_msg(&b2, 9);
  ASSERT_TRUE(json_object_get(resumed, "seq") == NULL);
  ASSERT_TRUE(json_is_null(json_object_get(resumed, "d")));
  json_t *m1 = expect_msg(&b2, 5), *m2 = expect_msg(&b2, 5);
  ASSERT_EQ(seq_of(m1), seen + 1);
  ASSERT_EQ(seq_of(m2), seen + 2);
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m1, "d"), "speaking")), 1);
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(m2, "d"), "speaking")), 0);
  expect_silence(&b2); /* no Ready, no op 4 */
  /* Same session, same SSRC; new messages continue the numbering. */
  ASSERT_TRUE(vb->conn == sb && sb->conn == &b2.conn);
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0}}");
  ASSERT_EQ(seq_of(expect_msg(&b2, 5)), seen + 3);
  /* And B's own messages still reach A. */
  send_json(&b2, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0}}");
  json_t *sp = expect_op(&a, 5);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), vb->ssrc);
  expect_consecutive(&a);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* seq_ack in heartbeats trims what is kept; a resume that needs trimmed
 * (or never sent) messages is refused with 4006 and ends the session. */
static void test_seq_ack_and_stale_resume(void) {
  sc_vstate_t *va = state("72", "201"), *vb = state("73", "201");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  dv_session_t *sb = vb->conn;
  long long seen = last_seq(&b);
  send_json(&b, "{\"op\":3,\"d\":{\"t\":1,\"seq_ack\":%lld}}", seen);
  ASSERT_EQ(dv_resume_count(&sb->out), 0);
  ASSERT_TRUE(sb->out.head == NULL); /* acknowledged: nothing held */
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0}}");
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":0,\"delay\":0}}");
  ASSERT_EQ(dv_resume_count(&sb->out), 2);
  send_json(&b, "{\"op\":3,\"d\":{\"t\":2,\"seq_ack\":%lld}}", seen + 1);
  ASSERT_EQ(dv_resume_count(&sb->out), 1);
  /* Resuming from before the ack: the message is gone. */
  client_drop(&b);
  skip_all(&a);
  client_open(&b2, 8);
  resume(&b2, vb, seen - 1);
  ASSERT_EQ(b2.close_code, DV_CLOSE_SESSION_INVALID);
  ASSERT_EQ(dv_gw_session_count(gw), 1); /* only A's */
  ASSERT_TRUE(vb->ops == NULL);
  expect_op(&a, 13); /* B left */
  client_free(&b2);
  /* Now B can only identify anew: a new Ready. */
  join(&b2, 8, vb);
  ASSERT_EQ(b2.close_code, 0);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* A bad token or server id is refused (4006) without harming the session,
 * which the right credentials still resume. */
static void test_resume_credentials(void) {
  sc_vstate_t *vb = state("74", "202");
  client_t b, x;
  join(&b, 8, vb);
  long long seen = last_seq(&b);
  client_drop(&b);
  client_open(&x, 8);
  send_json(&x, resume_fmt, vb->server_id, vb->session_id, "wrong-token", seen);
  ASSERT_EQ(x.close_code, DV_CLOSE_SESSION_INVALID);
  client_free(&x);
  client_open(&x, 8);
  send_json(&x, resume_fmt, "999", vb->session_id, vb->token, seen);
  ASSERT_EQ(x.close_code, DV_CLOSE_SESSION_INVALID);
  client_free(&x);
  ASSERT_EQ(dv_gw_session_count(gw), 1);
  client_open(&x, 8);
  resume(&x, vb, seen);
  ASSERT_EQ(x.close_code, 0);
  expect_op(&x, 8);
  expect_op(&x, 9);
  expect_silence(&x);
  /* Resume on a socket that is already in a session: 4005. */
  resume(&x, vb, seen);
  ASSERT_EQ(x.close_code, DV_CLOSE_ALREADY_AUTHENTICATED);
  teardown((client_t *[]){&b, &x, NULL}, (sc_vstate_t *[]){vb, NULL});
}

/* More missed messages than --gw-resume-buffer: the oldest are gone, so
 * the resume fails (4006) rather than skip any. */
static void test_buffer_overflow(void) {
  dv_limits_t saved = *dv_gw_limits(gw);
  dv_gw_limits(gw)->resume_buffer = 16;
  sc_vstate_t *va = state("75", "203"), *vb = state("76", "203");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  long long seen = last_seq(&b);
  send_json(&b, "{\"op\":3,\"d\":{\"t\":1,\"seq_ack\":%lld}}", seen);
  client_drop(&b);
  for (int i = 0; i < 17; i++) send_json(&a, "{\"op\":5,\"d\":{\"speaking\":%d}}", i % 2);
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b2.close_code, DV_CLOSE_SESSION_INVALID);
  ASSERT_TRUE(vb->ops == NULL);
  client_free(&b2);
  /* 16 missed: exactly what fits, all re-sent. */
  client_free(&b);
  join(&b, 8, vb);
  seen = last_seq(&b);
  send_json(&b, "{\"op\":3,\"d\":{\"t\":1,\"seq_ack\":%lld}}", seen);
  client_drop(&b);
  for (int i = 0; i < 16; i++) send_json(&a, "{\"op\":5,\"d\":{\"speaking\":%d}}", i % 2);
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b2.close_code, 0);
  expect_op(&b2, 8);
  expect_op(&b2, 9);
  for (int i = 0; i < 16; i++) ASSERT_EQ(seq_of(expect_msg(&b2, 5)), seen + 1 + i);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  *dv_gw_limits(gw) = saved;
}

/* A v8 client that never acknowledges: past lim.resume_bytes of kept text
 * its socket is closed with 4015 (counted), the kept text stays within the
 * budget, and a resume from what it saw works and releases it. */
static void test_resume_byte_budget(void) {
  dv_limits_t saved = *dv_gw_limits(gw);
  dv_gw_limits(gw)->resume_bytes = 2000;
  sc_vstate_t *va = state("79", "205"), *vb = state("80", "205");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  dv_session_t *sb = vb->conn;
  uint64_t before = gw->sessions.stats.resume_over_budget;
  for (int i = 0; i < 60 && !b.close_code; i++)
    send_json(&a, "{\"op\":5,\"d\":{\"speaking\":%d}}", i % 2);
  ASSERT_EQ(b.close_code, DV_CLOSE_SERVER_CRASH);
  ASSERT_EQ(gw->sessions.stats.resume_over_budget, before + 1);
  ASSERT_TRUE(dv_resume_bytes(&sb->out) <= 2000);
  ASSERT_TRUE(dv_resume_bytes(&sb->out) > 1000);
  long long seen = last_seq(&b);
  client_drop(&b);
  ASSERT_TRUE(vb->conn == sb); /* waiting for the resume, not ended */
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b2.close_code, 0);
  expect_op(&b2, 8);
  expect_op(&b2, 9);
  expect_silence(&b2);
  ASSERT_EQ(dv_resume_bytes(&sb->out), 0); /* the resume acknowledged what it saw */
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  *dv_gw_limits(gw) = saved;
}

/* An older client (no seq, no seq_ack) gets what was said while it had no
 * socket. */
static void test_resume_v4(void) {
  sc_vstate_t *va = state("77", "204"), *vb = state("78", "204");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 4, vb);
  ASSERT_EQ(last_seq(&b), -1); /* v4 messages carry no seq */
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":1}}");
  client_drop(&b);
  send_json(&a, "{\"op\":5,\"d\":{\"speaking\":0}}");
  client_open(&b2, 4);
  send_json(&b2, "{\"op\":7,\"d\":{\"server_id\":\"%s\",\"session_id\":\"%s\",\"token\":\"%s\"}}",
            vb->server_id, vb->session_id, vb->token);
  expect_op(&b2, 8);
  expect_op(&b2, 9);
  json_t *sp = expect_op(&b2, 5);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "speaking")), 0); /* only the missed one */
  expect_silence(&b2);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* Resume while the old socket still looks open (the client gave up on it
 * first): the new socket wins, the old one is closed with 4006. */
static void test_resume_over_live_socket(void) {
  sc_vstate_t *vb = state("79", "205");
  client_t b, b2;
  join(&b, 8, vb);
  long long seen = last_seq(&b);
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b.close_code, DV_CLOSE_SESSION_INVALID);
  ASSERT_EQ(b2.close_code, 0);
  dv_session_t *s = vb->conn;
  ASSERT_TRUE(s->conn == &b2.conn);
  client_drop(&b); /* the old socket's close leaves the session alone */
  ASSERT_TRUE(s->conn == &b2.conn);
  teardown((client_t *[]){&b, &b2, NULL}, (sc_vstate_t *[]){vb, NULL});
}

/* No resume within --gw-resume-grace-ms: the member leaves (op 13 to the
 * others); a later resume gets 4006, an Identify works. */
static void test_grace_period(void) {
  dv_limits_t saved = *dv_gw_limits(gw);
  dv_gw_limits(gw)->resume_grace_ms = 5000;
  dv_gw_limits(gw)->hb_timeout_ms = 100000;
  sc_vstate_t *va = state("80", "206"), *vb = state("81", "206");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  skip_all(&a);
  long long seen = last_seq(&b);
  client_drop(&b);
  advance(4999);
  expect_silence(&a);
  ASSERT_EQ(dv_gw_session_count(gw), 2);
  advance(1);
  json_t *dc = expect_op(&a, 13);
  ASSERT_STREQ(json_string_value(json_object_get(dc, "user_id")), "81");
  ASSERT_EQ(dv_gw_session_count(gw), 1);
  ASSERT_TRUE(vb->ops == NULL);
  ASSERT_TRUE(sc_registry_find_session(app.registry, vb->session_id) == vb); /* state stays */
  client_open(&b2, 8);
  resume(&b2, vb, seen);
  ASSERT_EQ(b2.close_code, DV_CLOSE_SESSION_INVALID);
  client_free(&b2);
  join(&b2, 8, vb);
  json_t *cc = expect_op(&a, 11); /* back, as a new member */
  ASSERT_STREQ(json_string_value(json_array_get(json_object_get(cc, "user_ids"), 0)), "81");
  /* With a grace period of 0 a lost socket ends its session at once. */
  dv_gw_limits(gw)->resume_grace_ms = 0;
  skip_all(&a);
  client_drop(&b2);
  expect_op(&a, 13);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  *dv_gw_limits(gw) = saved;
}

/* A detached session taken over by a fresh Identify: the others see the
 * member leave and come back (new SSRC mapping), the client gets Ready. */
static void test_identify_over_detached_session(void) {
  sc_vstate_t *va = state("82", "207"), *vb = state("83", "207");
  client_t a, b, b2;
  join(&a, 8, va);
  join(&b, 8, vb);
  skip_all(&a);
  client_drop(&b);
  client_open(&b2, 8);
  identify(&b2, vb);
  expect_op(&b2, 8);
  expect_op(&b2, 2);
  ASSERT_TRUE(vb->conn != NULL && ((dv_session_t *)vb->conn)->conn == &b2.conn);
  expect_op(&a, 13);
  expect_op(&a, 11);
  expect_op(&a, 5);
  ASSERT_EQ(dv_gw_session_count(gw), 2);
  teardown((client_t *[]){&a, &b, &b2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* Litecord ends a detached session's state: it is freed, nothing is sent. */
static void test_end_while_detached(void) {
  sc_vstate_t *vb = state("84", "208");
  client_t b;
  join(&b, 8, vb);
  client_drop(&b);
  sc_registry_end_state(app.registry, vb, SC_END_LEFT);
  ASSERT_EQ(dv_gw_session_count(gw), 0);
  advance(120000); /* its grace timer was cancelled */
  client_free(&b);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  harness_init();
  RUN_TEST(test_resume_v8);
  RUN_TEST(test_seq_ack_and_stale_resume);
  RUN_TEST(test_resume_credentials);
  RUN_TEST(test_buffer_overflow);
  RUN_TEST(test_resume_v4);
  RUN_TEST(test_resume_over_live_socket);
  RUN_TEST(test_grace_period);
  RUN_TEST(test_identify_over_detached_session);
  RUN_TEST(test_end_while_detached);
  RUN_TEST(test_resume_byte_budget);
  harness_fini();
  SC_TEST_DONE();
}
