/*
 * lg_media: see lg_media.h. The step loop keeps a global send counter n:
 * with K active speakers at `rate` packets/s, packet n is due at
 * t0 + n / (rate * K) and belongs to speaker n % K, so each speaker sends
 * exactly every 1/rate s and the speakers are spread evenly in between.
 */
#include "lg_media.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lg_payload.h"
#include "lg_proc.h"
#include "lg_stats.h"
#include "sc_demux.h"
#include "sc_rtp.h"

#define RX_BATCH 64
#define TX_BATCH 64
#define RX_BATCHES_PER_SOCKET 4 /* per wake-up, so sends stay on time */
#define PKT_MAX 1536
#define MIN_TICK_NS 100000 /* sends are issued in ticks of >= 100 us */
#define MAX_BURST 4096     /* sends per tick when the generator lags */
#define DRAIN_QUIET_NS 100000000LL
#define DRAIN_MAX_NS 2000000000LL
#define RAW_TAIL 20 /* raw packets match the sealed size: tag + nonce */
#define RTP_PT_OPUS 120
#define RTP_PT_HELLO 127
#define WAKE_TAG UINT32_MAX
/* WebRTC clients' timers are looked at this often: between steps (joins:
 * the join time's resolution) and during steps (consent only). */
#define RTC_TICK_IDLE_NS 2000000LL
#define RTC_TICK_STEP_NS 20000000LL

enum { PH_IDLE, PH_HELLO, PH_STEP, PH_QUIT };

typedef void (*rx_fn)(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now);

struct lg_media {
  lg_run_t *run;
  lg_dgram_fn on_dgram;
  void *dgram_ctx;
  pthread_t thread;
  int started;
  int ep, efd;
  _Atomic int phase;
  lg_step_cfg_t cfg; /* written by the caller before PH_STEP */
  lg_step_result_t res;
  int hello_timeout_ms;
  int hello_acked;
  /* media thread only */
  rx_fn on_rx;
  uint32_t *tx_seq;   /* per client: next payload sequence */
  uint32_t *base_seq; /* per client: tx_seq at the step's start */
  uint8_t *acked;     /* raw hello */
  int *speakers;
  int n_speakers;
  lg_hist_t hist;
  lg_seen_t seen;
  int64_t last_rx;
  struct mmsghdr tx_msgs[TX_BATCH];
  struct iovec tx_iov[TX_BATCH];
  uint8_t tx_buf[TX_BATCH][PKT_MAX];
  int tx_n, tx_sock;
  /* The send schedule of the running step (sending = 1 during send_phase). */
  int sending;
  int64_t t0, max_lag;
  uint64_t n_sent, total;
  double interval;
  struct mmsghdr rx_msgs[RX_BATCH];
  struct iovec rx_iov[RX_BATCH];
  uint8_t rx_buf[RX_BATCH][PKT_MAX];
  uint8_t plain[PKT_MAX];
  int has_rtc;      /* some client is a WebRTC client */
  int64_t last_rtc; /* last pass over their timers */
};

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr_rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  p[0] = 0x80;
  p[1] = pt;
  p[2] = (uint8_t)(seq >> 8);
  p[3] = (uint8_t)seq;
  for (int i = 0; i < 4; i++) p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; i++) p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
}

/* ---- sending ------------------------------------------------------------- */

static void tx_flush(lg_media_t *m) {
  int sent = 0, fd = m->run->socks[m->tx_sock];
  while (sent < m->tx_n) {
    int n = sendmmsg(fd, m->tx_msgs + sent, (unsigned)(m->tx_n - sent), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      /* Sent packets are counted by sequence; a failed one is a gap the
       * receivers will count as lost, so it is reported apart. */
      m->res.send_fail += (uint64_t)(m->tx_n - sent);
      break;
    }
    sent += n;
  }
  m->tx_n = 0;
}

