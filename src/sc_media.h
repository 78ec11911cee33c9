/*
 * sc_media: the media plane. N worker threads, each owning one UDP socket
 * (port = udp_listen.port + worker index), the rooms sharded onto it, and
 * every member of those rooms. A worker receives datagrams, authenticates
 * and decrypts each RTP packet under its sender's cipher, and re-encrypts
 * it for every other member of the sender's room.
 *
 * Threads: sc_media_create/start/stop/destroy and every sc_media_post_*
 * call run on the control (lws) thread. Everything else here runs on the
 * worker thread that owns the room. The two meet only in each worker's
 * command queue (mutex + eventfd): the control thread appends a command and
 * writes the eventfd; the worker drains the whole queue at the start of each
 * wake-up, before it reads any datagram. So a command posted before the
 * control thread answers a client (Ready, Session Description) is in force
 * before that client's next datagram can be read.
 *
 * Memory: sc_media_t is owned by the app. A cipher state handed over with
 * sc_media_post_cipher() belongs to the worker from then on; the worker
 * frees it with its ops->free when the member is removed, its cipher is
 * replaced, or the media plane is destroyed. Members and rooms are
 * allocated on the worker when their command is applied, never per packet.
 */
#ifndef SC_MEDIA_H
#define SC_MEDIA_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_lathist.h"

typedef struct sc_media sc_media_t;
typedef struct sc_media_worker sc_media_worker_t;

/* One media packet between open() and seal(): the RTP fields a receiver
 * needs and the media payload (Opus, or a DAVE frame) in clear. */
typedef struct {
  int is_rtcp;       /* 1: RTCP, counted, never forwarded */
  uint8_t marker_pt; /* RTP byte 1 (marker bit | payload type) */
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  const uint8_t *payload; /* points into the worker's scratch buffer */
  size_t payload_len;
} sc_media_pkt_t;

/* The cache line the packet path lays its per-member data out for and
 * prefetches by (x86-64 and most ARM64 cores). Layout and prefetch only:
 * a different line size costs speed, never correctness. */
#define SC_CACHE_LINE 64

/* Packet protection for one member, supplied by a front end (for Discord:
 * discord_voice/dv_crypto). Runs on the worker thread only. */
typedef struct {
  /* Authenticates and decrypts datagram (pkt,len) from the member. Writes
   * the clear payload into plain (cap bytes) and fills *out. Returns 0, or
   * -EBADMSG on authentication failure, -EALREADY for a nonce already seen
   * (replay), -EINVAL on a malformed packet. */
  int (*open)(void *state, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
              sc_media_pkt_t *out);
  /* Builds the datagram for this member (as receiver): a fresh 12-byte RTP
   * header from *in and the payload, encrypted under this member's key and
   * its own nonce counter. Returns the datagram length or a negative errno. */
  int (*seal)(void *state, const sc_media_pkt_t *in, uint8_t *out, size_t cap);
  void (*free)(void *state);
  /* Optional (may be NULL): the one range of the state's memory that open
   * and seal read first, best starting on a cache line. The worker asks
   * once, when the state is installed, and prefetches the ranges of all
   * of a packet's receivers before sealing for the first: with thousands
   * of members their keys are no longer in cache after each round of
   * system calls, and this way they arrive together, not one by one. */
  void (*hot_range)(const void *state, const void **base, size_t *len);
} sc_cipher_ops_t;

/* Handler for datagrams that are not RTP/RTCP (IP discovery, keepalives).
 * Runs on the worker thread. May write a reply into reply (cap bytes) and
 * return its length; 0 = handled, no reply; negative = malformed (dropped
 * and counted). Set once before sc_media_start(). */
typedef int (*sc_datagram_fn)(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                              const struct sockaddr_storage *from, uint8_t *reply, size_t cap);

/* Member flags enforced on the media path. */
enum {
  SC_MEMBER_MUTED = 1u << 0, /* server mute or suppress: packets not forwarded */
  SC_MEMBER_DEAF = 1u << 1,  /* server deafen: receives nothing */
};

/* Per-member counters, shared by the two planes: the worker that owns the
 * member increments them (relaxed atomics), the control thread reads them
 * (admin state). Reference-counted because either side may be done first:
 * the registry holds one reference for the voice state, the worker one for
 * the member; whoever releases the last frees it. */
typedef struct {
  _Atomic uint64_t rx_packets; /* authenticated RTP from the member (all its SSRCs) */
  _Atomic uint64_t rx_bytes;
  _Atomic uint64_t rx_rtcp;
  _Atomic uint64_t tx_packets; /* RTP sent to the member */
  _Atomic uint64_t tx_bytes;
  _Atomic uint64_t drops; /* its datagrams dropped (auth, replay, address, muted) */
  /* RTCP from the member (sc_rtcp_parse): how well it receives the room.
   * The last four hold the member's latest report that had blocks. */
  _Atomic uint64_t rtcp_sr;             /* sender report packets */
  _Atomic uint64_t rtcp_rr;             /* receiver report packets */
  _Atomic uint64_t rtcp_malformed;      /* authentic but unparseable */
  _Atomic uint32_t rtcp_fraction_lost;  /* worst block, 1/256 units */
  _Atomic int64_t rtcp_cumulative_lost; /* sum over its blocks */
  _Atomic uint32_t rtcp_jitter;         /* worst block, RTP timestamp units (Opus: 48 per ms) */
  _Atomic uint32_t rtcp_sources;        /* blocks (sources reported on) */
  _Atomic int refs;
} sc_member_stats_t;

