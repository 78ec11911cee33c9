#include "dv_session.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_media.h"

static void on_grace_expired(dv_timer_t *t);
static void session_free(dv_session_t *s);

/* ---- lifetime ------------------------------------------------------------ */

void dv_sessions_init(dv_sessions_t *t, sc_app_t *app, const dv_limits_t *lim,
                      dv_timers_t *timers) {
  memset(t, 0, sizeof *t);
  t->app = app;
  t->lim = lim;
  t->timers = timers;
  sc_hmap_init(&t->by_id);
}

void dv_sessions_free(dv_sessions_t *t, int code, const char *why) {
  t->stopping = 1; /* nobody is left to re-tell (dv_webrtc_call_leave) */
  for (size_t i = 0; i < t->by_id.cap; i++) {
    sc_hmap_slot_t *slot = &t->by_id.slots[i];
    /* Ending a session deletes its slot (deletion never moves slots). */
    if (slot->value) dv_session_end(slot->value, code, why);
  }
  sc_hmap_free(&t->by_id);
}

dv_session_t *dv_session_create(dv_sessions_t *t, sc_vstate_t *vs, int version) {
  dv_session_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (dv_resume_init(&s->out, t->lim->resume_buffer, t->lim->resume_bytes) < 0) {
    free(s);
    return NULL;
  }
  s->gate = dv_e2ee_gate_new();
  if (!s->gate) {
    dv_resume_free(&s->out);
    free(s);
    return NULL;
  }
  s->tab = t;
  s->vs = vs;
  s->version = version;
  snprintf(s->id, sizeof s->id, "%s", vs->session_id);
  dv_timer_init(&s->grace, t->timers, on_grace_expired);
  if (sc_hmap_put(&t->by_id, s->id, s) < 0) {
    dv_e2ee_gate_put(s->gate);
    dv_resume_free(&s->out);
    free(s);
    return NULL;
  }
  if (sc_registry_attach(t->app->registry, vs, &dv_session_attach_ops, s) < 0) {
    session_free(s); /* the caller made sure nobody holds vs: not reached */
    return NULL;
  }
  return s;
}

/* Unindexes and frees; the registry link is the caller's business. */
static void session_free(dv_session_t *s) {
  if (s->tab->on_end) s->tab->on_end(s->tab->on_end_ctx, s);
  dv_e2ee_gate_put(s->gate);
  dv_timer_cancel(&s->grace);
  if (s->conn) s->conn->session = NULL;
  sc_hmap_del(&s->tab->by_id, s->id);
  dv_resume_free(&s->out);
  for (int i = 0; i < DV_ANNOUNCE_COUNT; i++) json_decref(s->announce[i]);
  free(s);
}

void dv_session_end(dv_session_t *s, int code, const char *why) {
  sc_app_t *app = s->tab->app;
  sc_log_info_ids("gateway", SC_VSTATE_IDS(s->vs), "session ends: %s", why);
  if (s->conn && code) dv_conn_close(s->conn, code, why);
  sc_vstate_t *vs = s->vs;
  if (app->registry) sc_registry_detach(app->registry, vs);
  /* Nobody may send or receive under this session's key any more. */
  if (app->media) sc_media_reset(app->media, vs->stats); /* cannot fail */
  if (app->registry) sc_registry_release_ssrcs(app->registry, vs);
  if (app->registry)
    sc_registry_set_transport(app->registry, vs, "", ""); /* keeps its counts in the totals */
  else
    vs->transport[0] = '\0';
  session_free(s);
}

dv_session_t *dv_session_find(dv_sessions_t *t, const char *session_id) {
  return session_id ? sc_hmap_get(&t->by_id, session_id) : NULL;
}

void dv_session_bind(dv_session_t *s, dv_conn_t *c) {
  dv_timer_cancel(&s->grace);
  s->conn = c;
  c->session = s;
  snprintf(c->who, sizeof c->who, "%s", s->vs->user_id);
  s->version = c->version;
}

void dv_session_unbind(dv_session_t *s) {
  if (s->conn) s->conn->session = NULL;
  s->conn = NULL;
  s->unbound_at = s->out.last;
  if (s->tab->stopping || !s->tab->lim->resume_grace_ms) {
    dv_session_end(s, 0, "socket closed");
    return;
  }
  sc_log_info_ids("gateway", SC_VSTATE_IDS(s->vs), "lost its socket; resumable for %u ms",
                  s->tab->lim->resume_grace_ms);
  dv_timer_arm(&s->grace, s->tab->lim->resume_grace_ms);
}

static void on_grace_expired(dv_timer_t *t) {
  dv_session_t *s = (dv_session_t *)((char *)t - offsetof(dv_session_t, grace));
  dv_session_end(s, 0, "not resumed within the grace period");
}

/* ---- sending ------------------------------------------------------------- */

/* The client leaves more than lim.resume_bytes unacknowledged (the oldest
 * were dropped to stay within it): its socket is closed with 4015, which
 * clients answer with a Resume; what was kept is re-sent then. */
