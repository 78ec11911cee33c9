/*
 * test_dv_mls: dv_mls against vectors made by the real @snazzah/davey
 * (OpenMLS) with an External Sender written in Node's crypto
 * (tests/node/dave_vectors.js -> tests/unit/data/dave/vectors.json):
 * davey key packages accepted for their user and refused otherwise, every
 * truncation refused, davey's commits and welcomes split with the refs the
 * independent code computed, the targeted welcome, and our builders'
 * bytes and signatures checked with OpenSSL directly. The cross test with
 * davey accepting what we build is tests/node/dave_mls_cross.test.js.
 * Also prints the CPU cost of a key package check and of a proposal
 * signature (never asserted).
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dave_fx.h"
#include "dv_mls.h"
#include "sc_test.h"

#define BUF_MAX 4096 /* builders' output */

static uint64_t channel, user_a, user_b, user_c, user_d, other_user;

static dv_mls_ref_t vec_ref(const char *key) {
  blob_t b = vec_blob(key);
  dv_mls_ref_t r;
  if (b.n != DV_MLS_REF_LEN) SC_FAIL("vector %s is not a ref", key);
  memcpy(r.b, b.b, DV_MLS_REF_LEN);
  return r;
}

static blob_t concat(blob_t a, blob_t b) {
  if (a.n + b.n > sizeof a.b) SC_FAIL("concat too long");
  memcpy(a.b + a.n, b.b, b.n);
  a.n += b.n;
  return a;
}

static int kp_check(const blob_t *b, uint64_t user) {
  const uint8_t *kp = NULL;
  size_t kp_len = 0;
  dv_mls_ref_t ref;
  return dv_mls_keypackage_check(b->b, b->n, user, &kp, &kp_len, &ref);
}

/* ---- key packages ---- */

static void test_keypackages_accepted(void) {
  const char *names[] = {"kp_a", "kp_b", "kp_c", "kp_d"};
  uint64_t users[] = {user_a, user_b, user_c, user_d};
  for (int i = 0; i < 4; i++) {
    blob_t b = vec_blob(names[i]);
    char ref_name[16];
    snprintf(ref_name, sizeof ref_name, "%s_ref", names[i]);
    dv_mls_ref_t want = vec_ref(ref_name), ref;
    const uint8_t *kp = NULL;
    size_t kp_len = 0;
    ASSERT_EQ(dv_mls_keypackage_check(b.b, b.n, users[i], &kp, &kp_len, &ref), DV_MLS_OK);
    ASSERT_TRUE(kp == b.b);
    ASSERT_EQ(kp_len, b.n);
    ASSERT_MEMEQ(ref.b, want.b, DV_MLS_REF_LEN);
  }
}

static void test_keypackage_mlsmessage_header_stripped(void) {
  blob_t b = {{0x00, 0x01, 0x00, 0x05}, 4};
  b = concat(b, vec_blob("kp_b"));
  const uint8_t *kp = NULL;
  size_t kp_len = 0;
  dv_mls_ref_t ref, want = vec_ref("kp_b_ref");
  ASSERT_EQ(dv_mls_keypackage_check(b.b, b.n, user_b, &kp, &kp_len, &ref), DV_MLS_OK);
  ASSERT_TRUE(kp == b.b + 4);
  ASSERT_EQ(kp_len, b.n - 4);
  ASSERT_MEMEQ(ref.b, want.b, DV_MLS_REF_LEN);
}

static void test_keypackage_wrong_user(void) {
  blob_t b = vec_blob("kp_a");
  ASSERT_EQ(kp_check(&b, other_user), DV_MLS_E_IDENTITY);
  ASSERT_EQ(kp_check(&b, user_b), DV_MLS_E_IDENTITY);
  ASSERT_STREQ(dv_mls_strerror(DV_MLS_E_IDENTITY), "wrong_identity");
}

