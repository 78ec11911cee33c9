/* Unit tests for sc_config with the shipped flags: defaults and ranges,
 * every flag in both spellings, HOST:PORT parsing, --help/--version (grouped:
 * core, lvsp, discord voice gateway), LVSP_SECRET, and every error path
 * (exactly one "litecord-voice: ..." line on err). The registration of
 * front-end flags itself is tested with fake records in test_settings.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_fx.h"
#include "sc_log.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

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

/* The front ends' media address: an IPv4 literal resolves to itself, an
 * IPv6 one to nothing (refused, logged). No DNS: the names are literals. */
static void test_public_ipv4(void) {
  sc_config_t cfg = {0};
  char ip[64] = "";
  snprintf(cfg.public_host, sizeof cfg.public_host, "203.0.113.7");
  ASSERT_EQ(sc_config_public_ipv4(&cfg, "test", ip, sizeof ip), 0);
  ASSERT_STREQ(ip, "203.0.113.7");
  snprintf(cfg.public_host, sizeof cfg.public_host, "::1");
  ASSERT_EQ(sc_config_public_ipv4(&cfg, "test", ip, sizeof ip), -1);
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
  EXPECT_ERROR("environment LVSP_SECRET: --lvsp-secret: value longer than 255", "--no-tls");
  big[SC_SECRET_MAX - 1] = '\0';
  ASSERT_EQ(setenv("LVSP_SECRET", big, 1), 0);
  run(&r, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(LV(&r)->lvsp_secret, big);
  ASSERT_EQ(unsetenv("LVSP_SECRET"), 0);
  run(&r, (char *)NULL);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "");
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

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_defaults);
  RUN_TEST(test_ranges);
  RUN_TEST(test_public_ipv4);
  RUN_TEST(test_all_flags);
  RUN_TEST(test_switches_and_levels);
  RUN_TEST(test_hostport);
  RUN_TEST(test_errors);
  RUN_TEST(test_help_version);
  RUN_TEST(test_help_groups_registered);
  RUN_TEST(test_secret_env);
  SC_TEST_DONE();
}
