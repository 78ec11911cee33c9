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
 * Threads: control (lws) thread only. Memory: nothing kept; registry
 * objects are owned by the registry.
 */
#ifndef LVSP_INFO_H
#define LVSP_INFO_H

#include <jansson.h>

#include "lvsp_proto.h"

/* op 6 (d already checked to hold an integer "type"). 0 or -errno after
 * closing. */
int lvsp_info_handle(lvsp_conn_t *c, json_t *d);

/* op 7 (seed): creates a voice state and answers INFO VST. */
int lvsp_info_vst_request(lvsp_conn_t *c, json_t *d);

/* Sends INFO for every channel, then every voice state, in c->dialect:
 * seed CHANNEL + VST, later CHANNEL_ASSIGN + VST_CREATE replies. */
int lvsp_info_snapshot(lvsp_conn_t *c);

#endif
