/*
 * sc_app: the one application object, passed explicitly to whoever needs
 * it (there are no mutable globals).
 *
 * Owns: the configuration (the core's, and each front end's settings
 * block), the lws context (control plane), the registry and the media
 * plane, plus one opaque slot per front end.
 * Threads: created and destroyed on the main thread, which also runs the
 * lws loop (the control thread). Media workers never touch sc_app_t
 * except the read-only cfg.
 */
#ifndef SC_APP_H
#define SC_APP_H

#include <signal.h>

#include "sc_config.h"
#include "sc_drain.h"
#include "sc_fdlimit.h"
#include "sc_media.h"
#include "sc_registry.h"

struct lws_context;
struct ev_loop;
struct ev_prepare;
struct ev_timer;
struct sc_frontend;
struct sc_service;
struct sc_dtls_ctx;
struct sc_qsample;

#define SC_MAX_FRONTENDS 8

typedef struct sc_app {
  sc_config_t cfg;
  struct lws_context *lws;
  struct ev_loop *loop;           /* the control thread's event loop (libev), lws runs in it */
  sc_fdlimit_t fdlimit;           /* fd limit and connection admission (sc_server_create) */
  struct ev_prepare *media_flush; /* end of each loop pass: wake media workers owed one */
  sc_registry_t *registry;
  sc_media_t *media;
  /* The DTLS certificate and context of every WebRTC member (sc_dtls):
   * made at start from the state directory; NULL if that failed (then
   * no front end offers WebRTC). Freed after the media plane. */
  struct sc_dtls_ctx *dtls;
  /* "host:port" told to Litecord as the voice endpoint: published by the
   * front end that serves voice clients, in its start(). */
  char endpoint[SC_HOST_MAX + 8];
  /* systemd notifications (sc_service.h): NULL when not run by systemd. */
  struct sc_service *service;
  /* Call-quality sampler (sc_qsample.h): NULL before start or on ENOMEM. */
  struct sc_qsample *qsample;
  volatile sig_atomic_t stop_requested;
  volatile sig_atomic_t reload_requested; /* SIGHUP: reload the settings and the TLS pair */
  /* SIGHUP's action, set by main (sc_reload_run); NULL: the TLS pair only. */
  int (*reload)(struct sc_app *app);
  /* For reloads (sc_reload): the command line, and the settings as parsed
   * at start (before the start-up filled in paths and secrets) with the
   * reloads applied since. */
  int argc;
  char **argv;
  struct sc_app *in_force;
  /* Graceful drain (sc_drain.h): the first SIGTERM asks for one, a second
   * one stops at once; the loop starts it (sc_server_begin_drain), and its
   * timer checks whether it is over. */
  volatile sig_atomic_t drain_requested, term_signals;
  sc_drain_t drain;
  struct ev_timer *drain_timer;
  /* The front ends by slot, and each one's settings block (NULL: it has
   * no flags); sc_config_parse fills them, sc_config_free frees the blocks. */
  const struct sc_frontend *frontends[SC_MAX_FRONTENDS];
  void *frontend_settings[SC_MAX_FRONTENDS];
  int n_frontends;
  void *frontend_state[SC_MAX_FRONTENDS];
} sc_app_t;

#endif
