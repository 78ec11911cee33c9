/*
 * test_dv_dave: the DAVE Delivery Service through the real gateway
 * (dv_gw_harness.h) and the real dv_mls, with key packages made by the
 * real davey (tests/unit/data/dave/vectors.json): negotiation (op 4,
 * --dave-required's 4017), binary frames numbered with the JSON seq,
 * refusals counted, proposals to the right members, a commit that names
 * exactly what was proposed wins (op 29 to the committer, op 30 to the
 * added member, op 23s then op 22), a later one is late, a commit naming
 * something else is refused, downgrade when a client without DAVE joins,
 * and the media rule: a payload ending FA FA is sealed only for a member
 * whose gate is open.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <time.h>

#include "dave_fx.h"
#include "dv_dave_guard.h"
#include "dv_gw_harness.h"
#include "dv_mls.h"

static char channel[32], user_a[32], user_b[32];

static void read_vectors(void) {
  load_vectors();
  snprintf(channel, sizeof channel, "%s", vec_text("channel"));
  snprintf(user_a, sizeof user_a, "%s", vec_text("user_a"));
  snprintf(user_b, sizeof user_b, "%s", vec_text("user_b"));
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

/* A binary frame's payload (after the op byte), from its hex capture. */
static blob_t payload_of(json_t *msg) {
  ASSERT_TRUE(json_is_true(json_object_get(msg, "binary")));
  blob_t b;
  unhex(json_string_value(json_object_get(msg, "d")), &b);
  return b;
}

/* ProposalRef of one proposal MLSMessage (reference 4.5: without its
 * first two bytes). */
static dv_mls_ref_t proposal_ref(const uint8_t *msg, size_t len) {
  static const char label[] = "MLS 1.0 Proposal Reference";
  uint8_t in[FX_BLOB_MAX + 64]; /* msg is a blob's payload */
  size_t n = 0, v = len - 2;
  in[n++] = sizeof label - 1;
  memcpy(in + n, label, sizeof label - 1);
  n += sizeof label - 1;
  in[n++] = (uint8_t)(0x40 | (v >> 8));
  in[n++] = (uint8_t)v;
  memcpy(in + n, msg + 2, v);
  n += v;
  dv_mls_ref_t ref;
  unsigned olen = 0;
  ASSERT_EQ(EVP_Digest(in, n, ref.b, &olen, EVP_sha256(), NULL), 1);
  return ref;
}

/* The single proposal of an op 27 append payload. */
static dv_mls_ref_t single_proposal(const blob_t *p27) {
  ASSERT_EQ(p27->b[0], 0); /* append */
  ASSERT_EQ(p27->b[1] >> 6, 1);
  size_t len = (size_t)(p27->b[1] & 0x3f) << 8 | p27->b[2];
  ASSERT_EQ(len + 3, p27->n);
  return proposal_ref(p27->b + 3, len);
}

static size_t put_vec(uint8_t *o, const uint8_t *p, size_t len) {
  o[0] = (uint8_t)len; /* < 64 here */
  memcpy(o + 1, p, len);
  return len + 1;
}

/* A structurally valid commit at epoch 0 by leaf 0 naming `ref`, with a
 * welcome for `member` (signature, tags and secrets are opaque bytes to
 * the server: the clients check them). */
