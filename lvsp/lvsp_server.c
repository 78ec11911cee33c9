#include "lvsp_server.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "lvsp_link.h"
#include "lvsp_proto.h"
#include "lvsp_settings.h"
#include "sc_load.h"
#include "sc_log.h"
#include "sc_pending.h"
#include "sc_server.h"
#include "sc_wsq.h"

#define SAMPLE_US (2 * LWS_USEC_PER_SEC) /* health sampling period */
/* Unauthenticated LVSP connections held at once (sc_pending.h). */
#define LVSP_PENDING_CAP 4
/* Messages a session's queue may hold: bursts are bounded by bytes
 * (LVSP_BURST_HIGH_WATER, then the queue's 1 MiB), so this only needs to
 * exceed what that many bytes of the smallest frames make. */
#define QUEUE_MAX_COUNT 16384

/* The front end's own state (app->frontend_state[slot]). */
typedef struct {
  struct lws_vhost *vhost;
  sc_app_t *app;
  lvsp_link_t link;
  lws_sorted_usec_list_t sampler; /* the health sampling timer */
} lvsp_front_t;

/* One Litecord connection: lws's per-session data (zeroed by lws, freed
 * by lws after LWS_CALLBACK_CLOSED). */
typedef struct lvsp_session lvsp_session_t;
struct lvsp_session {
  lvsp_conn_t conn;
  sc_wsq_t q;
  char *rx; /* reassembly of a fragmented message, LVSP_MAX_FRAME bytes */
  size_t rx_len;
  int linked; /* on the vhost's session list */
  lvsp_session_t *next, *prev;
};

/* Per-vhost storage (lws frees it when the vhost goes). */
typedef struct {
  lvsp_session_t *head;
  size_t count;
  sc_pending_t pending; /* accepted, not authenticated yet (from WSI_CREATE) */
  int stopping;         /* stop() ran: the registry is about to go away */
  lvsp_front_t *front;  /* set by start() right after the vhost exists */
} lvsp_vhost_t;

static int lvsp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len);

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

static size_t io_queued(void *ctx) {
  return ((lvsp_session_t *)ctx)->q.bytes;
}

/* lws stops reading the socket (what it already read waits in its own
 * buffer) and delivers the rest in order once allowed again. */
static void io_hold(void *ctx, int on) {
  lws_rx_flow_control(((lvsp_session_t *)ctx)->q.wsi, !on);
}

static const lvsp_io_t lvsp_lws_io = {io_send, io_close, io_queued, io_hold};

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
  if (s->prev)
    s->prev->next = s->next;
  else
    vh->head = s->next;
  if (s->next) s->next->prev = s->prev;
  vh->count--;
  s->linked = 0;
}

/* === Callbacks ========================================================== */

/* The vhost's storage, allocated on first use: start() needs it before
 * lws runs PROTOCOL_INIT (which happens once the loop is serviced). */
static lvsp_vhost_t *vhost_priv(struct lws_vhost *vhost) {
  const struct lws_protocols *p = &lvsp_protocols[0];
  lvsp_vhost_t *vh = lws_protocol_vh_priv_get(vhost, p);
  if (vh) return vh;
  vh = lws_protocol_vh_priv_zalloc(vhost, p, sizeof(lvsp_vhost_t));
  if (vh) sc_pending_init(&vh->pending, LVSP_PENDING_CAP);
  return vh;
}

static int on_protocol_init(struct lws *wsi) {
  return vhost_priv(lws_get_vhost(wsi)) ? 0 : -1;
}

static int64_t mono_ms(void) {
  return (int64_t)(lws_now_usecs() / 1000);
}

/* Authenticated: IDENTIFY or RESUME accepted. */
static int authenticated(const lvsp_session_t *s) {
  return s->conn.since_ms != 0;
}

/* Re-arms the silence timer (if configured) of an authenticated link;
 * before that, the timer is the authentication deadline, which input
 * does not move. */
static void arm_timeout(struct lws *wsi, const lvsp_session_t *s) {
  if (!authenticated(s)) return;
  uint32_t ms = lvsp_settings(sc_server_app(wsi))->lvsp_heartbeat_timeout_ms;
  /* Without a silence timeout the authentication deadline may still fire
   * once; on_timer ignores it (lws 4.1 fires a timer set to
   * LWS_SET_TIMER_USEC_CANCEL at once instead of cancelling it). */
  if (ms) lws_set_timer_usecs(wsi, (lws_usec_t)ms * 1000);
}

static void log_pending(lvsp_vhost_t *vh, lvsp_link_t *link) {
  int64_t now = mono_ms();
  if (!sc_pending_log_due(&vh->pending, now)) return;
  sc_log_warn(LVSP_LOG,
              "closed %llu LVSP connection(s) that did not authenticate (%llu timed out after "
              "%d ms, %llu evicted over %zu at once, in total)",
              (unsigned long long)vh->pending.unlogged, (unsigned long long)link->n_auth_timeouts,
              SC_PENDING_TIMEOUT_MS, (unsigned long long)link->n_evicted, vh->pending.cap);
  sc_pending_logged(&vh->pending, now);
}

