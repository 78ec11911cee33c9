/* Unit tests for the configuration file layer (sc_conffile with libinih,
 * and the layers in sc_config_parse) with the shipped settings: the
 * precedence defaults < file < environment < flags, sections, one-line
 * errors naming file and line (unknown key, bad value, key in another
 * group's section, a line that is not "key = value", a line too long),
 * secrets from files, the effective settings with secrets masked
 * (sc_config_show), and what a reload applies (sc_config_apply_live). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_fx.h"
#include "sc_conffile.h"
#include "sc_log.h"

static char dir[] = "/tmp/test_conffile.XXXXXX";
static char path[256], other[256];

/* Writes text to dir/name, returns its path (static buffer per name slot). */
static const char *put(char *buf, const char *name, const char *text, int mode) {
  snprintf(buf, 256, "%s/%s", dir, name);
  FILE *f = fopen(buf, "w");
  ASSERT_TRUE(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  chmod(buf, (mode_t)mode);
  return buf;
}

static const char *conf(const char *text) {
  return put(path, "a.conf", text, 0600);
}

/* The expected "litecord-voice: <file>:<line>: <why>" error. */
#define EXPECT_FILE_ERROR(text, line, why)                                 \
  do {                                                                     \
    char want_[512];                                                       \
    snprintf(want_, sizeof want_, "%s:%d: %s", conf(text), (line), (why)); \
    EXPECT_ERROR(want_, "--config", path);                                 \
  } while (0)

static void test_setup(void) {
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  unsetenv("LVSP_SECRET");
  unsetenv("LITECORD_VOICE_CAPACITY");
}

static void test_precedence(void) {
  run_t r;
  conf("capacity = 10\nlog-level = debug\nlog-format = json\n");
  run(&r, (char *)NULL);
  ASSERT_EQ(r.cfg.capacity, 1000); /* no --config: the default file only */
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(r.cfg.capacity, 10);
  ASSERT_EQ(r.cfg.log_level, SC_LOG_DEBUG);
  ASSERT_EQ(r.cfg.log_format, SC_LOG_JSON);
  ASSERT_STREQ(r.cfg.config_file, path);
  ASSERT_EQ(setenv("LITECORD_VOICE_CAPACITY", "20", 1), 0);
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.cfg.capacity, 20);
  ASSERT_EQ(r.cfg.log_level, SC_LOG_DEBUG); /* the file's, the environment has none */
  run(&r, "--capacity=30", "--config", path, (char *)NULL);
  ASSERT_EQ(r.cfg.capacity, 30); /* a flag wins, wherever it stands */
  ASSERT_EQ(setenv("LITECORD_VOICE_CAPACITY", "", 1), 0);
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.cfg.capacity, 10); /* empty counts as unset */
  ASSERT_EQ(setenv("LITECORD_VOICE_CAPACITY", "0", 1), 0);
  EXPECT_ERROR("environment LITECORD_VOICE_CAPACITY: --capacity: '0' is not a number", "--config",
               path);
  unsetenv("LITECORD_VOICE_CAPACITY");
  /* Front ends' keys and the environment names of dashed keys. */
  conf("gw-max-message = 2048\nlvsp-heartbeat-ms = 500\n");
  ASSERT_EQ(setenv("LITECORD_VOICE_GW_MAX_MESSAGE", "4096", 1), 0);
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(DV(&r)->gw_max_message, 4096);
  ASSERT_EQ(LV(&r)->lvsp_heartbeat_ms, 500);
  unsetenv("LITECORD_VOICE_GW_MAX_MESSAGE");
  run(&r, "--config", "none", (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.cfg.config_file, "");
}

static void test_sections(void) {
  run_t r;
  conf(
      "capacity = 5\n[core]\nmedia-workers = 2\n[LVSP]\nlvsp-replay = 7\n"
      "[discord voice gateway]\ngw-rate-limit = 9\n; a comment\n# another\n\n");
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_EQ(r.cfg.capacity, 5);
  ASSERT_EQ(r.cfg.media_workers, 2);
  ASSERT_EQ(LV(&r)->lvsp_replay, 7);
  ASSERT_EQ(DV(&r)->gw_rate_limit, 9);
  EXPECT_FILE_ERROR("[lvsp]\nlvsp-replay = 1\ngw-rate-limit = 9\n", 3,
                    "'gw-rate-limit' belongs in [discord voice gateway], not [lvsp]");
  EXPECT_FILE_ERROR("capacity = 1\n[gateway]\ngw-rate-limit = 9\n", 3, "unknown section [gateway]");
}

