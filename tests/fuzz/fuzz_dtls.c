/*
 * fuzz_dtls: a fresh sc_dtls server session (src/sc_dtls.h) fed arbitrary
 * datagrams. An input is a list of frames, each u8 op, u16be length, that
 * many bytes: op bit 0 clear feeds the bytes as one datagram, set calls
 * on_timeout instead; the clock moves on by (op >> 1) * 1000 ms per frame,
 * so the 30 s deadline is reachable. At most 16 frames.
 *
 * Oracles: the session never crashes; every datagram it sends fits the MTU
 * and the caller's buffer; a session that left the handshake never goes
 * back; one that did not connect has no keys; the in-progress count is
 * back to zero after each input. Also sc_dtls_scan and
 * sc_sdp_fingerprint_parse over the whole input.
 *
 * Seeds (tests/fuzz/corpus/fuzz_dtls): a real ClientHello from an OpenSSL
 * 3.0 DTLS client offering both SRTP profiles (the one tests/unit/dtls_fx.h
 * makes), its truncations, the client's whole exchange against another
 * server run, and garbage behind valid record headers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_dtls.h"
#include "sc_sdp.h"

#define FRAMES_MAX 16

static sc_dtls_ctx_t *ctx;

static void check_out(const sc_dtls_out_t *out, size_t cap) {
  FUZZ_CHECK(out->n >= 0 && out->n <= SC_DTLS_OUT_MAX && out->used <= cap);
  for (int i = 0; i < out->n; i++)
    FUZZ_CHECK(out->len[i] > 0 && out->len[i] <= SC_DTLS_MTU &&
               out->off[i] + out->len[i] <= out->used);
}

static void run_frames(sc_dtls_t *s, const uint8_t *data, size_t size) {
  fuzz_reader_t r;
  uint8_t buf[4096];
  int64_t now = 0;
  sc_dtls_state_t prev = SC_DTLS_HANDSHAKING;
  fuzz_reader_init(&r, data, size);
  for (int i = 0; i < FRAMES_MAX; i++) {
    uint8_t op;
    uint16_t len;
    const uint8_t *bytes;
    if (!fuzz_take_u8(&r, &op) || !fuzz_take_u16(&r, &len)) break;
    size_t n = fuzz_take_bytes(&r, len, &bytes);
    uint8_t *copy = fuzz_dup(bytes, n);
    sc_dtls_out_t out;
    sc_dtls_out_init(&out, buf, sizeof buf);
    now += (int64_t)(op >> 1) * 1000;
    sc_dtls_state_t st =
        op & 1 ? sc_dtls_on_timeout(s, now, &out) : sc_dtls_feed(s, copy, n, now, &out);
    free(copy);
    check_out(&out, sizeof buf);
    FUZZ_CHECK(st == sc_dtls_state(s));
    FUZZ_CHECK(prev == SC_DTLS_HANDSHAKING || st == prev || st == SC_DTLS_CLOSED ||
               st == SC_DTLS_FAILED);
    FUZZ_CHECK((st == SC_DTLS_FAILED) == (sc_dtls_failure(s) != SC_DTLS_FAIL_NONE));
    int64_t next = sc_dtls_next_timeout_ms(s, now);
    FUZZ_CHECK(st == SC_DTLS_HANDSHAKING ? next >= 0 && next <= SC_DTLS_HANDSHAKE_MS : next == -1);
    prev = st;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  fuzz_init_once();
  if (!ctx) FUZZ_CHECK(sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err) == 0);
  int plain;
  int rc = sc_dtls_scan(data, size, &plain);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  uint8_t fp[SC_DTLS_FP_LEN];
  rc = sc_sdp_fingerprint_parse((const char *)data, size, fp);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);

  sc_dtls_t *s = NULL;
  FUZZ_CHECK(sc_dtls_new(&s, ctx, NULL, 0) == 0);
  run_frames(s, data, size);
  sc_srtp_keys_t keys;
  rc = sc_dtls_srtp_keys(s, &keys);
  FUZZ_CHECK(sc_dtls_state(s) == SC_DTLS_CONNECTED ? rc == 0 : rc == -EAGAIN);
  sc_dtls_free(s);
  FUZZ_CHECK(sc_dtls_ctx_in_progress(ctx) == 0);
  return 0;
}
