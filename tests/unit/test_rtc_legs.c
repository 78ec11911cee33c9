/*
 * test_rtc_legs: multi-transport members end to end. A real media plane
 * on loopback and the registry's voice states and legs; every transport
 * is a real WebRTC peer on its own UDP socket (a Chrome-shaped STUN check
 * from stun_fx, an OpenSSL DTLS 1.2 client from dtls_fx, SRTP under
 * libsrtp keyed from the client's own export). Each state's own member is
 * its client's publishing transport (SC_RTC_RECV_ONLY); down transports
 * are legs (SC_RTC_SEND_ONLY) with only_source (a per-stream peer
 * connection) or skip_source (one carrying every source but its own).
 * Checks who hears what, under which SSRC, and the counters; and an ICE
 * restart posted to a running member (sc_media_post_ice_restart), and
 * consumer SSRCs (sc_media_post_ssrc_map).
 */
#include <errno.h>
#include <string.h>

#include "dtls_fx.h"
#include "media_fx.h"
#include "sc_registry.h"
#include "sc_rtc.h"
#include "sc_srtp.h"
#include "stun_fx.h"

static sc_dtls_ctx_t *ctx;
static sc_registry_t *reg;

/* One WebRTC transport: the server's member (a state's own or a leg)
 * and the client's end of it. */
typedef struct {
  const char *name;
  int fd;
  sc_member_stats_t *mb;
  char ufrag[64], pwd[64];
  fx_client_t dtls;
  sc_srtp_t *srtp;
  uint32_t ssrc; /* what the client sends under (its own choice) */
  uint16_t seq;
} peer_t;

/* Sends buf and waits until the worker read it and finished its batch. */
static void send_wait(peer_t *p, const uint8_t *buf, size_t len) {
  uint64_t before = stats().rx_datagrams;
  send_to_media(p->fd, buf, len);
  wait_rx(before + 1);
}

/* The member's cipher (sc_rtc) with these filters, then ICE (one
 * nominating check) and the DTLS handshake over the socket. */
static void connect_peer(peer_t *p, const char *name, sc_member_stats_t *mb, int direction,
                         uint32_t only, uint32_t skip) {
  memset(p, 0, sizeof *p);
  p->name = name;
  p->mb = mb;
  p->fd = loopback_socket();
  p->ssrc = sc_token_random_u32();
  sc_rtc_params_t params;
  memset(&params, 0, sizeof params);
  strcpy(params.remote_ufrag, "peer");
  params.opus_pt = 111;
  params.dtls = ctx;
  params.direction = direction;
  params.only_source = only;
  params.skip_source = skip;
  sc_rtc_t *r = sc_rtc_new(&params);
  ASSERT_TRUE(r != NULL);
  snprintf(p->ufrag, sizeof p->ufrag, "%s", sc_rtc_local_ufrag(r));
  snprintf(p->pwd, sizeof p->pwd, "%s", sc_rtc_local_pwd(r));
  ASSERT_EQ(sc_media_post_cipher(media, mb, &sc_rtc_cipher_ops, r), 0);
  sc_media_sync(media);

  char user[80];
  fx_msg_t req;
  snprintf(user, sizeof user, "%s:peer", p->ufrag);
  fx_request(&req, user, p->pwd, FX_USE_CANDIDATE, 7);
  send_wait(p, req.b, req.len);
  uint8_t buf[2048];
  ASSERT_TRUE(recv_within(p->fd, buf, sizeof buf, 2000) > 0); /* the binding response */

  ASSERT_EQ(fx_client_init(&p->dtls, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 1), 0);
  fx_client_step(&p->dtls);
  for (int round = 0; round < 20 && !p->dtls.done && !p->dtls.failed; round++) {
    fx_queue_t q = p->dtls.out;
    p->dtls.out.n = 0;
    for (int i = 0; i < q.n; i++) send_wait(p, q.data[i], q.len[i]);
    int n;
    while ((n = recv_within(p->fd, buf, sizeof buf, 200)) > 0)
      fx_client_receive(&p->dtls, buf, (size_t)n);
  }
  ASSERT_TRUE(p->dtls.done);
  sc_srtp_keys_t k;
  ASSERT_EQ(fx_client_keys(&p->dtls, &k), 0);
  ASSERT_EQ(sc_srtp_new(&p->srtp, &k, 4), 0);
}

