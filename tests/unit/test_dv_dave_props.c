/*
 * test_dv_dave_props: a DAVE round's proposal list with the real dv_mls
 * signer and real key packages (tests/unit/data/dave/vectors.json): each
 * proposal is found by its ref; a member is sent every proposal but its
 * own Add, in one op 27 append, and its sent refs are what it was sent; a
 * commit matches only the exact set it was sent, and carries a welcome iff
 * it commits Adds, with a secret for each; an Add taken out is revoked
 * only from members that hold it; a round revoke names every sent ref;
 * the list stops at DV_MLS_MAX_REFS.
 */
#include <errno.h>

#include "dave_fx.h"
#include "dv_dave_props.h"
#include "dv_mls.h"

/* The op 27 payloads the module sent, with their member. */
typedef struct {
  void *who;
  uint8_t p[FX_BLOB_MAX];
  size_t len;
} frame_t;

static frame_t frames[8];
static size_t nframes;

static void capture(void *ctx, void *who, const uint8_t *p, size_t len) {
  ASSERT_EQ(ctx, (void *)frames);
  ASSERT_TRUE(nframes < sizeof frames / sizeof *frames && len <= FX_BLOB_MAX);
  frames[nframes].who = who;
  memcpy(frames[nframes].p, p, len);
  frames[nframes++].len = len;
}

/* Members are opaque pointers to the module. */
static char a_, b_, c_;
static void *const member_a = &a_, *const member_b = &b_, *const member_c = &c_;
static dv_mls_signer_t *signer;
static dv_dave_signing_t signing;

/* A key package from the vectors, bare, with its KeyPackageRef. */
typedef struct {
  blob_t raw;
  const uint8_t *kp;
  size_t len;
  dv_mls_ref_t ref;
} kp_t;

static void read_kp(kp_t *k, const char *name, const char *user) {
  k->raw = vec_blob(name);
  ASSERT_EQ(dv_mls_keypackage_check(k->raw.b, k->raw.n, vec_u64(user), &k->kp, &k->len, &k->ref),
            0);
}

/* A round: Add A, Add B, Remove leaf 3. */
static void propose_round(dv_dave_props_t *ps, kp_t *a, kp_t *b) {
  read_kp(a, "kp_a", "user_a");
  read_kp(b, "kp_b", "user_b");
  ASSERT_EQ(dv_dave_props_propose_add(ps, &signing, member_a, a->kp, a->len, &a->ref), 0);
  ASSERT_EQ(dv_dave_props_propose_add(ps, &signing, member_b, b->kp, b->len, &b->ref), 0);
  ASSERT_EQ(dv_dave_props_propose_remove(ps, &signing, 3), 0);
  ASSERT_EQ(ps->n, 3);
}

/* The op 27 append of the given proposals, as dv_mls frames it. */
static size_t append_of(const dv_dave_prop_t *const *p, size_t n, uint8_t *out, size_t cap) {
  uint8_t msgs[FX_BLOB_MAX];
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(msgs + used, p[i]->msg, p[i]->len);
    used += p[i]->len;
  }
  int len = dv_mls_op27_append(msgs, used, out, cap);
  ASSERT_TRUE(len > 0);
  return (size_t)len;
}

