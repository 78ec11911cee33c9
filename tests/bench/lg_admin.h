/*
 * lg_admin: reads the server's forwarding-delay histogram (media.
 * forward_delay in GET /health of its admin API, plain HTTP on loopback)
 * so a step can report the delay the server itself adds, free of the
 * generator's own scheduling.
 *
 * The request is sc_admin_cli's (the one `litecord-voice status` makes).
 *
 * Owns: the bearer token it read. Threads: main thread only. Blocking
 * calls (sc_admin_cli's timeout), outside the measured sending time.
 */
#ifndef LG_ADMIN_H
#define LG_ADMIN_H

#include <stdint.h>

#include "sc_admin_cli.h"
#include "sc_config.h"
#include "sc_lathist.h"

typedef struct {
  sc_admin_url_t url; /* http://127.0.0.1:port */
  char token[SC_SECRET_MAX];
} lg_admin_t;

/* Reads STATE_DIR/admin_token. 0, or -1 if it is not there (yet). */
int lg_admin_init(lg_admin_t *a, int port, const char *state_dir);

/* Fills counts with the server's histogram since its start. 0 or -1. */
int lg_admin_fwd_hist(const lg_admin_t *a, uint64_t counts[SC_LATHIST_BUCKETS]);

#endif
