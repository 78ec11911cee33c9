#include "dv_ws.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>

#include "dv_discovery.h"
#include "dv_gateway.h"
#include "dv_limits.h"
#include "dv_settings.h"
#include "sc_frontend.h"
#include "sc_server.h"
#include "sc_wsfront.h"

/* Per-connection receive buffer, held by every idle session: big enough
 * for heartbeats, Speaking and control frames (<= 125 bytes); larger
 * messages (Identify, Select Protocol) arrive in pieces and are
 * reassembled (sc_wsfront_reassemble). */
enum { DV_WS_RX_BUFFER = 256 };

typedef struct {
  dv_gw_t *gw;
  sc_wsfront_listener_t listener;
} dv_ws_state_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  sc_wsfront_conn_t ws; /* first: sc_wsfront_callback reads it */
  dv_conn_t conn;
} pss_t;

/* The kernel's smoothed RTT of the TCP connection under the WebSocket
 * (TLS included): the only round-trip figure our clients give us, since
 * they send no RTCP. Behind a reverse proxy it is the proxy's. */
static int64_t io_rtt_us(void *ctx) {
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  int fd = lws_get_socket_fd(((sc_wsfront_conn_t *)ctx)->q.wsi);
  if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
      len < offsetof(struct tcp_info, tcpi_rtt) + sizeof ti.tcpi_rtt)
    return 0;
  return (int64_t)ti.tcpi_rtt;
}

static const dv_io_t ws_io = {sc_wsfront_send_text, sc_wsfront_close, io_rtt_us,
                              sc_wsfront_send_binary};

static void on_established(struct lws *wsi, pss_t *p, dv_ws_state_t *st) {
  char buf[32];
  const char *v = lws_get_urlarg_by_name(wsi, "v=", buf, sizeof buf);
  int version = dv_gateway_version(v);
  sc_wsfront_open(&p->ws, wsi);
  dv_gw_open(&p->conn, st->gw, version < 0 ? 4 : version, &ws_io, &p->ws);
  if (version < 0) dv_conn_close(&p->conn, DV_CLOSE_BAD_REQUEST, "unsupported gateway version");
}

static void deliver(struct lws *wsi, pss_t *p, const char *buf, size_t len) {
  if (lws_frame_is_binary(wsi))
    dv_gw_binary(&p->conn, (const uint8_t *)buf, len);
  else
    dv_gw_text(&p->conn, buf, len);
}

/* Hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, dv_ws_state_t *st, const char *in, size_t len) {
  if (p->conn.closing) return;
  size_t max = dv_gw_max_frame(st->gw, lws_frame_is_binary(wsi));
  const char *msg;
  size_t n;
  switch (sc_wsfront_reassemble(&p->ws, wsi, in, len, max, &msg, &n)) {
    case SC_WSFRONT_PARTIAL: break;
    case SC_WSFRONT_TOO_BIG: dv_gw_oversize(&p->conn); break;
    case SC_WSFRONT_NO_MEMORY:
      dv_conn_close(&p->conn, DV_CLOSE_BAD_REQUEST, "out of memory");
      break;
    case SC_WSFRONT_COMPLETE:
      deliver(wsi, p, msg, n);
      sc_wsfront_message_done(&p->ws);
      break;
  }
}

static void on_closed(pss_t *p) {
  if (!p->ws.open) return;
  dv_gw_closed(&p->conn);
  sc_wsfront_release(&p->ws);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  dv_ws_state_t *st = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); return 0;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, st, in, len); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(p); return 0;
    default: return sc_wsfront_callback(wsi, reason, user, in);
  }
}

static const sc_wsfront_spec_t dv_ws_spec = {
    .name = "voice gateway",
    .protocol = "discord-voice",
    .callback = callback,
    .session_size = sizeof(pss_t),
    .rx_buffer = DV_WS_RX_BUFFER,
    /* Every session has its heartbeat deadline (dv_timer). */
    .listener_flags = SC_LISTENER_OWN_LIVENESS,
};

static int dv_start(sc_app_t *app, int slot) {
  dv_settings_t *set = dv_settings(app);
  if (dv_settings_resolve(app, set) < 0) return -1;
  dv_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  st->gw = dv_gw_create(app, app->lws);
  if (!st->gw) return -1;
  return sc_wsfront_listen(app, &st->listener, &dv_ws_spec, &set->gateway_listen, st);
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
