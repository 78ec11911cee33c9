/*
 * test_dv_crypto: dv_crypto against vectors from independent
 * implementations (tests/node/crypto_vectors.js: Node's crypto for
 * AES-256-GCM, @noble/ciphers for XChaCha20-Poly1305 and for the legacy
 * XSalsa20-Poly1305 modes), plus tamper, truncation, replay and
 * round-trip checks.
 * Needs node and SC_NODE_DIR (set by ctest).
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_crypto.h"
#include "sc_test.h"

#define MAX_PKT 2048

typedef struct {
  char name[128];
  dv_mode_t mode;
  uint8_t key[DV_KEY_LEN];
  uint32_t counter;
  uint8_t packet[MAX_PKT];
  size_t packet_len;
  size_t clear_len; /* bytes before the sealed part */
  int header_auth;  /* the clear header is authenticated (AAD or nonce) */
  size_t nonce_len; /* wire nonce at the end */
  int tag_first;    /* secretbox layout: tag16 || ciphertext */
  long ext_len_off;
  sc_media_pkt_t hdr; /* expected fields; .payload unset (vecs moves) */
  uint8_t payload[MAX_PKT];
  int seal;
  int error; /* expected open() result: 0 or -EINVAL */
} vec_t;

static vec_t *vecs;
static size_t n_vecs;

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = strlen(s);
  if (n % 2 || n / 2 > cap) SC_FAIL("bad hex field (%zu chars)", n);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) SC_FAIL("bad hex at %zu", i);
    out[i] = (uint8_t)v;
  }
  return n / 2;
}

static const char *jstr(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  if (!s) SC_FAIL("vector field %s missing", k);
  return s;
}

static long long jint(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  if (!json_is_integer(v)) SC_FAIL("vector field %s missing", k);
  return json_integer_value(v);
}

static void parse_vector(json_t *o, vec_t *v) {
  snprintf(v->name, sizeof v->name, "%s", jstr(o, "name"));
  int mode = dv_mode_from_name(jstr(o, "mode"));
  if (mode < 0) SC_FAIL("%s: unknown mode", v->name);
  v->mode = (dv_mode_t)mode;
  if (unhex(jstr(o, "key"), v->key, sizeof v->key) != DV_KEY_LEN) SC_FAIL("key length");
  v->counter = (uint32_t)jint(o, "counter");
  v->packet_len = unhex(jstr(o, "packet"), v->packet, sizeof v->packet);
  v->clear_len = (size_t)jint(o, "clear_len");
  v->header_auth = (int)jint(o, "header_auth");
  v->nonce_len = (size_t)jint(o, "nonce_len");
  v->tag_first = (int)jint(o, "tag_first");
  v->ext_len_off = (long)jint(o, "ext_len_off");
  v->hdr.is_rtcp = (int)jint(o, "is_rtcp");
  v->hdr.marker_pt = (uint8_t)jint(o, "marker_pt");
  v->hdr.seq = (uint16_t)jint(o, "seq");
  v->hdr.timestamp = (uint32_t)jint(o, "timestamp");
  v->hdr.ssrc = (uint32_t)jint(o, "ssrc");
  v->hdr.payload_len = unhex(jstr(o, "payload"), v->payload, sizeof v->payload);
  v->seal = json_is_true(json_object_get(o, "seal"));
  json_t *err = json_object_get(o, "error");
  v->error = json_is_string(err) ? -EINVAL : 0;
  if (json_is_string(err) && strcmp(json_string_value(err), "EINVAL") != 0)
    SC_FAIL("%s: unexpected error kind", v->name);
}

/* Runs the generator and keeps every vector; fails unless the stream is
 * complete (the end record's count matches) and node exited 0. */
static void load_vectors(void) {
  const char *dir = getenv("SC_NODE_DIR");
  if (!dir || !*dir) SC_FAIL("SC_NODE_DIR is not set (should be <repo>/tests/node)");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "node '%s/crypto_vectors.js'", dir);
  FILE *p = popen(cmd, "r");
  if (!p) SC_FAIL("popen(%s) failed", cmd);
  char *line = NULL;
  size_t line_cap = 0, cap = 0;
  long long end_count = -1;
  while (getline(&line, &line_cap, p) > 0) {
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    if (!o) SC_FAIL("bad JSON from generator: %s", jerr.text);
    const char *type = jstr(o, "type");
    if (strcmp(type, "meta") == 0) {
      fprintf(stderr, "vectors: seed \"%s\", node %s\n", jstr(o, "seed"), jstr(o, "node"));
    } else if (strcmp(type, "end") == 0) {
      end_count = jint(o, "count");
    } else {
      if (n_vecs == cap) {
        cap = cap ? 2 * cap : 64;
        vecs = realloc(vecs, cap * sizeof *vecs);
        if (!vecs) SC_FAIL("out of memory");
      }
      memset(&vecs[n_vecs], 0, sizeof vecs[n_vecs]);
      parse_vector(o, &vecs[n_vecs++]);
    }
    json_decref(o);
  }
  free(line);
  int status = pclose(p);
  if (status != 0) SC_FAIL("`%s` failed (status %d): is node installed?", cmd, status);
  ASSERT_EQ(end_count, (long long)n_vecs);
}

