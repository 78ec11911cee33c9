#include "gl_session.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_dtls.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_sdp_oa.h"

#define GL_OPUS_FMTP "minptime=10;useinbandfec=1"

/* ---- messages --------------------------------------------------------------- */

static int send_msg(gl_session_t *s, json_t *msg) {
  return s->conn ? gl_conn_send(s->conn, msg) : (json_decref(msg), -EPIPE);
}

static void refuse(gl_session_t *s, int why, const char *text) {
  if (s->conn) gl_conn_refuse(s->conn, why, text);
}

static void send_id(gl_session_t *s, const char *type, const char *id) {
  send_msg(s, json_pack("{s:s, s:s}", "type", type, "id", id));
}

static json_t *permissions(int present) {
  return present ? json_pack("[s, s]", "present", "message") : json_pack("[s]", "message");
}

static int peer_present(const sc_vstate_t *vs) {
  return !vs->flags.mute && !vs->flags.suppress;
}

/* A member's Galène id as this client knows it: its own handshake id for
 * itself (protocol.js files its up streams under it), the user id for
 * everyone else (stable from join to leave, whatever the member's front
 * end: the registry detaches a leaving member before telling us). */
static const char *member_id(const gl_session_t *s, const sc_vstate_t *vs) {
  return vs == s->vs ? s->client_id : vs->user_id;
}

static void send_joined(gl_session_t *s, const char *kind) {
  json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s}, s:{}, s:{s:[]}}", "type", "joined",
                        "kind", kind, "group", s->group, "username", s->vs->user_id, "permissions",
                        permissions(s->present), "status", "name", s->group, "data",
                        "rtcConfiguration", "iceServers");
  send_msg(s, m);
}

static void send_user(gl_session_t *s, const char *kind, const sc_vstate_t *vs) {
  send_msg(s, json_pack("{s:s, s:s, s:s, s:s, s:o, s:{}}", "type", "user", "kind", kind, "id",
                        member_id(s, vs), "username", vs->user_id, "permissions",
                        permissions(peer_present(vs)), "data"));
}

/* ---- SDP -------------------------------------------------------------------- */

static void local_sdp(gl_session_t *s, sc_sdp_local_t *l, const char *ufrag, const char *pwd) {
  memset(l, 0, sizeof *l);
  l->ip = s->media_ip;
  l->port = sc_media_port_for_room(s->app->media, s->vs->channel->room_id);
  l->ufrag = ufrag;
  l->pwd = pwd;
  sc_dtls_ctx_fingerprint_bytes(s->app->dtls, l->fingerprint);
  l->session_id = s->sdp_session;
  l->version = ++s->sdp_version;
}

static sc_rtc_t *new_rtc(gl_session_t *s, const char *remote_ufrag, int direction, int opus_pt,
                         int level_id, uint32_t only_source) {
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  snprintf(p.remote_ufrag, sizeof p.remote_ufrag, "%s", remote_ufrag);
  p.opus_pt = (uint8_t)opus_pt;
  p.audio_level_id = (uint8_t)(level_id > 0 && level_id <= 14 ? level_id : 0);
  p.dtls = s->app->dtls;
  p.direction = direction;
  p.only_source = only_source;
  return sc_rtc_new(&p);
}

/* ---- down streams ----------------------------------------------------------- */

static gl_down_t *find_down(gl_session_t *s, const char *id) {
  for (int i = 0; i < GL_DOWN_MAX; i++)
    if (s->down[i].used && strcmp(s->down[i].id, id) == 0) return &s->down[i];
  return NULL;
}

static gl_down_t *find_down_source(gl_session_t *s, uint32_t ssrc) {
  for (int i = 0; i < GL_DOWN_MAX; i++)
    if (s->down[i].used && s->down[i].source_ssrc == ssrc) return &s->down[i];
  return NULL;
}

/* Forgets a down stream (tell_client: send `close {id}` first). */
static void drop_down(gl_session_t *s, gl_down_t *d, int tell_client) {
  if (tell_client) send_id(s, "close", d->id);
  if (d->pending) sc_rtc_free(d->pending);
  if (d->leg) sc_registry_remove_leg(s->app->registry, s->vs, d->leg);
  if (s->conn) s->conn->counts->down_streams--;
  memset(d, 0, sizeof *d);
}