static void test_send_and_match(void) {
  dv_dave_props_t *ps = calloc(1, sizeof *ps);
  kp_t a, b;
  propose_round(ps, &a, &b);
  const dv_dave_prop_t *add_a = &ps->p[0], *add_b = &ps->p[1], *rm = &ps->p[2];
  ASSERT_EQ(dv_dave_props_find(ps, &add_b->ref), add_b);
  ASSERT_EQ(dv_dave_props_find(ps, &rm->ref), rm);
  ASSERT_EQ(rm->kind, DV_DAVE_PROP_REMOVE);
  ASSERT_EQ(rm->leaf, 3);
  ASSERT_MEMEQ(add_a->kp_ref.b, a.ref.b, DV_MLS_REF_LEN);
  dv_mls_ref_t unknown = {{0}};
  ASSERT_EQ(dv_dave_props_find(ps, &unknown), NULL);

  /* A gets B's Add and the Remove, never its own Add; C gets all three. */
  dv_dave_sent_t sent_a = {0}, sent_c = {0};
  nframes = 0;
  dv_dave_props_send(ps, member_a, &sent_a, capture, frames);
  dv_dave_props_send(ps, member_c, &sent_c, capture, frames);
  ASSERT_EQ(nframes, 2);
  uint8_t want[FX_BLOB_MAX];
  size_t n = append_of((const dv_dave_prop_t *const[]){add_b, rm}, 2, want, sizeof want);
  ASSERT_EQ(frames[0].who, member_a);
  ASSERT_EQ(frames[0].len, n);
  ASSERT_MEMEQ(frames[0].p, want, n);
  n = append_of((const dv_dave_prop_t *const[]){add_a, add_b, rm}, 3, want, sizeof want);
  ASSERT_EQ(frames[1].who, member_c);
  ASSERT_MEMEQ(frames[1].p, want, n);
  ASSERT_EQ(sent_a.n, 2);
  ASSERT_EQ(sent_c.n, 3);

  /* A commit names exactly what its committer was sent, in any order. */
  dv_mls_commit_t *c = calloc(1, sizeof *c);
  c->nrefs = 2;
  c->refs[0] = rm->ref;
  c->refs[1] = add_b->ref;
  ASSERT_EQ(dv_dave_props_sent_matches(&sent_a, c), 1);
  ASSERT_EQ(dv_dave_props_sent_matches(&sent_c, c), 0); /* one missing */
  c->refs[1] = add_a->ref;
  ASSERT_EQ(dv_dave_props_sent_matches(&sent_a, c), 0); /* not what A was sent */
  c->nrefs = 3;
  c->refs[2] = add_b->ref;
  ASSERT_EQ(dv_dave_props_sent_matches(&sent_a, c), 0); /* one too many */
  ASSERT_EQ(dv_dave_props_sent_matches(&sent_c, c), 1);

  /* Nothing for a member whose own Add is all there is: no frame. */
  dv_dave_props_t *only = calloc(1, sizeof *only);
  ASSERT_EQ(dv_dave_props_propose_add(only, &signing, member_a, a.kp, a.len, &a.ref), 0);
  nframes = 0;
  dv_dave_props_send(only, member_a, &sent_a, capture, frames);
  ASSERT_EQ(nframes, 0);
  ASSERT_EQ(sent_a.n, 0);
  dv_dave_props_clear(only);
  free(only);
  free(c);
  dv_dave_props_clear(ps);
  ASSERT_EQ(ps->n, 0);
  free(ps);
}

static void test_welcome(void) {
  dv_dave_props_t *ps = calloc(1, sizeof *ps);
  kp_t a, b;
  propose_round(ps, &a, &b);
  dv_mls_commit_t *c = calloc(1, sizeof *c);
  static const uint8_t welcome[1];
  c->nrefs = 2;
  c->refs[0] = ps->p[1].ref; /* Add B */
  c->refs[1] = ps->p[2].ref; /* Remove */
  c->welcome = welcome;
  c->nsecrets = 2;
  c->new_members[0] = a.ref;
  c->new_members[1] = b.ref;
  ASSERT_EQ(dv_dave_props_welcome_matches(ps, c), 1);
  c->new_members[1] = a.ref;
  ASSERT_EQ(dv_dave_props_welcome_matches(ps, c), 0); /* no secret for B */
  c->new_members[1] = b.ref;
  c->welcome = NULL;
  ASSERT_EQ(dv_dave_props_welcome_matches(ps, c), 0); /* Adds without a welcome */
  c->refs[0] = ps->p[2].ref;
  c->nrefs = 1;
  ASSERT_EQ(dv_dave_props_welcome_matches(ps, c), 1); /* a Remove alone */
  c->welcome = welcome;
  ASSERT_EQ(dv_dave_props_welcome_matches(ps, c), 0); /* a welcome without Adds */
  free(c);
  dv_dave_props_clear(ps);
  free(ps);
}

