/*
 * test_vx_filter: the Vortex receive transport's forwarding set
 * (vortex/vx_filter): a source is forwarded only while it is on, sources
 * switched on stay forwarded across any number of compactions caused by
 * others coming and going, the bound on sources is kept, and the policy
 * hooks release the last reference.
 */
#include <errno.h>

#include "sc_test.h"
#include "vx_filter.h"

static int declines(vx_filter_t *f, uint32_t ssrc) {
  sc_media_pkt_t p = {.ssrc = ssrc};
  return vx_filter_declines(f, &p);
}

static void test_on_off(void) {
  vx_filter_t *f = vx_filter_new();
  ASSERT_TRUE(f != NULL);
  ASSERT_TRUE(declines(f, 1234));
  ASSERT_TRUE(declines(f, 0));
  ASSERT_EQ(vx_filter_set(f, 0, 1), -EINVAL);
  ASSERT_EQ(vx_filter_set(f, 1234, 1), 0);
  ASSERT_TRUE(!declines(f, 1234));
  ASSERT_TRUE(declines(f, 1235));
  ASSERT_TRUE(declines(f, 0));
  ASSERT_EQ(vx_filter_set(f, 1234, 1), 0); /* again: still one source */
  ASSERT_EQ(vx_filter_set(f, 1234, 0), 0);
  ASSERT_TRUE(declines(f, 1234));
  ASSERT_EQ(vx_filter_set(f, 999, 0), 0); /* off for a source never on */
  ASSERT_TRUE(declines(f, 999));
  vx_filter_put(f);
}

/* Thousands of sources come and go while five stay on. */
static void test_churn_keeps_live_sources(void) {
  vx_filter_t *f = vx_filter_new();
  static const uint32_t keep[] = {7, 0x80000000u, 0xffffffffu, 42424242u, 3};
  for (int i = 0; i < 5; i++) ASSERT_EQ(vx_filter_set(f, keep[i], 1), 0);
  for (uint32_t s = 100000; s < 110000; s++) {
    ASSERT_EQ(vx_filter_set(f, s, 1), 0);
    ASSERT_TRUE(!declines(f, s));
    ASSERT_EQ(vx_filter_set(f, s, 0), 0);
    ASSERT_TRUE(declines(f, s));
    if (s % 97 == 0)
      for (int i = 0; i < 5; i++) ASSERT_TRUE(!declines(f, keep[i]));
  }
  for (int i = 0; i < 5; i++) ASSERT_TRUE(!declines(f, keep[i]));
  vx_filter_put(f);
}

static void test_bound(void) {
  vx_filter_t *f = vx_filter_new();
  for (uint32_t s = 1; s <= VX_FILTER_MAX; s++) ASSERT_EQ(vx_filter_set(f, s * 7919, 1), 0);
  ASSERT_EQ(vx_filter_set(f, 5, 1), -ENOSPC);
  ASSERT_TRUE(declines(f, 5));
  ASSERT_EQ(vx_filter_set(f, 7919, 1), 0); /* already on: not a new source */
  ASSERT_EQ(vx_filter_set(f, 7919, 0), 0);
  ASSERT_EQ(vx_filter_set(f, 5, 1), 0);
  for (uint32_t s = 2; s <= VX_FILTER_MAX; s++) ASSERT_TRUE(!declines(f, s * 7919));
  vx_filter_put(f);
}

/* The receive transport's sc_rtc releases its reference through the
 * policy hook; the session's put frees it (ASan reports otherwise). */
static void test_references(void) {
  vx_filter_t *f = vx_filter_new();
  vx_filter_hold(f);
  vx_filter_release(f);
  ASSERT_EQ(vx_filter_set(f, 11, 1), 0);
  vx_filter_put(f);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_on_off);
  RUN_TEST(test_churn_keeps_live_sources);
  RUN_TEST(test_bound);
  RUN_TEST(test_references);
  SC_TEST_DONE();
}
