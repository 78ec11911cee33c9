/* Unit tests for sc_config: defaults, every flag in both spellings,
 * HOST:PORT parsing, --help/--version, LVSP_SECRET, and every error path
 * (exactly one "litecord-voice: ..." line on err); and the registration
 * of front-end flags with fake front-end records: each front end's flags
 * land in its own block, defaults, unknown flags and flags of a front end
 * not given, range errors naming the flag, a front end's own value kind
 * and finish hook, --help grouped by front end, a front end without
 * flags, and flags declared twice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_settings.h"
#include "lvsp_settings.h"
#include "sc_app.h"
#include "sc_config.h"
#include "sc_frontend.h"
#include "sc_log.h"
#include "sc_test.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

#define MAX_ARGS 40
#define BLOCK_MAX 2048

/* One parse: the result, what was printed, and copies of the core config
 * and of every front end's block (the app's blocks are freed at once). */
typedef struct {
  sc_config_result_t res;
  sc_config_t cfg;
  int n_frontends;
  const sc_setting_table_t *table[SC_MAX_FRONTENDS];
  int has[SC_MAX_FRONTENDS]; /* the app held a block for this slot */
  _Alignas(max_align_t) unsigned char block[SC_MAX_FRONTENDS][BLOCK_MAX];
  char out[16384];
  char err[1024];
} run_t;

static void grab(FILE *f, char *buf, size_t size) {
  long n = ftell(f);
  rewind(f);
  size_t got = fread(buf, 1, size - 1, f);
  buf[got] = '\0';
  ASSERT_EQ((long)got, n);
  fclose(f);
}

/* Keeps what the parse produced, then frees the app's blocks. */
static void keep(run_t *r, sc_app_t *app) {
  r->cfg = app->cfg;
  r->n_frontends = app->n_frontends;
  for (int i = 0; i < app->n_frontends; i++) {
    const sc_setting_table_t *t = app->frontends[i]->settings;
    r->table[i] = t;
    r->has[i] = app->frontend_settings[i] != NULL;
    if (t && r->has[i]) {
      ASSERT_TRUE(t->block_size <= BLOCK_MAX);
      ASSERT_TRUE(sc_frontend_settings(app, t) == app->frontend_settings[i]);
      memcpy(r->block[i], app->frontend_settings[i], t->block_size);
    }
  }
  sc_config_free(app);
  for (int i = 0; i < SC_MAX_FRONTENDS; i++) ASSERT_TRUE(app->frontend_settings[i] == NULL);
}

/* Parses argv (argv[0] added) with the front ends fe[0..n_fe) (NULL: the
 * registered ones). */
static void run_fe_v(run_t *r, const sc_frontend_t *const *fe, int n_fe, va_list ap) {
  static sc_app_t app;
  char *argv[MAX_ARGS + 2] = {"litecord-voice"};
  int argc = 1;
  for (char *a; (a = va_arg(ap, char *)) != NULL;) {
    ASSERT_TRUE(argc <= MAX_ARGS);
    argv[argc++] = a;
  }
  FILE *out = tmpfile(), *err = tmpfile();
  ASSERT_TRUE(out && err);
  memset(r, 0, sizeof *r);
  memset(&app, 0xA5, sizeof app); /* parse must not rely on a zeroed app */
  r->res = sc_config_parse(&app, fe, n_fe, argc, argv, out, err);
  grab(out, r->out, sizeof r->out);
  grab(err, r->err, sizeof r->err);
  if (r->res == SC_CONFIG_RUN) {
    keep(r, &app);
  } else { /* nothing stays allocated */
    for (int i = 0; i < SC_MAX_FRONTENDS; i++) ASSERT_TRUE(app.frontend_settings[i] == NULL);
  }
}

static void run_fe(run_t *r, const sc_frontend_t *const *fe, int n_fe, ...) {
  va_list ap;
  va_start(ap, n_fe);
  run_fe_v(r, fe, n_fe, ap);
  va_end(ap);
}

/* The registered front ends (lvsp, discord_voice). */
static void run(run_t *r, ...) {
  va_list ap;
  va_start(ap, r);
  run_fe_v(r, NULL, 0, ap);
  va_end(ap);
}

/* The copy of the block of the front end whose table is t. */
static void *block_of(run_t *r, const sc_setting_table_t *t) {
  for (int i = 0; i < r->n_frontends; i++)
    if (r->table[i] == t && r->has[i]) return r->block[i];
  SC_FAIL("no settings block for this table");
  return NULL;
}
#define LV(r) ((lvsp_settings_t *)block_of((r), &lvsp_settings_table))
#define DV(r) ((dv_settings_t *)block_of((r), &dv_settings_table))

/* An error: EXIT_ERROR, nothing on out, one line "litecord-voice: ..."
 * on err that mentions `why`. */
#define EXPECT_ERROR(why, ...)               \
  do {                                       \
    run_t r_;                                \
    run(&r_, __VA_ARGS__, (char *)NULL);     \
    ASSERT_EQ(r_.res, SC_CONFIG_EXIT_ERROR); \
    ASSERT_STREQ(r_.out, "");                \
    check_error_line(r_.err, why);           \
  } while (0)