/* The generator must have given every kind we check, or a test could pass
 * on nothing. */
/* The constructor under test: every vector runs through the default
 * (libsodium AES-NI where available) and the portable (OpenSSL EVP) path. */
static dv_cipher_t *(*new_cipher)(dv_mode_t, const uint8_t *) = dv_cipher_new;

static void test_vector_coverage(void) {
  int per_mode[DV_MODE_COUNT] = {0}, seal[DV_MODE_COUNT] = {0}, rtcp = 0, bad = 0, ext = 0;
  int csrc = 0, pad = 0;
  for (size_t i = 0; i < n_vecs; i++) {
    vec_t *v = &vecs[i];
    per_mode[v->mode]++;
    seal[v->mode] += v->seal;
    rtcp += v->hdr.is_rtcp;
    bad += v->error != 0;
    ext += v->ext_len_off >= 0;
    csrc += !v->hdr.is_rtcp && (v->packet[0] & 0x0F) != 0;
    pad += !v->hdr.is_rtcp && (v->packet[0] & 0x20) != 0 && v->error == 0;
  }
  for (int m = 0; m < DV_MODE_COUNT; m++) {
    ASSERT_TRUE(per_mode[m] >= 30);
    /* suffix nonces are random: our seal output cannot be a vector */
    if (m != DV_MODE_XSALSA20_POLY1305_SUFFIX) ASSERT_TRUE(seal[m] >= 15);
  }
  ASSERT_TRUE(rtcp >= 15 && bad >= 10 && ext >= 6 && csrc >= 15 && pad >= 15);
}

static void expect_open(const vec_t *v, dv_cipher_t *c, const uint8_t *pkt, size_t len) {
  uint8_t plain[MAX_PKT];
  sc_media_pkt_t out;
  int rc = dv_cipher_open(c, pkt, len, plain, sizeof plain, &out);
  if (rc != v->error) SC_FAIL("%s: open() = %d, want %d", v->name, rc, v->error);
  if (rc) return;
  ASSERT_EQ(out.is_rtcp, v->hdr.is_rtcp);
  ASSERT_EQ(out.marker_pt, v->hdr.marker_pt);
  ASSERT_EQ(out.seq, v->hdr.seq);
  ASSERT_EQ(out.timestamp, v->hdr.timestamp);
  ASSERT_EQ(out.ssrc, v->hdr.ssrc);
  ASSERT_EQ(out.payload_len, v->hdr.payload_len);
  ASSERT_TRUE(out.payload >= plain && out.payload + out.payload_len <= plain + sizeof plain);
  ASSERT_MEMEQ(out.payload, v->payload, v->hdr.payload_len);
}

static void test_open_vectors(void) {
  for (size_t i = 0; i < n_vecs; i++) {
    vec_t *v = &vecs[i];
    dv_cipher_t *c = new_cipher(v->mode, v->key);
    ASSERT_TRUE(c != NULL);
    expect_open(v, c, v->packet, v->packet_len);
    if (v->error == 0) {
      uint8_t plain[MAX_PKT];
      sc_media_pkt_t out;
      /* xsalsa20_poly1305 RTCP has no counter to check replays against */
      int again = v->mode == DV_MODE_XSALSA20_POLY1305 && v->hdr.is_rtcp ? 0 : -EALREADY;
      ASSERT_EQ(dv_cipher_open(c, v->packet, v->packet_len, plain, sizeof plain, &out), again);
    }
    dv_cipher_free(c);
  }
}

