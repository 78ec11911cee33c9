/*
 * sc_mtable: one media worker's tables: its rooms by id, and its members
 * by SSRC, where a member may own extra SSRCs (aliases: video, RTX).
 * Lookups are O(1) hash lookups; nothing is allocated per packet (rooms
 * and members are allocated when a command adds them, the bucket arrays
 * grow while a command is applied).
 *
 * Threads: the worker thread that owns the table (src/sc_media.c, and
 * its packet path src/sc_mpath.c) only.
 * Memory: the table owns its buckets, rooms and members. A member's cipher
 * state and statistics reference are the media plane's: it releases them
 * and then calls sc_mtable_remove, which frees the member (and its room
 * when that empties).
 */
#ifndef SC_MTABLE_H
#define SC_MTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_log.h"
#include "sc_media.h"
#include "sc_udp.h"

typedef struct sc_mmember sc_mmember_t;
typedef struct sc_mroom sc_mroom_t;

/* One SSRC in the table: a member's own, or one of its aliases. */
typedef struct sc_mentry {
  uint32_t ssrc;
  sc_mmember_t *m;
  struct sc_mentry *next; /* bucket chain */
} sc_mentry_t;

/* Laid out for the packet path: the first cache line holds what fan-out
 * reads for every receiver (and the sender's checks), the second its
 * address; the SSRC entries and list links the commands use come after.
 * Allocated on a cache-line boundary. */
struct sc_mmember {
  sc_mmember_t *room_next;
  const sc_cipher_ops_t *ops; /* NULL until Select Protocol */
  void *cipher;
  const char *cipher_hot;   /* ops->hot_range, prefetched before sealing */
  sc_member_stats_t *stats; /* shared with the registry; never NULL */
  sc_mroom_t *room;
  uint16_t cipher_hot_lines; /* cache lines from cipher_hot (0: none) */
  uint8_t bound;             /* addr came from an authenticated datagram of the member */
  uint8_t has_addr;          /* addr usable for sending (bound or hint) */
  uint8_t heard;             /* an authentic packet came since its cipher was set */
  uint32_t gen;              /* the block's reset generation this state is for */
  _Alignas(SC_CACHE_LINE) sc_udp_addr_t addr;
  uint32_t ssrc;
  sc_log_limit_t move_log; /* the "moved" log line */
  int n_entries;
  sc_mmember_t *room_prev;
  /* [0] is the member's own SSRC, then its aliases (dense). */
  sc_mentry_t entries[1 + SC_MEDIA_MAX_ALIASES];
};

struct sc_mroom {
  uint64_t id;
  int n_members;
  sc_mmember_t *members;
  sc_mroom_t *hash_next;
};

typedef struct {
  sc_mentry_t **buckets;
  size_t n_buckets, n_entries;
  sc_mroom_t **room_buckets;
  size_t n_room_buckets, n_rooms;
} sc_mtable_t;

/* 0 or -ENOMEM. */
int sc_mtable_init(sc_mtable_t *t);
/* Frees the bucket arrays; the caller has removed every member. */
void sc_mtable_fini(sc_mtable_t *t);

/* The entry for ssrc (own or alias), or NULL. */
sc_mentry_t *sc_mtable_find(const sc_mtable_t *t, uint32_t ssrc);
/* The member whose own SSRC this is (commands never address aliases). */
sc_mmember_t *sc_mtable_member(const sc_mtable_t *t, uint32_t ssrc);
/* Any member, or NULL when the table is empty (for teardown). */
sc_mmember_t *sc_mtable_any(const sc_mtable_t *t);

/* A new zeroed member of room_id (created if needed) owning ssrc, with
 * `stats` stored as is. An alias using ssrc is taken from its member: the
 * control plane's SSRCs win over client-announced ones. Returns NULL with
 * -EEXIST in *err if another member owns ssrc, -ENOMEM if out of memory. */
sc_mmember_t *sc_mtable_add(sc_mtable_t *t, uint64_t room_id, uint32_t ssrc,
                            sc_member_stats_t *stats, int *err);
/* 0; -EEXIST if ssrc is in use by another member (or is m's own); -ENOSPC
 * if m has SC_MEDIA_MAX_ALIASES. Announcing an alias again is 0. */
int sc_mtable_alias(sc_mtable_t *t, sc_mmember_t *m, uint32_t ssrc);
void sc_mtable_drop_aliases(sc_mtable_t *t, sc_mmember_t *m);
/* Unlinks and frees m (see Memory above). */
void sc_mtable_remove(sc_mtable_t *t, sc_mmember_t *m);

#endif