/* A fresh transport for d and our offer of it (replaces: the id of the
 * stream it replaces, or NULL). 0 or -1. */
static int send_down_offer(gl_session_t *s, gl_down_t *d, const char *replaces) {
  /* The client's ufrag comes with its answer (sc_rtc_set_remote); until
   * then the transport is ours alone, never posted. */
  sc_rtc_t *r = new_rtc(s, "pending", SC_RTC_SEND_ONLY, GL_OPUS_PT, 0, d->source_ssrc);
  if (!r) return -1;
  char stream[SC_ID_MAX + 2], track[SC_ID_MAX + 2], sdp[SC_SDP_OA_OUT_MAX];
  snprintf(stream, sizeof stream, "s%s", d->peer_user);
  snprintf(track, sizeof track, "a%s", d->peer_user);
  sc_sdp_local_t l;
  local_sdp(s, &l, sc_rtc_local_ufrag(r), sc_rtc_local_pwd(r));
  sc_sdp_offer_media_t m = {.mid = "0",
                            .opus_pt = GL_OPUS_PT,
                            .opus_fmtp = GL_OPUS_FMTP,
                            .ssrc = d->source_ssrc,
                            .cname = d->peer_user,
                            .msid_stream = stream,
                            .msid_track = track};
  int n = sc_sdp_write_offer(&l, &m, 1, sdp, sizeof sdp);
  if (n < 0) {
    sc_rtc_free(r);
    return -1;
  }
  if (d->pending) sc_rtc_free(d->pending);
  d->pending = r;
  json_t *offer = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "offer", "id", d->id, "label",
                            "camera", "source", d->peer_user, "username", d->peer_user, "sdp", sdp);
  if (offer && replaces) json_object_set_new(offer, "replace", json_string(replaces));
  send_msg(s, offer);
  if (s->conn) s->conn->counts->down_offers++;
  return 0;
}

/* A member Litecord mutes or suppresses has no stream to offer (the
 * media plane drops its audio): it is offered when the flag is lifted. */
static void offer_down(gl_session_t *s, const sc_vstate_t *peer) {
  if (!s->wants_audio || s->deaf || !peer_present(peer) || find_down_source(s, peer->ssrc)) return;
  gl_down_t *d = NULL;
  for (int i = 0; i < GL_DOWN_MAX && !d; i++)
    if (!s->down[i].used) d = &s->down[i];
  uint32_t leg_ssrc = 0;
  sc_member_stats_t *leg = d ? sc_registry_add_leg(s->app->registry, s->vs, &leg_ssrc) : NULL;
  if (!leg) {
    sc_log_warn_ids("galene", SC_VSTATE_IDS(s->vs), "no down stream for %s: %s", peer->user_id,
                    d ? "no leg" : "too many streams");
    return;
  }
  d->used = 1;
  d->leg = leg;
  d->source_ssrc = peer->ssrc;
  snprintf(d->peer_user, sizeof d->peer_user, "%s", peer->user_id);
  snprintf(d->id, sizeof d->id, "lcv-%u", ++s->next_down);
  if (s->conn) s->conn->counts->down_streams++;
  if (send_down_offer(s, d, NULL) < 0) drop_down(s, d, 0);
}

static void offer_each(sc_vstate_t *peer, void *arg) {
  offer_down(arg, peer);
}

static void close_downs(gl_session_t *s) {
  for (int i = 0; i < GL_DOWN_MAX; i++)
    if (s->down[i].used) drop_down(s, &s->down[i], 1);
}

void gl_session_request(gl_session_t *s, int wants_audio) {
  if (wants_audio && !s->wants_audio) {
    s->wants_audio = 1;
    sc_registry_each_peer(s->vs->channel, s->vs, offer_each, s);
  } else if (!wants_audio && s->wants_audio) {
    s->wants_audio = 0;
    close_downs(s);
  }
}

/* Reads an SDP from the client: the session and the index of its first
 * Opus audio section, or -1 with the reason in why. */
static int read_sdp(const gl_msg_t *m, sc_sdp_session_t *sess, char *why, size_t why_len) {
  int rc = m->sdp_len ? sc_sdp_parse_session(m->sdp, m->sdp_len, sess) : SC_SDP_OA_ERR_NO_SECTIONS;
  int idx = rc < 0 ? -1 : sc_sdp_first_audio(sess);
  if (idx < 0)
    snprintf(why, why_len, "bad sdp: %s", rc < 0 ? sc_sdp_oa_err_name(rc) : "no opus audio");
  return idx;
}

