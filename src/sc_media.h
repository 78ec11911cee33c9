/*
 * sc_media: the media plane. N worker threads, each owning one UDP socket
 * (port = udp_listen.port + worker index), the rooms sharded onto it, and
 * every member of those rooms. A worker receives datagrams, authenticates
 * and decrypts each RTP packet under its sender's cipher, and re-encrypts
 * it for every other member of the sender's room.
 *
 * Threads: sc_media_create/start/stop/destroy, every sc_media_post_*,
 * sc_media_reset, sc_media_remove and sc_member_set_flags run on the
 * control (lws) thread. Everything else here runs on the worker thread
 * that owns the room. The two meet in each worker's command queue (mutex +
 * eventfd): the control thread appends a command and writes the eventfd;
 * the worker drains the whole queue at the start of each wake-up, before
 * it reads any datagram. So a command posted before the control thread
 * answers a client (Ready, Session Description) is in force before that
 * client's next datagram can be read. And they meet in each member's block
 * (sc_member_stats_t below): flags and a reset generation the worker reads
 * on every packet, so mute, deafen, reset and removal are in force at once
 * and cannot fail.
 *
 * Memory: sc_media_t is owned by the app. A cipher state handed over with
 * sc_media_post_cipher() belongs to the worker from then on; the worker
 * frees it with its ops->free when the member is removed or reset, its
 * cipher is replaced, the command turns out stale, or the media plane is
 * destroyed. Members and rooms are allocated on the worker when their
 * command is applied, never per packet. Removing and resetting a member
 * allocate nothing (their nodes live in the member block).
 *
 * Addresses: a member's address is bound only by a datagram that
 * authenticates under the member's own key (not a replay): the first one
 * binds, a later one from another address moves the binding (NAT
 * rebinding, counted in addr_moved). IP discovery binds nothing. Until
 * the first binding the Select Protocol hint is the destination. A
 * broadcast, multicast, unspecified or port-0 address is never a
 * destination (sc_udp_addr_usable).
 */
#ifndef SC_MEDIA_H
#define SC_MEDIA_H

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_ice.h"
#include "sc_lathist.h"
#include "sc_quality.h"

typedef struct sc_media sc_media_t;
typedef struct sc_media_worker sc_media_worker_t;

/* One media packet between open() and seal(): the RTP fields a receiver
 * needs and the media payload (Opus, or a DAVE frame) in clear. */
