#include "sc_conffile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  FILE *f;
  int line;     /* lines read so far: the one libinih is working on */
  int too_long; /* line number of a line past SC_CONFFILE_LINE_MAX */
  sc_conffile_fn fn;
  void *ctx;
  int failed;
  char why[512];
} reader_t;

/* libinih's reader: one whole line per call, so `line` is the number of the
 * line the handler is called for. A line too long for libinih's buffer is
 * replaced by an empty one and reported after the parse. */
static char *read_line(char *str, int num, void *stream) {
  reader_t *r = stream;
  int c, len = 0, over = 0;
  if (r->failed) return NULL;
  while ((c = fgetc(r->f)) != EOF) {
    if (len < num - 2)
      str[len++] = (char)c;
    else if (c != '\n')
      over = 1;
    if (c == '\n') break;
  }
  if (c == EOF && len == 0 && !over) return NULL;
  r->line++;
  if (over) {
    r->too_long = r->line;
    r->failed = 1;
    len = 0;
  }
  str[len] = '\0';
  return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
  reader_t *r = user;
  if (r->failed) return 0;
  if (r->fn(r->ctx, section, name, value, r->why, sizeof r->why) == 0) return 1;
  r->failed = 1;
  return 0;
}

int sc_conffile_read(const char *path, sc_conffile_fn fn, void *ctx, char *why, size_t n) {
  reader_t r = {.fn = fn, .ctx = ctx};
  r.f = fopen(path, "r");
  if (!r.f) {
    snprintf(why, n, "%s: %s", path, strerror(errno));
    return -1;
  }
  /* Debian builds libinih with its options as variables. */
  ini_allow_multiline = 0;
  ini_allow_inline_comments = 0;
  ini_stop_on_first_error = 1;
  ini_use_stack = 0;
  ini_allow_realloc = 0;
  ini_max_line = SC_CONFFILE_LINE_MAX + 3;
  int rc = ini_parse_stream(read_line, &r, on_key, &r);
  int err = ferror(r.f);
  fclose(r.f);
  if (r.too_long)
    snprintf(why, n, "%s:%d: line longer than %d characters", path, r.too_long,
             SC_CONFFILE_LINE_MAX);
  else if (r.failed)
    snprintf(why, n, "%s:%d: %s", path, r.line, r.why);
  else if (err)
    snprintf(why, n, "%s: read error", path);
  else if (rc > 0)
    snprintf(why, n, "%s:%d: not a 'key = value' line or a [section] header", path, rc);
  else if (rc < 0)
    snprintf(why, n, "%s: cannot be parsed (out of memory)", path);
  else
    return 0;
  return -1;
}

int sc_conffile_read_secret(const char *path, char *out, size_t out_size, int *loose, char *why,
                            size_t n) {
  struct stat st;
  FILE *f = fopen(path, "r");
  *loose = 0;
  if (!f || fstat(fileno(f), &st) != 0) {
    snprintf(why, n, "%s: %s", path, strerror(errno));
    if (f) fclose(f);
    return -1;
  }
  *loose = (st.st_mode & 077) != 0;
  size_t got = fread(out, 1, out_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || got >= out_size) {
    snprintf(why, n, "%s: %s", path, bad ? "read error" : "secret too long");
    out[0] = '\0';
    return -1;
  }
  while (got > 0 && strchr(" \t\r\n", out[got - 1])) got--;
  out[got] = '\0';
  if (got == 0 || memchr(out, '\0', got)) {
    snprintf(why, n, "%s: %s", path, got ? "contains a NUL byte" : "empty");
    out[0] = '\0';
    return -1;
  }
  return 0;
}
