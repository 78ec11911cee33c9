/*
 * test_lvsp_resume: what outlives an LVSP connection. Sequence numbers on
 * every frame, the replay buffer (lvsp_link), RESUME replaying exactly
 * what followed the client's seq (in order, no duplicates) and then READY,
 * stale and future seqs closing 4000, the snapshot after IDENTIFY in the
 * client's dialect, a second connection replacing the first, and voice
 * states untouched by any of it.
 */
#include "lvsp_fx.h"

static long long seq_at(fx_t *f, int conn, int i) {
  return seq_of(f->c[conn].cap.msgs[i]);
}

static void test_seq_on_every_frame(void) {
  fx_t *f = fx_new();
  ASSERT_EQ(seq_at(f, 0, 0), 1); /* HELLO */
  identify_on(f, 0, LVSP_DIALECT_SEED);
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":0}}"), 0);
  ASSERT_EQ(say(f, "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"2\"}}"), 0);
  ASSERT_EQ(f->c[0].cap.n, 4);
  for (int i = 0; i < 4; i++) ASSERT_EQ(seq_at(f, 0, i), i + 1);
  /* The counter belongs to the server, not the connection. */
  fx_open(f, 1);
  ASSERT_EQ(seq_at(f, 1, 0), 5);
  ASSERT_EQ(f->link.seq, 5);
  fx_free(f);
}

/* Creates a voice state for user in channel 9 / guild 3; returns the
 * reply's s. */
static long long create_on(fx_t *f, int conn, const char *user) {
  char msg[128];
  snprintf(msg, sizeof msg,
           "{\"op\":7,\"d\":{\"user_id\":\"%s\",\"channel_id\":\"9\","
           "\"guild_id\":\"3\"}}",
           user);
  ASSERT_EQ(say_on(f, conn, msg), 0);
  json_t *m = last_on(f, conn);
  msg_d(m, LVSP_OP_INFO);
  return seq_of(m);
}

static void resume_on(fx_t *f, int conn, long long seq, lvsp_dialect_t dl) {
  char msg[160], mac[65];
  if (dl == LVSP_DIALECT_LATER) hmac_token(f, conn, mac);
  snprintf(msg, sizeof msg, "{\"op\":2,\"d\":{\"token\":\"%s\",\"seq\":%lld}}",
           dl == LVSP_DIALECT_LATER ? mac : SECRET, seq);
  say_on(f, conn, msg);
}

static void test_resume_replays_missed(void) {
  fx_t *f = fx_new();
  identify_on(f, 0, LVSP_DIALECT_SEED);
  long long s1 = create_on(f, 0, "1");
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":7}}"), 0); /* an ACK between: not replayed */
  long long s2 = create_on(f, 0, "2");
  long long s3 = create_on(f, 0, "3");
  json_t *sent2 = json_incref(f->c[0].cap.msgs[f->c[0].cap.n - 2]);
  json_t *sent3 = json_incref(last(f));
  /* The client saw s1 only, then its socket died. */
  lvsp_conn_gone(&f->c[0].conn);
  f->c[0].open = 0;
  ASSERT_TRUE(f->link.active == NULL);
  fx_open(f, 1);
  resume_on(f, 1, s1, LVSP_DIALECT_LATER);
  capture_t *cap = &f->c[1].cap;
  ASSERT_EQ(cap->n_closes, 0);
  ASSERT_EQ(cap->n, 4); /* HELLO, the two missed INFOs, READY */
  ASSERT_TRUE(json_equal(cap->msgs[1], sent2));
  ASSERT_TRUE(json_equal(cap->msgs[2], sent3));
  ASSERT_EQ(seq_of(cap->msgs[1]), s2);
  ASSERT_EQ(seq_of(cap->msgs[2]), s3);
  msg_d(cap->msgs[3], LVSP_OP_READY);
  ASSERT_TRUE(seq_of(cap->msgs[3]) > s3);
  ASSERT_TRUE(f->link.active == &f->c[1].conn);
  ASSERT_EQ(f->link.n_resume, 1);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 3); /* voice untouched */
  /* The link goes on: new requests work on the resumed connection. */
  ASSERT_TRUE(create_on(f, 1, "4") > seq_of(cap->msgs[3]));
  json_decref(sent2);
  json_decref(sent3);
  fx_free(f);
}