typedef struct {
  uint8_t is_rtcp;   /* 1: RTCP, counted, never forwarded */
  uint8_t has_level; /* level holds the sender's RFC 6464 audio level (WebRTC senders) */
  uint8_t level;     /* V bit | level in -dBov, as on the wire */
  uint8_t marker_pt; /* RTP byte 1 (marker bit | payload type; Opus is 120 inside) */
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
   * its own nonce counter. Returns the datagram length or a negative errno;
   * SC_MEDIA_SEAL_DECLINED when the front end's policy says this receiver
   * must not get this payload (not an error: counted as seal_declined). */
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

/* seal()'s answer for a copy the front end withholds by policy (for
 * Discord: a DAVE-encrypted frame to a receiver not in the E2EE group). */
#define SC_MEDIA_SEAL_DECLINED (-ECANCELED)
/* seal()'s answer for a copy this receiver's transport does not carry
 * at all (sc_rtc direction and source filters: a publish-only transport,
 * a down leg of another source): not sent, counted as seal_filtered,
 * never logged. */
#define SC_MEDIA_SEAL_FILTERED (-EXDEV)

/* Handler for datagrams that are not RTP/RTCP (IP discovery, keepalives).
 * Runs on the worker thread. May write a reply into reply (cap bytes) and
 * return its length; 0 = handled, no reply; negative = malformed (dropped
 * and counted). Set once before sc_media_start(). */
typedef int (*sc_datagram_fn)(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                              const struct sockaddr_storage *from, uint8_t *reply, size_t cap);

/* Member flags enforced on the media path (sc_member_stats_t.flags). */
enum {
  SC_MEMBER_MUTED = 1u << 0,   /* server mute or suppress: packets not forwarded */
  SC_MEMBER_DEAF = 1u << 1,    /* server deafen: receives nothing */
  SC_MEMBER_REMOVED = 1u << 2, /* sc_media_remove: nothing from or to it, at once */
};

/* A link of a worker's command queue. Commands are private to sc_media.c;
 * the member block below embeds the nodes of the commands that must not
 * fail (remove, reset), so posting them allocates nothing. */
typedef struct sc_media_node {
  struct sc_media_node *next;
  int kind;         /* sc_media.c's command type */
  int embedded;     /* not malloc'ed: the worker never frees it */
  _Atomic int busy; /* embedded nodes: queued and not yet taken by the worker */
} sc_media_node_t;

/* The member block, shared by the two planes for one voice state: the
 * registry allocates it when the state is created and holds one reference
 * for the state; the worker's member holds another, and a queued embedded
 * command one more; whoever releases the last frees it.
 *
 * What it carries (the name is historical: it began as counters only):
 * - the member's flags, which the control thread stores and the worker
 *   loads (relaxed) on every packet of the sender and for every receiver:
 *   mute, deafen and removal take effect without a command that could fail;
 * - the reset generation, which the control thread bumps (sc_media_reset)
 *   and the worker compares with its member's copy on those same packets
 *   and before applying any command: a key or address of an older client
 *   is never used again, and a command posted under an older generation
 *   is discarded (its cipher state freed);
 * - the counters, which only the owning worker writes (relaxed atomics)
 *   and the control thread reads (admin state), among them the receive
 *   side of the member's audio (sc_quality: loss and jitter);
 * - the embedded remove and reset command nodes.
 * The first cache line holds what the packet path touches per packet. */
typedef struct sc_member_stats {
  /* First cache line: what the packet path reads or writes per packet
   * (the sender's flags, generation, rx counters and last-packet time; a
   * receiver's flags, generation and tx counters). */
  _Alignas(SC_CACHE_LINE) _Atomic uint32_t flags; /* SC_MEMBER_*; control thread writes */
  _Atomic uint32_t gen;                           /* reset generation; control thread writes */
  _Atomic uint64_t rx_packets; /* authenticated RTP from the member (all its SSRCs) */
  _Atomic uint64_t rx_bytes;
  _Atomic uint64_t tx_packets; /* RTP sent to the member */
  _Atomic uint64_t tx_bytes;
  /* Unix ms of the member's last authenticated datagram (0 = none yet),
   * to the receive batch: the admin view shows its age. */
  _Atomic int64_t rx_last_ms;
  /* Our receive side of its audio SSRC (sc_quality): sequence, count,
   * jitter, updated per packet, hence on this line. */
  sc_rxq_hot_t rxq;
  /* Second line: what the packet path touches only now and then. */
  sc_rxq_cold_t rxq_cold;
  _Atomic uint64_t drops; /* its datagrams dropped (auth, replay, muted, no key) */
  _Atomic uint64_t rx_rtcp;
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
  /* Control thread only: the quality figures of the last interval
   * (sc_qsample fills them) and the round-trip time a front end measured
   * on the member's signalling connection (0: unknown; the Discord
   * gateway reads the kernel's TCP RTT, TCP_INFO). */
  sc_quality_t quality;
  int64_t rtt_us;
  /* Set by sc_media_post_add (control thread), read by the worker only
   * through a command queued after it. */
  uint64_t room_id;
  uint32_t ssrc;
  int added, remove_posted; /* control thread only */
  sc_media_node_t reset_node, remove_node;
} sc_member_stats_t;

/* A zeroed block with one reference, or NULL. */
sc_member_stats_t *sc_member_stats_new(void);
sc_member_stats_t *sc_member_stats_ref(sc_member_stats_t *s);
void sc_member_stats_release(sc_member_stats_t *s);
/* Stores the member's SC_MEMBER_MUTED / SC_MEMBER_DEAF (other bits are
 * kept). Control thread; in force on the worker's next packet. */
void sc_member_set_flags(sc_member_stats_t *s, unsigned flags);
/* The block's flags and reset generation as the worker reads them
 * (relaxed: each is one word with one writer, see above). */
static inline uint32_t sc_member_flags(const sc_member_stats_t *s) {
  return atomic_load_explicit(&s->flags, memory_order_relaxed);
}
static inline uint32_t sc_member_gen(const sc_member_stats_t *s) {
  return atomic_load_explicit(&s->gen, memory_order_relaxed);
}

/* What the WebRTC transport (sc_rtc) counted on one worker; every field
 * a uint64_t (summed like the rest). */
typedef struct {
  uint64_t stun_answered;   /* valid binding requests answered */
  uint64_t stun_refused;    /* STUN dropped: unknown ufrag, bad integrity, malformed */
  uint64_t tuples_added;    /* tuples validated */
  uint64_t nominations;     /* USE-CANDIDATE moved the send address */
  uint64_t dtls_datagrams;  /* handshake/alert datagrams fed to DTLS */
  uint64_t dtls_dropped;    /* over budget with the queue full (the peer retransmits) */
  uint64_t dtls_deferred;   /* over the per-batch handshake budget: queued for a later turn */
  uint64_t dtls_refused;    /* no session: over the handshake bound, failed, garbage */
  uint64_t dtls_connected;  /* handshakes done, SRTP keyed */
  uint64_t dtls_failed;     /* handshakes failed (timeout, fingerprint, protocol) */
  uint64_t foreign_ssrc;    /* SRTP with an SSRC that is not the member's */
  uint64_t not_opus;        /* SRTP of a payload type it did not negotiate (Opus or video) */
  uint64_t no_consent;      /* packets not sent or taken: consent expired or not keyed */
  uint64_t no_keys;         /* SRTP from a validated tuple before DTLS keyed the member */
  uint64_t unknown_tuple;   /* non-STUN datagrams from tuples nobody validated */
  uint64_t wrong_direction; /* authentic RTP from a send-only (down) transport: dropped */
  /* RTCP, terminated per leg (sc_rtcp; sc_rtc_rtcp_tick). */
  uint64_t rtcp_sent;        /* compound reports sent (SRTCP) */
  uint64_t rtcp_sent_bytes;  /* their bytes on the wire */
  uint64_t rtcp_send_failed; /* reports not sent: SRTCP refused, no send tuple */
  uint64_t rtcp_received;    /* authentic SRTCP from peers */
  uint64_t rtcp_malformed;   /* authentic but unparseable */
  uint64_t rtcp_pli;         /* picture loss indications (FCI-less: one per message) */
  uint64_t rtcp_fir;         /* full intra requests (FCI entries) */
  uint64_t rtcp_nack;        /* generic NACK messages */
  uint64_t rtcp_remb;        /* receiver estimated maximum bitrate messages */
  uint64_t rtcp_twcc;        /* transport-cc feedback messages */
  uint64_t rtcp_bye;         /* BYE packets */
  uint64_t members;          /* a gauge: WebRTC members attached (summed over workers) */
  /* Round trips peers' report blocks measure on our SRs (RFC 3550 6.4.1),
   * one sample per RTCP packet: sc_lathist buckets and their sum. */
  uint64_t rtt_hist[SC_LATHIST_BUCKETS];
  uint64_t rtt_sum_us;
  /* Video (sc_rtc_video) and key-frame requests passed to its sender. */
  uint64_t video_received;     /* authentic video RTP from WebRTC members */
  uint64_t video_foreign_ssrc; /* video under an SSRC the member never announced: dropped */
  uint64_t pli_sent;           /* PLIs sent to a WebRTC video sender (SRTCP) */
  uint64_t pli_limited;        /* key-frame requests folded into one sent recently */
  uint64_t pli_unsent;         /* its sender not ready (no keys, no consent): not passed */
  uint64_t pli_not_passed;     /* about a Discord UDP sender's video: its RTCP path is not ours */
  uint64_t pli_unknown_ssrc;   /* naming no video SSRC of another member of the room */
} sc_rtc_stats_t;

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
  /* From an address that is not the member's bound one and did not
   * authenticate (forged, replayed, or unusable source): moved nothing,
   * not counted against the member. */
  uint64_t drop_foreign_addr;
  uint64_t drop_auth;      /* from the bound address: failed authentication */
  uint64_t drop_replay;    /* from the bound address: nonce seen before */
  uint64_t drop_malformed; /* too short, bad version, unparseable */
  uint64_t drop_no_cipher; /* RTP before Select Protocol finished */
  uint64_t drop_muted;     /* from a muted member: not forwarded */
  uint64_t drop_removed;   /* from a member being removed */
  uint64_t hint_refused;   /* Select Protocol hints not used (broadcast, multicast, ...) */
  uint64_t addr_moved;     /* bindings moved by an authenticated datagram (NAT rebinding) */
  uint64_t cmd_stale;      /* commands posted before a reset, discarded */
  uint64_t seal_declined;  /* copies a receiver's seal withheld by policy */
  uint64_t
      seal_filtered;    /* copies a receiver's transport does not carry (SC_MEDIA_SEAL_FILTERED) */
  uint64_t send_errors; /* the four below summed */
  uint64_t send_err_dest_refused;    /* EACCES/EPERM: that one copy lost */
  uint64_t send_err_unreachable;     /* ENETUNREACH/EHOSTUNREACH/...: that one copy lost */
  uint64_t send_err_other_dest;      /* EINVAL/EMSGSIZE/...: that one copy lost */
  uint64_t send_dropped_socket_full; /* EAGAIN/ENOBUFS/ENOMEM: rest of the batch lost */
  /* Forwarding delay per forwarded RTP packet: from the kernel's receive
   * timestamp (SO_TIMESTAMPNS) to the return of the sendmmsg that carried
   * the last copy of its batch (an upper bound: socket queueing, decrypt,
   * re-encrypt, the send call). sc_lathist buckets, summed over workers. */
  uint64_t fwd_delay_hist[SC_LATHIST_BUCKETS];
  uint64_t fwd_delay_sum_us; /* the sum of those samples, microseconds */
  sc_rtc_stats_t webrtc;
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

/* Commands (control thread). Members are keyed by SSRC, which the control
 * plane keeps unique, and carry their member block (`mb`, never NULL).
 *
 * sc_media_post_add records room_id and ssrc in mb, takes a reference for
 * the member's lifetime and queues the add: 0, -EINVAL (mb NULL or added
 * before), or -ENOMEM (nothing posted; the caller reports the failure). */
int sc_media_post_add(sc_media_t *m, uint64_t room_id, uint32_t ssrc, sc_member_stats_t *mb);
/* The member's new cipher state (its key), owned by the media plane from
 * the call on, even on failure: 0, or -ENOMEM (state freed; the caller
 * must not let the client believe its key is in force). */
int sc_media_post_cipher(sc_media_t *m, sc_member_stats_t *mb, const sc_cipher_ops_t *ops,
                         void *state);
/* The address to send to until the member's first authenticated datagram
 * binds one. 0; -EINVAL if sc_udp_addr_usable refuses it (broadcast,
 * multicast, unspecified, port 0: nothing posted, counted in
 * hint_refused); -ENOMEM. */
int sc_media_post_peer_hint(sc_media_t *m, sc_member_stats_t *mb,
                            const struct sockaddr_storage *addr);
/* Another SSRC of the member (video, RTX): its packets authenticate under
 * the member's cipher and are forwarded like audio but keep their own SSRC
 * and payload type. Ignored (logged) on the worker if the SSRC is in use
 * there or the member has SC_MEDIA_MAX_ALIASES. 0 or -ENOMEM. */
#define SC_MEDIA_MAX_ALIASES 8
int sc_media_post_alias(sc_media_t *m, sc_member_stats_t *mb, uint32_t extra_ssrc);
/* A consumer SSRC on the member's WebRTC transport: sc_rtc_map_ssrc(
 * source, out) on its worker (out 0: the pair goes, with its SRTP
 * stream). Ignored (logged) if the member's cipher is not sc_rtc's, was
 * reset since, or its table is full. 0 or -ENOMEM. */
int sc_media_post_ssrc_map(sc_media_t *m, sc_member_stats_t *mb, uint32_t source, uint32_t out);
/* An ICE restart of the member's WebRTC transport (sc_rtc_restart_ice on
 * its worker): our new credentials (already in the answer) and the peer's
 * new ufrag, copied. A member whose cipher is not sc_rtc's, or was reset
 * since, is left alone (logged, or counted stale). 0 or -ENOMEM. */
int sc_media_post_ice_restart(sc_media_t *m, sc_member_stats_t *mb, const sc_ice_creds_t *creds);
/* The member's WebRTC transport switches video PTs off one way
 * (sc_rtc_set_video_filter on its worker; bits 1 << SC_RTC_VP8 ...).
 * A member whose cipher is not sc_rtc's, or was reset since, is left
 * alone (logged, or counted stale). 0 or -ENOMEM. */
int sc_media_post_video_filter(sc_media_t *m, sc_member_stats_t *mb, uint8_t seal_off,
                               uint8_t open_off);
/* A new client takes the member over (or its client left): its address
 * binding, hint, cipher and aliases are dropped (the next client does IP
 * discovery and Select Protocol anew); its counters stay. Cannot fail and
 * allocates nothing: the generation bump is in force on the worker's next
 * packet, the embedded reset node frees the old key soon after. */
void sc_media_reset(sc_media_t *m, sc_member_stats_t *mb);
/* The member leaves: SC_MEMBER_REMOVED stops all forwarding from and to
 * it at once, the embedded remove node frees it on the worker. Cannot
 * fail, allocates nothing; a second call does nothing. mb may be released
 * by the caller right after. */
void sc_media_remove(sc_media_t *m, sc_member_stats_t *mb);

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

/* Liveness, for the systemd watchdog (sc_service; control thread). Each
 * worker counts the turns of its loop, one per wake-up: a datagram, a
 * command, or its epoll_wait timeout (1 s) when idle. sc_media_ping wakes
 * every worker once, so a live worker's count moves soon after it
 * whatever the traffic; a worker stuck in a call or a loop does not. */
int sc_media_workers(const sc_media_t *m); /* 0 for NULL */
uint64_t sc_media_worker_beats(const sc_media_t *m, int i);
void sc_media_ping(sc_media_t *m);

/* Worker-thread helpers for the datagram handler. */
/* 1 if ssrc is a (not removed) member's own SSRC on this worker. Binds
 * nothing: only an authenticated RTP/RTCP datagram binds an address. */
int sc_media_worker_knows(sc_media_worker_t *w, uint32_t ssrc);
/* Counts a keepalive / a discovery answer in the worker's stats. */
void sc_media_worker_count_keepalive(sc_media_worker_t *w);
void sc_media_worker_count_discovery(sc_media_worker_t *w);

#endif
