#include "dv_timer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void dv_timers_init(dv_timers_t *h, struct lws_context *lws) {
  memset(h, 0, sizeof *h);
  h->lws = lws;
}

void dv_timers_free(dv_timers_t *h, int lws_alive) {
  if (h->lws && lws_alive && h->sul_due_ms) lws_sul_cancel(&h->sul);
  for (size_t i = 0; i < h->n; i++) {
    h->heap[i]->slot = 0;
    h->heap[i]->armed = 0;
  }
  free(h->heap);
  h->heap = NULL;
  h->n = h->cap = 0;
  h->sul_due_ms = 0;
}

uint64_t dv_timers_now(const dv_timers_t *h) {
  if (!h->lws) return h->now_ms;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void dv_timer_init(dv_timer_t *t, dv_timers_t *h, dv_timer_fn fn) {
  memset(t, 0, sizeof *t);
  t->hub = h;
  t->fn = fn;
}

/* ---- the heap ------------------------------------------------------------ */

static void place(dv_timers_t *h, size_t i, dv_timer_t *t) {
  h->heap[i] = t;
  t->slot = i + 1;
}

static void sift_up(dv_timers_t *h, size_t i) {
  dv_timer_t *t = h->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (h->heap[parent]->due_ms <= t->due_ms) break;
    place(h, i, h->heap[parent]);
    i = parent;
  }
  place(h, i, t);
}

static void sift_down(dv_timers_t *h, size_t i) {
  dv_timer_t *t = h->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->n) break;
    if (child + 1 < h->n && h->heap[child + 1]->due_ms < h->heap[child]->due_ms) child++;
    if (t->due_ms <= h->heap[child]->due_ms) break;
    place(h, i, h->heap[child]);
    i = child;
  }
  place(h, i, t);
}

static void heap_remove(dv_timers_t *h, dv_timer_t *t) {
  size_t i = t->slot - 1;
  t->slot = 0;
  dv_timer_t *last = h->heap[--h->n];
  if (last == t) return;
  place(h, i, last);
  sift_down(h, i);
  sift_up(h, last->slot - 1);
}

static int heap_push(dv_timers_t *h, dv_timer_t *t) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    dv_timer_t **grown = realloc(h->heap, cap * sizeof *grown);
    if (!grown) return -1;
    h->heap = grown;
    h->cap = cap;
  }
  place(h, h->n++, t);
  sift_up(h, h->n - 1);
  return 0;
}

/* ---- lws hubs: one lws_sul for the earliest timer ----------------------- */

static void fire_due(dv_timers_t *h, uint64_t now);

static void on_hub_sul(lws_sorted_usec_list_t *sul) {
  dv_timers_t *h = lws_container_of(sul, dv_timers_t, sul);
  h->sul_due_ms = 0;
  fire_due(h, dv_timers_now(h));
}

/* Arms the hub's lws timer for heap[0] unless it already fires in time.
 * A timer cancelled since leaves it early: it then wakes, finds nothing
 * due and re-arms, which is cheaper than re-arming on every cancel. */
static void schedule_hub(dv_timers_t *h) {
  if (!h->lws || !h->n) return;
  uint64_t due = h->heap[0]->due_ms;
  if (h->sul_due_ms && h->sul_due_ms <= due) return;
  uint64_t now = dv_timers_now(h);
  /* At least 1 ms: our clock is in whole ms, lws's in us. */
  uint64_t wait_ms = due > now ? due - now : 1;
  h->sul_due_ms = now + wait_ms;
  lws_sul_schedule(h->lws, 0, &h->sul, on_hub_sul, (lws_usec_t)wait_ms * 1000);
}

static void on_own_sul(lws_sorted_usec_list_t *sul) {
  dv_timer_t *t = lws_container_of(sul, dv_timer_t, sul);
  t->on_sul = 0;
  t->armed = 0;
  t->fn(t);
}

/* Fires every timer due by `now`, earliest first. Each is out of the heap
 * and unarmed before its callback, which may arm, cancel or free timers:
 * the heap is re-read after every callback. */
static void fire_due(dv_timers_t *h, uint64_t now) {
  while (h->n && h->heap[0]->due_ms <= now) {
    dv_timer_t *t = h->heap[0];
    heap_remove(h, t);
    t->armed = 0;
    if (!h->lws) h->now_ms = t->due_ms;
    t->fn(t);
  }
  schedule_hub(h);
}

/* ---- timers -------------------------------------------------------------- */

void dv_timer_cancel(dv_timer_t *t) {
  if (!t->armed) return;
  t->armed = 0;
  if (t->on_sul) {
    lws_sul_cancel(&t->sul);
    t->on_sul = 0;
  } else if (t->slot) {
    heap_remove(t->hub, t);
  }
}

void dv_timer_arm(dv_timer_t *t, uint32_t ms) {
  dv_timers_t *h = t->hub;
  uint64_t due = dv_timers_now(h) + ms;
  if (t->slot) {
    /* Re-arm in place: no allocation, and the usual case (a heartbeat
     * pushing its deadline back) is one sift down. */
    uint64_t old = t->due_ms;
    t->due_ms = due;
    if (due > old)
      sift_down(h, t->slot - 1);
    else
      sift_up(h, t->slot - 1);
    schedule_hub(h);
    return;
  }
  dv_timer_cancel(t);
  t->due_ms = due;
  if (heap_push(h, t) == 0) {
    t->armed = 1;
    schedule_hub(h);
  } else if (h->lws) {
    t->armed = 1;
    t->on_sul = 1;
    lws_sul_schedule(h->lws, 0, &t->sul, on_own_sul, (lws_usec_t)ms * 1000);
  }
}

void dv_timers_advance(dv_timers_t *h, uint64_t ms) {
  uint64_t until = h->now_ms + ms;
  fire_due(h, until);
  h->now_ms = until;
}
