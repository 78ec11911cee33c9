/*
 * ion_proto: see ion_proto.h.
 */
#include "ion_proto.h"

#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_metrics.h"
#include "sc_registry.h"

enum {
  ION_ERR_BAD_REQUEST = 400,
  ION_ERR_UNAUTHORIZED = 401,
  ION_ERR_NOT_JOINED = 403,
  ION_ERR_NOT_FOUND = 404,
  ION_ERR_UNKNOWN_METHOD = 405,
  ION_ERR_ALREADY_JOINED = 409,
  ION_ERR_TOO_LARGE = 413,
};

static const ion_session_events_t session_events;

/* ---- what ion clients are told about a member ----------------------- */

static json_t *minfo_json(void) {
  return json_pack("{s:b, s:i, s:b, s:i}", "audio", 1, "audiotype", 0, "video", 0, "videotype", 0);
}

static json_t *peer_info(const sc_vstate_t *peer) {
  ion_session_t *ps = ion_session_of(peer);
  ion_client_t *pc = ps ? ps->ev_ctx : NULL;
  if (pc && pc->info) return json_deep_copy(pc->info);
  return json_pack("{s:s}", "name", peer->user_id);
}

/* stream-add's data, and a pubs entry of join's answer: the seed's
 * minfo, and ion-sdk-js's tracks (it builds its subscribe offer from
 * their types). */
static json_t *stream_json(const sc_vstate_t *peer) {
  char mid[ION_MID_MAX], track[ION_MID_MAX + 8];
  ion_session_stream_mid(peer, mid, sizeof mid);
  snprintf(track, sizeof track, "%s-audio", mid);
  json_t *tracks = json_object();
  json_object_set_new(
      tracks, mid,
      json_pack("[{s:s, s:I, s:i, s:s, s:s, s:s}]", "id", track, "ssrc", (json_int_t)peer->ssrc,
                "pt", 111, "type", "audio", "codec", "opus", "fmtp", "minptime=10;useinbandfec=1"));
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "rid", peer->channel->id, "uid",
                   peer->user_id, "mid", mid, "sfuid", ION_SFU_ID, "minfo", minfo_json(), "info",
                   peer_info(peer), "tracks", tracks);
}

static json_t *stream_remove_json(const sc_vstate_t *peer) {
  char mid[ION_MID_MAX];
  ion_session_stream_mid(peer, mid, sizeof mid);
  return json_pack("{s:s, s:s, s:s}", "rid", peer->channel->id, "uid", peer->user_id, "mid", mid);
}

/* The streams a client was told of (mid -> its own copy of the key), so
 * stream-remove only ever names a stream the client knows. */
static void announce_stream(ion_client_t *c, const sc_vstate_t *peer) {
  char mid[ION_MID_MAX];
  ion_session_stream_mid(peer, mid, sizeof mid);
  if (sc_hmap_get(&c->streams, mid)) return;
  char *key = strdup(mid);
  if (!key || sc_hmap_put(&c->streams, key, key) < 0) {
    free(key);
    return;
  }
  ion_conn_notify(&c->conn, "stream-add", stream_json(peer));
}

/* The stream is gone for c, and so are c's subscriptions to it:
 * ion-sdk-js closes their peer connections on stream-remove and never
 * unsubscribes them. */
static void retract_stream(ion_client_t *c, const sc_vstate_t *peer) {
  char mid[ION_MID_MAX];
  if (c->session) ion_session_drop_source(c->session, peer->ssrc);
  ion_session_stream_mid(peer, mid, sizeof mid);
  char *key = sc_hmap_del(&c->streams, mid);
  if (!key) return;
  free(key);
  ion_conn_notify(&c->conn, "stream-remove", stream_remove_json(peer));
}

static void forget_streams(ion_client_t *c) {
  for (size_t i = 0; i < c->streams.cap; i++) {
    /* Deleted slots hold NULL. */
    if (c->streams.slots[i].key) free(c->streams.slots[i].value);
  }
  sc_hmap_free(&c->streams);
  sc_hmap_init(&c->streams);
}

