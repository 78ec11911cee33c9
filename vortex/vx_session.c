/*
 * vx_session: see vx_session.h.
 */
#include "vx_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sc_log.h"
#include "sc_media.h"
#include "sc_rtc.h"
#include "sc_rtcp.h"
#include "sc_token.h"

#define VX_TRANSPORT_KIND "webrtc"

/* ---- events ---------------------------------------------------------------- */

static void event_user(vx_session_t *s, const char *type, const char *user_id, int with_kind) {
  if (!s->conn) return;
  json_t *d = with_kind ? json_pack("{s:s, s:s}", "id", user_id, "type", "audio")
                        : json_pack("{s:s}", "id", user_id);
  vx_conn_event(s->conn, type, d);
}

static int silenced(const sc_vstate_t *peer) {
  return peer->flags.mute || peer->flags.suppress;
}

int vx_session_peer_has_audio(const sc_vstate_t *peer) {
  if (peer->ops == &vx_session_attach_ops) return peer->speaking != 0;
  return peer->ops != NULL && !silenced(peer);
}

/* ---- members held back by Litecord's flags ----------------------------------- */

static int held_index(const vx_session_t *s, uint32_t ssrc) {
  for (size_t i = 0; i < s->n_held; i++)
    if (s->held[i] == ssrc) return (int)i;
  return -1;
}

/* Records that the client was told ssrc's member has no audio. 0, or -1
 * (out of memory: then the client is not told, and keeps a silent
 * consumer, as if the flag were not signalled). */
static int hold(vx_session_t *s, uint32_t ssrc) {
  if (held_index(s, ssrc) >= 0) return 0;
  if (s->n_held == s->cap_held) {
    size_t cap = s->cap_held ? 2 * s->cap_held : 8;
    uint32_t *h = realloc(s->held, cap * sizeof *h);
    if (!h) return -1;
    s->held = h;
    s->cap_held = cap;
  }
  s->held[s->n_held++] = ssrc;
  return 0;
}

/* 1 if ssrc was held back (and is no longer), else 0. */
static int unhold(vx_session_t *s, uint32_t ssrc) {
  int i = held_index(s, ssrc);
  if (i < 0) return 0;
  s->held[i] = s->held[--s->n_held];
  return 1;
}

static int other_front_end(const sc_vstate_t *peer) {
  return peer->ops && peer->ops != &vx_session_attach_ops;
}

/* At attach: the members already muted or suppressed are held back (RoomInfo
 * shows them without audio). */
static void hold_if_silenced(sc_vstate_t *peer, void *arg) {
  if (other_front_end(peer) && silenced(peer)) hold(arg, peer->ssrc);
}

/* What peers are told of our producer: speaking while it exists and the
 * server lets us speak (mute and suppress stop it on the media plane). */
static void announce(vx_session_t *s) {
  const sc_vflags_t *f = &s->vs->flags;
  unsigned want = s->producing && !f->mute && !f->suppress;
  if (want != (s->vs->speaking != 0)) sc_registry_set_speaking(s->app->registry, s->vs, want);
}

/* ---- registry callbacks ----------------------------------------------------- */

static void free_session(vx_session_t *s);

static int end_code(sc_end_reason_t why) {
  switch (why) {
    case SC_END_CHANNEL_GONE: return VX_CLOSE_ROOM_CLOSED;
    case SC_END_SHUTDOWN: return VX_CLOSE_GOING_AWAY;
    default: return VX_CLOSE_KICKED;
  }
}

/* The state ends or another client took it over: the registry has let go
 * of us (and resets the media member and legs itself). */
static void on_ended(void *conn, sc_end_reason_t why) {
  vx_session_t *s = conn;
  static const char *const reasons[] = {"voice state ended", "room closed", "replaced",
                                        "server stopping"};
  sc_log_info_ids("vortex", SC_VSTATE_IDS(s->vs), "session ends: %s", reasons[why]);
  if (s->conn) {
    vx_conn_close(s->conn, end_code(why), reasons[why]);
    s->conn->session = NULL;
  }
  free_session(s);
}

static void on_flags(void *conn, const sc_vstate_t *self) {
  (void)self;
  announce(conn);
}

