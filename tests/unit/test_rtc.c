/*
 * sc_rtc: the worker's ufrag and tuple tables (many members, removal in
 * any order), and one member's whole path with real peers: a Chrome-shaped
 * STUN check (stun_fx), a real OpenSSL DTLS 1.2 client (dtls_fx), its
 * SRTP under libsrtp keyed from the client's own export; media both ways
 * through the cipher table (PT mapping, audio-level re-IDing, foreign
 * SSRC, replay, non-Opus), the handshake budget and consent expiry.
 */
#include <errno.h>
#include <string.h>

#include "addr_fx.h"
#include "dtls_fx.h"
#include "sc_rtc.h"
#include "sc_srtp.h"
#include "sc_test.h"
#include "sc_token.h"
#include "stun_fx.h"

#define CAP 64

static sc_dtls_ctx_t *ctx;

/* What the table sent (its emit). */
static struct {
  int n;
  size_t len[CAP];
  uint8_t data[CAP][2048];
  struct sockaddr_storage to[CAP];
} sent;

static void capture(void *c, const uint8_t *buf, size_t len, const struct sockaddr_storage *to) {
  (void)c;
  if (sent.n == CAP || len > sizeof sent.data[0]) return;
  memcpy(sent.data[sent.n], buf, len);
  sent.len[sent.n] = len;
  sent.to[sent.n++] = *to;
}

static sc_rtc_t *member(uint8_t opus_pt, uint8_t level_id) {
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  strcpy(p.remote_ufrag, "peer");
  p.opus_pt = opus_pt;
  p.audio_level_id = level_id;
  p.dtls = ctx;
  return sc_rtc_new(&p);
}

/* A table at time 1000 ms with one attached member (Opus pt 111, no
 * audio level); the caller frees the member and finishes the table. */
static sc_rtc_t *table_with_member(sc_rtc_table_t *t, int *owner) {
  sc_rtc_table_init(t, capture, NULL);
  sc_rtc_batch(t, 1000);
  sc_rtc_t *r = member(111, 0);
  ASSERT_TRUE(r != NULL);
  ASSERT_EQ(sc_rtc_attach(t, r, owner), 0);
  return r;
}

/* A front end's receive policy (sc_rtc_params_t.declines). */
typedef struct {
  int decline, released;
} policy_t;
static int policy_declines(void *p, const sc_media_pkt_t *pkt) {
  return ((policy_t *)p)->decline && pkt->payload_len > 0;
}
static void policy_release(void *p) {
  ((policy_t *)p)->released++;
}

/* A binding request for r from `from` (flags: stun_fx's). */
static sc_rtc_verdict_t check(sc_rtc_table_t *t, sc_rtc_t *r, struct sockaddr_storage from,
                              int flags, sc_rtc_result_t *res) {
  char user[64];
  fx_msg_t req;
  snprintf(user, sizeof user, "%s:peer", sc_rtc_local_ufrag(r));
  fx_request(&req, user, sc_rtc_local_pwd(r), flags, 7);
  return sc_rtc_input(t, sc_rtc_find_tuple(t, &from), req.b, req.len, &from, res);
}

