#include "sc_rtcp.h"

#include <errno.h>
#include <string.h>

#include "sc_bytes.h"

#define BLOCK_LEN 24
#define SENDER_INFO_LEN 20
#define FB_HEADER_LEN 12 /* header, sender SSRC, media SSRC */
#define FIR_ENTRY_LEN 8

/* ---- the parser --------------------------------------------------------- */

static void add_block(const uint8_t *p, sc_rtcp_report_t *out) {
  sc_rtcp_block_t b;
  b.ssrc = sc_rd32(p);
  b.fraction_lost = p[4];
  uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
  b.cumulative_lost = (int32_t)(lost & 0x800000u ? lost | 0xFF000000u : lost);
  b.highest_seq = sc_rd32(p + 8);
  b.jitter = sc_rd32(p + 12);
  b.lsr = sc_rd32(p + 16);
  b.dlsr = sc_rd32(p + 20);
  if (out->n_blocks < SC_RTCP_MAX_BLOCKS) out->blocks[out->n_blocks] = b;
  out->n_blocks++;
  if (b.fraction_lost > out->worst_fraction_lost) out->worst_fraction_lost = b.fraction_lost;
  out->total_cumulative_lost += b.cumulative_lost;
  if (b.jitter > out->worst_jitter) out->worst_jitter = b.jitter;
}

static void sender_info(const uint8_t *p, sc_rtcp_report_t *out) {
  if (out->has_sender_info) return; /* the first SR's */
  out->has_sender_info = 1;
  out->sr_ssrc = sc_rd32(p + 4);
  out->sr_ntp = (uint64_t)sc_rd32(p + 8) << 32 | sc_rd32(p + 12);
  out->sr_rtp_ts = sc_rd32(p + 16);
  out->sender_packets = sc_rd32(p + 20);
  out->sender_octets = sc_rd32(p + 24);
}

/* One SR or RR of len bytes (its header included). */
static int parse_report(const uint8_t *p, size_t len, sc_rtcp_report_t *out) {
  size_t off = 8, rc = p[0] & 0x1Fu;
  if (len < off) return -EINVAL;
  if (p[1] == SC_RTCP_SR) {
    if (len < off + SENDER_INFO_LEN) return -EINVAL;
    sender_info(p, out);
    off += SENDER_INFO_LEN;
    out->n_sr++;
  } else {
    out->n_rr++;
  }
  if (len < off + rc * BLOCK_LEN) return -EINVAL;
  for (size_t i = 0; i < rc; i++) add_block(p + off + i * BLOCK_LEN, out);
  return 0;
}

/* A PLI's or FIR entry's media SSRC, once (a compound may name it twice). */
static void keyframe_request(sc_rtcp_report_t *out, uint32_t ssrc) {
  for (int i = 0; i < out->n_keyframe; i++)
    if (out->keyframe_ssrc[i] == ssrc) return;
  if (out->n_keyframe < SC_RTCP_MAX_KEYFRAME) out->keyframe_ssrc[out->n_keyframe++] = ssrc;
}

/* RTPFB and PSFB (RFC 4585 §6.1): FMT in the count field. */
static int parse_feedback(const uint8_t *p, size_t len, sc_rtcp_report_t *out) {
  if (len < FB_HEADER_LEN) return -EINVAL;
  unsigned fmt = p[0] & 0x1Fu;
  if (p[1] == SC_RTCP_RTPFB) {
    if (fmt == 1)
      out->n_nack++;
    else if (fmt == 15)
      out->n_twcc++;
    else
      out->n_fb_other++;
    return 0;
  }
  if (fmt == 1) {
    out->n_pli++;
    keyframe_request(out, sc_rd32(p + 8)); /* the media source's SSRC */
  } else if (fmt == 4) {
    size_t n = (len - FB_HEADER_LEN) / FIR_ENTRY_LEN; /* one request per entry */
    out->n_fir += (int)n;
    for (size_t i = 0; i < n; i++)
      keyframe_request(out, sc_rd32(p + FB_HEADER_LEN + i * FIR_ENTRY_LEN));
  } else if (fmt == 15 && len >= FB_HEADER_LEN + 4 && memcmp(p + FB_HEADER_LEN, "REMB", 4) == 0)
    out->n_remb++;
  else
    out->n_fb_other++;
  return 0;
}

