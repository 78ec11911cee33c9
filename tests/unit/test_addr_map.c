/* sc_addr_map: IPv4 and IPv6 keys (family, address and port all count),
 * no put without reserved room, reserve keeping every entry, and churn
 * against a plain array model (backward-shift deletion must keep every
 * live address reachable in a small, crowded map). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sc_addr_map.h"
#include "sc_test.h"

static sc_udp_addr_t v4(uint32_t ip, uint16_t port) {
  sc_udp_addr_t a;
  memset(&a, 0, sizeof a);
  a.in.sin_family = AF_INET;
  a.in.sin_addr.s_addr = htonl(ip);
  a.in.sin_port = htons(port);
  return a;
}

static sc_udp_addr_t v6(uint8_t last, uint16_t port) {
  sc_udp_addr_t a;
  memset(&a, 0, sizeof a);
  a.in6.sin6_family = AF_INET6;
  a.in6.sin6_addr.s6_addr[15] = last;
  a.in6.sin6_port = htons(port);
  return a;
}

static void test_keys(void) {
  sc_addr_map_t m = {0};
  int x, y, z;
  sc_udp_addr_t a = v4(0x7f000001, 5000), b = v4(0x7f000001, 5001), c = v6(1, 5000);
  ASSERT_TRUE(sc_addr_map_get(&m, &a) == NULL);
  ASSERT_EQ(sc_addr_map_put(&m, &a, &x), -ENOSPC); /* nothing reserved */
  ASSERT_EQ(sc_addr_map_reserve(&m, 3), 0);
  ASSERT_EQ(sc_addr_map_put(&m, &a, &x), 0);
  ASSERT_EQ(sc_addr_map_put(&m, &b, &y), 0);
  ASSERT_EQ(sc_addr_map_put(&m, &c, &z), 0);
  ASSERT_TRUE(sc_addr_map_get(&m, &a) == &x);
  ASSERT_TRUE(sc_addr_map_get(&m, &b) == &y); /* another port */
  ASSERT_TRUE(sc_addr_map_get(&m, &c) == &z); /* another family */
  sc_udp_addr_t d = v4(0x7f000002, 5000);
  ASSERT_TRUE(sc_addr_map_get(&m, &d) == NULL);
  sc_addr_map_del(&m, &d); /* absent: no change */
  ASSERT_EQ(m.n, 3);
  sc_addr_map_del(&m, &a);
  ASSERT_TRUE(sc_addr_map_get(&m, &a) == NULL && sc_addr_map_get(&m, &b) == &y);
  size_t cap = m.cap;
  ASSERT_EQ(sc_addr_map_reserve(&m, 200), 0);
  ASSERT_TRUE(m.cap > cap);
  ASSERT_TRUE(sc_addr_map_get(&m, &b) == &y && sc_addr_map_get(&m, &c) == &z);
  ASSERT_EQ(m.n, 2);
  sc_addr_map_free(&m);
  ASSERT_TRUE(m.slots == NULL && m.cap == 0 && m.n == 0);
}

/* 8 live addresses of 16 in a 16-slot map, put and deleted in a
 * pseudo-random order for many rounds. */
static void test_churn(void) {
  enum { KEYS = 16, LIVE = 8 };
  sc_addr_map_t m = {0};
  ASSERT_EQ(sc_addr_map_reserve(&m, LIVE), 0);
  ASSERT_EQ(m.cap, 16);
  sc_udp_addr_t k[KEYS];
  int vals[KEYS], in[KEYS] = {0}, live = 0;
  for (int i = 0; i < KEYS; i++)
    k[i] = (i & 1) ? v6((uint8_t)i, 9) : v4(0x0a000000u + (uint32_t)i, 9);
  uint32_t rng = 12345;
  for (int step = 0; step < 20000; step++) {
    rng = rng * 1103515245u + 12345u;
    int i = (int)((rng >> 16) % KEYS);
    if (in[i]) {
      sc_addr_map_del(&m, &k[i]);
      in[i] = 0, live--;
    } else if (live < LIVE) {
      ASSERT_EQ(sc_addr_map_put(&m, &k[i], &vals[i]), 0);
      in[i] = 1, live++;
    }
    for (int j = 0; j < KEYS; j++)
      ASSERT_TRUE(sc_addr_map_get(&m, &k[j]) == (in[j] ? (void *)&vals[j] : NULL));
    ASSERT_EQ(m.n, (size_t)live);
  }
  sc_addr_map_free(&m);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_keys);
  RUN_TEST(test_churn);
  SC_TEST_DONE();
}