/* The same with front ends fe[0..n). */
#define EXPECT_FE_ERROR(fe, n, why, ...)           \
  do {                                             \
    run_t r_;                                      \
    run_fe(&r_, fe, n, __VA_ARGS__, (char *)NULL); \
    ASSERT_EQ(r_.res, SC_CONFIG_EXIT_ERROR);       \
    ASSERT_STREQ(r_.out, "");                      \
    check_error_line(r_.err, why);                 \
  } while (0)

static void check_error_line(const char *err, const char *why) {
  size_t len = strlen(err);
  if (strncmp(err, "litecord-voice: ", 16) != 0 || len < 18 || err[len - 1] != '\n' ||
      strchr(err, '\n') != err + len - 1)
    SC_FAIL("not one 'litecord-voice: <reason>' line: \"%s\"", err);
  if (!strstr(err, why)) SC_FAIL("error \"%s\" does not mention \"%s\"", err, why);
  sc_test_checks++;
}

static void test_defaults(void) {
  run_t r;
  unsetenv("LVSP_SECRET");
  run(&r, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.out, "");
  ASSERT_STREQ(r.err, "");
  ASSERT_STREQ(LV(&r)->lvsp_listen.host, "0.0.0.0");
  ASSERT_EQ(LV(&r)->lvsp_listen.port, 7700);
  ASSERT_STREQ(DV(&r)->gateway_listen.host, "0.0.0.0");
  ASSERT_EQ(DV(&r)->gateway_listen.port, 7701);
  ASSERT_STREQ(r.cfg.udp_listen.host, "0.0.0.0");
  ASSERT_EQ(r.cfg.udp_listen.port, 7702);
  ASSERT_STREQ(r.cfg.public_host, "127.0.0.1");
  ASSERT_STREQ(r.cfg.tls_cert, "");
  ASSERT_STREQ(r.cfg.tls_key, "");
  ASSERT_EQ(r.cfg.no_tls, 0);
  ASSERT_STREQ(r.cfg.state_dir, SC_DEFAULT_STATE_DIR);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "");
  ASSERT_EQ(r.cfg.media_workers, 1);
  ASSERT_EQ(DV(&r)->n_modes, 5);
  ASSERT_STREQ(DV(&r)->modes[0], "aead_aes256_gcm_rtpsize");
  ASSERT_STREQ(DV(&r)->modes[1], "aead_xchacha20_poly1305_rtpsize");
  ASSERT_STREQ(DV(&r)->modes[2], "xsalsa20_poly1305_lite");
  ASSERT_STREQ(DV(&r)->modes[3], "xsalsa20_poly1305_suffix");
  ASSERT_STREQ(DV(&r)->modes[4], "xsalsa20_poly1305");
  ASSERT_EQ(DV(&r)->gw_resume_grace_ms, 60000);
  ASSERT_EQ(DV(&r)->gw_heartbeat_timeout_ms, 0);
  ASSERT_EQ(LV(&r)->lvsp_heartbeat_ms, 45000);
  ASSERT_EQ(DV(&r)->gw_heartbeat_ms, 41250);
  ASSERT_EQ(r.cfg.capacity, 1000);
  ASSERT_EQ(r.cfg.log_level, SC_LOG_INFO);
  ASSERT_EQ(r.cfg.max_connections, 0);
  ASSERT_EQ(sc_config_max_connections(&r.cfg), 4000);
  ASSERT_STREQ(r.cfg.admin_listen.host, "127.0.0.1");
  ASSERT_EQ(r.cfg.admin_listen.port, 7703);
  ASSERT_STREQ(r.cfg.admin_token, "");
  ASSERT_EQ(LV(&r)->lvsp_replay, 1024);
  ASSERT_EQ(LV(&r)->lvsp_heartbeat_timeout_ms, 0);
  ASSERT_EQ(DV(&r)->gw_resume_buffer, 512);
  ASSERT_EQ(DV(&r)->gw_rate_limit, 120);
  ASSERT_EQ(DV(&r)->gw_rate_window_ms, 10000);
  ASSERT_EQ(DV(&r)->gw_max_message, 16384);
  ASSERT_STREQ(DV(&r)->ready_ip, ""); /* resolved by the gateway's start() */
}

