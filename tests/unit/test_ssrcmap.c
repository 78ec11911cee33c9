/*
 * test_ssrcmap: the receiver's source -> consumer SSRC table (sc_ssrcmap):
 * set, replace, remove, lookup of an unmapped source, and the bound.
 */
#include <errno.h>
#include <string.h>

#include "sc_ssrcmap.h"
#include "sc_test.h"

static void test_set_replace_remove(void) {
  sc_ssrcmap_t m;
  memset(&m, 0, sizeof m);
  uint32_t old = 1;
  ASSERT_EQ(sc_ssrcmap_out(&m, 7), 7); /* unmapped: its own */
  ASSERT_EQ(sc_ssrcmap_set(&m, 7, 70, &old), 0);
  ASSERT_EQ(old, 0);
  ASSERT_EQ(sc_ssrcmap_set(&m, 8, 80, &old), 0);
  ASSERT_EQ(sc_ssrcmap_out(&m, 7), 70);
  ASSERT_EQ(sc_ssrcmap_out(&m, 8), 80);
  ASSERT_EQ(sc_ssrcmap_set(&m, 7, 71, &old), 0); /* replaced: the old one is told */
  ASSERT_EQ(old, 70);
  ASSERT_EQ(m.n, 2);
  ASSERT_EQ(sc_ssrcmap_del(&m, 7), 71);
  ASSERT_EQ(sc_ssrcmap_del(&m, 7), 0);
  ASSERT_EQ(sc_ssrcmap_out(&m, 7), 7);
  ASSERT_EQ(sc_ssrcmap_out(&m, 8), 80); /* the moved pair still found */
  ASSERT_EQ(sc_ssrcmap_set(&m, 0, 1, &old), -EINVAL);
  ASSERT_EQ(sc_ssrcmap_set(&m, 1, 0, &old), -EINVAL);
}

static void test_bound(void) {
  sc_ssrcmap_t m;
  memset(&m, 0, sizeof m);
  uint32_t old;
  for (uint32_t i = 1; i <= SC_SSRCMAP_MAX; i++)
    ASSERT_EQ(sc_ssrcmap_set(&m, i, 1000 + i, &old), 0);
  ASSERT_EQ(sc_ssrcmap_set(&m, 9999, 1, &old), -ENOSPC);
  ASSERT_EQ(sc_ssrcmap_out(&m, 9999), 9999);       /* refused: keeps its own SSRC */
  ASSERT_EQ(sc_ssrcmap_set(&m, 5, 5005, &old), 0); /* a replacement needs no room */
  ASSERT_EQ(old, 1005);
  /* Made and closed many times: the table never fills. */
  ASSERT_EQ(sc_ssrcmap_del(&m, 1), 1001);
  for (uint32_t i = 0; i < 200; i++) {
    ASSERT_EQ(sc_ssrcmap_set(&m, 9999, 20000 + i, &old), 0);
    ASSERT_EQ(sc_ssrcmap_out(&m, 9999), 20000 + i);
    ASSERT_EQ(sc_ssrcmap_del(&m, 9999), 20000 + i);
  }
  ASSERT_EQ(m.n, SC_SSRCMAP_MAX - 1);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_set_replace_remove);
  RUN_TEST(test_bound);
  SC_TEST_DONE();
}
