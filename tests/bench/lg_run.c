#include "lg_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "sc_token.h"

/* Large buffers: a step's receive bursts must not be dropped by the
 * generator's own sockets (root may exceed rmem_max with *FORCE). */
#define LG_SOCK_BUF (16 << 20)

static void set_buf(int fd, int force_opt, int opt) {
  int size = LG_SOCK_BUF;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

static int open_socket(int *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static int open_sockets(lg_run_t *run) {
  run->n_socks = run->opt.per_client_sockets ? run->n_clients : run->opt.members;
  run->socks = malloc(sizeof *run->socks * (size_t)run->n_socks);
  run->sock_ports = calloc((size_t)run->n_socks, sizeof *run->sock_ports);
  if (!run->socks || !run->sock_ports) return -1;
  for (int i = 0; i < run->n_socks; i++) run->socks[i] = -1;
  for (int i = 0; i < run->n_socks; i++) {
    run->socks[i] = open_socket(&run->sock_ports[i]);
    if (run->socks[i] < 0) {
      fprintf(stderr, "lcv_loadgen: UDP socket %d: %s\n", i, strerror(errno));
      return -1;
    }
  }
  return 0;
}

static int alloc_map(lg_run_t *run) {
  size_t n = 64;
  while (n < (size_t)run->n_clients * 4) n *= 2;
  run->map_keys = calloc(n, sizeof *run->map_keys);
  run->map_vals = calloc(n, sizeof *run->map_vals);
  run->map_mask = n - 1;
  return run->map_keys && run->map_vals ? 0 : -1;
}

lg_run_t *lg_run_new(const lg_opts_t *opt) {
  lg_run_t *run = calloc(1, sizeof *run);
  if (!run) return NULL;
  run->opt = *opt;
  run->n_clients = opt->rooms * opt->members;
  run->clients = calloc((size_t)run->n_clients, sizeof *run->clients);
  if (!run->clients || alloc_map(run) < 0 || open_sockets(run) < 0 ||
      (opt->srtp && sc_srtp_global_init() < 0)) {
    lg_run_free(run);
    return NULL;
  }
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    c->room = i / opt->members;
    c->slot = i % opt->members;
    c->sock = opt->per_client_sockets ? i : c->slot;
    if (opt->srtp && !opt->raw && c->slot % opt->webrtc_every == 0 &&
        !(c->rtc = lg_rtc_new(lg_run_srtp_profile(run)))) {
      lg_run_free(run);
      return NULL;
    }
  }
  return run;
}

uint16_t lg_run_srtp_profile(const lg_run_t *run) {
  if (!run->opt.srtp) return 0;
  return strcmp(run->opt.srtp, "cm") == 0 ? SC_SRTP_AES128_CM_SHA1_80 : SC_SRTP_AEAD_AES_128_GCM;
}

sc_srtp_t *lg_run_srtp(lg_client_t *c) {
  return c->rtc ? lg_rtc_srtp(c->rtc) : c->srtp;
}

/* --raw-crypto --srtp: SRTP keys as DTLS-SRTP would give them, one
 * random key and salt per speaker; its receivers hold it inbound. */
static int raw_srtp_keys(lg_run_t *run) {
  sc_srtp_keys_t k = {.profile = lg_run_srtp_profile(run)};
  size_t kl, sl;
  if (sc_srtp_global_init() < 0 || sc_srtp_profile_lengths(k.profile, &kl, &sl) < 0) return -1;
  k.key_len = (uint8_t)kl, k.salt_len = (uint8_t)sl;
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    c->raw_srtp_rx = calloc((size_t)run->opt.speakers, sizeof *c->raw_srtp_rx);
    if (!c->raw_srtp_rx) return -1;
  }
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    if (c->slot >= run->opt.speakers) continue;
    sc_token_random(k.local_key, sizeof k.local_key);
    sc_token_random(k.local_salt, sizeof k.local_salt);
    sc_token_random(k.remote_key, sizeof k.remote_key); /* unused direction */
    if (sc_srtp_new(&c->srtp, &k, 16) < 0) return -1;
    sc_srtp_keys_t rx = k; /* the receivers' view: the sender's key is remote */
    memcpy(rx.remote_key, k.local_key, sizeof rx.remote_key);
    memcpy(rx.remote_salt, k.local_salt, sizeof rx.remote_salt);
    for (int j = 0; j < run->opt.members; j++) {
      lg_client_t *to = lg_run_client(run, c->room, j);
      if (to != c && sc_srtp_new(&to->raw_srtp_rx[c->slot], &rx, 16) < 0) return -1;
    }
  }
  sodium_memzero(&k, sizeof k);
  return 0;
}

