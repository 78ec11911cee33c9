#include "sc_admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_admin_metrics.h"
#include "sc_admin_state.h"
#include "sc_dashboard.h"
#include "sc_log.h"
#include "sc_pending.h"
#include "sc_server.h"
#include "sc_statedir.h"
#include "sc_token.h"

#define LOG "admin"
#define CHUNK 16384
#define TOKEN_FILE "admin_token"
#define DEFAULT_HOST "127.0.0.1" /* --admin-listen's default (sc_config.c) */
#define DEFAULT_PORT 7703
/* Admin connections without an authorized request held at once. */
#define SC_ADMIN_PENDING_CAP 4
#define METRICS_PATH "/metrics"
#define READY_PATH "/ready"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One HTTP connection: the response being written (lws per-session data,
 * zeroed by lws). */
typedef struct {
  const char *body; /* NULL when no response is pending */
  char *owned;      /* body when allocated (freed with the response); NULL for a page file */
  size_t len, off;
  /* POST /log-level, authorized: its body as it arrives. */
  int reading;
  size_t in_len;
  int in_overflow;
  char in[SC_ADMIN_BODY_MAX];
} admin_sess_t;

static void sess_clear(admin_sess_t *s) {
  free(s->owned);
  s->owned = NULL;
  s->body = NULL;
}

typedef json_t *(*route_fn)(sc_app_t *app);

static const struct {
  const char *path;
  route_fn fn;
} routes[] = {
    {"/state", sc_admin_state_json},
    {"/health", sc_admin_health_json},
};

/* === Start-up =========================================================== */

int sc_admin_is_loopback(const char *host) {
  struct in_addr a4;
  if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) return 1;
  return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

void sc_admin_url(const sc_app_t *app, char *out, size_t size) {
  const sc_hostport_t *l = &app->cfg.admin_listen;
  int tls = !sc_admin_is_loopback(l->host) && !app->cfg.no_tls;
  int v6 = strchr(l->host, ':') != NULL;
  snprintf(out, size, "%s://%s%s%s:%u", tls ? "https" : "http", v6 ? "[" : "", l->host,
           v6 ? "]" : "", l->port);
}

int sc_admin_prepare(sc_app_t *app) {
  sc_config_t *c = &app->cfg;
  int created = 0;
  if (c->admin_token[0]) return 0;
  if (sc_statedir_named_secret(c->state_dir, TOKEN_FILE, c->admin_token, sizeof c->admin_token,
                               &created) < 0) {
    fprintf(stderr, "litecord-voice: cannot read or create %s/%s\n", c->state_dir, TOKEN_FILE);
    return -1;
  }
  if (created) printf("Generated admin token: %s/%s\n", c->state_dir, TOKEN_FILE);
  return 0;
}

/* === Unauthenticated connections ======================================== */

static const struct lws_protocols admin_protocols[];

static sc_pending_t *pending_of(struct lws *wsi) {
  return lws_protocol_vh_priv_get(lws_get_vhost(wsi), &admin_protocols[0]);
}

/* Every connection is pending from accept until its first authorized
 * request; over the cap the oldest is dropped at once (sc_pending.h). The
 * deadline is lws's, set short on this vhost (sc_server_control_timeouts):
 * an incomplete request, or an idle keep-alive connection, is closed
 * after SC_PENDING_TIMEOUT_MS. */