static void test_tables(void) {
  enum { N = 40 };
  sc_rtc_table_t t;
  sc_rtc_table_init(&t, capture, NULL);
  sc_rtc_batch(&t, 1000);
  sc_rtc_t *r[N];
  int owner[N];
  for (int i = 0; i < N; i++) {
    r[i] = member(111, 0);
    ASSERT_TRUE(r[i] != NULL);
    ASSERT_EQ(sc_rtc_attach(&t, r[i], &owner[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    sc_rtc_result_t res;
    struct sockaddr_storage from = v4("10.0.0.1", (uint16_t)(20000 + i));
    ASSERT_EQ(check(&t, r[i], from, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
    ASSERT_TRUE(res.owner == &owner[i]);
    ASSERT_TRUE(sc_rtc_find_tuple(&t, &from) == r[i]);
  }
  ASSERT_EQ(t.stats.tuples_added, N);
  ASSERT_EQ(t.stats.nominations, N);
  /* A second check from the same tuple answers, moves nothing. */
  sc_rtc_result_t res;
  ASSERT_EQ(check(&t, r[3], v4("10.0.0.1", 20003), FX_USE_CANDIDATE, &res), SC_RTC_DONE);
  /* Every other member leaves: the rest stay findable (backward shift). */
  for (int i = 0; i < N; i += 2) sc_rtc_free(r[i]);
  for (int i = 0; i < N; i++) {
    struct sockaddr_storage from = v4("10.0.0.1", (uint16_t)(20000 + i));
    ASSERT_TRUE(sc_rtc_find_tuple(&t, &from) == (i % 2 ? r[i] : NULL));
  }
  ASSERT_EQ(t.n_members, N / 2);
  ASSERT_EQ(t.tuples.n, N / 2);
  for (int i = 1; i < N; i += 2) sc_rtc_free(r[i]);
  ASSERT_EQ(t.n_members, 0);
  ASSERT_EQ(t.tuples.n, 0);
  sc_rtc_table_fini(&t);
}

/* A down stream's transport: made before the peer's answer (placeholder
 * ufrag), completed with sc_rtc_set_remote before the hand-over; checks
 * naming the peer's real ufrag are answered only then. */
static void test_set_remote(void) {
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  strcpy(p.remote_ufrag, "pending");
  p.opus_pt = 111;
  p.dtls = ctx;
  sc_rtc_table_t t;
  sc_rtc_table_init(&t, capture, NULL);
  sc_rtc_batch(&t, 1000);
  int owner;
  sc_rtc_result_t res;
  struct sockaddr_storage from = v4("10.0.0.4", 4444);
  sc_rtc_t *early = sc_rtc_new(&p);
  ASSERT_TRUE(early != NULL);
  ASSERT_EQ(sc_rtc_attach(&t, early, &owner), 0);
  ASSERT_EQ(check(&t, early, from, FX_USE_CANDIDATE, &res), SC_RTC_DONE); /* "ours:peer" refused */
  sc_rtc_free(early);
  sc_rtc_t *r = sc_rtc_new(&p);
  ASSERT_TRUE(r != NULL);
  ASSERT_EQ(sc_rtc_set_remote(r, "", NULL), -EINVAL);
  char longer[SC_RTC_CRED_MAX + 2];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  ASSERT_EQ(sc_rtc_set_remote(r, longer, NULL), -EINVAL);
  uint8_t fp[SC_DTLS_FP_LEN] = {1, 2, 3};
  ASSERT_EQ(sc_rtc_set_remote(r, "peer", fp), 0);
  ASSERT_EQ(sc_rtc_attach(&t, r, &owner), 0);
  ASSERT_EQ(check(&t, r, from, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
  sc_rtc_free(r);
  sc_rtc_table_fini(&t);
}

static void test_stun_refused(void) {
  sc_rtc_table_t t;
  int owner;
  sc_rtc_t *r = table_with_member(&t, &owner);
  sent.n = 0;
  fx_msg_t req;
  sc_rtc_result_t res;
  struct sockaddr_storage from = v4("10.0.0.2", 4000);
  fx_request(&req, "nobody00:peer", sc_rtc_local_pwd(r), 0, 1); /* unknown ufrag */
  ASSERT_EQ(sc_rtc_input(&t, NULL, req.b, req.len, &from, &res), SC_RTC_DONE);
  char user[64];
  snprintf(user, sizeof user, "%s:peer", sc_rtc_local_ufrag(r));
  fx_request(&req, user, "not-the-password-at-all!", FX_USE_CANDIDATE, 2); /* bad MI */
  ASSERT_EQ(sc_rtc_input(&t, NULL, req.b, req.len, &from, &res), SC_RTC_DONE);
  const uint8_t rtp[20] = {0x80, 111};
  ASSERT_EQ(sc_rtc_input(&t, NULL, rtp, sizeof rtp, &from, &res), SC_RTC_DONE); /* not STUN */
  ASSERT_EQ(sent.n, 0);
  ASSERT_EQ(t.stats.stun_refused, 3);
  ASSERT_TRUE(sc_rtc_find_tuple(&t, &from) == NULL);
  ASSERT_EQ(sc_rtc_attach(&t, r, &owner), -EEXIST); /* one ufrag, one member */
  sc_rtc_free(r);
  sc_rtc_table_fini(&t);
}

/* Feeds the client's datagrams to the table and its answers back, one
 * receive batch per round, until the client is done. */
static void handshake(sc_rtc_table_t *t, fx_client_t *c, struct sockaddr_storage from,
                      int64_t now) {
  fx_client_step(c);
  for (int round = 0; round < 10 && !c->done && !c->failed; round++) {
    sc_rtc_batch(t, now);
    fx_queue_t q = c->out;
    c->out.n = 0;
    sent.n = 0;
    sc_rtc_result_t res;
    for (int i = 0; i < q.n; i++)
      sc_rtc_input(t, sc_rtc_find_tuple(t, &from), q.data[i], q.len[i], &from, &res);
    for (int j = 0; j < sent.n; j++) fx_client_receive(c, sent.data[j], sent.len[j]);
  }
}

/* An RTP packet from the client: PT, SSRC, seq, audio level (id 3). */
static size_t client_rtp(sc_srtp_t *cli, uint8_t *buf, uint8_t pt, uint32_t ssrc, uint16_t seq,
                         const char *payload) {
  uint8_t h[20] = {0x90, pt, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0x03, 0xC0};
  fx_put32(h + 8, ssrc);
  const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, 0x30, 0x85, 0, 0}; /* id 3, level 5, V */
  memcpy(h + 12, ext, 8);
  memcpy(buf, h, 20);
  memcpy(buf + 20, payload, strlen(payload));
  int n = sc_srtp_protect_rtp(cli, buf, 20 + strlen(payload), 2048);
  return n > 0 ? (size_t)n : 0;
}

static void test_media_both_ways(void) {
  sc_rtc_table_t t;
  sc_rtc_table_init(&t, capture, NULL);
  int64_t now = 5000;
  sc_rtc_batch(&t, now);
  policy_t pol = {0, 0};
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  strcpy(p.remote_ufrag, "peer");
  p.opus_pt = 111;
  p.audio_level_id = 3; /* its audio-level extmap id, both ways */
  p.dtls = ctx;
  p.e2ee = 1;
  p.declines = policy_declines;
  p.release = policy_release;
  p.policy = &pol;
  sc_rtc_t *r = sc_rtc_new(&p);
  ASSERT_TRUE(r != NULL);
  int owner;
  ASSERT_EQ(sc_rtc_attach(&t, r, &owner), 0);
  struct sockaddr_storage from = v4("10.0.0.3", 5555);
  sc_rtc_result_t res;
  ASSERT_EQ(check(&t, r, from, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
  ASSERT_TRUE(!sc_rtc_ready(r, now)); /* no SRTP yet */

  fx_client_t c;
  ASSERT_EQ(fx_client_init(&c, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 1), 0);
  handshake(&t, &c, from, now);
  ASSERT_TRUE(c.done);
  ASSERT_EQ(t.stats.dtls_connected, 1);
  ASSERT_TRUE(sc_rtc_ready(r, now));
  sc_srtp_keys_t k;
  ASSERT_EQ(fx_client_keys(&c, &k), 0);
  sc_srtp_t *cli = NULL;
  ASSERT_EQ(sc_srtp_new(&cli, &k, 4), 0);

  /* browser -> room: PT 111 becomes 120, the level is read */
  uint8_t pkt[2048], plain[2048];
  size_t n = client_rtp(cli, pkt, 111, 0xABCD0001, 10, "opus-frame");
  ASSERT_TRUE(n > 0);
  ASSERT_EQ(sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), pkt, n, &from, &res), SC_RTC_MEDIA);
  ASSERT_TRUE(res.owner == &owner);
  sc_media_pkt_t m;
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), 0);
  ASSERT_EQ(m.marker_pt & 0x7f, SC_RTC_OPUS_PT_CORE);
  ASSERT_EQ(m.seq, 10);
  ASSERT_EQ(m.has_level, 1);
  ASSERT_EQ(m.level, 0x85);
  ASSERT_EQ(m.payload_len, strlen("opus-frame"));
  ASSERT_TRUE(memcmp(m.payload, "opus-frame", m.payload_len) == 0);
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), -EALREADY); /* replay */
  n = client_rtp(cli, pkt, 111, 0xABCD0002, 11, "other-ssrc");
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), -EPERM);
  ASSERT_EQ(t.stats.foreign_ssrc, 1);
  n = client_rtp(cli, pkt, 96, 0xABCD0001, 12, "vp8");
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), -EPROTO);
  n = client_rtp(cli, pkt, 111, 0xABCD0001, 13, "forged");
  pkt[n - 1] ^= 1; /* the tag */
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), -EBADMSG);

  /* room -> browser: PT 111, the sender's SSRC, level with its id 3 */
  const uint8_t opus[] = "from-discord";
  sc_media_pkt_t in = {.marker_pt = 0x80 | 120,
                       .seq = 77,
                       .timestamp = 960,
                       .ssrc = 4242,
                       .payload = opus,
                       .payload_len = sizeof opus,
                       .has_level = 1,
                       .level = 0x21};
  uint8_t out[2048];
  int len = sc_rtc_cipher_ops.seal(r, &in, out, sizeof out);
  ASSERT_TRUE(len > 0);
  int clear = sc_srtp_unprotect_rtp(cli, out, (size_t)len);
  ASSERT_EQ(clear, 20 + (int)sizeof opus);
  ASSERT_EQ(out[0], 0x90);
  ASSERT_EQ(out[1], 0x80 | 111);
  ASSERT_EQ(out[8] << 24 | out[9] << 16 | out[10] << 8 | out[11], 4242);
  ASSERT_EQ(out[16], 0x30); /* id 3, one byte */
  ASSERT_EQ(out[17], 0x21);
  ASSERT_TRUE(memcmp(out + 20, opus, sizeof opus) == 0);
  /* The front end's policy declines (e.g. an E2EE frame to a member
   * whose client is not in the group): counted by the core, not sent. */
  pol.decline = 1;
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), SC_MEDIA_SEAL_DECLINED);
  pol.decline = 0;
  /* A DAVE frame goes where the policy allows it. */
  const uint8_t e2ee[] = {1, 2, 3, 0xFA, 0xFA};
  in.payload = e2ee;
  in.payload_len = sizeof e2ee;
  ASSERT_TRUE(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out) > 0);
  in.payload = opus;
  in.payload_len = sizeof opus;
  in.marker_pt = 101; /* H264, which it did not negotiate: not its stream */
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), SC_MEDIA_SEAL_FILTERED);
  in.marker_pt = 77; /* neither Opus nor video: not sent to a WebRTC peer */
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), 0);

  /* No valid check for 30 s: no media either way. */
  sc_rtc_batch(&t, now + SC_ICE_CONSENT_MS + 1);
  in.marker_pt = 120;
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), 0);
  n = client_rtp(cli, pkt, 111, 0xABCD0001, 20, "late");
  ASSERT_EQ(sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), pkt, n, &from, &res), SC_RTC_DONE);

  sc_srtp_free(cli);
  fx_client_free(&c);
  sc_rtc_free(r);
  ASSERT_EQ(pol.released, 1); /* the state held the policy until freed */
  sc_rtc_table_fini(&t);
}

