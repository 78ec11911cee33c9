/*
 * lvsp_proto: the LVSP server state machine (Litecord Voice Server
 * Protocol, seed dialect), independent of any socket.
 *
 * One lvsp_conn_t per Litecord connection. Incoming text goes in through
 * lvsp_handle_text(); everything the server says (and every close) goes out
 * through the lvsp_io_t the owner supplied, so the unit tests and fuzz
 * targets drive it without sockets, and lvsp_server binds it to lws.
 *
 * Dispatch: a table indexed by op (phase required + field table + handler),
 * and INFO bodies through a per-dialect table indexed by type. The seed
 * dialect carries its body in "info"; the later Litecord dialect ("data",
 * CHANNEL_REQ/CHANNEL_ASSIGN, VST_CREATE...) slots in as a second row of
 * the dialect table.
 *
 * RESUME (op 2) is for now an authenticated IDENTIFY with nothing to
 * replay: the token is checked the same way and READY follows. Sequence
 * numbers and replay come with the later dialect.
 *
 * Health (READY, HEARTBEAT_ACK) is 1 - min(1, states / cfg.capacity), a
 * first approximation that a later issue refines with media-plane load.
 *
 * Owns: the lvsp_conn_t (embedded in the owner's per-connection data).
 * Threads: control (lws) thread only, like the registry it mutates.
 * Memory: no heap kept between calls; app and io are borrowed and must
 * outlive the connection.
 */
#ifndef LVSP_PROTO_H
#define LVSP_PROTO_H

#include <stddef.h>

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

/* Seed-dialect InfoType. */
enum lvsp_info_type { LVSP_INFO_CHANNEL = 0, LVSP_INFO_VST = 1 };

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

typedef struct {
  sc_app_t *app;       /* borrowed: cfg, registry, endpoint */
  const lvsp_io_t *io; /* borrowed */
  void *io_ctx;
  char nonce[LVSP_NONCE_LEN + 1]; /* sent in HELLO, the HMAC message */
  int ready;  /* IDENTIFY or RESUME accepted, READY sent */
  int closed; /* a close was issued: all further input is ignored */
} lvsp_conn_t;

/* Initialises c, draws a fresh nonce and sends HELLO. Returns 0, or a
 * negative errno after closing (nonce or send failure). */
int lvsp_conn_open(lvsp_conn_t *c, sc_app_t *app, const lvsp_io_t *io, void *io_ctx);

/* Handles one complete message (buf need not be NUL-terminated). Returns 0
 * while the connection stays open, or a negative errno once it was closed:
 * -EBADMSG (4002, not JSON), -EACCES (4001), -EPROTO (4000: structure,
 * phase, unknown op, bad field, oversized frame), -ENOMEM / send errors
 * (4000). Input after a close is ignored and returns -EPIPE. */
int lvsp_handle_text(lvsp_conn_t *c, const char *buf, size_t len);

/* Closes the connection from the server side (shutdown, transport
 * trouble). Only the first close reaches io->close. */
void lvsp_conn_close(lvsp_conn_t *c, int code, const char *reason);

/* The health figure sent in READY and HEARTBEAT_ACK, in [0, 1]. */
double lvsp_health(const sc_app_t *app);

#endif
