/*
 * fuzz_media: the whole media path of one worker (src/sc_media.c and sc_mpath.c with
 * discord_voice's ciphers and datagram handler) over real loopback UDP:
 * RTP parsing, SSRC lookup, address binding by authentication,
 * decryption, the replay window, IP discovery and fan-out with
 * re-encryption.
 *
 * Room 1 holds A (ssrc 1111, AES-GCM, told address = socket 0), B (2222,
 * XChaCha, socket 1) and C (3333, AES-GCM, no address until its first
 * authenticated datagram);
 * room 2 holds D (4444, AES-GCM, socket 2). Every input starts from fresh
 * members. The input is a list of datagrams, each: u8 op, u16 length,
 * bytes. op bits 0-1: the sending socket (3 = 0); bit 2: seal the bytes
 * (clear header as in fuzz_cipher_sealed, u32 counter, plaintext) under
 * the key of member op bits 3-4; bit 5: also force that member's SSRC into
 * the header. The harness waits until the worker has read every datagram.
 *
 * Checks on everything the server sends back: a discovery answer (74
 * bytes) only for a member's SSRC; any other datagram must authenticate
 * under one member's key (that is the receiver), carry another member's
 * SSRC (the sender: never the receiver itself), and both must be in the
 * same room.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dv_crypto.h"
#include "dv_discovery.h"
#include "fuzz_util.h"
#include "sc_media.h"

#define N_MEMBERS 4
#define N_SOCKS 3
#define MAX_RECORDS 64

typedef struct {
  uint32_t ssrc;
  uint64_t room;
  int mode; /* 0 AES-GCM, 1 XChaCha */
  int hint; /* socket index told at Select Protocol, -1 none */
  uint8_t key[DV_KEY_LEN];
} member_def_t;

static const member_def_t members[N_MEMBERS] = {
    {1111, 1, 0, 0, {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}},
    {2222, 1, 1, 1, {101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
                     112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122,
                     123, 124, 125, 126, 127, 128, 129, 130, 131, 132}},
    {3333, 1, 0, -1, {201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
                      212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222,
                      223, 224, 225, 226, 227, 228, 229, 230, 231, 232}},
    {4444, 2, 0, 2, {7, 7, 7, 7, 7, 7, 7, 7, 9, 9, 9, 9, 9, 9, 9, 9,
                     5, 5, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 3, 3}},
};

typedef struct {
  sc_media_t *media;
  int sock[N_SOCKS];
  struct sockaddr_storage addr[N_SOCKS];
  struct sockaddr_in server; /* rooms 1 and 2 share the one worker */
} plane_t;

static int udp_socket(struct sockaddr_storage *bound) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  FUZZ_CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  socklen_t len = sizeof *bound;
  memset(bound, 0, sizeof *bound);
  FUZZ_CHECK(getsockname(fd, (struct sockaddr *)bound, &len) == 0);
  return fd;
}

static plane_t *plane_once(void) {
  static plane_t p;
  if (p.media) return &p;
  fuzz_init_once();
  p.media = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  FUZZ_CHECK(p.media != NULL && sc_media_start(p.media) == 0);
  for (int i = 0; i < N_SOCKS; i++) p.sock[i] = udp_socket(&p.addr[i]);
  p.server.sin_family = AF_INET;
  p.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p.server.sin_port = htons(sc_media_port_for_room(p.media, 1));
  FUZZ_CHECK(sc_media_port_for_room(p.media, 2) == sc_media_port_for_room(p.media, 1));
  return &p;
}

static void reset_members(plane_t *p) {
  static sc_member_stats_t *blocks[N_MEMBERS];
  for (int i = 0; i < N_MEMBERS; i++) {
    const member_def_t *m = &members[i];
    if (blocks[i]) {
      sc_media_remove(p->media, blocks[i]);
      sc_member_stats_release(blocks[i]);
    }
    blocks[i] = sc_member_stats_new();
    FUZZ_CHECK(blocks[i] != NULL);
    FUZZ_CHECK(sc_media_post_add(p->media, m->room, m->ssrc, blocks[i]) == 0);
    dv_cipher_t *c = dv_cipher_new(
        m->mode ? DV_MODE_XCHACHA20_POLY1305_RTPSIZE : DV_MODE_AES256_GCM_RTPSIZE, m->key);
    FUZZ_CHECK(c != NULL);
    FUZZ_CHECK(sc_media_post_cipher(p->media, blocks[i], &dv_cipher_ops, c) == 0);
    if (m->hint >= 0)
      FUZZ_CHECK(sc_media_post_peer_hint(p->media, blocks[i], &p->addr[m->hint]) == 0);
  }
  sc_media_sync(p->media);
}