static void notify_join(ion_client_t *c, const sc_vstate_t *peer) {
  ion_conn_notify(&c->conn, "peer-join",
                  json_pack("{s:s, s:s, s:o}", "rid", peer->channel->id, "uid", peer->user_id,
                            "info", peer_info(peer)));
  if (ion_session_has_stream(peer)) announce_stream(c, peer);
}

/* ---- room events (from the session) ------------------------------------ */

static void ev_peer_join(void *ctx, ion_session_t *s, const sc_vstate_t *peer) {
  (void)s;
  notify_join(ctx, peer);
}

static void ev_peer_leave(void *ctx, ion_session_t *s, const sc_vstate_t *peer) {
  (void)s;
  ion_client_t *c = ctx;
  retract_stream(c, peer);
  ion_conn_notify(&c->conn, "peer-leave",
                  json_pack("{s:s, s:s}", "rid", peer->channel->id, "uid", peer->user_id));
}

static void ev_ended(void *ctx, ion_session_t *s, sc_end_reason_t why) {
  (void)s;
  ion_client_t *c = ctx;
  c->session = NULL;
  c->proto->sessions--;
  forget_streams(c);
  ion_conn_close(&c->conn, ION_CLOSE_FOR_GOOD,
                 why == SC_END_REPLACED       ? "replaced by another connection"
                 : why == SC_END_SHUTDOWN     ? "server shutting down"
                 : why == SC_END_CHANNEL_GONE ? "channel gone"
                                              : "voice state ended");
}

/* A peer's flags changed: a member the server mutes or suppresses
 * (Discord or ion alike) loses its stream, and gets it back when it may
 * speak again. */
static void ev_peer_flags(void *ctx, ion_session_t *s, const sc_vstate_t *peer) {
  (void)s;
  if (ion_session_has_stream(peer))
    announce_stream(ctx, peer);
  else
    retract_stream(ctx, peer);
}

static const ion_session_events_t session_events = {ev_peer_join, ev_peer_leave, ev_ended,
                                                    ev_peer_flags};

/* Tells every other joined ion client of c's room. */
typedef struct {
  const char *method;
  json_t *data; /* copied per receiver */
} relay_t;

static void relay_to(sc_vstate_t *peer, void *arg) {
  relay_t *r = arg;
  ion_session_t *ps = ion_session_of(peer);
  if (ps) ion_conn_notify(ps->conn, r->method, json_deep_copy(r->data));
}

static void relay(const sc_vstate_t *vs, const char *method, json_t *data) {
  relay_t r = {method, data};
  sc_registry_each_peer(vs->channel, vs, relay_to, &r);
  json_decref(data);
}

/* vs's stream appears (1) or goes (0) for every other ion client. */
typedef struct {
  const sc_vstate_t *vs;
  int on;
} stream_change_t;

static void stream_to(sc_vstate_t *peer, void *arg) {
  stream_change_t *ch = arg;
  ion_session_t *ps = ion_session_of(peer);
  if (!ps) return;
  if (ch->on)
    announce_stream(ps->ev_ctx, ch->vs);
  else
    retract_stream(ps->ev_ctx, ch->vs);
}

static void relay_stream(const sc_vstate_t *vs, int on) {
  stream_change_t ch = {vs, on};
  sc_registry_each_peer(vs->channel, vs, stream_to, &ch);
}

/* ---- credentials ------------------------------------------------------- */

static void refuse_auth(ion_client_t *c, const ion_msg_t *m, const char *why) {
  c->proto->counts.bad_token++;
  if (m) ion_conn_reply_error(&c->conn, m->id, ION_ERR_UNAUTHORIZED, why);
  ion_conn_close(&c->conn, ION_CLOSE_FOR_GOOD, why);
}

