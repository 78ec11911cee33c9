/*
 * fuzz_lvsp: lvsp_handle_text (lvsp/lvsp_proto.h), the LVSP state machine,
 * fed a sequence of messages (the input split at '\n') on two connections
 * that share one link (sequence numbers, a 4-frame replay ring, the one
 * live connection), against a real registry (no media plane) and a
 * capturing transport.
 *
 * A line goes to connection 1, or to connection 2 if it starts with '>';
 * "!1" / "!2" drop that connection's transport (lvsp_conn_gone) and open a
 * new one in its place. Connection 2's transport reports a queue, so its
 * bursts (snapshot, RESUME replay) stream: "!f" fills that queue, "!d"
 * drains it (lvsp_conn_drained); while its input is held, lines for it wait
 * unread like on a socket, and are dropped. The registry's limits are
 * small (3 channels, 4 voice states), so refusals are reached.
 * Placeholders let the fuzzer past the checks it cannot guess:
 *   @k0@  the LVSP secret          @hN@  HMAC-SHA256(secret, HELLO nonce of
 *                                        connection N, 0 or 1 = the first)
 *   @sN@  session id of user N's voice state in guild 1 (N = 1..9)
 * Checks: everything the server sends is a JSON object with an integer op
 * and an object d; nothing is sent after a close; close codes are the
 * documented ones; the return value says whether the link is still open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lvsp_link.h"
#include "lvsp_proto.h"
#include "lvsp_settings.h"
#include "sc_config.h"
#include "sc_registry.h"
#include "sc_token.h"

#define SECRET "fuzz-lvsp-secret-0123456789"
#define REPLAY_CAP 4

typedef struct {
  lvsp_conn_t conn;
  int closed;
  size_t queued; /* what the slow transport reports */
  int held;
} fconn_t;

typedef struct {
  sc_app_t *app;
  lvsp_link_t link;
  fconn_t c[2];
  char scratch[128];
} harness_t;

static int cap_send(void *ctx, const char *data, size_t len) {
  fconn_t *c = ctx;
  FUZZ_CHECK(!c->closed);
  fuzz_check_frame(data, len, 1);
  return 0;
}

static void cap_close(void *ctx, int code, const char *reason) {
  fconn_t *c = ctx;
  FUZZ_CHECK(!c->closed && reason != NULL);
  FUZZ_CHECK(code == LVSP_CLOSE_GENERAL || code == LVSP_CLOSE_AUTH || code == LVSP_CLOSE_DECODE);
  c->closed = 1;
}

static size_t cap_queued(void *ctx) {
  return ((fconn_t *)ctx)->queued;
}

static void cap_hold(void *ctx, int on) {
  fconn_t *c = ctx;
  FUZZ_CHECK(!c->closed && c->held != on);
  c->held = on;
}

static const lvsp_io_t cap_io = {cap_send, cap_close, NULL, NULL};
static const lvsp_io_t slow_io = {cap_send, cap_close, cap_queued, cap_hold};

static const char *subst(void *ctx, char kind, char index) {
  harness_t *h = ctx;
  if (kind == 'k' && index == '0') return SECRET;
  if (kind == 'h' && index >= '0' && index <= '2') {
    const char *nonce = h->c[index == '2'].conn.nonce;
    sc_token_hmac_sha256_hex(h->scratch, sizeof h->scratch, SECRET, strlen(SECRET), nonce,
                             strlen(nonce));
    return h->scratch;
  }
  if (kind == 's' && index >= '1' && index <= '9') {
    char user[2] = {index, 0};
    sc_vstate_t *vs = sc_registry_find_user(h->app->registry, user, "1");
    return vs ? vs->session_id : NULL;
  }
  return NULL;
}

/* The configuration's defaults, with our secret, once. */
static sc_app_t *app_once(void) {
  static sc_app_t app;
  static int done;
  if (!done) {
    char *argv[] = {"fuzz_lvsp", NULL};
    FUZZ_CHECK(sc_config_parse(&app, NULL, 0, 1, argv, stdout, stderr) == SC_CONFIG_RUN);
    lvsp_settings_t *set = lvsp_settings(&app);
    FUZZ_CHECK(set != NULL);
    snprintf(set->lvsp_secret, sizeof set->lvsp_secret, "%s", SECRET);
    snprintf(app.endpoint, sizeof app.endpoint, "127.0.0.1:7701");
    done = 1;
  }
  return &app;
}

static void open_conn(harness_t *h, int i) {
  h->c[i].closed = 0;
  h->c[i].queued = 0;
  h->c[i].held = 0;
  FUZZ_CHECK(
      lvsp_proto_open_on(&h->c[i].conn, h->app, &h->link, i ? &slow_io : &cap_io, &h->c[i]) == 0);
}

static void send_line(harness_t *h, int i, const uint8_t *msg, size_t len) {
  size_t n;
  uint8_t *exact = fuzz_substituted(msg, len, subst, h, &n);
  if (h->c[i].held) {
    free(exact);
    return;
  }
  int was_closed = h->c[i].closed;
  int rc = lvsp_handle_text(&h->c[i].conn, (const char *)exact, n);
  free(exact);
  FUZZ_CHECK(was_closed ? rc == -EPIPE : (rc == 0) == !h->c[i].closed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  static harness_t h;
  memset(&h, 0, sizeof h);
  h.app = app_once();
  h.app->registry = sc_registry_create(NULL);
  FUZZ_CHECK(h.app->registry != NULL);
  sc_registry_set_limits(h.app->registry, 3, 4);
  FUZZ_CHECK(lvsp_link_init(&h.link, REPLAY_CAP) == 0);
  open_conn(&h, 0);
  open_conn(&h, 1);
  fuzz_lines_t it;
  fuzz_lines_init(&it, data, size);
  const uint8_t *msg;
  size_t len;
  while (fuzz_lines_next(&it, &msg, &len)) {
    if (len == 2 && msg[0] == '!' && (msg[1] == '1' || msg[1] == '2')) {
      lvsp_conn_gone(&h.c[msg[1] - '1'].conn);
      open_conn(&h, msg[1] - '1');
    } else if (len == 2 && msg[0] == '!' && msg[1] == 'f') {
      h.c[1].queued = LVSP_BURST_HIGH_WATER;
    } else if (len == 2 && msg[0] == '!' && msg[1] == 'd') {
      h.c[1].queued = 0;
      int rc = lvsp_conn_drained(&h.c[1].conn);
      FUZZ_CHECK(rc == 0 || h.c[1].closed);
    } else if (len && msg[0] == '>') {
      send_line(&h, 1, msg + 1, len - 1);
    } else {
      send_line(&h, 0, msg, len);
    }
  }
  lvsp_conn_gone(&h.c[0].conn);
  lvsp_conn_gone(&h.c[1].conn);
  lvsp_link_free(&h.link);
  sc_registry_destroy(h.app->registry);
  h.app->registry = NULL;
  return 0;
}
