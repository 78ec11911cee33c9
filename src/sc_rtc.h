/*
 * sc_rtc: the WebRTC transport of the media plane, protocol-neutral. One
 * sc_rtc_t per WebRTC member holds its ICE-lite agent (sc_ice), its DTLS
 * session (sc_dtls), its SRTP sessions (sc_srtp) and what signalling
 * negotiated (the peer's Opus payload type, its audio-level extension id).
 * It plugs into the media plane as the member's cipher
 * (sc_rtc_cipher_ops: open = SRTP unprotect + header parse, seal = a
 * header for this receiver + SRTP protect), like Discord's cipher table.
 *
 * One worker's sc_rtc_table_t finds WebRTC members on the worker's
 * shared UDP socket (../shared/reference/webrtc.md 2.1): by our ICE ufrag
 * (a STUN check from a tuple not seen before) and by validated tuple
 * (everything after a valid check). Both are open-addressing hashes sized
 * when a member is attached (a command), so no packet allocates; a
 * member's tuples are its ICE agent's validated pairs (at most
 * SC_ICE_MAX_PAIRS).
 *
 * Payload types: inside the media plane Opus travels as PT
 * SC_RTC_OPUS_PT_CORE (Discord's 120, what Discord UDP members send and
 * expect): open maps the peer's Opus PT to it, seal maps it back to the
 * receiver's. Video likewise (sc_rtc_video: VP8 and H264, with RTX, under
 * Discord's PTs inside): a video packet keeps its own SSRC, which the
 * media plane forwards only if it is one of the member's (announced and
 * claimed by signalling, like a Discord UDP member's video), and only to
 * receivers that negotiated its codec. Other payload types from a WebRTC
 * peer are dropped; packets of other PTs are not sent to it. The peer's own
 * SSRC is bound by its DTLS session: the first authenticated Opus SSRC
 * becomes its audio SSRC, others are refused (counted); the media plane
 * forwards its packets under the member's own SSRC, the one the
 * signalling announces to everyone, unless a receiving transport maps
 * that source to a consumer SSRC of its own (sc_rtc_map_ssrc, sc_ssrcmap).
 *
 * RTCP is terminated per member (sc_rtc_rtcp over sc_rtcp): what a peer sends is parsed
 * and counted (its SR kept for our LSR/DLSR), never relayed; we send each
 * ready member a compound SR/RR/SDES report from the worker's timer turn
 * (sc_rtc_rtcp_tick), never from the packet path. Seal notes each copy
 * in the member's fixed table of forwarded sources (no allocation).
 * A key-frame request (PLI, FIR) another member's RTCP makes of this
 * member's video comes to sc_rtc_request_keyframe: a PLI in this
 * member's SRTCP, rate-limited per video SSRC (sc_rtc_video).
 *
 * DTLS handshakes run on the worker, at most SC_RTC_HANDSHAKE_STEPS
 * datagrams and SC_RTC_HANDSHAKE_US of DTLS work per receive batch or
 * turn of the worker's loop; the rest wait in a bounded queue (in
 * arrival order; dropped and counted when it is full: the peer
 * retransmits), so a burst of handshakes delays the others' forwarding
 * by about one budget per batch, not by the burst.
 *
 * Threads: sc_rtc_new on the control thread; once handed over with
 * sc_media_post_cipher, everything else runs on the worker that owns the
 * member. The table is the worker's.
 * Memory: sc_rtc_new allocates the member state; its ops->free (the
 * worker's, after the hand-over) detaches it from its table and frees
 * the ICE, DTLS and SRTP state. Detaching allocates nothing. The DTLS
 * session itself goes once keyed and proven (the peer's first authentic
 * SRTP or SRTCP), or a while after it connected if the peer stays silent. The DTLS
 * context (certificate) is process-wide and outlives every member.
 */
#ifndef SC_RTC_H
#define SC_RTC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_addr_map.h"
#include "sc_dtls.h"
#include "sc_hmap.h"
#include "sc_ice.h"
#include "sc_media.h"
#include "sc_rtc_video.h"
#include "sc_udp.h"

