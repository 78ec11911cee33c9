/*
 * lg_stats: what a measuring step accumulates per packet: a latency
 * histogram and, per (sender, receiver) pair, a bitmap of the sequence
 * numbers seen (loss and duplicates).
 *
 * Owns: the arrays inside lg_hist_t and lg_seen_t (allocated by *_init,
 * released by *_free).
 * Threads: the media thread only (results are copied out after a step).
 * Memory: no allocation per packet; both structures are sized up front.
 */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stddef.h>
#include <stdint.h>

/* 1-microsecond buckets up to 100 ms; slower samples count as "over". */
#define LG_HIST_US 100000

typedef struct {
  uint32_t *buckets;
  uint64_t count, over;
  int64_t max_ns;
} lg_hist_t;

int lg_hist_init(lg_hist_t *h);
void lg_hist_reset(lg_hist_t *h);
void lg_hist_free(lg_hist_t *h);
void lg_hist_add(lg_hist_t *h, int64_t ns);
/* Nearest-rank percentile (p in (0,100]) in microseconds; 0 if empty; a
 * sample beyond the histogram reports LG_HIST_US. */
double lg_hist_pct_us(const lg_hist_t *h, double p);

typedef struct {
  uint8_t *bits;
  size_t n_pairs, bits_per_pair;
  uint64_t unique, dups, out_of_range;
} lg_seen_t;

int lg_seen_init(lg_seen_t *s, size_t n_pairs, size_t bits_per_pair);
void lg_seen_free(lg_seen_t *s);
/* Marks sequence offset off of pair. Returns 1 (first time), 0 (dup) or
 * -1 (offset outside the step: from an earlier step, or a bad sequence). */
int lg_seen_mark(lg_seen_t *s, size_t pair, int64_t off);

#endif
