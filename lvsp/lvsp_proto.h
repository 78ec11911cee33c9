/*
 * lvsp_proto: the LVSP server state machine (Litecord Voice Server
 * Protocol), independent of any socket. Both dialects Litecord instances
 * speak are served, told apart per message with no configuration (see
 * docs/LVSP.md): IDENTIFY with the secret or with the HMAC of our nonce,
 * INFO bodies under "info" (seed) or "data" (Litecord's client code).
 *
 * The top of the LVSP stack (docs/ARCHITECTURE.md): the handshake (HELLO,
 * IDENTIFY, RESUME and its replay, READY), HEARTBEAT, and dispatch. It
 * sits on lvsp_info (INFO bodies, snapshot) and lvsp_conn (the connection:
 * transport, framing, fail/close, bursts), which never call up into it.
 *
 * One lvsp_conn_t per Litecord connection. Incoming text goes in through
 * lvsp_handle_text(); everything the server says (and every close) goes out
 * through the lvsp_io_t the owner supplied, so the unit tests and fuzz
 * targets drive it without sockets, and lvsp_server binds it to lws.
 * What outlives a connection (sequence numbers, replay buffer, which
 * connection is live) is in the lvsp_link_t shared by all of them.
 *
 * Dispatch: a table indexed by op (phase required + field table +
 * handler); INFO bodies go to lvsp_info (a table per dialect). A RESUME
 * replay is a burst (lvsp_conn.h) that holds the peer's input: READY
 * follows the last replayed frame, and what the client sent meanwhile is
 * read after it.
 *
 * Threads: control (lws) thread only, like the registry it mutates.
 * Memory: a replay's cursor lives in its burst; app, link and io are
 * borrowed (lvsp_conn.h).
 */
#ifndef LVSP_PROTO_H
#define LVSP_PROTO_H

#include <stddef.h>

#include <jansson.h>

#include "lvsp_conn.h"
#include "lvsp_link.h"
#include "sc_app.h"
#include "sc_metrics.h"

/* Initialises c on the shared link, draws a fresh nonce and sends HELLO.
 * Returns 0, or a negative errno after closing (nonce or send failure). */
int lvsp_proto_open_on(lvsp_conn_t *c, sc_app_t *app, lvsp_link_t *link, const lvsp_io_t *io,
                       void *io_ctx);

/* The same on a link of c's own without a replay buffer (unit tests, fuzz
 * targets): no heap is kept, a RESUME succeeds only from the last "s". */
int lvsp_proto_open(lvsp_conn_t *c, sc_app_t *app, const lvsp_io_t *io, void *io_ctx);

/* Handles one complete message (buf need not be NUL-terminated). Returns 0
 * while the connection stays open, or a negative errno once it was closed:
 * -EBADMSG (4002, not JSON), -EACCES (4001), -EPROTO (4000: structure,
 * phase, unknown op, bad field, oversized frame), -ENOMEM / send errors
 * (4000). Input after a close is ignored and returns -EPIPE. */
int lvsp_handle_text(lvsp_conn_t *c, const char *buf, size_t len);

/* The health figure sent in READY and HEARTBEAT_ACK, in [0, 1]: states
 * vs capacity from the registry, media CPU and drops from link->load
 * (formula in src/sc_load.h and docs/LVSP.md); 0 while draining
 * (app->drain) or shutting down. */
double lvsp_health(const sc_app_t *app, const lvsp_link_t *link);

/* The link's state for the admin view (a new object): live connection,
 * dialect, peer, timestamps, sequence and replay buffer, counters, health. */
json_t *lvsp_status_json(const lvsp_link_t *link, const sc_app_t *app);
/* The link's metric families for /metrics: up (0/1), the health figure
 * sent to Litecord, connections, identifies, resumes, refusals. */
void lvsp_metrics(const lvsp_link_t *link, const sc_app_t *app, sc_metrics_t *m);

#endif
