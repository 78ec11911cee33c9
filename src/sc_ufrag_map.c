#include "sc_ufrag_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: the keys are random already; this only spreads them. */
static size_t hash_ufrag(const uint8_t *k) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < SC_ICE_UFRAG_LEN; i++) h = (h ^ k[i]) * 0x100000001b3ull;
  return (size_t)(h ^ (h >> 32));
}

int sc_ufrag_map_init(sc_ufrag_map_t *m, size_t max_entries) {
  memset(m, 0, sizeof *m);
  if (max_entries == 0 || max_entries > SIZE_MAX / 4 / sizeof(sc_ufrag_slot_t)) return -EINVAL;
  size_t cap = 8;
  while (cap < 2 * max_entries) cap *= 2;
  m->slots = calloc(cap, sizeof *m->slots);
  if (!m->slots) return -ENOMEM;
  m->cap = cap;
  m->limit = max_entries;
  return 0;
}

void sc_ufrag_map_free(sc_ufrag_map_t *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}

/* The slot holding key, or the empty slot where its probe ends. */
static size_t probe(const sc_ufrag_map_t *m, const uint8_t *key) {
  size_t mask = m->cap - 1, i = hash_ufrag(key) & mask;
  while (m->slots[i].value && memcmp(m->slots[i].ufrag, key, SC_ICE_UFRAG_LEN) != 0)
    i = (i + 1) & mask;
  return i;
}

int sc_ufrag_map_put(sc_ufrag_map_t *m, const char *ufrag, void *value) {
  if (!m->slots || !value || strlen(ufrag) != SC_ICE_UFRAG_LEN) return -EINVAL;
  size_t i = probe(m, (const uint8_t *)ufrag);
  if (m->slots[i].value) return -EEXIST;
  if (m->used >= m->limit) return -ENOSPC;
  memcpy(m->slots[i].ufrag, ufrag, SC_ICE_UFRAG_LEN);
  m->slots[i].value = value;
  m->used++;
  return 0;
}

void *sc_ufrag_map_get(const sc_ufrag_map_t *m, const uint8_t *ufrag, size_t len) {
  if (!m->slots || len != SC_ICE_UFRAG_LEN) return NULL;
  return m->slots[probe(m, ufrag)].value;
}

void *sc_ufrag_map_del(sc_ufrag_map_t *m, const char *ufrag) {
  if (!m->slots || strlen(ufrag) != SC_ICE_UFRAG_LEN) return NULL;
  size_t mask = m->cap - 1, i = probe(m, (const uint8_t *)ufrag);
  void *old = m->slots[i].value;
  if (!old) return NULL;
  /* Backward shift: move each later entry of the cluster into the hole
   * if the hole lies between its home slot and where it sits. */
  for (size_t j = (i + 1) & mask; m->slots[j].value; j = (j + 1) & mask) {
    size_t home = hash_ufrag((const uint8_t *)m->slots[j].ufrag) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->slots[i].value = NULL;
  m->used--;
  return old;
}
