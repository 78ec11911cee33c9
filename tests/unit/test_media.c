/*
 * The media plane end to end over real UDP sockets on loopback: a real
 * worker thread, real Discord ciphers (dv_crypto) and the Discord datagram
 * handler (IP discovery). Each "client" is a UDP socket plus its own copy
 * of its member's cipher, exactly as a voice client holds its secret key.
 * Covers mixed encryption modes in one room (every legacy mode too), video
 * SSRC aliases, RTCP statistics and member reset.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdatomic.h>
#include <unistd.h>

#include "dv_crypto.h"
#include "dv_discovery.h"
#include "sc_media.h"
#include "sc_test.h"
#include "sc_token.h"
#include "sc_udp.h"

typedef struct {
  int fd;
  uint32_t ssrc;
  uint64_t room;
  dv_cipher_t *cipher; /* the client's side of the member's key */
  uint8_t key[DV_KEY_LEN];
  dv_mode_t mode;
  sc_member_stats_t *stats;
  uint16_t seq;
} client_t;

static sc_media_t *media;
static uint16_t media_port;

static struct sockaddr_storage local_addr(int fd) {
  struct sockaddr_storage ss = {0};
  socklen_t sl = sizeof ss;
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
  return ss;
}

/* What Select Protocol does with the address discovery told the client. */
static void hint_self(client_t *c) {
  struct sockaddr_storage self = local_addr(c->fd);
  ASSERT_EQ(sc_media_post_peer_hint(media, c->stats, &self), 0);
}

/* A member with its key installed but no address: it has not sent yet and
 * named none in Select Protocol. */
static void client_setup(client_t *c, uint32_t ssrc, uint64_t room, dv_mode_t mode) {
  c->fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(bind(c->fd, (struct sockaddr *)&a, sizeof a), 0);
  c->ssrc = ssrc;
  c->room = room;
  c->mode = mode;
  sc_token_random(c->key, sizeof c->key);
  c->cipher = dv_cipher_new(mode, c->key);
  ASSERT_TRUE(c->cipher != NULL);
  c->stats = sc_member_stats_new();
  ASSERT_EQ(sc_media_post_add(media, room, ssrc, c->stats), 0);
  ASSERT_EQ(sc_media_post_cipher(media, c->stats, &dv_cipher_ops, dv_cipher_new(mode, c->key)), 0);
}

/* ... and with its own address named in Select Protocol, as clients do. */
static void client_init(client_t *c, uint32_t ssrc, uint64_t room, dv_mode_t mode) {
  client_setup(c, ssrc, room, mode);
  hint_self(c);
}

static int loopback_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* A new key for the member (what Select Protocol does). */
static void new_cipher(client_t *c) {
  dv_cipher_free(c->cipher);
  sc_token_random(c->key, sizeof c->key);
  c->cipher = dv_cipher_new(c->mode, c->key);
  ASSERT_EQ(sc_media_post_cipher(media, c->stats, &dv_cipher_ops, dv_cipher_new(c->mode, c->key)),
            0);
}

