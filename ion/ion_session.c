/*
 * ion_session: see ion_session.h.
 */
#include "ion_session.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_dtls.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_rtc.h"
#include "sc_token.h"

#define ION_CNAME "litecord-voice"

static void on_ended(void *conn, sc_end_reason_t why);
/* A peer's flags changed: server mute and suppress withdraw its stream.
 * Our own flags need no handler (on_flags NULL): the media plane
 * enforces them, and the other ion clients learn what they do to our
 * stream through their own on_peer_flags. */
static void on_peer_flags(void *conn, const sc_vstate_t *peer) {
  ion_session_t *s = conn;
  s->ev->peer_flags(s->ev_ctx, s, peer);
}
static void on_peer_join(void *conn, const sc_vstate_t *peer);
static void on_peer_leave(void *conn, const sc_vstate_t *peer);
static void on_peer_speaking(void *conn, const sc_vstate_t *peer, unsigned speaking) {
  (void)conn; /* ion has no speaking event */
  (void)peer;
  (void)speaking;
}

static const sc_attach_ops_t ion_attach_ops = {
    on_ended, NULL, on_peer_join, on_peer_leave, on_peer_speaking, on_peer_flags};

static void set_err(ion_err_t *e, int code, const char *fmt, const char *arg) {
  e->code = code;
  snprintf(e->reason, sizeof e->reason, fmt, arg);
}

ion_session_t *ion_session_attach(sc_app_t *app, sc_vstate_t *vs, ion_conn_t *conn, const char *ip,
                                  int max_subs, const ion_session_events_t *ev, void *ev_ctx) {
  ion_session_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->app = app;
  s->vs = vs;
  s->conn = conn;
  s->ev = ev;
  s->ev_ctx = ev_ctx;
  s->ip = ip;
  s->max_subs = max_subs > 0 && max_subs <= ION_SUBS_MAX ? max_subs : ION_SUBS_MAX;
  sc_token_random(&s->sdp_session, sizeof s->sdp_session);
  s->sdp_session &= (1ULL << 62) - 1;
  if (sc_registry_take_over(app->registry, vs, &ion_attach_ops, s) < 0) {
    free(s);
    return NULL;
  }
  sc_registry_set_e2ee(vs, 0); /* no DAVE in this dialect: the call falls back to protocol 0 */
  snprintf(conn->who, sizeof conn->who, "%s", vs->user_id);
  return s;
}

static void remove_sub(ion_session_t *s, int i) {
  sc_registry_remove_leg(s->app->registry, s->vs, s->subs[i].leg);
  s->subs[i] = s->subs[--s->n_subs];
}

void ion_session_detach(ion_session_t *s) {
  sc_registry_t *r = s->app->registry;
  sc_vstate_t *vs = s->vs;
  sc_log_info_ids("ion", SC_VSTATE_IDS(vs), "leaves (%d subscriptions)", s->n_subs);
  sc_registry_release_legs(r, vs);
  sc_registry_detach(r, vs);
  /* Nobody may send or receive under this client's keys any more. */
  if (s->app->media) sc_media_reset(s->app->media, vs->stats);
  sc_registry_release_ssrcs(r, vs);
  sc_registry_set_transport(r, vs, "", "");
  free(s);
}

static void on_ended(void *conn, sc_end_reason_t why) {
  ion_session_t *s = conn;
  /* The registry (end or take-over) releases the legs and the member. */
  s->ev->ended(s->ev_ctx, s, why);
  free(s);
}

static void on_peer_join(void *conn, const sc_vstate_t *peer) {
  ion_session_t *s = conn;
  s->ev->peer_join(s->ev_ctx, s, peer);
}

static void on_peer_leave(void *conn, const sc_vstate_t *peer) {
  ion_session_t *s = conn;
  ion_session_drop_source(s, peer->ssrc);
  s->ev->peer_leave(s->ev_ctx, s, peer);
}

ion_session_t *ion_session_of(const sc_vstate_t *peer) {
  return peer->ops == &ion_attach_ops ? peer->conn : NULL;
}

int ion_session_has_stream(const sc_vstate_t *peer) {
  const ion_session_t *s = ion_session_of(peer);
  if (!peer->ops || peer->flags.mute || peer->flags.suppress) return 0;
  return !s || s->published;
}

void ion_session_stream_mid(const sc_vstate_t *peer, char *out, size_t cap) {
  snprintf(out, cap, "%s-%" PRIu32, peer->user_id, peer->ssrc);
}

/* ---- transports ------------------------------------------------------ */

typedef struct {
  sc_sdp_session_t offer;
  int audio; /* index of the section we take */
} parsed_offer_t;

