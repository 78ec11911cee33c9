/* sc_hmap: put/get/replace/del, lookups by length (as sc_rtc looks up the
 * ufrag a STUN request names: a prefix, a longer key, a NUL among the
 * bytes), a walk over the slots (sc_rtc's RTCP tick), and churn against a
 * plain array model (tombstones and the rehash that sheds them must keep
 * every live key reachable). */
#include <stdint.h>
#include <stdio.h>

#include "sc_hmap.h"
#include "sc_test.h"

static void test_basic(void) {
  sc_hmap_t m;
  sc_hmap_init(&m);
  int a, b, c;
  ASSERT_TRUE(sc_hmap_get(&m, "AAAAaaaa") == NULL); /* empty, no slots yet */
  ASSERT_EQ(sc_hmap_put(&m, "AAAAaaaa", &a), 0);
  ASSERT_EQ(sc_hmap_put(&m, "BBBBbbbb", &b), 0);
  ASSERT_TRUE(sc_hmap_get(&m, "AAAAaaaa") == &a);
  ASSERT_EQ(sc_hmap_put(&m, "AAAAaaaa", &c), 0); /* replaces */
  ASSERT_TRUE(sc_hmap_get(&m, "AAAAaaaa") == &c);
  ASSERT_EQ(m.used, 2);
  ASSERT_TRUE(sc_hmap_del(&m, "AAAAaaaa") == &c);
  ASSERT_TRUE(sc_hmap_del(&m, "AAAAaaaa") == NULL);
  ASSERT_TRUE(sc_hmap_get(&m, "AAAAaaaa") == NULL);
  ASSERT_TRUE(sc_hmap_get(&m, "BBBBbbbb") == &b);
  ASSERT_EQ(m.used, 1);
  sc_hmap_free(&m);
  ASSERT_TRUE(m.slots == NULL && m.cap == 0);
}

static void test_getn(void) {
  sc_hmap_t m;
  sc_hmap_init(&m);
  int a, b;
  ASSERT_EQ(sc_hmap_put(&m, "AAAAaaaa", &a), 0);
  ASSERT_EQ(sc_hmap_put(&m, "AAAA", &b), 0);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaaa", 8) == &a);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaaa:peer", 8) == &a); /* the bytes before ':' */
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaaa", 4) == &b);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaaa", 7) == NULL);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaaab", 9) == NULL);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAAaaab", 8) == NULL);
  ASSERT_TRUE(sc_hmap_getn(&m, "AAAA\0aaa", 8) == NULL);
  ASSERT_TRUE(sc_hmap_getn(&m, "", 0) == NULL);
  sc_hmap_free(&m);
}

/* Every live value once, NULL in every other slot. */
static void test_walk(void) {
  sc_hmap_t m;
  sc_hmap_init(&m);
  char keys[40][12];
  int values[40], seen[40] = {0};
  for (int i = 0; i < 40; i++) {
    snprintf(keys[i], sizeof keys[i], "key%d", i);
    ASSERT_EQ(sc_hmap_put(&m, keys[i], &values[i]), 0);
  }
  for (int i = 0; i < 40; i += 2) ASSERT_TRUE(sc_hmap_del(&m, keys[i]) == &values[i]);
  for (size_t s = 0; s < m.cap; s++) {
    int *v = m.slots[s].value;
    if (v) seen[v - values]++;
  }
  for (int i = 0; i < 40; i++) ASSERT_EQ(seen[i], i % 2);
  sc_hmap_free(&m);
}

#define N_KEYS 64

static void test_churn_against_model(void) {
  sc_hmap_t m;
  sc_hmap_init(&m);
  char keys[N_KEYS][9];
  int live[N_KEYS] = {0}, values[N_KEYS];
  for (int i = 0; i < N_KEYS; i++) snprintf(keys[i], sizeof keys[i], "k%07d", i * 7919);
  uint32_t rnd = 12345;
  for (int step = 0; step < 20000; step++) {
    rnd = rnd * 1103515245u + 12345u;
    int k = (int)((rnd >> 8) % N_KEYS);
    if (live[k]) {
      ASSERT_TRUE(sc_hmap_del(&m, keys[k]) == &values[k]);
      live[k] = 0;
    } else {
      ASSERT_EQ(sc_hmap_put(&m, keys[k], &values[k]), 0);
      live[k] = 1;
    }
    if (step % 97 == 0)
      for (int i = 0; i < N_KEYS; i++)
        ASSERT_TRUE(sc_hmap_getn(&m, keys[i], 8) == (live[i] ? &values[i] : NULL));
  }
  size_t n = 0;
  for (int i = 0; i < N_KEYS; i++) n += (size_t)live[i];
  ASSERT_EQ(m.used, n);
  ASSERT_TRUE((m.used + m.tombs) * 4 <= m.cap * 3); /* tombstones shed on put */
  sc_hmap_free(&m);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_basic);
  RUN_TEST(test_getn);
  RUN_TEST(test_walk);
  RUN_TEST(test_churn_against_model);
  SC_TEST_DONE();
}
