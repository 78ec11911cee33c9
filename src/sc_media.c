/*
 * The media plane: worker threads, their command queues, rooms, members
 * and the receive -> authenticate -> fan-out -> send path. The socket and
 * the datagram batches are sc_udp's. See sc_media.h for the threading
 * contract.
 */
#include "sc_media.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sc_log.h"
#include "sc_mtable.h"
#include "sc_demux.h"
#include "sc_rtc.h"
#include "sc_rtp.h"
#include "sc_udp.h"

#define RX_MAX_BATCHES 16 /* batches per wake-up before yielding to commands */

typedef sc_mmember_t member_t;

typedef enum {
  CMD_ADD,
  CMD_CIPHER,
  CMD_HINT,
  CMD_ALIAS,
  CMD_RESET,
  CMD_REMOVE,
  CMD_SYNC
} cmd_type_t;

/* A command from the control thread. Allocated ones (add, cipher, hint,
 * alias) are freed by the worker once applied; reset and remove are the
 * nodes embedded in the member block, sync's lives on its poster's stack. */
typedef struct cmd {
  sc_media_node_t node; /* first: the queue holds nodes */
  uint64_t room_id;
  uint32_t ssrc;
  uint32_t extra; /* CMD_ALIAS */
  uint32_t gen;   /* the member's reset generation when posted */
  const sc_cipher_ops_t *ops;
  void *state;
  struct sockaddr_storage addr;
  sem_t *done;              /* CMD_SYNC */
  sc_member_stats_t *stats; /* the member block (a reference for ADD) */
} cmd_t;

/* Statistics: written by the worker, read by anyone (relaxed atomics). */
typedef struct {
  _Atomic uint64_t v[sizeof(sc_media_stats_t) / sizeof(uint64_t)];
} stats_t;
#define STAT(w, field) (w)->stats.v[offsetof(sc_media_stats_t, field) / sizeof(uint64_t)]
/* Every counter has one writer (the worker that owns it), so a relaxed
 * load and store suffices: readers see whole values, and the hot path pays
 * no locked read-modify-write per packet. */
static inline void bump(_Atomic uint64_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}
#define COUNT(w, field) bump(&STAT(w, field), 1)

struct sc_media_worker {
  sc_media_t *media;
  int index;
  int fd;  /* UDP socket */
  int efd; /* eventfd: commands pending / stop */
  int ep;  /* epoll over both, set up by worker_create */
  uint16_t port;
  pthread_t thread;
  int started;
  pthread_mutex_t lock; /* guards the command list only */
  sc_media_node_t *cmd_head, *cmd_tail;
  _Atomic int cmd_pending;
  int wake_owed; /* control thread: commands posted, eventfd not written yet */
  _Atomic int stop;
  /* Turns of the worker's loop (the worker writes, relaxed): the systemd
   * watchdog (sc_service) is fed only while every worker's count moves. */
  _Atomic uint64_t beats;
  /* worker-thread state */
  sc_mtable_t table;
  stats_t stats;
  sc_datagram_fn on_datagram;
  uint8_t plain[SC_UDP_PKT_MAX];
  uint8_t rtcp[SC_UDP_PKT_MAX + 8]; /* an RTCP packet reassembled for parsing */
  sc_udp_rx_t rx;
  sc_udp_tx_t tx;                     /* filled during a receive batch, flushed with sendmmsg */
  int64_t fwd_rx_ns[SC_UDP_RX_BATCH]; /* receive times of the batch's forwarded packets */
  int64_t batch_ms; /* wall clock (unix ms) when the current receive batch was read */
  int n_fwd;
  sc_rtc_table_t rtc; /* WebRTC members on this socket (sc_rtc) */
};

struct sc_media {
  int n_workers;
  sc_media_worker_t **workers;
  int defer_wakeups;              /* control thread: see sc_media_defer_wakeups */
  _Atomic uint64_t hints_refused; /* control thread: hints sc_media_post_peer_hint refused */
};

/* ---- shared per-member statistics -------------------------------------- */

/* The packet path's per-member writes share one cache line. */
_Static_assert(offsetof(sc_member_stats_t, rxq) + sizeof(sc_rxq_hot_t) <= SC_CACHE_LINE,
               "receive-side quality state left the member block's first cache line");

sc_member_stats_t *sc_member_stats_new(void) {
  /* sizeof is a multiple of the cache line (the first member is aligned). */
  sc_member_stats_t *s = aligned_alloc(SC_CACHE_LINE, sizeof *s);
  if (!s) return NULL;
  memset(s, 0, sizeof *s);
  atomic_init(&s->refs, 1);
  s->reset_node = (sc_media_node_t){.kind = CMD_RESET, .embedded = 1};
  s->remove_node = (sc_media_node_t){.kind = CMD_REMOVE, .embedded = 1};
  return s;
}

