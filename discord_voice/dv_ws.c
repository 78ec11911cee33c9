#include "dv_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "dv_discovery.h"
#include "dv_gateway.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_server.h"
#include "sc_wsq.h"

typedef struct {
  dv_modes_t modes;
  struct lws_protocols protocols[2];
} dv_ws_state_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  dv_conn_t conn;
  sc_wsq_t q;
  char *rx;       /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} pss_t;

static int io_send_text(void *ctx, const char *text, size_t len) {
  return sc_wsq_push_text(&((pss_t *)ctx)->q, text, len);
}

static void io_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((pss_t *)ctx)->q, code, reason);
}

static const dv_io_t ws_io = {io_send_text, io_close};

static void on_established(struct lws *wsi, pss_t *p, dv_ws_state_t *st) {
  char buf[32];
  const char *v = lws_get_urlarg_by_name(wsi, "v=", buf, sizeof buf);
  int version = dv_gateway_version(v);
  sc_wsq_init(&p->q, wsi, 0);
  p->open = 1;
  dv_conn_open(&p->conn, sc_server_app(wsi), &st->modes, version < 0 ? 4 : version, &ws_io, p);
  if (version < 0) io_close(p, DV_CLOSE_BAD_REQUEST, "unsupported gateway version");
}

/* Reassembles fragments; hands complete text messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, const char *in, size_t len) {
  if (lws_frame_is_binary(wsi)) return; /* DAVE binary frames: not spoken here */
  if (p->rx_len + len > DV_WS_MAX_MESSAGE) {
    io_close(p, DV_CLOSE_BAD_REQUEST, "message too large");
    p->conn.closing = 1;
    return;
  }
  int whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
              !lws_remaining_packet_payload(wsi);
  if (whole && !p->rx_len) {
    dv_conn_handle_text(&p->conn, in, len);
    return;
  }
  char *grown = realloc(p->rx, p->rx_len + len);
  if (!grown) {
    io_close(p, DV_CLOSE_BAD_REQUEST, "out of memory");
    return;
  }
  p->rx = grown;
  memcpy(p->rx + p->rx_len, in, len);
  p->rx_len += len;
  if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
    dv_conn_handle_text(&p->conn, p->rx, p->rx_len);
    p->rx_len = 0;
  }
}

static void on_closed(pss_t *p) {
  if (!p->open) return;
  dv_conn_closed(&p->conn);
  sc_wsq_clear(&p->q);
  free(p->rx);
  p->rx = NULL;
  p->open = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  dv_ws_state_t *st = proto ? proto->user : NULL;
  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); break;
  case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, in, len); break;
  case LWS_CALLBACK_SERVER_WRITEABLE: return p->open ? sc_wsq_on_writeable(&p->q) : 0;
  case LWS_CALLBACK_CLOSED: on_closed(p); break;
  default: break;
  }
  return 0;
}

static int dv_start(sc_app_t *app, int slot) {
  dv_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  if (dv_modes_from_config(&app->cfg, &st->modes) < 0) return -1;
  st->protocols[0] = (struct lws_protocols){
      .name = "discord-voice",
      .callback = callback,
      .per_session_data_size = sizeof(pss_t),
      .rx_buffer_size = 4096,
      .user = st,
  };
  return sc_server_add_listener(app, "voice gateway", &app->cfg.gateway_listen, st->protocols)
             ? 0
             : -1;
}

static void dv_destroy(sc_app_t *app, int slot) {
  free(app->frontend_state[slot]);
  app->frontend_state[slot] = NULL;
}

static const sc_frontend_t dv_frontend = {
    .name = "discord voice gateway",
    .order = 20,
    .datagram_fn = dv_udp_on_datagram,
    .start = dv_start,
    .stop = NULL, /* the registry's shutdown closes attached sockets (4015) */
    .destroy = dv_destroy,
};
SC_FRONTEND_REGISTER(dv_frontend);
