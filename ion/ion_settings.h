/*
 * ion_settings: the ion/protoo front end's flags (--ion-listen,
 * --ion-max-message, --ion-rate-limit, --ion-rate-window-ms,
 * --ion-max-subscriptions) and what start() derives from them: the
 * IPv4 address written into our SDP (--public-host resolved once).
 *
 * Owns: the flag table (ion_settings_table, which ion_ws's registration
 * record points to) and the layout of the block the core allocates for
 * it. Threads: filled on the main thread before anything starts;
 * ion_settings_resolve completes it in start(); read-only afterwards.
 */
#ifndef ION_SETTINGS_H
#define ION_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "sc_app.h"
#include "sc_config.h"

typedef struct {
  sc_hostport_t ion_listen; /* --ion-listen */
  uint32_t max_message;     /* bytes per protoo message; more: close 4000 */
  uint32_t rate_limit;      /* messages per window; more: close 4000 */
  uint32_t rate_window_ms;
  uint32_t max_subscriptions; /* per client; more: 429 */
  char media_ip[64];          /* --public-host as an IPv4 literal */
} ion_settings_t;

extern const sc_setting_table_t ion_settings_table;

/* The front end's block in app (NULL if it has none). */
ion_settings_t *ion_settings(const sc_app_t *app);
/* Resolves --public-host to media_ip. 0, or -1 after logging why. */
int ion_settings_resolve(sc_app_t *app, ion_settings_t *s);
/* The banner line: the endpoint ion clients connect to. */
void ion_settings_banner(sc_app_t *app, int slot, FILE *out);

#endif
