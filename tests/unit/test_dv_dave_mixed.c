/*
 * test_dv_dave_mixed: a DAVE call with members of other front ends
 * (Vortex, Galene, ion: no DAVE), through the real gateway
 * (dv_gw_harness.h). The foreign member is a voice state attached to the
 * real registry with attach ops of its own (its front end is not what is
 * under test). It downgrades the call (op 21 to 0, op 22), is counted once
 * however many Discord sessions are told about it, a Discord member that
 * identifies while it is there starts at 0, and its leaving upgrades the
 * call (op 24, op 25, new key packages, a new round). Across both
 * transitions the Discord members keep hearing each other: their real
 * media gates let E2EE frames through while the call is at 1 (and during
 * the downgrade, until op 22) and plain Opus always. A foreign front end
 * taking over a Discord member's voice state (sc_registry_take_over) counts too.
 */
#include <stdlib.h>

#include "dave_fx.h"
#include "dv_gw_harness.h"

static char channel[32], user_a[32], user_b[32];
static const char *const user_f = "4243";

/* The foreign front end: it only needs to be attached. */
static int foreign_conn;
static const sc_attach_ops_t foreign_ops = {0};

static void foreign_attach(sc_vstate_t *vf) {
  sc_registry_set_e2ee(vf, 0);
  ASSERT_EQ(sc_registry_attach(app.registry, vf, &foreign_ops, &foreign_conn), 0);
}

static void send_binary(client_t *c, uint8_t op, const uint8_t *p, size_t len) {
  uint8_t *buf = malloc(len + 1);
  buf[0] = op;
  memcpy(buf + 1, p, len);
  dv_gw_binary(&c->conn, buf, len + 1);
  free(buf);
}

static void select_udp(client_t *c) {
  send_json(c,
            "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"127.0.0.1\","
            "\"port\":5000,\"mode\":\"aead_aes256_gcm_rtpsize\"}}}");
}

static void join_selected(client_t *c, sc_vstate_t *vs) {
  join(c, 8, vs);
  select_udp(c);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(c, 4), "dave_protocol_version")), 1);
  expect_msg(c, 25);
}

static dv_dave_t *call(void) {
  return dv_e2ee_call(&gw->e2ee, channel);
}

/* An op 27 whose payload is an append (operation type 0). */
static int payload_is_append(json_t *msg) {
  ASSERT_TRUE(json_is_true(json_object_get(msg, "binary")));
  return strncmp(json_string_value(json_object_get(msg, "d")), "00", 2) == 0;
}

static json_int_t field(json_t *d, const char *key) {
  return json_integer_value(json_object_get(d, key));
}

/* What a receiver's media gate does with a frame (the gate its session
 * shares with its cipher): 1 sealed, 0 declined. */
static int hears(client_t *c, int e2ee) {
  static const uint8_t key[DV_KEY_LEN] = {7};
  dv_cipher_t *ci = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  dv_cipher_set_gate(ci, c->conn.session->gate);
  uint8_t payload[24] = {0xfc, 0x01, 0x02};
  if (e2ee) payload[22] = payload[23] = DV_E2EE_MAGIC;
  sc_media_pkt_t pkt = {
      .marker_pt = 120, .seq = 1, .ssrc = 7, .payload = payload, .payload_len = sizeof payload};
  uint8_t out[256];
  int rc = dv_cipher_seal(ci, &pkt, out, sizeof out);
  dv_cipher_free(ci);
  ASSERT_TRUE(rc > 0 || rc == SC_MEDIA_SEAL_DECLINED);
  return rc > 0;
}

/* Both members hear plain Opus, and E2EE frames iff e2ee. */
static void both_hear(client_t *a, client_t *b, int e2ee) {
  ASSERT_EQ(hears(a, 0), 1);
  ASSERT_EQ(hears(b, 0), 1);
  ASSERT_EQ(hears(a, 1), e2ee);
  ASSERT_EQ(hears(b, 1), e2ee);
}

/* A and B at version 1 with their key packages in. */
static void dave_pair(client_t *a, client_t *b, sc_vstate_t *va, sc_vstate_t *vb) {
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  join_selected(a, va);
  send_binary(a, 26, kp_a.b, kp_a.n);
  join_selected(b, vb);
  send_binary(b, 26, kp_b.b, kp_b.n);
  skip_all(a);
  skip_all(b);
  ASSERT_EQ(dv_dave_version(call()), 1);
}