static void test_errors(void) {
  EXPECT_FILE_ERROR("capacity = 1\n\nno-such-key = 1\n", 3, "unknown key 'no-such-key'");
  EXPECT_FILE_ERROR("# c\ncapacity = lots\n", 2,
                    "--capacity: 'lots' is not a number in 1..1000000");
  EXPECT_FILE_ERROR("capacity = 1\njust words\n", 2, "not a 'key = value' line or a [section]");
  EXPECT_FILE_ERROR("capacity = 1 # no inline comments\n", 1, "--capacity: '1 # no inline");
  EXPECT_FILE_ERROR("config = /etc/other.conf\n", 1, "'config' can only be given on the command");
  EXPECT_FILE_ERROR("help = yes\n", 1, "'help' can only be given on the command line");
  EXPECT_FILE_ERROR("no-tls = maybe\n", 1, "--no-tls: 'maybe' is not true or false");
  EXPECT_FILE_ERROR("log-format = xml\n", 1, "--log-format: 'xml' is not text or json");
  EXPECT_FILE_ERROR("[lvsp]\nlvsp-listen = nowhere\n", 2, "--lvsp-listen: bad HOST:PORT");
  char big[SC_CONFFILE_LINE_MAX + 100];
  memset(big, 'x', sizeof big - 2);
  memcpy(big, "public-host = ", 14);
  big[sizeof big - 2] = '\n';
  big[sizeof big - 1] = '\0';
  char text[sizeof big + 32];
  snprintf(text, sizeof text, "capacity = 2\n%s", big);
  EXPECT_FILE_ERROR(text, 2, "line longer than");
  /* A missing explicit file is an error; a flag error comes first. */
  snprintf(other, sizeof other, "%s/missing.conf", dir);
  EXPECT_ERROR("missing.conf: No such file or directory", "--config", other);
  EXPECT_ERROR("unknown option '--x'", "--x", "--config", other);
  /* The switch in the file, both ways. */
  run_t r;
  conf("no-tls = on\n");
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.cfg.no_tls, 1);
  conf("no-tls = off\n");
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.cfg.no_tls, 0);
}

static void test_secret_files(void) {
  run_t r;
  const char *tok = put(other, "token", "tok-from-file\n\n", 0600);
  char text[1024];
  snprintf(text, sizeof text, "admin-token-file = %s\n[lvsp]\nlvsp-secret-file = %s\n", tok, tok);
  conf(text);
  run(&r, "--config", path, (char *)NULL);
  ASSERT_EQ(r.res, SC_CONFIG_RUN);
  ASSERT_STREQ(r.cfg.admin_token, "tok-from-file");
  ASSERT_STREQ(LV(&r)->lvsp_secret, "tok-from-file");
  /* LVSP_SECRET (environment) beats the file's secret file; a flag beats both. */
  ASSERT_EQ(setenv("LVSP_SECRET", "from-env", 1), 0);
  run(&r, "--config", path, (char *)NULL);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "from-env");
  run(&r, "--config", path, "--lvsp-secret-file", tok, (char *)NULL);
  ASSERT_STREQ(LV(&r)->lvsp_secret, "tok-from-file");
  run(&r, "--config", path, "--admin-token", "flag-token", (char *)NULL);
  ASSERT_STREQ(r.cfg.admin_token, "flag-token");
  unsetenv("LVSP_SECRET");
  put(other, "token", "\n", 0600);
  EXPECT_FILE_ERROR(text, 1, "--admin-token-file: ");
  EXPECT_ERROR("token: empty", "--config", path);
  snprintf(text, sizeof text, "[lvsp]\nlvsp-secret-file = %s/nothing-here\n", dir);
  EXPECT_FILE_ERROR(text, 2, "--lvsp-secret-file: ");
  char big[SC_SECRET_MAX + 2];
  memset(big, 's', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  put(other, "token", big, 0600);
  EXPECT_ERROR("secret too long", "--admin-token-file", other);
  /* sc_conffile_read_secret tells a loose file. */
  char out[64], why[256];
  int loose = -1;
  put(other, "token", "abc \t\r\n", 0640);
  ASSERT_EQ(sc_conffile_read_secret(other, out, sizeof out, &loose, why, sizeof why), 0);
  ASSERT_STREQ(out, "abc");
  ASSERT_EQ(loose, 1);
  chmod(other, 0600);
  ASSERT_EQ(sc_conffile_read_secret(other, out, sizeof out, &loose, why, sizeof why), 0);
  ASSERT_EQ(loose, 0);
}