static void send_to_media(int fd, const uint8_t *buf, size_t len) {
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(media_port),
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
  sc_media_pkt_t p = {.marker_pt = 120,
                      .seq = ++c->seq,
                      .timestamp = 960u * c->seq,
                      .ssrc = c->ssrc,
                      .payload = (const uint8_t *)payload,
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

/* Expects a packet under `ssrc` with payload type byte `pt`. */
static void expect_media(client_t *rx, uint32_t ssrc, uint8_t pt, const char *payload) {
  uint8_t buf[2048], plain[2048];
  int n = recv_within(rx->fd, buf, sizeof buf, 2000);
  ASSERT_TRUE(n > 0);
  sc_media_pkt_t p;
  ASSERT_EQ(dv_cipher_open(rx->cipher, buf, (size_t)n, plain, sizeof plain, &p), 0);
  ASSERT_EQ(p.ssrc, ssrc);
  ASSERT_EQ(p.marker_pt, pt);
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

/* ---- destinations and address binding ----------------------------------- */

static struct sockaddr_storage v4(const char *ip, uint16_t port) {
  struct sockaddr_storage ss = {0};
  struct sockaddr_in *a = (struct sockaddr_in *)&ss;
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  ASSERT_EQ(inet_pton(AF_INET, ip, &a->sin_addr), 1);
  return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port) {
  struct sockaddr_storage ss = {0};
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  ASSERT_EQ(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
  return ss;
}

static void test_addr_usable(void) {
  struct sockaddr_storage ok[] = {v4("127.0.0.1", 5000),        v4("10.1.2.255", 5000),
                                  v4("223.255.255.254", 1),     v6("2001:db8::7", 5000),
                                  v6("::ffff:192.0.2.1", 5000), v6("::1", 9)};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) ASSERT_TRUE(sc_udp_addr_usable(&ok[i]));
  struct sockaddr_storage bad[] = {v4("255.255.255.255", 5000),
                                   v4("224.0.0.1", 5000),
                                   v4("239.1.2.3", 5000),
                                   v4("0.0.0.0", 5000),
                                   v4("127.0.0.1", 0),
                                   v6("ff02::1", 5000),
                                   v6("::", 5000),
                                   v6("2001:db8::7", 0),
                                   v6("::ffff:255.255.255.255", 5000),
                                   v6("::ffff:239.1.2.3", 5000),
                                   v6("::ffff:0.0.0.0", 5000)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ASSERT_TRUE(!sc_udp_addr_usable(&bad[i]));
  struct sockaddr_storage unix_family = {.ss_family = AF_UNIX};
  ASSERT_TRUE(!sc_udp_addr_usable(&unix_family));
}

/* One slot of a batch goes to the limited broadcast address (the socket
 * has no SO_BROADCAST: EACCES) and one to port 0 (EINVAL): each costs its
 * own packet only, every other copy arrives. */
static void test_udp_flush_skips_bad_slot(void) {
  int tx_fd = loopback_socket(), rx_fd = loopback_socket();
  struct sockaddr_storage to = local_addr(rx_fd);
  struct sockaddr_storage bcast = v4("255.255.255.255", 9), port0 = v4("127.0.0.1", 0);
  static sc_udp_tx_t tx;
  sc_udp_tx_init(&tx);
  for (int i = 0; i < 8; i++) {
    const struct sockaddr_storage *dst = i == 3 ? &bcast : i == 6 ? &port0 : &to;
    tx.bufs[tx.n][0] = (uint8_t)i;
    sc_udp_tx_commit(&tx, 1, (const struct sockaddr *)dst);
  }
  sc_udp_sent_t r = sc_udp_tx_flush(&tx, tx_fd);
  ASSERT_EQ(r.sent, 6);
  ASSERT_EQ(r.bytes, 6);
  ASSERT_EQ(r.dest_refused, 1);
  ASSERT_EQ(r.other_dest, 1);
  ASSERT_EQ(r.unreachable, 0);
  ASSERT_EQ(r.socket_full, 0);
  ASSERT_EQ(r.failed, 2);
  ASSERT_EQ(tx.n, 0);
  const int want[] = {0, 1, 2, 4, 5, 7};
  for (int i = 0; i < 6; i++) {
    uint8_t b[8];
    ASSERT_EQ(recv_within(rx_fd, b, sizeof b, 1000), 1);
    ASSERT_EQ(b[0], want[i]);
  }
  ASSERT_EQ(sc_udp_err_kind(EAGAIN), SC_UDP_ERR_SOCKET);
  ASSERT_EQ(sc_udp_err_kind(ENOBUFS), SC_UDP_ERR_SOCKET);
  ASSERT_EQ(sc_udp_err_kind(EHOSTUNREACH), SC_UDP_ERR_UNREACHABLE);
  ASSERT_EQ(sc_udp_err_kind(EMSGSIZE), SC_UDP_ERR_OTHER_DEST);
  close(tx_fd);
  close(rx_fd);
}

static client_t f, g;

/* Room 4: f has a key but no address, g speaks. A roommate (or anyone)
 * asking discovery for f's SSRC gets its own address back and binds
 * nothing; f's first authenticated datagram binds f. */
static void test_discovery_binds_nothing(void) {
  client_setup(&f, 0x7001, 4, DV_MODE_AES256_GCM_RTPSIZE);
  client_init(&g, 0x7002, 4, DV_MODE_XCHACHA20_POLY1305_RTPSIZE);
  client_t thief = f;
  thief.fd = loopback_socket();
  discover(&thief); /* answered: it learns its own address */
  sent++;
  speak(&g, "not for the thief");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(thief.fd, buf, sizeof buf, 50), -1);
  expect_nothing(&f); /* f has no address yet */
  discover(&f);
  sent++;
  speak(&g, "still nobody bound");
  expect_nothing(&f);
  uint64_t moved = stats().addr_moved;
  speak(&f, "f binds");
  expect_packet(&g, &f, "f binds");
  ASSERT_EQ(stats().addr_moved, moved); /* a first binding is not a move */
  speak(&g, "f hears");
  expect_packet(&f, &g, "f hears");
  ASSERT_EQ(recv_within(thief.fd, buf, sizeof buf, 50), -1);
  close(thief.fd);
}

/* f's NAT gives it a new port: its next authenticated packet moves the
 * binding (counted), the old port hears nothing more. */
static void test_rebinding(void) {
  int old_fd = f.fd;
  f.fd = loopback_socket();
  uint64_t moved = stats().addr_moved;
  speak(&f, "from the new port");
  expect_packet(&g, &f, "from the new port");
  ASSERT_EQ(stats().addr_moved, moved + 1);
  speak(&g, "to the new port");
  expect_packet(&f, &g, "to the new port");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(old_fd, buf, sizeof buf, 50), -1);
  close(old_fd);
}

/* From a third address: a packet under the wrong key and a replay of one
 * of f's own packets move nothing and are not held against f. */
static void test_forged_and_replayed_move_nothing(void) {
  uint8_t own[2048];
  int own_n = make_packet(&f, "captured", own, sizeof own);
  send_to_media(f.fd, own, (size_t)own_n);
  wait_rx(++sent);
  expect_packet(&g, &f, "captured");
  int third = loopback_socket();
  uint8_t key[DV_KEY_LEN] = {7};
  client_t forger = {.fd = third, .ssrc = f.ssrc, .seq = (uint16_t)(f.seq + 1)};
  forger.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  uint8_t forged[2048];
  int forged_n = make_packet(&forger, "forged", forged, sizeof forged);
  sc_media_stats_t before = stats();
  uint64_t member_drops = atomic_load(&f.stats->drops);
  send_to_media(third, forged, (size_t)forged_n);
  send_to_media(third, own, (size_t)own_n); /* replay */
  sent += 2;
  wait_rx(sent);
  sc_media_stats_t after = stats();
  ASSERT_EQ(after.drop_foreign_addr, before.drop_foreign_addr + 2);
  ASSERT_EQ(after.addr_moved, before.addr_moved);
  ASSERT_EQ(atomic_load(&f.stats->drops), member_drops);
  expect_nothing(&g);
  speak(&g, "f still here");
  expect_packet(&f, &g, "f still here");
  speak(&f, "and heard here");
  expect_packet(&g, &f, "and heard here");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(third, buf, sizeof buf, 50), -1);
  /* The same replay from f's own address is f's: counted as a replay. */
  send_to_media(f.fd, own, (size_t)own_n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_replay, after.drop_replay + 1);
  dv_cipher_free(forger.cipher);
  close(third);
}

/* A receive-only client hears the room at its Select Protocol address
 * until its first authenticated datagram binds the one it sends from; a
 * later hint does not move a binding. */
static void test_hint_until_bound(void) {
  static client_t h;
  client_init(&h, 0x7003, 4, DV_MODE_AES256_GCM_RTPSIZE); /* hint: h.fd */
  sc_media_sync(media);
  speak(&g, "to the hint");
  expect_packet(&h, &g, "to the hint");
  expect_packet(&f, &g, "to the hint");
  int hinted = h.fd;
  h.fd = loopback_socket();
  speak(&h, "h speaks from elsewhere");
  expect_packet(&g, &h, "h speaks from elsewhere");
  expect_packet(&f, &h, "h speaks from elsewhere");
  struct sockaddr_storage back = local_addr(hinted);
  ASSERT_EQ(sc_media_post_peer_hint(media, h.stats, &back), 0); /* too late: ignored */
  sc_media_sync(media);
  speak(&g, "to the bound address");
  expect_packet(&h, &g, "to the bound address");
  expect_packet(&f, &g, "to the bound address");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(hinted, buf, sizeof buf, 50), -1);
  sc_media_remove(media, h.stats);
  sc_member_stats_release(h.stats);
  dv_cipher_free(h.cipher);
  close(h.fd);
  close(hinted);
  sc_media_sync(media);
}