void ion_client_open(ion_client_t *c, ion_proto_t *p, const ion_io_t *io, void *io_ctx,
                     const char *token, const char *peer) {
  memset(c, 0, sizeof *c);
  c->proto = p;
  ion_conn_init(&c->conn, io, io_ctx, &p->counts);
  if (peer) snprintf(c->peer, sizeof c->peer, "%s", peer);
  if (!token) return; /* join's info.token then */
  size_t len = strlen(token);
  sc_vstate_t *vs =
      len <= ION_MSG_FIELD_MAX ? sc_registry_find_token(p->app->registry, token, len) : NULL;
  if (!vs) {
    refuse_auth(c, NULL, "401 unknown token");
    return;
  }
  if (peer && strcmp(peer, vs->user_id) != 0) {
    refuse_auth(c, NULL, "401 peer is not the token's user");
    return;
  }
  snprintf(c->token, sizeof c->token, "%s", token);
}

/* ---- methods ----------------------------------------------------------- */

static void collect_present(sc_vstate_t *peer, void *arg) {
  json_t **lists = arg;
  if (ion_session_has_stream(peer)) json_array_append_new(lists[0], stream_json(peer));
  json_array_append_new(lists[1], json_pack("{s:s, s:s, s:s}", "signalid", ION_SFU_ID, "rid",
                                            peer->channel->id, "uid", peer->user_id));
}

static void greet(sc_vstate_t *peer, void *arg) {
  notify_join(arg, peer);
}

static void forget_leave(ion_client_t *c) {
  free(c->left.subs);
  memset(&c->left, 0, sizeof c->left);
}

static void do_join(ion_client_t *c, ion_msg_t *m) {
  if (c->session) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_ALREADY_JOINED, "already joined");
    return;
  }
  const char *token = c->token[0] ? c->token : m->token;
  if (!token) {
    refuse_auth(c, m, "401 no token (URL ?token= or join info.token)");
    return;
  }
  if (c->token[0] && m->token && strcmp(m->token, c->token) != 0) {
    refuse_auth(c, m, "401 info.token is not the URL's token");
    return;
  }
  sc_vstate_t *vs = sc_registry_find_token(c->proto->app->registry, token, strlen(token));
  if (!vs) {
    refuse_auth(c, m, "401 unknown token");
    return;
  }
  if (!m->rid || strcmp(m->rid, vs->channel->id) != 0) {
    refuse_auth(c, m, "401 rid is not the token's room");
    return;
  }
  if ((m->uid && strcmp(m->uid, vs->user_id) != 0) ||
      (c->peer[0] && strcmp(c->peer, vs->user_id))) {
    refuse_auth(c, m, "401 uid is not the token's user");
    return;
  }
  /* Before the attach, which announces us to the room. */
  json_decref(c->info);
  c->info = json_is_object(m->info) ? json_deep_copy(m->info) : NULL;
  if (c->info) json_object_del(c->info, "token"); /* never shown to others */
  c->session = ion_session_attach(c->proto->app, vs, &c->conn, c->proto->ip, c->proto->max_subs,
                                  &session_events, c);
  if (!c->session) {
    ion_conn_reply_error(&c->conn, m->id, 500, "cannot attach");
    return;
  }
  forget_leave(c); /* a new session: what an earlier leave ended is its past */
  c->proto->sessions++;
  sc_log_info_ids("ion", SC_VSTATE_IDS(vs), "joined");
  json_t *lists[2] = {json_array(), json_array()};
  sc_registry_each_peer(vs->channel, vs, collect_present, lists);
  ion_conn_reply(&c->conn, m->id, json_pack("{s:o, s:o}", "pubs", lists[0], "users", lists[1]));
  /* ion-sdk-js ignores the answer: it learns the room from these. */
  sc_registry_each_peer(vs->channel, vs, greet, c);
}

