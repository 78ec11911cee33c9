/*
 * fuzz_cipher_sealed: dv_cipher_open on AUTHENTIC packets whose header,
 * plaintext and nonce counter the fuzzer chooses, so the paths behind the
 * AEAD (extension body, padding, RTCP, the replay window) are reached.
 *
 * Packets are sealed by fuzz_seal (OpenSSL / libsodium, not dv_crypto),
 * and every result is compared with an independent model of the rtpsize
 * rules: what the payload must be (extension body and padding stripped),
 * which errors are due, and whether the replay window must refuse the
 * counter. Tampered copies (one bit flipped) must never open.
 *
 * Input: u8 mode (bit 0: 0 AES-GCM, 1 XChaCha), then records:
 *   u8 b0, u8 b1 (RTP byte 0 and 1; the version is forced to 2), the rest
 *   of the clear header (as long as b0/b1 say), u32 counter, u16 plain
 *   length (mod 1500), plain bytes, u8 flags (bit 0: open it twice,
 *   bit 1: also open a copy with bit (u16 position) flipped).
 */
#include <errno.h>
#include <string.h>

#include "dv_crypto.h"
#include "fuzz_util.h"

#define MAX_PLAIN 1500
#define WINDOW 64

static const uint8_t fuzz_key[DV_KEY_LEN] = {
    0x42, 0x13, 0x37, 0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f};

/* The replay rule, restated: serial-number order, a 64-counter window;
 * seen holds the counters accepted inside the current window. */
typedef struct {
  int any;
  uint32_t top;
  uint32_t seen[WINDOW + 1];
  size_t n_seen;
} model_window_t;

static int model_fresh(const model_window_t *m, uint32_t ctr) {
  if (!m->any) return 1;
  uint32_t ahead = ctr - m->top;
  if (ahead != 0 && ahead < 0x80000000u) return 1;
  if (m->top - ctr >= WINDOW) return 0;
  for (size_t i = 0; i < m->n_seen; i++)
    if (m->seen[i] == ctr) return 0;
  return 1;
}

/* Counters compare modulo 2^32, so the window may wrap (and, after 2^31
 * forward steps, an old counter is "ahead" again: accepted by design). A
 * jump of a whole window forgets everything; a shorter one forgets what
 * fell out of the window. */
static void model_accept(model_window_t *m, uint32_t ctr) {
  uint32_t ahead = ctr - m->top;
  if (!m->any || (ahead != 0 && ahead < 0x80000000u)) {
    if (!m->any || ahead >= WINDOW) m->n_seen = 0;
    m->top = ctr;
    size_t k = 0;
    for (size_t i = 0; i < m->n_seen; i++)
      if ((uint32_t)(m->top - m->seen[i]) < WINDOW) m->seen[k++] = m->seen[i];
    m->n_seen = k;
  }
  m->any = 1;
  if (m->n_seen < sizeof m->seen / sizeof m->seen[0]) m->seen[m->n_seen++] = ctr;
}

/* What open must return for an authentic packet, and the payload. */
typedef struct {
  int rc;
  size_t off, len;
} model_result_t;

static model_result_t model_payload(const uint8_t *clear, int is_rtcp, size_t clear_len,
                                    const uint8_t *plain, size_t n) {
  model_result_t r = {0, 0, n};
  if (is_rtcp) return r;
  if (clear[0] & 0x10) {
    size_t ext = 4 * (size_t)(clear[clear_len - 2] << 8 | clear[clear_len - 1]);
    if (ext > n) return (model_result_t){-EINVAL, 0, 0};
    r.off = ext;
    r.len = n - ext;
  }
  if (clear[0] & 0x20) {
    size_t pad = r.len ? plain[n - 1] : 0;
    if (pad == 0 || pad > r.len) return (model_result_t){-EINVAL, 0, 0};
    r.len -= pad;
  }
  return r;
}

typedef struct {
  int mode;
  dv_cipher_t *c;
  model_window_t win[2]; /* RTP, RTCP */
} state_t;