static void test_seal_vectors(void) {
  for (size_t i = 0; i < n_vecs; i++) {
    vec_t *v = &vecs[i];
    if (!v->seal) continue;
    dv_cipher_t *c = new_cipher(v->mode, v->key);
    uint8_t out[MAX_PKT];
    sc_media_pkt_t in = v->hdr;
    in.payload = v->payload;
    dv_cipher_set_send_counter(c, v->counter - 1);
    /* A refused seal must not use up a nonce. */
    ASSERT_EQ(dv_cipher_seal(c, &in, out, v->packet_len - 1), -ENOSPC);
    int n = dv_cipher_seal(c, &in, out, sizeof out);
    if (n != (int)v->packet_len) SC_FAIL("%s: seal() = %d, want %zu", v->name, n, v->packet_len);
    ASSERT_MEMEQ(out, v->packet, v->packet_len);
    dv_cipher_free(c);
  }
}

/* Flips one bit at off; the result must be an authentication failure
 * (or, for the extension length field, possibly a framing error). */
static void expect_tampered(const vec_t *v, dv_cipher_t *c, size_t off, uint8_t bit) {
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  memcpy(pkt, v->packet, v->packet_len);
  pkt[off] ^= bit;
  int rc = dv_cipher_open(c, pkt, v->packet_len, plain, sizeof plain, &out);
  int ext_len =
      v->ext_len_off >= 0 && (off == (size_t)v->ext_len_off || off == (size_t)v->ext_len_off + 1);
  if (rc != -EBADMSG && !(ext_len && rc == -EINVAL))
    SC_FAIL("%s: flipped bit 0x%02x at %zu: open() = %d", v->name, bit, off, rc);
  sc_test_checks++;
}

/* Every authenticated byte: the header where the mode covers it (as AAD
 * or as the nonce), both ends of the ciphertext, the tag, the wire nonce. */
static void test_tamper(void) {
  for (size_t i = 0; i < n_vecs; i++) {
    vec_t *v = &vecs[i];
    dv_cipher_t *c = new_cipher(v->mode, v->key);
    size_t len = v->packet_len, ct_len = len - v->clear_len - DV_TAG_LEN - v->nonce_len;
    size_t ct_off = v->clear_len + (v->tag_first ? DV_TAG_LEN : 0);
    size_t tag_off = v->tag_first ? v->clear_len : v->clear_len + ct_len;
    if (v->header_auth) {
      expect_tampered(v, c, 0, 0x20); /* P bit: framing bit, authenticated */
      for (size_t off = 1; off < v->clear_len; off++) expect_tampered(v, c, off, 0x01);
    }
    if (ct_len) {
      expect_tampered(v, c, ct_off, 0x80);
      expect_tampered(v, c, ct_off + ct_len - 1, 0x01);
    }
    for (size_t off = tag_off; off < tag_off + DV_TAG_LEN; off++) expect_tampered(v, c, off, 0x04);
    for (size_t off = len - v->nonce_len; off < len; off++) expect_tampered(v, c, off, 0x04);
    /* Failed attempts leave the window alone: the real packet still opens. */
    expect_open(v, c, v->packet, v->packet_len);
    dv_cipher_free(c);
  }
}

static void test_truncated(void) {
  for (size_t i = 0; i < n_vecs; i++) {
    vec_t *v = &vecs[i];
    dv_cipher_t *c = new_cipher(v->mode, v->key);
    uint8_t plain[MAX_PKT];
    sc_media_pkt_t out;
    size_t min = v->clear_len + DV_TAG_LEN + v->nonce_len, ct_len = v->packet_len - min;
    for (size_t n = 0; n < min; n++)
      ASSERT_EQ(dv_cipher_open(c, v->packet, n, plain, sizeof plain, &out), -EINVAL);
    if (ct_len) {
      ASSERT_EQ(dv_cipher_open(c, v->packet, v->packet_len - 1, plain, sizeof plain, &out),
                -EBADMSG);
      ASSERT_EQ(dv_cipher_open(c, v->packet, v->packet_len, plain, ct_len - 1, &out), -EINVAL);
    }
    expect_open(v, c, v->packet, v->packet_len);
    dv_cipher_free(c);
  }
}

static const uint8_t test_key[DV_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

static int seal_with(dv_cipher_t *tx, uint32_t ctr, uint16_t seq, uint8_t *out) {
  static const uint8_t opus[] = {0xf8, 0xff, 0xfe, 0x01, 0x02};
  sc_media_pkt_t in = {.marker_pt = 0x78,
                       .seq = seq,
                       .timestamp = 960u * seq,
                       .ssrc = 0xabcdef01,
                       .payload = opus,
                       .payload_len = sizeof opus};
  dv_cipher_set_send_counter(tx, ctr - 1);
  return dv_cipher_seal(tx, &in, out, MAX_PKT);
}

/* Seals a packet with nonce counter ctr and returns what rx.open says. */
static int open_ctr(dv_cipher_t *tx, dv_cipher_t *rx, uint32_t ctr) {
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  int n = seal_with(tx, ctr, (uint16_t)ctr, pkt);
  ASSERT_TRUE(n > 0);
  return dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out);
}