static void over_budget(dv_session_t *s) {
  s->tab->stats.resume_over_budget++;
  sc_log_warn_ids("gateway", SC_VSTATE_IDS(s->vs),
                  "leaves over %u bytes unacknowledged: closing its socket to resume",
                  s->tab->lim->resume_bytes);
  dv_conn_close(s->conn, DV_CLOSE_SERVER_CRASH, "too much unacknowledged: resume");
}

static int send_frame(dv_conn_t *c, const void *buf, size_t len, int binary) {
  return binary ? dv_conn_send_binary(c, buf, len) : dv_conn_send_text(c, buf, len);
}

/* Sends a numbered frame on the bound socket and keeps it for resume. */
static void send_and_keep(dv_session_t *s, uint32_t seq, const void *buf, size_t len, int binary) {
  int sent = s->conn && !s->conn->closing && send_frame(s->conn, buf, len, binary) == 0;
  /* v8 clients acknowledge what they got; older ones cannot, so for them
   * only what could not be sent is kept. */
  int kept = 0;
  if (s->version >= 8 || !sent)
    kept = dv_resume_keep_frame(&s->out, seq, buf, len, binary);
  else
    dv_resume_clear(&s->out);
  if (kept == DV_RESUME_OVER && s->conn && !s->conn->closing) over_budget(s);
}

void dv_session_send(dv_session_t *s, int op, json_t *d) {
  uint32_t seq = dv_resume_next(&s->out);
  json_t *msg = json_pack("{s:i, s:o}", "op", op, "d", d ? d : json_null());
  if (msg && s->version >= 8) json_object_set_new(msg, "seq", json_integer(dv_resume_wire(seq)));
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (!text) {
    dv_resume_clear(&s->out); /* a gap: resumes must fail from here on */
    return;
  }
  send_and_keep(s, seq, text, strlen(text), 0);
  free(text);
}

void dv_session_send_binary(dv_session_t *s, int op, const uint8_t *payload, size_t len) {
  uint32_t seq = dv_resume_next(&s->out);
  uint8_t *frame = malloc(len + 3);
  if (!frame) {
    dv_resume_clear(&s->out); /* a gap: resumes must fail from here on */
    return;
  }
  uint16_t wire = dv_resume_wire(seq);
  frame[0] = (uint8_t)(wire >> 8);
  frame[1] = (uint8_t)wire;
  frame[2] = (uint8_t)op;
  if (len) memcpy(frame + 3, payload, len);
  send_and_keep(s, seq, frame, len + 3, 1);
  free(frame);
}

void dv_session_ack(dv_session_t *s, long long ack) {
  dv_resume_ack(&s->out, ack);
}

int dv_session_resume(dv_session_t *s, dv_conn_t *c, int has_ack, long long ack) {
  /* Clients without seq_ack (v<8) saw what was sent while they were here. */
  uint32_t seen = s->conn ? s->out.last : s->unbound_at;
  if (!has_ack) ack = seen ? dv_resume_wire(seen) : -1;
  const dv_resume_msg_t *m;
  if (dv_resume_from(&s->out, ack, &m) < 0) return -ESTALE;
  /* What the client saw is acknowledged: a client that never sends
   * seq_ack in heartbeats does so here. */
  dv_resume_ack(&s->out, ack);
  if (dv_resume_from(&s->out, ack, &m) < 0) return -ESTALE;
  if (s->conn) { /* the old socket is half dead: this one wins */
    dv_conn_close(s->conn, DV_CLOSE_SESSION_INVALID, "session resumed on another socket");
    s->conn->session = NULL;
  }
  dv_session_bind(s, c);
  dv_conn_send_op(c, DV_OP_RESUMED, NULL);
  size_t n = 0;
  for (; m && !c->closing; m = m->next, n++) send_frame(c, m->text, m->len, m->binary);
  if (s->version < 8) dv_resume_clear(&s->out);
  sc_log_info_ids("gateway", SC_VSTATE_IDS(s->vs), "resumed; %zu message(s) re-sent", n);
  return 0;
}

/* ---- the room ------------------------------------------------------------ */

static dv_session_t *peer_session(const sc_vstate_t *peer) {
  return peer->ops == &dv_session_attach_ops ? peer->conn : NULL;
}

static void send_speaking(dv_session_t *s, const sc_vstate_t *peer) {
  dv_session_send(s, DV_OP_SPEAKING,
                  json_pack("{s:s, s:I, s:i}", "user_id", peer->user_id, "ssrc",
                            (json_int_t)peer->ssrc, "speaking", (int)peer->speaking));
}

static void collect_peer(sc_vstate_t *peer, void *arg) {
  json_array_append_new(arg, json_string(peer->user_id));
}

