/*
 * dv_ws (the voice gateway's lws glue) on a real lws loop, over plain ws
 * from a raw client socket in the same thread: messages far larger than
 * the per-connection receive buffer, in one frame or in fragments, are
 * reassembled and handled; one over --gw-max-message is refused with 4020;
 * a large server message arrives whole.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dv_settings.h"
#include "sc_frontend.h"
#include "sc_server.h"
#include "sc_test.h"
#include "sc_token.h"

static sc_app_t app;
static const sc_frontend_t *fe;
static int slot;

typedef struct {
  int fd;
  unsigned char in[1 << 16];
  size_t n; /* bytes read, not yet consumed */
} client_t;

/* Runs the server's loop for about one millisecond. */
static void pump(void) {
  sc_server_service(&app, 0);
  usleep(1000);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void start_gateway(int port) {
  char listen[32];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  char *argv[] = {"litecord-voice", "--no-tls", "--gateway-listen", listen, NULL};
  ASSERT_EQ(sc_config_parse(&app, NULL, 0, 4, argv, stdout, stderr), SC_CONFIG_RUN);
  ASSERT_EQ(sc_token_init(), 0);
  app.registry = sc_registry_create(NULL);
  ASSERT_EQ(sc_server_create(&app), 0);
  /* The control loop is libev's epoll, not lws's poll() over every
   * connection (sc_server.h). */
  ASSERT_TRUE(app.loop != NULL);
  ASSERT_EQ(ev_backend(app.loop), EVBACKEND_EPOLL);
  const sc_frontend_t *all[SC_MAX_FRONTENDS];
  int n = sc_frontend_list(all, SC_MAX_FRONTENDS);
  for (int i = 0; i < n; i++) {
    if (strcmp(all[i]->name, "discord voice gateway") != 0) continue;
    fe = all[i];
    slot = i;
  }
  ASSERT_TRUE(fe != NULL);
  ASSERT_EQ(fe->start(&app, slot), 0);
}

static void stop_gateway(void) {
  fe->stop(&app, slot);
  sc_registry_destroy(app.registry);
  app.registry = NULL;
  sc_server_destroy(&app);
  fe->destroy(&app, slot);
}

static void send_all(client_t *c, const void *buf, size_t len) {
  const unsigned char *p = buf;
  for (int tries = 0; len && tries < 5000; tries++) {
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
    if (w > 0)
      p += w, len -= (size_t)w;
    else
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
    pump();
  }
  ASSERT_EQ(len, 0);
}

/* Reads (serving the loop meanwhile) until `want` bytes are buffered. */
static void read_until(client_t *c, size_t want) {
  for (int tries = 0; c->n < want && tries < 5000; tries++) {
    pump();
    ssize_t r = recv(c->fd, c->in + c->n, sizeof c->in - c->n, 0);
    if (r > 0)
      c->n += (size_t)r;
    else
      ASSERT_TRUE(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  ASSERT_TRUE(c->n >= want);
}

static void consume(client_t *c, size_t k) {
  memmove(c->in, c->in + k, c->n - k);
  c->n -= k;
}

static void client_open(client_t *c, int port) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_EQ(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  static const char req[] =
      "GET /?v=8 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  send_all(c, req, sizeof req - 1);
  char *end = NULL;
  for (int tries = 0; !end && tries < 100; tries++) {
    read_until(c, c->n + 1);
    end = memmem(c->in, c->n, "\r\n\r\n", 4);
  }
  ASSERT_TRUE(end != NULL);
  ASSERT_TRUE(memcmp(c->in, "HTTP/1.1 101", 12) == 0);
  consume(c, (size_t)(end + 4 - (char *)c->in));
}

/* Sends one client frame (masked, as RFC 6455 requires). */
static void send_frame(client_t *c, int fin, int opcode, const char *payload, size_t len) {
  static unsigned char f[1 << 16];
  size_t h = 0;
  f[h++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
  if (len < 126) {
    f[h++] = (unsigned char)(0x80 | len);
  } else {
    ASSERT_TRUE(len < sizeof f - 8);
    f[h++] = 0x80 | 126;
    f[h++] = (unsigned char)(len >> 8);
    f[h++] = (unsigned char)len;
  }
  static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  memcpy(f + h, mask, 4);
  h += 4;
  for (size_t i = 0; i < len; i++) f[h + i] = (unsigned char)payload[i] ^ mask[i & 3];
  send_all(c, f, h + len);
}

/* Reads one whole server frame: returns its opcode, the payload in buf. */
static int read_frame(client_t *c, char *buf, size_t cap, size_t *len) {
  read_until(c, 2);
  size_t h = 2, n = c->in[1] & 0x7f;
  if (n == 126) {
    read_until(c, 4);
    n = (size_t)c->in[2] << 8 | c->in[3];
    h = 4;
  }
  ASSERT_EQ(c->in[1] & 0x80, 0);    /* servers do not mask */
  ASSERT_EQ(c->in[0] & 0x80, 0x80); /* we send whole messages */
  ASSERT_TRUE(n < cap);
  read_until(c, h + n);
  int op = c->in[0] & 0x0f;
  memcpy(buf, c->in + h, n);
  buf[n] = '\0';
  *len = n;
  consume(c, h + n);
  return op;
}

/* The next server message as JSON with op `op`; returns its "d". */
static json_t *expect_op(client_t *c, int op) {
  static char buf[1 << 16];
  size_t len;
  ASSERT_EQ(read_frame(c, buf, sizeof buf, &len), 1);
  static json_t *last;
  json_decref(last);
  last = json_loadb(buf, len, 0, NULL);
  ASSERT_TRUE(last != NULL);
  ASSERT_EQ(json_integer_value(json_object_get(last, "op")), op);
  return json_object_get(last, "d");
}

/* prefix, n times 'x', suffix (heap). */
static char *padded(const char *prefix, size_t n, const char *suffix) {
  size_t a = strlen(prefix), b = strlen(suffix);
  char *msg = malloc(a + n + b + 1);
  memcpy(msg, prefix, a);
  memset(msg + a, 'x', n);
  memcpy(msg + a + n, suffix, b + 1);
  return msg;
}

/* Three fragments: text, continuation, final continuation. */
static void send_fragmented(client_t *c, const char *msg) {
  size_t len = strlen(msg), a = len / 3, b = 2 * len / 3;
  send_frame(c, 0, 1, msg, a);
  send_frame(c, 0, 0, msg + a, b - a);
  send_frame(c, 1, 0, msg + b, len - b);
}

static void test_large_messages(void) {
  int port = free_port();
  start_gateway(port);
  client_t *c = calloc(1, sizeof *c);
  client_open(c, port);
  json_t *hello = expect_op(c, 8);
  ASSERT_TRUE(json_is_object(hello));
  size_t max = dv_settings(&app)->gw_max_message;
  /* One frame, 60 times the receive buffer. */
  char *m = padded("{\"op\":3,\"d\":{\"t\":4242,\"pad\":\"", max - 100, "\"}}");
  send_frame(c, 1, 1, m, strlen(m));
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(c, 6), "t")), 4242);
  free(m);
  /* Three fragments, each larger than the receive buffer. */
  m = padded("{\"op\":3,\"d\":{\"t\":4343,\"pad\":\"", max - 100, "\"}}");
  send_fragmented(c, m);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(c, 6), "t")), 4343);
  free(m);
  /* The reassembly state starts afresh; a small one still goes whole. */
  send_frame(c, 1, 1, "{\"op\":3,\"d\":{\"t\":7}}", 20);
  ASSERT_EQ(json_integer_value(json_object_get(expect_op(c, 6), "t")), 7);
  /* A 10 KB answer (the echoed "t") comes as one frame. */
  m = padded("{\"op\":3,\"d\":{\"t\":\"", 10000, "\"}}");
  send_frame(c, 1, 1, m, strlen(m));
  ASSERT_EQ(strlen(json_string_value(json_object_get(expect_op(c, 6), "t"))), 10000);
  free(m);
  /* Over the limit, in fragments: 4020. */
  m = padded("{\"op\":3,\"d\":{\"t\":1,\"pad\":\"", max + 100, "\"}}");
  send_fragmented(c, m);
  free(m);
  char buf[256];
  size_t len;
  ASSERT_EQ(read_frame(c, buf, sizeof buf, &len), 8);
  ASSERT_EQ((unsigned char)buf[0] << 8 | (unsigned char)buf[1], 4020);
  close(c->fd);
  for (int i = 0; i < 20; i++) pump();
  free(c);
  stop_gateway();
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_large_messages);
  SC_TEST_DONE();
}
