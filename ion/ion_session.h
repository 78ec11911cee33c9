/*
 * ion_session: an ion client's hold on its voice state, the middle of
 * the ion stack (ion_conn <- ion_session <- ion_proto). It attaches the
 * connection to the state (sc_registry_take_over: one voice state, one
 * media session, whatever the front end), declares the client unable to
 * do DAVE, and owns the client's transports in the media plane:
 *   - the publish peer connection is the voice state's own member
 *     (vs->stats, SSRC vs->ssrc; sc_rtc direction RECV_ONLY);
 *   - each subscription is a leg (sc_registry_add_leg) carrying one
 *     source: direction SEND_ONLY, only_source = the source's vs->ssrc,
 *     announced to the client under that SSRC.
 * A stream of the room is named by its source: mid "<user_id>-<ssrc>".
 * Registry events (peers coming and going, the state's end) go up
 * through the ion_session_events_t its creator gives.
 *
 * Threads: control (lws) thread only.
 * Memory: ion_session_attach allocates the session; ion_session_detach
 * frees it (giving the state back); when the registry ends the state or
 * another connection takes it over, events->ended is called and the
 * session is freed right after it returns: the creator drops its
 * pointer there.
 */
#ifndef ION_SESSION_H
#define ION_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "ion_conn.h"
#include "sc_app.h"
#include "sc_registry.h"
#include "sc_sdp_oa.h"

#define ION_MID_MAX 48 /* "<user_id>-<ssrc>" and a NUL */
#define ION_SID_MAX 24
#define ION_SUBS_MAX 32 /* subscriptions per session, within SC_LEGS_MAX */
#define ION_TRANSPORT_KIND "ion_webrtc"

typedef struct ion_session ion_session_t;

typedef struct {
  void (*peer_join)(void *ctx, ion_session_t *s, const sc_vstate_t *peer);
  void (*peer_leave)(void *ctx, ion_session_t *s, const sc_vstate_t *peer);
  /* The state ended or was taken over; s is freed after this returns. */
  void (*ended)(void *ctx, ion_session_t *s, sc_end_reason_t why);
  /* Litecord changed a peer's flags (the media plane enforces them
   * already): whether it has a stream may have changed. */
  void (*peer_flags)(void *ctx, ion_session_t *s, const sc_vstate_t *peer);
} ion_session_events_t;

typedef struct {
  char sid[ION_SID_MAX];
  char mid[ION_MID_MAX];
  uint32_t source_ssrc;
  sc_member_stats_t *leg; /* vs's reference (sc_registry_add_leg) */
} ion_sub_t;

struct ion_session {
  sc_app_t *app;
  sc_vstate_t *vs;
  ion_conn_t *conn; /* the socket; other sessions' notifications go here */
  const ion_session_events_t *ev;
  void *ev_ctx;
  const char *ip; /* our media IPv4 for SDP (settings block: outlives us) */
  int published;
  unsigned sdp_version;
  uint64_t sdp_session;
  unsigned next_sid;
  int max_subs; /* <= ION_SUBS_MAX */
  int n_subs;
  ion_sub_t subs[ION_SUBS_MAX];
};

/* Takes vs over for conn (a connection already attached to it, of any
 * front end, is told SC_END_REPLACED). NULL on ENOMEM or -EINVAL. */
ion_session_t *ion_session_attach(sc_app_t *app, sc_vstate_t *vs, ion_conn_t *conn, const char *ip,
                                  int max_subs, const ion_session_events_t *ev, void *ev_ctx);
/* The client leaves (leave, or its socket closed): its transports end,
 * the state is detached (peers see it leave) and s is freed. */
void ion_session_detach(ion_session_t *s);

/* The ion session attached to peer, or NULL (another front end, or none). */
ion_session_t *ion_session_of(const sc_vstate_t *peer);
/* 1 if peer has a stream ion clients may subscribe to: every attached
 * member of another front end (its audio arrives under vs->ssrc) and an
 * ion member once it published, while Litecord neither server-mutes nor
 * suppresses it (the media plane drops its audio then). */
int ion_session_has_stream(const sc_vstate_t *peer);
/* The stream name of peer's audio ("<user_id>-<ssrc>"). */
void ion_session_stream_mid(const sc_vstate_t *peer, char *out, size_t cap);

/* Errors of the operations below: an HTTP-like code for the protoo
 * answer (400 bad offer, 404 no such stream, 429 too many, 500/503). */
typedef struct {
  int code;
  char reason[96];
} ion_err_t;

/* The client's publish offer (its whole SDP): our answer into out (cap
 * >= SC_SDP_OA_OUT_MAX), the media plane receiving from it. A second
 * publish replaces the first transport. Length, or -1 and *err. */
int ion_session_publish(ion_session_t *s, const char *sdp, size_t len, char *out, size_t cap,
                        ion_err_t *err);
/* Ends the publish transport (0), or -1 and 404 when none. */
int ion_session_unpublish(ion_session_t *s, ion_err_t *err);
/* The client's recvonly offer for stream mid: a leg sending that source
 * only, our sendonly answer (a=msid <mid>, a=ssrc <source ssrc>) into
 * out and the new subscription's id into sid. Length, or -1 and *err. */
int ion_session_subscribe(ion_session_t *s, const char *mid, const char *sdp, size_t len, char *out,
                          size_t cap, char sid[ION_SID_MAX], ion_err_t *err);
/* Ends the subscription named sid, else every one of mid: 0, or -1 and
 * 404. */
int ion_session_unsubscribe(ion_session_t *s, const char *sid, const char *mid, ion_err_t *err);
/* Ends the subscriptions to source_ssrc (its member left). */
void ion_session_drop_source(ion_session_t *s, uint32_t source_ssrc);

#endif
