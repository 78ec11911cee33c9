#include "sc_rtp.h"

#include "sc_bytes.h"

#include <errno.h>
#include <string.h>

int sc_rtp_looks_like_rtp(const uint8_t *buf, size_t len) {
  return len >= 8 && (buf[0] >> 6) == 2;
}

static int parse_rtcp(const uint8_t *buf, size_t len, sc_rtp_info_t *out) {
  if (len < 8) return -EINVAL;
  out->is_rtcp = 1;
  out->ssrc = sc_rd32(buf + 4);
  out->clear_len = 8;
  return 0;
}

int sc_rtp_parse(const uint8_t *buf, size_t len, sc_rtp_info_t *out) {
  memset(out, 0, sizeof *out);
  if (!sc_rtp_looks_like_rtp(buf, len)) return -EINVAL;
  out->padding = (buf[0] >> 5) & 1;
  out->marker_pt = buf[1];
  if (buf[1] >= 200 && buf[1] <= 204) return parse_rtcp(buf, len, out);
  if (len < 12) return -EINVAL;
  out->extension = (buf[0] >> 4) & 1;
  out->csrc_count = buf[0] & 0x0f;
  out->seq = (uint16_t)(buf[2] << 8 | buf[3]);
  out->timestamp = sc_rd32(buf + 4);
  out->ssrc = sc_rd32(buf + 8);
  size_t clear = 12 + 4 * (size_t)out->csrc_count;
  if (out->extension) {
    if (len < clear + 4) return -EINVAL;
    out->ext_body_len = 4 * (size_t)(buf[clear + 2] << 8 | buf[clear + 3]);
    clear += 4;
  }
  if (len < clear) return -EINVAL;
  out->clear_len = clear;
  return 0;
}

/* ---- RTCP reports ------------------------------------------------------- */

#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_BLOCK_LEN 24
#define RTCP_SENDER_INFO_LEN 20

static void add_block(const uint8_t *p, sc_rtcp_report_t *out) {
  sc_rtcp_block_t b;
  b.ssrc = sc_rd32(p);
  b.fraction_lost = p[4];
  uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
  b.cumulative_lost = (int32_t)(lost & 0x800000u ? lost | 0xFF000000u : lost);
  b.highest_seq = sc_rd32(p + 8);
  b.jitter = sc_rd32(p + 12);
  if (out->n_blocks < SC_RTCP_MAX_BLOCKS) out->blocks[out->n_blocks] = b;
  out->n_blocks++;
  if (b.fraction_lost > out->worst_fraction_lost) out->worst_fraction_lost = b.fraction_lost;
  out->total_cumulative_lost += b.cumulative_lost;
  if (b.jitter > out->worst_jitter) out->worst_jitter = b.jitter;
}

/* One SR or RR of `len` bytes (its header included). */
static int parse_report(const uint8_t *p, size_t len, sc_rtcp_report_t *out) {
  size_t off = 8, rc = p[0] & 0x1Fu;
  if (p[1] == RTCP_SR) {
    if (len < off + RTCP_SENDER_INFO_LEN) return -EINVAL;
    out->has_sender_info = 1;
    out->sender_packets = sc_rd32(p + off + 12);
    out->sender_octets = sc_rd32(p + off + 16);
    off += RTCP_SENDER_INFO_LEN;
    out->n_sr++;
  } else {
    out->n_rr++;
  }
  if (len < off + rc * RTCP_BLOCK_LEN) return -EINVAL;
  for (size_t i = 0; i < rc; i++) add_block(p + off + i * RTCP_BLOCK_LEN, out);
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
    if (plen > len - off) return -EINVAL;
    if (p[1] == RTCP_SR || p[1] == RTCP_RR) {
      if (plen < 8 || parse_report(p, plen, out) < 0) return -EINVAL;
    } else {
      out->n_other++;
    }
    off += plen;
  }
  return 0;
}
