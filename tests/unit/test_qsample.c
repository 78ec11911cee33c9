/*
 * test_qsample: the call-quality sampler (src/sc_qsample) over a real
 * registry: each tick turns every member's counters (written here as the
 * media worker would) into the figures of the interval, and each measured
 * member-interval goes into the /metrics aggregates: loss and jitter only
 * for members that sent audio in it, RTT only when known.
 */
#include <stdatomic.h>
#include <string.h>

#include "sc_qsample.h"
#include "sc_test.h"

#define FRAME 960

/* n packets of 20 ms from seq0, every `skip`-th one lost (0: none). */
static void talk(sc_member_stats_t *s, uint16_t seq0, uint32_t n, uint32_t skip) {
  for (uint32_t i = 0; i < n; i++) {
    if (skip && i % skip == skip - 1) continue;
    sc_quality_rx(&s->rxq, &s->rxq_cold, (uint16_t)(seq0 + i), i * FRAME, 1000u + i * FRAME);
    atomic_fetch_add(&s->rx_bytes, 100);
  }
}

static void test_tick(void) {
  static sc_app_t app;
  memset(&app, 0, sizeof app);
  app.registry = sc_registry_create(NULL);
  ASSERT_TRUE(app.registry != NULL);
  sc_vstate_t *a = sc_registry_create_state(app.registry, "1", "10", "100");
  sc_vstate_t *b = sc_registry_create_state(app.registry, "2", "10", "100");
  ASSERT_TRUE(a && b && a->stats && b->stats);
  sc_qsample_t *q = sc_qsample_start(&app); /* no loop: driven by hand */
  ASSERT_TRUE(q != NULL);
  sc_qsample_tick(q, 10000);
  talk(a->stats, 500, 100, 10); /* 10 of 100 lost */
  b->stats->rtt_us = 40000;     /* b is silent, its RTT known */
  sc_qsample_tick(q, 12000);
  const sc_quality_t *qa = &a->stats->quality, *qb = &b->stats->quality;
  ASSERT_EQ(qa->expected_interval, 99); /* the 100th was the 10th lost */
  ASSERT_EQ(qa->lost_interval, 9);
  ASSERT_TRUE(qa->loss_fraction > 0.09 && qa->loss_fraction < 0.1);
  ASSERT_TRUE(qa->rx_kbps > 35.9 && qa->rx_kbps < 36.1); /* 90 x 100 B in 2 s */
  ASSERT_EQ(qb->expected_interval, 0);
  ASSERT_TRUE(qb->loss_fraction == 0 && qb->rx_kbps == 0);
  sc_qsample_agg_t agg;
  sc_qsample_agg(q, &agg);
  uint64_t loss_n = 0, rtt_n = 0;
  for (size_t i = 0; i <= agg.loss.n_le; i++) loss_n += agg.loss.counts[i];
  for (size_t i = 0; i <= agg.rtt.n_le; i++) rtt_n += agg.rtt.counts[i];
  ASSERT_EQ(loss_n, 1); /* a only: b sent nothing */
  ASSERT_EQ(rtt_n, 1);  /* b only: a's RTT is unknown */
  ASSERT_EQ(agg.lost, 9);
  ASSERT_EQ(agg.expected, 99);
  ASSERT_TRUE(agg.rtt.sum > 0.039 && agg.rtt.sum < 0.041);
  sc_qsample_destroy(q);
  sc_registry_destroy(app.registry);
}

static void test_no_sampler(void) {
  sc_qsample_agg_t agg;
  sc_qsample_agg(NULL, &agg); /* /metrics before the sampler started */
  ASSERT_EQ(agg.lost, 0);
  ASSERT_TRUE(agg.loss.n_le > 0 && agg.jitter.n_le > 0 && agg.rtt.n_le > 0);
  sc_qsample_tick(NULL, 1); /* does nothing */
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_tick);
  RUN_TEST(test_no_sampler);
  SC_TEST_DONE();
}
