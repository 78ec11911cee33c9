#include "gl_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "gl_conn.h"
#include "gl_proto.h"
#include "gl_settings.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_metrics.h"
#include "sc_wsfront.h"

enum { GL_WS_RX_BUFFER = 4096 };

typedef struct {
  sc_app_t *app;
  gl_settings_t *set;
  gl_counts_t counts;
  gl_proto_t proto;
  sc_wsfront_listener_t listener;
} gl_front_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  sc_wsfront_conn_t ws; /* first: sc_wsfront_callback reads it */
  gl_conn_t conn;
} pss_t;

static const gl_io_t ws_io = {sc_wsfront_send_text, sc_wsfront_close};

/* Only GET /ws upgrades (Galène's endpoint); anything else is refused
 * before the handshake completes. */
static int path_ok(struct lws *wsi) {
  char uri[64];
  int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
  if (n <= 0) return 0;
  char *q = strchr(uri, '?');
  if (q) *q = '\0';
  return strcmp(uri, GL_WS_PATH) == 0 || strcmp(uri, GL_WS_PATH "/") == 0;
}

static void on_established(struct lws *wsi, pss_t *p, gl_front_t *f) {
  sc_wsfront_open(&p->ws, wsi);
  gl_conn_init(&p->conn, f->app, &ws_io, &p->ws, &f->counts);
  f->counts.connections++;
}

/* Size is checked as bytes arrive (gl_conn_admit closes); the rate once
 * per message. */
static int admit(pss_t *p, gl_front_t *f, size_t len) {
  return gl_conn_admit(&p->conn, len, f->set->max_message, f->set->rate_limit,
                       f->set->rate_window_ms, sc_wsfront_now_ms());
}

static void deliver(struct lws *wsi, pss_t *p, gl_front_t *f, const char *buf, size_t len) {
  if (admit(p, f, len) < 0) return;
  if (lws_frame_is_binary(wsi)) {
    gl_conn_refuse(&p->conn, GL_REFUSE_MALFORMED, "binary frames are not Galene messages");
    return;
  }
  gl_proto_text(&f->proto, &p->conn, buf, len);
}

/* Hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, gl_front_t *f, const char *in, size_t len) {
  if (p->conn.closing) return;
  const char *msg;
  size_t n;
  switch (sc_wsfront_reassemble(&p->ws, wsi, in, len, f->set->max_message, &msg, &n)) {
    case SC_WSFRONT_PARTIAL: break;
    case SC_WSFRONT_TOO_BIG: admit(p, f, n); break;
    case SC_WSFRONT_NO_MEMORY:
      gl_conn_close(&p->conn, GL_CLOSE_TOO_BIG, "out of memory", -1);
      break;
    case SC_WSFRONT_COMPLETE:
      deliver(wsi, p, f, msg, n);
      sc_wsfront_message_done(&p->ws);
      break;
  }
}

static void on_closed(pss_t *p, gl_front_t *f) {
  if (!p->ws.open) return;
  gl_proto_closed(&f->proto, &p->conn);
  sc_wsfront_release(&p->ws);
  f->counts.connections--;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  gl_front_t *f = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return path_ok(wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, f); return 0;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, f, in, len); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(p, f); return 0;
    default: return sc_wsfront_callback(wsi, reason, user, in);
  }
}

static const sc_wsfront_spec_t gl_ws_spec = {
    .name = "galene",
    .protocol = "galene",
    .off_flag = "--galene-listen",
    .callback = callback,
    .session_size = sizeof(pss_t),
    .rx_buffer = GL_WS_RX_BUFFER,
};

static int gl_start(sc_app_t *app, int slot) {
  gl_settings_t *set = gl_settings(app);
  if (!app->media || !app->dtls) {
    sc_log_warn("galene", "no media plane or DTLS context: the Galene listener stays off");
    return 0;
  }
  if (gl_settings_resolve(app, set) < 0) return -1;
  gl_front_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  app->frontend_state[slot] = f;
  f->app = app;
  f->set = set;
  f->proto.media_ip = set->media_ip;
  return sc_wsfront_listen(app, &f->listener, &gl_ws_spec, &set->galene_listen, f);
}

static void gl_destroy(sc_app_t *app, int slot) {
  free(app->frontend_state[slot]);
  app->frontend_state[slot] = NULL;
}

static json_t *gl_status(sc_app_t *app, int slot) {
  gl_front_t *f = app->frontend_state[slot];
  if (!f) return NULL;
  const gl_counts_t *c = &f->counts;
  json_t *received = json_object(), *refused = json_object();
  for (int i = 1; i < GL_T_COUNT; i++)
    json_object_set_new(received, gl_msg_type_name(i), json_integer((json_int_t)c->received[i]));
  json_object_set_new(received, "unknown", json_integer((json_int_t)c->received[0]));
  for (int i = 0; i < GL_REFUSE_COUNT; i++)
    json_object_set_new(refused, gl_conn_refuse_name(i), json_integer((json_int_t)c->refused[i]));
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "connections",
                   (json_int_t)c->connections, "sessions", (json_int_t)c->sessions, "up_streams",
                   (json_int_t)c->up_streams, "down_streams", (json_int_t)c->down_streams, "joins",
                   (json_int_t)c->joins, "up_answers", (json_int_t)c->up_answers, "down_offers",
                   (json_int_t)c->down_offers, "down_answers", (json_int_t)c->down_answers,
                   "received", received, "refused", refused);
}

static void gl_metrics(sc_app_t *app, int slot, sc_metrics_t *m) {
  gl_front_t *f = app->frontend_state[slot];
  if (!f) return;
  const gl_counts_t *c = &f->counts;
  sc_metrics_gauge(m, "litecord_voice_galene_sessions", "Galene clients joined to a voice state",
                   (double)c->sessions);
  sc_metrics_gauge(m, "litecord_voice_galene_down_streams",
                   "Galene down streams (one per client and speaker)", (double)c->down_streams);
  sc_metrics_counter(m, "litecord_voice_galene_joins_total", "Galene joins accepted", c->joins);
  sc_metrics_family(m, "litecord_voice_galene_refused_total", SC_METRIC_COUNTER,
                    "Galene messages refused, by reason (docs/GALENE.md)");
  for (int i = 0; i < GL_REFUSE_COUNT; i++) {
    sc_label_t l = {"reason", gl_conn_refuse_name(i)};
    sc_metrics_sample_u64(m, &l, 1, c->refused[i]);
  }
}

static const sc_frontend_t gl_frontend = {
    .name = "galene",
    .order = 30,
    .start = gl_start,
    .destroy = gl_destroy,
    .settings = &gl_settings_table,
    .banner = gl_settings_banner,
    .status = gl_status,
    .metrics = gl_metrics,
};
SC_FRONTEND_REGISTER(gl_frontend);
