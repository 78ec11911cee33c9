/*
 * notify_sink: a stand-in for systemd's notification socket, for the node
 * tests (Node's dgram has no AF_UNIX datagram sockets).
 *
 *   notify_sink SOCKET [--stop-on-ready]
 *       Binds an AF_UNIX SOCK_DGRAM socket at SOCKET (a path, or "@name"
 *       for the abstract namespace, as $NOTIFY_SOCKET names it), prints
 *       "LISTENING" and then one line per datagram received:
 *       "MSG <pid> <text>", with the newlines inside the text printed as
 *       tabs and <pid> the sender's (SCM_CREDENTIALS, as systemd reads it).
 *       With --stop-on-ready, a datagram holding READY=1 makes it stop
 *       the sender with SIGSTOP before printing it (the line then reads
 *       "MSG <pid> <text>" followed by "STOPPED <pid>"), so the test can
 *       look at what the server had done at the moment it said ready;
 *       the test resumes it with SIGCONT.
 *
 * Runs until killed. Exit status: 1 runtime error, 2 usage error.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int bind_socket(const char *where) {
  struct sockaddr_un a;
  size_t n = strlen(where);
  if (n < 2 || n >= sizeof a.sun_path || (where[0] != '/' && where[0] != '@')) return -1;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, where, n);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  if (where[0] == '@') {
    a.sun_path[0] = '\0';
    len--; /* abstract: exactly the name's bytes */
  } else {
    unlink(where);
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&a, len) < 0) {
    perror("notify_sink: socket");
    return -1;
  }
  return fd;
}

/* One datagram: its text (NUL-terminated) and the sender's pid (0 if the
 * kernel attached no credentials). -1 on error. */
static int receive(int fd, char *text, size_t cap, pid_t *pid) {
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(struct ucred))];
  } ctl;
  struct iovec iov = {.iov_base = text, .iov_len = cap - 1};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t n = recvmsg(fd, &msg, 0);
  if (n < 0) return -1;
  text[n] = '\0';
  *pid = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred cred;
      memcpy(&cred, CMSG_DATA(c), sizeof cred);
      *pid = cred.pid;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || (argc == 3 && strcmp(argv[2], "--stop-on-ready") != 0) || argc > 3) {
    fprintf(stderr, "usage: notify_sink SOCKET [--stop-on-ready]\n");
    return 2;
  }
  int stop_on_ready = argc == 3;
  int fd = bind_socket(argv[1]);
  if (fd < 0) return 1;
  printf("LISTENING\n");
  fflush(stdout);
  char text[4096];
  pid_t pid;
  while (receive(fd, text, sizeof text, &pid) == 0) {
    /* First, so the server is held where it said ready. */
    int stopped = stop_on_ready && pid > 0 && strstr(text, "READY=1") && kill(pid, SIGSTOP) == 0;
    for (char *p = text; *p; p++)
      if (*p == '\n') *p = '\t';
    printf("MSG %d %s\n", (int)pid, text);
    if (stopped) printf("STOPPED %d\n", (int)pid);
    fflush(stdout);
  }
  perror("notify_sink: recvmsg");
  return 1;
}