/* Hints that can never be destinations are refused and counted; the
 * member is not sent to, and no send error happens for it. */
static void test_bad_hints_refused(void) {
  static client_t k;
  client_setup(&k, 0x7004, 4, DV_MODE_AES256_GCM_RTPSIZE);
  struct sockaddr_storage bad[] = {v4("255.255.255.255", 5000), v4("239.1.2.3", 5000),
                                   v4("0.0.0.0", 5000), v4("127.0.0.1", 0), v6("ff02::1", 5000)};
  sc_media_stats_t before = stats();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_EQ(sc_media_post_peer_hint(media, k.stats, &bad[i]), -EINVAL);
  sc_media_sync(media);
  speak(&g, "nobody at a bad address");
  expect_packet(&f, &g, "nobody at a bad address");
  sc_media_stats_t after = stats();
  ASSERT_EQ(after.hint_refused, before.hint_refused + 5);
  ASSERT_EQ(after.send_errors, before.send_errors);
  ASSERT_EQ(atomic_load(&k.stats->tx_packets), 0);
  sc_media_remove(media, k.stats);
  sc_member_stats_release(k.stats);
  dv_cipher_free(k.cipher);
  close(k.fd);
}

/* Reset then remove: both are posted without allocating (they cannot
 * fail), and a removed member neither sends nor receives. */
