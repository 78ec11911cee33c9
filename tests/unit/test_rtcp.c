/* sc_rtcp: feedback and reduced-size parsing, the writers read back by
 * the parser, and a leg's reports (sources, eviction, each source's RTP
 * clock, the RR about the peer's stream with LSR/DLSR, the randomised
 * schedule); sc_rtc_rtcp's choice of a forwarded packet's clock. */
#include <errno.h>
#include <string.h>

#include "sc_bytes.h"
#include "sc_rtc_rtcp.h"
#include "sc_rtcp.h"
#include "sc_test.h"

static size_t fb(uint8_t *p, uint8_t type, uint8_t fmt, size_t words_after_header) {
  memset(p, 0, 4 + 4 * words_after_header);
  p[0] = (uint8_t)(0x80 | fmt);
  p[1] = type;
  sc_wr16(p + 2, (uint16_t)words_after_header);
  sc_wr32(p + 4, 0x1111), sc_wr32(p + 8, 0x2222);
  return 4 + 4 * words_after_header;
}

/* Reduced-size (RFC 5506): feedback alone, no SR/RR first. */
static void test_feedback_reduced_size(void) {
  uint8_t buf[256];
  size_t n = fb(buf, SC_RTCP_PSFB, 1, 2);       /* PLI */
  n += fb(buf + n, SC_RTCP_PSFB, 4, 2 + 2 * 2); /* FIR, two entries */
  size_t remb = n;
  n += fb(buf + n, SC_RTCP_PSFB, 15, 2 + 3); /* REMB */
  memcpy(buf + remb + 12, "REMB", 4);
  n += fb(buf + n, SC_RTCP_RTPFB, 1, 3);  /* NACK */
  n += fb(buf + n, SC_RTCP_RTPFB, 15, 4); /* transport-cc */
  n += fb(buf + n, SC_RTCP_PSFB, 15, 3);  /* another AFB */
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_pli, 1);
  ASSERT_EQ(r.n_fir, 2);
  ASSERT_EQ(r.n_remb, 1);
  ASSERT_EQ(r.n_nack, 1);
  ASSERT_EQ(r.n_twcc, 1);
  ASSERT_EQ(r.n_fb_other, 1);
  ASSERT_EQ(r.n_other, 6);
  ASSERT_EQ(r.n_sr + r.n_rr, 0);
  ASSERT_EQ(r.sender_ssrc, 0x1111);
  /* A feedback packet without its media SSRC is malformed. */
  uint8_t shortfb[12];
  fb(shortfb, SC_RTCP_PSFB, 1, 2);
  shortfb[3] = 1; /* 8 bytes */
  ASSERT_EQ(sc_rtcp_parse(shortfb, 8, &r), -EINVAL);
}

/* Our writers, read back by our parser: SR + RR + SDES, as a leg sends. */
/* PLI and FIR name the SSRCs they want a key frame of: each kept once. */
static void test_keyframe_requests(void) {
  uint8_t buf[256];
  memset(buf, 0, sizeof buf);
  size_t n = sc_rtcp_write_pli(buf, sizeof buf, 0x1111, 0xA0A0);
  ASSERT_EQ(n, 12);
  ASSERT_EQ(sc_rtcp_write_pli(buf, 11, 1, 2), 0);
  size_t fir = n;
  n += fb(buf + n, SC_RTCP_PSFB, 4, 2 + 2 * 2); /* FIR, two entries */
  sc_wr32(buf + fir + 12, 0xB0B0);
  sc_wr32(buf + fir + 20, 0xA0A0); /* the PLI's again */
  n += sc_rtcp_write_pli(buf + n, sizeof buf - n, 0x1111, 0xC0C0);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_pli, 2);
  ASSERT_EQ(r.n_fir, 2);
  ASSERT_EQ(r.n_keyframe, 3);
  ASSERT_EQ(r.keyframe_ssrc[0], 0xA0A0);
  ASSERT_EQ(r.keyframe_ssrc[1], 0xB0B0);
  ASSERT_EQ(r.keyframe_ssrc[2], 0xC0C0);
  /* More distinct SSRCs than kept: counted, the first ones kept. */
  n = 0;
  for (uint32_t i = 0; i < SC_RTCP_MAX_KEYFRAME + 3; i++)
    n += sc_rtcp_write_pli(buf + n, sizeof buf - n, 1, 100 + i);
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_pli, SC_RTCP_MAX_KEYFRAME + 3);
  ASSERT_EQ(r.n_keyframe, SC_RTCP_MAX_KEYFRAME);
  ASSERT_EQ(r.keyframe_ssrc[SC_RTCP_MAX_KEYFRAME - 1], 100 + SC_RTCP_MAX_KEYFRAME - 1);
}

