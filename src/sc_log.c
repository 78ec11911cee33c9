#include "sc_log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MSG_MAX 1024
#define LINE_MAX_ (MSG_MAX * 6 + 1024) /* every byte escaped as \u00XX, plus fields */

static _Atomic int log_level = SC_LOG_INFO;
static _Atomic int log_format = SC_LOG_TEXT;
static _Atomic int log_journal = 0;

static const char *const names[] = {"error", "warn", "info", "debug"};

void sc_log_set_level(sc_log_level_t level) {
  atomic_store(&log_level, (int)level);
}

sc_log_level_t sc_log_get_level(void) {
  return (sc_log_level_t)atomic_load(&log_level);
}

int sc_log_parse_level(const char *name, sc_log_level_t *out) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (sc_log_level_t)i;
      return 0;
    }
  }
  return -1;
}

void sc_log_set_format(sc_log_format_t format) {
  atomic_store(&log_format, (int)format);
}

int sc_log_parse_format(const char *name, sc_log_format_t *out) {
  if (strcmp(name, "text") == 0)
    *out = SC_LOG_TEXT;
  else if (strcmp(name, "json") == 0)
    *out = SC_LOG_JSON;
  else
    return -1;
  return 0;
}

/* systemd.exec(5): JOURNAL_STREAM is "DEV:INODE" of the stream it gave
 * stderr; a process whose stderr was redirected elsewhere must not use it. */
