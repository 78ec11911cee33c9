#include "ion_ws.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ion_proto.h"
#include "ion_settings.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_metrics.h"
#include "sc_server.h"
#include "sc_wsq.h"

enum { ION_WS_RX_BUFFER = 4096, ION_WS_TX_PACKET = 16384 /* one TLS record */ };

typedef struct {
  ion_proto_t proto;
  struct lws_protocols protocols[2];
} ion_ws_state_t;

typedef struct {
  ion_client_t client;
  sc_wsq_t q;
  char *rx; /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} pss_t;

static int io_send_text(void *ctx, const char *text, size_t len) {
  pss_t *p = ctx;
  int rc = sc_wsq_push_text(&p->q, text, len);
  /* Not reading its queue: its close frame could not get out either. */
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(p->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

static void io_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((pss_t *)ctx)->q, code, reason);
}

static const ion_io_t ws_io = {io_send_text, io_close};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_established(struct lws *wsi, pss_t *p, ion_ws_state_t *st) {
  char path[64] = "", token[ION_MSG_FIELD_MAX + 8], peer[ION_MSG_FIELD_MAX + 8];
  sc_server_conn_opened(wsi);
  sc_wsq_init(&p->q, wsi, 0);
  p->open = 1;
  const char *t = lws_get_urlarg_by_name(wsi, "token=", token, sizeof token);
  const char *u = lws_get_urlarg_by_name(wsi, "peer=", peer, sizeof peer);
  int path_len = lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
  ion_client_open(&p->client, &st->proto, &ws_io, p, t, u);
  if (path_len <= 0 || (strcmp(path, "/ws") != 0 && strcmp(path, "/ws/") != 0))
    ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "unknown path (use /ws)");
}

/* Reassembles fragments; hands complete text messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, ion_ws_state_t *st, const char *in, size_t len) {
  if (p->client.conn.closing) return;
  if (lws_frame_is_binary(wsi)) {
    ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "binary frames are not protoo");
    return;
  }
  int whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
              !lws_remaining_packet_payload(wsi);
  if (whole && !p->rx_len) {
    ion_client_text(&p->client, in, len, now_ms());
    return;
  }
  if (p->rx_len + len > st->proto.lim.max_message) {
    /* Counted and closed by the size check. */
    ion_conn_admit(&p->client.conn, &st->proto.lim, p->rx_len + len, now_ms());
    return;
  }
  char *grown = realloc(p->rx, p->rx_len + len);
  if (!grown) {
    ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "out of memory");
    return;
  }
  p->rx = grown;
  memcpy(p->rx + p->rx_len, in, len);
  p->rx_len += len;
  if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
    ion_client_text(&p->client, p->rx, p->rx_len, now_ms());
    free(p->rx); /* rare (large or fragmented messages): don't keep it idle */
    p->rx = NULL;
    p->rx_len = 0;
  }
}

static void on_closed(pss_t *p) {
  if (!p->open) return;
  ion_client_closed(&p->client);
  sc_wsq_clear(&p->q);
  free(p->rx);
  p->rx = NULL;
  p->open = 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  ion_ws_state_t *st = proto ? proto->user : NULL;
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

static int ion_start(sc_app_t *app, int slot) {
  ion_settings_t *set = ion_settings(app);
  if (ion_settings_resolve(app, set) < 0) return -1;
  ion_ws_state_t *st = calloc(1, sizeof *st);
  if (!st) return -1;
  app->frontend_state[slot] = st;
  st->proto.app = app;
  st->proto.ip = set->media_ip;
  st->proto.max_subs = (int)set->max_subscriptions;
  st->proto.lim = (ion_limits_t){set->max_message, set->rate_limit, set->rate_window_ms};
  st->protocols[0] = (struct lws_protocols){
      /* lws selects a protocol by the client's Sec-WebSocket-Protocol and
       * names it in the 101 answer. */
      .name = "protoo",
      .callback = callback,
      .per_session_data_size = sizeof(pss_t),
      .rx_buffer_size = ION_WS_RX_BUFFER, /* SDP offers arrive in pieces, reassembled */
      .user = st,
      .tx_packet_size = ION_WS_TX_PACKET,
  };
  if (sc_hostport_off(&set->ion_listen)) { /* the operator turned this dialect off */
    sc_log_info("ion/protoo", "listener off (--ion-listen off)");
    return 0;
  }
  return sc_server_add_listener(app, "ion/protoo", &set->ion_listen, st->protocols, 0) ? 0 : -1;
}

static void ion_destroy(sc_app_t *app, int slot) {
  free(app->frontend_state[slot]);
  app->frontend_state[slot] = NULL;
}

static struct json_t *ion_status(sc_app_t *app, int slot) {
  ion_ws_state_t *st = app->frontend_state[slot];
  return st ? ion_proto_status(&st->proto) : NULL;
}

static void ion_metrics(sc_app_t *app, int slot, sc_metrics_t *out) {
  ion_ws_state_t *st = app->frontend_state[slot];
  if (st) ion_proto_metrics(&st->proto, out);
}

static const sc_frontend_t ion_frontend = {
    .name = "ion/protoo",
    .order = 30,
    .start = ion_start,
    .destroy = ion_destroy,
    .settings = &ion_settings_table,
    .banner = ion_settings_banner,
    .status = ion_status,
    .metrics = ion_metrics,
};
SC_FRONTEND_REGISTER(ion_frontend);
