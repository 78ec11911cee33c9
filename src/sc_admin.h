/*
 * sc_admin: the admin API (read-only but for POST /drain), an HTTP listener of its own
 * (--admin-listen, default 127.0.0.1:7703) on the control loop.
 *
 *   GET /state   everything sc_admin_state_json() describes
 *   GET /health  the same without the channel list: liveness, 200 while
 *                the control loop answers, draining or not
 *   GET /ready   readiness, without a token: 200 when a new call could
 *                start here, 503 while draining or at a limit; the body
 *                says why (sc_admin_ready_json)
 *   GET /metrics the Prometheus text format (sc_admin_metrics.h): no token
 *                on a loopback listener, the bearer token elsewhere
 *   POST /drain  starts a graceful drain (sc_server_begin_drain);
 *                answered at once, and the connection closed (a body is
 *                not read)
 *   POST /log-level  {"level":"debug"}: the log level in force from now
 *                on (until a SIGHUP puts the configured one back); the
 *                body (at most SC_ADMIN_BODY_MAX bytes) is read only
 *                after the token was checked
 *   GET / or /dashboard (and its files): the live dashboard page
 *                (sc_dashboard.h), served without a token: it holds no
 *                data, and polls /state with the token the operator gives
 * Every other request needs "Authorization: Bearer <token>"; the token is
 * --admin-token or <state-dir>/admin_token (generated on first start:
 * 32 bytes from the CSPRNG, hex, mode 0600) and is compared in constant
 * time. Wrong or missing: 401. Other methods: 405.
 *
 * Transport: plain HTTP when the listen address is loopback (only local
 * users can reach it; `litecord-voice status` needs no certificate);
 * otherwise HTTPS with the server's certificate, unless --no-tls (a
 * TLS-terminating proxy in front), which is logged as a warning.
 *
 * Threads: control (lws) thread only. Memory: each request's response is
 * allocated when the request arrives and freed when it was written or
 * the connection closed (lws per-session data).
 */
#ifndef SC_ADMIN_H
#define SC_ADMIN_H

#include <stdio.h>

#include "sc_app.h"
#include "sc_log.h"

/* Start-up, before the loops run: fills cfg.admin_token from the state
 * directory when no --admin-token was given. 0, or -1 after printing a
 * one-line reason. */
int sc_admin_prepare(sc_app_t *app);

/* Creates the listener on the lws context. 0, or -1 after logging. The
 * default address being busy (another instance on this host) only
 * disables the API, with a warning; an explicit address must work. */
int sc_admin_start(sc_app_t *app);

/* 1 if plain HTTP is used on this listen host (loopback). */
int sc_admin_is_loopback(const char *host);

/* The base URL of the admin API ("http://127.0.0.1:7703"). */
void sc_admin_url(const sc_app_t *app, char *out, size_t size);

/* Request bodies read at most (POST /log-level). */
#define SC_ADMIN_BODY_MAX 256

/* Pure: the level named by a POST /log-level body, {"level": "error" |
 * "warn" | "info" | "debug"} (no other member). 0, or -EINVAL. */
int sc_admin_parse_log_level(const char *buf, size_t len, sc_log_level_t *out);

#endif
