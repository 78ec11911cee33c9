/*
 * test_dv_dave_roster: a DAVE group's leaves. Adds take the lowest blank
 * leaf, else a new one; a vacated leaf is not reused until a commit
 * releases it, and the vacated ones are listed in order for the next
 * round's Removes; out-of-range and blank leaves are left alone; a
 * cleared roster starts again at leaf 0.
 */
#include "dv_dave_roster.h"
#include "sc_test.h"

static uint32_t take(dv_dave_roster_t *r) {
  uint32_t leaf = 99;
  ASSERT_EQ(dv_dave_roster_take(r, &leaf), 0);
  return leaf;
}

/* The vacated leaves, as a bit set (leaves < 32 here). */
static uint32_t vacated(const dv_dave_roster_t *r) {
  uint32_t set = 0;
  for (uint32_t l = 0; dv_dave_roster_next_vacated(r, &l); l++) set |= 1u << l;
  return set;
}

static void test_leaves(void) {
  dv_dave_roster_t r = {0};
  ASSERT_EQ(vacated(&r), 0);
  for (uint32_t i = 0; i < 10; i++) ASSERT_EQ(take(&r), i); /* grows past its first block */
  ASSERT_EQ(r.n, 10);

  dv_dave_roster_vacate(&r, 2);
  dv_dave_roster_vacate(&r, 7);
  dv_dave_roster_vacate(&r, 7);  /* twice: still one Remove */
  dv_dave_roster_vacate(&r, 50); /* out of range */
  ASSERT_EQ(vacated(&r), (1u << 2) | (1u << 7));
  ASSERT_EQ(take(&r), 10); /* a vacated leaf is still in the clients' tree */

  dv_dave_roster_release(&r, 7); /* a commit removed it */
  dv_dave_roster_release(&r, 50);
  ASSERT_EQ(vacated(&r), 1u << 2);
  dv_dave_roster_vacate(&r, 7); /* blank: nothing to remove */
  ASSERT_EQ(vacated(&r), 1u << 2);
  ASSERT_EQ(take(&r), 7); /* the lowest blank leaf */
  ASSERT_EQ(take(&r), 11);
  dv_dave_roster_release(&r, 2);
  ASSERT_EQ(vacated(&r), 0);
  ASSERT_EQ(take(&r), 2);

  dv_dave_roster_clear(&r); /* the group is gone */
  ASSERT_EQ(vacated(&r), 0);
  ASSERT_EQ(take(&r), 0);
  ASSERT_EQ(take(&r), 1);
  dv_dave_roster_free(&r);
  ASSERT_EQ(r.n, 0);
  ASSERT_TRUE(r.leaf == NULL);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_leaves);
  SC_TEST_DONE();
}
