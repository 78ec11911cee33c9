/*
 * vx_proto: the Vortex request table and state machine, the top of the
 * stack (vx_conn <- vx_session <- vx_proto; docs/VORTEX.md). Per request
 * type: which state allows it, and the handler that answers it. States:
 * before Authenticate only Authenticate; before InitializeTransports only
 * InitializeTransports and RoomInfo; then everything. A request the
 * state does not allow closes 1002, a frame vx_msg cannot read 1003, a
 * bad token or a token of another room 4001; what is readable but cannot
 * be done gets an error reply (UserNotFound, ...). Also the front end's
 * counters and its admin status.
 *
 * Threads: control (lws) thread only.
 * Memory: vx_front_t is the front end's (vx_ws allocates it); sessions
 * are vx_session's.
 */
#ifndef VX_PROTO_H
#define VX_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_app.h"
#include "vx_conn.h"

typedef struct {
  sc_app_t *app;
  vx_counts_t counts;
  uint64_t authenticated; /* sessions attached since start */
  uint64_t connections;   /* sockets opened since start */
  int stopping;
} vx_front_t;

/* A socket opened: c is set up (vx_conn_init) with the front's counters. */
void vx_proto_open(vx_front_t *f, vx_conn_t *c, const vx_io_t *io, void *io_ctx);
/* One complete text frame. */
void vx_proto_text(vx_front_t *f, vx_conn_t *c, const char *buf, size_t len);
/* A binary frame (Vortex has none: ignored, as revite ignores ours). */
void vx_proto_binary(vx_front_t *f, vx_conn_t *c);
/* A frame over the size limit while it was being reassembled: 1009. */
void vx_proto_oversize(vx_front_t *f, vx_conn_t *c);
/* The authentication deadline passed: 4001 unless authenticated. */
void vx_proto_auth_deadline(vx_front_t *f, vx_conn_t *c);
/* The socket is gone: its session ends. */
void vx_proto_closed(vx_front_t *f, vx_conn_t *c);

/* {authenticated, connections, requests, refused, errors, closes}. */
json_t *vx_proto_status(const vx_front_t *f);
/* The same as Prometheus families litecord_voice_vortex_* (docs/VORTEX.md). */
struct sc_metrics;
void vx_proto_metrics(const vx_front_t *f, struct sc_metrics *m);

#endif
