/*
 * fuzz_galene: the Galène message reader (galene/gl_msg.h) over any bytes,
 * as a client's WebSocket text message brings them. Besides memory safety
 * it checks what the front end relies on: the verdict is 0 or one of the
 * reader's errors; an accepted message has a known type index, every
 * string field is NUL-terminated within its bound, ids hold only token
 * characters, the sdp length is its string length, and a join carries at
 * most one of token and password.
 */
#include <string.h>

#include "fuzz_util.h"
#include "gl_msg.h"

static gl_msg_t msg; /* 33 KiB: not on the stack */

static int id_chars(const char *s) {
  for (; *s; s++) {
    char c = *s;
    int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             strchr("-_.~+/=", c) != NULL;
    if (!ok) return 0;
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  int rc = gl_msg_parse((const char *)data, size, &msg);
  FUZZ_CHECK(rc == 0 || rc == GL_MSG_ERR_JSON || rc == GL_MSG_ERR_NOT_OBJECT ||
             rc == GL_MSG_ERR_NO_TYPE || rc == GL_MSG_ERR_FIELD || rc == GL_MSG_ERR_LONG);
  FUZZ_CHECK(strcmp(gl_msg_err_name(rc), "unknown") != 0);
  if (rc < 0) return 0;
  FUZZ_CHECK(msg.type >= 0 && msg.type < GL_T_COUNT);
  FUZZ_CHECK(memchr(msg.type_name, 0, sizeof msg.type_name) != NULL);
  FUZZ_CHECK(memchr(msg.kind, 0, sizeof msg.kind) && memchr(msg.username, 0, sizeof msg.username));
  FUZZ_CHECK(memchr(msg.group, 0, sizeof msg.group) && memchr(msg.secret, 0, sizeof msg.secret));
  FUZZ_CHECK(memchr(msg.id, 0, sizeof msg.id) && memchr(msg.source, 0, sizeof msg.source) &&
             memchr(msg.replace, 0, sizeof msg.replace));
  FUZZ_CHECK(id_chars(msg.id) && id_chars(msg.source) && id_chars(msg.replace));
  FUZZ_CHECK(msg.sdp_len <= GL_SDP_MAX && strlen(msg.sdp) == msg.sdp_len);
  FUZZ_CHECK(!(msg.has_token && msg.has_password));
  FUZZ_CHECK(msg.type == GL_T_UNKNOWN || strcmp(gl_msg_type_name(msg.type), "unknown") != 0);
  return 0;
}
