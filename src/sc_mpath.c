/*
 * The packet path of one media worker: see sc_mpath.h. sc_media.c runs
 * the worker and calls in per receive batch and per datagram.
 */
#include "sc_mpath.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sc_demux.h"
#include "sc_lathist.h"
#include "sc_log.h"
#include "sc_quality.h"
#include "sc_rtcp.h"
#include "sc_rtp.h"

typedef sc_mmember_t member_t;

#define STAT(p, field) SC_MSTAT(&(p)->stats, field)
#define COUNT(p, field) SC_MCOUNT(&(p)->stats, field)
#define MCOUNT(m, field, n) sc_mstat_bump(&(m)->stats->field, (n))

/* ---- member state shared with the commands ------------------------------ */

void sc_mpath_release_cipher(member_t *m) {
  if (m->ops && m->cipher) m->ops->free(m->cipher);
  m->ops = NULL;
  m->cipher = NULL;
  m->cipher_hot = NULL;
  m->cipher_hot_lines = 0;
  m->heard = 0; /* the next cipher's first packet asks for key frames again */
}

/* A new client for the member: it must prove its address and key anew. */
static void reset_member(sc_mpath_t *p, member_t *m) {
  sc_mtable_drop_aliases(&p->table, m);
  sc_mpath_release_cipher(m);
  m->bound = 0;
  m->has_addr = 0;
}

/* Brings m up to its block's reset generation: 0 if it was current. */
int sc_mpath_catch_up(sc_mpath_t *p, member_t *m) {
  uint32_t gen = sc_member_gen(m->stats);
  if (gen == m->gen) return 0;
  reset_member(p, m);
  sc_quality_restart(&m->stats->rxq); /* the next client numbers anew */
  m->gen = gen;
  return 1;
}

/* ---- the packet path ---------------------------------------------------- */

static void tx_flush(sc_mpath_t *p) {
  sc_udp_sent_t r = sc_udp_tx_flush(&p->tx, p->fd);
  sc_mstat_bump(&STAT(p, tx_packets), r.sent);
  sc_mstat_bump(&STAT(p, tx_bytes), r.bytes);
  if (!r.failed) return;
  sc_mstat_bump(&STAT(p, send_errors), r.failed);
  sc_mstat_bump(&STAT(p, send_err_dest_refused), r.dest_refused);
  sc_mstat_bump(&STAT(p, send_err_unreachable), r.unreachable);
  sc_mstat_bump(&STAT(p, send_err_other_dest), r.other_dest);
  sc_mstat_bump(&STAT(p, send_dropped_socket_full), r.socket_full);
}

/* Next free output slot; flushes first when the batch is full. */
static int tx_slot(sc_mpath_t *p) {
  if (p->tx.n == SC_UDP_TX_BATCH) tx_flush(p);
  return p->tx.n;
}

/* Asks for every receiver's key material and counters before the first
 * seal, so that their cache misses overlap instead of queueing behind
 * one another (see sc_cipher_ops_t.hot_range). */
static void prefetch_receivers(const member_t *from) {
  for (const member_t *to = from->room->members; to; to = to->room_next) {
    if (to == from) continue;
    __builtin_prefetch(&to->addr);
    for (unsigned i = 0; i < to->cipher_hot_lines; i++)
      __builtin_prefetch(to->cipher_hot + (size_t)i * SC_CACHE_LINE);
    __builtin_prefetch(to->stats, 1);
  }
}

/* Re-encrypts pkt for every other member of the sender's room. Returns
 * the copies queued. */