void gl_session_down_answer(gl_session_t *s, const gl_msg_t *m) {
  gl_down_t *d = find_down(s, m->id);
  if (!d || !d->pending) {
    refuse(s, GL_REFUSE_NOT_OURS, d ? "no offer outstanding for this stream" : "unknown stream");
    return;
  }
  sc_sdp_session_t *sess = malloc(sizeof *sess);
  if (!sess) return;
  char why[96] = "bad sdp: ice ufrag";
  int idx = read_sdp(m, sess, why, sizeof why);
  if (idx < 0 || sc_rtc_set_remote(d->pending, sess->t.ufrag,
                                   sess->t.has_fingerprint ? sess->t.fingerprint : NULL) < 0) {
    drop_down(s, d, 1); /* close {id}: we are its offerer */
    refuse(s, GL_REFUSE_BAD_SDP, why);
    free(sess);
    return;
  }
  free(sess);
  sc_rtc_t *r = d->pending;
  d->pending = NULL;
  if (sc_media_post_cipher(s->app->media, d->leg, &sc_rtc_cipher_ops, r) < 0) {
    drop_down(s, d, 1);
    return;
  }
  if (s->conn) s->conn->counts->down_answers++;
}

void gl_session_renegotiate(gl_session_t *s, const char *id) {
  gl_down_t *d = find_down(s, id);
  if (!d) {
    refuse(s, GL_REFUSE_NOT_OURS, "renegotiate: unknown stream");
    return;
  }
  /* A browser restarts ICE on a re-offer but keeps its DTLS session,
   * which a fresh transport of ours cannot take over: the stream is
   * replaced instead (protocol.js closes the old peer connection and opens
   * a new one for an offer with `replace`), on the same leg. */
  char old[GL_ID_MAX + 1];
  snprintf(old, sizeof old, "%s", d->id);
  snprintf(d->id, sizeof d->id, "lcv-%u", ++s->next_down);
  if (send_down_offer(s, d, old) < 0) drop_down(s, d, 1);
}

void gl_session_abort_down(gl_session_t *s, const char *id) {
  gl_down_t *d = find_down(s, id);
  if (!d) {
    refuse(s, GL_REFUSE_NOT_OURS, "abort: unknown stream");
    return;
  }
  drop_down(s, d, 1);
}

int gl_session_owns(const gl_session_t *s, const char *id) {
  if (s->up_id[0] && strcmp(s->up_id, id) == 0) return 1;
  return find_down((gl_session_t *)s, id) != NULL;
}

/* ---- the up stream ---------------------------------------------------------- */

static void abort_up(gl_session_t *s, const char *id, int why, const char *text) {
  send_id(s, "abort", id);
  refuse(s, why, text);
}

static void stop_up(gl_session_t *s) {
  if (!s->up_id[0]) return;
  s->up_id[0] = '\0';
  sodium_memzero(s->up_pwd, sizeof s->up_pwd);
  sc_media_reset(s->app->media, s->vs->stats); /* its key is gone */
  sc_registry_set_speaking(s->app->registry, s->vs, 0);
  if (s->conn) s->conn->counts->up_streams--;
}

/* 0 if the offer may be answered, else aborted with why. */
static int check_up(gl_session_t *s, const gl_msg_t *m) {
  if (!m->id[0]) {
    refuse(s, GL_REFUSE_MALFORMED, "offer without an id");
    return -1;
  }
  if ((m->source[0] && strcmp(m->source, s->client_id) != 0) ||
      (m->has_username && m->username[0] && strcmp(m->username, s->vs->user_id) != 0)) {
    abort_up(s, m->id, GL_REFUSE_SPOOF, "offer: source or username is not yours");
    return -1;
  }
  if (find_down(s, m->id)) {
    abort_up(s, m->id, GL_REFUSE_NOT_OURS, "offer: that id is a down stream");
    return -1;
  }
  if (!s->present) {
    abort_up(s, m->id, GL_REFUSE_NO_PERMISSION, "not-authorised: no permission to publish");
    return -1;
  }
  if (s->up_id[0] && strcmp(s->up_id, m->id) != 0 && strcmp(s->up_id, m->replace) != 0) {
    abort_up(s, m->id, GL_REFUSE_LIMIT, "one audio up stream per client");
    return -1;
  }
  return 0;
}