/* Every number flag keeps its range: both ends parse, one past fails. */
static void test_ranges(void) {
  static const struct {
    const char *flag;
    unsigned long min, max;
  } ranges[] = {
      {"media-workers", 1, 64},
      {"capacity", 1, 1000000},
      {"max-connections", 0, SC_CONNECTIONS_MAX},
      {"lvsp-heartbeat-ms", 10, 3600000},
      {"lvsp-replay", 0, 1000000},
      {"lvsp-heartbeat-timeout-ms", 0, 86400000},
      {"gw-heartbeat-ms", 10, 3600000},
      {"gw-heartbeat-timeout-ms", 0, 86400000},
      {"gw-resume-grace-ms", 0, 3600000},
      {"gw-resume-buffer", 16, 16384},
      {"gw-rate-limit", 1, 1000000},
      {"gw-rate-window-ms", 1, 3600000},
      {"gw-max-message", 1024, 1048576},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    char flag[64], lo[32], hi[32], below[32], above[32], why[256];
    run_t r;
    snprintf(flag, sizeof flag, "--%s", ranges[i].flag);
    snprintf(lo, sizeof lo, "%lu", ranges[i].min);
    snprintf(hi, sizeof hi, "%lu", ranges[i].max);
    snprintf(below, sizeof below, "%lu", ranges[i].min - 1);
    snprintf(above, sizeof above, "%lu", ranges[i].max + 1);
    run(&r, flag, lo, (char *)NULL);
    if (r.res != SC_CONFIG_RUN) SC_FAIL("%s %s refused: %s", flag, lo, r.err);
    run(&r, flag, hi, (char *)NULL);
    if (r.res != SC_CONFIG_RUN) SC_FAIL("%s %s refused: %s", flag, hi, r.err);
    snprintf(why, sizeof why, "%s: '%s' is not a number in %s..%s", flag, above, lo, hi);
    EXPECT_ERROR(why, flag, above);
    if (ranges[i].min == 0) continue;
    snprintf(why, sizeof why, "%s: '%s' is not a number in %s..%s", flag, below, lo, hi);
    EXPECT_ERROR(why, flag, below);
  }
}

/* Every value flag, first as "--flag value", then as "--flag=value". */
static void check_all_flags(run_t *r) {
  ASSERT_EQ(r->res, SC_CONFIG_RUN);
  ASSERT_STREQ(r->err, "");
  ASSERT_STREQ(LV(r)->lvsp_listen.host, "127.0.0.1");
  ASSERT_EQ(LV(r)->lvsp_listen.port, 9000);
  ASSERT_STREQ(DV(r)->gateway_listen.host, "::1");
  ASSERT_EQ(DV(r)->gateway_listen.port, 9001);
  ASSERT_STREQ(r->cfg.udp_listen.host, "0.0.0.0");
  ASSERT_EQ(r->cfg.udp_listen.port, 0);
  ASSERT_STREQ(r->cfg.public_host, "voice.example.com");
  ASSERT_STREQ(r->cfg.tls_cert, "/etc/c.pem");
  ASSERT_STREQ(r->cfg.tls_key, "/etc/k.pem");
  ASSERT_STREQ(r->cfg.state_dir, "/var/lib/lv");
  ASSERT_EQ(r->cfg.media_workers, 64);
  ASSERT_EQ(DV(r)->n_modes, 3);
  ASSERT_STREQ(DV(r)->modes[0], "xsalsa20_poly1305");
  ASSERT_STREQ(DV(r)->modes[1], "b");
  ASSERT_STREQ(DV(r)->modes[2], "aead_aes256_gcm_rtpsize");
  ASSERT_EQ(LV(r)->lvsp_heartbeat_ms, 1000);
  ASSERT_EQ(DV(r)->gw_heartbeat_ms, 3600000);
  ASSERT_EQ(r->cfg.capacity, 5);
  ASSERT_EQ(r->cfg.log_level, SC_LOG_DEBUG);
  ASSERT_EQ(r->cfg.no_tls, 0);
}

static void test_all_flags(void) {
  run_t r;
  run(&r, "--lvsp-listen", "127.0.0.1:9000", "--gateway-listen", "[::1]:9001", "--udp-listen", ":0",
      "--public-host", "voice.example.com", "--tls-cert", "/etc/c.pem", "--tls-key", "/etc/k.pem",
      "--state-dir", "/var/lib/lv", "--media-workers", "64", "--modes",
      "xsalsa20_poly1305,b,aead_aes256_gcm_rtpsize", "--lvsp-heartbeat-ms", "1000",
      "--gw-heartbeat-ms", "3600000", "--capacity", "5", "--log-level", "debug", (char *)NULL);
  check_all_flags(&r);

  run(&r, "--lvsp-listen=127.0.0.1:9000", "--gateway-listen=[::1]:9001", "--udp-listen=:0",
      "--public-host=voice.example.com", "--tls-cert=/etc/c.pem", "--tls-key=/etc/k.pem",
      "--state-dir=/var/lib/lv", "--media-workers=64",
      "--modes=xsalsa20_poly1305,b,aead_aes256_gcm_rtpsize", "--lvsp-heartbeat-ms=1000",
      "--gw-heartbeat-ms=3600000", "--capacity=5", "--log-level=debug", (char *)NULL);
  check_all_flags(&r);

  run(&r, "--lvsp-listen", "127.0.0.1:9000", "--gateway-listen=[::1]:9001", "--udp-listen", ":0",
      "--public-host=voice.example.com", "--tls-cert", "/etc/c.pem", "--tls-key=/etc/k.pem",
      "--state-dir", "/var/lib/lv", "--media-workers=64", "--modes",
      "xsalsa20_poly1305,b,aead_aes256_gcm_rtpsize", "--lvsp-heartbeat-ms=1000",
      "--gw-heartbeat-ms", "3600000", "--capacity=5", "--log-level", "debug", (char *)NULL);
  check_all_flags(&r);
}

