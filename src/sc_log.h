/*
 * sc_log: one-line, leveled logging to stderr.
 *
 * Owns: the process-wide log level (set once at start-up, read-only after).
 * Threads: safe from any thread; each line is written with a single
 * fprintf call, so lines from the control and media threads never interleave.
 * Memory: nothing is allocated.
 */
#ifndef SC_LOG_H
#define SC_LOG_H

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level_t;

void sc_log_set_level(sc_log_level_t level);
sc_log_level_t sc_log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int sc_log_parse_level(const char *name, sc_log_level_t *out);

void sc_log_write(sc_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sc_log_error(mod, ...) sc_log_write(SC_LOG_ERROR, mod, __VA_ARGS__)
#define sc_log_warn(mod, ...) sc_log_write(SC_LOG_WARN, mod, __VA_ARGS__)
#define sc_log_info(mod, ...) sc_log_write(SC_LOG_INFO, mod, __VA_ARGS__)
#define sc_log_debug(mod, ...)                                                            \
  do {                                                                                    \
    if (sc_log_get_level() >= SC_LOG_DEBUG) sc_log_write(SC_LOG_DEBUG, mod, __VA_ARGS__); \
  } while (0)

#endif