static size_t make_commit(uint8_t *o, uint64_t group, const dv_mls_ref_t *ref,
                          const dv_mls_ref_t *member) {
  static const uint8_t opaque[32];
  size_t n = 0;
  const uint8_t head[] = {0, 1, 0, 1, 8};
  memcpy(o, head, sizeof head);
  n += sizeof head;
  for (int i = 7; i >= 0; i--) o[n++] = (uint8_t)(group >> (8 * i));
  for (int i = 0; i < 8; i++) o[n++] = 0; /* epoch 0 */
  o[n++] = 1;                             /* member */
  for (int i = 0; i < 4; i++) o[n++] = 0; /* leaf 0 */
  o[n++] = 0;                             /* authenticated_data */
  o[n++] = 3;                             /* commit */
  o[n++] = 34;                            /* proposals: one ref */
  o[n++] = 2;
  n += put_vec(o + n, ref->b, 32);
  o[n++] = 0; /* no path */
  n += put_vec(o + n, opaque, 8);
  n += put_vec(o + n, opaque, 32);
  n += put_vec(o + n, opaque, 32);
  o[n++] = 0; /* welcome: suite 2 */
  o[n++] = 2;
  o[n++] = 33 + 5 + 5;
  n += put_vec(o + n, member->b, 32);
  n += put_vec(o + n, opaque, 4);
  n += put_vec(o + n, opaque, 4);
  n += put_vec(o + n, opaque, 6); /* encrypted_group_info */
  return n;
}

static const dv_e2ee_stats_t *e2ee_stats(void) {
  return &gw->e2ee.st;
}

static void join_selected(client_t *c, sc_vstate_t *vs) {
  join(c, 8, vs);
  select_udp(c);
  expect_op(c, 4);
  expect_msg(c, 25);
}

static void test_dave_required(void) {
  sc_vstate_t *vs = state(user_a, channel);
  dv_settings(&app)->dave_required = 1;
  client_t c;
  client_open(&c, 8);
  send_json(&c,
            "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
            "\"token\":\"%s\"}}",
            vs->server_id, vs->user_id, vs->session_id, vs->token);
  ASSERT_EQ(c.close_code, DV_CLOSE_DAVE_REQUIRED);
  client_free(&c);
  join(&c, 8, vs); /* with max_dave_protocol_version 1 */
  ASSERT_EQ(c.close_code, 0);
  dv_settings(&app)->dave_required = 0;
  teardown((client_t *[]){&c, NULL}, (sc_vstate_t *[]){vs, NULL});
}

/* Op 4 says 1, op 25 follows numbered after it; binary frames before op 4
 * are refused and counted. Two members' key packages become one Add each,
 * sent to the other only; A's commit wins. */
