/*
 * dv_mls: see dv_mls.h. TLS-presentation reading and writing with MLS
 * varint lengths (RFC 9420 §2.1.2), ECDSA P-256 and SHA-256 from OpenSSL.
 */
#include "dv_mls.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define P256_POINT_LEN 65
#define SIG_MAX 72 /* DER ECDSA P-256 */
#define IDENTITY_MAX 64
#define VARINT_MAX 0x3fffffffu

#define TRY(x)             \
  do {                     \
    int e_ = (x);          \
    if (e_ < 0) return e_; \
  } while (0)

const char *dv_mls_strerror(int err) {
  switch (err) {
    case DV_MLS_OK: return "ok";
    case DV_MLS_E_TRUNCATED: return "truncated";
    case DV_MLS_E_TRAILING: return "trailing_bytes";
    case DV_MLS_E_TOO_BIG: return "too_big";
    case DV_MLS_E_VERSION: return "bad_version";
    case DV_MLS_E_SUITE: return "bad_suite";
    case DV_MLS_E_CREDENTIAL: return "bad_credential";
    case DV_MLS_E_IDENTITY: return "wrong_identity";
    case DV_MLS_E_LIFETIME: return "bad_lifetime";
    case DV_MLS_E_SIGNATURE: return "bad_signature";
    case DV_MLS_E_WIRE_FORMAT: return "bad_wire_format";
    case DV_MLS_E_CONTENT: return "bad_content";
    case DV_MLS_E_GROUP: return "wrong_group";
    case DV_MLS_E_INLINE: return "inline_proposal";
    case DV_MLS_E_WELCOME: return "bad_welcome";
    case DV_MLS_E_NOSPACE: return "no_space";
    case DV_MLS_E_CRYPTO: return "crypto_error";
    case DV_MLS_E_KEY: return "bad_key";
    default: return "unknown";
  }
}

/* ---- reading ---- */

typedef struct {
  const uint8_t *b;
  size_t n, off;
} rd_t;

static int r_bytes(rd_t *r, size_t k, const uint8_t **p) {
  if (r->n - r->off < k) return DV_MLS_E_TRUNCATED;
  *p = r->b + r->off;
  r->off += k;
  return 0;
}

static int r_uint(rd_t *r, size_t k, uint64_t *v) {
  const uint8_t *p;
  TRY(r_bytes(r, k, &p));
  *v = 0;
  for (size_t i = 0; i < k; i++) *v = *v << 8 | p[i];
  return 0;
}

/* An MLS varint; a length in a wider form than needed is refused, as
 * OpenMLS does (a second encoding of the same bytes would change refs). */
static int r_varint(rd_t *r, size_t *v) {
  if (r->off >= r->n) return DV_MLS_E_TRUNCATED;
  unsigned prefix = r->b[r->off] >> 6;
  if (prefix == 3) return DV_MLS_E_TRUNCATED;
  size_t width = (size_t)1 << prefix;
  uint64_t x;
  TRY(r_uint(r, width, &x));
  x &= (uint64_t)0x3fffffff >> (8 * (4 - width));
  if ((width == 2 && x < 64) || (width == 4 && x < 16384)) return DV_MLS_E_TRUNCATED;
  *v = (size_t)x;
  return 0;
}

static int r_vec(rd_t *r, const uint8_t **p, size_t *len) {
  TRY(r_varint(r, len));
  return r_bytes(r, *len, p);
}

static int r_u8(rd_t *r, uint8_t *v) {
  uint64_t x;
  TRY(r_uint(r, 1, &x));
  *v = (uint8_t)x;
  return 0;
}

static int r_u16(rd_t *r, uint16_t *v) {
  uint64_t x;
  TRY(r_uint(r, 2, &x));
  *v = (uint16_t)x;
  return 0;
}

static int r_u32(rd_t *r, uint32_t *v) {
  uint64_t x;
  TRY(r_uint(r, 4, &x));
  *v = (uint32_t)x;
  return 0;
}

/* ---- writing ---- */

typedef struct {
  uint8_t *b;
  size_t cap, n;
  int over;
} wr_t;

static void w_bytes(wr_t *w, const void *p, size_t k) {
  if (w->over || w->cap - w->n < k) {
    w->over = 1;
    return;
  }
  if (k) memcpy(w->b + w->n, p, k);
  w->n += k;
}

