/*
 * sc_rtc: see sc_rtc.h. The member state (ICE agent, DTLS session, SRTP
 * sessions), the worker's two look-up tables (ufrag, validated tuple:
 * linear probing with backward-shift deletion, so removing never leaves
 * tombstones and never allocates), the datagram input and the cipher
 * table the media plane calls per packet.
 */
#include "sc_rtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_addr_map.h"
#include "sc_demux.h"
#include "sc_hmap.h"
#include "sc_log.h"
#include "sc_rtc_rtcp.h"
#include "sc_rtp.h"
#include "sc_srtp.h"
#include "sc_ssrcmap.h"
#include "sc_stun.h"

/* SSRCs per direction: audio and room to renegotiate; outbound also our
 * RTCP sender SSRC (SC_RTCP_SERVER_SSRC, when a report has no SR first). */
#define RTC_SRTP_STREAMS 5
/* A transport that carries every source (Vortex's receive transport,
 * Discord's webrtc mode) sends one SSRC per speaker and per video stream
 * in the room, and our RTCP sender SSRC: sc_srtp's largest budget. */
#define RTC_SRTP_STREAMS_ALL 64
/* What a sendrecv peer (Discord's webrtc mode) may send: its audio, a
 * few video streams each with RTX (Discord's op 12 names at most four),
 * its RTCP sender SSRCs and room to renegotiate. The budget each way is
 * sized to what that way carries (4 bytes per SSRC slot per member). */
#define RTC_SRTP_STREAMS_IN_SENDRECV 16
/* A keyed session whose peer has sent no authentic SRTP or SRTCP yet
 * (the usual proof that it has our last flight, see proven) is shed this
 * long after it connected all the same: a peer that lost our last flight
 * retransmits its own on its handshake timer (a second or less at first,
 * then doubling), and each retransmission is answered until then, so by
 * now it has had several answers; if every one was lost the path is
 * dead. Shedding costs such a peer its handshake (it must reconnect),
 * and never re-keys anyone. A keyed peer that stays silent (a receive
 * leg whose browser sends no RTCP yet) no longer holds OpenSSL's
 * handshake state for as long as it stays. */
#define RTC_SHED_AFTER_MS SC_DTLS_HANDSHAKE_MS
#define RTC_REBIND_QUIET_MS 500 /* see check_ssrc */
#define RTC_LEVEL_EXT_LEN 8     /* 0xBEDE preamble + one one-byte element, padded */

struct sc_rtc {
  sc_ice_t ice;
  sc_rtc_table_t *tab; /* NULL until attached */
  void *owner;
  sc_dtls_ctx_t *dtls_ctx;
  sc_dtls_t *dtls;
  sc_srtp_t *srtp;
  int has_fp;
  uint8_t fp[SC_DTLS_FP_LEN];
  uint8_t opus_pt, level_id;
  uint8_t direction; /* SC_RTC_SENDRECV, _RECV_ONLY, _SEND_ONLY */
  uint8_t e2ee;      /* sc_rtc_params_t */
  uint32_t only_source, skip_source;
  int (*declines)(void *policy, const sc_media_pkt_t *pkt); /* sc_rtc_params_t */
  void (*release)(void *policy);
  void *policy;
  uint8_t shed;     /* the DTLS session freed (proven or RTC_SHED_AFTER_MS) */
  uint8_t has_peer; /* peer_ssrc is bound */
  uint8_t in_hs;    /* in the table's handshaking list */
  uint32_t peer_ssrc;
  int64_t peer_last_ms; /* its last authentic packet (table clock) */
  int64_t shed_at_ms;   /* keyed: when it is shed if no SRTP comes first */
  /* After a rebinding (check_ssrc) the new stream continues the old one's
   * sequence numbers and timestamps, so every receiver (and its SRTP
   * rollover estimate) sees one stream under the member's SSRC. */
  uint16_t seq_off, last_seq;
  uint32_t ts_off, last_ts;
  uint8_t rebound;             /* the next packet sets the offsets */
  sc_udp_addr_t media_from;    /* source of the SRTP being opened */
  sc_udp_addr_t dtls_to;       /* where DTLS flights (and retransmissions) go */
  sc_rtc_t *hs_prev, *hs_next; /* the table's handshaking list */
  int n_hashed;                /* tuples of this member in the table's tuple hash */
  sc_udp_addr_t hashed[SC_ICE_MAX_PAIRS];
  sc_rtcp_leg_t rtcp; /* our reports to the peer (see the RTCP section) */
  sc_rtc_video_t video;
  sc_ssrcmap_t *out_ssrc; /* consumer SSRCs (sc_rtc_map_ssrc), made at the first */
};

