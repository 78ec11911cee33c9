/*
 * sc_metrics: a writer of the Prometheus text exposition format 0.0.4
 * (what GET /metrics serves; docs/ADMIN.md lists the metrics). A family
 * is started with its name, type and help (# HELP, # TYPE lines); its
 * samples follow, each with optional labels. Label values and help text
 * are escaped (backslash, double quote, newline), numbers are written in
 * the shortest form that reads back to the same double, and histograms
 * are written as cumulative `_bucket{le="..."}` series ending with
 * le="+Inf" (= `_count`), then `_sum` and `_count`.
 *
 * Also here: a fixed-bound histogram to observe into (the gateway's join
 * time), and the conversion of an sc_lathist (microsecond buckets) into
 * seconds with bounds at the powers of two from 16 us to 2^21 us, which
 * are bucket boundaries of sc_lathist, so nothing is interpolated.
 *
 * Owns: the text buffer (sc_metrics_free releases it).
 * Threads: pure; any thread (the admin API calls it on the control thread).
 * Errors: a failed allocation sets `failed`; later calls do nothing and
 * sc_metrics_text returns NULL.
 */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_lathist.h"

typedef enum { SC_METRIC_COUNTER, SC_METRIC_GAUGE, SC_METRIC_HISTOGRAM } sc_metric_type_t;

typedef struct {
  const char *name, *value;
} sc_label_t;

typedef struct sc_metrics {
  char *buf;
  size_t len, cap;
  int failed;
  char family[128]; /* the family being written */
} sc_metrics_t;

void sc_metrics_init(sc_metrics_t *m);
void sc_metrics_free(sc_metrics_t *m);
/* The text so far (NUL-terminated, owned by m), or NULL after a failure. */
const char *sc_metrics_text(const sc_metrics_t *m);

/* Starts a family: "# HELP name help" and "# TYPE name type". */
void sc_metrics_family(sc_metrics_t *m, const char *name, sc_metric_type_t type, const char *help);
/* One sample of the current family (n labels, may be 0). */
void sc_metrics_sample(sc_metrics_t *m, const sc_label_t *labels, size_t n, double value);
void sc_metrics_sample_u64(sc_metrics_t *m, const sc_label_t *labels, size_t n, uint64_t value);
/* A family with one unlabelled sample. */
void sc_metrics_counter(sc_metrics_t *m, const char *name, const char *help, uint64_t value);
void sc_metrics_gauge(sc_metrics_t *m, const char *name, const char *help, double value);

/* One histogram of the current family: n_le finite upper bounds (in
 * increasing order, inclusive), counts[i] the observations <= le[i] that
 * were above le[i-1] (NOT cumulative), counts[n_le] those above the last
 * bound. Written cumulative, with +Inf, _sum and _count. */
void sc_metrics_histogram(sc_metrics_t *m, const sc_label_t *labels, size_t n, const double *le,
                          const uint64_t *counts, size_t n_le, double sum);

/* A histogram to observe into, with fixed bounds (at most 15). */
#define SC_METRICS_OBS_MAX 15
typedef struct {
  const double *le;
  size_t n_le;
  uint64_t counts[SC_METRICS_OBS_MAX + 1];
  double sum;
} sc_metrics_obs_t;

void sc_metrics_obs_init(sc_metrics_obs_t *o, const double *le, size_t n_le);
void sc_metrics_observe(sc_metrics_obs_t *o, double value);
void sc_metrics_obs_write(sc_metrics_t *m, const sc_label_t *labels, size_t n,
                          const sc_metrics_obs_t *o);

/* An sc_lathist (microseconds) as a histogram in seconds: bounds 16 us,
 * 32 us ... 2^21 us (about 2.1 s), +Inf. sc_lathist's bounds are
 * exclusive and its samples are whole microseconds rounded down, so a
 * bucket "< U us" holds delays below U us exactly: le = U us. sum_us is
 * the sum of the samples in microseconds. */
#define SC_METRICS_LATHIST_BOUNDS 18
void sc_metrics_lathist(sc_metrics_t *m, const sc_label_t *labels, size_t n,
                        const uint64_t counts[SC_LATHIST_BUCKETS], uint64_t sum_us);

/* Pure: writes v into out (cap >= 32) as Prometheus reads it: the
 * shortest %g form that parses back to v, "+Inf", "-Inf", "NaN". */
void sc_metrics_format_double(double v, char *out, size_t cap);

#endif