static void leave_room(ion_client_t *c) {
  ion_session_t *s = c->session;
  c->session = NULL;
  c->proto->sessions--;
  if (s->published) relay_stream(s->vs, 0);
  forget_streams(c);
  ion_session_detach(s);
}

static void remember_leave(ion_client_t *c) {
  const ion_session_t *s = c->session;
  ion_left_t *l = &c->left;
  forget_leave(c);
  snprintf(l->rid, sizeof l->rid, "%s", s->vs->channel->id);
  ion_session_stream_mid(s->vs, l->mid, sizeof l->mid);
  /* Without memory the subscriptions are not remembered: their
   * unsubscribe then gets 403, as before. */
  l->subs = s->n_subs ? calloc((size_t)s->n_subs, sizeof *l->subs) : NULL;
  for (int i = 0; l->subs && i < s->n_subs; i++) {
    snprintf(l->subs[i].sid, sizeof l->subs[i].sid, "%s", s->subs[i].sid);
    snprintf(l->subs[i].mid, sizeof l->subs[i].mid, "%s", s->subs[i].mid);
    l->n_subs++;
  }
  l->valid = 1;
}

static void do_leave(ion_client_t *c, ion_msg_t *m) {
  remember_leave(c);
  leave_room(c);
  ion_conn_reply(&c->conn, m->id, NULL);
}

/* ion-sdk-js's leave() unpublishes its stream and unsubscribes each
 * subscription once the leave is answered. The leave ended them already,
 * so these are answered {} (ion's own server took an unpublish after a
 * leave too). Only what this socket's leave ended: 0 when answered, -1
 * for anything else (still 403). */
static int answer_after_leave(ion_client_t *c, const ion_msg_t *m) {
  const ion_left_t *l = &c->left;
  if (!l->valid || (m->rid && strcmp(m->rid, l->rid) != 0)) return -1;
  int ended = 0;
  if (m->method == ION_M_UNPUBLISH) ended = !m->mid || strcmp(m->mid, l->mid) == 0;
  for (int i = 0; m->method == ION_M_UNSUBSCRIBE && i < l->n_subs && !ended; i++)
    ended = m->sid ? strcmp(m->sid, l->subs[i].sid) == 0
                   : m->mid && strcmp(m->mid, l->subs[i].mid) == 0;
  if (!ended) return -1;
  ion_conn_reply(&c->conn, m->id, NULL);
  return 0;
}

static int want_offer(ion_client_t *c, ion_msg_t *m) {
  if (m->sdp && m->jsep_type && strcmp(m->jsep_type, "offer") == 0) return 0;
  ion_conn_reply_error(&c->conn, m->id, ION_ERR_BAD_REQUEST, "jsep must be an offer");
  return -1;
}

static void do_publish(ion_client_t *c, ion_msg_t *m) {
  static char answer[SC_SDP_OA_OUT_MAX];
  ion_err_t err;
  if (want_offer(c, m) < 0) return;
  int first = !c->session->published;
  int n = ion_session_publish(c->session, m->sdp, m->sdp_len, answer, sizeof answer, &err);
  if (n < 0) {
    ion_conn_reply_error(&c->conn, m->id, err.code, err.reason);
    return;
  }
  char mid[ION_MID_MAX];
  ion_session_stream_mid(c->session->vs, mid, sizeof mid);
  ion_conn_reply(&c->conn, m->id,
                 json_pack("{s:s, s:{s:s, s:s%}, s:s}", "mid", mid, "jsep", "type", "answer", "sdp",
                           answer, (size_t)n, "sfuid", ION_SFU_ID));
  if (first && ion_session_has_stream(c->session->vs)) relay_stream(c->session->vs, 1);
}

