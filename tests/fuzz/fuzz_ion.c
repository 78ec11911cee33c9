/*
 * fuzz_ion: ion_msg_parse (ion/ion_msg.h), the reader of protoo
 * envelopes from ion clients. The whole input is one text frame.
 * Checks: a message is either refused with a known error and nothing to
 * free, or read with a kind, a method for requests and notifications, an
 * id in 0..2^53-1 for requests and responses, and request fields that are
 * short NUL-free strings (the sdp: exactly sdp_len bytes without NUL).
 */
#include <string.h>

#include "fuzz_util.h"
#include "ion_msg.h"

static void check_field(const char *s) {
  if (s) FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= ION_MSG_FIELD_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  ion_msg_t m;
  int rc = ion_msg_parse((const char *)data, size, &m);
  if (rc < 0) {
    FUZZ_CHECK(rc >= ION_MSG_ERR_METHOD && m.root == NULL);
    FUZZ_CHECK(strcmp(ion_msg_err_name(rc), "unknown error") != 0);
    return 0;
  }
  FUZZ_CHECK(rc == 0 && m.root != NULL);
  FUZZ_CHECK(m.kind >= ION_MSG_REQUEST && m.kind <= ION_MSG_NOTIFICATION);
  if (m.kind != ION_MSG_NOTIFICATION) FUZZ_CHECK(m.id >= 0 && m.id <= ION_MSG_ID_MAX);
  if (m.kind != ION_MSG_RESPONSE) {
    FUZZ_CHECK(m.method_name[0] != '\0' && m.method >= ION_M_UNKNOWN && m.method < ION_M_COUNT);
    if (m.method != ION_M_UNKNOWN)
      FUZZ_CHECK(strcmp(ion_method_name(m.method), m.method_name) == 0);
  }
  check_field(m.rid);
  check_field(m.uid);
  check_field(m.mid);
  check_field(m.sid);
  check_field(m.token);
  if (m.sdp) FUZZ_CHECK(m.jsep_type != NULL && (m.bad || strlen(m.sdp) == m.sdp_len));
  ion_msg_free(&m);
  FUZZ_CHECK(m.root == NULL);
  return 0;
}