static void close_peer(peer_t *p) {
  sc_srtp_free(p->srtp);
  fx_client_free(&p->dtls);
  close(p->fd);
}

/* Opus from p's client, through the media plane. */
static void speak_rtp(peer_t *p, const char *payload) {
  uint8_t buf[2048] = {0x80, 111};
  p->seq++;
  buf[2] = (uint8_t)(p->seq >> 8), buf[3] = (uint8_t)p->seq;
  fx_put32(buf + 4, 960u * p->seq);
  fx_put32(buf + 8, p->ssrc);
  memcpy(buf + 12, payload, strlen(payload));
  int n = sc_srtp_protect_rtp(p->srtp, buf, 12 + strlen(payload), sizeof buf);
  ASSERT_TRUE(n > 0);
  send_wait(p, buf, (size_t)n);
}

/* An RTCP receiver report (no blocks) from p's client. */
static void send_rtcp(peer_t *p) {
  uint8_t buf[2048] = {0x80, 201, 0, 1};
  fx_put32(buf + 4, p->ssrc);
  int n = sc_srtp_protect_rtcp(p->srtp, buf, 8, sizeof buf);
  ASSERT_TRUE(n > 0);
  send_wait(p, buf, (size_t)n);
}

/* The next RTP datagram to p within timeout_ms; the server's RTCP
 * reports (sc_rtcp, every ~2 s to each WebRTC member) are skipped. */
static int recv_rtp(peer_t *p, uint8_t *buf, size_t cap, int timeout_ms) {
  int n;
  while ((n = recv_within(p->fd, buf, cap, timeout_ms)) > 0)
    if (n < 2 || (buf[1] & 0x7f) < 64 || (buf[1] & 0x7f) > 95) break; /* RFC 5761 */
  return n;
}

/* p's client gets exactly `payload` from the source SSRC `from`. */
static void hears(peer_t *p, uint32_t from, const char *payload) {
  uint8_t buf[2048];
  int n = recv_rtp(p, buf, sizeof buf, 2000);
  if (n <= 0) SC_FAIL("%s heard nothing, expected %s", p->name, payload);
  ASSERT_TRUE(n > 0);
  int clear = sc_srtp_unprotect_rtp(p->srtp, buf, (size_t)n);
  ASSERT_EQ(clear, 12 + (int)strlen(payload));
  ASSERT_EQ(buf[1] & 0x7f, 111);
  ASSERT_EQ((uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11],
            from);
  ASSERT_MEMEQ(buf + 12, payload, strlen(payload));
}

static void hears_nothing(peer_t *p) {
  uint8_t buf[2048];
  int n = recv_rtp(p, buf, sizeof buf, 50);
  if (n > 0) SC_FAIL("%s heard a datagram of %d bytes", p->name, n);
}

static uint64_t tx_of(const sc_member_stats_t *mb) {
  return atomic_load(&mb->tx_packets);
}

/* Three users in one room. A publishes only. B publishes and has one down
 * leg carrying every source but its own (skip_source). C publishes and
 * has one down leg for A's stream only (only_source). */