/* Our answer for sess (recvonly on section idx) with the up stream's
 * saved credentials. */
static int write_up_answer(gl_session_t *s, const sc_sdp_session_t *sess, int idx, char *out,
                           size_t cap) {
  sc_sdp_take_t takes[SC_SDP_OA_MAX_SECTIONS];
  memset(takes, 0, sizeof takes);
  takes[idx].take = SC_SDP_TAKE_RECV;
  sc_sdp_local_t l;
  local_sdp(s, &l, s->up_ufrag, s->up_pwd);
  return sc_sdp_write_answer(&l, sess, takes, sess->n, out, cap);
}

static void save_up(gl_session_t *s, const char *id, const sc_rtc_t *r, const char *remote) {
  snprintf(s->up_id, sizeof s->up_id, "%s", id);
  snprintf(s->up_ufrag, sizeof s->up_ufrag, "%s", sc_rtc_local_ufrag(r));
  snprintf(s->up_pwd, sizeof s->up_pwd, "%s", sc_rtc_local_pwd(r));
  snprintf(s->up_remote_ufrag, sizeof s->up_remote_ufrag, "%s", remote);
}

/* A new transport for the client's offer (saved as the up stream's) and
 * our answer in sdp; the transport is posted to the media plane. 0, or -1
 * with why. */
static int new_up(gl_session_t *s, const gl_msg_t *m, const sc_sdp_session_t *sess, int idx,
                  char *sdp, char *why, size_t why_len) {
  const sc_sdp_msection_t *a = &sess->m[idx];
  sc_rtc_t *r = new_rtc(s, sess->t.ufrag, SC_RTC_RECV_ONLY, a->opus_pt, a->audio_level_id, 0);
  if (!r) {
    snprintf(why, why_len, "bad sdp: ice ufrag");
    return -1;
  }
  if (sess->t.has_fingerprint) sc_rtc_set_remote(r, sess->t.ufrag, sess->t.fingerprint);
  char old_id[GL_ID_MAX + 1];
  snprintf(old_id, sizeof old_id, "%s", s->up_id);
  save_up(s, m->id, r, sess->t.ufrag);
  if (write_up_answer(s, sess, idx, sdp, SC_SDP_OA_OUT_MAX) < 0) {
    snprintf(s->up_id, sizeof s->up_id, "%s", old_id);
    snprintf(why, why_len, "bad sdp: cannot answer it");
    sc_rtc_free(r);
    return -1;
  }
  if (sc_media_post_cipher(s->app->media, s->vs->stats, &sc_rtc_cipher_ops, r) < 0) {
    snprintf(s->up_id, sizeof s->up_id, "%s", old_id);
    snprintf(why, why_len, "out of memory");
    return -1;
  }
  sc_registry_set_transport(s->app->registry, s->vs, GL_TRANSPORT_KIND, "dtls_srtp");
  return 0;
}

/* The answer to an offer for the live up stream, on the same transport.
 * A renegotiation that keeps the client's ICE credentials is answered
 * with ours. An ICE restart (a new ufrag: the browser keeps its DTLS
 * session and SRTP keys) is answered with new credentials of ours, which
 * the running transport takes on its worker (sc_media_post_ice_restart),
 * keeping its DTLS session and keys. 0, or -1 with why. */
