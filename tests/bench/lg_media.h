/*
 * lg_media: the load generator's UDP side, one thread for every socket.
 * During setup it hands non-RTP datagrams (IP discovery answers) to the
 * control code; in a step it sends every active speaker's packets on a
 * fixed schedule and receives, decrypts and verifies every forwarded
 * packet (loss, duplicates, latency).
 *
 * Why one thread: the generator shares a 2-core machine with the server,
 * so it must stay light. Sends are spread evenly over the 20 ms packet
 * period and issued in ticks of >= 100 us with sendmmsg (consecutive
 * speakers share a socket); receives use recvmmsg over a handful of
 * sockets (one per member slot), so a syscall moves many datagrams.
 *
 * Owns: the thread, its epoll and eventfd, per-client sequence counters,
 * the step's histogram and loss bitmaps. Reads lg_run_t (see lg_run.h).
 * Threads: lg_media_* are called from the main thread; the work runs on
 * the media thread. A step is handed over with a release store of the
 * phase and returned the same way, so the clients' keys written during
 * setup are visible to the media thread, and the results to the caller.
 * Memory: lg_media_new allocates, lg_media_free (which stops the thread)
 * releases. Nothing is allocated per packet.
 */
#ifndef LG_MEDIA_H
#define LG_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "lg_run.h"

typedef struct lg_media lg_media_t;

typedef struct {
  int rooms;      /* rooms 0..rooms-1 send; the others stay idle */
  double seconds; /* sending time */
} lg_step_cfg_t;

typedef struct {
  int rooms;
  double send_s;     /* time spent sending */
  uint64_t sent;     /* packets the speakers sent */
  uint64_t expected; /* sent x (M - 1): every other member receives each */
  uint64_t received; /* distinct forwarded packets that decrypted and verified */
  uint64_t lost, dups, stale;
  uint64_t verify_fail; /* failed decryption or payload check */
  uint64_t unknown;     /* datagrams for no known sender/receiver */
  uint64_t rtcp;        /* SRTCP the server sent WebRTC clients, authenticated */
  uint64_t send_fail;
  double p50_us, p99_us, p999_us, max_us; /* send -> verified receive */
  double max_lag_ms;                      /* worst delay of a send behind its schedule */
  double gen_cpu_s;                       /* the media thread's CPU time during the step */
  /* The server's own forwarding delay in the step (its admin API: kernel
   * receive to sendmmsg, bucket upper bounds); -1 for the reflector. Filled
   * by lcv_loadgen's main thread, not by lg_media. */
  double srv_fwd_p50_us, srv_fwd_p99_us, srv_fwd_p999_us;
  double srv_fwd_count;
} lg_step_result_t;

/* Non-RTP datagram during setup (media thread). */
typedef void (*lg_dgram_fn)(void *ctx, int sock, const uint8_t *buf, size_t len);
/* Called by the main thread while it waits for the media thread. */
typedef void (*lg_pump_fn)(void *ctx, int ms);

lg_media_t *lg_media_new(lg_run_t *run, lg_dgram_fn fn, void *ctx);
int lg_media_start(lg_media_t *m);
/* Raw mode: every client announces its SSRC to the reflector until all
 * are acknowledged or timeout_ms passes. Returns the number acknowledged. */
int lg_media_hello(lg_media_t *m, int timeout_ms, lg_pump_fn pump, void *pump_ctx);
/* Runs one step and fills *out. Returns 0 or -ENOMEM. */
int lg_media_step(lg_media_t *m, const lg_step_cfg_t *cfg, lg_step_result_t *out, lg_pump_fn pump,
                  void *pump_ctx);
void lg_media_free(lg_media_t *m);

#endif
