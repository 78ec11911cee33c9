#include "lg_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORDS 64

extern char **environ;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* wrapper words + argv, split before fork (the child only execs). */
static int build_argv(char *words, char *const argv[], char **out) {
  int n = 0;
  for (char *save = NULL, *w = words ? strtok_r(words, " ", &save) : NULL; w && n < MAX_WORDS;
       w = strtok_r(NULL, " ", &save))
    out[n++] = w;
  for (int i = 0; argv[i]; i++) {
    if (n >= MAX_WORDS * 2) return -1;
    out[n++] = argv[i];
  }
  out[n] = NULL;
  return n;
}

static char **build_env(char *const env_add[]) {
  size_t n = 0, k = 0;
  while (environ[n]) n++;
  while (env_add && env_add[k]) k++;
  char **env = calloc(n + k + 1, sizeof *env);
  if (!env) return NULL;
  memcpy(env, environ, n * sizeof *env);
  for (size_t i = 0; i < k; i++) env[n + i] = env_add[i];
  return env;
}

int lg_proc_spawn(lg_proc_t *p, const char *wrapper, char *const argv[], char *const env_add[],
                  const char *log_path) {
  char *words = wrapper ? strdup(wrapper) : NULL;
  char *args[MAX_WORDS * 2 + 1];
  char **env = build_env(env_add);
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int rc = -1;
  memset(p, 0, sizeof *p);
  if (env && log >= 0 && (!wrapper || words) && build_argv(words, argv, args) > 0) {
    p->pid = fork();
    if (p->pid == 0) {
      dup2(log, 1);
      dup2(log, 2);
      execvpe(args[0], args, env);
      _exit(127);
    }
    rc = p->pid > 0 ? 0 : -1;
  }
  if (log >= 0) close(log);
  free(env);
  free(words);
  return rc;
}

int lg_proc_alive(lg_proc_t *p) {
  if (p->reaped || p->pid <= 0) return 0;
  if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->reaped = 1;
  return !p->reaped;
}

static int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int lg_proc_stop(lg_proc_t *p, int grace_ms) {
  if (p->pid <= 0) return -1;
  if (!lg_proc_alive(p)) return exit_code(p->status);
  kill(p->pid, SIGINT); /* at once: SIGTERM would drain (wait for the calls) */
  for (int t = 0; t < grace_ms; t += 10) {
    if (!lg_proc_alive(p)) return exit_code(p->status);
    sleep_ms(10);
  }
  kill(p->pid, SIGKILL);
  if (waitpid(p->pid, &p->status, 0) != p->pid) return -1;
  p->reaped = 1;
  return exit_code(p->status);
}

/* utime and stime (clock ticks) and the name of one /proc stat file. */
static int read_stat(const char *path, char *comm, size_t comm_size, double *user, double *sys) {
  char buf[1024];
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *open = strchr(buf, '('), *close = strrchr(buf, ')');
  unsigned long ut, st;
  if (!open || !close || close < open ||
      sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  snprintf(comm, comm_size, "%.*s", (int)(close - open - 1), open + 1);
  double hz = (double)sysconf(_SC_CLK_TCK);
  *user = (double)ut / hz;
  *sys = (double)st / hz;
  return 0;
}

static double media_threads_s(pid_t pid) {
  char dir[64], path[128], comm[64];
  double total = 0, u, s;
  snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
  DIR *d = opendir(dir);
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' || strlen(e->d_name) > 32) continue;
    snprintf(path, sizeof path, "%s/%.32s/stat", dir, e->d_name);
    if (read_stat(path, comm, sizeof comm, &u, &s) == 0 &&
        (strncmp(comm, "sc-media", 8) == 0 || strncmp(comm, "refl-", 5) == 0))
      total += u + s;
  }
  closedir(d);
  return total;
}

int lg_proc_cpu(pid_t pid, lg_cpu_t *out) {
  char path[64], comm[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_stat(path, comm, sizeof comm, &out->user_s, &out->sys_s) < 0) return -1;
  out->media_s = media_threads_s(pid);
  return 0;
}

double lg_own_cpu_s(int who) {
  struct rusage ru;
  if (getrusage(who, &ru) < 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long lg_proc_rss_kib(pid_t pid) {
  char path[64], line[256];
  long kib = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  fclose(f);
  return kib;
}

/* Value of column `name` in the "Udp:" header/value line pair. */
static int udp_counter(const char *hdr, const char *val, const char *name,
                       unsigned long long *out) {
  char h[1024], v[1024], *hs = NULL, *vs = NULL;
  snprintf(h, sizeof h, "%s", hdr);
  snprintf(v, sizeof v, "%s", val);
  for (char *a = strtok_r(h, " \n", &hs), *b = strtok_r(v, " \n", &vs); a && b;
       a = strtok_r(NULL, " \n", &hs), b = strtok_r(NULL, " \n", &vs))
    if (strcmp(a, name) == 0) return *out = strtoull(b, NULL, 10), 0;
  return -1;
}

static int read_snmp(lg_net_t *out) {
  char hdr[1024] = "", line[1024];
  int rc = -1;
  FILE *f = fopen("/proc/net/snmp", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "Udp: ", 5) != 0) continue;
    if (!hdr[0]) {
      snprintf(hdr, sizeof hdr, "%s", line);
      continue;
    }
    rc = udp_counter(hdr, line, "RcvbufErrors", &out->udp_rcvbuf_errors) |
         udp_counter(hdr, line, "SndbufErrors", &out->udp_sndbuf_errors);
    break;
  }
  fclose(f);
  return rc;
}

int lg_net_counters(lg_net_t *out) {
  char line[512];
  unsigned processed, dropped;
  memset(out, 0, sizeof *out);
  FILE *f = fopen("/proc/net/softnet_stat", "r");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "%x %x", &processed, &dropped) == 2) out->softnet_drops += dropped;
    fclose(f);
  }
  return read_snmp(out);
}

static int port_listed(const int *ports, int n, int port) {
  for (int i = 0; i < n; i++)
    if (ports[i] == port) return 1;
  return 0;
}

unsigned long long lg_udp_drops(const int *ports, int n) {
  char line[512];
  unsigned long long total = 0;
  FILE *f = fopen("/proc/net/udp", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    unsigned port;
    char *last = NULL, *save = NULL;
    if (sscanf(line, " %*d: %*8x:%4x", &port) != 1) continue; /* the header line */
    for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) last = t;
    if (last && port_listed(ports, n, (int)port)) total += strtoull(last, NULL, 10);
  }
  fclose(f);
  return total;
}

static int bind_port(int type, int port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0) return -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

int lg_free_tcp_port(void) {
  return bind_port(SOCK_STREAM, 0);
}

int lg_free_udp_ports(int n) {
  for (int attempt = 0; attempt < 200; attempt++) {
    int base = 20000 + (int)((unsigned)rand() % 30000u), ok = 1;
    for (int i = 0; ok && i < n; i++) ok = bind_port(SOCK_DGRAM, base + i) == base + i;
    if (ok) return base;
  }
  return -1;
}

int lg_wait_tcp(lg_proc_t *p, int port, int timeout_ms) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (int t = 0; t < timeout_ms; t += 50) {
    if (!lg_proc_alive(p)) return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    if (ok) return 0;
    sleep_ms(50);
  }
  return -1;
}
