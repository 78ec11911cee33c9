/*
 * sc_legs: the legs of one voice state (sc_registry.h "Legs"): extra
 * media-plane members of the state's room, one per extra transport of its
 * client (a down peer connection, a receive transport). Each leg has its
 * own member block and SSRC; this module keeps them in a fixed block of
 * SC_LEGS_MAX slots, adds them to the media plane, applies the state's
 * flags to them, removes them, and sums their counters.
 *
 * The registry owns the SSRCs (one allocator and index for every SSRC in
 * the process): it picks a leg's SSRC and indexes it under the slot's
 * ssrc_key, which stays put while the leg lives (slots never move).
 *
 * Threads: control (lws) thread only, like the registry.
 * Memory: sc_legs_slot allocates the block at a state's first leg; the
 * block holds one reference to each live leg's member block (the media
 * plane holds its own until its worker removed the member); sc_legs_free
 * frees the block once every leg has been stopped.
 */
#ifndef SC_LEGS_H
#define SC_LEGS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_media.h"
#include "sc_traffic.h"

#define SC_LEGS_MAX 64 /* legs per voice state */

typedef struct {
  sc_member_stats_t *stats; /* NULL: a free slot */
  uint32_t ssrc;
  char ssrc_key[12]; /* decimal ssrc: the registry's index key */
} sc_leg_t;

typedef struct sc_legs {
  size_t n; /* live legs */
  /* Counters of legs stopped since the block was made: the state's
   * traffic totals include them, so those only grow. */
  sc_traffic_counts_t gone;
  sc_leg_t slot[SC_LEGS_MAX];
} sc_legs_t;

/* A free slot of *legs (the block allocated if *legs is NULL), or NULL
 * with errno ENOSPC (SC_LEGS_MAX live) or ENOMEM. The slot stays free
 * until sc_legs_start succeeds on it. */
sc_leg_t *sc_legs_slot(sc_legs_t **legs);
/* Makes slot leg a live leg under ssrc: a fresh member block with flags
 * (SC_MEMBER_*), added to room_id's media (m may be NULL: no media).
 * 0, or -ENOMEM / the media plane's error (the slot stays free). */
int sc_legs_start(sc_legs_t *legs, sc_leg_t *leg, sc_media_t *m, uint64_t room_id, uint32_t ssrc,
                  unsigned flags);
/* The live leg whose member block is stats, or NULL. */
sc_leg_t *sc_legs_find(sc_legs_t *legs, const sc_member_stats_t *stats);
/* Removes the leg from the media plane (sc_media_remove: cannot fail),
 * keeps its counters in `gone` and frees the slot. */
void sc_legs_stop(sc_legs_t *legs, sc_leg_t *leg, sc_media_t *m);
/* Stores flags (sc_member_set_flags) on every live leg. */
void sc_legs_set_flags(sc_legs_t *legs, unsigned flags);
/* Adds every live leg's rx/tx counters and the stopped ones' to *sum
 * (the state's traffic and its admin view). NULL adds nothing. */
void sc_legs_add_counts(const sc_legs_t *legs, sc_traffic_counts_t *sum);
size_t sc_legs_count(const sc_legs_t *legs); /* 0 for NULL */
/* Frees the block; every leg must have been stopped. NULL is fine. */
void sc_legs_free(sc_legs_t *legs);

#endif