int sc_log_detect_journal(void) {
  const char *js = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;
  int on = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
           (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
  atomic_store(&log_journal, on);
  return on;
}

/* Appends s as a JSON string body (no quotes) to buf[*used..n). */
static void json_escape(char *buf, size_t n, size_t *used, const char *s) {
  for (; *s && *used + 7 < n; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      *used += (size_t)snprintf(buf + *used, n - *used, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      *used += (size_t)snprintf(buf + *used, n - *used, "\\u%04x", c);
    else
      buf[(*used)++] = (char)c;
  }
  buf[*used] = '\0';
}

/* The ids a message names in the project's wording ("user 123",
 * "channel 456", "voice state <hex>"), first of each, as JSON fields, so
 * one user's or channel's lines can be selected without parsing prose. */
static void json_ids(char *buf, size_t n, size_t *used, const char *msg) {
  static const struct {
    const char *word, *field;
    const char *chars;
    size_t min;
  } ids[] = {{"user ", "user", "0123456789", 1},
             {"channel ", "channel", "0123456789", 1},
             {"voice state ", "session", "0123456789abcdef", 8}};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    for (const char *p = msg; (p = strstr(p, ids[i].word)) != NULL; p++) {
      if (p > msg && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
      const char *v = p + strlen(ids[i].word);
      size_t len = strspn(v, ids[i].chars);
      if (len < ids[i].min || len > 64 || isalnum((unsigned char)v[len])) continue;
      if (*used + len + 32 < n)
        *used +=
            (size_t)snprintf(buf + *used, n - *used, ",\"%s\":\"%.*s\"", ids[i].field, (int)len, v);
      break;
    }
  }
}

#define TEXT_SESSION_CHARS 8

static int named(const char *s) {
  return s && *s;
}

/* " user=1 channel=2 session=0123abcd" (only those named) for text lines. */
static void text_ids(char *out, size_t n, const sc_log_ids_t *ids) {
  size_t used = 0;
  out[0] = '\0';
  if (!ids) return;
  if (named(ids->user)) used += (size_t)snprintf(out + used, n - used, " user=%.64s", ids->user);
  if (named(ids->channel) && used < n)
    used += (size_t)snprintf(out + used, n - used, " channel=%.64s", ids->channel);
  if (named(ids->session) && used < n)
    snprintf(out + used, n - used, " session=%.*s", TEXT_SESSION_CHARS, ids->session);
}

/* The ids a call site passed, as JSON fields (escaped: they are ours,
 * but a log line must stay valid whatever they hold). */
static void json_given_ids(char *buf, size_t n, size_t *used, const sc_log_ids_t *ids) {
  const struct {
    const char *field, *v;
  } f[] = {{"user", ids->user}, {"channel", ids->channel}, {"session", ids->session}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (!named(f[i].v) || *used + 16 + strlen(f[i].field) >= n) continue;
    *used += (size_t)snprintf(buf + *used, n - *used, ",\"%s\":\"", f[i].field);
    json_escape(buf, n - 2, used, f[i].v);
    buf[(*used)++] = '"';
    buf[*used] = '\0';
  }
}

size_t sc_log_format_line(char *buf, size_t n, sc_log_format_t format, int journal,
                          sc_log_level_t level, const char *module, const char *msg,
                          const struct timespec *ts) {
  return sc_log_format_line_ids(buf, n, format, journal, level, module, NULL, msg, ts);
}

size_t sc_log_format_line_ids(char *buf, size_t n, sc_log_format_t format, int journal,
                              sc_log_level_t level, const char *module, const sc_log_ids_t *ids,
                              const char *msg, const struct timespec *ts) {
  static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  static const int prio[] = {3, 4, 6, 7};
  char stamp[64], pfx[8] = "";
  struct tm tm;
  size_t used;
  if (n < 64) return 0;
  gmtime_r(&ts->tv_sec, &tm);
  snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000L);
  if (journal) snprintf(pfx, sizeof pfx, "<%d>", prio[level]);
  if (format == SC_LOG_TEXT) {
    char tail[256];
    text_ids(tail, sizeof tail, ids);
    int len = journal
                  ? snprintf(buf, n - 1, "%s%s: %s%s", pfx, module, msg, tail)
                  : snprintf(buf, n - 1, "%s %-5s %s: %s%s", stamp, tags[level], module, msg, tail);
    used = len < 0 ? 0 : ((size_t)len < n - 1 ? (size_t)len : n - 2);
  } else {
    used = (size_t)snprintf(buf, n - 16, "%s{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"", pfx,
                            stamp, names[level]);
    json_escape(buf, n - 4, &used, module);
    used += (size_t)snprintf(buf + used, n - used, "\",\"msg\":\"");
    json_escape(buf, n - 80, &used, msg);
    buf[used++] = '"';
    if (ids)
      json_given_ids(buf, n - 4, &used, ids);
    else
      json_ids(buf, n - 4, &used, msg);
    used += (size_t)snprintf(buf + used, n - used, "}");
    if (used > n - 2) used = n - 2; /* cannot happen: room was kept for the tail */
  }
  buf[used++] = '\n';
  buf[used] = '\0';
  return used;
}

uint64_t sc_log_limit(sc_log_limit_t *l, int64_t now_ms, int64_t interval_ms) {
  if (l->last_ms && now_ms - l->last_ms < interval_ms) {
    l->held++;
    return 0;
  }
  uint64_t n = l->held + 1;
  l->held = 0;
  l->last_ms = now_ms ? now_ms : 1; /* 0 means never */
  return n;
}

static void write_v(sc_log_level_t level, const char *module, const sc_log_ids_t *ids,
                    const char *fmt, va_list ap) {
  char msg[MSG_MAX], line[LINE_MAX_];
  vsnprintf(msg, sizeof msg, fmt, ap);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  sc_log_format_line_ids(line, sizeof line, (sc_log_format_t)atomic_load(&log_format),
                         atomic_load(&log_journal), level, module, ids, msg, &ts);
  /* One fputs per line: stdio locks the stream, so lines stay whole. */
  fputs(line, stderr);
}

void sc_log_write(sc_log_level_t level, const char *module, const char *fmt, ...) {
  if ((int)level > atomic_load(&log_level)) return;
  va_list ap;
  va_start(ap, fmt);
  write_v(level, module, NULL, fmt, ap);
  va_end(ap);
}

void sc_log_write_ids(sc_log_level_t level, const char *module, const sc_log_ids_t *ids,
                      const char *fmt, ...) {
  if ((int)level > atomic_load(&log_level)) return;
  va_list ap;
  va_start(ap, fmt);
  write_v(level, module, ids, fmt, ap);
  va_end(ap);
}
