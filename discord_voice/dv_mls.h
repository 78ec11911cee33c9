/*
 * dv_mls: the MLS (RFC 9420) wire format that DAVE's Delivery Service and
 * External Sender need, and nothing more (no HPKE, no key schedule, no
 * tree). Reference: /work/shared/reference/dave-server.md section 4.
 *
 * Parsers are pure functions over (buf, len): they read nothing else, keep
 * no state and never allocate. Builders write into a caller's buffer.
 * The signer owns one ECDSA P-256 key (OpenSSL EVP_PKEY) and its identity.
 *
 * Threads: any; nothing here is shared. The control thread runs it.
 * Memory: dv_mls_signer_new allocates, dv_mls_signer_free frees. Nothing
 * else allocates; returned pointers point into the caller's buffer.
 *
 * CONTRACT (session 8): the signatures below are fixed; the implementer
 * may add functions and error codes, not change these.
 */
#ifndef DV_MLS_H
#define DV_MLS_H

#include <stddef.h>
#include <stdint.h>

#define DV_MLS_REF_LEN 32
#define DV_MLS_KEYPACKAGE_MAX 4096 /* op 26 payloads above this are refused */
#define DV_MLS_MAX_REFS 64         /* proposals per commit we accept */
#define DV_MLS_MAX_WELCOME_SECRETS 64

typedef struct {
  uint8_t b[DV_MLS_REF_LEN];
} dv_mls_ref_t;

typedef enum {
  DV_MLS_OK = 0,
  DV_MLS_E_TRUNCATED = -1,  /* ran out of bytes, or a bad/non-minimal varint */
  DV_MLS_E_TRAILING = -2,   /* bytes after the structure */
  DV_MLS_E_TOO_BIG = -3,    /* over a size cap */
  DV_MLS_E_VERSION = -4,    /* protocol version != 1 */
  DV_MLS_E_SUITE = -5,      /* cipher suite != 2 */
  DV_MLS_E_CREDENTIAL = -6, /* not a basic credential, or identity not 8 bytes */
  DV_MLS_E_IDENTITY = -7,   /* identity != the authenticated user id */
  DV_MLS_E_LIFETIME = -8,   /* leaf source != key_package, or lifetime != 0..2^64-1 */
  DV_MLS_E_SIGNATURE = -9,  /* a signature does not verify / key not a P-256 point */
  DV_MLS_E_WIRE_FORMAT = -10,
  DV_MLS_E_CONTENT = -11, /* content/sender type not what the message must be */
  DV_MLS_E_GROUP = -12,   /* group id is not this call's */
  DV_MLS_E_INLINE = -13,  /* a commit with an inline proposal */
  DV_MLS_E_WELCOME = -14, /* welcome malformed, wrong suite, or missing a secret */
  DV_MLS_E_NOSPACE = -15, /* caller's output buffer too small */
  DV_MLS_E_CRYPTO = -16,  /* OpenSSL failed (signing, hashing) */
  DV_MLS_E_KEY = -17,     /* an HPKE key (init/encryption) is not a 65-byte P-256 point */
} dv_mls_err_t;

/* A short stable name for logs and counters ("bad_signature", ...). */
const char *dv_mls_strerror(int err);

/* ---- op 26: a key package (bare KeyPackage; a 4-byte 00 01 00 05
 * MLSMessage header is tolerated and stripped). Checks everything in
 * reference 4.4, including both signatures and identity == user_id as
 * 8 big-endian bytes. On success *kp, *kp_len point at the bare KeyPackage
 * inside buf and *ref is its KeyPackageRef. */
int dv_mls_keypackage_check(const uint8_t *buf, size_t len, uint64_t user_id, const uint8_t **kp,
                            size_t *kp_len, dv_mls_ref_t *ref);

/* ---- the External Sender (op 25) ---- */
typedef struct dv_mls_signer dv_mls_signer_t;
/* A fresh P-256 key from OpenSSL's CSPRNG and the given identity
 * (1..64 bytes). NULL on failure. */
dv_mls_signer_t *dv_mls_signer_new(const uint8_t *identity, size_t identity_len);
void dv_mls_signer_free(dv_mls_signer_t *s);
/* op 25 payload (ExternalSender: <V>signature_key, u16 1, <V>identity).
 * Returns its length or DV_MLS_E_NOSPACE. */
int dv_mls_external_sender(const dv_mls_signer_t *s, uint8_t *out, size_t cap);

/* ---- op 27 proposals: one signed PublicMessage each (reference 4.5).
 * group_id is the channel id (the 8-byte big-endian group id). Returns
 * the MLSMessage length and its ProposalRef, or a negative error. */
int dv_mls_propose_add(const dv_mls_signer_t *s, uint64_t group_id, uint64_t epoch,
                       const uint8_t *kp, size_t kp_len, uint8_t *out, size_t cap,
                       dv_mls_ref_t *ref);
int dv_mls_propose_remove(const dv_mls_signer_t *s, uint64_t group_id, uint64_t epoch,
                          uint32_t leaf, uint8_t *out, size_t cap, dv_mls_ref_t *ref);
/* op 27 payloads (after the op byte): u8 0 + <V>(messages concatenated),
 * or u8 1 + <V>(<V>ref ...). Return the length or DV_MLS_E_NOSPACE. */
int dv_mls_op27_append(const uint8_t *msgs, size_t msgs_len, uint8_t *out, size_t cap);
int dv_mls_op27_revoke(const dv_mls_ref_t *refs, size_t n, uint8_t *out, size_t cap);

/* ---- op 28: commit (+ welcome), reference 4.6 ---- */
typedef struct {
  uint64_t epoch;
  uint32_t sender_leaf;
  int has_path;      /* an UpdatePath is present */
  size_t commit_len; /* buf[0 .. commit_len) is the commit MLSMessage (for op 29) */
  size_t nrefs;      /* proposal refs, in the commit's order */
  dv_mls_ref_t refs[DV_MLS_MAX_REFS];
  const uint8_t *welcome; /* NULL if none; else points into buf */
  size_t welcome_len;
  size_t nsecrets; /* the welcome's new_member KeyPackageRefs, in order */
  dv_mls_ref_t new_members[DV_MLS_MAX_WELCOME_SECRETS];
} dv_mls_commit_t;
/* Splits and checks the structure: wire format 1, member sender, commit
 * content, group id == group_id, refs only (DV_MLS_E_INLINE otherwise),
 * a well-formed welcome of suite 2 if present, nothing trailing. Does not
 * check epoch, sender leaf or the ref set against the call: the caller
 * (dv_dave) does, with the fields filled here. */
int dv_mls_commit_parse(const uint8_t *buf, size_t len, uint64_t group_id, dv_mls_commit_t *out);
/* op 30's welcome for one added member: the welcome with only the secret
 * whose new_member == *member. Returns the length, or DV_MLS_E_WELCOME if
 * there is no such secret, or DV_MLS_E_NOSPACE. */
int dv_mls_welcome_for(const uint8_t *welcome, size_t len, const dv_mls_ref_t *member, uint8_t *out,
                       size_t cap);

#endif
