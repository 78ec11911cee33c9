#include "sc_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>
#include <unistd.h>

#include "sc_app.h"
#include "sc_conffile.h"
#include "sc_frontend.h"
#include "sc_log.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

#define PROG "litecord-voice"
#define WHY_MAX 320
#define SHOW_MAX 512 /* a rendered value in --help */

#define FIELD(s) SC_SETTING_FIELD(block, s)
#define FIELD_OF(b, s) SC_SETTING_FIELD(b, s)
#define CFIELD(s) SC_SETTING_CFIELD(block, s)

/* ---- value kinds ------------------------------------------------------------- */

static void show_nothing(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  (void)block, (void)s, (void)n;
  buf[0] = '\0';
}

static int parse_hostport(void *block, const sc_setting_t *s, const char *val, char *why,
                          size_t n) {
  if (sc_config_parse_hostport(val, (sc_hostport_t *)FIELD(s)) == 0) return 0;
  snprintf(why, n, "--%s: bad HOST:PORT '%.100s'", s->name, val);
  return -1;
}

static void show_hostport(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  const sc_hostport_t *hp = (const sc_hostport_t *)CFIELD(s);
  int v6 = strchr(hp->host, ':') != NULL;
  snprintf(buf, n, "%s%s%s:%u", v6 ? "[" : "", hp->host, v6 ? "]" : "", hp->port);
}

static int parse_listener(void *block, const sc_setting_t *s, const char *val, char *why,
                          size_t n) {
  if (strcmp(val, "off") != 0) return parse_hostport(block, s, val, why, n);
  *(sc_hostport_t *)FIELD(s) = (sc_hostport_t){{0}, 0};
  return 0;
}

static void show_listener(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  if (sc_hostport_off((const sc_hostport_t *)CFIELD(s)))
    snprintf(buf, n, "off");
  else
    show_hostport(block, s, buf, n);
}

static int parse_string(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  size_t len = strlen(val);
  if (len == 0) {
    snprintf(why, n, "--%s: value is empty", s->name);
    return -1;
  }
  if (len >= s->size) {
    snprintf(why, n, "--%s: value longer than %zu characters", s->name, s->size - 1);
    return -1;
  }
  memcpy(FIELD(s), val, len + 1);
  return 0;
}

static void show_string(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "%s", CFIELD(s));
}

/* Digits only: no sign, no blanks, no hex, so "-1" or " 5" are errors. */
static int parse_number(const sc_setting_t *s, const char *val, uint32_t *out, char *why,
                        size_t n) {
  unsigned long long v = 0;
  const char *p = val;
  for (; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++) v = v * 10 + (unsigned)(*p - '0');
  if (p == val || *p != '\0' || v < s->min || v > s->max) {
    snprintf(why, n, "--%s: '%.100s' is not a number in %u..%u", s->name, val, s->min, s->max);
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

static int parse_u32(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  return parse_number(s, val, (uint32_t *)FIELD(s), why, n);
}

static void show_u32(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "%lu", (unsigned long)*(const uint32_t *)CFIELD(s));
}

static int parse_int(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  uint32_t v;
  if (s->max > INT32_MAX) {
    snprintf(why, n, "--%s: range %u..%u does not fit an int", s->name, s->min, s->max);
    return -1;
  }
  if (parse_number(s, val, &v, why, n) != 0) return -1;
  *(int *)FIELD(s) = (int)v;
  return 0;
}

static void show_int(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "%d", *(const int *)CFIELD(s));
}

/* A flag passes no value (on); the file and the environment say which. */
static int parse_switch(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  static const char *const on[] = {"1", "true", "yes", "on"}, *const off[] = {"0", "false", "no",
                                                                              "off"};
  for (int i = 0; i < 4 && val; i++) {
    if (strcasecmp(val, off[i]) == 0) {
      *(int *)FIELD(s) = 0;
      return 0;
    }
    if (strcasecmp(val, on[i]) == 0) val = NULL;
  }
  if (val) {
    snprintf(why, n, "--%s: '%.100s' is not true or false", s->name, val);
    return -1;
  }
  *(int *)FIELD(s) = 1;
  return 0;
}

