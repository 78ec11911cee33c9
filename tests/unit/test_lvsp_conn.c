/*
 * test_lvsp_conn: the bottom of the LVSP stack (lvsp/lvsp_conn) and what
 * moved there: framing (numbering, replay store), fail/close, and bursts
 * produced as the transport drains: the snapshot after IDENTIFY (with
 * channels and states ending meanwhile) and the RESUME replay (holding the
 * peer's input until READY). Also the link's binary search (lvsp_link_next)
 * and the registry's limits answered with an error INFO on a link that
 * stays up.
 */
#include "lvsp_conn.h"
#include "lvsp_fx.h"
#include "lvsp_info.h"

/* Creates a voice state of user in channel ch (guild 3) on connection i. */
static void create(fx_t *f, int i, const char *user, const char *ch) {
  char msg[160];
  snprintf(msg, sizeof msg,
           "{\"op\":6,\"d\":{\"type\":4,\"data\":{\"user_id\":\"%s\",\"channel_id\":\"%s\","
           "\"guild_id\":\"3\"}}}",
           user, ch);
  ASSERT_EQ(say_on(f, i, msg), 0);
}

static int count_op(const capture_t *cap, int op) {
  int n = 0;
  for (int i = 0; i < cap->n; i++)
    n += json_integer_value(json_object_get(cap->msgs[i], "op")) == op;
  return n;
}

static void test_frames(void) {
  fx_t *f = fx_new();
  lvsp_conn_t *c = &f->c[0].conn;
  size_t held = f->link.count;
  ASSERT_EQ(lvsp_conn_send_frame(c, LVSP_OP_INFO, json_pack("{s:i}", "type", 9), 1), 0);
  ASSERT_EQ(lvsp_conn_send_frame(c, LVSP_OP_HEARTBEAT_ACK, json_object(), 0), 0);
  ASSERT_EQ(f->link.count, held + 1); /* only the replayable one is kept */
  ASSERT_EQ(seq_of(f->c[0].cap.msgs[1]) + 1, seq_of(f->c[0].cap.msgs[2]));
  ASSERT_EQ(lvsp_conn_send_raw(c, "{\"op\":6,\"d\":{},\"s\":1}", 21), 0);
  ASSERT_EQ(f->c[0].cap.n, 4);
  /* A NULL body (allocation failed) closes: Litecord would wait forever. */
  ASSERT_EQ(lvsp_conn_send_frame(c, LVSP_OP_INFO, NULL, 1), -ENOMEM);
  ASSERT_EQ(f->c[0].cap.close_code, 4000);
  ASSERT_EQ(lvsp_conn_send_frame(c, LVSP_OP_INFO, json_object(), 1), -EPIPE);
  ASSERT_EQ(lvsp_conn_send_raw(c, "x", 1), -EPIPE);
  ASSERT_EQ(f->c[0].cap.n_closes, 1);
  fx_free(f);
}

static void test_fail(void) {
  fx_t *f = fx_ready();
  ASSERT_EQ(lvsp_conn_bad_field(&f->c[0].conn, "user_id"), -EPROTO);
  ASSERT_STREQ(f->c[0].cap.reason, "invalid or missing field: user_id");
  ASSERT_TRUE(f->link.active == NULL); /* the live connection is gone */
  ASSERT_TRUE(f->link.down_since_ms > 0);
  ASSERT_EQ(lvsp_conn_fail(&f->c[0].conn, 4001, "again", -EACCES), -EACCES);
  ASSERT_EQ(f->c[0].cap.n_closes, 1); /* only the first close goes out */
  fx_free(f);
}

/* Channels 8, 9, 10 with 2 states each, created on connection 0. */
static fx_t *populated(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  const char *chs[] = {"8", "9", "10"};
  char user[8];
  for (int i = 0; i < 6; i++) {
    snprintf(user, sizeof user, "%d", 100 + i);
    create(f, 0, user, chs[i % 3]);
  }
  return f;
}

