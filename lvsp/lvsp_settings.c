#include "lvsp_settings.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_statedir.h"

#define OFF(field) offsetof(lvsp_settings_t, field)

static const sc_setting_t settings[] = {
    {"lvsp-listen", "HOST:PORT", &sc_kind_hostport, OFF(lvsp_listen), 0, 0, 0, "0.0.0.0:7700",
     "LVSP WebSocket listener (Litecord connects here)"},
    {"lvsp-heartbeat-ms", "N", &sc_kind_u32, OFF(lvsp_heartbeat_ms), 0, 10, 3600000, "45000",
     "LVSP heartbeat interval in ms"},
    {"lvsp-replay", "N", &sc_kind_u32, OFF(lvsp_replay), 0, 0, 1000000, "1024",
     "INFO messages kept for LVSP RESUME"},
    {"lvsp-heartbeat-timeout-ms", "N", &sc_kind_u32, OFF(lvsp_heartbeat_timeout_ms), 0, 0, 86400000,
     "0", "close a silent LVSP link after N ms (0 = never; voice stays)"},
};

/* The environment is read with the flags, so a bad LVSP_SECRET stops the
 * process before anything is created. */
static int finish(void *block, const sc_config_t *core, char *why, size_t n) {
  (void)core;
  lvsp_settings_t *s = block;
  const char *secret = getenv("LVSP_SECRET");
  if (!secret || !*secret) return 0;
  if (strlen(secret) >= sizeof s->lvsp_secret) {
    snprintf(why, n, "LVSP_SECRET is longer than %zu characters", sizeof s->lvsp_secret - 1);
    return -1;
  }
  snprintf(s->lvsp_secret, sizeof s->lvsp_secret, "%s", secret);
  return 0;
}

const sc_setting_table_t lvsp_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(lvsp_settings_t),
    .finish = finish,
    .help_note =
        "  LVSP_SECRET (environment)  shared LVSP secret\n"
        "                             [default: <state-dir>/lvsp_secret, generated if "
        "missing]\n",
};

lvsp_settings_t *lvsp_settings(const sc_app_t *app) {
  return sc_frontend_settings(app, &lvsp_settings_table);
}

int lvsp_settings_load_secret(lvsp_settings_t *s, const char *state_dir) {
  int created = 0;
  if (s->lvsp_secret[0]) return 0;
  if (sc_statedir_secret(state_dir, s->lvsp_secret, sizeof s->lvsp_secret, &created) < 0) {
    s->lvsp_secret[0] = '\0';
    sc_log_error("lvsp", "cannot read or create the LVSP secret in %s", state_dir);
    return -1;
  }
  if (created)
    printf("Generated LVSP secret: %s\n", s->lvsp_secret);
  else
    printf("LVSP secret: read from %s/lvsp_secret\n", state_dir);
  return 0;
}

void lvsp_settings_banner(sc_app_t *app, int slot, FILE *out) {
  const lvsp_settings_t *s = app->frontend_settings[slot];
  const char *host = app->cfg.public_host;
  fprintf(out, "  LVSP (for Litecord):  %s://%s:%u/  (voice_servers.hostname = %s:%u)\n",
          app->cfg.no_tls ? "ws" : "wss", host, s->lvsp_listen.port, host, s->lvsp_listen.port);
}