/* Counter modes slide over the nonce counter, xsalsa20_poly1305 over the
 * RTP sequence number (seal_with uses seq = counter). */
static void test_replay_window(void) {
  for (int m = 0; m < DV_MODE_COUNT; m++) {
    if (m == DV_MODE_XSALSA20_POLY1305_SUFFIX) continue; /* test_suffix_replay */
    dv_cipher_t *tx = dv_cipher_new((dv_mode_t)m, test_key);
    dv_cipher_t *rx = dv_cipher_new((dv_mode_t)m, test_key);
    ASSERT_EQ(open_ctr(tx, rx, 100), 0);
    ASSERT_EQ(open_ctr(tx, rx, 102), 0);
    ASSERT_EQ(open_ctr(tx, rx, 101), 0); /* late, in window: accepted once */
    ASSERT_EQ(open_ctr(tx, rx, 101), -EALREADY);
    ASSERT_EQ(open_ctr(tx, rx, 100), -EALREADY);
    ASSERT_EQ(open_ctr(tx, rx, 166), 0);         /* window now 103..166 */
    ASSERT_EQ(open_ctr(tx, rx, 102), -EALREADY); /* 64 behind: too old */
    ASSERT_EQ(open_ctr(tx, rx, 103), 0);         /* 63 behind, unseen */
    ASSERT_EQ(open_ctr(tx, rx, 103), -EALREADY);
    ASSERT_EQ(open_ctr(tx, rx, 1000), 0); /* big jump clears the window */
    for (uint32_t ctr = 999; ctr > 1000 - 64; ctr--) ASSERT_EQ(open_ctr(tx, rx, ctr), 0);
    ASSERT_EQ(open_ctr(tx, rx, 1000 - 64), -EALREADY);
    ASSERT_EQ(open_ctr(tx, rx, 166), -EALREADY);
    dv_cipher_free(tx);
    dv_cipher_free(rx);
  }
}

static void test_replay_wrap(void) {
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  ASSERT_EQ(open_ctr(tx, rx, 0xFFFFFFFEu), 0);
  ASSERT_EQ(open_ctr(tx, rx, 1), 0); /* counter 0 is skipped: still ahead */
  ASSERT_EQ(open_ctr(tx, rx, 0xFFFFFFFFu), 0);
  ASSERT_EQ(open_ctr(tx, rx, 0xFFFFFFFFu), -EALREADY);
  ASSERT_EQ(open_ctr(tx, rx, 0xFFFFFFFEu), -EALREADY);
  ASSERT_EQ(open_ctr(tx, rx, 2), 0);
  ASSERT_EQ(open_ctr(tx, rx, 0xFFFFFFC0u), -EALREADY); /* 66 behind 2 */
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

/* A forged packet with a far-ahead counter must not slide the window. */
static void test_forgery_keeps_window(void) {
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, test_key);
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  ASSERT_EQ(open_ctr(tx, rx, 100), 0);
  int n = seal_with(tx, 5000, 1, pkt);
  pkt[n - 5] ^= 1; /* tag */
  ASSERT_EQ(dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out), -EBADMSG);
  ASSERT_EQ(open_ctr(tx, rx, 99), 0);
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

/* An XChaCha RTCP packet under test_key with nonce counter ctr, built
 * with libsodium directly (seal() never makes RTCP). */
static size_t rtcp_packet(uint32_t ctr, uint8_t *pkt) {
  static const uint8_t hdr[8] = {0x80, 201, 0, 1, 0xab, 0xcd, 0xef, 0x01};
  uint8_t nonce[24] = {(uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8),
                       (uint8_t)ctr};
  const uint8_t body[4] = {1, 2, 3, 4};
  memcpy(pkt, hdr, 8);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(pkt + 8, pkt + 12, NULL, body, 4, hdr, 8,
                                                      NULL, nonce, test_key);
  memcpy(pkt + 28, nonce, 4);
  return 32;
}

/* RTP and RTCP counters may be one sequence or two: a far-ahead RTCP
 * counter must not make the RTP stream look replayed, and vice versa. */
