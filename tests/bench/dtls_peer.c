/*
 * lcv_dtls_peer: the smallest WebRTC peer a browser accepts, on one UDP
 * socket at 127.0.0.1: ICE-lite STUN answers (not validated: a test
 * peer), sc_dtls as DTLS server, sc_srtp for what the browser sends. It
 * proves sc_dtls and sc_srtp against a real browser before the media
 * worker carries them (tests/node/webrtc_dtls_chromium.test.js).
 *
 * Usage: lcv_dtls_peer ICE_PWD [PACKETS]. Prints "FP <fingerprint>" and
 * "PORT <port>", then reads "EXPECT <fingerprint>" from stdin (the
 * browser's, from its offer) before the first DTLS datagram is accepted.
 * Prints "CONNECTED <profile>" and ends with one "RESULT ..." line once
 * PACKETS (default 100) RTP packets authenticated, or after 25 s. Every
 * RTP packet goes back to the browser under ECHO_SSRC, protected with our
 * outbound keys.
 */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sc_dtls.h"
#include "sc_sdp.h"
#include "sc_srtp.h"

#define ECHO_SSRC 0x4C435631u /* "LCV1" */

typedef struct {
  sc_dtls_ctx_t *ctx;
  sc_dtls_t *dtls;
  sc_srtp_t *srtp;
  int has_expected;
  uint8_t expected[SC_DTLS_FP_LEN];
  int stun, rtp_ok, rtcp_ok, srtp_errors;
} peer_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void put16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
  }
  return ~c;
}

/* Binding success: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT. */
static size_t stun_answer(const uint8_t *req, const struct sockaddr_in *from, const char *pwd,
                          uint8_t *o) {
  unsigned int mac_len = 20;
  size_t n = 20;
  put16(o, 0x0101);
  memcpy(o + 4, req + 4, 16); /* cookie and transaction id */
  put16(o + n, 0x0020);
  put16(o + n + 2, 8);
  put16(o + n + 4, 1);
  put16(o + n + 6, ntohs(from->sin_port) ^ 0x2112);
  put32(o + n + 8, ntohl(from->sin_addr.s_addr) ^ 0x2112A442u);
  n += 12;
  put16(o + 2, (unsigned)(n - 20 + 24));
  HMAC(EVP_sha1(), pwd, (int)strlen(pwd), o, n, o + n + 4, &mac_len);
  put16(o + n, 0x0008);
  put16(o + n + 2, 20);
  n += 24;
  put16(o + 2, (unsigned)(n - 20 + 8));
  uint32_t crc = crc32_of(o, n) ^ 0x5354554Eu;
  put16(o + n, 0x8028);
  put16(o + n + 2, 4);
  put32(o + n + 4, crc);
  return n + 8;
}

static void read_expected(peer_t *p) {
  char line[256];
  if (!fgets(line, sizeof line, stdin) || strncmp(line, "EXPECT ", 7) != 0) return;
  size_t len = strcspn(line + 7, "\r\n");
  p->has_expected = sc_sdp_fingerprint_parse(line + 7, len, p->expected) == 0;
}

static void on_dtls(peer_t *p, const uint8_t *d, size_t n, sc_dtls_out_t *out) {
  if (!p->dtls && sc_dtls_new(&p->dtls, p->ctx, p->has_expected ? p->expected : NULL, now_ms()) < 0)
    return;
  sc_dtls_state_t st = sc_dtls_feed(p->dtls, d, n, now_ms(), out);
  if (st == SC_DTLS_CONNECTED && !p->srtp) {
    sc_srtp_keys_t k;
    if (sc_dtls_srtp_keys(p->dtls, &k) == 0 && sc_srtp_new(&p->srtp, &k, 8) == 0)
      printf("CONNECTED %s\n", sc_srtp_profile_name(k.profile));
  }
  if (st == SC_DTLS_FAILED) printf("FAILED %s\n", sc_dtls_failure_name(sc_dtls_failure(p->dtls)));
  fflush(stdout);
}

