#include "sc_hmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A deleted slot keeps probe chains intact until the next rehash. */
static const char sc_hmap_tomb_key[1];
#define TOMB (sc_hmap_tomb_key)

static uint64_t hash_key(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* Whether the stored key is exactly the len bytes at key (strnlen first:
 * a shorter stored key is never read past its end). */
static int key_is(const char *stored, const char *key, size_t len) {
  return strnlen(stored, len + 1) == len && memcmp(stored, key, len) == 0;
}

void sc_hmap_init(sc_hmap_t *m) {
  memset(m, 0, sizeof *m);
}

void sc_hmap_free(sc_hmap_t *m) {
  free(m->slots);
  sc_hmap_init(m);
}

/* Slot holding the len bytes at key, or NULL. */
static sc_hmap_slot_t *find(const sc_hmap_t *m, const char *key, size_t len) {
  if (!m->cap) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = hash_key(key, len) & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
    sc_hmap_slot_t *s = &m->slots[i];
    if (!s->key) return NULL;
    if (s->key != TOMB && key_is(s->key, key, len)) return s;
  }
  return NULL;
}

void *sc_hmap_get(const sc_hmap_t *m, const char *key) {
  return sc_hmap_getn(m, key, strlen(key));
}

void *sc_hmap_getn(const sc_hmap_t *m, const char *key, size_t len) {
  sc_hmap_slot_t *s = find(m, key, len);
  return s ? s->value : NULL;
}

static void insert_fresh(sc_hmap_t *m, const char *key, void *value) {
  size_t mask = m->cap - 1;
  size_t i = hash_key(key, strlen(key)) & mask;
  while (m->slots[i].key && m->slots[i].key != TOMB) i = (i + 1) & mask;
  if (m->slots[i].key == TOMB) m->tombs--;
  m->slots[i].key = key;
  m->slots[i].value = value;
  m->used++;
}

static int rehash(sc_hmap_t *m, size_t cap) {
  sc_hmap_slot_t *old = m->slots;
  size_t old_cap = m->cap;
  sc_hmap_slot_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return -ENOMEM;
  m->slots = slots;
  m->cap = cap;
  m->used = 0;
  m->tombs = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].key && old[i].key != TOMB) insert_fresh(m, old[i].key, old[i].value);
  free(old);
  return 0;
}

int sc_hmap_put(sc_hmap_t *m, const char *key, void *value) {
  sc_hmap_slot_t *s = find(m, key, strlen(key));
  if (s) {
    s->key = key;
    s->value = value;
    return 0;
  }
  /* Keep load (live + tombstones) under 3/4 so probes stay short. */
  if ((m->used + m->tombs + 1) * 4 > m->cap * 3) {
    size_t cap = m->cap ? m->cap : 16;
    while ((m->used + 1) * 2 > cap) cap *= 2;
    if (rehash(m, cap) < 0) return -ENOMEM;
  }
  insert_fresh(m, key, value);
  return 0;
}

void *sc_hmap_del(sc_hmap_t *m, const char *key) {
  sc_hmap_slot_t *s = find(m, key, strlen(key));
  if (!s) return NULL;
  void *v = s->value;
  s->key = TOMB;
  s->value = NULL;
  m->used--;
  m->tombs++;
  return v;
}
