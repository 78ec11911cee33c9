/*
 * dv_session: one authenticated voice session of the gateway, the middle
 * of the gateway stack (dv_conn <- dv_session <- dv_gateway;
 * docs/ARCHITECTURE.md), and the table of sessions (dv_sessions_t) the
 * gateway embeds and passes down: what a session needs from above (the
 * app, the limits, the timers) comes through it, so this file never
 * includes or calls the gateway.
 *
 * A session is attached to its voice state in the registry from creation
 * to end, so the room talks to it (peers joining, leaving, speaking) with
 * or without a socket. Every message it sends is numbered (dv_resume) and
 * kept until the client acknowledges it (v8) or, for older clients, while
 * no socket is bound; a resume re-sends what the client has not seen.
 * Budgets (docs/GATEWAY.md "Budgets"): the kept text is bounded by
 * lim->resume_bytes (over it a bound socket is closed with 4015 so the
 * client resumes), and what a member makes the room relay (ops 12, 18,
 * 20) by lim->relay_bytes per rate window.
 *
 * Threads: control (lws) thread only.
 * Memory: sessions are heap objects owned by the table (by session id). A
 * session ends (and is freed) by dv_session_end, by its grace timer, or
 * when the registry ends its voice state (on_ended). A socket (dv_conn_t)
 * points at its session only while bound.
 */
#ifndef DV_SESSION_H
#define DV_SESSION_H

#include <jansson.h>

#include "dv_conn.h"
#include "dv_crypto.h"
#include "dv_limits.h"
#include "dv_resume.h"
#include "dv_timer.h"
#include "dv_webrtc_codec.h"
#include "sc_app.h"
#include "sc_log.h"
#include "sc_hmap.h"
#include "sc_registry.h"

/* Budget and refusal counters (admin API: frontends."discord voice
 * gateway"). */
typedef struct {
  uint64_t resume_over_budget; /* sockets closed 4015: kept bytes over budget */
  uint64_t relay_over_budget;  /* sessions closed 4021: relayed bytes over budget */
  uint64_t ssrc_refused;       /* SSRCs of op 12 relayed as 0: not the member's */
  sc_log_limit_t ssrc_refused_log;
  uint64_t webrtc_refused; /* webrtc Select Protocol closed 4020: unreadable offer */
  sc_log_limit_t webrtc_refused_log;
  uint64_t codec_switches; /* calls whose video codec changed (op 14 to each member) */
  uint64_t codec_updates;  /* client op 14 with codecs read */
  uint64_t codec_refused;  /* client op 14 refused: not an array, or over the relay budget */
  sc_log_limit_t codec_log, codec_refused_log;
} dv_session_stats_t;

typedef struct dv_session dv_session_t;

/* Called when a session ends (before it is freed), whatever ended it: the
 * gateway's DAVE state drops the member (dv_e2ee). */
typedef void (*dv_session_end_fn)(void *ctx, dv_session_t *s);
/* Called when a peer attaches to (joined 1) or detaches from (0) the
 * session's room, after the session told its client: the gateway's DAVE
 * state counts the members of other front ends (dv_e2ee). Every session of
 * the room gets the call for the same peer. */
typedef void (*dv_session_peer_fn)(void *ctx, dv_session_t *s, const sc_vstate_t *peer, int joined);

/* Every session of a gateway, and what they need from it. */
typedef struct dv_sessions {
  sc_app_t *app;
  const dv_limits_t *lim;
  dv_timers_t *timers;
  sc_hmap_t by_id; /* session id -> dv_session_t */
  int stopping;    /* sockets closing from now on leave no session behind */
  dv_session_stats_t stats;
  dv_session_end_fn on_end; /* or NULL */
  void *on_end_ctx;
  dv_session_peer_fn on_peer; /* or NULL; with on_end_ctx */
} dv_sessions_t;

typedef struct dv_session dv_session_t;

/* What a member announced about itself, re-told to newcomers. */
enum { DV_ANNOUNCE_VIDEO, DV_ANNOUNCE_FLAGS, DV_ANNOUNCE_PLATFORM, DV_ANNOUNCE_COUNT };