static void do_unpublish(ion_client_t *c, ion_msg_t *m) {
  char mid[ION_MID_MAX];
  ion_err_t err;
  ion_session_stream_mid(c->session->vs, mid, sizeof mid);
  if (m->mid && strcmp(m->mid, mid) != 0) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_NOT_FOUND, "not your stream");
    return;
  }
  if (ion_session_unpublish(c->session, &err) < 0) {
    ion_conn_reply_error(&c->conn, m->id, err.code, err.reason);
    return;
  }
  ion_conn_reply(&c->conn, m->id, NULL);
  relay_stream(c->session->vs, 0);
}

static void do_subscribe(ion_client_t *c, ion_msg_t *m) {
  static char answer[SC_SDP_OA_OUT_MAX];
  char sid[ION_SID_MAX];
  ion_err_t err;
  if (!m->mid) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_BAD_REQUEST, "mid missing");
    return;
  }
  if (want_offer(c, m) < 0) return;
  int n = ion_session_subscribe(c->session, m->mid, m->sdp, m->sdp_len, answer, sizeof answer, sid,
                                &err);
  if (n < 0) {
    ion_conn_reply_error(&c->conn, m->id, err.code, err.reason);
    return;
  }
  ion_conn_reply(&c->conn, m->id,
                 json_pack("{s:s, s:s, s:{s:s, s:s%}}", "mid", m->mid, "sid", sid, "jsep", "type",
                           "answer", "sdp", answer, (size_t)n));
}

static void do_unsubscribe(ion_client_t *c, ion_msg_t *m) {
  ion_err_t err;
  if (!m->sid && !m->mid) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_BAD_REQUEST, "sid or mid missing");
    return;
  }
  if (ion_session_unsubscribe(c->session, m->sid, m->mid, &err) < 0)
    ion_conn_reply_error(&c->conn, m->id, err.code, err.reason);
  else
    ion_conn_reply(&c->conn, m->id, NULL);
}

static void do_broadcast(ion_client_t *c, ion_msg_t *m) {
  const sc_vstate_t *vs = c->session->vs;
  json_t *d = json_pack("{s:s, s:s, s:O*, s:O*}", "rid", vs->channel->id, "uid", vs->user_id,
                        "info", m->info, "data", m->payload);
  /* Every roommate gets a copy: a sender may not fill their queues. */
  if (!d || json_dumpb(d, NULL, 0, JSON_COMPACT) > ION_BROADCAST_MAX) {
    json_decref(d);
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_TOO_LARGE, "broadcast too large");
    return;
  }
  ion_conn_reply(&c->conn, m->id, NULL);
  relay(vs, "broadcast", d);
}

static void request(ion_client_t *c, ion_msg_t *m) {
  c->proto->counts.requests++;
  c->proto->method_counts[m->method]++;
  if (m->method == ION_M_UNKNOWN) {
    char why[64];
    snprintf(why, sizeof why, "unknown method %s", m->method_name);
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_UNKNOWN_METHOD, why);
    return;
  }
  if (m->bad) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_BAD_REQUEST, m->bad);
    return;
  }
  if (m->method == ION_M_JOIN) {
    do_join(c, m);
    return;
  }
  if (!c->session) {
    if (answer_after_leave(c, m) < 0)
      ion_conn_reply_error(&c->conn, m->id, ION_ERR_NOT_JOINED, "join first");
    return;
  }
  /* The room is the token's: a rid naming another one is refused. */
  if (m->rid && strcmp(m->rid, c->session->vs->channel->id) != 0) {
    ion_conn_reply_error(&c->conn, m->id, ION_ERR_UNAUTHORIZED, "rid is not your room");
    return;
  }
  switch (m->method) {
    case ION_M_LEAVE: do_leave(c, m); break;
    case ION_M_KEEPALIVE: ion_conn_reply(&c->conn, m->id, NULL); break;
    case ION_M_PUBLISH: do_publish(c, m); break;
    case ION_M_UNPUBLISH: do_unpublish(c, m); break;
    case ION_M_SUBSCRIBE: do_subscribe(c, m); break;
    case ION_M_UNSUBSCRIBE: do_unsubscribe(c, m); break;
    case ION_M_BROADCAST: do_broadcast(c, m); break;
    default: break;
  }
}