/* Every accepted connection is pending until it authenticates; over the
 * cap, the oldest pending one is dropped at once, without a close frame
 * (sc_pending.h says why the oldest; no close handshake, so its fd is
 * free before the next accept). */
static void on_accepted(struct lws *wsi) {
  lvsp_vhost_t *vh = lws_protocol_vh_priv_get(lws_get_vhost(wsi), &lvsp_protocols[0]);
  if (!vh || !vh->front) return;
  struct lws *old =
      sc_pending_add(&vh->pending, wsi, sc_pending_src(lws_get_socket_fd(wsi)), mono_ms());
  if (!old) return;
  vh->front->link.n_evicted++;
  lws_set_timeout(old, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  log_pending(vh, &vh->front->link);
}

static void on_wsi_destroy(struct lws *wsi) {
  lvsp_vhost_t *vh = lws_protocol_vh_priv_get(lws_get_vhost(wsi), &lvsp_protocols[0]);
  if (vh) sc_pending_remove(&vh->pending, wsi);
}

/* The authentication deadline: SC_PENDING_TIMEOUT_MS from accept. */
static void arm_auth_deadline(struct lws *wsi, lvsp_vhost_t *vh) {
  int64_t since = sc_pending_since(&vh->pending, wsi);
  int64_t left = since < 0 ? SC_PENDING_TIMEOUT_MS : since + SC_PENDING_TIMEOUT_MS - mono_ms();
  lws_set_timer_usecs(wsi, (lws_usec_t)(left > 1 ? left : 1) * 1000);
}

static int on_established(struct lws *wsi, lvsp_session_t *s) {
  char peer[64] = "?";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  sc_wsq_init(&s->q, wsi, QUEUE_MAX_COUNT);
  lvsp_vhost_t *vh = vhost_state(wsi);
  if (!vh || !vh->front) return -1;
  session_link(vh, s);
  sc_log_info(LVSP_LOG, "Litecord connected from %s", peer);
  arm_auth_deadline(wsi, vh);
  /* On failure a close is already queued; the writeable callback ends it. */
  int rc = lvsp_proto_open_on(&s->conn, sc_server_app(wsi), &vh->front->link, &lvsp_lws_io, s);
  snprintf(s->conn.peer, sizeof s->conn.peer, "%s", peer);
  if (rc == 0 && vh->stopping)
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "server shutting down");
  return 0;
}

/* Appends a fragment; returns 1 when a complete message is in s->rx, 0
 * while more is to come, -1 after closing (too large, out of memory). */
static int reassemble(struct lws *wsi, lvsp_session_t *s, const char *in, size_t len) {
  if (s->rx_len + len > LVSP_MAX_FRAME) {
    sc_log_warn(LVSP_LOG, "closing Litecord link with 4000: message over %d bytes", LVSP_MAX_FRAME);
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "message too large");
    return -1;
  }
  if (!s->rx && !(s->rx = malloc(LVSP_MAX_FRAME))) {
    sc_log_error(LVSP_LOG, "closing Litecord link with 4000: out of memory");
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
  arm_timeout(wsi, s);
  int was = authenticated(s);
  if (!s->rx_len && lws_is_final_fragment(wsi)) {
    lvsp_handle_text(&s->conn, in, len); /* whole message: no copy */
  } else {
    int r = reassemble(wsi, s, in, len);
    if (r == 1) lvsp_handle_text(&s->conn, s->rx, s->rx_len);
    if (r != 0) {
      free(s->rx);
      s->rx = NULL;
      s->rx_len = 0;
    }
  }
  if (was || !authenticated(s)) return;
  /* Just authenticated: no longer pending; the silence timer takes over. */
  lvsp_vhost_t *vh = vhost_state(wsi);
  if (vh) sc_pending_remove(&vh->pending, wsi);
  arm_timeout(wsi, s);
}

/* Writes what is queued, then lets a running burst (snapshot, replay)
 * add more now that there is room. */
static int on_writeable(lvsp_session_t *s) {
  if (sc_wsq_on_writeable(&s->q) < 0) return -1;
  lvsp_conn_drained(&s->conn);
  return 0;
}

static void on_timer(struct lws *wsi, lvsp_session_t *s) {
  if (s->conn.closed) return;
  if (!authenticated(s)) {
    lvsp_vhost_t *vh = vhost_state(wsi);
    if (vh) {
      sc_pending_timed_out(&vh->pending);
      s->conn.link->n_auth_timeouts++;
      log_pending(vh, s->conn.link);
    }
    lvsp_conn_close(&s->conn, LVSP_CLOSE_AUTH, "authentication timeout");
    /* A peer that does not read must not keep the fd for the close
     * handshake either. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 2);
    return;
  }
  if (!lvsp_settings(sc_server_app(wsi))->lvsp_heartbeat_timeout_ms) return; /* the old deadline */
  sc_log_warn(LVSP_LOG, "no message from Litecord within --lvsp-heartbeat-timeout-ms");
  lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "heartbeat timeout");
}