/* Offset of the LeafNode's lifetime (source 1, 0 .. 2^64-1). */
static size_t lifetime_offset(const blob_t *b) {
  static const uint8_t pat[17] = {1,    0,    0,    0,    0,    0,    0,    0,   0,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (size_t i = 0; i + sizeof pat <= b->n; i++)
    if (memcmp(b->b + i, pat, sizeof pat) == 0) return i;
  SC_FAIL("no lifetime in the key package");
}

static void test_keypackage_tampered(void) {
  blob_t good = vec_blob("kp_c"), b;
  b = good, b.b[b.n - 1] ^= 0x01; /* KeyPackage signature */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_SIGNATURE);
  b = good, b.b[10] ^= 0x01; /* init_key: only the KeyPackage signature covers it */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_SIGNATURE);
  size_t lt = lifetime_offset(&good);
  b = good, b.b[lt - 40] ^= 0x01; /* signature_key's point: off the curve or wrong key */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_SIGNATURE);
  b = good, b.b[lt + 20] ^= 0x80; /* the leaf's signature (after <V>extensions, <V> length) */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_SIGNATURE);
  b = good, b.b[lt + 16] = 0xfe; /* not_after */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_LIFETIME);
  b = good, b.b[lt] = 2; /* leaf source update: no lifetime, then misaligned */
  ASSERT_TRUE(kp_check(&b, user_c) < 0);
  b = good, b.b[1] = 2;
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_VERSION);
  b = good, b.b[3] = 1;
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_SUITE);
  b = good, b.b[5] ^= 0x01; /* init_key's 04 prefix */
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_KEY);
  b = good, b.b[b.n++] = 0;
  ASSERT_EQ(kp_check(&b, user_c), DV_MLS_E_TRAILING);
}

static void test_keypackage_every_truncation(void) {
  blob_t good = vec_blob("kp_d");
  for (size_t n = 0; n < good.n; n++) {
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
    memcpy(copy, good.b, n);
    const uint8_t *kp;
    size_t kp_len;
    dv_mls_ref_t ref;
    int rc = dv_mls_keypackage_check(copy, n, user_d, &kp, &kp_len, &ref);
    free(copy);
    if (rc != DV_MLS_E_TRUNCATED) SC_FAIL("length %zu: %s", n, dv_mls_strerror(rc));
  }
  ASSERT_EQ(kp_check(&good, user_d), DV_MLS_OK);
}

static void test_keypackage_size_cap(void) {
  uint8_t *big = calloc(1, DV_MLS_KEYPACKAGE_MAX + 1);
  const uint8_t *kp;
  size_t kp_len;
  dv_mls_ref_t ref;
  int rc = dv_mls_keypackage_check(big, DV_MLS_KEYPACKAGE_MAX + 1, user_a, &kp, &kp_len, &ref);
  free(big);
  ASSERT_EQ(rc, DV_MLS_E_TOO_BIG);
}

/* ---- commits and welcomes ---- */

static void assert_ref(const dv_mls_ref_t *got, const char *key) {
  dv_mls_ref_t want = vec_ref(key);
  ASSERT_MEMEQ(got->b, want.b, DV_MLS_REF_LEN);
}

static void test_commit_two_adds_with_welcome(void) {
  blob_t commit = vec_blob("commit_add_b"), welcome = vec_blob("welcome_b");
  blob_t b = concat(commit, welcome);
  dv_mls_commit_t c;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_OK);
  ASSERT_EQ(c.epoch, 0);
  ASSERT_EQ(c.sender_leaf, 0);
  ASSERT_EQ(c.has_path, 0);
  ASSERT_EQ(c.commit_len, commit.n);
  ASSERT_EQ(c.nrefs, 2);
  ASSERT_TRUE(c.welcome == b.b + commit.n);
  ASSERT_EQ(c.welcome_len, welcome.n);
  ASSERT_EQ(c.nsecrets, 2);
  /* davey commits the refs in the order they came (B, then D) */
  assert_ref(&c.refs[0], "add_b_ref");
  assert_ref(&c.refs[1], "add_d_ref");
  assert_ref(&c.new_members[0], "kp_b_ref");
  assert_ref(&c.new_members[1], "kp_d_ref");
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel + 1, &c), DV_MLS_E_GROUP);
}

