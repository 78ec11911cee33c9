/*
 * vx_conn: one Vortex WebSocket, above the wire format (vx_msg) and below
 * the session (vx_conn <- vx_session <- vx_proto; docs/VORTEX.md). It
 * sends replies {id, type, data}, error replies {id, type, error,
 * message} and events {type, data}, closes with Vortex's codes, applies
 * the per-socket size and rate limits, and counts closes and errors. It
 * answers through its vx_io_t (libwebsockets in the server, a capture in
 * tests) and calls nobody above it: the session binds itself to a
 * connection (vx_conn_t.session), as data only.
 *
 * Threads: control (lws) thread only.
 * Memory: the caller owns the vx_conn_t (lws per-session memory); nothing
 * here allocates beyond one message's text while sending it.
 */
#ifndef VX_CONN_H
#define VX_CONN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_registry.h"
#include "vx_msg.h"

/* Close codes (vortex src/ws/error.rs; 1001/1008/1009 are WebSocket's). */
enum {
  VX_CLOSE_GOING_AWAY = 1001,   /* the server stops */
  VX_CLOSE_WRONG_STATE = 1002,  /* a request the session's state does not allow */
  VX_CLOSE_UNPARSABLE = 1003,   /* not a request we can read */
  VX_CLOSE_RATE_LIMITED = 1008, /* over --vortex-rate-limit */
  VX_CLOSE_TOO_BIG = 1009,      /* over --vortex-max-message */
  VX_CLOSE_SERVER_ERROR = 1011, /* out of memory, no media plane */
  VX_CLOSE_BAD_TOKEN = 4001,    /* unknown token, token of another room, too slow */
  VX_CLOSE_KICKED = 4003,       /* the voice state ended or another client took it over */
  VX_CLOSE_ROOM_CLOSED = 4004,  /* the channel was destroyed */
};
#define VX_CLOSE_KINDS 9

/* Error names of error replies. */
typedef enum {
  VX_ERR_USER_NOT_FOUND = 0,
  VX_ERR_TRANSPORT_CONNECTION_FAILURE,
  VX_ERR_PRODUCER_FAILURE,
  VX_ERR_PRODUCER_NOT_FOUND,
  VX_ERR_CONSUMER_FAILURE,
  VX_ERR_CONSUMER_NOT_FOUND,
  VX_ERR_COUNT,
} vx_err_t;

/* Counters of one front end (every connection adds to the same). */
typedef struct {
  uint64_t closes[VX_CLOSE_KINDS + 1]; /* by vx_conn_close_index; last: others */
  uint64_t errors[VX_ERR_COUNT];
  uint64_t requests[VX_REQ_COUNT];
  uint64_t refused[VX_PARSE_COUNT]; /* frames vx_msg_parse refused, by verdict */
} vx_counts_t;

typedef struct {
  /* Queue one text frame: 0, or negative when the peer's queue is full
   * (the transport then drops the socket). */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued. */
  void (*close)(void *ctx, int code, const char *reason);
} vx_io_t;

struct vx_session;

typedef struct vx_conn {
  const vx_io_t *io;
  void *io_ctx;
  int closing;                /* a close was queued: ignore further input */
  struct vx_session *session; /* bound by vx_session (never used here) */
  char who[SC_ID_MAX];        /* user id for log lines; "" before Authenticate */
  uint64_t window_start_ms;   /* rate window */
  uint32_t in_window;
  vx_counts_t *counts; /* where closes and errors are counted, or NULL */
} vx_conn_t;

void vx_conn_init(vx_conn_t *c, const vx_io_t *io, void *io_ctx, vx_counts_t *counts);

/* {id, type, data} (steals data; NULL: no data field). */
void vx_conn_reply(vx_conn_t *c, int64_t id, vx_req_type_t type, json_t *data);
/* {id, type, error, message}, counted. */
void vx_conn_error(vx_conn_t *c, int64_t id, vx_req_type_t type, vx_err_t err, const char *message);
/* {type, data} (steals data). */
void vx_conn_event(vx_conn_t *c, const char *type, json_t *data);
/* Queues a close (after what is queued), counted; input is ignored from
 * now on. A second close does nothing. */
void vx_conn_close(vx_conn_t *c, int code, const char *reason);

/* Size and rate limits for one message of len bytes at now_ms: 0, or the
 * close code it deserves (1009, 1008) with *why set; -1 if closing. */
int vx_conn_admit(vx_conn_t *c, size_t len, size_t max_len, uint32_t rate, uint32_t window_ms,
                  uint64_t now_ms, const char **why);

/* The counters' slot of a close code, and the code of a slot (0: other). */
int vx_conn_close_index(int code);
int vx_conn_close_code(int index);
const char *vx_conn_err_name(vx_err_t e);

#endif