static void on_accepted(struct lws *wsi) {
  sc_pending_t *p = pending_of(wsi);
  if (!p) return;
  int64_t now = (int64_t)(lws_now_usecs() / 1000);
  struct lws *old = sc_pending_add(p, wsi, sc_pending_src(lws_get_socket_fd(wsi)), now);
  if (!old) return;
  lws_set_timeout(old, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  if (!sc_pending_log_due(p, now)) return;
  sc_log_warn(LOG,
              "dropped %llu admin connection(s) without an authorized request (over %zu at once)",
              (unsigned long long)p->unlogged, p->cap);
  sc_pending_logged(p, now);
}

static void on_wsi_destroy(struct lws *wsi) {
  sc_pending_t *p = pending_of(wsi);
  if (p) sc_pending_remove(p, wsi);
}

/* === Requests =========================================================== */

/* "Bearer <token>", compared in constant time. */
static int authorized(struct lws *wsi, const sc_app_t *app) {
  char hdr[SC_SECRET_MAX + 16];
  int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (n <= 7 || strncasecmp(hdr, "Bearer ", 7) != 0) return 0;
  return app->cfg.admin_token[0] && sc_token_equal(app->cfg.admin_token, hdr + 7);
}

static json_t *error_body(const char *why) {
  return json_pack("{s:s}", "error", why);
}

/* POST /drain: starts a drain (or finds one running) and answers with
 * the drain's state. */
static unsigned post_drain(sc_app_t *app, json_t **body) {
  int started = sc_server_begin_drain(app, "admin request");
  json_t *st = sc_admin_drain_json(app);
  *body = st ? json_pack("{s:b,s:o}", "started", started, "drain", st) : NULL;
  if (*body) return HTTP_STATUS_OK;
  *body = error_body("out of memory");
  return HTTP_STATUS_INTERNAL_SERVER_ERROR;
}

int sc_admin_parse_log_level(const char *buf, size_t len, sc_log_level_t *out) {
  json_error_t err;
  if (len > SC_ADMIN_BODY_MAX) return -EINVAL;
  json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  const char *name = json_string_value(json_object_get(o, "level"));
  int rc =
      json_is_object(o) && json_object_size(o) == 1 && name && sc_log_parse_level(name, out) == 0
          ? 0
          : -EINVAL;
  json_decref(o);
  return rc;
}

static int answer_now(struct lws *wsi, unsigned status, const char *text, size_t len);

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* The end of an authorized POST /log-level body: the answer (the
 * connection closes after it). */
static int finish_log_level(struct lws *wsi, admin_sess_t *s) {
  sc_log_level_t level, was = sc_log_get_level();
  json_t *body;
  unsigned status = HTTP_STATUS_OK;
  s->reading = 0;
  if (s->in_overflow || sc_admin_parse_log_level(s->in, s->in_len, &level) < 0) {
    status = HTTP_STATUS_BAD_REQUEST;
    body = error_body("want {\"level\": \"error\"|\"warn\"|\"info\"|\"debug\"}");
  } else {
    sc_log_set_level(level);
    sc_log_write(SC_LOG_INFO, LOG, "log level %s (was %s) by admin request", level_names[level],
                 level_names[was]);
    body = json_pack("{s:s,s:s}", "level", level_names[level], "previous", level_names[was]);
  }
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) return -1;
  int rc = answer_now(wsi, status, text, strlen(text));
  free(text);
  return rc;
}

static int on_body(admin_sess_t *s, const char *in, size_t len) {
  if (!s->reading) return 0;
  if (len > sizeof s->in - s->in_len) {
    s->in_overflow = 1;
    return 0;
  }
  memcpy(s->in + s->in_len, in, len);
  s->in_len += len;
  return 0;
}

/* Decides status and body for one request. *now: answer at once and
 * close (a request with a body we do not read). */
static unsigned route(struct lws *wsi, const char *uri, json_t **body, int *now) {
  sc_app_t *app = sc_server_app(wsi);
  int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  if (post && strcmp(uri, "/drain") == 0) {
    *now = 1;
    if (authorized(wsi, app)) return post_drain(app, body);
    *body = error_body("bearer token required");
    return HTTP_STATUS_UNAUTHORIZED;
  }
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
    *now = 1;
    *body = error_body("only GET (and POST /drain, POST /log-level)");
    return HTTP_STATUS_METHOD_NOT_ALLOWED;
  }
  if (!authorized(wsi, app)) {
    *body = error_body("bearer token required");
    return HTTP_STATUS_UNAUTHORIZED;
  }
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    if (strcmp(uri, routes[i].path) != 0) continue;
    *body = routes[i].fn(app);
    if (*body) return HTTP_STATUS_OK;
    *body = error_body("out of memory");
    return HTTP_STATUS_INTERNAL_SERVER_ERROR;
  }
  *body = error_body(
      "not found: try /state, /health, /ready, /metrics or /dashboard (or POST /drain, "
      "/log-level)");
  return HTTP_STATUS_NOT_FOUND;
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
  return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
                                     (int)strlen(value), p, end);
}

/* The dashboard's files are kept to their own origin, unframed. */
static int add_page_headers(struct lws *wsi, unsigned char **p, unsigned char *end) {
  return add_header(wsi, "content-security-policy:", SC_DASHBOARD_CSP, p, end) ||
         add_header(wsi, "referrer-policy:", "no-referrer", p, end) ||
         add_header(wsi, "x-frame-options:", "DENY", p, end);
}

/* close: the connection closes after this answer (say so, or a
 * keep-alive client would send its next request into the closing socket).
 * page: a dashboard file (sc_dashboard.h), with its security headers. */
static int write_headers_page(struct lws *wsi, unsigned status, const char *type, size_t len,
                              int close, int page) {
  unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start;
  unsigned char *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end) ||
      add_header(wsi, "cache-control:", "no-store", &p, end) ||
      add_header(wsi, "x-content-type-options:", "nosniff", &p, end))
    return -1;
  if (page && add_page_headers(wsi, &p, end)) return -1;
  if (status == HTTP_STATUS_UNAUTHORIZED &&
      add_header(wsi, "www-authenticate:", "Bearer realm=\"litecord-voice admin\"", &p, end))
    return -1;
  if (status == HTTP_STATUS_METHOD_NOT_ALLOWED && add_header(wsi, "allow:", "GET, POST", &p, end))
    return -1;
  if (close && add_header(wsi, "connection:", "close", &p, end)) return -1;
  return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static int write_headers_typed(struct lws *wsi, unsigned status, const char *type, size_t len,
                               int close) {
  return write_headers_page(wsi, status, type, len, close, 0);
}

