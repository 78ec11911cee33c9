#include "sc_load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEDIA_THREAD_PREFIX "sc-media-"
#define DROP_WEIGHT 10.0

static double clamp01(double v) {
  return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

double sc_load_health(double states, double capacity, double cpu_share, double drop_ratio) {
  double s = clamp01(states / (capacity > 0.0 ? capacity : 1.0));
  double worst = s;
  double c = clamp01(cpu_share), d = clamp01(DROP_WEIGHT * drop_ratio);
  if (c > worst) worst = c;
  if (d > worst) worst = d;
  return 1.0 - worst;
}

void sc_load_count_drops(const sc_media_stats_t *st, uint64_t *dropped, uint64_t *handled) {
  *dropped = st->send_errors + st->drop_auth + st->drop_malformed;
  *handled = st->rx_datagrams + st->tx_packets + st->send_errors;
}

/* Field 14 (utime) and 15 (stime) follow the command name, which is
 * wrapped in parentheses and may itself contain ") ": so scan from the
 * last ')'. */
int sc_load_parse_stat(const char *buf, size_t len, uint64_t *ticks) {
  const char *end = NULL;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == ')') end = buf + i;
  if (!end) return -EINVAL;
  const char *p = end + 1, *stop = buf + len;
  uint64_t vals[2] = {0, 0};
  /* After ')': field 3 (state) is number 1 here; utime is 12, stime 13. */
  for (int field = 0; field < 13; field++) {
    while (p < stop && *p == ' ') p++;
    if (p >= stop) return -EINVAL;
    const char *start = p;
    uint64_t v = 0;
    while (p < stop && *p != ' ') {
      if (field >= 11 && (*p < '0' || *p > '9')) return -EINVAL;
      if (field >= 11) v = v * 10 + (uint64_t)(*p - '0');
      p++;
    }
    if (p == start) return -EINVAL;
    if (field >= 11) vals[field - 11] = v;
  }
  *ticks = vals[0] + vals[1];
  return 0;
}

/* Reads a small /proc file into buf (NUL-terminated); length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, buf, cap - 1);
  int err = errno;
  close(fd);
  if (n < 0) return -err;
  buf[n] = '\0';
  return n;
}

/* The worker index of a media thread (its name is "sc-media-<i>"), or -1. */
static int media_thread_index(const char *tid) {
  char path[300], comm[64];
  snprintf(path, sizeof path, "/proc/self/task/%s/comm", tid);
  size_t plen = strlen(MEDIA_THREAD_PREFIX);
  if (read_small(path, comm, sizeof comm) <= 0 || strncmp(comm, MEDIA_THREAD_PREFIX, plen) != 0)
    return -1;
  int index = 0;
  for (const char *p = comm + plen; *p >= '0' && *p <= '9'; p++) index = index * 10 + (*p - '0');
  return index;
}

/* Calls fn(worker index, CPU seconds) for every media thread. */
static void each_media_thread(void (*fn)(int index, double cpu_s, void *arg), void *arg) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return;
  long hz = sysconf(_SC_CLK_TCK);
  for (struct dirent *e; (e = readdir(d));) {
    char path[300], stat[1024];
    uint64_t ticks;
    int index;
    if (e->d_name[0] == '.' || (index = media_thread_index(e->d_name)) < 0) continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    ssize_t n = read_small(path, stat, sizeof stat);
    if (n > 0 && sc_load_parse_stat(stat, (size_t)n, &ticks) == 0)
      fn(index, (double)ticks / (double)(hz > 0 ? hz : 100), arg);
  }
  closedir(d);
}

static void add_total(int index, double cpu_s, void *arg) {
  (void)index;
  *(double *)arg += cpu_s;
}

double sc_load_media_cpu_seconds(void) {
  double total = 0.0;
  each_media_thread(add_total, &total);
  return total;
}

typedef struct {
  double *out;
  int n;
} per_worker_t;

static void add_worker(int index, double cpu_s, void *arg) {
  per_worker_t *p = arg;
  if (index < p->n) p->out[index] += cpu_s;
}

void sc_load_media_cpu_per_worker(double *out, int n) {
  per_worker_t p = {out, n};
  for (int i = 0; i < n; i++) out[i] = 0.0;
  each_media_thread(add_worker, &p);
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sc_load_sample(sc_load_t *l, const sc_media_t *media, int n_workers) {
  sc_load_sample_t now = {.at_ms = monotonic_ms()};
  if (media) {
    sc_media_stats_t st;
    sc_media_get_stats(media, &st);
    sc_load_count_drops(&st, &now.dropped, &now.handled);
    now.cpu_s = sc_load_media_cpu_seconds();
  }
  const sc_load_sample_t *p = &l->prev;
  int64_t window = now.at_ms - p->at_ms;
  if (l->have_prev && window > 0) {
    double cpu = now.cpu_s - p->cpu_s;
    l->cpu_share = clamp01(cpu / ((double)window / 1000.0 * (n_workers > 0 ? n_workers : 1)));
    uint64_t handled = now.handled - p->handled, dropped = now.dropped - p->dropped;
    l->drop_ratio = handled ? clamp01((double)dropped / (double)handled) : 0.0;
  }
  l->cpu_s = now.cpu_s;
  l->prev = now;
  l->have_prev = 1;
}
