/*
 * The media plane: worker threads, their command queues, the member
 * blocks, the commands' effect on rooms and members, and the lifecycle.
 * The receive -> authenticate -> fan-out -> send path is sc_mpath's (one
 * per worker, embedded in it); the socket and the datagram batches are
 * sc_udp's. See sc_media.h for the threading contract.
 */
#include "sc_media.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sc_log.h"
#include "sc_mpath.h"
#include "sc_mtable.h"
#include "sc_rtc.h"
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
  CMD_SYNC,
  CMD_ICE_RESTART,
  CMD_VIDEO_FILTER,
  CMD_SSRC_MAP
} cmd_type_t;

/* A command from the control thread. Allocated ones (add, cipher, hint,
 * alias) are freed by the worker once applied; reset and remove are the
 * nodes embedded in the member block, sync's lives on its poster's stack. */
typedef struct cmd {
  sc_media_node_t node; /* first: the queue holds nodes */
  uint64_t room_id;
  uint32_t ssrc;
  uint32_t
      extra; /* CMD_ALIAS; CMD_SSRC_MAP: the source; CMD_VIDEO_FILTER: seal_off | open_off << 8 */
  uint32_t extra_to; /* CMD_SSRC_MAP: the out SSRC (0: remove) */
  uint32_t gen;      /* the member's reset generation when posted */
  const sc_cipher_ops_t *ops;
  void *state; /* CMD_CIPHER; CMD_ICE_RESTART: its sc_ice_creds_t */
  struct sockaddr_storage addr;
  sem_t *done;              /* CMD_SYNC */
  sc_member_stats_t *stats; /* the member block (a reference for ADD) */
} cmd_t;

#define COUNT(w, field) SC_MCOUNT(&(w)->path.stats, field)

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
  sc_udp_rx_t rx;
  sc_mpath_t path; /* tables, counters, send batch, WebRTC (sc_mpath) */
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

/* ---- members (worker thread) ---------------------------------------------- */

static void add_member(sc_media_worker_t *w, cmd_t *c) {
  int err = -ENOMEM;
  member_t *m = sc_mtable_add(&w->path.table, c->room_id, c->ssrc, c->stats, &err);
  if (!m) {
    sc_log_warn("media", "worker %d: ssrc %u not added: %s", w->index, c->ssrc, strerror(-err));
    return;
  }
  m->gen = sc_member_gen(c->stats);
  c->stats = NULL; /* the member owns the reference now */
}

static void add_alias(sc_media_worker_t *w, member_t *m, uint32_t ssrc) {
  int rc = sc_mtable_alias(&w->path.table, m, ssrc);
  if (rc < 0)
    sc_log_warn("media", "worker %d: ssrc %u not added as an alias of %u: %s", w->index, ssrc,
                m->ssrc, rc == -EEXIST ? "in use" : "too many");
}

static void install_cipher(member_t *m, const sc_cipher_ops_t *ops, void *state) {
  sc_mpath_release_cipher(m);
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
  sc_mpath_release_cipher(m);
  sc_member_stats_release(m->stats);
  sc_mtable_remove(&w->path.table, m);
}

/* ---- commands (posted by the control thread, applied by the worker) ---- */

/* The member a command is for: the one with its SSRC and its block, not
 * removed, reset to the current generation. */
static member_t *command_member(sc_media_worker_t *w, const cmd_t *c) {
  member_t *m = sc_mtable_member(&w->path.table, c->ssrc);
  if (!m || m->stats != c->stats) return NULL;
  sc_mpath_catch_up(&w->path, m);
  return (sc_member_flags(m->stats) & SC_MEMBER_REMOVED) ? NULL : m;
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
  int rc = sc_rtc_attach(&w->path.rtc, m->cipher, m);
  if (rc == 0) return;
  sc_log_warn("media", "worker %d: ssrc %u: WebRTC state not attached: %s", w->index, m->ssrc,
              strerror(-rc));
  sc_mpath_release_cipher(m);
}

/* An ICE restart of the member's WebRTC transport (its DTLS/SRTP stay). */
static void restart_ice(sc_media_worker_t *w, member_t *m, const sc_ice_creds_t *creds) {
  int rc =
      m->ops == &sc_rtc_cipher_ops && m->cipher ? sc_rtc_restart_ice(m->cipher, creds) : -ENOTCONN;
  if (rc < 0)
    sc_log_warn("media", "worker %d: ssrc %u: ICE restart not applied: %s", w->index, m->ssrc,
                strerror(-rc));
}

/* A new video filter of the member's WebRTC transport. */
static void video_filter(sc_media_worker_t *w, member_t *m, uint32_t bits) {
  if (m->ops == &sc_rtc_cipher_ops && m->cipher)
    sc_rtc_set_video_filter(m->cipher, (uint8_t)bits, (uint8_t)(bits >> 8));
  else
    sc_log_warn("media", "worker %d: ssrc %u: video filter for a member without WebRTC", w->index,
                m->ssrc);
}

