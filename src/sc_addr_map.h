/*
 * sc_addr_map: an open-addressing hash from a UDP address (sc_udp_addr_t,
 * IPv4 or IPv6 with its port) to a caller's pointer. Linear probing with
 * backward-shift deletion (no tombstones), at most half full, so a look-up
 * stops at the first empty slot and an insert always finds one.
 *
 * Only sc_addr_map_reserve allocates (the slot array, when it must grow);
 * get, put and del never do, so they are safe on the packet path once the
 * caller reserved room for every address it will put (sc_rtc reserves
 * when a member is attached: a command).
 *
 * Threads: none of its own; a map belongs to one thread (sc_rtc's: the
 * media worker that owns the table). Memory: sc_addr_map_free frees the
 * slot array; the values are the caller's and are never freed here.
 */
#ifndef SC_ADDR_MAP_H
#define SC_ADDR_MAP_H

#include <stddef.h>

#include "sc_udp.h"

typedef struct {
  sc_udp_addr_t addr;
  void *value; /* NULL: empty */
} sc_addr_slot_t;

typedef struct {
  sc_addr_slot_t *slots; /* NULL until the first reserve */
  size_t cap, n;         /* cap: a power of two */
} sc_addr_map_t;

/* Room for `count` addresses in all without growing on put. 0 or -ENOMEM
 * (the map is unchanged then). */
int sc_addr_map_reserve(sc_addr_map_t *m, size_t count);
void sc_addr_map_free(sc_addr_map_t *m);

/* The value of a, or NULL. */
void *sc_addr_map_get(const sc_addr_map_t *m, const sc_udp_addr_t *a);
/* Adds a -> value (value non-NULL, a not present, room reserved). 0, or
 * -ENOSPC if the caller did not reserve room. */
int sc_addr_map_put(sc_addr_map_t *m, const sc_udp_addr_t *a, void *value);
/* Removes a if present. */
void sc_addr_map_del(sc_addr_map_t *m, const sc_udp_addr_t *a);

#endif
