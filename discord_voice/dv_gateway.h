/*
 * dv_gateway: the Discord voice gateway protocol (the JSON opcodes of
 * gateway versions 4..8), the top of the gateway stack:
 *
 *   dv_conn     one WebSocket: send, close, per-socket limits (dv_conn.h)
 *   dv_session  one authenticated voice session and the session table
 *               (dv_session.h): numbering, resume, budgets, the room
 *   dv_gateway  this file: the opcode table (a field table per opcode,
 *               checked with sc_jcheck before the handler runs), the
 *               handlers, the gateway object; beside it dv_webrtc
 *               (Select Protocol "webrtc"), dv_webrtc_call (the call's
 *               video codec, op 14) and dv_video (Identify's streams,
 *               op 12)
 *
 * Each layer calls only the ones below it. docs/GATEWAY.md describes the
 * behaviour; ../shared/reference/discord-voice-protocol.md the protocol.
 *
 * Two lifetimes are kept apart: a connection is one WebSocket, fed whole
 * messages (dv_gw_text/_binary) and ending with the socket (dv_gw_closed);
 * a session is created by Identify and outlives its socket: when the
 * socket goes away without a close code of ours, the session waits
 * --gw-resume-grace-ms for a Resume on a new socket, then ends (the
 * others get op 13). Its media member is untouched meanwhile.
 *
 * Threads: control (lws) thread only.
 * Memory: dv_gw_create/dv_gw_destroy own the gateway and its sessions.
 * The caller owns each dv_conn_t (lws per-session memory) and must call
 * dv_gw_closed() before freeing it. Cipher states go to the media plane,
 * which frees them.
 */
#ifndef DV_GATEWAY_H
#define DV_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "dv_conn.h"
#include "dv_crypto.h"
#include "dv_e2ee.h"
#include "dv_limits.h"
#include "dv_session.h"
#include "dv_settings.h"
#include "dv_timer.h"
#include "sc_app.h"
#include "sc_metrics.h"

/* The transport kind of Discord UDP members (sc_registry_set_transport). */
#define DV_TRANSPORT_KIND "discord_udp"

/* The modes offered in Ready: the configured list, validated once. */
typedef struct dv_modes {
  dv_mode_t modes[DV_MODE_COUNT];
  int n;
} dv_modes_t;

/* Counters for /metrics (docs/ADMIN.md). */
typedef struct {
  dv_conn_counts_t conn;      /* closes we sent, by code */
  uint64_t opened;            /* sockets opened (Hello sent) */
  uint64_t identified;        /* Identify accepted (Ready sent) */
  uint64_t resumed;           /* Resume accepted */
  sc_metrics_obs_t join_time; /* Identify to Session Description, seconds */
} dv_gw_metrics_t;

typedef struct dv_gw {
  sc_app_t *app;
  dv_gw_metrics_t metrics;
  dv_modes_t modes;
  dv_limits_t lim;
  dv_timers_t timers;
  dv_sessions_t sessions; /* points at lim and timers above */
  dv_e2ee_t e2ee;         /* the DAVE calls (uses timers) */
} dv_gw_t;

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
/* Largest message the transport may reassemble: gw-max-message, and for
 * binary (DAVE) frames at least DV_E2EE_FRAME_MAX. */
size_t dv_gw_max_frame(const dv_gw_t *gw, int binary);
/* The limits in force; tests may change them before opening sockets. */
dv_limits_t *dv_gw_limits(dv_gw_t *gw);
size_t dv_gw_session_count(const dv_gw_t *gw);
/* For the admin view: sessions and the budget/refusal counters
 * (docs/ADMIN.md). A new object, or NULL on ENOMEM. */
struct json_t *dv_gw_status_json(const dv_gw_t *gw);

/* Writes the gateway's families to m: sessions, sockets opened, joins,
 * resumes, closes by code, the join-time histogram. */
void dv_gw_metrics(const dv_gw_t *gw, sc_metrics_t *m);

/* Starts a connection on c: sends Hello, arms the heartbeat deadline. */
void dv_gw_open(dv_conn_t *c, dv_gw_t *gw, int version, const dv_io_t *io, void *io_ctx);
/* Handles one complete text message. */
void dv_gw_text(dv_conn_t *c, const char *buf, size_t len);
/* Handles one complete binary message (DAVE ops 26/28, dv_e2ee). */
void dv_gw_binary(dv_conn_t *c, const uint8_t *buf, size_t len);
/* A message grew past the size limit while being reassembled: 4020. */
void dv_gw_oversize(dv_conn_t *c);
/* The socket is gone. Its session, if any, waits for a resume. */
void dv_gw_closed(dv_conn_t *c);

/* Parses the "v" query value; returns 4..8, or -1 if unsupported. An
 * absent value counts as 4 (old clients send none). */
int dv_gateway_version(const char *value);

#endif
