/*
 * sc_fdlimit: how many connections the process holds, as file descriptors.
 *
 * Why this exists. Two things in Debian's libwebsockets 4.1 make the fd
 * limit part of correctness, not only of size:
 *  - lws sizes its fd table by the soft RLIMIT_NOFILE and, on every close,
 *    scans the whole table (a sanity check compiled into Debian's build):
 *    ~16 us per close at a limit of 20,000, and ~0.5 ms at the 1,048,576
 *    that systemd allows, so a mass disconnect cost seconds.
 *  - when accept() fails with EMFILE, lws logs and returns with the listener
 *    still readable, so the loop spins at 100 % and logs a line per spin
 *    (1.5 million lines in 3 s) until a connection closes.
 * So the server sets the soft limit itself, from --max-connections, and
 * closes a new connection at once when it would eat into the fds kept for
 * the control link and for files: accept() never reaches EMFILE.
 *
 * The admission test needs no connection count: accept() returns the
 * lowest free fd, so an accepted fd >= N means fds 0..N-1 are all open.
 *
 * Owns: the plan (limits) and the refusal counters in sc_fdlimit_t, which
 * the app holds (app->fdlimit).
 * Threads: sc_fdlimit_apply runs once on the main thread before the lws
 * context exists; sc_fdlimit_admit on the control thread (lws callbacks).
 * Memory: nothing allocated.
 */
#ifndef SC_FDLIMIT_H
#define SC_FDLIMIT_H

#include <stdint.h>

#include "sc_log.h"

/* fds opened after the plan by lws and the listeners (event pipe, one
 * socket per listener and address family). */
#define SC_FD_LATE_OPENS 16
/* fds only LVSP and admin connections may take, so Litecord can always
 * reconnect when voice clients hold all the rest: room for the
 * unauthenticated connections each control listener keeps at most
 * (LVSP_PENDING_CAP and SC_ADMIN_PENDING_CAP, 4 each, +1 each while an
 * evicted one closes) and Litecord's link and its replacement. */
#define SC_FD_CONTROL_SPARE 16
/* fds no connection may take: files opened while running (state
 * directory, /proc reads for the admin API, the TLS pair on SIGHUP). */
#define SC_FD_FILE_SPARE 8

typedef enum { SC_ADMIT_CLIENT = 0, SC_ADMIT_CONTROL = 1 } sc_admit_class_t;

typedef struct sc_fdlimit {
  uint32_t connections;       /* client connections the plan holds (asked, or what fits) */
  uint32_t asked;             /* --max-connections as resolved */
  int soft;                   /* the soft RLIMIT_NOFILE set (lws sizes its table by it) */
  int client_below;           /* a voice client's connection stays while its fd < this */
  int control_below;          /* an LVSP or admin connection: while its fd < this */
  uint64_t refused;           /* connections closed at accept, since start */
  sc_log_limit_t refusal_log; /* one refusal line per SC_FDLIMIT_LOG_MS */
} sc_fdlimit_t;

#define SC_FDLIMIT_LOG_MS 10000

/* Pure: the plan for `want` client connections when `in_use` fds are
 * open and the hard limit is `hard` (UINT64_MAX: unlimited). When
 * the hard limit is too low for `want`, the plan holds what fits. 0, or
 * -1 when not even one client connection fits. */
int sc_fdlimit_plan(uint32_t want, int in_use, uint64_t hard, sc_fdlimit_t *out);

/* Plans for `want` connections from the fds open now and the process's
 * hard limit, sets the soft limit (raising or lowering it) and logs the
 * result; a hard limit too low for `want` is a warning naming what fits.
 * 0, or -1 (logged) when the limit cannot hold one connection. */
int sc_fdlimit_apply(sc_fdlimit_t *l, uint32_t want);

/* Whether the connection just accepted on `fd` may stay. A refusal is
 * counted and logged (the first at once, then one line per
 * SC_FDLIMIT_LOG_MS with the count). Returns 1 to keep, 0 to close. */
int sc_fdlimit_admit(sc_fdlimit_t *l, int fd, sc_admit_class_t cls, int64_t now_ms);

#endif