static void w_uint(wr_t *w, uint64_t v, size_t k) {
  uint8_t b[8];
  for (size_t i = 0; i < k; i++) b[i] = (uint8_t)(v >> (8 * (k - 1 - i)));
  w_bytes(w, b, k);
}

/* Minimal MLS varint (callers never pass more than VARINT_MAX). */
static size_t varint_put(uint8_t *b, size_t v) {
  if (v < 64) {
    b[0] = (uint8_t)v;
    return 1;
  }
  if (v < 16384) {
    b[0] = (uint8_t)(0x40 | v >> 8);
    b[1] = (uint8_t)v;
    return 2;
  }
  b[0] = (uint8_t)(0x80 | v >> 24);
  b[1] = (uint8_t)(v >> 16);
  b[2] = (uint8_t)(v >> 8);
  b[3] = (uint8_t)v;
  return 4;
}

static void w_varint(wr_t *w, size_t v) {
  uint8_t b[4];
  if (v > VARINT_MAX) {
    w->over = 1;
    return;
  }
  w_bytes(w, b, varint_put(b, v));
}

static void w_vec(wr_t *w, const void *p, size_t k) {
  w_varint(w, k);
  w_bytes(w, p, k);
}

static int w_done(const wr_t *w) {
  return w->over ? DV_MLS_E_NOSPACE : (int)w->n;
}

/* ---- crypto (reference 4.2) ---- */

/* A P-256 public key from a SEC1 uncompressed point, through a DER
 * SubjectPublicKeyInfo (OpenSSL checks that the point is on the curve). */
static EVP_PKEY *p256_public(const uint8_t *pt, size_t len) {
  static const uint8_t spki_prefix[26] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
  uint8_t der[sizeof spki_prefix + P256_POINT_LEN];
  if (len != P256_POINT_LEN || pt[0] != 0x04) return NULL;
  memcpy(der, spki_prefix, sizeof spki_prefix);
  memcpy(der + sizeof spki_prefix, pt, P256_POINT_LEN);
  const uint8_t *p = der;
  return d2i_PUBKEY(NULL, &p, (long)sizeof der);
}

/* <V>("MLS 1.0 " + label) || varint(len): what SignWithLabel puts before
 * the content. Labels are short constants (< 56 bytes). */
static size_t label_prefix(const char *label, size_t content_len, uint8_t *out) {
  size_t ll = strlen(label);
  out[0] = (uint8_t)(8 + ll);
  memcpy(out + 1, "MLS 1.0 ", 8);
  memcpy(out + 9, label, ll);
  return 9 + ll + varint_put(out + 9 + ll, content_len);
}

static int sign_with_label(EVP_PKEY *key, const char *label, const uint8_t *c, size_t clen,
                           uint8_t *sig, size_t *sig_len) {
  uint8_t pre[80];
  size_t plen = label_prefix(label, clen, pre);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
           EVP_DigestSignUpdate(ctx, pre, plen) == 1 && EVP_DigestSignUpdate(ctx, c, clen) == 1 &&
           (*sig_len = SIG_MAX, EVP_DigestSignFinal(ctx, sig, sig_len) == 1);
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : DV_MLS_E_CRYPTO;
}

static int verify_with_label(EVP_PKEY *key, const char *label, const uint8_t *c, size_t clen,
                             const uint8_t *sig, size_t sig_len) {
  uint8_t pre[80];
  size_t plen = label_prefix(label, clen, pre);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
           EVP_DigestVerifyUpdate(ctx, pre, plen) == 1 &&
           EVP_DigestVerifyUpdate(ctx, c, clen) == 1 &&
           EVP_DigestVerifyFinal(ctx, sig, sig_len) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : DV_MLS_E_SIGNATURE;
}

/* RefHash(label, value) = SHA-256(<V>label || <V>value). */
static int ref_hash(const char *label, const uint8_t *v, size_t vlen, dv_mls_ref_t *ref) {
  uint8_t pre[80];
  size_t ll = strlen(label);
  pre[0] = (uint8_t)ll;
  memcpy(pre + 1, label, ll);
  size_t plen = 1 + ll + varint_put(pre + 1 + ll, vlen);
  unsigned out_len = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, pre, plen) == 1 && EVP_DigestUpdate(ctx, v, vlen) == 1 &&
           EVP_DigestFinal_ex(ctx, ref->b, &out_len) == 1 && out_len == DV_MLS_REF_LEN;
  EVP_MD_CTX_free(ctx);
  return ok ? 0 : DV_MLS_E_CRYPTO;
}

