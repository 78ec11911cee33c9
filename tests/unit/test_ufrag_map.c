/* sc_ufrag_map: put/get/del, a taken ufrag, a full map, lookups of the
 * wrong length, and churn against a plain array model (backward-shift
 * deletion must keep every live key reachable). */
#include <errno.h>
#include <stdio.h>

#include "sc_test.h"
#include "sc_ufrag_map.h"

static void test_basic(void) {
  sc_ufrag_map_t m;
  ASSERT_EQ(sc_ufrag_map_init(&m, 2), 0);
  int a, b, c;
  ASSERT_EQ(sc_ufrag_map_put(&m, "AAAAaaaa", &a), 0);
  ASSERT_EQ(sc_ufrag_map_put(&m, "AAAAaaaa", &b), -EEXIST);
  ASSERT_EQ(sc_ufrag_map_put(&m, "BBBBbbbb", &b), 0);
  ASSERT_EQ(sc_ufrag_map_put(&m, "CCCCcccc", &c), -ENOSPC);
  ASSERT_EQ(sc_ufrag_map_put(&m, "short", &c), -EINVAL);
  ASSERT_EQ(sc_ufrag_map_put(&m, "DDDDdddd", NULL), -EINVAL);
  ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)"AAAAaaaa", 8) == &a);
  ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)"BBBBbbbb:peer", 8) == &b);
  ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)"AAAAaaaa", 7) == NULL);
  ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)"AAAAaaab", 8) == NULL);
  ASSERT_TRUE(sc_ufrag_map_del(&m, "AAAAaaaa") == &a);
  ASSERT_TRUE(sc_ufrag_map_del(&m, "AAAAaaaa") == NULL);
  ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)"AAAAaaaa", 8) == NULL);
  ASSERT_EQ(sc_ufrag_map_put(&m, "CCCCcccc", &c), 0);
  ASSERT_EQ(m.used, 2);
  sc_ufrag_map_free(&m);
  ASSERT_EQ(sc_ufrag_map_init(&m, 0), -EINVAL);
}

#define N_KEYS 64

static void test_churn_against_model(void) {
  sc_ufrag_map_t m;
  ASSERT_EQ(sc_ufrag_map_init(&m, N_KEYS), 0);
  char keys[N_KEYS][SC_ICE_UFRAG_LEN + 1];
  int live[N_KEYS] = {0}, values[N_KEYS];
  for (int i = 0; i < N_KEYS; i++) snprintf(keys[i], sizeof keys[i], "k%07d", i * 7919);
  uint32_t rnd = 12345;
  for (int step = 0; step < 20000; step++) {
    rnd = rnd * 1103515245u + 12345u;
    int k = (int)((rnd >> 8) % N_KEYS);
    if (live[k]) {
      ASSERT_TRUE(sc_ufrag_map_del(&m, keys[k]) == &values[k]);
      live[k] = 0;
    } else {
      ASSERT_EQ(sc_ufrag_map_put(&m, keys[k], &values[k]), 0);
      live[k] = 1;
    }
    if (step % 97 == 0)
      for (int i = 0; i < N_KEYS; i++)
        ASSERT_TRUE(sc_ufrag_map_get(&m, (const uint8_t *)keys[i], SC_ICE_UFRAG_LEN) ==
                    (live[i] ? &values[i] : NULL));
  }
  size_t n = 0;
  for (int i = 0; i < N_KEYS; i++) n += (size_t)live[i];
  ASSERT_EQ(m.used, n);
  sc_ufrag_map_free(&m);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_basic);
  RUN_TEST(test_churn_against_model);
  SC_TEST_DONE();
}
