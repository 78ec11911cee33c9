#include "sc_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

#define PROG "litecord-voice"
#define WHY_MAX 320

/* Where a flag's value goes and what it may be. */
typedef struct sc_flag sc_flag_t;

/* A value kind: parse writes into cfg (0, or -1 with a reason in why);
 * show renders the current value for --help. */
typedef struct {
  int (*parse)(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why, size_t n);
  void (*show)(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n);
} sc_kind_t;

typedef enum { ACT_SET = 0, ACT_HELP, ACT_VERSION } sc_action_t;

struct sc_flag {
  const char *name;    /* without the leading "--" */
  const char *metavar; /* NULL: the flag takes no value */
  const sc_kind_t *kind;
  size_t off;        /* offsetof the field in sc_config_t */
  size_t size;       /* for strings: the field's size (incl. NUL) */
  uint32_t min, max; /* for numbers */
  sc_action_t action;
  const char *help;
};

#define FIELD(f) ((char *)cfg + (f)->off)
#define CFIELD(f) ((const char *)cfg + (f)->off)

/* ---- value kinds ----------------------------------------------------------- */

static int parse_hostport(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why,
                          size_t n) {
  if (sc_config_parse_hostport(val, (sc_hostport_t *)FIELD(f)) == 0) return 0;
  snprintf(why, n, "--%s: bad HOST:PORT '%s'", f->name, val);
  return -1;
}

static void show_hostport(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  const sc_hostport_t *hp = (const sc_hostport_t *)CFIELD(f);
  int v6 = strchr(hp->host, ':') != NULL;
  snprintf(buf, n, "%s%s%s:%u", v6 ? "[" : "", hp->host, v6 ? "]" : "", hp->port);
}

static int parse_string(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why,
                        size_t n) {
  size_t len = strlen(val);
  if (len == 0) {
    snprintf(why, n, "--%s: value is empty", f->name);
    return -1;
  }
  if (len >= f->size) {
    snprintf(why, n, "--%s: value longer than %zu characters", f->name, f->size - 1);
    return -1;
  }
  memcpy(FIELD(f), val, len + 1);
  return 0;
}

static void show_string(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  snprintf(buf, n, "%s", CFIELD(f));
}