static void test_revoke(void) {
  dv_dave_props_t *ps = calloc(1, sizeof *ps);
  kp_t a, b;
  propose_round(ps, &a, &b);
  dv_mls_ref_t add_a = ps->p[0].ref, ref;
  dv_dave_sent_t sent_b = {0}, sent_c = {0};
  dv_dave_props_send(ps, member_b, &sent_b, capture, frames);
  dv_dave_props_send(ps, member_c, &sent_c, capture, frames);

  /* A left: its Add is out of the list and revoked from those holding it. */
  ASSERT_EQ(dv_dave_props_take_add_of(ps, member_a, &ref), 1);
  ASSERT_MEMEQ(ref.b, add_a.b, DV_MLS_REF_LEN);
  ASSERT_EQ(ps->n, 2);
  ASSERT_EQ(dv_dave_props_find(ps, &add_a), NULL);
  ASSERT_EQ(dv_dave_props_take_add_of(ps, member_a, &ref), 0);
  ASSERT_EQ(dv_dave_props_take_add_of(ps, NULL, &ref), 0); /* a Remove is nobody's Add */
  nframes = 0;
  dv_dave_props_revoke_one(&sent_b, &add_a, member_b, capture, frames);
  ASSERT_EQ(nframes, 1);
  uint8_t want[8 + DV_MLS_MAX_REFS * (DV_MLS_REF_LEN + 1)];
  int n = dv_mls_op27_revoke(&add_a, 1, want, sizeof want);
  ASSERT_EQ(frames[0].who, member_b);
  ASSERT_EQ(frames[0].len, (size_t)n);
  ASSERT_MEMEQ(frames[0].p, want, (size_t)n);
  ASSERT_EQ(sent_b.n, 1); /* the Remove (never its own Add) */
  for (size_t i = 0; i < sent_b.n; i++) ASSERT_TRUE(memcmp(sent_b.ref[i].b, add_a.b, 32) != 0);
  dv_dave_props_revoke_one(&sent_b, &add_a, member_b, capture, frames); /* gone already */
  ASSERT_EQ(nframes, 1);

  /* The round withdrawn: one revoke of everything the member holds. */
  n = dv_mls_op27_revoke(sent_c.ref, sent_c.n, want, sizeof want);
  dv_dave_props_revoke(&sent_c, member_c, capture, frames);
  ASSERT_EQ(nframes, 2);
  ASSERT_EQ(frames[1].who, member_c);
  ASSERT_MEMEQ(frames[1].p, want, (size_t)n);
  ASSERT_EQ(sent_c.n, 0);
  dv_dave_props_revoke(&sent_c, member_c, capture, frames); /* nothing left: no frame */
  ASSERT_EQ(nframes, 2);
  dv_dave_props_clear(ps);
  free(ps);
}

static void test_full(void) {
  dv_dave_props_t *ps = calloc(1, sizeof *ps);
  for (uint32_t i = 0; i < DV_MLS_MAX_REFS; i++)
    ASSERT_EQ(dv_dave_props_propose_remove(ps, &signing, i), 0);
  ASSERT_EQ(dv_dave_props_propose_remove(ps, &signing, 99), -ENOSPC);
  ASSERT_EQ(ps->n, DV_MLS_MAX_REFS);
  dv_dave_props_clear(ps);
  ASSERT_EQ(ps->n, 0);
  free(ps);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  load_vectors();
  static const uint8_t identity[] = "test";
  signer = dv_mls_signer_new(identity, sizeof identity - 1);
  ASSERT_TRUE(signer != NULL);
  signing = (dv_dave_signing_t){signer, vec_u64("channel"), 1};
  RUN_TEST(test_send_and_match);
  RUN_TEST(test_welcome);
  RUN_TEST(test_revoke);
  RUN_TEST(test_full);
  dv_mls_signer_free(signer);
  json_decref(vectors);
  SC_TEST_DONE();
}
