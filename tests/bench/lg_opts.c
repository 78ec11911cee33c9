#include "lg_opts.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dv_crypto.h"

typedef enum { T_INT, T_DOUBLE, T_STR, T_FLAG } opt_type_t;

typedef struct {
  const char *name;
  opt_type_t type;
  size_t offset;
  double min, max; /* T_INT and T_DOUBLE */
  const char *help;
} opt_def_t;

#define OFF(f) offsetof(lg_opts_t, f)

static const opt_def_t defs[] = {
    {"--target", T_STR, OFF(target), 0, 0, "PATH  litecord-voice (or lcv_reflector with --raw)"},
    {"--raw", T_FLAG, OFF(raw), 0, 0,
     "      drive the raw reflector (plain RTP, no control plane)"},
    {"--raw-crypto", T_FLAG, OFF(raw_crypto), 0, 0,
     "      with --raw: seal sends and open receives under --mode"},
    {"--wrapper", T_STR, OFF(wrapper), 0, 0, "CMD  prefix for the target (e.g. valgrind ...)"},
    {"--label", T_STR, OFF(label), 0, 0, "NAME  scenario name in the output"},
    {"--log-dir", T_STR, OFF(log_dir), 0, 0, "DIR  where the target's output goes (/tmp)"},
    {"--step-start-cmd", T_STR, OFF(step_start_cmd), 0, 0,
     "CMD  run by sh before each step (%p = target pid)"},
    {"--step-end-cmd", T_STR, OFF(step_end_cmd), 0, 0, "CMD  run by sh after each step"},
    {"--mode", T_STR, OFF(mode), 0, 0, "NAME  aes | xchacha | a full mode name"},
    {"--srtp", T_STR, OFF(srtp), 0, 0,
     "gcm|cm  WebRTC clients (ICE, DTLS, SRTP with this profile); with --raw-crypto: SRTP"},
    {"--webrtc-every", T_INT, OFF(webrtc_every), 1, 1000,
     "N  with --srtp: slot s is WebRTC iff s % N == 0, the others Discord UDP (1)"},
    {"--workers", T_INT, OFF(workers), 1, 64, "N  media workers / reflector threads (1)"},
    {"--rooms", T_INT, OFF(rooms), 1, 20000, "R  rooms set up (and the most a step uses)"},
    {"--members", T_INT, OFF(members), 2, 1000, "M  members per room (5)"},
    {"--speakers", T_INT, OFF(speakers), 1, 1000, "S  speakers per room (2)"},
    {"--rate", T_INT, OFF(rate), 1, 1000, "PPS  packets per second per speaker (50)"},
    {"--payload", T_INT, OFF(payload), 24, 1200, "BYTES  payload per packet (160)"},
    {"--ramp-start", T_INT, OFF(ramp_start), 0, 20000, "R  first ramp step; 0 = one step"},
    {"--ramp-factor", T_DOUBLE, OFF(ramp_factor), 1.01, 10, "F  rooms grow by F per step (1.3)"},
    {"--step-seconds", T_DOUBLE, OFF(step_seconds), 0.2, 120, "S  sending time per step (3)"},
    {"--half-seconds", T_DOUBLE, OFF(half_seconds), 0, 120, "S  step at half the max rate (0)"},
    {"--half-at", T_INT, OFF(half_at), 0, 20000,
     "R  no ramp: the half-rate steps at R rooms (another run's half rate)"},
    {"--loss-limit", T_DOUBLE, OFF(loss_limit), 0, 1, "F  loss-free means loss <= F (0.001)"},
    {"--p50-limit-ms", T_DOUBLE, OFF(p50_limit_ms), 0.01, 10000, "MS  ... and p50 <= MS (5)"},
    {"--p99-limit-ms", T_DOUBLE, OFF(p99_limit_ms), 0, 10000, "MS  ... and p99 <= MS (0: off)"},
    {"--inflight", T_INT, OFF(inflight), 1, 20000, "N  concurrent joins (128)"},
    {"--no-tls", T_FLAG, OFF(no_tls), 0, 0, "      plain ws:// (passes --no-tls to the server)"},
    {"--per-client-sockets", T_FLAG, OFF(per_client_sockets), 0, 0,
     "      one UDP socket per client (default: one per slot)"},
    {"--join-only", T_FLAG, OFF(join_only), 0, 0, "      joins and RSS only, no media"},
    {"--idle-seconds", T_DOUBLE, OFF(idle_seconds), 0, 600,
     "S  after the joins: the server's CPU with every session idle (heartbeats only)"},
    {"--check", T_FLAG, OFF(check), 0, 0, "      exit 1 unless packets flowed, all verified"},
    {"--check-lossless", T_FLAG, OFF(check_lossless), 0, 0,
     "      with --check: also exit 1 if any packet was lost"},
    {"--setup-timeout", T_INT, OFF(setup_timeout_s), 1, 3600, "S  bound on setup (120)"},
};
#define N_DEFS (sizeof defs / sizeof defs[0])

