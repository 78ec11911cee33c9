#include "dv_settings.h"

#include <stddef.h>
#include <string.h>

#include "sc_frontend.h"

#define OFF(field) offsetof(dv_settings_t, field)

/* "a,b,c": 1..DV_MODES_MAX names, each 1..DV_MODE_NAME_MAX-1 characters.
 * Only the form is checked here; the names when the gateway is made. */
static int parse_modes(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  dv_settings_t *d = block;
  char modes[DV_MODES_MAX][DV_MODE_NAME_MAX];
  int count = 0;
  for (const char *p = val;; p++) {
    size_t len = strcspn(p, ",");
    if (len == 0 || len >= DV_MODE_NAME_MAX || count == DV_MODES_MAX) {
      snprintf(why, n, "--%s: need 1..%d comma-separated names of 1..%d characters", s->name,
               DV_MODES_MAX, DV_MODE_NAME_MAX - 1);
      return -1;
    }
    memcpy(modes[count], p, len);
    modes[count++][len] = '\0';
    p += len;
    if (*p == '\0') break;
  }
  memcpy(d->modes, modes, sizeof modes);
  d->n_modes = count;
  return 0;
}

static void show_modes(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  (void)s;
  const dv_settings_t *d = block;
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < d->n_modes && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "", d->modes[i]);
}

static const sc_setting_kind_t K_MODES = {parse_modes, show_modes, 0};

/* The gw-* limits and timings are copied into the gateway's dv_limits_t
 * at start and again after a SIGHUP reload changed them (dv_ws's
 * reconfigure), so they may change live: a message, a connection or a
 * session takes the values in force when it is checked or made. */
static const sc_setting_t settings[] = {
    {"gateway-listen", "HOST:PORT", &sc_kind_hostport, OFF(gateway_listen), 0, 0, 0, "0.0.0.0:7701",
     "voice gateway WebSocket listener (clients connect here)", 0, NULL},
    {"modes", "LIST", &K_MODES, OFF(modes), 0, 0, 0,
     "aead_aes256_gcm_rtpsize,aead_xchacha20_poly1305_rtpsize,xsalsa20_poly1305_lite,"
     "xsalsa20_poly1305_suffix,xsalsa20_poly1305",
     "encryption modes offered, comma-separated, in preference order", 0, NULL},
    {"gw-heartbeat-ms", "N", &sc_kind_u32, OFF(gw_heartbeat_ms), 0, 10, 3600000, "41250",
     "voice gateway heartbeat interval in ms", SC_SETTING_LIVE, NULL},
    {"gw-heartbeat-timeout-ms", "N", &sc_kind_u32, OFF(gw_heartbeat_timeout_ms), 0, 0, 86400000,
     "0", "close a voice socket with 4009 after N ms without heartbeat (0 = 2x interval + 5 s)",
     SC_SETTING_LIVE, NULL},
    {"gw-resume-grace-ms", "N", &sc_kind_u32, OFF(gw_resume_grace_ms), 0, 0, 3600000, "60000",
     "keep a voice session this long after its socket is gone, for resume", SC_SETTING_LIVE, NULL},
    {"gw-resume-buffer", "N", &sc_kind_u32, OFF(gw_resume_buffer), 0, 16, 16384, "512",
     "voice gateway messages kept per session for resume", SC_SETTING_LIVE, NULL},
    {"gw-rate-limit", "N", &sc_kind_u32, OFF(gw_rate_limit), 0, 1, 1000000, "120",
     "voice gateway messages per rate window per socket (more: close 4021)", SC_SETTING_LIVE, NULL},
    {"gw-rate-window-ms", "N", &sc_kind_u32, OFF(gw_rate_window_ms), 0, 1, 3600000, "10000",
     "voice gateway rate window in ms", SC_SETTING_LIVE, NULL},
    {"gw-max-message", "N", &sc_kind_u32, OFF(gw_max_message), 0, 1024, 1048576, "16384",
     "largest voice gateway message in bytes (more: close 4020)", SC_SETTING_LIVE, NULL},
    /* dave: read when a call starts; dave-required: at each Identify. */
    {"dave", NULL, &sc_kind_switch, OFF(dave), 0, 0, 0, "on",
     "offer DAVE end-to-end encryption when every member of a call supports it", SC_SETTING_LIVE,
     NULL},
    {"dave-required", NULL, &sc_kind_switch, OFF(dave_required), 0, 0, 0, "off",
     "close an Identify without DAVE support (max_dave_protocol_version < 1) with 4017",
     SC_SETTING_LIVE, NULL},
};

const sc_setting_table_t dv_settings_table = {
    .settings = settings,
    .n_settings = sizeof settings / sizeof settings[0],
    .block_size = sizeof(dv_settings_t),
};

dv_settings_t *dv_settings(const sc_app_t *app) {
  return sc_frontend_settings(app, &dv_settings_table);
}

int dv_settings_resolve(sc_app_t *app, dv_settings_t *s) {
  if (sc_config_public_ipv4(&app->cfg, "gateway", s->ready_ip, sizeof s->ready_ip) < 0) return -1;
  snprintf(app->endpoint, sizeof app->endpoint, "%s:%u", app->cfg.public_host,
           s->gateway_listen.port);
  return 0;
}

void dv_settings_banner(sc_app_t *app, int slot, FILE *out) {
  (void)slot;
  fprintf(out, "  voice gateway:        %s://%s/\n", app->cfg.no_tls ? "ws" : "wss", app->endpoint);
}
