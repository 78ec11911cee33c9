/*
 * lg_run: the load generator's model of one scenario: the simulated
 * clients (rooms x members), their UDP sockets, and the SSRC -> client map.
 *
 * Owns: lg_run_t and everything in it (clients, sockets, map). Cipher
 * states in clients are owned here too and freed by lg_run_free.
 * Threads: built on the main thread. During setup the control code (main
 * thread) fills ssrc, media address and cipher of each client and the SSRC
 * map; the media thread only reads them, and only after the main thread
 * has published the end of setup (lg_media_step's release/acquire). The
 * sockets are shared: the media thread reads and sends, the control code
 * sends IP discovery requests during setup (sendto is thread-safe).
 * Memory: lg_run_new allocates, lg_run_free releases all of it.
 *
 * Clients are stored room-major: client (room, slot) is clients[room * M +
 * slot]; slots 0..S-1 are the speakers. With shared sockets (the default)
 * socket j is shared by slot j of every room, so a datagram arriving on
 * socket j for sender SSRC s is for member j of s's room: the receiver
 * and its key are found without a per-receiver socket.
 */
#ifndef LG_RUN_H
#define LG_RUN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dv_crypto.h"
#include "lg_opts.h"
#include "lg_webrtc.h"
#include "sc_srtp.h"

typedef struct {
  int room, slot;
  uint32_t ssrc;
  int sock;                 /* index into lg_run_t.socks */
  struct sockaddr_in media; /* where this client sends its RTP */
  dv_cipher_t *cipher;      /* NULL in raw mode and until Session Description */
  /* --raw-crypto: the sender's key, one state per (sender slot, this
   * receiver) so each receiver keeps its own replay window; NULL else. */
  dv_cipher_t **raw_rx;
  /* --srtp: a WebRTC client (server runs; created with the run, so the
   * pointer never changes), or with --raw-crypto this client's SRTP
   * state (its own key outbound) and one per sender slot holding the
   * sender's key inbound. */
  lg_rtc_t *rtc;
  sc_srtp_t *srtp;
  sc_srtp_t **raw_srtp_rx;
} lg_client_t;

typedef struct {
  lg_opts_t opt;
  int n_clients;
  lg_client_t *clients;
  int n_socks;
  int *socks;         /* fds, bound to 127.0.0.1:ephemeral */
  int *sock_ports;    /* their local ports */
  uint32_t *map_keys; /* open addressing, 0 = empty (SSRC 0 is never used) */
  int32_t *map_vals;
  size_t map_mask;
} lg_run_t;

static inline int64_t lg_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Builds the clients and opens the sockets. NULL (with a message on
 * stderr) if a socket cannot be opened. */
lg_run_t *lg_run_new(const lg_opts_t *opt);
void lg_run_free(lg_run_t *run);

static inline lg_client_t *lg_run_client(lg_run_t *run, int room, int slot) {
  return &run->clients[room * run->opt.members + slot];
}

/* The receiver of a datagram for `sender` that arrived on socket `sock`
 * (NULL if that socket has no member in the sender's room). */
lg_client_t *lg_run_receiver(lg_run_t *run, const lg_client_t *sender, int sock);

/* --raw-crypto: a random key per speaker, its sealing state and one
 * opening state in every other member of its room. Needs sc_token_init().
 * 0 or -1. */
int lg_run_raw_keys(lg_run_t *run);

/* The SRTP profile of --srtp (SC_SRTP_*), or 0. */
uint16_t lg_run_srtp_profile(const lg_run_t *run);
/* A client's SRTP state: its WebRTC client's once connected, or its
 * --raw-crypto one; NULL for Discord UDP. Media thread. */
sc_srtp_t *lg_run_srtp(lg_client_t *c);

/* SSRC map. Insert returns 0, -EEXIST or -ENOSPC; find returns the index
 * or -1. */
int lg_run_map_insert(lg_run_t *run, uint32_t ssrc, int client);
int lg_run_map_find(const lg_run_t *run, uint32_t ssrc);

#endif