static void test_rtcp_own_window(void) {
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  ASSERT_EQ(open_ctr(tx, rx, 100), 0);
  size_t n = rtcp_packet(5000, pkt);
  ASSERT_EQ(dv_cipher_open(rx, pkt, n, plain, sizeof plain, &out), 0);
  ASSERT_EQ(out.is_rtcp, 1);
  ASSERT_EQ(out.marker_pt, 201);
  ASSERT_EQ(out.ssrc, 0xabcdef01);
  ASSERT_EQ(out.payload_len, 4);
  ASSERT_EQ(open_ctr(tx, rx, 101), 0);
  ASSERT_EQ(dv_cipher_open(rx, pkt, n, plain, sizeof plain, &out), -EALREADY);
  n = rtcp_packet(4999, pkt); /* late but within the RTCP window */
  ASSERT_EQ(dv_cipher_open(rx, pkt, n, plain, sizeof plain, &out), 0);
  n = rtcp_packet(5001, pkt);
  ASSERT_EQ(dv_cipher_open(rx, pkt, n, plain, sizeof plain, &out), 0);
  ASSERT_EQ(open_ctr(tx, rx, 5001), 0);
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

static void test_roundtrip(void) {
  for (int m = 0; m < DV_MODE_COUNT; m++) {
    dv_cipher_t *a = dv_cipher_new((dv_mode_t)m, test_key);
    dv_cipher_t *b = dv_cipher_new((dv_mode_t)m, test_key);
    uint8_t payload[1000], pkt[MAX_PKT], plain[MAX_PKT];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7 + m);
    for (uint16_t k = 0; k < 20; k++) {
      sc_media_pkt_t in = {.marker_pt = (uint8_t)(k == 0 ? 0xF8 : 0x78),
                           .seq = (uint16_t)(65530 + k),
                           .timestamp = 960u * k,
                           .ssrc = 42,
                           .payload = payload,
                           .payload_len = (size_t)k * 50};
      int n = dv_cipher_seal(a, &in, pkt, sizeof pkt);
      ASSERT_EQ(n, (int)(in.payload_len + dv_mode_overhead((dv_mode_t)m)));
      ASSERT_EQ(pkt[0], 0x80);
      if (dv_mode_overhead((dv_mode_t)m) == DV_SEAL_OVERHEAD) /* counter modes */
        ASSERT_EQ(pkt[n - 1], k + 1); /* first nonce is 1, then +1 per packet */
      sc_media_pkt_t out;
      ASSERT_EQ(dv_cipher_open(b, pkt, (size_t)n, plain, sizeof plain, &out), 0);
      ASSERT_EQ(out.is_rtcp, 0);
      ASSERT_EQ(out.marker_pt, in.marker_pt);
      ASSERT_EQ(out.seq, in.seq);
      ASSERT_EQ(out.timestamp, in.timestamp);
      ASSERT_EQ(out.ssrc, 42);
      ASSERT_EQ(out.payload_len, in.payload_len);
      ASSERT_MEMEQ(out.payload, payload, in.payload_len);
    }
    dv_cipher_free(a);
    dv_cipher_free(b);
  }
}

/* The first nonce counter >= 1 under which XChaCha20-Poly1305 (IETF)
 * turns payload's first two bytes into BE DE; 0 if none below 2^24. The
 * AAD does not change the ciphertext, so the header is left out. */
static uint32_t counter_giving_bede(const uint8_t *payload, size_t len) {
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
  uint8_t ct[64], tag[crypto_aead_xchacha20poly1305_ietf_ABYTES];
  for (uint32_t ctr = 1; ctr < (1u << 24); ctr++) {
    nonce[0] = (uint8_t)(ctr >> 24);
    nonce[1] = (uint8_t)(ctr >> 16);
    nonce[2] = (uint8_t)(ctr >> 8);
    nonce[3] = (uint8_t)ctr;
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, payload, len, NULL, 0, NULL,
                                                        nonce, test_key);
    if (ct[0] == 0xBE && ct[1] == 0xDE) return ctr;
  }
  return 0;
}

/* @discordjs/voice reads bytes 12-13 as an extension preamble whatever the
 * X bit says: a sealed packet must never start its ciphertext with BE DE.
 * The nonce that would produce it is skipped; the packet still opens. */
