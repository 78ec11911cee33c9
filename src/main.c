/*
 * litecord-voice: entry point. Reads the configuration, prepares the state
 * directory, builds the media plane, the registry and the control loop,
 * starts every registered front end, tells systemd it is ready (when run
 * by it), and runs until SIGINT, a second SIGTERM, or the end of a drain
 * (the first SIGTERM: sc_server.h).
 */
#include <stdio.h>
#include <string.h>

#include "sc_admin.h"
#include "sc_admin_cli.h"
#include "sc_app.h"
#include "sc_config.h"
#include "sc_frontend.h"
#include "sc_dtls.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_registry.h"
#include "sc_reload.h"
#include "sc_server.h"
#include "sc_qsample.h"
#include "sc_service.h"
#include "sc_srtp.h"
#include "sc_statedir.h"
#include "sc_token.h"

/* DTLS handshakes in progress at once, process-wide (more are refused and
 * counted; a browser retries). */
#define SC_MAX_DTLS_HANDSHAKES 256

static void fail(const char *what) {
  fprintf(stderr, "litecord-voice: %s\n", what);
}

/* The state directory and the TLS material (flags, else the state dir).
 * What a front end keeps there (the LVSP secret) it reads in its start(). */
static int prepare_state(sc_app_t *app) {
  sc_config_t *c = &app->cfg;
  char msg[SC_PATH_MAX + 64];
  int created = 0;
  if (sc_statedir_ensure(c->state_dir) < 0) {
    snprintf(msg, sizeof msg, "cannot create state directory %s", c->state_dir);
    fail(msg);
    return -1;
  }
  if (!c->no_tls && !c->tls_cert[0]) {
    if (sc_statedir_tls_pair(c->state_dir, c->public_host, c->tls_cert, sizeof c->tls_cert,
                             c->tls_key, sizeof c->tls_key, &created) < 0) {
      fail("cannot create the self-signed TLS certificate");
      return -1;
    }
    if (created) printf("Generated self-signed TLS certificate: %s\n", c->tls_cert);
  }
  if (!c->no_tls && sc_server_check_tls(c->tls_cert, c->tls_key, msg, sizeof msg) < 0) {
    fail(msg);
    return -1;
  }
  return 0;
}

static int start_frontends(sc_app_t *app) {
  for (int i = 0; i < app->n_frontends; i++) {
    /* A front end that fails has logged its one-line reason. */
    if (app->frontends[i]->start && app->frontends[i]->start(app, i) < 0) return -1;
  }
  return 0;
}

static sc_datagram_fn find_datagram_fn(const sc_app_t *app) {
  for (int i = 0; i < app->n_frontends; i++)
    if (app->frontends[i]->datagram_fn) return app->frontends[i]->datagram_fn;
  return NULL;
}

static void print_banner(sc_app_t *app) {
  const sc_config_t *c = &app->cfg;
  printf("litecord-voice %s ready\n", SC_VERSION);
  for (int i = 0; i < app->n_frontends; i++)
    if (app->frontends[i]->banner) app->frontends[i]->banner(app, i, stdout);
  printf("  UDP media:            %s:%u (%d worker%s)\n", c->public_host, c->udp_listen.port,
         c->media_workers, c->media_workers == 1 ? "" : "s");
  char admin[SC_HOST_MAX + 32];
  sc_admin_url(app, admin, sizeof admin);
  printf("  admin API:            %s/state  (litecord-voice status)\n", admin);
  fflush(stdout);
}

