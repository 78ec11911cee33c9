#include "sc_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sc_notify_addr(const char *value, struct sockaddr_un *addr, socklen_t *len) {
  if (!value || (value[0] != '/' && value[0] != '@') || !value[1]) return -1;
  size_t n = strlen(value);
  /* A path needs its terminating NUL inside sun_path; an abstract name
   * takes sun_path[0] for the leading NUL instead of the '@'. */
  if (n >= sizeof addr->sun_path) return -1;
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, value, n);
  if (value[0] == '@') {
    addr->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 0;
}

/* A positive decimal number without sign, spaces or trailing text. */
static int parse_u64(const char *s, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v == 0) return -1;
  *out = v;
  return 0;
}

uint64_t sc_notify_watchdog_parse(const char *usec, const char *pid, long self) {
  uint64_t period = 0, p = 0;
  if (parse_u64(usec, &period) < 0) return 0;
  if (pid && (parse_u64(pid, &p) < 0 || p != (uint64_t)self)) return 0;
  return period;
}

int sc_notify_status_text(char *buf, size_t cap, size_t sessions, size_t channels, int draining) {
  int n = snprintf(buf, cap, "STATUS=%s%zu session%s, %zu channel%s%s",
                   draining ? "draining: " : "", sessions, sessions == 1 ? "" : "s", channels,
                   channels == 1 ? "" : "s", draining ? " left" : "");
  return n < 0 || (size_t)n >= cap ? -1 : n;
}

int sc_notify_enabled(void) {
  const char *v = getenv("NOTIFY_SOCKET");
  return v && *v;
}

int sc_notify_send(const char *msg) {
  const char *where = getenv("NOTIFY_SOCKET");
  if (!where || !*where) return 0;
  struct sockaddr_un addr;
  socklen_t alen;
  if (sc_notify_addr(where, &addr, &alen) < 0) {
    errno = EINVAL;
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  size_t len = strlen(msg);
  ssize_t sent = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&addr, alen);
  int err = errno;
  close(fd);
  if (sent == (ssize_t)len) return 1;
  errno = sent < 0 ? err : EMSGSIZE;
  return -1;
}

/* "KEY=1" and, when given, "\nSTATUS=..." in one datagram. */
static int send_with_status(const char *first, const char *status_line) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "%s%s%s", first, status_line ? "\n" : "",
                   status_line ? status_line : "");
  if (n < 0 || (size_t)n >= sizeof msg) {
    errno = EMSGSIZE;
    return -1;
  }
  return sc_notify_send(msg);
}

int sc_notify_ready(const char *status_line) {
  return send_with_status("READY=1", status_line);
}

int sc_notify_stopping(const char *status_line) {
  return send_with_status("STOPPING=1", status_line);
}

int sc_notify_reloading(const char *status_line) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char first[64];
  snprintf(first, sizeof first, "RELOADING=1\nMONOTONIC_USEC=%llu",
           (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
  return send_with_status(first, status_line);
}

uint64_t sc_notify_watchdog_usec(void) {
  return sc_notify_watchdog_parse(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), (long)getpid());
}