static void test_switches_and_levels(void) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  run_t r;
  run(&r, "--no-tls", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(r.cfg.no_tls, 1);
  for (int i = 0; i < 4; i++) {
    char eq[32];
    snprintf(eq, sizeof eq, "--log-level=%s", names[i]);
    run(&r, eq, (char *)NULL);
    ASSERT_EQ(r.cfg.log_level, i);
    run(&r, "--log-level", (char *)names[i], (char *)NULL);
    ASSERT_EQ(r.res, SC_CONFIG_RUN);
    ASSERT_EQ(r.cfg.log_level, i);
  }
  /* Repeated flags: the last one wins. */
  run(&r, "--capacity", "7", "--capacity=8", "--modes", "a,b", "--modes=c", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(r.cfg.capacity, 8);
  ASSERT_EQ(DV(&r)->n_modes, 1);
  ASSERT_STREQ(DV(&r)->modes[0], "c");
  /* Limits that are allowed. */
  run(&r, "--media-workers", "1", "--modes", "1,2,3,4,5,6,7,8", "--lvsp-heartbeat-ms", "10",
      (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(DV(&r)->n_modes, DV_MODES_MAX);
  ASSERT_STREQ(DV(&r)->modes[7], "8");
  char longest[DV_MODE_NAME_MAX + 16];
  memset(longest, 'm', DV_MODE_NAME_MAX - 1);
  longest[DV_MODE_NAME_MAX - 1] = '\0';
  run(&r, "--modes", longest, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(DV(&r)->modes[0], longest);
  /* The value may itself contain '=' or start with a single '-'. */
  run(&r, "--state-dir=a=b", "--public-host", "-weird", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.cfg.state_dir, "a=b");
  ASSERT_STREQ(r.cfg.public_host, "-weird");
}

static void test_hostport(void) {
  sc_hostport_t hp;
  static const struct {
    const char *text, *host;
    int port;
  } good[] = {
      {"127.0.0.1:7700", "127.0.0.1", 7700},
      {"0.0.0.0:1", "0.0.0.0", 1},
      {":8080", "0.0.0.0", 8080},
      {"[::1]:443", "::1", 443},
      {"[::]:65535", "::", 65535},
      {"localhost:0", "localhost", 0},
      {"eth0:5", "eth0", 5},
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    memset(&hp, 0, sizeof hp);
    if (sc_config_parse_hostport(good[i].text, &hp) != 0)
      SC_FAIL("'%s' should parse", good[i].text);
    ASSERT_STREQ(hp.host, good[i].host);
    ASSERT_EQ(hp.port, good[i].port);
  }
  static const char *const bad[] = {
      "",         "7700",        "host",    "host:",  "host:65536", "host:-1",
      "host:+1",  "host: 1",     "host:1 ", "::1:80", "[::1]80",    "[::1]",
      "[::1:80",  "[zz]:80",     "[]:80",   "a b:80", "h:0x10",     "h:99999999999",
      "h:000080", "[1.2.3.4]:5", ":",       "a/b:80",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (sc_config_parse_hostport(bad[i], &hp) != -1) SC_FAIL("'%s' should not parse", bad[i]);
    sc_test_checks++;
  }
  char longhost[SC_HOST_MAX + 10];
  memset(longhost, 'h', SC_HOST_MAX);
  snprintf(longhost + SC_HOST_MAX, 10, ":80");
  ASSERT_EQ(sc_config_parse_hostport(longhost, &hp), -1);
  snprintf(longhost + SC_HOST_MAX - 1, 10, ":80"); /* 255 chars: fits */
  ASSERT_EQ(sc_config_parse_hostport(longhost, &hp), 0);
  ASSERT_EQ(strlen(hp.host), SC_HOST_MAX - 1);
  ASSERT_EQ(sc_config_parse_hostport(NULL, &hp), -1);
}

static void test_errors(void) {
  EXPECT_ERROR("unknown option '--bogus'", "--bogus");
  EXPECT_ERROR("unknown option '--bogus'", "--bogus=1");
  EXPECT_ERROR("unknown option '--lvsp'", "--lvsp", "1.2.3.4:5"); /* no prefix matching */
  EXPECT_ERROR("unexpected argument 'stray'", "stray");
  EXPECT_ERROR("unexpected argument '-h'", "-h");
  EXPECT_ERROR("unexpected argument '--'", "--");
  EXPECT_ERROR("--state-dir needs a value", "--state-dir");
  EXPECT_ERROR("--capacity needs a value", "--capacity", "--no-tls");
  EXPECT_ERROR("--no-tls takes no value", "--no-tls=1");
  EXPECT_ERROR("--help takes no value", "--help=yes");
  EXPECT_ERROR("--lvsp-listen: bad HOST:PORT 'nope'", "--lvsp-listen", "nope");
  EXPECT_ERROR("--gateway-listen: bad HOST:PORT", "--gateway-listen=1.2.3.4:70000");
  EXPECT_ERROR("--udp-listen: bad HOST:PORT", "--udp-listen=");
  EXPECT_ERROR("--public-host: value is empty", "--public-host=");
  EXPECT_ERROR("--tls-cert: value is empty", "--tls-cert", "");
  EXPECT_ERROR("--state-dir: value is empty", "--state-dir=");
  EXPECT_ERROR("--media-workers: '0' is not a number in 1..64", "--media-workers", "0");
  EXPECT_ERROR("--media-workers: '65'", "--media-workers=65");
  EXPECT_ERROR("--media-workers: '-1'", "--media-workers=-1");
  EXPECT_ERROR("--media-workers: ''", "--media-workers=");
  EXPECT_ERROR("--capacity: 'ten'", "--capacity", "ten");
  EXPECT_ERROR("--capacity: '1.5'", "--capacity", "1.5");
  EXPECT_ERROR("--capacity: ' 5'", "--capacity", " 5");
  EXPECT_ERROR("--capacity: '99999999999999999999'", "--capacity=99999999999999999999");
  EXPECT_ERROR("--lvsp-heartbeat-ms: '0x10'", "--lvsp-heartbeat-ms", "0x10");
  EXPECT_ERROR("--gw-heartbeat-ms: '4294967296'", "--gw-heartbeat-ms=4294967296");
  EXPECT_ERROR("--log-level: 'loud'", "--log-level", "loud");
  EXPECT_ERROR("--log-level: 'INFO'", "--log-level=INFO");
  EXPECT_ERROR("--modes: need", "--modes=");
  EXPECT_ERROR("--modes: need", "--modes", "a,,b");
  EXPECT_ERROR("--modes: need", "--modes", "a,");
  EXPECT_ERROR("--modes: need", "--modes", ",a");
  EXPECT_ERROR("--modes: need", "--modes", "1,2,3,4,5,6,7,8,9");
  char toolong[DV_MODE_NAME_MAX + 1];
  memset(toolong, 'm', DV_MODE_NAME_MAX);
  toolong[DV_MODE_NAME_MAX] = '\0';
  EXPECT_ERROR("--modes: need", "--modes", toolong);
  char bigpath[SC_PATH_MAX + 1];
  memset(bigpath, 'p', SC_PATH_MAX);
  bigpath[SC_PATH_MAX] = '\0';
  EXPECT_ERROR("--state-dir: value longer than 1023", "--state-dir", bigpath);
  EXPECT_ERROR("--tls-cert and --tls-key must be given together", "--tls-cert", "c.pem");
  EXPECT_ERROR("--tls-cert and --tls-key must be given together", "--tls-key=k.pem");
  EXPECT_ERROR("--no-tls conflicts", "--no-tls", "--tls-cert=c", "--tls-key=k");
  /* The first error stops parsing; a later --help is not reached. */
  EXPECT_ERROR("unknown option '--x'", "--x", "--help");
}

static void test_help_version(void) {
  static const char *const must[] = {
      "--lvsp-listen",
      "--gateway-listen",
      "--udp-listen",
      "--public-host",
      "--tls-cert",
      "--tls-key",
      "--no-tls",
      "--state-dir",
      "--help",
      "--version",
      "--media-workers",
      "--modes",
      "--lvsp-heartbeat-ms",
      "--gw-heartbeat-ms",
      "--capacity",
      "--log-level",
      "LVSP_SECRET",
      "0.0.0.0:7700",
      "0.0.0.0:7701",
      "0.0.0.0:7702",
      "127.0.0.1",
      SC_DEFAULT_STATE_DIR,
      "45000",
      "41250",
      "[default: 1000]",
      "[default: info]",
      "[default: 1]",
      "aead_aes256_gcm_rtpsize,aead_xchacha20_poly1305_rtpsize",
  };
  run_t r;
  run(&r, "--help", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  ASSERT_STREQ(r.err, "");
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
    if (!strstr(r.out, must[i])) SC_FAIL("--help does not mention '%s':\n%s", must[i], r.out);
  /* Defaults shown are the defaults, even after other flags were parsed. */
  run(&r, "--capacity", "3", "--help", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  ASSERT_TRUE(strstr(r.out, "[default: 1000]") != NULL);

  run(&r, "--version", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  ASSERT_STREQ(r.out, "litecord-voice " SC_VERSION "\n");
  ASSERT_STREQ(r.err, "");
}

static void test_secret_env(void) {
  run_t r;
  ASSERT_EQ(setenv("LVSP_SECRET", "s3cr3t-from-env", 1), 0);
  run(&r, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "s3cr3t-from-env");
  ASSERT_EQ(setenv("LVSP_SECRET", "", 1), 0);
  run(&r, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "");
  char big[SC_SECRET_MAX + 1];
  memset(big, 'x', SC_SECRET_MAX);
  big[SC_SECRET_MAX] = '\0';
  ASSERT_EQ(setenv("LVSP_SECRET", big, 1), 0);
  EXPECT_ERROR("LVSP_SECRET is longer than 255", "--no-tls");
  big[SC_SECRET_MAX - 1] = '\0';
  ASSERT_EQ(setenv("LVSP_SECRET", big, 1), 0);
  run(&r, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(LV(&r)->lvsp_secret, big);
  ASSERT_EQ(unsetenv("LVSP_SECRET"), 0);
  run(&r, (char *)NULL);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "");
}

/* ---- front-end flags, with fake front-end records ------------------------- */

typedef struct {
  uint32_t port;
  char name[16];
  int loud;
  sc_hostport_t listen;
} fa_t;

static const sc_setting_t fa_settings[] = {
    {"fa-port", "N", &sc_kind_u32, offsetof(fa_t, port), 0, 1, 10, "3", "fake A's number"},
    {"fa-name", "NAME", &sc_kind_string, offsetof(fa_t, name), sizeof(((fa_t *)0)->name), 0, 0,
     "alpha", "fake A's name"},
    {"fa-loud", NULL, &sc_kind_switch, offsetof(fa_t, loud), 0, 0, 0, NULL, "fake A's switch"},
    {"fa-listen", "HOST:PORT", &sc_kind_hostport, offsetof(fa_t, listen), 0, 0, 0, ":9",
     "fake A's listener"},
};
static const sc_setting_table_t fa_table = {fa_settings, 4, sizeof(fa_t), NULL, NULL};
static const sc_frontend_t fake_a = {.name = "fake-a", .order = 1, .settings = &fa_table};

/* Fake B brings its own value kind (upper-case words) and a finish hook. */
typedef struct {
  int count;
  char word[8];
  const sc_config_t *core_seen; /* what finish was given */
} fb_t;

static int parse_word(void *block, const sc_setting_t *s, const char *val, char *why, size_t n) {
  size_t len = strlen(val);
  if (len == 0 || len >= s->size || strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != len) {
    snprintf(why, n, "--%s: '%s' is not an upper-case word", s->name, val);
    return -1;
  }
  memcpy(SC_SETTING_FIELD(block, s), val, len + 1);
  return 0;
}

static void show_word(const void *block, const sc_setting_t *s, char *buf, size_t n) {
  snprintf(buf, n, "<%s>", SC_SETTING_CFIELD(block, s));
}

static const sc_setting_kind_t K_WORD = {parse_word, show_word};

static int fb_finish(void *block, const sc_config_t *core, char *why, size_t n) {
  fb_t *b = block;
  b->core_seen = core;
  if (b->count == 0 && strcmp(b->word, "HI") == 0) {
    snprintf(why, n, "--fb-count 0 needs another --fb-word");
    return -1;
  }
  return 0;
}

static const sc_setting_t fb_settings[] = {
    {"fb-count", "N", &sc_kind_int, offsetof(fb_t, count), 0, 0, 5, "2", "fake B's count"},
    {"fb-word", "WORD", &K_WORD, offsetof(fb_t, word), sizeof(((fb_t *)0)->word), 0, 0, "HI",
     "fake B's word"},
};
static const sc_setting_table_t fb_table = {fb_settings, 2, sizeof(fb_t), fb_finish,
                                            "  FAKE_B_ENV (environment)  read by nobody\n"};
static const sc_frontend_t fake_b = {.name = "fake-b", .order = 2, .settings = &fb_table};

/* A front end without flags. */
static const sc_frontend_t fake_none = {.name = "fake-none", .order = 3};

static const sc_frontend_t *const fakes[] = {&fake_a, &fake_none, &fake_b};
#define N_FAKES 3

static fa_t *fa_of(run_t *r) {
  return block_of(r, &fa_table);
}
static fb_t *fb_of(run_t *r) {
  return block_of(r, &fb_table);
}

/* Without arguments every block holds its declared defaults; the front end
 * without flags gets none; the records are kept by slot. */
static void test_fe_defaults(void) {
  run_t r;
  run_fe(&r, fakes, N_FAKES, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.err, "");
  ASSERT_EQ(r.n_frontends, 3);
  ASSERT_TRUE(r.table[0] == &fa_table && r.has[0]);
  ASSERT_TRUE(r.table[1] == NULL && !r.has[1]);
  ASSERT_TRUE(r.table[2] == &fb_table && r.has[2]);
  ASSERT_EQ(fa_of(&r)->port, 3);
  ASSERT_STREQ(fa_of(&r)->name, "alpha");
  ASSERT_EQ(fa_of(&r)->loud, 0);
  ASSERT_STREQ(fa_of(&r)->listen.host, "0.0.0.0");
  ASSERT_EQ(fa_of(&r)->listen.port, 9);
  ASSERT_EQ(fb_of(&r)->count, 2);
  ASSERT_STREQ(fb_of(&r)->word, "HI");
  /* The core's defaults are there too, and finish saw them. */
  ASSERT_EQ(r.cfg.capacity, 1000);
  ASSERT_EQ(r.cfg.udp_listen.port, 7702);
  ASSERT_TRUE(fb_of(&r)->core_seen != NULL);
  /* No front ends at all: the core alone. */
  run_fe(&r, fakes, 0, "--capacity", "5", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(r.n_frontends, 0);
  ASSERT_EQ(r.cfg.capacity, 5);
}

/* Each front end's flags land in its own block, whatever the order. */
static void test_fe_own_blocks(void) {
  run_t r;
  run_fe(&r, fakes, N_FAKES, "--fb-count", "4", "--fa-port", "7", "--fa-loud", "--fb-word=XY",
         "--capacity", "9", "--fa-name=beta", "--fa-listen", "[::1]:80", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.err, "");
  ASSERT_EQ(fa_of(&r)->port, 7);
  ASSERT_STREQ(fa_of(&r)->name, "beta");
  ASSERT_EQ(fa_of(&r)->loud, 1);
  ASSERT_STREQ(fa_of(&r)->listen.host, "::1");
  ASSERT_EQ(fa_of(&r)->listen.port, 80);
  ASSERT_EQ(fb_of(&r)->count, 4);
  ASSERT_STREQ(fb_of(&r)->word, "XY");
  ASSERT_EQ(r.cfg.capacity, 9);
  /* One front end's flag leaves the other's block at its defaults. */
  run_fe(&r, fakes, N_FAKES, "--fb-count=0", "--fb-word", "OK", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(fa_of(&r)->port, 3);
  ASSERT_STREQ(fa_of(&r)->name, "alpha");
  ASSERT_EQ(fb_of(&r)->count, 0);
  ASSERT_STREQ(fb_of(&r)->word, "OK");
}

static void test_fe_unknown(void) {
  /* A flag nobody declares. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "unknown option '--fc-port'", "--fc-port", "1");
  /* A flag of a front end that is not among the records given. */
  EXPECT_FE_ERROR(fakes, 1, "unknown option '--fb-count'", "--fa-port", "2", "--fb-count", "1");
  /* The registered front ends' flags exist only when they are given. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "unknown option '--lvsp-listen'", "--lvsp-listen", ":1");
  EXPECT_FE_ERROR(fakes, N_FAKES, "unknown option '--modes'", "--modes=a");
  /* No prefix matching across groups either. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "unknown option '--fa'", "--fa", "1");
}

static void test_fe_errors(void) {
  /* Range errors name the flag and its range. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fa-port: '11' is not a number in 1..10", "--fa-port", "11");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fa-port: '0' is not a number in 1..10", "--fa-port=0");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fb-count: '6' is not a number in 0..5", "--fb-count", "6");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fa-name: value longer than 15", "--fa-name",
                  "sixteen-letters!");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fa-listen: bad HOST:PORT 'x'", "--fa-listen", "x");
  /* The front end's own kind, its switch, its finish hook. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fb-word: 'lower' is not an upper-case word", "--fb-word",
                  "lower");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fa-loud takes no value", "--fa-loud=1");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fb-word needs a value", "--fb-word", "--fa-loud");
  EXPECT_FE_ERROR(fakes, N_FAKES, "--fb-count 0 needs another --fb-word", "--fb-count", "0");
  /* The core's checks still run with front ends present. */
  EXPECT_FE_ERROR(fakes, N_FAKES, "--tls-cert and --tls-key", "--tls-cert", "c.pem");
}

/* A table's own mistakes are reported before any flag is read. */
static void test_fe_bad_tables(void) {
  typedef struct {
    uint32_t n;
  } fx_t;
  static const sc_setting_t bad_def[] = {
      {"fx-n", "N", &sc_kind_u32, offsetof(fx_t, n), 0, 1, 10, "99", "default out of range"},
  };
  static const sc_setting_table_t bad_def_table = {bad_def, 1, sizeof(fx_t), NULL, NULL};
  static const sc_frontend_t bad_def_fe = {.name = "fake-bad", .settings = &bad_def_table};
  const sc_frontend_t *one[] = {&bad_def_fe};
  EXPECT_FE_ERROR(one, 1, "bad default of --fx-n: --fx-n: '99' is not a number in 1..10",
                  (char *)NULL);
  /* A flag the core has, or another front end has, declared again. */
  static const sc_setting_t dup_core[] = {
      {"capacity", "N", &sc_kind_u32, offsetof(fx_t, n), 0, 1, 10, "1", "clash with the core"},
  };
  static const sc_setting_table_t dup_core_table = {dup_core, 1, sizeof(fx_t), NULL, NULL};
  static const sc_frontend_t dup_core_fe = {.name = "fake-dup", .settings = &dup_core_table};
  const sc_frontend_t *dup1[] = {&fake_a, &dup_core_fe};
  EXPECT_FE_ERROR(dup1, 2, "--capacity is declared by both core and fake-dup", (char *)NULL);
  static const sc_frontend_t fake_a_again = {.name = "fake-a2", .settings = &fa_table};
  const sc_frontend_t *dup2[] = {&fake_a, &fake_b, &fake_a_again};
  EXPECT_FE_ERROR(dup2, 3, "--fa-port is declared by both fake-a and fake-a2", (char *)NULL);
  /* More records than the app has slots. */
  const sc_frontend_t *many[SC_MAX_FRONTENDS + 1];
  for (int i = 0; i <= SC_MAX_FRONTENDS; i++) many[i] = &fake_none;
  EXPECT_FE_ERROR(many, SC_MAX_FRONTENDS + 1, "front ends (at most", (char *)NULL);
}

/* Where `needle` first is in `hay`, or fails. */
static const char *at(const char *hay, const char *needle) {
  const char *p = strstr(hay, needle);
  if (!p) SC_FAIL("--help lacks '%s':\n%s", needle, hay);
  sc_test_checks++;
  return p ? p : hay;
}

/* Every string in `flags` is found after `header`, before `next`. */
static void check_group(const char *out, const char *header, const char *next,
                        const char *const *flags, size_t n) {
  const char *start = at(out, header);
  const char *end = next ? at(out, next) : out + strlen(out);
  if (start >= end) SC_FAIL("'%s' is not before '%s':\n%s", header, next, out);
  for (size_t i = 0; i < n; i++) {
    const char *p = at(start, flags[i]);
    if (p < start || p > end) SC_FAIL("'%s' is not under '%s':\n%s", flags[i], header, out);
  }
}

/* --help: the core's flags first, then each front end's under its name
 * (in the order given), nothing for a front end without flags. */
static void test_fe_help_groups(void) {
  run_t r;
  run_fe(&r, fakes, N_FAKES, "--fa-port", "5", "--help", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  ASSERT_STREQ(r.err, "");
  static const char *const core[] = {"--udp-listen HOST:PORT", "--capacity N", "--help",
                                     "--version", "[default: 1000]"};
  static const char *const a[] = {"--fa-port N",    "fake A's number (1..10)", "[default: 3]",
                                  "--fa-name NAME", "[default: alpha]",        "--fa-loud ",
                                  "[default: off]", "[default: 0.0.0.0:9]"};
  static const char *const b[] = {"--fb-count N",   "(0..5)",          "[default: 2]",
                                  "--fb-word WORD", "[default: <HI>]", "FAKE_B_ENV (environment)"};
  check_group(r.out, "\ncore options:\n", "\nfake-a options:\n", core, 5);
  check_group(r.out, "\nfake-a options:\n", "\nfake-b options:\n", a, 8);
  check_group(r.out, "\nfake-b options:\n", NULL, b, 6);
  ASSERT_TRUE(strstr(r.out, "fake-none") == NULL);
  ASSERT_TRUE(strstr(r.out, "[default: 5]") == NULL); /* defaults, not parsed values */
  /* Records in another order: the groups follow them. */
  const sc_frontend_t *ba[] = {&fake_b, &fake_a};
  run_fe(&r, ba, 2, "--help", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  check_group(r.out, "\ncore options:\n", "\nfake-b options:\n", core, 5);
  check_group(r.out, "\nfake-b options:\n", "\nfake-a options:\n", b, 6);
  check_group(r.out, "\nfake-a options:\n", NULL, a, 8);
}

/* The shipped binary's groups: core, then lvsp, then the voice gateway. */
static void test_help_groups_registered(void) {
  run_t r;
  run(&r, "--help", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_EXIT_OK);
  static const char *const core[] = {
      "--udp-listen",  "--public-host",   "--tls-cert", "--tls-key",         "--no-tls",
      "--state-dir",   "--media-workers", "--capacity", "--max-connections", "--admin-listen",
      "--admin-token", "--log-level",     "--help",     "--version"};
  static const char *const lvsp[] = {"--lvsp-listen", "--lvsp-heartbeat-ms", "--lvsp-replay",
                                     "--lvsp-heartbeat-timeout-ms", "LVSP_SECRET"};
  static const char *const dv[] = {"--gateway-listen",     "--modes",
                                   "--gw-heartbeat-ms",    "--gw-heartbeat-timeout-ms",
                                   "--gw-resume-grace-ms", "--gw-resume-buffer",
                                   "--gw-rate-limit",      "--gw-rate-window-ms",
                                   "--gw-max-message"};
  check_group(r.out, "\ncore options:\n", "\nlvsp options:\n", core, 14);
  check_group(r.out, "\nlvsp options:\n", "\ndiscord voice gateway options:\n", lvsp, 5);
  check_group(r.out, "\ndiscord voice gateway options:\n", NULL, dv, 9);
}

int main(void) {
  RUN_TEST(test_defaults);
  RUN_TEST(test_ranges);
  RUN_TEST(test_all_flags);
  RUN_TEST(test_switches_and_levels);
  RUN_TEST(test_hostport);
  RUN_TEST(test_errors);
  RUN_TEST(test_help_version);
  RUN_TEST(test_secret_env);
  RUN_TEST(test_fe_defaults);
  RUN_TEST(test_fe_own_blocks);
  RUN_TEST(test_fe_unknown);
  RUN_TEST(test_fe_errors);
  RUN_TEST(test_fe_bad_tables);
  RUN_TEST(test_fe_help_groups);
  RUN_TEST(test_help_groups_registered);
  SC_TEST_DONE();
}
