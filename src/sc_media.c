/*
 * The media plane: worker threads, their command queues, rooms, members
 * and the receive -> authenticate -> fan-out -> send path. See sc_media.h
 * for the threading contract.
 */
#include "sc_media.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sc_log.h"
#include "sc_rtp.h"

#define RX_BATCH 32       /* datagrams per recvmmsg */
#define RX_MAX_BATCHES 16 /* batches per wake-up before yielding to commands */
#define TX_BATCH 64       /* datagrams per sendmmsg */
#define PKT_MAX 2048      /* largest datagram handled */
#define SOCK_BUF (4 << 20)

typedef struct member member_t;
typedef struct room room_t;

/* Owned by the worker thread; allocated when its ADD command is applied. */
struct member {
  uint32_t ssrc;
  unsigned flags; /* SC_MEMBER_* */
  int bound;      /* addr came from the member's own datagram */
  int has_addr;   /* addr usable for sending (bound or hint) */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  const sc_cipher_ops_t *ops; /* NULL until Select Protocol */
  void *cipher;
  room_t *room;
  member_t *room_next, *room_prev;
  member_t *hash_next;      /* SSRC bucket chain */
  sc_member_stats_t *stats; /* shared with the registry; never NULL */
};

struct room {
  uint64_t id;
  int n_members;
  member_t *members;
  room_t *hash_next;
};

typedef enum { CMD_ADD, CMD_CIPHER, CMD_FLAGS, CMD_HINT, CMD_REMOVE, CMD_SYNC } cmd_type_t;

/* A command from the control thread; freed by the worker once applied. */
typedef struct cmd {
  struct cmd *next;
  cmd_type_t type;
  uint64_t room_id;
  uint32_t ssrc;
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
#define COUNT(w, field) atomic_fetch_add_explicit(&STAT(w, field), 1, memory_order_relaxed)

/* Outgoing batch: filled during a receive batch, flushed with sendmmsg. */
typedef struct {
  struct mmsghdr msgs[TX_BATCH];
  struct iovec iov[TX_BATCH];
  struct sockaddr_storage addrs[TX_BATCH];
  uint8_t bufs[TX_BATCH][PKT_MAX];
  int n;
} txq_t;

typedef struct {
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  struct sockaddr_storage addrs[RX_BATCH];
  uint8_t bufs[RX_BATCH][PKT_MAX];
} rxq_t;

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
  _Atomic int stop;
  /* worker-thread state */
  member_t **ssrc_buckets;
  size_t n_buckets, n_members;
  room_t **room_buckets;
  size_t n_room_buckets, n_rooms;
  stats_t stats;
  sc_datagram_fn on_datagram;
  uint8_t plain[PKT_MAX];
  rxq_t rx;
  txq_t tx;
};