sc_member_stats_t *sc_member_stats_ref(sc_member_stats_t *s) {
  atomic_fetch_add(&s->refs, 1);
  return s;
}

void sc_member_stats_release(sc_member_stats_t *s) {
  if (s && atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

void sc_member_set_flags(sc_member_stats_t *s, unsigned flags) {
  /* One writer (the control thread): a load and a store keep REMOVED. */
  uint32_t keep = atomic_load_explicit(&s->flags, memory_order_relaxed) & SC_MEMBER_REMOVED;
  uint32_t f = keep | (flags & (SC_MEMBER_MUTED | SC_MEMBER_DEAF));
  atomic_store_explicit(&s->flags, f, memory_order_release);
}

static uint32_t member_flags(const sc_member_stats_t *s) {
  return atomic_load_explicit(&s->flags, memory_order_relaxed);
}
static uint32_t member_gen(const sc_member_stats_t *s) {
  return atomic_load_explicit(&s->gen, memory_order_relaxed);
}

#define MCOUNT(m, field, n) bump(&(m)->stats->field, (n))

/* ---- members (worker thread) ---------------------------------------------- */

static void add_member(sc_media_worker_t *w, cmd_t *c) {
  int err = -ENOMEM;
  member_t *m = sc_mtable_add(&w->table, c->room_id, c->ssrc, c->stats, &err);
  if (!m) {
    sc_log_warn("media", "worker %d: ssrc %u not added: %s", w->index, c->ssrc, strerror(-err));
    return;
  }
  m->gen = member_gen(c->stats);
  c->stats = NULL; /* the member owns the reference now */
}

static void add_alias(sc_media_worker_t *w, member_t *m, uint32_t ssrc) {
  int rc = sc_mtable_alias(&w->table, m, ssrc);
  if (rc < 0)
    sc_log_warn("media", "worker %d: ssrc %u not added as an alias of %u: %s", w->index, ssrc,
                m->ssrc, rc == -EEXIST ? "in use" : "too many");
}

static void release_cipher(member_t *m) {
  if (m->ops && m->cipher) m->ops->free(m->cipher);
  m->ops = NULL;
  m->cipher = NULL;
  m->cipher_hot = NULL;
  m->cipher_hot_lines = 0;
}

static void install_cipher(member_t *m, const sc_cipher_ops_t *ops, void *state) {
  release_cipher(m);
  m->ops = ops;
  m->cipher = state;
  if (!ops || !state || !ops->hot_range) return;
  const void *base = NULL;
  size_t len = 0;
  ops->hot_range(state, &base, &len);
  m->cipher_hot = base;
  size_t lines = base ? (len + SC_CACHE_LINE - 1) / SC_CACHE_LINE : 0;
  m->cipher_hot_lines = (uint16_t)(lines < 16 ? lines : 16); /* a hint, kept short */
}

static void remove_member(sc_media_worker_t *w, member_t *m) {
  release_cipher(m);
  sc_member_stats_release(m->stats);
  sc_mtable_remove(&w->table, m);
}

/* A new client for the member: it must prove its address and key anew. */
static void reset_member(sc_media_worker_t *w, member_t *m) {
  sc_mtable_drop_aliases(&w->table, m);
  release_cipher(m);
  m->bound = 0;
  m->has_addr = 0;
}

/* Brings m up to its block's reset generation: 0 if it was current. */
static int catch_up(sc_media_worker_t *w, member_t *m) {
  uint32_t gen = member_gen(m->stats);
  if (gen == m->gen) return 0;
  reset_member(w, m);
  sc_quality_restart(&m->stats->rxq); /* the next client numbers anew */
  m->gen = gen;
  return 1;
}

/* ---- commands (posted by the control thread, applied by the worker) ---- */

/* The member a command is for: the one with its SSRC and its block, not
 * removed, reset to the current generation. */
static member_t *command_member(sc_media_worker_t *w, const cmd_t *c) {
  member_t *m = sc_mtable_member(&w->table, c->ssrc);
  if (!m || m->stats != c->stats) return NULL;
  catch_up(w, m);
  return (member_flags(m->stats) & SC_MEMBER_REMOVED) ? NULL : m;
}

static void apply_hint(sc_media_worker_t *w, member_t *m, const struct sockaddr_storage *a) {
  if (m->bound) return;         /* an authenticated datagram named the address */
  if (!sc_udp_addr_usable(a)) { /* refused when posted; never sent to */
    COUNT(w, hint_refused);
    return;
  }
  sc_udp_addr_set(&m->addr, a);
  m->has_addr = 1;
}

/* A WebRTC member's state becomes findable by ufrag and tuple. */
static void attach_rtc(sc_media_worker_t *w, member_t *m) {
  int rc = sc_rtc_attach(&w->rtc, m->cipher, m);
  if (rc == 0) return;
  sc_log_warn("media", "worker %d: ssrc %u: WebRTC state not attached: %s", w->index, m->ssrc,
              strerror(-rc));
  release_cipher(m);
}

/* cipher, hint, alias: for the member's generation they were posted in. */
static void apply_member_command(sc_media_worker_t *w, cmd_t *c) {
  member_t *m = command_member(w, c);
  if (m && m->gen != c->gen) {
    COUNT(w, cmd_stale); /* posted for a client that has been replaced */
    m = NULL;
  }
  if (!m) {
    if (c->node.kind == CMD_CIPHER && c->state) c->ops->free(c->state); /* it came with it */
    return;
  }
  switch (c->node.kind) {
    case CMD_CIPHER:
      install_cipher(m, c->ops, c->state);
      if (c->ops == &sc_rtc_cipher_ops) attach_rtc(w, m);
      break;
    case CMD_HINT: apply_hint(w, m, &c->addr); break;
    case CMD_ALIAS: add_alias(w, m, c->extra); break;
    default: break;
  }
}

/* The embedded nodes: their block is released last (it may be freed). */
static void apply_embedded(sc_media_worker_t *w, sc_media_node_t *n) {
  sc_member_stats_t *mb =
      n->kind == CMD_RESET
          ? (sc_member_stats_t *)((char *)n - offsetof(sc_member_stats_t, reset_node))
          : (sc_member_stats_t *)((char *)n - offsetof(sc_member_stats_t, remove_node));
  /* Taken: the control thread may queue the reset node again from here. */
  atomic_store_explicit(&n->busy, 0, memory_order_release);
  member_t *m = sc_mtable_member(&w->table, mb->ssrc);
  if (m && m->stats == mb) {
    if (n->kind == CMD_REMOVE)
      remove_member(w, m);
    else
      catch_up(w, m);
  }
  sc_member_stats_release(mb); /* the queued node's reference */
}

static void apply_command(sc_media_worker_t *w, sc_media_node_t *n) {
  if (n->embedded && n->kind != CMD_SYNC) {
    apply_embedded(w, n);
    return;
  }
  cmd_t *c = (cmd_t *)n;
  switch (n->kind) {
    case CMD_ADD: add_member(w, c); break;
    case CMD_SYNC: sem_post(c->done); return; /* c is gone after this */
    default: apply_member_command(w, c); break;
  }
  if (c->stats) sc_member_stats_release(c->stats); /* an ADD that did not take, or the ref */
  free(c);
}

static void apply_commands(sc_media_worker_t *w) {
  pthread_mutex_lock(&w->lock);
  sc_media_node_t *n = w->cmd_head;
  w->cmd_head = w->cmd_tail = NULL;
  atomic_store(&w->cmd_pending, 0);
  pthread_mutex_unlock(&w->lock);
  while (n) {
    sc_media_node_t *next = n->next; /* applying may free or re-queue n */
    apply_command(w, n);
    n = next;
  }
}

static void wake(sc_media_worker_t *w) {
  uint64_t one = 1;
  w->wake_owed = 0;
  if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
    sc_log_warn("media", "eventfd write: %s", strerror(errno));
}

static int post(sc_media_worker_t *w, sc_media_node_t *n) {
  n->next = NULL;
  pthread_mutex_lock(&w->lock);
  if (w->cmd_tail)
    w->cmd_tail->next = n;
  else
    w->cmd_head = n;
  w->cmd_tail = n;
  atomic_store(&w->cmd_pending, 1);
  pthread_mutex_unlock(&w->lock);
  if (w->media->defer_wakeups)
    w->wake_owed = 1;
  else
    wake(w);
  return 0;
}

void sc_media_defer_wakeups(sc_media_t *m, int on) {
  m->defer_wakeups = on;
  if (!on) sc_media_flush_wakeups(m);
}

int sc_media_flush_wakeups(sc_media_t *m) {
  int woken = 0;
  for (int i = 0; i < m->n_workers; i++) {
    if (!m->workers[i]->wake_owed) continue;
    wake(m->workers[i]);
    woken++;
  }
  return woken;
}

static sc_media_worker_t *worker_for(const sc_media_t *m, uint64_t room_id) {
  return m->workers[room_id % (uint64_t)m->n_workers];
}

/* A command for the member of block mb, under its current generation. */
static cmd_t *cmd_new(cmd_type_t type, sc_member_stats_t *mb) {
  cmd_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->node.kind = (int)type;
  c->room_id = mb->room_id;
  c->ssrc = mb->ssrc;
  c->gen = member_gen(mb);
  c->stats = sc_member_stats_ref(mb);
  return c;
}

int sc_media_post_add(sc_media_t *m, uint64_t room_id, uint32_t ssrc, sc_member_stats_t *mb) {
  if (!mb || mb->added) return -EINVAL;
  mb->room_id = room_id;
  mb->ssrc = ssrc;
  cmd_t *c = cmd_new(CMD_ADD, mb);
  if (!c) return -ENOMEM;
  mb->added = 1;
  return post(worker_for(m, room_id), &c->node);
}

int sc_media_post_cipher(sc_media_t *m, sc_member_stats_t *mb, const sc_cipher_ops_t *ops,
                         void *state) {
  cmd_t *c = cmd_new(CMD_CIPHER, mb);
  if (!c) {
    ops->free(state);
    return -ENOMEM;
  }
  c->ops = ops;
  c->state = state;
  return post(worker_for(m, mb->room_id), &c->node);
}

int sc_media_post_peer_hint(sc_media_t *m, sc_member_stats_t *mb,
                            const struct sockaddr_storage *addr) {
  if (!sc_udp_addr_usable(addr)) {
    atomic_fetch_add_explicit(&m->hints_refused, 1, memory_order_relaxed);
    return -EINVAL;
  }
  cmd_t *c = cmd_new(CMD_HINT, mb);
  if (!c) return -ENOMEM;
  c->addr = *addr;
  return post(worker_for(m, mb->room_id), &c->node);
}

int sc_media_post_alias(sc_media_t *m, sc_member_stats_t *mb, uint32_t extra_ssrc) {
  cmd_t *c = cmd_new(CMD_ALIAS, mb);
  if (!c) return -ENOMEM;
  c->extra = extra_ssrc;
  return post(worker_for(m, mb->room_id), &c->node);
}

/* Queues an embedded node unless it is queued already; the queue holds a
 * reference to the block until the worker has applied it. */
static void post_embedded(sc_media_t *m, sc_member_stats_t *mb, sc_media_node_t *n) {
  if (atomic_exchange(&n->busy, 1)) return; /* the queued one will see the latest state */
  sc_member_stats_ref(mb);
  post(worker_for(m, mb->room_id), n);
}

void sc_media_reset(sc_media_t *m, sc_member_stats_t *mb) {
  /* One writer: the bump is a plain load and store, seen by the worker's
   * next packet or command of this member. */
  atomic_store_explicit(&mb->gen, member_gen(mb) + 1, memory_order_release);
  if (mb->added) post_embedded(m, mb, &mb->reset_node);
}

void sc_media_remove(sc_media_t *m, sc_member_stats_t *mb) {
  if (mb->remove_posted) return;
  mb->remove_posted = 1;
  uint32_t f = atomic_load_explicit(&mb->flags, memory_order_relaxed);
  atomic_store_explicit(&mb->flags, f | SC_MEMBER_REMOVED, memory_order_release);
  if (mb->added) post_embedded(m, mb, &mb->remove_node);
}

void sc_media_sync(sc_media_t *m) {
  for (int i = 0; i < m->n_workers; i++) {
    sc_media_worker_t *w = m->workers[i];
    if (!w->started) {
      apply_commands(w); /* not running yet: apply here, single-threaded */
      continue;
    }
    sem_t done;
    sem_init(&done, 0, 0);
    cmd_t c = {.node = {.kind = CMD_SYNC, .embedded = 1}, .done = &done};
    post(w, &c.node);
    wake(w); /* now, whether or not wake-ups are deferred */
    while (sem_wait(&done) < 0 && errno == EINTR) {
    }
    sem_destroy(&done);
  }
}

/* ---- the packet path (worker thread) ----------------------------------- */

static void tx_flush(sc_media_worker_t *w) {
  sc_udp_sent_t r = sc_udp_tx_flush(&w->tx, w->fd);
  bump(&STAT(w, tx_packets), r.sent);
  bump(&STAT(w, tx_bytes), r.bytes);
  if (!r.failed) return;
  bump(&STAT(w, send_errors), r.failed);
  bump(&STAT(w, send_err_dest_refused), r.dest_refused);
  bump(&STAT(w, send_err_unreachable), r.unreachable);
  bump(&STAT(w, send_err_other_dest), r.other_dest);
  bump(&STAT(w, send_dropped_socket_full), r.socket_full);
}

/* Next free output slot; flushes first when the batch is full. */
static int tx_slot(sc_media_worker_t *w) {
  if (w->tx.n == SC_UDP_TX_BATCH) tx_flush(w);
  return w->tx.n;
}

/* Asks for every receiver's key material and counters before the first
 * seal, so that their cache misses overlap instead of queueing behind
 * one another (see sc_cipher_ops_t.hot_range). */
static void prefetch_receivers(const member_t *from) {
  for (const member_t *to = from->room->members; to; to = to->room_next) {
    if (to == from) continue;
    __builtin_prefetch(&to->addr);
    for (unsigned i = 0; i < to->cipher_hot_lines; i++)
      __builtin_prefetch(to->cipher_hot + (size_t)i * SC_CACHE_LINE);
    __builtin_prefetch(to->stats, 1);
  }
}

/* Re-encrypts pkt for every other member of the sender's room. Returns
 * the copies queued. */
static int fan_out(sc_media_worker_t *w, const member_t *from, const sc_media_pkt_t *pkt) {
  int copies = 0;
  prefetch_receivers(from);
  for (member_t *to = from->room->members; to; to = to->room_next) {
    if (to == from || !to->cipher || !to->has_addr) continue;
    /* Deafened or removed now, or reset since its key was installed: the
     * block's line is the one the counters below write anyway. */
    if ((member_flags(to->stats) & (SC_MEMBER_DEAF | SC_MEMBER_REMOVED)) ||
        member_gen(to->stats) != to->gen)
      continue;
    int slot = tx_slot(w);
    int n = to->ops->seal(to->cipher, pkt, w->tx.bufs[slot], SC_UDP_PKT_MAX);
    if (n == SC_MEDIA_SEAL_DECLINED) COUNT(w, seal_declined);
    if (n <= 0) continue;
    sc_udp_tx_commit(&w->tx, (size_t)n, &to->addr.sa);
    copies++;
    MCOUNT(to, tx_packets, 1);
    MCOUNT(to, tx_bytes, (uint64_t)n);
  }
  return copies;
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An authenticated datagram from an address that is not the bound one:
 * the first binds, a later one moves the binding (NAT rebinding, a new
 * network). Returns 0 if the source can never be an address (the kernel
 * does not deliver such datagrams; checked anyway). */
static int bind_source(sc_media_worker_t *w, member_t *m, const struct sockaddr_storage *from) {
  if (!sc_udp_addr_usable(from)) return 0;
  if (m->bound) {
    COUNT(w, addr_moved);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (sc_log_limit(&m->move_log, now, 10000))
      sc_log_info("media", "worker %d: ssrc %u moved to a new address (NAT rebinding?)", w->index,
                  m->ssrc);
  }
  sc_udp_addr_set(&m->addr, from);
  m->bound = 1;
  m->has_addr = 1;
  return 1;
}

/* A datagram that did not open: held against the member only if it came
 * from the member's bound address; from anywhere else it is not the
 * member's (forged or replayed by someone else) and moves nothing. */
static void count_open_failure(sc_media_worker_t *w, member_t *m, int home, int rc) {
  if (!home) {
    COUNT(w, drop_foreign_addr);
    return;
  }
  if (rc == -EBADMSG)
    COUNT(w, drop_auth);
  else if (rc == -EALREADY)
    COUNT(w, drop_replay);
  else
    COUNT(w, drop_malformed);
  MCOUNT(m, drops, 1);
}

#define MSET(m, field, v) atomic_store_explicit(&(m)->stats->field, (v), memory_order_relaxed)

/* RTCP is never forwarded; its reports become the member's statistics.
 * The parser wants the packet whole: clear header, then the decrypted rest. */
static void account_rtcp(sc_media_worker_t *w, member_t *m, const uint8_t *hdr,
                         const sc_media_pkt_t *pkt) {
  sc_rtcp_report_t r;
  if (pkt->payload_len > SC_UDP_PKT_MAX) return;
  memcpy(w->rtcp, hdr, 8);
  memcpy(w->rtcp + 8, pkt->payload, pkt->payload_len);
  if (sc_rtcp_parse(w->rtcp, 8 + pkt->payload_len, &r) < 0) {
    MCOUNT(m, rtcp_malformed, 1);
    return;
  }
  MCOUNT(m, rtcp_sr, (uint64_t)r.n_sr);
  MCOUNT(m, rtcp_rr, (uint64_t)r.n_rr);
  if (!r.n_blocks) return;
  MSET(m, rtcp_fraction_lost, r.worst_fraction_lost);
  MSET(m, rtcp_cumulative_lost, r.total_cumulative_lost);
  MSET(m, rtcp_jitter, r.worst_jitter);
  MSET(m, rtcp_sources, (uint32_t)r.n_blocks);
}

static int member_rtp(sc_media_worker_t *w, member_t *m, uint32_t ssrc, const uint8_t *buf,
                      size_t len, const struct sockaddr_storage *from, int64_t rx_ns);

/* Returns the copies forwarded (0: dropped, RTCP, or nobody to send to). */
static int handle_rtp(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from, int64_t rx_ns) {
  sc_rtp_info_t info;
  if (sc_rtp_parse(buf, len, &info) < 0) {
    COUNT(w, drop_malformed);
    return 0;
  }
  sc_mentry_t *e = sc_mtable_find(&w->table, info.ssrc);
  if (!e) {
    COUNT(w, drop_unknown_ssrc);
    return 0;
  }
  if (e->m->ops == &sc_rtc_cipher_ops) { /* WebRTC media comes by validated tuple only */
    COUNT(w, drop_foreign_addr);
    return 0;
  }
  return member_rtp(w, e->m, e->ssrc, buf, len, from, rx_ns);
}

/* An RTP/RTCP datagram of member m (found by SSRC, or by WebRTC tuple);
 * ssrc is what its packets are forwarded under. */
static int member_rtp(sc_media_worker_t *w, member_t *m, uint32_t ssrc, const uint8_t *buf,
                      size_t len, const struct sockaddr_storage *from, int64_t rx_ns) {
  uint32_t flags = member_flags(m->stats);
  if (flags & SC_MEMBER_REMOVED) {
    COUNT(w, drop_removed);
    return 0;
  }
  /* Reset since the last packet: no cipher now, dropped below. */
  if (member_gen(m->stats) != m->gen) catch_up(w, m);
  if (!m->cipher) {
    COUNT(w, drop_no_cipher);
    MCOUNT(m, drops, 1);
    return 0;
  }
  /* Authentication decides, not the source: a packet from elsewhere costs
   * an open attempt, and only an authentic one may move the binding. */
  int home = m->bound && sc_udp_addr_equal(&m->addr, from);
  sc_media_pkt_t pkt;
  pkt.has_level = 0;
  int rc = m->ops->open(m->cipher, buf, len, w->plain, sizeof w->plain, &pkt);
  if (rc < 0) {
    count_open_failure(w, m, home, rc);
    return 0;
  }
  if (!home && !bind_source(w, m, from)) {
    COUNT(w, drop_foreign_addr);
    return 0;
  }
  MSET(m, rx_last_ms, w->batch_ms); /* authentic: the member is alive */
  if (pkt.is_rtcp) {
    COUNT(w, rx_rtcp);
    MCOUNT(m, rx_rtcp, 1);
    account_rtcp(w, m, buf, &pkt);
    return 0;
  }
  COUNT(w, rx_rtp);
  MCOUNT(m, rx_packets, 1);
  MCOUNT(m, rx_bytes, len);
  /* Loss and jitter of its audio, at the kernel's receive time. */
  if (ssrc == m->ssrc)
    sc_quality_rx(&m->stats->rxq, &m->stats->rxq_cold, pkt.seq, pkt.timestamp,
                  sc_quality_arrival(rx_ns ? rx_ns : w->batch_ms * 1000000));
  if (flags & SC_MEMBER_MUTED) {
    COUNT(w, drop_muted);
    MCOUNT(m, drops, 1);
    return 0;
  }
  pkt.ssrc = ssrc; /* video/RTX keep their own SSRC */
  return fan_out(w, m, &pkt);
}

/* sc_rtc's answers and DTLS flights: one slot of the send batch each. */
static void rtc_emit(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to) {
  sc_media_worker_t *w = ctx;
  if (len > SC_UDP_PKT_MAX || !sc_udp_addr_usable(to)) return;
  int slot = tx_slot(w);
  memcpy(w->tx.bufs[slot], buf, len);
  sc_udp_tx_commit(&w->tx, len, (const struct sockaddr *)to);
}

/* A datagram from a validated WebRTC tuple, or STUN from an unknown one
 * (webrtc.md 2.1). Returns -1 if it is not sc_rtc's, else the copies. */
static int handle_webrtc(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                         const struct sockaddr_storage *from, int64_t rx_ns) {
  sc_rtc_t *r = sc_rtc_find_tuple(&w->rtc, from);
  if (!r && !sc_demux_is_stun(buf, len)) return -1;
  sc_rtc_result_t res;
  sc_rtc_verdict_t v = sc_rtc_input(&w->rtc, r, buf, len, from, &res);
  member_t *m = res.owner;
  if (v == SC_RTC_MEDIA) return member_rtp(w, m, m->ssrc, buf, len, from, rx_ns);
  if (v == SC_RTC_NOMINATED) { /* ICE chose where the member hears the room */
    m->addr = *res.send_to;
    m->has_addr = 1;
    m->bound = 1;
  }
  return 0;
}

/* Returns the RTP copies forwarded (0 for everything else). */
static int handle_datagram(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from, int64_t rx_ns) {
  COUNT(w, rx_datagrams);
  if (w->rtc.n_members) {
    int copies = handle_webrtc(w, buf, len, from, rx_ns);
    if (copies >= 0) return copies;
  }
  if (len >= 12 && sc_rtp_looks_like_rtp(buf, len)) return handle_rtp(w, buf, len, from, rx_ns);
  if (!w->on_datagram) {
    COUNT(w, drop_malformed);
    return 0;
  }
  int slot = tx_slot(w);
  int n = w->on_datagram(w, buf, len, from, w->tx.bufs[slot], SC_UDP_PKT_MAX);
  if (n < 0) {
    if (n == -ENOENT)
      COUNT(w, drop_unknown_ssrc);
    else
      COUNT(w, drop_malformed);
  } else if (n > 0 && sc_udp_addr_usable(from)) {
    sc_udp_tx_commit(&w->tx, (size_t)n, (const struct sockaddr *)from);
  }
  return 0;
}

/* sc_rtc's plain counters into the worker's readable ones. */
static void publish_rtc(sc_media_worker_t *w) {
  const uint64_t *src = (const uint64_t *)&w->rtc.stats;
  _Atomic uint64_t *dst = &STAT(w, webrtc);
  for (size_t i = 0; i < sizeof w->rtc.stats / sizeof(uint64_t); i++)
    atomic_store_explicit(&dst[i], src[i], memory_order_relaxed);
}

/* After the batch's last sendmmsg: one delay sample per forwarded packet. */
static void account_delays(sc_media_worker_t *w) {
  if (!w->n_fwd) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  uint64_t sum_us = 0;
  for (int i = 0; i < w->n_fwd; i++) {
    int64_t d = now - w->fwd_rx_ns[i]; /* < 0 only if the clock was stepped */
    uint64_t us = d > 0 ? (uint64_t)d / 1000 : 0;
    sum_us += us;
    bump(&(&STAT(w, fwd_delay_hist))[sc_lathist_bucket(us)], 1);
  }
  bump(&STAT(w, fwd_delay_sum_us), sum_us);
  w->n_fwd = 0;
}

/* Reads up to RX_MAX_BATCHES batches; returns when the socket is empty. */
static void drain_socket(sc_media_worker_t *w) {
  sc_udp_rx_t *r = &w->rx;
  for (int b = 0; b < RX_MAX_BATCHES; b++) {
    /* Commands first: a member added before its client was answered must
     * exist before that client's datagram is read. */
    if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) apply_commands(w);
    int n = recvmmsg(w->fd, r->msgs, SC_UDP_RX_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    w->batch_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (w->rtc.n_members) sc_rtc_batch(&w->rtc, monotonic_ms());
    for (int i = 0; i < n; i++) {
      int truncated;
      int64_t rx_ns = sc_udp_rx_take(r, i, &truncated);
      if (truncated) {
        COUNT(w, rx_datagrams);
        COUNT(w, drop_malformed);
        continue;
      }
      int copies = handle_datagram(w, r->bufs[i], r->msgs[i].msg_len, &r->addrs[i], rx_ns);
      if (copies > 0 && rx_ns) w->fwd_rx_ns[w->n_fwd++] = rx_ns;
    }
    tx_flush(w);
    account_delays(w);
    publish_rtc(w);
    if (n < SC_UDP_RX_BATCH) break;
  }
}

/* Due DTLS retransmissions; returns the epoll timeout until the next. */
static int rtc_timers(sc_media_worker_t *w) {
  if (!w->rtc.handshaking && !w->rtc.n_deferred) return 1000;
  int64_t due = sc_rtc_tick(&w->rtc, monotonic_ms());
  tx_flush(w);
  return due >= 0 && due < 1000 ? (int)due : 1000;
}

static void *worker_main(void *arg) {
  sc_media_worker_t *w = arg;
  char name[16];
  snprintf(name, sizeof name, "sc-media-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  while (!atomic_load(&w->stop)) {
    bump(&w->beats, 1);
    struct epoll_event evs[2];
    int n = epoll_wait(w->ep, evs, 2, rtc_timers(w));
    if (n < 0 && errno != EINTR) {
      /* A worker that cannot wait would leave its rooms silent while the
       * process looks alive: end the process, so it gets restarted. */
      sc_log_error("media", "worker %d: epoll_wait: %s; exiting", w->index, strerror(errno));
      _exit(EXIT_FAILURE);
    }
    /* Only the fds that fired: under load most wake-ups are datagrams, and
     * an eventfd read per wake-up was a quarter of the syscalls. */
    int readable = 0;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == w->fd) {
        readable = 1;
        continue;
      }
      uint64_t v;
      if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        sc_log_warn("media", "eventfd read: %s", strerror(errno));
    }
    if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) apply_commands(w);
    if (readable) drain_socket(w);
  }
  return NULL;
}