/* --check-config's listing: the file's form, secrets masked. */
static void test_show_masked(void) {
  static sc_app_t app;
  char *text = NULL;
  size_t len = 0;
  char *argv[] = {"litecord-voice", "--admin-token", "very-secret-token", "--capacity", "42", NULL};
  ASSERT_EQ(setenv("LVSP_SECRET", "lvsp-very-secret", 1), 0);
  FILE *devnull = fopen("/dev/null", "w");
  ASSERT_EQ(sc_config_parse(&app, NULL, 0, 5, argv, devnull, devnull), SC_CONFIG_RUN);
  fclose(devnull);
  unsetenv("LVSP_SECRET");
  FILE *out = open_memstream(&text, &len);
  sc_config_show(&app, out);
  fclose(out);
  ASSERT_TRUE(strstr(text, "[core]\n") != NULL);
  ASSERT_TRUE(strstr(text, "\ncapacity = 42\n") != NULL);
  ASSERT_TRUE(strstr(text, "\nadmin-token = ********\n") != NULL);
  ASSERT_TRUE(strstr(text, "\nlvsp-secret = ********\n") != NULL);
  ASSERT_TRUE(strstr(text, "\n# tls-cert: not set") != NULL);
  ASSERT_TRUE(strstr(text, "[discord voice gateway]\n") != NULL);
  ASSERT_TRUE(!strstr(text, "very-secret"));
  ASSERT_TRUE(!strstr(text, "admin-token-file"));
  free(text);
  sc_config_free(&app);
}

typedef struct {
  char live[256], restart[256];
} seen_t;

static void on_change(void *ctx, const char *group, const sc_setting_t *s, int live) {
  seen_t *seen = ctx;
  char *list = live ? seen->live : seen->restart;
  (void)group;
  snprintf(list + strlen(list), 256 - strlen(list), "%s ", s->name);
}

static void parse_into(sc_app_t *app, int argc, char **argv) {
  FILE *devnull = fopen("/dev/null", "w");
  ASSERT_EQ(sc_config_parse(app, NULL, 0, argc, argv, devnull, devnull), SC_CONFIG_RUN);
  fclose(devnull);
}

/* A reload: live settings are copied into the running app and the copy in
 * force; restart-only ones are reported and left alone, every time. */
static void test_apply_live(void) {
  static sc_app_t live, in_force, fresh;
  char *a[] = {"lv", "--capacity", "10", "--media-workers", "1", "--gw-max-message", "2048", NULL};
  char *b[] = {"lv", "--capacity", "20", "--media-workers", "3", "--gw-max-message", "4096", NULL};
  parse_into(&live, 7, a);
  memset(&in_force, 0, sizeof in_force);
  ASSERT_EQ(sc_config_copy(&in_force, &live), 0);
  snprintf(live.cfg.state_dir, sizeof live.cfg.state_dir, "filled-in-at-start");
  parse_into(&fresh, 7, b);
  seen_t seen = {{0}, {0}};
  ASSERT_EQ(sc_config_apply_live(&live, &in_force, &fresh, on_change, &seen), 2);
  ASSERT_STREQ(seen.live, "capacity gw-max-message ");
  ASSERT_STREQ(seen.restart, "media-workers ");
  ASSERT_EQ(live.cfg.capacity, 20);
  ASSERT_EQ(live.cfg.media_workers, 1);
  ASSERT_EQ(((dv_settings_t *)sc_frontend_settings(&live, &dv_settings_table))->gw_max_message,
            4096);
  ASSERT_STREQ(live.cfg.state_dir, "filled-in-at-start"); /* not a change: untouched */
  memset(&seen, 0, sizeof seen);
  ASSERT_EQ(sc_config_apply_live(&live, &in_force, &fresh, on_change, &seen), 0);
  ASSERT_STREQ(seen.live, "");
  ASSERT_STREQ(seen.restart, "media-workers ");
  sc_config_free(&live);
  sc_config_free(&in_force);
  sc_config_free(&fresh);
}

static void test_cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ASSERT_EQ(system(cmd), 0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  SC_TEST_SCENARIO();
  RUN_TEST(test_setup);
  RUN_TEST(test_precedence);
  RUN_TEST(test_sections);
  RUN_TEST(test_errors);
  RUN_TEST(test_secret_files);
  RUN_TEST(test_show_masked);
  RUN_TEST(test_apply_live);
  RUN_TEST(test_cleanup);
  SC_TEST_DONE();
}
