#include "sc_qsample.h"

#include <ev.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "sc_log.h"
#include "sc_registry.h"

/* Histogram bounds (inclusive upper), base units. */
static const double loss_le[] = {0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
static const double jitter_le[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2};
static const double rtt_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6};
#define N(a) (sizeof(a) / sizeof *(a))

struct sc_qsample {
  sc_app_t *app;
  ev_timer timer;
  int timer_on;
  int64_t now_ms; /* the pass in progress */
  sc_qsample_agg_t agg;
};

#define LOADED(f) atomic_load_explicit(&(f), memory_order_relaxed)

static void sample_member(sc_vstate_t *vs, void *arg) {
  sc_qsample_t *q = arg;
  sc_member_stats_t *s = vs->stats;
  if (!s) return;
  sc_quality_reading_t r;
  sc_quality_read(&s->rxq, &s->rxq_cold, LOADED(s->rx_bytes), LOADED(s->tx_bytes), &r);
  if (!sc_quality_sample(&s->quality, &r, q->now_ms)) return;
  const sc_quality_t *f = &s->quality;
  if (f->expected_interval) {
    sc_metrics_observe(&q->agg.loss, f->loss_fraction);
    sc_metrics_observe(&q->agg.jitter, f->jitter_ms / 1000.0);
    q->agg.lost += f->lost_interval;
    q->agg.expected += f->expected_interval;
  }
  if (s->rtt_us > 0) sc_metrics_observe(&q->agg.rtt, (double)s->rtt_us / 1e6);
}

static void sample_channel(sc_channel_t *ch, void *arg) {
  sc_registry_each_state(ch, sample_member, arg);
}

void sc_qsample_tick(sc_qsample_t *q, int64_t now_ms) {
  if (!q || !q->app->registry) return;
  q->now_ms = now_ms;
  sc_registry_each_channel(q->app->registry, sample_channel, q);
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  sc_qsample_tick(w->data, wall_ms());
}

static void agg_init(sc_qsample_agg_t *a) {
  sc_metrics_obs_init(&a->loss, loss_le, N(loss_le));
  sc_metrics_obs_init(&a->jitter, jitter_le, N(jitter_le));
  sc_metrics_obs_init(&a->rtt, rtt_le, N(rtt_le));
  a->lost = a->expected = 0;
}

sc_qsample_t *sc_qsample_start(sc_app_t *app) {
  sc_qsample_t *q = calloc(1, sizeof *q);
  if (!q) {
    sc_log_error("quality", "out of memory: no call-quality figures");
    return NULL;
  }
  q->app = app;
  agg_init(&q->agg);
  if (app->loop) {
    double s = SC_QSAMPLE_INTERVAL_MS / 1000.0;
    ev_timer_init(&q->timer, on_timer, s, s);
    q->timer.data = q;
    ev_timer_start(app->loop, &q->timer);
    q->timer_on = 1;
  }
  return q;
}

void sc_qsample_agg(const sc_qsample_t *q, sc_qsample_agg_t *out) {
  if (q) {
    *out = q->agg;
    return;
  }
  agg_init(out);
}

void sc_qsample_destroy(sc_qsample_t *q) {
  if (!q) return;
  if (q->timer_on) ev_timer_stop(q->app->loop, &q->timer);
  free(q);
}