static void test_writers_round_trip(void) {
  uint8_t buf[512];
  sc_rtcp_sender_t s = {0xABCD, 0x1122334455667788ull, 960, 50, 4000};
  sc_rtcp_block_t b = {7, 64, -3, 0x10005, 99, 0x33445566, 65536};
  size_t n = sc_rtcp_write_sr(buf, sizeof buf, &s);
  ASSERT_EQ(n, 28);
  n += sc_rtcp_write_rr(buf + n, sizeof buf - n, 0x42, &b, 1);
  uint32_t ssrcs[2] = {0xABCD, 0x42};
  size_t sdes = sc_rtcp_write_sdes(buf + n, sizeof buf - n, ssrcs, 2, "lv");
  ASSERT_EQ(sdes % 4, 0);
  ASSERT_EQ(sdes, 4 + 2 * 12); /* 4 + 2 + 2, terminated, padded */
  n += sdes;
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_sr, 1);
  ASSERT_EQ(r.n_rr, 1);
  ASSERT_EQ(r.n_sdes, 1);
  ASSERT_EQ(r.sr_ssrc, 0xABCD);
  ASSERT_TRUE(r.sr_ntp == 0x1122334455667788ull);
  ASSERT_EQ(r.sr_rtp_ts, 960);
  ASSERT_EQ(r.sender_packets, 50);
  ASSERT_EQ(r.sender_octets, 4000);
  ASSERT_EQ(r.n_blocks, 1);
  ASSERT_EQ(r.blocks[0].ssrc, 7);
  ASSERT_EQ(r.blocks[0].fraction_lost, 64);
  ASSERT_EQ(r.blocks[0].cumulative_lost, -3);
  ASSERT_EQ(r.blocks[0].highest_seq, 0x10005);
  ASSERT_EQ(r.blocks[0].lsr, 0x33445566u);
  ASSERT_EQ(r.blocks[0].dlsr, 65536);
  /* No room: nothing written. */
  ASSERT_EQ(sc_rtcp_write_sr(buf, 27, &s), 0);
  ASSERT_EQ(sc_rtcp_write_rr(buf, 31, 1, &b, 1), 0);
  ASSERT_EQ(sc_rtcp_write_sdes(buf, 10, ssrcs, 1, "lv"), 0);
}

static void test_ntp(void) {
  /* 1970-01-01T00:00:00.5Z */
  uint64_t t = sc_rtcp_ntp(500000000);
  ASSERT_EQ(t >> 32, 2208988800u);
  ASSERT_EQ((uint32_t)t, 0x80000000u);
}

/* RFC 3550 6.4.1: A - LSR - DLSR, in 1/65536 s. */
static void test_rtt(void) {
  uint64_t sr = sc_rtcp_ntp(1000000000000ll);                 /* our SR */
  uint64_t back = sc_rtcp_ntp(1000000000000ll + 250000000ll); /* 250 ms later */
  uint32_t lsr = (uint32_t)(sr >> 16), dlsr = 65536 / 5;      /* held 200 ms */
  int64_t us = sc_rtcp_rtt_us(lsr, dlsr, back);
  ASSERT_TRUE(us >= 49900 && us <= 50100);
  ASSERT_EQ(sc_rtcp_rtt_us(0, dlsr, back), -1);              /* no SR named */
  ASSERT_EQ(sc_rtcp_rtt_us(lsr, 65536, back), -1);           /* negative */
  ASSERT_EQ(sc_rtcp_rtt_us(lsr - 65536 * 100, 0, back), -1); /* over the bound */
}