static void on_peer_join(void *conn, const sc_vstate_t *peer) {
  vx_session_t *s = conn;
  event_user(s, "UserJoined", peer->user_id, 0);
  if (vx_session_peer_has_audio(peer))
    event_user(s, "UserStartProduce", peer->user_id, 1);
  else if (other_front_end(peer) && silenced(peer))
    hold(s, peer->ssrc);
}

static void forget_source(vx_session_t *s, uint32_t ssrc) {
  if (s->filter) vx_filter_set(s->filter, ssrc, 0);
}

static void on_peer_leave(void *conn, const sc_vstate_t *peer) {
  vx_session_t *s = conn;
  forget_source(s, peer->ssrc);
  unhold(s, peer->ssrc);
  event_user(s, "UserLeft", peer->user_id, 0);
}

/* Only Vortex peers' speaking flags mean a producer; other members are
 * announced when they join (their SSRC is known from the start). */
static void on_peer_speaking(void *conn, const sc_vstate_t *peer, unsigned speaking) {
  vx_session_t *s = conn;
  if (peer->ops != &vx_session_attach_ops) return;
  if (!speaking) forget_source(s, peer->ssrc);
  event_user(s, speaking ? "UserStartProduce" : "UserStopProduce", peer->user_id, 1);
}

/* A member of another front end that Litecord mutes or suppresses stops
 * producing, as far as Vortex clients can tell (the media plane drops its
 * audio): UserStopProduce, after which revite closes its consumer and
 * sends StopConsume; UserStartProduce once the flag is lifted, and it
 * consumes anew. A Vortex peer's producer is announced through its
 * speaking flags instead (announce, on_peer_speaking). */
static void on_peer_flags(void *conn, const sc_vstate_t *peer) {
  vx_session_t *s = conn;
  if (!other_front_end(peer)) return;
  int was_held = held_index(s, peer->ssrc) >= 0;
  if (silenced(peer) && !was_held) {
    if (hold(s, peer->ssrc) < 0) {
      sc_log_warn_ids("vortex", SC_VSTATE_IDS(s->vs), "out of memory: %s's mute not signalled",
                      peer->user_id);
      return;
    }
    forget_source(s, peer->ssrc);
    event_user(s, "UserStopProduce", peer->user_id, 1);
  } else if (!silenced(peer) && was_held) {
    unhold(s, peer->ssrc);
    event_user(s, "UserStartProduce", peer->user_id, 1);
  }
}

const sc_attach_ops_t vx_session_attach_ops = {
    .on_ended = on_ended,
    .on_flags = on_flags,
    .on_peer_join = on_peer_join,
    .on_peer_leave = on_peer_leave,
    .on_peer_speaking = on_peer_speaking,
    .on_peer_flags = on_peer_flags,
};

/* ---- life -------------------------------------------------------------------- */

vx_session_t *vx_session_attach(sc_app_t *app, vx_conn_t *conn, sc_vstate_t *vs,
                                const char *candidate_ip) {
  vx_session_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->app = app;
  s->conn = conn;
  s->vs = vs;
  s->candidate_ip = candidate_ip;
  if (sc_registry_take_over(app->registry, vs, &vx_session_attach_ops, s) < 0) {
    free(s);
    return NULL;
  }
  sc_registry_each_peer(vs->channel, vs, hold_if_silenced, s);
  /* No Vortex client speaks DAVE: the room's calls fall back to none. */
  sc_registry_set_e2ee(vs, 0);
  conn->session = s;
  snprintf(conn->who, sizeof conn->who, "%s", vs->user_id);
  sc_log_info_ids("vortex", SC_VSTATE_IDS(vs), "authenticated");
  return s;
}

static void free_session(vx_session_t *s) {
  for (int d = 0; d < 2; d++) {
    sc_rtc_free(s->t[d].rtc); /* never handed over */
    sodium_memzero(s->t[d].pwd, sizeof s->t[d].pwd);
  }
  vx_filter_put(s->filter);
  free(s->held);
  free(s);
}

void vx_session_end(vx_session_t *s, int code, const char *why) {
  sc_app_t *app = s->app;
  sc_vstate_t *vs = s->vs;
  sc_log_info_ids("vortex", SC_VSTATE_IDS(vs), "session ends: %s", why);
  if (s->conn) {
    if (code) vx_conn_close(s->conn, code, why);
    s->conn->session = NULL;
  }
  s->producing = 0;
  announce(s);
  sc_registry_detach(app->registry, vs);
  /* Nobody may send or receive under this client's keys any more. */
  if (app->media) sc_media_reset(app->media, vs->stats);
  sc_registry_release_legs(app->registry, vs);
  sc_registry_set_transport(app->registry, vs, "", "");
  free_session(s);
}

