/*
 * dv_dave_roster: see dv_dave_roster.h. One state per leaf, searched
 * linearly: a call's group is small.
 */
#include "dv_dave_roster.h"

#include <errno.h>
#include <stdlib.h>

int dv_dave_roster_take(dv_dave_roster_t *r, uint32_t *leaf) {
  size_t l = 0;
  while (l < r->n && r->leaf[l] != DV_DAVE_LEAF_BLANK) l++;
  if (l == r->n) {
    if (r->n == r->cap) {
      size_t cap = r->cap ? 2 * r->cap : 8;
      dv_dave_leaf_t *grown = realloc(r->leaf, cap * sizeof *grown);
      if (!grown) return -ENOMEM;
      r->leaf = grown;
      r->cap = cap;
    }
    r->n++;
  }
  r->leaf[l] = DV_DAVE_LEAF_HELD;
  *leaf = (uint32_t)l;
  return 0;
}

void dv_dave_roster_vacate(dv_dave_roster_t *r, uint32_t leaf) {
  if (leaf < r->n && r->leaf[leaf] == DV_DAVE_LEAF_HELD) r->leaf[leaf] = DV_DAVE_LEAF_VACATED;
}

void dv_dave_roster_release(dv_dave_roster_t *r, uint32_t leaf) {
  if (leaf < r->n) r->leaf[leaf] = DV_DAVE_LEAF_BLANK;
}

int dv_dave_roster_next_vacated(const dv_dave_roster_t *r, uint32_t *leaf) {
  for (size_t l = *leaf; l < r->n; l++) {
    if (r->leaf[l] != DV_DAVE_LEAF_VACATED) continue;
    *leaf = (uint32_t)l;
    return 1;
  }
  return 0;
}

void dv_dave_roster_clear(dv_dave_roster_t *r) {
  r->n = 0;
}

void dv_dave_roster_free(dv_dave_roster_t *r) {
  free(r->leaf);
  *r = (dv_dave_roster_t){0};
}