struct sc_media {
  int n_workers;
  sc_media_worker_t **workers;
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

#define MCOUNT(m, field, n) atomic_fetch_add_explicit(&(m)->stats->field, (n), memory_order_relaxed)

/* ---- addresses ---------------------------------------------------------- */

static socklen_t addr_len(const struct sockaddr_storage *a) {
  return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family) return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port &&
         memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* ---- member and room tables (worker thread) ---------------------------- */

static size_t ssrc_slot(const sc_media_worker_t *w, uint32_t ssrc) {
  return (ssrc * 2654435761u) & (w->n_buckets - 1);
}

static member_t *find_member(const sc_media_worker_t *w, uint32_t ssrc) {
  for (member_t *m = w->ssrc_buckets[ssrc_slot(w, ssrc)]; m; m = m->hash_next)
    if (m->ssrc == ssrc) return m;
  return NULL;
}

/* Doubles the bucket array when the table gets full, so lookups stay O(1).
 * Runs while applying a command, never per packet. */
static void grow_ssrc_table(sc_media_worker_t *w) {
  if (w->n_members < w->n_buckets) return;
  size_t n = w->n_buckets * 2;
  member_t **b = calloc(n, sizeof *b);
  if (!b) return; /* keep the old table: slower, still correct */
  member_t **old = w->ssrc_buckets;
  size_t old_n = w->n_buckets;
  w->ssrc_buckets = b;
  w->n_buckets = n;
  for (size_t i = 0; i < old_n; i++) {
    for (member_t *m = old[i], *next; m; m = next) {
      next = m->hash_next;
      size_t s = ssrc_slot(w, m->ssrc);
      m->hash_next = b[s];
      b[s] = m;
    }
  }
  free(old);
}

static room_t **room_slot(sc_media_worker_t *w, uint64_t id) {
  return &w->room_buckets[(id * 11400714819323198485ull) >> 54 & (w->n_room_buckets - 1)];
}

static room_t *get_room(sc_media_worker_t *w, uint64_t id, int create) {
  room_t **slot = room_slot(w, id);
  for (room_t *r = *slot; r; r = r->hash_next)
    if (r->id == id) return r;
  if (!create) return NULL;
  room_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->id = id;
  r->hash_next = *slot;
  *slot = r;
  w->n_rooms++;
  return r;
}

static void drop_room_if_empty(sc_media_worker_t *w, room_t *r) {
  if (r->n_members) return;
  for (room_t **p = room_slot(w, r->id); *p; p = &(*p)->hash_next) {
    if (*p == r) {
      *p = r->hash_next;
      break;
    }
  }
  w->n_rooms--;
  free(r);
}

static void add_member(sc_media_worker_t *w, cmd_t *c) {
  if (find_member(w, c->ssrc)) {
    sc_log_warn("media", "worker %d: ssrc %u already present", w->index, c->ssrc);
    return;
  }
  room_t *r = get_room(w, c->room_id, 1);
  member_t *m = r ? calloc(1, sizeof *m) : NULL;
  if (m && !c->stats) c->stats = sc_member_stats_new();
  if (!m || !c->stats) {
    sc_log_error("media", "worker %d: out of memory adding ssrc %u", w->index, c->ssrc);
    free(m);
    if (r) drop_room_if_empty(w, r);
    return;
  }
  m->stats = c->stats;
  c->stats = NULL; /* the member owns the reference now */
  m->ssrc = c->ssrc;
  m->room = r;
  m->room_next = r->members;
  if (r->members) r->members->room_prev = m;
  r->members = m;
  r->n_members++;
  size_t s = ssrc_slot(w, m->ssrc);
  m->hash_next = w->ssrc_buckets[s];
  w->ssrc_buckets[s] = m;
  w->n_members++;
  grow_ssrc_table(w);
}

static void release_cipher(member_t *m) {
  if (m->ops && m->cipher) m->ops->free(m->cipher);
  m->ops = NULL;
  m->cipher = NULL;
}

static void remove_member(sc_media_worker_t *w, member_t *m) {
  for (member_t **p = &w->ssrc_buckets[ssrc_slot(w, m->ssrc)]; *p; p = &(*p)->hash_next) {
    if (*p == m) {
      *p = m->hash_next;
      break;
    }
  }
  room_t *r = m->room;
  if (m->room_prev)
    m->room_prev->room_next = m->room_next;
  else
    r->members = m->room_next;
  if (m->room_next) m->room_next->room_prev = m->room_prev;
  r->n_members--;
  w->n_members--;
  release_cipher(m);
  sc_member_stats_release(m->stats);
  free(m);
  drop_room_if_empty(w, r);
}

/* ---- commands (posted by the control thread, applied by the worker) ---- */

static void apply_command(sc_media_worker_t *w, cmd_t *c) {
  member_t *m = c->type == CMD_ADD || c->type == CMD_SYNC ? NULL : find_member(w, c->ssrc);
  switch (c->type) {
    case CMD_ADD: add_member(w, c); break;
    case CMD_CIPHER:
      if (!m) {
        if (c->ops && c->state) c->ops->free(c->state); /* ownership came with it */
        break;
      }
      release_cipher(m);
      m->ops = c->ops;
      m->cipher = c->state;
      break;
    case CMD_FLAGS:
      if (m) m->flags = c->flags;
      break;
    case CMD_HINT:
      if (m && !m->bound) {
        m->addr = c->addr;
        m->addr_len = addr_len(&c->addr);
        m->has_addr = 1;
      }
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

static int post(sc_media_worker_t *w, cmd_t *c) {
  pthread_mutex_lock(&w->lock);
  if (w->cmd_tail)
    w->cmd_tail->next = c;
  else
    w->cmd_head = c;
  w->cmd_tail = c;
  atomic_store(&w->cmd_pending, 1);
  pthread_mutex_unlock(&w->lock);
  uint64_t one = 1;
  if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
    sc_log_warn("media", "eventfd write: %s", strerror(errno));
  return 0;
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
    while (sem_wait(&done) < 0 && errno == EINTR) {
    }
    sem_destroy(&done);
  }
}

/* ---- the packet path (worker thread) ----------------------------------- */

static void tx_flush(sc_media_worker_t *w) {
  txq_t *t = &w->tx;
  int sent = 0;
  while (sent < t->n) {
    int n = sendmmsg(w->fd, t->msgs + sent, (unsigned)(t->n - sent), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* Full socket buffer or an unreachable peer: drop the rest, count it. */
      atomic_fetch_add_explicit(&STAT(w, send_errors), (uint64_t)(t->n - sent),
                                memory_order_relaxed);
      break;
    }
    for (int i = sent; i < sent + n; i++)
      atomic_fetch_add_explicit(&STAT(w, tx_bytes), t->msgs[i].msg_len, memory_order_relaxed);
    atomic_fetch_add_explicit(&STAT(w, tx_packets), (uint64_t)n, memory_order_relaxed);
    sent += n;
  }
  t->n = 0;
}

/* Next free output slot; flushes first when the batch is full. */
static int tx_slot(sc_media_worker_t *w) {
  if (w->tx.n == TX_BATCH) tx_flush(w);
  return w->tx.n;
}

static void tx_commit(sc_media_worker_t *w, int slot, size_t len,
                      const struct sockaddr_storage *to) {
  txq_t *t = &w->tx;
  t->addrs[slot] = *to;
  t->iov[slot].iov_base = t->bufs[slot];
  t->iov[slot].iov_len = len;
  memset(&t->msgs[slot], 0, sizeof t->msgs[slot]);
  t->msgs[slot].msg_hdr.msg_name = &t->addrs[slot];
  t->msgs[slot].msg_hdr.msg_namelen = addr_len(to);
  t->msgs[slot].msg_hdr.msg_iov = &t->iov[slot];
  t->msgs[slot].msg_hdr.msg_iovlen = 1;
  t->n++;
}

/* Re-encrypts pkt for every other member of the sender's room. */
static void fan_out(sc_media_worker_t *w, const member_t *from, const sc_media_pkt_t *pkt) {
  for (member_t *to = from->room->members; to; to = to->room_next) {
    if (to == from || (to->flags & SC_MEMBER_DEAF) || !to->cipher || !to->has_addr) continue;
    int slot = tx_slot(w);
    int n = to->ops->seal(to->cipher, pkt, w->tx.bufs[slot], PKT_MAX);
    if (n <= 0) continue;
    tx_commit(w, slot, (size_t)n, &to->addr);
    MCOUNT(to, tx_packets, 1);
    MCOUNT(to, tx_bytes, (uint64_t)n);
  }
}

/* Binds the member's address on its first authenticated packet when it
 * skipped IP discovery and came from the address Select Protocol named. */
static int source_ok(member_t *m, const struct sockaddr_storage *from) {
  if (m->bound) return addr_equal(&m->addr, from);
  return m->has_addr && addr_equal(&m->addr, from);
}

static void handle_rtp(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from) {
  sc_rtp_info_t info;
  if (sc_rtp_parse(buf, len, &info) < 0) {
    COUNT(w, drop_malformed);
    return;
  }
  uint32_t ssrc = info.ssrc;
  member_t *m = find_member(w, ssrc);
  if (!m) {
    COUNT(w, drop_unknown_ssrc);
    return;
  }
  if (!source_ok(m, from)) {
    COUNT(w, drop_foreign_addr); /* not the member's: not counted against it */
    return;
  }
  if (!m->cipher) {
    COUNT(w, drop_no_cipher);
    MCOUNT(m, drops, 1);
    return;
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
    return;
  }
  m->bound = 1;
  if (pkt.is_rtcp) {
    COUNT(w, rx_rtcp);
    MCOUNT(m, rx_rtcp, 1);
    return;
  }
  COUNT(w, rx_rtp);
  MCOUNT(m, rx_packets, 1);
  MCOUNT(m, rx_bytes, len);
  if (m->flags & SC_MEMBER_MUTED) {
    COUNT(w, drop_muted);
    MCOUNT(m, drops, 1);
    return;
  }
  pkt.ssrc = m->ssrc;
  fan_out(w, m, &pkt);
}

static void handle_datagram(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                            const struct sockaddr_storage *from) {
  COUNT(w, rx_datagrams);
  if (len >= 12 && sc_rtp_looks_like_rtp(buf, len)) {
    handle_rtp(w, buf, len, from);
    return;
  }
  if (!w->on_datagram) {
    COUNT(w, drop_malformed);
    return;
  }
  int slot = tx_slot(w);
  int n = w->on_datagram(w, buf, len, from, w->tx.bufs[slot], PKT_MAX);
  if (n < 0) {
    if (n == -ENOENT)
      COUNT(w, drop_unknown_ssrc);
    else
      COUNT(w, drop_malformed);
  } else if (n > 0) {
    tx_commit(w, slot, (size_t)n, from);
  }
}

/* Reads up to RX_MAX_BATCHES batches; returns when the socket is empty. */
static void drain_socket(sc_media_worker_t *w) {
  rxq_t *r = &w->rx;
  for (int b = 0; b < RX_MAX_BATCHES; b++) {
    /* Commands first: a member added before its client was answered must
     * exist before that client's datagram is read. */
    if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) apply_commands(w);
    for (int i = 0; i < RX_BATCH; i++) {
      r->iov[i].iov_base = r->bufs[i];
      r->iov[i].iov_len = PKT_MAX;
      memset(&r->msgs[i].msg_hdr, 0, sizeof r->msgs[i].msg_hdr);
      r->msgs[i].msg_hdr.msg_name = &r->addrs[i];
      r->msgs[i].msg_hdr.msg_namelen = sizeof r->addrs[i];
      r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
      r->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(w->fd, r->msgs, RX_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      if (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        COUNT(w, rx_datagrams);
        COUNT(w, drop_malformed);
        continue;
      }
      handle_datagram(w, r->bufs[i], r->msgs[i].msg_len, &r->addrs[i]);
    }
    tx_flush(w);
    if (n < RX_BATCH) break;
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
    uint64_t v;
    if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN)
      sc_log_warn("media", "eventfd read: %s", strerror(errno));
    apply_commands(w);
    drain_socket(w);
  }
  close(ep);
  return NULL;
}

/* ---- helpers for the datagram handler (worker thread) ------------------ */

int sc_media_worker_bind(sc_media_worker_t *w, uint32_t ssrc, const struct sockaddr_storage *from) {
  member_t *m = find_member(w, ssrc);
  if (!m) return -ENOENT;
  if (m->bound) return addr_equal(&m->addr, from) ? 0 : -EEXIST;
  m->addr = *from;
  m->addr_len = addr_len(from);
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

static int open_socket(const char *host, uint16_t port) {
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[8];
  snprintf(service, sizeof service, "%u", port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    sc_log_error("media", "udp listen address %s: %s", host, gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int size = SOCK_BUF;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
      sc_log_error("media", "cannot listen on UDP %s:%u: %s", host, port, strerror(errno));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

static sc_media_worker_t *worker_create(sc_media_t *m, int index, const char *host, uint16_t port,
                                        sc_datagram_fn fn) {
  sc_media_worker_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->media = m;
  w->index = index;
  w->port = port;
  w->on_datagram = fn;
  w->n_buckets = 1024;
  w->n_room_buckets = 1024;
  w->ssrc_buckets = calloc(w->n_buckets, sizeof *w->ssrc_buckets);
  w->room_buckets = calloc(w->n_room_buckets, sizeof *w->room_buckets);
  w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->fd = open_socket(host, port);
  pthread_mutex_init(&w->lock, NULL);
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (w->fd >= 0 && getsockname(w->fd, (struct sockaddr *)&local, &local_len) == 0)
    w->port = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
                                                : ((struct sockaddr_in *)&local)->sin_port);
  if (!w->ssrc_buckets || !w->room_buckets || w->efd < 0 || w->fd < 0) {
    if (w->fd >= 0) close(w->fd);
    if (w->efd >= 0) close(w->efd);
    pthread_mutex_destroy(&w->lock);
    free(w->ssrc_buckets);
    free(w->room_buckets);
    free(w);
    return NULL;
  }
  return w;
}

static void worker_destroy(sc_media_worker_t *w) {
  apply_commands(w); /* frees cipher states still in flight */
  for (size_t i = 0; i < w->n_buckets; i++)
    while (w->ssrc_buckets[i]) remove_member(w, w->ssrc_buckets[i]);
  close(w->fd);
  close(w->efd);
  pthread_mutex_destroy(&w->lock);
  free(w->ssrc_buckets);
  free(w->room_buckets);
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
