/*
 * dv_gateway: the Discord voice gateway protocol (the JSON opcodes of
 * gateway versions 4..8), independent of the socket. docs/GATEWAY.md
 * describes the behaviour; ../shared/reference/discord-voice-protocol.md
 * the protocol.
 *
 * Two lifetimes are kept apart:
 *  - a connection (dv_conn_t) is one WebSocket: it is fed whole messages
 *    (dv_conn_handle_text/_binary), answers through its dv_io_t, enforces
 *    the per-socket limits (size, rate, heartbeat deadline) and ends with
 *    the socket (dv_conn_closed);
 *  - a session (dv_session_t, dv_session.h) is one authenticated voice
 *    session: created by Identify, attached to its voice state in the
 *    registry, holding the mode, the media aliases and the numbered
 *    messages kept for resume. It outlives its socket: when the socket
 *    goes away without a close code of ours, the session waits
 *    --gw-resume-grace-ms for a Resume on a new socket, then ends (the
 *    others get op 13). Its media member is untouched meanwhile.
 * The gateway (dv_gw_t) owns every session, indexed by session id, and
 * the timers (dv_timer: lws_sul in the server, a manual clock in tests).
 *
 * Threads: control (lws) thread only.
 * Memory: dv_gw_create/dv_gw_destroy own the gateway and its sessions.
 * The caller owns each dv_conn_t (lws per-session memory) and must call
 * dv_conn_closed() before freeing it. Cipher states go to the media
 * plane, which frees them.
 */
#ifndef DV_GATEWAY_H
#define DV_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "dv_crypto.h"
#include "dv_limits.h"
#include "dv_settings.h"
#include "dv_timer.h"
#include "sc_app.h"

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
  DV_CLOSE_SERVER_CRASH = 4015,
  DV_CLOSE_UNKNOWN_MODE = 4016,
  DV_CLOSE_BAD_REQUEST = 4020,
  DV_CLOSE_RATE_LIMITED = 4021,
};

typedef struct {
  /* Queue one text frame. Returns 0, or negative if the peer's queue is
   * full (the transport then drops the socket: the session may resume). */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued, with a Discord close code. */
  void (*close)(void *ctx, int code, const char *reason);
} dv_io_t;

/* The modes offered in Ready: the configured list, validated once. */
typedef struct dv_modes {
  dv_mode_t modes[DV_MODE_COUNT];
  int n;
} dv_modes_t;

typedef struct dv_gw dv_gw_t;
typedef struct dv_session dv_session_t;

typedef struct dv_conn {
  dv_gw_t *gw;
  const dv_io_t *io;
  void *io_ctx;
  int version;           /* gateway version from ?v= (4..8) */
  int closing;           /* a close was queued: ignore further input */
  dv_session_t *session; /* after Identify or Resume; NULL otherwise */
  dv_timer_t heartbeat;  /* deadline for the next heartbeat (4009) */
  dv_rate_t rate;        /* 4021 */
} dv_conn_t;

/* Parses cfg->modes into out. Returns 0, or -1 after logging the name
 * that is not a mode we implement. */
int dv_modes_from_config(const dv_settings_t *cfg, dv_modes_t *out);

/* The gateway for app (its registry, media plane and configuration).
 * lws: the event loop its timers run on, or NULL for a manual clock
 * (tests: dv_timers_advance(dv_gw_timers(gw), ms)). NULL on a bad --modes,
 * an app without the gateway's settings (dv_settings), or ENOMEM. */
dv_gw_t *dv_gw_create(sc_app_t *app, struct lws_context *lws);
/* Shutdown has begun: sockets closing from now on leave no session behind. */
void dv_gw_stop(dv_gw_t *gw);
/* Ends every session still held (detaching it from the registry if the
 * registry is still there) and frees the gateway. */
void dv_gw_destroy(dv_gw_t *gw);
dv_timers_t *dv_gw_timers(dv_gw_t *gw);
/* The limits in force; tests may change them before opening sockets. */
dv_limits_t *dv_gw_limits(dv_gw_t *gw);
size_t dv_gw_session_count(const dv_gw_t *gw);

/* Starts a connection: sends Hello, arms the heartbeat deadline. */
void dv_conn_open(dv_conn_t *c, dv_gw_t *gw, int version, const dv_io_t *io, void *io_ctx);
/* Handles one complete text message. */
void dv_conn_handle_text(dv_conn_t *c, const char *buf, size_t len);
/* Handles one complete binary message (DAVE frames: counted, ignored). */
void dv_conn_handle_binary(dv_conn_t *c, const uint8_t *buf, size_t len);
/* A message grew past the size limit while being reassembled: 4020. */
void dv_conn_oversize(dv_conn_t *c);
/* Queues a close with code (after what is queued); input is ignored from
 * now on. The session, if any, is not touched. */
void dv_conn_close(dv_conn_t *c, int code, const char *reason);
/* The socket is gone. Its session, if any, waits for a resume. */
void dv_conn_closed(dv_conn_t *c);

/* Parses the "v" query value; returns 4..8, or -1 if unsupported. An
 * absent value counts as 4 (old clients send none). */
int dv_gateway_version(const char *value);

#endif
