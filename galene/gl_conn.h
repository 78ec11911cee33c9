/*
 * gl_conn: one Galène WebSocket, the bottom of the front end's stack
 * (gl_conn <- gl_session <- gl_proto <- gl_ws; docs/GALENE.md). It knows
 * the wire (JSON text messages, WebSocket close codes), the per-socket
 * limits (message size and rate), the connection's handshake state and
 * the front end's counters, and answers through its gl_io_t
 * (libwebsockets in the server). It calls nobody above it: the session
 * binds itself to the connection (gl_conn_t.session).
 *
 * Threads: control (lws) thread only.
 * Memory: the caller owns the gl_conn_t (lws per-session memory); nothing
 * here allocates beyond one message's text while sending it.
 */
#ifndef GL_CONN_H
#define GL_CONN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gl_msg.h"
#include "sc_app.h"

/* WebSocket close codes we send. */
enum {
  GL_CLOSE_GOING_AWAY = 1001, /* server stopping */
  GL_CLOSE_PROTOCOL = 1002,   /* a message before the handshake, or no version 2 */
  GL_CLOSE_POLICY = 1008,     /* rate limit */
  GL_CLOSE_TOO_BIG = 1009,    /* message over --galene-max-message */
};

/* Why a message was refused (counters, GET /state "galene" "refused"). */
enum {
  GL_REFUSE_BEFORE_HANDSHAKE = 0, /* closed 1002 */
  GL_REFUSE_BAD_VERSION,          /* handshake without "2": closed 1002 */
  GL_REFUSE_MALFORMED,            /* not JSON, not an object, bad field: usermessage error */
  GL_REFUSE_UNKNOWN_TYPE,         /* usermessage error */
  GL_REFUSE_UNSUPPORTED,          /* chat, useraction, ...: usermessage error */
  GL_REFUSE_BEFORE_JOIN,          /* usermessage error */
  GL_REFUSE_AUTH,                 /* join with a bad token or another group: joined fail */
  GL_REFUSE_NOT_OURS,             /* a stream id that is not this client's: usermessage error */
  GL_REFUSE_SPOOF,         /* source/username not this client's: usermessage error (+ abort) */
  GL_REFUSE_BAD_SDP,       /* abort (offer) or close (answer) + usermessage error */
  GL_REFUSE_NO_PERMISSION, /* publishing without `present`: abort + usermessage error */
  GL_REFUSE_LIMIT,         /* too many streams: abort + usermessage error */
  GL_REFUSE_TOO_BIG,       /* closed 1009 */
  GL_REFUSE_RATE,          /* closed 1008 */
  GL_REFUSE_COUNT,
};

/* The front end's counters (gl_ws owns them; every connection points here). */
typedef struct {
  uint64_t received[GL_T_COUNT]; /* messages read, by type */
  uint64_t refused[GL_REFUSE_COUNT];
  uint64_t joins, up_answers, down_offers, down_answers;
  uint64_t connections, sessions, up_streams, down_streams; /* now */
} gl_counts_t;

/* The name of a GL_REFUSE_* ("before_handshake", ...). */
const char *gl_conn_refuse_name(int why);

typedef struct {
  /* Queue one text frame. 0, or negative if the peer's queue is full
   * (then the transport drops the socket). */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued. */
  void (*close)(void *ctx, int code, const char *reason);
} gl_io_t;

typedef struct {
  uint64_t window_start_ms;
  uint32_t used;
} gl_rate_t;

struct gl_session;

typedef struct gl_conn {
  sc_app_t *app;
  const gl_io_t *io;
  void *io_ctx;
  gl_counts_t *counts;
  int closing;                   /* a close was queued: ignore further input */
  int handshaken;                /* the client's handshake arrived (we answered ours) */
  char client_id[GL_ID_MAX + 1]; /* the handshake's id: the client's stream origin */
  struct gl_session *session;    /* bound by gl_session while joined */
  gl_rate_t rate;
} gl_conn_t;

void gl_conn_init(gl_conn_t *c, sc_app_t *app, const gl_io_t *io, void *io_ctx,
                  gl_counts_t *counts);

/* Sends msg (stolen) as one text frame; 0 or negative (closing, or the
 * queue is full: the socket is being dropped). */
int gl_conn_send(gl_conn_t *c, json_t *msg);
/* {type: "usermessage", kind: "error", value: text}, and counts why. */
void gl_conn_refuse(gl_conn_t *c, int why, const char *text);
/* Queues a close with code (after what is queued) and counts why (-1: no
 * count); input is ignored from now on. */
void gl_conn_close(gl_conn_t *c, int code, const char *reason, int why);

/* Size and rate limits for one message of len bytes at now_ms. 0 to go
 * on, or -1 after closing (1009, 1008) or when closing already. */
int gl_conn_admit(gl_conn_t *c, size_t len, uint32_t max_message, uint32_t rate_limit,
                  uint32_t window_ms, uint64_t now_ms);

#endif