/* Opens pkt and checks the result against the model. */
static void open_and_check(state_t *s, const uint8_t *pkt, size_t len, const uint8_t *clear,
                           size_t clear_len, int is_rtcp, uint32_t ctr, const uint8_t *plain,
                           size_t n) {
  uint8_t out_plain[MAX_PLAIN + 64];
  sc_media_pkt_t out;
  int rc = dv_cipher_open(s->c, pkt, len, out_plain, sizeof out_plain, &out);
  model_window_t *w = &s->win[is_rtcp];
  /* An extension body longer than the ciphertext is refused before the
   * AEAD runs, so it neither needs nor moves the window. */
  if (!is_rtcp && (clear[0] & 0x10) &&
      4 * (size_t)(clear[clear_len - 2] << 8 | clear[clear_len - 1]) > n) {
    FUZZ_CHECK(rc == -EINVAL);
    return;
  }
  if (!model_fresh(w, ctr)) {
    FUZZ_CHECK(rc == -EALREADY);
    return;
  }
  model_result_t want = model_payload(clear, is_rtcp, clear_len, plain, n);
  /* The window moves once the packet authenticates, even if its padding
   * turns out bad afterwards: the counter was used. */
  model_accept(w, ctr);
  FUZZ_CHECK(rc == want.rc);
  if (rc) return;
  FUZZ_CHECK(out.is_rtcp == is_rtcp && out.marker_pt == clear[1]);
  FUZZ_CHECK(out.payload_len == want.len);
  FUZZ_CHECK(memcmp(out.payload, plain + want.off, want.len) == 0);
  if (!is_rtcp)
    FUZZ_CHECK(out.ssrc == ((uint32_t)clear[8] << 24 | (uint32_t)clear[9] << 16 |
                            (uint32_t)clear[10] << 8 | clear[11]));
}

/* Reads one record's clear header into clear; returns its length or 0. */
static size_t take_header(fuzz_reader_t *r, uint8_t clear[80], int *is_rtcp) {
  uint8_t b0, b1;
  if (!fuzz_take_u8(r, &b0) || !fuzz_take_u8(r, &b1)) return 0;
  clear[0] = (uint8_t)((b0 & 0x3f) | 0x80);
  clear[1] = b1;
  *is_rtcp = b1 >= 200 && b1 <= 204;
  size_t need = *is_rtcp ? 8 : 12 + 4 * (size_t)(clear[0] & 0x0f);
  const uint8_t *rest;
  if (fuzz_take_bytes(r, need - 2, &rest) != need - 2) return 0;
  memcpy(clear + 2, rest, need - 2);
  if (*is_rtcp || !(clear[0] & 0x10)) return need;
  if (fuzz_take_bytes(r, 4, &rest) != 4) return 0;
  memcpy(clear + need, rest, 4);
  return need + 4;
}

static int one_record(state_t *s, fuzz_reader_t *r) {
  uint8_t clear[80], pkt[80 + MAX_PLAIN + 20];
  int is_rtcp;
  size_t clear_len = take_header(r, clear, &is_rtcp);
  uint32_t ctr;
  uint16_t n16, pos;
  uint8_t flags;
  const uint8_t *plain;
  if (!clear_len || !fuzz_take_u32(r, &ctr) || !fuzz_take_u16(r, &n16)) return 0;
  size_t n = fuzz_take_bytes(r, n16 % (MAX_PLAIN + 1), &plain);
  fuzz_take_u8(r, &flags);
  fuzz_take_u16(r, &pos);
  int len = fuzz_seal(s->mode, fuzz_key, clear, clear_len, ctr, plain, n, pkt, sizeof pkt);
  FUZZ_CHECK(len > 0);
  if (flags & 2) {
    uint8_t bad[sizeof pkt];
    memcpy(bad, pkt, (size_t)len);
    bad[(pos / 8) % len] ^= (uint8_t)(1u << (pos % 8));
    uint8_t out_plain[MAX_PLAIN + 64];
    sc_media_pkt_t out;
    FUZZ_CHECK(dv_cipher_open(s->c, bad, (size_t)len, out_plain, sizeof out_plain, &out) != 0);
  }
  open_and_check(s, pkt, (size_t)len, clear, clear_len, is_rtcp, ctr, plain, n);
  if (flags & 1) open_and_check(s, pkt, (size_t)len, clear, clear_len, is_rtcp, ctr, plain, n);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  static state_t s;
  memset(&s, 0, sizeof s);
  fuzz_reader_t r;
  fuzz_reader_init(&r, data, size);
  uint8_t mode;
  if (!fuzz_take_u8(&r, &mode)) return 0;
  s.mode = mode & 1;
  s.c = dv_cipher_new(s.mode ? DV_MODE_XCHACHA20_POLY1305_RTPSIZE : DV_MODE_AES256_GCM_RTPSIZE,
                      fuzz_key);
  FUZZ_CHECK(s.c != NULL);
  while (one_record(&s, &r)) {
  }
  dv_cipher_free(s.c);
  return 0;
}
