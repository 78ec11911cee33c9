/*
 * fuzz_mls_keypackage: dv_mls_keypackage_check (op 26) and the Add
 * proposal built from what it accepts. Input: the 8-byte big-endian user
 * id the session authenticated as, then the op 26 payload (seeds: real
 * davey key packages, bare and in an MLSMessage header, from
 * tests/node/dave_vectors.js).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_mls.h"
#include "fuzz_util.h"

static dv_mls_signer_t *signer;

static int documented(int rc) {
  return rc == DV_MLS_OK || rc == DV_MLS_E_TRUNCATED || rc == DV_MLS_E_TRAILING ||
         rc == DV_MLS_E_TOO_BIG || rc == DV_MLS_E_VERSION || rc == DV_MLS_E_SUITE ||
         rc == DV_MLS_E_CREDENTIAL || rc == DV_MLS_E_IDENTITY || rc == DV_MLS_E_LIFETIME ||
         rc == DV_MLS_E_SIGNATURE || rc == DV_MLS_E_KEY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  if (!signer) signer = dv_mls_signer_new((const uint8_t *)"fuzz", 4);
  FUZZ_CHECK(signer != NULL);
  if (size < 8) return 0;
  uint64_t user = 0;
  for (int i = 0; i < 8; i++) user = user << 8 | data[i];
  uint8_t *buf = fuzz_dup(data + 8, size - 8);
  const uint8_t *kp = NULL;
  size_t kp_len = 0;
  dv_mls_ref_t ref, again;
  int rc = dv_mls_keypackage_check(buf, size - 8, user, &kp, &kp_len, &ref);
  FUZZ_CHECK(documented(rc));
  if (fuzz_verbose()) fprintf(stderr, "keypackage: %s\n", dv_mls_strerror(rc));
  if (rc == DV_MLS_OK) {
    FUZZ_CHECK(kp >= buf && kp + kp_len == buf + size - 8 && kp_len <= DV_MLS_KEYPACKAGE_MAX);
    FUZZ_CHECK(dv_mls_keypackage_check(kp, kp_len, user, &kp, &kp_len, &again) == DV_MLS_OK);
    FUZZ_CHECK(memcmp(ref.b, again.b, DV_MLS_REF_LEN) == 0);
    FUZZ_CHECK(dv_mls_keypackage_check(kp, kp_len, user + 1, &kp, &kp_len, &again) ==
               DV_MLS_E_IDENTITY);
    uint8_t out[DV_MLS_KEYPACKAGE_MAX + 128];
    int n = dv_mls_propose_add(signer, 1, 0, kp, kp_len, out, sizeof out, &again);
    FUZZ_CHECK(n > 0 && (size_t)n > kp_len + 30 && (size_t)n <= kp_len + 30 + 2 + 72);
    FUZZ_CHECK(memcmp(out + 30, kp, kp_len) == 0);
  }
  free(buf);
  return 0;
}