static int renegotiate_up(gl_session_t *s, const sc_sdp_session_t *sess, int idx, char *sdp,
                          char *why, size_t why_len) {
  int restart = strcmp(sess->t.ufrag, s->up_remote_ufrag) != 0;
  char old_ufrag[sizeof s->up_ufrag], old_pwd[sizeof s->up_pwd];
  sc_ice_creds_t *cr = malloc(sizeof *cr); /* holds the peer's ufrag: up to 256 bytes */
  if (!cr || (restart && (!sess->t.ufrag[0] || sc_ice_creds_new(cr, sess->t.ufrag) < 0))) {
    snprintf(why, why_len, cr ? "bad sdp: ice ufrag" : "out of memory");
    free(cr);
    return -1;
  }
  memcpy(old_ufrag, s->up_ufrag, sizeof old_ufrag);
  memcpy(old_pwd, s->up_pwd, sizeof old_pwd);
  if (restart) { /* the answer carries the new credentials */
    memcpy(s->up_ufrag, cr->ufrag, sizeof s->up_ufrag);
    memcpy(s->up_pwd, cr->pwd, sizeof s->up_pwd);
  }
  int rc = write_up_answer(s, sess, idx, sdp, SC_SDP_OA_OUT_MAX);
  if (rc < 0) snprintf(why, why_len, "bad sdp: cannot answer it");
  if (rc >= 0 && restart && (rc = sc_media_post_ice_restart(s->app->media, s->vs->stats, cr)) < 0)
    snprintf(why, why_len, "out of memory");
  if (rc < 0) { /* the transport keeps the credentials it has */
    memcpy(s->up_ufrag, old_ufrag, sizeof s->up_ufrag);
    memcpy(s->up_pwd, old_pwd, sizeof s->up_pwd);
  } else if (restart) {
    snprintf(s->up_remote_ufrag, sizeof s->up_remote_ufrag, "%s", sess->t.ufrag);
  }
  sodium_memzero(old_pwd, sizeof old_pwd);
  sodium_memzero(cr, sizeof *cr);
  free(cr);
  return rc < 0 ? -1 : 0;
}

void gl_session_up_offer(gl_session_t *s, const gl_msg_t *m) {
  if (check_up(s, m) < 0) return;
  sc_sdp_session_t *sess = malloc(sizeof *sess);
  char *sdp = malloc(SC_SDP_OA_OUT_MAX);
  char why[96] = "out of memory";
  int idx = sess && sdp ? read_sdp(m, sess, why, sizeof why) : -1;
  int fresh = !s->up_id[0], again = !fresh && strcmp(s->up_id, m->id) == 0;
  int rc = idx < 0 ? -1
           : again ? renegotiate_up(s, sess, idx, sdp, why, sizeof why)
                   : new_up(s, m, sess, idx, sdp, why, sizeof why);
  free(sess);
  if (rc < 0) {
    abort_up(s, m->id, idx < 0 ? GL_REFUSE_BAD_SDP : GL_REFUSE_UNSUPPORTED, why);
    free(sdp);
    return;
  }
  send_msg(s, json_pack("{s:s, s:s, s:s}", "type", "answer", "id", m->id, "sdp", sdp));
  free(sdp);
  if (s->conn) {
    s->conn->counts->up_answers++;
    if (fresh) s->conn->counts->up_streams++;
  }
  /* Discord members learn the SSRC -> user mapping from Speaking. */
  sc_registry_set_speaking(s->app->registry, s->vs, 1);
}

void gl_session_close_up(gl_session_t *s, const char *id) {
  if (!s->up_id[0] || strcmp(s->up_id, id) != 0) {
    refuse(s, GL_REFUSE_NOT_OURS, "close: unknown stream");
    return;
  }
  stop_up(s);
}

/* ---- lifetime --------------------------------------------------------------- */

static void greet_peer(sc_vstate_t *peer, void *arg) {
  send_user(arg, "add", peer);
}

gl_session_t *gl_session_join(gl_conn_t *conn, sc_vstate_t *vs, const char *media_ip) {
  gl_session_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->conn = conn;
  s->app = conn->app;
  s->vs = vs;
  s->media_ip = media_ip;
  snprintf(s->client_id, sizeof s->client_id, "%s", conn->client_id);
  snprintf(s->group, sizeof s->group, "%s", vs->channel->id);
  randombytes_buf(&s->sdp_session, sizeof s->sdp_session);
  s->sdp_session &= (1ull << 62) - 1;
  s->present = peer_present(vs);
  s->deaf = vs->flags.deaf;
  if (sc_registry_take_over(s->app->registry, vs, &gl_session_attach_ops, s) < 0) {
    free(s);
    return NULL;
  }
  sc_registry_set_e2ee(vs, 0);
  conn->session = s;
  conn->counts->sessions++;
  conn->counts->joins++;
  sc_log_info_ids("galene", SC_VSTATE_IDS(vs), "joined as client %s", s->client_id);
  send_joined(s, "join");
  send_user(s, "add", vs);
  sc_registry_each_peer(vs->channel, vs, greet_peer, s);
  return s;
}

