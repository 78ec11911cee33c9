#include "lg_stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lg_hist_init(lg_hist_t *h) {
  memset(h, 0, sizeof *h);
  h->buckets = calloc(LG_HIST_US, sizeof *h->buckets);
  return h->buckets ? 0 : -ENOMEM;
}

void lg_hist_reset(lg_hist_t *h) {
  memset(h->buckets, 0, LG_HIST_US * sizeof *h->buckets);
  h->count = h->over = 0;
  h->max_ns = 0;
}

void lg_hist_free(lg_hist_t *h) {
  free(h->buckets);
  h->buckets = NULL;
}

void lg_hist_add(lg_hist_t *h, int64_t ns) {
  if (ns < 0) ns = 0; /* clock reads on two cores; never seen, but cheap */
  int64_t us = ns / 1000;
  if (us >= LG_HIST_US)
    h->over++;
  else
    h->buckets[us]++;
  h->count++;
  if (ns > h->max_ns) h->max_ns = ns;
}

double lg_hist_pct_us(const lg_hist_t *h, double p) {
  if (!h->count) return 0;
  uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < LG_HIST_US; i++) {
    seen += h->buckets[i];
    if (seen >= rank) return i + 0.5; /* bucket middle */
  }
  return LG_HIST_US;
}

int lg_seen_init(lg_seen_t *s, size_t n_pairs, size_t bits_per_pair) {
  memset(s, 0, sizeof *s);
  s->n_pairs = n_pairs;
  s->bits_per_pair = (bits_per_pair + 7) & ~(size_t)7;
  s->bits = calloc(n_pairs ? n_pairs : 1, s->bits_per_pair / 8);
  return s->bits ? 0 : -ENOMEM;
}

void lg_seen_free(lg_seen_t *s) {
  free(s->bits);
  s->bits = NULL;
}

int lg_seen_mark(lg_seen_t *s, size_t pair, int64_t off) {
  if (pair >= s->n_pairs || off < 0 || (uint64_t)off >= s->bits_per_pair) {
    s->out_of_range++;
    return -1;
  }
  size_t bit = pair * s->bits_per_pair + (size_t)off;
  uint8_t mask = (uint8_t)(1u << (bit & 7));
  if (s->bits[bit >> 3] & mask) {
    s->dups++;
    return 0;
  }
  s->bits[bit >> 3] |= mask;
  s->unique++;
  return 1;
}