/* Unprotects what the browser sent; RTP goes back to it under ECHO_SSRC
 * (which our answer announced), protected again: its own SRTP stack then
 * checks our outbound direction. Returns the length to send back, or 0. */
static size_t on_srtp(peer_t *p, uint8_t *d, size_t n, size_t cap) {
  int pt = d[1] & 0x7f, rtcp = pt >= 64 && pt <= 95;
  int rc = rtcp ? sc_srtp_unprotect_rtcp(p->srtp, d, n) : sc_srtp_unprotect_rtp(p->srtp, d, n);
  if (rc < 0) {
    p->srtp_errors++;
    return 0;
  }
  if (rtcp) {
    p->rtcp_ok++;
    return 0;
  }
  p->rtp_ok++;
  put32(d + 8, ECHO_SSRC);
  rc = sc_srtp_protect_rtp(p->srtp, d, (size_t)rc, cap);
  if (rc < 0) p->srtp_errors++;
  return rc < 0 ? 0 : (size_t)rc;
}

static void serve(peer_t *p, int fd, const char *pwd, int want) {
  uint8_t buf[2048], ob[8192];
  struct sockaddr_in from = {0}, peer = {0};
  int64_t end = now_ms() + 25000;
  while (now_ms() < end && p->rtp_ok < want) {
    int wait = 100;
    int64_t t = p->dtls ? sc_dtls_next_timeout_ms(p->dtls, now_ms()) : -1;
    if (t >= 0 && t < wait) wait = (int)t;
    struct pollfd pfd = {fd, POLLIN, 0};
    sc_dtls_out_t out;
    sc_dtls_out_init(&out, ob, sizeof ob);
    if (poll(&pfd, 1, wait) <= 0) {
      if (p->dtls) sc_dtls_on_timeout(p->dtls, now_ms(), &out);
    } else {
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fd, buf, sizeof buf - SC_SRTP_SPARE, 0, (void *)&from, &fl);
      if (n <= 0) continue;
      if (buf[0] < 4 && n >= 20 && buf[1] == 1) {
        uint8_t a[128];
        size_t m = stun_answer(buf, &from, pwd, a);
        sendto(fd, a, m, 0, (void *)&from, sizeof from);
        p->stun++;
      } else if (buf[0] >= 20 && buf[0] <= 63) {
        peer = from;
        on_dtls(p, buf, (size_t)n, &out);
      } else if (buf[0] >= 128 && buf[0] <= 191 && p->srtp) {
        size_t back = on_srtp(p, buf, (size_t)n, sizeof buf);
        if (back) sendto(fd, buf, back, 0, (void *)&from, sizeof from);
      }
    }
    for (int i = 0; i < out.n; i++)
      sendto(fd, out.buf + out.off[i], out.len[i], 0, (void *)&peer, sizeof peer);
  }
}

int main(int argc, char **argv) {
  char err[256];
  peer_t p = {0};
  const char *pwd = argc > 1 ? argv[1] : "abcdefghijklmnopqrstuv";
  int want = argc > 2 ? atoi(argv[2]) : 100;
  if (sc_dtls_ctx_new(&p.ctx, NULL, 0, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (fd < 0 || bind(fd, (void *)&a, sizeof a) < 0 || getsockname(fd, (void *)&a, &al) < 0)
    return 1;
  printf("FP %s\nPORT %d\n", sc_dtls_ctx_fingerprint(p.ctx), ntohs(a.sin_port));
  fflush(stdout);
  read_expected(&p);
  serve(&p, fd, pwd, want);
  printf("RESULT stun=%d rtp_ok=%d rtcp_ok=%d srtp_errors=%d state=%d verified=%d\n", p.stun,
         p.rtp_ok, p.rtcp_ok, p.srtp_errors, p.dtls ? (int)sc_dtls_state(p.dtls) : -1,
         p.has_expected);
  fflush(stdout);
  sc_srtp_free(p.srtp);
  sc_dtls_free(p.dtls);
  sc_dtls_ctx_free(p.ctx);
  close(fd);
  return 0;
}