/* The RTCP section (the end of the file). */
static void rtcp_init(sc_rtc_t *r);
static void rtcp_received(sc_rtc_t *r, const uint8_t *buf, size_t len);
static void rtcp_forwarded(sc_rtc_t *r, const sc_media_pkt_t *in, uint32_t ssrc);

/* ---- the tuple table (sc_addr_map) --------------------------------------- */

sc_rtc_t *sc_rtc_find_tuple(const sc_rtc_table_t *t, const struct sockaddr_storage *from) {
  if (!t->tuples.n) return NULL;
  sc_udp_addr_t a;
  sc_udp_addr_set(&a, from);
  return sc_addr_map_get(&t->tuples, &a);
}

/* The member's entries in the tuple hash follow its agent's validated
 * pairs (after every answered check; a pair the agent evicted goes). */
static void sync_tuples(sc_rtc_table_t *t, sc_rtc_t *r) {
  for (int k = 0; k < r->n_hashed; k++) sc_addr_map_del(&t->tuples, &r->hashed[k]);
  r->n_hashed = 0;
  for (int k = 0; k < SC_ICE_MAX_PAIRS; k++) {
    const sc_ice_pair_t *p = &r->ice.pairs[k];
    /* A tuple another member validated first stays that member's. */
    if (!p->used || sc_addr_map_get(&t->tuples, &p->addr)) continue;
    sc_addr_map_put(&t->tuples, &p->addr, r); /* room reserved on attach */
    r->hashed[r->n_hashed++] = p->addr;
  }
}

void sc_rtc_table_init(sc_rtc_table_t *t, sc_rtc_emit_fn emit, void *emit_ctx) {
  memset(t, 0, sizeof *t);
  t->emit = emit;
  t->emit_ctx = emit_ctx;
}

void sc_rtc_table_fini(sc_rtc_table_t *t) {
  sc_hmap_free(&t->ufrags);
  sc_addr_map_free(&t->tuples);
  free(t->deferred);
  t->deferred = NULL;
}

int sc_rtc_attach(sc_rtc_table_t *t, sc_rtc_t *r, void *owner) {
  size_t n = t->n_members + 1;
  if (!t->deferred && !(t->deferred = malloc(SC_RTC_DEFER_MAX * sizeof *t->deferred)))
    return -ENOMEM;
  /* Room for every member's pairs, so no check grows the map; the ufrag
   * map (sc_hmap) grows in its own put. Both only here, on a command. */
  if (sc_addr_map_reserve(&t->tuples, n * SC_ICE_MAX_PAIRS) < 0) return -ENOMEM;
  if (sc_hmap_get(&t->ufrags, r->ice.ufrag)) return -EEXIST; /* someone's already */
  if (sc_hmap_put(&t->ufrags, r->ice.ufrag, r) < 0) return -ENOMEM;
  t->n_members++;
  r->tab = t;
  r->owner = owner;
  return 0;
}

static void hs_unlink(sc_rtc_t *r) {
  if (!r->in_hs) return;
  if (r->hs_prev)
    r->hs_prev->hs_next = r->hs_next;
  else
    r->tab->handshaking = r->hs_next;
  if (r->hs_next) r->hs_next->hs_prev = r->hs_prev;
  r->hs_prev = r->hs_next = NULL;
  r->in_hs = 0;
}

static void hs_link(sc_rtc_t *r) {
  if (r->in_hs) return;
  r->hs_prev = NULL;
  r->hs_next = r->tab->handshaking;
  if (r->hs_next) r->hs_next->hs_prev = r;
  r->tab->handshaking = r;
  r->in_hs = 1;
}

static void detach(sc_rtc_t *r) {
  sc_rtc_table_t *t = r->tab;
  if (!t) return;
  hs_unlink(r);
  for (int k = 0; k < r->n_hashed; k++) sc_addr_map_del(&t->tuples, &r->hashed[k]);
  r->n_hashed = 0;
  sc_hmap_del(&t->ufrags, r->ice.ufrag);
  t->n_members--;
  r->tab = NULL;
}

/* ---- member state --------------------------------------------------------- */

sc_rtc_t *sc_rtc_new(const sc_rtc_params_t *p) {
  if (!p->dtls || (!p->remote_ufrag[0] && !p->any_remote_ufrag)) return NULL;
  sc_rtc_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  sc_ice_init(&r->ice);
  if (p->remote_ufrag[0] &&
      sc_ice_set_remote_ufrag(&r->ice, p->remote_ufrag, strlen(p->remote_ufrag)) < 0) {
    free(r);
    return NULL;
  }
  r->dtls_ctx = p->dtls;
  r->has_fp = p->has_fingerprint;
  memcpy(r->fp, p->fingerprint, sizeof r->fp);
  r->opus_pt = p->opus_pt & 0x7f;
  r->level_id = p->audio_level_id <= 14 ? p->audio_level_id : 0;
  sc_rtc_video_init(&r->video, p->video_pt, r->opus_pt);
  sc_rtc_video_set_filter(&r->video, p->video_seal_off, p->video_open_off);
  r->direction = (uint8_t)p->direction;
  r->only_source = p->only_source;
  r->skip_source = p->skip_source;
  r->e2ee = p->e2ee != 0;
  r->declines = p->declines;
  r->release = p->release;
  r->policy = p->policy;
  rtcp_init(r);
  return r;
}

