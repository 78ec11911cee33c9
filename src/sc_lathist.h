/*
 * sc_lathist: a fixed-size histogram of durations in microseconds, for the
 * media plane's forwarding delay. Buckets are log-linear: exact below
 * 8 us, then four per power of two (at most 25 % wide), the last one open
 * (>= 2^21 us, about 2 s). Quantiles are read as a bucket's upper bound,
 * so they never understate.
 *
 * Owns: nothing; the counts are a plain array in the caller's struct (the
 * media workers keep theirs in sc_media_stats_t, one writer each).
 * Threads: pure functions, any thread.
 */
#ifndef SC_LATHIST_H
#define SC_LATHIST_H

#include <stdint.h>

#define SC_LATHIST_BUCKETS 81

/* Bucket of a duration of `us` microseconds. */
static inline unsigned sc_lathist_bucket(uint64_t us) {
  if (us < 8) return (unsigned)us;
  unsigned e = 63u - (unsigned)__builtin_clzll(us); /* 2^e <= us, e >= 3 */
  unsigned b = 8 + (e - 3) * 4 + (unsigned)((us >> (e - 2)) & 3);
  return b < SC_LATHIST_BUCKETS ? b : SC_LATHIST_BUCKETS - 1;
}

/* Smallest duration that no longer falls into bucket b (exclusive upper
 * bound, in us); UINT64_MAX for the last, open bucket. */
uint64_t sc_lathist_upper_us(unsigned b);

/* Sum of the counts. */
uint64_t sc_lathist_total(const uint64_t counts[SC_LATHIST_BUCKETS]);

/* The upper bound of the bucket holding quantile q (0 < q <= 1) of the
 * counts: at least a fraction q of the durations were below it. 0 if
 * there are no counts; for the open bucket, its lower bound (2^21). */
uint64_t sc_lathist_quantile_us(const uint64_t counts[SC_LATHIST_BUCKETS], double q);

#endif