static void session_free(gl_session_t *s) {
  for (int i = 0; i < GL_DOWN_MAX; i++)
    if (s->down[i].pending) sc_rtc_free(s->down[i].pending);
  if (s->conn) {
    int n = 0;
    for (int i = 0; i < GL_DOWN_MAX; i++) n += s->down[i].used;
    s->conn->counts->down_streams -= (uint64_t)n;
    s->conn->counts->up_streams -= s->up_id[0] ? 1 : 0;
    s->conn->counts->sessions--;
    s->conn->session = NULL;
  }
  sodium_memzero(s->up_pwd, sizeof s->up_pwd);
  free(s);
}

void gl_session_end(gl_session_t *s, int send_leave) {
  sc_vstate_t *vs = s->vs;
  sc_app_t *app = s->app;
  if (send_leave) send_joined(s, "leave");
  sc_log_info_ids("galene", SC_VSTATE_IDS(vs), "left");
  sc_registry_detach(app->registry, vs);
  sc_registry_release_legs(app->registry, vs);
  for (int i = 0; i < GL_DOWN_MAX; i++) s->down[i].leg = NULL; /* released above */
  sc_media_reset(app->media, vs->stats);
  sc_registry_set_transport(app->registry, vs, "", "");
  session_free(s);
}

/* ---- registry callbacks ----------------------------------------------------- */

static void on_ended(void *conn, sc_end_reason_t why) {
  gl_session_t *s = conn;
  if (why == SC_END_SHUTDOWN) {
    if (s->conn) gl_conn_close(s->conn, GL_CLOSE_GOING_AWAY, "server stopping", -1);
  } else {
    send_msg(s, json_pack("{s:s, s:s, s:s}", "type", "usermessage", "kind", "kicked", "value",
                          why == SC_END_REPLACED ? "replaced by another connection"
                                                 : "disconnected by Litecord"));
    send_joined(s, "leave");
  }
  /* The registry frees (or, replaced, released) the legs and the member. */
  for (int i = 0; i < GL_DOWN_MAX; i++) s->down[i].leg = NULL;
  session_free(s);
}

static void on_flags(void *conn, const sc_vstate_t *self) {
  gl_session_t *s = conn;
  int present = peer_present(self);
  if (present != s->present) {
    s->present = present;
    send_joined(s, "change");
    send_user(s, "change", self);
    if (!present && s->up_id[0]) {
      send_id(s, "abort", s->up_id);
      stop_up(s);
    }
  }
  if (self->flags.deaf != s->deaf) {
    s->deaf = self->flags.deaf;
    if (s->deaf)
      close_downs(s);
    else if (s->wants_audio)
      sc_registry_each_peer(s->vs->channel, s->vs, offer_each, s);
  }
}

static void on_peer_join(void *conn, const sc_vstate_t *peer) {
  gl_session_t *s = conn;
  send_user(s, "add", peer);
  offer_down(s, peer);
}

static void on_peer_leave(void *conn, const sc_vstate_t *peer) {
  gl_session_t *s = conn;
  gl_down_t *d = find_down_source(s, peer->ssrc);
  if (d) drop_down(s, d, 1);
  send_user(s, "delete", peer);
}

/* A member's flags changed. Galène's own server closes the down streams of
 * a member that loses `present` and tells everyone its new permissions:
 * so here a member Litecord mutes or suppresses (of any front end) loses
 * its down stream (`close {id}`) and gets a fresh `offer` when the flag is
 * lifted; its own client is told through on_flags. */
static void on_peer_flags(void *conn, const sc_vstate_t *peer) {
  gl_session_t *s = conn;
  if (!peer->ops) return; /* not in the room yet: its user add comes with it */
  gl_down_t *d = find_down_source(s, peer->ssrc);
  send_user(s, "change", peer);
  if (!peer_present(peer) && d)
    drop_down(s, d, 1);
  else
    offer_down(s, peer); /* nothing if it has one already, or none is wanted */
}

const sc_attach_ops_t gl_session_attach_ops = {
    .on_ended = on_ended,
    .on_flags = on_flags,
    .on_peer_join = on_peer_join,
    .on_peer_leave = on_peer_leave,
    .on_peer_speaking = NULL,
    .on_peer_flags = on_peer_flags,
};
