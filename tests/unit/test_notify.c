/*
 * sc_notify: the sd_notify protocol written in our code. The pure parts
 * (socket address, watchdog period, STATUS text) with their edge cases,
 * then real datagrams to a socket bound here, at a path and in the
 * abstract namespace, as systemd binds them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sc_notify.h"
#include "sc_test.h"

static void test_addr_path(void) {
  struct sockaddr_un a;
  socklen_t len = 0;
  ASSERT_EQ(sc_notify_addr("/run/systemd/notify", &a, &len), 0);
  ASSERT_EQ(a.sun_family, AF_UNIX);
  ASSERT_STREQ(a.sun_path, "/run/systemd/notify");
  ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + sizeof "/run/systemd/notify");
}

static void test_addr_abstract(void) {
  struct sockaddr_un a;
  socklen_t len = 0;
  ASSERT_EQ(sc_notify_addr("@sd-notify", &a, &len), 0);
  ASSERT_EQ(a.sun_path[0], '\0');
  ASSERT_MEMEQ(a.sun_path + 1, "sd-notify", 9);
  /* Exactly the name: a trailing NUL would name another socket. */
  ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 1 + 9);
}

static void test_addr_refused(void) {
  struct sockaddr_un a;
  socklen_t len;
  char longest[sizeof a.sun_path + 2];
  memset(longest, 'x', sizeof longest - 1);
  longest[0] = '/';
  longest[sizeof longest - 1] = '\0';
  ASSERT_EQ(sc_notify_addr(NULL, &a, &len), -1);
  ASSERT_EQ(sc_notify_addr("", &a, &len), -1);
  ASSERT_EQ(sc_notify_addr("run/notify", &a, &len), -1); /* relative */
  ASSERT_EQ(sc_notify_addr("@", &a, &len), -1);
  ASSERT_EQ(sc_notify_addr("/", &a, &len), -1);
  ASSERT_EQ(sc_notify_addr(longest, &a, &len), -1);
  longest[sizeof a.sun_path - 1] = '\0'; /* 107 bytes + NUL: fits */
  ASSERT_EQ(sc_notify_addr(longest, &a, &len), 0);
}

static void test_watchdog_parse(void) {
  ASSERT_EQ(sc_notify_watchdog_parse("30000000", NULL, 42), 30000000);
  ASSERT_EQ(sc_notify_watchdog_parse("30000000", "42", 42), 30000000);
  ASSERT_EQ(sc_notify_watchdog_parse("30000000", "43", 42), 0); /* inherited by a child */
  ASSERT_EQ(sc_notify_watchdog_parse(NULL, "42", 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse("0", NULL, 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse("-5", NULL, 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse(" 5", NULL, 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse("5s", NULL, 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse("99999999999999999999999", NULL, 42), 0);
  ASSERT_EQ(sc_notify_watchdog_parse("30000000", "x", 42), 0);
}

static void test_status_text(void) {
  char buf[64];
  ASSERT_EQ(sc_notify_status_text(buf, sizeof buf, 0, 0, 0), (int)strlen(buf));
  ASSERT_STREQ(buf, "STATUS=0 sessions, 0 channels");
  sc_notify_status_text(buf, sizeof buf, 1, 1, 0);
  ASSERT_STREQ(buf, "STATUS=1 session, 1 channel");
  sc_notify_status_text(buf, sizeof buf, 12, 3, 1);
  ASSERT_STREQ(buf, "STATUS=draining: 12 sessions, 3 channels left");
  ASSERT_EQ(sc_notify_status_text(buf, 10, 12, 3, 0), -1);
}

/* A datagram socket bound where NOTIFY_SOCKET says. */
static int bind_sink(const char *where) {
  struct sockaddr_un a;
  socklen_t len;
  ASSERT_EQ(sc_notify_addr(where, &a, &len), 0);
  if (where[0] == '/') unlink(where);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_TRUE(fd >= 0);
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, len), 0);
  return fd;
}

static void expect_datagram(int fd, const char *want) {
  char buf[512];
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  ASSERT_TRUE(n >= 0);
  buf[n] = '\0';
  ASSERT_STREQ(buf, want);
}

static void sends_to(const char *where) {
  int fd = bind_sink(where);
  setenv("NOTIFY_SOCKET", where, 1);
  ASSERT_EQ(sc_notify_enabled(), 1);
  ASSERT_EQ(sc_notify_ready("STATUS=0 sessions, 0 channels"), 1);
  expect_datagram(fd, "READY=1\nSTATUS=0 sessions, 0 channels");
  ASSERT_EQ(sc_notify_stopping(NULL), 1);
  expect_datagram(fd, "STOPPING=1");
  ASSERT_EQ(sc_notify_send("WATCHDOG=1"), 1);
  expect_datagram(fd, "WATCHDOG=1");
  close(fd);
  /* Nobody listening any more: an error the caller can log. */
  if (where[0] == '/') unlink(where);
  ASSERT_EQ(sc_notify_send("WATCHDOG=1"), -1);
  unsetenv("NOTIFY_SOCKET");
}

static void test_send_path(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/sc-notify-test-%d.sock", (int)getpid());
  sends_to(path);
}

static void test_send_abstract(void) {
  char name[64];
  snprintf(name, sizeof name, "@sc-notify-test-%d", (int)getpid());
  sends_to(name);
}

static void test_no_socket(void) {
  unsetenv("NOTIFY_SOCKET");
  ASSERT_EQ(sc_notify_enabled(), 0);
  ASSERT_EQ(sc_notify_ready(NULL), 0);
  ASSERT_EQ(sc_notify_stopping(NULL), 0);
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  ASSERT_EQ(sc_notify_send("READY=1"), -1);
  ASSERT_EQ(errno, EINVAL);
  unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_env(void) {
  char pid[24];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  setenv("WATCHDOG_USEC", "2000000", 1);
  setenv("WATCHDOG_PID", pid, 1);
  ASSERT_EQ(sc_notify_watchdog_usec(), 2000000);
  setenv("WATCHDOG_PID", "1", 1);
  ASSERT_EQ(sc_notify_watchdog_usec(), 0);
  unsetenv("WATCHDOG_PID");
  ASSERT_EQ(sc_notify_watchdog_usec(), 2000000);
  unsetenv("WATCHDOG_USEC");
  ASSERT_EQ(sc_notify_watchdog_usec(), 0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_addr_path);
  RUN_TEST(test_addr_abstract);
  RUN_TEST(test_addr_refused);
  RUN_TEST(test_watchdog_parse);
  RUN_TEST(test_status_text);
  RUN_TEST(test_send_path);
  RUN_TEST(test_send_abstract);
  RUN_TEST(test_no_socket);
  RUN_TEST(test_watchdog_env);
  SC_TEST_DONE();
}