static void test_directions_and_sources(void) {
  sc_vstate_t *a = sc_registry_create_state(reg, "1", "10", "100");
  sc_vstate_t *b = sc_registry_create_state(reg, "2", "10", "100");
  sc_vstate_t *c = sc_registry_create_state(reg, "3", "10", "100");
  ASSERT_TRUE(a && b && c);
  media_port = sc_media_port_for_room(media, a->channel->room_id);
  sc_member_stats_t *b_leg = sc_registry_add_leg(reg, b, NULL);
  sc_member_stats_t *c_leg = sc_registry_add_leg(reg, c, NULL);
  ASSERT_TRUE(b_leg && c_leg);
  peer_t a_up, b_up, c_up, b_down, c_down;
  connect_peer(&a_up, "A up", a->stats, SC_RTC_RECV_ONLY, 0, 0);
  connect_peer(&b_up, "B up", b->stats, SC_RTC_RECV_ONLY, 0, 0);
  connect_peer(&c_up, "C up", c->stats, SC_RTC_RECV_ONLY, 0, 0);
  connect_peer(&b_down, "B down (all but B)", b_leg, SC_RTC_SEND_ONLY, 0, b->ssrc);
  connect_peer(&c_down, "C down (A only)", c_leg, SC_RTC_SEND_ONLY, a->ssrc, 0);
  peer_t *all[] = {&a_up, &b_up, &c_up, &b_down, &c_down};
  uint64_t filtered = stats().seal_filtered;

  /* A speaks: both down legs carry it, under A's SSRC; no publishing
   * transport gets anything (B up and C up: filtered). */
  speak_rtp(&a_up, "from-a");
  hears(&b_down, a->ssrc, "from-a");
  hears(&c_down, a->ssrc, "from-a");
  for (int i = 0; i < 3; i++) hears_nothing(all[i]);
  ASSERT_EQ(stats().seal_filtered, filtered + 2);
  ASSERT_EQ(atomic_load(&a->stats->rx_packets), 1);

  /* B speaks: its own down leg skips it, C's is for A only. */
  speak_rtp(&b_up, "from-b");
  for (int i = 0; i < 5; i++) hears_nothing(all[i]);
  ASSERT_EQ(stats().seal_filtered, filtered + 2 + 4);

  /* C speaks: only B's leg carries it. */
  speak_rtp(&c_up, "from-c");
  hears(&b_down, c->ssrc, "from-c");
  for (int i = 0; i < 5; i++) hears_nothing(all[i]);
  ASSERT_EQ(stats().seal_filtered, filtered + 2 + 4 + 3);
  ASSERT_EQ(tx_of(b_leg), 2);
  ASSERT_EQ(tx_of(c_leg), 1);
  ASSERT_EQ(tx_of(a->stats) + tx_of(b->stats) + tx_of(c->stats), 0);

  /* A down leg that sends RTP: dropped and counted, nobody hears it; its
   * RTCP (receiver reports) is read. */
  uint64_t wrong = stats().webrtc.wrong_direction;
  speak_rtp(&b_down, "from-a-down-leg");
  for (int i = 0; i < 5; i++) hears_nothing(all[i]);
  ASSERT_EQ(stats().webrtc.wrong_direction, wrong + 1);
  ASSERT_EQ(atomic_load(&b_leg->rx_packets), 0);
  send_rtcp(&b_down);
  ASSERT_EQ(atomic_load(&b_leg->rx_rtcp), 1);
  ASSERT_EQ(atomic_load(&b_leg->rtcp_rr), 1);
  /* Authentic SRTCP alone (C's leg never sent RTP) proves the handshake
   * over: the SSL object goes, DTLS is no longer read. */
  send_rtcp(&c_down);
  uint64_t refused = stats().webrtc.dtls_refused;
  const uint8_t dtls_junk[32] = {22, 0xFE, 0xFD};
  send_wait(&c_down, dtls_junk, sizeof dtls_junk);
  ASSERT_EQ(stats().webrtc.dtls_refused, refused + 1);

  /* Deafening C reaches its leg: A is no longer carried to it. */
  sc_vflags_t deaf = {.deaf = 1};
  sc_registry_set_flags(reg, c, &deaf);
  speak_rtp(&a_up, "from-a-again");
  hears(&b_down, a->ssrc, "from-a-again");
  hears_nothing(&c_down);
  ASSERT_EQ(tx_of(c_leg), 1);

  /* B's leg removed: nothing more to it. */
  sc_registry_remove_leg(reg, b, b_leg);
  speak_rtp(&a_up, "after-removal");
  for (int i = 0; i < 5; i++) hears_nothing(all[i]);

  for (int i = 0; i < 5; i++) close_peer(all[i]);
  sc_registry_end_state(reg, a, SC_END_LEFT);
  sc_registry_end_state(reg, b, SC_END_LEFT);
  sc_registry_end_state(reg, c, SC_END_LEFT);
  sc_media_sync(media);
}

