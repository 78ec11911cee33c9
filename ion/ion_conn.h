/*
 * ion_conn: one protoo WebSocket of the ion front end, the bottom of its
 * stack (ion_conn <- ion_session <- ion_proto; docs/ION.md). It knows
 * the wire: protoo responses and notifications as JSON text frames, the
 * close code 4000 (the only one after which protoo-client does not
 * reconnect), and the per-socket limits (message size, message rate).
 * It answers through its ion_io_t (libwebsockets in the server) and
 * calls nobody above it.
 *
 * Threads: control (lws) thread only.
 * Memory: the caller owns the ion_conn_t (lws per-session memory); only
 * the text of one message is allocated while sending it.
 */
#ifndef ION_CONN_H
#define ION_CONN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ION_CLOSE_FOR_GOOD 4000 /* protoo-client: "closed by the server", no reconnect */

/* What a front end counts over all its sockets (the admin view). */
typedef struct {
  uint64_t opened, closed_by_us;
  uint64_t requests, errors_sent, notifications_sent;
  uint64_t malformed;           /* envelopes we could not read (closed) */
  uint64_t too_large;           /* messages over --ion-max-message (closed) */
  uint64_t rate_limited;        /* sockets over --ion-rate-limit (closed) */
  uint64_t foreign_response;    /* responses to ids we never sent (dropped) */
  uint64_t client_notification; /* notifications from a client (dropped) */
  uint64_t bad_token;           /* unknown token, or room or user not the token's (closed) */
  uint64_t send_queue_full;     /* sockets dropped because their peer did not read */
} ion_counts_t;

typedef struct {
  /* Queue one text frame: 0, or negative when the queue is full. */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued. */
  void (*close)(void *ctx, int code, const char *reason);
} ion_io_t;

typedef struct {
  uint32_t max_message; /* bytes; more: close 4000 */
  uint32_t rate_limit;  /* messages per window; more: close 4000 */
  uint32_t rate_window_ms;
} ion_limits_t;

typedef struct ion_conn {
  const ion_io_t *io;
  void *io_ctx;
  ion_counts_t *counts; /* shared by every socket of the listener */
  int closing;          /* a close is queued: input is ignored */
  uint64_t window_start_ms;
  uint32_t window_count;
  char who[32]; /* user id for log lines, "" before the token is known */
} ion_conn_t;

void ion_conn_init(ion_conn_t *c, const ion_io_t *io, void *io_ctx, ion_counts_t *counts);

/* Size and rate checks for one message of len bytes at now_ms: 0, or -1
 * after closing the socket (counted), or when it is closing already. */
int ion_conn_admit(ion_conn_t *c, const ion_limits_t *l, size_t len, uint64_t now_ms);

/* {response:true, id, ok:true, data} (steals data; NULL: {}). */
void ion_conn_reply(ion_conn_t *c, int64_t id, json_t *data);
/* {response:true, id, ok:false, errorCode, errorReason}. */
void ion_conn_reply_error(ion_conn_t *c, int64_t id, int code, const char *reason);
/* {notification:true, method, data} (steals data). */
void ion_conn_notify(ion_conn_t *c, const char *method, json_t *data);
/* Queues close `code` after what is queued (logged, counted); input is
 * ignored from now on. */
void ion_conn_close(ion_conn_t *c, int code, const char *reason);

#endif
