/*
 * The media plane's hardening (issue 13), end to end over real UDP sockets
 * on loopback with a real worker thread and real Discord ciphers: which
 * destinations are never used, what a failing send slot costs, how a
 * member's address is bound (by authentication only: discovery binds
 * nothing, NAT rebinding moves it, forgeries and replays do not), and that
 * reset and remove cannot fail and are in force at once.
 */
#include <dirent.h>
#include <semaphore.h>
#include <sys/resource.h>

#include "addr_fx.h"
#include "media_fx.h"

/* ---- destinations and address binding ----------------------------------- */

static void test_addr_usable(void) {
  struct sockaddr_storage ok[] = {v4("127.0.0.1", 5000),        v4("10.1.2.255", 5000),
                                  v4("223.255.255.254", 1),     v6("2001:db8::7", 5000),
                                  v6("::ffff:192.0.2.1", 5000), v6("::1", 9)};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) ASSERT_TRUE(sc_udp_addr_usable(&ok[i]));
  struct sockaddr_storage bad[] = {v4("255.255.255.255", 5000),
                                   v4("224.0.0.1", 5000),
                                   v4("239.1.2.3", 5000),
                                   v4("0.0.0.0", 5000),
                                   v4("127.0.0.1", 0),
                                   v6("ff02::1", 5000),
                                   v6("::", 5000),
                                   v6("2001:db8::7", 0),
                                   v6("::ffff:255.255.255.255", 5000),
                                   v6("::ffff:239.1.2.3", 5000),
                                   v6("::ffff:0.0.0.0", 5000)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) ASSERT_TRUE(!sc_udp_addr_usable(&bad[i]));
  struct sockaddr_storage unix_family = {.ss_family = AF_UNIX};
  ASSERT_TRUE(!sc_udp_addr_usable(&unix_family));
}

/* One slot of a batch goes to the limited broadcast address (the socket
 * has no SO_BROADCAST: EACCES) and one to port 0 (EINVAL): each costs its
 * own packet only, every other copy arrives. */
static void test_udp_flush_skips_bad_slot(void) {
  int tx_fd = loopback_socket(), rx_fd = loopback_socket();
  struct sockaddr_storage to = local_addr(rx_fd);
  struct sockaddr_storage bcast = v4("255.255.255.255", 9), port0 = v4("127.0.0.1", 0);
  static sc_udp_tx_t tx;
  sc_udp_tx_init(&tx);
  for (int i = 0; i < 8; i++) {
    const struct sockaddr_storage *dst = i == 3 ? &bcast : i == 6 ? &port0 : &to;
    tx.bufs[tx.n][0] = (uint8_t)i;
    sc_udp_tx_commit(&tx, 1, (const struct sockaddr *)dst);
  }
  sc_udp_sent_t r = sc_udp_tx_flush(&tx, tx_fd);
  ASSERT_EQ(r.sent, 6);
  ASSERT_EQ(r.bytes, 6);
  ASSERT_EQ(r.dest_refused, 1);
  ASSERT_EQ(r.other_dest, 1);
  ASSERT_EQ(r.unreachable, 0);
  ASSERT_EQ(r.socket_full, 0);
  ASSERT_EQ(r.failed, 2);
  ASSERT_EQ(tx.n, 0);
  const int want[] = {0, 1, 2, 4, 5, 7};
  for (int i = 0; i < 6; i++) {
    uint8_t b[8];
    ASSERT_EQ(recv_within(rx_fd, b, sizeof b, 1000), 1);
    ASSERT_EQ(b[0], want[i]);
  }
  ASSERT_EQ(sc_udp_err_kind(EAGAIN), SC_UDP_ERR_SOCKET);
  ASSERT_EQ(sc_udp_err_kind(ENOBUFS), SC_UDP_ERR_SOCKET);
  ASSERT_EQ(sc_udp_err_kind(EHOSTUNREACH), SC_UDP_ERR_UNREACHABLE);
  ASSERT_EQ(sc_udp_err_kind(EMSGSIZE), SC_UDP_ERR_OTHER_DEST);
  close(tx_fd);
  close(rx_fd);
}

