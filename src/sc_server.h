/*
 * sc_server: the control plane's event loop. One lws context, run on the
 * main thread inside a libev loop (epoll: a wake-up costs what is ready,
 * not a walk over every connection); each front end adds its own
 * listener (vhost) to it.
 *
 * Owns: the event loop (app->loop), the lws context (app->lws), the
 * signal handling (SIGTERM: a drain, a second one an orderly stop at
 * once; SIGINT: an orderly stop at once; SIGHUP: a reload, app->reload,
 * or the TLS certificate alone) and the drain's timer (app->drain_timer).
 * Threads: main thread only. Other threads wake the loop only through
 * lws_cancel_service() (LWS_CALLBACK_EVENT_WAIT_CANCELLED).
 * Memory: the loop and the context are destroyed by sc_server_destroy.
 */
#ifndef SC_SERVER_H
#define SC_SERVER_H

#include <stddef.h>

#include "sc_app.h"

struct lws;
struct lws_protocols;
struct lws_vhost;

/* Loads cert and key with OpenSSL and checks that they match, so a bad
 * file is reported in one line before any listener starts. Returns 0, or
 * -1 with the reason in why. */
int sc_server_check_tls(const char *cert, const char *key, char *why, size_t why_size);

/* Creates the lws context with no listeners yet. 0 or -1 (logged). */
int sc_server_create(sc_app_t *app);

/* Listener flags. */
enum {
  /* The front end closes silent peers with its own timers, so lws's
   * per-connection "validity" timer (ping after 300 s, close at 310 s) is
   * turned off: lws re-arms it in one sorted list of every connection,
   * a walk over all of them per re-arm. */
  SC_LISTENER_OWN_LIVENESS = 1u << 0,
  /* A control listener (LVSP): lws's handshake timeouts (TCP accepted,
   * TLS, HTTP upgrade) are SC_PENDING_TIMEOUT_MS instead of lws's 5-20 s,
   * so a connection that never completes its handshake holds its fd
   * for at most that long (docs/SECURITY.md). */
  SC_LISTENER_CONTROL = 1u << 1,
};

/* Adds a listener for `protocols` on listen (TLS with the configured
 * certificate unless --no-tls). The first protocol is used for clients
 * that name none; callbacks reach the app with sc_server_app. `flags`:
 * SC_LISTENER_*. Returns NULL and logs on failure (port in use, bad
 * certificate). */
struct lws_vhost *sc_server_add_listener(sc_app_t *app, const char *name,
                                         const sc_hostport_t *listen,
                                         const struct lws_protocols *protocols, unsigned flags);

/* Sets a control listener's handshake and idle timeouts (see
 * SC_LISTENER_CONTROL) on a vhost's creation info; the admin listener,
 * which creates its own vhost, calls it too. */
struct lws_context_creation_info;
void sc_server_control_timeouts(struct lws_context_creation_info *info);
/* Sets a vhost's TLS (the server's certificate and key, our protocol and
 * cipher floor) in info: every TLS listener uses it. */
void sc_server_vhost_tls(const sc_app_t *app, struct lws_context_creation_info *info);

/* For LWS_CALLBACK_FILTER_NETWORK_CONNECTION (the front ends call it
 * with the callback's `in`, the accepted fd): returns what the callback
 * must return, 0 to keep the connection or -1 (lws closes it at once)
 * when it would take an fd kept for control links or files
 * (sc_fdlimit.h; counted and logged there). Voice clients are
 * SC_ADMIT_CLIENT; LVSP and admin SC_ADMIT_CONTROL, which may use the
 * spare kept for them. */
int sc_server_admit(struct lws *wsi, void *in, sc_admit_class_t cls);

/* Per-connection set-up every listener does when a WebSocket opens: an
 * idle TLS connection gives its read and write buffers back to the
 * allocator (SSL_MODE_RELEASE_BUFFERS: ~30 KiB less per idle session). */
void sc_server_conn_opened(struct lws *wsi);
/* For LWS_CALLBACK_HTTP on a WebSocket-only listener (the front ends call
 * it): answers 426 Upgrade Required at once and returns what the callback
 * must return (non-zero: lws closes the connection). */
int sc_server_refuse_http(struct lws *wsi);

/* What lws has no option for, on a listener's TLS context: one TLS 1.3
 * session ticket per connection instead of OpenSSL's two (a voice client
 * holds one connection at a time, and resuming consumes one ticket while
 * the new connection brings a fresh one; each ticket adds ~7 % to the
 * server's CPU per handshake). A front end calls it from its protocol callback on
 * LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS (`user` is the
 * SSL_CTX); a certificate reload (SIGHUP) keeps it. */
struct ssl_ctx_st;
void sc_server_tls_ctx_setup(struct ssl_ctx_st *ctx);

/* The app a callback's wsi belongs to. */
sc_app_t *sc_server_app(struct lws *wsi);

/* Re-reads the configured certificate and key (--tls-cert/--tls-key, or
 * the generated pair) and puts them in force for NEW TLS connections on
 * every listener; established connections are untouched. A pair that does
 * not load or match is refused with a logged reason and the current one
 * stays. Runs on the loop thread when SIGHUP arrived. 0 or -1. */
int sc_server_reload_tls(sc_app_t *app);

/* One pass of the loop: what is ready now (wait = 0), or after sleeping
 * until something is (a socket, an lws timer, lws_cancel_service).
 * For sc_server_run, sc_server_drain and tests. */
void sc_server_service(sc_app_t *app, int wait);

/* Starts a graceful drain (sc_drain.h, docs/ADMIN.md "Drain"): the
 * registry refuses new calls from now on, health reads 0, and a timer
 * sets app->stop_requested once no voice state is left or
 * --drain-timeout has passed. `why` names the trigger in the log and the
 * admin view ("SIGTERM", "admin request"). The one place a drain starts:
 * what must happen then (systemd's STOPPING=1) goes here. Returns 1 when
 * it started now, 0 when a drain was already running. Loop thread. */
int sc_server_begin_drain(sc_app_t *app, const char *why);

/* Runs the loop until app->stop_requested, then returns 0. SIGHUP
 * (app->reload_requested) calls app->reload in between (sc_reload: the
 * settings, then the TLS pair), or reloads the TLS pair if it is NULL; a
 * first SIGTERM (app->drain_requested) starts a drain. */
int sc_server_run(sc_app_t *app);

/* Services the loop for about `ms` milliseconds so queued messages and
 * close frames reach clients before the process exits. */
void sc_server_drain(sc_app_t *app, int ms);

void sc_server_destroy(sc_app_t *app);

#endif