/* Writes one datagram for speaker idx into the next batch slot. */
static void queue_packet(lg_media_t *m, int idx) {
  lg_run_t *run = m->run;
  lg_client_t *c = &run->clients[idx];
  if (m->tx_n && (m->tx_sock != c->sock || m->tx_n == TX_BATCH)) tx_flush(m);
  m->tx_sock = c->sock;
  uint8_t *out = m->tx_buf[m->tx_n];
  uint32_t seq = m->tx_seq[idx]++;
  size_t plen = (size_t)run->opt.payload;
  lg_payload_t p = {.sender = (uint32_t)idx, .seq = seq, .sent_ns = lg_now_ns()};
  int len;
  sc_srtp_t *srtp = lg_run_srtp(c);
  if (srtp) {
    /* As a browser sends: PT 111, the audio-level extension; RTP
     * sequence 0 was the first packet (lg_webrtc), so steps go on from 1. */
    size_t h = lg_rtc_header(out, LG_RTC_OPUS_PT, (uint16_t)(seq + 1), seq * 960u, c->ssrc);
    lg_payload_fill(out + h, plen, &p);
    len = sc_srtp_protect_rtp(srtp, out, h + plen, PKT_MAX);
    if (len <= 0) {
      m->res.send_fail++;
      return;
    }
  } else if (run->opt.raw && !run->opt.raw_crypto) {
    wr_rtp(out, RTP_PT_OPUS, (uint16_t)seq, seq * 960u, c->ssrc);
    lg_payload_fill(out + 12, plen, &p);
    memset(out + 12 + plen, 0, RAW_TAIL);
    len = (int)(12 + plen + RAW_TAIL);
  } else {
    lg_payload_fill(m->plain, plen, &p);
    sc_media_pkt_t pkt = {.marker_pt = RTP_PT_OPUS,
                          .seq = (uint16_t)seq,
                          .timestamp = seq * 960u,
                          .ssrc = c->ssrc,
                          .payload = m->plain,
                          .payload_len = plen};
    len = dv_cipher_seal(c->cipher, &pkt, out, PKT_MAX);
    if (len <= 0) {
      m->res.send_fail++;
      return;
    }
  }
  struct mmsghdr *h = &m->tx_msgs[m->tx_n];
  memset(h, 0, sizeof *h);
  m->tx_iov[m->tx_n] = (struct iovec){out, (size_t)len};
  h->msg_hdr.msg_iov = &m->tx_iov[m->tx_n];
  h->msg_hdr.msg_iovlen = 1;
  h->msg_hdr.msg_name = &c->media;
  h->msg_hdr.msg_namelen = sizeof c->media;
  m->tx_n++;
}

/* ---- WebRTC clients' control traffic ------------------------------------- */

static void rx_step(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now);

/* Their timers (first check, retries, DTLS retransmissions, consent). */
static void rtc_service(lg_media_t *m, int64_t now, int64_t every) {
  if (!m->has_rtc || now - m->last_rtc < every) return;
  m->last_rtc = now;
  for (int i = 0; i < m->run->n_clients; i++)
    if (m->run->clients[i].rtc) lg_rtc_tick(m->run->clients[i].rtc, now);
}

/* The server's RTCP to a WebRTC client (its reports on the leg): checked
 * as a browser would, by unprotecting it; counted apart from media. */
static void rtc_rtcp(lg_media_t *m, lg_client_t *c, const uint8_t *buf, size_t len) {
  sc_srtp_t *srtp = lg_run_srtp(c);
  if (!srtp || len > sizeof m->plain) return;
  memcpy(m->plain, buf, len);
  int ok = sc_srtp_unprotect_rtcp(srtp, m->plain, len) >= 0;
  if (m->on_rx != rx_step) return; /* between steps: not counted */
  if (ok)
    m->res.rtcp++;
  else
    m->res.verify_fail++;
}

/* STUN, DTLS and SRTCP for a WebRTC client (its own socket): 1 if consumed. */
static int rtc_datagram(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now) {
  if (!m->has_rtc || sock >= m->run->n_clients) return 0;
  lg_client_t *c = &m->run->clients[sock];
  if (!c->rtc) return 0;
  if (lg_rtc_is_control(buf, len)) {
    lg_rtc_input(c->rtc, buf, len, now);
    return 1;
  }
  if (sc_demux_webrtc(buf, len) != SC_DEMUX_RTCP) return 0;
  rtc_rtcp(m, c, buf, len);
  return 1;
}

/* ---- receiving ----------------------------------------------------------- */

static void send_due(lg_media_t *m);