static void test_reset_and_remove_cannot_fail(void) {
  sc_media_reset(media, g.stats);
  sc_media_reset(media, g.stats); /* twice before the worker runs: one node */
  sc_media_sync(media);
  uint64_t nc = stats().drop_no_cipher;
  speak(&g, "old key after reset");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  expect_nothing(&f);
  new_cipher(&g);
  hint_self(&g);
  sc_media_sync(media);
  speak(&g, "g is back");
  expect_packet(&f, &g, "g is back");
  sc_media_remove(media, f.stats);
  sc_media_sync(media);
  speak(&g, "f is gone");
  expect_nothing(&f);
  uint64_t unknown = stats().drop_unknown_ssrc;
  speak(&f, "from a removed member");
  ASSERT_EQ(stats().drop_unknown_ssrc, unknown + 1);
  expect_nothing(&g);
  sc_media_remove(media, g.stats);
  client_t *room4[] = {&f, &g};
  for (int i = 0; i < 2; i++) {
    sc_member_stats_release(room4[i]->stats);
    dv_cipher_free(room4[i]->cipher);
    close(room4[i]->fd);
  }
  sc_media_sync(media);
}

/* A key posted for a client that was replaced before the worker got to
 * it never becomes live. A media plane that is not started applies its
 * commands in sc_media_sync, so the order is exact: reset (the node is
 * queued), the new client's cipher, another reset (the node is still
 * queued, only the generation moves). */
