#include "sc_server.h"

#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sc_log.h"
#include "sc_pending.h"
#include "sc_service.h"

/* Forward-secret AEAD suites only; 1.3 has OpenSSL's three. ChaCha20-
 * Poly1305 comes first (lws makes the server's order win): its record
 * state is ~0.4 KiB smaller per connection than AES-GCM's, held by every
 * idle session, while AES-NI's speed buys nothing at the few messages a
 * voice gateway socket carries. Clients without it get AES-GCM. */
#define SC_TLS12_CIPHERS "ECDHE+CHACHA20:ECDHE+AESGCM"
#define SC_TLS13_CIPHERS \
  "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
/* TLS 1.3 session tickets sent per connection (sc_server_tls_ctx_setup). */
#define SC_TLS13_TICKETS 1

/* The app pointer for signal handlers: the only process-wide pointer, set
 * once before the loop runs, because a signal handler has no argument. */
static sc_app_t *signal_app;

/* Only flags are set here; the loop acts on them (async-signal safety).
 * SIGTERM: the first asks for a drain, the second stops at once. SIGINT
 * (Ctrl-C in a terminal) stops at once. */
static void on_signal(int sig) {
  if (!signal_app) return;
  if (sig == SIGHUP)
    signal_app->reload_requested = 1;
  else if (sig == SIGTERM && signal_app->term_signals++ == 0)
    signal_app->drain_requested = 1;
  else
    signal_app->stop_requested = 1;
  if (signal_app->lws) lws_cancel_service(signal_app->lws);
}

static void lws_log_emit(int level, const char *line) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", line);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  sc_log_write(level == LLL_ERR ? SC_LOG_ERROR : SC_LOG_WARN, "lws", "%s", buf);
}

int sc_server_check_tls(const char *cert, const char *key, char *why, size_t why_size) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  const char *problem = NULL;
  if (!ctx)
    problem = "cannot create a TLS context";
  else if (access(cert, R_OK) != 0)
    problem = "cannot read the TLS certificate";
  else if (access(key, R_OK) != 0)
    problem = "cannot read the TLS key";
  else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
    problem = "the TLS certificate is not a valid PEM certificate";
  else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    problem = "the TLS key is not a valid PEM private key";
  else if (SSL_CTX_check_private_key(ctx) != 1)
    problem = "the TLS key does not match the certificate";
  if (problem) snprintf(why, why_size, "%s (%s, %s)", problem, cert, key);
  ERR_clear_error();
  SSL_CTX_free(ctx);
  return problem ? -1 : 0;
}

/* Runs once per loop pass, before the loop sleeps: one eventfd write per
 * media worker that was sent commands during the pass. */
static void flush_media_wakeups(struct ev_loop *loop, ev_prepare *w, int revents) {
  (void)loop;
  (void)revents;
  sc_media_flush_wakeups(((sc_app_t *)w->data)->media);
}

static int start_media_flush(sc_app_t *app) {
  if (!app->media) return 0;
  app->media_flush = malloc(sizeof *app->media_flush);
  if (!app->media_flush) return -1;
  ev_prepare_init(app->media_flush, flush_media_wakeups);
  app->media_flush->data = app;
  ev_prepare_start(app->loop, app->media_flush);
  sc_media_defer_wakeups(app->media, 1);
  return 0;
}

static void stop_media_flush(sc_app_t *app) {
  if (!app->media_flush) return;
  ev_prepare_stop(app->loop, app->media_flush);
  free(app->media_flush);
  app->media_flush = NULL;
  sc_media_defer_wakeups(app->media, 0); /* flushes what is owed */
}

int sc_server_create(sc_app_t *app) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  lws_set_log_level(LLL_ERR | (app->cfg.log_level >= SC_LOG_DEBUG ? LLL_WARN : 0), lws_log_emit);
  /* lws's own loop is poll(): every wake-up (one heartbeat) walked every
   * connection, ~2 ms of the control thread with 4,500 TLS sessions, and
   * since both the wake-ups and the walk grow with the sessions, idle
   * sessions alone would fill a core near 8,000. libev's epoll backend
   * costs what is ready. The loop is ours ("foreign"): lws leaves the
   * signals to us and sc_server_service runs one pass at a time. */
  app->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
  if (!app->loop) {
    sc_log_error("server", "cannot create the event loop (libev)");
    return -1;
  }
  /* Before the context: lws sizes its fd table by the soft limit. */
  if (sc_fdlimit_apply(&app->fdlimit, sc_config_max_connections(&app->cfg)) < 0 ||
      start_media_flush(app) < 0) {
    ev_loop_destroy(app->loop);
    app->loop = NULL;
    return -1;
  }
  void *foreign_loops[1] = {app->loop};
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                 LWS_SERVER_OPTION_LIBEV;
  info.foreign_loops = foreign_loops;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = app;
  app->lws = lws_create_context(&info);
  if (!app->lws) {
    sc_log_error("server",
                 "cannot create the libwebsockets context (libev event library: "
                 "package libwebsockets-evlib-ev)");
    stop_media_flush(app);
    ev_loop_destroy(app->loop);
    app->loop = NULL;
    return -1;
  }
  signal_app = app;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* lws reports a busy port only in its own log; check first so the admin
 * gets one clear line. */