void sc_rtc_set_fingerprint(sc_rtc_t *r, const uint8_t fp[SC_DTLS_FP_LEN]) {
  memcpy(r->fp, fp, sizeof r->fp);
  r->has_fp = 1;
}

void sc_rtc_set_codec(sc_rtc_t *r, uint8_t opus_pt, uint8_t audio_level_id) {
  r->opus_pt = opus_pt & 0x7f;
  r->level_id = audio_level_id <= 14 ? audio_level_id : 0;
}

const char *sc_rtc_local_ufrag(const sc_rtc_t *r) {
  return r->ice.ufrag;
}
const char *sc_rtc_local_pwd(const sc_rtc_t *r) {
  return r->ice.pwd;
}

int sc_rtc_set_remote(sc_rtc_t *r, const char *ufrag, const uint8_t *fingerprint) {
  if (!ufrag || !ufrag[0] || sc_ice_set_remote_ufrag(&r->ice, ufrag, strlen(ufrag)) < 0)
    return -EINVAL;
  r->has_fp = 0;
  if (fingerprint) sc_rtc_set_fingerprint(r, fingerprint);
  return 0;
}

int sc_rtc_restart_ice(sc_rtc_t *r, const sc_ice_creds_t *c) {
  sc_rtc_table_t *t = r->tab;
  if (t) {
    if (sc_hmap_get(&t->ufrags, c->ufrag)) return -EEXIST;
    /* The new entry first, keyed by c's copy for now: the only put that
     * may allocate, and on failure nothing has changed. */
    if (sc_hmap_put(&t->ufrags, c->ufrag, r) < 0) return -ENOMEM;
    sc_hmap_del(&t->ufrags, r->ice.ufrag);
  }
  sc_ice_restart(&r->ice, c);
  /* The entry exists: this only re-points its key into the member. */
  if (t) sc_hmap_put(&t->ufrags, r->ice.ufrag, r);
  return 0;
}

void sc_rtc_free(sc_rtc_t *r) {
  if (!r) return;
  detach(r);
  sc_dtls_free(r->dtls);
  sc_srtp_free(r->srtp);
  free(r->out_ssrc);
  if (r->release) r->release(r->policy);
  memset(&r->ice, 0, sizeof r->ice); /* the password */
  free(r);
}

int sc_rtc_ready(const sc_rtc_t *r, int64_t now_ms) {
  return r->srtp && sc_ice_send_tuple(&r->ice, now_ms) != NULL;
}

static void run_deferred(sc_rtc_table_t *t);

void sc_rtc_batch(sc_rtc_table_t *t, int64_t now_ms) {
  t->now_ms = now_ms;
  t->steps_left = SC_RTC_HANDSHAKE_STEPS;
  t->dtls_ns = 0;
  run_deferred(t);
}

static int64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- datagrams ------------------------------------------------------------ */

/* Authentic media came from media_from: sc_ice_media_from. */
static void media_seen(sc_rtc_t *r) {
  struct sockaddr_storage from;
  sc_udp_addr_get(&r->media_from, &from);
  sc_ice_media_from(&r->ice, r->tab->now_ms, &from);
}

static void emit_dtls(sc_rtc_table_t *t, const sc_dtls_out_t *o, const sc_udp_addr_t *to) {
  struct sockaddr_storage dst;
  memset(&dst, 0, sizeof dst);
  sc_udp_addr_get(to, &dst);
  for (int i = 0; i < o->n; i++) t->emit(t->emit_ctx, o->buf + o->off[i], o->len[i], &dst);
}

static int carries_all(const sc_rtc_t *r) {
  return r->direction == SC_RTC_SENDRECV || (r->direction == SC_RTC_SEND_ONLY && !r->only_source);
}

static int srtp_budget_in(const sc_rtc_t *r) {
  return r->direction == SC_RTC_SENDRECV ? RTC_SRTP_STREAMS_IN_SENDRECV : RTC_SRTP_STREAMS;
}

static int srtp_budget_out(const sc_rtc_t *r) {
  return carries_all(r) ? RTC_SRTP_STREAMS_ALL : RTC_SRTP_STREAMS;
}

