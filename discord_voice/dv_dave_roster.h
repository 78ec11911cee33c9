/*
 * dv_dave_roster: the leaves of one DAVE call's MLS group, as the gateway
 * tracks them (reference dave-server.md 2.2-2.4). A leaf is blank (never
 * used, or removed by a commit: the next Add takes the lowest), held by a
 * member, or vacated: its member left or could not apply a commit, and
 * the next round proposes its Remove. Members and their leaf numbers are
 * dv_dave's; this module only keeps the leaves' states, so that a Remove
 * names a leaf the clients' tree has and an Add lands where they put it.
 *
 * dv_dave drives it, one way. No I/O.
 * Threads: the caller's (the control thread, with dv_dave).
 * Memory: the roster is the caller's (embedded, zero-initialised: no
 * leaves); dv_dave_roster_take grows its array, dv_dave_roster_free frees
 * it.
 */
#ifndef DV_DAVE_ROSTER_H
#define DV_DAVE_ROSTER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DV_DAVE_LEAF_BLANK, DV_DAVE_LEAF_HELD, DV_DAVE_LEAF_VACATED } dv_dave_leaf_t;

typedef struct {
  dv_dave_leaf_t *leaf;
  size_t n, cap; /* leaves in the tree; leaf[n..cap) unused */
} dv_dave_roster_t;

/* A member joins the group (an Add committed, or the first committer):
 * it holds the lowest blank leaf, or a new one at the end. 0 and *leaf,
 * or -ENOMEM (nothing changes). */
int dv_dave_roster_take(dv_dave_roster_t *r, uint32_t *leaf);
/* Its member left or failed: the leaf waits for a Remove. A leaf out of
 * range or blank is left alone. */
void dv_dave_roster_vacate(dv_dave_roster_t *r, uint32_t leaf);
/* A commit removed the leaf: blank, for the next Add. Out of range: no-op. */
void dv_dave_roster_release(dv_dave_roster_t *r, uint32_t leaf);
/* The first vacated leaf at or after *leaf: 1 with *leaf set, or 0. */
int dv_dave_roster_next_vacated(const dv_dave_roster_t *r, uint32_t *leaf);
/* The group is gone: no leaves (the array is kept for the next group). */
void dv_dave_roster_clear(dv_dave_roster_t *r);
void dv_dave_roster_free(dv_dave_roster_t *r);

#endif