static void test_two_members_commit(void) {
  uint64_t group = strtoull(channel, NULL, 10);
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  client_t a, b;
  join(&a, 8, va);
  uint64_t refused = e2ee_stats()->binary_refused;
  send_binary(&a, 26, kp_a.b, kp_a.n);
  ASSERT_EQ(e2ee_stats()->binary_refused, refused + 1);
  expect_silence(&a);
  select_udp(&a);
  json_t *op4 = expect_msg(&a, 4);
  ASSERT_EQ(json_integer_value(json_object_get(json_object_get(op4, "d"), "dave_protocol_version")),
            1);
  json_t *op25 = expect_msg(&a, 25);
  ASSERT_EQ(seq_of(op25), seq_of(op4) + 1);
  ASSERT_EQ(payload_of(op25).b[0], 0x40); /* <V> of a 65-byte key */
  send_binary(&a, 26, kp_a.b, kp_a.n);
  expect_silence(&a); /* alone: no one to propose to */

  join_selected(&b, vb);
  skip_all(&a);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  blob_t to_a = payload_of(expect_msg(&a, 27)), to_b = payload_of(expect_msg(&b, 27));
  ASSERT_TRUE(to_a.n > 300 && to_b.n > 300 && to_a.n != 0);
  dv_mls_ref_t add_b = single_proposal(&to_a), kp_b_ref;
  const uint8_t *kp;
  size_t kp_len;
  ASSERT_EQ(
      dv_mls_keypackage_check(kp_b.b, kp_b.n, strtoull(user_b, NULL, 10), &kp, &kp_len, &kp_b_ref),
      0);

  uint8_t commit[512];
  dv_mls_ref_t wrong = add_b;
  wrong.b[0] ^= 1;
  size_t n = make_commit(commit, group, &wrong, &kp_b_ref);
  send_binary(&a, 28, commit, n);
  expect_silence(&a);
  ASSERT_EQ(dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel))->commit_refused, 1);

  n = make_commit(commit, group, &add_b, &kp_b_ref);
  send_binary(&a, 28, commit, n);
  blob_t p29 = payload_of(expect_msg(&a, 29)), p30 = payload_of(expect_msg(&b, 30));
  uint16_t tid = (uint16_t)(p29.b[0] << 8 | p29.b[1]);
  ASSERT_TRUE(tid != 0);
  ASSERT_EQ(p30.b[0] << 8 | p30.b[1], tid);
  ASSERT_EQ(p29.n - 2, n - (2 + 1 + 33 + 5 + 5 + 7)); /* the commit alone, as received */
  ASSERT_MEMEQ(p29.b + 2, commit, p29.n - 2);
  ASSERT_EQ(dv_dave_epoch(dv_e2ee_call(&gw->e2ee, channel)), 1);
  send_binary(&b, 28, commit, n); /* B's own commit comes too late */
  expect_silence(&b);

  send_json(&a, "{\"op\":23,\"d\":{\"transition_id\":%u}}", tid);
  expect_silence(&a);
  send_json(&b, "{\"op\":23,\"d\":{\"transition_id\":%u}}", tid);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(&a, 22), "transition_id")), tid);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(&b, 22), "transition_id")), tid);

  /* B could not apply its welcome (op 31): every member the commit
   * welcomed flagged it, so the group is re-created: A, who holds it, is
   * reset (op 24, op 21 with id 0); B, who reset itself, gets only the op
   * 21; once both sent new key packages, a new epoch-0 round. */
  uint64_t recreations = dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel))->recreations;
  send_json(&b, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid);
  json_t *op24 = expect_op(&a, 24);
  ASSERT_EQ(json_integer_value(json_object_get(op24, "epoch")), 1);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(&a, 21), "transition_id")), 0);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(&b, 21), "transition_id")), 0);
  expect_silence(&b);
  ASSERT_EQ(dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel))->recreations, recreations + 1);
  ASSERT_EQ(dv_dave_epoch(dv_e2ee_call(&gw->e2ee, channel)), 0);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  expect_silence(&a);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  expect_msg(&a, 27);
  expect_msg(&b, 27);

  /* Oversize key package: dropped and counted. */
  static uint8_t big[DV_MLS_KEYPACKAGE_MAX + 1];
  uint64_t over = e2ee_stats()->binary_oversize;
  send_binary(&b, 26, big, sizeof big);
  ASSERT_EQ(e2ee_stats()->binary_oversize, over + 1);
  ASSERT_EQ(b.close_code, 0);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* Nobody commits within DV_DAVE_COMMIT_MS: the round is revoked (op 27
 * type 1) and proposed again (op 27 type 0). */