#define SC_RTC_OPUS_PT_CORE 120   /* Opus inside the media plane (Discord UDP) */
#define SC_RTC_HANDSHAKE_STEPS 16 /* DTLS datagrams read per receive batch */
#define SC_RTC_HANDSHAKE_US 500   /* and microseconds of DTLS work per batch */
#define SC_RTC_DEFER_MAX 128      /* DTLS datagrams waiting for a later turn, per worker */
#define SC_RTC_CRED_MAX SC_ICE_REMOTE_UFRAG_MAX /* bytes of the peer's ufrag */
#define SC_RTC_RTCP_TICK_MS 100                 /* how often the table looks for due RTCP reports */

enum { SC_RTC_SENDRECV = 0, SC_RTC_RECV_ONLY, SC_RTC_SEND_ONLY }; /* sc_rtc_params_t.direction */

/* What signalling negotiated for one WebRTC member. Our own ICE
 * credentials are sc_ice's (from the CSPRNG): read them with
 * sc_rtc_local_ufrag/_pwd before handing the state over. The peer's
 * password is not needed: an ICE-lite agent never sends a check. */
typedef struct {
  char remote_ufrag[SC_RTC_CRED_MAX + 1];
  /* 1: remote_ufrag may be empty, and then a check's USERNAME may carry
   * any peer part (mediasoup-client never tells the server its ICE
   * credentials; our ufrag and password still authenticate the check). */
  int any_remote_ufrag;
  int has_fingerprint; /* the peer's certificate is checked against it */
  uint8_t fingerprint[SC_DTLS_FP_LEN];
  uint8_t opus_pt;        /* the peer's Opus payload type, both ways */
  uint8_t audio_level_id; /* ssrc-audio-level extmap id (1..14), 0: not negotiated */
  /* The peer's video PTs by codec (SC_RTC_VP8, ...; sc_rtc_video.h), 0:
   * not negotiated (then it neither sends nor gets that codec). */
  uint8_t video_pt[SC_RTC_VIDEO_PTS];
  sc_dtls_ctx_t *dtls; /* process-wide; outlives the member */
  /* Which way media flows on this transport, seen from the server
   * (SC_RTC_SENDRECV = 0 is Discord's webrtc mode). RECV_ONLY: a client's
   * publishing transport; nothing is forwarded to it. SEND_ONLY: a down
   * transport (a leg, sc_registry_add_leg); RTP from it is dropped and
   * counted, its RTCP is read. */
  int direction;
  /* Forward to this transport only packets of this source SSRC (a down
   * peer connection per remote stream); 0: every source. */
  uint32_t only_source;
  /* Never forward this source SSRC to it (the voice state's own, so a
   * user never hears itself on a down leg); 0: none. */
  uint32_t skip_source;
  /* Optional: the front end's policy on what this member may receive
   * (e.g. end-to-end encrypted frames only while its client can decrypt
   * them). declines(policy, pkt) != 0 makes seal return
   * SC_MEDIA_SEAL_DECLINED, as a front end's own cipher would. Called on
   * the worker for every packet to this member; release(policy) when the
   * member state is freed. The state owns policy once sc_rtc_new
   * succeeded; on failure it is still the caller's. */
  int (*declines)(void *policy, const sc_media_pkt_t *pkt);
  void (*release)(void *policy);
  void *policy;
  /* 1: the client speaks DAVE (Discord's webrtc mode), and gets
   * DAVE-encrypted frames (payload ending FA FA) if its policy agrees.
   * 0 (the dialects without DAVE: Vortex, Galene, ion): it never gets
   * one, whatever its policy (declined and counted); its client could only
   * play it as noise, and one comes while a call downgrades for it. */
  int e2ee;
  /* Video PTs of video_pt switched off one way from the start
   * (sc_rtc_video_set_filter; 0: both ways), changed later on the worker
   * by sc_rtc_set_video_filter (sc_media_post_video_filter). */
  uint8_t video_seal_off, video_open_off;
} sc_rtc_params_t;

typedef struct sc_rtc sc_rtc_t;

/* Counters: sc_rtc_stats_t (sc_media.h), in the table, published by the
 * worker into its media statistics after every receive batch. */

/* Where the table sends STUN answers and DTLS flights: the worker's send
 * batch (one datagram per call). */
typedef void (*sc_rtc_emit_fn)(void *ctx, const uint8_t *buf, size_t len,
                               const struct sockaddr_storage *to);

/* A DTLS datagram that arrived over a batch's budget. */
typedef struct {
  struct sockaddr_storage from;
  uint32_t len;
  uint8_t buf[SC_DTLS_DATAGRAM_MAX];
} sc_rtc_deferred_t;

