/*
 * vx_ws: see vx_ws.h.
 */
#include "vx_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>

#include "sc_frontend.h"
#include "sc_wsfront.h"
#include "vx_proto.h"
#include "vx_settings.h"

enum { VX_WS_RX_BUFFER = 4096 };

typedef struct {
  vx_front_t front;
  sc_wsfront_listener_t listener;
} vx_ws_state_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  sc_wsfront_conn_t ws; /* first: sc_wsfront_callback reads it */
  vx_conn_t conn;
  vx_ws_state_t *st;
  lws_sorted_usec_list_t auth_deadline;
} pss_t;

static const vx_io_t ws_io = {sc_wsfront_send_text, sc_wsfront_close};

static void on_auth_deadline(lws_sorted_usec_list_t *sul) {
  pss_t *p = lws_container_of(sul, pss_t, auth_deadline);
  if (p->ws.open) vx_proto_auth_deadline(&p->st->front, &p->conn);
}

static void on_established(struct lws *wsi, pss_t *p, vx_ws_state_t *st) {
  sc_wsfront_open(&p->ws, wsi);
  p->st = st;
  vx_proto_open(&st->front, &p->conn, &ws_io, &p->ws);
  lws_sul_schedule(lws_get_context(wsi), 0, &p->auth_deadline, on_auth_deadline,
                   (lws_usec_t)vx_settings(st->front.app)->auth_timeout_ms * LWS_US_PER_MS);
}

static void deliver(struct lws *wsi, pss_t *p, const char *buf, size_t len) {
  vx_settings_t *set = vx_settings(p->st->front.app);
  const char *why = NULL;
  int code = vx_conn_admit(&p->conn, len, set->max_message, set->rate_limit, set->rate_window_ms,
                           sc_wsfront_now_ms(), &why);
  if (code < 0) return;
  if (code > 0) {
    vx_conn_close(&p->conn, code, why);
    return;
  }
  if (lws_frame_is_binary(wsi))
    vx_proto_binary(&p->st->front, &p->conn);
  else
    vx_proto_text(&p->st->front, &p->conn, buf, len);
}

/* Hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, const char *in, size_t len) {
  if (p->conn.closing) return;
  const char *msg;
  size_t n;
  switch (sc_wsfront_reassemble(&p->ws, wsi, in, len, vx_settings(p->st->front.app)->max_message,
                                &msg, &n)) {
    case SC_WSFRONT_PARTIAL: break;
    case SC_WSFRONT_TOO_BIG: vx_proto_oversize(&p->st->front, &p->conn); break;
    case SC_WSFRONT_NO_MEMORY:
      vx_conn_close(&p->conn, VX_CLOSE_SERVER_ERROR, "out of memory");
      break;
    case SC_WSFRONT_COMPLETE:
      deliver(wsi, p, msg, n);
      sc_wsfront_message_done(&p->ws);
      break;
  }
}

static void on_closed(pss_t *p) {
  if (!p->ws.open) return;
  lws_sul_cancel(&p->auth_deadline);
  vx_proto_closed(&p->st->front, &p->conn);
  sc_wsfront_release(&p->ws);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  vx_ws_state_t *st = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); return 0;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, in, len); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(p); return 0;
    default: return sc_wsfront_callback(wsi, reason, user, in);
  }
}

static const sc_wsfront_spec_t vx_ws_spec = {
    .name = "vortex",
    .protocol = "vortex",
    .off_flag = "--vortex-listen",
    .callback = callback,
    .session_size = sizeof(pss_t),
    .rx_buffer = VX_WS_RX_BUFFER,
};

static int vx_start(sc_app_t *app, int slot) {
  vx_settings_t *set = vx_settings(app);
  if (vx_settings_resolve(app, set) < 0) return -1;
  vx_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  st->front.app = app;
  return sc_wsfront_listen(app, &st->listener, &vx_ws_spec, &set->vortex_listen, st);
}

static void vx_stop(sc_app_t *app, int slot) {
  vx_ws_state_t *st = app->frontend_state[slot];
  if (st) st->front.stopping = 1;
}

static void vx_destroy(sc_app_t *app, int slot) {
  free(app->frontend_state[slot]);
  app->frontend_state[slot] = NULL;
}

static struct json_t *vx_status(sc_app_t *app, int slot) {
  vx_ws_state_t *st = app->frontend_state[slot];
  return st ? vx_proto_status(&st->front) : NULL;
}

static void vx_metrics(sc_app_t *app, int slot, struct sc_metrics *out) {
  vx_ws_state_t *st = app->frontend_state[slot];
  if (st) vx_proto_metrics(&st->front, out);
}

static const sc_frontend_t vx_frontend = {
    .name = "vortex",
    .order = 30,
    .start = vx_start,
    .stop = vx_stop, /* then the registry's shutdown closes attached sockets (1001) */
    .destroy = vx_destroy,
    .settings = &vx_settings_table,
    .banner = vx_settings_banner,
    .status = vx_status,
    .metrics = vx_metrics,
};
SC_FRONTEND_REGISTER(vx_frontend);
