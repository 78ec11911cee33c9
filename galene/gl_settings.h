/*
 * gl_settings: the Galène front end's flags (--galene-listen,
 * --galene-max-message, --galene-rate-limit, --galene-rate-window-ms) and
 * what start() derives from them: the IPv4 literal our SDP names as the
 * host candidate (--public-host resolved once).
 *
 * Owns: the flag table (gl_settings_table, which gl_ws's registration
 * record points to) and the layout of the settings block the core
 * allocates for it (gl_settings_t).
 * Threads: the core fills the block on the main thread before anything
 * starts; gl_settings_resolve completes it in start(); read-only
 * afterwards (control thread).
 */
#ifndef GL_SETTINGS_H
#define GL_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "sc_app.h"
#include "sc_config.h"

typedef struct {
  sc_hostport_t galene_listen; /* --galene-listen */
  uint32_t max_message;        /* bytes per message; more: close 1009 */
  uint32_t rate_limit;         /* messages per rate window; more: close 1008 */
  uint32_t rate_window_ms;
  char media_ip[64]; /* IPv4 literal of our host candidate (gl_settings_resolve) */
} gl_settings_t;

extern const sc_setting_table_t gl_settings_table;

/* The front end's block in app (NULL if app has none). */
gl_settings_t *gl_settings(const sc_app_t *app);

/* Resolves --public-host to media_ip. 0, or -1 after logging why. */
int gl_settings_resolve(sc_app_t *app, gl_settings_t *s);

/* The banner line: the WebSocket URL. */
void gl_settings_banner(sc_app_t *app, int slot, FILE *out);

#endif
