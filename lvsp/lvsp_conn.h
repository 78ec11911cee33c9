/*
 * lvsp_conn: the bottom of the LVSP stack, one Litecord connection as a
 * message pipe: the transport (lvsp_io_t), framing (every frame numbered
 * with the link's next "s", INFO frames kept for replay), failing and
 * closing, and bursts: output produced as the transport drains.
 *
 *   lvsp_proto (handshake, dispatch)  ->  lvsp_info (INFO bodies, snapshot)
 *        \______________________________________/
 *                          v
 *                      lvsp_conn  ->  lvsp_link (seq, replay ring)
 *
 * Nothing here knows an opcode's meaning; the layers above call down and
 * never the other way (a burst's producer is a function pointer they
 * hand in). The wire constants every layer shares (ops, INFO types,
 * dialects, close codes) and the shared macros are in this header.
 *
 * Bursts. A snapshot after IDENTIFY (one INFO per channel and voice state)
 * or a RESUME replay can be far larger than a connection's send queue. A
 * layer above starts a burst with a producer that sends one frame per
 * call; the producer runs while the transport holds less than
 * LVSP_BURST_HIGH_WATER bytes, and again whenever the owner reports the
 * transport drained (lvsp_conn_drained). A transport without a `queued`
 * hook (unit tests, fuzz targets) takes a burst whole, at once.
 *
 * Owns: the lvsp_conn_t (embedded in the owner's per-connection data) and
 * the state of a running burst (freed when it ends or the connection goes).
 * Threads: control (lws) thread only.
 * Memory: app, link and io are borrowed and must outlive the connection;
 * the owner calls lvsp_conn_gone() when the transport is gone.
 */
#ifndef LVSP_CONN_H
#define LVSP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lvsp_link.h"
#include "sc_app.h"

/* The log tag and the field-table argument pair every LVSP module uses. */
#define LVSP_LOG "lvsp"
#define LVSP_FIELDS(t) (t), sizeof(t) / sizeof((t)[0])

#define LVSP_MAX_FRAME (64 * 1024) /* larger messages close with 4000 */
#define LVSP_NONCE_LEN 10
/* A burst's producer runs while the transport holds less than this. */
#define LVSP_BURST_HIGH_WATER (256u * 1024)

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
  LVSP_CLOSE_AUTH = 4001,    /* authentication failure (or none in time) */
  LVSP_CLOSE_DECODE = 4002,  /* the message is not valid JSON */
};

/* The transport. send_text returns 0 or a negative errno (e.g. -ENOBUFS
 * when the peer does not read); a failed send closes the connection.
 * close queues a close after what was sent; it is called at most once.
 * queued (optional): bytes accepted and not yet written; with it, bursts
 * are produced as the transport drains. hold (optional): stop (1) or
 * resume (0) reading the peer's messages, used while a RESUME replay
 * streams so that what the client says next is read after READY, as
 * when the replay was sent at once. */
typedef struct {
  int (*send_text)(void *ctx, const char *data, size_t len);
  void (*close)(void *ctx, int code, const char *reason);
  size_t (*queued)(void *ctx);
  void (*hold)(void *ctx, int on);
} lvsp_io_t;

struct lvsp_conn;

/* A burst's producer: sends at most one frame and returns 0 while more is
 * to come, 1 when the burst is complete, or a negative errno (the
 * connection was closed). */
typedef int (*lvsp_burst_fn)(struct lvsp_conn *c, void *state);

typedef struct lvsp_conn {
  sc_app_t *app;       /* borrowed: cfg, registry, endpoint */
  lvsp_link_t *link;   /* borrowed: shared by every connection */
  const lvsp_io_t *io; /* borrowed */
  void *io_ctx;
  char nonce[LVSP_NONCE_LEN + 1]; /* sent in HELLO, the HMAC message (lvsp_proto) */
  char peer[64];                  /* the owner may fill in the peer address (status) */
  int ready;                      /* IDENTIFY or RESUME accepted, READY sent (lvsp_proto) */
  int closed;                     /* a close was issued: all further input is ignored */
  lvsp_dialect_t dialect;         /* of the IDENTIFY/RESUME token (lvsp_proto) */
  int64_t since_ms;               /* authenticated at (unix ms) */
  struct {
    lvsp_burst_fn fn; /* NULL: no burst running */
    void *state;
    void (*free_state)(void *state);
    int held; /* the burst holds the peer's input */
  } burst;
  lvsp_link_t own_link; /* the link of a standalone connection */
} lvsp_conn_t;

/* Binds c to app, link and the transport (c is zeroed first unless link
 * is c->own_link) and counts the connection on the link. Sends nothing. */
void lvsp_conn_init(lvsp_conn_t *c, sc_app_t *app, lvsp_link_t *link, const lvsp_io_t *io,
                    void *io_ctx);

/* The transport is gone (after a close, or the peer vanished): the link
 * stops counting c as its live connection and a running burst is freed.
 * Voice is not touched. */
void lvsp_conn_gone(lvsp_conn_t *c);

/* Closes the connection from the server side. Only the first close
 * reaches io->close; a running burst stops. */
void lvsp_conn_close(lvsp_conn_t *c, int code, const char *reason);

/* Logs, closes with code, returns err (so handlers `return lvsp_conn_fail`). */
int lvsp_conn_fail(lvsp_conn_t *c, int code, const char *reason, int err);
/* Closes 4000 naming the bad field; returns -EPROTO. */
int lvsp_conn_bad_field(lvsp_conn_t *c, const char *field);

/* Numbers {"op":op,"d":d,"s":next} (steals d), sends it, and keeps it for
 * replay if `replayable`. A NULL d (allocation failed) closes the link,
 * since Litecord would otherwise wait forever for a reply. 0 or -errno
 * (after closing); -EPIPE once closed. */
int lvsp_conn_send_frame(lvsp_conn_t *c, int op, json_t *d, int replayable);

/* Sends an already numbered frame as it is (a replay). 0 or -errno. */
int lvsp_conn_send_raw(lvsp_conn_t *c, const char *text, size_t len);

/* Starts a burst (none may be running): fn is called until it returns
 * non-zero, while the transport has room, now and on every
 * lvsp_conn_drained(). free_state (may be NULL) releases state when the
 * burst ends or the connection goes. `hold`: the peer's input is not read
 * until the burst ends. Returns what the first run returned (< 0: closed). */
int lvsp_conn_burst(lvsp_conn_t *c, lvsp_burst_fn fn, void *state, void (*free_state)(void *),
                    int hold);

/* The owner's transport wrote some of its queue: a running burst goes on.
 * 0, or -errno after closing. */
int lvsp_conn_drained(lvsp_conn_t *c);

#endif