void ion_client_text(ion_client_t *c, const char *buf, size_t len, uint64_t now_ms) {
  if (ion_conn_admit(&c->conn, &c->proto->lim, len, now_ms) < 0) return;
  ion_msg_t m;
  int rc = ion_msg_parse(buf, len, &m);
  if (rc < 0) {
    char why[64];
    c->proto->counts.malformed++;
    snprintf(why, sizeof why, "malformed message: %s", ion_msg_err_name(rc));
    ion_conn_close(&c->conn, ION_CLOSE_FOR_GOOD, why);
    return;
  }
  if (m.kind == ION_MSG_REQUEST)
    request(c, &m);
  else if (m.kind == ION_MSG_RESPONSE)
    c->proto->counts.foreign_response++; /* we never send requests */
  else
    c->proto->counts.client_notification++;
  ion_msg_free(&m);
}

void ion_client_closed(ion_client_t *c) {
  c->conn.closing = 1; /* nothing more goes out on this socket */
  if (c->session) leave_room(c);
  forget_leave(c);
  json_decref(c->info);
  c->info = NULL;
}

json_t *ion_proto_status(const ion_proto_t *p) {
  const ion_counts_t *k = &p->counts;
  json_t *methods = json_object();
  for (int i = 0; i < ION_M_COUNT; i++)
    json_object_set_new(methods, ion_method_name((ion_method_t)i),
                        json_integer((json_int_t)p->method_counts[i]));
  return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                   "sessions", p->sessions, "opened", (json_int_t)k->opened, "closed_by_us",
                   (json_int_t)k->closed_by_us, "requests", (json_int_t)k->requests, "errors_sent",
                   (json_int_t)k->errors_sent, "notifications_sent",
                   (json_int_t)k->notifications_sent, "malformed", (json_int_t)k->malformed,
                   "too_large", (json_int_t)k->too_large, "rate_limited",
                   (json_int_t)k->rate_limited, "foreign_response", (json_int_t)k->foreign_response,
                   "client_notification", (json_int_t)k->client_notification, "bad_token",
                   (json_int_t)k->bad_token, "send_queue_full", (json_int_t)k->send_queue_full,
                   "methods", methods);
}

void ion_proto_metrics(const ion_proto_t *p, sc_metrics_t *m) {
  const ion_counts_t *k = &p->counts;
  sc_metrics_gauge(m, "litecord_voice_ion_sessions", "ion/protoo clients joined", p->sessions);
  sc_metrics_counter(m, "litecord_voice_ion_connections_total", "ion/protoo sockets opened",
                     k->opened);
  sc_metrics_family(m, "litecord_voice_ion_requests_total", SC_METRIC_COUNTER,
                    "ion/protoo requests, by method");
  for (int i = 0; i < ION_M_COUNT; i++) {
    sc_label_t l = {"method", ion_method_name((ion_method_t)i)};
    sc_metrics_sample_u64(m, &l, 1, p->method_counts[i]);
  }
  sc_metrics_counter(m, "litecord_voice_ion_errors_total", "ion/protoo error answers sent",
                     k->errors_sent);
  sc_metrics_family(m, "litecord_voice_ion_refused_total", SC_METRIC_COUNTER,
                    "ion/protoo input refused (closed or dropped), by reason");
  const struct {
    const char *why;
    uint64_t n;
  } refused[] = {{"malformed", k->malformed},
                 {"too_large", k->too_large},
                 {"rate_limited", k->rate_limited},
                 {"bad_token", k->bad_token},
                 {"foreign_response", k->foreign_response},
                 {"client_notification", k->client_notification},
                 {"send_queue_full", k->send_queue_full}};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    sc_label_t l = {"reason", refused[i].why};
    sc_metrics_sample_u64(m, &l, 1, refused[i].n);
  }
}
