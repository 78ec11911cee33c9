#include "dv_timer.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

void dv_timers_init(dv_timers_t *h, struct lws_context *lws) {
  memset(h, 0, sizeof *h);
  h->lws = lws;
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

static void unlink_manual(dv_timer_t *t) {
  for (dv_timer_t **p = &t->hub->armed; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      return;
    }
  }
}

static void on_sul(lws_sorted_usec_list_t *sul) {
  dv_timer_t *t = lws_container_of(sul, dv_timer_t, sul);
  t->armed = 0;
  t->fn(t);
}

void dv_timer_cancel(dv_timer_t *t) {
  if (!t->armed) return;
  t->armed = 0;
  if (t->hub->lws)
    lws_sul_cancel(&t->sul);
  else
    unlink_manual(t);
}

void dv_timer_arm(dv_timer_t *t, uint32_t ms) {
  dv_timer_cancel(t);
  t->armed = 1;
  if (t->hub->lws) {
    lws_sul_schedule(t->hub->lws, 0, &t->sul, on_sul, (lws_usec_t)ms * 1000);
    return;
  }
  t->due_ms = t->hub->now_ms + ms;
  t->next = t->hub->armed;
  t->hub->armed = t;
}

static dv_timer_t *earliest_due(dv_timers_t *h, uint64_t until) {
  dv_timer_t *best = NULL;
  for (dv_timer_t *t = h->armed; t; t = t->next)
    if (t->due_ms <= until && (!best || t->due_ms < best->due_ms)) best = t;
  return best;
}

void dv_timers_advance(dv_timers_t *h, uint64_t ms) {
  uint64_t until = h->now_ms + ms;
  for (dv_timer_t *t; (t = earliest_due(h, until));) {
    unlink_manual(t);
    t->armed = 0;
    h->now_ms = t->due_ms;
    t->fn(t); /* may arm, cancel or free timers: the list is re-read */
  }
  h->now_ms = until;
}