/* The handshake reached an end: keys into SRTP, or the session goes so
 * that a new ClientHello may start over. */
static void after_dtls(sc_rtc_table_t *t, sc_rtc_t *r, sc_dtls_state_t st) {
  if (st == SC_DTLS_CONNECTED && !r->srtp) {
    sc_srtp_keys_t keys;
    if (sc_dtls_srtp_keys(r->dtls, &keys) == 0 &&
        sc_srtp_new_budget(&r->srtp, &keys, srtp_budget_in(r), srtp_budget_out(r)) == 0) {
      t->stats.dtls_connected++;
      r->shed_at_ms = t->now_ms + RTC_SHED_AFTER_MS;
    } else {
      st = SC_DTLS_FAILED;
    }
    memset(&keys, 0, sizeof keys);
  }
  /* Handshaking: its retransmission timer; keyed: its shedding time. */
  if (st == SC_DTLS_HANDSHAKING || st == SC_DTLS_CONNECTED) {
    hs_link(r);
    return;
  }
  hs_unlink(r);
  if (st == SC_DTLS_FAILED || (st == SC_DTLS_CLOSED && !r->srtp)) {
    t->stats.dtls_failed++;
    sc_log_info("rtc", "DTLS handshake failed: %s", sc_dtls_failure_name(sc_dtls_failure(r->dtls)));
    sc_dtls_free(r->dtls);
    r->dtls = NULL;
  }
}

static int budget_left(const sc_rtc_table_t *t) {
  return t->steps_left > 0 && t->dtls_ns < (int64_t)SC_RTC_HANDSHAKE_US * 1000;
}

/* Until the first SRTP proves the peer has our last flight, its
 * retransmissions still reach the session (which answers them); after
 * that, or once keyed without a session, DTLS is ignored: a second
 * handshake never re-keys a member. */
static int dtls_refused(sc_rtc_table_t *t, const sc_rtc_t *r) {
  if (!r->shed && (r->dtls || !r->srtp)) return 0;
  t->stats.dtls_refused++;
  return 1;
}

static void feed_dtls(sc_rtc_table_t *t, sc_rtc_t *r, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from) {
  t->steps_left--;
  int64_t start = monotonic_ns();
  if (!r->dtls && sc_dtls_new(&r->dtls, r->dtls_ctx, r->has_fp ? r->fp : NULL, t->now_ms) < 0) {
    t->stats.dtls_refused++;
    return;
  }
  uint8_t obuf[4096];
  sc_dtls_out_t o;
  sc_dtls_out_init(&o, obuf, sizeof obuf);
  t->stats.dtls_datagrams++;
  sc_udp_addr_set(&r->dtls_to, from);
  sc_dtls_state_t st = sc_dtls_feed(r->dtls, buf, len, t->now_ms, &o);
  emit_dtls(t, &o, &r->dtls_to);
  after_dtls(t, r, st);
  t->dtls_ns += monotonic_ns() - start;
}

/* Over this batch's budget (or behind others waiting): kept for a later
 * turn of the worker's loop, in arrival order; dropped only when the
 * queue is full (the peer retransmits). */
static void defer_dtls(sc_rtc_table_t *t, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from) {
  if (!t->deferred || t->n_deferred == SC_RTC_DEFER_MAX || len > SC_DTLS_DATAGRAM_MAX) {
    t->stats.dtls_dropped++;
    return;
  }
  sc_rtc_deferred_t *d = &t->deferred[(t->deferred_head + t->n_deferred) % SC_RTC_DEFER_MAX];
  d->from = *from;
  d->len = (uint32_t)len;
  memcpy(d->buf, buf, len);
  t->n_deferred++;
  t->stats.dtls_deferred++;
}

static void on_dtls(sc_rtc_table_t *t, sc_rtc_t *r, const uint8_t *buf, size_t len,
                    const struct sockaddr_storage *from) {
  if (dtls_refused(t, r)) return;
  if (t->n_deferred || !budget_left(t))
    defer_dtls(t, buf, len, from);
  else
    feed_dtls(t, r, buf, len, from);
}

/* The queue first, as far as the budget goes; a datagram whose tuple is
 * no longer valid (its member left, consent ended) is dropped. */
static void run_deferred(sc_rtc_table_t *t) {
  while (t->n_deferred && budget_left(t)) {
    sc_rtc_deferred_t *d = &t->deferred[t->deferred_head];
    t->deferred_head = (t->deferred_head + 1) % SC_RTC_DEFER_MAX;
    t->n_deferred--;
    sc_rtc_t *r = sc_rtc_find_tuple(t, &d->from);
    if (r && sc_ice_tuple_valid(&r->ice, t->now_ms, &d->from) && !dtls_refused(t, r))
      feed_dtls(t, r, d->buf, d->len, &d->from);
  }
}

