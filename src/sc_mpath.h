/*
 * sc_mpath: one media worker's packet path. For each datagram the worker
 * reads: WebRTC (by validated tuple, or STUN) to sc_rtc; RTP/RTCP looked
 * up by SSRC (sc_mtable), authenticated and decrypted under the sender's
 * cipher, RTCP reports accounted, RTP re-encrypted for every other member
 * of the sender's room into the send batch; anything else to the front
 * end's datagram handler (IP discovery, keepalives). It also owns the
 * worker's counters, the forwarding-delay samples of a batch and the
 * worker's WebRTC table (its DTLS timers), and the member state changes
 * the packet path and the commands share (a reset caught up, a cipher
 * released).
 *
 * sc_media owns the worker (thread, socket, command queue, lifecycle) and
 * calls down into this module; this module never calls sc_media (the
 * datagram handler is the front end's, reached through a pointer).
 *
 * Threads: the worker thread that owns the path, except the counters
 * (sc_mstats_t), which anyone reads with relaxed loads (sc_media_get_stats).
 * Memory: embedded in the worker (sc_media.c); owns its tables (sc_mtable),
 * its send batch and its WebRTC table. Nothing is allocated per packet.
 */
#ifndef SC_MPATH_H
#define SC_MPATH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_media.h"
#include "sc_mtable.h"
#include "sc_rtc.h"
#include "sc_udp.h"

/* A worker's counters, laid out as sc_media_stats_t: written by the worker
 * only, read by anyone (relaxed atomics). */
typedef struct {
  _Atomic uint64_t v[sizeof(sc_media_stats_t) / sizeof(uint64_t)];
} sc_mstats_t;
#define SC_MSTAT(s, field) (s)->v[offsetof(sc_media_stats_t, field) / sizeof(uint64_t)]
/* Every counter has one writer (the worker that owns it), so a relaxed
 * load and store suffices: readers see whole values, and the hot path pays
 * no locked read-modify-write per packet. */
static inline void sc_mstat_bump(_Atomic uint64_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}
#define SC_MCOUNT(s, field) sc_mstat_bump(&SC_MSTAT(s, field), 1)

typedef struct sc_mpath {
  sc_media_worker_t *worker; /* handed to the datagram handler */
  int index;                 /* the worker's, for log lines */
  int fd;                    /* the worker's UDP socket (sends) */
  sc_mtable_t table;
  sc_mstats_t stats;
  sc_datagram_fn on_datagram;
  uint8_t plain[SC_UDP_PKT_MAX];
  uint8_t rtcp[SC_UDP_PKT_MAX + 8];   /* an RTCP packet reassembled for parsing */
  sc_udp_tx_t tx;                     /* filled during a receive batch, flushed with sendmmsg */
  int64_t fwd_rx_ns[SC_UDP_RX_BATCH]; /* receive times of the batch's forwarded packets */
  int64_t batch_ms; /* wall clock (unix ms) when the current receive batch was read */
  int n_fwd;
  sc_rtc_table_t rtc; /* WebRTC members on this socket (sc_rtc) */
  /* sc_rtc's counters moved while the worker had no WebRTC member (a key
   * frame request in a Discord member's RTCP): publish them once. */
  int rtc_dirty;
} sc_mpath_t;

/* Sets up p for the worker (its socket fd, its handler fn, may be NULL):
 * 0 or -ENOMEM; sc_mpath_fini either way. */
int sc_mpath_init(sc_mpath_t *p, sc_media_worker_t *worker, int index, int fd, sc_datagram_fn fn);
/* Every member must have been removed before (sc_mtable_any is NULL). */
void sc_mpath_fini(sc_mpath_t *p);

/* A receive batch: begin (clock, WebRTC budgets), each datagram with its
 * kernel receive time (0: none), end (send batch flushed, delays sampled,
 * WebRTC counters published). */
void sc_mpath_begin_batch(sc_mpath_t *p);
void sc_mpath_datagram(sc_mpath_t *p, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, int64_t rx_ns);
void sc_mpath_end_batch(sc_mpath_t *p);
/* Due DTLS retransmissions and RTCP reports (sc_rtc_rtcp_tick) sent;
 * returns the epoll timeout (ms) until the next, at most 1000 (100 while
 * the worker has WebRTC members). */
int sc_mpath_timers(sc_mpath_t *p);

/* Brings m up to its block's reset generation (a new client must prove
 * its address and key anew): 0 if it was current, 1 if it was reset. */
int sc_mpath_catch_up(sc_mpath_t *p, sc_mmember_t *m);
/* Frees m's cipher state (ops->free) and forgets it. */
void sc_mpath_release_cipher(sc_mmember_t *m);

#endif
