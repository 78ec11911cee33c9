#include "lvsp_link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int lvsp_link_init(lvsp_link_t *l, size_t replay_cap) {
  memset(l, 0, sizeof *l);
  if (replay_cap && !(l->ring = calloc(replay_cap, sizeof *l->ring))) return -ENOMEM;
  l->cap = replay_cap;
  return 0;
}

void lvsp_link_free(lvsp_link_t *l) {
  for (size_t i = 0; i < l->count; i++) free(l->ring[(l->start + i) % l->cap].text);
  free(l->ring);
  l->ring = NULL;
  l->count = 0;
}

uint64_t lvsp_link_next_seq(lvsp_link_t *l) {
  return ++l->seq;
}

int lvsp_link_store(lvsp_link_t *l, uint64_t s, const char *text, size_t len) {
  char *copy = l->cap ? malloc(len + 1) : NULL;
  if (!copy) {
    /* Not held, so a resume from before it must start afresh. */
    l->evicted = s;
    return l->cap ? -ENOMEM : 0;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  if (l->count == l->cap) {
    lvsp_frame_t *old = &l->ring[l->start];
    l->evicted = old->s;
    free(old->text);
    l->start = (l->start + 1) % l->cap;
    l->count--;
  }
  l->ring[(l->start + l->count) % l->cap] = (lvsp_frame_t){s, copy, len};
  l->count++;
  return 0;
}

int lvsp_link_can_resume(const lvsp_link_t *l, uint64_t after) {
  return after >= l->evicted && after <= l->seq;
}

int lvsp_link_replay(const lvsp_link_t *l, uint64_t after, lvsp_frame_fn fn, void *arg) {
  for (size_t i = 0; i < l->count; i++) {
    const lvsp_frame_t *f = &l->ring[(l->start + i) % l->cap];
    if (f->s <= after) continue;
    int rc = fn(arg, f);
    if (rc) return rc;
  }
  return 0;
}

const lvsp_frame_t *lvsp_link_next(const lvsp_link_t *l, uint64_t after) {
  size_t lo = 0, hi = l->count; /* first index whose s > after */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (l->ring[(l->start + mid) % l->cap].s <= after)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < l->count ? &l->ring[(l->start + lo) % l->cap] : NULL;
}

int64_t lvsp_link_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
