/*
 * lg_proc: the process under test (litecord-voice or the raw reflector):
 * start it on free loopback ports, watch it through /proc (CPU seconds
 * split user/system and media threads, resident memory), stop it.
 *
 * Owns: the child process (lg_proc_stop reaps it).
 * Threads: main thread. lg_proc_spawn must run before the generator starts
 * any thread (fork in a single-threaded process; the child only execs).
 * Memory: nothing kept; lg_proc_t is plain values.
 */
#ifndef LG_PROC_H
#define LG_PROC_H

#include <sys/types.h>

typedef struct {
  pid_t pid;
  int reaped;
  int status; /* wait status once reaped */
} lg_proc_t;

typedef struct {
  double user_s, sys_s; /* whole process */
  double media_s;       /* threads named sc-media-* / refl-* (user + system) */
} lg_cpu_t;

/* Starts wrapper words (may be NULL) + argv, with env_add ("NAME=VALUE",
 * NULL-terminated) added to the environment and stdout/stderr appended
 * to log_path. Returns 0 or -1. */
int lg_proc_spawn(lg_proc_t *p, const char *wrapper, char *const argv[], char *const env_add[],
                  const char *log_path);
/* 1 while the process runs. */
int lg_proc_alive(lg_proc_t *p);
/* SIGINT (stop at once), then SIGKILL after grace_ms. Returns the exit code (128+signal
 * if killed), or -1 if it could not be reaped. */
int lg_proc_stop(lg_proc_t *p, int grace_ms);

int lg_proc_cpu(pid_t pid, lg_cpu_t *out);
/* The generator's own CPU seconds (user + system): who = RUSAGE_SELF or
 * RUSAGE_THREAD (the calling thread). */
double lg_own_cpu_s(int who);

/* VmRSS in KiB, or -1. */
long lg_proc_rss_kib(pid_t pid);

/* System-wide counters of where datagrams are dropped (deltas over a step
 * tell which queue overflowed: a UDP receive buffer, a send buffer, or the
 * per-CPU backlog that loopback traffic passes through). */
typedef struct {
  unsigned long long udp_rcvbuf_errors, udp_sndbuf_errors, softnet_drops;
} lg_net_t;

int lg_net_counters(lg_net_t *out);

/* Datagrams dropped so far by the UDP sockets bound to any of ports[0..n)
 * (the "drops" column of /proc/net/udp): tells whose receive buffer
 * overflowed, the server's or the generator's. */
unsigned long long lg_udp_drops(const int *ports, int n);

/* A loopback TCP port that was free a moment ago, or -1. */
int lg_free_tcp_port(void);
/* The first of n consecutive free loopback UDP ports, or -1. */
int lg_free_udp_ports(int n);
/* Waits until 127.0.0.1:port accepts TCP. Returns 0, or -1 on timeout or
 * if the process exited. */
int lg_wait_tcp(lg_proc_t *p, int port, int timeout_ms);

#endif
