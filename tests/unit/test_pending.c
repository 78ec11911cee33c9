/*
 * test_pending: the table of unauthenticated connections (src/sc_pending):
 * the cap, eviction of the oldest connection of the source holding the
 * most (so one flooding address never evicts another's connection),
 * removal, deadlines, counters and the rate limit of the log line, and the
 * source key of a real socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_pending.h"
#include "sc_test.h"

static int conns[16]; /* addresses used as connection handles */

static void test_cap_evicts_oldest(void) {
  sc_pending_t p;
  sc_pending_init(&p, 3);
  ASSERT_TRUE(sc_pending_add(&p, &conns[0], 7, 100) == NULL);
  ASSERT_TRUE(sc_pending_add(&p, &conns[1], 7, 200) == NULL);
  ASSERT_TRUE(sc_pending_add(&p, &conns[2], 7, 300) == NULL);
  ASSERT_TRUE(sc_pending_add(&p, &conns[3], 7, 400) == &conns[0]);
  ASSERT_EQ(p.n, 3);
  ASSERT_EQ(p.evicted, 1);
  ASSERT_EQ(sc_pending_since(&p, &conns[0]), -1);
  ASSERT_EQ(sc_pending_since(&p, &conns[1]), 200);
  ASSERT_EQ(sc_pending_remove(&p, &conns[2]), 1); /* authenticated */
  ASSERT_EQ(sc_pending_remove(&p, &conns[2]), 0);
  ASSERT_TRUE(sc_pending_add(&p, &conns[4], 7, 500) == NULL); /* room again */
  ASSERT_TRUE(sc_pending_add(&p, &conns[5], 7, 600) == &conns[1]);
  /* The cap is clamped to the table. */
  sc_pending_init(&p, 0);
  ASSERT_EQ(p.cap, 1);
  sc_pending_init(&p, 1000);
  ASSERT_EQ(p.cap, SC_PENDING_MAX);
}

/* A flood from one address evicts only its own connections. */
static void test_flood_spares_other_source(void) {
  sc_pending_t p;
  sc_pending_init(&p, 4);
  ASSERT_TRUE(sc_pending_add(&p, &conns[0], 1, 10) == NULL);
  ASSERT_TRUE(sc_pending_add(&p, &conns[1], 2, 20) == NULL); /* Litecord */
  for (int i = 2; i < 16; i++) {
    void *old = sc_pending_add(&p, &conns[i], 1, 10 * i);
    ASSERT_TRUE(i < 4 || old != NULL);
    ASSERT_TRUE(old != &conns[1]);
  }
  ASSERT_EQ(sc_pending_since(&p, &conns[1]), 20);
  /* Equal counts: the oldest goes. */
  sc_pending_init(&p, 2);
  sc_pending_add(&p, &conns[0], 1, 10);
  sc_pending_add(&p, &conns[1], 2, 20);
  ASSERT_TRUE(sc_pending_add(&p, &conns[2], 3, 30) == &conns[0]);
}

static void test_log_rate(void) {
  sc_pending_t p;
  sc_pending_init(&p, 1);
  ASSERT_TRUE(!sc_pending_log_due(&p, 1000));
  sc_pending_add(&p, &conns[0], 1, 1000);
  sc_pending_add(&p, &conns[1], 1, 1000);    /* evicts */
  ASSERT_TRUE(sc_pending_log_due(&p, 1000)); /* the first at once */
  sc_pending_logged(&p, 1000);
  sc_pending_timed_out(&p);
  ASSERT_EQ(p.timed_out, 1);
  ASSERT_TRUE(!sc_pending_log_due(&p, 1000 + SC_PENDING_LOG_MS - 1));
  ASSERT_TRUE(sc_pending_log_due(&p, 1000 + SC_PENDING_LOG_MS));
  ASSERT_EQ(p.unlogged, 1);
}

static void test_src(void) {
  ASSERT_EQ(sc_pending_src(-1), 0);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
  ASSERT_EQ(listen(l, 4), 0);
  ASSERT_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
  ASSERT_EQ(sc_pending_src(l), 0); /* not connected */
  int c1 = socket(AF_INET, SOCK_STREAM, 0), c2 = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(c1, (struct sockaddr *)&a, sizeof a), 0);
  ASSERT_EQ(connect(c2, (struct sockaddr *)&a, sizeof a), 0);
  /* Same address, other ports: the same source. */
  ASSERT_TRUE(sc_pending_src(c1) != 0);
  ASSERT_EQ(sc_pending_src(c1), sc_pending_src(c2));
  close(c1);
  close(c2);
  close(l);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_cap_evicts_oldest);
  RUN_TEST(test_flood_spares_other_source);
  RUN_TEST(test_log_rate);
  RUN_TEST(test_src);
  SC_TEST_DONE();
}