/* A consumer SSRC on the member's WebRTC transport (sc_rtc_map_ssrc). */
static void map_ssrc(sc_media_worker_t *w, member_t *m, uint32_t source, uint32_t out) {
  int rc = m->ops == &sc_rtc_cipher_ops && m->cipher ? sc_rtc_map_ssrc(m->cipher, source, out)
                                                     : -ENOTCONN;
  if (rc < 0)
    sc_log_warn("media", "worker %d: ssrc %u: source %u not mapped to %u: %s", w->index, m->ssrc,
                source, out, strerror(-rc));
}

/* cipher, hint, alias, ICE restart, video filter, SSRC map: for the member's generation they were
 * posted in. */
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
    case CMD_ICE_RESTART: restart_ice(w, m, c->state); break;
    case CMD_VIDEO_FILTER: video_filter(w, m, c->extra); break;
    case CMD_SSRC_MAP: map_ssrc(w, m, c->extra, c->extra_to); break;
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
  member_t *m = sc_mtable_member(&w->path.table, mb->ssrc);
  if (m && m->stats == mb) {
    if (n->kind == CMD_REMOVE)
      remove_member(w, m);
    else
      sc_mpath_catch_up(&w->path, m);
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
  if (n->kind == CMD_ICE_RESTART) {                /* its credentials: our ICE password */
    sodium_memzero(c->state, sizeof(sc_ice_creds_t));
    free(c->state);
  }
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
  c->gen = sc_member_gen(mb);
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

int sc_media_post_video_filter(sc_media_t *m, sc_member_stats_t *mb, uint8_t seal_off,
                               uint8_t open_off) {
  cmd_t *c = cmd_new(CMD_VIDEO_FILTER, mb);
  if (!c) return -ENOMEM;
  c->extra = seal_off | (uint32_t)open_off << 8;
  return post(worker_for(m, mb->room_id), &c->node);
}

int sc_media_post_ssrc_map(sc_media_t *m, sc_member_stats_t *mb, uint32_t source, uint32_t out) {
  cmd_t *c = cmd_new(CMD_SSRC_MAP, mb);
  if (!c) return -ENOMEM;
  c->extra = source;
  c->extra_to = out;
  return post(worker_for(m, mb->room_id), &c->node);
}

int sc_media_post_ice_restart(sc_media_t *m, sc_member_stats_t *mb, const sc_ice_creds_t *creds) {
  cmd_t *c = cmd_new(CMD_ICE_RESTART, mb);
  sc_ice_creds_t *copy = c ? malloc(sizeof *copy) : NULL;
  if (!copy) {
    if (c) sc_member_stats_release(c->stats);
    free(c);
    return -ENOMEM;
  }
  *copy = *creds;
  c->state = copy;
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
  atomic_store_explicit(&mb->gen, sc_member_gen(mb) + 1, memory_order_release);
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

/* Reads up to RX_MAX_BATCHES batches; returns when the socket is empty. */
static void drain_socket(sc_media_worker_t *w) {
  sc_udp_rx_t *r = &w->rx;
  for (int b = 0; b < RX_MAX_BATCHES; b++) {
    /* Commands first: a member added before its client was answered must
     * exist before that client's datagram is read. */
    if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) apply_commands(w);
    int n = recvmmsg(w->fd, r->msgs, SC_UDP_RX_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    sc_mpath_begin_batch(&w->path);
    for (int i = 0; i < n; i++) {
      int truncated;
      int64_t rx_ns = sc_udp_rx_take(r, i, &truncated);
      if (truncated) {
        COUNT(w, rx_datagrams);
        COUNT(w, drop_malformed);
        continue;
      }
      sc_mpath_datagram(&w->path, r->bufs[i], r->msgs[i].msg_len, &r->addrs[i], rx_ns);
    }
    sc_mpath_end_batch(&w->path);
    if (n < SC_UDP_RX_BATCH) break;
  }
}

static void *worker_main(void *arg) {
  sc_media_worker_t *w = arg;
  char name[16];
  snprintf(name, sizeof name, "sc-media-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  while (!atomic_load(&w->stop)) {
    sc_mstat_bump(&w->beats, 1);
    struct epoll_event evs[2];
    int n = epoll_wait(w->ep, evs, 2, sc_mpath_timers(&w->path));
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
  member_t *m = sc_mtable_member(&w->path.table, ssrc); /* discovery names its own SSRC */
  return m && !(sc_member_flags(m->stats) & SC_MEMBER_REMOVED);
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
  sc_udp_rx_init(&w->rx);
  w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->fd = sc_udp_open(host, port);
  int table_rc = sc_mpath_init(&w->path, w, index, w->fd, fn);
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
    sc_mpath_fini(&w->path);
    free(w);
    return NULL;
  }
  return w;
}

static void worker_destroy(sc_media_worker_t *w) {
  apply_commands(w); /* frees cipher states still in flight */
  for (member_t *m; (m = sc_mtable_any(&w->path.table));) remove_member(w, m);
  close(w->fd);
  close(w->efd);
  close(w->ep);
  pthread_mutex_destroy(&w->lock);
  sc_mpath_fini(&w->path);
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
      dst[k] += atomic_load_explicit(&m->workers[i]->path.stats.v[k], memory_order_relaxed);
  out->hint_refused += atomic_load_explicit(&m->hints_refused, memory_order_relaxed);
}