static void test_commit_add_at_epoch_1(void) {
  blob_t b = concat(vec_blob("commit_add_c"), vec_blob("welcome_c"));
  dv_mls_commit_t c;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_OK);
  ASSERT_EQ(c.epoch, 1);
  ASSERT_EQ(c.nrefs, 1);
  assert_ref(&c.refs[0], "add_c_ref");
  ASSERT_EQ(c.nsecrets, 1);
  assert_ref(&c.new_members[0], "kp_c_ref");
}

static void test_commit_remove_has_path_no_welcome(void) {
  blob_t b = vec_blob("commit_remove");
  dv_mls_commit_t c;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_OK);
  ASSERT_EQ(c.epoch, 2);
  ASSERT_EQ(c.sender_leaf, json_integer_value(json_object_get(vectors, "a_leaf")));
  ASSERT_EQ(c.has_path, 1);
  ASSERT_EQ(c.commit_len, b.n);
  ASSERT_TRUE(c.welcome == NULL);
  ASSERT_EQ(c.nsecrets, 0);
  ASSERT_EQ(c.nrefs, 1);
  assert_ref(&c.refs[0], "remove_b_ref");
}

static void test_commit_every_truncation(void) {
  blob_t commit = vec_blob("commit_add_b");
  blob_t good = concat(commit, vec_blob("welcome_b"));
  for (size_t n = 0; n < good.n; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, good.b, n);
    dv_mls_commit_t c;
    int rc = dv_mls_commit_parse(copy, n, channel, &c);
    free(copy);
    int want = n == commit.n ? DV_MLS_OK : DV_MLS_E_TRUNCATED;
    if (rc != want) SC_FAIL("length %zu: %s", n, dv_mls_strerror(rc));
  }
  good.b[good.n++] = 0;
  dv_mls_commit_t c;
  ASSERT_EQ(dv_mls_commit_parse(good.b, good.n, channel, &c), DV_MLS_E_TRAILING);
}

/* Header bytes of a commit from davey (empty authenticated_data). */
enum {
  OFF_WIRE = 3,
  OFF_GROUP_LEN = 4,
  OFF_SENDER_TYPE = 21,
  OFF_CONTENT_TYPE = 27,
  OFF_PROPS = 28
};

static void test_commit_bad_fields(void) {
  blob_t good = concat(vec_blob("commit_add_c"), vec_blob("welcome_c")), b;
  size_t commit_len = vec_blob("commit_add_c").n;
  dv_mls_commit_t c;
  ASSERT_EQ(good.b[OFF_CONTENT_TYPE - 1], 0); /* the layout the offsets assume */
  b = good, b.b[OFF_WIRE] = 2;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_WIRE_FORMAT);
  b = good, b.b[1] = 2;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_VERSION);
  b = good, b.b[OFF_SENDER_TYPE] = 2;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_CONTENT);
  b = good, b.b[OFF_CONTENT_TYPE] = 2;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_CONTENT);
  b = good, b.b[commit_len + 1] = 1; /* welcome suite */
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_WELCOME);
  /* a non-minimal varint: the group id's length 08 as 40 08 */
  b.n = 0;
  memcpy(b.b, good.b, OFF_GROUP_LEN);
  b.b[OFF_GROUP_LEN] = 0x40;
  memcpy(b.b + OFF_GROUP_LEN + 1, good.b + OFF_GROUP_LEN, good.n - OFF_GROUP_LEN);
  b.n = good.n + 1;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_TRUNCATED);
}

/* davey never sends an inline proposal; splice one (Remove(1)) in place of
 * the remove commit's ref. */
