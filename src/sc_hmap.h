/*
 * sc_hmap: an open-addressing hash map from NUL-terminated string keys to
 * pointers, for the control plane's lookups (session id -> voice state,
 * channel id -> channel, ...) and a media worker's ufrag table (our ICE
 * ufrag -> sc_rtc_t, looked up per STUN request from an unknown tuple).
 *
 * Owns: its slot array only. Keys are NOT copied: a key must live as long
 * as its entry (callers use a string stored inside the value).
 * Threads: whoever owns the map (the control thread, or the worker that
 * owns the ufrag table); no locks.
 * Memory: only put allocates (when the map grows or sheds its tombstones);
 * get, getn and del never do. sc_hmap_free releases the slots; values are
 * the caller's.
 */
#ifndef SC_HMAP_H
#define SC_HMAP_H

#include <stddef.h>

/* A walk over slots[0 .. cap) sees value NULL in empty and deleted slots. */
typedef struct {
  const char *key; /* NULL = empty, or the tombstone of a deleted entry */
  void *value;
} sc_hmap_slot_t;

typedef struct {
  sc_hmap_slot_t *slots;
  size_t cap;   /* power of two, or 0 */
  size_t used;  /* live entries */
  size_t tombs; /* deleted slots not yet reused */
} sc_hmap_t;

void sc_hmap_init(sc_hmap_t *m);
void sc_hmap_free(sc_hmap_t *m);
void *sc_hmap_get(const sc_hmap_t *m, const char *key);
/* The same for a key given as len bytes, not NUL-terminated (as a parser
 * hands it over); a key with a NUL among its bytes matches nothing. */
void *sc_hmap_getn(const sc_hmap_t *m, const char *key, size_t len);
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int sc_hmap_put(sc_hmap_t *m, const char *key, void *value);
/* Removes key if present; returns the old value or NULL. */
void *sc_hmap_del(sc_hmap_t *m, const char *key);

#endif
