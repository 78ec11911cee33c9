/*
 * vx_filter: see vx_filter.h.
 */
#include "vx_filter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct {
  _Atomic uint32_t ssrc; /* 0: empty */
  _Atomic uint32_t on;
} slot_t;

struct vx_filter {
  _Atomic int refs;
  _Atomic int active; /* which table the worker reads */
  int used[2];        /* slots holding an SSRC (control thread) */
  int live;           /* entries on (control thread) */
  slot_t t[2][VX_FILTER_SLOTS];
};

static unsigned home(uint32_t ssrc) {
  return (unsigned)((ssrc * 2654435761u) >> 23) & (VX_FILTER_SLOTS - 1);
}

/* The slot of ssrc in table, or the empty slot where it would go. */
static slot_t *probe(slot_t *table, uint32_t ssrc) {
  for (unsigned i = home(ssrc);; i = (i + 1) & (VX_FILTER_SLOTS - 1)) {
    uint32_t s = atomic_load_explicit(&table[i].ssrc, memory_order_acquire);
    if (s == ssrc || s == 0) return &table[i];
  }
}

vx_filter_t *vx_filter_new(void) {
  vx_filter_t *f = calloc(1, sizeof *f);
  if (f) atomic_init(&f->refs, 1);
  return f;
}

void vx_filter_hold(vx_filter_t *f) {
  atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void vx_filter_put(vx_filter_t *f) {
  if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) free(f);
}

/* Copies the entries that are on into the other table and switches the
 * worker to it. */
static void compact(vx_filter_t *f) {
  int a = atomic_load_explicit(&f->active, memory_order_relaxed), b = 1 - a;
  for (int i = 0; i < VX_FILTER_SLOTS; i++) {
    atomic_store_explicit(&f->t[b][i].on, 0, memory_order_relaxed);
    atomic_store_explicit(&f->t[b][i].ssrc, 0, memory_order_release);
  }
  f->used[b] = 0;
  for (int i = 0; i < VX_FILTER_SLOTS; i++) {
    uint32_t s = atomic_load_explicit(&f->t[a][i].ssrc, memory_order_relaxed);
    if (!s || !atomic_load_explicit(&f->t[a][i].on, memory_order_relaxed)) continue;
    slot_t *d = probe(f->t[b], s);
    atomic_store_explicit(&d->on, 1, memory_order_relaxed);
    atomic_store_explicit(&d->ssrc, s, memory_order_release);
    f->used[b]++;
  }
  atomic_store_explicit(&f->active, b, memory_order_release);
}

int vx_filter_set(vx_filter_t *f, uint32_t ssrc, int on) {
  if (!ssrc) return -EINVAL;
  int a = atomic_load_explicit(&f->active, memory_order_relaxed);
  slot_t *s = probe(f->t[a], ssrc);
  uint32_t was_on = atomic_load_explicit(&s->on, memory_order_relaxed);
  int present = atomic_load_explicit(&s->ssrc, memory_order_relaxed) == ssrc;
  if (on && !(present && was_on) && f->live >= VX_FILTER_MAX) return -ENOSPC;
  if (present) {
    atomic_store_explicit(&s->on, (uint32_t) !!on, memory_order_release);
    f->live += (on && !was_on) - (!on && was_on);
    return 0;
  }
  if (!on) return 0;
  if (f->used[a] >= VX_FILTER_SLOTS / 2) {
    compact(f);
    a = 1 - a;
    s = probe(f->t[a], ssrc);
  }
  atomic_store_explicit(&s->on, 1, memory_order_relaxed);
  atomic_store_explicit(&s->ssrc, ssrc, memory_order_release);
  f->used[a]++;
  f->live++;
  return 0;
}

int vx_filter_declines(void *policy, const sc_media_pkt_t *pkt) {
  vx_filter_t *f = policy;
  int a = atomic_load_explicit(&f->active, memory_order_acquire);
  slot_t *s = probe(f->t[a], pkt->ssrc);
  return atomic_load_explicit(&s->ssrc, memory_order_relaxed) != pkt->ssrc ||
         !atomic_load_explicit(&s->on, memory_order_acquire);
}

void vx_filter_release(void *policy) {
  vx_filter_put(policy);
}