static void test_commit_timeout(void) {
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  client_t a, b;
  join_selected(&a, va);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  join_selected(&b, vb);
  skip_all(&a);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  expect_msg(&a, 27);
  expect_msg(&b, 27);
  advance(DV_DAVE_COMMIT_MS);
  ASSERT_EQ(payload_of(expect_msg(&a, 27)).b[0], 1);
  ASSERT_EQ(payload_of(expect_msg(&b, 27)).b[0], 1);
  ASSERT_EQ(payload_of(expect_msg(&a, 27)).b[0], 0);
  ASSERT_EQ(payload_of(expect_msg(&b, 27)).b[0], 0);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* The Add of `who`'s key package that `to` was sent (its only proposal). */
static dv_mls_ref_t add_sent_to(client_t *to) {
  blob_t p = payload_of(expect_msg(to, 27));
  return single_proposal(&p);
}

static dv_mls_ref_t kp_ref_of(const blob_t *kp, const char *user) {
  const uint8_t *bare;
  size_t len;
  dv_mls_ref_t ref;
  ASSERT_EQ(dv_mls_keypackage_check(kp->b, kp->n, strtoull(user, NULL, 10), &bare, &len, &ref), 0);
  return ref;
}

/* B cannot apply A's welcome: the group is re-created and A, its
 * committer, cannot win the next round while B can commit. B's op 31s past
 * DV_DAVE_FLAG_BURST are counted, and its re-add waits until its budget
 * refills (manual clock). */
static void test_flag_budget_and_bar(void) {
  uint64_t group = strtoull(channel, NULL, 10);
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  client_t a, b;
  join_selected(&a, va);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  join_selected(&b, vb);
  skip_all(&a);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  dv_mls_ref_t add_b = add_sent_to(&a), add_a = add_sent_to(&b);
  dv_mls_ref_t ref_a = kp_ref_of(&kp_a, user_a), ref_b = kp_ref_of(&kp_b, user_b);
  uint8_t commit[512];
  size_t n = make_commit(commit, group, &add_b, &ref_b);
  send_binary(&a, 28, commit, n);
  blob_t p29 = payload_of(expect_msg(&a, 29));
  uint16_t tid = (uint16_t)(p29.b[0] << 8 | p29.b[1]);
  expect_msg(&b, 30);
  send_json(&a, "{\"op\":23,\"d\":{\"transition_id\":%u}}", tid);
  send_json(&b, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid);
  skip_all(&a);
  skip_all(&b);
  const dv_dave_stats_t *st = dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel));
  ASSERT_EQ(st->recreations, 1);
  ASSERT_EQ(st->invalid_limited, 0);

  send_json(&b, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid); /* the second: within */
  send_json(&b, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid); /* the third: over */
  ASSERT_EQ(st->invalid_limited, 1);
  ASSERT_EQ(st->recreations, 1);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  expect_silence(&a); /* B's re-add waits: A alone is no round */
  expect_silence(&b);
  advance(DV_DAVE_FLAG_EVERY_MS - 1);
  expect_silence(&a);
  advance(1);
  add_b = add_sent_to(&a); /* signed again: new refs */
  add_a = add_sent_to(&b);

  n = make_commit(commit, group, &add_b, &ref_b);
  send_binary(&a, 28, commit, n); /* valid, but A's last commit failed its members */
  expect_silence(&a);
  expect_silence(&b);
  ASSERT_EQ(st->commit_barred, 1);
  uint8_t other[512];
  size_t on = make_commit(other, group, &add_a, &ref_a);
  send_binary(&b, 28, other, on); /* B, sent the round, commits: it wins */
  expect_msg(&b, 29);
  expect_msg(&a, 30);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* The committer of a bad commit is barred, but the only other member of
 * the round never commits: DV_DAVE_BAR_GRACE_MS after the barred commit
 * the round is withdrawn and proposed again, and the barred member's
 * commit wins it. */
