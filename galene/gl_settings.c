#include "gl_settings.h"

#include <stddef.h>
#include <string.h>

#include "sc_frontend.h"

#define OFF(field) offsetof(gl_settings_t, field)

static const sc_setting_t settings[] = {
    {"galene-listen", "HOST:PORT|off", &sc_kind_listener, OFF(galene_listen), 0, 0, 0,
     "0.0.0.0:7705", "Galene protocol WebSocket listener (path /ws; Galene clients connect here)",
     0, NULL},
    {"galene-max-message", "N", &sc_kind_u32, OFF(max_message), 0, 1024, 1048576, "32768",
     "largest Galene message in bytes (more: close 1009)", 0, NULL},
    {"galene-rate-limit", "N", &sc_kind_u32, OFF(rate_limit), 0, 1, 1000000, "200",
     "Galene messages per rate window per socket (more: close 1008)", 0, NULL},
    {"galene-rate-window-ms", "N", &sc_kind_u32, OFF(rate_window_ms), 0, 1, 3600000, "10000",
     "Galene rate window in ms", 0, NULL},
};

const sc_setting_table_t gl_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(gl_settings_t),
};

gl_settings_t *gl_settings(const sc_app_t *app) {
  return sc_frontend_settings(app, &gl_settings_table);
}

int gl_settings_resolve(sc_app_t *app, gl_settings_t *s) {
  return sc_config_public_ipv4(&app->cfg, "galene", s->media_ip, sizeof s->media_ip);
}

void gl_settings_banner(sc_app_t *app, int slot, FILE *out) {
  const gl_settings_t *s = app->frontend_settings[slot];
  if (sc_hostport_off(&s->galene_listen)) return;
  fprintf(out, "  Galene clients:       %s://%s:%u/ws\n", app->cfg.no_tls ? "ws" : "wss",
          app->cfg.public_host, s->galene_listen.port);
}