static void test_leg_sources(void) {
  sc_rtcp_leg_t l;
  sc_rtcp_leg_init(&l, 1);
  uint8_t buf[SC_RTCP_REPORT_MAX];
  ASSERT_EQ(sc_rtcp_leg_report(&l, NULL, 1000, 0, buf, sizeof buf), 0); /* nothing to say */
  for (uint32_t i = 1; i <= SC_RTCP_SOURCES + 2; i++)
    sc_rtcp_leg_sent(&l, i, 100 * i, SC_RTCP_AUDIO_HZ, 80, 1000 + i); /* 1 and 2 evicted */
  sc_rtcp_leg_sent(&l, 5, 9600, SC_RTCP_AUDIO_HZ, 20, 1100);
  sc_rtcp_leg_sent(&l, 0, 1, SC_RTCP_AUDIO_HZ, 1, 1100); /* never a source */
  size_t n = sc_rtcp_leg_report(&l, NULL, 1200, 1000000000, buf, sizeof buf);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_sr, SC_RTCP_SOURCES);
  ASSERT_EQ(r.n_sdes, 1);
  ASSERT_EQ(r.n_rr, 0);
  ASSERT_TRUE(r.sr_ssrc >= 3); /* the evicted ones are gone */
  /* Source 5: 2 packets, 100 octets, RTP time advanced 100 ms (4800). */
  int found = 0;
  for (size_t off = 0; off + 28 <= n && buf[off + 1] == SC_RTCP_SR; off += 28) {
    if (sc_rd32(buf + off + 4) != 5) continue;
    found = 1;
    ASSERT_EQ(sc_rd32(buf + off + 16), 9600 + 4800);
    ASSERT_EQ(sc_rd32(buf + off + 20), 2);
    ASSERT_EQ(sc_rd32(buf + off + 24), 100);
  }
  ASSERT_TRUE(found);
  /* Long silent sources are no longer senders. */
  int64_t later = 1200 + SC_RTCP_SENDER_TIMEOUT * SC_RTCP_INTERVAL_MS + 200;
  ASSERT_EQ(sc_rtcp_leg_report(&l, NULL, later, 0, buf, sizeof buf), 0);
  /* A new source then takes the least recently forwarded entry. */
  sc_rtcp_leg_sent(&l, 99, 0, SC_RTCP_AUDIO_HZ, 10, later);
  int has99 = 0, has5 = 0, has3 = 0;
  for (int i = 0; i < SC_RTCP_SOURCES; i++) {
    has99 |= l.src[i].ssrc == 99;
    has5 |= l.src[i].ssrc == 5;
    has3 |= l.src[i].ssrc == 3;
  }
  ASSERT_TRUE(has99 && has5 && !has3); /* 3 was the least recent, 5 the most */
}

/* The RTP and NTP times of the SR about ssrc in a compound report. */
static int sr_of(const uint8_t *buf, size_t n, uint32_t ssrc, uint32_t *rtp, uint64_t *ntp) {
  for (size_t off = 0; off + 28 <= n && buf[off + 1] == SC_RTCP_SR; off += 28) {
    if (sc_rd32(buf + off + 4) != ssrc) continue;
    *ntp = (uint64_t)sc_rd32(buf + off + 8) << 32 | sc_rd32(buf + off + 12);
    *rtp = sc_rd32(buf + off + 16);
    return 1;
  }
  return 0;
}

/* An SR's RTP time advances on its own source's clock: a 90 kHz video
 * source and a 48 kHz Opus one, last forwarded at the same moment and
 * reported N ms later, have advanced 90 N and 48 N; between two reports
 * a second apart (NTP), 90000 and 48000. On one clock for both, a
 * receiver could not line video up with audio. */
