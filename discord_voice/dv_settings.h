/*
 * dv_settings: the voice gateway front end's flags (--gateway-listen,
 * --modes, --gw-*), its own value kind for --modes, and what start()
 * derives from them: the Ready IP (--public-host resolved to IPv4 once)
 * and the endpoint published to the app for Litecord.
 *
 * Owns: the flag table (dv_settings_table, which dv_ws's registration
 * record points to) and the layout of the settings block the core
 * allocates for it (dv_settings_t).
 * Threads: the core fills the block on the main thread before anything
 * starts; dv_settings_resolve completes it in the front end's start();
 * read-only afterwards (control thread).
 */
#ifndef DV_SETTINGS_H
#define DV_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "sc_app.h"
#include "sc_config.h"

#define DV_MODES_MAX 8
#define DV_MODE_NAME_MAX 48

typedef struct {
  sc_hostport_t gateway_listen; /* --gateway-listen */
  /* --modes: the encryption modes offered, in preference order (names
   * are checked against the implemented modes by dv_modes_from_config). */
  char modes[DV_MODES_MAX][DV_MODE_NAME_MAX];
  int n_modes;
  uint32_t gw_heartbeat_ms;         /* voice gateway Hello heartbeat_interval */
  uint32_t gw_heartbeat_timeout_ms; /* no heartbeat for this long: 4009 (0 = 2x interval + 5 s) */
  uint32_t gw_resume_grace_ms;      /* a voice session without socket ends after this */
  uint32_t gw_resume_buffer;        /* numbered gateway messages kept per session for resume */
  uint32_t gw_rate_limit;           /* gateway messages per --gw-rate-window-ms; more: 4021 */
  uint32_t gw_rate_window_ms;
  uint32_t gw_max_message; /* bytes per gateway message; more: 4020 */
  int dave;                /* offer DAVE (E2EE) to clients that support it */
  int dave_required;       /* close an Identify without DAVE support with 4017 */
  /* IPv4 literal told to clients in Ready: --public-host resolved by
   * dv_settings_resolve (tests set it directly). */
  char ready_ip[64];
} dv_settings_t;

extern const sc_setting_table_t dv_settings_table;

/* The gateway's block in app (NULL if app has no voice gateway). */
dv_settings_t *dv_settings(const sc_app_t *app);

/* Resolves --public-host to the Ready IP (clients get an IPv4 literal)
 * and publishes app->endpoint ("public-host:gateway port"). 0, or -1
 * after logging why. */
int dv_settings_resolve(sc_app_t *app, dv_settings_t *s);

/* The banner line: the gateway's URL. */
void dv_settings_banner(sc_app_t *app, int slot, FILE *out);

#endif
