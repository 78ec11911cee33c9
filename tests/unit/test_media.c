/*
 * The media plane end to end over real UDP sockets on loopback: a real
 * worker thread, real Discord ciphers (dv_crypto) and the Discord datagram
 * handler (IP discovery). Each "client" is a UDP socket plus its own copy
 * of its member's cipher, exactly as a voice client holds its secret key.
 * Covers mixed encryption modes in one room (every legacy mode too), video
 * SSRC aliases, RTCP statistics and member reset.
 */
#include "media_fx.h"

static client_t a, b, c, d;

/* A member's address is kept in 28 bytes (sc_udp_addr_t): both families
 * must survive the copy, compare by address and port, and reach sendmmsg
 * with their own length. */
static void test_compact_addresses(void) {
  ASSERT_EQ(sizeof(sc_udp_addr_t), sizeof(struct sockaddr_in6));
  struct sockaddr_storage v4 = {0}, v6 = {0};
  struct sockaddr_in *a4 = (struct sockaddr_in *)&v4;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&v6;
  a4->sin_family = AF_INET;
  a4->sin_port = htons(5000);
  a4->sin_addr.s_addr = htonl(0x7f000001);
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons(5000);
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::7", &a6->sin6_addr), 1);
  sc_udp_addr_t m4, m6;
  sc_udp_addr_set(&m4, &v4);
  sc_udp_addr_set(&m6, &v6);
  ASSERT_TRUE(sc_udp_addr_equal(&m4, &v4));
  ASSERT_TRUE(sc_udp_addr_equal(&m6, &v6));
  ASSERT_TRUE(!sc_udp_addr_equal(&m4, &v6));
  ASSERT_TRUE(!sc_udp_addr_equal(&m6, &v4));
  ASSERT_MEMEQ(&m6.in6.sin6_addr, &a6->sin6_addr, 16);
  struct sockaddr_storage other = v6;
  ((struct sockaddr_in6 *)&other)->sin6_port = htons(5001);
  ASSERT_TRUE(!sc_udp_addr_equal(&m6, &other));
  other = v6;
  ((struct sockaddr_in6 *)&other)->sin6_addr.s6_addr[15] ^= 1;
  ASSERT_TRUE(!sc_udp_addr_equal(&m6, &other));
  other = v4;
  ((struct sockaddr_in *)&other)->sin_addr.s_addr ^= htonl(1);
  ASSERT_TRUE(!sc_udp_addr_equal(&m4, &other));

  static sc_udp_tx_t tx;
  sc_udp_tx_init(&tx);
  sc_udp_tx_commit(&tx, 10, &m4.sa);
  sc_udp_tx_commit(&tx, 20, &m6.sa);
  ASSERT_EQ(tx.n, 2);
  ASSERT_EQ(tx.msgs[0].msg_hdr.msg_namelen, sizeof(struct sockaddr_in));
  ASSERT_EQ(tx.msgs[1].msg_hdr.msg_namelen, sizeof(struct sockaddr_in6));
  ASSERT_MEMEQ(tx.msgs[1].msg_hdr.msg_name, a6, sizeof *a6);
  ASSERT_EQ(tx.iov[1].iov_len, 20);
}

static void test_setup_and_discovery(void) {
  media = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_TRUE(media != NULL);
  media_port = sc_media_port_for_room(media, 1);
  ASSERT_TRUE(media_port != 0);
  ASSERT_EQ(sc_media_start(media), 0);
  client_init(&a, 0x1111, 1, DV_MODE_AES256_GCM_RTPSIZE);
  client_init(&b, 0x2222, 1, DV_MODE_AES256_GCM_RTPSIZE);
  client_init(&c, 0x3333, 2, DV_MODE_AES256_GCM_RTPSIZE);
  /* A member with another mode shares the room: it gets its own mode. */
  client_init(&d, 0x4444, 1, DV_MODE_XCHACHA20_POLY1305_RTPSIZE);
  client_t *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    discover(all[i]);
    sent++;
  }
  ASSERT_EQ(stats().discovery, 4);
}