static void drain_socket(lg_media_t *m, int sock) {
  int fd = m->run->socks[sock];
  for (int b = 0; b < RX_BATCHES_PER_SOCKET; b++) {
    for (int i = 0; i < RX_BATCH; i++) {
      m->rx_iov[i] = (struct iovec){m->rx_buf[i], PKT_MAX};
      memset(&m->rx_msgs[i].msg_hdr, 0, sizeof m->rx_msgs[i].msg_hdr);
      m->rx_msgs[i].msg_hdr.msg_iov = &m->rx_iov[i];
      m->rx_msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, m->rx_msgs, RX_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    int64_t now = lg_now_ns();
    m->last_rx = now;
    for (int i = 0; i < n; i++)
      if (!rtc_datagram(m, sock, m->rx_buf[i], m->rx_msgs[i].msg_len, now))
        m->on_rx(m, sock, m->rx_buf[i], m->rx_msgs[i].msg_len, now);
    /* Between batches, not only between wake-ups: a wake-up can find
     * hundreds of packets over several sockets, and sends held back behind
     * them would leave late and in a burst, which queues in the server and
     * inflates the latency measured. */
    if (m->sending) send_due(m);
    if (n < RX_BATCH) return;
  }
}

/* Waits up to wait_ns for datagrams (or a wake-up) and handles them. */
static void poll_rx(lg_media_t *m, int64_t wait_ns) {
  struct epoll_event evs[64];
  struct timespec ts = {.tv_sec = wait_ns / 1000000000, .tv_nsec = wait_ns % 1000000000};
  int n = epoll_pwait2(m->ep, evs, 64, &ts, NULL);
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u32 == WAKE_TAG) {
      uint64_t v;
      if (read(m->efd, &v, sizeof v) < 0 && errno != EAGAIN) perror("lcv_loadgen: eventfd");
      continue;
    }
    drain_socket(m, (int)evs[i].data.u32);
  }
}

static void rx_idle(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now) {
  (void)now;
  if (m->has_rtc && len >= 12 && (buf[0] >> 6) == 2) return; /* a first packet: not a step's */
  if (m->on_dgram) m->on_dgram(m->dgram_ctx, sock, buf, len);
}

static void rx_hello(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now) {
  (void)sock;
  (void)now;
  if (len != 12 || (buf[1] & 0x7f) != RTP_PT_HELLO) return;
  uint32_t ssrc = rd32(buf + 8);
  if (ssrc >= 1 && ssrc <= (uint32_t)m->run->n_clients && !m->acked[ssrc - 1]) {
    m->acked[ssrc - 1] = 1;
    m->hello_acked++;
  }
}

/* The state `to` opens a datagram from `from` with: its own (server
 * runs) or its copy of the sender's key (--raw-crypto); NULL when it has
 * none, or for plain raw runs. */
static dv_cipher_t *opener(const lg_run_t *run, const lg_client_t *from, const lg_client_t *to) {
  if (!run->opt.raw) return to->cipher;
  if (!run->opt.raw_crypto || from->slot >= run->opt.speakers) return NULL;
  return to->raw_rx[from->slot];
}

/* The payload inside one forwarded datagram, decrypted under key (NULL:
 * plain RTP). */
static int open_payload(lg_media_t *m, dv_cipher_t *key, const uint8_t *buf, size_t len,
                        const uint8_t **pl, size_t *pl_len) {
  if (!key) {
    if (len < 12 + RAW_TAIL) return -EBADMSG;
    *pl = buf + 12;
    *pl_len = len - 12 - RAW_TAIL;
    return 0;
  }
  sc_media_pkt_t out;
  int rc = dv_cipher_open(key, buf, len, m->plain, sizeof m->plain, &out);
  if (rc < 0) return rc;
  *pl = out.payload;
  *pl_len = out.payload_len;
  return 0;
}

/* The SRTP state `to` unprotects a datagram from `from` with (its own
 * WebRTC client's, or its copy of the sender's key), or NULL. */
static sc_srtp_t *srtp_opener(const lg_run_t *run, const lg_client_t *from, lg_client_t *to) {
  if (!run->opt.raw) return lg_run_srtp(to);
  if (!run->opt.srtp || from->slot >= run->opt.speakers) return NULL;
  return to->raw_srtp_rx[from->slot];
}

/* SRTP: unprotect a copy, then the RTP header (PT 111 expected: a
 * Discord UDP sender's 120 rewritten by the server). */