static void test_resume_nothing_missed(void) {
  fx_t *f = fx_new();
  identify_on(f, 0, LVSP_DIALECT_SEED);
  long long s1 = create_on(f, 0, "1");
  lvsp_conn_gone(&f->c[0].conn);
  f->c[0].open = 0;
  fx_open(f, 1);
  resume_on(f, 1, s1, LVSP_DIALECT_SEED);
  ASSERT_EQ(f->c[1].cap.n, 2);
  msg_d(last_on(f, 1), LVSP_OP_READY);
  /* A resume from before anything was sent replays everything held. */
  fx_open(f, 2);
  resume_on(f, 2, 0, LVSP_DIALECT_SEED);
  ASSERT_EQ(f->c[1].cap.n_closes, 1); /* replaced */
  ASSERT_EQ(f->c[2].cap.n, 3);
  ASSERT_EQ(seq_at(f, 2, 1), s1);
  fx_free(f);
}

static void test_resume_stale(void) {
  fx_t *f = fx_new_replay(2);
  identify_on(f, 0, LVSP_DIALECT_SEED);
  long long s1 = create_on(f, 0, "1");
  create_on(f, 0, "2");
  long long s3 = create_on(f, 0, "3"); /* s1 falls out of the ring */
  lvsp_conn_gone(&f->c[0].conn);
  f->c[0].open = 0;
  fx_open(f, 1);
  resume_on(f, 1, s1 - 1, LVSP_DIALECT_SEED); /* never saw s1, which is gone */
  ASSERT_EQ(f->c[1].cap.n_closes, 1);
  ASSERT_EQ(f->c[1].cap.close_code, 4000);
  ASSERT_EQ(f->c[1].cap.n, 1); /* HELLO only: nothing replayed */
  ASSERT_EQ(f->link.n_stale, 1);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 3);
  /* Having seen s1, nothing held is missing. */
  fx_open(f, 2);
  resume_on(f, 2, s1, LVSP_DIALECT_SEED);
  ASSERT_EQ(f->c[2].cap.n_closes, 0);
  ASSERT_EQ(seq_at(f, 2, f->c[2].cap.n - 2), s3);
  fx_free(f);
}

/* A seq ahead of the counter comes from an earlier run of the server. */
static void test_resume_future(void) {
  fx_t *f = fx_new();
  resume_on(f, 0, 500, LVSP_DIALECT_SEED);
  ASSERT_EQ(f->c[0].cap.close_code, 4000);
  fx_free(f);
  f = fx_new();
  resume_on(f, 0, -1, LVSP_DIALECT_SEED);
  ASSERT_EQ(f->c[0].cap.close_code, 4000);
  fx_free(f);
}

/* Counts the INFO frames of each type after READY on connection i. */
static void count_infos(fx_t *f, int conn, const char *key, int counts[8]) {
  capture_t *cap = &f->c[conn].cap;
  memset(counts, 0, 8 * sizeof counts[0]);
  for (int i = 2; i < cap->n; i++) {
    json_t *d = msg_d(cap->msgs[i], LVSP_OP_INFO);
    ASSERT_TRUE(json_is_object(json_object_get(d, key)));
    json_int_t t = json_integer_value(json_object_get(d, "type"));
    ASSERT_TRUE(t >= 0 && t < 8);
    counts[t]++;
  }
}

