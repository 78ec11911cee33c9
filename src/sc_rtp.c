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

int sc_rtp_ext_one_byte(const uint8_t *ext, size_t len, uint8_t id, uint8_t *val) {
  for (size_t i = 0; i < len;) {
    uint8_t b = ext[i];
    if (b == 0) {
      i++; /* padding */
      continue;
    }
    uint8_t eid = b >> 4;
    size_t elen = (size_t)(b & 0x0f) + 1;
    if (eid == 15 || i + 1 + elen > len) return 0;
    if (eid == id) {
      *val = ext[i + 1];
      return 1;
    }
    i += 1 + elen;
  }
  return 0;
}