/* ---- LeafNode (RFC 9420 §7.2) ---- */

typedef struct {
  const uint8_t *enc_key, *sig_key, *identity, *sig;
  size_t enc_len, sig_key_len, id_len, sig_len;
  uint16_t cred_type;
  uint8_t source;
  uint64_t not_before, not_after;
  const uint8_t *tbs; /* the leaf's bytes before its signature */
  size_t tbs_len;
} leaf_t;

/* A vector of u16 (the capability lists). */
static int r_u16_list(rd_t *r) {
  const uint8_t *p;
  size_t len;
  TRY(r_vec(r, &p, &len));
  return len % 2 ? DV_MLS_E_TRUNCATED : 0;
}

static int parse_leaf(rd_t *r, leaf_t *l) {
  size_t start = r->off;
  const uint8_t *p;
  size_t len;
  TRY(r_vec(r, &l->enc_key, &l->enc_len));
  TRY(r_vec(r, &l->sig_key, &l->sig_key_len));
  TRY(r_u16(r, &l->cred_type));
  if (l->cred_type != 1) return DV_MLS_E_CREDENTIAL;
  TRY(r_vec(r, &l->identity, &l->id_len));
  for (int i = 0; i < 5; i++) TRY(r_u16_list(r));
  TRY(r_u8(r, &l->source));
  if (l->source == 1) {
    TRY(r_uint(r, 8, &l->not_before));
    TRY(r_uint(r, 8, &l->not_after));
  } else if (l->source == 3) {
    TRY(r_vec(r, &p, &len));
  } else if (l->source != 2) {
    return DV_MLS_E_LIFETIME;
  }
  TRY(r_vec(r, &p, &len)); /* extensions */
  l->tbs = r->b + start;
  l->tbs_len = r->off - start;
  return r_vec(r, &l->sig, &l->sig_len);
}

static int is_p256_point(const uint8_t *p, size_t len) {
  return len == P256_POINT_LEN && p[0] == 0x04;
}

/* ---- op 26 (reference 4.4) ---- */

/* The structure and every check that needs no crypto. */
static int keypackage_fields(rd_t *r, uint64_t user_id, leaf_t *leaf, const uint8_t **sig,
                             size_t *sig_len) {
  uint16_t version, suite;
  const uint8_t *p;
  size_t len;
  TRY(r_u16(r, &version));
  if (version != 1) return DV_MLS_E_VERSION;
  TRY(r_u16(r, &suite));
  if (suite != 2) return DV_MLS_E_SUITE;
  TRY(r_vec(r, &p, &len));
  if (!is_p256_point(p, len)) return DV_MLS_E_KEY;
  TRY(parse_leaf(r, leaf));
  TRY(r_vec(r, &p, &len)); /* extensions */
  size_t tbs_len = r->off;
  TRY(r_vec(r, sig, sig_len));
  if (r->off != r->n) return DV_MLS_E_TRAILING;
  if (!is_p256_point(leaf->enc_key, leaf->enc_len)) return DV_MLS_E_KEY;
  if (!is_p256_point(leaf->sig_key, leaf->sig_key_len)) return DV_MLS_E_SIGNATURE;
  if (leaf->id_len != 8) return DV_MLS_E_CREDENTIAL;
  uint8_t want[8];
  for (int i = 0; i < 8; i++) want[i] = (uint8_t)(user_id >> (56 - 8 * i));
  if (memcmp(leaf->identity, want, 8) != 0) return DV_MLS_E_IDENTITY;
  if (leaf->source != 1 || leaf->not_before != 0 || leaf->not_after != UINT64_MAX)
    return DV_MLS_E_LIFETIME;
  return (int)tbs_len;
}