static void show_switch(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "%s", *(const int *)CFIELD(s) ? "on" : "off");
}

/* The secret goes where the secret itself would: the field is the secret's,
 * so what the later layer gave wins, path or value. */
static int parse_secret_file(void *block, const sc_setting_t *s, const char *val, char *why,
                             size_t n) {
  char inner[WHY_MAX];
  int loose;
  if (sc_conffile_read_secret(val, FIELD(s), s->size, &loose, inner, sizeof inner) != 0) {
    snprintf(why, n, "--%s: %s", s->name, inner);
    return -1;
  }
  if (loose) sc_log_warn("config", "--%s: %s is readable by group or others", s->name, val);
  return 0;
}

const sc_setting_kind_t sc_kind_hostport = {parse_hostport, show_hostport, sizeof(sc_hostport_t)};
const sc_setting_kind_t sc_kind_listener = {parse_listener, show_listener, sizeof(sc_hostport_t)};
const sc_setting_kind_t sc_kind_string = {parse_string, show_string, 0};
const sc_setting_kind_t sc_kind_u32 = {parse_u32, show_u32, sizeof(uint32_t)};
const sc_setting_kind_t sc_kind_int = {parse_int, show_int, sizeof(int)};
const sc_setting_kind_t sc_kind_switch = {parse_switch, show_switch, sizeof(int)};
const sc_setting_kind_t sc_kind_secret_file = {parse_secret_file, show_nothing, 0};

/* ---- the core's own kinds and table --------------------------------------------- */

/* --tls-cert/--tls-key: unset means the pair in the state dir is used. */
static void show_tls_file(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  if (*CFIELD(s))
    snprintf(buf, n, "%s", CFIELD(s));
  else
    snprintf(buf, n, "<state-dir>/%s.pem, generated", s->name + strlen("tls-"));
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int parse_level(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  sc_log_level_t lv;
  if (sc_log_parse_level(val, &lv) != 0) {
    snprintf(why, n, "--%s: '%.100s' is not one of error, warn, info, debug", s->name, val);
    return -1;
  }
  *(int *)FIELD(s) = (int)lv;
  return 0;
}

static void show_level(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  int lv = *(const int *)CFIELD(s);
  snprintf(buf, n, "%s", lv >= 0 && lv <= SC_LOG_DEBUG ? level_names[lv] : "?");
}

static int parse_format(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  sc_log_format_t f;
  if (sc_log_parse_format(val, &f) != 0) {
    snprintf(why, n, "--%s: '%.100s' is not text or json", s->name, val);
    return -1;
  }
  *(int *)FIELD(s) = (int)f;
  return 0;
}

static void show_format(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "%s", *(const int *)CFIELD(s) == SC_LOG_JSON ? "json" : "text");
}

/* --help and --version act instead of storing a value. */
static int parse_action(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  (void)block, (void)s, (void)val, (void)why, (void)n;
  return 0;
}

static const sc_setting_kind_t K_TLS_FILE = {parse_string, show_tls_file, 0};
static const sc_setting_kind_t K_LEVEL = {parse_level, show_level, sizeof(int)};
static const sc_setting_kind_t K_FORMAT = {parse_format, show_format, sizeof(int)};
/* Flags only (neither file nor environment): they say what to do. */
static const sc_setting_kind_t K_HELP = {parse_action, show_nothing, 0};
static const sc_setting_kind_t K_VERSION = {parse_action, show_nothing, 0};
static const sc_setting_kind_t K_CONFIG = {parse_string, show_string, 0};
static const sc_setting_kind_t K_CHECK = {parse_switch, show_switch, 0};

static int flag_only(const sc_setting_t *s) {
  return s->kind == &K_HELP || s->kind == &K_VERSION || s->kind == &K_CONFIG || s->kind == &K_CHECK;
}

#define OFF(field) offsetof(sc_config_t, field)
#define SZ(field) sizeof(((sc_config_t *)0)->field)