/* A STUN check for r's current ufrag and password naming peer as the
 * client's ufrag. */
static sc_rtc_verdict_t check_as(sc_rtc_table_t *t, sc_rtc_t *r, const char *peer,
                                 struct sockaddr_storage from, sc_rtc_result_t *res) {
  char user[SC_ICE_UFRAG_LEN + 64];
  fx_msg_t req;
  snprintf(user, sizeof user, "%s:%s", sc_rtc_local_ufrag(r), peer);
  fx_request(&req, user, sc_rtc_local_pwd(r), FX_USE_CANDIDATE, 9);
  return sc_rtc_input(t, sc_rtc_find_tuple(t, &from), req.b, req.len, &from, res);
}

/* An ICE restart of a running member: new credentials on both sides, the
 * same DTLS session and SRTP keys (no handshake), media from the new
 * pair; the old credentials are refused, a ufrag in use is refused. */
static void test_restart_ice(void) {
  sc_rtc_table_t t;
  int owner, owner2;
  sc_rtc_t *r = table_with_member(&t, &owner);
  sc_rtc_t *r2 = member(111, 0);
  ASSERT_EQ(sc_rtc_attach(&t, r2, &owner2), 0);
  struct sockaddr_storage a = v4("10.0.0.5", 5000), b = v4("10.0.0.5", 5001);
  sc_rtc_result_t res;
  ASSERT_EQ(check(&t, r, a, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
  fx_client_t c;
  ASSERT_EQ(fx_client_init(&c, "SRTP_AEAD_AES_128_GCM", 1), 0);
  handshake(&t, &c, a, 1000);
  ASSERT_TRUE(c.done);
  sc_srtp_keys_t k;
  ASSERT_EQ(fx_client_keys(&c, &k), 0);
  sc_srtp_t *cli = NULL;
  ASSERT_EQ(sc_srtp_new(&cli, &k, 4), 0);
  uint8_t pkt[2048], plain[2048];
  sc_media_pkt_t m;
  size_t n = client_rtp(cli, pkt, 111, 0xABCD0001, 10, "before");
  ASSERT_EQ(sc_rtc_input(&t, sc_rtc_find_tuple(&t, &a), pkt, n, &a, &res), SC_RTC_MEDIA);
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), 0);

  char old_ufrag[SC_ICE_UFRAG_LEN + 1], old_pwd[SC_ICE_PWD_LEN + 1];
  snprintf(old_ufrag, sizeof old_ufrag, "%s", sc_rtc_local_ufrag(r));
  snprintf(old_pwd, sizeof old_pwd, "%s", sc_rtc_local_pwd(r));
  sc_ice_creds_t cr;
  char longer[SC_ICE_REMOTE_UFRAG_MAX + 2];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  ASSERT_EQ(sc_ice_creds_new(&cr, longer), -EINVAL);
  ASSERT_EQ(sc_ice_creds_new(&cr, "peer2"), 0);
  sc_ice_creds_t taken = cr;
  memcpy(taken.ufrag, sc_rtc_local_ufrag(r2), sizeof taken.ufrag);
  ASSERT_EQ(sc_rtc_restart_ice(r, &taken), -EEXIST); /* another member's ufrag */
  ASSERT_STREQ(sc_rtc_local_ufrag(r), old_ufrag);
  ASSERT_EQ(sc_rtc_restart_ice(r, &cr), 0);
  ASSERT_STREQ(sc_rtc_local_ufrag(r), cr.ufrag);
  ASSERT_TRUE(strcmp(cr.ufrag, old_ufrag) != 0 && strcmp(cr.pwd, old_pwd) != 0);
  ASSERT_TRUE(sc_hmap_get(&t.ufrags, old_ufrag) == NULL);
  ASSERT_TRUE(sc_hmap_get(&t.ufrags, cr.ufrag) == r);

  /* The old credentials, from a new tuple: refused. */
  fx_msg_t req;
  char user[64];
  snprintf(user, sizeof user, "%s:peer", old_ufrag);
  fx_request(&req, user, old_pwd, FX_USE_CANDIDATE, 8);
  ASSERT_EQ(sc_rtc_input(&t, NULL, req.b, req.len, &b, &res), SC_RTC_DONE);
  ASSERT_TRUE(sc_rtc_find_tuple(&t, &b) == NULL);
  ASSERT_EQ(check_as(&t, r, "peer", b, &res), SC_RTC_DONE); /* the peer's old ufrag */
  ASSERT_TRUE(sc_rtc_find_tuple(&t, &b) == NULL);
  /* Media goes on over the old pair meanwhile. */
  n = client_rtp(cli, pkt, 111, 0xABCD0001, 11, "during");
  ASSERT_EQ(sc_rtc_input(&t, sc_rtc_find_tuple(&t, &a), pkt, n, &a, &res), SC_RTC_MEDIA);
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), 0);
  /* The new credentials, from a new tuple: answered and nominated; SRTP
   * from it opens under the same keys, no handshake. */
  ASSERT_EQ(check_as(&t, r, "peer2", b, &res), SC_RTC_NOMINATED);
  ASSERT_TRUE(sc_rtc_find_tuple(&t, &b) == r && res.owner == &owner);
  n = client_rtp(cli, pkt, 111, 0xABCD0001, 12, "after");
  ASSERT_EQ(sc_rtc_input(&t, sc_rtc_find_tuple(&t, &b), pkt, n, &b, &res), SC_RTC_MEDIA);
  ASSERT_EQ(sc_rtc_cipher_ops.open(r, pkt, n, plain, sizeof plain, &m), 0);
  ASSERT_EQ(m.seq, 12);
  ASSERT_EQ(t.stats.dtls_connected, 1);
  /* The other member is untouched. */
  ASSERT_EQ(check(&t, r2, v4("10.0.0.6", 6000), FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);

  sc_srtp_free(cli);
  fx_client_free(&c);
  sc_rtc_free(r);
  sc_rtc_free(r2);
  ASSERT_EQ(t.n_members, 0);
  sc_rtc_table_fini(&t);
}

