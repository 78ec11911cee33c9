/*
 * test_load: the health figure (src/sc_load): the formula, which media
 * counters count as drops, the /proc stat parser (including command names
 * with spaces and parentheses), and that this process's media threads are
 * found by name and their CPU time grows when they work.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "sc_load.h"
#include "sc_test.h"

#define CLOSE(a, b) ASSERT_TRUE((a) > (b)-1e-9 && (a) < (b) + 1e-9)

static void test_health_formula(void) {
  CLOSE(sc_load_health(0, 100, 0, 0), 1.0);
  CLOSE(sc_load_health(2, 100, 0, 0), 0.98);
  CLOSE(sc_load_health(2, 100, 0.5, 0), 0.5); /* the worst share wins */
  CLOSE(sc_load_health(90, 100, 0.5, 0), 0.1);
  CLOSE(sc_load_health(0, 100, 0, 0.01), 0.9); /* drops weigh 10x */
  CLOSE(sc_load_health(0, 100, 0, 0.5), 0.0);
  CLOSE(sc_load_health(300, 100, 0, 0), 0.0); /* clamped */
  CLOSE(sc_load_health(1, 0, 0, 0), 0.0);     /* no capacity: 1 of 1 */
  CLOSE(sc_load_health(0, 100, -3, -1), 1.0);
}

static void test_count_drops(void) {
  sc_media_stats_t st = {.rx_datagrams = 100,
                         .tx_packets = 50,
                         .send_errors = 2,
                         .drop_auth = 3,
                         .drop_malformed = 4,
                         .drop_replay = 100,
                         .drop_unknown_ssrc = 100,
                         .drop_foreign_addr = 100,
                         .drop_muted = 100,
                         .drop_no_cipher = 100};
  uint64_t dropped, handled;
  sc_load_count_drops(&st, &dropped, &handled);
  ASSERT_EQ(dropped, 9);
  ASSERT_EQ(handled, 152);
}

static void test_parse_stat(void) {
  uint64_t t = 0;
  const char *line = "1234 (sc-media-0) S 1 2 3 0 -1 4194368 10 0 0 0 250 17 0 0 20 0 1 0";
  ASSERT_EQ(sc_load_parse_stat(line, strlen(line), &t), 0);
  ASSERT_EQ(t, 267);
  const char *odd = "7 (a) b) (c) R 1 2 3 0 -1 0 0 0 0 0 5 6 0 0";
  ASSERT_EQ(sc_load_parse_stat(odd, strlen(odd), &t), 0);
  ASSERT_EQ(t, 11);
  const char *shortl = "7 (x) R 1 2 3";
  ASSERT_EQ(sc_load_parse_stat(shortl, strlen(shortl), &t), -EINVAL);
  const char *noparen = "7 x R 1 2 3 0 -1 0 0 0 0 0 5 6";
  ASSERT_EQ(sc_load_parse_stat(noparen, strlen(noparen), &t), -EINVAL);
  const char *bad = "7 (x) R 1 2 3 0 -1 0 0 0 0 0 5x 6";
  ASSERT_EQ(sc_load_parse_stat(bad, strlen(bad), &t), -EINVAL);
  ASSERT_EQ(sc_load_parse_stat(line, 20, &t), -EINVAL); /* cut short */
}

static volatile int spin_stop;

static void *spin(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "sc-media-7");
  while (!spin_stop) {
  }
  return NULL;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A thread named like a media worker is counted; the main thread is not. */
static void test_media_cpu(void) {
  double before = sc_load_media_cpu_seconds();
  CLOSE(before, 0.0);
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, NULL, spin, NULL), 0);
  double t0 = cpu_now();
  while (cpu_now() - t0 < 0.6) {
  }
  double during = sc_load_media_cpu_seconds(); /* sampled while it runs */
  spin_stop = 1;
  pthread_join(th, NULL);
  ASSERT_TRUE(during > 0.0);
  sc_load_t l = {0};
  sc_load_sample(&l, NULL, 1);
  sc_load_sample(&l, NULL, 1);
  CLOSE(l.cpu_share, 0.0);
  CLOSE(l.drop_ratio, 0.0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_health_formula);
  RUN_TEST(test_count_drops);
  RUN_TEST(test_parse_stat);
  RUN_TEST(test_media_cpu);
  SC_TEST_DONE();
}