static void test_snapshot(void) {
  fx_t *f = fx_new();
  identify_on(f, 0, LVSP_DIALECT_SEED);
  ASSERT_EQ(say(f, "{\"op\":6,\"d\":{\"type\":0,\"info\":{\"id\":\"8\",\"bitrate\":64000}}}"), 0);
  create_on(f, 0, "1");
  create_on(f, 0, "2");
  ASSERT_EQ(say(f, "{\"op\":7,\"d\":{\"user_id\":\"1\",\"channel_id\":\"10\",\"guild_id\":\"4\"}}"),
            0);
  /* Seed IDENTIFY: INFO CHANNEL per channel, INFO VST per state. */
  fx_open(f, 1);
  identify_on(f, 1, LVSP_DIALECT_SEED);
  msg_d(f->c[1].cap.msgs[1], LVSP_OP_READY);
  int counts[8];
  count_infos(f, 1, "info", counts);
  ASSERT_EQ(counts[LVSP_INFO_CHANNEL], 3);
  ASSERT_EQ(counts[LVSP_INFO_VST], 3);
  ASSERT_EQ(f->c[1].cap.n, 8);
  /* Later IDENTIFY: CHANNEL_ASSIGN per channel, VST_CREATE per state. */
  fx_open(f, 2);
  identify_on(f, 2, LVSP_DIALECT_LATER);
  count_infos(f, 2, "data", counts);
  ASSERT_EQ(counts[LVSP_INFO_CHANNEL_ASSIGN], 3);
  ASSERT_EQ(counts[LVSP_INFO_VST_CREATE], 3);
  /* The channel with a bitrate says so; every state carries credentials. */
  int found = 0;
  for (int i = 2; i < f->c[2].cap.n; i++) {
    json_t *data = json_object_get(msg_d(f->c[2].cap.msgs[i], LVSP_OP_INFO), "data");
    const char *ch = str_of(data, "channel_id");
    if (json_object_get(data, "token") && !json_object_get(data, "user_id") && !strcmp(ch, "8"))
      found += json_integer_value(json_object_get(data, "bitrate")) == 64000;
    if (json_object_get(data, "user_id")) {
      sc_vstate_t *vs = sc_registry_find_session(f->app.registry, str_of(data, "session_id"));
      ASSERT_TRUE(vs != NULL);
      ASSERT_STREQ(str_of(data, "token"), vs->token);
      ASSERT_STREQ(str_of(data, "endpoint"), FX_ENDPOINT);
    }
  }
  ASSERT_EQ(found, 1);
  fx_free(f);
}

static void test_second_connection_replaces(void) {
  fx_t *f = fx_new();
  identify_on(f, 0, LVSP_DIALECT_SEED);
  fake_voice_t v = {0};
  create_on(f, 0, "1");
  fv_attach(f, sc_registry_find_user(f->app.registry, "1", "3"), &v);
  fx_open(f, 1);
  ASSERT_TRUE(f->link.active == &f->c[0].conn); /* not before it authenticates */
  identify_on(f, 1, LVSP_DIALECT_LATER);
  ASSERT_EQ(f->c[0].cap.n_closes, 1);
  ASSERT_EQ(f->c[0].cap.close_code, 4000);
  ASSERT_TRUE(f->link.active == &f->c[1].conn);
  ASSERT_EQ(f->link.n_replaced, 1);
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1}}"), -EPIPE);
  /* Voice untouched; the old socket going away changes nothing. */
  ASSERT_EQ(v.ended, 0);
  lvsp_conn_gone(&f->c[0].conn);
  f->c[0].open = 0;
  ASSERT_TRUE(f->link.active == &f->c[1].conn);
  /* A failed authentication does not replace. */
  fx_open(f, 2);
  ASSERT_TRUE(say_on(f, 2, "{\"op\":1,\"d\":{\"token\":\"wrong\"}}") < 0);
  ASSERT_TRUE(f->link.active == &f->c[1].conn);
  ASSERT_EQ(f->c[1].cap.n_closes, 0);
  /* The live one going away leaves voice alone too. */
  lvsp_conn_gone(&f->c[1].conn);
  f->c[1].open = 0;
  ASSERT_TRUE(f->link.active == NULL);
  ASSERT_TRUE(f->link.down_since_ms > 0);
  ASSERT_EQ(v.ended, 0);
  ASSERT_EQ(sc_registry_count_states(f->app.registry), 1);
  fx_free(f);
}

