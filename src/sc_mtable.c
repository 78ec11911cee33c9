#include "sc_mtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 1024 /* powers of two */

int sc_mtable_init(sc_mtable_t *t) {
  t->n_buckets = t->n_room_buckets = INITIAL_BUCKETS;
  t->n_entries = t->n_rooms = 0;
  t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
  t->room_buckets = calloc(t->n_room_buckets, sizeof *t->room_buckets);
  if (t->buckets && t->room_buckets) return 0;
  sc_mtable_fini(t);
  return -ENOMEM;
}

void sc_mtable_fini(sc_mtable_t *t) {
  free(t->buckets);
  free(t->room_buckets);
  t->buckets = NULL;
  t->room_buckets = NULL;
}

/* ---- SSRCs ---------------------------------------------------------------- */

static size_t slot_of(const sc_mtable_t *t, uint32_t ssrc) {
  return (ssrc * 2654435761u) & (t->n_buckets - 1);
}

sc_mentry_t *sc_mtable_find(const sc_mtable_t *t, uint32_t ssrc) {
  for (sc_mentry_t *e = t->buckets[slot_of(t, ssrc)]; e; e = e->next)
    if (e->ssrc == ssrc) return e;
  return NULL;
}

static int is_own(const sc_mentry_t *e) {
  return e == &e->m->entries[0];
}

sc_mmember_t *sc_mtable_member(const sc_mtable_t *t, uint32_t ssrc) {
  sc_mentry_t *e = sc_mtable_find(t, ssrc);
  return e && is_own(e) ? e->m : NULL;
}

sc_mmember_t *sc_mtable_any(const sc_mtable_t *t) {
  for (size_t i = 0; i < t->n_buckets; i++)
    if (t->buckets[i]) return t->buckets[i]->m;
  return NULL;
}

/* Doubles the bucket array when the table gets full, so lookups stay O(1).
 * Runs while applying a command, never per packet. */
static void grow(sc_mtable_t *t) {
  if (t->n_entries < t->n_buckets) return;
  size_t n = t->n_buckets * 2;
  sc_mentry_t **b = calloc(n, sizeof *b);
  if (!b) return; /* keep the old table: slower, still correct */
  sc_mentry_t **old = t->buckets;
  size_t old_n = t->n_buckets;
  t->buckets = b;
  t->n_buckets = n;
  for (size_t i = 0; i < old_n; i++) {
    for (sc_mentry_t *e = old[i], *next; e; e = next) {
      next = e->next;
      size_t s = slot_of(t, e->ssrc);
      e->next = b[s];
      b[s] = e;
    }
  }
  free(old);
}

static void insert(sc_mtable_t *t, sc_mentry_t *e) {
  size_t s = slot_of(t, e->ssrc);
  e->next = t->buckets[s];
  t->buckets[s] = e;
  t->n_entries++;
  grow(t);
}

static void unlink_entry(sc_mtable_t *t, sc_mentry_t *e) {
  for (sc_mentry_t **p = &t->buckets[slot_of(t, e->ssrc)]; *p; p = &(*p)->next) {
    if (*p == e) {
      *p = e->next;
      t->n_entries--;
      return;
    }
  }
}

/* Removes alias e from its member, keeping the member's entries dense
 * (the last entry moves into e's place, so it is re-linked). */
static void evict_alias(sc_mtable_t *t, sc_mentry_t *e) {
  sc_mmember_t *o = e->m;
  sc_mentry_t *last = &o->entries[--o->n_entries];
  unlink_entry(t, e);
  if (e == last) return;
  unlink_entry(t, last);
  *e = *last;
  insert(t, e);
}

int sc_mtable_alias(sc_mtable_t *t, sc_mmember_t *m, uint32_t ssrc) {
  sc_mentry_t *e = sc_mtable_find(t, ssrc);
  if (e) return e->m == m && !is_own(e) ? 0 : -EEXIST;
  if (m->n_entries == 1 + SC_MEDIA_MAX_ALIASES) return -ENOSPC;
  e = &m->entries[m->n_entries++];
  *e = (sc_mentry_t){.ssrc = ssrc, .m = m};
  insert(t, e);
  return 0;
}

void sc_mtable_drop_aliases(sc_mtable_t *t, sc_mmember_t *m) {
  while (m->n_entries > 1) unlink_entry(t, &m->entries[--m->n_entries]);
}

/* ---- rooms and members ------------------------------------------------- */

static sc_mroom_t **room_slot(sc_mtable_t *t, uint64_t id) {
  return &t->room_buckets[(id * 11400714819323198485ull) >> 54 & (t->n_room_buckets - 1)];
}

static sc_mroom_t *get_room(sc_mtable_t *t, uint64_t id) {
  sc_mroom_t **slot = room_slot(t, id);
  for (sc_mroom_t *r = *slot; r; r = r->hash_next)
    if (r->id == id) return r;
  sc_mroom_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->id = id;
  r->hash_next = *slot;
  *slot = r;
  t->n_rooms++;
  return r;
}

static void drop_room_if_empty(sc_mtable_t *t, sc_mroom_t *r) {
  if (r->n_members) return;
  for (sc_mroom_t **p = room_slot(t, r->id); *p; p = &(*p)->hash_next) {
    if (*p == r) {
      *p = r->hash_next;
      break;
    }
  }
  t->n_rooms--;
  free(r);
}

sc_mmember_t *sc_mtable_add(sc_mtable_t *t, uint64_t room_id, uint32_t ssrc,
                            sc_member_stats_t *stats, int *err) {
  sc_mentry_t *taken = sc_mtable_find(t, ssrc);
  if (taken && is_own(taken)) {
    *err = -EEXIST;
    return NULL;
  }
  sc_mroom_t *r = get_room(t, room_id);
  /* sizeof is a multiple of the struct's (cache-line) alignment */
  sc_mmember_t *m = r ? aligned_alloc(_Alignof(sc_mmember_t), sizeof *m) : NULL;
  if (m) memset(m, 0, sizeof *m);
  if (!m) {
    if (r) drop_room_if_empty(t, r);
    *err = -ENOMEM;
    return NULL;
  }
  if (taken) evict_alias(t, taken);
  m->ssrc = ssrc;
  m->stats = stats;
  m->room = r;
  m->room_next = r->members;
  if (r->members) r->members->room_prev = m;
  r->members = m;
  r->n_members++;
  m->entries[0] = (sc_mentry_t){.ssrc = ssrc, .m = m};
  m->n_entries = 1;
  insert(t, &m->entries[0]);
  return m;
}

void sc_mtable_remove(sc_mtable_t *t, sc_mmember_t *m) {
  sc_mtable_drop_aliases(t, m);
  unlink_entry(t, &m->entries[0]);
  sc_mroom_t *r = m->room;
  if (m->room_prev)
    m->room_prev->room_next = m->room_next;
  else
    r->members = m->room_next;
  if (m->room_next) m->room_next->room_prev = m->room_prev;
  r->n_members--;
  free(m);
  drop_room_if_empty(t, r);
}
