#include "sc_reload.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_config.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_registry.h"
#include "sc_server.h"

#define LOG "config"
#define KEYS_MAX 1024

int sc_reload_prepare(sc_app_t *app, int argc, char **argv) {
  app->argc = argc;
  app->argv = argv;
  app->in_force = calloc(1, sizeof *app->in_force);
  if (!app->in_force || sc_config_copy(app->in_force, app) != 0) {
    free(app->in_force);
    app->in_force = NULL;
    sc_log_error(LOG, "out of memory");
    return -1;
  }
  app->reload = sc_reload_run;
  return 0;
}

void sc_reload_free(sc_app_t *app) {
  if (app->in_force) sc_config_free(app->in_force);
  free(app->in_force);
  app->in_force = NULL;
}

/* The generated pair is checked if it is there; --check-config creates
 * nothing. */
static int check_tls(const sc_config_t *c, FILE *out, char *why, size_t n) {
  char cert[SC_PATH_MAX + 16], key[SC_PATH_MAX + 16];
  if (c->no_tls) return 0;
  if (c->tls_cert[0]) return sc_server_check_tls(c->tls_cert, c->tls_key, why, n);
  snprintf(cert, sizeof cert, "%s/cert.pem", c->state_dir);
  snprintf(key, sizeof key, "%s/key.pem", c->state_dir);
  if (access(cert, F_OK) != 0 || access(key, F_OK) != 0) {
    fprintf(out, "# TLS: no pair in %s yet; one is generated at the first start\n", c->state_dir);
    return 0;
  }
  return sc_server_check_tls(cert, key, why, n);
}

int sc_reload_check(sc_app_t *app, FILE *out, FILE *err) {
  char why[2 * SC_PATH_MAX + 128];
  const sc_config_t *c = &app->cfg;
  fprintf(out, "# litecord-voice %s, settings from %s, the environment and the command line\n",
          SC_VERSION, c->config_file[0] ? c->config_file : "no file");
  int rc = check_tls(c, out, why, sizeof why);
  sc_config_show(app, out);
  if (rc != 0) {
    fprintf(err, "litecord-voice: %s\n", why);
    return 1;
  }
  fprintf(out, "# configuration OK\n");
  return 0;
}

typedef struct {
  char live[KEYS_MAX], restart[KEYS_MAX];
} changes_t;

static void add_key(char *list, const char *key) {
  size_t used = strlen(list);
  if (used + strlen(key) + 3 < KEYS_MAX)
    snprintf(list + used, KEYS_MAX - used, "%s%s", used ? ", " : "", key);
}

static void on_change(void *ctx, const char *group, const sc_setting_t *s, int live) {
  changes_t *ch = ctx;
  (void)group;
  add_key(live ? ch->live : ch->restart, s->name);
}

/* The parse's one-line error, from what sc_config_parse printed. */
static void parse_error(char *text, size_t len) {
  while (len && text[len - 1] == '\n') text[--len] = '\0';
  const char *why = strncmp(text, "litecord-voice: ", 16) == 0 ? text + 16 : text;
  sc_log_error(LOG, "SIGHUP: keeping the current settings: %s", why);
}

/* Puts the new values in force where they were copied at start. */
static void take_up(sc_app_t *app) {
  sc_log_set_level((sc_log_level_t)app->cfg.log_level);
  sc_log_set_format((sc_log_format_t)app->cfg.log_format);
  if (app->registry)
    sc_registry_set_limits(app->registry, app->cfg.max_channels, app->cfg.max_voice_states);
  for (int i = 0; i < app->n_frontends; i++)
    if (app->frontends[i]->reconfigure && app->frontend_state[i])
      app->frontends[i]->reconfigure(app, i);
}

static int reload_settings(sc_app_t *app) {
  char *text = NULL;
  size_t len = 0;
  sc_app_t *fresh = calloc(1, sizeof *fresh);
  FILE *msgs = open_memstream(&text, &len);
  if (!fresh || !msgs || !app->in_force) {
    if (msgs) fclose(msgs);
    free(text);
    free(fresh);
    sc_log_error(LOG, "SIGHUP: keeping the current settings: out of memory");
    return -1;
  }
  sc_config_result_t res =
      sc_config_parse(fresh, app->frontends, app->n_frontends, app->argc, app->argv, msgs, msgs);
  fclose(msgs);
  int rc = -1;
  if (res == SC_CONFIG_RUN) {
    changes_t ch = {{0}, {0}};
    if (sc_config_apply_live(app, app->in_force, fresh, on_change, &ch) > 0) take_up(app);
    sc_config_free(fresh);
    sc_log_info(LOG, "SIGHUP: settings reloaded from %s; changed: %s",
                app->cfg.config_file[0] ? app->cfg.config_file : "no file",
                ch.live[0] ? ch.live : "nothing");
    if (ch.restart[0])
      sc_log_warn(LOG, "SIGHUP: changed, in force after a restart: %s", ch.restart);
    rc = 0;
  } else {
    parse_error(text, len);
  }
  free(text);
  free(fresh);
  return rc;
}

int sc_reload_run(sc_app_t *app) {
  int rc = reload_settings(app);
  return sc_server_reload_tls(app) == 0 ? rc : -1;
}