static int parse_one(const uint8_t *p, size_t len, sc_rtcp_report_t *out) {
  switch (p[1]) {
    case SC_RTCP_SR:
    case SC_RTCP_RR: return parse_report(p, len, out);
    case SC_RTCP_RTPFB:
    case SC_RTCP_PSFB: out->n_other++; return parse_feedback(p, len, out);
    case SC_RTCP_SDES: out->n_sdes++; break;
    case SC_RTCP_BYE: out->n_bye++; break;
    case SC_RTCP_APP: out->n_app++; break;
    default: out->n_fb_other++; break; /* XR and the rest: skipped */
  }
  out->n_other++;
  return 0;
}

int sc_rtcp_parse(const uint8_t *buf, size_t len, sc_rtcp_report_t *out) {
  memset(out, 0, sizeof *out);
  if (len < 8) return -EINVAL;
  out->sender_ssrc = sc_rd32(buf + 4);
  for (size_t off = 0; off < len;) {
    const uint8_t *p = buf + off;
    if (len - off < 4 || (p[0] >> 6) != 2) return -EINVAL;
    size_t plen = 4 * ((size_t)sc_rd16(p + 2) + 1);
    if (plen > len - off || parse_one(p, plen, out) < 0) return -EINVAL;
    off += plen;
  }
  return 0;
}

int64_t sc_rtcp_report_rtt_us(const sc_rtcp_report_t *rep, uint64_t ntp_arrival) {
  int kept = rep->n_blocks < SC_RTCP_MAX_BLOCKS ? rep->n_blocks : SC_RTCP_MAX_BLOCKS;
  for (int i = 0; i < kept; i++)
    if (rep->blocks[i].lsr)
      return sc_rtcp_rtt_us(rep->blocks[i].lsr, rep->blocks[i].dlsr, ntp_arrival);
  return -1;
}

/* ---- the writers -------------------------------------------------------- */

size_t sc_rtcp_write_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (cap < FB_HEADER_LEN) return 0;
  buf[0] = 0x80 | 1; /* FMT 1 */
  buf[1] = SC_RTCP_PSFB;
  sc_wr16(buf + 2, FB_HEADER_LEN / 4 - 1);
  sc_wr32(buf + 4, sender_ssrc);
  sc_wr32(buf + 8, media_ssrc);
  return FB_HEADER_LEN;
}

static void header(uint8_t *p, unsigned count, uint8_t type, size_t len) {
  p[0] = (uint8_t)(0x80 | count);
  p[1] = type;
  sc_wr16(p + 2, (uint16_t)(len / 4 - 1));
}

size_t sc_rtcp_write_sr(uint8_t *buf, size_t cap, const sc_rtcp_sender_t *s) {
  size_t len = 8 + SENDER_INFO_LEN;
  if (cap < len) return 0;
  header(buf, 0, SC_RTCP_SR, len);
  sc_wr32(buf + 4, s->ssrc);
  sc_wr32(buf + 8, (uint32_t)(s->ntp >> 32));
  sc_wr32(buf + 12, (uint32_t)s->ntp);
  sc_wr32(buf + 16, s->rtp_ts);
  sc_wr32(buf + 20, s->packets);
  sc_wr32(buf + 24, s->octets);
  return len;
}

static void put_block(uint8_t *p, const sc_rtcp_block_t *b) {
  int32_t lost = b->cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF; /* RFC 3550 A.3: clamped to 24 bits */
  if (lost < -0x800000) lost = -0x800000;
  sc_wr32(p, b->ssrc);
  sc_wr32(p + 4, (uint32_t)b->fraction_lost << 24 | ((uint32_t)lost & 0xFFFFFFu));
  sc_wr32(p + 8, b->highest_seq);
  sc_wr32(p + 12, b->jitter);
  sc_wr32(p + 16, b->lsr);
  sc_wr32(p + 20, b->dlsr);
}

size_t sc_rtcp_write_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const sc_rtcp_block_t *b, int n) {
  if (n < 0 || n > 31) return 0;
  size_t len = 8 + (size_t)n * BLOCK_LEN;
  if (cap < len) return 0;
  header(buf, (unsigned)n, SC_RTCP_RR, len);
  sc_wr32(buf + 4, ssrc);
  for (int i = 0; i < n; i++) put_block(buf + 8 + (size_t)i * BLOCK_LEN, &b[i]);
  return len;
}