static void test_forwarding_per_receiver(void) {
  uint64_t tx = stats().tx_packets;
  speak(&a, "hello from a");
  expect_packet(&b, &a, "hello from a");
  expect_packet(&d, &a, "hello from a"); /* re-encrypted with XChaCha for d */
  expect_nothing(&a);                    /* never echoed */
  expect_nothing(&c);                    /* other channel */
  ASSERT_EQ(stats().tx_packets, tx + 2);
  /* Per-member counters, as the admin state reads them. */
  ASSERT_EQ(atomic_load(&a.stats->rx_packets), 1);
  ASSERT_EQ(atomic_load(&a.stats->tx_packets), 0);
  ASSERT_EQ(atomic_load(&b.stats->tx_packets), 1);
  ASSERT_EQ(atomic_load(&d.stats->tx_packets), 1);
  ASSERT_TRUE(atomic_load(&d.stats->tx_bytes) > strlen("hello from a"));
  speak(&c, "alone in room 2");
  expect_nothing(&a);
  expect_nothing(&b);
  expect_nothing(&d);
  speak(&d, "xchacha speaker");
  expect_packet(&a, &d, "xchacha speaker");
  expect_packet(&b, &d, "xchacha speaker");
}

static void test_bad_auth_dropped(void) {
  uint8_t pkt[2048];
  int n = make_packet(&a, "tampered", pkt, sizeof pkt);
  pkt[14] ^= 0x01; /* a ciphertext bit */
  uint64_t drops = stats().drop_auth, member_drops = atomic_load(&a.stats->drops);
  send_to_media(a.fd, pkt, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_auth, drops + 1);
  ASSERT_EQ(atomic_load(&a.stats->drops), member_drops + 1);
  expect_nothing(&b);
  expect_nothing(&d);
}

static void test_replay_dropped(void) {
  uint8_t pkt[2048];
  int n = make_packet(&a, "once", pkt, sizeof pkt);
  send_to_media(a.fd, pkt, (size_t)n);
  wait_rx(++sent);
  expect_packet(&b, &a, "once");
  expect_packet(&d, &a, "once");
  uint64_t drops = stats().drop_replay;
  send_to_media(a.fd, pkt, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_replay, drops + 1);
  expect_nothing(&b);
}

/* A packet with a's SSRC that does not authenticate under a's key, from
 * another address: dropped as foreign, a keeps its binding. */
static void test_foreign_address_dropped(void) {
  int intruder = loopback_socket();
  uint8_t key[DV_KEY_LEN] = {9};
  client_t fake = {.fd = intruder, .ssrc = a.ssrc, .seq = 500};
  fake.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  uint8_t pkt[2048];
  int n = make_packet(&fake, "wrong key from elsewhere", pkt, sizeof pkt);
  uint64_t drops = stats().drop_foreign_addr, moved = stats().addr_moved;
  uint64_t member_drops = atomic_load(&a.stats->drops);
  send_to_media(intruder, pkt, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_foreign_addr, drops + 1);
  ASSERT_EQ(stats().addr_moved, moved);
  ASSERT_EQ(atomic_load(&a.stats->drops), member_drops); /* not a's */
  expect_nothing(&b);
  speak(&b, "a still hears at home");
  expect_packet(&a, &b, "a still hears at home");
  expect_packet(&d, &b, "a still hears at home");
  uint8_t buf[64];
  ASSERT_EQ(recv_within(intruder, buf, sizeof buf, 50), -1);
  dv_cipher_free(fake.cipher);
  close(intruder);
}

static void test_unknown_and_garbage(void) {
  client_t stranger = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .ssrc = 0x9999};
  uint8_t key[DV_KEY_LEN] = {0};
  stranger.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  uint8_t pkt[2048];
  int n = make_packet(&stranger, "who am i", pkt, sizeof pkt);
  sc_media_stats_t before = stats();
  send_to_media(stranger.fd, pkt, (size_t)n);
  uint8_t req[DV_DISCOVERY_LEN] = {0, 1, 0, 70, 0, 0, 0x99, 0x99};
  send_to_media(stranger.fd, req, sizeof req); /* discovery for an unknown SSRC */
  const uint8_t junk[5] = {1, 2, 3, 4, 5};
  send_to_media(stranger.fd, junk, sizeof junk);
  sent += 3;
  wait_rx(sent);
  sc_media_stats_t after = stats();
  ASSERT_EQ(after.drop_unknown_ssrc, before.drop_unknown_ssrc + 2);
  ASSERT_EQ(after.drop_malformed, before.drop_malformed + 1);
  expect_nothing(&stranger); /* no reply to strangers: not a reflector */
  dv_cipher_free(stranger.cipher);
  close(stranger.fd);
}

