/*
 * lcv_reflector: the raw baseline for the benchmark. A minimal batched
 * UDP reflector with the sidecar's fan-out and no crypto: rooms of M
 * members; every datagram from a member goes to the other M-1 members.
 *
 * Membership is static by SSRC: SSRC s (1-based) is member (s-1) % M of
 * room (s-1) / M, and its address is learned from its first datagram. A
 * 12-byte RTP packet with payload type 127 is a hello: it is answered
 * (echoed) and not forwarded, so the generator knows it is known.
 *
 * Threads: W workers ("refl-i"), each owning one socket on port base+i and
 * the members of the rooms it receives (the generator sends room r to
 * worker r % W, as the sidecar shards). The main thread waits for
 * SIGINT/SIGTERM, stops the workers and prints their counters as JSON.
 * Memory: per worker one address table (max-ssrc entries, calloc'd, so
 * untouched pages cost nothing) and fixed batches; nothing per packet.
 * Forwarding is zero-copy: every output iovec points into the receive
 * buffer, which is why the send batch is flushed before the next receive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PKT_MAX 2048
#define SOCK_BUF (4 << 20) /* as the sidecar's media sockets */
#define RX_MAX 1024
#define TX_MAX 4096
#define RTP_PT_HELLO 127

typedef struct {
  char host[64];
  int port, workers, members, rx_batch, tx_batch, max_ssrc;
} refl_opts_t;

typedef struct {
  const refl_opts_t *o;
  int index, fd;
  pthread_t thread;
  _Atomic int *stop;
  struct sockaddr_in *addr; /* by SSRC - 1 */
  uint8_t *bound;
  uint64_t rx, tx, send_errors, dropped;
  struct mmsghdr *rx_msgs, *tx_msgs;
  struct iovec *rx_iov, *tx_iov;
  struct sockaddr_in *rx_from;
  uint8_t (*bufs)[PKT_MAX];
  int tx_n;
} worker_t;

/* ---- the packet path ----------------------------------------------------- */

static void tx_flush(worker_t *w) {
  int sent = 0;
  while (sent < w->tx_n) {
    int n = sendmmsg(w->fd, w->tx_msgs + sent, (unsigned)(w->tx_n - sent), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      w->send_errors += (uint64_t)(w->tx_n - sent);
      break;
    }
    w->tx += (uint64_t)n;
    sent += n;
  }
  w->tx_n = 0;
}

static void tx_add(worker_t *w, const uint8_t *buf, size_t len, struct sockaddr_in *to) {
  if (w->tx_n == w->o->tx_batch) tx_flush(w);
  struct mmsghdr *h = &w->tx_msgs[w->tx_n];
  w->tx_iov[w->tx_n] = (struct iovec){(void *)buf, len};
  memset(h, 0, sizeof *h);
  h->msg_hdr.msg_iov = &w->tx_iov[w->tx_n];
  h->msg_hdr.msg_iovlen = 1;
  h->msg_hdr.msg_name = to;
  h->msg_hdr.msg_namelen = sizeof *to;
  w->tx_n++;
}