int dv_mls_keypackage_check(const uint8_t *buf, size_t len, uint64_t user_id, const uint8_t **kp,
                            size_t *kp_len, dv_mls_ref_t *ref) {
  static const uint8_t mls_header[4] = {0x00, 0x01, 0x00, 0x05};
  if (len >= 4 && memcmp(buf, mls_header, 4) == 0) buf += 4, len -= 4;
  if (len > DV_MLS_KEYPACKAGE_MAX) return DV_MLS_E_TOO_BIG;
  rd_t r = {buf, len, 0};
  leaf_t leaf;
  const uint8_t *sig;
  size_t sig_len;
  int tbs_len = keypackage_fields(&r, user_id, &leaf, &sig, &sig_len);
  if (tbs_len < 0) return tbs_len;
  EVP_PKEY *key = p256_public(leaf.sig_key, leaf.sig_key_len);
  if (!key) return DV_MLS_E_SIGNATURE;
  int rc = verify_with_label(key, "LeafNodeTBS", leaf.tbs, leaf.tbs_len, leaf.sig, leaf.sig_len);
  if (rc == 0) rc = verify_with_label(key, "KeyPackageTBS", buf, (size_t)tbs_len, sig, sig_len);
  EVP_PKEY_free(key);
  TRY(rc);
  TRY(ref_hash("MLS 1.0 KeyPackage Reference", buf, len, ref));
  *kp = buf;
  *kp_len = len;
  return DV_MLS_OK;
}

/* ---- the External Sender (reference 4.3) ---- */

struct dv_mls_signer {
  EVP_PKEY *key;
  uint8_t pub[P256_POINT_LEN];
  uint8_t identity[IDENTITY_MAX];
  size_t identity_len;
};

dv_mls_signer_t *dv_mls_signer_new(const uint8_t *identity, size_t identity_len) {
  if (identity_len < 1 || identity_len > IDENTITY_MAX) return NULL;
  dv_mls_signer_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  size_t pub_len = 0;
  s->key = EVP_EC_gen("P-256");
  if (!s->key ||
      EVP_PKEY_get_octet_string_param(s->key, OSSL_PKEY_PARAM_PUB_KEY, s->pub, sizeof s->pub,
                                      &pub_len) != 1 ||
      !is_p256_point(s->pub, pub_len)) {
    dv_mls_signer_free(s);
    return NULL;
  }
  memcpy(s->identity, identity, identity_len);
  s->identity_len = identity_len;
  return s;
}

void dv_mls_signer_free(dv_mls_signer_t *s) {
  if (!s) return;
  EVP_PKEY_free(s->key);
  free(s);
}

int dv_mls_external_sender(const dv_mls_signer_t *s, uint8_t *out, size_t cap) {
  wr_t w = {out, cap, 0, 0};
  w_vec(&w, s->pub, sizeof s->pub);
  w_uint(&w, 1, 2); /* basic credential */
  w_vec(&w, s->identity, s->identity_len);
  return w_done(&w);
}

/* ---- op 27 (reference 4.5) ---- */

/* Everything of an external proposal's PublicMessage up to and including
 * its Proposal: version, wire format, FramedContent. */
static void proposal_head(wr_t *w, uint64_t group_id, uint64_t epoch, uint16_t type) {
  w_uint(w, 1, 2);        /* mls10 */
  w_uint(w, 1, 2);        /* mls_public_message */
  w_varint(w, 8);         /* group_id */
  w_uint(w, group_id, 8); /* the channel id */
  w_uint(w, epoch, 8);
  w_uint(w, 2, 1); /* sender_type external */
  w_uint(w, 0, 4); /* sender_index: the one external sender */
  w_varint(w, 0);  /* authenticated_data */
  w_uint(w, 2, 1); /* content_type proposal */
  w_uint(w, type, 2);
}

/* Signs the FramedContentTBS (all of out so far: an external sender adds
 * no GroupContext), appends <V>signature and computes the ProposalRef over
 * the AuthenticatedContent (the message without its version). */
static int proposal_sign(const dv_mls_signer_t *s, wr_t *w, dv_mls_ref_t *ref) {
  uint8_t sig[SIG_MAX];
  size_t sig_len;
  if (w->over) return DV_MLS_E_NOSPACE;
  TRY(sign_with_label(s->key, "FramedContentTBS", w->b, w->n, sig, &sig_len));
  w_vec(w, sig, sig_len);
  if (w->over) return DV_MLS_E_NOSPACE;
  TRY(ref_hash("MLS 1.0 Proposal Reference", w->b + 2, w->n - 2, ref));
  return (int)w->n;
}