static void test_bar_grace(void) {
  uint64_t group = strtoull(channel, NULL, 10);
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  client_t a, b;
  join_selected(&a, va);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  join_selected(&b, vb);
  skip_all(&a);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  dv_mls_ref_t add_b = add_sent_to(&a), ref_b = kp_ref_of(&kp_b, user_b);
  skip_all(&b);
  uint8_t commit[512];
  size_t n = make_commit(commit, group, &add_b, &ref_b);
  send_binary(&a, 28, commit, n);
  blob_t p29 = payload_of(expect_msg(&a, 29));
  uint16_t tid = (uint16_t)(p29.b[0] << 8 | p29.b[1]);
  skip_all(&b);
  send_json(&a, "{\"op\":23,\"d\":{\"transition_id\":%u}}", tid);
  send_json(&b, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid); /* re-created, A barred */
  skip_all(&a);
  skip_all(&b);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  add_b = add_sent_to(&a);
  skip_all(&b);
  n = make_commit(commit, group, &add_b, &ref_b);
  send_binary(&a, 28, commit, n);
  const dv_dave_stats_t *st = dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel));
  ASSERT_EQ(st->commit_barred, 1);
  advance(DV_DAVE_BAR_GRACE_MS - 1);
  expect_silence(&a);
  advance(1);
  ASSERT_EQ(payload_of(expect_msg(&a, 27)).b[0], 1); /* revoked */
  add_b = add_sent_to(&a);                           /* and proposed again */
  skip_all(&b);
  n = make_commit(commit, group, &add_b, &ref_b);
  send_binary(&a, 28, commit, n);
  expect_msg(&a, 29);
  expect_msg(&b, 30);
  ASSERT_EQ(st->commit_barred, 1);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* X joins A's call (A pending, told 1), A's commit welcomes X (after the
 * bar's grace when A is barred), X flags its welcome (op 31) and leaves. */
static void welcome_fails(client_t *a, const blob_t *kp_a, const char *ux, const char *kx,
                          int a_barred) {
  uint64_t group = strtoull(channel, NULL, 10);
  sc_vstate_t *vx = state(ux, channel);
  blob_t kp_x = vec_blob(kx);
  client_t x;
  join_selected(&x, vx);
  skip_all(a);
  send_binary(a, 26, kp_a->b, kp_a->n);
  send_binary(&x, 26, kp_x.b, kp_x.n);
  dv_mls_ref_t add_x = add_sent_to(a), ref_x = kp_ref_of(&kp_x, ux);
  skip_all(&x);
  uint8_t commit[512];
  size_t n = make_commit(commit, group, &add_x, &ref_x);
  send_binary(a, 28, commit, n);
  if (a_barred) {
    expect_silence(a);
    advance(DV_DAVE_BAR_GRACE_MS);
    ASSERT_EQ(payload_of(expect_msg(a, 27)).b[0], 1);
    add_x = add_sent_to(a);
    skip_all(&x);
    n = make_commit(commit, group, &add_x, &ref_x);
    send_binary(a, 28, commit, n);
  }
  blob_t p29 = payload_of(expect_msg(a, 29));
  uint16_t tid = (uint16_t)(p29.b[0] << 8 | p29.b[1]);
  expect_msg(&x, 30);
  send_json(a, "{\"op\":23,\"d\":{\"transition_id\":%u}}", tid);
  send_json(&x, "{\"op\":31,\"d\":{\"transition_id\":%u}}", tid);
  expect_op(a, 22);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(a, 24), "epoch")), 1);
  teardown((client_t *[]){&x, NULL}, (sc_vstate_t *[]){vx, NULL});
  skip_all(a);
}

/* Three joiners in a row each fail the welcome A's commit made: the first
 * two re-create the group (DV_DAVE_RECREATE_BURST), the third finds the
 * call's budget spent (recreate_limited: its flag only takes it out). */
static void test_recreate_budget(void) {
  sc_vstate_t *va = state(user_a, channel);
  blob_t kp_a = vec_blob("kp_a");
  client_t a;
  join_selected(&a, va);
  const dv_dave_stats_t *st = dv_dave_stats(dv_e2ee_call(&gw->e2ee, channel));
  welcome_fails(&a, &kp_a, user_b, "kp_b", 0);
  ASSERT_EQ(st->recreations, 1);
  welcome_fails(&a, &kp_a, vec_text("user_c"), "kp_c", 1);
  ASSERT_EQ(st->recreations, 2);
  ASSERT_EQ(st->recreate_limited, 0);
  welcome_fails(&a, &kp_a, vec_text("user_d"), "kp_d", 1);
  ASSERT_EQ(st->recreations, 2);
  ASSERT_EQ(st->recreate_limited, 1);
  ASSERT_EQ(st->commit_barred, 2);
  teardown((client_t *[]){&a, NULL}, (sc_vstate_t *[]){va, NULL});
}

/* A binary frame sent while the socket was gone is re-sent as binary, in
 * its place in the numbering, by a v8 resume. */
