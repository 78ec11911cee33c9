/*
 * rtc_burst: many WebRTC peers join at once, as browsers would: for each
 * "ufrag pwd" line on stdin (our credentials from op 4) one UDP socket
 * sends a Chrome-shaped binding request with USE-CANDIDATE
 * (tests/unit/stun_fx.h) to HOST:PORT, then runs a real OpenSSL DTLS 1.2
 * client handshake (tests/unit/dtls_fx.h) over it, all peers at once.
 * Used by tests/node/webrtc_burst.test.js to show that a burst of
 * handshakes does not stall forwarding for the others.
 *
 *   rtc_burst HOST PORT REMOTE_UFRAG < creds
 *   -> {"peers":N,"connected":C,"failed":F,"ms":T}
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dtls_fx.h"
#include "stun_fx.h"

#define MAX_PEERS 512
#define DEADLINE_MS 30000

typedef struct {
  int fd;
  fx_client_t c;
} peer_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void flush(peer_t *p) {
  for (int i = 0; i < p->c.out.n; i++)
    if (send(p->fd, p->c.out.data[i], p->c.out.len[i], 0) < 0) perror("send");
  p->c.out.n = 0;
}

static int open_peer(peer_t *p, const struct sockaddr_in *to, const char *user, const char *pwd) {
  p->fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (p->fd < 0 || connect(p->fd, (const struct sockaddr *)to, sizeof *to) < 0) return -1;
  fx_msg_t req;
  fx_request(&req, user, pwd, FX_USE_CANDIDATE, (uint8_t)p->fd);
  if (send(p->fd, req.b, req.len, 0) < 0) return -1;
  uint8_t buf[2048];
  struct pollfd pf = {.fd = p->fd, .events = POLLIN};
  if (poll(&pf, 1, 2000) != 1 || recv(p->fd, buf, sizeof buf, 0) < 20) return -1; /* the answer */
  return fx_client_init(&p->c, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 1);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: rtc_burst HOST PORT REMOTE_UFRAG < creds\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
  static peer_t peers[MAX_PEERS];
  static struct pollfd pfs[MAX_PEERS];
  int n = 0;
  char ufrag[300], pwd[300], user[620];
  while (n < MAX_PEERS && scanf("%299s %299s", ufrag, pwd) == 2) {
    snprintf(user, sizeof user, "%s:%s", ufrag, argv[3]);
    if (open_peer(&peers[n], &to, user, pwd) < 0) {
      fprintf(stderr, "peer %d: no ICE answer\n", n);
      return 1;
    }
    n++;
  }
  int64_t start = now_ms();
  for (int i = 0; i < n; i++) { /* every ClientHello at once: the burst */
    fx_client_step(&peers[i].c);
    flush(&peers[i]);
  }
  int done = 0, failed = 0;
  while (done + failed < n && now_ms() - start < DEADLINE_MS) {
    for (int i = 0; i < n; i++) pfs[i] = (struct pollfd){.fd = peers[i].fd, .events = POLLIN};
    poll(pfs, (nfds_t)n, 20);
    done = failed = 0;
    for (int i = 0; i < n; i++) {
      peer_t *p = &peers[i];
      uint8_t buf[2048];
      ssize_t len;
      while ((pfs[i].revents & POLLIN) && (len = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        if (buf[0] >= 20 && buf[0] <= 63) fx_client_receive(&p->c, buf, (size_t)len);
      if (!p->c.done && !p->c.failed) DTLSv1_handle_timeout(p->c.ssl); /* lost flights */
      flush(p);
      done += p->c.done;
      failed += p->c.failed;
    }
  }
  printf("{\"peers\":%d,\"connected\":%d,\"failed\":%d,\"ms\":%lld}\n", n, done, failed,
         (long long)(now_ms() - start));
  for (int i = 0; i < n; i++) {
    fx_client_free(&peers[i].c);
    close(peers[i].fd);
  }
  return done == n ? 0 : 1;
}
