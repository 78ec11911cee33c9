#include "sc_lathist.h"

uint64_t sc_lathist_upper_us(unsigned b) {
  if (b < 8) return b + 1;
  if (b >= SC_LATHIST_BUCKETS - 1) return UINT64_MAX;
  unsigned e = (b - 8) / 4 + 3, sub = (b - 8) % 4;
  return (uint64_t)(5 + sub) << (e - 2);
}

uint64_t sc_lathist_total(const uint64_t counts[SC_LATHIST_BUCKETS]) {
  uint64_t n = 0;
  for (unsigned b = 0; b < SC_LATHIST_BUCKETS; b++) n += counts[b];
  return n;
}

uint64_t sc_lathist_quantile_us(const uint64_t counts[SC_LATHIST_BUCKETS], double q) {
  uint64_t total = sc_lathist_total(counts);
  if (!total) return 0;
  if (q > 1) q = 1;
  /* The rank of the q-quantile, 1-based: ceil(q * total), at least 1. */
  double want = q * (double)total;
  uint64_t rank = (uint64_t)want, seen = 0;
  if ((double)rank < want || !rank) rank++;
  for (unsigned b = 0; b < SC_LATHIST_BUCKETS - 1; b++) {
    seen += counts[b];
    if (seen >= rank) return sc_lathist_upper_us(b);
  }
  return sc_lathist_upper_us(SC_LATHIST_BUCKETS - 2); /* the open bucket's lower bound */
}