static client_t f, g;

/* Room 4: f has a key but no address, g speaks. A roommate (or anyone)
 * asking discovery for f's SSRC gets its own address back and binds
 * nothing; f's first authenticated datagram binds f. */
static void test_discovery_binds_nothing(void) {
  client_setup(&f, 0x7001, 4, DV_MODE_AES256_GCM_RTPSIZE);
  client_init(&g, 0x7002, 4, DV_MODE_XCHACHA20_POLY1305_RTPSIZE);
  client_t thief = f;
  thief.fd = loopback_socket();
  discover(&thief); /* answered: it learns its own address */
  sent++;
  speak(&g, "not for the thief");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(thief.fd, buf, sizeof buf, 50), -1);
  expect_nothing(&f); /* f has no address yet */
  discover(&f);
  sent++;
  speak(&g, "still nobody bound");
  expect_nothing(&f);
  uint64_t moved = stats().addr_moved;
  speak(&f, "f binds");
  expect_packet(&g, &f, "f binds");
  ASSERT_EQ(stats().addr_moved, moved); /* a first binding is not a move */
  speak(&g, "f hears");
  expect_packet(&f, &g, "f hears");
  ASSERT_EQ(recv_within(thief.fd, buf, sizeof buf, 50), -1);
  close(thief.fd);
}

/* f's NAT gives it a new port: its next authenticated packet moves the
 * binding (counted), the old port hears nothing more. */
static void test_rebinding(void) {
  int old_fd = f.fd;
  f.fd = loopback_socket();
  uint64_t moved = stats().addr_moved;
  speak(&f, "from the new port");
  expect_packet(&g, &f, "from the new port");
  ASSERT_EQ(stats().addr_moved, moved + 1);
  speak(&g, "to the new port");
  expect_packet(&f, &g, "to the new port");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(old_fd, buf, sizeof buf, 50), -1);
  close(old_fd);
}

/* From a third address: a packet under the wrong key and a replay of one
 * of f's own packets move nothing and are not held against f. */
static void test_forged_and_replayed_move_nothing(void) {
  uint8_t own[2048];
  int own_n = make_packet(&f, "captured", own, sizeof own);
  send_to_media(f.fd, own, (size_t)own_n);
  wait_rx(++sent);
  expect_packet(&g, &f, "captured");
  int third = loopback_socket();
  uint8_t key[DV_KEY_LEN] = {7};
  client_t forger = {.fd = third, .ssrc = f.ssrc, .seq = (uint16_t)(f.seq + 1)};
  forger.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, key);
  uint8_t forged[2048];
  int forged_n = make_packet(&forger, "forged", forged, sizeof forged);
  sc_media_stats_t before = stats();
  uint64_t member_drops = atomic_load(&f.stats->drops);
  send_to_media(third, forged, (size_t)forged_n);
  send_to_media(third, own, (size_t)own_n); /* replay */
  sent += 2;
  wait_rx(sent);
  sc_media_stats_t after = stats();
  ASSERT_EQ(after.drop_foreign_addr, before.drop_foreign_addr + 2);
  ASSERT_EQ(after.addr_moved, before.addr_moved);
  ASSERT_EQ(atomic_load(&f.stats->drops), member_drops);
  expect_nothing(&g);
  speak(&g, "f still here");
  expect_packet(&f, &g, "f still here");
  speak(&f, "and heard here");
  expect_packet(&g, &f, "and heard here");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(third, buf, sizeof buf, 50), -1);
  /* The same replay from f's own address is f's: counted as a replay. */
  send_to_media(f.fd, own, (size_t)own_n);
  wait_rx(++sent);
  ASSERT_EQ(stats().drop_replay, after.drop_replay + 1);
  dv_cipher_free(forger.cipher);
  close(third);
}

