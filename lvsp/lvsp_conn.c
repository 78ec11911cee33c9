#include "lvsp_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

void lvsp_conn_init(lvsp_conn_t *c, sc_app_t *app, lvsp_link_t *link, const lvsp_io_t *io,
                    void *io_ctx) {
  if (link != &c->own_link) memset(c, 0, sizeof *c);
  c->app = app;
  c->link = link;
  c->io = io;
  c->io_ctx = io_ctx;
  link->n_connections++;
}

/* === Bursts ============================================================= */

static void burst_end(lvsp_conn_t *c) {
  if (!c->burst.fn) return;
  if (c->burst.free_state) c->burst.free_state(c->burst.state);
  int held = c->burst.held;
  memset(&c->burst, 0, sizeof c->burst);
  if (held && c->io->hold && !c->closed) c->io->hold(c->io_ctx, 0);
}

static int has_room(const lvsp_conn_t *c) {
  return !c->io->queued || c->io->queued(c->io_ctx) < LVSP_BURST_HIGH_WATER;
}

/* Runs the producer while there is room. The state is freed only here and
 * in lvsp_conn_gone, never while the producer runs (it may close c). */
static int pump(lvsp_conn_t *c) {
  while (c->burst.fn && !c->closed && has_room(c)) {
    int rc = c->burst.fn(c, c->burst.state);
    if (rc != 0) {
      burst_end(c);
      return rc < 0 ? rc : 0;
    }
  }
  if (c->closed) {
    burst_end(c);
    return -EPIPE;
  }
  return 0;
}

int lvsp_conn_burst(lvsp_conn_t *c, lvsp_burst_fn fn, void *state, void (*free_state)(void *),
                    int hold) {
  if (c->burst.fn || c->closed) {
    if (free_state) free_state(state);
    return c->closed ? -EPIPE : lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "internal error", -EBUSY);
  }
  c->burst.fn = fn;
  c->burst.state = state;
  c->burst.free_state = free_state;
  c->burst.held = hold && c->io->hold;
  if (c->burst.held) c->io->hold(c->io_ctx, 1);
  return pump(c);
}

int lvsp_conn_drained(lvsp_conn_t *c) {
  return c->burst.fn ? pump(c) : 0;
}

/* === Closing ============================================================ */

static void link_lost(lvsp_conn_t *c) {
  if (c->link->active != c) return;
  c->link->active = NULL;
  c->link->down_since_ms = lvsp_link_now_ms();
}

void lvsp_conn_close(lvsp_conn_t *c, int code, const char *reason) {
  if (c->closed) return;
  /* The transport must read again to see the peer's close answer. */
  if (c->burst.held && c->io->hold) c->io->hold(c->io_ctx, 0);
  c->burst.held = 0;
  c->closed = 1;
  link_lost(c);
  c->io->close(c->io_ctx, code, reason);
}

void lvsp_conn_gone(lvsp_conn_t *c) {
  c->closed = 1;
  burst_end(c);
  link_lost(c);
}

int lvsp_conn_fail(lvsp_conn_t *c, int code, const char *reason, int err) {
  sc_log_warn(LVSP_LOG, "closing Litecord link with %d: %s", code, reason);
  lvsp_conn_close(c, code, reason);
  return err;
}

int lvsp_conn_bad_field(lvsp_conn_t *c, const char *field) {
  char reason[64];
  snprintf(reason, sizeof reason, "invalid or missing field: %s", field);
  return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, reason, -EPROTO);
}

/* === Output ============================================================= */

int lvsp_conn_send_raw(lvsp_conn_t *c, const char *text, size_t len) {
  if (c->closed) return -EPIPE;
  int rc = c->io->send_text(c->io_ctx, text, len);
  return rc < 0 ? lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "send queue full", rc) : 0;
}

int lvsp_conn_send_frame(lvsp_conn_t *c, int op, json_t *d, int replayable) {
  if (c->closed) {
    json_decref(d);
    return -EPIPE;
  }
  uint64_t s = lvsp_link_next_seq(c->link);
  json_t *msg = d ? json_pack("{s:i,s:o,s:I}", "op", op, "d", d, "s", (json_int_t)s) : NULL;
  char *text = msg ? json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
  json_decref(msg);
  if (!text) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  size_t len = strlen(text);
  if (replayable && lvsp_link_store(c->link, s, text, len) < 0)
    sc_log_warn(LVSP_LOG, "frame s=%llu not kept for replay (out of memory)",
                (unsigned long long)s);
  int rc = lvsp_conn_send_raw(c, text, len);
  free(text);
  return rc;
}