static void on_closed(struct lws *wsi, lvsp_session_t *s) {
  lvsp_vhost_t *vh = vhost_state(wsi);
  if (vh) session_unlink(vh, s);
  if (s->conn.link) lvsp_conn_gone(&s->conn);
  sc_wsq_clear(&s->q);
  free(s->rx);
  s->rx = NULL;
  sc_log_info(LVSP_LOG, "Litecord disconnected");
}

static int lvsp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  lvsp_session_t *s = user;
  switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT: return on_protocol_init(wsi);
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CONTROL);
    case LWS_CALLBACK_ESTABLISHED: return on_established(wsi, s);
    case LWS_CALLBACK_RECEIVE: on_receive(wsi, s, in, len); return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return on_writeable(s);
    case LWS_CALLBACK_TIMER: on_timer(wsi, s); return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: on_accepted(wsi); return 0;
    case LWS_CALLBACK_WSI_DESTROY: on_wsi_destroy(wsi); return 0;
    case LWS_CALLBACK_CLOSED: on_closed(wsi, s); return 0;
    case LWS_CALLBACK_HTTP: return sc_server_refuse_http(wsi);
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
      sc_server_tls_ctx_setup(user);
      return 0;
    default: return 0;
  }
}

/* === Front end ========================================================== */

static void sample_load(lws_sorted_usec_list_t *sul) {
  lvsp_front_t *f = lws_container_of(sul, lvsp_front_t, sampler);
  sc_load_sample(&f->link.load, f->app->media, f->app->cfg.media_workers);
  lws_sul_schedule(f->app->lws, 0, &f->sampler, sample_load, SAMPLE_US);
}

static int lvsp_start(sc_app_t *app, int slot) {
  lvsp_settings_t *set = lvsp_settings(app);
  if (lvsp_settings_load_secret(set, app->cfg.state_dir) < 0) return -1;
  lvsp_front_t *f = calloc(1, sizeof *f);
  if (!f || lvsp_link_init(&f->link, set->lvsp_replay) < 0) {
    free(f);
    sc_log_error(LVSP_LOG, "out of memory for the LVSP replay buffer");
    return -1;
  }
  f->app = app;
  app->frontend_state[slot] = f;
  /* lws's validity ping stays on here: --lvsp-heartbeat-timeout-ms is off
   * by default, and the one link costs nothing to track. */
  f->vhost =
      sc_server_add_listener(app, "lvsp", &set->lvsp_listen, lvsp_protocols, SC_LISTENER_CONTROL);
  if (!f->vhost) return -1; /* destroy() frees f */
  lvsp_vhost_t *vh = vhost_priv(f->vhost);
  if (!vh) return -1;
  vh->front = f;
  sample_load(&f->sampler);
  return 0;
}

/* 4000 tells Litecord to reconnect, which is what a restart wants. The
 * closes are queued and go out while the core drains the loop; the
 * registry is destroyed meanwhile, so connections accepted from now on
 * are closed right after HELLO and never reach a handler that uses it. */
static void lvsp_stop(sc_app_t *app, int slot) {
  lvsp_front_t *f = app->frontend_state[slot];
  if (!f) return;
  lws_sul_cancel(&f->sampler);
  lvsp_vhost_t *vh = f->vhost ? lws_protocol_vh_priv_get(f->vhost, &lvsp_protocols[0]) : NULL;
  if (!vh) return;
  vh->stopping = 1;
  for (lvsp_session_t *s = vh->head; s; s = s->next)
    lvsp_conn_close(&s->conn, LVSP_CLOSE_GENERAL, "server shutting down");
}

/* The vhost (and its per-vhost storage) went with the lws context. */
static void lvsp_destroy(sc_app_t *app, int slot) {
  lvsp_front_t *f = app->frontend_state[slot];
  if (f) lvsp_link_free(&f->link);
  free(f);
  app->frontend_state[slot] = NULL;
}

static json_t *lvsp_status(sc_app_t *app, int slot) {
  lvsp_front_t *f = app->frontend_state[slot];
  return f ? lvsp_status_json(&f->link, app) : NULL;
}

static void lvsp_metrics_hook(sc_app_t *app, int slot, sc_metrics_t *out) {
  lvsp_front_t *f = app->frontend_state[slot];
  if (f) lvsp_metrics(&f->link, app, out);
}

const sc_frontend_t lvsp_frontend = {
    .name = "lvsp",
    .order = 10,
    .datagram_fn = NULL,
    .start = lvsp_start,
    .stop = lvsp_stop,
    .destroy = lvsp_destroy,
    .status = lvsp_status,
    .metrics = lvsp_metrics_hook,
    .settings = &lvsp_settings_table,
    .banner = lvsp_settings_banner,
};
SC_FRONTEND_REGISTER(lvsp_frontend);