static void test_stale_cipher_discarded(void) {
  sc_media_t *m2 = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_TRUE(m2 != NULL);
  sc_member_stats_t *x = sc_member_stats_new(), *y = sc_member_stats_new();
  uint8_t kx[DV_KEY_LEN] = {1}, ky[DV_KEY_LEN] = {2}, stale[DV_KEY_LEN] = {3};
  ASSERT_EQ(sc_media_post_add(m2, 9, 0x9001, x), 0);
  ASSERT_EQ(sc_media_post_add(m2, 9, 0x9002, y), 0);
  ASSERT_EQ(
      sc_media_post_cipher(m2, x, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, kx)),
      0);
  sc_media_reset(m2, x);
  ASSERT_EQ(
      sc_media_post_cipher(m2, x, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, stale)),
      0);
  sc_media_reset(m2, x);
  ASSERT_EQ(
      sc_media_post_cipher(m2, y, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, ky)),
      0);
  sc_media_sync(m2);
  sc_media_stats_t st;
  sc_media_get_stats(m2, &st);
  ASSERT_EQ(st.cmd_stale, 2); /* both of x's keys: each was posted before a reset */
  ASSERT_EQ(sc_media_start(m2), 0);
  /* x speaks under the stale key: no key is live for x. */
  client_t cx = {.fd = loopback_socket(), .ssrc = 0x9001};
  cx.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, stale);
  client_t cy = {.fd = loopback_socket(), .ssrc = 0x9002};
  cy.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, ky);
  uint8_t pkt[2048];
  int n = make_packet(&cx, "stale key", pkt, sizeof pkt);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(sc_media_port_for_room(m2, 9)),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(sendto(cx.fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
  n = make_packet(&cy, "y binds", pkt, sizeof pkt);
  ASSERT_EQ(sendto(cy.fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
  for (int i = 0; i < 400; i++) {
    sc_media_get_stats(m2, &st);
    if (st.rx_datagrams >= 2) break;
    usleep(5000);
  }
  sc_media_sync(m2);
  sc_media_get_stats(m2, &st);
  ASSERT_EQ(st.rx_datagrams, 2);
  ASSERT_EQ(st.drop_no_cipher, 1);
  ASSERT_EQ(st.rx_rtp, 1);
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(cx.fd, buf, sizeof buf, 50), -1);
  sc_media_destroy(m2);
  sc_member_stats_release(x);
  sc_member_stats_release(y);
  dv_cipher_free(cx.cipher);
  dv_cipher_free(cy.cipher);
  close(cx.fd);
  close(cy.fd);
}

/* ---- in force at once, mid-batch ------------------------------------------ */

/* A datagram handler that holds the worker inside a receive batch on a
 * 5-byte "HOLD!" datagram until the test lets it go: whatever the test
 * does meanwhile (remove, reset) meets the rest of that batch before the
 * worker can apply any queued command. */
static sem_t held, let_go;

static int holding_handler(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  if (len == 5 && memcmp(buf, "HOLD!", 5) == 0) {
    sem_post(&held);
    while (sem_wait(&let_go) < 0 && errno == EINTR) {
    }
    return 0;
  }
  return dv_udp_on_datagram(w, buf, len, from, reply, cap);
}

typedef struct {
  sc_media_t *m;
  struct sockaddr_in to;
  int hold_fd;
  uint64_t sent;
} holder_t;

static void h_send(holder_t *h, int fd, const uint8_t *buf, size_t len) {
  ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&h->to, sizeof h->to), (long long)len);
  h->sent++;
}

static void h_wait(holder_t *h) {
  sc_media_stats_t st;
  for (int i = 0; i < 400; i++) {
    sc_media_get_stats(h->m, &st);
    if (st.rx_datagrams >= h->sent) break;
    usleep(5000);
  }
  sc_media_get_stats(h->m, &st);
  ASSERT_EQ(st.rx_datagrams, h->sent);
}

/* Holds the worker on HOLD! #1, queues HOLD! #2 and `pkt` behind it (read
 * together in the next batch), holds on #2, runs `act`, lets go: `pkt` is
 * handled after `act` and before any command queued by it is applied. */
static void mid_batch(holder_t *h, int fd, const uint8_t *pkt, size_t len,
                      void (*act)(sc_member_stats_t *), sc_member_stats_t *arg) {
  h_send(h, h->hold_fd, (const uint8_t *)"HOLD!", 5);
  ASSERT_EQ(sem_wait(&held), 0);
  h_send(h, h->hold_fd, (const uint8_t *)"HOLD!", 5);
  h_send(h, fd, pkt, len);
  usleep(20000); /* both are in the socket before the worker reads again */
  sem_post(&let_go);
  ASSERT_EQ(sem_wait(&held), 0);
  act(arg);
  sem_post(&let_go);
  h_wait(h);
}

static sc_media_t *holder_media;
static void act_remove(sc_member_stats_t *mb) {
  sc_media_remove(holder_media, mb);
}
static void act_reset(sc_member_stats_t *mb) {
  sc_media_reset(holder_media, mb);
}

/* Remove and reset take effect on the very next packet, even one in the
 * batch the worker is in the middle of: a removed receiver gets nothing, a
 * removed sender is not forwarded, a reset sender's old key is dead. */