static void test_resume_resends_binary(void) {
  sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  client_t a, b, a2;
  join_selected(&a, va);
  json_int_t seen = seq_of(a.msgs[a.n - 1]);
  send_binary(&a, 26, kp_a.b, kp_a.n);
  client_drop(&a);
  join_selected(&b, vb);
  send_binary(&b, 26, kp_b.b, kp_b.n);
  expect_msg(&b, 27);
  client_open(&a2, 8);
  send_json(&a2,
            "{\"op\":7,\"d\":{\"server_id\":\"%s\",\"session_id\":\"%s\",\"token\":\"%s\","
            "\"seq_ack\":%lld}}",
            va->server_id, va->session_id, va->token, (long long)seen);
  expect_op(&a2, 8);
  expect_op(&a2, 9);
  expect_op(&a2, 11); /* B came */
  expect_op(&a2, 5);
  json_t *p27 = expect_msg(&a2, 27);
  ASSERT_TRUE(json_is_true(json_object_get(p27, "binary")));
  ASSERT_EQ(seq_of(p27), seen + 3);
  teardown((client_t *[]){&a, &b, &a2, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* Hostile frames: another user's key package, an empty frame, an unknown
 * op, a commit before anything was proposed, a garbage commit: dropped and
 * counted, the socket stays, nothing is sent. */
static void test_hostile_frames(void) {
  sc_vstate_t *va = state(user_a, channel);
  blob_t kp_b = vec_blob("kp_b");
  client_t a;
  join_selected(&a, va);
  dv_dave_t *d = dv_e2ee_call(&gw->e2ee, channel);
  uint64_t refused = e2ee_stats()->binary_refused;
  send_binary(&a, 26, kp_b.b, kp_b.n);
  ASSERT_EQ(dv_dave_stats(d)->kp_refused, 1);
  dv_gw_binary(&a.conn, (const uint8_t *)"", 0);
  send_binary(&a, 25, kp_b.b, 10);
  ASSERT_EQ(e2ee_stats()->binary_refused, refused + 2);
  uint8_t junk[64] = {0, 1, 0, 1};
  send_binary(&a, 28, junk, sizeof junk);
  ASSERT_EQ(dv_dave_stats(d)->commit_late, 1);
  expect_silence(&a);
  ASSERT_EQ(a.close_code, 0);
  teardown((client_t *[]){&a, NULL}, (sc_vstate_t *[]){va, NULL});
}

/* A client without DAVE joins a call at version 1: op 21 to 0 for the
 * others, op 4 with 0 for it; after the op 23s (or 2 s) op 22. */
static void test_downgrade(void) {
  sc_vstate_t *va = state(user_a, channel), *vl = state("4242", channel);
  client_t a, l;
  join_selected(&a, va);
  skip_all(&a);
  client_open(&l, 8);
  send_json(&l,
            "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
            "\"token\":\"%s\"}}",
            vl->server_id, vl->user_id, vl->session_id, vl->token);
  skip_all(&l);
  select_udp(&l);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(&l, 4), "dave_protocol_version")), 0);
  expect_silence(&l); /* never op 25 */
  expect_op(&a, 11);
  expect_op(&a, 5);
  json_t *op21 = expect_op(&a, 21);
  ASSERT_EQ(json_integer_value(json_object_get(op21, "protocol_version")), 0);
  advance(DV_DAVE_TRANSITION_MS);
  expect_op(&a, 22);
  ASSERT_EQ(dv_dave_version(dv_e2ee_call(&gw->e2ee, channel)), 0);
  ASSERT_EQ(a.conn.session->dave_version, 0);
  teardown((client_t *[]){&a, &l, NULL}, (sc_vstate_t *[]){va, vl, NULL});
}

