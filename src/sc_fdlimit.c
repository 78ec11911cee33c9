#include "sc_fdlimit.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "sc_log.h"

#define LOG "limits"

/* lws treats a limit above 10,000,000 as a broken ulimit and falls back to
 * 2,560 fds, so the plan never asks for more. */
#define SC_FD_SOFT_MAX 10000000

int sc_fdlimit_plan(uint32_t want, int in_use, uint64_t hard, sc_fdlimit_t *out) {
  memset(out, 0, sizeof *out);
  out->asked = want;
  int64_t base = (int64_t)(in_use > 0 ? in_use : 0) + SC_FD_LATE_OPENS;
  int64_t ceiling = hard < (uint64_t)SC_FD_SOFT_MAX ? (int64_t)hard : SC_FD_SOFT_MAX;
  int64_t soft = base + want + SC_FD_CONTROL_SPARE + SC_FD_FILE_SPARE;
  if (soft > ceiling) soft = ceiling;
  int64_t client_below = soft - SC_FD_FILE_SPARE - SC_FD_CONTROL_SPARE;
  if (client_below - base < 1) return -1;
  out->soft = (int)soft;
  out->control_below = (int)(soft - SC_FD_FILE_SPARE);
  out->client_below = (int)client_below;
  out->connections = (uint32_t)(client_below - base);
  return 0;
}

/* How many fds are open now (not the highest: fds are handed out lowest
 * first, so an inherited fd 251 leaves the holes below it to connections);
 * 64 when /proc is not there. */
static int fds_in_use(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 64;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n > 0 ? n - 1 : 0; /* the directory's own fd */
}

int sc_fdlimit_apply(sc_fdlimit_t *l, uint32_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
    sc_log_error(LOG, "cannot read the fd limit: %s", strerror(errno));
    return -1;
  }
  uint64_t hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
  int in_use = fds_in_use();
  if (sc_fdlimit_plan(want, in_use, hard, l) < 0) {
    sc_log_error(LOG,
                 "the fd hard limit (%llu) leaves no room for connections; raise it "
                 "(ulimit -Hn, systemd LimitNOFILE=)",
                 (unsigned long long)hard);
    return -1;
  }
  rl.rlim_cur = (rlim_t)l->soft;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
    sc_log_error(LOG, "cannot set the fd limit to %d: %s", l->soft, strerror(errno));
    return -1;
  }
  if (l->connections < want)
    sc_log_warn(LOG,
                "the fd hard limit (%llu) holds %u connections, not the %u asked "
                "(--max-connections); raise it (ulimit -Hn, systemd LimitNOFILE=)",
                (unsigned long long)hard, l->connections, want);
  else
    sc_log_info(LOG, "up to %u connections (fd limit %d)", l->connections, l->soft);
  return 0;
}

static void log_refusals(sc_fdlimit_t *l, int64_t now_ms) {
  uint64_t n = sc_log_limit(&l->refusal_log, now_ms, SC_FDLIMIT_LOG_MS);
  if (n)
    sc_log_warn(LOG,
                "refused %llu new connection(s) at the connection limit (%u; "
                "--max-connections, fd limit %d)",
                (unsigned long long)n, l->connections, l->soft);
}

int sc_fdlimit_admit(sc_fdlimit_t *l, int fd, sc_admit_class_t cls, int64_t now_ms) {
  if (!l->soft) return 1; /* no plan applied (sc_fdlimit_apply not run) */
  int below = cls == SC_ADMIT_CONTROL ? l->control_below : l->client_below;
  if (fd >= 0 && fd < below) return 1;
  l->refused++;
  log_refusals(l, now_ms);
  return 0;
}
