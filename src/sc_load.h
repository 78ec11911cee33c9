/*
 * sc_load: how loaded this server is, as one health figure in [0, 1]
 * (sent to Litecord, which routes new guilds to the healthiest server).
 *
 *   health = 1 - max(S, C, min(1, 10 * D))
 *   S = voice states / configured capacity
 *   C = CPU time of the media threads in the last window / (window * workers)
 *   D = (failed sends + undecryptable + malformed datagrams) / datagrams
 *       handled (received + sent), in the last window. Not counted: mute
 *       and pre-encryption drops (policy), unknown SSRCs and foreign
 *       addresses (anyone can send those; they must not steer Litecord),
 *       and replays (networks duplicate packets).
 * each clamped to [0, 1]. A window is the time between two samples (the
 * LVSP front end samples every 2 s); until two samples exist C = D = 0.
 *
 * The media threads are found by name ("sc-media-*") in /proc/self/task,
 * so this module needs nothing from the media plane but its public stats.
 *
 * Owns: sc_load_t (embedded in its owner). Threads: control thread; the
 * parsers are pure functions over (buf, len).
 */
#ifndef SC_LOAD_H
#define SC_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sc_media.h"

typedef struct {
  double cpu_s;     /* media threads' user+system CPU seconds */
  uint64_t handled; /* datagrams received + sent */
  uint64_t dropped; /* of those: dropped for load or errors */
  int64_t at_ms;    /* monotonic ms */
} sc_load_sample_t;

typedef struct {
  sc_load_sample_t prev;
  int have_prev;
  double cpu_share;  /* C of the last window */
  double drop_ratio; /* D of the last window */
  double cpu_s;      /* total media CPU seconds at the last sample */
} sc_load_t;

/* Takes a sample now and, if a previous one exists, computes C and D over
 * the window between them. media may be NULL (then C = D = 0). */
void sc_load_sample(sc_load_t *l, const sc_media_t *media, int n_workers);

/* The formula above. */
double sc_load_health(double states, double capacity, double cpu_share, double drop_ratio);

/* CPU seconds (user + system) of this process's media threads. */
double sc_load_media_cpu_seconds(void);
/* The same per worker: out[i] for thread "sc-media-<i>", 0 <= i < n
 * (entries of threads not found stay 0). */
void sc_load_media_cpu_per_worker(double *out, int n);

/* Pure: user+system clock ticks from the text of /proc/<pid>/task/<tid>/stat
 * (the command name may hold spaces and parentheses). 0 or -EINVAL. */
int sc_load_parse_stat(const char *buf, size_t len, uint64_t *ticks);

/* Pure: dropped and handled datagram counts from media-plane totals. */
void sc_load_count_drops(const sc_media_stats_t *st, uint64_t *dropped, uint64_t *handled);

#endif