/* A foreign member came: op 11 and op 5 name it, and op 21 to version 0
 * (before or after them: the first session told about the newcomer starts
 * the downgrade for all) is the only other message. Its transition id. */
static json_int_t expect_downgrade(client_t *c) {
  json_t *op21 = NULL;
  int seen11 = 0, seen5 = 0;
  ASSERT_EQ(c->n - c->next, 3);
  while (c->next < c->n) {
    json_t *m = c->msgs[c->next++];
    json_int_t op = field(m, "op");
    seen11 += op == 11;
    seen5 += op == 5;
    if (op == 21) op21 = json_object_get(m, "d");
  }
  ASSERT_EQ(seen11, 1);
  ASSERT_EQ(seen5, 1);
  ASSERT_TRUE(op21 != NULL);
  ASSERT_EQ(field(op21, "protocol_version"), 0);
  ASSERT_TRUE(field(op21, "transition_id") != 0);
  return field(op21, "transition_id");
}

/* Op 24 (to version 1, epoch 1) then op 25, all that is left unread
 * once the op 13s naming the foreign members that left (n13, before or
 * after them) are skipped. */
static void expect_upgrade(client_t *c, int n13) {
  int seen13 = 0, at24 = -1, at25 = -1, k = 0;
  for (; c->next < c->n; k++) {
    json_t *m = c->msgs[c->next++];
    json_int_t op = field(m, "op");
    if (op == 13) {
      seen13++;
      continue;
    }
    if (op == 24) {
      json_t *d = json_object_get(m, "d");
      ASSERT_EQ(field(d, "protocol_version"), 1);
      ASSERT_EQ(field(d, "epoch"), 1);
      at24 = k;
    } else if (op == 25) {
      at25 = k;
    } else {
      SC_FAIL("unexpected op %lld", (long long)op);
    }
  }
  ASSERT_EQ(seen13, n13);
  ASSERT_TRUE(at24 >= 0 && at25 > at24);
  ASSERT_EQ(c->conn.session->dave_version, 1);
}

/* A foreign member attaches to a call at 1: both Discord members get op
 * 21 to 0 (the call counts the foreign member once), keep hearing E2EE
 * frames until op 22, plain ones after. It leaves: op 13, then op 24 and
 * op 25; their new key packages start a new round (op 27 to each). */
static void test_foreign_downgrade_then_upgrade(void) {
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  sc_vstate_t *vf = state(user_f, channel);
  client_t a, b;
  dave_pair(&a, &b, va, vb);
  both_hear(&a, &b, 1);

  foreign_attach(vf);
  json_int_t tid = expect_downgrade(&a);
  ASSERT_EQ(expect_downgrade(&b), tid);
  ASSERT_EQ(dv_dave_foreign_count(call()), 1);
  both_hear(&a, &b, 1); /* senders switch only at op 22 */
  send_json(&a, "{\"op\":23,\"d\":{\"transition_id\":%lld}}", (long long)tid);
  expect_silence(&a);
  send_json(&b, "{\"op\":23,\"d\":{\"transition_id\":%lld}}", (long long)tid);
  ASSERT_EQ(field(expect_op(&a, 22), "transition_id"), tid);
  ASSERT_EQ(field(expect_op(&b, 22), "transition_id"), tid);
  ASSERT_EQ(dv_dave_version(call()), 0);
  ASSERT_EQ(a.conn.session->dave_version, 0);
  both_hear(&a, &b, 0);
  /* Binary DAVE frames are refused at 0. */
  uint64_t refused = gw->e2ee.st.binary_refused;
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  send_binary(&a, 26, kp_a.b, kp_a.n);
  ASSERT_EQ(gw->e2ee.st.binary_refused, refused + 1);

  sc_registry_detach(app.registry, vf);
  expect_upgrade(&a, 1);
  expect_upgrade(&b, 1);
  ASSERT_EQ(dv_dave_version(call()), 1);
  ASSERT_EQ(dv_dave_foreign_count(call()), 0);
  both_hear(&a, &b, 1);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  expect_silence(&a);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  ASSERT_EQ(payload_is_append(expect_msg(&a, 27)), 1);
  ASSERT_EQ(payload_is_append(expect_msg(&b, 27)), 1);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, vf, NULL});
}

