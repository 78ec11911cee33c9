/*
 * sc_test: the assertion macros of the unit tests. Each test file is its
 * own executable (one ctest test, one process); a failed assertion prints
 * both values with file and line and exits non-zero.
 */
#ifndef SC_TEST_H
#define SC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sc_test_checks;

#define SC_FAIL(...)                                      \
  do {                                                    \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                         \
    fputc('\n', stderr);                                  \
    exit(1);                                              \
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

#define RUN_TEST(fn)                 \
  do {                               \
    fprintf(stderr, "-- %s\n", #fn); \
    fn();                            \
  } while (0)

#define SC_TEST_DONE()                                  \
  do {                                                  \
    fprintf(stderr, "ok: %d checks\n", sc_test_checks); \
    return 0;                                           \
  } while (0)

#endif