static int open_srtp(lg_media_t *m, sc_srtp_t *key, const uint8_t *buf, size_t len,
                     const uint8_t **pl, size_t *pl_len) {
  sc_rtp_info_t h;
  if (len > sizeof m->plain) return -EBADMSG;
  memcpy(m->plain, buf, len);
  int n = sc_srtp_unprotect_rtp(key, m->plain, len);
  if (n == SC_SRTP_E_REPLAY) return -EALREADY;
  if (n < 0 || sc_rtp_parse(m->plain, (size_t)n, &h) < 0 ||
      (m->plain[1] & 0x7f) != LG_RTC_OPUS_PT || h.clear_len + h.ext_body_len > (size_t)n)
    return -EBADMSG;
  *pl = m->plain + h.clear_len + h.ext_body_len;
  *pl_len = (size_t)n - h.clear_len - h.ext_body_len;
  return 0;
}

static void rx_step(lg_media_t *m, int sock, const uint8_t *buf, size_t len, int64_t now) {
  lg_run_t *run = m->run;
  int si = len >= 12 && (buf[0] >> 6) == 2 ? lg_run_map_find(run, rd32(buf + 8)) : -1;
  lg_client_t *from = si >= 0 ? &run->clients[si] : NULL;
  lg_client_t *to = from ? lg_run_receiver(run, from, sock) : NULL;
  sc_srtp_t *skey = to && run->opt.srtp ? srtp_opener(run, from, to) : NULL;
  dv_cipher_t *key = to && !skey ? opener(run, from, to) : NULL;
  if (!to || to == from || (!key && !skey && !(run->opt.raw && !run->opt.raw_crypto))) {
    m->res.unknown++;
    return;
  }
  const uint8_t *pl;
  size_t pl_len;
  lg_payload_t p;
  int rc = skey ? open_srtp(m, skey, buf, len, &pl, &pl_len)
                : open_payload(m, key, buf, len, &pl, &pl_len);
  if (rc == -EALREADY) {
    m->seen.dups++; /* authentic, but its nonce was seen: a duplicate */
    return;
  }
  if (rc < 0 || lg_payload_check(pl, pl_len, (size_t)run->opt.payload, &p) < 0 ||
      p.sender != (uint32_t)si) {
    m->res.verify_fail++;
    return;
  }
  size_t pair = ((size_t)from->room * (size_t)run->opt.speakers + (size_t)from->slot) *
                    (size_t)run->opt.members +
                (size_t)to->slot;
  if (lg_seen_mark(&m->seen, pair, (int64_t)p.seq - (int64_t)m->base_seq[si]) == 1)
    lg_hist_add(&m->hist, now - p.sent_ns);
}

/* ---- one step ------------------------------------------------------------ */

/* Active speakers, slot-major: consecutive sends share a socket. */
static void pick_speakers(lg_media_t *m, int rooms) {
  const lg_opts_t *o = &m->run->opt;
  m->n_speakers = 0;
  for (int s = 0; s < o->speakers; s++)
    for (int r = 0; r < rooms; r++) m->speakers[m->n_speakers++] = r * o->members + s;
}

static int prepare_step(lg_media_t *m) {
  const lg_opts_t *o = &m->run->opt;
  memset(&m->res, 0, sizeof m->res);
  m->res.rooms = m->cfg.rooms;
  pick_speakers(m, m->cfg.rooms);
  memcpy(m->base_seq, m->tx_seq, sizeof *m->tx_seq * (size_t)m->run->n_clients);
  lg_hist_reset(&m->hist);
  lg_seen_free(&m->seen);
  size_t bits = (size_t)(m->cfg.seconds * o->rate) + 16;
  size_t pairs = (size_t)m->cfg.rooms * (size_t)o->speakers * (size_t)o->members;
  return lg_seen_init(&m->seen, pairs, bits);
}

/* Sends every packet due by now (at most MAX_BURST, so receiving goes on
 * when the generator has fallen far behind). */
