/*
 * gl_session: one joined Galène client bound to its voice state, above
 * gl_conn (gl_conn <- gl_session <- gl_proto). It owns what the client
 * joined into: the registry attachment (sc_registry_take_over: one voice
 * state, one media session), the members list it was told (`user`
 * messages), its up stream (the voice state's own media member, a
 * receive-only WebRTC transport) and its down streams (one leg per remote
 * source: a send-only WebRTC transport filtered to that source's SSRC,
 * offered by us, its cipher posted when the client's answer names its
 * ICE ufrag and DTLS fingerprint). Litecord's flags are enforced here:
 * server mute or suppress takes `present` away and aborts the up stream,
 * deafen closes the down streams, the end of the voice state kicks.
 *
 * SDP comes from the core's sc_sdp_oa: our offers of one send-only Opus
 * section (a=msid, a=ssrc = the source's SSRC), our answers of one
 * receive-only section; ICE-lite, so the client's trickled candidates are
 * not needed.
 *
 * Threads: control (lws) thread only.
 * Memory: gl_session_join allocates the session; gl_session_end (the
 * socket closed or the client left) or the registry's on_ended frees it
 * and unbinds it from its connection. Down streams live in a fixed array.
 */
#ifndef GL_SESSION_H
#define GL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "gl_conn.h"
#include "gl_msg.h"
#include "sc_registry.h"
#include "sc_rtc.h"

#define GL_DOWN_MAX 32 /* down streams per client (legs: SC_LEGS_MAX) */
#define GL_OPUS_PT 111 /* the Opus payload type of our offers */
#define GL_TRANSPORT_KIND "galene"

typedef struct {
  int used;
  char id[GL_ID_MAX + 1]; /* our stream id */
  char peer_user[SC_ID_MAX];
  uint32_t source_ssrc;   /* the speaker's vs->ssrc: what this stream carries */
  sc_member_stats_t *leg; /* held by the voice state (sc_registry_add_leg) */
  sc_rtc_t *pending;      /* our offer's transport until the answer posts it */
} gl_down_t;

typedef struct gl_session {
  gl_conn_t *conn; /* NULL once the socket is gone */
  sc_app_t *app;
  sc_vstate_t *vs;
  const char *media_ip;
  char client_id[GL_ID_MAX + 1];
  char group[SC_ID_MAX];
  int wants_audio; /* the client requested audio */
  int present;     /* may publish (not server muted, not suppressed) */
  int deaf;
  char up_id[GL_ID_MAX + 1]; /* "" while not publishing */
  /* The up stream's ICE credentials (ours, and the client's ufrag): a
   * renegotiation that keeps them is answered with them, on the same
   * transport. */
  char up_ufrag[SC_ICE_UFRAG_LEN + 1], up_pwd[SC_ICE_PWD_LEN + 1];
  char up_remote_ufrag[SC_RTC_CRED_MAX + 1];
  gl_down_t down[GL_DOWN_MAX];
  uint64_t sdp_session;
  unsigned sdp_version, next_down;
} gl_session_t;

extern const sc_attach_ops_t gl_session_attach_ops;

/* Joins conn's client to vs (the token's voice state): attaches (replacing
 * any other connection of vs), marks it without DAVE, sends `joined` and
 * a `user add` for every member, self first. NULL on out of memory. */
gl_session_t *gl_session_join(gl_conn_t *conn, sc_vstate_t *vs, const char *media_ip);
/* The client left (`join {kind: leave}`, send_leave: answer `joined
 * leave`) or its socket closed: detach, release the legs and the media
 * member's key, free. */
void gl_session_end(gl_session_t *s, int send_leave);

/* `request`: offer a down stream per member when audio is wanted, close
 * them all when not. */
void gl_session_request(gl_session_t *s, int wants_audio);
/* The client's offer of its up stream (m: a parsed `offer`). Answers, or
 * aborts it with a usermessage error and a counter. */
void gl_session_up_offer(gl_session_t *s, const gl_msg_t *m);
/* The client's answer to our offer of down stream m->id. */
void gl_session_down_answer(gl_session_t *s, const gl_msg_t *m);
/* `renegotiate {id}`: a new offer for the down stream with fresh
 * credentials, under a new id with `replace: id`. */
void gl_session_renegotiate(gl_session_t *s, const char *id);
/* `close {id}`: the client stops its up stream. */
void gl_session_close_up(gl_session_t *s, const char *id);
/* `abort {id}`: the client asks us to close down stream id. */
void gl_session_abort_down(gl_session_t *s, const char *id);
/* 1 if id names one of this client's streams (up or down). */
int gl_session_owns(const gl_session_t *s, const char *id);

#endif
