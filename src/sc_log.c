#include "sc_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = SC_LOG_INFO;

void sc_log_set_level(sc_log_level_t level) {
  atomic_store(&log_level, (int)level);
}

sc_log_level_t sc_log_get_level(void) {
  return (sc_log_level_t)atomic_load(&log_level);
}

int sc_log_parse_level(const char *name, sc_log_level_t *out) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (sc_log_level_t)i;
      return 0;
    }
  }
  return -1;
}

void sc_log_write(sc_log_level_t level, const char *module, const char *fmt, ...) {
  static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  if ((int)level > atomic_load(&log_level)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  /* One fprintf per line: stdio locks the stream, so lines stay whole. */
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: %s\n", tm.tm_year + 1900,
          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
          tags[level], module, msg);
}
