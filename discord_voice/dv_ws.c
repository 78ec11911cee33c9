#include "dv_ws.h"

#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dv_discovery.h"
#include "dv_gateway.h"
#include "dv_limits.h"
#include "dv_settings.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_server.h"
#include "sc_wsq.h"

enum { DV_WS_RX_BUFFER = 256, DV_WS_TX_PACKET = 16384 /* one TLS record */ };

typedef struct {
  dv_gw_t *gw;
  struct lws_protocols protocols[2];
} dv_ws_state_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  dv_conn_t conn;
  sc_wsq_t q;
  char *rx; /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} pss_t;

static int io_send_text(void *ctx, const char *text, size_t len) {
  pss_t *p = ctx;
  int rc = sc_wsq_push_text(&p->q, text, len);
  /* Not reading its queue: the peer's close frame could never get out
   * either, so the socket is dropped without one. */
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(p->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

static int io_send_binary(void *ctx, const uint8_t *buf, size_t len) {
  pss_t *p = ctx;
  int rc = sc_wsq_push_binary(&p->q, buf, len);
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(p->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

static void io_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((pss_t *)ctx)->q, code, reason);
}

/* The kernel's smoothed RTT of the TCP connection under the WebSocket
 * (TLS included): the only round-trip figure our clients give us, since
 * they send no RTCP. Behind a reverse proxy it is the proxy's. */
static int64_t io_rtt_us(void *ctx) {
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  int fd = lws_get_socket_fd(((pss_t *)ctx)->q.wsi);
  if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
      len < offsetof(struct tcp_info, tcpi_rtt) + sizeof ti.tcpi_rtt)
    return 0;
  return (int64_t)ti.tcpi_rtt;
}

static const dv_io_t ws_io = {io_send_text, io_close, io_rtt_us, io_send_binary};

static void on_established(struct lws *wsi, pss_t *p, dv_ws_state_t *st) {
  char buf[32];
  const char *v = lws_get_urlarg_by_name(wsi, "v=", buf, sizeof buf);
  int version = dv_gateway_version(v);
  sc_server_conn_opened(wsi);
  sc_wsq_init(&p->q, wsi, 0);
  p->open = 1;
  dv_gw_open(&p->conn, st->gw, version < 0 ? 4 : version, &ws_io, p);
  if (version < 0) dv_conn_close(&p->conn, DV_CLOSE_BAD_REQUEST, "unsupported gateway version");
}

static void deliver(struct lws *wsi, pss_t *p, const char *buf, size_t len) {
  if (lws_frame_is_binary(wsi))
    dv_gw_binary(&p->conn, (const uint8_t *)buf, len);
  else
    dv_gw_text(&p->conn, buf, len);
}

/* Reassembles fragments; hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, dv_ws_state_t *st, const char *in, size_t len) {
  if (p->conn.closing) return;
  if (p->rx_len + len > dv_gw_max_frame(st->gw, lws_frame_is_binary(wsi))) {
    dv_gw_oversize(&p->conn);
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
    dv_conn_close(&p->conn, DV_CLOSE_BAD_REQUEST, "out of memory");
    return;
  }
  p->rx = grown;
  memcpy(p->rx + p->rx_len, in, len);
  p->rx_len += len;
  if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
    deliver(wsi, p, p->rx, p->rx_len);
    free(p->rx); /* rare (large or fragmented messages): don't keep it idle */
    p->rx = NULL;
    p->rx_len = 0;
  }
}

static void on_closed(pss_t *p) {
  if (!p->open) return;
  dv_gw_closed(&p->conn);
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
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CLIENT);
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); break;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, st, in, len); break;
    case LWS_CALLBACK_SERVER_WRITEABLE: return p->open ? sc_wsq_on_writeable(&p->q) : 0;
    case LWS_CALLBACK_CLOSED: on_closed(p); break;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: sc_server_tls_ctx_setup(user); break;
    case LWS_CALLBACK_HTTP: return sc_server_refuse_http(wsi);
    default: break;
  }
  return 0;
}

static int dv_start(sc_app_t *app, int slot) {
  dv_settings_t *set = dv_settings(app);
  if (dv_settings_resolve(app, set) < 0) return -1;
  dv_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  st->gw = dv_gw_create(app, app->lws);
  if (!st->gw) return -1;
  st->protocols[0] = (struct lws_protocols){
      .name = "discord-voice",
      .callback = callback,
      .per_session_data_size = sizeof(pss_t),
      /* Per-connection receive buffer, held by every idle session: big
       * enough for heartbeats, Speaking and control frames (<= 125 bytes);
       * larger messages (Identify, Select Protocol) arrive in pieces and
       * are reassembled in on_receive. */
      .rx_buffer_size = DV_WS_RX_BUFFER,
      .user = st,
      /* Without it lws cuts every send at rx_buffer_size and copies the
       * rest aside for later writable callbacks. */
      .tx_packet_size = DV_WS_TX_PACKET,
  };
  /* Every session has its heartbeat deadline (dv_timer). */
  return sc_server_add_listener(app, "voice gateway", &set->gateway_listen, st->protocols,
                                SC_LISTENER_OWN_LIVENESS)
             ? 0
             : -1;
}

/* Before the registry ends every state (4015): sockets that close from
 * now on leave no resumable session behind. */
static void dv_stop(sc_app_t *app, int slot) {
  dv_ws_state_t *st = app->frontend_state[slot];
  if (st && st->gw) dv_gw_stop(st->gw);
}

static void dv_destroy(sc_app_t *app, int slot) {
  dv_ws_state_t *st = app->frontend_state[slot];
  if (st) dv_gw_destroy(st->gw);
  free(st);
  app->frontend_state[slot] = NULL;
}

static struct json_t *dv_status(sc_app_t *app, int slot) {
  dv_ws_state_t *st = app->frontend_state[slot];
  return st && st->gw ? dv_gw_status_json(st->gw) : NULL;
}

static void dv_metrics(sc_app_t *app, int slot, sc_metrics_t *out) {
  dv_ws_state_t *st = app->frontend_state[slot];
  if (st && st->gw) dv_gw_metrics(st->gw, out);
}

/* SIGHUP changed settings: the gw-* limits in force from now on. */
static void dv_reconfigure(sc_app_t *app, int slot) {
  dv_ws_state_t *st = app->frontend_state[slot];
  if (st && st->gw) dv_limits_from_config(dv_settings(app), dv_gw_limits(st->gw));
}

static const sc_frontend_t dv_frontend = {
    .name = "discord voice gateway",
    .order = 20,
    .datagram_fn = dv_udp_on_datagram,
    .start = dv_start,
    .stop = dv_stop, /* then the registry's shutdown closes attached sockets (4015) */
    .destroy = dv_destroy,
    .settings = &dv_settings_table,
    .banner = dv_settings_banner,
    .status = dv_status,
    .metrics = dv_metrics,
    .reconfigure = dv_reconfigure,
};
SC_FRONTEND_REGISTER(dv_frontend);
