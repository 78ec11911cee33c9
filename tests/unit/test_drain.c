/*
 * test_drain: the graceful drain's decisions (src/sc_drain): a drain
 * starts once and keeps its reason and deadline, it ends when no voice
 * state is left or the deadline passed (pinned channels without states do
 * not count: only the number of voice states is an input), and during it
 * a new voice state is admitted only into a call in progress.
 */
#include "sc_drain.h"
#include "sc_test.h"

static void test_idle(void) {
  sc_drain_t d = {0};
  ASSERT_EQ(sc_drain_verdict(&d, 0, 1000), SC_DRAIN_IDLE);
  ASSERT_EQ(sc_drain_verdict(&d, 5, 1000), SC_DRAIN_IDLE);
  ASSERT_EQ(sc_drain_remaining_ms(&d, 1000), 0);
  ASSERT_TRUE(sc_drain_admits(0, 0));
  ASSERT_TRUE(sc_drain_admits(0, 3));
}

static void test_begin_once(void) {
  sc_drain_t d = {0};
  ASSERT_EQ(sc_drain_begin(&d, "SIGTERM", 600, 5000, 1700000000000), 1);
  ASSERT_TRUE(d.active);
  ASSERT_STREQ(d.reason, "SIGTERM");
  /* A second request (admin, or SIGTERM after admin) keeps the first. */
  ASSERT_EQ(sc_drain_begin(&d, "admin request", 10, 9000, 1700000004000), 0);
  ASSERT_STREQ(d.reason, "SIGTERM");
  ASSERT_EQ(d.timeout_s, 600);
  ASSERT_EQ(d.started_ms, 5000);
  ASSERT_EQ(sc_drain_remaining_ms(&d, 9000), 596000);
}

static void test_verdicts(void) {
  sc_drain_t d = {0};
  sc_drain_begin(&d, "SIGTERM", 3, 1000, 0);
  ASSERT_EQ(sc_drain_verdict(&d, 2, 1000), SC_DRAIN_WAITING);
  ASSERT_EQ(sc_drain_verdict(&d, 2, 3999), SC_DRAIN_WAITING);
  ASSERT_EQ(sc_drain_remaining_ms(&d, 3999), 1);
  ASSERT_EQ(sc_drain_verdict(&d, 2, 4000), SC_DRAIN_TIMED_OUT);
  ASSERT_EQ(sc_drain_verdict(&d, 2, 90000), SC_DRAIN_TIMED_OUT);
  ASSERT_EQ(sc_drain_remaining_ms(&d, 90000), 0);
  /* No voice state left: done at once, deadline or not. */
  ASSERT_EQ(sc_drain_verdict(&d, 0, 1001), SC_DRAIN_EMPTY);
  ASSERT_EQ(sc_drain_verdict(&d, 0, 90000), SC_DRAIN_EMPTY);
}

static void test_zero_timeout(void) {
  sc_drain_t d = {0};
  sc_drain_begin(&d, "SIGTERM", 0, 1000, 0);
  ASSERT_EQ(sc_drain_verdict(&d, 1, 1000), SC_DRAIN_TIMED_OUT);
}

static void test_admission(void) {
  ASSERT_TRUE(!sc_drain_admits(1, 0)); /* new or empty (pinned) channel: no new call */
  ASSERT_TRUE(sc_drain_admits(1, 1));  /* a call in progress: friends are here */
  ASSERT_TRUE(sc_drain_admits(1, 40));
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_idle);
  RUN_TEST(test_begin_once);
  RUN_TEST(test_verdicts);
  RUN_TEST(test_zero_timeout);
  RUN_TEST(test_admission);
  SC_TEST_DONE();
}
