/*
 * vx_settings: the Vortex front end's flags (--vortex-listen,
 * --vortex-max-message, --vortex-rate-*, --vortex-auth-timeout-ms) and
 * what start() derives from them: the IPv4 address told to clients in
 * ICE candidates (--public-host resolved once).
 *
 * Owns: the flag table (vx_settings_table, which vx_ws's registration
 * record points to) and the layout of the settings block the core
 * allocates for it.
 * Threads: filled on the main thread before anything starts; completed in
 * the front end's start(); read-only afterwards (control thread).
 */
#ifndef VX_SETTINGS_H
#define VX_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "sc_app.h"
#include "sc_config.h"

typedef struct {
  sc_hostport_t vortex_listen; /* --vortex-listen */
  uint32_t max_message;        /* bytes per client message; more: close 1009 */
  uint32_t rate_limit;         /* messages per rate window; more: close 1008 */
  uint32_t rate_window_ms;
  uint32_t auth_timeout_ms; /* no Authenticate within it: close 4001 */
  /* IPv4 literal of --public-host for the ICE candidates (tests may set
   * it directly). */
  char candidate_ip[64];
} vx_settings_t;

extern const sc_setting_table_t vx_settings_table;

/* The front end's block in app (NULL if app has none). */
vx_settings_t *vx_settings(const sc_app_t *app);

/* Resolves --public-host to the candidate IP. 0, or -1 after logging. */
int vx_settings_resolve(sc_app_t *app, vx_settings_t *s);

/* The banner line: the Vortex WebSocket URL. */
void vx_settings_banner(sc_app_t *app, int slot, FILE *out);

#endif
