/*
 * media_fx: the fixture of the media-plane unit tests (test_media*.c): a
 * real media plane on loopback (the file creates `media`), and "clients",
 * each a UDP socket plus its own copy of its member's cipher, exactly as a
 * voice client holds its secret key. Header-only: each test file is its
 * own executable.
 */
#ifndef MEDIA_FX_H
#define MEDIA_FX_H

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
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

static inline struct sockaddr_storage local_addr(int fd) {
  struct sockaddr_storage ss = {0};
  socklen_t sl = sizeof ss;
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
  return ss;
}

/* What Select Protocol does with the address discovery told the client. */
static inline void hint_self(client_t *c) {
  struct sockaddr_storage self = local_addr(c->fd);
  ASSERT_EQ(sc_media_post_peer_hint(media, c->stats, &self), 0);
}

/* A member with its key installed but no address: it has not sent yet and
 * named none in Select Protocol. */
static inline void client_setup(client_t *c, uint32_t ssrc, uint64_t room, dv_mode_t mode) {
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
static inline void client_init(client_t *c, uint32_t ssrc, uint64_t room, dv_mode_t mode) {
  client_setup(c, ssrc, room, mode);
  hint_self(c);
}

static inline int loopback_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* A new key for the member (what Select Protocol does). */
static inline void new_cipher(client_t *c) {
  dv_cipher_free(c->cipher);
  sc_token_random(c->key, sizeof c->key);
  c->cipher = dv_cipher_new(c->mode, c->key);
  ASSERT_EQ(sc_media_post_cipher(media, c->stats, &dv_cipher_ops, dv_cipher_new(c->mode, c->key)),
            0);
}

static inline void send_to_media(int fd, const uint8_t *buf, size_t len) {
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(media_port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to), (long long)len);
}

/* Receives one datagram within timeout_ms; returns its length or -1. */
static inline int recv_within(int fd, uint8_t *buf, size_t cap, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, timeout_ms) <= 0) return -1;
  return (int)recv(fd, buf, cap, 0);
}

static inline sc_media_stats_t stats(void) {
  sc_media_stats_t s;
  sc_media_get_stats(media, &s);
  return s;
}

/* Waits until the worker has read `n` datagrams in total and finished
 * that batch (a sync command is applied only between batches), so that
 * anything it would send for them has been sent and counted. */
static inline void wait_rx(uint64_t n) {
  for (int i = 0; i < 400 && stats().rx_datagrams < n; i++) usleep(5000);
  ASSERT_EQ(stats().rx_datagrams, n);
  sc_media_sync(media);
}

static inline void discover(client_t *c) {
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
static inline int make_packet(client_t *c, const char *payload, uint8_t *out, size_t cap) {
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
static inline void expect_packet(client_t *rx, const client_t *sender, const char *payload) {
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
static inline void expect_media(client_t *rx, uint32_t ssrc, uint8_t pt, const char *payload) {
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

static inline void expect_nothing(client_t *rx) {
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(rx->fd, buf, sizeof buf, 50), -1);
}

static uint64_t sent; /* datagrams sent to the media plane so far */

static inline void speak(client_t *from, const char *payload) {
  uint8_t pkt[2048];
  int n = make_packet(from, payload, pkt, sizeof pkt);
  send_to_media(from->fd, pkt, (size_t)n);
  wait_rx(++sent);
}

#endif