static const sc_setting_t core_settings[] = {
    {"udp-listen", "HOST:PORT", &sc_kind_hostport, OFF(udp_listen), 0, 0, 0, "0.0.0.0:7702",
     "UDP media socket", 0, NULL},
    {"public-host", "HOST", &sc_kind_string, OFF(public_host), SZ(public_host), 0, 0, "127.0.0.1",
     "host/IP told to clients (endpoint and Ready ip)", 0, NULL},
    {"tls-cert", "FILE", &K_TLS_FILE, OFF(tls_cert), SZ(tls_cert), 0, 0, NULL,
     "TLS certificate (needs --tls-key)", 0, NULL},
    {"tls-key", "FILE", &K_TLS_FILE, OFF(tls_key), SZ(tls_key), 0, 0, NULL,
     "TLS private key (needs --tls-cert)", 0, NULL},
    {"no-tls", NULL, &sc_kind_switch, OFF(no_tls), 0, 0, 0, NULL, "serve plain ws:// (no TLS)", 0,
     NULL},
    {"state-dir", "DIR", &sc_kind_string, OFF(state_dir), SZ(state_dir), 0, 0, SC_DEFAULT_STATE_DIR,
     "where the LVSP secret and TLS pair are kept", 0, NULL},
    {"media-workers", "N", &sc_kind_int, OFF(media_workers), 0, 1, 64, "1", "media threads", 0,
     NULL},
    {"capacity", "N", &sc_kind_u32, OFF(capacity), 0, 1, 1000000, "1000",
     "sessions this server is sized for", SC_SETTING_LIVE, NULL},
    {"max-connections", "N", &sc_kind_u32, OFF(max_connections), 0, 0, SC_CONNECTIONS_MAX, "0",
     "voice connections held at once; more are closed at accept "
     "(0 = 4 x --capacity)",
     0, NULL},
    {"max-voice-states", "N", &sc_kind_u32, OFF(max_voice_states), 0, 1, 10000000, "100000",
     "voice states held at once; Litecord's requests beyond are answered with an error",
     SC_SETTING_LIVE, NULL},
    {"max-channels", "N", &sc_kind_u32, OFF(max_channels), 0, 1, 10000000, "100000",
     "channels held at once; Litecord's requests beyond are answered with an error",
     SC_SETTING_LIVE, NULL},
    {"admin-listen", "HOST:PORT", &sc_kind_hostport, OFF(admin_listen), 0, 0, 0, "127.0.0.1:7703",
     "admin HTTP API (plain HTTP on loopback, else TLS)", 0, NULL},
    {"admin-token", "TOKEN", &sc_kind_string, OFF(admin_token), SZ(admin_token), 0, 0, NULL,
     "admin bearer token (default: <state-dir>/admin_token, generated)", SC_SETTING_SECRET, NULL},
    {"admin-token-file", "FILE", &sc_kind_secret_file, OFF(admin_token), SZ(admin_token), 0, 0,
     NULL, "read the admin token from FILE (instead of --admin-token)", 0, NULL},
    /* 10 min: LiveKit waits for the last participant without a deadline,
     * but Litecord never steers new calls away from a draining server,
     * so a drain here refuses new calls for as long as it lasts; 10 min
     * lets short calls end and keeps a stop bounded (docs/ADMIN.md). A
     * running drain keeps the value it started with. */
    {"drain-timeout", "SECONDS", &sc_kind_u32, OFF(drain_timeout_s), 0, 0, 604800, "600",
     "drain (SIGTERM): calls in progress may go on this long; 0: stop at once", 0, NULL},
    {"log-level", "LEVEL", &K_LEVEL, OFF(log_level), 0, 0, 0, "info", "error, warn, info or debug",
     SC_SETTING_LIVE, NULL},
    {"log-format", "FORMAT", &K_FORMAT, OFF(log_format), 0, 0, 0, "text",
     "text, or json (one object per line); under journald lines carry their priority",
     SC_SETTING_LIVE, NULL},
    {"config", "FILE", &K_CONFIG, OFF(config_file), SZ(config_file), 0, 0, NULL,
     "configuration file (default: " SC_DEFAULT_CONFIG_FILE " if it exists; none: no file)", 0,
     NULL},
    {"check-config", NULL, &K_CHECK, OFF(check_config), 0, 0, 0, NULL,
     "check the settings, the TLS pair and secrets, print the settings and exit", 0, NULL},
    {"help", NULL, &K_HELP, 0, 0, 0, 0, NULL, "print this help and exit", 0, NULL},
    {"version", NULL, &K_VERSION, 0, 0, 0, 0, NULL, "print the version and exit", 0, NULL},
};