/* The media rule: FA FA payloads only to a member whose gate is open. */
static void test_seal_gate(void) {
  uint8_t key[DV_KEY_LEN] = {1};
  dv_cipher_t *c = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  dv_e2ee_gate_t *g = dv_e2ee_gate_new();
  uint8_t e2ee[20] = {0xde, 0xad}, plain[20] = {0xfc, 1, 2};
  e2ee[18] = e2ee[19] = DV_E2EE_MAGIC;
  sc_media_pkt_t pkt = {.marker_pt = 120, .seq = 1, .ssrc = 7, .payload = e2ee, .payload_len = 20};
  uint8_t out[256];
  ASSERT_EQ(dv_cipher_seal(c, &pkt, out, sizeof out), SC_MEDIA_SEAL_DECLINED); /* no gate */
  dv_cipher_set_gate(c, g);
  ASSERT_EQ(dv_cipher_seal(c, &pkt, out, sizeof out), SC_MEDIA_SEAL_DECLINED); /* closed */
  pkt.payload = plain;
  ASSERT_TRUE(dv_cipher_seal(c, &pkt, out, sizeof out) > 20); /* plain Opus passes */
  dv_e2ee_gate_set(g, 1);
  pkt.payload = e2ee;
  ASSERT_TRUE(dv_cipher_seal(c, &pkt, out, sizeof out) > 20);
  dv_e2ee_gate_put(g); /* the cipher still holds it */
  ASSERT_TRUE(dv_cipher_seal(c, &pkt, out, sizeof out) > 20);
  dv_cipher_free(c);
}

/* CPU of DAVE's share of a join (printed, never asserted): a second
 * member's key package checked, its Add signed and sent, a commit checked
 * and broadcast, the welcome split, the transition run. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cpu_per_join_printed(void) {
  enum { N = 20 };
  uint64_t group = strtoull(channel, NULL, 10);
  blob_t kp_a = vec_blob("kp_a"), kp_b = vec_blob("kp_b");
  double spent = 0;
  for (int i = 0; i < N; i++) {
    sc_vstate_t *va = state(user_a, channel), *vb = state(user_b, channel);
    client_t a, b;
    join_selected(&a, va);
    send_binary(&a, 26, kp_a.b, kp_a.n);
    join_selected(&b, vb);
    skip_all(&a);
    double t0 = cpu_now();
    send_binary(&b, 26, kp_b.b, kp_b.n);
    double t1 = cpu_now(); /* the test's own checks below are not the server's */
    blob_t to_a = payload_of(expect_msg(&a, 27));
    dv_mls_ref_t add_b = single_proposal(&to_a), kp_b_ref;
    const uint8_t *kp;
    size_t kp_len;
    dv_mls_keypackage_check(kp_b.b, kp_b.n, strtoull(user_b, NULL, 10), &kp, &kp_len, &kp_b_ref);
    uint8_t commit[512];
    size_t n = make_commit(commit, group, &add_b, &kp_b_ref);
    double t2 = cpu_now();
    send_binary(&a, 28, commit, n);
    send_json(&a, "{\"op\":23,\"d\":{\"transition_id\":%d}}", i + 1);
    send_json(&b, "{\"op\":23,\"d\":{\"transition_id\":%d}}", i + 1);
    spent += (t1 - t0) + (cpu_now() - t2);
    teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  }
  printf("DAVE cpu per join (gateway + dv_mls, with the test's capture): %.0f us (mean of %d)\n",
         spent / N * 1e6, N);
  ASSERT_TRUE(spent > 0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  read_vectors();
  harness_init();
  RUN_TEST(test_dave_required);
  RUN_TEST(test_two_members_commit);
  RUN_TEST(test_commit_timeout);
  RUN_TEST(test_flag_budget_and_bar);
  RUN_TEST(test_bar_grace);
  RUN_TEST(test_recreate_budget);
  RUN_TEST(test_resume_resends_binary);
  RUN_TEST(test_hostile_frames);
  RUN_TEST(test_downgrade);
  RUN_TEST(test_seal_gate);
  RUN_TEST(test_cpu_per_join_printed);
  harness_fini();
  json_decref(vectors);
  SC_TEST_DONE();
}