static void test_keepalive(void) {
  const uint8_t ka[8] = {7, 0, 0, 0, 0, 0, 0, 0};
  uint64_t k = stats().keepalives;
  send_to_media(a.fd, ka, sizeof ka);
  wait_rx(++sent);
  ASSERT_EQ(stats().keepalives, k + 1);
  expect_nothing(&a);
}

static void test_server_mute_and_deaf(void) {
  sc_member_set_flags(a.stats, SC_MEMBER_MUTED);
  sc_media_sync(media);
  uint64_t muted = stats().drop_muted;
  speak(&a, "muted");
  ASSERT_EQ(stats().drop_muted, muted + 1);
  expect_nothing(&b);
  expect_nothing(&d);
  sc_member_set_flags(a.stats, 0);
  sc_member_set_flags(d.stats, SC_MEMBER_DEAF);
  sc_media_sync(media);
  speak(&a, "d is deaf");
  expect_packet(&b, &a, "d is deaf");
  expect_nothing(&d);
  sc_member_set_flags(d.stats, 0);
  sc_media_sync(media);
  speak(&a, "d hears again");
  expect_packet(&b, &a, "d hears again");
  expect_packet(&d, &a, "d hears again");
}

static void test_no_cipher_and_remove(void) {
  client_t e = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .ssrc = 0x5555, .room = 1};
  uint8_t key[DV_KEY_LEN] = {1};
  e.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  e.stats = sc_member_stats_new();
  ASSERT_EQ(sc_media_post_add(media, 1, e.ssrc, e.stats), 0);
  ASSERT_EQ(sc_media_post_add(media, 1, e.ssrc, e.stats), -EINVAL); /* once per block */
  discover(&e);
  sent++;
  uint64_t nc = stats().drop_no_cipher;
  speak(&e, "before select protocol");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  expect_nothing(&a);
  sc_media_remove(media, e.stats);
  sc_media_remove(media, b.stats);
  sc_media_remove(media, b.stats);  /* a second remove does nothing */
  sc_member_stats_release(e.stats); /* what the registry does right after */
  sc_media_sync(media);
  speak(&a, "b is gone");
  expect_packet(&d, &a, "b is gone");
  expect_nothing(&b);
  dv_cipher_free(e.cipher);
  close(e.fd);
}

/* Members in every mode share room 3: each receives in its own mode. */
static void test_legacy_modes_mixed(void) {
  static client_t m[DV_MODE_COUNT];
  for (int i = 0; i < DV_MODE_COUNT; i++) {
    client_init(&m[i], 0x6000u + (uint32_t)i, 3, (dv_mode_t)i);
    /* Our receive side checks replays per cipher, not per sender: keep
     * the senders' sequence numbers apart for the xsalsa20_poly1305 one. */
    m[i].seq = (uint16_t)(1000 * i);
    discover(&m[i]);
    sent++;
  }
  for (int i = 0; i < DV_MODE_COUNT; i++) {
    char text[64];
    snprintf(text, sizeof text, "spoken in %s", dv_mode_name((dv_mode_t)i));
    speak(&m[i], text);
    for (int j = 0; j < DV_MODE_COUNT; j++) {
      if (j == i)
        expect_nothing(&m[j]);
      else
        expect_packet(&m[j], &m[i], text);
    }
    expect_nothing(&a); /* room 1 hears nothing of room 3 */
  }
  for (int i = 0; i < DV_MODE_COUNT; i++) {
    sc_media_remove(media, m[i].stats);
    dv_cipher_free(m[i].cipher);
    sc_member_stats_release(m[i].stats);
    close(m[i].fd);
  }
  sc_media_sync(media);
}

/* Video: a's extra SSRCs are sealed with a's key and forwarded to every
 * receiver in its own mode, keeping their SSRC and payload type. */
