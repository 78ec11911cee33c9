#include "ion_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

void ion_conn_init(ion_conn_t *c, const ion_io_t *io, void *io_ctx, ion_counts_t *counts) {
  memset(c, 0, sizeof *c);
  c->io = io;
  c->io_ctx = io_ctx;
  c->counts = counts;
  counts->opened++;
}

int ion_conn_admit(ion_conn_t *c, const ion_limits_t *l, size_t len, uint64_t now_ms) {
  if (c->closing) return -1;
  if (len > l->max_message) {
    c->counts->too_large++;
    ion_conn_close(c, ION_CLOSE_FOR_GOOD, "message too large");
    return -1;
  }
  /* A fixed window: a client may send rate_limit messages per window. */
  if (now_ms - c->window_start_ms >= l->rate_window_ms) {
    c->window_start_ms = now_ms;
    c->window_count = 0;
  }
  if (++c->window_count > l->rate_limit) {
    c->counts->rate_limited++;
    ion_conn_close(c, ION_CLOSE_FOR_GOOD, "rate limited");
    return -1;
  }
  return 0;
}

static void send_json(ion_conn_t *c, json_t *msg) {
  char *text = msg && !c->closing ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (!text) return;
  if (c->io->send_text(c->io_ctx, text, strlen(text)) < 0) {
    /* The transport drops a socket whose peer does not read. */
    sc_log_warn("ion", "outbound queue of %s full; dropping the socket",
                c->who[0] ? c->who : "a client");
    c->counts->send_queue_full++;
    c->closing = 1;
  }
  free(text);
}

void ion_conn_reply(ion_conn_t *c, int64_t id, json_t *data) {
  send_json(c, json_pack("{s:b, s:I, s:b, s:o}", "response", 1, "id", (json_int_t)id, "ok", 1,
                         "data", data ? data : json_object()));
}

void ion_conn_reply_error(ion_conn_t *c, int64_t id, int code, const char *reason) {
  c->counts->errors_sent++;
  send_json(c, json_pack("{s:b, s:I, s:b, s:i, s:s}", "response", 1, "id", (json_int_t)id, "ok", 0,
                         "errorCode", code, "errorReason", reason));
}

void ion_conn_notify(ion_conn_t *c, const char *method, json_t *data) {
  if (c->closing) {
    json_decref(data);
    return;
  }
  c->counts->notifications_sent++;
  send_json(c, json_pack("{s:b, s:s, s:o}", "notification", 1, "method", method, "data",
                         data ? data : json_object()));
}

void ion_conn_close(ion_conn_t *c, int code, const char *reason) {
  if (c->closing) return;
  if (c->who[0])
    sc_log_info_ids("ion", &(sc_log_ids_t){.user = c->who}, "closing with %d: %s", code, reason);
  else
    sc_log_info("ion", "closing a socket with %d: %s", code, reason);
  c->closing = 1;
  c->counts->closed_by_us++;
  c->io->close(c->io_ctx, code, reason);
}