/* Digits only: no sign, no blanks, no hex, so "-1" or " 5" are errors. */
static int parse_number(const sc_flag_t *f, const char *val, uint32_t *out, char *why, size_t n) {
  unsigned long long v = 0;
  const char *p = val;
  for (; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++) v = v * 10 + (unsigned)(*p - '0');
  if (p == val || *p != '\0' || v < f->min || v > f->max) {
    snprintf(why, n, "--%s: '%.100s' is not a number in %u..%u", f->name, val, f->min, f->max);
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* --tls-cert/--tls-key: unset means the pair in the state dir is used. */
static void show_tls_file(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  if (*CFIELD(f))
    snprintf(buf, n, "%s", CFIELD(f));
  else
    snprintf(buf, n, "<state-dir>/%s.pem, generated", f->name + strlen("tls-"));
}

static int parse_u32(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why, size_t n) {
  return parse_number(f, val, (uint32_t *)FIELD(f), why, n);
}

static void show_u32(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  snprintf(buf, n, "%lu", (unsigned long)*(const uint32_t *)CFIELD(f));
}

static int parse_int(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why, size_t n) {
  uint32_t v;
  if (parse_number(f, val, &v, why, n) != 0) return -1;
  *(int *)FIELD(f) = (int)v; /* max is far below INT_MAX */
  return 0;
}

static void show_int(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  snprintf(buf, n, "%d", *(const int *)CFIELD(f));
}

static int parse_modes(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why, size_t n) {
  char modes[SC_MODES_MAX][SC_MODE_NAME_MAX];
  int count = 0;
  for (const char *p = val;; p++) {
    size_t len = strcspn(p, ",");
    if (len == 0 || len >= SC_MODE_NAME_MAX || count == SC_MODES_MAX) {
      snprintf(why, n, "--%s: need 1..%d comma-separated names of 1..%d characters", f->name,
               SC_MODES_MAX, SC_MODE_NAME_MAX - 1);
      return -1;
    }
    memcpy(modes[count], p, len);
    modes[count++][len] = '\0';
    p += len;
    if (*p == '\0') break;
  }
  memcpy(cfg->modes, modes, sizeof modes);
  cfg->n_modes = count;
  return 0;
}

static void show_modes(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  (void)f;
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < cfg->n_modes && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "," : "", cfg->modes[i]);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int parse_level(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why, size_t n) {
  sc_log_level_t lv;
  if (sc_log_parse_level(val, &lv) != 0) {
    snprintf(why, n, "--%s: '%s' is not one of error, warn, info, debug", f->name, val);
    return -1;
  }
  cfg->log_level = (int)lv;
  return 0;
}

static void show_level(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  (void)f;
  int lv = cfg->log_level;
  snprintf(buf, n, "%s", lv >= 0 && lv <= SC_LOG_DEBUG ? level_names[lv] : "?");
}

static int parse_switch(sc_config_t *cfg, const sc_flag_t *f, const char *val, char *why,
                        size_t n) {
  (void)val, (void)why, (void)n;
  if (f->off != (size_t)-1) *(int *)FIELD(f) = 1;
  return 0;
}

static void show_switch(const sc_config_t *cfg, const sc_flag_t *f, char *buf, size_t n) {
  if (f->off == (size_t)-1)
    buf[0] = '\0';
  else
    snprintf(buf, n, "%s", *(const int *)CFIELD(f) ? "on" : "off");
}

static const sc_kind_t K_HOSTPORT = {parse_hostport, show_hostport};
static const sc_kind_t K_STRING = {parse_string, show_string};
static const sc_kind_t K_TLS_FILE = {parse_string, show_tls_file};
static const sc_kind_t K_U32 = {parse_u32, show_u32};
static const sc_kind_t K_INT = {parse_int, show_int};
static const sc_kind_t K_MODES = {parse_modes, show_modes};
static const sc_kind_t K_LEVEL = {parse_level, show_level};
static const sc_kind_t K_SWITCH = {parse_switch, show_switch};

#define OFF(field) offsetof(sc_config_t, field)
#define SZ(field) sizeof(((sc_config_t *)0)->field)
#define NOFIELD ((size_t)-1)

static const sc_flag_t flags[] = {
    {"lvsp-listen", "HOST:PORT", &K_HOSTPORT, OFF(lvsp_listen), 0, 0, 0, ACT_SET,
     "LVSP WebSocket listener (Litecord connects here)"},
    {"gateway-listen", "HOST:PORT", &K_HOSTPORT, OFF(gateway_listen), 0, 0, 0, ACT_SET,
     "voice gateway WebSocket listener (clients connect here)"},
    {"udp-listen", "HOST:PORT", &K_HOSTPORT, OFF(udp_listen), 0, 0, 0, ACT_SET, "UDP media socket"},
    {"public-host", "HOST", &K_STRING, OFF(public_host), SZ(public_host), 0, 0, ACT_SET,
     "host/IP told to clients (endpoint and Ready ip)"},
    {"tls-cert", "FILE", &K_TLS_FILE, OFF(tls_cert), SZ(tls_cert), 0, 0, ACT_SET,
     "TLS certificate (needs --tls-key)"},
    {"tls-key", "FILE", &K_TLS_FILE, OFF(tls_key), SZ(tls_key), 0, 0, ACT_SET,
     "TLS private key (needs --tls-cert)"},
    {"no-tls", NULL, &K_SWITCH, OFF(no_tls), 0, 0, 0, ACT_SET, "serve plain ws:// (no TLS)"},
    {"state-dir", "DIR", &K_STRING, OFF(state_dir), SZ(state_dir), 0, 0, ACT_SET,
     "where the LVSP secret and TLS pair are kept"},
    {"media-workers", "N", &K_INT, OFF(media_workers), 0, 1, 64, ACT_SET, "media threads"},
    {"modes", "LIST", &K_MODES, 0, 0, 0, 0, ACT_SET,
     "encryption modes offered, comma-separated, in preference order"},
    {"lvsp-heartbeat-ms", "N", &K_U32, OFF(lvsp_heartbeat_ms), 0, 10, 3600000, ACT_SET,
     "LVSP heartbeat interval in ms"},
    {"gw-heartbeat-ms", "N", &K_U32, OFF(gw_heartbeat_ms), 0, 10, 3600000, ACT_SET,
     "voice gateway heartbeat interval in ms"},
    {"gw-heartbeat-timeout-ms", "N", &K_U32, OFF(gw_heartbeat_timeout_ms), 0, 0, 86400000, ACT_SET,
     "close a voice socket with 4009 after N ms without heartbeat (0 = 2x interval + 5 s)"},
    {"gw-resume-grace-ms", "N", &K_U32, OFF(gw_resume_grace_ms), 0, 0, 3600000, ACT_SET,
     "keep a voice session this long after its socket is gone, for resume"},
    {"gw-resume-buffer", "N", &K_U32, OFF(gw_resume_buffer), 0, 16, 16384, ACT_SET,
     "voice gateway messages kept per session for resume"},
    {"gw-rate-limit", "N", &K_U32, OFF(gw_rate_limit), 0, 1, 1000000, ACT_SET,
     "voice gateway messages per rate window per socket (more: close 4021)"},
    {"gw-rate-window-ms", "N", &K_U32, OFF(gw_rate_window_ms), 0, 1, 3600000, ACT_SET,
     "voice gateway rate window in ms"},
    {"gw-max-message", "N", &K_U32, OFF(gw_max_message), 0, 1024, 1048576, ACT_SET,
     "largest voice gateway message in bytes (more: close 4020)"},
    {"capacity", "N", &K_U32, OFF(capacity), 0, 1, 1000000, ACT_SET,
     "sessions this server is sized for"},
    {"max-connections", "N", &K_U32, OFF(max_connections), 0, 0, SC_CONNECTIONS_MAX, ACT_SET,
     "voice connections held at once; more are closed at accept "
     "(0 = 4 x --capacity)"},
    {"max-voice-states", "N", &K_U32, OFF(max_voice_states), 0, 1, 10000000, ACT_SET,
     "voice states held at once; Litecord's requests beyond are answered with an error"},
    {"max-channels", "N", &K_U32, OFF(max_channels), 0, 1, 10000000, ACT_SET,
     "channels held at once; Litecord's requests beyond are answered with an error"},
    {"lvsp-replay", "N", &K_U32, OFF(lvsp_replay), 0, 0, 1000000, ACT_SET,
     "INFO messages kept for LVSP RESUME"},
    {"lvsp-heartbeat-timeout-ms", "N", &K_U32, OFF(lvsp_heartbeat_timeout_ms), 0, 0, 86400000,
     ACT_SET, "close a silent LVSP link after N ms (0 = never; voice stays)"},
    {"admin-listen", "HOST:PORT", &K_HOSTPORT, OFF(admin_listen), 0, 0, 0, ACT_SET,
     "read-only admin HTTP API (plain HTTP on loopback, else TLS)"},
    {"admin-token", "TOKEN", &K_STRING, OFF(admin_token), SZ(admin_token), 0, 0, ACT_SET,
     "admin bearer token (default: <state-dir>/admin_token, generated)"},
    {"log-level", "LEVEL", &K_LEVEL, 0, 0, 0, 0, ACT_SET, "error, warn, info or debug"},
    {"help", NULL, &K_SWITCH, NOFIELD, 0, 0, 0, ACT_HELP, "print this help and exit"},
    {"version", NULL, &K_SWITCH, NOFIELD, 0, 0, 0, ACT_VERSION, "print the version and exit"},
};

#define N_FLAGS (sizeof flags / sizeof flags[0])

/* ---- defaults, help ---------------------------------------------------------- */

static void set_hostport(sc_hostport_t *hp, const char *host, uint16_t port) {
  snprintf(hp->host, sizeof hp->host, "%s", host);
  hp->port = port;
}

static void config_defaults(sc_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  set_hostport(&cfg->lvsp_listen, "0.0.0.0", 7700);
  set_hostport(&cfg->gateway_listen, "0.0.0.0", 7701);
  set_hostport(&cfg->udp_listen, "0.0.0.0", 7702);
  snprintf(cfg->public_host, sizeof cfg->public_host, "127.0.0.1");
  snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", SC_DEFAULT_STATE_DIR);
  cfg->media_workers = 1;
  snprintf(cfg->modes[0], SC_MODE_NAME_MAX, "aead_aes256_gcm_rtpsize");
  snprintf(cfg->modes[1], SC_MODE_NAME_MAX, "aead_xchacha20_poly1305_rtpsize");
  snprintf(cfg->modes[2], SC_MODE_NAME_MAX, "xsalsa20_poly1305_lite");
  snprintf(cfg->modes[3], SC_MODE_NAME_MAX, "xsalsa20_poly1305_suffix");
  snprintf(cfg->modes[4], SC_MODE_NAME_MAX, "xsalsa20_poly1305");
  cfg->n_modes = 5;
  cfg->lvsp_heartbeat_ms = 45000;
  cfg->gw_heartbeat_ms = 41250;
  cfg->gw_resume_grace_ms = 60000;
  cfg->gw_resume_buffer = 512;
  cfg->gw_rate_limit = 120;
  cfg->gw_rate_window_ms = 10000;
  cfg->gw_max_message = 16384;
  cfg->capacity = 1000;
  cfg->lvsp_replay = 1024;
  cfg->max_voice_states = SC_DEFAULT_MAX_VOICE_STATES;
  cfg->max_channels = SC_DEFAULT_MAX_CHANNELS;
  cfg->lvsp_heartbeat_timeout_ms = 0;
  set_hostport(&cfg->admin_listen, "127.0.0.1", 7703);
  cfg->log_level = SC_LOG_INFO;
}

/* Defaults are rendered from a freshly defaulted config, so the help text
 * cannot drift from config_defaults(). */
static void print_help(FILE *out) {
  sc_config_t def;
  char opt[64], val[SC_MODES_MAX * SC_MODE_NAME_MAX];
  config_defaults(&def);
  fprintf(out, "usage: " PROG " [options]\n\nOptions (--flag VALUE or --flag=VALUE):\n");
  for (size_t i = 0; i < N_FLAGS; i++) {
    const sc_flag_t *f = &flags[i];
    snprintf(opt, sizeof opt, "--%s%s%s", f->name, f->metavar ? " " : "",
             f->metavar ? f->metavar : "");
    f->kind->show(&def, f, val, sizeof val);
    fprintf(out, "  %-26s %s", opt, f->help);
    if (f->max) fprintf(out, " (%u..%u)", f->min, f->max);
    if (*val) fprintf(out, "\n  %-26s [default: %s]", "", val);
    fputc('\n', out);
  }
  fprintf(out, "\nEnvironment:\n  %-26s %s\n  %-26s %s\n", "LVSP_SECRET", "shared LVSP secret", "",
          "[default: <state-dir>/lvsp_secret, generated if missing]");
}

/* ---- argv -------------------------------------------------------------------- */

static const sc_flag_t *find_flag(const char *name, size_t len) {
  for (size_t i = 0; i < N_FLAGS; i++)
    if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0) return &flags[i];
  return NULL;
}

/* Handles argv[*i] (and maybe its value in argv[*i + 1]). Returns the
 * action taken, or -1 with a reason in why. */
static int apply_arg(sc_config_t *cfg, int argc, char **argv, int *i, char *why, size_t n) {
  const char *arg = argv[*i];
  if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
    snprintf(why, n, "unexpected argument '%.200s' (see --help)", arg);
    return -1;
  }
  const char *name = arg + 2, *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  const sc_flag_t *f = find_flag(name, len);
  if (!f) {
    snprintf(why, n, "unknown option '--%.*s' (see --help)", (int)(len > 100 ? 100 : len), name);
    return -1;
  }
  const char *val = eq ? eq + 1 : NULL;
  if (!f->metavar && val) {
    snprintf(why, n, "--%s takes no value", f->name);
    return -1;
  }
  if (f->metavar && !val) {
    /* "--state-dir --no-tls" is far likelier a slip than a real value. */
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
      snprintf(why, n, "--%s needs a value (%s)", f->name, f->metavar);
      return -1;
    }
    val = argv[++*i];
  }
  if (f->kind->parse(cfg, f, val, why, n) != 0) return -1;
  return (int)f->action;
}

