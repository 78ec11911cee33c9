/*
 * sc_log: one-line, leveled logging to stderr.
 *
 * Line formats (--log-format): text, "2026-...Z INFO  module: message";
 * json, one object per line: {"ts":"2026-...Z","level":"info",
 * "module":"...","msg":"..."} plus "user", "channel" and "session".
 * Those ids are fields a call site passes (sc_log_ids_t, the *_ids
 * macros): text lines end with them as " user=123 channel=456
 * session=0123abcd" (the session id's first 8 characters: enough to
 * tell sessions apart, short enough to read), json lines carry them
 * whole. A line written without ids gets, in json, those its message
 * names ("user 123", "channel 456", "voice state <hex>"). Under systemd-journald
 * (stderr is the stream named by $JOURNAL_STREAM, systemd.exec(5)) each line starts with its syslog
 * priority, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug (sd-daemon(3)), so `journalctl -p
 * warning` works, and text lines drop their timestamp (journald keeps its own).
 *
 * Owns: the process-wide level and format (atomics: a SIGHUP reload may
 * change them on the control thread while other threads log).
 * Threads: safe from any thread; each line is written with a single
 * fprintf call, so lines from the control and media threads never interleave.
 * Memory: nothing is allocated.
 */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level_t;
typedef enum { SC_LOG_TEXT = 0, SC_LOG_JSON } sc_log_format_t;

void sc_log_set_level(sc_log_level_t level);
sc_log_level_t sc_log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int sc_log_parse_level(const char *name, sc_log_level_t *out);

void sc_log_set_format(sc_log_format_t format);
/* Parses "text" or "json"; returns -1 on anything else. */
int sc_log_parse_format(const char *name, sc_log_format_t *out);

/* Turns the journald prefixes on when stderr is $JOURNAL_STREAM
 * ("DEV:INODE"), off otherwise. Returns 1 when on. Main thread, at start. */
int sc_log_detect_journal(void);

/* The ids a line is about; each may be NULL or "" (not named). */
typedef struct {
  const char *user, *channel, *session;
} sc_log_ids_t;

/* The line for one message, '\n' included, in buf (truncated to fit;
 * JSON stays valid). Pure: the caller gives the time. Returns its length.
 * ids NULL: the json ids come from the message text. */
size_t sc_log_format_line_ids(char *buf, size_t n, sc_log_format_t format, int journal,
                              sc_log_level_t level, const char *module, const sc_log_ids_t *ids,
                              const char *msg, const struct timespec *ts);
size_t sc_log_format_line(char *buf, size_t n, sc_log_format_t format, int journal,
                          sc_log_level_t level, const char *module, const char *msg,
                          const struct timespec *ts);

/* A noisy line's budget (a flood of bad input must not flood the log):
 * the first line at once, then at most one per interval; the lines held
 * back in between are counted and the next line written says how many.
 * Plain fields: one owner thread. Zero-initialised = never written. */
typedef struct {
  int64_t last_ms; /* when the last line was written (0: never) */
  uint64_t held;   /* lines held back since */
} sc_log_limit_t;

/* For a line due at now_ms: 0 when it is held back (counted), else the
 * number of lines it stands for (1 + those held back, so the caller can
 * write "N ..."), and the count restarts. */
uint64_t sc_log_limit(sc_log_limit_t *l, int64_t now_ms, int64_t interval_ms);

void sc_log_write(sc_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same about ids (may be NULL). */
void sc_log_write_ids(sc_log_level_t level, const char *module, const sc_log_ids_t *ids,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define sc_log_error(mod, ...) sc_log_write(SC_LOG_ERROR, mod, __VA_ARGS__)
#define sc_log_warn(mod, ...) sc_log_write(SC_LOG_WARN, mod, __VA_ARGS__)
#define sc_log_info(mod, ...) sc_log_write(SC_LOG_INFO, mod, __VA_ARGS__)
#define sc_log_error_ids(mod, ids, ...) sc_log_write_ids(SC_LOG_ERROR, mod, ids, __VA_ARGS__)
#define sc_log_warn_ids(mod, ids, ...) sc_log_write_ids(SC_LOG_WARN, mod, ids, __VA_ARGS__)
#define sc_log_info_ids(mod, ids, ...) sc_log_write_ids(SC_LOG_INFO, mod, ids, __VA_ARGS__)
#define sc_log_debug(mod, ...)                                                            \
  do {                                                                                    \
    if (sc_log_get_level() >= SC_LOG_DEBUG) sc_log_write(SC_LOG_DEBUG, mod, __VA_ARGS__); \
  } while (0)

#endif