/* A Discord member identifying into a room that holds a foreign member
 * starts at 0 (op 4 with 0, no op 25); so does a second one, without any
 * transition; the foreign member's state ending upgrades the call. */
static void test_identify_into_foreign_room(void) {
  sc_vstate_t *vf = state(user_f, channel);
  foreign_attach(vf);
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  client_t a, b;
  join(&a, 8, va);
  select_udp(&a);
  ASSERT_EQ(field(expect_op(&a, 4), "dave_protocol_version"), 0);
  expect_silence(&a);
  ASSERT_EQ(dv_dave_version(call()), 0);
  ASSERT_EQ(dv_dave_foreign_count(call()), 1);
  join(&b, 8, vb);
  select_udp(&b);
  ASSERT_EQ(field(expect_op(&b, 4), "dave_protocol_version"), 0);
  expect_silence(&b);
  skip_all(&a);
  both_hear(&a, &b, 0);

  sc_registry_end_state(app.registry, vf, SC_END_LEFT);
  expect_upgrade(&a, 1);
  expect_upgrade(&b, 1);
  both_hear(&a, &b, 1);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* The foreign member leaves while the downgrade it caused is still open:
 * the downgrade runs (op 22) and the upgrade follows at once. Two foreign
 * members: only the last one's leaving upgrades. */
static void test_churn_during_transition(void) {
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  sc_vstate_t *vf = state(user_f, channel), *vg = state("4244", channel);
  client_t a, b;
  dave_pair(&a, &b, va, vb);
  foreign_attach(vf);
  json_int_t tid = expect_downgrade(&a);
  expect_downgrade(&b);
  foreign_attach(vg);
  expect_op(&a, 11);
  expect_op(&a, 5);
  expect_silence(&a); /* a downgrade is under way already */
  ASSERT_EQ(dv_dave_foreign_count(call()), 2);
  sc_registry_detach(app.registry, vf);
  sc_registry_detach(app.registry, vg);
  skip_all(&b);
  expect_op(&a, 13);
  expect_op(&a, 13);
  expect_silence(&a); /* the transition is still open */
  advance(DV_DAVE_TRANSITION_MS);
  ASSERT_EQ(field(expect_op(&a, 22), "transition_id"), tid);
  expect_upgrade(&a, 0);
  ASSERT_EQ(dv_dave_version(call()), 1);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, vf, vg, NULL});
}

/* Another front end takes over B's voice state (same token, a second
 * connection replaces the first): its peers see no join, yet the call
 * counts it once the registry is done (the next turn of the loop) and A
 * is downgraded; its leaving upgrades A again. */
static void test_takeover_by_foreign(void) {
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  client_t a, b, c;
  sc_vstate_t *vc = state("4245", channel);
  dave_pair(&a, &b, va, vb);
  join_selected(&c, vc);
  skip_all(&a);
  skip_all(&b);
  ASSERT_EQ(sc_registry_take_over(app.registry, vb, &foreign_ops, &foreign_conn), 0);
  ASSERT_EQ(b.close_code, DV_CLOSE_DISCONNECTED);
  advance(0);
  ASSERT_EQ(dv_dave_foreign_count(call()), 1);
  json_t *op21 = NULL;
  while (a.next < a.n && !op21) {
    json_t *m = a.msgs[a.next++];
    if (field(m, "op") == 21) op21 = json_object_get(m, "d");
  }
  ASSERT_TRUE(op21 != NULL);
  ASSERT_EQ(field(op21, "protocol_version"), 0);
  advance(DV_DAVE_TRANSITION_MS);
  expect_op(&a, 22);
  skip_all(&c);
  sc_registry_detach(app.registry, vb);
  expect_upgrade(&a, 1);
  expect_upgrade(&c, 1);
  teardown((client_t *[]){&a, &b, &c, NULL}, (sc_vstate_t *[]){va, vb, vc, NULL});
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  load_vectors();
  snprintf(channel, sizeof channel, "%s", vec_text("channel"));
  snprintf(user_a, sizeof user_a, "%s", vec_text("user_a"));
  snprintf(user_b, sizeof user_b, "%s", vec_text("user_b"));
  harness_init();
  RUN_TEST(test_foreign_downgrade_then_upgrade);
  RUN_TEST(test_identify_into_foreign_room);
  RUN_TEST(test_churn_during_transition);
  RUN_TEST(test_takeover_by_foreign);
  harness_fini();
  json_decref(vectors);
  SC_TEST_DONE();
}
