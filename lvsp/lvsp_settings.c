#include "lvsp_settings.h"

#include <stddef.h>
#include <string.h>

#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_statedir.h"

#define OFF(field) offsetof(lvsp_settings_t, field)

/* lvsp-heartbeat-ms is read at each HELLO and the timeout at each
 * heartbeat (control thread), so both may change live. */
static const sc_setting_t settings[] = {
    {"lvsp-listen", "HOST:PORT", &sc_kind_hostport, OFF(lvsp_listen), 0, 0, 0, "0.0.0.0:7700",
     "LVSP WebSocket listener (Litecord connects here)", 0, NULL},
    {"lvsp-heartbeat-ms", "N", &sc_kind_u32, OFF(lvsp_heartbeat_ms), 0, 10, 3600000, "45000",
     "LVSP heartbeat interval in ms", SC_SETTING_LIVE, NULL},
    {"lvsp-replay", "N", &sc_kind_u32, OFF(lvsp_replay), 0, 0, 1000000, "1024",
     "INFO messages kept for LVSP RESUME", 0, NULL},
    {"lvsp-heartbeat-timeout-ms", "N", &sc_kind_u32, OFF(lvsp_heartbeat_timeout_ms), 0, 0, 86400000,
     "0", "close a silent LVSP link after N ms (0 = never; voice stays)", SC_SETTING_LIVE, NULL},
    /* The environment variable keeps its old name. A flag shows the
     * secret in ps; the file or the environment do not. */
    {"lvsp-secret", "SECRET", &sc_kind_string, OFF(lvsp_secret),
     sizeof(((lvsp_settings_t *)0)->lvsp_secret), 0, 0, NULL,
     "shared LVSP secret (default: <state-dir>/lvsp_secret, generated)", SC_SETTING_SECRET,
     "LVSP_SECRET"},
    {"lvsp-secret-file", "FILE", &sc_kind_secret_file, OFF(lvsp_secret),
     sizeof(((lvsp_settings_t *)0)->lvsp_secret), 0, 0, NULL,
     "read the shared LVSP secret from FILE (instead of --lvsp-secret)", 0, NULL},
};

const sc_setting_table_t lvsp_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(lvsp_settings_t),
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
