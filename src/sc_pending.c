#include "sc_pending.h"

#include <string.h>

void sc_pending_init(sc_pending_t *p, size_t cap) {
  memset(p, 0, sizeof *p);
  p->cap = cap < 1 ? 1 : cap > SC_PENDING_MAX ? SC_PENDING_MAX : cap;
}

static void take(sc_pending_t *p, size_t i) {
  memmove(&p->e[i], &p->e[i + 1], (p->n - i - 1) * sizeof p->e[0]);
  p->n--;
}

void *sc_pending_add(sc_pending_t *p, void *conn, int64_t now_ms) {
  void *old = NULL;
  if (p->n == p->cap) {
    old = p->e[0].conn;
    take(p, 0);
    p->evicted++;
    p->unlogged++;
  }
  p->e[p->n++] = (sc_pending_entry_t){conn, now_ms};
  return old;
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