static void test_commit_inline_proposal_refused(void) {
  blob_t good = vec_blob("commit_remove"), b;
  ASSERT_EQ(good.b[OFF_PROPS], 1 + 1 + DV_MLS_REF_LEN);
  static const uint8_t inline_remove[8] = {7, 1, 0, 3, 0, 0, 0, 1};
  size_t rest = OFF_PROPS + 1 + 1 + 1 + DV_MLS_REF_LEN;
  memcpy(b.b, good.b, OFF_PROPS);
  memcpy(b.b + OFF_PROPS, inline_remove, sizeof inline_remove);
  memcpy(b.b + OFF_PROPS + sizeof inline_remove, good.b + rest, good.n - rest);
  b.n = OFF_PROPS + sizeof inline_remove + good.n - rest;
  dv_mls_commit_t c;
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_INLINE);
  b.b[OFF_PROPS + 1] = 9; /* an unknown ProposalOrRef type */
  ASSERT_EQ(dv_mls_commit_parse(b.b, b.n, channel, &c), DV_MLS_E_CONTENT);
}

static void test_welcome_for_one_member(void) {
  blob_t commit = vec_blob("commit_add_b"), welcome = vec_blob("welcome_b");
  dv_mls_ref_t d = vec_ref("kp_d_ref"), b_ref = vec_ref("kp_b_ref"), a = vec_ref("kp_a_ref");
  blob_t out;
  int n = dv_mls_welcome_for(welcome.b, welcome.n, &d, out.b, sizeof out.b);
  ASSERT_TRUE(n > 0 && (size_t)n < welcome.n);
  out.n = (size_t)n;
  dv_mls_commit_t c;
  blob_t both = concat(commit, out);
  ASSERT_EQ(dv_mls_commit_parse(both.b, both.n, channel, &c), DV_MLS_OK);
  ASSERT_EQ(c.nsecrets, 1);
  ASSERT_MEMEQ(c.new_members[0].b, d.b, DV_MLS_REF_LEN);
  /* B's: same size class, the other secret */
  n = dv_mls_welcome_for(welcome.b, welcome.n, &b_ref, out.b, sizeof out.b);
  ASSERT_TRUE(n > 0);
  both = concat(commit, (blob_t){{0}, 0});
  memcpy(both.b + both.n, out.b, (size_t)n);
  both.n += (size_t)n;
  ASSERT_EQ(dv_mls_commit_parse(both.b, both.n, channel, &c), DV_MLS_OK);
  ASSERT_MEMEQ(c.new_members[0].b, b_ref.b, DV_MLS_REF_LEN);
  ASSERT_EQ(dv_mls_welcome_for(welcome.b, welcome.n, &a, out.b, sizeof out.b), DV_MLS_E_WELCOME);
  ASSERT_EQ(dv_mls_welcome_for(welcome.b, welcome.n, &d, out.b, 100), DV_MLS_E_NOSPACE);
  ASSERT_EQ(dv_mls_welcome_for(welcome.b, welcome.n - 1, &d, out.b, sizeof out.b),
            DV_MLS_E_TRUNCATED);
}

/* ---- builders, checked with OpenSSL directly ---- */

