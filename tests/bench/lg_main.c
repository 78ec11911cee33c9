/*
 * lcv_loadgen: load generator for litecord-voice and the raw reflector.
 * Starts the target on free loopback ports, sets up every simulated
 * client (LVSP + gateway + IP discovery, or the reflector's hello), then
 * measures: join times and memory per idle session, and one or more
 * media steps (a fixed load, or a ramp that raises the number of active
 * rooms until the load is no longer loss-free). Prints one JSON line per
 * step and one per scenario on stdout; progress goes to stderr.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lg_admin.h"
#include "lg_control.h"
#include "lg_media.h"
#include "lg_opts.h"
#include "lg_proc.h"
#include "lg_run.h"
#include "sc_token.h"

#define STOP_GRACE_MS 5000
#define REFINE_STEPS 2
#define LEVEL_TRIES 3
#define HALF_TRIES 3
#define STOP_GRACE_WRAPPED_MS 120000 /* valgrind writes its profile on exit */

typedef struct {
  lg_opts_t *o;
  lg_proc_t proc;
  lg_run_t *run;
  lg_media_t *media;
  lg_control_t *ctl;
  int lvsp_port, gw_port, udp_base, admin_port;
  lg_admin_t admin;
  int has_admin;
  char secret[65];
  char state_dir[64];
  long rss0_kib, rss1_kib;
  lg_join_stats_t join;
  int best_rooms;
  lg_step_result_t best, half;
  double best_cpu_us, half_cpu_us;
  int steps, failed_checks, any_received, dropped;
  double half_srv_p50_us, half_srv_p99_us; /* medians over the half-rate runs */
  double join_cpu_s;                       /* server CPU while the clients joined */
  double gen_join_cpu_s; /* ours, in the same time (the client side of TLS etc.) */
  /* --idle-seconds: the server's CPU while every session only heartbeats */
  double idle_wall_s, idle_cpu_s;
  uint64_t idle_heartbeats;
} bench_t;

typedef struct {
  lg_step_result_t r;
  lg_cpu_t cpu0, cpu1;
  lg_net_t net0, net1;
  unsigned long long srv_drops, gen_drops; /* per-socket UDP drops in the step */
  double wall_s;
} measured_t;