static void test_snapshot_streams(void) {
  fx_t *f = populated();
  capture_t *cap = &f->c[1].cap;
  fx_open_io(f, 1, &cap_io_slow);
  cap->queued = LVSP_BURST_HIGH_WATER; /* the transport is full */
  identify_on(f, 1, LVSP_DIALECT_LATER);
  ASSERT_EQ(cap->n, 2); /* HELLO, READY: the snapshot waits */
  ASSERT_TRUE(f->c[1].conn.burst.fn != NULL);
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), 0); /* still full: nothing */
  ASSERT_EQ(cap->n, 2);
  /* Each frame fills the transport: one per drain. */
  cap->queued = LVSP_BURST_HIGH_WATER - 1;
  cap->grow = 1;
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), 0);
  ASSERT_EQ(cap->n, 3);
  /* Live requests are answered between snapshot frames. */
  ASSERT_EQ(say_on(f, 1, "{\"op\":4,\"d\":{\"s\":5}}"), 0);
  ASSERT_EQ(cap->n, 4);
  /* Drained: the rest at once, numbered in the order sent. */
  cap->queued = 0;
  cap->grow = 0;
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), 0);
  ASSERT_TRUE(f->c[1].conn.burst.fn == NULL);
  ASSERT_EQ(count_op(cap, LVSP_OP_INFO), 3 + 6);
  for (int i = 1; i < cap->n; i++) ASSERT_TRUE(seq_of(cap->msgs[i]) > seq_of(cap->msgs[i - 1]));
  ASSERT_EQ(cap->n_holds, 0); /* a snapshot does not hold the input */
  fx_free(f);
}

/* Channels and states that end while the snapshot streams are skipped;
 * those created meanwhile are told by their own reply. */
static void test_snapshot_meanwhile(void) {
  fx_t *f = populated();
  capture_t *cap = &f->c[1].cap;
  fx_open_io(f, 1, &cap_io_slow);
  cap->queued = LVSP_BURST_HIGH_WATER;
  identify_on(f, 1, LVSP_DIALECT_LATER);
  ASSERT_EQ(say_on(f, 1, "{\"op\":6,\"d\":{\"type\":3,\"data\":{\"channel_id\":\"8\"}}}"), 0);
  ASSERT_EQ(
      say_on(f, 1,
             "{\"op\":6,\"d\":{\"type\":6,\"data\":{\"user_id\":\"101\",\"guild_id\":\"3\"}}}"),
      0);
  create(f, 1, "200", "11"); /* answered now (VST_CREATE reply) */
  ASSERT_EQ(cap->n, 3);
  cap->queued = 0;
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), 0);
  /* Left: channels 9, 10 (+ 11, not listed at the start); states 102..105
   * minus 101 (left) and those of channel 8 (100, 103). */
  int channels = 0, states = 0;
  for (int i = 3; i < cap->n; i++) {
    json_t *d = msg_d(cap->msgs[i], LVSP_OP_INFO);
    json_int_t t = json_integer_value(json_object_get(d, "type"));
    channels += t == LVSP_INFO_CHANNEL_ASSIGN;
    states += t == LVSP_INFO_VST_CREATE;
    const char *sid = str_of(json_object_get(d, "data"), "session_id");
    if (sid) ASSERT_TRUE(sc_registry_find_session(f->app.registry, sid) != NULL);
  }
  ASSERT_EQ(channels, 2);
  ASSERT_EQ(states, 3);
  fx_free(f);
}

/* The connection going away mid-burst frees the burst (ASan: no leak) and
 * a close stops it. */
static void test_burst_gone(void) {
  fx_t *f = populated();
  fx_open_io(f, 1, &cap_io_slow);
  f->c[1].cap.queued = LVSP_BURST_HIGH_WATER;
  identify_on(f, 1, LVSP_DIALECT_SEED);
  lvsp_conn_close(&f->c[1].conn, 4000, "bye");
  f->c[1].cap.queued = 0;
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), -EPIPE);
  ASSERT_EQ(f->c[1].cap.n, 2);
  ASSERT_TRUE(f->c[1].conn.burst.fn == NULL);
  fx_open_io(f, 2, &cap_io_slow);
  f->c[2].cap.queued = LVSP_BURST_HIGH_WATER;
  identify_on(f, 2, LVSP_DIALECT_SEED);
  lvsp_conn_gone(&f->c[2].conn);
  f->c[2].open = 0;
  ASSERT_TRUE(f->c[2].conn.burst.fn == NULL);
  ASSERT_EQ(lvsp_conn_drained(&f->c[2].conn), 0);
  fx_free(f);
  /* A close during a held replay reads again (the peer's close answer). */
  f = populated();
  fx_open_io(f, 1, &cap_io_slow);
  f->c[1].cap.queued = LVSP_BURST_HIGH_WATER;
  ASSERT_EQ(say_on(f, 1, "{\"op\":2,\"d\":{\"token\":\"" SECRET "\",\"seq\":0}}"), 0);
  ASSERT_EQ(f->c[1].cap.held, 1);
  lvsp_conn_close(&f->c[1].conn, 4000, "bye");
  ASSERT_EQ(f->c[1].cap.held, 0);
  fx_free(f);
}

