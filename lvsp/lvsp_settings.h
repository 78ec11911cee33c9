/*
 * lvsp_settings: the LVSP front end's flags (--lvsp-*, the secret as
 * --lvsp-secret, LVSP_SECRET or --lvsp-secret-file) and the secret file in
 * the state directory.
 *
 * Owns: the flag table (lvsp_settings_table, which lvsp_server's
 * registration record points to) and the layout of the settings block
 * the core allocates for it (lvsp_settings_t).
 * Threads: the core fills the block on the main thread before anything
 * starts; lvsp_settings_load_secret completes it in the front end's
 * start(); afterwards only a SIGHUP reload writes its SC_SETTING_LIVE
 * fields, on the control thread that reads them.
 */
#ifndef LVSP_SETTINGS_H
#define LVSP_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "sc_app.h"
#include "sc_config.h"

typedef struct {
  sc_hostport_t lvsp_listen;          /* --lvsp-listen */
  uint32_t lvsp_heartbeat_ms;         /* HELLO heartbeat_interval given to Litecord */
  uint32_t lvsp_replay;               /* --lvsp-replay: INFO frames kept for RESUME */
  uint32_t lvsp_heartbeat_timeout_ms; /* close a silent LVSP link after this; 0 = never */
  /* --lvsp-secret, LVSP_SECRET or --lvsp-secret-file (read while
   * parsing); "" until lvsp_settings_load_secret. */
  char lvsp_secret[SC_SECRET_MAX];
} lvsp_settings_t;

extern const sc_setting_table_t lvsp_settings_table;

/* The LVSP front end's block in app (NULL if app has no LVSP front end). */
lvsp_settings_t *lvsp_settings(const sc_app_t *app);

/* Without a configured secret: reads <state_dir>/lvsp_secret, generating it on
 * first start (and says so on stdout). 0, or -1 after logging why. */
int lvsp_settings_load_secret(lvsp_settings_t *s, const char *state_dir);

/* The banner line: the URL Litecord connects to. */
void lvsp_settings_banner(sc_app_t *app, int slot, FILE *out);

#endif