static void test_leg_clock(void) {
  enum { AUDIO = 0xA0, VIDEO = 0xB0, OTHER = 0xC0, N_MS = 250 };
  sc_rtcp_leg_t l;
  sc_rtcp_leg_init(&l, 3);
  sc_rtcp_leg_sent(&l, AUDIO, 48000, SC_RTCP_AUDIO_HZ, 80, 1000);
  sc_rtcp_leg_sent(&l, VIDEO, 0xFFFFF000u, SC_RTCP_VIDEO_HZ, 1000, 1000); /* wraps */
  sc_rtcp_leg_sent(&l, OTHER, 7, 0, 80, 1000);                            /* 0: audio's */
  uint8_t buf[SC_RTCP_REPORT_MAX];
  int64_t unix_ns = 1700000000000000000ll;
  size_t n = sc_rtcp_leg_report(&l, NULL, 1000 + N_MS, unix_ns, buf, sizeof buf);
  uint32_t a1, v1, o1, a2, v2;
  uint64_t an1, vn1, on1, an2, vn2;
  ASSERT_TRUE(sr_of(buf, n, AUDIO, &a1, &an1) && sr_of(buf, n, VIDEO, &v1, &vn1));
  ASSERT_TRUE(sr_of(buf, n, OTHER, &o1, &on1));
  ASSERT_EQ(a1, 48000u + 48 * N_MS);
  ASSERT_EQ(v1, (uint32_t)(0xFFFFF000u + 90 * N_MS));
  ASSERT_EQ(o1, 7u + 48 * N_MS);
  n = sc_rtcp_leg_report(&l, NULL, 1000 + N_MS + 1000, unix_ns + 1000000000, buf, sizeof buf);
  ASSERT_TRUE(sr_of(buf, n, AUDIO, &a2, &an2) && sr_of(buf, n, VIDEO, &v2, &vn2));
  ASSERT_EQ(an2 - an1, 1ull << 32); /* one second of NTP time */
  ASSERT_EQ(vn2 - vn1, 1ull << 32);
  ASSERT_EQ(a2 - a1, 48000u);
  ASSERT_EQ(v2 - v1, 90000u);
}

/* sc_rtc_rtcp notes a sealed copy on its core PT's clock: Opus (120)
 * 48 kHz; VP8, H264 and their RTX (Discord's 101..104) 90 kHz. */
static void test_forwarded_clock(void) {
  static const struct {
    uint8_t pt;
    uint32_t hz;
  } cases[] = {{120, 48000},
               {0x80 | 120, 48000},
               {SC_RTC_VP8_PT_CORE, 90000},
               {SC_RTC_VP8_RTX_PT_CORE, 90000},
               {0x80 | SC_RTC_H264_PT_CORE, 90000},
               {SC_RTC_H264_RTX_PT_CORE, 90000}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sc_rtcp_leg_t l;
    sc_rtc_rtcp_init(&l, "ufrag");
    uint8_t payload[4] = {0};
    sc_media_pkt_t pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.marker_pt = cases[i].pt;
    pkt.ssrc = 0x1234;
    pkt.timestamp = 1000;
    pkt.payload = payload;
    pkt.payload_len = sizeof payload;
    sc_rtc_rtcp_forwarded(&l, &pkt, pkt.ssrc, 5000);
    ASSERT_EQ(l.src[0].ssrc, 0x1234u);
    ASSERT_EQ(l.src[0].clock_hz, cases[i].hz);
    uint8_t buf[SC_RTCP_REPORT_MAX];
    size_t n = sc_rtcp_leg_report(&l, NULL, 5100, 0, buf, sizeof buf);
    uint32_t rtp;
    uint64_t ntp;
    ASSERT_TRUE(sr_of(buf, n, 0x1234, &rtp, &ntp));
    ASSERT_EQ(rtp, 1000 + cases[i].hz / 10); /* 100 ms later */
  }
}