static void test_no_bede_at_12(void) {
  static const uint8_t opus[] = {0xfc, 0xff, 0xfe, 0x11, 0x22, 0x33};
  uint32_t bad = counter_giving_bede(opus, sizeof opus);
  ASSERT_TRUE(bad != 0);
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t in = {.marker_pt = 0x78,
                       .seq = 7,
                       .timestamp = 960,
                       .ssrc = 99,
                       .payload = opus,
                       .payload_len = sizeof opus},
                 out;
  dv_cipher_set_send_counter(tx, bad - 1);
  int n = dv_cipher_seal(tx, &in, pkt, sizeof pkt);
  ASSERT_EQ(n, (int)(sizeof opus + DV_SEAL_OVERHEAD));
  ASSERT_TRUE(!(pkt[12] == 0xBE && pkt[13] == 0xDE));
  uint32_t used = (uint32_t)pkt[n - 4] << 24 | (uint32_t)pkt[n - 3] << 16 |
                  (uint32_t)pkt[n - 2] << 8 | pkt[n - 1];
  ASSERT_EQ(used, bad + 1);
  ASSERT_EQ(dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out), 0);
  ASSERT_EQ(out.payload_len, sizeof opus);
  ASSERT_MEMEQ(out.payload, opus, sizeof opus);
  /* The next packet goes on from there: no nonce is used twice. */
  n = dv_cipher_seal(tx, &in, pkt, sizeof pkt);
  ASSERT_EQ(pkt[n - 1], (uint8_t)(bad + 2));
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

/* Same key, other mode or other key: nothing opens (a cross-mode packet
 * may also be malformed for the other layout, never accepted). */
static void test_wrong_key_or_mode(void) {
  uint8_t other_key[DV_KEY_LEN] = {9};
  for (int m = 0; m < DV_MODE_COUNT; m++) {
    dv_cipher_t *tx = dv_cipher_new((dv_mode_t)m, test_key);
    for (int r = 0; r < DV_MODE_COUNT; r++) {
      dv_cipher_t *rx = dv_cipher_new((dv_mode_t)r, r == m ? other_key : test_key);
      int rc = open_ctr(tx, rx, 1);
      if (rc != -EBADMSG && rc != -EINVAL) SC_FAIL("mode %d opened as %d: %d", m, r, rc);
      sc_test_checks++;
      dv_cipher_free(rx);
    }
    dv_cipher_free(tx);
  }
}

/* suffix: random nonces, so replays are caught by remembering the last
 * 64 of them; our own seal never repeats a nonce. */
static void test_suffix_replay(void) {
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_XSALSA20_POLY1305_SUFFIX, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_XSALSA20_POLY1305_SUFFIX, test_key);
  uint8_t first[MAX_PKT], pkt[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  int n0 = seal_with(tx, 1, 1, first);
  ASSERT_EQ(dv_cipher_open(rx, first, (size_t)n0, plain, sizeof plain, &out), 0);
  ASSERT_EQ(dv_cipher_open(rx, first, (size_t)n0, plain, sizeof plain, &out), -EALREADY);
  for (uint32_t k = 2; k <= 64; k++) ASSERT_EQ(open_ctr(tx, rx, k), 0);
  /* 63 newer nonces: the first is still remembered */
  ASSERT_EQ(dv_cipher_open(rx, first, (size_t)n0, plain, sizeof plain, &out), -EALREADY);
  ASSERT_EQ(open_ctr(tx, rx, 65), 0);
  /* 64 newer: forgotten, the documented limit of this mode */
  ASSERT_EQ(dv_cipher_open(rx, first, (size_t)n0, plain, sizeof plain, &out), 0);
  /* Two seals of the same packet: different nonces, both authentic for
   * libsodium's own secretbox (tag || ciphertext, nonce = last 24 bytes). */
  static const uint8_t opus[] = {0xf8, 0xff, 0xfe, 0x01, 0x02};
  sc_media_pkt_t in = {.marker_pt = 0x78, .seq = 9, .ssrc = 1, .payload = opus, .payload_len = 5};
  int n1 = dv_cipher_seal(tx, &in, first, MAX_PKT), n2 = dv_cipher_seal(tx, &in, pkt, MAX_PKT);
  ASSERT_EQ(n1, n2);
  ASSERT_EQ(n1, (int)(5 + dv_mode_overhead(DV_MODE_XSALSA20_POLY1305_SUFFIX)));
  ASSERT_TRUE(memcmp(first + n1 - 24, pkt + n2 - 24, 24) != 0);
  uint8_t m[16];
  ASSERT_EQ(
      crypto_secretbox_open_easy(m, first + 12, (size_t)n1 - 12 - 24, first + n1 - 24, test_key),
      0);
  ASSERT_MEMEQ(m, "\xf8\xff\xfe\x01\x02", 5);
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

/* Legacy modes leave the header unauthenticated except as a nonce: lite
 * and suffix accept a rewritten sequence number (the counter/nonce still
 * stops replays), xsalsa20_poly1305 does not. Bad inner extensions and
 * CSRC lists are malformed. */
static void test_legacy_header(void) {
  const dv_mode_t modes[] = {DV_MODE_XSALSA20_POLY1305_LITE, DV_MODE_XSALSA20_POLY1305_SUFFIX,
                             DV_MODE_XSALSA20_POLY1305};
  for (int i = 0; i < 3; i++) {
    dv_cipher_t *tx = dv_cipher_new(modes[i], test_key);
    dv_cipher_t *rx = dv_cipher_new(modes[i], test_key);
    uint8_t pkt[MAX_PKT], plain[MAX_PKT];
    sc_media_pkt_t out;
    int n = seal_with(tx, 5, 5, pkt);
    pkt[3] ^= 0x40; /* sequence number */
    ASSERT_EQ(dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out),
              modes[i] == DV_MODE_XSALSA20_POLY1305 ? -EBADMSG : 0);
    n = seal_with(tx, 6, 6, pkt);
    pkt[0] = 0x82; /* 2 CSRCs announced: 8 bytes, in a 5-byte plaintext */
    ASSERT_EQ(dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out),
              modes[i] == DV_MODE_XSALSA20_POLY1305 ? -EBADMSG : -EINVAL);
    dv_cipher_free(tx);
    dv_cipher_free(rx);
  }
}

