/* sc_addr_map: see sc_addr_map.h. */
#include "sc_addr_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(const void *p, size_t n, uint64_t h) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t hash_addr(const sc_udp_addr_t *a) {
  uint64_t h = 0xcbf29ce484222325ull;
  if (a->sa.sa_family == AF_INET6) {
    h = fnv(&a->in6.sin6_addr, sizeof a->in6.sin6_addr, h);
    return fnv(&a->in6.sin6_port, 2, h);
  }
  h = fnv(&a->in.sin_addr, sizeof a->in.sin_addr, h);
  return fnv(&a->in.sin_port, 2, h);
}

static size_t home(const sc_addr_map_t *m, const sc_udp_addr_t *a) {
  return (size_t)hash_addr(a) & (m->cap - 1);
}

void *sc_addr_map_get(const sc_addr_map_t *m, const sc_udp_addr_t *a) {
  if (!m->n) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = home(m, a);; i = (i + 1) & mask) {
    const sc_addr_slot_t *s = &m->slots[i];
    if (!s->value) return NULL;
    if (sc_udp_addr_same(&s->addr, a)) return s->value;
  }
}

int sc_addr_map_put(sc_addr_map_t *m, const sc_udp_addr_t *a, void *value) {
  if (!m->cap || 2 * (m->n + 1) > m->cap) return -ENOSPC;
  size_t mask = m->cap - 1, i = home(m, a);
  while (m->slots[i].value) i = (i + 1) & mask;
  m->slots[i].addr = *a;
  m->slots[i].value = value;
  m->n++;
  return 0;
}

/* Backward shift: every entry after the hole whose probe run crosses it
 * moves into it, so look-ups never need tombstones. */
void sc_addr_map_del(sc_addr_map_t *m, const sc_udp_addr_t *a) {
  if (!m->n) return;
  size_t mask = m->cap - 1, i = home(m, a);
  while (m->slots[i].value && !sc_udp_addr_same(&m->slots[i].addr, a)) i = (i + 1) & mask;
  if (!m->slots[i].value) return;
  m->slots[i].value = NULL;
  m->n--;
  for (size_t j = (i + 1) & mask; m->slots[j].value; j = (j + 1) & mask) {
    size_t h = home(m, &m->slots[j].addr);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      m->slots[j].value = NULL;
      i = j;
    }
  }
}

int sc_addr_map_reserve(sc_addr_map_t *m, size_t count) {
  size_t cap = 16;
  while (cap < 2 * count) cap *= 2;
  if (cap <= m->cap) return 0;
  sc_addr_slot_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return -ENOMEM;
  sc_addr_map_t old = *m;
  m->slots = slots;
  m->cap = cap;
  m->n = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slots[i].value) sc_addr_map_put(m, &old.slots[i].addr, old.slots[i].value);
  free(old.slots);
  return 0;
}

void sc_addr_map_free(sc_addr_map_t *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}
