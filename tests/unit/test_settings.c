/* Unit tests for the registration of front-end flags (sc_setting_table_t
 * in sc_frontend_t, parsed by sc_config_parse), with fake front-end
 * records: each front end's flags land in its own block, declared
 * defaults, an unknown flag and a flag of a front end not given, range
 * errors naming the flag, a front end's own value kind and finish hook,
 * --help grouped by front end in the records' order, a front end without
 * flags, and tables that are wrong (bad default, a flag declared twice,
 * too many records). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config_fx.h"

typedef struct {
  uint32_t port;
  char name[16];
  int loud;
  sc_hostport_t listen;
} fa_t;

static const sc_setting_t fa_settings[] = {
    {"fa-port", "N", &sc_kind_u32, offsetof(fa_t, port), 0, 1, 10, "3", "fake A's number", 0, NULL},
    {"fa-name", "NAME", &sc_kind_string, offsetof(fa_t, name), sizeof(((fa_t *)0)->name), 0, 0,
     "alpha", "fake A's name", 0, NULL},
    {"fa-loud", NULL, &sc_kind_switch, offsetof(fa_t, loud), 0, 0, 0, NULL, "fake A's switch", 0,
     NULL},
    {"fa-listen", "HOST:PORT", &sc_kind_hostport, offsetof(fa_t, listen), 0, 0, 0, ":9",
     "fake A's listener", 0, NULL},
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

static const sc_setting_kind_t K_WORD = {parse_word, show_word, 0};

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
    {"fb-count", "N", &sc_kind_int, offsetof(fb_t, count), 0, 0, 5, "2", "fake B's count", 0, NULL},
    {"fb-word", "WORD", &K_WORD, offsetof(fb_t, word), sizeof(((fb_t *)0)->word), 0, 0, "HI",
     "fake B's word", 0, NULL},
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
      {"fx-n", "N", &sc_kind_u32, offsetof(fx_t, n), 0, 1, 10, "99", "default out of range", 0,
       NULL},
  };
  static const sc_setting_table_t bad_def_table = {bad_def, 1, sizeof(fx_t), NULL, NULL};
  static const sc_frontend_t bad_def_fe = {.name = "fake-bad", .settings = &bad_def_table};
  const sc_frontend_t *one[] = {&bad_def_fe};
  EXPECT_FE_ERROR(one, 1, "bad default of --fx-n: --fx-n: '99' is not a number in 1..10",
                  (char *)NULL);
  /* A flag the core has, or another front end has, declared again. */
  static const sc_setting_t dup_core[] = {
      {"capacity", "N", &sc_kind_u32, offsetof(fx_t, n), 0, 1, 10, "1", "clash with the core", 0,
       NULL},
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
/* A front end finds its block by its table, from any of its files; the
 * records and blocks are kept by slot until sc_config_free. */
static void test_fe_lookup(void) {
  static sc_app_t app;
  ASSERT_EQ(
      sc_config_parse(&app, fakes, N_FAKES, 3, (char *[]){"lv", "--fa-port", "4"}, stdout, stderr),
      SC_CONFIG_RUN);
  ASSERT_EQ(app.n_frontends, N_FAKES);
  for (int i = 0; i < N_FAKES; i++) ASSERT_TRUE(app.frontends[i] == fakes[i]);
  fa_t *a = sc_frontend_settings(&app, &fa_table);
  ASSERT_TRUE(a != NULL && a == app.frontend_settings[0]);
  ASSERT_EQ(a->port, 4);
  ASSERT_TRUE(sc_frontend_settings(&app, &fb_table) == app.frontend_settings[2]);
  ASSERT_TRUE(app.frontend_settings[1] == NULL);
  /* Tables of front ends the app was not given have no block. */
  ASSERT_TRUE(sc_frontend_settings(&app, &lvsp_settings_table) == NULL);
  ASSERT_TRUE(lvsp_settings(&app) == NULL && dv_settings(&app) == NULL);
  sc_config_free(&app);
  ASSERT_TRUE(app.frontend_settings[0] == NULL && app.frontend_settings[2] == NULL);
  sc_config_free(&app); /* idempotent */
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_fe_defaults);
  RUN_TEST(test_fe_own_blocks);
  RUN_TEST(test_fe_unknown);
  RUN_TEST(test_fe_errors);
  RUN_TEST(test_fe_bad_tables);
  RUN_TEST(test_fe_help_groups);
  RUN_TEST(test_fe_lookup);
  SC_TEST_DONE();
}