typedef struct {
  sc_hmap_t ufrags; /* our ufrag (the key lives in the member's sc_ice_t) -> sc_rtc_t */
  size_t n_members;
  sc_addr_map_t tuples;        /* validated tuple -> sc_rtc_t */
  sc_rtc_t *handshaking;       /* sessions with a DTLS timer running */
  int64_t now_ms;              /* monotonic, set per receive batch */
  int steps_left;              /* DTLS datagrams left in this batch */
  int64_t dtls_ns;             /* DTLS work done in this batch */
  sc_rtc_deferred_t *deferred; /* ring of SC_RTC_DEFER_MAX, made at the first attach */
  unsigned deferred_head, n_deferred;
  sc_rtc_emit_fn emit;
  void *emit_ctx;
  sc_rtc_stats_t stats;
  int64_t rtcp_next_ms; /* the next look for due RTCP reports */
} sc_rtc_table_t;

/* The member state for p (copied), with fresh ICE credentials, or NULL
 * (ENOMEM, an empty or overlong remote ufrag, no DTLS context). */
sc_rtc_t *sc_rtc_new(const sc_rtc_params_t *p);
/* What signalling learnt after sc_rtc_new, set before the hand-over
 * (control thread): in mediasoup's dialect our ICE credentials go out
 * first and the peer's DTLS fingerprint (ConnectTransport) and codec
 * (StartProduce) come later. */
void sc_rtc_set_fingerprint(sc_rtc_t *r, const uint8_t fp[SC_DTLS_FP_LEN]);
void sc_rtc_set_codec(sc_rtc_t *r, uint8_t opus_pt, uint8_t audio_level_id);
/* Our ICE credentials for the answer (control thread, before hand-over). */
const char *sc_rtc_local_ufrag(const sc_rtc_t *r);
const char *sc_rtc_local_pwd(const sc_rtc_t *r);
void sc_rtc_free(sc_rtc_t *r);
/* For a transport whose offer we write (a down stream): the peer's ICE
 * ufrag and DTLS fingerprint (NULL: none) come with its answer, after our
 * credentials went out in the offer. Replaces what sc_rtc_new was given.
 * Control thread, before the hand-over. 0, or -EINVAL (empty or overlong
 * ufrag). */
int sc_rtc_set_remote(sc_rtc_t *r, const char *ufrag, const uint8_t *fingerprint);
/* An ICE restart of a running member (worker thread; the media plane runs
 * it for sc_media_post_ice_restart): our ICE credentials become c's, the
 * table finds it by the new ufrag, and its DTLS session and SRTP keys
 * stay, as the peer keeps its own across an ICE restart. 0, or -EEXIST
 * (the new ufrag is another member's) or -ENOMEM (the ufrag table could
 * not grow); then nothing changed. */
int sc_rtc_restart_ice(sc_rtc_t *r, const sc_ice_creds_t *c);
/* Worker: the member's video filter (sc_rtc_video_set_filter) becomes
 * seal_off/open_off, e.g. when Discord's call changes its video codec. */
void sc_rtc_set_video_filter(sc_rtc_t *r, uint8_t seal_off, uint8_t open_off);
extern const sc_cipher_ops_t sc_rtc_cipher_ops;

void sc_rtc_table_init(sc_rtc_table_t *t, sc_rtc_emit_fn emit, void *emit_ctx);
/* Every member must have been freed (detached) before. */
void sc_rtc_table_fini(sc_rtc_table_t *t);

/* Makes r findable by its ufrag and its tuples; owner is returned with
 * its media packets (the media plane's member). 0, -EEXIST (ufrag in
 * use) or -ENOMEM. Worker thread, when the cipher command is applied. */
int sc_rtc_attach(sc_rtc_table_t *t, sc_rtc_t *r, void *owner);

/* Start of a receive batch: the clock, and a fresh handshake budget. */
void sc_rtc_batch(sc_rtc_table_t *t, int64_t now_ms);

/* The member whose validated tuple from is, or NULL. */
sc_rtc_t *sc_rtc_find_tuple(const sc_rtc_table_t *t, const struct sockaddr_storage *from);

/* What sc_rtc_input did with a datagram. */
typedef enum {
  SC_RTC_DONE = 0,  /* consumed (answered, fed to DTLS, or dropped and counted) */
  SC_RTC_MEDIA,     /* SRTP/SRTCP of res->owner: open it with its cipher */
  SC_RTC_NOMINATED, /* a check moved res->owner's send address to res->send_to */
} sc_rtc_verdict_t;

