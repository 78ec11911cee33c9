/*
 * sc_pending: the connections of one listener that have not authenticated
 * yet (an LVSP socket before IDENTIFY/RESUME, an admin connection before
 * an authorized request), capped in number, oldest first.
 *
 * Why. Anyone who can reach a control port can open connections without
 * knowing a secret. Each holds an fd until it is closed, and control
 * listeners may use the fds kept for Litecord (sc_fdlimit.h). So at most
 * `cap` of them exist per listener: a new one over the cap evicts the
 * OLDEST, which the owner closes at once. Evicting the newest instead (or
 * refusing it) would let an attacker who holds the cap lock everyone out,
 * Litecord included; evicting the oldest means a legitimate client that
 * authenticates within its round trips always gets in, since an attacker
 * must open `cap` new connections during that time to push it out. And
 * the victim is the oldest connection *of the source address holding the
 * most pending ones*, so a flood from one address (or a few) only ever
 * evicts its own connections while Litecord, from another address, holds
 * fewer: from a different address it cannot be pushed out at all. Each
 * one also has a deadline (the owner's timer, SC_PENDING_TIMEOUT_MS).
 *
 * Owns: the table (fixed, no allocation) and its counters.
 * Threads: control (lws) thread only.
 * Memory: embedded in the owner's per-listener state; `conn` pointers are
 * only compared, never dereferenced.
 */
#ifndef SC_PENDING_H
#define SC_PENDING_H

#include <stddef.h>
#include <stdint.h>

#define SC_PENDING_MAX 8
/* How long a connection may stay unauthenticated (documented in
 * docs/SECURITY.md); also the handshake timeout of control listeners. */
#define SC_PENDING_TIMEOUT_MS 5000
/* One log line per this long at most, with the count since the last. */
#define SC_PENDING_LOG_MS 10000

typedef struct {
  void *conn;
  uint64_t src; /* the peer's address, hashed (sc_pending_src); 0 = unknown */
  int64_t since_ms;
} sc_pending_entry_t;

typedef struct {
  sc_pending_entry_t e[SC_PENDING_MAX]; /* oldest first */
  size_t n, cap;
  uint64_t evicted, timed_out; /* since start */
  uint64_t unlogged;
  int64_t logged_ms; /* 0 = never */
} sc_pending_t;

/* cap: 1..SC_PENDING_MAX (clamped). */
void sc_pending_init(sc_pending_t *p, size_t cap);

/* Adds conn (from source src, accepted at now_ms). When the table was
 * full, the oldest entry of the source with the most entries is taken
 * out, counted, and returned for the caller to close; else NULL. */
void *sc_pending_add(sc_pending_t *p, void *conn, uint64_t src, int64_t now_ms);

/* The source key of a connected socket: a hash of the peer's IP address
 * (not the port); 0 if it cannot be read. */
uint64_t sc_pending_src(int fd);

/* Takes conn out (it authenticated, or is gone). 1 if it was there. */
int sc_pending_remove(sc_pending_t *p, void *conn);

/* When conn was added, or -1 if it is not pending. */
int64_t sc_pending_since(const sc_pending_t *p, void *conn);

/* Counts one closed at its deadline (the owner's timer fired). */
void sc_pending_timed_out(sc_pending_t *p);

/* 1 when a line about evictions/timeouts is due now (the first at once,
 * then one per SC_PENDING_LOG_MS); the caller logs p->unlogged, then calls
 * sc_pending_logged(). */
int sc_pending_log_due(const sc_pending_t *p, int64_t now_ms);
void sc_pending_logged(sc_pending_t *p, int64_t now_ms);

#endif
