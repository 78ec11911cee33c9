#include "sc_drain.h"

#include <stdio.h>

int sc_drain_begin(sc_drain_t *d, const char *reason, uint32_t timeout_s, int64_t now_ms,
                   int64_t wall_ms) {
  if (d->active) return 0;
  d->active = 1;
  d->timeout_s = timeout_s;
  d->started_ms = now_ms;
  d->started_wall = wall_ms;
  d->logged_ms = now_ms;
  snprintf(d->reason, sizeof d->reason, "%s", reason ? reason : "");
  return 1;
}

int64_t sc_drain_remaining_ms(const sc_drain_t *d, int64_t now_ms) {
  if (!d->active) return 0;
  int64_t left = d->started_ms + (int64_t)d->timeout_s * 1000 - now_ms;
  return left > 0 ? left : 0;
}

sc_drain_verdict_t sc_drain_verdict(const sc_drain_t *d, size_t voice_states, int64_t now_ms) {
  if (!d->active) return SC_DRAIN_IDLE;
  if (voice_states == 0) return SC_DRAIN_EMPTY;
  return sc_drain_remaining_ms(d, now_ms) == 0 ? SC_DRAIN_TIMED_OUT : SC_DRAIN_WAITING;
}

int sc_drain_admits(int draining, size_t channel_states) {
  return !draining || channel_states > 0;
}