static int fan_out(sc_mpath_t *p, const member_t *from, const sc_media_pkt_t *pkt) {
  int copies = 0;
  prefetch_receivers(from);
  for (member_t *to = from->room->members; to; to = to->room_next) {
    if (to == from || !to->cipher || !to->has_addr) continue;
    /* Deafened or removed now, or reset since its key was installed: the
     * block's line is the one the counters below write anyway. */
    if ((sc_member_flags(to->stats) & (SC_MEMBER_DEAF | SC_MEMBER_REMOVED)) ||
        sc_member_gen(to->stats) != to->gen)
      continue;
    int slot = tx_slot(p);
    int n = to->ops->seal(to->cipher, pkt, p->tx.bufs[slot], SC_UDP_PKT_MAX);
    if (n <= 0) {
      if (n == SC_MEDIA_SEAL_DECLINED)
        COUNT(p, seal_declined);
      else if (n == SC_MEDIA_SEAL_FILTERED)
        COUNT(p, seal_filtered);
      continue;
    }
    sc_udp_tx_commit(&p->tx, (size_t)n, &to->addr.sa);
    copies++;
    MCOUNT(to, tx_packets, 1);
    MCOUNT(to, tx_bytes, (uint64_t)n);
  }
  return copies;
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An authenticated datagram from an address that is not the bound one:
 * the first binds, a later one moves the binding (NAT rebinding, a new
 * network). Returns 0 if the source can never be an address (the kernel
 * does not deliver such datagrams; checked anyway). */
static int bind_source(sc_mpath_t *p, member_t *m, const struct sockaddr_storage *from) {
  if (!sc_udp_addr_usable(from)) return 0;
  if (m->bound) {
    COUNT(p, addr_moved);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (sc_log_limit(&m->move_log, now, 10000))
      sc_log_info("media", "worker %d: ssrc %u moved to a new address (NAT rebinding?)", p->index,
                  m->ssrc);
  }
  sc_udp_addr_set(&m->addr, from);
  m->bound = 1;
  m->has_addr = 1;
  return 1;
}

/* A datagram that did not open: held against the member only if it came
 * from the member's bound address; from anywhere else it is not the
 * member's (forged or replayed by someone else) and moves nothing. */
static void count_open_failure(sc_mpath_t *p, member_t *m, int home, int rc) {
  if (!home) {
    COUNT(p, drop_foreign_addr);
    return;
  }
  if (rc == -EBADMSG)
    COUNT(p, drop_auth);
  else if (rc == -EALREADY)
    COUNT(p, drop_replay);
  else
    COUNT(p, drop_malformed);
  MCOUNT(m, drops, 1);
}

#define MSET(m, field, v) atomic_store_explicit(&(m)->stats->field, (v), memory_order_relaxed)

/* Key frames asked of video SSRCs (PLI, FIR; webrtc.md 3): each goes to
 * the video's sender if it is another member of the same room. A WebRTC
 * sender gets a PLI in its SRTCP (sc_rtc rate-limits it); a Discord UDP
 * sender's RTCP is its client's own business (no server-originated RTCP
 * on that path): counted as not passed. */
static void pass_keyframe_requests(sc_mpath_t *p, const member_t *from, const sc_rtcp_report_t *r) {
  for (int i = 0; i < r->n_keyframe; i++) {
    sc_mentry_t *e = sc_mtable_find(&p->table, r->keyframe_ssrc[i]);
    if (!e || e->m == from || e->m->room != from->room || e->ssrc == e->m->ssrc)
      p->rtc.stats.pli_unknown_ssrc++, p->rtc_dirty = 1;
    else if (e->m->ops != &sc_rtc_cipher_ops || !e->m->cipher)
      p->rtc.stats.pli_not_passed++, p->rtc_dirty = 1;
    else
      sc_rtc_request_keyframe(e->m->cipher, e->ssrc);
  }
}

/* A member's first authentic packet: its keys work, so it can decode
 * what it is sent from now on. Every WebRTC video sender in the room is
 * asked for a key frame of the SSRCs its video codec packets came on
 * (not its audio or RTX aliases) rather than waiting for the new receiver
 * to ask (webrtc.md 3). Once per member and cipher; each sender's rate
 * limit still holds. */
static void ask_keyframes_for(const member_t *m) {
  for (member_t *o = m->room->members; o; o = o->room_next) {
    if (o == m || o->ops != &sc_rtc_cipher_ops || !o->cipher) continue;
    for (int i = 1; i < o->n_entries; i++)
      if (sc_rtc_sends_video(o->cipher, o->entries[i].ssrc))
        sc_rtc_request_keyframe(o->cipher, o->entries[i].ssrc);
  }
}

/* RTCP is never forwarded; its reports become the member's statistics.
 * The parser wants the packet whole: clear header, then the decrypted rest. */
static void account_rtcp(sc_mpath_t *p, member_t *m, const uint8_t *hdr,
                         const sc_media_pkt_t *pkt) {
  sc_rtcp_report_t r;
  if (pkt->payload_len > SC_UDP_PKT_MAX) return;
  memcpy(p->rtcp, hdr, 8);
  memcpy(p->rtcp + 8, pkt->payload, pkt->payload_len);
  if (sc_rtcp_parse(p->rtcp, 8 + pkt->payload_len, &r) < 0) {
    MCOUNT(m, rtcp_malformed, 1);
    return;
  }
  MCOUNT(m, rtcp_sr, (uint64_t)r.n_sr);
  MCOUNT(m, rtcp_rr, (uint64_t)r.n_rr);
  if (r.n_keyframe) pass_keyframe_requests(p, m, &r);
  if (!r.n_blocks) return;
  MSET(m, rtcp_fraction_lost, r.worst_fraction_lost);
  MSET(m, rtcp_cumulative_lost, r.total_cumulative_lost);
  MSET(m, rtcp_jitter, r.worst_jitter);
  MSET(m, rtcp_sources, (uint32_t)r.n_blocks);
}

static int member_rtp(sc_mpath_t *p, member_t *m, uint32_t ssrc, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from, int64_t rx_ns);

/* Returns the copies forwarded (0: dropped, RTCP, or nobody to send to). */
static int handle_rtp(sc_mpath_t *p, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from, int64_t rx_ns) {
  sc_rtp_info_t info;
  if (sc_rtp_parse(buf, len, &info) < 0) {
    COUNT(p, drop_malformed);
    return 0;
  }
  sc_mentry_t *e = sc_mtable_find(&p->table, info.ssrc);
  if (!e) {
    COUNT(p, drop_unknown_ssrc);
    return 0;
  }
  if (e->m->ops == &sc_rtc_cipher_ops) { /* WebRTC media comes by validated tuple only */
    COUNT(p, drop_foreign_addr);
    return 0;
  }
  return member_rtp(p, e->m, e->ssrc, buf, len, from, rx_ns);
}

/* The SSRC a WebRTC member's packet goes under: its audio the member's
 * own; its video its own SSRC if that is one of the member's (announced
 * and claimed by signalling: an alias), else 0 (dropped, counted). */
static uint32_t webrtc_source(sc_mpath_t *p, const member_t *m, const sc_media_pkt_t *pkt) {
  if ((pkt->marker_pt & 0x7f) == SC_RTC_OPUS_PT_CORE) return m->ssrc;
  sc_mentry_t *e = sc_mtable_find(&p->table, pkt->ssrc);
  if (e && e->m == m && e->ssrc != m->ssrc) return e->ssrc;
  p->rtc.stats.video_foreign_ssrc++;
  return 0;
}

/* An RTP/RTCP datagram of member m (found by SSRC, or by WebRTC tuple);
 * ssrc is what its packets are forwarded under (0: a WebRTC member's,
 * decided once opened). */
static int member_rtp(sc_mpath_t *p, member_t *m, uint32_t ssrc, const uint8_t *buf, size_t len,
                      const struct sockaddr_storage *from, int64_t rx_ns) {
  uint32_t flags = sc_member_flags(m->stats);
  if (flags & SC_MEMBER_REMOVED) {
    COUNT(p, drop_removed);
    return 0;
  }
  /* Reset since the last packet: no cipher now, dropped below. */
  if (sc_member_gen(m->stats) != m->gen) sc_mpath_catch_up(p, m);
  if (!m->cipher) {
    COUNT(p, drop_no_cipher);
    MCOUNT(m, drops, 1);
    return 0;
  }
  /* Authentication decides, not the source: a packet from elsewhere costs
   * an open attempt, and only an authentic one may move the binding. */
  int home = m->bound && sc_udp_addr_equal(&m->addr, from);
  sc_media_pkt_t pkt;
  pkt.has_level = 0;
  int rc = m->ops->open(m->cipher, buf, len, p->plain, sizeof p->plain, &pkt);
  if (rc < 0) {
    count_open_failure(p, m, home, rc);
    return 0;
  }
  if (!home && !bind_source(p, m, from)) {
    COUNT(p, drop_foreign_addr);
    return 0;
  }
  MSET(m, rx_last_ms, p->batch_ms); /* authentic: the member is alive */
  if (!m->heard) {
    m->heard = 1;
    ask_keyframes_for(m);
  }
  if (pkt.is_rtcp) {
    COUNT(p, rx_rtcp);
    MCOUNT(m, rx_rtcp, 1);
    account_rtcp(p, m, buf, &pkt);
    return 0;
  }
  if (!ssrc && !(ssrc = webrtc_source(p, m, &pkt))) return 0;
  COUNT(p, rx_rtp);
  MCOUNT(m, rx_packets, 1);
  MCOUNT(m, rx_bytes, len);
  /* Loss and jitter of its audio, at the kernel's receive time. */
  if (ssrc == m->ssrc)
    sc_quality_rx(&m->stats->rxq, &m->stats->rxq_cold, pkt.seq, pkt.timestamp,
                  sc_quality_arrival(rx_ns ? rx_ns : p->batch_ms * 1000000));
  if (flags & SC_MEMBER_MUTED) {
    COUNT(p, drop_muted);
    MCOUNT(m, drops, 1);
    return 0;
  }
  pkt.ssrc = ssrc; /* video/RTX keep their own SSRC */
  return fan_out(p, m, &pkt);
}

/* sc_rtc's answers and DTLS flights: one slot of the send batch each. */
static void rtc_emit(void *ctx, const uint8_t *buf, size_t len, const struct sockaddr_storage *to) {
  sc_mpath_t *p = ctx;
  if (len > SC_UDP_PKT_MAX || !sc_udp_addr_usable(to)) return;
  int slot = tx_slot(p);
  memcpy(p->tx.bufs[slot], buf, len);
  sc_udp_tx_commit(&p->tx, len, (const struct sockaddr *)to);
}

/* A datagram from a validated WebRTC tuple, or STUN from an unknown one
 * (webrtc.md 2.1). Returns -1 if it is not sc_rtc's, else the copies. */
static int handle_webrtc(sc_mpath_t *p, const uint8_t *buf, size_t len,
                         const struct sockaddr_storage *from, int64_t rx_ns) {
  sc_rtc_t *r = sc_rtc_find_tuple(&p->rtc, from);
  if (!r && !sc_demux_is_stun(buf, len)) return -1;
  sc_rtc_result_t res;
  sc_rtc_verdict_t v = sc_rtc_input(&p->rtc, r, buf, len, from, &res);
  member_t *m = res.owner;
  if (v == SC_RTC_MEDIA) return member_rtp(p, m, 0, buf, len, from, rx_ns);
  if (v == SC_RTC_NOMINATED) { /* ICE chose where the member hears the room */
    m->addr = *res.send_to;
    m->has_addr = 1;
    m->bound = 1;
  }
  return 0;
}

/* Returns the RTP copies forwarded (0 for everything else). */
static int handle_datagram(sc_mpath_t *p, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from, int64_t rx_ns) {
  COUNT(p, rx_datagrams);
  if (p->rtc.n_members) {
    int copies = handle_webrtc(p, buf, len, from, rx_ns);
    if (copies >= 0) return copies;
  }
  if (len >= 12 && sc_rtp_looks_like_rtp(buf, len)) return handle_rtp(p, buf, len, from, rx_ns);
  if (!p->on_datagram) {
    COUNT(p, drop_malformed);
    return 0;
  }
  int slot = tx_slot(p);
  int n = p->on_datagram(p->worker, buf, len, from, p->tx.bufs[slot], SC_UDP_PKT_MAX);
  if (n < 0) {
    if (n == -ENOENT)
      COUNT(p, drop_unknown_ssrc);
    else
      COUNT(p, drop_malformed);
  } else if (n > 0 && sc_udp_addr_usable(from)) {
    sc_udp_tx_commit(&p->tx, (size_t)n, (const struct sockaddr *)from);
  }
  return 0;
}

/* sc_rtc's plain counters into the worker's readable ones. */
static void publish_rtc(sc_mpath_t *p) {
  p->rtc.stats.members = p->rtc.n_members;
  const uint64_t *src = (const uint64_t *)&p->rtc.stats;
  _Atomic uint64_t *dst = &STAT(p, webrtc);
  for (size_t i = 0; i < sizeof p->rtc.stats / sizeof(uint64_t); i++)
    atomic_store_explicit(&dst[i], src[i], memory_order_relaxed);
}

/* After the batch's last sendmmsg: one delay sample per forwarded packet. */
static void account_delays(sc_mpath_t *p) {
  if (!p->n_fwd) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  uint64_t sum_us = 0;
  for (int i = 0; i < p->n_fwd; i++) {
    int64_t d = now - p->fwd_rx_ns[i]; /* < 0 only if the clock was stepped */
    uint64_t us = d > 0 ? (uint64_t)d / 1000 : 0;
    sum_us += us;
    sc_mstat_bump(&(&STAT(p, fwd_delay_hist))[sc_lathist_bucket(us)], 1);
  }
  sc_mstat_bump(&STAT(p, fwd_delay_sum_us), sum_us);
  p->n_fwd = 0;
}

/* Our receive statistics of a WebRTC member's stream, for its RR. */
static int member_rx(void *ctx, void *owner, sc_quality_reading_t *out) {
  (void)ctx;
  const member_t *m = owner;
  if (!m || !m->stats) return -1;
  sc_quality_read(&m->stats->rxq, &m->stats->rxq_cold, 0, 0, out);
  return 0;
}

static int64_t earliest(int64_t a, int64_t b) {
  return a < 0 ? b : b < 0 || a < b ? a : b;
}

/* Due DTLS retransmissions and RTCP reports; returns the epoll timeout
 * until the next. */
int sc_mpath_timers(sc_mpath_t *p) {
  if (!p->rtc.n_members && !p->rtc.handshaking && !p->rtc.n_deferred) {
    if (p->rtc.stats.members) publish_rtc(p); /* the last one left */
    return 1000;
  }
  int64_t now = monotonic_ms(), due = -1;
  uint64_t sent = p->rtc.stats.rtcp_sent;
  /* Handshakes finished here (deferred datagrams, retransmissions) are
   * published now, not at the worker's next receive batch. */
  int dtls = p->rtc.handshaking || p->rtc.n_deferred;
  if (dtls) due = sc_rtc_tick(&p->rtc, now);
  due = earliest(due, sc_rtc_rtcp_tick(&p->rtc, now, member_rx, p));
  tx_flush(p);
  if (dtls || p->rtc.stats.rtcp_sent != sent || p->rtc.stats.members != p->rtc.n_members)
    publish_rtc(p);
  return due >= 0 && due < 1000 ? (int)due : 1000;
}

/* ---- batches (called by the worker loop) ------------------------------- */

void sc_mpath_begin_batch(sc_mpath_t *p) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  p->batch_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  if (p->rtc.n_members) sc_rtc_batch(&p->rtc, monotonic_ms());
}

