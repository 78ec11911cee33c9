/*
 * lg_control: the control plane of the simulated clients. One LVSP link
 * plays Litecord (HELLO -> IDENTIFY with the HMAC of the nonce -> READY,
 * then op 7 VST_REQUEST per client, answered by INFO type 1 with
 * session_id, token and endpoint). Each client then joins over its own
 * gateway connection: Identify -> Ready -> UDP IP discovery -> Select
 * Protocol -> Session Description (its key), and a speaker sends op 5.
 * The join time of a client is VST_REQUEST sent -> Session Description
 * received.
 *
 * Owns: the lws client context, every connection, per-client join state.
 * Writes into lg_run_t during setup: ssrc, media address, cipher and the
 * SSRC map (see lg_run.h for when the media thread may read them).
 * Threads: main thread, except lg_control_on_datagram, which the media
 * thread calls with IP discovery answers (handed over under a mutex).
 * Memory: lg_control_new allocates, lg_control_free closes and frees.
 */
#ifndef LG_CONTROL_H
#define LG_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "lg_run.h"

typedef struct lg_control lg_control_t;

typedef struct {
  int lvsp_port;
  const char *secret;
  int tls;
  const char *ca_file; /* with tls: the server's certificate, verified as a client would */
} lg_control_cfg_t;

/* A join in stages: VST_REQUEST -> INFO (lvsp), -> WebSocket open (TCP,
 * TLS, upgrade: connect), -> Ready (identify), -> IP discovery answer
 * (discovery), -> Session Description (select). */
#define LG_JOIN_STAGES 5
extern const char *const lg_join_stage_names[LG_JOIN_STAGES];

typedef struct {
  int n, joined, failed;
  double wall_s;                 /* first VST_REQUEST -> last Session Description */
  double p50_ms, p99_ms, max_ms; /* per-client join time */
  double stage_p50_ms[LG_JOIN_STAGES], stage_p99_ms[LG_JOIN_STAGES];
} lg_join_stats_t;

lg_control_t *lg_control_new(lg_run_t *run, const lg_control_cfg_t *cfg);
/* Opens the LVSP link and waits for READY. Returns 0 or -1. */
int lg_control_connect(lg_control_t *c, int timeout_ms);
/* Joins every client, at most `inflight` at a time. Returns 0 if all
 * joined, -1 otherwise (details in *out and on stderr). */
int lg_control_join(lg_control_t *c, int inflight, int timeout_ms, lg_join_stats_t *out);
/* Gateway connections that closed after their client had joined. */
int lg_control_dropped(const lg_control_t *c);
/* Voice gateway heartbeats sent so far. */
uint64_t lg_control_heartbeats(const lg_control_t *c);
/* lg_pump_fn: services the connections for about ms milliseconds. */
void lg_control_pump(void *c, int ms);
/* lg_pump_fn for measuring steps: the same work (heartbeats, answers) in
 * one non-blocking pass every STEP_PUMP_MS. Waiting in poll() over every
 * client's connection cost the generator's main thread a quarter of a core
 * with 4,500 clients, taken from the media threads on a 2-core machine;
 * the connections need attention only every heartbeat interval. */
void lg_control_pump_quiet(void *c, int ms);
/* lg_dgram_fn (media thread): an IP discovery answer. */
void lg_control_on_datagram(void *c, int sock, const uint8_t *buf, size_t len);
void lg_control_free(lg_control_t *c);

#endif