/* A RESUME replay streams too, holding the peer's input until READY. */
static void test_replay_holds_input(void) {
  fx_t *f = populated();
  long long last_s = seq_of(last(f));
  lvsp_conn_gone(&f->c[0].conn);
  f->c[0].open = 0;
  capture_t *cap = &f->c[1].cap;
  fx_open_io(f, 1, &cap_io_slow);
  cap->queued = LVSP_BURST_HIGH_WATER;
  ASSERT_EQ(say_on(f, 1, "{\"op\":2,\"d\":{\"token\":\"" SECRET "\",\"seq\":0}}"), 0);
  ASSERT_EQ(cap->n, 1); /* HELLO only so far */
  ASSERT_EQ(cap->held, 1);
  ASSERT_TRUE(!f->c[1].conn.ready);
  cap->queued = 0;
  ASSERT_EQ(lvsp_conn_drained(&f->c[1].conn), 0);
  ASSERT_EQ(cap->held, 0);
  ASSERT_EQ(cap->n_holds, 2);
  ASSERT_EQ(count_op(cap, LVSP_OP_INFO), 6);
  ASSERT_EQ(seq_of(cap->msgs[6]), last_s);
  msg_d(last_on(f, 1), LVSP_OP_READY);
  ASSERT_TRUE(f->c[1].conn.ready);
  fx_free(f);
}

static void test_link_next(void) {
  lvsp_link_t l;
  ASSERT_EQ(lvsp_link_init(&l, 4), 0);
  ASSERT_TRUE(lvsp_link_next(&l, 0) == NULL);
  for (uint64_t s = 2; s <= 12; s += 2) ASSERT_EQ(lvsp_link_store(&l, s, "x", 1), 0);
  /* Held: 6, 8, 10, 12 (wrapped in the ring). */
  ASSERT_EQ(lvsp_link_next(&l, 0)->s, 6);
  ASSERT_EQ(lvsp_link_next(&l, 6)->s, 8);
  ASSERT_EQ(lvsp_link_next(&l, 7)->s, 8);
  ASSERT_EQ(lvsp_link_next(&l, 11)->s, 12);
  ASSERT_TRUE(lvsp_link_next(&l, 12) == NULL);
  lvsp_link_free(&l);
}

/* The error answer: the request's fields, "error", no credentials. */
static json_t *error_of(fx_t *f, const char *key, int type, const char *code) {
  json_t *d = last_d(f, LVSP_OP_INFO);
  ASSERT_EQ(json_integer_value(json_object_get(d, "type")), type);
  json_t *body = json_object_get(d, key);
  ASSERT_STREQ(str_of(json_object_get(body, "error"), "code"), code);
  ASSERT_TRUE(json_object_get(body, "token") == NULL);
  ASSERT_TRUE(json_object_get(body, "session_id") == NULL);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  return body;
}