/* At most SC_RTC_HANDSHAKE_STEPS DTLS datagrams per receive batch; the
 * rest wait in a bounded queue for the next batch or loop turn. */
static void test_handshake_budget(void) {
  sc_rtc_table_t t;
  int owner;
  sc_rtc_t *r = table_with_member(&t, &owner);
  struct sockaddr_storage from = v4("10.0.0.4", 6000);
  sc_rtc_result_t res;
  ASSERT_EQ(check(&t, r, from, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
  const uint8_t junk[32] = {22, 0xFE, 0xFD}; /* a DTLS-looking first byte */
  for (int i = 0; i < SC_RTC_HANDSHAKE_STEPS + 2; i++)
    sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), junk, sizeof junk, &from, &res);
  ASSERT_EQ(t.stats.dtls_datagrams, SC_RTC_HANDSHAKE_STEPS);
  ASSERT_EQ(t.stats.dtls_deferred, 2);
  ASSERT_EQ(t.n_deferred, 2);
  /* The next batch (or loop turn) runs the waiting ones first. */
  sc_rtc_batch(&t, 1001);
  ASSERT_EQ(t.n_deferred, 0);
  ASSERT_EQ(t.stats.dtls_datagrams, SC_RTC_HANDSHAKE_STEPS + 2);
  sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), junk, sizeof junk, &from, &res);
  ASSERT_EQ(t.stats.dtls_datagrams, SC_RTC_HANDSHAKE_STEPS + 3);
  /* A full queue drops (the peer retransmits). */
  for (int i = 0; i < SC_RTC_HANDSHAKE_STEPS + SC_RTC_DEFER_MAX + 5; i++)
    sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), junk, sizeof junk, &from, &res);
  ASSERT_EQ(t.n_deferred, SC_RTC_DEFER_MAX);
  ASSERT_EQ(t.stats.dtls_dropped, 8);      /* 13 fed (the budget left), 128 queued */
  ASSERT_TRUE(sc_rtc_tick(&t, 1002) >= 0); /* a turn: more of the queue */
  ASSERT_EQ(t.n_deferred, SC_RTC_DEFER_MAX - SC_RTC_HANDSHAKE_STEPS);
  /* DTLS from a tuple no check validated is not read at all. */
  uint64_t fed = t.stats.dtls_datagrams, queued = t.stats.dtls_deferred;
  struct sockaddr_storage stranger = v4("10.0.0.5", 6000);
  ASSERT_EQ(sc_rtc_input(&t, NULL, junk, sizeof junk, &stranger, &res), SC_RTC_DONE);
  ASSERT_EQ(t.stats.dtls_datagrams, fed);
  ASSERT_EQ(t.stats.dtls_deferred, queued);
  sc_rtc_free(r);
  sc_rtc_table_fini(&t);
}