static void sleep_pump(bench_t *b, int ms) {
  if (b->ctl) {
    lg_control_pump(b->ctl, ms);
    return;
  }
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void raw_pump(void *ctx, int ms) {
  sleep_pump(ctx, ms);
}

/* ---- starting the target ------------------------------------------------- */

/* The target with its fixed arguments, then the user's (after "--"). */
static int spawn(bench_t *b, const char **fixed, size_t nf, char **env, const char *log) {
  const lg_opts_t *o = b->o;
  char **argv = calloc(nf + (size_t)o->n_target_args + 1, sizeof *argv);
  if (!argv) return -1;
  memcpy(argv, fixed, nf * sizeof *argv);
  for (int i = 0; i < o->n_target_args; i++) argv[nf + (size_t)i] = o->target_args[i];
  int rc = lg_proc_spawn(&b->proc, o->wrapper, argv, env, log);
  free(argv);
  return rc;
}

static int spawn_server(bench_t *b) {
  const lg_opts_t *o = b->o;
  char lvsp[32], gw[32], udp[32], admin[32], workers[16], conns[16], env_secret[80], log[320];
  b->lvsp_port = lg_free_tcp_port();
  do b->gw_port = lg_free_tcp_port();
  while (b->gw_port == b->lvsp_port);
  b->udp_base = lg_free_udp_ports(o->workers);
  do b->admin_port = lg_free_tcp_port();
  while (b->admin_port == b->lvsp_port || b->admin_port == b->gw_port);
  snprintf(admin, sizeof admin, "127.0.0.1:%d", b->admin_port);
  snprintf(b->state_dir, sizeof b->state_dir, "/tmp/lcv-bench-XXXXXX");
  if (b->lvsp_port < 0 || b->gw_port < 0 || b->udp_base < 0 || !mkdtemp(b->state_dir)) return -1;
  snprintf(lvsp, sizeof lvsp, "127.0.0.1:%d", b->lvsp_port);
  snprintf(gw, sizeof gw, "127.0.0.1:%d", b->gw_port);
  snprintf(udp, sizeof udp, "127.0.0.1:%d", b->udp_base);
  snprintf(workers, sizeof workers, "%d", o->workers);
  /* Every client holds one gateway connection; the margin is for the
   * generator's LVSP link and admin polls. */
  snprintf(conns, sizeof conns, "%d", o->rooms * o->members + 64);
  sc_token_random_hex(b->secret, sizeof b->secret, 24);
  snprintf(env_secret, sizeof env_secret, "LVSP_SECRET=%s", b->secret);
  snprintf(log, sizeof log, "%s/%s.log", o->log_dir, o->label);
  const char *fixed[] = {o->target, "--lvsp-listen", lvsp, "--gateway-listen", gw, "--udp-listen",
                         udp, "--public-host", "127.0.0.1", "--state-dir", b->state_dir,
                         "--log-level", "warn", "--media-workers", workers, "--modes", o->mode,
                         "--admin-listen", admin, "--max-connections", conns,
                         /* The seed dialects' listeners have fixed default
                          * ports: off, so parallel runs never collide. */
                         "--vortex-listen", "off", "--galene-listen", "off", "--ion-listen", "off",
                         o->no_tls ? "--no-tls" : NULL};
  char *env[] = {env_secret, NULL};
  return spawn(b, fixed, sizeof fixed / sizeof fixed[0] - (o->no_tls ? 0 : 1), env, log);
}

static int spawn_reflector(bench_t *b) {
  const lg_opts_t *o = b->o;
  char listen[32], workers[16], members[16], log[320];
  b->udp_base = lg_free_udp_ports(o->workers);
  if (b->udp_base < 0) return -1;
  snprintf(listen, sizeof listen, "127.0.0.1:%d", b->udp_base);
  snprintf(workers, sizeof workers, "%d", o->workers);
  snprintf(members, sizeof members, "%d", o->members);
  snprintf(log, sizeof log, "%s/%s.log", o->log_dir, o->label);
  const char *fixed[] = {o->target, "--listen", listen, "--workers", workers, "--members", members};
  return spawn(b, fixed, sizeof fixed / sizeof fixed[0], NULL, log);
}

/* ---- setup --------------------------------------------------------------- */

static int setup_raw(bench_t *b) {
  lg_run_t *run = b->run;
  if (b->o->raw_crypto && lg_run_raw_keys(run) < 0) {
    fprintf(stderr, "lcv_loadgen: cannot create the raw-crypto ciphers\n");
    return -1;
  }
  for (int i = 0; i < run->n_clients; i++) {
    lg_client_t *c = &run->clients[i];
    c->ssrc = (uint32_t)i + 1;
    c->media.sin_family = AF_INET;
    c->media.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->media.sin_port = htons((uint16_t)(b->udp_base + c->room % b->o->workers));
    if (lg_run_map_insert(run, c->ssrc, i) < 0) return -1;
  }
  /* No sessions to speak of: rss_per_session stays 0 for the baseline. */
  int acked = lg_media_hello(b->media, b->o->setup_timeout_s * 1000, raw_pump, b);
  b->rss1_kib = lg_proc_rss_kib(b->proc.pid);
  if (acked < run->n_clients)
    fprintf(stderr, "lcv_loadgen: reflector acknowledged %d of %d\n", acked, run->n_clients);
  return acked == run->n_clients ? 0 : -1;
}

static int setup_server(bench_t *b) {
  int timeout = b->o->setup_timeout_s * 1000;
  if (lg_wait_tcp(&b->proc, b->lvsp_port, timeout) < 0 ||
      lg_wait_tcp(&b->proc, b->gw_port, timeout) < 0) {
    fprintf(stderr, "lcv_loadgen: the server did not start (see %s/%s.log)\n", b->o->log_dir,
            b->o->label);
    return -1;
  }
  b->has_admin = lg_admin_init(&b->admin, b->admin_port, b->state_dir) == 0;
  if (!b->has_admin) fprintf(stderr, "lcv_loadgen: no admin token: server delay not measured\n");
  char ca[96];
  snprintf(ca, sizeof ca, "%s/cert.pem", b->state_dir);
  lg_control_cfg_t cfg = {b->lvsp_port, b->secret, !b->o->no_tls,
                          access(ca, R_OK) == 0 ? ca : NULL};
  b->ctl = lg_control_new(b->run, &cfg);
  if (!b->ctl || lg_control_connect(b->ctl, timeout) < 0) return -1;
  return 0;
}

/* Joins everyone; memory is read before and after, both at rest. */
static int join_all(bench_t *b) {
  sleep_pump(b, 300);
  b->rss0_kib = lg_proc_rss_kib(b->proc.pid);
  lg_cpu_t c0, c1;
  lg_proc_cpu(b->proc.pid, &c0);
  double gen0 = lg_own_cpu_s(RUSAGE_SELF);
  int rc = lg_control_join(b->ctl, b->o->inflight, b->o->setup_timeout_s * 1000, &b->join);
  lg_proc_cpu(b->proc.pid, &c1);
  b->join_cpu_s = c1.user_s + c1.sys_s - c0.user_s - c0.sys_s;
  b->gen_join_cpu_s = lg_own_cpu_s(RUSAGE_SELF) - gen0;
  sleep_pump(b, 500); /* the workers apply the last commands */
  b->rss1_kib = lg_proc_rss_kib(b->proc.pid);
  fprintf(stderr, "lcv_loadgen: %s: %d clients joined, join p50 %.2f ms p99 %.2f ms\n", b->o->label,
          b->join.joined, b->join.p50_ms, b->join.p99_ms);
  return rc;
}

/* The control plane's cost of sessions that only stay connected: the
 * server's CPU while the clients send nothing but heartbeats (spread over
 * the interval, as clients that joined at different times would). */
static void measure_idle(bench_t *b) {
  lg_cpu_t c0, c1;
  uint64_t hb0 = lg_control_heartbeats(b->ctl);
  int64_t t0 = lg_now_ns();
  lg_proc_cpu(b->proc.pid, &c0);
  sleep_pump(b, (int)(b->o->idle_seconds * 1000));
  lg_proc_cpu(b->proc.pid, &c1);
  b->idle_wall_s = (double)(lg_now_ns() - t0) / 1e9;
  b->idle_cpu_s = c1.user_s + c1.sys_s - c0.user_s - c0.sys_s;
  b->idle_heartbeats = lg_control_heartbeats(b->ctl) - hb0;
  fprintf(stderr,
          "lcv_loadgen: %s: %d idle sessions, %llu heartbeats in %.1f s, server CPU %.3f s\n",
          b->o->label, b->join.joined, (unsigned long long)b->idle_heartbeats, b->idle_wall_s,
          b->idle_cpu_s);
}

/* ---- steps --------------------------------------------------------------- */

static double cpu_total(const lg_cpu_t *c) {
  return c->user_s + c->sys_s;
}

/* Runs a step hook through sh with every %p replaced by the target's pid. */
static void run_hook(const bench_t *b, const char *cmd) {
  char buf[2048], pid[16];
  size_t n = 0;
  if (!cmd) return;
  snprintf(pid, sizeof pid, "%d", (int)b->proc.pid);
  for (const char *p = cmd; *p && n + sizeof pid < sizeof buf; p++) {
    if (p[0] == '%' && p[1] == 'p') {
      n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", pid);
      p++;
    } else {
      buf[n++] = *p;
    }
  }
  buf[n] = '\0';
  int rc = system(buf);
  if (rc != 0) fprintf(stderr, "lcv_loadgen: hook \"%s\" returned %d\n", buf, rc);
}

/* The server's forwarding delay over the step: the difference of two
 * readings of its histogram. */
static void server_delay(const uint64_t *h0, const uint64_t *h1, lg_step_result_t *r) {
  uint64_t d[SC_LATHIST_BUCKETS];
  for (int i = 0; i < SC_LATHIST_BUCKETS; i++) d[i] = h1[i] >= h0[i] ? h1[i] - h0[i] : 0;
  r->srv_fwd_count = (double)sc_lathist_total(d);
  r->srv_fwd_p50_us = (double)sc_lathist_quantile_us(d, 0.50);
  r->srv_fwd_p99_us = (double)sc_lathist_quantile_us(d, 0.99);
  r->srv_fwd_p999_us = (double)sc_lathist_quantile_us(d, 0.999);
}

static int measure(bench_t *b, int rooms, double seconds, measured_t *m) {
  lg_step_cfg_t cfg = {rooms, seconds};
  uint64_t h0[SC_LATHIST_BUCKETS], h1[SC_LATHIST_BUCKETS];
  int delay_ok = b->has_admin && lg_admin_fwd_hist(&b->admin, h0) == 0;
  run_hook(b, b->o->step_start_cmd);
  int64_t t0 = lg_now_ns();
  lg_proc_cpu(b->proc.pid, &m->cpu0);
  lg_net_counters(&m->net0);
  int srv_ports[64], n_srv = b->o->workers < 64 ? b->o->workers : 64;
  for (int i = 0; i < n_srv; i++) srv_ports[i] = b->udp_base + i;
  unsigned long long srv0 = lg_udp_drops(srv_ports, n_srv);
  unsigned long long gen0 = lg_udp_drops(b->run->sock_ports, b->run->n_socks);
  int rc = lg_media_step(b->media, &cfg, &m->r, b->ctl ? lg_control_pump_quiet : raw_pump,
                         b->ctl ? (void *)b->ctl : (void *)b);
  lg_proc_cpu(b->proc.pid, &m->cpu1);
  lg_net_counters(&m->net1);
  m->srv_drops = lg_udp_drops(srv_ports, n_srv) - srv0;
  m->gen_drops = lg_udp_drops(b->run->sock_ports, b->run->n_socks) - gen0;
  m->wall_s = (double)(lg_now_ns() - t0) / 1e9;
  run_hook(b, b->o->step_end_cmd);
  m->r.srv_fwd_count = m->r.srv_fwd_p50_us = m->r.srv_fwd_p99_us = m->r.srv_fwd_p999_us = -1;
  if (rc == 0 && delay_ok && lg_admin_fwd_hist(&b->admin, h1) == 0) server_delay(h0, h1, &m->r);
  b->steps++;
  return rc;
}

static double cpu_us_per_fwd(const measured_t *m) {
  double cpu = cpu_total(&m->cpu1) - cpu_total(&m->cpu0);
  return m->r.received ? cpu * 1e6 / (double)m->r.received : 0;
}

static int step_passes(const bench_t *b, const lg_step_result_t *r) {
  double loss = r->expected ? (double)r->lost / (double)r->expected : 1;
  return r->received && !r->verify_fail && !r->send_fail && loss <= b->o->loss_limit &&
         r->p50_us <= b->o->p50_limit_ms * 1000 &&
         (!b->o->p99_limit_ms || r->p99_us <= b->o->p99_limit_ms * 1000);
}

static void print_step(const bench_t *b, const char *phase, const measured_t *m, int pass) {
  const lg_opts_t *o = b->o;
  const lg_step_result_t *r = &m->r;
  double s = r->send_s > 0 ? r->send_s : 1;
  double cpu = cpu_total(&m->cpu1) - cpu_total(&m->cpu0);
  printf(
      "{\"kind\":\"step\",\"label\":\"%s\",\"phase\":\"%s\",\"rooms\":%d,\"send_s\":%.3f,"
      "\"sent\":%llu,\"expected\":%llu,\"received\":%llu,\"lost\":%llu,\"loss\":%.6f,"
      "\"dups\":%llu,\"stale\":%llu,\"verify_fail\":%llu,\"unknown\":%llu,\"send_fail\":%llu,"
      "\"rtcp\":%llu,"
      "\"pps_in\":%.0f,\"pps_out\":%.0f,\"offered_pps_out\":%d,"
      "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
      "\"srv_cpu_s\":%.3f,\"srv_user_s\":%.3f,\"srv_sys_s\":%.3f,\"srv_media_cpu_s\":%.3f,"
      "\"srv_cpu_util\":%.3f,\"cpu_us_per_fwd\":%.3f,\"gen_cpu_s\":%.3f,"
      "\"gen_cpu_util\":%.3f,\"max_send_lag_ms\":%.3f,\"udp_rcvbuf_errors\":%llu,"
      "\"udp_sndbuf_errors\":%llu,\"softnet_drops\":%llu,\"srv_sock_drops\":%llu,"
      "\"gen_sock_drops\":%llu,\"srv_fwd_count\":%.0f,\"srv_fwd_p50_us\":%.0f,"
      "\"srv_fwd_p99_us\":%.0f,\"srv_fwd_p999_us\":%.0f,\"pass\":%s}\n",
      o->label, phase, r->rooms, r->send_s, (unsigned long long)r->sent,
      (unsigned long long)r->expected, (unsigned long long)r->received, (unsigned long long)r->lost,
      r->expected ? (double)r->lost / (double)r->expected : 0, (unsigned long long)r->dups,
      (unsigned long long)r->stale, (unsigned long long)r->verify_fail,
      (unsigned long long)r->unknown, (unsigned long long)r->send_fail, (unsigned long long)r->rtcp,
      (double)r->sent / s, (double)r->received / s,
      o->speakers * (o->members - 1) * o->rate * r->rooms, r->p50_us, r->p99_us, r->p999_us,
      r->max_us, cpu, m->cpu1.user_s - m->cpu0.user_s, m->cpu1.sys_s - m->cpu0.sys_s,
      m->cpu1.media_s - m->cpu0.media_s, cpu / m->wall_s, cpu_us_per_fwd(m), r->gen_cpu_s,
      r->gen_cpu_s / m->wall_s, r->max_lag_ms,
      m->net1.udp_rcvbuf_errors - m->net0.udp_rcvbuf_errors,
      m->net1.udp_sndbuf_errors - m->net0.udp_sndbuf_errors,
      m->net1.softnet_drops - m->net0.softnet_drops, m->srv_drops, m->gen_drops, r->srv_fwd_count,
      r->srv_fwd_p50_us, r->srv_fwd_p99_us, r->srv_fwd_p999_us, pass ? "true" : "false");
  fflush(stdout);
  fprintf(stderr, "lcv_loadgen: %s %s rooms %d: out %.0f pps, loss %.4f%%, p99 %.0f us, %s\n",
          o->label, phase, r->rooms, (double)r->received / s,
          r->expected ? 100.0 * (double)r->lost / (double)r->expected : 0, r->p99_us,
          pass ? "pass" : "FAIL");
}

/* Smoke checks: traffic flowed and every packet that arrived verified. */
static void check_step(bench_t *b, const lg_step_result_t *r) {
  if (r->received) b->any_received = 1;
  if (r->verify_fail || r->unknown || r->dups || r->send_fail) b->failed_checks++;
  if (b->o->check_lossless && r->lost) b->failed_checks++;
}

static int run_one(bench_t *b, const char *phase, int rooms, double seconds, measured_t *m) {
  if (measure(b, rooms, seconds, m) < 0) return -1;
  int pass = step_passes(b, &m->r);
  print_step(b, phase, m, pass);
  check_step(b, &m->r);
  if (pass && rooms > b->best_rooms) {
    b->best_rooms = rooms;
    b->best = m->r;
    b->best_cpu_us = cpu_us_per_fwd(m);
  }
  return pass;
}

/* One load level, tried up to LEVEL_TRIES times (the machine is shared
 * and noisy: another process's burst should not end the search). */
static int level(bench_t *b, const char *phase, int rooms) {
  measured_t m;
  int pass = run_one(b, phase, rooms, b->o->step_seconds, &m);
  for (int k = 1; pass == 0 && b->o->ramp_start && k < LEVEL_TRIES; k++)
    pass = run_one(b, "retry", rooms, b->o->step_seconds, &m);
  return pass;
}

/* Between the best loss-free level and the first failing one, halves the
 * gap up to REFINE_STEPS times (the ramp's factor is coarse). */
static void refine(bench_t *b, int fail_rooms) {
  for (int k = 0; k < REFINE_STEPS; k++) {
    int lo = b->best_rooms, mid = (lo + fail_rooms) / 2;
    if (lo < 1 || fail_rooms - lo <= 1 + lo / 20) return;
    int pass = level(b, "refine", mid);
    if (pass < 0) return;
    if (!pass) fail_rooms = mid;
  }
}

/* Raises the active rooms by the ramp factor until a level fails. */
static void ramp(bench_t *b) {
  const lg_opts_t *o = b->o;
  int rooms = o->ramp_start ? o->ramp_start : o->rooms;
  for (int guard = 0; guard < 200; guard++) {
    int pass = level(b, o->ramp_start ? "ramp" : "fixed", rooms);
    if (pass == 0 && o->ramp_start) refine(b, rooms);
    if (pass <= 0 || !o->ramp_start || rooms >= o->rooms) break;
    int next = (int)ceil(rooms * o->ramp_factor);
    rooms = next > o->rooms ? o->rooms : next;
  }
}

/* The step at half the best rate, run HALF_TRIES times: the one with the
 * median p99 is reported. One window's p99 on a shared 2-core machine is
 * mostly whichever other process ran then; the median of three is the
 * server's. */
static int by_p99(const void *a, const void *b) {
  double x = ((const measured_t *)a)->r.p99_us, y = ((const measured_t *)b)->r.p99_us;
  return (x > y) - (x < y);
}

static int by_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void half_rate(bench_t *b) {
  measured_t m[HALF_TRIES];
  if (b->o->half_seconds <= 0 || (b->best_rooms < 1 && !b->o->half_at)) return;
  int rooms = b->o->half_at ? b->o->half_at : b->best_rooms / 2 > 0 ? b->best_rooms / 2 : 1;
  int n = 0;
  for (int k = 0; k < HALF_TRIES; k++)
    if (run_one(b, "half", rooms, b->o->half_seconds, &m[n]) >= 0) n++;
  if (!n) return;
  double p50[HALF_TRIES], p99[HALF_TRIES];
  for (int k = 0; k < n; k++) {
    p50[k] = m[k].r.srv_fwd_p50_us;
    p99[k] = m[k].r.srv_fwd_p99_us;
  }
  qsort(p50, (size_t)n, sizeof p50[0], by_double);
  qsort(p99, (size_t)n, sizeof p99[0], by_double);
  b->half_srv_p50_us = p50[n / 2];
  b->half_srv_p99_us = p99[n / 2];
  qsort(m, (size_t)n, sizeof m[0], by_p99);
  const measured_t *mid = &m[n / 2];
  b->half = mid->r;
  b->half_cpu_us = cpu_us_per_fwd(mid);
}

/* ---- summary and main ---------------------------------------------------- */

/* {"lvsp":x,...} for one percentile of the join stages. */
static void print_stages(const char *key, const double *v) {
  printf(",\"%s\":{", key);
  for (int k = 0; k < LG_JOIN_STAGES; k++)
    printf("%s\"%s\":%.2f", k ? "," : "", lg_join_stage_names[k], v[k]);
  printf("}");
}

static void print_summary(const bench_t *b, int setup_ok, int exit_code) {
  const lg_opts_t *o = b->o;
  const lg_step_result_t *x = &b->best, *h = &b->half;
  double per_session = b->run->n_clients && b->rss1_kib > 0 && b->rss0_kib > 0
                           ? (double)(b->rss1_kib - b->rss0_kib) / b->run->n_clients
                           : 0;
  double xs = x->send_s > 0 ? x->send_s : 1;
  printf(
      "{\"kind\":\"scenario\",\"label\":\"%s\",\"target\":\"%s\",\"mode\":\"%s\","
      "\"workers\":%d,\"rooms\":%d,\"members\":%d,\"speakers\":%d,\"rate\":%d,"
      "\"payload\":%d,\"clients\":%d,\"setup_ok\":%s,\"joined\":%d,\"join_failed\":%d,"
      "\"join_wall_s\":%.3f,\"join_p50_ms\":%.2f,\"join_p99_ms\":%.2f,\"join_max_ms\":%.2f,"
      "\"rss_idle0_kib\":%ld,\"rss_idle_kib\":%ld,\"rss_per_session_kib\":%.2f,"
      "\"steps\":%d,\"max_rooms\":%d,\"max_pps_in\":%.0f,\"max_pps_out\":%.0f,"
      "\"max_p50_us\":%.1f,\"max_p99_us\":%.1f,\"max_cpu_us_per_fwd\":%.3f,"
      "\"half_rooms\":%d,\"half_pps_out\":%.0f,\"half_loss\":%.6f,\"half_p50_us\":%.1f,"
      "\"half_p99_us\":%.1f,\"half_max_us\":%.1f,\"half_cpu_us_per_fwd\":%.3f,"
      "\"dropped_connections\":%d,\"target_exit\":%d,\"checks_failed\":%d",
      o->label, o->raw ? "baseline" : "sidecar", o->raw && !o->raw_crypto ? "none" : o->mode,
      o->workers, o->rooms, o->members, o->speakers, o->rate, o->payload, b->run->n_clients,
      setup_ok ? "true" : "false", o->raw ? b->run->n_clients : b->join.joined, b->join.failed,
      b->join.wall_s, b->join.p50_ms, b->join.p99_ms, b->join.max_ms, b->rss0_kib, b->rss1_kib,
      per_session, b->steps, b->best_rooms, (double)x->sent / xs, (double)x->received / xs,
      x->p50_us, x->p99_us, b->best_cpu_us, h->rooms,
      h->send_s > 0 ? (double)h->received / h->send_s : 0,
      h->expected ? (double)h->lost / (double)h->expected : 0, h->p50_us, h->p99_us, h->max_us,
      b->half_cpu_us, b->dropped, exit_code, b->failed_checks);
  print_stages("join_stage_p50_ms", b->join.stage_p50_ms);
  print_stages("join_stage_p99_ms", b->join.stage_p99_ms);
  printf(
      ",\"srv_join_cpu_s\":%.3f,\"gen_join_cpu_s\":%.3f,\"half_srv_fwd_p50_us\":%.0f,"
      "\"half_srv_fwd_p99_us\":%.0f,\"idle_s\":%.1f,"
      "\"idle_srv_cpu_s\":%.3f,\"idle_heartbeats\":%llu,\"tls\":%s,\"srtp\":\"%s\","
      "\"webrtc_every\":%d}\n",
      b->join_cpu_s, b->gen_join_cpu_s, b->half.rooms ? b->half_srv_p50_us : -1,
      b->half.rooms ? b->half_srv_p99_us : -1, b->idle_wall_s, b->idle_cpu_s,
      (unsigned long long)b->idle_heartbeats, o->raw || o->no_tls ? "false" : "true",
      o->srtp ? o->srtp : "", o->srtp && !o->raw ? o->webrtc_every : 0);
  fflush(stdout);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int setup(bench_t *b) {
  int rc = b->o->raw ? spawn_reflector(b) : spawn_server(b);
  if (rc < 0) {
    fprintf(stderr, "lcv_loadgen: cannot start %s\n", b->o->target);
    return -1;
  }
  if (!b->o->raw && setup_server(b) < 0) return -1;
  b->media = lg_media_new(b->run, b->ctl ? lg_control_on_datagram : NULL, b->ctl);
  if (!b->media || lg_media_start(b->media) < 0) return -1;
  if (b->o->raw) return setup_raw(b);
  if (join_all(b) < 0) return -1;
  if (b->o->idle_seconds > 0) measure_idle(b);
  return 0;
}

/* Stops everything; returns the target's exit code. */
static int teardown(bench_t *b) {
  b->dropped = b->ctl ? lg_control_dropped(b->ctl) : 0;
  lg_control_free(b->ctl);
  b->ctl = NULL;
  lg_media_free(b->media);
  b->media = NULL;
  int code = b->proc.pid > 0
                 ? lg_proc_stop(&b->proc, b->o->wrapper ? STOP_GRACE_WRAPPED_MS : STOP_GRACE_MS)
                 : -1;
  if (b->state_dir[0] && strncmp(b->state_dir, "/tmp/lcv-bench-", 15) == 0)
    nftw(b->state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
  return code;
}

/* From the first step on, the main thread (the clients' connections: a
 * pass over all of them every second, 2-3 ms with 4,500 TLS connections)
 * runs only when a CPU would otherwise idle. At normal priority each pass
 * held up the media thread, which then sent the late packets in a burst
 * that queued in the server: the latency measured was the generator's.
 * SCHED_IDLE does not cut a pass short (the kernel does not preempt the
 * poll() inside it), which is why passes are also rare (lg_control.c). */
static void quiet_main_thread(void) {
  struct sched_param sp = {0};
  int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  if (rc) fprintf(stderr, "lcv_loadgen: SCHED_IDLE for the main thread: %s\n", strerror(rc));
}

int main(int argc, char **argv) {
  lg_opts_t o;
  int prc = lg_opts_parse(&o, argc, argv, stdout, stderr);
  if (prc) return prc > 0 ? 0 : 2;
  signal(SIGPIPE, SIG_IGN);
  srand((unsigned)getpid() ^ (unsigned)time(NULL));
  if (sc_token_init() < 0) return 1;
  bench_t b = {.o = &o};
  b.run = lg_run_new(&o);
  if (!b.run) return 1;
  int setup_ok = setup(&b) == 0;
  if (setup_ok && !o.join_only) {
    quiet_main_thread();
    if (!o.half_at) ramp(&b);
    half_rate(&b);
  }
  int code = teardown(&b);
  print_summary(&b, setup_ok, code);
  int bad = !setup_ok || (o.check && (b.failed_checks || (!o.join_only && !b.any_received) ||
                                      code != 0 || b.dropped != 0));
  lg_run_free(b.run);
  return bad ? 1 : 0;
}