static void test_limits(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  sc_registry_set_limits(f->app.registry, 2, 2);
  create(f, 0, "1", "8");
  create(f, 0, "2", "8");
  create(f, 0, "3", "8");
  json_t *body = error_of(f, "data", LVSP_INFO_VST_CREATE, "voice_state_limit");
  ASSERT_STREQ(str_of(body, "user_id"), "3");
  ASSERT_EQ(f->link.n_refused_states, 1);
  /* Seed VST_REQUEST: the same answer as INFO VST. */
  ASSERT_EQ(say(f, "{\"op\":7,\"d\":{\"user_id\":\"3\",\"channel_id\":\"8\"}}"), 0);
  error_of(f, "info", LVSP_INFO_VST, "voice_state_limit");
  /* A state that replaces one does not add to the count. */
  create(f, 0, "1", "9");
  ASSERT_TRUE(str_of(json_object_get(last_d(f, LVSP_OP_INFO), "data"), "session_id") != NULL);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  /* Channels 8 and 9 exist: a third is refused, in each request's shape. */
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"data\":{\"channel_id\":\"10\"}}}"), 0);
  error_of(f, "data", LVSP_INFO_CHANNEL_ASSIGN, "channel_limit");
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"10\"}}}"), 0);
  error_of(f, "info", LVSP_INFO_CHANNEL, "channel_limit");
  /* A move to a new channel over the channel limit: refused, state kept. */
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":5,\"data\":{\"user_id\":\"2\",\"guild_id\":\"3\","
                "\"channel_id\":\"10\"}}}"),
            0);
  error_of(f, "data", LVSP_INFO_VST_CREATE, "channel_limit");
  ASSERT_STREQ(sc_registry_find_user(f->app.registry, "2", "3")->channel->id, "8");
  ASSERT_EQ(f->link.n_refused_channels, 3);
  ASSERT_EQ(f->link.n_refused_states, 2);
  /* Under the limit again, everything works; so do heartbeats. */
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":6,\"data\":{\"user_id\":\"2\",\"guild_id\":\"3\"}}}"),
            0);
  create(f, 0, "3", "9");
  ASSERT_TRUE(str_of(json_object_get(last_d(f, LVSP_OP_INFO), "data"), "token") != NULL);
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1}}"), 0);
  json_t *st = lvsp_status_json(&f->link, &f->app);
  json_t *counts = json_object_get(st, "counts");
  ASSERT_EQ(json_integer_value(json_object_get(counts, "refused_voice_states")), 2);
  ASSERT_EQ(json_integer_value(json_object_get(counts, "refused_channels")), 3);
  json_decref(st);
  fx_free(f);
}

/* A drain (the registry's ESHUTDOWN): a new call is answered with the
 * "draining" error INFO in each request's shape, the link stays up, a
 * join to the call in progress is served, and health reads 0. */
static void test_draining(void) {
  fx_t *f = fx_ready_as(LVSP_DIALECT_LATER);
  create(f, 0, "1", "8");
  ASSERT_EQ(sc_drain_begin(&f->app.drain, "test", 60, 0, 0), 1);
  sc_registry_set_draining(f->app.registry, 1);
  create(f, 0, "2", "9");
  json_t *body = error_of(f, "data", LVSP_INFO_VST_CREATE, "draining");
  ASSERT_STREQ(str_of(body, "channel_id"), "9");
  ASSERT_EQ(say(f, "{\"op\":7,\"d\":{\"user_id\":\"2\",\"channel_id\":\"9\"}}"), 0);
  error_of(f, "info", LVSP_INFO_VST, "draining");
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"data\":{\"channel_id\":\"10\"}}}"), 0);
  error_of(f, "data", LVSP_INFO_CHANNEL_ASSIGN, "draining");
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"10\"}}}"), 0);
  error_of(f, "info", LVSP_INFO_CHANNEL, "draining");
  ASSERT_TRUE(sc_registry_find_channel(f->app.registry, "9") == NULL);
  ASSERT_TRUE(sc_registry_find_channel(f->app.registry, "10") == NULL);
  /* A move out of the call into a new channel: refused, state kept. */
  ASSERT_EQ(say(f,
                "{\"op\":6,\"d\":{\"type\":5,\"data\":{\"user_id\":\"1\",\"guild_id\":\"3\","
                "\"channel_id\":\"11\"}}}"),
            0);
  error_of(f, "data", LVSP_INFO_VST_CREATE, "draining");
  ASSERT_STREQ(sc_registry_find_user(f->app.registry, "1", "3")->channel->id, "8");
  /* Joining the call in progress: served with credentials. */
  create(f, 0, "2", "8");
  ASSERT_TRUE(str_of(json_object_get(last_d(f, LVSP_OP_INFO), "data"), "token") != NULL);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 2);
  ASSERT_EQ(f->link.n_refused_draining, 5);
  ASSERT_EQ(f->link.n_refused_states + f->link.n_refused_channels, 0);
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1}}"), 0);
  ASSERT_TRUE(health_of(last_d(f, LVSP_OP_HEARTBEAT_ACK)) == 0.0);
  json_t *st = lvsp_status_json(&f->link, &f->app);
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(st, "counts"), "refused_draining")),
            5);
  json_decref(st);
  ASSERT_EQ(f->c[0].cap.n_closes, 0);
  fx_free(f);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_frames);
  RUN_TEST(test_fail);
  RUN_TEST(test_snapshot_streams);
  RUN_TEST(test_snapshot_meanwhile);
  RUN_TEST(test_burst_gone);
  RUN_TEST(test_replay_holds_input);
  RUN_TEST(test_link_next);
  RUN_TEST(test_limits);
  RUN_TEST(test_draining);
  SC_TEST_DONE();
}
