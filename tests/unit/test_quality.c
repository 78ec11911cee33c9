/*
 * test_quality: our receive-side loss and jitter (src/sc_quality, RFC 3550
 * A.1, A.3, A.8): a clean stream, a gap, sequence wrap, reordering,
 * duplicates, a restart, jitter from uneven arrivals, pauses, and the
 * interval figures (loss fraction, bitrate) from two readings.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "sc_quality.h"
#include "sc_test.h"

#define FRAME 960 /* 20 ms of Opus at 48 kHz */

typedef struct {
  sc_rxq_hot_t h;
  sc_rxq_cold_t c;
  sc_quality_t q;
} rx_t;

static void rx_init(rx_t *r) {
  memset(r, 0, sizeof *r);
}

/* Packet number i of a stream sent every 20 ms, arriving `late` units
 * after its time; sequence numbers from seq0. */
static void feed(rx_t *r, uint16_t seq0, uint32_t i, int32_t late) {
  uint32_t ts = 5000u + i * FRAME;
  sc_quality_rx(&r->h, &r->c, (uint16_t)(seq0 + i), ts, 777777u + i * FRAME + (uint32_t)late);
}

static int sample(rx_t *r, int64_t now_ms, uint64_t rx_bytes) {
  sc_quality_reading_t rd;
  sc_quality_read(&r->h, &r->c, rx_bytes, 0, &rd);
  return sc_quality_sample(&r->q, &rd, now_ms);
}

static void test_clean_stream(void) {
  rx_t r;
  rx_init(&r);
  ASSERT_EQ(sample(&r, 1000, 0), 0); /* first reading: no interval */
  for (uint32_t i = 0; i < 100; i++) feed(&r, 100, i, 0);
  ASSERT_EQ(sample(&r, 3000, 32000), 1);
  ASSERT_EQ(r.q.expected_interval, 100);
  ASSERT_EQ(r.q.lost_interval, 0);
  ASSERT_TRUE(r.q.loss_fraction == 0);
  ASSERT_EQ(r.q.lost_total, 0);
  ASSERT_TRUE(r.q.jitter_ms == 0);
  ASSERT_TRUE(fabs(r.q.rx_kbps - 128.0) < 1e-9); /* 32000 B in 2 s */
}

static void test_gap(void) {
  rx_t r;
  rx_init(&r);
  sample(&r, 1000, 0);
  for (uint32_t i = 0; i < 100; i++)
    if (i < 40 || i >= 50) feed(&r, 7, i, 0); /* 10 lost */
  sample(&r, 3000, 0);
  ASSERT_EQ(r.q.expected_interval, 100);
  ASSERT_EQ(r.q.lost_interval, 10);
  ASSERT_TRUE(fabs(r.q.loss_fraction - 0.1) < 1e-9);
  ASSERT_EQ(r.q.lost_total, 10);
  /* The next interval is clean: its fraction is 0, the total stays. */
  for (uint32_t i = 100; i < 150; i++) feed(&r, 7, i, 0);
  sample(&r, 5000, 0);
  ASSERT_EQ(r.q.expected_interval, 50);
  ASSERT_TRUE(r.q.loss_fraction == 0);
  ASSERT_EQ(r.q.lost_total, 10);
  /* Nothing expected (the member is silent): fraction 0 (A.3). */
  sample(&r, 7000, 0);
  ASSERT_EQ(r.q.expected_interval, 0);
  ASSERT_TRUE(r.q.loss_fraction == 0);
}

static void test_wrap(void) {
  rx_t r;
  rx_init(&r);
  sample(&r, 1000, 0);
  /* 65500 .. 65535, 0 .. 63: one cycle; 3 lost across the wrap. */
  for (uint32_t i = 0; i < 100; i++)
    if (i != 35 && i != 36 && i != 37) feed(&r, 65500, i, 0);
  ASSERT_EQ(atomic_load(&r.h.ext_max), 65536u + 63u);
  sample(&r, 3000, 0);
  ASSERT_EQ(r.q.expected_interval, 100);
  ASSERT_EQ(r.q.lost_interval, 3);
  ASSERT_EQ(r.q.lost_total, 3);
}