/* A member whose client has no DAVE (params e2ee 0: the seed dialects)
 * never gets a DAVE-encrypted frame (payload ending FA FA), with or
 * without a policy: declined, counted by the core; other payloads are not
 * (here: not keyed yet, so not sent). */
static void test_no_policy_declines_e2ee(void) {
  sc_rtc_t *r = member(111, 0);
  ASSERT_TRUE(r != NULL);
  const uint8_t e2ee[] = {0xde, 0xad, 0xbe, 0xef, 0xFA, 0xFA}, plain[] = {0xFA, 0xFA, 1};
  sc_media_pkt_t in = {
      .marker_pt = 120, .seq = 1, .ssrc = 7, .payload = e2ee, .payload_len = sizeof e2ee};
  uint8_t out[256];
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), SC_MEDIA_SEAL_DECLINED);
  in.payload = plain;
  in.payload_len = sizeof plain;
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), 0);
  sc_rtc_free(r);
  policy_t pol = {0, 0};
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  strcpy(p.remote_ufrag, "peer");
  p.opus_pt = 111;
  p.dtls = ctx;
  p.declines = policy_declines; /* a source filter that lets everything through */
  p.release = policy_release;
  p.policy = &pol;
  r = sc_rtc_new(&p);
  ASSERT_TRUE(r != NULL);
  in.payload = e2ee;
  in.payload_len = sizeof e2ee;
  ASSERT_EQ(sc_rtc_cipher_ops.seal(r, &in, out, sizeof out), SC_MEDIA_SEAL_DECLINED);
  sc_rtc_free(r);
}

