/*
 * sc_drain: the graceful drain's state and decisions (docs/ADMIN.md
 * "Drain"). A drain starts on the first SIGTERM or an admin POST /drain
 * (sc_server_begin_drain); from then on no new call starts here (the
 * registry refuses a voice state whose channel holds none, and any new
 * channel), health is 0, and the process stops once no voice state is
 * left or the deadline (--drain-timeout) has passed; the clients still
 * connected then get 4015 as on any stop.
 *
 * Pure: no clock, no I/O; times are passed in (CLOCK_MONOTONIC ms, and
 * wall-clock ms only for display). The loop's timer and the log lines
 * are sc_server's.
 * Owns: sc_drain_t (embedded in sc_app_t). Threads: control thread only.
 */
#ifndef SC_DRAIN_H
#define SC_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#define SC_DRAIN_REASON_MAX 32

typedef struct {
  int active;                       /* a drain is running (it never stops again) */
  uint32_t timeout_s;               /* --drain-timeout when it started */
  int64_t started_ms;               /* monotonic */
  int64_t started_wall;             /* unix ms, for the admin view */
  char reason[SC_DRAIN_REASON_MAX]; /* "SIGTERM", "admin request" */
  int64_t logged_ms;                /* monotonic: the last progress line (sc_server) */
} sc_drain_t;

/* Starts a drain: 1 when it started now, 0 when one was already running
 * (which keeps its reason and deadline). */
int sc_drain_begin(sc_drain_t *d, const char *reason, uint32_t timeout_s, int64_t now_ms,
                   int64_t wall_ms);

typedef enum {
  SC_DRAIN_IDLE = 0,  /* no drain */
  SC_DRAIN_WAITING,   /* calls in progress, deadline ahead */
  SC_DRAIN_EMPTY,     /* no voice state left: stop now */
  SC_DRAIN_TIMED_OUT, /* the deadline passed: stop now (4015 to the rest) */
} sc_drain_verdict_t;

/* What the control loop does now, given the voice states held. Only
 * voice states count: a pinned channel without any is not a call and
 * does not keep the drain alive. */
sc_drain_verdict_t sc_drain_verdict(const sc_drain_t *d, size_t voice_states, int64_t now_ms);

/* Milliseconds left until the deadline (0 once passed or with no drain). */
int64_t sc_drain_remaining_ms(const sc_drain_t *d, int64_t now_ms);

/* Whether a new voice state may go into a channel that holds
 * `channel_states` states (0 also for a channel that does not exist):
 * always without a drain; during one only into a call in progress, so a
 * user whose friends are here still gets in and no new call starts. */
int sc_drain_admits(int draining, size_t channel_states);

#endif
