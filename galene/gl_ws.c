#include "gl_ws.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gl_conn.h"
#include "gl_proto.h"
#include "gl_settings.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_metrics.h"
#include "sc_server.h"
#include "sc_wsq.h"

enum { GL_WS_RX_BUFFER = 4096, GL_WS_TX_PACKET = 16384 /* one TLS record */ };

typedef struct {
  sc_app_t *app;
  gl_settings_t *set;
  gl_counts_t counts;
  gl_proto_t proto;
  struct lws_protocols protocols[2];
} gl_front_t;

/* Per-connection data, allocated and zeroed by lws. */
typedef struct {
  gl_conn_t conn;
  sc_wsq_t q;
  char *rx; /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} pss_t;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int io_send_text(void *ctx, const char *text, size_t len) {
  pss_t *p = ctx;
  int rc = sc_wsq_push_text(&p->q, text, len);
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(p->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

static void io_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((pss_t *)ctx)->q, code, reason);
}

static const gl_io_t ws_io = {io_send_text, io_close};

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
  sc_server_conn_opened(wsi);
  sc_wsq_init(&p->q, wsi, 0);
  p->open = 1;
  gl_conn_init(&p->conn, f->app, &ws_io, p, &f->counts);
  f->counts.connections++;
}

static void deliver(struct lws *wsi, pss_t *p, gl_front_t *f, const char *buf, size_t len) {
  if (lws_frame_is_binary(wsi)) {
    gl_conn_refuse(&p->conn, GL_REFUSE_MALFORMED, "binary frames are not Galene messages");
    return;
  }
  gl_proto_text(&f->proto, &p->conn, buf, len);
}

/* Reassembles fragments; hands complete messages to the protocol. */
static void on_receive(struct lws *wsi, pss_t *p, gl_front_t *f, const char *in, size_t len) {
  if (p->conn.closing) return;
  int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
  /* Size is checked as bytes arrive; the rate once per message. */
  if (p->rx_len + len > f->set->max_message) {
    gl_conn_admit(&p->conn, p->rx_len + len, f->set->max_message, f->set->rate_limit,
                  f->set->rate_window_ms, now_ms());
    return;
  }
  if (final && gl_conn_admit(&p->conn, p->rx_len + len, f->set->max_message, f->set->rate_limit,
                             f->set->rate_window_ms, now_ms()) < 0)
    return;
  if (final && !p->rx_len) {
    deliver(wsi, p, f, in, len);
    return;
  }
  char *grown = realloc(p->rx, p->rx_len + len);
  if (!grown) {
    gl_conn_close(&p->conn, GL_CLOSE_TOO_BIG, "out of memory", -1);
    return;
  }
  p->rx = grown;
  memcpy(p->rx + p->rx_len, in, len);
  p->rx_len += len;
  if (final) {
    deliver(wsi, p, f, p->rx, p->rx_len);
    free(p->rx);
    p->rx = NULL;
    p->rx_len = 0;
  }
}

static void on_closed(pss_t *p, gl_front_t *f) {
  if (!p->open) return;
  gl_proto_closed(&f->proto, &p->conn);
  sc_wsq_clear(&p->q);
  free(p->rx);
  p->rx = NULL;
  p->open = 0;
  f->counts.connections--;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  pss_t *p = user;
  const struct lws_protocols *proto = lws_get_protocol(wsi);
  gl_front_t *f = proto ? proto->user : NULL;
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CLIENT);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return path_ok(wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED: on_established(wsi, p, f); break;
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, p, f, in, len); break;
    case LWS_CALLBACK_SERVER_WRITEABLE: return p->open ? sc_wsq_on_writeable(&p->q) : 0;
    case LWS_CALLBACK_CLOSED: on_closed(p, f); break;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: sc_server_tls_ctx_setup(user); break;
    case LWS_CALLBACK_HTTP: return sc_server_refuse_http(wsi);
    default: break;
  }
  return 0;
}

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
  f->protocols[0] = (struct lws_protocols){
      .name = "galene",
      .callback = callback,
      .per_session_data_size = sizeof(pss_t),
      .rx_buffer_size = GL_WS_RX_BUFFER,
      .user = f,
      .tx_packet_size = GL_WS_TX_PACKET,
  };
  if (sc_hostport_off(&set->galene_listen)) { /* the operator turned this dialect off */
    sc_log_info("galene", "listener off (--galene-listen off)");
    return 0;
  }
  return sc_server_add_listener(app, "galene", &set->galene_listen, f->protocols, 0) ? 0 : -1;
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