/* ---- helpers for the datagram handler (worker thread) ------------------ */

int sc_media_worker_knows(sc_media_worker_t *w, uint32_t ssrc) {
  member_t *m = sc_mtable_member(&w->table, ssrc); /* discovery names its own SSRC */
  return m && !(member_flags(m->stats) & SC_MEMBER_REMOVED);
}

void sc_media_worker_count_keepalive(sc_media_worker_t *w) {
  COUNT(w, keepalives);
}
void sc_media_worker_count_discovery(sc_media_worker_t *w) {
  COUNT(w, discovery);
}

/* ---- liveness (control thread) ----------------------------------------- */

int sc_media_workers(const sc_media_t *m) {
  return m ? m->n_workers : 0;
}

uint64_t sc_media_worker_beats(const sc_media_t *m, int i) {
  return atomic_load_explicit(&m->workers[i]->beats, memory_order_relaxed);
}

void sc_media_ping(sc_media_t *m) {
  for (int i = 0; m && i < m->n_workers; i++) wake(m->workers[i]);
}

/* ---- lifecycle (control thread) ---------------------------------------- */

/* The worker's epoll set, made here on the control thread so that a
 * failure fails sc_media_create with its reason instead of leaving a
 * worker thread that never reads. -1 (logged) on failure. */
