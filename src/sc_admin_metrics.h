/*
 * sc_admin_metrics: GET /metrics of the admin API, in the Prometheus
 * text format (sc_metrics.h; docs/ADMIN.md lists every metric). The core's
 * figures are first copied into a snapshot (sc_admin_metrics_snap_t) and
 * rendered from it by a pure function, so the rendering is unit-tested
 * without a server; then each front end's `metrics` hook adds its own
 * families (LVSP link, gateway joins, closes, join time); then the
 * standard process_* metrics from /proc/self.
 *
 * Counters are monotonic for the life of the process: media packets and
 * bytes per (transport, mode) keep what members that left counted
 * (sc_traffic.h), the media-plane totals are per worker and never reset.
 *
 * Threads: control (lws) thread (it reads the registry). Memory: the text
 * is the caller's sc_metrics_t.
 */
#ifndef SC_ADMIN_METRICS_H
#define SC_ADMIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_app.h"
#include "sc_metrics.h"
#include "sc_qsample.h"
#include "sc_traffic.h"

#define SC_ADMIN_METRICS_WORKERS 64 /* per-worker CPU series at most */

/* What /proc/self says about the process (process_* metrics). */
typedef struct {
  int ok;              /* 0: /proc could not be read; nothing is written */
  double cpu_s;        /* user + system */
  double start_time_s; /* unix time the process started */
  uint64_t rss_bytes, vm_bytes;
  uint64_t open_fds, max_fds;
} sc_admin_proc_t;

typedef struct {
  const char *version;
  uint64_t voice_states, channels, capacity;
  sc_registry_counts_t reg;
  sc_traffic_t traffic;
  int have_media;
  sc_media_stats_t media;
  int n_workers;
  double worker_cpu_s[SC_ADMIN_METRICS_WORKERS];
  uint64_t conn_max, fd_limit, conn_refused;
  int draining;
  /* Call quality over the members held now (from their RTCP reports). */
  uint64_t rtcp_reporting;  /* members whose last report had blocks */
  double rtcp_loss_max;     /* worst fraction lost, 0..1 */
  double rtcp_jitter_max_s; /* worst jitter, seconds */
  int64_t rtcp_lost_sum;    /* cumulative lost summed */
  /* Our own receive side and RTT, per member-interval (sc_qsample). */
  sc_qsample_agg_t q;
  sc_admin_proc_t proc;
} sc_admin_metrics_snap_t;

/* The whole page for app (snapshot, front ends, process). 0, or -ENOMEM. */
int sc_admin_metrics_render_app(sc_app_t *app, sc_metrics_t *m);

/* Pure: the core's families from a snapshot. */
void sc_admin_metrics_render(sc_metrics_t *m, const sc_admin_metrics_snap_t *s);

/* Pure: utime+stime ticks, start time (ticks after boot), virtual size
 * (bytes) and resident pages from the text of /proc/self/stat. 0 or
 * -EINVAL. */
int sc_admin_metrics_parse_stat(const char *buf, size_t len, uint64_t *cpu_ticks,
                                uint64_t *start_ticks, uint64_t *vsize, uint64_t *rss_pages);

#endif
