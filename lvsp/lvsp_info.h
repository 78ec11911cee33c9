/*
 * lvsp_info: what LVSP says about channels and voice states, in both
 * dialects: INFO messages (op 6) from Litecord, the seed dialect's
 * VST_REQUEST (op 7), the replies, and the snapshot of every channel and
 * voice state sent after an IDENTIFY.
 *
 * Seed dialect: {"type", "info"}: 0 CHANNEL, 1 VST. Later dialect
 * (Litecord's client code): {"type", "data"}: 0 CHANNEL_REQ, 1
 * CHANNEL_ASSIGN (ours), 2 CHANNEL_UPDATE, 3 CHANNEL_DESTROY, 4 VST_CREATE,
 * 5 VST_UPDATE, 6 VST_LEAVE. Each dialect is one table of {handler, field
 * table} indexed by type; a reply is always in the dialect of the message
 * it answers. Wire shapes: docs/LVSP.md.
 *
 * Limits and drains: a channel or voice state the registry refuses (its
 * limits, or a new call during a drain: sc_registry.h) is answered with one INFO carrying "error"
 * instead of closing the link (Litecord never reconnects it), counted on the link and logged at
 * most once per LVSP_REFUSAL_LOG_MS.
 *
 * Sits on lvsp_conn (sends, fails); called by lvsp_proto.
 * Threads: control (lws) thread only. Memory: registry objects are owned
 * by the registry; a snapshot's list of ids lives until its burst ends.
 */
#ifndef LVSP_INFO_H
#define LVSP_INFO_H

#include <jansson.h>

#include "lvsp_conn.h"

/* op 6 (d already checked to hold an integer "type"). 0 or -errno after
 * closing. */
int lvsp_info_handle(lvsp_conn_t *c, json_t *d);

/* op 7 (seed): creates a voice state and answers INFO VST. */
int lvsp_info_vst_request(lvsp_conn_t *c, json_t *d);

#define LVSP_REFUSAL_LOG_MS 10000

/* Sends INFO for every channel, then every voice state, in c->dialect:
 * seed CHANNEL + VST, later CHANNEL_ASSIGN + VST_CREATE replies. Streamed
 * as a burst (lvsp_conn.h): the ids are listed now, and each is rendered
 * when its turn comes, as it is then; one that ended meanwhile is
 * skipped, and what is created meanwhile is told by its own reply.
 * 0 or -errno after closing. */
int lvsp_info_snapshot(lvsp_conn_t *c);

#endif
