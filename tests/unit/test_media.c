/*
 * The media plane end to end over real UDP sockets on loopback: a real
 * worker thread, real Discord ciphers (dv_crypto) and the Discord datagram
 * handler (IP discovery). Each "client" is a UDP socket plus its own copy
 * of its member's cipher, exactly as a voice client holds its secret key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

#include "dv_crypto.h"
#include "dv_discovery.h"
#include "sc_media.h"
#include "sc_test.h"
#include "sc_token.h"

typedef struct {
  int fd;
  uint32_t ssrc;
  uint64_t room;
  dv_cipher_t *cipher; /* the client's side of the member's key */
  sc_member_stats_t *stats;
  uint16_t seq;
} client_t;

static sc_media_t *media;
static uint16_t media_port;

static void client_init(client_t *c, uint32_t ssrc, uint64_t room, dv_mode_t mode) {
  c->fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(bind(c->fd, (struct sockaddr *)&a, sizeof a), 0);
  c->ssrc = ssrc;
  c->room = room;
  uint8_t key[DV_KEY_LEN];
  sc_token_random(key, sizeof key);
  c->cipher = dv_cipher_new(mode, key);
  ASSERT_TRUE(c->cipher != NULL);
  c->stats = sc_member_stats_new();
  ASSERT_EQ(sc_media_post_add(media, room, ssrc, c->stats), 0);
  ASSERT_EQ(sc_media_post_cipher(media, room, ssrc, &dv_cipher_ops, dv_cipher_new(mode, key)), 0);
}

static void send_to_media(int fd, const uint8_t *buf, size_t len) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(media_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to), (long long)len);
}

/* Receives one datagram within timeout_ms; returns its length or -1. */
static int recv_within(int fd, uint8_t *buf, size_t cap, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0) return -1;
  return (int)recv(fd, buf, cap, 0);
}

static sc_media_stats_t stats(void) {
  sc_media_stats_t s;
  sc_media_get_stats(media, &s);
  return s;
}

/* Waits until the worker has read `n` datagrams in total and finished
 * that batch (a sync command is applied only between batches), so that
 * anything it would send for them has been sent and counted. */
static void wait_rx(uint64_t n) {
  for (int i = 0; i < 400 && stats().rx_datagrams < n; i++) usleep(5000);
  ASSERT_EQ(stats().rx_datagrams, n);
  sc_media_sync(media);
}

static void discover(client_t *c) {
  uint8_t req[DV_DISCOVERY_LEN] = {0, 1, 0, 70};
  req[4] = (uint8_t)(c->ssrc >> 24), req[5] = (uint8_t)(c->ssrc >> 16);
  req[6] = (uint8_t)(c->ssrc >> 8), req[7] = (uint8_t)c->ssrc;
  send_to_media(c->fd, req, sizeof req);
  uint8_t resp[128];
  int n = recv_within(c->fd, resp, sizeof resp, 2000);
  ASSERT_EQ(n, DV_DISCOVERY_LEN);
  uint32_t ssrc;
  char ip[64];
  uint16_t port;
  ASSERT_EQ(dv_discovery_parse_response(resp, (size_t)n, &ssrc, ip, sizeof ip, &port), 0);
  struct sockaddr_in self;
  socklen_t sl = sizeof self;
  getsockname(c->fd, (struct sockaddr *)&self, &sl);
  ASSERT_EQ(ssrc, c->ssrc);
  ASSERT_STREQ(ip, "127.0.0.1");
  ASSERT_EQ(port, ntohs(self.sin_port));
  sc_media_sync(media); /* the reply's batch is finished and counted */
}

/* Builds an RTP packet from c carrying `payload`, as its client would. */
static int make_packet(client_t *c, const char *payload, uint8_t *out, size_t cap) {
  sc_media_pkt_t p = {.marker_pt = 120, .seq = ++c->seq, .timestamp = 960u * c->seq,
                      .ssrc = c->ssrc, .payload = (const uint8_t *)payload,
                      .payload_len = strlen(payload)};
  int n = dv_cipher_seal(c->cipher, &p, out, cap);
  ASSERT_TRUE(n > 0);
  return n;
}

