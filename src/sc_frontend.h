/*
 * sc_frontend: how protocol front ends (lvsp/, discord_voice/, later WebRTC
 * dialects) plug into the core without the core including them.
 *
 * A front end defines one const sc_frontend_t and registers it with
 * SC_FRONTEND_REGISTER. The record lands in the "sc_frontends" linker
 * section; the core walks that section at start-up (the linker provides
 * __start_/__stop_ symbols for it). Front ends are linked as object
 * libraries, so every record is present in the binary.
 *
 * A front end owns its flags: `settings` points to its table (flags, kinds,
 * ranges, defaults, help; sc_config.h). sc_config_parse allocates the
 * front end's settings block, fills it and stores it in
 * app->frontend_settings[slot]; the front end reads it with
 * sc_frontend_settings(app, table) from any of its files (or by slot in
 * its callbacks). --help lists the flags under the front end's name.
 *
 * Threads: every callback runs on the main (control) thread.
 */
#ifndef SC_FRONTEND_H
#define SC_FRONTEND_H

#include <stdio.h>

#include "sc_app.h"

struct sc_metrics;

typedef struct sc_frontend {
  /* Shown in logs and as the heading of its flags in --help. */
  const char *name;
  /* Start order: lower first (stop runs in reverse). */
  int order;
  /* Handler for non-RTP datagrams on the media sockets, or NULL. At most
   * one front end may supply it. */
  sc_datagram_fn datagram_fn;
  /* Called after the lws context and the media plane exist: create the
   * listeners. Return 0, or -1 after logging why. */
  int (*start)(sc_app_t *app, int slot);
  /* Graceful shutdown: close connections with a fitting code. */
  void (*stop)(sc_app_t *app, int slot);
  /* After the lws context is gone (no more callbacks): free the state. */
  void (*destroy)(sc_app_t *app, int slot);
  /* Optional, for the admin view: a new JSON object (jansson json_t)
   * describing the front end's state, or NULL. Control thread. */
  struct json_t *(*status)(sc_app_t *app, int slot);
  /* Optional, for GET /metrics: writes the front end's metric families
   * (sc_metrics.h; names litecord_voice_*) to out. Control thread. */
  void (*metrics)(sc_app_t *app, int slot, struct sc_metrics *out);
  /* Optional: its flags (NULL: none). */
  const sc_setting_table_t *settings;
  /* Optional: its lines of the start-up banner (what to tell Litecord or
   * clients), written to out after every front end started. */
  void (*banner)(sc_app_t *app, int slot, FILE *out);
  /* Optional: a SIGHUP reload changed settings live (its block's
   * SC_SETTING_LIVE fields, or the core's): take up what it copied at
   * start. Called after start() succeeded; control thread. */
  void (*reconfigure)(sc_app_t *app, int slot);
} sc_frontend_t;

#define SC_FRONTEND_REGISTER(fe)                             \
  static const sc_frontend_t *const sc__frontend_record_##fe \
      __attribute__((used, section("sc_frontends"), aligned(sizeof(void *)))) = &(fe)

/* The registered front ends, sorted by order. Returns the count. */
int sc_frontend_list(const sc_frontend_t **out, int max);

/* The settings block app holds for the front end whose record points to
 * `table` (as sc_config_parse filled it), or NULL if app has none. */
void *sc_frontend_settings(const sc_app_t *app, const sc_setting_table_t *table);

#endif
