#include "sc_pending.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

void sc_pending_init(sc_pending_t *p, size_t cap) {
  memset(p, 0, sizeof *p);
  p->cap = cap < 1 ? 1 : cap > SC_PENDING_MAX ? SC_PENDING_MAX : cap;
}

static void take(sc_pending_t *p, size_t i) {
  memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof p->e[0]);
  p->n--;
}

/* The index of the oldest entry of the source with the most entries
 * (entries are oldest first, so ties go to the source waiting longest). */
static size_t victim(const sc_pending_t *p) {
  size_t best = 0, best_n = 0;
  for (size_t i = 0; i < p->n; i++) {
    size_t n = 0;
    for (size_t j = 0; j < p->n; j++) n += p->e[j].src == p->e[i].src;
    if (n > best_n) {
      best = i;
      best_n = n;
    }
  }
  return best;
}

void *sc_pending_add(sc_pending_t *p, void *conn, uint64_t src, int64_t now_ms) {
  void *old = NULL;
  if (p->n == p->cap) {
    size_t v = victim(p);
    old = p->e[v].conn;
    take(p, v);
    p->evicted++;
    p->unlogged++;
  }
  p->e[p->n++] = (sc_pending_entry_t){conn, src, now_ms};
  return old;
}

uint64_t sc_pending_src(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
  const unsigned char *a = NULL;
  size_t n = 0;
  if (ss.ss_family == AF_INET) {
    a = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
    n = 4;
  } else if (ss.ss_family == AF_INET6) {
    a = (const unsigned char *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
    n = 16;
  }
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ a[i]) * 1099511628211ull;
  return n ? h | 1 : 0;
}

int sc_pending_remove(sc_pending_t *p, void *conn) {
  for (size_t i = 0; i < p->n; i++) {
    if (p->e[i].conn != conn) continue;
    take(p, i);
    return 1;
  }
  return 0;
}

int64_t sc_pending_since(const sc_pending_t *p, void *conn) {
  for (size_t i = 0; i < p->n; i++)
    if (p->e[i].conn == conn) return p->e[i].since_ms;
  return -1;
}

void sc_pending_timed_out(sc_pending_t *p) {
  p->timed_out++;
  p->unlogged++;
}

int sc_pending_log_due(const sc_pending_t *p, int64_t now_ms) {
  return p->unlogged && (!p->logged_ms || now_ms - p->logged_ms >= SC_PENDING_LOG_MS);
}

void sc_pending_logged(sc_pending_t *p, int64_t now_ms) {
  p->unlogged = 0;
  p->logged_ms = now_ms;
}