static int check_config(sc_config_t *cfg, char *why, size_t n) {
  if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
    snprintf(why, n, "--tls-cert and --tls-key must be given together");
    return -1;
  }
  if (cfg->no_tls && cfg->tls_cert[0]) {
    snprintf(why, n, "--no-tls conflicts with --tls-cert/--tls-key");
    return -1;
  }
  const char *secret = getenv("LVSP_SECRET");
  if (secret && *secret) {
    if (strlen(secret) >= sizeof cfg->lvsp_secret) {
      snprintf(why, n, "LVSP_SECRET is longer than %zu characters", sizeof cfg->lvsp_secret - 1);
      return -1;
    }
    snprintf(cfg->lvsp_secret, sizeof cfg->lvsp_secret, "%s", secret);
  }
  return 0;
}

sc_config_result_t sc_config_parse(sc_config_t *cfg, int argc, char **argv, FILE *out, FILE *err) {
  char why[WHY_MAX];
  config_defaults(cfg);
  for (int i = 1; i < argc; i++) {
    int act = apply_arg(cfg, argc, argv, &i, why, sizeof why);
    if (act < 0) goto fail;
    if (act == ACT_HELP) {
      print_help(out);
      return SC_CONFIG_EXIT_OK;
    }
    if (act == ACT_VERSION) {
      fprintf(out, PROG " " SC_VERSION "\n");
      return SC_CONFIG_EXIT_OK;
    }
  }
  if (check_config(cfg, why, sizeof why) == 0) return SC_CONFIG_RUN;
fail:
  fprintf(err, PROG ": %s\n", why);
  return SC_CONFIG_EXIT_ERROR;
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