int lg_run_raw_keys(lg_run_t *run) {
  if (run->opt.srtp) return raw_srtp_keys(run);
  int mode = dv_mode_from_name(run->opt.mode), S = run->opt.speakers;
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    c->raw_rx = calloc((size_t)S, sizeof *c->raw_rx);
    if (!c->raw_rx) return -1;
  }
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    if (c->slot >= S) continue;
    uint8_t key[DV_KEY_LEN];
    sc_token_random(key, sizeof key);
    c->cipher = dv_cipher_new((dv_mode_t)mode, key);
    if (!c->cipher) return -1;
    for (int j = 0; j < run->opt.members; j++) {
      lg_client_t *to = lg_run_client(run, c->room, j);
      if (to == c) continue;
      to->raw_rx[c->slot] = dv_cipher_new((dv_mode_t)mode, key);
      if (!to->raw_rx[c->slot]) return -1;
    }
    sodium_memzero(key, sizeof key);
  }
  return 0;
}

void lg_run_free(lg_run_t *run) {
  if (!run) return;
  for (int i = 0; run->clients && i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    dv_cipher_free(c->cipher);
    for (int s = 0; c->raw_rx && s < run->opt.speakers; s++) dv_cipher_free(c->raw_rx[s]);
    free(c->raw_rx);
    lg_rtc_free(c->rtc);
    sc_srtp_free(c->srtp);
    for (int s = 0; c->raw_srtp_rx && s < run->opt.speakers; s++) sc_srtp_free(c->raw_srtp_rx[s]);
    free(c->raw_srtp_rx);
  }
  for (int i = 0; run->socks && i < run->n_socks; i++)
    if (run->socks[i] >= 0) close(run->socks[i]);
  free(run->socks);
  free(run->sock_ports);
  free(run->clients);
  free(run->map_keys);
  free(run->map_vals);
  free(run);
}

lg_client_t *lg_run_receiver(lg_run_t *run, const lg_client_t *sender, int sock) {
  if (sock < 0 || sock >= run->n_socks) return NULL;
  if (run->opt.per_client_sockets) {
    lg_client_t *c = &run->clients[sock];
    return c->room == sender->room ? c : NULL;
  }
  return lg_run_client(run, sender->room, sock);
}

static size_t slot_of(const lg_run_t *run, uint32_t ssrc) {
  return (ssrc * 2654435761u) & run->map_mask;
}

int lg_run_map_insert(lg_run_t *run, uint32_t ssrc, int client) {
  if (!ssrc) return -EINVAL;
  for (size_t i = slot_of(run, ssrc), n = 0; n <= run->map_mask; i = (i + 1) & run->map_mask, n++) {
    if (run->map_keys[i] == ssrc) return -EEXIST;
    if (!run->map_keys[i]) {
      run->map_keys[i] = ssrc;
      run->map_vals[i] = client;
      return 0;
    }
  }
  return -ENOSPC;
}

int lg_run_map_find(const lg_run_t *run, uint32_t ssrc) {
  if (!ssrc) return -1;
  for (size_t i = slot_of(run, ssrc), n = 0; n <= run->map_mask; i = (i + 1) & run->map_mask, n++) {
    if (run->map_keys[i] == ssrc) return run->map_vals[i];
    if (!run->map_keys[i]) return -1;
  }
  return -1;
}