static parsed_offer_t *read_offer(const char *sdp, size_t len, ion_err_t *err) {
  parsed_offer_t *p = malloc(sizeof *p);
  if (!p) {
    set_err(err, 500, "%s", "out of memory");
    return NULL;
  }
  int rc = sc_sdp_parse_session(sdp, len, &p->offer);
  if (rc < 0) {
    set_err(err, 400, "bad offer: %s", sc_sdp_oa_err_name(rc));
    free(p);
    return NULL;
  }
  p->audio = sc_sdp_first_audio(&p->offer);
  if (p->audio < 0) {
    set_err(err, 400, "%s", "bad offer: no opus/48000/2 audio section");
    free(p);
    return NULL;
  }
  return p;
}

/* The member's WebRTC state for offer section p->audio, with our ICE
 * credentials copied out (the state is the worker's once posted). */
static sc_rtc_t *new_rtc(ion_session_t *s, const parsed_offer_t *p, int direction,
                         uint32_t only_source, char ufrag[SC_ICE_UFRAG_LEN + 1],
                         char pwd[SC_ICE_PWD_LEN + 1]) {
  const sc_sdp_msection_t *m = &p->offer.m[p->audio];
  sc_rtc_params_t rp;
  memset(&rp, 0, sizeof rp);
  snprintf(rp.remote_ufrag, sizeof rp.remote_ufrag, "%s", p->offer.t.ufrag);
  rp.has_fingerprint = p->offer.t.has_fingerprint;
  memcpy(rp.fingerprint, p->offer.t.fingerprint, sizeof rp.fingerprint);
  rp.opus_pt = (uint8_t)m->opus_pt;
  rp.audio_level_id =
      (uint8_t)(m->audio_level_id >= 1 && m->audio_level_id <= 14 ? m->audio_level_id : 0);
  rp.dtls = s->app->dtls;
  rp.direction = direction;
  rp.only_source = only_source;
  sc_rtc_t *r = sc_rtc_new(&rp);
  if (!r) return NULL;
  snprintf(ufrag, SC_ICE_UFRAG_LEN + 1, "%s", sc_rtc_local_ufrag(r));
  snprintf(pwd, SC_ICE_PWD_LEN + 1, "%s", sc_rtc_local_pwd(r));
  return r;
}

static int write_answer(ion_session_t *s, const parsed_offer_t *p, const sc_sdp_take_t *take,
                        const char *ufrag, const char *pwd, char *out, size_t cap) {
  sc_sdp_take_t takes[SC_SDP_OA_MAX_SECTIONS];
  memset(takes, 0, sizeof takes);
  takes[p->audio] = *take;
  sc_sdp_local_t l = {
      .ip = s->ip,
      .port = sc_media_port_for_room(s->app->media, s->vs->channel->room_id),
      .ufrag = ufrag,
      .pwd = pwd,
      .session_id = s->sdp_session,
      .version = ++s->sdp_version,
  };
  sc_dtls_ctx_fingerprint_bytes(s->app->dtls, l.fingerprint);
  return sc_sdp_write_answer(&l, &p->offer, takes, p->offer.n, out, cap);
}

int ion_session_publish(ion_session_t *s, const char *sdp, size_t len, char *out, size_t cap,
                        ion_err_t *err) {
  if (!s->app->media || !s->app->dtls) {
    set_err(err, 503, "%s", "no WebRTC media plane");
    return -1;
  }
  parsed_offer_t *p = read_offer(sdp, len, err);
  if (!p) return -1;
  char ufrag[SC_ICE_UFRAG_LEN + 1], pwd[SC_ICE_PWD_LEN + 1];
  int n = -1;
  sc_rtc_t *r = new_rtc(s, p, SC_RTC_RECV_ONLY, 0, ufrag, pwd);
  if (!r) {
    set_err(err, 500, "%s", "cannot create the transport");
    goto out;
  }
  sc_sdp_take_t take = {.take = SC_SDP_TAKE_RECV};
  n = write_answer(s, p, &take, ufrag, pwd, out, cap);
  if (n < 0) {
    sc_rtc_free(r);
    set_err(err, 400, "%s", "cannot answer this offer");
    goto out;
  }
  /* A new publish replaces the old transport: its key and address go. */
  if (s->published) sc_media_reset(s->app->media, s->vs->stats);
  if (sc_media_post_cipher(s->app->media, s->vs->stats, &sc_rtc_cipher_ops, r) < 0) {
    set_err(err, 500, "%s", "out of memory");
    n = -1;
    goto out;
  }
  s->published = 1;
  sc_registry_set_transport(s->app->registry, s->vs, ION_TRANSPORT_KIND, "dtls_srtp");
  /* Discord clients learn the stream's SSRC (and show it) from Speaking. */
  sc_registry_set_speaking(s->app->registry, s->vs, 1);
out:
  sodium_memzero(pwd, sizeof pwd);
  free(p);
  return n;
}