static int check_port_free(const sc_hostport_t *l) {
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[8];
  snprintf(service, sizeof service, "%u", l->port);
  int rc = getaddrinfo(l->host, service, &hints, &res);
  if (rc != 0) {
    sc_log_error("server", "listen address %s: %s", l->host, gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, ok = fd >= 0;
  if (ok) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ok && bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
    sc_log_error("server", "cannot listen on %s:%u: %s", l->host, l->port, strerror(errno));
    ok = 0;
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(res);
  return ok ? 0 : -1;
}

/* SC_LISTENER_OWN_LIVENESS: lws's validity timer off (a zero hangup time
 * is lws's "off"). Its default re-arms a 300 s timer per connection, and
 * lws keeps timers in one sorted list, so each re-arm walked every
 * connection: with it on, a join cost the control thread 1.17 ms instead
 * of 0.73 ms at 4,500 TLS sessions (docs/BENCHMARKS.md). */
static const lws_retry_bo_t no_validity_timer = {.secs_since_valid_ping = 0,
                                                 .secs_since_valid_hangup = 0};

void sc_server_vhost_tls(const sc_app_t *app, struct lws_context_creation_info *info) {
  /* Without this option lws creates the vhost without TLS, silently. */
  info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info->ssl_cert_filepath = app->cfg.tls_cert;
  info->ssl_private_key_filepath = app->cfg.tls_key;
  /* Our floor, whatever the system's OpenSSL configuration says:
   * TLS 1.2+, forward-secret AEAD suites only, no renegotiation. */
  info->ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                          SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
  info->ssl_cipher_list = SC_TLS12_CIPHERS;
  info->tls1_3_plus_cipher_list = SC_TLS13_CIPHERS;
}

struct lws_vhost *sc_server_add_listener(sc_app_t *app, const char *name,
                                         const sc_hostport_t *listen,
                                         const struct lws_protocols *protocols, unsigned flags) {
  if (check_port_free(listen) < 0) return NULL;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.vhost_name = name;
  info.port = listen->port;
  /* lws takes an interface name or address; NULL means every address. */
  info.iface = strcmp(listen->host, "0.0.0.0") == 0 ? NULL : listen->host;
  info.protocols = protocols;
  info.user = app;
  if (flags & SC_LISTENER_OWN_LIVENESS) info.retry_and_idle_policy = &no_validity_timer;
  if (flags & SC_LISTENER_CONTROL) sc_server_control_timeouts(&info);
  if (!app->cfg.no_tls) sc_server_vhost_tls(app, &info);
  struct lws_vhost *vh = lws_create_vhost(app->lws, &info);
  if (!vh)
    sc_log_error("server", "cannot create the %s listener on %s:%u", name, listen->host,
                 listen->port);
  else
    sc_log_info("server", "%s listening on %s://%s:%u/", name, app->cfg.no_tls ? "ws" : "wss",
                listen->host, listen->port);
  return vh;
}

void sc_server_control_timeouts(struct lws_context_creation_info *info) {
  info->timeout_secs = SC_PENDING_TIMEOUT_MS / 1000;
  info->timeout_secs_ah_idle = SC_PENDING_TIMEOUT_MS / 1000;
  info->keepalive_timeout = SC_PENDING_TIMEOUT_MS / 1000;
}

int sc_server_admit(struct lws *wsi, void *in, sc_admit_class_t cls) {
  int fd = (int)(intptr_t)in;
  int64_t now_ms = (int64_t)(lws_now_usecs() / 1000); /* CLOCK_MONOTONIC */
  return sc_fdlimit_admit(&sc_server_app(wsi)->fdlimit, fd, cls, now_ms) ? 0 : -1;
}

void sc_server_conn_opened(struct lws *wsi) {
  SSL *ssl = lws_get_ssl(wsi);
  if (!ssl) return;
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
}

void sc_server_tls_ctx_setup(struct ssl_ctx_st *ctx) {
  if (ctx) SSL_CTX_set_num_tickets(ctx, SC_TLS13_TICKETS);
}

sc_app_t *sc_server_app(struct lws *wsi) {
  return lws_context_user(lws_get_context(wsi));
}

int sc_server_reload_tls(sc_app_t *app) {
  const sc_config_t *c = &app->cfg;
  char why[2 * SC_PATH_MAX + 128];
  if (c->no_tls) {
    sc_log_info("server", "SIGHUP: --no-tls, no certificate to reload");
    return 0;
  }
  /* Checked first: lws loads the certificate and then the key into the
   * live context, so a bad pair would leave new connections failing. */
  if (sc_server_check_tls(c->tls_cert, c->tls_key, why, sizeof why) < 0) {
    sc_log_error("server", "SIGHUP: keeping the current certificate: %s", why);
    return -1;
  }
  /* Every vhost created with this pair gets it in its SSL_CTX; existing
   * connections keep the certificate they were accepted with. */
  lws_tls_cert_updated(app->lws, c->tls_cert, c->tls_key, NULL, 0, NULL, 0);
  sc_log_info("server", "SIGHUP: TLS certificate reloaded from %s", c->tls_cert);
  return 0;
}

void sc_server_service(sc_app_t *app, int wait) {
  ev_run(app->loop, wait ? EVRUN_ONCE : EVRUN_NOWAIT);
}

/* === Drain =============================================================== */

/* How often a drain checks whether it is over: an exit within this of
 * the last voice state ending; a few cheap wake-ups a second. */
#define DRAIN_CHECK_S 0.1
/* A progress line while draining, this often. */
#define DRAIN_LOG_MS 60000

static int64_t clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)revents;
  sc_app_t *app = w->data;
  int64_t now = clock_ms(CLOCK_MONOTONIC);
  size_t states = app->registry ? sc_registry_count_states(app->registry) : 0;
  size_t channels = app->registry ? sc_registry_count_channels(app->registry) : 0;
  switch (sc_drain_verdict(&app->drain, states, now)) {
    case SC_DRAIN_IDLE: return;
    case SC_DRAIN_EMPTY:
      ev_timer_stop(loop, w);
      sc_log_info("server", "drain: no voice state left after %.1f s: stopping",
                  (double)(now - app->drain.started_ms) / 1000);
      app->stop_requested = 1;
      return;
    case SC_DRAIN_TIMED_OUT:
      ev_timer_stop(loop, w);
      sc_log_warn("server",
                  "drain: --drain-timeout (%u s) passed with %zu voice state(s) in %zu "
                  "channel(s): closing them (4015) and stopping",
                  app->drain.timeout_s, states, channels);
      app->stop_requested = 1;
      return;
    case SC_DRAIN_WAITING: break;
  }
  if (now - app->drain.logged_ms >= DRAIN_LOG_MS) {
    app->drain.logged_ms = now;
    sc_log_info("server",
                "drain: %zu voice state(s) in %zu channel(s) left; %lld s to the deadline", states,
                channels, (long long)(sc_drain_remaining_ms(&app->drain, now) / 1000));
  }
}