/* A STUN datagram for r (found by tuple or by ufrag). */
static sc_rtc_verdict_t on_stun(sc_rtc_table_t *t, sc_rtc_t *r, const uint8_t *buf, size_t len,
                                const struct sockaddr_storage *from, sc_rtc_result_t *res) {
  uint8_t out[SC_STUN_MAX_LEN];
  const sc_udp_addr_t *before = sc_ice_send_tuple(&r->ice, t->now_ms);
  sc_udp_addr_t was;
  if (before) was = *before;
  int n = sc_ice_on_stun(&r->ice, t->now_ms, buf, len, from, out, sizeof out);
  if (n <= 0) {
    t->stats.stun_refused++;
    return SC_RTC_DONE;
  }
  t->stats.stun_answered++;
  t->emit(t->emit_ctx, out, (size_t)n, from);
  int known = sc_rtc_find_tuple(t, from) == r;
  sync_tuples(t, r);
  if (!known && sc_rtc_find_tuple(t, from) == r) t->stats.tuples_added++;
  const sc_udp_addr_t *now = sc_ice_send_tuple(&r->ice, t->now_ms);
  if (!now || (before && sc_udp_addr_same(&was, now))) return SC_RTC_DONE;
  t->stats.nominations++;
  res->owner = r->owner;
  res->r = r;
  res->send_to = now;
  return SC_RTC_NOMINATED;
}

sc_rtc_verdict_t sc_rtc_input(sc_rtc_table_t *t, sc_rtc_t *r, const uint8_t *buf, size_t len,
                              const struct sockaddr_storage *from, sc_rtc_result_t *res) {
  memset(res, 0, sizeof *res);
  if (!r) {
    const uint8_t *u;
    size_t ulen;
    if (!sc_demux_is_stun(buf, len) || sc_stun_peek_ufrag(buf, len, &u, &ulen) < 0 ||
        !t->n_members || !(r = sc_hmap_getn(&t->ufrags, (const char *)u, ulen))) {
      t->stats.stun_refused++;
      return SC_RTC_DONE;
    }
    return on_stun(t, r, buf, len, from, res);
  }
  switch (sc_demux_webrtc(buf, len)) {
    case SC_DEMUX_STUN: return on_stun(t, r, buf, len, from, res);
    case SC_DEMUX_DTLS:
      if (sc_ice_tuple_valid(&r->ice, t->now_ms, from)) on_dtls(t, r, buf, len, from);
      return SC_RTC_DONE;
    case SC_DEMUX_RTP:
    case SC_DEMUX_RTCP:
      if (!r->srtp || !sc_ice_tuple_valid(&r->ice, t->now_ms, from)) {
        if (r->srtp)
          t->stats.no_consent++;
        else
          t->stats.no_keys++;
        return SC_RTC_DONE;
      }
      sc_udp_addr_set(&r->media_from,
                      from); /* an authentic packet makes it the send tuple (open) */
      res->owner = r->owner;
      res->r = r;
      return SC_RTC_MEDIA;
    default: t->stats.unknown_tuple++; return SC_RTC_DONE;
  }
}

/* The keyed session goes (see proven and RTC_SHED_AFTER_MS): its keys
 * are in SRTP already, and DTLS is refused from now on. */
static void shed(sc_rtc_t *r) {
  hs_unlink(r);
  sc_dtls_free(r->dtls);
  r->dtls = NULL;
  r->shed = 1;
}

int64_t sc_rtc_tick(sc_rtc_table_t *t, int64_t now_ms) {
  sc_rtc_batch(t, now_ms); /* a fresh budget for the deferred handshakes too */
  int64_t next = t->n_deferred ? 1 : -1;
  for (sc_rtc_t *r = t->handshaking, *nx; r; r = nx) {
    nx = r->hs_next;
    if (sc_dtls_state(r->dtls) == SC_DTLS_CONNECTED) {
      if (now_ms >= r->shed_at_ms) {
        shed(r);
        continue;
      }
      if (next < 0 || r->shed_at_ms - now_ms < next) next = r->shed_at_ms - now_ms;
      continue;
    }
    int64_t due = sc_dtls_next_timeout_ms(r->dtls, now_ms);
    if (due == 0) {
      uint8_t obuf[4096];
      sc_dtls_out_t o;
      sc_dtls_out_init(&o, obuf, sizeof obuf);
      sc_dtls_state_t st = sc_dtls_on_timeout(r->dtls, now_ms, &o);
      emit_dtls(t, &o, &r->dtls_to);
      after_dtls(t, r, st);
      if (!r->in_hs) continue;
      due = sc_dtls_next_timeout_ms(r->dtls, now_ms);
    }
    if (due >= 0 && (next < 0 || due < next)) next = due;
  }
  return next;
}

