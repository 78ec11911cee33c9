/*
 * test_lathist: the forwarding-delay histogram (src/sc_lathist): every
 * duration lands in the bucket whose bounds hold it, buckets are at most
 * 25 % wide, and quantiles are the upper bound of the right bucket.
 */
#include "sc_lathist.h"
#include "sc_test.h"

static uint64_t lower_us(unsigned b) {
  return b ? sc_lathist_upper_us(b - 1) : 0;
}

static void test_bounds(void) {
  for (uint64_t us = 0; us < (1u << 22); us += 1 + us / 64) {
    unsigned b = sc_lathist_bucket(us);
    ASSERT_TRUE(b < SC_LATHIST_BUCKETS);
    ASSERT_TRUE(lower_us(b) <= us);
    ASSERT_TRUE(us < sc_lathist_upper_us(b));
  }
  for (unsigned b = 1; b < SC_LATHIST_BUCKETS - 1; b++) {
    uint64_t lo = lower_us(b), hi = sc_lathist_upper_us(b);
    ASSERT_TRUE(lo < hi);
    ASSERT_TRUE((hi - lo) * 4 <= lo || lo < 8); /* at most 25 % of its lower bound */
    ASSERT_EQ(sc_lathist_bucket(lo), b);
    ASSERT_EQ(sc_lathist_bucket(hi - 1), b);
  }
  ASSERT_EQ(sc_lathist_bucket(UINT64_MAX), SC_LATHIST_BUCKETS - 1);
  ASSERT_EQ(sc_lathist_upper_us(SC_LATHIST_BUCKETS - 1), UINT64_MAX);
}

static void test_quantiles(void) {
  uint64_t c[SC_LATHIST_BUCKETS] = {0};
  ASSERT_EQ(sc_lathist_quantile_us(c, 0.99), 0);
  /* 990 packets at 100 us, 9 at 1500 us, 1 at 40 ms. */
  c[sc_lathist_bucket(100)] += 990;
  c[sc_lathist_bucket(1500)] += 9;
  c[sc_lathist_bucket(40000)] += 1;
  ASSERT_EQ(sc_lathist_total(c), 1000);
  ASSERT_EQ(sc_lathist_quantile_us(c, 0.5), sc_lathist_upper_us(sc_lathist_bucket(100)));
  ASSERT_EQ(sc_lathist_quantile_us(c, 0.99), sc_lathist_upper_us(sc_lathist_bucket(100)));
  ASSERT_EQ(sc_lathist_quantile_us(c, 0.995), sc_lathist_upper_us(sc_lathist_bucket(1500)));
  ASSERT_EQ(sc_lathist_quantile_us(c, 1.0), sc_lathist_upper_us(sc_lathist_bucket(40000)));
  ASSERT_TRUE(sc_lathist_quantile_us(c, 1.0) > 40000);
  c[SC_LATHIST_BUCKETS - 1] = 1000000;
  ASSERT_EQ(sc_lathist_quantile_us(c, 0.99), (uint64_t)1 << 21);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_bounds);
  RUN_TEST(test_quantiles);
  SC_TEST_DONE();
}
