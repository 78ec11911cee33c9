/*
 * fuzz_rtcp: sc_rtcp_parse (src/sc_rtcp.h) over any bytes, and a leg's
 * report built from what it parsed. Besides memory safety it checks that
 * the counts stay within what the bytes can hold, that the kept blocks
 * never exceed SC_RTCP_MAX_BLOCKS, and that every report sc_rtcp writes
 * (whatever the SR it learnt from, whatever the sources) parses back with
 * one SR per source and one SDES; the key-frame requests it keeps are
 * distinct and bounded, and a PLI written for each reads back.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_rtcp.h"

static void check_counts(const sc_rtcp_report_t *r, size_t size) {
  int packets = r->n_sr + r->n_rr + r->n_other;
  FUZZ_CHECK(packets >= 1 && (size_t)packets * 4 <= size);
  FUZZ_CHECK(r->n_sdes + r->n_bye + r->n_app <= r->n_other);
  FUZZ_CHECK(r->n_pli >= 0 && r->n_fir >= 0 && r->n_nack >= 0 && r->n_remb >= 0);
  FUZZ_CHECK((size_t)r->n_blocks * 24 <= size);
  FUZZ_CHECK(r->has_sender_info == (r->n_sr > 0));
  FUZZ_CHECK(r->n_keyframe >= 0 && r->n_keyframe <= SC_RTCP_MAX_KEYFRAME);
  FUZZ_CHECK(r->n_keyframe <= r->n_pli + r->n_fir);
  for (int i = 0; i < r->n_keyframe; i++)
    for (int j = 0; j < i; j++) FUZZ_CHECK(r->keyframe_ssrc[i] != r->keyframe_ssrc[j]);
}

/* A PLI about each SSRC asked of reads back as one. */
static void check_pli_writer(const sc_rtcp_report_t *r) {
  for (int i = 0; i < r->n_keyframe; i++) {
    uint8_t pli[12];
    sc_rtcp_report_t back;
    FUZZ_CHECK(sc_rtcp_write_pli(pli, sizeof pli, r->sender_ssrc, r->keyframe_ssrc[i]) == 12);
    FUZZ_CHECK(sc_rtcp_parse(pli, sizeof pli, &back) == 0);
    FUZZ_CHECK(back.n_pli == 1 && back.n_keyframe == 1 &&
               back.keyframe_ssrc[0] == r->keyframe_ssrc[i]);
  }
}

/* The parsed packet drives a leg: its SR as the peer's, its blocks as
 * forwarded sources; our report must read back. */
static void check_report(const sc_rtcp_report_t *r) {
  sc_rtcp_leg_t l;
  sc_rtcp_leg_init(&l, r->sender_ssrc);
  if (r->has_sender_info) sc_rtcp_leg_peer_sr(&l, r->sr_ntp, 1000);
  int kept = r->n_blocks < SC_RTCP_MAX_BLOCKS ? r->n_blocks : SC_RTCP_MAX_BLOCKS;
  for (int i = 0; i < kept; i++)
    sc_rtcp_leg_sent(&l, r->blocks[i].ssrc, r->blocks[i].jitter, r->blocks[i].lsr,
                     r->blocks[i].highest_seq & 0xFFF, 1000 + i); /* any clock rate */
  sc_quality_reading_t rx = {0};
  rx.base = r->sender_packets, rx.ext_max = r->sender_octets, rx.received = r->sr_rtp_ts;
  rx.jitter16 = r->worst_jitter;
  sc_rtcp_peer_t peer = {&rx, r->sender_ssrc};
  uint8_t buf[SC_RTCP_REPORT_MAX];
  size_t n = sc_rtcp_leg_report(&l, &peer, 1500, 1700000000000000000ll, buf, sizeof buf);
  FUZZ_CHECK(n <= sizeof buf && n % 4 == 0);
  if (!n) return;
  sc_rtcp_report_t back;
  FUZZ_CHECK(sc_rtcp_parse(buf, n, &back) == 0);
  FUZZ_CHECK(back.n_sdes == 1 && back.n_rr <= 1 && back.n_sr <= SC_RTCP_SOURCES);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_rtcp_report_t r;
  int rc = sc_rtcp_parse(data, size, &r);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (rc < 0) return 0;
  check_counts(&r, size);
  for (int i = 0; i < r.n_blocks && i < SC_RTCP_MAX_BLOCKS; i++) {
    int64_t rtt = sc_rtcp_rtt_us(r.blocks[i].lsr, r.blocks[i].dlsr, r.sr_ntp);
    FUZZ_CHECK(rtt >= -1 && rtt <= SC_RTCP_RTT_MAX_US);
  }
  check_report(&r);
  check_pli_writer(&r);
  return 0;
}