static void test_in_force_at_once(void) {
  sem_init(&held, 0, 0);
  sem_init(&let_go, 0, 0);
  holder_t h = {.m = sc_media_create("127.0.0.1", 0, 1, holding_handler)};
  ASSERT_TRUE(h.m != NULL);
  holder_media = h.m;
  h.to = (struct sockaddr_in){.sin_family = AF_INET,
                              .sin_port = htons(sc_media_port_for_room(h.m, 5)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  h.hold_fd = loopback_socket();
  client_t x = {.fd = loopback_socket(), .ssrc = 0x5001, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t y = {.fd = loopback_socket(), .ssrc = 0x5002, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t z = {.fd = loopback_socket(), .ssrc = 0x5003, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t *all[] = {&x, &y, &z};
  for (int i = 0; i < 3; i++) {
    client_t *c = all[i];
    sc_token_random(c->key, sizeof c->key);
    c->cipher = dv_cipher_new(c->mode, c->key);
    c->stats = sc_member_stats_new();
    ASSERT_EQ(sc_media_post_add(h.m, 5, c->ssrc, c->stats), 0);
    ASSERT_EQ(sc_media_post_cipher(h.m, c->stats, &dv_cipher_ops, dv_cipher_new(c->mode, c->key)),
              0);
    struct sockaddr_storage self = local_addr(c->fd);
    ASSERT_EQ(sc_media_post_peer_hint(h.m, c->stats, &self), 0);
  }
  ASSERT_EQ(sc_media_start(h.m), 0);
  uint8_t pkt[2048];
  int n = make_packet(&x, "before", pkt, sizeof pkt);
  h_send(&h, x.fd, pkt, (size_t)n);
  h_wait(&h);
  expect_packet(&y, &x, "before");
  expect_packet(&z, &x, "before");
  /* y removed while x's packet waits in the batch: z only. */
  n = make_packet(&x, "y is gone", pkt, sizeof pkt);
  mid_batch(&h, x.fd, pkt, (size_t)n, act_remove, y.stats);
  expect_packet(&z, &x, "y is gone");
  expect_nothing(&y);
  /* z reset while its packet under the old key waits: dropped. */
  sc_media_stats_t before;
  sc_media_get_stats(h.m, &before);
  n = make_packet(&z, "old key", pkt, sizeof pkt);
  mid_batch(&h, z.fd, pkt, (size_t)n, act_reset, z.stats);
  sc_media_stats_t after;
  sc_media_get_stats(h.m, &after);
  ASSERT_EQ(after.drop_no_cipher, before.drop_no_cipher + 1);
  expect_nothing(&x);
  /* x removed while its own packet waits: not forwarded. */
  n = make_packet(&x, "x is gone", pkt, sizeof pkt);
  mid_batch(&h, x.fd, pkt, (size_t)n, act_remove, x.stats);
  sc_media_get_stats(h.m, &after);
  ASSERT_EQ(after.drop_removed, before.drop_removed + 1);
  expect_nothing(&z);
  sc_media_destroy(h.m);
  for (int i = 0; i < 3; i++) {
    sc_member_stats_release(all[i]->stats);
    dv_cipher_free(all[i]->cipher);
    close(all[i]->fd);
  }
  close(h.hold_fd);
  sem_destroy(&held);
  sem_destroy(&let_go);
}

int main(void) {
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
  RUN_TEST(test_addr_usable);
  RUN_TEST(test_udp_flush_skips_bad_slot);
  RUN_TEST(test_discovery_binds_nothing);
  RUN_TEST(test_rebinding);
  RUN_TEST(test_forged_and_replayed_move_nothing);
  RUN_TEST(test_hint_until_bound);
  RUN_TEST(test_bad_hints_refused);
  RUN_TEST(test_reset_and_remove_cannot_fail);
  RUN_TEST(test_stale_cipher_discarded);
  RUN_TEST(test_in_force_at_once);
  sc_media_destroy(media);
  client_t *all[] = {&a, &b, &c, &d};
  for (int i = 0; i < 4; i++) {
    dv_cipher_free(all[i]->cipher);
    sc_member_stats_release(all[i]->stats); /* the worker released its own */
    close(all[i]->fd);
  }
  SC_TEST_DONE();
}