/* Expects exactly `payload` from `sender`, decrypted under rx's key. */
static void expect_packet(client_t *rx, const client_t *sender, const char *payload) {
  uint8_t buf[2048], plain[2048];
  int n = recv_within(rx->fd, buf, sizeof buf, 2000);
  ASSERT_TRUE(n > 0);
  sc_media_pkt_t p;
  ASSERT_EQ(dv_cipher_open(rx->cipher, buf, (size_t)n, plain, sizeof plain, &p), 0);
  ASSERT_EQ(p.ssrc, sender->ssrc);
  ASSERT_EQ(p.seq, sender->seq);
  ASSERT_EQ(p.payload_len, strlen(payload));
  ASSERT_MEMEQ(p.payload, payload, p.payload_len);
}

static void expect_nothing(client_t *rx) {
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(rx->fd, buf, sizeof buf, 50), -1);
}

static client_t a, b, c, d;
static uint64_t sent; /* datagrams sent to the media plane so far */

static void speak(client_t *from, const char *payload) {
  uint8_t pkt[2048];
  int n = make_packet(from, payload, pkt, sizeof pkt);
  send_to_media(from->fd, pkt, (size_t)n);
  wait_rx(++sent);
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
  expect_nothing(&a);                     /* never echoed */
  expect_nothing(&c);                     /* other channel */
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

static void test_foreign_address_dropped(void) {
  int intruder = socket(AF_INET, SOCK_DGRAM, 0);
  uint8_t pkt[2048];
  int n = make_packet(&a, "valid but from elsewhere", pkt, sizeof pkt);
  uint64_t drops = stats().drop_foreign_addr;
  send_to_media(intruder, pkt, (size_t)n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_foreign_addr, drops + 1);
  expect_nothing(&b);
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
  ASSERT_EQ(sc_media_post_flags(media, 1, a.ssrc, SC_MEMBER_MUTED), 0);
  sc_media_sync(media);
  uint64_t muted = stats().drop_muted;
  speak(&a, "muted");
  ASSERT_EQ(stats().drop_muted, muted + 1);
  expect_nothing(&b);
  expect_nothing(&d);
  ASSERT_EQ(sc_media_post_flags(media, 1, a.ssrc, 0), 0);
  ASSERT_EQ(sc_media_post_flags(media, 1, d.ssrc, SC_MEMBER_DEAF), 0);
  sc_media_sync(media);
  speak(&a, "d is deaf");
  expect_packet(&b, &a, "d is deaf");
  expect_nothing(&d);
  ASSERT_EQ(sc_media_post_flags(media, 1, d.ssrc, 0), 0);
  sc_media_sync(media);
  speak(&a, "d hears again");
  expect_packet(&b, &a, "d hears again");
  expect_packet(&d, &a, "d hears again");
}

static void test_no_cipher_and_remove(void) {
  client_t e = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .ssrc = 0x5555, .room = 1};
  uint8_t key[DV_KEY_LEN] = {1};
  e.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  ASSERT_EQ(sc_media_post_add(media, 1, e.ssrc, NULL), 0);
  discover(&e);
  sent++;
  uint64_t nc = stats().drop_no_cipher;
  speak(&e, "before select protocol");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  expect_nothing(&a);
  ASSERT_EQ(sc_media_post_remove(media, 1, e.ssrc), 0);
  ASSERT_EQ(sc_media_post_remove(media, 1, b.ssrc), 0);
  sc_media_sync(media);
  speak(&a, "b is gone");
  expect_packet(&d, &a, "b is gone");
  expect_nothing(&b);
  dv_cipher_free(e.cipher);
  close(e.fd);
}

int main(void) {
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_setup_and_discovery);
  RUN_TEST(test_forwarding_per_receiver);
  RUN_TEST(test_bad_auth_dropped);
  RUN_TEST(test_replay_dropped);
  RUN_TEST(test_foreign_address_dropped);
  RUN_TEST(test_unknown_and_garbage);
  RUN_TEST(test_keepalive);
  RUN_TEST(test_server_mute_and_deaf);
  RUN_TEST(test_no_cipher_and_remove);
  sc_media_destroy(media);
  client_t *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    dv_cipher_free(all[i]->cipher);
    sc_member_stats_release(all[i]->stats); /* the worker released its own */
    close(all[i]->fd);
  }
  SC_TEST_DONE();
}