/* A binding request with these credentials from p's socket: 1 if the
 * media plane answered it. */
static int check_answered(peer_t *p, const char *ufrag, const char *pwd, const char *peer_ufrag) {
  char user[SC_ICE_REMOTE_UFRAG_MAX + 64];
  fx_msg_t req;
  snprintf(user, sizeof user, "%s:%s", ufrag, peer_ufrag);
  fx_request(&req, user, pwd, FX_USE_CANDIDATE, 11);
  send_wait(p, req.b, req.len);
  uint8_t buf[2048];
  return recv_within(p->fd, buf, sizeof buf, 200) > 0;
}

/* sc_media_post_ice_restart: a running member answers to new ICE
 * credentials (the old ones refused) from a new socket, and its media
 * goes on from there under the same DTLS session and SRTP keys. */
static void test_ice_restart_command(void) {
  sc_vstate_t *a = sc_registry_create_state(reg, "4", "11", "100");
  sc_vstate_t *b = sc_registry_create_state(reg, "5", "11", "100");
  ASSERT_TRUE(a && b);
  media_port = sc_media_port_for_room(media, a->channel->room_id);
  peer_t a_up, b_all;
  connect_peer(&a_up, "A up", a->stats, SC_RTC_SENDRECV, 0, 0);
  connect_peer(&b_all, "B", b->stats, SC_RTC_SENDRECV, 0, 0);
  speak_rtp(&a_up, "before");
  hears(&b_all, a->ssrc, "before");

  sc_ice_creds_t cr;
  ASSERT_EQ(sc_ice_creds_new(&cr, "peer-restarted"), 0);
  ASSERT_EQ(sc_media_post_ice_restart(media, a->stats, &cr), 0);
  sc_media_sync(media);
  /* The browser's new socket (an ICE restart gathers anew). */
  close(a_up.fd);
  a_up.fd = loopback_socket();
  ASSERT_EQ(check_answered(&a_up, a_up.ufrag, a_up.pwd, "peer"), 0);
  ASSERT_EQ(check_answered(&a_up, cr.ufrag, cr.pwd, "peer"), 0); /* the peer's old ufrag */
  ASSERT_EQ(check_answered(&a_up, cr.ufrag, cr.pwd, "peer-restarted"), 1);
  speak_rtp(&a_up, "after-restart");
  hears(&b_all, a->ssrc, "after-restart");
  /* And the other way, to the new tuple. */
  speak_rtp(&b_all, "to-a");
  hears(&a_up, b->ssrc, "to-a");

  close_peer(&a_up);
  close_peer(&b_all);
  sc_registry_end_state(reg, a, SC_END_LEFT);
  sc_registry_end_state(reg, b, SC_END_LEFT);
  sc_media_sync(media);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next RTCP compound to p within timeout_ms, unprotected: its
 * length, or 0 (none came). */
static int recv_rtcp(peer_t *p, uint8_t *buf, size_t cap, int timeout_ms) {
  int n;
  while ((n = recv_within(p->fd, buf, cap, timeout_ms)) > 0)
    if (n >= 2 && (buf[1] & 0x7f) >= 64 && (buf[1] & 0x7f) <= 95)
      return sc_srtp_unprotect_rtcp(p->srtp, buf, (size_t)n);
  return 0;
}

/* Consumer SSRCs (sc_media_post_ssrc_map): a leg carrying every source
 * gets A under a consumer's own SSRC; 200 consumers made and closed on
 * the same transport, each under a fresh SSRC, all heard (a closed one's
 * outbound SRTP stream is freed: without that the 64-SSRC budget runs
 * out), and the SR the leg gets names the SSRC it hears. */
static void test_consumer_ssrcs(void) {
  sc_vstate_t *a = sc_registry_create_state(reg, "6", "12", "100");
  sc_vstate_t *b = sc_registry_create_state(reg, "7", "12", "100");
  ASSERT_TRUE(a && b);
  media_port = sc_media_port_for_room(media, a->channel->room_id);
  sc_member_stats_t *b_leg = sc_registry_add_leg(reg, b, NULL);
  ASSERT_TRUE(b_leg != NULL);
  peer_t a_up, b_down;
  connect_peer(&a_up, "A up", a->stats, SC_RTC_RECV_ONLY, 0, 0);
  connect_peer(&b_down, "B down", b_leg, SC_RTC_SEND_ONLY, 0, b->ssrc);
  speak_rtp(&a_up, "unmapped");
  hears(&b_down, a->ssrc, "unmapped");
  sc_srtp_remove_inbound(b_down.srtp, a->ssrc); /* the client's budget is small */
  uint32_t out = 0;
  for (int i = 0; i < 200; i++) {
    out = 0x10000000u + (uint32_t)i;
    ASSERT_EQ(sc_media_post_ssrc_map(media, b_leg, a->ssrc, out), 0);
    sc_media_sync(media);
    speak_rtp(&a_up, "consumed");
    hears(&b_down, out, "consumed");
    sc_srtp_remove_inbound(b_down.srtp, out);
    if (i == 199) break; /* the last stays, for the SR */
    ASSERT_EQ(sc_media_post_ssrc_map(media, b_leg, a->ssrc, 0), 0);
    sc_media_sync(media);
  }
  /* The compound report has an SR from the consumer SSRC, none from a
   * closed consumer's (its SRTP stream is gone; A's own SSRC, sent
   * before the first consumer, may still have one). */
  uint8_t buf[2048];
  int n = 0, found = 0;
  for (int tries = 0; tries < 4 && !found; tries++) {
    speak_rtp(&a_up, "for-the-sr");
    n = recv_rtcp(&b_down, buf, sizeof buf, 1500);
    for (int at = 0; n > 0 && at + 8 <= n; at += 4 * ((buf[at + 2] << 8 | buf[at + 3]) + 1)) {
      uint32_t ssrc = get32(buf + at + 4);
      if (buf[at + 1] != 200) continue;
      ASSERT_TRUE(ssrc == out || ssrc == a->ssrc);
      found |= ssrc == out;
    }
  }
  ASSERT_TRUE(found);

  close_peer(&a_up);
  close_peer(&b_down);
  sc_registry_end_state(reg, a, SC_END_LEFT);
  sc_registry_end_state(reg, b, SC_END_LEFT);
  sc_media_sync(media);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  char err[256];
  if (sc_token_init() != 0 || sc_srtp_global_init() != 0 ||
      sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err) != 0)
    return 1;
  media = sc_media_create("127.0.0.1", 0, 1, NULL);
  ASSERT_TRUE(media != NULL);
  ASSERT_EQ(sc_media_start(media), 0);
  reg = sc_registry_create(media);
  RUN_TEST(test_directions_and_sources);
  RUN_TEST(test_ice_restart_command);
  RUN_TEST(test_consumer_ssrcs);
  sc_registry_destroy(reg);
  sc_media_stop(media);
  sc_media_destroy(media);
  sc_dtls_ctx_free(ctx);
  SC_TEST_DONE();
}