static int write_headers(struct lws *wsi, unsigned status, size_t len, int close) {
  return write_headers_typed(wsi, status, "application/json", len, close);
}

/* A request with a body (not GET): answered at once, whole, and the
 * connection closed, rather than reading a body nobody wants. */
static int answer_now(struct lws *wsi, unsigned status, const char *text, size_t len) {
  unsigned char buf[LWS_PRE + 1024];
  if (len > sizeof buf - LWS_PRE || write_headers(wsi, status, len, 1) < 0) return -1;
  memcpy(buf + LWS_PRE, text, len);
  lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
  return -1;
}

/* Queues a response body (taken) and its headers. */
static int respond(struct lws *wsi, admin_sess_t *s, unsigned status, const char *type,
                   char *text) {
  sess_clear(s);
  s->body = s->owned = text;
  s->len = strlen(text);
  s->off = 0;
  if (write_headers_typed(wsi, status, type, s->len, 0) < 0) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

/* GET of a dashboard file: served without a token (it holds no data; the
 * page sends the token with its own requests). It does not count as an
 * authorized request: the connection stays pending (capped, timed out). */
static int on_page(struct lws *wsi, admin_sess_t *s, const sc_dashboard_file_t *f) {
  sess_clear(s);
  s->body = (const char *)f->data;
  s->len = f->len;
  s->off = 0;
  sc_log_debug(LOG, "%s -> 200", f->path);
  if (write_headers_page(wsi, HTTP_STATUS_OK, f->type, f->len, 0, 1) < 0) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

/* GET /metrics: open on a loopback listener (a local Prometheus or agent
 * scrapes it without a secret; the numbers carry no ids), the bearer
 * token everywhere else (docs/ADMIN.md "Metrics"). */
static int on_metrics(struct lws *wsi, admin_sess_t *s) {
  sc_app_t *app = sc_server_app(wsi);
  if (!sc_admin_is_loopback(app->cfg.admin_listen.host) && !authorized(wsi, app))
    return -2; /* the JSON path answers 401 */
  sc_pending_t *p = pending_of(wsi);
  if (p) sc_pending_remove(p, wsi);
  sc_metrics_t m;
  sc_metrics_init(&m);
  char *text = sc_admin_metrics_render_app(app, &m) == 0 ? m.buf : NULL;
  sc_log_debug(LOG, "%s -> %u", METRICS_PATH, text ? 200u : 500u);
  if (!text) {
    sc_metrics_free(&m);
    text = strdup("out of memory\n");
    if (!text) return -1;
    return respond(wsi, s, HTTP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", text);
  }
  m.buf = NULL; /* the session owns it now */
  sc_metrics_free(&m);
  return respond(wsi, s, HTTP_STATUS_OK, METRICS_TYPE, text);
}

/* GET /ready: 200 when a new call could start here, 503 while draining
 * or at a limit (docs/OPERATIONS.md "Readiness"). Served without a token,
 * for load balancers and orchestrators that cannot send one: it tells
 * only yes or no and why. Like a page, it leaves the connection pending. */
static int on_ready(struct lws *wsi, admin_sess_t *s) {
  int ready = 0;
  json_t *body = sc_admin_ready_json(sc_server_app(wsi), &ready);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) return -1;
  unsigned status = ready ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
  sc_log_debug(LOG, "%s -> %u", READY_PATH, status);
  return respond(wsi, s, status, "application/json", text);
}

static int refuse_now(struct lws *wsi, unsigned status, const char *why) {
  json_t *b = error_body(why);
  char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
  json_decref(b);
  if (text) answer_now(wsi, status, text, strlen(text));
  free(text);
  return -1;
}

/* POST /log-level: the body is read (on_body) only for an authorized
 * request that says its length (lws reads no chunked bodies), up to
 * SC_ADMIN_BODY_MAX; anything else is answered at once and closed. */
static int on_log_level(struct lws *wsi, admin_sess_t *s) {
  char len[24];
  if (!authorized(wsi, sc_server_app(wsi)))
    return refuse_now(wsi, HTTP_STATUS_UNAUTHORIZED, "bearer token required");
  sc_pending_t *p = pending_of(wsi);
  if (p) sc_pending_remove(p, wsi);
  if (lws_hdr_copy(wsi, len, sizeof len, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
    return refuse_now(wsi, HTTP_STATUS_LENGTH_REQUIRED, "Content-Length required");
  char *end;
  unsigned long n = strtoul(len, &end, 10);
  if (*end || n > SC_ADMIN_BODY_MAX)
    return refuse_now(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body over 256 bytes");
  s->reading = 1;
  s->in_len = 0;
  s->in_overflow = 0;
  return n ? 0 : finish_log_level(wsi, s);
}

static int on_http(struct lws *wsi, admin_sess_t *s, const char *uri) {
  if (uri && strcmp(uri, "/log-level") == 0 && lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
    return on_log_level(wsi, s);
  int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
  const sc_dashboard_file_t *page = get && uri ? sc_dashboard_find(uri) : NULL;
  if (page) return on_page(wsi, s, page);
  if (uri && strcmp(uri, READY_PATH) == 0 && get) return on_ready(wsi, s);
  if (uri && strcmp(uri, METRICS_PATH) == 0 && get) {
    int rc = on_metrics(wsi, s);
    if (rc != -2) return rc;
  }
  json_t *body = NULL;
  int now = 0;
  unsigned status = route(wsi, uri ? uri : "", &body, &now);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) return -1;
  sc_log_debug(LOG, "%s -> %u", uri ? uri : "", status);
  if (status != HTTP_STATUS_UNAUTHORIZED && status != HTTP_STATUS_METHOD_NOT_ALLOWED) {
    sc_pending_t *p = pending_of(wsi);
    if (p) sc_pending_remove(p, wsi); /* authorized */
  }
  if (now) {
    int rc = answer_now(wsi, status, text, strlen(text));
    free(text);
    return rc;
  }
  sess_clear(s);
  s->body = s->owned = text;
  s->len = strlen(text);
  s->off = 0;
  if (write_headers(wsi, status, s->len, 0) < 0) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

/* One chunk per writable callback, copied behind LWS_PRE headroom. */
static int on_writeable(struct lws *wsi, admin_sess_t *s) {
  unsigned char buf[LWS_PRE + CHUNK];
  if (!s->body) return 0;
  size_t n = s->len - s->off < CHUNK ? s->len - s->off : CHUNK;
  int final = s->off + n == s->len;
  memcpy(buf + LWS_PRE, s->body + s->off, n);
  if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
    return -1;
  s->off += n;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  sess_clear(s);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  admin_sess_t *s = user;
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CONTROL);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: on_accepted(wsi); return 0;
    case LWS_CALLBACK_WSI_DESTROY: on_wsi_destroy(wsi); return 0;
    case LWS_CALLBACK_HTTP: return on_http(wsi, s, in);
    case LWS_CALLBACK_HTTP_BODY: return s ? on_body(s, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return s && s->reading ? finish_log_level(wsi, s) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE: return on_writeable(wsi, s);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return -1; /* no WebSockets here */
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
      sc_server_tls_ctx_setup(user);
      return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
      if (s) sess_clear(s);
      return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static const struct lws_protocols admin_protocols[] = {
    {"http", admin_callback, sizeof(admin_sess_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* === Listener ============================================================ */

int sc_admin_start(sc_app_t *app) {
  const sc_config_t *c = &app->cfg;
  const sc_hostport_t *l = &c->admin_listen;
  int tls = !sc_admin_is_loopback(l->host) && !c->no_tls;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.vhost_name = "admin";
  info.port = l->port;
  info.iface = strcmp(l->host, "0.0.0.0") == 0 ? NULL : l->host;
  info.protocols = admin_protocols;
  info.user = app;
  sc_server_control_timeouts(&info);
  if (tls) {
    sc_server_vhost_tls(app, &info); /* before, the listener spoke plain HTTP */
  } else if (!sc_admin_is_loopback(l->host)) {
    sc_log_warn(LOG, "admin API in plain HTTP on %s (--no-tls): keep it behind TLS", l->host);
  }
  struct lws_vhost *vh = lws_create_vhost(app->lws, &info);
  sc_pending_t *p = vh ? lws_protocol_vh_priv_zalloc(vh, &admin_protocols[0], sizeof *p) : NULL;
  if (p) sc_pending_init(p, SC_ADMIN_PENDING_CAP);
  if (!vh) {
    /* Launchers that predate the admin API pick free ports for the other
     * listeners only; several servers on one host must not fail for it. */
    if (strcmp(l->host, DEFAULT_HOST) == 0 && l->port == DEFAULT_PORT) {
      sc_log_warn(LOG, "admin API disabled: %s:%u is busy (give --admin-listen)", l->host, l->port);
      return 0;
    }
    sc_log_error(LOG, "cannot listen on %s:%u for the admin API (address in use?)", l->host,
                 l->port);
    return -1;
  }
  char url[SC_HOST_MAX + 32];
  sc_admin_url(app, url, sizeof url);
  sc_log_info(LOG, "admin API on %s/state (bearer token)", url);
  return 0;
}
