/*
 * test_fdlimit: the fd plan behind --max-connections (src/sc_fdlimit):
 * the arithmetic (room asked, room clamped by the hard limit, no room),
 * then the real thing in this process: the soft limit is set, fds are
 * taken lowest first up to it, and admission refuses voice clients before
 * control links and both before accept() could fail with EMFILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sc_fdlimit.h"
#include "sc_test.h"

static void test_plan_room_asked(void) {
  sc_fdlimit_t l;
  ASSERT_EQ(sc_fdlimit_plan(1000, 20, UINT64_MAX, &l), 0);
  ASSERT_EQ(l.connections, 1000);
  ASSERT_EQ(l.client_below, 20 + SC_FD_LATE_OPENS + 1000);
  ASSERT_EQ(l.control_below, l.client_below + SC_FD_CONTROL_SPARE);
  ASSERT_EQ(l.soft, l.control_below + SC_FD_FILE_SPARE);
  /* A soft limit above what is needed is lowered: lws scans its whole
   * table (one slot per allowed fd) on every close. */
  ASSERT_EQ(sc_fdlimit_plan(1000, 20, 1048576, &l), 0);
  ASSERT_EQ(l.soft, 20 + SC_FD_LATE_OPENS + 1000 + SC_FD_CONTROL_SPARE + SC_FD_FILE_SPARE);
}

static void test_plan_clamped_by_hard_limit(void) {
  sc_fdlimit_t l;
  ASSERT_EQ(sc_fdlimit_plan(4000, 20, 1024, &l), 0);
  ASSERT_EQ(l.soft, 1024);
  ASSERT_EQ(l.control_below, 1024 - SC_FD_FILE_SPARE);
  ASSERT_EQ(l.client_below, 1024 - SC_FD_FILE_SPARE - SC_FD_CONTROL_SPARE);
  ASSERT_EQ(l.connections, (uint32_t)(l.client_below - 20 - SC_FD_LATE_OPENS));
  ASSERT_EQ(l.asked, 4000);
  /* Not even one client connection fits. */
  int tight = 20 + SC_FD_LATE_OPENS + SC_FD_CONTROL_SPARE + SC_FD_FILE_SPARE;
  ASSERT_EQ(sc_fdlimit_plan(10, 20, (uint64_t)tight, &l), -1);
  ASSERT_EQ(sc_fdlimit_plan(10, 20, (uint64_t)tight + 1, &l), 0);
  ASSERT_EQ(l.connections, 1);
}

static void test_admit_without_plan(void) {
  sc_fdlimit_t l = {0};
  ASSERT_EQ(sc_fdlimit_admit(&l, 100000, SC_ADMIT_CLIENT, 0), 1);
  ASSERT_EQ(l.refused, 0);
}

/* Takes fds (dup of a /dev/null fd) one by one as accept() would, lowest
 * first, and checks each against the plan applied to this process. */
static void test_apply_and_admit(void) {
  sc_fdlimit_t l;
  ASSERT_EQ(sc_fdlimit_apply(&l, 40), 0);
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  ASSERT_EQ((long)rl.rlim_cur, (long)l.soft);
  int null_fd = open("/dev/null", O_RDONLY);
  ASSERT_TRUE(null_fd >= 0);
  int *taken = calloc((size_t)l.soft, sizeof *taken), n_taken = 0;
  ASSERT_TRUE(taken != NULL);
  int clients = 0, controls = 0, fd;
  int64_t now = 1000;
  while ((fd = dup(null_fd)) >= 0) {
    taken[n_taken++] = fd;
    if (sc_fdlimit_admit(&l, fd, SC_ADMIT_CLIENT, now))
      clients++;
    else if (sc_fdlimit_admit(&l, fd, SC_ADMIT_CONTROL, now))
      controls++;
    else
      break; /* refused to both: what the server closes at once */
  }
  ASSERT_TRUE(fd >= 0); /* refused before EMFILE, never at it */
  ASSERT_EQ(fd, l.control_below);
  ASSERT_TRUE(clients >= 40); /* the late-open slack is unused here */
  ASSERT_EQ(controls, SC_FD_CONTROL_SPARE);
  /* Room is left for the files the server opens while running. */
  int spare = 0, f;
  while ((f = dup(null_fd)) >= 0) {
    taken[n_taken++] = f;
    spare++;
  }
  ASSERT_EQ(errno, EMFILE);
  ASSERT_EQ(spare, SC_FD_FILE_SPARE - 1);
  ASSERT_TRUE(l.refused >= 2); /* the last fd, refused as a client and as control */
  for (int i = 0; i < n_taken; i++) close(taken[i]);
  free(taken);
  close(null_fd);
}

static void test_refusals_logged_once_per_period(void) {
  sc_fdlimit_t l;
  ASSERT_EQ(sc_fdlimit_plan(10, 10, UINT64_MAX, &l), 0);
  int over = l.client_below;
  ASSERT_EQ(sc_fdlimit_admit(&l, over, SC_ADMIT_CLIENT, 5000), 0);
  ASSERT_EQ(l.refusal_log.last_ms, 5000); /* the first at once */
  ASSERT_EQ(l.refusal_log.held, 0);
  for (int i = 0; i < 100; i++) sc_fdlimit_admit(&l, over, SC_ADMIT_CLIENT, 5001 + i);
  ASSERT_EQ(l.refusal_log.held, 100); /* held back, counted */
  ASSERT_EQ(sc_fdlimit_admit(&l, over, SC_ADMIT_CLIENT, 5000 + SC_FDLIMIT_LOG_MS), 0);
  ASSERT_EQ(l.refusal_log.held, 0);
  ASSERT_EQ(l.refusal_log.last_ms, 5000 + SC_FDLIMIT_LOG_MS);
  ASSERT_EQ(l.refused, 102);
  ASSERT_EQ(sc_fdlimit_admit(&l, over - 1, SC_ADMIT_CLIENT, 0), 1);
  ASSERT_EQ(sc_fdlimit_admit(&l, over, SC_ADMIT_CONTROL, 0), 1);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_plan_room_asked);
  RUN_TEST(test_plan_clamped_by_hard_limit);
  RUN_TEST(test_admit_without_plan);
  RUN_TEST(test_apply_and_admit);
  RUN_TEST(test_refusals_logged_once_per_period);
  SC_TEST_DONE();
}