static EVP_PKEY *es_public(const uint8_t *es, size_t len) {
  static const uint8_t spki[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
  uint8_t der[91];
  if (len < 67 || es[0] != 0x40 || es[1] != 0x41) SC_FAIL("op 25 does not start 40 41");
  memcpy(der, spki, 26);
  memcpy(der + 26, es + 2, 65);
  const uint8_t *p = der;
  return d2i_PUBKEY(NULL, &p, sizeof der);
}

/* msg = head (head_len bytes) || <V>signature; check the signature over
 * SignWithLabel("FramedContentTBS", head) and the ProposalRef. */
static void check_signed(EVP_PKEY *pub, const uint8_t *msg, size_t len, size_t head_len,
                         const dv_mls_ref_t *ref) {
  ASSERT_TRUE(len > head_len + 2);
  ASSERT_EQ(msg[head_len], 0x40); /* DER P-256 signatures are 64..72 bytes: 2-byte varint */
  size_t sig_len = msg[head_len + 1];
  ASSERT_TRUE(sig_len >= 64 && sig_len <= 72);
  ASSERT_EQ(head_len + 2 + sig_len, len);
  uint8_t pre[64] = {24};
  memcpy(pre + 1, "MLS 1.0 FramedContentTBS", 24);
  size_t plen = 25;
  if (head_len < 64) {
    pre[plen++] = (uint8_t)head_len;
  } else {
    pre[plen++] = (uint8_t)(0x40 | head_len >> 8);
    pre[plen++] = (uint8_t)head_len;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub), 1);
  ASSERT_EQ(EVP_DigestVerifyUpdate(ctx, pre, plen), 1);
  ASSERT_EQ(EVP_DigestVerifyUpdate(ctx, msg, head_len), 1);
  ASSERT_EQ(EVP_DigestVerifyFinal(ctx, msg + head_len + 2, sig_len), 1);
  /* ProposalRef = SHA-256(<V>"MLS 1.0 Proposal Reference" || <V>msg[2..]) */
  uint8_t lbl[32] = {26};
  memcpy(lbl + 1, "MLS 1.0 Proposal Reference", 26);
  uint8_t vl[2] = {(uint8_t)(0x40 | (len - 2) >> 8), (uint8_t)(len - 2)};
  uint8_t md[32];
  unsigned md_len;
  EVP_MD_CTX_free(ctx);
  ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
  EVP_DigestUpdate(ctx, lbl, 27);
  if (len - 2 < 64)
    EVP_DigestUpdate(ctx, vl + 1, 1);
  else
    EVP_DigestUpdate(ctx, vl, 2);
  EVP_DigestUpdate(ctx, msg + 2, len - 2);
  EVP_DigestFinal_ex(ctx, md, &md_len);
  EVP_MD_CTX_free(ctx);
  ASSERT_MEMEQ(md, ref->b, 32);
}

static void test_builders(void) {
  static const uint8_t ident[] = "litecord-voice";
  dv_mls_signer_t *s = dv_mls_signer_new(ident, sizeof ident - 1);
  ASSERT_TRUE(s != NULL);
  ASSERT_TRUE(dv_mls_signer_new(ident, 0) == NULL);
  uint8_t es[128], out[BUF_MAX];
  int es_len = dv_mls_external_sender(s, es, sizeof es);
  ASSERT_EQ(es_len, 2 + 65 + 2 + 1 + 14);
  ASSERT_EQ(es[2], 0x04);
  ASSERT_EQ(es[67] << 8 | es[68], 1);
  ASSERT_EQ(es[69], 14);
  ASSERT_MEMEQ(es + 70, ident, 14);
  ASSERT_EQ(dv_mls_external_sender(s, es, 83), DV_MLS_E_NOSPACE);
  EVP_PKEY *pub = es_public(es, (size_t)es_len);
  ASSERT_TRUE(pub != NULL);

  /* Add(KP_B) at epoch 0: the same bytes as the Node-built add_b up to the
   * signature (ECDSA signatures differ per signing). */
  blob_t kp = vec_blob("kp_b"), add_b = vec_blob("add_b");
  dv_mls_ref_t ref;
  int n = dv_mls_propose_add(s, channel, 0, kp.b, kp.n, out, sizeof out, &ref);
  size_t head = 30 + kp.n;
  ASSERT_TRUE(n > 0);
  ASSERT_MEMEQ(out, add_b.b, head);
  check_signed(pub, out, (size_t)n, head, &ref);
  ASSERT_EQ(dv_mls_propose_add(s, channel, 0, kp.b, kp.n, out, head + 10, &ref), DV_MLS_E_NOSPACE);

  /* Remove(leaf 1) at epoch 2, against remove_b */
  blob_t rm = vec_blob("remove_b");
  n = dv_mls_propose_remove(s, channel, 2, 1, out, sizeof out, &ref);
  ASSERT_TRUE(n > 0);
  ASSERT_MEMEQ(out, rm.b, 34);
  check_signed(pub, out, (size_t)n, 34, &ref);
  ASSERT_EQ(dv_mls_propose_remove(s, channel, 2, 1, out, 40, &ref), DV_MLS_E_NOSPACE);
  EVP_PKEY_free(pub);
  dv_mls_signer_free(s);
}

