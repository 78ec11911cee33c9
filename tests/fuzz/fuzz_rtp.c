/*
 * fuzz_rtp: sc_rtp_parse, sc_rtp_looks_like_rtp and sc_rtp_ext_one_byte (src/sc_rtp.h) over
 * any bytes. Besides memory safety it checks what the media plane relies
 * on: a parsed header never claims more clear bytes than the datagram has,
 * and the two functions agree on what is RTP at all.
 */
#include <errno.h>

#include "fuzz_util.h"
#include "sc_rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_rtp_info_t info;
  int looks = sc_rtp_looks_like_rtp(data, size);
  int rc = sc_rtp_parse(data, size, &info);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (rc < 0) return 0;
  FUZZ_CHECK(looks);
  FUZZ_CHECK(info.clear_len <= size);
  FUZZ_CHECK(info.csrc_count >= 0 && info.csrc_count <= 15);
  if (info.is_rtcp) {
    FUZZ_CHECK(info.clear_len == 8 && info.marker_pt >= 200 && info.marker_pt <= 204);
  } else {
    FUZZ_CHECK(size >= 12);
    size_t want = 12 + 4 * (size_t)info.csrc_count + (info.extension ? 4 : 0);
    FUZZ_CHECK(info.clear_len == want);
    FUZZ_CHECK(info.extension || info.ext_body_len == 0);
    FUZZ_CHECK(info.ext_body_len <= 4 * 65535);
    /* Every one-byte element id over the body that is in the input. */
    size_t body =
        size - info.clear_len < info.ext_body_len ? size - info.clear_len : info.ext_body_len;
    for (uint8_t id = 1; info.extension && id <= 14; id++) {
      uint8_t v = 0;
      int found = sc_rtp_ext_one_byte(data + info.clear_len, body, id, &v);
      FUZZ_CHECK(found == 0 || found == 1);
    }
  }
  return 0;
}
