/*
 * fuzz_admin_log_level: sc_admin_parse_log_level (src/sc_admin.h), the
 * parser of POST /log-level bodies, over any bytes. Besides memory safety:
 * it answers 0 or -EINVAL, a level it accepts is one of the four, and a
 * body over SC_ADMIN_BODY_MAX bytes is refused.
 */
#include <errno.h>

#include "fuzz_util.h"
#include "sc_admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_log_level_t level = SC_LOG_INFO;
  int rc = sc_admin_parse_log_level((const char *)data, size, &level);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (rc == 0)
    FUZZ_CHECK(level >= SC_LOG_ERROR && level <= SC_LOG_DEBUG && size <= SC_ADMIN_BODY_MAX);
  return 0;
}
