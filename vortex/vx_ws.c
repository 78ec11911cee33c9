/*
 * vx_ws: see vx_ws.h.
 */
#include "vx_ws.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_server.h"
#include "sc_wsq.h"
#include "vx_proto.h"
#include "vx_settings.h"

enum { VX_WS_RX_BUFFER = 4096, VX_WS_TX_PACKET = 16384 /* one TLS record */ };

typedef struct {
  vx_front_t front;
  struct lws_protocols protocols[2];
} vx_ws_state_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  vx_conn_t conn;
  sc_wsq_t q;
  vx_ws_state_t *st;
  lws_sorted_usec_list_t auth_deadline;
  char *rx; /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} pss_t;

static int io_send_text(void *ctx, const char *text, size_t len) {
  pss_t *p = ctx;
  int rc = sc_wsq_push_text(&p->q, text, len);
  /* Not reading its queue: its close frame could never get out either. */
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(p->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

static void io_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((pss_t *)ctx)->q, code, reason);
}

static const vx_io_t ws_io = {io_send_text, io_close};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_auth_deadline(lws_sorted_usec_list_t *sul) {
  pss_t *p = lws_container_of(sul, pss_t, auth_deadline);
  if (p->open) vx_proto_auth_deadline(&p->st->front, &p->conn);
}

static void on_established(struct lws *wsi, pss_t *p, vx_ws_state_t *st) {
  sc_server_conn_opened(wsi);
  sc_wsq_init(&p->q, wsi, 0);
  p->st = st;
  p->open = 1;
  vx_proto_open(&st->front, &p->conn, &ws_io, p);
  lws_sul_schedule(lws_get_context(wsi), 0, &p->auth_deadline, on_auth_deadline,
                   (lws_usec_t)vx_settings(st->front.app)->auth_timeout_ms * LWS_US_PER_MS);
}

static void deliver(struct lws *wsi, pss_t *p, const char *buf, size_t len) {
  vx_settings_t *set = vx_settings(p->st->front.app);
  const char *why = NULL;
  int code = vx_conn_admit(&p->conn, len, set->max_message, set->rate_limit, set->rate_window_ms,
                           now_ms(), &why);
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

/* Reassembles fragments; hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, const char *in, size_t len) {
  if (p->conn.closing) return;
  if (p->rx_len + len > vx_settings(p->st->front.app)->max_message) {
    vx_proto_oversize(&p->st->front, &p->conn);
    return;
  }
  int whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
              !lws_remaining_packet_payload(wsi);
  if (whole && !p->rx_len) {
    deliver(wsi, p, in, len);
    return;
  }
  char *grown = realloc(p->rx, p->rx_len + len);
  if (!grown) {
    vx_conn_close(&p->conn, VX_CLOSE_SERVER_ERROR, "out of memory");
    return;
  }
  p->rx = grown;
  memcpy(p->rx + p->rx_len, in, len);
  p->rx_len += len;
  if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
    deliver(wsi, p, p->rx, p->rx_len);
    free(p->rx);
    p->rx = NULL;
    p->rx_len = 0;
  }
}

static void on_closed(pss_t *p) {
  if (!p->open) return;
  lws_sul_cancel(&p->auth_deadline);
  vx_proto_closed(&p->st->front, &p->conn);
  sc_wsq_clear(&p->q);
  free(p->rx);
  p->rx = NULL;
  p->open = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  vx_ws_state_t *st = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CLIENT);
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); break;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, in, len); break;
    case LWS_CALLBACK_SERVER_WRITEABLE: return p->open ? sc_wsq_on_writeable(&p->q) : 0;
    case LWS_CALLBACK_CLOSED: on_closed(p); break;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: sc_server_tls_ctx_setup(user); break;
    case LWS_CALLBACK_HTTP: return sc_server_refuse_http(wsi);
    default: break;
  }
  return 0;
}

static int vx_start(sc_app_t *app, int slot) {
  vx_settings_t *set = vx_settings(app);
  if (vx_settings_resolve(app, set) < 0) return -1;
  vx_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  st->front.app = app;
  st->protocols[0] = (struct lws_protocols){
      .name = "vortex",
      .callback = callback,
      .per_session_data_size = sizeof(pss_t),
      .rx_buffer_size = VX_WS_RX_BUFFER,
      .user = st,
      .tx_packet_size = VX_WS_TX_PACKET,
  };
  if (sc_hostport_off(&set->vortex_listen)) { /* the operator turned this dialect off */
    sc_log_info("vortex", "listener off (--vortex-listen off)");
    return 0;
  }
  return sc_server_add_listener(app, "vortex", &set->vortex_listen, st->protocols, 0) ? 0 : -1;
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