/* A zeroed block with one reference, or NULL. */
sc_member_stats_t *sc_member_stats_new(void);
sc_member_stats_t *sc_member_stats_ref(sc_member_stats_t *s);
void sc_member_stats_release(sc_member_stats_t *s);

/* Counters for the whole media plane (sum over workers). */
typedef struct {
  uint64_t rx_datagrams;
  uint64_t rx_rtp;
  uint64_t rx_rtcp;
  uint64_t tx_packets; /* datagrams sent to members (forwarded RTP) */
  uint64_t tx_bytes;
  uint64_t discovery; /* IP discovery requests answered */
  uint64_t keepalives;
  uint64_t drop_unknown_ssrc;
  uint64_t drop_foreign_addr; /* SSRC known, source address not the bound one */
  uint64_t drop_auth;         /* failed authentication / decryption */
  uint64_t drop_replay;       /* authenticated, but its nonce was seen before */
  uint64_t drop_malformed;    /* too short, bad version, unparseable */
  uint64_t drop_no_cipher;    /* RTP before Select Protocol finished */
  uint64_t drop_muted;        /* from a muted member: not forwarded */
  uint64_t send_errors;
  /* Forwarding delay per forwarded RTP packet: from the kernel's receive
   * timestamp (SO_TIMESTAMPNS) to the return of the sendmmsg that carried
   * the last copy of its batch (an upper bound: socket queueing, decrypt,
   * re-encrypt, the send call). sc_lathist buckets, summed over workers. */
  uint64_t fwd_delay_hist[SC_LATHIST_BUCKETS];
} sc_media_stats_t;

/* Creates (does not start) n_workers workers bound to host:base_port+i
 * (base_port 0: each worker gets an ephemeral port; tests use this).
 * Returns NULL and logs the reason on failure (e.g. port in use). */
sc_media_t *sc_media_create(const char *host, uint16_t base_port, int n_workers,
                            sc_datagram_fn on_datagram);
int sc_media_start(sc_media_t *m);
void sc_media_stop(sc_media_t *m); /* joins the threads; idempotent */
void sc_media_destroy(sc_media_t *m);

/* The UDP port that members of room_id must send to. */
uint16_t sc_media_port_for_room(const sc_media_t *m, uint64_t room_id);

/* Commands (control thread). Each returns 0 or -ENOMEM. Members are keyed
 * by SSRC, which the control plane keeps unique. sc_media_post_add takes a
 * new reference to `stats` (may be NULL) for the member's lifetime. */
int sc_media_post_add(sc_media_t *m, uint64_t room_id, uint32_t ssrc, sc_member_stats_t *stats);
int sc_media_post_cipher(sc_media_t *m, uint64_t room_id, uint32_t ssrc, const sc_cipher_ops_t *ops,
                         void *state);
int sc_media_post_flags(sc_media_t *m, uint64_t room_id, uint32_t ssrc, unsigned flags);
/* Address to send to until the member's first datagram binds one. */
int sc_media_post_peer_hint(sc_media_t *m, uint64_t room_id, uint32_t ssrc,
                            const struct sockaddr_storage *addr);
/* Another SSRC of the member (video, RTX): its packets authenticate under
 * the member's cipher, from the member's address, and are forwarded like
 * audio but keep their own SSRC and payload type. Ignored (logged) if the
 * SSRC is in use on the worker or the member has SC_MEDIA_MAX_ALIASES. */
#define SC_MEDIA_MAX_ALIASES 8
int sc_media_post_alias(sc_media_t *m, uint64_t room_id, uint32_t member_ssrc, uint32_t extra_ssrc);
/* A new client takes the member over: its address binding, cipher and
 * aliases are dropped (the client does IP discovery and Select Protocol
 * anew); its counters stay. */
int sc_media_post_reset(sc_media_t *m, uint64_t room_id, uint32_t ssrc);
int sc_media_post_remove(sc_media_t *m, uint64_t room_id, uint32_t ssrc);

/* Wake-ups deferred (on = 1, control thread): a command then only marks
 * its worker as owed a wake-up, and sc_media_flush_wakeups writes one
 * eventfd per owed worker. The control loop flushes once per pass, so a
 * join burst's commands (add, cipher, flags: ~5 per join) wake a worker
 * once per pass instead of once each. A worker applies pending commands
 * before each batch of datagrams anyway, so nothing a client sends can
 * overtake a command posted before it. Turning it off flushes. */
void sc_media_defer_wakeups(sc_media_t *m, int on);
/* Wakes every worker owed a wake-up; returns how many. Control thread. */
int sc_media_flush_wakeups(sc_media_t *m);

/* Blocks until every command posted so far has been applied (tests and
 * orderly shutdown; never called on a hot path). */
void sc_media_sync(sc_media_t *m);

void sc_media_get_stats(const sc_media_t *m, sc_media_stats_t *out);

/* Worker-thread helpers for the datagram handler. */
/* Binds ssrc's member to `from` if it has no address yet. Returns 0 if the
 * member is (now) bound to `from`, -EEXIST if bound to another address,
 * -ENOENT if no member has that SSRC on this worker. */
int sc_media_worker_bind(sc_media_worker_t *w, uint32_t ssrc, const struct sockaddr_storage *from);
/* Counts a keepalive / a discovery answer in the worker's stats. */
void sc_media_worker_count_keepalive(sc_media_worker_t *w);
void sc_media_worker_count_discovery(sc_media_worker_t *w);

#endif
