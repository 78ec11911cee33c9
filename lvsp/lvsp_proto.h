/*
 * lvsp_proto: the LVSP server state machine (Litecord Voice Server
 * Protocol), independent of any socket. Both dialects Litecord instances
 * speak are served, told apart per message with no configuration (see
 * docs/LVSP.md): IDENTIFY with the secret or with the HMAC of our nonce,
 * INFO bodies under "info" (seed) or "data" (Litecord's client code).
 *
 * One lvsp_conn_t per Litecord connection. Incoming text goes in through
 * lvsp_handle_text(); everything the server says (and every close) goes out
 * through the lvsp_io_t the owner supplied, so the unit tests and fuzz
 * targets drive it without sockets, and lvsp_server binds it to lws.
 * What outlives a connection (sequence numbers, replay buffer, which
 * connection is live) is in the lvsp_link_t shared by all of them.
 *
 * Dispatch: a table indexed by op (phase required + field table +
 * handler); INFO bodies go to lvsp_info (a table per dialect).
 *
 * Owns: the lvsp_conn_t (embedded in the owner's per-connection data).
 * Threads: control (lws) thread only, like the registry it mutates.
 * Memory: no heap kept between calls; app, link and io are borrowed and
 * must outlive the connection; the owner calls lvsp_conn_gone() when the
 * transport is gone.
 */
#ifndef LVSP_PROTO_H
#define LVSP_PROTO_H

#include <stddef.h>

#include <jansson.h>

#include "lvsp_link.h"
#include "sc_app.h"

#define LVSP_MAX_FRAME (64 * 1024) /* larger messages close with 4000 */
#define LVSP_NONCE_LEN 10

enum lvsp_op {
  LVSP_OP_HELLO = 0,
  LVSP_OP_IDENTIFY = 1,
  LVSP_OP_RESUME = 2,
  LVSP_OP_READY = 3,
  LVSP_OP_HEARTBEAT = 4,
  LVSP_OP_HEARTBEAT_ACK = 5,
  LVSP_OP_INFO = 6,
  LVSP_OP_VST_REQUEST = 7,
  LVSP_OP_COUNT
};

/* InfoType, seed dialect ("info" bodies). */
enum lvsp_info_type { LVSP_INFO_CHANNEL = 0, LVSP_INFO_VST = 1 };

/* InfoType, Litecord's client code ("data" bodies). Its revised document
 * numbers 2.. differently; the client code is what runs, so it wins. */
enum lvsp_info_type_later {
  LVSP_INFO_CHANNEL_REQ = 0,
  LVSP_INFO_CHANNEL_ASSIGN = 1,
  LVSP_INFO_CHANNEL_UPDATE = 2,
  LVSP_INFO_CHANNEL_DESTROY = 3,
  LVSP_INFO_VST_CREATE = 4,
  LVSP_INFO_VST_UPDATE = 5,
  LVSP_INFO_VST_LEAVE = 6,
  LVSP_INFO_LATER_COUNT
};

/* Which dialect a message (or the IDENTIFY token) was in. */
typedef enum { LVSP_DIALECT_SEED = 0, LVSP_DIALECT_LATER = 1 } lvsp_dialect_t;

/* Close codes (both dialects). */
enum {
  LVSP_CLOSE_GENERAL = 4000, /* general error: the client reconnects */
  LVSP_CLOSE_AUTH = 4001,    /* authentication failure */
  LVSP_CLOSE_DECODE = 4002,  /* the message is not valid JSON */
};

/* The transport. send_text returns 0 or a negative errno (e.g. -ENOBUFS
 * when the peer does not read); a failed send closes the connection.
 * close queues a close after what was sent; it is called at most once. */
typedef struct {
  int (*send_text)(void *ctx, const char *data, size_t len);
  void (*close)(void *ctx, int code, const char *reason);
} lvsp_io_t;

typedef struct lvsp_conn {
  sc_app_t *app;       /* borrowed: cfg, registry, endpoint */
  lvsp_link_t *link;   /* borrowed: shared by every connection */
  const lvsp_io_t *io; /* borrowed */
  void *io_ctx;
  char nonce[LVSP_NONCE_LEN + 1]; /* sent in HELLO, the HMAC message */
  char peer[64];                  /* the owner may fill in the peer address (status) */
  int ready;                      /* IDENTIFY or RESUME accepted, READY sent */
  int closed;                     /* a close was issued: all further input is ignored */
  lvsp_dialect_t dialect;         /* of the IDENTIFY/RESUME token */
  int64_t since_ms;               /* authenticated at (unix ms) */
  /* Optional, set by the owner after opening: make room for n more queued
   * messages before a burst (a replay or a snapshot) that may exceed the
   * usual queue bound. */
  void (*reserve)(void *io_ctx, size_t n);
  lvsp_link_t own_link; /* the link of a standalone connection */
} lvsp_conn_t;

/* Initialises c on the shared link, draws a fresh nonce and sends HELLO.
 * Returns 0, or a negative errno after closing (nonce or send failure). */
int lvsp_conn_open_on(lvsp_conn_t *c, sc_app_t *app, lvsp_link_t *link, const lvsp_io_t *io,
                      void *io_ctx);

/* The same on a link of c's own without a replay buffer (unit tests, fuzz
 * targets): no heap is kept, a RESUME succeeds only from the last "s". */
int lvsp_conn_open(lvsp_conn_t *c, sc_app_t *app, const lvsp_io_t *io, void *io_ctx);

/* The transport is gone (after a close, or the peer vanished): the link
 * stops counting c as its live connection. Voice is not touched. */
void lvsp_conn_gone(lvsp_conn_t *c);

/* Handles one complete message (buf need not be NUL-terminated). Returns 0
 * while the connection stays open, or a negative errno once it was closed:
 * -EBADMSG (4002, not JSON), -EACCES (4001), -EPROTO (4000: structure,
 * phase, unknown op, bad field, oversized frame), -ENOMEM / send errors
 * (4000). Input after a close is ignored and returns -EPIPE. */
int lvsp_handle_text(lvsp_conn_t *c, const char *buf, size_t len);

/* Closes the connection from the server side (shutdown, transport
 * trouble). Only the first close reaches io->close. */
void lvsp_conn_close(lvsp_conn_t *c, int code, const char *reason);

/* The health figure sent in READY and HEARTBEAT_ACK, in [0, 1]: states
 * vs capacity from the registry, media CPU and drops from link->load
 * (formula in src/sc_load.h and docs/LVSP.md). */
double lvsp_health(const sc_app_t *app, const lvsp_link_t *link);

/* The link's state for the admin view (a new object): live connection,
 * dialect, peer, timestamps, sequence and replay buffer, counters, health. */
json_t *lvsp_status_json(const lvsp_link_t *link, const sc_app_t *app);

/* ---- internal to lvsp/ (used by lvsp_info) ---------------------------- */

/* Logs, closes with code, returns err (so handlers `return lvsp__fail`). */
int lvsp__fail(lvsp_conn_t *c, int code, const char *reason, int err);
/* Closes 4000 naming the bad field; returns -EPROTO. */
int lvsp__bad_field(lvsp_conn_t *c, const char *field);
/* Sends an INFO frame {"op":6,"d":d} (steals d): numbered, and kept for
 * replay. A NULL d (allocation failed) closes the link. 0 or -errno. */
int lvsp__send_info(lvsp_conn_t *c, json_t *d);

#endif
