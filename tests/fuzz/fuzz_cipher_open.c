/*
 * fuzz_cipher_open: dv_cipher_open (discord_voice/dv_crypto.h) on raw
 * bytes under a fixed key, for one mode per executable (FUZZ_MODE, set by
 * tests/fuzz/CMakeLists.txt: fuzz_open_aes, fuzz_open_xchacha).
 *
 * Random bytes almost never authenticate, so this target covers the
 * layout checks in front of the AEAD (lengths, CSRC count, extension
 * preamble, RTCP split); fuzz_cipher_sealed covers what follows a
 * successful authentication. The input is a sequence of datagrams (u16
 * length + bytes) opened under one cipher, so the replay window sees
 * several packets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "dv_crypto.h"
#include "fuzz_util.h"

#ifndef FUZZ_MODE
#define FUZZ_MODE DV_MODE_AES256_GCM_RTPSIZE
#endif

static const uint8_t fuzz_key[DV_KEY_LEN] = {
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

static void open_one(dv_cipher_t *c, const uint8_t *pkt, size_t len) {
  uint8_t plain[2048];
  sc_media_pkt_t out;
  int rc = dv_cipher_open(c, pkt, len, plain, sizeof plain, &out);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG || rc == -EALREADY);
  if (fuzz_verbose()) fprintf(stderr, "open %zu bytes: %d\n", len, rc);
  if (rc == 0) {
    FUZZ_CHECK(out.payload >= plain && out.payload + out.payload_len <= plain + sizeof plain);
    FUZZ_CHECK(out.payload_len < len);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  dv_cipher_t *c = dv_cipher_new(FUZZ_MODE, fuzz_key);
  FUZZ_CHECK(c != NULL);
  fuzz_reader_t r;
  fuzz_reader_init(&r, data, size);
  uint16_t n;
  while (fuzz_take_u16(&r, &n)) {
    const uint8_t *p;
    size_t len = fuzz_take_bytes(&r, n, &p);
    uint8_t *pkt = fuzz_dup(p, len);
    open_one(c, pkt, len);
    free(pkt);
  }
  dv_cipher_free(c);
  return 0;
}