/* A receive-only client hears the room at its Select Protocol address
 * until its first authenticated datagram binds the one it sends from; a
 * later hint does not move a binding. */
static void test_hint_until_bound(void) {
  static client_t h;
  client_init(&h, 0x7003, 4, DV_MODE_AES256_GCM_RTPSIZE); /* hint: h.fd */
  sc_media_sync(media);
  speak(&g, "to the hint");
  expect_packet(&h, &g, "to the hint");
  expect_packet(&f, &g, "to the hint");
  int hinted = h.fd;
  h.fd = loopback_socket();
  speak(&h, "h speaks from elsewhere");
  expect_packet(&g, &h, "h speaks from elsewhere");
  expect_packet(&f, &h, "h speaks from elsewhere");
  struct sockaddr_storage back = local_addr(hinted);
  ASSERT_EQ(sc_media_post_peer_hint(media, h.stats, &back), 0); /* too late: ignored */
  sc_media_sync(media);
  speak(&g, "to the bound address");
  expect_packet(&h, &g, "to the bound address");
  expect_packet(&f, &g, "to the bound address");
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(hinted, buf, sizeof buf, 50), -1);
  sc_media_remove(media, h.stats);
  sc_member_stats_release(h.stats);
  dv_cipher_free(h.cipher);
  close(h.fd);
  close(hinted);
  sc_media_sync(media);
}

/* Hints that can never be destinations are refused and counted; the
 * member is not sent to, and no send error happens for it. */
static void test_bad_hints_refused(void) {
  static client_t k;
  client_setup(&k, 0x7004, 4, DV_MODE_AES256_GCM_RTPSIZE);
  struct sockaddr_storage bad[] = {v4("255.255.255.255", 5000), v4("239.1.2.3", 5000),
                                   v4("0.0.0.0", 5000), v4("127.0.0.1", 0), v6("ff02::1", 5000)};
  sc_media_stats_t before = stats();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_EQ(sc_media_post_peer_hint(media, k.stats, &bad[i]), -EINVAL);
  sc_media_sync(media);
  speak(&g, "nobody at a bad address");
  expect_packet(&f, &g, "nobody at a bad address");
  sc_media_stats_t after = stats();
  ASSERT_EQ(after.hint_refused, before.hint_refused + 5);
  ASSERT_EQ(after.send_errors, before.send_errors);
  ASSERT_EQ(atomic_load(&k.stats->tx_packets), 0);
  sc_media_remove(media, k.stats);
  sc_member_stats_release(k.stats);
  dv_cipher_free(k.cipher);
  close(k.fd);
}

/* Reset then remove: both are posted without allocating (they cannot
 * fail), and a removed member neither sends nor receives. */
static void test_reset_and_remove_cannot_fail(void) {
  sc_media_reset(media, g.stats);
  sc_media_reset(media, g.stats); /* twice before the worker runs: one node */
  sc_media_sync(media);
  uint64_t nc = stats().drop_no_cipher;
  speak(&g, "old key after reset");
  ASSERT_EQ(stats().drop_no_cipher, nc + 1);
  expect_nothing(&f);
  new_cipher(&g);
  hint_self(&g);
  sc_media_sync(media);
  speak(&g, "g is back");
  expect_packet(&f, &g, "g is back");
  sc_media_remove(media, f.stats);
  sc_media_sync(media);
  speak(&g, "f is gone");
  expect_nothing(&f);
  uint64_t unknown = stats().drop_unknown_ssrc;
  speak(&f, "from a removed member");
  ASSERT_EQ(stats().drop_unknown_ssrc, unknown + 1);
  expect_nothing(&g);
  sc_media_remove(media, g.stats);
  client_t *room4[] = {&f, &g};
  for (int i = 0; i < 2; i++) {
    sc_member_stats_release(room4[i]->stats);
    dv_cipher_free(room4[i]->cipher);
    close(room4[i]->fd);
  }
  sc_media_sync(media);
}

