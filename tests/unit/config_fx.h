/*
 * config_fx: runs sc_config_parse for the flag tests (test_config.c, the
 * shipped flags; test_settings.c, front-end flag registration with fake
 * records) and keeps copies of what it produced, so every block the app
 * held is freed at once. Header-only: each test file is its own executable.
 */
#ifndef CONFIG_FX_H
#define CONFIG_FX_H

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
#include "sc_test.h"

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

static inline void grab(FILE *f, char *buf, size_t size) {
  long n = ftell(f);
  rewind(f);
  size_t got = fread(buf, 1, size - 1, f);
  buf[got] = '\0';
  ASSERT_EQ((long)got, n);
  fclose(f);
}

/* Keeps what the parse produced, then frees the app's blocks. */
static inline void keep(run_t *r, sc_app_t *app) {
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
static inline void run_fe_v(run_t *r, const sc_frontend_t *const *fe, int n_fe, va_list ap) {
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

static inline void run_fe(run_t *r, const sc_frontend_t *const *fe, int n_fe, ...) {
  va_list ap;
  va_start(ap, n_fe);
  run_fe_v(r, fe, n_fe, ap);
  va_end(ap);
}

/* The registered front ends (lvsp, discord_voice). */
static inline void run(run_t *r, ...) {
  va_list ap;
  va_start(ap, r);
  run_fe_v(r, NULL, 0, ap);
  va_end(ap);
}

/* The copy of the block of the front end whose table is t. */
static inline void *block_of(run_t *r, const sc_setting_table_t *t) {
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

static inline void check_error_line(const char *err, const char *why) {
  size_t len = strlen(err);
  if (strncmp(err, "litecord-voice: ", 16) != 0 || len < 18 || err[len - 1] != '\n' ||
      strchr(err, '\n') != err + len - 1)
    SC_FAIL("not one 'litecord-voice: <reason>' line: \"%s\"", err);
  if (!strstr(err, why)) SC_FAIL("error \"%s\" does not mention \"%s\"", err, why);
  sc_test_checks++;
}

/* Where `needle` first is in `hay`, or fails. */
static inline const char *at(const char *hay, const char *needle) {
  const char *p = strstr(hay, needle);
  if (!p) SC_FAIL("--help lacks '%s':\n%s", needle, hay);
  sc_test_checks++;
  return p ? p : hay;
}

/* Every string in `flags` is found after `header`, before `next`. */
static inline void check_group(const char *out, const char *header, const char *next,
                               const char *const *flags, size_t n) {
  const char *start = at(out, header);
  const char *end = next ? at(out, next) : out + strlen(out);
  if (start >= end) SC_FAIL("'%s' is not before '%s':\n%s", header, next ? next : "(end)", out);
  for (size_t i = 0; i < n; i++) {
    const char *p = at(start, flags[i]);
    if (p < start || p > end) SC_FAIL("'%s' is not under '%s':\n%s", flags[i], header, out);
  }
}

#endif
