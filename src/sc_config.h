/*
 * sc_config: the defaults, the configuration file (sc_conffile), the
 * environment and the command line, turned into settings: the core's own
 * (sc_config_t) and one block per front end.
 *
 * Every flag is one sc_setting_t row: name, value kind, where the value
 * goes in its block, range, default (as text, parsed by the kind) and
 * help. The core has its table (udp listen, media workers, public host,
 * TLS, state dir, capacity, connections, admin, log level); a front end
 * declares its own in an sc_setting_table_t that its registration record
 * points to (sc_frontend_t.settings). The same parser handles all of them:
 * the core allocates each front end's block, fills in the defaults,
 * applies the file, the environment and argv, runs the table's finish
 * hook, and hands the block to the front end (sc_frontend_settings). --help lists the core's flags
 * first, then each front end's under its name, in start order.
 *
 * Owns: sc_config_t (embedded in sc_app_t; plain values) and the front
 * ends' settings blocks (heap, listed in sc_app_t, freed by
 * sc_config_free).
 * Threads: filled on the main thread before any other thread starts
 * (a front end may complete its own block in its start(), on the main
 * thread, before the loops run). Afterwards only a SIGHUP reload
 * (sc_reload, control thread) writes, and only SC_SETTING_LIVE fields,
 * which only the control thread reads (the log level goes through
 * sc_log's atomic); the media workers read no setting at run time. Every
 * other field is read-only, so every thread may read it without locks.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SC_HOST_MAX 256
#define SC_PATH_MAX 1024
#define SC_SECRET_MAX 256

struct sc_app;
struct sc_frontend;
struct sc_config;

typedef struct {
  char host[SC_HOST_MAX];
  uint16_t port;
} sc_hostport_t;

/* 1 for a listener an operator turned off (sc_kind_listener "off"). */
static inline int sc_hostport_off(const sc_hostport_t *hp) {
  return hp->host[0] == '\0';
}

/* ---- setting descriptors ------------------------------------------------ */

typedef struct sc_setting sc_setting_t;

/* A value kind. parse writes val into the setting's field of `block` (0,
 * or -1 with a one-line reason that names the flag in `why`); show renders
 * the field for --help ("" for nothing). A front end may supply its own. */
typedef struct {
  int (*parse)(void *block, const sc_setting_t *s, const char *val, char *why, size_t n);
  void (*show)(const void *block, const sc_setting_t *s, char *buf, size_t n);
  /* Bytes of the field (0: a string, sized by the setting, or unknown).
   * A SIGHUP reload compares and copies fields by these bytes; a field of
   * unknown size is compared by its show() text and never changed live. */
  size_t size;
} sc_setting_kind_t;

/* sc_setting_t.flags */
enum {
  /* A SIGHUP reload may change it while running (the readers take the
   * new value: see "Settings" in docs/ARCHITECTURE.md). */
  SC_SETTING_LIVE = 1u << 0,
  /* Masked in --check-config and in the reload log. */
  SC_SETTING_SECRET = 1u << 1,
};

struct sc_setting {
  const char *name;    /* without the leading "--" */
  const char *metavar; /* NULL: a switch, takes no value */
  const sc_setting_kind_t *kind;
  size_t off;        /* offsetof the field in the block */
  size_t size;       /* for strings: the field's size (incl. NUL) */
  uint32_t min, max; /* for numbers; --help shows min..max when max > 0 */
  const char *def;   /* default, parsed by kind; NULL: the field stays zero */
  const char *help;
  unsigned flags;  /* SC_SETTING_* */
  const char *env; /* environment variable (NULL: LITECORD_VOICE_<NAME>, with
                    * the name upper-cased and '-' as '_') */
};

/* The field of setting s in block (for kinds). */
#define SC_SETTING_FIELD(block, s) ((char *)(block) + (s)->off)
#define SC_SETTING_CFIELD(block, s) ((const char *)(block) + (s)->off)

/* Built-in kinds: sc_hostport_t ("HOST:PORT"; sc_kind_listener also "off",
 * for a front end's listener an operator may turn off: the host is then
 * empty, sc_hostport_off); char[size] (non-empty);
 * uint32_t and int (decimal digits in min..max); int switch (set to 1 as
 * a flag; in the file or environment true/false, yes/no, on/off, 1/0);
 * a secret file (the value is a path: the file is read, trimmed and stored
 * in the char[size] field, the same field as the secret it stands for, so
 * the later layer wins; a file group or others may read is warned about). */
extern const sc_setting_kind_t sc_kind_hostport, sc_kind_listener, sc_kind_string, sc_kind_u32,
    sc_kind_int, sc_kind_switch, sc_kind_secret_file;

/* A front end's settings: its flags and the block they fill. */
typedef struct sc_setting_table {
  const sc_setting_t *settings;
  size_t n_settings;
  size_t block_size; /* bytes the core allocates (zeroed, then defaults) */
  /* Optional, after argv: cross-flag checks, environment variables. 0, or
   * -1 with a one-line reason in why. `core` is the parsed core config. */
  int (*finish)(void *block, const struct sc_config *core, char *why, size_t n);
  /* Optional lines for --help after the flags (environment variables),
   * each starting with two spaces and ending in '\n'. */
  const char *help_note;
} sc_setting_table_t;

/* ---- the core's settings -------------------------------------------------- */