/* A key posted for a client that was replaced before the worker got to
 * it never becomes live. A media plane that is not started applies its
 * commands in sc_media_sync, so the order is exact: reset (the node is
 * queued), the new client's cipher, another reset (the node is still
 * queued, only the generation moves). */
static void test_stale_cipher_discarded(void) {
  sc_media_t *m2 = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_TRUE(m2 != NULL);
  sc_member_stats_t *x = sc_member_stats_new(), *y = sc_member_stats_new();
  uint8_t kx[DV_KEY_LEN] = {1}, ky[DV_KEY_LEN] = {2}, stale[DV_KEY_LEN] = {3};
  ASSERT_EQ(sc_media_post_add(m2, 9, 0x9001, x), 0);
  ASSERT_EQ(sc_media_post_add(m2, 9, 0x9002, y), 0);
  ASSERT_EQ(
      sc_media_post_cipher(m2, x, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, kx)),
      0);
  sc_media_reset(m2, x);
  ASSERT_EQ(
      sc_media_post_cipher(m2, x, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, stale)),
      0);
  sc_media_reset(m2, x);
  ASSERT_EQ(
      sc_media_post_cipher(m2, y, &dv_cipher_ops, dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, ky)),
      0);
  sc_media_sync(m2);
  sc_media_stats_t st;
  sc_media_get_stats(m2, &st);
  ASSERT_EQ(st.cmd_stale, 2); /* both of x's keys: each was posted before a reset */
  ASSERT_EQ(sc_media_start(m2), 0);
  /* x speaks under the stale key: no key is live for x. */
  client_t cx = {.fd = loopback_socket(), .ssrc = 0x9001};
  cx.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, stale);
  client_t cy = {.fd = loopback_socket(), .ssrc = 0x9002};
  cy.cipher = dv_cipher_new(DV_MODE_AES256_GCM_RTPSIZE, ky);
  uint8_t pkt[2048];
  int n = make_packet(&cx, "stale key", pkt, sizeof pkt);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(sc_media_port_for_room(m2, 9)),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(sendto(cx.fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
  n = make_packet(&cy, "y binds", pkt, sizeof pkt);
  ASSERT_EQ(sendto(cy.fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
  for (int i = 0; i < 400; i++) {
    sc_media_get_stats(m2, &st);
    if (st.rx_datagrams >= 2) break;
    usleep(5000);
  }
  sc_media_sync(m2);
  sc_media_get_stats(m2, &st);
  ASSERT_EQ(st.rx_datagrams, 2);
  ASSERT_EQ(st.drop_no_cipher, 1);
  ASSERT_EQ(st.rx_rtp, 1);
  uint8_t buf[2048];
  ASSERT_EQ(recv_within(cx.fd, buf, sizeof buf, 50), -1);
  sc_media_destroy(m2);
  sc_member_stats_release(x);
  sc_member_stats_release(y);
  dv_cipher_free(cx.cipher);
  dv_cipher_free(cy.cipher);
  close(cx.fd);
  close(cy.fd);
}

/* ---- in force at once, mid-batch ------------------------------------------ */

/* A datagram handler that holds the worker inside a receive batch on a
 * 5-byte "HOLD!" datagram until the test lets it go: whatever the test
 * does meanwhile (remove, reset) meets the rest of that batch before the
 * worker can apply any queued command. */
static sem_t held, let_go;

static int holding_handler(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  if (len == 5 && memcmp(buf, "HOLD!", 5) == 0) {
    sem_post(&held);
    while (sem_wait(&let_go) < 0 && errno == EINTR) {
    }
    return 0;
  }
  return dv_udp_on_datagram(w, buf, len, from, reply, cap);
}

typedef struct {
  sc_media_t *m;
  struct sockaddr_in to;
  int hold_fd;
  uint64_t sent;
} holder_t;

static void h_send(holder_t *h, int fd, const uint8_t *buf, size_t len) {
  ASSERT_EQ(sendto(fd, buf, len, 0, (struct sockaddr *)&h->to, sizeof h->to), (long long)len);
  h->sent++;
}

static void h_wait(holder_t *h) {
  sc_media_stats_t st;
  for (int i = 0; i < 400; i++) {
    sc_media_get_stats(h->m, &st);
    if (st.rx_datagrams >= h->sent) break;
    usleep(5000);
  }
  sc_media_get_stats(h->m, &st);
  ASSERT_EQ(st.rx_datagrams, h->sent);
}

/* Holds the worker on HOLD! #1, queues HOLD! #2 and `pkt` behind it (read
 * together in the next batch), holds on #2, runs `act`, lets go: `pkt` is
 * handled after `act` and before any command queued by it is applied. */
static void mid_batch(holder_t *h, int fd, const uint8_t *pkt, size_t len,
                      void (*act)(sc_member_stats_t *), sc_member_stats_t *arg) {
  h_send(h, h->hold_fd, (const uint8_t *)"HOLD!", 5);
  ASSERT_EQ(sem_wait(&held), 0);
  h_send(h, h->hold_fd, (const uint8_t *)"HOLD!", 5);
  h_send(h, fd, pkt, len);
  usleep(20000); /* both are in the socket before the worker reads again */
  sem_post(&let_go);
  ASSERT_EQ(sem_wait(&held), 0);
  act(arg);
  sem_post(&let_go);
  h_wait(h);
}

static sc_media_t *holder_media;
static void act_remove(sc_member_stats_t *mb) {
  sc_media_remove(holder_media, mb);
}
static void act_reset(sc_member_stats_t *mb) {
  sc_media_reset(holder_media, mb);
}

/* Remove and reset take effect on the very next packet, even one in the
 * batch the worker is in the middle of: a removed receiver gets nothing, a
 * removed sender is not forwarded, a reset sender's old key is dead. */
static void test_in_force_at_once(void) {
  sem_init(&held, 0, 0);
  sem_init(&let_go, 0, 0);
  holder_t h = {.m = sc_media_create("127.0.0.1", 0, 1, holding_handler)};
  ASSERT_TRUE(h.m != NULL);
  holder_media = h.m;
  h.to = (struct sockaddr_in){.sin_family = AF_INET,
                              .sin_port = htons(sc_media_port_for_room(h.m, 5)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  h.hold_fd = loopback_socket();
  client_t x = {.fd = loopback_socket(), .ssrc = 0x5001, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t y = {.fd = loopback_socket(), .ssrc = 0x5002, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t z = {.fd = loopback_socket(), .ssrc = 0x5003, .mode = DV_MODE_AES256_GCM_RTPSIZE};
  client_t *all[] = {&x, &y, &z};
  for (int i = 0; i < 3; i++) {
    client_t *c = all[i];
    sc_token_random(c->key, sizeof c->key);
    c->cipher = dv_cipher_new(c->mode, c->key);
    c->stats = sc_member_stats_new();
    ASSERT_EQ(sc_media_post_add(h.m, 5, c->ssrc, c->stats), 0);
    ASSERT_EQ(sc_media_post_cipher(h.m, c->stats, &dv_cipher_ops, dv_cipher_new(c->mode, c->key)),
              0);
    struct sockaddr_storage self = local_addr(c->fd);
    ASSERT_EQ(sc_media_post_peer_hint(h.m, c->stats, &self), 0);
  }
  ASSERT_EQ(sc_media_start(h.m), 0);
  uint8_t pkt[2048];
  int n = make_packet(&x, "before", pkt, sizeof pkt);
  h_send(&h, x.fd, pkt, (size_t)n);
  h_wait(&h);
  expect_packet(&y, &x, "before");
  expect_packet(&z, &x, "before");
  /* y removed while x's packet waits in the batch: z only. */
  n = make_packet(&x, "y is gone", pkt, sizeof pkt);
  mid_batch(&h, x.fd, pkt, (size_t)n, act_remove, y.stats);
  expect_packet(&z, &x, "y is gone");
  expect_nothing(&y);
  /* z reset while its packet under the old key waits: dropped. */
  sc_media_stats_t before;
  sc_media_get_stats(h.m, &before);
  n = make_packet(&z, "old key", pkt, sizeof pkt);
  mid_batch(&h, z.fd, pkt, (size_t)n, act_reset, z.stats);
  sc_media_stats_t after;
  sc_media_get_stats(h.m, &after);
  ASSERT_EQ(after.drop_no_cipher, before.drop_no_cipher + 1);
  expect_nothing(&x);
  /* x removed while its own packet waits: not forwarded. */
  n = make_packet(&x, "x is gone", pkt, sizeof pkt);
  mid_batch(&h, x.fd, pkt, (size_t)n, act_remove, x.stats);
  sc_media_get_stats(h.m, &after);
  ASSERT_EQ(after.drop_removed, before.drop_removed + 1);
  expect_nothing(&z);
  sc_media_destroy(h.m);
  for (int i = 0; i < 3; i++) {
    sc_member_stats_release(all[i]->stats);
    dv_cipher_free(all[i]->cipher);
    close(all[i]->fd);
  }
  close(h.hold_fd);
  sem_destroy(&held);
  sem_destroy(&let_go);
}

/* ---- a worker that cannot wait ------------------------------------------- */

/* The open fd numbers, as a bitmap of the first 1024. */
static int open_fds(unsigned char open[1024]) {
  memset(open, 0, 1024);
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  ASSERT_TRUE(d != NULL);
  int self = dirfd(d);
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == self || fd >= 1024) continue;
    open[fd] = 1;
    n++;
  }
  closedir(d);
  return n;
}

/* The fd number below which exactly `room` more can be opened. */
static int limit_leaving(int room) {
  unsigned char open[1024];
  open_fds(open);
  for (int fd = 0; fd < 1024; fd++)
    if (!open[fd] && room-- == 0) return fd;
  return 1024;
}

/* The epoll set is made by sc_media_create (control thread): with room for
 * the eventfd and the socket but not the epoll fd, creation fails (with a
 * logged reason) instead of starting a worker that can never wait. */
static void test_create_fails_without_epoll(void) {
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  unsigned char before[1024], after[1024];
  open_fds(before);
  struct rlimit tight = {.rlim_cur = (rlim_t)limit_leaving(2), .rlim_max = old.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  sc_media_t *m = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_TRUE(m == NULL);
  open_fds(after);
  ASSERT_MEMEQ(before, after, sizeof before); /* nothing leaked */
  m = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_TRUE(m != NULL);
  sc_media_destroy(m);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_addr_usable);
  RUN_TEST(test_udp_flush_skips_bad_slot);
  RUN_TEST(test_create_fails_without_epoll);
  media = sc_media_create("127.0.0.1", 0, 1, dv_udp_on_datagram);
  ASSERT_TRUE(media != NULL);
  media_port = sc_media_port_for_room(media, 4);
  ASSERT_EQ(sc_media_start(media), 0);
  SC_TEST_SCENARIO(); /* from here on, the tests share the members of room 4 */
  RUN_TEST(test_discovery_binds_nothing);
  RUN_TEST(test_rebinding);
  RUN_TEST(test_forged_and_replayed_move_nothing);
  RUN_TEST(test_hint_until_bound);
  RUN_TEST(test_bad_hints_refused);
  RUN_TEST(test_reset_and_remove_cannot_fail);
  sc_media_destroy(media);
  RUN_TEST(test_stale_cipher_discarded);
  RUN_TEST(test_in_force_at_once);
  SC_TEST_DONE();
}