/* A keyed member whose peer sends no SRTP is shed RTC_SHED_AFTER_MS
 * (SC_DTLS_HANDSHAKE_MS) after it connected: off the table's timer list,
 * DTLS refused from then on, media still keyed. */
static void test_shed_after_silence(void) {
  sc_rtc_table_t t;
  int owner;
  int64_t now = 1000;
  sc_rtc_t *r = table_with_member(&t, &owner);
  struct sockaddr_storage from = v4("10.0.0.4", 4444);
  sc_rtc_result_t res;
  ASSERT_EQ(check(&t, r, from, FX_USE_CANDIDATE, &res), SC_RTC_NOMINATED);
  fx_client_t c;
  ASSERT_EQ(fx_client_init(&c, "SRTP_AEAD_AES_128_GCM", 1), 0);
  handshake(&t, &c, from, now);
  ASSERT_TRUE(c.done);
  ASSERT_TRUE(t.handshaking == r); /* keyed, its shedding time pending */
  int64_t due = sc_rtc_tick(&t, now + 1000);
  ASSERT_TRUE(due > 0 && due <= SC_DTLS_HANDSHAKE_MS);
  ASSERT_TRUE(t.handshaking == r);
  ASSERT_EQ(sc_rtc_tick(&t, now + SC_DTLS_HANDSHAKE_MS), -1);
  ASSERT_TRUE(t.handshaking == NULL);
  uint8_t alert[15] = {21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 2, 2, 0};
  uint64_t refused = t.stats.dtls_refused;
  sc_rtc_batch(&t, now + SC_DTLS_HANDSHAKE_MS);
  check(&t, r, from, 0, &res); /* consent refreshed: only the shed refuses it */
  sc_rtc_input(&t, sc_rtc_find_tuple(&t, &from), alert, sizeof alert, &from, &res);
  ASSERT_EQ(t.stats.dtls_refused, refused + 1);
  ASSERT_TRUE(sc_rtc_ready(r, now + SC_DTLS_HANDSHAKE_MS));
  fx_client_free(&c);
  sc_rtc_free(r);
  sc_rtc_table_fini(&t);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  char err[256];
  if (sc_token_init() != 0 || sc_srtp_global_init() != 0 ||
      sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err) != 0)
    return 1;
  RUN_TEST(test_tables);
  RUN_TEST(test_stun_refused);
  RUN_TEST(test_set_remote);
  RUN_TEST(test_media_both_ways);
  RUN_TEST(test_restart_ice);
  RUN_TEST(test_handshake_budget);
  RUN_TEST(test_no_policy_declines_e2ee);
  RUN_TEST(test_shed_after_silence);
  sc_dtls_ctx_free(ctx);
  SC_TEST_DONE();
}
