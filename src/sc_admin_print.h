/*
 * sc_admin_print: the human-readable form of the admin API's /state (or
 * /health, or /ready) JSON, printed by `litecord-voice status`, and of
 * POST /drain's answer, printed by `litecord-voice drain`.
 *
 * Pure formatting: reads the JSON, writes text to `out`; tolerant of
 * missing fields (a newer or older server). No allocation kept.
 */
#ifndef SC_ADMIN_PRINT_H
#define SC_ADMIN_PRINT_H

#include <jansson.h>
#include <stdio.h>

void sc_admin_print_summary(FILE *out, json_t *state);

/* GET /ready's answer ({ready, status, reasons}): "ready (serving)" or
 * "not ready (draining): draining, voice_states_full". */
void sc_admin_print_ready(FILE *out, json_t *ready);

/* POST /drain's answer ({started, drain}), as `litecord-voice drain`. */
void sc_admin_print_drain(FILE *out, json_t *answer);

#endif
