/*
 * sc_qsample: the call-quality sampler. A timer on the control loop, every
 * SC_QSAMPLE_INTERVAL_MS, reads every member's counters (sc_quality_read)
 * and turns them into the figures of that interval, kept in the member
 * block (sc_member_stats_t.quality): bitrate in and out, loss fraction,
 * cumulative loss, jitter. /state shows them. A timer, not each /state
 * read: the interval then does not depend on who polls how often (a
 * dashboard and an operator's `status` at once), and /metrics gets the
 * same intervals.
 *
 * Each measured member-interval is also observed into the histograms
 * /metrics exports: the loss ratio and the jitter of members that sent
 * audio in it, the round-trip time of those whose front end measured one;
 * its lost and expected packets are added to monotonic totals.
 *
 * Owns: sc_qsample_t (timer, histograms, totals); the app holds it in
 * app->qsample. Threads: control thread only (the timer runs in
 * app->loop; it reads the registry). Memory: sc_qsample_destroy stops the
 * timer and frees it; call it before the registry and the loop go.
 */
#ifndef SC_QSAMPLE_H
#define SC_QSAMPLE_H

#include <stdint.h>

#include "sc_app.h"
#include "sc_metrics.h"

#define SC_QSAMPLE_INTERVAL_MS 2000

/* What /metrics exports (sums over every member-interval so far). */
typedef struct {
  sc_metrics_obs_t loss;   /* loss ratio, 0..1 */
  sc_metrics_obs_t jitter; /* seconds */
  sc_metrics_obs_t rtt;    /* seconds */
  uint64_t lost, expected; /* packets, our receive side */
} sc_qsample_agg_t;

typedef struct sc_qsample sc_qsample_t;

/* A sampler whose timer runs in app->loop (when set; without a loop the
 * caller drives sc_qsample_tick), or NULL on ENOMEM (logged). */
sc_qsample_t *sc_qsample_start(sc_app_t *app);
/* One sampling pass over every member at now_ms (unix ms). */
void sc_qsample_tick(sc_qsample_t *q, int64_t now_ms);
/* The aggregates (NULL q: all zero, bounds set). */
void sc_qsample_agg(const sc_qsample_t *q, sc_qsample_agg_t *out);
void sc_qsample_destroy(sc_qsample_t *q);

#endif