static int core_finish(void *block, const sc_config_t *core, char *why, size_t n) {
  (void)block;
  if (!core->tls_cert[0] != !core->tls_key[0]) {
    snprintf(why, n, "--tls-cert and --tls-key must be given together");
    return -1;
  }
  if (core->no_tls && core->tls_cert[0]) {
    snprintf(why, n, "--no-tls conflicts with --tls-cert/--tls-key");
    return -1;
  }
  return 0;
}

static const sc_setting_table_t core_table = {
    core_settings, sizeof core_settings / sizeof core_settings[0], sizeof(sc_config_t), core_finish,
    NULL,
};

/* ---- groups: the core's table, then each front end's ------------------------------- */

typedef struct {
  const char *title;
  const sc_setting_table_t *t; /* NULL: a front end without settings */
  void *block;
} group_t;

typedef struct {
  group_t g[1 + SC_MAX_FRONTENDS];
  int n;
} groups_t;

/* Zero, then every declared default through its kind: a default the kind
 * refuses is the declaring table's bug, reported like a bad flag. */
static int apply_defaults(const sc_setting_table_t *t, void *block, char *why, size_t n) {
  char inner[WHY_MAX];
  memset(block, 0, t->block_size);
  for (size_t i = 0; i < t->n_settings; i++) {
    const sc_setting_t *s = &t->settings[i];
    if (s->def && s->kind->parse(block, s, s->def, inner, sizeof inner) != 0) {
      snprintf(why, n, "bad default of --%.60s: %.200s", s->name, inner);
      return -1;
    }
  }
  return 0;
}

static const sc_setting_t *find_in(const groups_t *gs, const char *name, size_t len, int *gi) {
  for (int g = 0; g < gs->n; g++) {
    const sc_setting_table_t *t = gs->g[g].t;
    for (size_t i = 0; t && i < t->n_settings; i++) {
      const char *sn = t->settings[i].name;
      if (strlen(sn) == len && strncmp(sn, name, len) == 0) {
        *gi = g;
        return &t->settings[i];
      }
    }
  }
  return NULL;
}

/* A name must mean one flag: the first declaration is the one found. */
static int check_unique(const groups_t *gs, char *why, size_t n) {
  for (int g = 0; g < gs->n; g++) {
    const sc_setting_table_t *t = gs->g[g].t;
    for (size_t i = 0; t && i < t->n_settings; i++) {
      const sc_setting_t *s = &t->settings[i];
      int first = g; /* find_in sets it: s itself is in gs */
      if (find_in(gs, s->name, strlen(s->name), &first) != s || first != g) {
        snprintf(why, n, "--%s is declared by both %s and %s", s->name, gs->g[first].title,
                 gs->g[g].title);
        return -1;
      }
    }
  }
  return 0;
}

/* The groups of an app whose front ends and blocks are in place. */
static void groups_of(const sc_app_t *app, groups_t *gs) {
  gs->g[0] = (group_t){"core", &core_table, (void *)&app->cfg};
  gs->n = 1;
  for (int i = 0; i < app->n_frontends; i++)
    gs->g[gs->n++] =
        (group_t){app->frontends[i]->name, app->frontends[i]->settings, app->frontend_settings[i]};
}

static int defaults_all(const groups_t *gs, char *why, size_t n) {
  for (int g = 0; g < gs->n; g++)
    if (gs->g[g].t && apply_defaults(gs->g[g].t, gs->g[g].block, why, n) != 0) return -1;
  return 0;
}