static int member_by_ssrc(uint32_t ssrc) {
  for (int i = 0; i < N_MEMBERS; i++)
    if (members[i].ssrc == ssrc) return i;
  return -1;
}

static uint32_t rd32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* One datagram the server sent to one of our sockets. */
static void check_output(const uint8_t *pkt, size_t len) {
  uint32_t ssrc;
  char ip[64];
  uint16_t port;
  if (dv_discovery_parse_response(pkt, len, &ssrc, ip, sizeof ip, &port) == 0) {
    FUZZ_CHECK(member_by_ssrc(ssrc) >= 0);
    return;
  }
  FUZZ_CHECK(len >= 12 + 20 && len <= 2048);
  static uint8_t plain[2048];
  int to = -1;
  for (int i = 0; i < N_MEMBERS && to < 0; i++)
    if (fuzz_open(members[i].mode, members[i].key, pkt, len, 12, plain) >= 0) to = i;
  FUZZ_CHECK(to >= 0);
  int from = member_by_ssrc(rd32(pkt + 8));
  FUZZ_CHECK(from >= 0 && from != to);
  FUZZ_CHECK(members[from].room == members[to].room);
}

static void drain_outputs(plane_t *p) {
  static uint8_t buf[65536];
  for (int i = 0; i < N_SOCKS; i++) {
    ssize_t n;
    while ((n = recv(p->sock[i], buf, sizeof buf, MSG_DONTWAIT)) >= 0) check_output(buf, (size_t)n);
  }
}

/* Seals bytes per op (see the header comment) into out; returns length. */
static size_t seal_record(uint8_t op, const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  const member_def_t *m = &members[(op >> 3) & 3];
  uint8_t clear[80];
  if (n < 12) return 0;
  memcpy(clear, in, 12);
  clear[0] = (uint8_t)((clear[0] & 0x3f) | 0x80);
  int rtcp = clear[1] >= 200 && clear[1] <= 204;
  size_t cl = rtcp ? 8 : 12 + 4 * (size_t)(clear[0] & 0x0f) + ((clear[0] & 0x10) ? 4 : 0);
  if (n < cl + 4) return 0;
  memcpy(clear + 12, in + 12, cl > 12 ? cl - 12 : 0);
  if (op & 0x20) {
    uint8_t *s = clear + (rtcp ? 4 : 8);
    s[0] = (uint8_t)(m->ssrc >> 24), s[1] = (uint8_t)(m->ssrc >> 16);
    s[2] = (uint8_t)(m->ssrc >> 8), s[3] = (uint8_t)m->ssrc;
  }
  int len = fuzz_seal(m->mode, m->key, clear, cl, rd32(in + cl), in + cl + 4, n - cl - 4, out, cap);
  return len > 0 ? (size_t)len : 0;
}

static void wait_read(plane_t *p, uint64_t target) {
  sc_media_stats_t st;
  for (int spins = 0; spins < 20000; spins++) {
    sc_media_get_stats(p->media, &st);
    if (st.rx_datagrams >= target) return;
    nanosleep(&(struct timespec){0, 100000}, NULL);
  }
  FUZZ_CHECK(!"the media worker did not read every datagram within 2 s");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  plane_t *p = plane_once();
  reset_members(p);
  drain_outputs(p);
  sc_media_stats_t st;
  sc_media_get_stats(p->media, &st);
  uint64_t sent = 0;
  fuzz_reader_t r;
  fuzz_reader_init(&r, data, size);
  uint8_t op;
  uint16_t n;
  static uint8_t sealed[8192];
  for (int rec = 0; rec < MAX_RECORDS && fuzz_take_u8(&r, &op) && fuzz_take_u16(&r, &n); rec++) {
    const uint8_t *in;
    size_t len = fuzz_take_bytes(&r, n, &in);
    if (op & 4) {
      len = seal_record(op, in, len, sealed, sizeof sealed);
      in = sealed;
      if (!len) continue;
    }
    int s = (op & 3) == 3 ? 0 : op & 3;
    if (sendto(p->sock[s], in, len, 0, (struct sockaddr *)&p->server, sizeof p->server) ==
        (ssize_t)len)
      sent++;
  }
  wait_read(p, st.rx_datagrams + sent);
  sc_media_sync(p->media); /* the batch that read the last one was flushed */
  drain_outputs(p);
  return 0;
}