void sc_mpath_datagram(sc_mpath_t *p, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, int64_t rx_ns) {
  int copies = handle_datagram(p, buf, len, from, rx_ns);
  if (copies > 0 && rx_ns) p->fwd_rx_ns[p->n_fwd++] = rx_ns;
}

void sc_mpath_end_batch(sc_mpath_t *p) {
  tx_flush(p);
  account_delays(p);
  /* Without WebRTC members nothing moves sc_rtc's counters but the key
   * frame requests above (the last member's leaving is published by
   * sc_mpath_timers), so a Discord-only worker skips the copy. */
  if (p->rtc.n_members || p->rtc_dirty) {
    publish_rtc(p);
    p->rtc_dirty = 0;
  }
}

int sc_mpath_init(sc_mpath_t *p, sc_media_worker_t *worker, int index, int fd, sc_datagram_fn fn) {
  p->worker = worker;
  p->index = index;
  p->fd = fd;
  p->on_datagram = fn;
  sc_udp_tx_init(&p->tx);
  sc_rtc_table_init(&p->rtc, rtc_emit, p);
  return sc_mtable_init(&p->table);
}

void sc_mpath_fini(sc_mpath_t *p) {
  sc_rtc_table_fini(&p->rtc);
  sc_mtable_fini(&p->table);
}