/* Records the front ends in app, allocates and defaults every block. */
static int setup(sc_app_t *app, const sc_frontend_t *const *fe, int n_fe, groups_t *gs, char *why,
                 size_t n) {
  const sc_frontend_t *listed[SC_MAX_FRONTENDS];
  memset(app->frontends, 0, sizeof app->frontends);
  memset(app->frontend_settings, 0, sizeof app->frontend_settings);
  app->n_frontends = 0;
  if (!fe) {
    n_fe = sc_frontend_list(listed, SC_MAX_FRONTENDS);
    fe = listed;
  }
  if (n_fe < 0 || n_fe > SC_MAX_FRONTENDS) {
    snprintf(why, n, "%d front ends (at most %d)", n_fe, SC_MAX_FRONTENDS);
    return -1;
  }
  for (int i = 0; i < n_fe; i++) {
    const sc_setting_table_t *t = fe[i]->settings;
    app->frontends[app->n_frontends++] = fe[i];
    if (t && !(app->frontend_settings[i] = calloc(1, t->block_size ? t->block_size : 1))) {
      snprintf(why, n, "out of memory for the settings of %s", fe[i]->name);
      return -1;
    }
  }
  groups_of(app, gs);
  if (check_unique(gs, why, n) != 0) return -1;
  return defaults_all(gs, why, n);
}

/* ---- help ----------------------------------------------------------------------- */

static void print_setting(FILE *out, const sc_setting_t *s, const void *defaults) {
  char opt[64], val[SHOW_MAX];
  snprintf(opt, sizeof opt, "--%s%s%s", s->name, s->metavar ? " " : "",
           s->metavar ? s->metavar : "");
  s->kind->show(defaults, s, val, sizeof val);
  fprintf(out, "  %-26s %s", opt, s->help);
  if (s->max) fprintf(out, " (%u..%u)", s->min, s->max);
  if (*val) fprintf(out, "\n  %-26s [default: %s]", "", val);
  if (s->flags & SC_SETTING_LIVE) fputs(" (SIGHUP applies a change)", out);
  if (s->env) fprintf(out, "\n  %-26s [environment: %s]", "", s->env);
  fputc('\n', out);
}

/* Defaults are rendered from a freshly defaulted block, so the help text
 * cannot drift from the declared defaults (nor show parsed values). */
static void print_group(FILE *out, const group_t *g) {
  const sc_setting_table_t *t = g->t;
  char why[WHY_MAX];
  if (!t || (!t->n_settings && !t->help_note)) return;
  void *defaults = calloc(1, t->block_size ? t->block_size : 1);
  if (!defaults || apply_defaults(t, defaults, why, sizeof why) != 0) {
    free(defaults);
    return; /* cannot happen: setup() applied the same defaults */
  }
  fprintf(out, "\n%s options:\n", g->title);
  for (size_t i = 0; i < t->n_settings; i++) print_setting(out, &t->settings[i], defaults);
  if (t->help_note) fputs(t->help_note, out);
  free(defaults);
}

static void print_help(FILE *out, const groups_t *gs) {
  fprintf(out, "usage: " PROG
               " [options]\n\n"
               "Flags take --flag VALUE or --flag=VALUE; the core's come first, then\n"
               "each front end's. Each is also a key of the configuration file (--config)\n"
               "and an environment variable LITECORD_VOICE_<FLAG> (upper case, '-' as '_');\n"
               "a flag beats the environment, which beats the file, which beats the default.\n");
  for (int g = 0; g < gs->n; g++) print_group(out, &gs->g[g]);
}

/* ---- argv ------------------------------------------------------------------------ */

/* Handles argv[*i] (and maybe its value in argv[*i + 1]). Returns the
 * setting applied, or NULL with a reason in why. */
static const sc_setting_t *apply_arg(const groups_t *gs, int argc, char **argv, int *i, char *why,
                                     size_t n) {
  const char *arg = argv[*i];
  if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
    snprintf(why, n, "unexpected argument '%.200s' (see --help)", arg);
    return NULL;
  }
  const char *name = arg + 2, *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  int g;
  const sc_setting_t *s = find_in(gs, name, len, &g);
  if (!s) {
    snprintf(why, n, "unknown option '--%.*s' (see --help)", (int)(len > 100 ? 100 : len), name);
    return NULL;
  }
  const char *val = eq ? eq + 1 : NULL;
  if (!s->metavar && val) {
    snprintf(why, n, "--%s takes no value", s->name);
    return NULL;
  }
  if (s->metavar && !val) {
    /* "--state-dir --no-tls" is far likelier a slip than a real value. */
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
      snprintf(why, n, "--%s needs a value (%s)", s->name, s->metavar);
      return NULL;
    }
    val = argv[++*i];
  }
  return s->kind->parse(gs->g[g].block, s, val, why, n) == 0 ? s : NULL;
}

