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
#include "sc_rtp.h"
#include "sc_udp.h"

#define RX_MAX_BATCHES 16 /* batches per wake-up before yielding to commands */

typedef sc_mmember_t member_t;

typedef enum {
  CMD_ADD,
  CMD_CIPHER,
  CMD_FLAGS,
  CMD_HINT,
  CMD_ALIAS,
  CMD_RESET,
  CMD_REMOVE,
  CMD_SYNC
} cmd_type_t;

/* A command from the control thread; freed by the worker once applied. */
typedef struct cmd {
  struct cmd *next;
  cmd_type_t type;
  uint64_t room_id;
  uint32_t ssrc;
  uint32_t extra; /* CMD_ALIAS */
  unsigned flags;
  const sc_cipher_ops_t *ops;
  void *state;
  struct sockaddr_storage addr;
  sem_t *done;              /* CMD_SYNC */
  sc_member_stats_t *stats; /* CMD_ADD: a reference the member takes over */
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
  uint16_t port;
  pthread_t thread;
  int started;
  pthread_mutex_t lock; /* guards the command list only */
  cmd_t *cmd_head, *cmd_tail;
  _Atomic int cmd_pending;
  int wake_owed; /* control thread: commands posted, eventfd not written yet */
  _Atomic int stop;
  /* worker-thread state */
  sc_mtable_t table;
  stats_t stats;
  sc_datagram_fn on_datagram;
  uint8_t plain[SC_UDP_PKT_MAX];
  uint8_t rtcp[SC_UDP_PKT_MAX + 8]; /* an RTCP packet reassembled for parsing */
  sc_udp_rx_t rx;
  sc_udp_tx_t tx;                     /* filled during a receive batch, flushed with sendmmsg */
  int64_t fwd_rx_ns[SC_UDP_RX_BATCH]; /* receive times of the batch's forwarded packets */
  int n_fwd;
};

struct sc_media {
  int n_workers;
  sc_media_worker_t **workers;
  int defer_wakeups; /* control thread: see sc_media_defer_wakeups */
};

/* ---- shared per-member statistics -------------------------------------- */

sc_member_stats_t *sc_member_stats_new(void) {
  sc_member_stats_t *s = calloc(1, sizeof *s);
  if (s) atomic_init(&s->refs, 1);
  return s;
}

sc_member_stats_t *sc_member_stats_ref(sc_member_stats_t *s) {
  atomic_fetch_add(&s->refs, 1);
  return s;
}

void sc_member_stats_release(sc_member_stats_t *s) {
  if (s && atomic_fetch_sub(&s->refs, 1) == 1) free(s);
}

#define MCOUNT(m, field, n) bump(&(m)->stats->field, (n))

/* ---- members (worker thread) ---------------------------------------------- */