struct dv_session {
  dv_sessions_t *tab;
  sc_vstate_t *vs;
  char id[SC_SESSION_ID_LEN + 1];
  dv_conn_t *conn; /* bound socket, or NULL while waiting for a resume */
  int version;     /* of the socket that identified or resumed last */
  dv_mode_t mode;
  int selected;          /* Select Protocol done */
  int64_t identified_us; /* monotonic time of Identify until the Session Description; 0 after */
  dv_resume_t out;       /* numbered messages kept for re-delivery */
  uint32_t unbound_at;   /* out.last when the socket went away (v<8 resume) */
  dv_timer_t grace;
  dv_rate_t relay;                     /* bytes of announcements relayed (relay_bytes) */
  json_t *announce[DV_ANNOUNCE_COUNT]; /* op 12/18/20 payloads as relayed */
  int dave_max;                        /* Identify's max_dave_protocol_version (v8 only; else 0) */
  int dave_version;                    /* DAVE protocol version told in op 4 or by a transition */
  struct dv_e2ee_gate *gate;           /* shared with the member's cipher (dv_crypto.h) */
  /* The call-wide video codec (dv_webrtc): */
  dv_codec_caps_t codecs;    /* what its op 1 / op 14 codecs said (zero: no video) */
  uint8_t video_told;        /* 1 + DV_CODEC_* told in op 4 / op 14; 0: none yet */
  uint8_t webrtc;            /* its transport is sc_rtc (posted video filters) */
  uint8_t rtc_video;         /* webrtc: bits 1 << DV_CODEC_* op 1 gave a PT */
  char media_session_id[33]; /* op 4's, repeated in op 14 */
};

extern const sc_attach_ops_t dv_session_attach_ops;

void dv_sessions_init(dv_sessions_t *t, sc_app_t *app, const dv_limits_t *lim, dv_timers_t *timers);
/* Ends every session (closing bound sockets with code) and frees the
 * index. */
void dv_sessions_free(dv_sessions_t *t, int code, const char *why);

/* New session for vs (which no dv session holds), attached to it in the
 * registry (peers are told) and indexed. NULL on ENOMEM. */
dv_session_t *dv_session_create(dv_sessions_t *t, sc_vstate_t *vs, int version);
/* Ends the session: closes a bound socket with `code` (0: leave it), detaches
 * it from its voice state (peers get op 13), drops its media binding and
 * key (its voice state stays, owned by Litecord) and frees it. */
void dv_session_end(dv_session_t *s, int code, const char *why);
dv_session_t *dv_session_find(dv_sessions_t *t, const char *session_id);

void dv_session_bind(dv_session_t *s, dv_conn_t *c);
/* The bound socket went away: wait for a resume (or end at once when the
 * grace period is 0 or the gateway is stopping). */
void dv_session_unbind(dv_session_t *s);

/* Sends a numbered message (steals d), keeping it for re-delivery. */
void dv_session_send(dv_session_t *s, int op, json_t *d);
/* Sends a numbered binary frame (u16 wire seq | u8 op | payload), kept
 * for re-delivery like the JSON ones (one counter for both). */
void dv_session_send_binary(dv_session_t *s, int op, const uint8_t *payload, size_t len);
/* After Ready: who is here (op 11), their SSRCs (op 5) and what they
 * announced (ops 12, 18, 20). */
void dv_session_greet(dv_session_t *s);
/* Sends op with payload d (steals it) to every attached peer. */
void dv_session_relay(dv_session_t *s, int op, json_t *d);
/* Stores what the member announced (steals d) and relays a copy. Returns
 * 0, or -ENOBUFS (nothing stored or relayed, counted) when the member's
 * relay budget (lim.relay_bytes per rate window) is spent. */
int dv_session_announce(dv_session_t *s, int kind, int op, json_t *d);
/* Claims another SSRC (video, RTX) for the member in the registry and, if
 * newly claimed, registers it with the media plane. Returns 0 when ssrc is
 * now one of the member's aliases, or the sc_registry_claim_ssrc error
 * (-EEXIST: the member's audio SSRC or another state's). */
int dv_session_alias(dv_session_t *s, uint32_t ssrc);
/* Forgets the member's aliases (a new client: with a media reset). */
void dv_session_release_aliases(dv_session_t *s);

/* v8 heartbeat seq_ack. */
void dv_session_ack(dv_session_t *s, long long ack);
/* Resume on socket c: has_ack/ack from the Resume payload. Binds c, sends
 * Resumed and the messages the client has not seen. Returns 0, or -ESTALE
 * when some of them are gone (nothing was sent; the caller ends it). */
int dv_session_resume(dv_session_t *s, dv_conn_t *c, int has_ack, long long ack);

#endif