static void test_malformed(void) {
  dv_cipher_t *tx = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, test_key);
  dv_cipher_t *rx = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, test_key);
  uint8_t pkt[MAX_PKT], bad[MAX_PKT], plain[MAX_PKT];
  sc_media_pkt_t out;
  int n = seal_with(tx, 1, 1, pkt);
  memcpy(bad, pkt, (size_t)n);
  bad[0] = 0x40; /* version 1 */
  ASSERT_EQ(dv_cipher_open(rx, bad, (size_t)n, plain, sizeof plain, &out), -EINVAL);
  bad[0] = 0x8F; /* 15 CSRCs: 72-byte header in a 37-byte packet */
  ASSERT_EQ(dv_cipher_open(rx, bad, (size_t)n, plain, sizeof plain, &out), -EINVAL);
  bad[0] = 0x90; /* extension preamble BE DE FF FF: body beyond the packet */
  memcpy(bad + 12, "\xbe\xde\xff\xff", 4);
  ASSERT_EQ(dv_cipher_open(rx, bad, (size_t)n, plain, sizeof plain, &out), -EINVAL);
  ASSERT_EQ(dv_cipher_open(rx, pkt, (size_t)n, plain, sizeof plain, &out), 0);

  sc_media_pkt_t rtcp = {.is_rtcp = 1, .marker_pt = 200, .ssrc = 1};
  ASSERT_EQ(dv_cipher_seal(tx, &rtcp, pkt, sizeof pkt), -EINVAL);
  dv_cipher_set_send_counter(tx, 0xFFFFFFFEu);
  sc_media_pkt_t empty = {.marker_pt = 0x78};
  ASSERT_EQ(dv_cipher_seal(tx, &empty, pkt, sizeof pkt), DV_SEAL_OVERHEAD);
  ASSERT_EQ(dv_cipher_seal(tx, &empty, pkt, sizeof pkt), -EOVERFLOW); /* no wrap to 0 */
  dv_cipher_free(tx);
  dv_cipher_free(rx);
}