/* ---- transports --------------------------------------------------------------- */

static struct sc_rtc *new_rtc(vx_session_t *s, vx_dir_t d) {
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  p.any_remote_ufrag = 1; /* mediasoup-client never sends its ICE ufrag */
  p.dtls = s->app->dtls;
  if (d == VX_SEND) {
    p.direction = SC_RTC_RECV_ONLY; /* opus PT and level: at StartProduce */
    return sc_rtc_new(&p);
  }
  p.direction = SC_RTC_SEND_ONLY;
  p.skip_source = s->vs->ssrc;
  p.opus_pt = VX_ROUTER_OPUS_PT;
  p.audio_level_id = s->client_level ? VX_ROUTER_LEVEL_ID : 0;
  p.declines = vx_filter_declines;
  p.release = vx_filter_release;
  p.policy = s->filter;
  vx_filter_hold(s->filter);
  struct sc_rtc *r = sc_rtc_new(&p);
  if (!r) vx_filter_put(s->filter);
  return r;
}

int vx_session_init_transports(vx_session_t *s, int client_level) {
  if (s->transports) return -EALREADY;
  if (!s->app->media || !s->app->dtls) return -ENOTSUP;
  s->client_level = client_level;
  if (!s->filter && !(s->filter = vx_filter_new())) return -ENOMEM;
  for (int d = 0; d < 2; d++) {
    vx_transport_t *t = &s->t[d];
    if (!t->rtc && !(t->rtc = new_rtc(s, (vx_dir_t)d))) return -ENOMEM;
    snprintf(t->ufrag, sizeof t->ufrag, "%s", sc_rtc_local_ufrag(t->rtc));
    snprintf(t->pwd, sizeof t->pwd, "%s", sc_rtc_local_pwd(t->rtc));
    sc_token_random_hex(t->id, sizeof t->id, VX_HEX_ID_LEN / 2);
  }
  s->transports = 1;
  return 0;
}

int vx_session_transport_dir(const vx_session_t *s, const char *id) {
  for (int d = 0; d < 2; d++)
    if (s->transports && strcmp(s->t[d].id, id) == 0) return d;
  return -1;
}

/* Hands transport d to the media plane as mb's cipher. */
static int post(vx_session_t *s, vx_dir_t d, sc_member_stats_t *mb) {
  vx_transport_t *t = &s->t[d];
  struct sc_rtc *r = t->rtc;
  t->rtc = NULL; /* the media plane's from here, even on failure */
  if (sc_media_post_cipher(s->app->media, mb, &sc_rtc_cipher_ops, r) < 0) return -ENOMEM;
  t->posted = 1;
  sc_registry_set_transport(s->app->registry, s->vs, VX_TRANSPORT_KIND, "dtls_srtp");
  return 0;
}

int vx_session_connect(vx_session_t *s, vx_dir_t d, const uint8_t fp[32]) {
  vx_transport_t *t = &s->t[d];
  if (t->connected || !t->rtc) return -EALREADY;
  sc_rtc_set_fingerprint(t->rtc, fp);
  if (d == VX_RECV) {
    uint32_t leg_ssrc = 0;
    sc_member_stats_t *leg = sc_registry_add_leg(s->app->registry, s->vs, &leg_ssrc);
    if (!leg) return errno == ENOSPC ? -ENOSPC : -ENOMEM;
    s->leg = leg;
    if (post(s, d, leg) < 0) return -ENOMEM;
  }
  t->connected = 1;
  return 0;
}

/* ---- producer ------------------------------------------------------------------ */

int vx_session_produce(vx_session_t *s, int opus_pt, int level_id, uint32_t ssrc) {
  vx_transport_t *t = &s->t[VX_SEND];
  if (s->producing) return -EALREADY;
  if (s->vs->flags.mute || s->vs->flags.suppress) return -EPERM;
  if (!t->connected) return -ENOTCONN;
  if (!t->posted) {
    sc_rtc_set_codec(t->rtc, (uint8_t)opus_pt, (uint8_t)level_id);
    if (post(s, VX_SEND, s->vs->stats) < 0) return -ENOMEM;
  }
  s->producer_ssrc = ssrc;
  s->producing = 1;
  announce(s);
  return 0;
}