static void test_video_alias(void) {
  const uint32_t video = 0xA11A5, rtx = 0xA11A6;
  ASSERT_EQ(sc_media_post_alias(media, a.stats, video), 0);
  ASSERT_EQ(sc_media_post_alias(media, a.stats, rtx), 0);
  ASSERT_EQ(sc_media_post_alias(media, a.stats, b.ssrc), 0); /* b's own: refused */
  ASSERT_EQ(sc_media_post_alias(media, d.stats, video), 0);  /* a's alias: refused */
  sc_media_sync(media);
  const struct {
    uint32_t ssrc;
    uint8_t pt;
    const char *text;
  } pkts[] = {{video, 0x80 | 101, "VP8 keyframe part"}, {rtx, 102, "RTX retransmission"}};
  for (int i = 0; i < 2; i++) {
    sc_media_pkt_t p = {.marker_pt = pkts[i].pt,
                        .seq = (uint16_t)(7 + i),
                        .timestamp = 90000,
                        .ssrc = pkts[i].ssrc,
                        .payload = (const uint8_t *)pkts[i].text,
                        .payload_len = strlen(pkts[i].text)};
    uint8_t buf[2048];
    int n = dv_cipher_seal(a.cipher, &p, buf, sizeof buf);
    send_to_media(a.fd, buf, (size_t)n);
    wait_rx(++sent);
    expect_media(&b, pkts[i].ssrc, pkts[i].pt, pkts[i].text);
    expect_media(&d, pkts[i].ssrc, pkts[i].pt, pkts[i].text); /* XChaCha for d */
    expect_nothing(&a);
    expect_nothing(&c);
  }
  /* The video SSRC is a's: from d's address (or d's key) it is dropped. */
  sc_media_pkt_t p = {
      .marker_pt = 101, .seq = 9, .ssrc = video, .payload = (const uint8_t *)"x", .payload_len = 1};
  uint8_t buf[2048];
  int n = dv_cipher_seal(d.cipher, &p, buf, sizeof buf);
  uint64_t foreign = stats().drop_foreign_addr;
  send_to_media(d.fd, buf, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_foreign_addr, foreign + 1);
  expect_nothing(&b);
  /* b's own SSRC was not taken over: b still speaks as itself. */
  speak(&b, "still b");
  expect_packet(&a, &b, "still b");
  expect_packet(&d, &b, "still b");
}

/* An XChaCha RTCP packet from d: 8-byte clear header (AAD), then the
 * encrypted rest, tag, nonce counter. */
static size_t rtcp_from(const client_t *c, const uint8_t *rtcp, size_t len, uint32_t ctr,
                        uint8_t *out) {
  uint8_t nonce[24] = {(uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8),
                       (uint8_t)ctr};
  memcpy(out, rtcp, 8);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out + 8, out + len, NULL, rtcp + 8, len - 8,
                                                      rtcp, 8, NULL, nonce, c->key);
  memcpy(out + len + 16, nonce, 4);
  return len + 20;
}

static void test_rtcp_counted_not_forwarded(void) {
  /* RR from d with two report blocks: 10/256 and 40/256 lost, jitter
   * 96 and 480, cumulative 3 and 5. */
  uint8_t rr[8 + 48] = {0x82, 201, 0, 13};
  rr[4] = (uint8_t)(d.ssrc >> 24), rr[5] = (uint8_t)(d.ssrc >> 16);
  rr[6] = (uint8_t)(d.ssrc >> 8), rr[7] = (uint8_t)d.ssrc;
  const uint8_t frac[2] = {10, 40}, lost[2] = {3, 5};
  const uint16_t jitter[2] = {96, 480};
  for (int i = 0; i < 2; i++) {
    uint8_t *blk = rr + 8 + 24 * i;
    blk[3] = (uint8_t)(0x11 + i);
    blk[4] = frac[i], blk[7] = lost[i];
    blk[14] = (uint8_t)(jitter[i] >> 8), blk[15] = (uint8_t)jitter[i];
  }
  uint8_t pkt[128];
  size_t n = rtcp_from(&d, rr, sizeof rr, 77, pkt);
  uint64_t rtcp = stats().rx_rtcp, tx = stats().tx_packets;
  send_to_media(d.fd, pkt, n);
  wait_rx(++sent);
  ASSERT_EQ(stats().rx_rtcp, rtcp + 1);
  ASSERT_EQ(stats().tx_packets, tx); /* never forwarded */
  expect_nothing(&a);
  expect_nothing(&b);
  ASSERT_EQ(atomic_load(&d.stats->rx_rtcp), 1);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_rr), 1);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_sr), 0);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_sources), 2);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_fraction_lost), 40);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_cumulative_lost), 8);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_jitter), 480);
  /* Authentic but malformed (RC 3 with room for 2): counted as such. */
  rr[0] = 0x83;
  n = rtcp_from(&d, rr, sizeof rr, 78, pkt);
  send_to_media(d.fd, pkt, n);
  wait_rx(++sent);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_malformed), 1);
  ASSERT_EQ(atomic_load(&d.stats->rtcp_fraction_lost), 40); /* kept */
}