int dv_mls_propose_add(const dv_mls_signer_t *s, uint64_t group_id, uint64_t epoch,
                       const uint8_t *kp, size_t kp_len, uint8_t *out, size_t cap,
                       dv_mls_ref_t *ref) {
  if (kp_len > DV_MLS_KEYPACKAGE_MAX) return DV_MLS_E_TOO_BIG;
  wr_t w = {out, cap, 0, 0};
  proposal_head(&w, group_id, epoch, 1);
  w_bytes(&w, kp, kp_len);
  return proposal_sign(s, &w, ref);
}

int dv_mls_propose_remove(const dv_mls_signer_t *s, uint64_t group_id, uint64_t epoch,
                          uint32_t leaf, uint8_t *out, size_t cap, dv_mls_ref_t *ref) {
  wr_t w = {out, cap, 0, 0};
  proposal_head(&w, group_id, epoch, 3);
  w_uint(&w, leaf, 4);
  return proposal_sign(s, &w, ref);
}

int dv_mls_op27_append(const uint8_t *msgs, size_t msgs_len, uint8_t *out, size_t cap) {
  wr_t w = {out, cap, 0, 0};
  w_uint(&w, 0, 1);
  w_vec(&w, msgs, msgs_len);
  return w_done(&w);
}

int dv_mls_op27_revoke(const dv_mls_ref_t *refs, size_t n, uint8_t *out, size_t cap) {
  wr_t w = {out, cap, 0, 0};
  if (n > VARINT_MAX / (1 + DV_MLS_REF_LEN)) return DV_MLS_E_NOSPACE;
  w_uint(&w, 1, 1);
  w_varint(&w, n * (1 + DV_MLS_REF_LEN));
  for (size_t i = 0; i < n; i++) w_vec(&w, refs[i].b, DV_MLS_REF_LEN);
  return w_done(&w);
}

/* ---- op 28 (reference 4.6) ---- */

static int framed_commit_head(rd_t *r, uint64_t group_id, dv_mls_commit_t *c) {
  uint16_t version, wire;
  uint8_t sender_type, content_type;
  const uint8_t *p;
  size_t len;
  TRY(r_u16(r, &version));
  if (version != 1) return DV_MLS_E_VERSION;
  TRY(r_u16(r, &wire));
  if (wire != 1) return DV_MLS_E_WIRE_FORMAT;
  TRY(r_vec(r, &p, &len));
  uint64_t gid = 0;
  for (size_t i = 0; i < len && i < 8; i++) gid = gid << 8 | p[i];
  if (len != 8 || gid != group_id) return DV_MLS_E_GROUP;
  TRY(r_uint(r, 8, &c->epoch));
  TRY(r_u8(r, &sender_type));
  if (sender_type != 1) return DV_MLS_E_CONTENT;
  TRY(r_u32(r, &c->sender_leaf));
  TRY(r_vec(r, &p, &len)); /* authenticated_data */
  TRY(r_u8(r, &content_type));
  return content_type == 3 ? 0 : DV_MLS_E_CONTENT;
}

/* Commit.proposals: ProposalOrRef, refs only. */
static int commit_refs(rd_t *r, dv_mls_commit_t *c) {
  const uint8_t *p;
  size_t len;
  TRY(r_vec(r, &p, &len));
  rd_t l = {p, len, 0};
  c->nrefs = 0;
  while (l.off < l.n) {
    uint8_t type;
    TRY(r_u8(&l, &type));
    if (type == 1) return DV_MLS_E_INLINE;
    if (type != 2) return DV_MLS_E_CONTENT;
    const uint8_t *ref;
    size_t ref_len;
    TRY(r_vec(&l, &ref, &ref_len));
    if (ref_len != DV_MLS_REF_LEN) return DV_MLS_E_CONTENT;
    if (c->nrefs == DV_MLS_MAX_REFS) return DV_MLS_E_TOO_BIG;
    memcpy(c->refs[c->nrefs++].b, ref, DV_MLS_REF_LEN);
  }
  return c->nrefs ? 0 : DV_MLS_E_CONTENT;
}

