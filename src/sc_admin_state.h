/*
 * sc_admin_state: the read-only view of the server the admin API serves
 * (docs/ADMIN.md): channels with their settings and members; per member
 * the voice-state flags, SSRC, encryption mode, speaking, media counters;
 * every front end's own status (the LVSP link: connected, dialect, last
 * heartbeat, sequence, health); media-plane totals; and readiness: whether
 * a new call could start here now (GET /ready, docs/OPERATIONS.md).
 *
 * Threads: control (lws) thread only: it reads the registry, which only
 * that thread mutates. Member counters are relaxed atomics written by the
 * media workers; a snapshot of them may be a few packets behind.
 * Memory: returns new jansson objects; the caller decrefs them. Voice
 * tokens never appear in the output.
 */
#ifndef SC_ADMIN_STATE_H
#define SC_ADMIN_STATE_H

#include <jansson.h>

#include "sc_app.h"

/* GET /state. NULL only on ENOMEM. */
json_t *sc_admin_state_json(sc_app_t *app);

/* GET /health: the same without the channel list. */
json_t *sc_admin_health_json(sc_app_t *app);

/* Why a new call could not start here now: one bit each. */
enum {
  SC_NOT_READY_DRAINING = 1 << 0,     /* a drain runs: new channels are refused */
  SC_NOT_READY_VOICE_STATES = 1 << 1, /* --max-voice-states reached */
  SC_NOT_READY_CHANNELS = 1 << 2,     /* --max-channels reached */
  SC_NOT_READY_CONNECTIONS = 1 << 3,  /* no fd left for a client connection */
};
#define SC_NOT_READY_REASONS 4

typedef struct {
  int draining;
  size_t voice_states, max_voice_states; /* max 0: no limit */
  size_t channels, max_channels;         /* max 0: no limit */
  int lowest_free_fd;                    /* -1: none (EMFILE); -2: unknown */
  int client_below;                      /* sc_fdlimit_t's; 0: no plan */
} sc_admin_ready_in_t;

/* Pure: the SC_NOT_READY_* bits that hold (0: ready). The LVSP link is
 * not an input: an orchestrator that took an unlinked server out of
 * rotation could keep Litecord from ever reaching it. */
unsigned sc_admin_not_ready(const sc_admin_ready_in_t *in);

/* The name of one SC_NOT_READY_* bit ("draining", "voice_states_full",
 * "channels_full", "connections_full"). */
const char *sc_admin_not_ready_name(unsigned bit);

/* GET /ready: {ready, status, reasons: [names]}; *ready is set to 1 or
 * 0 (NULL on ENOMEM, *ready then 0). */
json_t *sc_admin_ready_json(sc_app_t *app, int *ready);

/* The drain ("drain" in both, and POST /drain's answer): null without
 * one, else {reason, since (unix ms), timeout_s, deadline (unix ms)}. */
json_t *sc_admin_drain_json(const sc_app_t *app);

#endif