static void test_reorder_and_duplicates(void) {
  rx_t r;
  rx_init(&r);
  sample(&r, 1000, 0);
  /* 0 1 3 2 4 ... : the late 2 is counted, the highest is not lowered. */
  static const uint32_t order[] = {0, 1, 3, 2, 4, 5, 6, 7, 8, 9};
  for (size_t k = 0; k < 10; k++) feed(&r, 40000, order[k], order[k] == 2 ? 2 * FRAME : 0);
  ASSERT_EQ(atomic_load(&r.h.ext_max), 40009u);
  sample(&r, 3000, 0);
  ASSERT_EQ(r.q.lost_interval, 0);
  ASSERT_EQ(r.q.lost_total, 0);
  ASSERT_TRUE(r.q.jitter_ms > 0); /* the late packet's transit moved */
  /* A duplicate counts as received (A.1): it can only hide a loss, never
   * make one, and the totals never go below 0. */
  feed(&r, 40000, 9, 0);
  feed(&r, 40000, 9, 0);
  feed(&r, 40000, 11, 0); /* 10 lost, hidden by the duplicates */
  sample(&r, 5000, 0);
  ASSERT_EQ(r.q.lost_interval, 0);
  ASSERT_EQ(r.q.lost_total, 0);
}

static void test_restart(void) {
  rx_t r;
  rx_init(&r);
  sample(&r, 1000, 0);
  for (uint32_t i = 0; i < 50; i++) feed(&r, 1000, i, 0);
  /* A lone packet far ahead is ignored; two in a row restart the stream. */
  feed(&r, 30000, 0, 0);
  ASSERT_EQ(atomic_load(&r.h.received), 50u);
  feed(&r, 30000, 1, 0);
  ASSERT_EQ(atomic_load(&r.h.received), 1u);
  for (uint32_t i = 2; i < 20; i++) feed(&r, 30000, i, 0);
  sample(&r, 3000, 0);
  /* Counted from the second packet there (A.1): nothing lost. */
  ASSERT_EQ(r.q.expected_interval, 19);
  ASSERT_EQ(r.q.lost_total, 0);
  ASSERT_TRUE(r.q.loss_fraction == 0);
  /* A new client (member reset): counted from its first packet. */
  sc_quality_restart(&r.h);
  for (uint32_t i = 0; i < 10; i++) feed(&r, 5, i, 0);
  sample(&r, 5000, 0);
  ASSERT_EQ(r.q.expected_interval, 10);
  ASSERT_EQ(r.q.lost_total, 0);
}

static void test_jitter(void) {
  rx_t r;
  rx_init(&r);
  /* Arrivals alternate 0 and 2 ms late: |D| = 96 units every packet, so
   * J converges to 96 units = 2 ms (A.8). */
  for (uint32_t i = 0; i < 500; i++) feed(&r, 0, i, (i & 1) ? 96 : 0);
  sample(&r, 1000, 0);
  ASSERT_TRUE(fabs(r.q.jitter_ms - 2.0) < 0.1);
  /* A pause without timestamps advancing (djs in silence) is not jitter. */
  uint32_t j = atomic_load(&r.h.jitter16);
  sc_quality_rx(&r.h, &r.c, 500, 5000u + 500u * FRAME, 777777u + 800u * FRAME);
  ASSERT_EQ(atomic_load(&r.h.jitter16), j);
  /* Steady again: it decays. */
  for (uint32_t i = 501; i < 1200; i++)
    sc_quality_rx(&r.h, &r.c, (uint16_t)i, 5000u + i * FRAME, 777777u + (i + 300) * FRAME);
  sample(&r, 2000, 0);
  ASSERT_TRUE(r.q.jitter_ms < 0.01);
}

static void test_arrival_units(void) {
  /* 1 s = 48000 units; 20 ms = 960; no overflow at today's unix ns. */
  int64_t t = 1796000000LL * 1000000000LL;
  ASSERT_EQ(sc_quality_arrival(t + 1000000000LL) - sc_quality_arrival(t), 48000u);
  ASSERT_EQ(sc_quality_arrival(t + 20000000LL) - sc_quality_arrival(t), 960u);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_clean_stream);
  RUN_TEST(test_gap);
  RUN_TEST(test_wrap);
  RUN_TEST(test_reorder_and_duplicates);
  RUN_TEST(test_restart);
  RUN_TEST(test_jitter);
  RUN_TEST(test_arrival_units);
  SC_TEST_DONE();
}
