/*
 * dv_timer: one-shot timers for the voice gateway (heartbeat deadlines,
 * resume grace periods) and the clock they run on.
 *
 * A hub keeps its armed timers in a binary min-heap by due time: arming,
 * re-arming and cancelling cost O(log n), firing the earliest O(log n).
 * Why not one lws_sul per timer: lws keeps those in one sorted list, so
 * every heartbeat's re-arm (a deadline later than all others) walked the
 * whole list; with 4,500 sessions that walk was 84 % of the control
 * thread's idle-time CPU (docs/BENCHMARKS.md, "Idle sessions").
 *
 * The hub runs either on the lws event loop (one lws_sul for the hub,
 * armed for the heap's earliest timer; callbacks run on the control
 * thread from the loop) or, when created without an lws context, on a
 * manual clock that tests move forward with dv_timers_advance, firing due
 * timers in order, so timing-dependent behaviour is tested without
 * sleeping.
 *
 * Threads: control thread only.
 * Memory: timers are embedded in their owner's memory; the owner must
 * cancel an armed timer before freeing it. A callback may arm, cancel or
 * free (after cancelling) any timer, including its own. The hub owns its
 * heap array (grown when more timers are armed than ever before, never
 * per re-arm) and releases it in dv_timers_free. If the array cannot
 * grow, the timer falls back to its own lws_sul (lws hubs: slower, still
 * correct); on a manual hub (tests only) it stays unarmed.
 */
#ifndef DV_TIMER_H
#define DV_TIMER_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dv_timers dv_timers_t;
typedef struct dv_timer dv_timer_t;
typedef void (*dv_timer_fn)(dv_timer_t *t);

struct dv_timer {
  dv_timers_t *hub;
  dv_timer_fn fn;
  int armed;
  uint64_t due_ms;
  size_t slot;                /* index in hub->heap + 1; 0 = not in the heap */
  lws_sorted_usec_list_t sul; /* only when the heap could not grow (lws hubs) */
  int on_sul;
};

struct dv_timers {
  struct lws_context *lws; /* NULL: manual clock */
  uint64_t now_ms;         /* manual clock */
  dv_timer_t **heap;       /* min-heap by due_ms */
  size_t n, cap;
  lws_sorted_usec_list_t sul; /* lws hubs: wakes the hub for heap[0] */
  uint64_t sul_due_ms;        /* what sul is armed for; 0 = not armed */
};

void dv_timers_init(dv_timers_t *h, struct lws_context *lws);
/* Releases the heap; armed timers are dropped (their owners are gone by
 * then). The hub's lws timer is cancelled if the lws context still exists
 * (lws_alive); once it is destroyed, that timer went with it, and
 * touching it would write into freed memory (the server destroys the
 * front ends after the context). */
void dv_timers_free(dv_timers_t *h, int lws_alive);
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