/* Chunk: SSRC, CNAME item (type 1, length, text), then one to four zero
 * bytes: the end of the item list and padding to a 32-bit boundary. */
size_t sc_rtcp_write_sdes(uint8_t *buf, size_t cap, const uint32_t *ssrcs, int n,
                          const char *cname) {
  size_t clen = strlen(cname);
  if (n < 1 || n > 31 || clen < 1 || clen > 255) return 0;
  size_t chunk = (4 + 2 + clen + 4) & ~(size_t)3;
  size_t len = 4 + (size_t)n * chunk;
  if (cap < len) return 0;
  header(buf, (unsigned)n, SC_RTCP_SDES, len);
  for (int i = 0; i < n; i++) {
    uint8_t *c = buf + 4 + (size_t)i * chunk;
    memset(c, 0, chunk);
    sc_wr32(c, ssrcs[i]);
    c[4] = 1; /* CNAME */
    c[5] = (uint8_t)clen;
    memcpy(c + 6, cname, clen);
  }
  return len;
}

/* 70 years (17 of them leap) between 1900 and 1970. */
#define NTP_UNIX_OFFSET 2208988800ull

uint64_t sc_rtcp_ntp(int64_t unix_ns) {
  uint64_t ns = unix_ns > 0 ? (uint64_t)unix_ns : 0;
  uint64_t sec = ns / 1000000000u, frac_ns = ns % 1000000000u;
  return (sec + NTP_UNIX_OFFSET) << 32 | ((frac_ns << 32) / 1000000000u);
}

int64_t sc_rtcp_rtt_us(uint32_t lsr, uint32_t dlsr, uint64_t ntp_arrival) {
  if (!lsr) return -1;
  uint32_t a = (uint32_t)(ntp_arrival >> 16); /* the middle 32 bits, 1/65536 s */
  int32_t rtt = (int32_t)(a - lsr - dlsr);    /* modulo 2^32: wraps with the NTP era */
  if (rtt < 0) return -1;
  int64_t us = ((int64_t)rtt * 1000000) >> 16;
  return us <= SC_RTCP_RTT_MAX_US ? us : -1;
}

/* ---- a leg's state ------------------------------------------------------ */

void sc_rtcp_leg_init(sc_rtcp_leg_t *l, uint32_t seed) {
  memset(l, 0, sizeof *l);
  l->rng = seed ? seed : 0x9E3779B9u;
}

static uint32_t next_random(sc_rtcp_leg_t *l) {
  uint32_t x = l->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return l->rng = x;
}

/* RFC 3550 §6.3.1: the interval times a random factor in [0.5, 1.5]. */
static int64_t interval(sc_rtcp_leg_t *l) {
  return SC_RTCP_INTERVAL_MS / 2 + (int64_t)(next_random(l) % SC_RTCP_INTERVAL_MS);
}

void sc_rtcp_leg_sent(sc_rtcp_leg_t *l, uint32_t ssrc, uint32_t rtp_ts, uint32_t clock_hz,
                      size_t payload_len, int64_t now_ms) {
  if (!ssrc) return; /* 0 marks a free entry; never announced */
  sc_rtcp_source_t *s = l->src[l->last].ssrc == ssrc ? &l->src[l->last] : NULL;
  sc_rtcp_source_t *oldest = &l->src[0];
  for (int i = 0; !s && i < SC_RTCP_SOURCES; i++) {
    sc_rtcp_source_t *e = &l->src[i];
    if (e->ssrc == ssrc)
      s = e;
    else if (!e->ssrc ? oldest->ssrc : e->at_ms < oldest->at_ms)
      oldest = e;
  }
  if (!s) {
    s = oldest; /* a free entry, else the least recently forwarded */
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
  }
  l->last = (int)(s - l->src);
  s->rtp_ts = rtp_ts;
  s->clock_hz = clock_hz ? clock_hz : SC_RTCP_AUDIO_HZ;
  s->at_ms = now_ms;
  s->packets++;
  s->octets += (uint32_t)payload_len;
}

