#include "sc_demux.h"

#include "sc_bytes.h"

#define STUN_HEADER 20
#define STUN_COOKIE 0x2112A442u
#define DTLS_RECORD_HEADER 13
#define RTP_HEADER 12
#define RTCP_HEADER 8
#define DISCOVERY_LEN 74
#define DISCOVERY_TYPE_REQUEST 1
#define DISCOVERY_BODY_LEN 70

int sc_demux_is_stun(const uint8_t *buf, size_t len) {
  /* byte 0 < 4, not just the two zero bits of RFC 8489: RFC 7983 gives
   * 20..63 to DTLS on a shared port. */
  if (len < STUN_HEADER || buf[0] > 3) return 0;
  if (sc_rd32(buf + 4) != STUN_COOKIE) return 0;
  size_t body = sc_rd16(buf + 2);
  return body % 4 == 0 && body == len - STUN_HEADER;
}

sc_demux_kind_t sc_demux_webrtc(const uint8_t *buf, size_t len) {
  if (len == 0) return SC_DEMUX_OTHER;
  uint8_t b = buf[0];
  if (b <= 3) return len >= STUN_HEADER ? SC_DEMUX_STUN : SC_DEMUX_OTHER;
  if (b >= 20 && b <= 63) return len >= DTLS_RECORD_HEADER ? SC_DEMUX_DTLS : SC_DEMUX_OTHER;
  if (b >= 128 && b <= 191 && len >= 2) {
    /* RFC 5761 §4: RTCP packet types 192..223 are payload types 64..95
     * with the marker bit set, which RTP over a muxed port never uses. */
    uint8_t pt = buf[1] & 0x7F;
    if (pt >= 64 && pt <= 95) return len >= RTCP_HEADER ? SC_DEMUX_RTCP : SC_DEMUX_OTHER;
    return len >= RTP_HEADER ? SC_DEMUX_RTP : SC_DEMUX_OTHER;
  }
  return SC_DEMUX_OTHER;
}

sc_demux_kind_t sc_demux_unknown(const uint8_t *buf, size_t len) {
  if (sc_demux_is_stun(buf, len)) return SC_DEMUX_STUN;
  if (len == DISCOVERY_LEN && sc_rd16(buf) == DISCOVERY_TYPE_REQUEST &&
      sc_rd16(buf + 2) == DISCOVERY_BODY_LEN)
    return SC_DEMUX_DISCOVERY;
  return SC_DEMUX_OTHER;
}