static void add_member(sc_media_worker_t *w, cmd_t *c) {
  if (!c->stats) c->stats = sc_member_stats_new();
  int err = -ENOMEM;
  member_t *m = c->stats ? sc_mtable_add(&w->table, c->room_id, c->ssrc, c->stats, &err) : NULL;
  if (!m) {
    sc_log_warn("media", "worker %d: ssrc %u not added: %s", w->index, c->ssrc, strerror(-err));
    return;
  }
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

/* ---- commands (posted by the control thread, applied by the worker) ---- */

static void apply_command(sc_media_worker_t *w, cmd_t *c) {
  member_t *m =
      c->type == CMD_ADD || c->type == CMD_SYNC ? NULL : sc_mtable_member(&w->table, c->ssrc);
  switch (c->type) {
    case CMD_ADD: add_member(w, c); break;
    case CMD_CIPHER:
      if (!m) {
        if (c->ops && c->state) c->ops->free(c->state); /* ownership came with it */
        break;
      }
      install_cipher(m, c->ops, c->state);
      break;
    case CMD_FLAGS:
      if (m) m->flags = (uint8_t)c->flags;
      break;
    case CMD_HINT:
      if (m && !m->bound) {
        sc_udp_addr_set(&m->addr, &c->addr);
        m->has_addr = 1;
      }
      break;
    case CMD_ALIAS:
      if (m) add_alias(w, m, c->extra);
      break;
    case CMD_RESET:
      if (m) reset_member(w, m);
      break;
    case CMD_REMOVE:
      if (m) remove_member(w, m);
      break;
    case CMD_SYNC: sem_post(c->done); break;
  }
}

static void apply_commands(sc_media_worker_t *w) {
  pthread_mutex_lock(&w->lock);
  cmd_t *c = w->cmd_head;
  w->cmd_head = w->cmd_tail = NULL;
  atomic_store(&w->cmd_pending, 0);
  pthread_mutex_unlock(&w->lock);
  while (c) {
    cmd_t *next = c->next;
    apply_command(w, c);
    if (c->stats) sc_member_stats_release(c->stats); /* an ADD that did not take */
    free(c);
    c = next;
  }
}

static void wake(sc_media_worker_t *w) {
  uint64_t one = 1;
  w->wake_owed = 0;
  if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
    sc_log_warn("media", "eventfd write: %s", strerror(errno));
}

static int post(sc_media_worker_t *w, cmd_t *c) {
  pthread_mutex_lock(&w->lock);
  if (w->cmd_tail)
    w->cmd_tail->next = c;
  else
    w->cmd_head = c;
  w->cmd_tail = c;
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

static int post_new(sc_media_t *m, cmd_type_t type, uint64_t room_id, uint32_t ssrc, cmd_t **out) {
  cmd_t *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->type = type;
  c->room_id = room_id;
  c->ssrc = ssrc;
  *out = c;
  (void)m;
  return 0;
}

int sc_media_post_add(sc_media_t *m, uint64_t room_id, uint32_t ssrc, sc_member_stats_t *stats) {
  cmd_t *c;
  if (post_new(m, CMD_ADD, room_id, ssrc, &c) < 0) return -ENOMEM;
  c->stats = stats ? sc_member_stats_ref(stats) : NULL;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_cipher(sc_media_t *m, uint64_t room_id, uint32_t ssrc, const sc_cipher_ops_t *ops,
                         void *state) {
  cmd_t *c;
  if (post_new(m, CMD_CIPHER, room_id, ssrc, &c) < 0) {
    ops->free(state);
    return -ENOMEM;
  }
  c->ops = ops;
  c->state = state;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_flags(sc_media_t *m, uint64_t room_id, uint32_t ssrc, unsigned flags) {
  cmd_t *c;
  if (post_new(m, CMD_FLAGS, room_id, ssrc, &c) < 0) return -ENOMEM;
  c->flags = flags;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_peer_hint(sc_media_t *m, uint64_t room_id, uint32_t ssrc,
                            const struct sockaddr_storage *addr) {
  cmd_t *c;
  if (post_new(m, CMD_HINT, room_id, ssrc, &c) < 0) return -ENOMEM;
  c->addr = *addr;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_alias(sc_media_t *m, uint64_t room_id, uint32_t member_ssrc,
                        uint32_t extra_ssrc) {
  cmd_t *c;
  if (post_new(m, CMD_ALIAS, room_id, member_ssrc, &c) < 0) return -ENOMEM;
  c->extra = extra_ssrc;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_reset(sc_media_t *m, uint64_t room_id, uint32_t ssrc) {
  cmd_t *c;
  if (post_new(m, CMD_RESET, room_id, ssrc, &c) < 0) return -ENOMEM;
  return post(worker_for(m, room_id), c);
}

int sc_media_post_remove(sc_media_t *m, uint64_t room_id, uint32_t ssrc) {
  cmd_t *c;
  if (post_new(m, CMD_REMOVE, room_id, ssrc, &c) < 0) return -ENOMEM;
  return post(worker_for(m, room_id), c);
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
    cmd_t *c = calloc(1, sizeof *c);
    if (!c) {
      sem_destroy(&done);
      continue;
    }
    c->type = CMD_SYNC;
    c->done = &done;
    post(w, c);
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
  if (r.failed) bump(&STAT(w, send_errors), r.failed);
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
    if (to == from || (to->flags & SC_MEMBER_DEAF) || !to->cipher || !to->has_addr) continue;
    int slot = tx_slot(w);
    int n = to->ops->seal(to->cipher, pkt, w->tx.bufs[slot], SC_UDP_PKT_MAX);
    if (n <= 0) continue;
    sc_udp_tx_commit(&w->tx, (size_t)n, &to->addr.sa);
    copies++;
    MCOUNT(to, tx_packets, 1);
    MCOUNT(to, tx_bytes, (uint64_t)n);
  }
  return copies;
}

/* Binds the member's address on its first authenticated packet when it
 * skipped IP discovery and came from the address Select Protocol named. */
static int source_ok(member_t *m, const struct sockaddr_storage *from) {
  if (m->bound) return sc_udp_addr_equal(&m->addr, from);
  return m->has_addr && sc_udp_addr_equal(&m->addr, from);
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

/* Returns the copies forwarded (0: dropped, RTCP, or nobody to send to). */
static int handle_rtp(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from) {
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
  member_t *m = e->m;
  if (!source_ok(m, from)) {
    COUNT(w, drop_foreign_addr); /* not the member's: not counted against it */
    return 0;
  }
  if (!m->cipher) {
    COUNT(w, drop_no_cipher);
    MCOUNT(m, drops, 1);
    return 0;
  }
  sc_media_pkt_t pkt;
  int rc = m->ops->open(m->cipher, buf, len, w->plain, sizeof w->plain, &pkt);
  if (rc < 0) {
    if (rc == -EBADMSG)
      COUNT(w, drop_auth);
    else if (rc == -EALREADY)
      COUNT(w, drop_replay);
    else
      COUNT(w, drop_malformed);
    MCOUNT(m, drops, 1);
    return 0;
  }
  m->bound = 1;
  if (pkt.is_rtcp) {
    COUNT(w, rx_rtcp);
    MCOUNT(m, rx_rtcp, 1);
    account_rtcp(w, m, buf, &pkt);
    return 0;
  }
  COUNT(w, rx_rtp);
  MCOUNT(m, rx_packets, 1);
  MCOUNT(m, rx_bytes, len);
  if (m->flags & SC_MEMBER_MUTED) {
    COUNT(w, drop_muted);
    MCOUNT(m, drops, 1);
    return 0;
  }
  pkt.ssrc = e->ssrc; /* video/RTX keep their own SSRC */
  return fan_out(w, m, &pkt);
}

/* Returns the RTP copies forwarded (0 for everything else). */
static int handle_datagram(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from) {
  COUNT(w, rx_datagrams);
  if (len >= 12 && sc_rtp_looks_like_rtp(buf, len)) return handle_rtp(w, buf, len, from);
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
  } else if (n > 0) {
    sc_udp_tx_commit(&w->tx, (size_t)n, (const struct sockaddr *)from);
  }
  return 0;
}

/* After the batch's last sendmmsg: one delay sample per forwarded packet. */
static void account_delays(sc_media_worker_t *w) {
  if (!w->n_fwd) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  for (int i = 0; i < w->n_fwd; i++) {
    int64_t d = now - w->fwd_rx_ns[i]; /* < 0 only if the clock was stepped */
    unsigned b = sc_lathist_bucket(d > 0 ? (uint64_t)d / 1000 : 0);
    bump(&(&STAT(w, fwd_delay_hist))[b], 1);
  }
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
    for (int i = 0; i < n; i++) {
      int truncated;
      int64_t rx_ns = sc_udp_rx_take(r, i, &truncated);
      if (truncated) {
        COUNT(w, rx_datagrams);
        COUNT(w, drop_malformed);
        continue;
      }
      int copies = handle_datagram(w, r->bufs[i], r->msgs[i].msg_len, &r->addrs[i]);
      if (copies > 0 && rx_ns) w->fwd_rx_ns[w->n_fwd++] = rx_ns;
    }
    tx_flush(w);
    account_delays(w);
    if (n < SC_UDP_RX_BATCH) break;
  }
}

static void *worker_main(void *arg) {
  sc_media_worker_t *w = arg;
  char name[16];
  snprintf(name, sizeof name, "sc-media-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->efd};
  epoll_ctl(ep, EPOLL_CTL_ADD, w->efd, &ev);
  ev.data.fd = w->fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
  while (!atomic_load(&w->stop)) {
    struct epoll_event evs[2];
    int n = epoll_wait(ep, evs, 2, 1000);
    if (n < 0 && errno != EINTR) {
      sc_log_error("media", "epoll_wait: %s", strerror(errno));
      break;
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
  close(ep);
  return NULL;
}

/* ---- helpers for the datagram handler (worker thread) ------------------ */

int sc_media_worker_bind(sc_media_worker_t *w, uint32_t ssrc, const struct sockaddr_storage *from) {
  member_t *m = sc_mtable_member(&w->table, ssrc); /* discovery names its own SSRC */
  if (!m) return -ENOENT;
  if (m->bound) return sc_udp_addr_equal(&m->addr, from) ? 0 : -EEXIST;
  sc_udp_addr_set(&m->addr, from);
  m->has_addr = 1;
  m->bound = 1;
  return 0;
}

void sc_media_worker_count_keepalive(sc_media_worker_t *w) {
  COUNT(w, keepalives);
}
void sc_media_worker_count_discovery(sc_media_worker_t *w) {
  COUNT(w, discovery);
}

/* ---- lifecycle (control thread) ---------------------------------------- */

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
  int table_rc = sc_mtable_init(&w->table);
  w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->fd = sc_udp_open(host, port);
  pthread_mutex_init(&w->lock, NULL);
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (w->fd >= 0 && getsockname(w->fd, (struct sockaddr *)&local, &local_len) == 0)
    w->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                                : ((struct sockaddr_in *)&local)->sin_port);
  if (table_rc < 0 || w->efd < 0 || w->fd < 0) {
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
  close(w->fd);
  close(w->efd);
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
}
