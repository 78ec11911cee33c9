#include "ion_settings.h"

#include <stddef.h>
#include <string.h>

#include "ion_session.h"
#include "sc_frontend.h"

#define OFF(field) offsetof(ion_settings_t, field)
#define STR(x) #x
#define XSTR(x) STR(x)

/* Limits are copied into the listener's ion_limits_t at start. */
static const sc_setting_t settings[] = {
    {"ion-listen", "HOST:PORT|off", &sc_kind_listener, OFF(ion_listen), 0, 0, 0, "0.0.0.0:7706",
     "ion/protoo WebSocket listener (path /ws, subprotocol protoo)", 0, NULL},
    {"ion-max-message", "N", &sc_kind_u32, OFF(max_message), 0, 1024, 1048576, "65536",
     "largest ion/protoo message in bytes (more: close 4000)", 0, NULL},
    {"ion-rate-limit", "N", &sc_kind_u32, OFF(rate_limit), 0, 1, 1000000, "200",
     "ion/protoo messages per rate window per socket (more: close 4000)", 0, NULL},
    {"ion-rate-window-ms", "N", &sc_kind_u32, OFF(rate_window_ms), 0, 1, 3600000, "10000",
     "ion/protoo rate window in ms", 0, NULL},
    {"ion-max-subscriptions", "N", &sc_kind_u32, OFF(max_subscriptions), 0, 1, ION_SUBS_MAX,
     XSTR(ION_SUBS_MAX), "subscriptions one ion client may hold (more: error 429)", 0, NULL},
};

const sc_setting_table_t ion_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(ion_settings_t),
};

ion_settings_t *ion_settings(const sc_app_t *app) {
  return sc_frontend_settings(app, &ion_settings_table);
}

int ion_settings_resolve(sc_app_t *app, ion_settings_t *s) {
  return sc_config_public_ipv4(&app->cfg, "ion", s->media_ip, sizeof s->media_ip);
}

void ion_settings_banner(sc_app_t *app, int slot, FILE *out) {
  const ion_settings_t *s = app->frontend_settings[slot];
  if (sc_hostport_off(&s->ion_listen)) return;
  fprintf(out, "  ion/protoo:           %s://%s:%u/ws  (subprotocol protoo)\n",
          app->cfg.no_tls ? "ws" : "wss", app->cfg.public_host, s->ion_listen.port);
}