static int commit_path(rd_t *r, dv_mls_commit_t *c) {
  uint8_t present;
  TRY(r_u8(r, &present));
  if (present > 1) return DV_MLS_E_CONTENT;
  c->has_path = present;
  if (!present) return 0;
  leaf_t leaf;
  const uint8_t *p;
  size_t len;
  TRY(parse_leaf(r, &leaf));
  if (leaf.source != 3) return DV_MLS_E_CONTENT;
  return r_vec(r, &p, &len); /* nodes: opaque here */
}

typedef struct {
  uint16_t suite;
  const uint8_t *secrets; /* the secrets vector's content */
  size_t secrets_len;
  const uint8_t *egi; /* encrypted_group_info, without its length */
  size_t egi_len;
} welcome_t;

/* One EncryptedGroupSecrets: new_member, then HPKECiphertext. */
static int welcome_secret(rd_t *r, const uint8_t **member) {
  const uint8_t *p;
  size_t len;
  TRY(r_vec(r, member, &len));
  if (len != DV_MLS_REF_LEN) return DV_MLS_E_WELCOME;
  TRY(r_vec(r, &p, &len));   /* kem_output */
  return r_vec(r, &p, &len); /* ciphertext */
}

/* Walks a bare Welcome (nothing after it) and, when c is given, fills its
 * new_member refs. More than DV_MLS_MAX_WELCOME_SECRETS is refused. */
static int welcome_parse(rd_t *r, welcome_t *w, dv_mls_commit_t *c) {
  TRY(r_u16(r, &w->suite));
  if (w->suite != 2) return DV_MLS_E_WELCOME;
  TRY(r_vec(r, &w->secrets, &w->secrets_len));
  TRY(r_vec(r, &w->egi, &w->egi_len));
  if (r->off != r->n) return DV_MLS_E_TRAILING;
  rd_t s = {w->secrets, w->secrets_len, 0};
  size_t count = 0;
  while (s.off < s.n) {
    const uint8_t *member;
    TRY(welcome_secret(&s, &member));
    if (count == DV_MLS_MAX_WELCOME_SECRETS) return DV_MLS_E_TOO_BIG;
    if (c) memcpy(c->new_members[count].b, member, DV_MLS_REF_LEN);
    count++;
  }
  if (c) c->nsecrets = count;
  return count ? 0 : DV_MLS_E_WELCOME;
}

int dv_mls_commit_parse(const uint8_t *buf, size_t len, uint64_t group_id, dv_mls_commit_t *out) {
  rd_t r = {buf, len, 0};
  const uint8_t *p;
  size_t plen;
  memset(out, 0, sizeof *out);
  TRY(framed_commit_head(&r, group_id, out));
  TRY(commit_refs(&r, out));
  TRY(commit_path(&r, out));
  TRY(r_vec(&r, &p, &plen)); /* signature */
  TRY(r_vec(&r, &p, &plen)); /* confirmation_tag */
  TRY(r_vec(&r, &p, &plen)); /* membership_tag */
  out->commit_len = r.off;
  if (r.off == len) return DV_MLS_OK;
  rd_t wr = {buf + r.off, len - r.off, 0};
  welcome_t w;
  TRY(welcome_parse(&wr, &w, out));
  out->welcome = buf + r.off;
  out->welcome_len = len - r.off;
  return DV_MLS_OK;
}

int dv_mls_welcome_for(const uint8_t *welcome, size_t len, const dv_mls_ref_t *member, uint8_t *out,
                       size_t cap) {
  rd_t r = {welcome, len, 0};
  welcome_t w;
  TRY(welcome_parse(&r, &w, NULL));
  rd_t s = {w.secrets, w.secrets_len, 0};
  while (s.off < s.n) {
    size_t start = s.off;
    const uint8_t *m;
    TRY(welcome_secret(&s, &m));
    if (memcmp(m, member->b, DV_MLS_REF_LEN) != 0) continue;
    wr_t o = {out, cap, 0, 0};
    w_uint(&o, w.suite, 2);
    w_vec(&o, w.secrets + start, s.off - start);
    w_vec(&o, w.egi, w.egi_len);
    return w_done(&o);
  }
  return DV_MLS_E_WELCOME;
}
