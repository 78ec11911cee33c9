#include "dv_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

void dv_conn_init(dv_conn_t *c, int version, const dv_io_t *io, void *io_ctx) {
  memset(c, 0, sizeof *c);
  c->version = version;
  c->io = io;
  c->io_ctx = io_ctx;
}

int dv_conn_send_text(dv_conn_t *c, const char *text, size_t len) {
  if (c->closing) return -EPIPE;
  if (c->io->send_text(c->io_ctx, text, len) < 0) {
    /* The transport drops a socket whose peer does not read; a session
     * on it may resume with what it missed. */
    sc_log_warn("gateway", "outbound queue full; dropping the socket");
    c->closing = 1;
    return -ENOBUFS;
  }
  return 0;
}

int dv_conn_send_binary(dv_conn_t *c, const uint8_t *buf, size_t len) {
  if (c->closing) return -EPIPE;
  if (c->io->send_binary(c->io_ctx, buf, len) < 0) {
    sc_log_warn("gateway", "outbound queue full; dropping the socket");
    c->closing = 1;
    return -ENOBUFS;
  }
  return 0;
}

void dv_conn_send_op(dv_conn_t *c, int op, json_t *d) {
  json_t *msg = json_pack("{s:i, s:o}", "op", op, "d", d ? d : json_null());
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (text) dv_conn_send_text(c, text, strlen(text));
  free(text);
}

void dv_conn_close(dv_conn_t *c, int code, const char *reason) {
  if (c->closing) return;
  if (c->who[0])
    sc_log_info_ids("gateway", &(sc_log_ids_t){.user = c->who}, "closing with %d: %s", code,
                    reason);
  else
    sc_log_info("gateway", "closing an unidentified socket with %d: %s", code, reason);
  c->closing = 1;
  if (c->counts) {
    int i = code - DV_CLOSE_BASE;
    c->counts->closes[i >= 0 && i < DV_CLOSE_SLOTS - 1 ? i : DV_CLOSE_SLOTS - 1]++;
  }
  c->io->close(c->io_ctx, code, reason);
}

int64_t dv_conn_rtt_us(const dv_conn_t *c) {
  return c->io && c->io->rtt_us ? c->io->rtt_us(c->io_ctx) : 0;
}

int dv_conn_admit(dv_conn_t *c, const dv_limits_t *l, size_t len, uint64_t now_ms,
                  const char **why) {
  if (c->closing) return -1;
  if (len > l->max_message) {
    *why = "message too large";
    return DV_CLOSE_BAD_REQUEST;
  }
  if (dv_rate_take(&c->rate, l->rate_limit, l->rate_window_ms, now_ms)) {
    *why = "rate limited";
    return DV_CLOSE_RATE_LIMITED;
  }
  return 0;
}
