/*
 * dv_e2ee: the gateway's DAVE calls. One dv_dave_t per channel with a
 * member on this gateway (created at the first Identify, freed when the
 * last session of the channel ends), fed by the gateway's handlers and
 * answering through the members' sessions (numbered frames, kept for
 * resume) and their media gates (dv_crypto.h).
 *
 * Also the checks on binary frames from clients (C->S `u8 op | payload`):
 * op 26 (key package, at most DV_MLS_KEYPACKAGE_MAX bytes) and op 28
 * (commit and welcome, at most DV_DAVE_OP28_MAX), only from a member told
 * DAVE version 1; anything else is dropped and counted.
 *
 * --dave off (read at a channel's first join) keeps the channel's call at
 * version 0, and so does a member of another front end (Vortex, Galene,
 * ion: no DAVE) while it is in the room.
 *
 * Threads: control thread only.
 * Memory: dv_e2ee_init/dv_e2ee_free own the calls.
 */
#ifndef DV_E2EE_H
#define DV_E2EE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dv_dave.h"
#include "dv_session.h"
#include "sc_hmap.h"

/* Largest binary frame from a client (op byte and the largest payload). */
#define DV_E2EE_FRAME_MAX (1u + DV_DAVE_OP28_MAX)

typedef struct {
  uint64_t binary_refused;  /* binary frames before op 4, at version 0, or unknown ops */
  uint64_t binary_oversize; /* op 26/28 over their caps: dropped */
  dv_dave_stats_t calls;    /* the calls' counters, summed as calls end */
} dv_e2ee_stats_t;

typedef struct {
  sc_hmap_t calls; /* channel id -> call */
  dv_timers_t *timers;
  dv_e2ee_stats_t st;
} dv_e2ee_t;

void dv_e2ee_init(dv_e2ee_t *e, dv_timers_t *timers);
void dv_e2ee_free(dv_e2ee_t *e);

/* The session identified (max: its max_dave_protocol_version; enabled:
 * --dave now). 0, or -ENOMEM. */
int dv_e2ee_join(dv_e2ee_t *e, dv_session_t *s, int max, int enabled);
/* The dave_protocol_version for the session's op 4. */
int dv_e2ee_version_for(dv_e2ee_t *e, dv_session_t *s);
/* Op 4 went out: at version 1 op 25 follows. */
void dv_e2ee_described(dv_e2ee_t *e, dv_session_t *s);
/* The session ended (dv_sessions_t.on_end). */
void dv_e2ee_leave(dv_e2ee_t *e, dv_session_t *s);
/* A peer joined (1) or left (0) the session's room (dv_sessions_t.on_peer):
 * a member of another front end whose client cannot do DAVE
 * (sc_vstate_t.max_dave_version 0) keeps the call at version 0 while it is
 * there (dv_dave_foreign_join). Each session of the call reports the same
 * peer; the call counts it once. */
void dv_e2ee_peer(dv_e2ee_t *e, dv_session_t *s, const sc_vstate_t *peer, int joined);

/* One binary frame from the session's client (u8 op | payload). */
void dv_e2ee_binary(dv_e2ee_t *e, dv_session_t *s, const uint8_t *buf, size_t len);
/* JSON op 23 / 31 from the session's client (d: {transition_id}). */
void dv_e2ee_transition_ready(dv_e2ee_t *e, dv_session_t *s, json_t *d);
void dv_e2ee_invalid_commit(dv_e2ee_t *e, dv_session_t *s, json_t *d);

/* The call of a channel, or NULL (tests, admin). */
dv_dave_t *dv_e2ee_call(dv_e2ee_t *e, const char *channel_id);
/* {"calls", "binary_refused", ...} for the admin view. */
json_t *dv_e2ee_status_json(const dv_e2ee_t *e);

#endif