void sc_rtcp_leg_forget(sc_rtcp_leg_t *l, uint32_t ssrc) {
  for (int i = 0; ssrc && i < SC_RTCP_SOURCES; i++)
    if (l->src[i].ssrc == ssrc) memset(&l->src[i], 0, sizeof l->src[i]);
}

void sc_rtcp_leg_peer_sr(sc_rtcp_leg_t *l, uint64_t ntp, int64_t now_ms) {
  l->peer_lsr = (uint32_t)(ntp >> 16);
  l->peer_sr_ms = now_ms;
}

int sc_rtcp_leg_due(sc_rtcp_leg_t *l, int64_t now_ms) {
  if (!l->next_ms) l->next_ms = now_ms + interval(l) / 2; /* the first comes sooner */
  return now_ms >= l->next_ms;
}

/* RFC 3550 A.3: the block about the peer's stream from our receive side. */
static void peer_block(sc_rtcp_leg_t *l, const sc_rtcp_peer_t *peer, int64_t now_ms,
                       sc_rtcp_block_t *b) {
  const sc_quality_reading_t *rx = peer->rx;
  uint32_t expected = rx->ext_max - rx->base + 1;
  if (rx->base != l->base_prior || rx->received < l->received_prior || expected < l->expected_prior)
    l->expected_prior = l->received_prior = 0; /* the stream restarted */
  uint32_t exp_i = expected - l->expected_prior, rec_i = rx->received - l->received_prior;
  int64_t lost = (int64_t)expected - rx->received;
  memset(b, 0, sizeof *b);
  b->ssrc = peer->peer_ssrc;
  b->fraction_lost = exp_i > rec_i ? (uint8_t)(((uint64_t)(exp_i - rec_i) << 8) / exp_i) : 0;
  b->cumulative_lost = lost > 0x7FFFFF ? 0x7FFFFF : (int32_t)lost;
  b->highest_seq = rx->ext_max;
  b->jitter = rx->jitter16 >> 4;
  if (l->peer_lsr) {
    b->lsr = l->peer_lsr;
    b->dlsr = (uint32_t)(((uint64_t)(now_ms - l->peer_sr_ms) << 16) / 1000);
  }
  l->expected_prior = expected;
  l->received_prior = rx->received;
  l->base_prior = rx->base;
}

/* The RTP time of now on the source's clock: its last packet's timestamp
 * advanced by the time since it was forwarded (Opus 48, video 90 ticks a
 * millisecond), so a receiver's RTP-to-NTP mapping of every stream runs
 * at that stream's rate and audio and video line up (lip sync). */
static uint32_t rtp_now(const sc_rtcp_source_t *s, int64_t now_ms) {
  int64_t since = now_ms - s->at_ms;
  return s->rtp_ts + (uint32_t)(since * (int64_t)s->clock_hz / 1000);
}

size_t sc_rtcp_leg_report(sc_rtcp_leg_t *l, const sc_rtcp_peer_t *peer, int64_t now_ms,
                          int64_t unix_ns, uint8_t *buf, size_t cap) {
  l->next_ms = now_ms + interval(l);
  if (cap < SC_RTCP_REPORT_MAX) return 0;
  uint32_t ssrcs[SC_RTCP_SOURCES + 1];
  int n = 0;
  size_t len = 0;
  uint64_t ntp = sc_rtcp_ntp(unix_ns);
  for (int i = 0; i < SC_RTCP_SOURCES; i++) {
    const sc_rtcp_source_t *s = &l->src[i];
    if (!s->ssrc || now_ms - s->at_ms > SC_RTCP_SENDER_TIMEOUT * SC_RTCP_INTERVAL_MS) continue;
    sc_rtcp_sender_t si = {s->ssrc, ntp, rtp_now(s, now_ms), s->packets, s->octets};
    len += sc_rtcp_write_sr(buf + len, cap - len, &si);
    ssrcs[n++] = s->ssrc;
  }
  if (peer && peer->rx && peer->rx->received) {
    sc_rtcp_block_t b;
    peer_block(l, peer, now_ms, &b);
    len += sc_rtcp_write_rr(buf + len, cap - len, SC_RTCP_SERVER_SSRC, &b, 1);
    ssrcs[n++] = SC_RTCP_SERVER_SSRC;
  }
  if (!n) return 0;
  return len + sc_rtcp_write_sdes(buf + len, cap - len, ssrcs, n, SC_RTCP_CNAME);
}