static void send_due(lg_media_t *m) {
  int64_t now = lg_now_ns();
  uint64_t due = (uint64_t)((double)(now - m->t0) / m->interval) + 1;
  if (due > m->total) due = m->total;
  if (due <= m->n_sent) return;
  int64_t lag = now - m->t0 - (int64_t)((double)m->n_sent * m->interval);
  if (lag > m->max_lag) m->max_lag = lag;
  for (int k = 0; m->n_sent < due && k < MAX_BURST; k++, m->n_sent++)
    queue_packet(m, m->speakers[m->n_sent % (uint64_t)m->n_speakers]);
  if (m->tx_n) tx_flush(m);
}

/* Sends on schedule for cfg.seconds while receiving. */
static void send_phase(lg_media_t *m) {
  m->total = (uint64_t)(m->cfg.seconds * m->run->opt.rate * m->n_speakers);
  m->interval = 1e9 / ((double)m->run->opt.rate * m->n_speakers);
  m->t0 = lg_now_ns();
  m->max_lag = 0;
  m->n_sent = 0;
  m->sending = 1;
  while (m->n_sent < m->total) {
    send_due(m);
    rtc_service(m, lg_now_ns(), RTC_TICK_STEP_NS);
    int64_t wait = m->t0 + (int64_t)((double)m->n_sent * m->interval) - lg_now_ns();
    /* Already due (a burst was cut short): just look at the sockets. */
    if (wait > 0 && wait < MIN_TICK_NS) wait = MIN_TICK_NS;
    poll_rx(m, m->n_sent < m->total && wait > 0 ? wait : 0);
  }
  m->sending = 0;
  m->res.sent = m->total;
  m->res.send_s = (double)(lg_now_ns() - m->t0) / 1e9;
  m->res.max_lag_ms = (double)m->max_lag / 1e6;
}

/* Until the server has been quiet for a while (bounded). */
static void drain_phase(lg_media_t *m) {
  int64_t start = lg_now_ns();
  m->last_rx = start;
  for (int64_t now = start; now - m->last_rx < DRAIN_QUIET_NS && now - start < DRAIN_MAX_NS;
       now = lg_now_ns())
    poll_rx(m, 10000000);
}

static void finish_step(lg_media_t *m) {
  lg_step_result_t *r = &m->res;
  const lg_opts_t *o = &m->run->opt;
  for (int k = 0; k < m->n_speakers; k++) {
    int i = m->speakers[k];
    r->expected += (uint64_t)(m->tx_seq[i] - m->base_seq[i]) * (uint64_t)(o->members - 1);
  }
  r->received = m->seen.unique;
  r->dups = m->seen.dups;
  r->stale = m->seen.out_of_range;
  r->lost = r->expected > r->received ? r->expected - r->received : 0;
  r->p50_us = lg_hist_pct_us(&m->hist, 50);
  r->p99_us = lg_hist_pct_us(&m->hist, 99);
  r->p999_us = lg_hist_pct_us(&m->hist, 99.9);
  r->max_us = (double)m->hist.max_ns / 1e3;
}

static void run_step(lg_media_t *m) {
  if (prepare_step(m) < 0) {
    m->res.verify_fail = UINT64_MAX; /* reported as a failed step */
    return;
  }
  double cpu0 = lg_own_cpu_s(RUSAGE_THREAD);
  m->on_rx = rx_step;
  send_phase(m);
  drain_phase(m);
  m->on_rx = rx_idle;
  m->res.gen_cpu_s = lg_own_cpu_s(RUSAGE_THREAD) - cpu0;
  finish_step(m);
}

/* ---- raw hello ----------------------------------------------------------- */

static void run_hello(lg_media_t *m) {
  int64_t deadline = lg_now_ns() + (int64_t)m->hello_timeout_ms * 1000000;
  m->on_rx = rx_hello;
  while (m->hello_acked < m->run->n_clients && lg_now_ns() < deadline) {
    for (int i = 0; i < m->run->n_clients; i++) {
      if (m->acked[i]) continue;
      lg_client_t *c = &m->run->clients[i];
      uint8_t hello[12];
      wr_rtp(hello, RTP_PT_HELLO, 0, 0, c->ssrc);
      if (sendto(m->run->socks[c->sock], hello, sizeof hello, 0, (struct sockaddr *)&c->media,
                 sizeof c->media) < 0 &&
          errno != EAGAIN)
        perror("lcv_loadgen: hello");
      if (i % 256 == 255) poll_rx(m, 0); /* keep the acks flowing out of our buffers */
    }
    int64_t until = lg_now_ns() + 200000000;
    while (m->hello_acked < m->run->n_clients && lg_now_ns() < until) poll_rx(m, 20000000);
  }
  m->on_rx = rx_idle;
}