static int epoll_setup(sc_media_worker_t *w) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    sc_log_error("media", "worker %d: epoll_create1: %s", w->index, strerror(errno));
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->efd};
  int rc = epoll_ctl(ep, EPOLL_CTL_ADD, w->efd, &ev);
  ev.data.fd = w->fd;
  if (rc == 0) rc = epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
  if (rc < 0) {
    sc_log_error("media", "worker %d: epoll_ctl: %s", w->index, strerror(errno));
    close(ep);
    return -1;
  }
  return ep;
}

static sc_media_worker_t *worker_create(sc_media_t *m, int index, const char *host, uint16_t port,
                                        sc_datagram_fn fn) {
  sc_media_worker_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->media = m;
  w->index = index;
  w->port = port;
  w->on_datagram = fn;
  sc_udp_rx_init(&w->rx);
  sc_udp_tx_init(&w->tx);
  sc_rtc_table_init(&w->rtc, rtc_emit, w);
  int table_rc = sc_mtable_init(&w->table);
  w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->fd = sc_udp_open(host, port);
  w->ep = -1;
  pthread_mutex_init(&w->lock, NULL);
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (w->fd >= 0 && getsockname(w->fd, (struct sockaddr *)&local, &local_len) == 0)
    w->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                                : ((struct sockaddr_in *)&local)->sin_port);
  if (table_rc < 0) sc_log_error("media", "worker %d: out of memory", index);
  if (w->efd < 0) sc_log_error("media", "worker %d: eventfd: %s", index, strerror(errno));
  if (table_rc == 0 && w->efd >= 0 && w->fd >= 0) w->ep = epoll_setup(w);
  if (table_rc < 0 || w->efd < 0 || w->fd < 0 || w->ep < 0) {
    if (w->fd >= 0) close(w->fd);
    if (w->efd >= 0) close(w->efd);
    pthread_mutex_destroy(&w->lock);
    sc_mtable_fini(&w->table);
    free(w);
    return NULL;
  }
  return w;
}

