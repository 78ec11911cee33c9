/*
 * litecord-voice: entry point. Reads the configuration, prepares the state
 * directory, builds the media plane, the registry and the control loop,
 * starts every registered front end, and runs until SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "sc_admin.h"
#include "sc_admin_cli.h"
#include "sc_app.h"
#include "sc_config.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_registry.h"
#include "sc_server.h"
#include "sc_statedir.h"
#include "sc_token.h"

static void fail(const char *what) {
  fprintf(stderr, "litecord-voice: %s\n", what);
}

/* Secret and TLS material: from flags/environment, else the state dir. */
static int prepare_state(sc_app_t *app) {
  sc_config_t *c = &app->cfg;
  char msg[SC_PATH_MAX + 64];
  if (sc_statedir_ensure(c->state_dir) < 0) {
    snprintf(msg, sizeof msg, "cannot create state directory %s", c->state_dir);
    fail(msg);
    return -1;
  }
  int created = 0;
  if (!c->lvsp_secret[0]) {
    if (sc_statedir_secret(c->state_dir, c->lvsp_secret, sizeof c->lvsp_secret, &created) < 0) {
      snprintf(msg, sizeof msg, "cannot read or create the LVSP secret in %s", c->state_dir);
      fail(msg);
      return -1;
    }
    if (created)
      printf("Generated LVSP secret: %s\n", c->lvsp_secret);
    else
      printf("LVSP secret: read from %s/lvsp_secret\n", c->state_dir);
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

/* Clients get an IPv4 literal in Ready; resolve a host name once here. */
static int resolve_ready_ip(sc_app_t *app) {
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(app->cfg.public_host, NULL, &hints, &res) != 0 || !res) {
    fail("--public-host does not resolve to an IPv4 address");
    return -1;
  }
  inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, app->ready_ip,
            sizeof app->ready_ip);
  freeaddrinfo(res);
  snprintf(app->endpoint, sizeof app->endpoint, "%s:%u", app->cfg.public_host,
           app->cfg.gateway_listen.port);
  return 0;
}

static int start_frontends(sc_app_t *app, const sc_frontend_t **fe, int n) {
  for (int i = 0; i < n; i++) {
    /* A front end that fails has logged its one-line reason. */
    if (fe[i]->start && fe[i]->start(app, i) < 0) return -1;
  }
  return 0;
}

static sc_datagram_fn find_datagram_fn(const sc_frontend_t **fe, int n) {
  for (int i = 0; i < n; i++)
    if (fe[i]->datagram_fn) return fe[i]->datagram_fn;
  return NULL;
}

static void print_banner(const sc_app_t *app) {
  const sc_config_t *c = &app->cfg;
  const char *scheme = c->no_tls ? "ws" : "wss";
  printf("litecord-voice %s ready\n", SC_VERSION);
  printf("  LVSP (for Litecord):  %s://%s:%u/  (voice_servers.hostname = %s:%u)\n", scheme,
         c->public_host, c->lvsp_listen.port, c->public_host, c->lvsp_listen.port);
  printf("  voice gateway:        %s://%s/\n", scheme, app->endpoint);
  printf("  UDP media:            %s:%u (%d worker%s)\n", app->ready_ip, c->udp_listen.port,
         c->media_workers, c->media_workers == 1 ? "" : "s");
  char admin[SC_HOST_MAX + 32];
  sc_admin_url(app, admin, sizeof admin);
  printf("  admin (read-only):    %s/state  (litecord-voice status)\n", admin);
  fflush(stdout);
}

static void shutdown_app(sc_app_t *app, const sc_frontend_t **fe, int n) {
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
}

int main(int argc, char **argv) {
  static sc_app_t app; /* large (paths); static storage, passed explicitly */
  if (argc > 1 && strcmp(argv[1], "status") == 0)
    return sc_admin_status_main(argc - 1, argv + 1, stdout, stderr);
  switch (sc_config_parse(&app.cfg, argc, argv, stdout, stderr)) {
    case SC_CONFIG_EXIT_OK: return 0;
    case SC_CONFIG_EXIT_ERROR: return 2;
    case SC_CONFIG_RUN: break;
  }
  sc_log_set_level((sc_log_level_t)app.cfg.log_level);
  if (sc_token_init() < 0) {
    fail("libsodium initialisation failed");
    return 1;
  }
  if (prepare_state(&app) < 0 || sc_admin_prepare(&app) < 0 || resolve_ready_ip(&app) < 0) return 1;
  const sc_frontend_t *fe[SC_MAX_FRONTENDS];
  int n_fe = sc_frontend_list(fe, SC_MAX_FRONTENDS);
  app.media = sc_media_create(app.cfg.udp_listen.host, app.cfg.udp_listen.port,
                              app.cfg.media_workers, find_datagram_fn(fe, n_fe));
  if (!app.media) return 1; /* the reason is logged */
  app.registry = sc_registry_create(app.media);
  if (app.registry)
    sc_registry_set_limits(app.registry, app.cfg.max_channels, app.cfg.max_voice_states);
  int rc = 1;
  if (app.registry && sc_server_create(&app) == 0 && start_frontends(&app, fe, n_fe) == 0 &&
      sc_admin_start(&app) == 0 && sc_media_start(app.media) == 0) {
    print_banner(&app);
    rc = sc_server_run(&app) == 0 ? 0 : 1;
    sc_log_info("main", "stopping");
  }
  shutdown_app(&app, fe, n_fe);
  return rc;
}