static int collect(void *arg, const lvsp_frame_t *fr) {
  long long *out = arg;
  out[++out[0]] = (long long)fr->s;
  return fr->s == 99 ? -1 : 0;
}

static void test_link_ring(void) {
  lvsp_link_t l;
  ASSERT_EQ(lvsp_link_init(&l, 3), 0);
  ASSERT_TRUE(lvsp_link_can_resume(&l, 0));
  ASSERT_TRUE(!lvsp_link_can_resume(&l, 1));
  for (int i = 0; i < 5; i++) {
    uint64_t s = lvsp_link_next_seq(&l);
    if (s % 2) ASSERT_EQ(lvsp_link_store(&l, s, "x", 1), 0); /* 1, 3, 5 */
  }
  ASSERT_EQ(l.count, 3);
  ASSERT_TRUE(lvsp_link_can_resume(&l, 0));
  long long got[8] = {0};
  ASSERT_EQ(lvsp_link_replay(&l, 1, collect, got), 0);
  ASSERT_EQ(got[0], 2);
  ASSERT_EQ(got[1], 3);
  ASSERT_EQ(got[2], 5);
  l.seq = 7;
  ASSERT_EQ(lvsp_link_store(&l, 7, "y", 1), 0); /* evicts 1 */
  ASSERT_TRUE(!lvsp_link_can_resume(&l, 0));
  ASSERT_TRUE(lvsp_link_can_resume(&l, 1));
  ASSERT_TRUE(lvsp_link_can_resume(&l, 7));
  ASSERT_TRUE(!lvsp_link_can_resume(&l, 8));
  l.seq = 99;
  ASSERT_EQ(lvsp_link_store(&l, 99, "z", 1), 0);
  memset(got, 0, sizeof got);
  ASSERT_EQ(lvsp_link_replay(&l, 0, collect, got), -1); /* stops at fn's error */
  ASSERT_EQ(got[0], 3);
  lvsp_link_free(&l);
  /* No ring: only a resume from the newest frame works. */
  ASSERT_EQ(lvsp_link_init(&l, 0), 0);
  l.seq = 4;
  ASSERT_EQ(lvsp_link_store(&l, 4, "x", 1), 0);
  ASSERT_TRUE(!lvsp_link_can_resume(&l, 3));
  ASSERT_TRUE(lvsp_link_can_resume(&l, 4));
  lvsp_link_free(&l);
}

/* lvsp_conn_open: a connection on its own link (tests, fuzzing). */
static void test_standalone(void) {
  fx_t *f = fx_new();
  lvsp_conn_t c;
  capture_t cap = {0};
  ASSERT_EQ(lvsp_proto_open(&c, &f->app, &cap_io, &cap), 0);
  ASSERT_EQ(seq_of(cap.msgs[0]), 1);
  const char *resume = "{\"op\":2,\"d\":{\"token\":\"" SECRET "\",\"seq\":1}}";
  ASSERT_EQ(lvsp_handle_text(&c, resume, strlen(resume)), 0);
  msg_d(cap.msgs[1], LVSP_OP_READY);
  ASSERT_TRUE(f->link.active == &f->c[0].conn || f->link.active == NULL); /* not shared */
  lvsp_conn_gone(&c);
  cap_clear(&cap);
  fx_free(f);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_seq_on_every_frame);
  RUN_TEST(test_resume_replays_missed);
  RUN_TEST(test_resume_nothing_missed);
  RUN_TEST(test_resume_stale);
  RUN_TEST(test_resume_future);
  RUN_TEST(test_snapshot);
  RUN_TEST(test_second_connection_replaces);
  RUN_TEST(test_link_ring);
  RUN_TEST(test_standalone);
  SC_TEST_DONE();
}