static void worker_destroy(sc_media_worker_t *w) {
  apply_commands(w); /* frees cipher states still in flight */
  for (member_t *m; (m = sc_mtable_any(&w->table));) remove_member(w, m);
  sc_rtc_table_fini(&w->rtc);
  close(w->fd);
  close(w->efd);
  close(w->ep);
  pthread_mutex_destroy(&w->lock);
  sc_mtable_fini(&w->table);
  free(w);
}

sc_media_t *sc_media_create(const char *host, uint16_t base_port, int n_workers,
                            sc_datagram_fn on_datagram) {
  if (n_workers < 1 || (int)base_port + n_workers - 1 > 65535) return NULL;
  sc_media_t *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->workers = calloc((size_t)n_workers, sizeof *m->workers);
  if (!m->workers) {
    free(m);
    return NULL;
  }
  for (int i = 0; i < n_workers; i++) {
    m->workers[i] = worker_create(m, i, host, (uint16_t)(base_port + i), on_datagram);
    if (!m->workers[i]) {
      sc_media_destroy(m);
      return NULL;
    }
    m->n_workers = i + 1;
  }
  return m;
}

int sc_media_start(sc_media_t *m) {
  for (int i = 0; i < m->n_workers; i++) {
    sc_media_worker_t *w = m->workers[i];
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      sc_log_error("media", "cannot start worker %d", i);
      return -1;
    }
    w->started = 1;
  }
  return 0;
}

