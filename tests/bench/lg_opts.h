/*
 * lg_opts: the load generator's command line, as one plain settings
 * struct. The parser is table-driven; every numeric option is range
 * checked, so the loops it bounds stay bounded.
 *
 * Owns: nothing beyond lg_opts_t (strings point into argv).
 * Threads: parsed on the main thread before any other thread starts.
 */
#ifndef LG_OPTS_H
#define LG_OPTS_H

#include <stdio.h>

typedef struct {
  const char *target;  /* litecord-voice binary, or lcv_reflector with --raw */
  const char *wrapper; /* command prefix for the target, e.g. valgrind (split on spaces) */
  const char *label;   /* scenario name in the JSON output */
  const char *mode;    /* encryption mode the clients select */
  const char *log_dir; /* target's output goes to LOG_DIR/<label>.log */
  /* Shell commands run before / after each measuring step, with %p replaced
   * by the target's pid (profilers: callgrind_control -z / -d, perf -p). */
  const char *step_start_cmd, *step_end_cmd;
  /* SRTP profile "gcm" (SRTP_AEAD_AES_128_GCM) or "cm"
   * (SRTP_AES128_CM_SHA1_80): server runs make WebRTC clients (browsers in
   * the gateway's webrtc mode: ICE, DTLS, SRTP), raw-crypto runs seal
   * and open SRTP under it; NULL: Discord UDP only. */
  const char *srtp;
  int webrtc_every; /* with srtp in server runs: slot s is WebRTC iff s % N == 0
                       (1: every member; 2: a mixed room), the rest Discord UDP */
  int raw;          /* drive the raw reflector: no LVSP/gateway, plain RTP */
  int raw_crypto;   /* with raw: seal and open every packet under --mode as in
                       the server runs (the reflector forwards it unchanged),
                       so both runs cost the generator the same */
  int workers;      /* --media-workers of the server / reflector threads */
  int rooms, members, speakers;
  int rate;            /* packets per second per speaker */
  int payload;         /* Opus-sized payload bytes (>= 24) */
  int ramp_start;      /* rooms in the first ramp step; 0 = one fixed step */
  double ramp_factor;  /* next step = ceil(rooms * factor) */
  double step_seconds; /* sending time of one step */
  double half_seconds; /* step at half the highest loss-free rate; 0 = skip */
  int half_at;         /* no ramp: the half-rate steps at this many rooms (to
                          compare two targets at the same load); 0 = off */
  double loss_limit;   /* a step is loss-free if loss <= this fraction */
  double p50_limit_ms; /* ... its median latency is below this (a standing queue) */
  double p99_limit_ms; /* ... and its p99 below this (0 = not checked: transient
                          stalls of a shared machine should not end a ramp) */
  int inflight;        /* joins in progress at once */
  int no_tls;
  int per_client_sockets; /* one UDP socket per client instead of per slot */
  int join_only;          /* set up, measure joins and RSS, no media */
  double idle_seconds;    /* after the joins: server CPU with idle sessions; 0 = skip */
  int check;              /* smoke: exit 1 unless packets were forwarded and all verified */
  int check_lossless;     /* with check: ... and none was lost */
  int setup_timeout_s;
  char **target_args; /* after "--": extra arguments for the target */
  int n_target_args;
} lg_opts_t;

/* Fills defaults and parses argv. Returns 0 to run, 1 after printing the
 * help to `out`, -1 after printing an error to `err`. */
int lg_opts_parse(lg_opts_t *o, int argc, char **argv, FILE *out, FILE *err);

#endif
