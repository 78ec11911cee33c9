#include "sc_metrics.h"

#include <math.h> /* isnan, isinf: macros */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_metrics_init(sc_metrics_t *m) {
  memset(m, 0, sizeof *m);
}

void sc_metrics_free(sc_metrics_t *m) {
  free(m->buf);
  memset(m, 0, sizeof *m);
}

const char *sc_metrics_text(const sc_metrics_t *m) {
  if (m->failed) return NULL;
  return m->buf ? m->buf : "";
}

static int reserve(sc_metrics_t *m, size_t more) {
  if (m->failed) return -1;
  if (m->len + more + 1 <= m->cap) return 0;
  size_t cap = m->cap ? m->cap : 4096;
  while (cap < m->len + more + 1) cap *= 2;
  char *grown = realloc(m->buf, cap);
  if (!grown) {
    m->failed = 1;
    return -1;
  }
  m->buf = grown;
  m->cap = cap;
  return 0;
}

static void put(sc_metrics_t *m, const char *s, size_t n) {
  if (reserve(m, n) < 0) return;
  memcpy(m->buf + m->len, s, n);
  m->len += n;
  m->buf[m->len] = '\0';
}

static void puts_(sc_metrics_t *m, const char *s) {
  put(m, s, strlen(s));
}

/* Escapes backslash and newline, and the double quote when in_label. */
static void put_escaped(sc_metrics_t *m, const char *s, int in_label) {
  for (; *s; s++) {
    if (*s == '\\')
      puts_(m, "\\\\");
    else if (*s == '\n')
      puts_(m, "\\n");
    else if (*s == '"' && in_label)
      puts_(m, "\\\"");
    else
      put(m, s, 1);
  }
}

void sc_metrics_format_double(double v, char *out, size_t cap) {
  if (isnan(v)) {
    snprintf(out, cap, "NaN");
    return;
  }
  if (isinf(v)) {
    snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    return;
  }
  double mag = v < 0 ? -v : v;
  if (mag < 9007199254740992.0 && v == (double)(int64_t)v) { /* integral: no exponent */
    snprintf(out, cap, "%lld", (long long)v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, cap, "%.*g", prec, v);
    if (strtod(out, NULL) == v) return;
  }
}

void sc_metrics_family(sc_metrics_t *m, const char *name, sc_metric_type_t type, const char *help) {
  static const char *const types[] = {"counter", "gauge", "histogram"};
  snprintf(m->family, sizeof m->family, "%s", name);
  puts_(m, "# HELP ");
  puts_(m, name);
  puts_(m, " ");
  put_escaped(m, help, 0);
  puts_(m, "\n# TYPE ");
  puts_(m, name);
  puts_(m, " ");
  puts_(m, types[type]);
  puts_(m, "\n");
}

/* name{labels,extra="extra_value"} value\n; extra may be NULL. */
static void line(sc_metrics_t *m, const char *suffix, const sc_label_t *labels, size_t n,
                 const char *extra, const char *extra_value, const char *value) {
  puts_(m, m->family);
  puts_(m, suffix);
  if (n || extra) {
    puts_(m, "{");
    for (size_t i = 0; i < n; i++) {
      if (i) puts_(m, ",");
      puts_(m, labels[i].name);
      puts_(m, "=\"");
      put_escaped(m, labels[i].value, 1);
      puts_(m, "\"");
    }
    if (extra) {
      if (n) puts_(m, ",");
      puts_(m, extra);
      puts_(m, "=\"");
      put_escaped(m, extra_value, 1);
      puts_(m, "\"");
    }
    puts_(m, "}");
  }
  puts_(m, " ");
  puts_(m, value);
  puts_(m, "\n");
}

void sc_metrics_sample(sc_metrics_t *m, const sc_label_t *labels, size_t n, double value) {
  char v[40];
  sc_metrics_format_double(value, v, sizeof v);
  line(m, "", labels, n, NULL, NULL, v);
}

void sc_metrics_sample_u64(sc_metrics_t *m, const sc_label_t *labels, size_t n, uint64_t value) {
  char v[24];
  snprintf(v, sizeof v, "%llu", (unsigned long long)value);
  line(m, "", labels, n, NULL, NULL, v);
}

void sc_metrics_counter(sc_metrics_t *m, const char *name, const char *help, uint64_t value) {
  sc_metrics_family(m, name, SC_METRIC_COUNTER, help);
  sc_metrics_sample_u64(m, NULL, 0, value);
}

void sc_metrics_gauge(sc_metrics_t *m, const char *name, const char *help, double value) {
  sc_metrics_family(m, name, SC_METRIC_GAUGE, help);
  sc_metrics_sample(m, NULL, 0, value);
}

void sc_metrics_histogram(sc_metrics_t *m, const sc_label_t *labels, size_t n, const double *le,
                          const uint64_t *counts, size_t n_le, double sum) {
  char v[24], bound[40];
  uint64_t cum = 0;
  for (size_t i = 0; i <= n_le; i++) {
    cum += counts[i];
    if (i < n_le)
      sc_metrics_format_double(le[i], bound, sizeof bound);
    else
      snprintf(bound, sizeof bound, "+Inf");
    snprintf(v, sizeof v, "%llu", (unsigned long long)cum);
    line(m, "_bucket", labels, n, "le", bound, v);
  }
  char s[40];
  sc_metrics_format_double(sum, s, sizeof s);
  line(m, "_sum", labels, n, NULL, NULL, s);
  line(m, "_count", labels, n, NULL, NULL, v);
}

void sc_metrics_obs_init(sc_metrics_obs_t *o, const double *le, size_t n_le) {
  memset(o, 0, sizeof *o);
  o->le = le;
  o->n_le = n_le < SC_METRICS_OBS_MAX ? n_le : SC_METRICS_OBS_MAX;
}

void sc_metrics_observe(sc_metrics_obs_t *o, double value) {
  size_t i = 0;
  while (i < o->n_le && value > o->le[i]) i++;
  o->counts[i]++;
  o->sum += value;
}

void sc_metrics_obs_write(sc_metrics_t *m, const sc_label_t *labels, size_t n,
                          const sc_metrics_obs_t *o) {
  sc_metrics_histogram(m, labels, n, o->le, o->counts, o->n_le, o->sum);
}

void sc_metrics_lathist(sc_metrics_t *m, const sc_label_t *labels, size_t n,
                        const uint64_t counts[SC_LATHIST_BUCKETS], uint64_t sum_us) {
  double le[SC_METRICS_LATHIST_BOUNDS];
  uint64_t merged[SC_METRICS_LATHIST_BOUNDS + 1] = {0};
  for (unsigned i = 0; i < SC_METRICS_LATHIST_BOUNDS; i++) le[i] = (double)(16ull << i) / 1e6;
  for (unsigned b = 0; b < SC_LATHIST_BUCKETS; b++) {
    uint64_t up = sc_lathist_upper_us(b); /* exclusive: every sample of b is < up */
    unsigned i = 0;
    while (i < SC_METRICS_LATHIST_BOUNDS && up > (16ull << i)) i++;
    merged[i] += counts[b];
  }
  sc_metrics_histogram(m, labels, n, le, merged, SC_METRICS_LATHIST_BOUNDS, (double)sum_us / 1e6);
}
