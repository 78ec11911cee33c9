/*
 * sc_admin_state: the read-only view of the server the admin API serves
 * (docs/ADMIN.md): channels with their settings and members; per member
 * the voice-state flags, SSRC, encryption mode, speaking, media counters;
 * every front end's own status (the LVSP link: connected, dialect, last
 * heartbeat, sequence, health); media-plane totals.
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

/* The drain ("drain" in both, and POST /drain's answer): null without
 * one, else {reason, since (unix ms), timeout_s, deadline (unix ms)}. */
json_t *sc_admin_drain_json(const sc_app_t *app);

#endif
