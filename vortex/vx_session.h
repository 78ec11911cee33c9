/*
 * vx_session: one authenticated Vortex client, the middle of the stack
 * (vx_conn <- vx_session <- vx_proto; docs/VORTEX.md). It owns:
 *
 *  - the attachment to the voice state its token named
 *    (sc_registry_take_over: a second connection with the same token, of
 *    any front end, replaces the first; e2ee capability 0: no DAVE), and
 *    the registry's callbacks, turned into Vortex events (UserJoined,
 *    UserLeft, UserStartProduce, UserStopProduce) and closes; a member
 *    Litecord mutes or suppresses has no audio (UserStopProduce, and
 *    UserStartProduce when the flag is lifted), whatever its front end;
 *  - the two WebRTC transports of mediasoup's SplitWebRTC mode. The send
 *    transport (the client publishes) is the voice state's own media
 *    member, sc_rtc in direction RECV_ONLY, handed to the media plane at
 *    StartProduce with the producer's Opus PT and audio-level id. The
 *    receive transport is one leg (sc_registry_add_leg), sc_rtc in
 *    direction SEND_ONLY with skip_source = the user's own SSRC, Opus as
 *    the router's PT, handed over at its ConnectTransport. Both are made
 *    at InitializeTransports (our ICE credentials go out then) and get
 *    the client's DTLS fingerprint from ConnectTransport;
 *  - the producer (one audio producer, announced to peers through the
 *    registry's speaking flags) and the consumers (one per source user,
 *    each with a pause flag), whose forwarding set is the receive
 *    transport's policy (vx_filter). Each consumer has its own SSRC, as
 *    mediasoup's do (mediasoup-client keeps a closed consumer's SSRC in
 *    its first m-section, so reusing it breaks the next consumer): the
 *    receive transport rewrites the source's SSRC to it
 *    (sc_rtc_map_ssrc, through sc_media_post_ssrc_map once handed over),
 *    and forgets it, with its SRTP stream, when the consumer closes.
 *
 * Threads: control (lws) thread only (vx_filter's worker side apart).
 * Memory: vx_session_attach allocates the session; vx_session_end frees
 * it (transports never handed over are freed here, the others by the
 * media plane). The connection holds it in vx_conn_t.session.
 */
#ifndef VX_SESSION_H
#define VX_SESSION_H

#include <stdint.h>

#include "sc_app.h"
#include "sc_ice.h"
#include "sc_registry.h"
#include "sc_ssrcmap.h"
#include "vx_conn.h"
#include "vx_filter.h"

#define VX_ROUTER_OPUS_PT 100 /* the router's (and every consumer's) Opus PT */
#define VX_ROUTER_LEVEL_ID 10 /* the router's audio-level extension id */
/* Consumers per client: each has its own SSRC on the receive transport
 * (sc_rtc_map_ssrc), whose table holds SC_SSRCMAP_MAX. */
#define VX_MAX_CONSUMERS SC_SSRCMAP_MAX
#define VX_HEX_ID_LEN 32 /* transport, consumer ids: 128 bits of hex */

typedef enum { VX_SEND = 0, VX_RECV = 1 } vx_dir_t;

typedef struct {
  char id[VX_HEX_ID_LEN + 1];
  struct sc_rtc *rtc; /* made at InitializeTransports; NULL once handed over */
  char ufrag[SC_ICE_UFRAG_LEN + 1];
  char pwd[SC_ICE_PWD_LEN + 1];
  int connected; /* ConnectTransport done */
  int posted;    /* handed to the media plane */
} vx_transport_t;

typedef struct {
  char id[VX_HEX_ID_LEN + 1];
  char user_id[SC_ID_MAX];
  uint32_t ssrc;     /* the source user's SSRC (its media plane member) */
  uint32_t out_ssrc; /* the consumer's own (encodings[0].ssrc), fresh per consumer */
  int paused;
  unsigned mid;
} vx_consumer_t;

typedef struct vx_session {
  sc_app_t *app;
  vx_conn_t *conn; /* NULL once the connection is gone */
  sc_vstate_t *vs;
  const char *candidate_ip;
  int transports;   /* InitializeTransports done */
  int client_level; /* the client's capabilities have the audio level */
  vx_transport_t t[2];
  sc_member_stats_t *leg; /* the receive transport's leg, once connected */
  vx_filter_t *filter;
  int producing;
  uint32_t producer_ssrc; /* the SSRC the client announced (0: none yet) */
  vx_consumer_t consumers[VX_MAX_CONSUMERS];
  int n_consumers;
  unsigned next_mid;
  /* SSRCs of the members of other front ends this client was told have
   * no audio because Litecord mutes or suppresses them (UserStopProduce,
   * or left out when it learnt of them), so that lifting the flag is told
   * once (UserStartProduce). At most one per member of the room; grown on
   * the control thread, freed with the session. */
  uint32_t *held;
  size_t n_held, cap_held;
} vx_session_t;

/* The registry's callbacks of every Vortex session. */
extern const sc_attach_ops_t vx_session_attach_ops;

/* Attaches conn to vs (taking it over), or NULL (ENOMEM). */
vx_session_t *vx_session_attach(sc_app_t *app, vx_conn_t *conn, sc_vstate_t *vs,
                                const char *candidate_ip);
/* Detaches and frees; closes the connection with code first if code and
 * the connection is still there. */
void vx_session_end(vx_session_t *s, int code, const char *why);

/* The transports for InitializeTransports; client_level: the client can
 * receive the audio level. 0, -EALREADY, -ENOTSUP (no media plane or
 * DTLS context) or -ENOMEM. */
int vx_session_init_transports(vx_session_t *s, int client_level);
/* Which transport has id, or -1. */
int vx_session_transport_dir(const vx_session_t *s, const char *id);
/* ConnectTransport: the client's certificate fingerprint (sha-256). 0,
 * -EALREADY, -ENOSPC (no leg left) or -ENOMEM. */
int vx_session_connect(vx_session_t *s, vx_dir_t d, const uint8_t fp[32]);

/* StartProduce of audio with the client's Opus PT, audio-level id (0:
 * none) and SSRC (0: not told). 0, -EALREADY (producing), -EPERM
 * (server mute or suppress), -ENOTCONN (send transport not connected),
 * -ENOMEM. Announced to peers. A later producer (mediasoup-client makes a
 * new SSRC for each) is heard once the previous one fell silent (sc_rtc). */
int vx_session_produce(vx_session_t *s, int opus_pt, int level_id, uint32_t ssrc);
/* StopProduce: 0, or -ENOENT when not producing. */
int vx_session_stop_produce(vx_session_t *s);

/* StartConsume of user_id's audio: the new consumer (paused), or NULL
 * with *err: -ENOENT (no such peer in the room), -EAGAIN (the peer has no
 * producer), -ENOSPC (VX_MAX_CONSUMERS), -EALREADY (already consumed),
 * -ENOMEM (its SSRC could not be posted). */
const vx_consumer_t *vx_session_consume(vx_session_t *s, const char *user_id, int *err);
/* StopConsume / SetConsumerPause: 0, or -ENOENT (not one of ours). */
int vx_session_stop_consume(vx_session_t *s, const char *id);
int vx_session_pause(vx_session_t *s, const char *id, int paused);

/* 1 if peer has audio to consume: a Vortex peer with a producer (not
 * server-muted or suppressed: see announce), any other attached member
 * (its SSRC is known from the start) that Litecord neither mutes nor
 * suppresses. */
int vx_session_peer_has_audio(const sc_vstate_t *peer);

#endif