typedef struct {
  void *owner; /* the media plane's member (sc_rtc_attach) */
  sc_rtc_t *r;
  const sc_udp_addr_t *send_to; /* SC_RTC_NOMINATED: valid until the next input */
} sc_rtc_result_t;

/* A datagram from from: r is its tuple's member (sc_rtc_find_tuple) or
 * NULL for an unknown tuple (then only STUN naming one of our ufrags is
 * read). Answers and DTLS flights go out through the table's emit. */
sc_rtc_verdict_t sc_rtc_input(sc_rtc_table_t *t, sc_rtc_t *r, const uint8_t *buf, size_t len,
                              const struct sockaddr_storage *from, sc_rtc_result_t *res);

/* A turn of the worker's loop: deferred DTLS datagrams (within a fresh
 * budget), due DTLS retransmissions and deadlines; returns milliseconds
 * until it wants to run again (-1: nothing pending). */
int64_t sc_rtc_tick(sc_rtc_table_t *t, int64_t now_ms);

/* RTCP, terminated per leg (sc_rtcp): each ready member gets a compound
 * report about every RFC 3550 interval (randomised): an SR per source
 * SSRC recently forwarded to it (RTP time mapped from the last packet
 * on the source's clock, Opus 48 kHz, video 90 kHz; packet and octet
 * counts), an RR about the peer's own stream from our
 * receive statistics (rx: the owner's sc_quality reading, 0 or -1 if
 * none), SDES CNAME; SRTCP-protected with its outbound session and sent
 * through the table's emit to its send tuple. Never per packet: a turn
 * of the worker's loop calls it, it looks at most every
 * SC_RTC_RTCP_TICK_MS. Returns milliseconds until it wants to run again
 * (-1: no members). */
typedef int (*sc_rtc_rx_fn)(void *ctx, void *owner, sc_quality_reading_t *out);
int64_t sc_rtc_rtcp_tick(sc_rtc_table_t *t, int64_t now_ms, sc_rtc_rx_fn rx, void *ctx);

/* Another member asked for a key frame of this member's video SSRC
 * (a PLI or FIR in its RTCP, sc_mpath): a PLI from SC_RTCP_SERVER_SSRC
 * about it goes to the peer in SRTCP (after an empty RR: a compound
 * packet), unless one went less than SC_RTC_PLI_INTERVAL_MS ago. Worker
 * thread, attached members only. 0 (sent), -EBUSY (rate-limited),
 * -EAGAIN (not ready: no keys, no consent, SRTCP refused); each counted
 * (webrtc.pli_sent, pli_limited, pli_unsent). */
int sc_rtc_request_keyframe(sc_rtc_t *r, uint32_t video_ssrc);
/* 1 if the peer sent codec (not RTX) video on ssrc lately: the streams a
 * new receiver's key frame is asked of. Worker thread. */
int sc_rtc_sends_video(const sc_rtc_t *r, uint32_t ssrc);

/* Consumer SSRCs (mediasoup gives each consumer its own): copies of
 * source's packets go to this receiver under out instead of source's own
 * SSRC, and its SRs name out. out 0 removes the pair. Whenever an out
 * SSRC stops being used (removed, or replaced) its outbound SRTP stream
 * is freed and its SR forgotten, so consumers closed and made again
 * never use up the outbound SSRC budget. At most SC_SSRCMAP_MAX pairs
 * (sc_ssrcmap.h; beyond: -ENOSPC, and source keeps its own SSRC here).
 * Control thread before the hand-over, then the worker
 * (sc_media_post_ssrc_map). The first pair allocates the transport's
 * table. 0, -EINVAL (source 0), -ENOMEM or -ENOSPC. */
int sc_rtc_map_ssrc(sc_rtc_t *r, uint32_t source, uint32_t out);
/* SSRCs the outbound SRTP session has streams for (0 before keys). */
int sc_rtc_outbound_streams(const sc_rtc_t *r);

/* 1 while the peer's consent is fresh (a valid check in the last
 * SC_ICE_CONSENT_MS) and SRTP is keyed: media may flow. */
int sc_rtc_ready(const sc_rtc_t *r, int64_t now_ms);

#endif