static void handle(worker_t *w, const uint8_t *buf, size_t len, const struct sockaddr_in *from) {
  uint32_t ssrc = len >= 12 && (buf[0] >> 6) == 2
                      ? (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | buf[10] << 8 | buf[11]
                      : 0;
  if (!ssrc || ssrc > (uint32_t)w->o->max_ssrc) {
    w->dropped++;
    return;
  }
  uint32_t idx = ssrc - 1, m = (uint32_t)w->o->members;
  if (!w->bound[idx]) {
    w->addr[idx] = *from;
    w->bound[idx] = 1;
  }
  if (len == 12 && (buf[1] & 0x7f) == RTP_PT_HELLO) {
    tx_add(w, buf, len, &w->addr[idx]);
    return;
  }
  for (uint32_t j = idx - idx % m, end = j + m; j < end && j < (uint32_t)w->o->max_ssrc; j++)
    if (j != idx && w->bound[j]) tx_add(w, buf, len, &w->addr[j]);
}

static int receive_batch(worker_t *w) {
  for (int i = 0; i < w->o->rx_batch; i++) {
    w->rx_iov[i] = (struct iovec){w->bufs[i], PKT_MAX};
    memset(&w->rx_msgs[i].msg_hdr, 0, sizeof w->rx_msgs[i].msg_hdr);
    w->rx_msgs[i].msg_hdr.msg_iov = &w->rx_iov[i];
    w->rx_msgs[i].msg_hdr.msg_iovlen = 1;
    w->rx_msgs[i].msg_hdr.msg_name = &w->rx_from[i];
    w->rx_msgs[i].msg_hdr.msg_namelen = sizeof w->rx_from[i];
  }
  int n = recvmmsg(w->fd, w->rx_msgs, (unsigned)w->o->rx_batch, MSG_DONTWAIT, NULL);
  for (int i = 0; i < n; i++) {
    w->rx++;
    handle(w, w->bufs[i], w->rx_msgs[i].msg_len, &w->rx_from[i]);
  }
  tx_flush(w); /* the iovecs point into bufs */
  return n;
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  char name[16];
  snprintf(name, sizeof name, "refl-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  struct pollfd p = {.fd = w->fd, .events = POLLIN};
  while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
    if (poll(&p, 1, 100) <= 0) continue;
    for (int b = 0; b < 64 && receive_batch(w) == w->o->rx_batch; b++) {
    }
  }
  return NULL;
}

/* ---- setup --------------------------------------------------------------- */

static int open_socket(const char *host, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), size = SOCK_BUF;
  if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    if (fd >= 0) close(fd);
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    fprintf(stderr, "lcv_reflector: bind %s:%d: %s\n", host, port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static void worker_free(worker_t *w) {
  if (w->fd >= 0) close(w->fd);
  free(w->addr);
  free(w->bound);
  free(w->rx_msgs);
  free(w->tx_msgs);
  free(w->rx_iov);
  free(w->tx_iov);
  free(w->rx_from);
  free(w->bufs);
}

static int worker_init(worker_t *w, const refl_opts_t *o, int index, _Atomic int *stop) {
  size_t rx = (size_t)o->rx_batch, tx = (size_t)o->tx_batch, n = (size_t)o->max_ssrc;
  memset(w, 0, sizeof *w);
  w->o = o;
  w->index = index;
  w->stop = stop;
  w->fd = open_socket(o->host, o->port + index);
  w->addr = calloc(n, sizeof *w->addr);
  w->bound = calloc(n, 1);
  w->rx_msgs = calloc(rx, sizeof *w->rx_msgs);
  w->rx_iov = calloc(rx, sizeof *w->rx_iov);
  w->rx_from = calloc(rx, sizeof *w->rx_from);
  w->bufs = calloc(rx, sizeof *w->bufs);
  w->tx_msgs = calloc(tx, sizeof *w->tx_msgs);
  w->tx_iov = calloc(tx, sizeof *w->tx_iov);
  return w->fd >= 0 && w->addr && w->bound && w->rx_msgs && w->rx_iov && w->rx_from && w->bufs &&
                 w->tx_msgs && w->tx_iov
             ? 0
             : -1;
}

typedef struct {
  const char *name;
  int *value;
  int min, max;
} int_opt_t;

static int parse(refl_opts_t *o, int argc, char **argv) {
  *o = (refl_opts_t){"127.0.0.1", 0, 1, 5, 64, 256, 1 << 20};
  const int_opt_t ints[] = {{"--workers", &o->workers, 1, 64},
                            {"--members", &o->members, 2, 100000},
                            {"--rx-batch", &o->rx_batch, 1, RX_MAX},
                            {"--tx-batch", &o->tx_batch, 1, TX_MAX},
                            {"--max-ssrc", &o->max_ssrc, 1, 1 << 24}};
  for (int i = 1; i + 1 < argc; i += 2) {
    int done = 0;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !done; k++) {
      if (strcmp(argv[i], ints[k].name) != 0) continue;
      char *end;
      long v = strtol(argv[i + 1], &end, 10);
      if (*end || v < ints[k].min || v > ints[k].max) return -1;
      *ints[k].value = (int)v;
      done = 1;
    }
    if (!done && strcmp(argv[i], "--listen") == 0)
      done = sscanf(argv[i + 1], "%63[^:]:%d", o->host, &o->port) == 2;
    if (!done) return -1;
  }
  return argc % 2 == 1 && o->port > 0 && o->port + o->workers - 1 <= 65535 ? 0 : -1;
}

int main(int argc, char **argv) {
  refl_opts_t o;
  if (parse(&o, argc, argv) < 0) {
    fprintf(stderr,
            "usage: lcv_reflector --listen HOST:PORT [--workers N] [--members M]\n"
            "         [--rx-batch N] [--tx-batch N] [--max-ssrc N]\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited: only sigwait sees them */
  _Atomic int stop = 0;
  worker_t *w = calloc((size_t)o.workers, sizeof *w);
  int n = 0, ok = w != NULL;
  for (; ok && n < o.workers; n++) {
    ok = worker_init(&w[n], &o, n, &stop) == 0 &&
         pthread_create(&w[n].thread, NULL, worker_main, &w[n]) == 0;
    if (!ok) worker_free(&w[n]);
  }
  if (ok) printf("lcv_reflector ready on %s:%d (+%d)\n", o.host, o.port, o.workers - 1);
  fflush(stdout);
  int sig;
  if (ok) sigwait(&set, &sig);
  atomic_store(&stop, 1);
  uint64_t rx = 0, tx = 0, errors = 0, dropped = 0;
  for (int i = 0; i < (ok ? n : n - 1); i++) {
    pthread_join(w[i].thread, NULL);
    rx += w[i].rx;
    tx += w[i].tx;
    errors += w[i].send_errors;
    dropped += w[i].dropped;
    worker_free(&w[i]);
  }
  printf("{\"rx\":%llu,\"tx\":%llu,\"send_errors\":%llu,\"dropped\":%llu}\n",
         (unsigned long long)rx, (unsigned long long)tx, (unsigned long long)errors,
         (unsigned long long)dropped);
  free(w);
  return ok ? 0 : 1;
}
