#include "gl_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"

static const char *const refuse_names[GL_REFUSE_COUNT] = {
    "before_handshake", "bad_version", "malformed", "unknown_type", "unsupported",
    "before_join",      "auth",        "not_ours",  "spoof",        "bad_sdp",
    "no_permission",    "limit",       "too_big",   "rate",
};

const char *gl_conn_refuse_name(int why) {
  return why >= 0 && why < GL_REFUSE_COUNT ? refuse_names[why] : "unknown";
}

void gl_conn_init(gl_conn_t *c, sc_app_t *app, const gl_io_t *io, void *io_ctx,
                  gl_counts_t *counts) {
  memset(c, 0, sizeof *c);
  c->app = app;
  c->io = io;
  c->io_ctx = io_ctx;
  c->counts = counts;
}

int gl_conn_send(gl_conn_t *c, json_t *msg) {
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (!text) return -ENOMEM;
  int rc = -EPIPE;
  if (!c->closing) {
    rc = c->io->send_text(c->io_ctx, text, strlen(text));
    if (rc < 0) {
      sc_log_warn("galene", "outbound queue full; dropping the socket");
      c->closing = 1;
    }
  }
  free(text);
  return rc;
}

void gl_conn_refuse(gl_conn_t *c, int why, const char *text) {
  if (why >= 0 && why < GL_REFUSE_COUNT) c->counts->refused[why]++;
  sc_log_info("galene", "refused (%s): %s", gl_conn_refuse_name(why), text);
  gl_conn_send(c,
               json_pack("{s:s, s:s, s:s}", "type", "usermessage", "kind", "error", "value", text));
}

void gl_conn_close(gl_conn_t *c, int code, const char *reason, int why) {
  if (c->closing) return;
  if (why >= 0 && why < GL_REFUSE_COUNT) c->counts->refused[why]++;
  sc_log_info("galene", "closing a socket with %d: %s", code, reason);
  c->closing = 1;
  c->io->close(c->io_ctx, code, reason);
}

int gl_conn_admit(gl_conn_t *c, size_t len, uint32_t max_message, uint32_t rate_limit,
                  uint32_t window_ms, uint64_t now_ms) {
  if (c->closing) return -1;
  if (len > max_message) {
    gl_conn_close(c, GL_CLOSE_TOO_BIG, "message too large", GL_REFUSE_TOO_BIG);
    return -1;
  }
  if (now_ms - c->rate.window_start_ms >= window_ms) {
    c->rate.window_start_ms = now_ms;
    c->rate.used = 0;
  }
  if (++c->rate.used > rate_limit) {
    gl_conn_close(c, GL_CLOSE_POLICY, "rate limited", GL_REFUSE_RATE);
    return -1;
  }
  return 0;
}