static int finish_all(const groups_t *gs, const sc_config_t *core, char *why, size_t n) {
  for (int g = 0; g < gs->n; g++) {
    const sc_setting_table_t *t = gs->g[g].t;
    if (t && t->finish && t->finish(gs->g[g].block, core, why, n) != 0) return -1;
  }
  return 0;
}

/* ---- the file and the environment ------------------------------------------------ */

static int file_key(void *ctx, const char *section, const char *key, const char *val, char *why,
                    size_t n) {
  const groups_t *gs = ctx;
  int g, sg = -1;
  const sc_setting_t *s = find_in(gs, key, strlen(key), &g);
  for (int i = 0; section[0] && i < gs->n && sg < 0; i++)
    if (strcasecmp(section, gs->g[i].title) == 0) sg = i;
  if (section[0] && sg < 0) {
    snprintf(why, n, "unknown section [%.100s]", section);
    return -1;
  }
  if (!s) {
    snprintf(why, n, "unknown key '%.100s'", key);
    return -1;
  }
  if (flag_only(s)) {
    snprintf(why, n, "'%s' can only be given on the command line", s->name);
    return -1;
  }
  if (section[0] && sg != g) {
    snprintf(why, n, "'%s' belongs in [%s], not [%.100s]", s->name, gs->g[g].title, section);
    return -1;
  }
  return s->kind->parse(gs->g[g].block, s, val, why, n);
}

/* LITECORD_VOICE_<NAME>: upper case, '-' as '_'. */
static const char *env_name(const sc_setting_t *s, char *buf, size_t n) {
  if (s->env) return s->env;
  size_t len = (size_t)snprintf(buf, n, "LITECORD_VOICE_%s", s->name);
  for (size_t i = 0; i < len && i < n; i++)
    buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
  return buf;
}

/* An empty variable counts as unset (as LVSP_SECRET always did). */
static int apply_env(const groups_t *gs, char *why, size_t n) {
  char name[96], inner[WHY_MAX];
  for (int g = 0; g < gs->n; g++) {
    const sc_setting_table_t *t = gs->g[g].t;
    for (size_t i = 0; t && i < t->n_settings; i++) {
      const sc_setting_t *s = &t->settings[i];
      const char *var = flag_only(s) ? NULL : env_name(s, name, sizeof name);
      const char *val = var ? getenv(var) : NULL;
      if (!val || !*val) continue;
      if (s->kind->parse(gs->g[g].block, s, val, inner, sizeof inner) != 0) {
        snprintf(why, n, "environment %s: %s", var, inner);
        return -1;
      }
    }
  }
  return 0;
}

enum { ACT_RUN, ACT_HELP, ACT_VERSION };

/* Before the file: the flags alone, in order, so a bad flag is reported
 * (and stops) as it always was, --help and --version act, and --config
 * names the file (in cfg.config_file). Their values are parsed again above the other layers. */
static int scan_argv(const groups_t *gs, int argc, char **argv, char *why, size_t n) {
  for (int i = 1; i < argc; i++) {
    const sc_setting_t *s = apply_arg(gs, argc, argv, &i, why, n);
    if (!s) return -1;
    if (s->kind == &K_HELP) return ACT_HELP;
    if (s->kind == &K_VERSION) return ACT_VERSION;
  }
  return ACT_RUN;
}

static int apply_argv(const groups_t *gs, int argc, char **argv, char *why, size_t n) {
  for (int i = 1; i < argc; i++)
    if (!apply_arg(gs, argc, argv, &i, why, n)) return -1;
  return 0;
}