/* The RR block about the peer's stream, from our sc_quality reading. */
static void test_leg_receiver_report(void) {
  sc_rtcp_leg_t l;
  sc_rtcp_leg_init(&l, 7);
  sc_quality_reading_t rx = {0};
  rx.base = 100, rx.ext_max = 199, rx.received = 90, rx.jitter16 = 16 * 48;
  sc_rtcp_peer_t peer = {&rx, 0xBEEF};
  sc_rtcp_leg_peer_sr(&l, 0x0000AAAABBBB0000ull, 5000);
  uint8_t buf[SC_RTCP_REPORT_MAX];
  size_t n = sc_rtcp_leg_report(&l, &peer, 5500, 0, buf, sizeof buf);
  sc_rtcp_report_t r;
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.n_rr, 1);
  ASSERT_EQ(r.sender_ssrc, SC_RTCP_SERVER_SSRC);
  ASSERT_EQ(r.n_blocks, 1);
  ASSERT_EQ(r.blocks[0].ssrc, 0xBEEF);
  ASSERT_EQ(r.blocks[0].cumulative_lost, 10);
  ASSERT_EQ(r.blocks[0].fraction_lost, (10 << 8) / 100);
  ASSERT_EQ(r.blocks[0].highest_seq, 199);
  ASSERT_EQ(r.blocks[0].jitter, 48);
  ASSERT_EQ(r.blocks[0].lsr, 0xAAAABBBBu);
  ASSERT_EQ(r.blocks[0].dlsr, 32768); /* half a second */
  /* Next interval: 100 more expected, all received: fraction 0. */
  rx.ext_max = 299, rx.received = 190;
  n = sc_rtcp_leg_report(&l, &peer, 7000, 0, buf, sizeof buf);
  ASSERT_EQ(sc_rtcp_parse(buf, n, &r), 0);
  ASSERT_EQ(r.blocks[0].fraction_lost, 0);
  ASSERT_EQ(r.blocks[0].cumulative_lost, 10);
  /* Nothing received: no RR at all. */
  rx.received = 0;
  ASSERT_EQ(sc_rtcp_leg_report(&l, &peer, 9000, 0, buf, sizeof buf), 0);
}

/* Reports come every [0.5, 1.5] intervals, the first within 0.75. */
static void test_leg_schedule(void) {
  sc_rtcp_leg_t l;
  sc_rtcp_leg_init(&l, 12345);
  int64_t t = 10000;
  ASSERT_EQ(sc_rtcp_leg_due(&l, t), 0);
  ASSERT_TRUE(l.next_ms - t >= SC_RTCP_INTERVAL_MS / 4);
  ASSERT_TRUE(l.next_ms - t <= SC_RTCP_INTERVAL_MS * 3 / 4);
  uint8_t buf[SC_RTCP_REPORT_MAX];
  int64_t lo = 1 << 30, hi = 0;
  for (int i = 0; i < 200; i++) {
    t = l.next_ms;
    ASSERT_EQ(sc_rtcp_leg_due(&l, t), 1);
    sc_rtcp_leg_report(&l, NULL, t, 0, buf, sizeof buf);
    int64_t gap = l.next_ms - t;
    lo = gap < lo ? gap : lo;
    hi = gap > hi ? gap : hi;
  }
  ASSERT_TRUE(lo >= SC_RTCP_INTERVAL_MS / 2);
  ASSERT_TRUE(hi < SC_RTCP_INTERVAL_MS * 3 / 2);
  ASSERT_TRUE(hi - lo > SC_RTCP_INTERVAL_MS / 2); /* actually spread */
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_feedback_reduced_size);
  RUN_TEST(test_keyframe_requests);
  RUN_TEST(test_writers_round_trip);
  RUN_TEST(test_ntp);
  RUN_TEST(test_rtt);
  RUN_TEST(test_leg_sources);
  RUN_TEST(test_leg_clock);
  RUN_TEST(test_forwarded_clock);
  RUN_TEST(test_leg_receiver_report);
  RUN_TEST(test_leg_schedule);
  SC_TEST_DONE();
}