typedef struct sc_config {
  sc_hostport_t udp_listen;      /* --udp-listen */
  char public_host[SC_HOST_MAX]; /* --public-host: the host clients are told */
  char tls_cert[SC_PATH_MAX];    /* --tls-cert ("" = generated in state dir) */
  char tls_key[SC_PATH_MAX];     /* --tls-key */
  int no_tls;                    /* --no-tls */
  char state_dir[SC_PATH_MAX];   /* --state-dir */
  int media_workers;             /* --media-workers (default 1) */
  uint32_t capacity;             /* sessions this server is sized for (health) */
  uint32_t max_connections;   /* connections held at once (0 = SC_CONNS_PER_CAPACITY x capacity) */
  uint32_t max_voice_states;  /* --max-voice-states: the registry's limit (docs/LVSP.md) */
  uint32_t max_channels;      /* --max-channels: the registry's limit */
  sc_hostport_t admin_listen; /* --admin-listen: admin HTTP API */
  char admin_token[SC_SECRET_MAX]; /* --admin-token ("" = <state-dir>/admin_token) */
  int log_level;                   /* sc_log_level_t */
  uint32_t drain_timeout_s;        /* --drain-timeout: how long a drain may last */
  int log_format;                  /* sc_log_format_t (--log-format) */
  char config_file[SC_PATH_MAX];   /* --config: the file read ("" = none) */
  int check_config;                /* --check-config */
} sc_config_t;

/* The configuration file read when --config is absent, if it exists. */
#define SC_DEFAULT_CONFIG_FILE "/etc/litecord-voice/litecord-voice.conf"

/* Parse result: run, or exit at once with the given status (after --help,
 * --version, or a one-line error already printed to `err`). */
typedef enum { SC_CONFIG_RUN = 0, SC_CONFIG_EXIT_OK, SC_CONFIG_EXIT_ERROR } sc_config_result_t;

/* Fills app->cfg and one settings block per front end, in layers:
 * the declared defaults, then the configuration file, then the
 * environment, then argv; then the finish hooks (the core's checks the
 * TLS flags). The file is --config FILE ("none": no file), else
 * SC_DEFAULT_CONFIG_FILE if it exists (a missing explicit file is an
 * error, a missing default one is not). In the file a key is a flag's name
 * and a value what the flag takes; keys may stand before any [section] or
 * in the section named after the group that declares them ([core],
 * [lvsp], [discord voice gateway]); an unknown key or section, a key in
 * another group's section, or a bad value is a one-line error naming file
 * and line. The environment layer reads each setting's variable
 * (sc_setting_t.env). --config, --check-config, --help and --version are
 * flags only.
 * fe[0..n_fe) are the front ends in slot order (NULL: the registered ones,
 * sc_frontend_list); they are stored in app->frontends and their blocks in
 * app->frontend_settings (NULL for a front end without settings). Output
 * for --help/--version goes to `out`, errors to `err`. Does not apply
 * cfg.log_level (the caller passes it to sc_log_set_level). Flags take
 * "--flag VALUE" or "--flag=VALUE"; a repeated flag's last value wins; a
 * separate VALUE may not start with "--" (taken as a forgotten value). An
 * unknown flag, a flag declared twice, or a default its kind refuses is an
 * error. Does not read what app held before; on SC_CONFIG_RUN the caller
 * frees the blocks with sc_config_free, otherwise nothing stays allocated. */
sc_config_result_t sc_config_parse(struct sc_app *app, const struct sc_frontend *const *fe,
                                   int n_fe, int argc, char **argv, FILE *out, FILE *err);

/* Writes the effective settings of app as "key = value" lines under
 * [group] headers (the form of the file), secrets masked. */
void sc_config_show(const struct sc_app *app, FILE *out);

/* Copies app's settings (cfg, the front ends and their blocks) into dst,
 * which must hold none (zeroed). 0, or -1 (out of memory; dst holds
 * nothing then). Free with sc_config_free. */
int sc_config_copy(struct sc_app *dst, const struct sc_app *src);

/* One setting whose value differs between the settings in force and a
 * fresh parse: `live` is 1 when it was applied. */
typedef void (*sc_config_change_fn)(void *ctx, const char *group, const sc_setting_t *s, int live);

/* For a reload: compares `fresh` (a new parse with the same front ends)
 * with `in_force` (what was parsed at start, as changed by earlier
 * reloads); copies every changed SC_SETTING_LIVE field into both `live`
 * (the app running) and `in_force`, and reports every change to fn (a
 * restart-only change stays reported on later reloads). Returns the number
 * of settings applied. Control thread. */
int sc_config_apply_live(struct sc_app *live, struct sc_app *in_force, const struct sc_app *fresh,
                         sc_config_change_fn fn, void *ctx);

/* Frees the front ends' settings blocks (idempotent). */
void sc_config_free(struct sc_app *app);

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 0.0.0.0). 0 or -1.
 * PORT is 0..65535, 0 meaning "any free port" (for tests). A v6 address
 * must be in brackets (and is stored without them); zone ids ("%eth0")
 * are not accepted. HOST is not resolved. Pure: no I/O. */
int sc_config_parse_hostport(const char *text, sc_hostport_t *out);

/* --max-connections 0: this many connections per --capacity session
 * (room for reconnects and resumes past the sized load). */
#define SC_CONNS_PER_CAPACITY 4
#define SC_CONNECTIONS_MAX 1000000

/* --max-connections as given, or its default from --capacity. */
uint32_t sc_config_max_connections(const sc_config_t *cfg);

/* --public-host as an IPv4 literal, the address the front ends announce
 * for media (ICE host candidate, READY's ip): resolved once at start into
 * ip (at least INET_ADDRSTRLEN bytes). 0, or -1 after logging why under
 * `module`. */
int sc_config_public_ipv4(const sc_config_t *cfg, const char *module, char *ip, size_t size);

/* The state directory used when --state-dir is absent. */
#define SC_DEFAULT_STATE_DIR "./litecord-voice-state"

#endif