/* The layers after the defaults: file < environment < flags. */
static int apply_layers(sc_app_t *app, const groups_t *gs, const char *file, int argc, char **argv,
                        char *why, size_t n) {
  int explicit = file != NULL;
  if (!file) file = SC_DEFAULT_CONFIG_FILE;
  if (strcmp(file, "none") == 0 || (!explicit && access(file, F_OK) != 0)) file = "";
  if (defaults_all(gs, why, n) != 0) return -1;
  if (*file && sc_conffile_read(file, file_key, (void *)gs, why, n) != 0) return -1;
  if (apply_env(gs, why, n) != 0 || apply_argv(gs, argc, argv, why, n) != 0) return -1;
  snprintf(app->cfg.config_file, sizeof app->cfg.config_file, "%s", file);
  return finish_all(gs, &app->cfg, why, n);
}

sc_config_result_t sc_config_parse(sc_app_t *app, const sc_frontend_t *const *fe, int n_fe,
                                   int argc, char **argv, FILE *out, FILE *err) {
  char why[WHY_MAX + SC_PATH_MAX];
  groups_t gs;
  char file[SC_PATH_MAX];
  if (setup(app, fe, n_fe, &gs, why, sizeof why) != 0) goto fail;
  int act = scan_argv(&gs, argc, argv, why, sizeof why);
  if (act < 0) goto fail;
  if (act != ACT_RUN) {
    if (act == ACT_HELP)
      print_help(out, &gs);
    else
      fprintf(out, PROG " " SC_VERSION "\n");
    sc_config_free(app);
    return SC_CONFIG_EXIT_OK;
  }
  snprintf(file, sizeof file, "%s", app->cfg.config_file);
  if (apply_layers(app, &gs, file[0] ? file : NULL, argc, argv, why, sizeof why) == 0)
    return SC_CONFIG_RUN;
fail:
  fprintf(err, PROG ": %s\n", why);
  sc_config_free(app);
  return SC_CONFIG_EXIT_ERROR;
}

void sc_config_free(sc_app_t *app) {
  for (int i = 0; i < SC_MAX_FRONTENDS; i++) {
    free(app->frontend_settings[i]);
    app->frontend_settings[i] = NULL;
  }
}

/* ---- effective settings and reloads ----------------------------------------------- */

void sc_config_show(const sc_app_t *app, FILE *out) {
  groups_t gs;
  char val[SHOW_MAX];
  groups_of(app, &gs);
  for (int g = 0; g < gs.n; g++) {
    const sc_setting_table_t *t = gs.g[g].t;
    if (!t || !t->n_settings) continue;
    fprintf(out, "%s[%s]\n", g ? "\n" : "", gs.g[g].title);
    for (size_t i = 0; i < t->n_settings; i++) {
      const sc_setting_t *s = &t->settings[i];
      if (flag_only(s) || s->kind == &sc_kind_secret_file) continue;
      s->kind->show(gs.g[g].block, s, val, sizeof val);
      /* Unset strings as comments, so the output reads back as a file. */
      if (!val[0] || (s->size && !*SC_SETTING_CFIELD(gs.g[g].block, s)))
        fprintf(out, "# %s: not set%s%s%s\n", s->name, val[0] ? " (" : "", val, val[0] ? ")" : "");
      else
        fprintf(out, "%s = %s\n", s->name, s->flags & SC_SETTING_SECRET ? "********" : val);
    }
  }
}

int sc_config_copy(sc_app_t *dst, const sc_app_t *src) {
  dst->cfg = src->cfg;
  dst->n_frontends = src->n_frontends;
  for (int i = 0; i < src->n_frontends; i++) {
    const sc_setting_table_t *t = src->frontends[i]->settings;
    dst->frontends[i] = src->frontends[i];
    if (!t || !src->frontend_settings[i]) continue;
    size_t size = t->block_size ? t->block_size : 1;
    if (!(dst->frontend_settings[i] = malloc(size))) {
      sc_config_free(dst);
      return -1;
    }
    memcpy(dst->frontend_settings[i], src->frontend_settings[i], size);
  }
  return 0;
}

static size_t field_size(const sc_setting_t *s) {
  return s->size ? s->size : s->kind->size;
}