int vx_session_stop_produce(vx_session_t *s) {
  if (!s->producing) return -ENOENT;
  s->producing = 0;
  announce(s);
  return 0;
}

/* ---- consumers ----------------------------------------------------------------- */

typedef struct {
  const char *user_id;
  sc_vstate_t *found;
} find_arg_t;

static void match_user(sc_vstate_t *peer, void *arg) {
  find_arg_t *a = arg;
  if (!a->found && strcmp(peer->user_id, a->user_id) == 0) a->found = peer;
}

static vx_consumer_t *find_consumer(vx_session_t *s, const char *id) {
  for (int i = 0; i < s->n_consumers; i++)
    if (strcmp(s->consumers[i].id, id) == 0) return &s->consumers[i];
  return NULL;
}

/* The receive transport's consumer SSRC for source (out 0: none): set
 * directly while the transport is still ours (mediasoup-client consumes
 * before it connects), else by a worker command, applied in order. */
static int map_ssrc(vx_session_t *s, uint32_t source, uint32_t out) {
  vx_transport_t *t = &s->t[VX_RECV];
  if (t->rtc) return sc_rtc_map_ssrc(t->rtc, source, out);
  if (!s->leg) return 0; /* the transport was never handed over: nothing carries it */
  return sc_media_post_ssrc_map(s->app->media, s->leg, source, out);
}

/* A random SSRC no consumer of this client, no source it may receive
 * and not our RTCP sender SSRC: only this client's receive transport
 * carries it, so unique there is unique enough. */
static uint32_t fresh_out_ssrc(const vx_session_t *s, uint32_t source) {
  for (;;) {
    uint32_t v = sc_token_random_u32();
    int clash = !v || v == source || v == SC_RTCP_SERVER_SSRC;
    for (int i = 0; !clash && i < s->n_consumers; i++)
      clash = s->consumers[i].out_ssrc == v || s->consumers[i].ssrc == v;
    if (!clash) return v;
  }
}

const vx_consumer_t *vx_session_consume(vx_session_t *s, const char *user_id, int *err) {
  find_arg_t a = {user_id, NULL};
  sc_registry_each_peer(s->vs->channel, s->vs, match_user, &a);
  *err = !a.found ? -ENOENT : !vx_session_peer_has_audio(a.found) ? -EAGAIN : 0;
  if (*err) return NULL;
  for (int i = 0; i < s->n_consumers; i++)
    if (s->consumers[i].ssrc == a.found->ssrc) {
      *err = -EALREADY;
      return NULL;
    }
  if (s->n_consumers == VX_MAX_CONSUMERS) {
    *err = -ENOSPC;
    return NULL;
  }
  vx_consumer_t *c = &s->consumers[s->n_consumers++];
  memset(c, 0, sizeof *c);
  sc_token_random_hex(c->id, sizeof c->id, VX_HEX_ID_LEN / 2);
  snprintf(c->user_id, sizeof c->user_id, "%s", a.found->user_id);
  c->ssrc = a.found->ssrc;
  c->out_ssrc = fresh_out_ssrc(s, c->ssrc);
  if (map_ssrc(s, c->ssrc, c->out_ssrc) < 0) {
    s->n_consumers--;
    *err = -ENOMEM;
    return NULL;
  }
  c->paused = 1; /* mediasoup consumers start paused */
  c->mid = s->next_mid++;
  return c;
}

int vx_session_stop_consume(vx_session_t *s, const char *id) {
  vx_consumer_t *c = find_consumer(s, id);
  if (!c) return -ENOENT;
  forget_source(s, c->ssrc);
  /* After the filter: no copy goes out under the source's own SSRC. A
   * lost command (ENOMEM) leaves the pair until the next consumer of the
   * source replaces it (its old SRTP stream is released then). */
  map_ssrc(s, c->ssrc, 0);
  *c = s->consumers[--s->n_consumers];
  return 0;
}

int vx_session_pause(vx_session_t *s, const char *id, int paused) {
  vx_consumer_t *c = find_consumer(s, id);
  if (!c) return -ENOENT;
  c->paused = paused;
  if (s->filter && vx_filter_set(s->filter, c->ssrc, !paused) < 0) return -ENOSPC;
  return 0;
}