int ion_session_unpublish(ion_session_t *s, ion_err_t *err) {
  if (!s->published) {
    set_err(err, 404, "%s", "nothing published");
    return -1;
  }
  s->published = 0;
  sc_registry_set_speaking(s->app->registry, s->vs, 0);
  sc_media_reset(s->app->media, s->vs->stats);
  sc_registry_release_ssrcs(s->app->registry, s->vs);
  sc_registry_set_transport(s->app->registry, s->vs, "", "");
  return 0;
}

typedef struct {
  const char *mid;
  const sc_vstate_t *found;
} find_mid_t;

static void match_mid(sc_vstate_t *peer, void *arg) {
  find_mid_t *f = arg;
  char mid[ION_MID_MAX];
  ion_session_stream_mid(peer, mid, sizeof mid);
  if (!f->found && ion_session_has_stream(peer) && strcmp(mid, f->mid) == 0) f->found = peer;
}

int ion_session_subscribe(ion_session_t *s, const char *mid, const char *sdp, size_t len, char *out,
                          size_t cap, char sid[ION_SID_MAX], ion_err_t *err) {
  if (!s->app->media || !s->app->dtls) {
    set_err(err, 503, "%s", "no WebRTC media plane");
    return -1;
  }
  find_mid_t f = {mid, NULL};
  sc_registry_each_peer(s->vs->channel, s->vs, match_mid, &f);
  if (!f.found) {
    set_err(err, 404, "no stream %s in this room", mid);
    return -1;
  }
  if (s->n_subs >= s->max_subs) {
    set_err(err, 429, "%s", "too many subscriptions");
    return -1;
  }
  uint32_t source = f.found->ssrc;
  parsed_offer_t *p = read_offer(sdp, len, err);
  if (!p) return -1;
  char ufrag[SC_ICE_UFRAG_LEN + 1], pwd[SC_ICE_PWD_LEN + 1], track[ION_MID_MAX + 8];
  int n = -1;
  sc_rtc_t *r = new_rtc(s, p, SC_RTC_SEND_ONLY, source, ufrag, pwd);
  if (!r) {
    set_err(err, 500, "%s", "cannot create the transport");
    goto out;
  }
  snprintf(track, sizeof track, "%s-audio", mid);
  sc_sdp_take_t take = {.take = SC_SDP_TAKE_SEND,
                        .ssrc = source,
                        .cname = ION_CNAME,
                        .msid_stream = mid,
                        .msid_track = track};
  n = write_answer(s, p, &take, ufrag, pwd, out, cap);
  if (n < 0) {
    sc_rtc_free(r);
    set_err(err, 400, "%s", "cannot answer this offer");
    goto out;
  }
  uint32_t leg_ssrc = 0;
  sc_member_stats_t *leg = sc_registry_add_leg(s->app->registry, s->vs, &leg_ssrc);
  if (!leg) {
    sc_rtc_free(r);
    set_err(err, errno == ENOSPC ? 429 : 500, "%s",
            errno == ENOSPC ? "too many legs" : "out of memory");
    n = -1;
    goto out;
  }
  if (sc_media_post_cipher(s->app->media, leg, &sc_rtc_cipher_ops, r) < 0) {
    sc_registry_remove_leg(s->app->registry, s->vs, leg);
    set_err(err, 500, "%s", "out of memory");
    n = -1;
    goto out;
  }
  ion_sub_t *sub = &s->subs[s->n_subs++];
  snprintf(sub->sid, sizeof sub->sid, "sub-%u", ++s->next_sid);
  snprintf(sub->mid, sizeof sub->mid, "%s", mid);
  sub->source_ssrc = source;
  sub->leg = leg;
  snprintf(sid, ION_SID_MAX, "%s", sub->sid);
out:
  sodium_memzero(pwd, sizeof pwd);
  free(p);
  return n;
}

int ion_session_unsubscribe(ion_session_t *s, const char *sid, const char *mid, ion_err_t *err) {
  int removed = 0;
  for (int i = s->n_subs - 1; i >= 0; i--) {
    int hit = sid ? strcmp(s->subs[i].sid, sid) == 0 : mid && strcmp(s->subs[i].mid, mid) == 0;
    if (!hit) continue;
    remove_sub(s, i);
    removed++;
  }
  if (removed) return 0;
  set_err(err, 404, "no subscription %s", sid ? sid : mid ? mid : "named");
  return -1;
}

void ion_session_drop_source(ion_session_t *s, uint32_t source_ssrc) {
  for (int i = s->n_subs - 1; i >= 0; i--)
    if (s->subs[i].source_ssrc == source_ssrc) remove_sub(s, i);
}
