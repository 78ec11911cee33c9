/*
 * sc_reload: the settings at run time. --check-config (parse everything,
 * load the TLS pair, print the effective settings) and the SIGHUP reload:
 * the file, the environment and the command line are parsed again into a
 * fresh copy; on any error the settings in force stay and the error is
 * logged; otherwise every changed setting marked SC_SETTING_LIVE is copied
 * into the running app and put in force (log level, registry limits, the
 * front ends' reconfigure hooks), every other changed one is logged as
 * needing a restart. The TLS pair is re-read from its files either way.
 *
 * Owns: app->in_force (a copy of the settings as parsed at start, with the
 * reloads applied since), freed by sc_reload_free.
 * Threads: main thread before the loops run (prepare, check), then the
 * control thread (run, from sc_server_run). Media workers read no setting
 * a reload changes.
 */
#ifndef SC_RELOAD_H
#define SC_RELOAD_H

#include <stdio.h>

#include "sc_app.h"

/* Right after sc_config_parse (before the start-up fills in the state
 * dir's paths and secrets): keeps argv and a copy of the parsed settings,
 * and makes SIGHUP call sc_reload_run. 0, or -1 (out of memory, logged). */
int sc_reload_prepare(sc_app_t *app, int argc, char **argv);

/* --check-config on a parsed app: checks that the TLS pair loads and
 * matches (the configured one, or the state dir's if it exists; none is
 * created), writes the effective settings (secrets masked) to out and any
 * problem to err. Returns the exit status: 0 or 1. */
int sc_reload_check(sc_app_t *app, FILE *out, FILE *err);

/* SIGHUP: reloads as described above. 0, or -1 when the settings stayed
 * (the reason is logged). */
int sc_reload_run(sc_app_t *app);

void sc_reload_free(sc_app_t *app);

#endif
