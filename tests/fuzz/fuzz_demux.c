/*
 * fuzz_demux: sc_demux_webrtc, sc_demux_unknown and sc_demux_is_stun over
 * any bytes. Oracles: each kind agrees with its definition (first-byte
 * range and minimum length; the STUN header test; 74-byte discovery), the
 * two tuple cases agree where they overlap (STUN from an unknown tuple is
 * STUN from a known one), STUN and discovery never both match, and a
 * datagram sc_stun_parse accepts always passes the STUN header test.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_demux.h"
#include "sc_stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = fuzz_dup(data, size);
  sc_demux_kind_t known = sc_demux_webrtc(buf, size);
  sc_demux_kind_t unknown = sc_demux_unknown(buf, size);
  int stun = sc_demux_is_stun(buf, size);
  switch (known) {
    case SC_DEMUX_STUN: FUZZ_CHECK(size >= 20 && buf[0] <= 3); break;
    case SC_DEMUX_DTLS: FUZZ_CHECK(size >= 13 && buf[0] >= 20 && buf[0] <= 63); break;
    case SC_DEMUX_RTP:
    case SC_DEMUX_RTCP: {
      FUZZ_CHECK(buf[0] >= 128 && buf[0] <= 191);
      int pt = buf[1] & 0x7F, rtcp = pt >= 64 && pt <= 95;
      FUZZ_CHECK(rtcp == (known == SC_DEMUX_RTCP));
      FUZZ_CHECK(size >= (rtcp ? 8u : 12u));
      break;
    }
    case SC_DEMUX_OTHER: break;
    default: FUZZ_CHECK(0); /* DISCOVERY is never a known WebRTC tuple's */
  }
  FUZZ_CHECK(unknown == SC_DEMUX_STUN || unknown == SC_DEMUX_DISCOVERY ||
             unknown == SC_DEMUX_OTHER);
  FUZZ_CHECK(stun == (unknown == SC_DEMUX_STUN));
  if (stun) FUZZ_CHECK(known == SC_DEMUX_STUN && (size - 20) % 4 == 0);
  if (unknown == SC_DEMUX_DISCOVERY) FUZZ_CHECK(size == 74 && buf[0] == 0 && buf[1] == 1);
  sc_stun_msg_t m;
  if (sc_stun_parse(buf, size, &m) == 0) FUZZ_CHECK(stun);
  free(buf);
  return 0;
}
