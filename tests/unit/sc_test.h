/*
 * sc_test: the assertion macros and runner of the unit tests. Each test
 * file is its own executable (one ctest test, one process) whose main
 * runs its tests with RUN_TEST and ends with SC_TEST_DONE.
 *
 * A failed assertion prints both values with file and line and ends the
 * current test (longjmp back to RUN_TEST); the remaining tests still run.
 * SC_TEST_DONE prints "NAME: N passed, N failed" with the failed tests'
 * names and returns non-zero if any test failed, or if a test made no
 * check at all (a test that cannot fail is a defect).
 *
 * One test by name: `test_media test_reset` (the first argument, when
 * main passes argc/argv to SC_TEST_ARGS) or SC_TEST=test_reset in the
 * environment. A name that matches no test fails the run.
 *
 * An assertion outside RUN_TEST (in main's set-up) exits at once.
 * A test that failed may leave what it allocated behind; the run fails
 * anyway, so leak reports then only add noise, not wrong verdicts.
 */
#ifndef SC_TEST_H
#define SC_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_TEST_MAX_FAILED 64

static int sc_test_checks;
static struct {
  const char *only; /* run just this test (NULL: all) */
  const char *failed[SC_TEST_MAX_FAILED];
  int n_passed, n_failed, n_selected;
  int in_test;
  jmp_buf jmp;
} sc_test_run_state;

static inline _Noreturn void sc_test_fail_now(void) {
  if (sc_test_run_state.in_test) longjmp(sc_test_run_state.jmp, 1);
  exit(1);
}

#define SC_FAIL(...)                                      \
  do {                                                    \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                         \
    fputc('\n', stderr);                                  \
    sc_test_fail_now();                                   \
  } while (0)

#define ASSERT_TRUE(c)                          \
  do {                                          \
    sc_test_checks++;                           \
    if (!(c)) SC_FAIL("expected true: %s", #c); \
  } while (0)

#define ASSERT_EQ(a, b)                                                          \
  do {                                                                           \
    long long sc_a_ = (long long)(a), sc_b_ = (long long)(b);                    \
    sc_test_checks++;                                                            \
    if (sc_a_ != sc_b_) SC_FAIL("%s == %s: %lld != %lld", #a, #b, sc_a_, sc_b_); \
  } while (0)

#define ASSERT_STREQ(a, b)                                                    \
  do {                                                                        \
    const char *sc_a_ = (a), *sc_b_ = (b);                                    \
    sc_test_checks++;                                                         \
    if (!sc_a_ || !sc_b_ || strcmp(sc_a_, sc_b_) != 0)                        \
      SC_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, sc_a_ ? sc_a_ : "(null)", \
              sc_b_ ? sc_b_ : "(null)");                                      \
  } while (0)

#define ASSERT_MEMEQ(a, b, n)                                                                      \
  do {                                                                                             \
    sc_test_checks++;                                                                              \
    if (memcmp((a), (b), (n)) != 0) SC_FAIL("%s and %s differ in %zu bytes", #a, #b, (size_t)(n)); \
  } while (0)

/* Picks the test to run alone from argv[1] (if given) or $SC_TEST. */
static inline void sc_test_args(int argc, char **argv) {
  const char *env = getenv("SC_TEST");
  sc_test_run_state.only = argc > 1 ? argv[1] : (env && *env ? env : NULL);
}
#define SC_TEST_ARGS(argc, argv) sc_test_args((argc), (argv))

static inline void sc_test_record_failure(const char *name) {
  if (sc_test_run_state.n_failed < SC_TEST_MAX_FAILED)
    sc_test_run_state.failed[sc_test_run_state.n_failed] = name;
  sc_test_run_state.n_failed++;
}

static inline void sc_test_run(const char *name, void (*fn)(void)) {
  if (!sc_test_run_state.only) {
    const char *env = getenv("SC_TEST");
    if (env && *env) sc_test_run_state.only = env;
  }
  if (sc_test_run_state.only && strcmp(sc_test_run_state.only, name) != 0) return;
  sc_test_run_state.n_selected++;
  fprintf(stderr, "-- %s\n", name);
  int checks_before = sc_test_checks;
  sc_test_run_state.in_test = 1;
  if (setjmp(sc_test_run_state.jmp) == 0) {
    fn();
    sc_test_run_state.in_test = 0;
    if (sc_test_checks == checks_before) {
      fprintf(stderr, "FAIL: %s made no check\n", name);
      sc_test_record_failure(name);
    } else {
      sc_test_run_state.n_passed++;
    }
  } else {
    sc_test_run_state.in_test = 0;
    sc_test_record_failure(name);
  }
}

#define RUN_TEST(fn) sc_test_run(#fn, fn)

static inline int sc_test_done(const char *file) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  if (sc_test_run_state.only && !sc_test_run_state.n_selected) {
    fprintf(stderr, "no test named %s in %s\n", sc_test_run_state.only, base);
    return 2;
  }
  for (int i = 0; i < sc_test_run_state.n_failed && i < SC_TEST_MAX_FAILED; i++)
    fprintf(stderr, "  failed: %s\n", sc_test_run_state.failed[i]);
  fprintf(stderr, "%s: %d checks; %d passed, %d failed\n", base, sc_test_checks,
          sc_test_run_state.n_passed, sc_test_run_state.n_failed);
  return sc_test_run_state.n_failed ? 1 : 0;
}

#define SC_TEST_DONE() return sc_test_done(__FILE__)

#endif
