/*
 * fuzz_mls_commit: dv_mls_commit_parse (op 28) and dv_mls_welcome_for
 * (op 30). Input: the op 28 payload; the group id is read from where a
 * commit carries it (bytes 5..12) so that mutations reach past the group
 * check. Seeds: davey's commit+welcome and remove commit
 * (tests/node/dave_vectors.js). For every accepted commit, each added
 * member's targeted welcome must parse back (after the same commit) with
 * exactly that member's secret; the input is also tried as a bare welcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_mls.h"
#include "fuzz_util.h"

#define OUT_MAX 65536

static uint8_t out[OUT_MAX];
static uint8_t joined[2 * OUT_MAX];

static int documented(int rc) {
  return rc == DV_MLS_OK || rc == DV_MLS_E_TRUNCATED || rc == DV_MLS_E_TRAILING ||
         rc == DV_MLS_E_TOO_BIG || rc == DV_MLS_E_VERSION || rc == DV_MLS_E_WIRE_FORMAT ||
         rc == DV_MLS_E_CONTENT || rc == DV_MLS_E_GROUP || rc == DV_MLS_E_INLINE ||
         rc == DV_MLS_E_WELCOME || rc == DV_MLS_E_CREDENTIAL || rc == DV_MLS_E_LIFETIME;
}

/* The targeted welcome for c->new_members[i], checked by parsing commit || it. */
static void check_targeted(const uint8_t *buf, const dv_mls_commit_t *c, size_t i, uint64_t group) {
  static dv_mls_commit_t back;
  int n = dv_mls_welcome_for(c->welcome, c->welcome_len, &c->new_members[i], out, sizeof out);
  if (n == DV_MLS_E_NOSPACE) return;
  FUZZ_CHECK(n > 0 && (size_t)n <= c->welcome_len);
  if (c->commit_len + (size_t)n > sizeof joined) return;
  memcpy(joined, buf, c->commit_len);
  memcpy(joined + c->commit_len, out, (size_t)n);
  FUZZ_CHECK(dv_mls_commit_parse(joined, c->commit_len + (size_t)n, group, &back) == DV_MLS_OK);
  FUZZ_CHECK(back.nsecrets == 1 && back.welcome_len == (size_t)n);
  FUZZ_CHECK(memcmp(back.new_members[0].b, c->new_members[i].b, DV_MLS_REF_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static dv_mls_commit_t c;
  fuzz_init_once();
  uint64_t group = 0;
  for (size_t i = 5; i < 13 && i < size; i++) group = group << 8 | data[i];
  uint8_t *buf = fuzz_dup(data, size);
  int rc = dv_mls_commit_parse(buf, size, group, &c);
  FUZZ_CHECK(documented(rc));
  if (fuzz_verbose()) fprintf(stderr, "commit: %s\n", dv_mls_strerror(rc));
  if (rc == DV_MLS_OK) {
    FUZZ_CHECK(c.commit_len <= size && c.nrefs >= 1 && c.nrefs <= DV_MLS_MAX_REFS);
    FUZZ_CHECK(c.welcome ? c.welcome == buf + c.commit_len && c.commit_len + c.welcome_len == size
                         : c.commit_len == size && c.nsecrets == 0);
    FUZZ_CHECK(!c.welcome || (c.nsecrets >= 1 && c.nsecrets <= DV_MLS_MAX_WELCOME_SECRETS));
    for (size_t i = 0; i < c.nsecrets; i++) check_targeted(buf, &c, i, group);
  }
  /* the whole input as a bare welcome, for a ref taken from its end */
  dv_mls_ref_t member = {{0}};
  if (size >= DV_MLS_REF_LEN) memcpy(member.b, data + size - DV_MLS_REF_LEN, DV_MLS_REF_LEN);
  int n = dv_mls_welcome_for(buf, size, &member, out, sizeof out);
  FUZZ_CHECK(n > 0 || n == DV_MLS_E_WELCOME || n == DV_MLS_E_TRUNCATED || n == DV_MLS_E_TRAILING ||
             n == DV_MLS_E_TOO_BIG || n == DV_MLS_E_NOSPACE);
  free(buf);
  return 0;
}
