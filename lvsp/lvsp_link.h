/*
 * lvsp_link: what the LVSP server keeps across Litecord connections: the
 * sequence counter, the replay buffer, which connection is the live one,
 * the health sampler and the link's status for the admin view.
 *
 * Every frame the server sends carries "s", taken from one counter per
 * server (1, 2, 3...; never reused while the process lives). INFO frames
 * are also kept, as sent, in a bounded ring (--lvsp-replay), so a RESUME
 * can re-send exactly what followed the client's last seen "s". HELLO,
 * READY and HEARTBEAT_ACK describe their own connection and are never
 * replayed (their numbers are gaps in a replay).
 *
 * At most one connection is "active" (authenticated); authenticating a
 * new one closes the old one with 4000. None of this touches voice: the
 * registry and the media plane do not know the link exists.
 *
 * Owns: the ring and the frames in it (copies).
 * Threads: control (lws) thread only.
 * Memory: embedded in the owner's struct (the LVSP front end, or a test);
 * lvsp_link_free() releases the ring.
 */
#ifndef LVSP_LINK_H
#define LVSP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "sc_load.h"
#include "sc_log.h"

struct lvsp_conn;

typedef struct {
  uint64_t s;
  char *text;
  size_t len;
} lvsp_frame_t;

typedef struct lvsp_link {
  uint64_t seq;       /* last "s" handed out; 0 = none yet */
  lvsp_frame_t *ring; /* cap slots; NULL when cap is 0 */
  size_t cap, start, count;
  uint64_t evicted;         /* highest "s" that fell out of the ring (0 = none) */
  struct lvsp_conn *active; /* the authenticated connection, or NULL */
  sc_load_t load;           /* media CPU and drop ratio, sampled by the owner */
  /* Status (unix ms; 0 = never) and counters for the admin view. */
  int64_t down_since_ms, last_heartbeat_ms, last_message_ms;
  uint64_t n_identify, n_resume, n_replaced, n_stale, n_connections;
  /* Requests refused at the registry's limits (lvsp_info), and the
   * rate limit of their log line (monotonic ms). */
  uint64_t n_refused_channels, n_refused_states, n_refused_draining;
  sc_log_limit_t refusal_log; /* lvsp_info's refusal line */
  /* Connections closed before authenticating: no IDENTIFY/RESUME in
   * time, or evicted by a newer one over the cap (lvsp_server). */
  uint64_t n_auth_timeouts, n_evicted;
} lvsp_link_t;

/* Prepares an empty link with room for replay_cap INFO frames (0 = no
 * replay: every RESUME that missed an INFO is stale). 0 or -ENOMEM. */
int lvsp_link_init(lvsp_link_t *l, size_t replay_cap);
void lvsp_link_free(lvsp_link_t *l);

/* The next sequence number (the counter advances). */
uint64_t lvsp_link_next_seq(lvsp_link_t *l);

/* Keeps a copy of frame `s` (must be higher than any stored) for replay,
 * dropping the oldest when full. 0 or -ENOMEM (then nothing is stored and
 * a RESUME from before s is treated as stale). */
int lvsp_link_store(lvsp_link_t *l, uint64_t s, const char *text, size_t len);

/* 1 if every INFO sent after `after` is still held, so a RESUME from it
 * can be served; 0 if one fell out of the ring, or `after` is ahead of
 * the counter (a client of an earlier run of this server). */
int lvsp_link_can_resume(const lvsp_link_t *l, uint64_t after);

/* Calls fn for every held frame with s > after, oldest first; stops at
 * the first non-zero return and returns it. */
typedef int (*lvsp_frame_fn)(void *arg, const lvsp_frame_t *f);
int lvsp_link_replay(const lvsp_link_t *l, uint64_t after, lvsp_frame_fn fn, void *arg);

/* The oldest held frame with s > after, or NULL (a binary search: the
 * ring is in increasing s). A streamed replay walks it with this. */
const lvsp_frame_t *lvsp_link_next(const lvsp_link_t *l, uint64_t after);

/* Wall-clock milliseconds (status timestamps only; never for timeouts). */
int64_t lvsp_link_now_ms(void);

#endif