static void test_modes_and_ops(void) {
  ASSERT_EQ(dv_mode_from_name("aead_aes256_gcm_rtpsize"), DV_MODE_AES256_GCM_RTPSIZE);
  ASSERT_EQ(dv_mode_from_name("aead_xchacha20_poly1305_rtpsize"),
            DV_MODE_XCHACHA20_POLY1305_RTPSIZE);
  ASSERT_EQ(dv_mode_from_name("xsalsa20_poly1305_lite_rtpsize"), -1);
  ASSERT_EQ(dv_mode_from_name("xsalsa20_poly1305_lite"), DV_MODE_XSALSA20_POLY1305_LITE);
  ASSERT_EQ(dv_mode_from_name("xsalsa20_poly1305_suffix"), DV_MODE_XSALSA20_POLY1305_SUFFIX);
  ASSERT_EQ(dv_mode_from_name("xsalsa20_poly1305"), DV_MODE_XSALSA20_POLY1305);
  ASSERT_EQ(dv_mode_overhead(DV_MODE_XSALSA20_POLY1305), 28);
  ASSERT_EQ(dv_mode_overhead(DV_MODE_XSALSA20_POLY1305_SUFFIX), 52);
  ASSERT_EQ(dv_mode_overhead(DV_MODE_XSALSA20_POLY1305_LITE), DV_SEAL_OVERHEAD);
  ASSERT_EQ(dv_mode_overhead(DV_MODE_COUNT), 0);
  ASSERT_EQ(dv_mode_from_name(""), -1);
  ASSERT_EQ(dv_mode_from_name(NULL), -1);
  for (int m = 0; m < DV_MODE_COUNT; m++)
    ASSERT_EQ(dv_mode_from_name(dv_mode_name((dv_mode_t)m)), m);
  ASSERT_TRUE(dv_mode_name(DV_MODE_COUNT) == NULL);
  ASSERT_TRUE(dv_cipher_new(DV_MODE_COUNT, test_key) == NULL);

  /* Through the media plane's vtable, as a worker would. */
  void *a = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  void *b = dv_cipher_new(DV_MODE_XCHACHA20_POLY1305_RTPSIZE, test_key);
  uint8_t pkt[MAX_PKT], plain[MAX_PKT];
  const uint8_t opus[] = {1, 2, 3};
  sc_media_pkt_t in = {.marker_pt = 0x78, .seq = 7, .ssrc = 9, .payload = opus, .payload_len = 3},
                 out;
  int n = dv_cipher_ops.seal(a, &in, pkt, sizeof pkt);
  ASSERT_EQ(n, 3 + DV_SEAL_OVERHEAD);
  ASSERT_EQ(dv_cipher_ops.open(b, pkt, (size_t)n, plain, sizeof plain, &out), 0);
  ASSERT_EQ(out.seq, 7);
  ASSERT_MEMEQ(out.payload, opus, 3);
  dv_cipher_ops.free(a);
  dv_cipher_ops.free(b);
}

/* The range the media plane prefetches before sealing: the per-packet
 * line and the key material right after it, starting on a cache line,
 * for every mode and both AES-GCM implementations. */
static void test_hot_range(void) {
  for (int portable = 0; portable < 2; portable++)
    for (int m = 0; m < DV_MODE_COUNT; m++) {
      dv_cipher_t *c = portable ? dv_cipher_new_portable((dv_mode_t)m, test_key)
                                : dv_cipher_new((dv_mode_t)m, test_key);
      ASSERT_TRUE(c != NULL);
      const void *base = NULL;
      size_t len = 0;
      dv_cipher_ops.hot_range(c, &base, &len);
      ASSERT_TRUE(base != NULL);
      ASSERT_EQ((uintptr_t)base % 64, 0);
      ASSERT_TRUE((const char *)base >= (const char *)c);
      /* The line, then: the 32-byte key; nothing (the key schedule lives in
       * OpenSSL's context); H and the round keys of libsodium's state. */
      if (m != DV_MODE_AES256_GCM_RTPSIZE)
        ASSERT_EQ(len, 64 + DV_KEY_LEN);
      else if (portable || !crypto_aead_aes256gcm_is_available())
        ASSERT_EQ(len, 64);
      else
        ASSERT_TRUE(len >= 64 + 256 && len <= 64 + sizeof(crypto_aead_aes256gcm_state));
      dv_cipher_free(c);
    }
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  load_vectors();
  RUN_TEST(test_vector_coverage);
  RUN_TEST(test_open_vectors);
  RUN_TEST(test_seal_vectors);
  RUN_TEST(test_tamper);
  RUN_TEST(test_truncated);
  RUN_TEST(test_replay_window);
  RUN_TEST(test_replay_wrap);
  RUN_TEST(test_forgery_keeps_window);
  RUN_TEST(test_rtcp_own_window);
  RUN_TEST(test_roundtrip);
  RUN_TEST(test_no_bede_at_12);
  RUN_TEST(test_wrong_key_or_mode);
  RUN_TEST(test_suffix_replay);
  RUN_TEST(test_legacy_header);
  RUN_TEST(test_malformed);
  RUN_TEST(test_modes_and_ops);
  RUN_TEST(test_hot_range);
  new_cipher = dv_cipher_new_portable; /* AES-GCM through OpenSSL EVP */
  RUN_TEST(test_open_vectors);
  RUN_TEST(test_seal_vectors);
  RUN_TEST(test_tamper);
  RUN_TEST(test_truncated);
  free(vecs);
  SC_TEST_DONE();
}