int sc_server_begin_drain(sc_app_t *app, const char *why) {
  int64_t now = clock_ms(CLOCK_MONOTONIC);
  if (!sc_drain_begin(&app->drain, why, app->cfg.drain_timeout_s, now, clock_ms(CLOCK_REALTIME))) {
    sc_log_info("server", "%s: already draining (since %s); a second SIGTERM stops at once", why,
                app->drain.reason);
    return 0;
  }
  if (app->registry) sc_registry_set_draining(app->registry, 1);
  size_t states = app->registry ? sc_registry_count_states(app->registry) : 0;
  sc_log_info("server",
              "%s: draining: no new calls; %zu voice state(s) may go on for up to %u s "
              "(--drain-timeout), then 4015 and exit; SIGINT or a second SIGTERM stops at once",
              why, states, app->drain.timeout_s);
  sc_service_stopping(app->service); /* systemd: STOPPING=1, STATUS=draining */
  if (app->loop && !app->drain_timer) {
    app->drain_timer = calloc(1, sizeof *app->drain_timer);
    if (app->drain_timer) {
      ev_timer_init(app->drain_timer, drain_tick, 0., DRAIN_CHECK_S);
      app->drain_timer->data = app;
      ev_timer_start(app->loop, app->drain_timer);
    } else {
      sc_log_error("server", "drain: out of memory for its timer: stopping now");
      app->stop_requested = 1;
    }
  }
  return 1;
}

int sc_server_run(sc_app_t *app) {
  while (!app->stop_requested) {
    if (app->reload_requested) {
      app->reload_requested = 0;
      sc_service_reloading(app->service); /* systemd: RELOADING=1 ... READY=1 */
      app->reload ? app->reload(app) : sc_server_reload_tls(app);
      sc_service_reloaded(app->service);
    }
    if (app->drain_requested) {
      app->drain_requested = 0;
      sc_server_begin_drain(app, "SIGTERM");
      continue; /* its first check runs in the next pass */
    }
    sc_server_service(app, 1);
  }
  return 0;
}

void sc_server_drain(sc_app_t *app, int ms) {
  for (int t = 0; app->lws && t < ms; t += 10) {
    sc_server_service(app, 0);
    usleep(10 * 1000);
  }
}

int sc_server_refuse_http(struct lws *wsi) {
  /* Unanswered, lws keeps such a connection until its own timeout and,
   * once the peer has closed, polls it in a busy loop meanwhile: a plain
   * GET cost seconds of the control thread. Answer and close at once. */
  lws_return_http_status(wsi, 426, "WebSocket only");
  return -1;
}

void sc_server_destroy(sc_app_t *app) {
  if (app->drain_timer) {
    ev_timer_stop(app->loop, app->drain_timer);
    free(app->drain_timer);
    app->drain_timer = NULL;
  }
  if (app->lws) lws_context_destroy(app->lws);
  app->lws = NULL;
  stop_media_flush(app);
  if (app->loop) ev_loop_destroy(app->loop);
  app->loop = NULL;
  signal_app = NULL;
}