static void shutdown_app(sc_app_t *app) {
  const sc_frontend_t *const *fe = app->frontends;
  int n = app->n_frontends;
  sc_service_destroy(app->service); /* its timer reads the registry */
  app->service = NULL;
  sc_qsample_destroy(app->qsample); /* so does this one's */
  app->qsample = NULL;
  for (int i = n - 1; i >= 0; i--)
    if (fe[i]->stop) fe[i]->stop(app, i);
  if (app->registry) sc_registry_destroy(app->registry); /* clients get 4015 */
  /* 4015 makes clients reconnect at once, some within the drain below: an
   * empty registry answers them (Identify fails cleanly) where a freed or
   * NULL one would crash the process on its way out. */
  app->registry = sc_registry_create(NULL);
  sc_server_drain(app, 300);
  sc_server_destroy(app);
  if (app->registry) sc_registry_destroy(app->registry);
  app->registry = NULL;
  for (int i = n - 1; i >= 0; i--)
    if (fe[i]->destroy) fe[i]->destroy(app, i);
  sc_media_destroy(app->media);
  app->media = NULL;
  sc_dtls_ctx_free(app->dtls); /* after the members that used it */
  app->dtls = NULL;
  sc_reload_free(app);
  sc_config_free(app);
}

/* The WebRTC transport's certificate (kept in the state directory, so
 * its fingerprint stays the same across restarts) and libsrtp. Without
 * them the server runs on, serving Discord UDP only. */
static void prepare_webrtc(sc_app_t *app) {
  char err[256] = "";
  if (sc_srtp_global_init() < 0) {
    sc_log_warn("main", "libsrtp initialisation failed: WebRTC disabled");
    return;
  }
  if (sc_dtls_ctx_new(&app->dtls, app->cfg.state_dir, SC_MAX_DTLS_HANDSHAKES, err, sizeof err) <
      0) {
    sc_log_warn("main", "DTLS certificate: %s: WebRTC disabled", err);
    app->dtls = NULL;
  }
}

/* --check-config answers 0 or 1, a bad setting included. */
static int has_flag(int argc, char **argv, const char *flag) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], flag) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  static sc_app_t app; /* large (paths); static storage, passed explicitly */
  if (argc > 1 && (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "drain") == 0))
    return sc_admin_status_main(argc - 1, argv + 1, stdout, stderr);
  switch (sc_config_parse(&app, NULL, 0, argc, argv, stdout, stderr)) {
    case SC_CONFIG_EXIT_OK: return 0;
    case SC_CONFIG_EXIT_ERROR: return has_flag(argc, argv, "--check-config") ? 1 : 2;
    case SC_CONFIG_RUN: break;
  }
  if (app.cfg.check_config) {
    int status = sc_reload_check(&app, stdout, stderr);
    sc_config_free(&app);
    return status;
  }
  sc_log_set_level((sc_log_level_t)app.cfg.log_level);
  sc_log_set_format((sc_log_format_t)app.cfg.log_format);
  sc_log_detect_journal();
  if (sc_reload_prepare(&app, argc, argv) < 0) return 1;
  if (sc_token_init() < 0) {
    fail("libsodium initialisation failed");
    return 1;
  }
  if (prepare_state(&app) < 0 || sc_admin_prepare(&app) < 0) return 1;
  prepare_webrtc(&app);
  app.media = sc_media_create(app.cfg.udp_listen.host, app.cfg.udp_listen.port,
                              app.cfg.media_workers, find_datagram_fn(&app));
  if (!app.media) return 1; /* the reason is logged */
  app.registry = sc_registry_create(app.media);
  if (app.registry)
    sc_registry_set_limits(app.registry, app.cfg.max_channels, app.cfg.max_voice_states);
  int rc = 1;
  if (app.registry && sc_server_create(&app) == 0 && start_frontends(&app) == 0 &&
      sc_admin_start(&app) == 0 && sc_media_start(app.media) == 0) {
    print_banner(&app);
    app.service = sc_service_start(&app); /* READY=1: everything listens */
    app.qsample = sc_qsample_start(&app);
    rc = sc_server_run(&app) == 0 ? 0 : 1;
    sc_service_stopping(app.service); /* STOPPING=1 */
    sc_log_info("main", "stopping");
  }
  shutdown_app(&app);
  return rc;
}
