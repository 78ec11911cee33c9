/*
 * sc_service: what systemd hears from a running server. A real media plane
 * (two workers on loopback) and a registry; the notification socket is
 * bound here (abstract namespace) and named in $NOTIFY_SOCKET with a
 * watchdog period, and the test drives sc_service_tick itself (no event
 * loop). The stuck worker is real: its datagram handler blocks on a
 * semaphore, the way a worker stuck in a call would, and while it is
 * blocked WATCHDOG=1 must not be sent; once released, it is again.
 *
 * Steps of one scenario (each builds on the previous one's state).
 */
#include <arpa/inet.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sc_app.h"
#include "sc_notify.h"
#include "sc_service.h"
#include "sc_test.h"
#include "sc_token.h"

static sc_app_t app;
static sc_service_t *svc;
static int sink = -1;
static sem_t entered, release;

/* A worker that gets "STALL" blocks in here until the test releases it. */
static int stalling_handler(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                            const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  (void)w, (void)from, (void)reply, (void)cap;
  if (len == 5 && memcmp(buf, "STALL", 5) == 0) {
    sem_post(&entered);
    while (sem_wait(&release) < 0) {
    }
  }
  return 0;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The next datagram within about 2 s ("" if none came). */
static const char *next_datagram(int wait) {
  static char buf[512];
  buf[0] = '\0';
  for (int t = 0; t <= (wait ? 2000 : 0); t += 10) {
    ssize_t n = recv(sink, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n >= 0) {
      buf[n] = '\0';
      return buf;
    }
    if (wait) sleep_ms(10);
  }
  return buf;
}

/* Waits until worker i turned after now (pinging it), up to ~10 s. */
static void wait_turned(int i) {
  uint64_t b = sc_media_worker_beats(app.media, i);
  sc_media_ping(app.media);
  for (int t = 0; t < 10000 && sc_media_worker_beats(app.media, i) == b; t += 5) sleep_ms(5);
  ASSERT_TRUE(sc_media_worker_beats(app.media, i) != b);
}

/* A UDP datagram to the port of room `room`'s worker. */
static void send_to_room(uint64_t room, const char *text) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(sc_media_port_for_room(app.media, room)),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a), (long)strlen(text));
  close(fd);
}

static void test_ready(void) {
  svc = sc_service_start(&app);
  ASSERT_TRUE(svc != NULL);
  ASSERT_STREQ(next_datagram(1), "READY=1\nSTATUS=0 sessions, 0 channels");
}

static void test_watchdog_fed(void) {
  for (int i = 0; i < sc_media_workers(app.media); i++) wait_turned(i);
  ASSERT_EQ(sc_service_tick(svc), 1);
  ASSERT_STREQ(next_datagram(1), "WATCHDOG=1");
}

static void test_status_follows_registry(void) {
  sc_vstate_t *vs = sc_registry_create_state(app.registry, "1", "2", "3");
  ASSERT_TRUE(vs != NULL);
  for (int i = 0; i < sc_media_workers(app.media); i++) wait_turned(i);
  ASSERT_EQ(sc_service_tick(svc), 1);
  ASSERT_STREQ(next_datagram(1), "WATCHDOG=1\nSTATUS=1 session, 1 channel");
}

/* Room ids whose rooms live on worker 0 and on worker 1. */
static uint64_t room_on(int worker) {
  uint16_t p0 = sc_media_port_for_room(app.media, 0);
  for (uint64_t r = 0; r < 1000; r++) {
    int w = sc_media_port_for_room(app.media, r) == p0 ? 0 : 1;
    if (w == worker) return r;
  }
  SC_FAIL("no room on worker %d", worker);
}

static int worker_of_room(uint64_t room) {
  return sc_media_port_for_room(app.media, room) == sc_media_port_for_room(app.media, room_on(0))
             ? 0
             : 1;
}

static void test_stuck_worker_starves_watchdog(void) {
  uint64_t stuck_room = room_on(1);
  int live = 1 - worker_of_room(stuck_room);
  send_to_room(stuck_room, "STALL");
  while (sem_wait(&entered) < 0) {
  }
  sc_service_tick(svc); /* the stuck worker may have turned before it stuck */
  next_datagram(0);
  wait_turned(live);
  ASSERT_EQ(sc_service_tick(svc), 0);
  sleep_ms(50);
  ASSERT_STREQ(next_datagram(0), ""); /* nothing: no WATCHDOG=1, STATUS unchanged */
  wait_turned(live);
  ASSERT_EQ(sc_service_tick(svc), 0);
  ASSERT_STREQ(next_datagram(0), "");
}

static void test_released_worker_feeds_again(void) {
  sem_post(&release);
  for (int i = 0; i < sc_media_workers(app.media); i++) wait_turned(i);
  ASSERT_EQ(sc_service_tick(svc), 1);
  ASSERT_STREQ(next_datagram(1), "WATCHDOG=1");
}

static void test_stopping(void) {
  sc_service_stopping(svc);
  ASSERT_STREQ(next_datagram(1), "STOPPING=1\nSTATUS=draining: 1 session, 1 channel left");
  sc_service_stopping(svc); /* once */
  sleep_ms(20);
  ASSERT_STREQ(next_datagram(0), "");
  for (int i = 0; i < sc_media_workers(app.media); i++) wait_turned(i);
  ASSERT_EQ(sc_service_tick(svc), 1); /* the watchdog stays fed while draining */
  ASSERT_STREQ(next_datagram(1), "WATCHDOG=1");
}

static void test_not_under_systemd(void) {
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(sc_service_start(&app) == NULL);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  SC_TEST_SCENARIO();
  ASSERT_EQ(sc_token_init(), 0);
  sem_init(&entered, 0, 0);
  sem_init(&release, 0, 0);
  char name[64];
  snprintf(name, sizeof name, "@sc-service-test-%d", (int)getpid());
  struct sockaddr_un a;
  socklen_t len;
  ASSERT_EQ(sc_notify_addr(name, &a, &len), 0);
  sink = socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_EQ(bind(sink, (struct sockaddr *)&a, len), 0);
  setenv("NOTIFY_SOCKET", name, 1);
  setenv("WATCHDOG_USEC", "1000000", 1);
  app.media = sc_media_create("127.0.0.1", 0, 2, stalling_handler);
  ASSERT_TRUE(app.media != NULL);
  ASSERT_EQ(sc_media_start(app.media), 0);
  app.registry = sc_registry_create(app.media);
  ASSERT_TRUE(app.registry != NULL);

  RUN_TEST(test_ready);
  RUN_TEST(test_watchdog_fed);
  RUN_TEST(test_status_follows_registry);
  RUN_TEST(test_stuck_worker_starves_watchdog);
  RUN_TEST(test_released_worker_feeds_again);
  RUN_TEST(test_stopping);
  RUN_TEST(test_not_under_systemd);

  sem_post(&release); /* never leave a worker blocked at stop */
  sc_service_destroy(svc);
  sc_registry_destroy(app.registry);
  sc_media_stop(app.media);
  sc_media_destroy(app.media);
  close(sink);
  SC_TEST_DONE();
}