/* By bytes where the size is known, else by the rendered text. */
static int field_differs(const sc_setting_t *s, const void *a, const void *b) {
  size_t size = field_size(s);
  if (size) return memcmp((const char *)a + s->off, (const char *)b + s->off, size) != 0;
  char ta[SHOW_MAX], tb[SHOW_MAX];
  s->kind->show(a, s, ta, sizeof ta);
  s->kind->show(b, s, tb, sizeof tb);
  return strcmp(ta, tb) != 0;
}

int sc_config_apply_live(sc_app_t *live, sc_app_t *in_force, const sc_app_t *fresh,
                         sc_config_change_fn fn, void *ctx) {
  groups_t gl, gi, gf;
  int applied = 0;
  groups_of(live, &gl);
  groups_of(in_force, &gi);
  groups_of(fresh, &gf);
  for (int g = 0; g < gi.n && g < gf.n; g++) {
    const sc_setting_table_t *t = gi.g[g].t;
    for (size_t i = 0; t && gf.g[g].t == t && i < t->n_settings; i++) {
      const sc_setting_t *s = &t->settings[i];
      /* A secret file's field is its secret's, reported under that name. */
      if (flag_only(s) || s->kind == &sc_kind_secret_file) continue;
      if (!field_differs(s, gi.g[g].block, gf.g[g].block)) continue;
      int now = (s->flags & SC_SETTING_LIVE) && field_size(s) > 0;
      if (now) {
        memcpy(FIELD_OF(gl.g[g].block, s), FIELD_OF(gf.g[g].block, s), field_size(s));
        memcpy(FIELD_OF(gi.g[g].block, s), FIELD_OF(gf.g[g].block, s), field_size(s));
        applied++;
      }
      if (fn) fn(ctx, gi.g[g].title, s, now);
    }
  }
  return applied;
}

/* ---- HOST:PORT ------------------------------------------------------------------ */

static int parse_port(const char *s, uint16_t *out) {
  unsigned v = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9' && v <= 65535; p++) v = v * 10 + (unsigned)(*p - '0');
  if (p == s || *p != '\0' || v > 65535 || p - s > 5) return -1;
  *out = (uint16_t)v;
  return 0;
}

static int host_chars_ok(const char *h, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!isgraph((unsigned char)h[i]) || strchr(":[]/", h[i])) return 0;
  return 1;
}

int sc_config_parse_hostport(const char *text, sc_hostport_t *out) {
  const char *host, *colon;
  size_t hlen;
  uint8_t a6[16];
  if (!text || !out) return -1;
  if (text[0] == '[') { /* "[v6]:PORT": the brackets keep the v6 colons apart */
    const char *end = strchr(text, ']');
    if (!end || end[1] != ':') return -1;
    host = text + 1;
    hlen = (size_t)(end - host);
    colon = end + 1;
  } else {
    colon = strchr(text, ':');
    if (!colon || strchr(colon + 1, ':')) return -1; /* bare v6 is ambiguous */
    host = text;
    hlen = (size_t)(colon - text);
    if (!host_chars_ok(host, hlen)) return -1;
  }
  if (hlen >= sizeof out->host) return -1;
  uint16_t port;
  if (parse_port(colon + 1, &port) != 0) return -1;
  char h[sizeof out->host];
  memcpy(h, host, hlen);
  h[hlen] = '\0';
  if (text[0] == '[' && inet_pton(AF_INET6, h, a6) != 1) return -1;
  snprintf(out->host, sizeof out->host, "%s", hlen ? h : "0.0.0.0");
  out->port = port;
  return 0;
}

uint32_t sc_config_max_connections(const sc_config_t *cfg) {
  if (cfg->max_connections) return cfg->max_connections;
  uint64_t n = (uint64_t)cfg->capacity * SC_CONNS_PER_CAPACITY;
  return n > SC_CONNECTIONS_MAX ? SC_CONNECTIONS_MAX : (uint32_t)n;
}

int sc_config_public_ipv4(const sc_config_t *cfg, const char *module, char *ip, size_t size) {
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(cfg->public_host, NULL, &hints, &res) != 0 || !res) {
    sc_log_error(module, "--public-host does not resolve to an IPv4 address");
    return -1;
  }
  inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, (socklen_t)size);
  freeaddrinfo(res);
  return 0;
}