/* Deferred wake-ups (what the server's control loop does): a command only
 * marks its worker as owed a wake-up until the flush, and a command
 * posted before a datagram is applied before that datagram even when no
 * wake-up was written for it. */
static void test_deferred_wakeups(void) {
  sc_media_defer_wakeups(media, 1);
  ASSERT_EQ(sc_media_flush_wakeups(media), 0);
  sc_member_set_flags(a.stats, SC_MEMBER_MUTED); /* not a command: nothing owed */
  ASSERT_EQ(sc_media_flush_wakeups(media), 0);
  uint64_t muted = stats().drop_muted;
  speak(&a, "muted without a command");
  ASSERT_EQ(stats().drop_muted, muted + 1);
  expect_nothing(&d);
  sc_member_set_flags(a.stats, 0);
  new_cipher(&d);
  ASSERT_EQ(sc_media_flush_wakeups(media), 1); /* one worker, one write */
  ASSERT_EQ(sc_media_flush_wakeups(media), 0);
  speak(&a, "to d's new key, flushed");
  expect_packet(&d, &a, "to d's new key, flushed");
  new_cipher(&d); /* not flushed */
  speak(&a, "under the key posted before it");
  expect_packet(&d, &a, "under the key posted before it");
  sc_media_defer_wakeups(media, 0); /* flushes what is owed */
  ASSERT_EQ(sc_media_flush_wakeups(media), 0);
}

/* A new client takes a over: old address, key and aliases are gone until
 * it discovers and selects again. */
static void test_reset(void) {
  sc_media_reset(media, a.stats);
  sc_media_sync(media);
  uint64_t nc = stats().drop_no_cipher;
  speak(&a, "after reset, under the old key");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  expect_nothing(&d);
  uint8_t buf[2048];
  sc_media_pkt_t p = {.marker_pt = 101,
                      .seq = 1,
                      .ssrc = 0xA11A5,
                      .payload = (const uint8_t *)"v",
                      .payload_len = 1};
  int n = dv_cipher_seal(a.cipher, &p, buf, sizeof buf);
  uint64_t unknown = stats().drop_unknown_ssrc;
  send_to_media(a.fd, buf, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_unknown_ssrc, unknown + 1); /* alias dropped too */
  discover(&a);
  sent++;
  nc = stats().drop_no_cipher;
  speak(&a, "no key yet");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  new_cipher(&a);
  sc_media_sync(media);
  speak(&a, "new key");
  expect_packet(&d, &a, "new key");
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_compact_addresses);
  RUN_TEST(test_setup_and_discovery);
  RUN_TEST(test_forwarding_per_receiver);
  RUN_TEST(test_bad_auth_dropped);
  RUN_TEST(test_replay_dropped);
  RUN_TEST(test_foreign_address_dropped);
  RUN_TEST(test_unknown_and_garbage);
  RUN_TEST(test_keepalive);
  RUN_TEST(test_server_mute_and_deaf);
  RUN_TEST(test_legacy_modes_mixed);
  RUN_TEST(test_video_alias);
  RUN_TEST(test_rtcp_counted_not_forwarded);
  RUN_TEST(test_no_cipher_and_remove);
  RUN_TEST(test_deferred_wakeups);
  RUN_TEST(test_reset);
  sc_media_destroy(media);
  client_t *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    dv_cipher_free(all[i]->cipher);
    sc_member_stats_release(all[i]->stats); /* the worker released its own */
    close(all[i]->fd);
  }
  SC_TEST_DONE();
}
