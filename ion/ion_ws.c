#include "ion_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "ion_proto.h"
#include "ion_settings.h"
#include "sc_frontend.h"
#include "sc_metrics.h"
#include "sc_wsfront.h"

enum { ION_WS_RX_BUFFER = 4096 /* SDP offers arrive in pieces, reassembled */ };

typedef struct {
  ion_proto_t proto;
  sc_wsfront_listener_t listener;
} ion_ws_state_t;

typedef struct {
  sc_wsfront_conn_t ws; /* first: sc_wsfront_callback reads it */
  ion_client_t client;
} pss_t;

static const ion_io_t ws_io = {sc_wsfront_send_text, sc_wsfront_close};

static void on_established(struct lws *wsi, pss_t *p, ion_ws_state_t *st) {
  char path[64] = "", token[ION_MSG_FIELD_MAX + 8], peer[ION_MSG_FIELD_MAX + 8];
  sc_wsfront_open(&p->ws, wsi);
  const char *t = lws_get_urlarg_by_name(wsi, "token=", token, sizeof token);
  const char *u = lws_get_urlarg_by_name(wsi, "peer=", peer, sizeof peer);
  int path_len = lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
  ion_client_open(&p->client, &st->proto, &ws_io, &p->ws, t, u);
  if (path_len <= 0 || (strcmp(path, "/ws") != 0 && strcmp(path, "/ws/") != 0))
    ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "unknown path (use /ws)");
}

/* Hands complete text messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, ion_ws_state_t *st, const char *in, size_t len) {
  if (p->client.conn.closing) return;
  if (lws_frame_is_binary(wsi)) {
    ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "binary frames are not protoo");
    return;
  }
  const char *msg;
  size_t n;
  switch (sc_wsfront_reassemble(&p->ws, wsi, in, len, st->proto.lim.max_message, &msg, &n)) {
    case SC_WSFRONT_PARTIAL: break;
    case SC_WSFRONT_TOO_BIG: /* counted and closed by the size check */
      ion_conn_admit(&p->client.conn, &st->proto.lim, n, sc_wsfront_now_ms());
      break;
    case SC_WSFRONT_NO_MEMORY:
      ion_conn_close(&p->client.conn, ION_CLOSE_FOR_GOOD, "out of memory");
      break;
    case SC_WSFRONT_COMPLETE:
      ion_client_text(&p->client, msg, n, sc_wsfront_now_ms());
      sc_wsfront_message_done(&p->ws);
      break;
  }
}

static void on_closed(pss_t *p) {
  if (!p->ws.open) return;
  ion_client_closed(&p->client);
  sc_wsfront_release(&p->ws);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  ion_ws_state_t *st = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, st); return 0;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, st, in, len); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(p); return 0;
    default: return sc_wsfront_callback(wsi, reason, user, in);
  }
}

static const sc_wsfront_spec_t ion_ws_spec = {
    .name = "ion/protoo",
    /* lws selects a protocol by the client's Sec-WebSocket-Protocol and
     * names it in the 101 answer. */
    .protocol = "protoo",
    .off_flag = "--ion-listen",
    .callback = callback,
    .session_size = sizeof(pss_t),
    .rx_buffer = ION_WS_RX_BUFFER,
};

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
  return sc_wsfront_listen(app, &st->listener, &ion_ws_spec, &set->ion_listen, st);
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