static void test_op27_payloads(void) {
  uint8_t msgs[100], out[256];
  memset(msgs, 0xab, sizeof msgs);
  int n = dv_mls_op27_append(msgs, sizeof msgs, out, sizeof out);
  ASSERT_EQ(n, 1 + 2 + 100);
  ASSERT_EQ(out[0], 0);
  ASSERT_EQ(out[1], 0x40);
  ASSERT_EQ(out[2], 100);
  ASSERT_MEMEQ(out + 3, msgs, 100);
  ASSERT_EQ(dv_mls_op27_append(msgs, sizeof msgs, out, 102), DV_MLS_E_NOSPACE);
  dv_mls_ref_t refs[2];
  memset(refs[0].b, 1, 32);
  memset(refs[1].b, 2, 32);
  n = dv_mls_op27_revoke(refs, 2, out, sizeof out);
  ASSERT_EQ(n, 1 + 2 + 2 * 33);
  ASSERT_EQ(out[0], 1);
  ASSERT_EQ(out[1], 0x40);
  ASSERT_EQ(out[2], 66);
  ASSERT_EQ(out[3], 32);
  ASSERT_MEMEQ(out + 4, refs[0].b, 32);
  ASSERT_EQ(out[36], 32);
  ASSERT_MEMEQ(out + 37, refs[1].b, 32);
  n = dv_mls_op27_revoke(refs, 1, out, sizeof out);
  ASSERT_EQ(n, 1 + 1 + 33);
  ASSERT_EQ(out[1], 33);
  ASSERT_EQ(dv_mls_op27_revoke(refs, 2, out, 60), DV_MLS_E_NOSPACE);
}

/* CPU per key package check and per Add signature, printed only. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_cpu_cost_printed(void) {
  enum { N = 200 };
  blob_t kp = vec_blob("kp_a");
  double t0 = cpu_now();
  for (int i = 0; i < N; i++) ASSERT_EQ(kp_check(&kp, user_a), DV_MLS_OK);
  double t1 = cpu_now();
  dv_mls_signer_t *s = dv_mls_signer_new((const uint8_t *)"x", 1);
  uint8_t out[BUF_MAX];
  dv_mls_ref_t ref;
  for (int i = 0; i < N; i++)
    ASSERT_TRUE(dv_mls_propose_add(s, channel, 0, kp.b, kp.n, out, sizeof out, &ref) > 0);
  double t2 = cpu_now();
  dv_mls_signer_free(s);
  printf("dv_mls cpu: keypackage_check %.1f us, propose_add %.1f us (mean of %d)\n",
         (t1 - t0) / N * 1e6, (t2 - t1) / N * 1e6, N);
}

static void read_vectors(void) {
  load_vectors();
  channel = vec_u64("channel");
  user_a = vec_u64("user_a");
  user_b = vec_u64("user_b");
  user_c = vec_u64("user_c");
  user_d = vec_u64("user_d");
  other_user = vec_u64("other_user");
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  read_vectors();
  RUN_TEST(test_keypackages_accepted);
  RUN_TEST(test_keypackage_mlsmessage_header_stripped);
  RUN_TEST(test_keypackage_wrong_user);
  RUN_TEST(test_keypackage_tampered);
  RUN_TEST(test_keypackage_every_truncation);
  RUN_TEST(test_keypackage_size_cap);
  RUN_TEST(test_commit_two_adds_with_welcome);
  RUN_TEST(test_commit_add_at_epoch_1);
  RUN_TEST(test_commit_remove_has_path_no_welcome);
  RUN_TEST(test_commit_every_truncation);
  RUN_TEST(test_commit_bad_fields);
  RUN_TEST(test_commit_inline_proposal_refused);
  RUN_TEST(test_welcome_for_one_member);
  RUN_TEST(test_builders);
  RUN_TEST(test_op27_payloads);
  RUN_TEST(test_cpu_cost_printed);
  json_decref(vectors);
  SC_TEST_DONE();
}
