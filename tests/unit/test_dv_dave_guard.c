/*
 * test_dv_dave_guard: the op 31 policy's pure parts. The token bucket
 * gives its burst at once, then one token per interval, refuses without
 * changing anything, and says when the next take succeeds; the verdict on
 * a transition re-creates the group only when every member that applied
 * the commit, or every member it welcomed, flagged it.
 */
#include "dv_dave_guard.h"
#include "sc_test.h"

static void test_bucket(void) {
  const dv_dave_rate_t r = {2, 1000};
  dv_dave_bucket_t b = {0};
  ASSERT_EQ(dv_dave_bucket_ready_at(&b, &r), 0);
  ASSERT_EQ(dv_dave_bucket_take(&b, 5000, &r), 1);
  ASSERT_EQ(dv_dave_bucket_take(&b, 5000, &r), 1);
  ASSERT_EQ(dv_dave_bucket_take(&b, 5000, &r), 0); /* the burst is spent */
  ASSERT_EQ(dv_dave_bucket_take(&b, 5000, &r), 0); /* refusals change nothing */
  ASSERT_EQ(dv_dave_bucket_ready_at(&b, &r), 6000);
  ASSERT_EQ(dv_dave_bucket_take(&b, 5999, &r), 0);
  ASSERT_EQ(dv_dave_bucket_take(&b, 6000, &r), 1);
  ASSERT_EQ(dv_dave_bucket_take(&b, 6000, &r), 0);
  /* Idle long enough, the burst is back, never more. */
  ASSERT_EQ(dv_dave_bucket_take(&b, 60000, &r), 1);
  ASSERT_EQ(dv_dave_bucket_take(&b, 60000, &r), 1);
  ASSERT_EQ(dv_dave_bucket_take(&b, 60000, &r), 0);

  const dv_dave_rate_t once = {1, 60000};
  dv_dave_bucket_t m = {0};
  ASSERT_EQ(dv_dave_bucket_take(&m, 0, &once), 1); /* the manual clock starts at 0 */
  ASSERT_EQ(dv_dave_bucket_take(&m, 59999, &once), 0);
  ASSERT_EQ(dv_dave_bucket_ready_at(&m, &once), 60000);
  const dv_dave_rate_t none = {0, 1000};
  ASSERT_EQ(dv_dave_bucket_take(&m, 1000000, &none), 0);
}

static dv_dave_verdict_t verdict(uint32_t r, uint32_t rf, uint32_t w, uint32_t wf, int cf) {
  dv_dave_tally_t t = {r, rf, w, wf, cf};
  return dv_dave_guard_verdict(&t);
}

static void test_verdict(void) {
  ASSERT_EQ(verdict(3, 0, 1, 0, 0), DV_DAVE_VERDICT_NONE);
  ASSERT_EQ(verdict(3, 1, 1, 0, 0), DV_DAVE_VERDICT_READD);    /* one receiver: its own fault */
  ASSERT_EQ(verdict(3, 3, 1, 0, 0), DV_DAVE_VERDICT_RECREATE); /* the commit was bad */
  ASSERT_EQ(verdict(3, 0, 2, 2, 0), DV_DAVE_VERDICT_RECREATE); /* the welcome was bad */
  ASSERT_EQ(verdict(3, 0, 2, 1, 0), DV_DAVE_VERDICT_READD);
  ASSERT_EQ(verdict(0, 0, 2, 2, 0), DV_DAVE_VERDICT_RECREATE); /* an initial group */
  ASSERT_EQ(verdict(2, 2, 1, 1, 1), DV_DAVE_VERDICT_RECREATE); /* every member */
  ASSERT_EQ(verdict(2, 0, 1, 0, 1), DV_DAVE_VERDICT_READD);    /* the committer alone */
  ASSERT_EQ(verdict(0, 0, 0, 0, 1), DV_DAVE_VERDICT_READD);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_bucket);
  RUN_TEST(test_verdict);
  SC_TEST_DONE();
}