static void greet_with_peer(sc_vstate_t *peer, void *arg) {
  dv_session_t *s = arg, *ps = peer_session(peer);
  send_speaking(s, peer);
  static const int ops[DV_ANNOUNCE_COUNT] = {DV_OP_VIDEO, DV_OP_CLIENT_FLAGS,
                                             DV_OP_CLIENT_PLATFORM};
  for (int k = 0; ps && k < DV_ANNOUNCE_COUNT; k++)
    if (ps->announce[k]) dv_session_send(s, ops[k], json_deep_copy(ps->announce[k]));
}

void dv_session_greet(dv_session_t *s) {
  json_t *ids = json_array();
  sc_registry_each_peer(s->vs->channel, s->vs, collect_peer, ids);
  if (json_array_size(ids))
    dv_session_send(s, DV_OP_CLIENTS_CONNECT, json_pack("{s:o}", "user_ids", ids));
  else
    json_decref(ids);
  sc_registry_each_peer(s->vs->channel, s->vs, greet_with_peer, s);
}

typedef struct {
  int op;
  json_t *d;
} relay_t;

static void relay_to_peer(sc_vstate_t *peer, void *arg) {
  relay_t *r = arg;
  dv_session_t *ps = peer_session(peer);
  if (ps) dv_session_send(ps, r->op, json_deep_copy(r->d));
}

void dv_session_relay(dv_session_t *s, int op, json_t *d) {
  relay_t r = {op, d};
  sc_registry_each_peer(s->vs->channel, s->vs, relay_to_peer, &r);
  json_decref(d);
}

int dv_session_announce(dv_session_t *s, int kind, int op, json_t *d) {
  json_object_set_new(d, "user_id", json_string(s->vs->user_id));
  /* Each roommate keeps a copy until it acknowledges it: the member pays
   * for the payload's size out of its relay budget. */
  size_t size = json_dumpb(d, NULL, 0, JSON_COMPACT);
  dv_sessions_t *t = s->tab;
  if (dv_rate_take_n(&s->relay, t->lim->relay_bytes, t->lim->rate_window_ms,
                     dv_timers_now(t->timers), size > UINT32_MAX ? UINT32_MAX : (uint32_t)size)) {
    t->stats.relay_over_budget++;
    json_decref(d);
    return -ENOBUFS;
  }
  json_decref(s->announce[kind]);
  s->announce[kind] = json_incref(d);
  dv_session_relay(s, op, d);
  return 0;
}

int dv_session_alias(dv_session_t *s, uint32_t ssrc) {
  sc_vstate_t *vs = s->vs;
  if (sc_registry_owns_ssrc(vs, ssrc) && ssrc != vs->ssrc) return 0;
  int rc = sc_registry_claim_ssrc(s->tab->app->registry, vs, ssrc);
  if (rc < 0) return rc;
  sc_media_t *media = s->tab->app->media;
  if (media && sc_media_post_alias(media, vs->stats, ssrc) < 0) {
    /* The claim stays (nobody else may take the SSRC); its packets are
     * not forwarded until the member's next client (out of memory only). */
    sc_log_warn_ids("gateway", SC_VSTATE_IDS(vs), "video ssrc %u not posted: out of memory", ssrc);
    return -ENOMEM;
  }
  return 0;
}

void dv_session_release_aliases(dv_session_t *s) {
  sc_registry_release_ssrcs(s->tab->app->registry, s->vs);
}

/* ---- registry callbacks (the room talks to this session) ---------------- */

static void on_ended(void *conn, sc_end_reason_t why) {
  dv_session_t *s = conn;
  int shutdown = why == SC_END_SHUTDOWN;
  if (s->conn)
    dv_conn_close(s->conn, shutdown ? DV_CLOSE_SERVER_CRASH : DV_CLOSE_DISCONNECTED,
                  shutdown ? "server restarting" : "disconnected");
  /* The registry detached us and frees the state (and its media member). */
  session_free(s);
}

static void on_peer_join(void *conn, const sc_vstate_t *peer) {
  dv_session_t *s = conn;
  dv_session_send(s, DV_OP_CLIENTS_CONNECT, json_pack("{s:[s]}", "user_ids", peer->user_id));
  /* Map the newcomer's SSRC now: its first packets may beat its Speaking. */
  send_speaking(s, peer);
  if (s->tab->on_peer) s->tab->on_peer(s->tab->on_end_ctx, s, peer, 1);
}

static void on_peer_leave(void *conn, const sc_vstate_t *peer) {
  dv_session_t *s = conn;
  dv_session_send(s, DV_OP_CLIENT_DISCONNECT, json_pack("{s:s}", "user_id", peer->user_id));
  if (s->tab->on_peer) s->tab->on_peer(s->tab->on_end_ctx, s, peer, 0);
}

static void on_peer_speaking(void *conn, const sc_vstate_t *peer, unsigned speaking) {
  (void)speaking;
  send_speaking(conn, peer);
}

const sc_attach_ops_t dv_session_attach_ops = {
    .on_ended = on_ended,
    .on_flags = NULL, /* server mute/deaf is enforced on the media path */
    .on_peer_join = on_peer_join,
    .on_peer_leave = on_peer_leave,
    .on_peer_speaking = on_peer_speaking,
};