/* ---- thread and API ------------------------------------------------------ */

static void *media_main(void *arg) {
  lg_media_t *m = arg;
  for (;;) {
    int ph = atomic_load_explicit(&m->phase, memory_order_acquire);
    if (ph == PH_QUIT) break;
    if (ph == PH_IDLE) {
      poll_rx(m, m->has_rtc ? RTC_TICK_IDLE_NS : 50000000);
      rtc_service(m, lg_now_ns(), RTC_TICK_IDLE_NS);
      continue;
    }
    if (ph == PH_STEP) run_step(m);
    if (ph == PH_HELLO) run_hello(m);
    atomic_store_explicit(&m->phase, PH_IDLE, memory_order_release);
  }
  return NULL;
}

static int add_fd(lg_media_t *m, int fd, uint32_t tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
  return epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev);
}

lg_media_t *lg_media_new(lg_run_t *run, lg_dgram_fn fn, void *ctx) {
  lg_media_t *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  size_t n = (size_t)run->n_clients;
  m->run = run;
  m->on_dgram = fn;
  m->dgram_ctx = ctx;
  m->on_rx = rx_idle;
  for (size_t i = 0; i < n; i++) m->has_rtc |= run->clients[i].rtc != NULL;
  m->tx_seq = calloc(n, sizeof *m->tx_seq);
  m->base_seq = calloc(n, sizeof *m->base_seq);
  m->acked = calloc(n, 1);
  m->speakers = calloc(n, sizeof *m->speakers);
  m->ep = epoll_create1(EPOLL_CLOEXEC);
  m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int ok = m->tx_seq && m->base_seq && m->acked && m->speakers && m->ep >= 0 && m->efd >= 0 &&
           lg_hist_init(&m->hist) == 0 && add_fd(m, m->efd, WAKE_TAG) == 0;
  for (int i = 0; ok && i < run->n_socks; i++) ok = add_fd(m, run->socks[i], (uint32_t)i) == 0;
  if (!ok) {
    lg_media_free(m);
    return NULL;
  }
  return m;
}

int lg_media_start(lg_media_t *m) {
  if (pthread_create(&m->thread, NULL, media_main, m) != 0) return -1;
  m->started = 1;
  return 0;
}

/* Hands a phase to the media thread and pumps until it is back to idle. */
static void run_phase(lg_media_t *m, int phase, lg_pump_fn pump, void *pump_ctx) {
  atomic_store_explicit(&m->phase, phase, memory_order_release);
  uint64_t one = 1;
  if (write(m->efd, &one, sizeof one) < 0) perror("lcv_loadgen: eventfd");
  while (atomic_load_explicit(&m->phase, memory_order_acquire) != PH_IDLE) pump(pump_ctx, 20);
}

int lg_media_hello(lg_media_t *m, int timeout_ms, lg_pump_fn pump, void *pump_ctx) {
  m->hello_timeout_ms = timeout_ms;
  run_phase(m, PH_HELLO, pump, pump_ctx);
  return m->hello_acked;
}

int lg_media_step(lg_media_t *m, const lg_step_cfg_t *cfg, lg_step_result_t *out, lg_pump_fn pump,
                  void *pump_ctx) {
  m->cfg = *cfg;
  run_phase(m, PH_STEP, pump, pump_ctx);
  *out = m->res;
  return m->res.verify_fail == UINT64_MAX ? -ENOMEM : 0;
}

void lg_media_free(lg_media_t *m) {
  if (!m) return;
  if (m->started) {
    atomic_store(&m->phase, PH_QUIT);
    uint64_t one = 1;
    if (write(m->efd, &one, sizeof one) < 0) perror("lcv_loadgen: eventfd");
    pthread_join(m->thread, NULL);
  }
  if (m->ep >= 0) close(m->ep);
  if (m->efd >= 0) close(m->efd);
  lg_hist_free(&m->hist);
  lg_seen_free(&m->seen);
  free(m->tx_seq);
  free(m->base_seq);
  free(m->acked);
  free(m->speakers);
  free(m);
}
