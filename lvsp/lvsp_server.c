#include "lvsp_server.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "lvsp_proto.h"
#include "sc_log.h"
#include "sc_server.h"
#include "sc_wsq.h"

#define LOG "lvsp"

/* One Litecord connection: lws's per-session data (zeroed by lws, freed
 * by lws after LWS_CALLBACK_CLOSED). */
typedef struct lvsp_session lvsp_session_t;
struct lvsp_session {
  lvsp_conn_t conn;
  sc_wsq_t q;
  char *rx;      /* reassembly of a fragmented message, LVSP_MAX_FRAME bytes */
  size_t rx_len;
  int linked;    /* on the vhost's session list */
  lvsp_session_t *next, *prev;
};

/* Per-vhost storage (lws frees it when the vhost goes). */
typedef struct {
  lvsp_session_t *head;
  size_t count;
  int stopping; /* stop() ran: the registry is about to go away */
} lvsp_vhost_t;

static int lvsp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len);

static const struct lws_protocols lvsp_protocols[] = {
    /* rx_buffer_size = the frame limit, so a frame within the limit
     * normally arrives in one RECEIVE; larger ones are reassembled until
     * they exceed it. */
    {"lvsp", lvsp_callback, sizeof(lvsp_session_t), LVSP_MAX_FRAME, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* === lvsp_io_t over sc_wsq ============================================== */

static int io_send(void *ctx, const char *data, size_t len) {
  lvsp_session_t *s = ctx;
  return sc_wsq_push_text(&s->q, data, len);
}

static void io_close(void *ctx, int code, const char *reason) {
  lvsp_session_t *s = ctx;
  sc_wsq_close(&s->q, code, reason);
}

static const lvsp_io_t lvsp_lws_io = {io_send, io_close};

/* === Session list ======================================================= */

static lvsp_vhost_t *vhost_state(struct lws *wsi) {
  return lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
}

static void session_link(lvsp_vhost_t *vh, lvsp_session_t *s) {
  s->prev = NULL;
  s->next = vh->head;
  if (vh->head) vh->head->prev = s;
  vh->head = s;
  vh->count++;
  s->linked = 1;
}

static void session_unlink(lvsp_vhost_t *vh, lvsp_session_t *s) {
  if (!s->linked) return;
  if (s->prev) s->prev->next = s->next;
  else vh->head = s->next;
  if (s->next) s->next->prev = s->prev;
  vh->count--;
  s->linked = 0;
}

/* === Callbacks ========================================================== */

static int on_protocol_init(struct lws *wsi) {
  void *p = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi),
                                        sizeof(lvsp_vhost_t));
  return p ? 0 : -1;
}

static int on_established(struct lws *wsi, lvsp_session_t *s) {
  char peer[64] = "?";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  sc_wsq_init(&s->q, wsi, 0);
  lvsp_vhost_t *vh = vhost_state(wsi);
  if (vh) session_link(vh, s);
  sc_log_info(LOG, "Litecord connected from %s", peer);
  /* On failure a close is already queued; the writeable callback ends it. */
  if (lvsp_conn_open(&s->conn, sc_server_app(wsi), &lvsp_lws_io, s) == 0 && vh && vh->stopping)
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "server shutting down");
  return 0;
}

/* Appends a fragment; returns 1 when a complete message is in s->rx, 0
 * while more is to come, -1 after closing (too large, out of memory). */
static int reassemble(struct lws *wsi, lvsp_session_t *s, const char *in, size_t len) {
  if (s->rx_len + len > LVSP_MAX_FRAME) {
    sc_log_warn(LOG, "closing Litecord link with 4000: message over %d bytes", LVSP_MAX_FRAME);
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "message too large");
    return -1;
  }
  if (!s->rx && !(s->rx = malloc(LVSP_MAX_FRAME))) {
    sc_log_error(LOG, "closing Litecord link with 4000: out of memory");
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "out of memory");
    return -1;
  }
  memcpy(s->rx + s->rx_len, in, len);
  s->rx_len += len;
  return lws_is_final_fragment(wsi) ? 1 : 0;
}

static void on_receive(struct lws *wsi, lvsp_session_t *s, const char *in, size_t len) {
  /* After a close only the queue drains; late input is dropped. */
  if (s->conn.closed) return;
  if (!s->rx_len && lws_is_final_fragment(wsi)) {
    lvsp_handle_text(&s->conn, in, len); /* whole message: no copy */
    return;
  }
  int r = reassemble(wsi, s, in, len);
  if (r == 1) lvsp_handle_text(&s->conn, s->rx, s->rx_len);
  if (r != 0) {
    free(s->rx);
    s->rx = NULL;
    s->rx_len = 0;
  }
}

static void on_closed(struct lws *wsi, lvsp_session_t *s) {
  lvsp_vhost_t *vh = vhost_state(wsi);
  if (vh) session_unlink(vh, s);
  sc_wsq_clear(&s->q);
  free(s->rx);
  s->rx = NULL;
  sc_log_info(LOG, "Litecord disconnected");
}

static int lvsp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len) {
  lvsp_session_t *s = user;
  switch (reason) {
  case LWS_CALLBACK_PROTOCOL_INIT: return on_protocol_init(wsi);
  case LWS_CALLBACK_ESTABLISHED: return on_established(wsi, s);
  case LWS_CALLBACK_RECEIVE: on_receive(wsi, s, in, len); return 0;
  case LWS_CALLBACK_SERVER_WRITEABLE: return sc_wsq_on_writeable(&s->q);
  case LWS_CALLBACK_CLOSED: on_closed(wsi, s); return 0;
  default: return 0;
  }
}

/* === Front end ========================================================== */

static int lvsp_start(sc_app_t *app, int slot) {
  if (!app->cfg.lvsp_secret[0]) {
    sc_log_error(LOG, "no LVSP secret configured: refusing to start");
    return -1;
  }
  struct lws_vhost *vh =
      sc_server_add_listener(app, "lvsp", &app->cfg.lvsp_listen, lvsp_protocols);
  if (!vh) return -1;
  app->frontend_state[slot] = vh;
  return 0;
}

/* 4000 tells Litecord to reconnect, which is what a restart wants. The
 * closes are queued and go out while the core drains the loop; the
 * registry is destroyed meanwhile, so connections accepted from now on
 * are closed right after HELLO and never reach a handler that uses it. */
static void lvsp_stop(sc_app_t *app, int slot) {
  struct lws_vhost *vhost = app->frontend_state[slot];
  lvsp_vhost_t *vh = vhost ? lws_protocol_vh_priv_get(vhost, &lvsp_protocols[0]) : NULL;
  if (!vh) return;
  vh->stopping = 1;
  for (lvsp_session_t *s = vh->head; s; s = s->next)
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "server shutting down");
}

/* The vhost (and its per-vhost storage) went with the lws context. */
static void lvsp_destroy(sc_app_t *app, int slot) { app->frontend_state[slot] = NULL; }

const sc_frontend_t lvsp_frontend = {
    .name = "lvsp",
    .order = 10,
    .datagram_fn = NULL,
    .start = lvsp_start,
    .stop = lvsp_stop,
    .destroy = lvsp_destroy,
};
SC_FRONTEND_REGISTER(lvsp_frontend);
