/*
 * sc_ufrag_map: a media worker's map from our ICE ufrag to the member it
 * belongs to, for STUN from a tuple the worker does not know yet
 * (sc_stun_peek_ufrag gives the key; the member's sc_ice_t then checks
 * MESSAGE-INTEGRITY). Open addressing with linear probing and
 * backward-shift deletion: no tombstones, so churn never degrades it.
 * Keys are our own ufrags, drawn from the CSPRNG, so a plain hash cannot
 * be flooded; lookups with chosen keys only probe.
 *
 * Owns: its slot array (allocated once by init, for a fixed number of
 * entries; put, get and del never allocate), and a copy of each key.
 * Values are the caller's. Threads: the one worker that owns it; no locks.
 */
#ifndef SC_UFRAG_MAP_H
#define SC_UFRAG_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "sc_ice.h"

typedef struct {
  char ufrag[SC_ICE_UFRAG_LEN];
  void *value; /* NULL = empty slot */
} sc_ufrag_slot_t;

typedef struct {
  sc_ufrag_slot_t *slots;
  size_t cap;         /* power of two, at least twice max_entries */
  size_t used, limit; /* entries; at most max_entries */
} sc_ufrag_map_t;

/* Room for max_entries (> 0). 0, or -ENOMEM / -EINVAL. */
int sc_ufrag_map_init(sc_ufrag_map_t *m, size_t max_entries);
void sc_ufrag_map_free(sc_ufrag_map_t *m);

/* Adds ufrag (SC_ICE_UFRAG_LEN characters) -> value (not NULL). 0, or
 * -EEXIST (that ufrag is taken: draw new credentials), -ENOSPC (full),
 * -EINVAL. */
int sc_ufrag_map_put(sc_ufrag_map_t *m, const char *ufrag, void *value);

/* The value for the len bytes at ufrag (as sc_stun_peek_ufrag gives
 * them), or NULL. */
void *sc_ufrag_map_get(const sc_ufrag_map_t *m, const uint8_t *ufrag, size_t len);

/* Removes ufrag; returns its value or NULL. */
void *sc_ufrag_map_del(sc_ufrag_map_t *m, const char *ufrag);

#endif