/* ---- the cipher table: SRTP and the per-receiver header ------------------- */

/* An authentic SRTP or SRTCP packet proves the peer has our last flight:
 * the whole DTLS session can go. A down leg sends no RTP, only RTCP. */
static void proven(sc_rtc_t *r) {
  if (!r->shed && r->dtls && sc_dtls_state(r->dtls) == SC_DTLS_CONNECTED) shed(r);
}

static int open_rtcp(sc_rtc_t *r, uint8_t *plain, size_t len, sc_media_pkt_t *out) {
  int n = sc_srtp_unprotect_rtcp(r->srtp, plain, len);
  if (n < 0) return n;
  proven(r);
  if (n < 8) return -EINVAL;
  rtcp_received(r, plain, (size_t)n);
  out->is_rtcp = 1;
  out->marker_pt = plain[1];
  out->ssrc =
      (uint32_t)plain[4] << 24 | (uint32_t)plain[5] << 16 | (uint32_t)plain[6] << 8 | plain[7];
  out->payload = plain + 8;
  out->payload_len = (size_t)n - 8;
  return 0;
}

/* Its own SSRC is bound by the DTLS session: the first authenticated one.
 * On a publish-only transport a new one takes over once the bound one has
 * been silent for RTC_REBIND_QUIET_MS: mediasoup-client makes a new SSRC
 * for every producer, and a client that closed its producer and made a new
 * one (revite's microphone toggle) must be heard again. Only the DTLS
 * peer can send authentic SRTP, and never two streams at once. */
static int check_ssrc(sc_rtc_t *r, uint32_t ssrc) {
  int64_t now = r->tab ? r->tab->now_ms : 0;
  if (!r->has_peer) {
    r->peer_ssrc = ssrc;
    r->has_peer = 1;
  } else if (ssrc != r->peer_ssrc && r->direction == SC_RTC_RECV_ONLY &&
             now - r->peer_last_ms >= RTC_REBIND_QUIET_MS) {
    sc_srtp_remove_inbound(r->srtp, r->peer_ssrc); /* its stream's slot is free again */
    r->peer_ssrc = ssrc;
    r->rebound = 1;
  }
  if (ssrc == r->peer_ssrc) {
    r->peer_last_ms = now;
    return 0;
  }
  if (r->tab) r->tab->stats.foreign_ssrc++;
  return -EPERM;
}

/* Video of a negotiated PT under its own SSRC (sc_rtc_video_open; the
 * media plane checks the SSRC is the member's), never the audio one. */
static int open_video(sc_rtc_t *r, uint8_t *plain, const sc_rtp_info_t *h, size_t start, size_t end,
                      sc_media_pkt_t *out) {
  if ((r->has_peer && h->ssrc == r->peer_ssrc) ||
      sc_rtc_video_open(&r->video, plain, h, start, end, out) < 0) {
    if (r->tab) r->tab->stats.not_opus++;
    return -EPROTO;
  }
  sc_rtc_video_note_sender(&r->video, out->ssrc, out->marker_pt);
  if (r->tab) {
    r->tab->stats.video_received++;
    media_seen(r);
  }
  return 0;
}

