/*
 * vx_conn: see vx_conn.h.
 */
#include "vx_conn.h"

#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

static const int close_codes[VX_CLOSE_KINDS] = {
    VX_CLOSE_GOING_AWAY,   VX_CLOSE_WRONG_STATE, VX_CLOSE_UNPARSABLE,
    VX_CLOSE_RATE_LIMITED, VX_CLOSE_TOO_BIG,     VX_CLOSE_SERVER_ERROR,
    VX_CLOSE_BAD_TOKEN,    VX_CLOSE_KICKED,      VX_CLOSE_ROOM_CLOSED,
};

int vx_conn_close_index(int code) {
  for (int i = 0; i < VX_CLOSE_KINDS; i++)
    if (close_codes[i] == code) return i;
  return VX_CLOSE_KINDS;
}

int vx_conn_close_code(int index) {
  return index >= 0 && index < VX_CLOSE_KINDS ? close_codes[index] : 0;
}

const char *vx_conn_err_name(vx_err_t e) {
  static const char *const names[VX_ERR_COUNT] = {
      "UserNotFound",    "TransportConnectionFailure", "ProducerFailure", "ProducerNotFound",
      "ConsumerFailure", "ConsumerNotFound",
  };
  return (unsigned)e < VX_ERR_COUNT ? names[e] : "?";
}

void vx_conn_init(vx_conn_t *c, const vx_io_t *io, void *io_ctx, vx_counts_t *counts) {
  memset(c, 0, sizeof *c);
  c->io = io;
  c->io_ctx = io_ctx;
  c->counts = counts;
}

/* Sends msg (stolen) as one text frame. A full queue drops the socket
 * (the transport's business); from then on nothing more is sent. */
static void send_json(vx_conn_t *c, json_t *msg) {
  if (!msg) return;
  if (c->closing) {
    json_decref(msg);
    return;
  }
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!text) return;
  if (c->io->send_text(c->io_ctx, text, strlen(text)) < 0) c->closing = 1;
  free(text);
}

void vx_conn_reply(vx_conn_t *c, int64_t id, vx_req_type_t type, json_t *data) {
  json_t *m = json_pack("{s:I, s:s}", "id", (json_int_t)id, "type", vx_msg_type_name(type));
  if (m && data)
    json_object_set_new(m, "data", data);
  else
    json_decref(data);
  send_json(c, m);
}

void vx_conn_error(vx_conn_t *c, int64_t id, vx_req_type_t type, vx_err_t err,
                   const char *message) {
  if (c->counts) c->counts->errors[err]++;
  sc_log_debug("vortex", "user %s: %s -> %s: %s", c->who[0] ? c->who : "-", vx_msg_type_name(type),
               vx_conn_err_name(err), message);
  send_json(c,
            json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "type", vx_msg_type_name(type),
                      "error", vx_conn_err_name(err), "message", message));
}

void vx_conn_event(vx_conn_t *c, const char *type, json_t *data) {
  json_t *m = json_pack("{s:s}", "type", type);
  if (m && data)
    json_object_set_new(m, "data", data);
  else
    json_decref(data);
  send_json(c, m);
}

void vx_conn_close(vx_conn_t *c, int code, const char *reason) {
  if (c->closing) return;
  c->closing = 1;
  if (c->counts) c->counts->closes[vx_conn_close_index(code)]++;
  sc_log_info("vortex", "user %s: close %d (%s)", c->who[0] ? c->who : "-", code, reason);
  c->io->close(c->io_ctx, code, reason);
}

int vx_conn_admit(vx_conn_t *c, size_t len, size_t max_len, uint32_t rate, uint32_t window_ms,
                  uint64_t now_ms, const char **why) {
  if (c->closing) return -1;
  if (len > max_len) {
    *why = "message too big";
    return VX_CLOSE_TOO_BIG;
  }
  if (now_ms - c->window_start_ms >= window_ms) {
    c->window_start_ms = now_ms;
    c->in_window = 0;
  }
  if (++c->in_window > rate) {
    *why = "rate limited";
    return VX_CLOSE_RATE_LIMITED;
  }
  return 0;
}