static void set_defaults(lg_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->label = "scenario";
  o->log_dir = "/tmp";
  o->mode = "aead_aes256_gcm_rtpsize";
  o->workers = 1;
  o->webrtc_every = 1;
  o->rooms = 10;
  o->members = 5;
  o->speakers = 2;
  o->rate = 50;
  o->payload = 160;
  o->ramp_factor = 1.3;
  o->step_seconds = 3;
  o->loss_limit = 0.001;
  o->p50_limit_ms = 5;
  o->inflight = 128;
  o->setup_timeout_s = 120;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: lcv_loadgen --target PATH [options] [-- target args]\n"
          "Simulates Discord voice clients against litecord-voice (or the raw\n"
          "reflector) on 127.0.0.1 and prints one JSON line per step and scenario.\n");
  for (size_t i = 0; i < N_DEFS; i++) fprintf(out, "  %s %s\n", defs[i].name, defs[i].help);
}

static int set_value(lg_opts_t *o, const opt_def_t *d, const char *v, FILE *err) {
  char *p = (char *)o + d->offset;
  char *end = NULL;
  if (d->type == T_STR) {
    *(const char **)p = v;
    return 0;
  }
  double x = strtod(v, &end);
  if (!*v || *end || x < d->min || x > d->max) {
    fprintf(err, "lcv_loadgen: %s: \"%s\" is not a number in [%g, %g]\n", d->name, v, d->min,
            d->max);
    return -1;
  }
  if (d->type == T_INT) {
    if (x != (double)(int)x) {
      fprintf(err, "lcv_loadgen: %s wants an integer\n", d->name);
      return -1;
    }
    *(int *)p = (int)x;
  } else {
    *(double *)p = x;
  }
  return 0;
}

static const opt_def_t *find_def(const char *name) {
  for (size_t i = 0; i < N_DEFS; i++)
    if (strcmp(defs[i].name, name) == 0) return &defs[i];
  return NULL;
}

/* Short names for the two modes. */
static void expand_mode(lg_opts_t *o) {
  if (strcmp(o->mode, "aes") == 0) o->mode = "aead_aes256_gcm_rtpsize";
  if (strcmp(o->mode, "xchacha") == 0) o->mode = "aead_xchacha20_poly1305_rtpsize";
}

static int validate(lg_opts_t *o, FILE *err) {
  expand_mode(o);
  const char *why = NULL;
  if (!o->target)
    why = "--target is required";
  else if (o->speakers > o->members)
    why = "--speakers must not exceed --members";
  else if ((!o->raw || o->raw_crypto) && dv_mode_from_name(o->mode) < 0)
    why = "unknown --mode";
  else if (o->half_at > o->rooms)
    why = "--half-at must not exceed --rooms";
  else if (o->half_at && o->half_seconds <= 0)
    why = "--half-at needs --half-seconds";
  else if (o->ramp_start > o->rooms)
    why = "--ramp-start must not exceed --rooms";
  else if (o->raw_crypto && !o->raw)
    why = "--raw-crypto needs --raw";
  else if (o->srtp && strcmp(o->srtp, "gcm") != 0 && strcmp(o->srtp, "cm") != 0)
    why = "--srtp is gcm or cm";
  else if (o->srtp && o->raw && !o->raw_crypto)
    why = "--srtp with --raw needs --raw-crypto";
  else if (o->raw && o->join_only)
    why = "--join-only needs the real server";
  /* The server finds a WebRTC member by its address (ICE tuple): one
   * socket per client, and the same in the baseline to compare with. */
  if (o->srtp) o->per_client_sockets = 1;
  if (why) fprintf(err, "lcv_loadgen: %s\n", why);
  return why ? -1 : 0;
}

int lg_opts_parse(lg_opts_t *o, int argc, char **argv, FILE *out, FILE *err) {
  set_defaults(o);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      o->target_args = argv + i + 1;
      o->n_target_args = argc - i - 1;
      break;
    }
    if (strcmp(argv[i], "--help") == 0) {
      usage(out);
      return 1;
    }
    const opt_def_t *d = find_def(argv[i]);
    if (!d) {
      fprintf(err, "lcv_loadgen: unknown option %s (see --help)\n", argv[i]);
      return -1;
    }
    if (d->type == T_FLAG) {
      *(int *)((char *)o + d->offset) = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(err, "lcv_loadgen: %s needs a value\n", argv[i]);
      return -1;
    }
    if (set_value(o, d, argv[++i], err) < 0) return -1;
  }
  return validate(o, err);
}
