/*
 * dv_timer: one-shot timers for the voice gateway (heartbeat deadlines,
 * resume grace periods) and the clock they run on.
 *
 * A hub runs either on the lws event loop (lws_sul: the callback runs on
 * the control thread from lws_service) or, when created without an lws
 * context, on a manual clock that tests move forward with
 * dv_timers_advance, firing due timers in order, so timing-dependent
 * behaviour is tested without sleeping.
 *
 * Threads: control thread only.
 * Memory: timers are embedded in their owner's memory; the owner must
 * cancel an armed timer before freeing it. A callback may arm, cancel or
 * free (after cancelling) any timer, including its own.
 */
#ifndef DV_TIMER_H
#define DV_TIMER_H

#include <libwebsockets.h>
#include <stdint.h>

typedef struct dv_timers dv_timers_t;
typedef struct dv_timer dv_timer_t;
typedef void (*dv_timer_fn)(dv_timer_t *t);

struct dv_timer {
  lws_sorted_usec_list_t sul; /* lws hubs */
  dv_timers_t *hub;
  dv_timer_fn fn;
  int armed;
  uint64_t due_ms;            /* manual hubs */
  dv_timer_t *next;           /* manual hubs: armed list */
};

struct dv_timers {
  struct lws_context *lws;    /* NULL: manual clock */
  uint64_t now_ms;            /* manual clock */
  dv_timer_t *armed;          /* manual: unsorted list */
};

void dv_timers_init(dv_timers_t *h, struct lws_context *lws);
/* Monotonic milliseconds (manual hubs: the manual clock, from 0). */
uint64_t dv_timers_now(const dv_timers_t *h);
/* Manual hubs: moves the clock forward by ms, firing every timer that
 * falls due, earliest first (each sees the clock at its due time). */
void dv_timers_advance(dv_timers_t *h, uint64_t ms);

void dv_timer_init(dv_timer_t *t, dv_timers_t *h, dv_timer_fn fn);
/* (Re)arms t to fire once, ms from now. */
void dv_timer_arm(dv_timer_t *t, uint32_t ms);
void dv_timer_cancel(dv_timer_t *t);

#endif
