/*
 * dv_conn: one voice-gateway WebSocket, the bottom of the gateway stack
 * (dv_conn <- dv_session <- dv_gateway; docs/ARCHITECTURE.md). It knows
 * the wire (JSON text frames {op, d}, Discord close codes) and the
 * per-socket limits (message size and rate), and answers through its
 * dv_io_t (libwebsockets in the server, a capture in tests). It calls
 * nobody above it: the session binds itself to a connection
 * (dv_conn_t.session) and the gateway owns its timers' callbacks.
 *
 * Threads: control (lws) thread only.
 * Memory: the caller owns the dv_conn_t (lws per-session memory); nothing
 * here allocates beyond one message's text while sending it.
 */
#ifndef DV_CONN_H
#define DV_CONN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dv_limits.h"
#include "dv_timer.h"
#include "sc_registry.h"

/* Gateway opcodes. */
enum {
  DV_OP_IDENTIFY = 0,
  DV_OP_SELECT_PROTOCOL = 1,
  DV_OP_READY = 2,
  DV_OP_HEARTBEAT = 3,
  DV_OP_SESSION_DESCRIPTION = 4,
  DV_OP_SPEAKING = 5,
  DV_OP_HEARTBEAT_ACK = 6,
  DV_OP_RESUME = 7,
  DV_OP_HELLO = 8,
  DV_OP_RESUMED = 9,
  DV_OP_CLIENTS_CONNECT = 11,
  DV_OP_VIDEO = 12,
  DV_OP_CLIENT_DISCONNECT = 13,
  DV_OP_SESSION_UPDATE = 14,
  DV_OP_CLIENT_FLAGS = 18,
  DV_OP_CLIENT_PLATFORM = 20,
  /* DAVE (E2EE): JSON 21-24 and 31, binary 25-30 (dv_dave.h) */
  DV_OP_DAVE_PREPARE_TRANSITION = 21,
  DV_OP_DAVE_EXECUTE_TRANSITION = 22,
  DV_OP_DAVE_TRANSITION_READY = 23,
  DV_OP_DAVE_PREPARE_EPOCH = 24,
  DV_OP_DAVE_EXTERNAL_SENDER = 25,
  DV_OP_DAVE_KEY_PACKAGE = 26,
  DV_OP_DAVE_PROPOSALS = 27,
  DV_OP_DAVE_COMMIT_WELCOME = 28,
  DV_OP_DAVE_ANNOUNCE_COMMIT = 29,
  DV_OP_DAVE_WELCOME = 30,
  DV_OP_DAVE_INVALID_COMMIT = 31,
  DV_OP_MAX = 32,
};

/* Discord voice close codes we send (docs/GATEWAY.md: what triggers each). */
enum {
  DV_CLOSE_UNKNOWN_OPCODE = 4001,
  DV_CLOSE_DECODE_ERROR = 4002,
  DV_CLOSE_NOT_AUTHENTICATED = 4003,
  DV_CLOSE_AUTH_FAILED = 4004,
  DV_CLOSE_ALREADY_AUTHENTICATED = 4005,
  DV_CLOSE_SESSION_INVALID = 4006,
  DV_CLOSE_SESSION_TIMEOUT = 4009,
  DV_CLOSE_SERVER_NOT_FOUND = 4011,
  DV_CLOSE_UNKNOWN_PROTOCOL = 4012,
  DV_CLOSE_DISCONNECTED = 4014,
  DV_CLOSE_SERVER_CRASH = 4015, /* also: "resume now" (resume buffer over budget) */
  DV_CLOSE_UNKNOWN_MODE = 4016,
  DV_CLOSE_DAVE_REQUIRED = 4017, /* --dave-required and an Identify without DAVE */
  DV_CLOSE_BAD_REQUEST = 4020,
  DV_CLOSE_RATE_LIMITED = 4021,
};

/* Close codes counted per code (admin /metrics): 4000 + index, and
 * index DV_CLOSE_SLOTS - 1 for any other code. */
#define DV_CLOSE_BASE 4000
#define DV_CLOSE_SLOTS 33
typedef struct {
  uint64_t closes[DV_CLOSE_SLOTS];
} dv_conn_counts_t;

typedef struct {
  /* Queue one text frame. Returns 0, or negative if the peer's queue is
   * full (the transport then drops the socket: the session may resume). */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued, with a Discord close code. */
  void (*close)(void *ctx, int code, const char *reason);
  /* Optional (NULL: unknown): the connection's round-trip time in
   * microseconds as the transport measures it (the kernel's smoothed TCP
   * RTT), 0 when unknown. */
  int64_t (*rtt_us)(void *ctx);
  /* Queue one binary frame (DAVE opcodes), as send_text. */
  int (*send_binary)(void *ctx, const uint8_t *buf, size_t len);
} dv_io_t;

struct dv_gw;
struct dv_session;

typedef struct dv_conn {
  struct dv_gw *gw; /* the gateway that opened it (never used here) */
  const dv_io_t *io;
  void *io_ctx;
  int version;                /* gateway version from ?v= (4..8) */
  int closing;                /* a close was queued: ignore further input */
  struct dv_session *session; /* bound by dv_session (never used here) */
  char who[SC_ID_MAX];        /* user id for log lines; "" before Identify */
  dv_timer_t heartbeat;       /* deadline for the next heartbeat (4009) */
  dv_rate_t rate;             /* 4021 */
  dv_conn_counts_t *counts;   /* where closes are counted, or NULL (set by the opener) */
} dv_conn_t;

/* Zeroes c and sets its output. The caller then sets gw and initialises
 * the heartbeat timer with its own callback. */
void dv_conn_init(dv_conn_t *c, int version, const dv_io_t *io, void *io_ctx);

/* Queues a text frame; 0, or negative when the socket is closing or its
 * queue is full (then the socket is being dropped: closing is set). */
int dv_conn_send_text(dv_conn_t *c, const char *text, size_t len);
/* Queues a binary frame; as dv_conn_send_text. */
int dv_conn_send_binary(dv_conn_t *c, const uint8_t *buf, size_t len);
/* Sends an unnumbered message {op, d} (steals d; NULL: null): Hello,
 * Heartbeat ACK, Resumed. */
void dv_conn_send_op(dv_conn_t *c, int op, json_t *d);
/* Queues a close with code (after what is queued); input is ignored from
 * now on. */
void dv_conn_close(dv_conn_t *c, int code, const char *reason);
/* The socket's round-trip time (dv_io_t.rtt_us), microseconds; 0 unknown. */
int64_t dv_conn_rtt_us(const dv_conn_t *c);

/* Size and rate limits for one message of len bytes at now_ms. Returns 0,
 * or the close code it deserves (4020 too large, 4021 rate limited) with
 * *why set; -1 if the socket is closing already. */
int dv_conn_admit(dv_conn_t *c, const dv_limits_t *l, size_t len, uint64_t now_ms,
                  const char **why);

#endif