void sc_media_stop(sc_media_t *m) {
  for (int i = 0; i < m->n_workers; i++) {
    sc_media_worker_t *w = m->workers[i];
    if (!w->started) continue;
    atomic_store(&w->stop, 1);
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof one) < 0) sc_log_warn("media", "eventfd: %s", strerror(errno));
    pthread_join(w->thread, NULL);
    w->started = 0;
  }
}

void sc_media_destroy(sc_media_t *m) {
  if (!m) return;
  sc_media_stop(m);
  for (int i = 0; i < m->n_workers; i++)
    if (m->workers[i]) worker_destroy(m->workers[i]);
  free(m->workers);
  free(m);
}

uint16_t sc_media_port_for_room(const sc_media_t *m, uint64_t room_id) {
  return worker_for(m, room_id)->port;
}

void sc_media_get_stats(const sc_media_t *m, sc_media_stats_t *out) {
  uint64_t *dst = (uint64_t *)out;
  size_t n = sizeof *out / sizeof(uint64_t);
  memset(out, 0, sizeof *out);
  for (int i = 0; i < m->n_workers; i++)
    for (size_t k = 0; k < n; k++)
      dst[k] += atomic_load_explicit(&m->workers[i]->stats.v[k], memory_order_relaxed);
  out->hint_refused += atomic_load_explicit(&m->hints_refused, memory_order_relaxed);
}
