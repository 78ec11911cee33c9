/*
 * dv_gateway: the Discord voice gateway protocol for one connection (the
 * JSON opcodes of gateway versions 4..8), independent of the socket.
 *
 * A dv_conn_t is fed whole text messages (dv_conn_handle_text) and answers
 * through its dv_io_t: send a text frame, or close with a code. It
 * authenticates Identify against a voice state created over LVSP, attaches
 * to it in the registry (which tells it about peers), hands the member's
 * cipher to the media plane at Select Protocol, and relays Speaking.
 *
 * Threads: control (lws) thread only.
 * Memory: the caller owns the dv_conn_t (embedded in lws per-session data)
 * and must call dv_conn_closed() before freeing it; that detaches it from
 * its voice state. Cipher states go to the media plane, which frees them.
 */
#ifndef DV_GATEWAY_H
#define DV_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "dv_crypto.h"
#include "sc_app.h"

/* Discord voice close codes used here. */
enum {
  DV_CLOSE_UNKNOWN_OPCODE = 4001,
  DV_CLOSE_DECODE_ERROR = 4002,
  DV_CLOSE_NOT_AUTHENTICATED = 4003,
  DV_CLOSE_AUTH_FAILED = 4004,
  DV_CLOSE_ALREADY_AUTHENTICATED = 4005,
  DV_CLOSE_SESSION_INVALID = 4006,
  DV_CLOSE_UNKNOWN_PROTOCOL = 4012,
  DV_CLOSE_DISCONNECTED = 4014,
  DV_CLOSE_SERVER_CRASH = 4015,
  DV_CLOSE_UNKNOWN_MODE = 4016,
  DV_CLOSE_BAD_REQUEST = 4020,
};

typedef struct {
  /* Queue one text frame. Returns 0, or negative if the peer's queue is
   * full (the connection is then closed by the transport). */
  int (*send_text)(void *ctx, const char *text, size_t len);
  /* Close after what is queued, with a Discord close code. */
  void (*close)(void *ctx, int code, const char *reason);
} dv_io_t;

/* The modes offered in Ready: the configured list, validated once. */
typedef struct dv_modes {
  dv_mode_t modes[DV_MODE_COUNT];
  int n;
} dv_modes_t;

typedef struct dv_conn {
  sc_app_t *app;
  const struct dv_modes *modes; /* offered in Ready */
  const dv_io_t *io;
  void *io_ctx;
  int version;              /* gateway version from ?v= (4..8) */
  int closing;              /* a close was queued: ignore further input */
  sc_vstate_t *vs;          /* attached voice state, or NULL */
  int selected;             /* Select Protocol done */
  dv_mode_t mode;
  uint32_t seq;             /* v8: last numbered server message */
} dv_conn_t;


/* Parses app->cfg.modes into out. Returns 0, or -1 after logging the name
 * that is not a mode we implement. */
int dv_modes_from_config(const sc_config_t *cfg, dv_modes_t *out);

/* Starts a connection: sends Hello. `modes` must outlive the connection. */
void dv_conn_open(dv_conn_t *c, sc_app_t *app, const dv_modes_t *modes, int version,
                  const dv_io_t *io, void *io_ctx);

/* Handles one complete text message. */
void dv_conn_handle_text(dv_conn_t *c, const char *buf, size_t len);

/* The socket is gone: detach from the voice state (peers are told). */
void dv_conn_closed(dv_conn_t *c);

/* Parses the "v" query value; returns 4..8, or -1 if unsupported. An
 * absent value counts as 4 (old clients send none). */
int dv_gateway_version(const char *value);

#endif