static int rtc_open(void *state, const uint8_t *pkt, size_t len, uint8_t *plain, size_t cap,
                    sc_media_pkt_t *out) {
  sc_rtc_t *r = state;
  if (!r->srtp || len > cap) return -EINVAL;
  memcpy(plain, pkt, len);
  out->has_level = 0;
  if (sc_demux_webrtc(pkt, len) == SC_DEMUX_RTCP) return open_rtcp(r, plain, len, out);
  int n = sc_srtp_unprotect_rtp(r->srtp, plain, len);
  sc_rtp_info_t h;
  if (n < 0) return n;
  if (sc_rtp_parse(plain, (size_t)n, &h) < 0) return -EINVAL;
  size_t start = h.clear_len + h.ext_body_len, end = (size_t)n;
  if (h.padding && end > start) end -= plain[end - 1];
  if (start > end) return -EINVAL;
  proven(r);
  if (r->direction == SC_RTC_SEND_ONLY) { /* a down transport: it has nothing to say */
    if (r->tab) r->tab->stats.wrong_direction++;
    return -EPROTO;
  }
  if ((plain[1] & 0x7f) != r->opus_pt) return open_video(r, plain, &h, start, end, out);
  if (check_ssrc(r, h.ssrc) < 0) return -EPERM;
  /* A peer may settle on another validated pair than the one it
   * nominated (Firefox): media follows where its authentic SRTP comes
   * from, as the media plane's binding does. */
  if (r->tab) media_seen(r);
  if (h.extension && r->level_id && plain[h.clear_len - 4] == 0xBE &&
      plain[h.clear_len - 3] == 0xDE)
    out->has_level =
        (uint8_t)sc_rtp_ext_one_byte(plain + h.clear_len, h.ext_body_len, r->level_id, &out->level);
  out->is_rtcp = 0;
  out->marker_pt = (uint8_t)((plain[1] & 0x80) | SC_RTC_OPUS_PT_CORE);
  if (r->rebound) { /* one Opus frame (20 ms) after the old stream's last */
    r->seq_off = (uint16_t)(r->last_seq + 1 - h.seq);
    r->ts_off = r->last_ts + 960 - h.timestamp;
    r->rebound = 0;
  }
  out->seq = r->last_seq = (uint16_t)(h.seq + r->seq_off);
  out->timestamp = r->last_ts = h.timestamp + r->ts_off;
  out->ssrc = h.ssrc;
  out->payload = plain + start;
  out->payload_len = end - start;
  return 0;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* 1 if this transport does not carry the source of pkt at all. */
static int filtered(const sc_rtc_t *r, const sc_media_pkt_t *in) {
  return r->direction == SC_RTC_RECV_ONLY || (r->only_source && in->ssrc != r->only_source) ||
         (r->skip_source && in->ssrc == r->skip_source);
}

/* A DAVE end-to-end encrypted frame (it ends with the marker FA FA;
 * shared/reference/dave-server.md section 5): only a receiver whose client
 * speaks DAVE (params e2ee) may get one, if its policy agrees. */
static int e2ee_frame(const sc_media_pkt_t *in) {
  size_t n = in->payload_len;
  return n > 2 && in->payload[n - 1] == 0xFA && in->payload[n - 2] == 0xFA;
}

/* Opus or video with this receiver's PT; audio level only if it
 * negotiated it (re-IDed); every other extension stripped. */
static int rtc_seal(void *state, const sc_media_pkt_t *in, uint8_t *out, size_t cap) {
  sc_rtc_t *r = state;
  if (filtered(r, in)) return SC_MEDIA_SEAL_FILTERED;
  uint8_t core = in->marker_pt & 0x7f, pt = r->opus_pt;
  if (in->is_rtcp) return 0;
  if (core != SC_RTC_OPUS_PT_CORE && !(pt = sc_rtc_video_peer_pt(&r->video, core)))
    return sc_rtc_video_is_core(core) ? SC_MEDIA_SEAL_FILTERED : 0; /* a codec it did not take */
  if ((!r->e2ee && e2ee_frame(in)) || (r->declines && r->declines(r->policy, in)))
    return SC_MEDIA_SEAL_DECLINED;
  if (!r->tab || !sc_rtc_ready(r, r->tab->now_ms)) {
    if (r->tab) r->tab->stats.no_consent++;
    return 0;
  }
  int level = r->level_id && in->has_level && core == SC_RTC_OPUS_PT_CORE;
  size_t hdr = 12 + (level ? RTC_LEVEL_EXT_LEN : 0);
  if (hdr + in->payload_len + SC_SRTP_SPARE > cap) return -ENOSPC;
  out[0] = level ? 0x90 : 0x80;
  out[1] = (uint8_t)((in->marker_pt & 0x80) | pt);
  out[2] = (uint8_t)(in->seq >> 8);
  out[3] = (uint8_t)in->seq;
  put32(out + 4, in->timestamp);
  uint32_t ssrc = r->out_ssrc ? sc_ssrcmap_out(r->out_ssrc, in->ssrc) : in->ssrc;
  put32(out + 8, ssrc);
  if (level) {
    static const uint8_t pre[4] = {0xBE, 0xDE, 0x00, 0x01};
    memcpy(out + 12, pre, 4);
    out[16] = (uint8_t)(r->level_id << 4); /* length field 0: one byte */
    out[17] = in->level;
    out[18] = out[19] = 0;
  }
  memcpy(out + hdr, in->payload, in->payload_len);
  int n = sc_srtp_protect_rtp(r->srtp, out, hdr + in->payload_len, cap);
  if (n > 0) rtcp_forwarded(r, in, ssrc); /* what its source's SR will say */
  return n;
}

static void rtc_free(void *state) {
  sc_rtc_free(state);
}

const sc_cipher_ops_t sc_rtc_cipher_ops = {
    .open = rtc_open,
    .seal = rtc_seal,
    .free = rtc_free,
    .hot_range = NULL,
};

/* ---- RTCP, terminated per leg (sc_rtc_rtcp) ------------------------------ */

static void rtcp_init(sc_rtc_t *r) {
  sc_rtc_rtcp_init(&r->rtcp, r->ice.ufrag);
}

/* What the peer tells us (after SRTCP); its SR is kept if it is its
 * bound SSRC's. */
static void rtcp_received(sc_rtc_t *r, const uint8_t *buf, size_t len) {
  if (!r->tab) return;
  sc_rtc_rtcp_received(&r->rtcp, buf, len, r->has_peer, r->peer_ssrc, r->tab->now_ms,
                       &r->tab->stats);
}

/* Per copy sealed: what the SR for its source will say. */
static void rtcp_forwarded(sc_rtc_t *r, const sc_media_pkt_t *in, uint32_t ssrc) {
  sc_rtc_rtcp_forwarded(&r->rtcp, in, ssrc, r->tab->now_ms);
}

/* An out SSRC the peer will not see again: its SRTP stream (and its slot
 * in the outbound budget) and its SR go. */
static void forget_out_ssrc(sc_rtc_t *r, uint32_t out) {
  if (!out) return;
  if (r->srtp) sc_srtp_remove_outbound(r->srtp, out);
  sc_rtcp_leg_forget(&r->rtcp, out);
}

/* The table is made by the first pair (a command, never a packet), so
 * the transports that never map an SSRC (all but Vortex's receive
 * transports) neither carry it nor look it up. */
int sc_rtc_map_ssrc(sc_rtc_t *r, uint32_t source, uint32_t out) {
  if (!source) return -EINVAL;
  if (!out) {
    if (r->out_ssrc) forget_out_ssrc(r, sc_ssrcmap_del(r->out_ssrc, source));
    return 0;
  }
  if (!r->out_ssrc && !(r->out_ssrc = calloc(1, sizeof *r->out_ssrc))) return -ENOMEM;
  uint32_t old = 0;
  int rc = sc_ssrcmap_set(r->out_ssrc, source, out, &old);
  if (old != out) forget_out_ssrc(r, old);
  return rc;
}

int sc_rtc_outbound_streams(const sc_rtc_t *r) {
  return r->srtp ? sc_srtp_outbound_streams(r->srtp) : 0;
}

/* The member's transport as its RTCP side sees it at now_ms. */
static sc_rtc_rtcp_link_t rtcp_link(sc_rtc_table_t *t, const sc_rtc_t *r, int64_t now_ms) {
  return (sc_rtc_rtcp_link_t){
      r->srtp, sc_ice_send_tuple(&r->ice, now_ms), t->emit, t->emit_ctx, &t->stats, now_ms};
}

/* One member's compound report, SRTCP-protected, to its send tuple. */
static void rtcp_send(sc_rtc_table_t *t, sc_rtc_t *r, int64_t now_ms, sc_rtc_rx_fn rx, void *ctx) {
  sc_quality_reading_t reading;
  sc_rtcp_peer_t peer = {NULL, r->peer_ssrc};
  if (r->has_peer && rx && rx(ctx, r->owner, &reading) == 0) peer.rx = &reading;
  sc_rtc_rtcp_link_t k = rtcp_link(t, r, now_ms);
  sc_rtc_rtcp_report(&r->rtcp, &peer, &k);
}

void sc_rtc_set_video_filter(sc_rtc_t *r, uint8_t seal_off, uint8_t open_off) {
  sc_rtc_video_set_filter(&r->video, seal_off, open_off);
}

int sc_rtc_sends_video(const sc_rtc_t *r, uint32_t ssrc) {
  return sc_rtc_video_sends(&r->video, ssrc);
}

int sc_rtc_request_keyframe(sc_rtc_t *r, uint32_t video_ssrc) {
  if (!r->tab) return -EAGAIN;
  sc_rtc_rtcp_link_t k = rtcp_link(r->tab, r, r->tab->now_ms);
  return sc_rtc_rtcp_keyframe(&r->video, video_ssrc, &k);
}

int64_t sc_rtc_rtcp_tick(sc_rtc_table_t *t, int64_t now_ms, sc_rtc_rx_fn rx, void *ctx) {
  if (!t->n_members) return -1;
  if (now_ms < t->rtcp_next_ms) return t->rtcp_next_ms - now_ms;
  t->rtcp_next_ms = now_ms + SC_RTC_RTCP_TICK_MS;
  for (size_t i = 0; i < t->ufrags.cap; i++) {
    sc_rtc_t *r = t->ufrags.slots[i].value;
    if (r && sc_rtc_ready(r, now_ms) && sc_rtcp_leg_due(&r->rtcp, now_ms))
      rtcp_send(t, r, now_ms, rx, ctx);
  }
  return SC_RTC_RTCP_TICK_MS;
}
