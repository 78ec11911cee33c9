#include "vx_settings.h"

#include <stddef.h>
#include <string.h>

#include "sc_frontend.h"

#define OFF(field) offsetof(vx_settings_t, field)

static const sc_setting_t settings[] = {
    {"vortex-listen", "HOST:PORT|off", &sc_kind_listener, OFF(vortex_listen), 0, 0, 0,
     "0.0.0.0:7704", "Vortex (mediasoup-client) WebSocket listener", 0, NULL},
    {"vortex-max-message", "N", &sc_kind_u32, OFF(max_message), 0, 1024, 1048576, "65536",
     "largest Vortex message in bytes (more: close 1009)", SC_SETTING_LIVE, NULL},
    {"vortex-rate-limit", "N", &sc_kind_u32, OFF(rate_limit), 0, 1, 1000000, "200",
     "Vortex messages per rate window per socket (more: close 1008)", SC_SETTING_LIVE, NULL},
    {"vortex-rate-window-ms", "N", &sc_kind_u32, OFF(rate_window_ms), 0, 1, 3600000, "10000",
     "Vortex rate window in ms", SC_SETTING_LIVE, NULL},
    {"vortex-auth-timeout-ms", "N", &sc_kind_u32, OFF(auth_timeout_ms), 0, 100, 600000, "10000",
     "close a Vortex socket that has not authenticated after N ms (4001)", SC_SETTING_LIVE, NULL},
};

const sc_setting_table_t vx_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(vx_settings_t),
};

vx_settings_t *vx_settings(const sc_app_t *app) {
  return sc_frontend_settings(app, &vx_settings_table);
}

int vx_settings_resolve(sc_app_t *app, vx_settings_t *s) {
  return sc_config_public_ipv4(&app->cfg, "vortex", s->candidate_ip, sizeof s->candidate_ip);
}

void vx_settings_banner(sc_app_t *app, int slot, FILE *out) {
  (void)slot;
  vx_settings_t *s = vx_settings(app);
  if (sc_hostport_off(&s->vortex_listen)) return;
  fprintf(out, "  vortex:               %s://%s:%u/\n", app->cfg.no_tls ? "ws" : "wss",
          app->cfg.public_host, s->vortex_listen.port);
}
