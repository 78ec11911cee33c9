/*
 * lvsp_fx: the fixture of the LVSP unit tests (test_lvsp*.c): an app with
 * a real registry (no media plane, no sockets), one lvsp_link_t, and up to
 * FX_CONNS connections whose lvsp_io_t captures every frame (parsed) and
 * every close. Header-only: each test file is its own executable.
 */
#ifndef LVSP_FX_H
#define LVSP_FX_H

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lvsp_link.h"
#include "lvsp_proto.h"
#include "lvsp_settings.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

#define SECRET "correct-horse-battery-staple"
#define FX_CONNS 3
#define FX_ENDPOINT "voice.example.org:8443"

typedef struct {
  json_t **msgs;
  int n, cap;
  int n_closes;
  int close_code;
  char reason[128];
  int fail_sends; /* make send_text fail (peer not reading) */
  size_t queued;  /* what cap_queued reports (cap_io_slow) */
  int grow;       /* each send adds its length to queued */
  int held;       /* last cap_hold() call */
  int n_holds;
} capture_t;

typedef struct {
  lvsp_conn_t conn;
  capture_t cap;
  int open;
} fx_conn_t;

typedef struct {
  sc_app_t app;
  lvsp_link_t link;
  fx_conn_t c[FX_CONNS];
} fx_t;

static inline int cap_send(void *ctx, const char *data, size_t len) {
  capture_t *c = ctx;
  if (c->fail_sends) return -ENOBUFS;
  json_error_t err;
  json_t *m = json_loadb(data, len, 0, &err);
  if (!m) SC_FAIL("server sent invalid JSON: %.*s", (int)len, data);
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 16;
    c->msgs = realloc(c->msgs, (size_t)c->cap * sizeof *c->msgs);
    ASSERT_TRUE(c->msgs != NULL);
  }
  c->msgs[c->n++] = m;
  if (c->grow) c->queued += len;
  return 0;
}

static inline void cap_close(void *ctx, int code, const char *reason) {
  capture_t *c = ctx;
  c->n_closes++;
  c->close_code = code;
  snprintf(c->reason, sizeof c->reason, "%s", reason);
}

static inline size_t cap_queued(void *ctx) {
  return ((capture_t *)ctx)->queued;
}

static inline void cap_hold(void *ctx, int on) {
  ((capture_t *)ctx)->held = on;
  ((capture_t *)ctx)->n_holds++;
}

/* A transport that takes everything at once, and one that reports a
 * queue (bursts then stream as the test "drains" it). */
__attribute__((unused)) static const lvsp_io_t cap_io = {cap_send, cap_close, NULL, NULL};
__attribute__((unused)) static const lvsp_io_t cap_io_slow = {cap_send, cap_close, cap_queued,
                                                              cap_hold};

/* Opens connection i on the given transport (HELLO captured). */
static inline void fx_open_io(fx_t *f, int i, const lvsp_io_t *io) {
  ASSERT_EQ(lvsp_proto_open_on(&f->c[i].conn, &f->app, &f->link, io, &f->c[i].cap), 0);
  f->c[i].open = 1;
  ASSERT_EQ(f->c[i].cap.n, 1);
}

static inline void fx_open(fx_t *f, int i) {
  fx_open_io(f, i, &cap_io);
}

static inline fx_t *fx_new_replay(size_t replay) {
  fx_t *f = calloc(1, sizeof *f);
  ASSERT_TRUE(f != NULL);
  /* The shipped defaults (every registered front end's block), then ours. */
  ASSERT_EQ(
      sc_config_parse(&f->app, NULL, 0, 1, (char *[]){"litecord-voice", NULL}, stdout, stderr),
      SC_CONFIG_RUN);
  lvsp_settings_t *set = lvsp_settings(&f->app);
  ASSERT_TRUE(set != NULL);
  snprintf(set->lvsp_secret, sizeof set->lvsp_secret, "%s", SECRET);
  set->lvsp_heartbeat_ms = 45000;
  f->app.cfg.capacity = 100;
  snprintf(f->app.endpoint, sizeof f->app.endpoint, FX_ENDPOINT);
  f->app.registry = sc_registry_create(NULL);
  ASSERT_TRUE(f->app.registry != NULL);
  ASSERT_EQ(lvsp_link_init(&f->link, replay), 0);
  fx_open(f, 0);
  return f;
}

static inline fx_t *fx_new(void) {
  return fx_new_replay(1024);
}

static inline void cap_clear(capture_t *c) {
  for (int i = 0; i < c->n; i++) json_decref(c->msgs[i]);
  free(c->msgs);
  memset(c, 0, sizeof *c);
}

static inline void fx_free(fx_t *f) {
  for (int i = 0; i < FX_CONNS; i++) {
    if (f->c[i].open) lvsp_conn_gone(&f->c[i].conn);
    cap_clear(&f->c[i].cap);
  }
  sc_registry_destroy(f->app.registry);
  lvsp_link_free(&f->link);
  sc_config_free(&f->app);
  free(f);
}

static inline int say_on(fx_t *f, int i, const char *text) {
  return lvsp_handle_text(&f->c[i].conn, text, strlen(text));
}
static inline int say(fx_t *f, const char *text) {
  return say_on(f, 0, text);
}

static inline json_t *last_on(fx_t *f, int i) {
  ASSERT_TRUE(f->c[i].cap.n > 0);
  return f->c[i].cap.msgs[f->c[i].cap.n - 1];
}
static inline json_t *last(fx_t *f) {
  return last_on(f, 0);
}

static inline json_t *msg_d(json_t *m, int op) {
  ASSERT_EQ(json_integer_value(json_object_get(m, "op")), op);
  json_t *d = json_object_get(m, "d");
  ASSERT_TRUE(json_is_object(d));
  return d;
}
static inline json_t *last_d(fx_t *f, int op) {
  return msg_d(last(f), op);
}

/* The frame-level sequence number. */
static inline long long seq_of(json_t *m) {
  json_t *s = json_object_get(m, "s");
  ASSERT_TRUE(json_is_integer(s));
  return (long long)json_integer_value(s);
}

static inline void assert_closed(fx_t *f, const char *text, int code) {
  int n = f->c[0].cap.n;
  ASSERT_TRUE(say(f, text) < 0);
  ASSERT_EQ(f->c[0].cap.n_closes, 1);
  ASSERT_EQ(f->c[0].cap.close_code, code);
  ASSERT_EQ(f->c[0].cap.n, n); /* nothing sent with the close */
  /* Input after a close is ignored. */
  ASSERT_EQ(say(f, "{\"op\":4,\"d\":{\"s\":1}}"), -EPIPE);
  ASSERT_EQ(f->c[0].cap.n_closes, 1);
}

/* The later dialect's IDENTIFY token for connection i. */
static inline void hmac_token(fx_t *f, int i, char out[65]) {
  unsigned char mac[32];
  unsigned mac_len = 0;
  const char *nonce = f->c[i].conn.nonce;
  HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)nonce, strlen(nonce), mac,
       &mac_len);
  ASSERT_EQ(mac_len, 32);
  for (int k = 0; k < 32; k++) snprintf(out + 2 * k, 3, "%02x", mac[k]);
}

/* IDENTIFY on connection i, seed (secret) or later (HMAC) token. */
static inline void identify_on(fx_t *f, int i, lvsp_dialect_t dl) {
  char msg[160], mac[65];
  if (dl == LVSP_DIALECT_LATER) hmac_token(f, i, mac);
  snprintf(msg, sizeof msg, "{\"op\":1,\"d\":{\"token\":\"%s\"}}",
           dl == LVSP_DIALECT_LATER ? mac : SECRET);
  ASSERT_EQ(say_on(f, i, msg), 0);
  ASSERT_EQ(f->c[i].cap.n_closes, 0);
  ASSERT_TRUE(f->c[i].conn.ready);
  ASSERT_EQ(f->c[i].conn.dialect, dl);
}

static inline fx_t *fx_ready_as(lvsp_dialect_t dl) {
  fx_t *f = fx_new();
  identify_on(f, 0, dl);
  msg_d(last(f), LVSP_OP_READY); /* empty registry: no snapshot follows */
  return f;
}
static inline fx_t *fx_ready(void) {
  return fx_ready_as(LVSP_DIALECT_SEED);
}

/* A fresh connection, one message, the expected close code. */
static inline void expect_close(const char *text, int code, int identified) {
  fx_t *f = fx_new();
  if (identified) identify_on(f, 0, LVSP_DIALECT_SEED);
  assert_closed(f, text, code);
  fx_free(f);
}

static inline double health_of(json_t *d) {
  json_t *h = json_object_get(d, "health");
  ASSERT_TRUE(json_is_number(h));
  return json_number_value(h);
}

static inline const char *str_of(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

/* A fake voice connection attached to a state: records how it ended. */
typedef struct {
  int ended;
  sc_end_reason_t why;
  int left; /* on_peer_leave calls (op 13 for a Discord client) */
} fake_voice_t;

static inline void fv_ended(void *conn, sc_end_reason_t why) {
  ((fake_voice_t *)conn)->ended++;
  ((fake_voice_t *)conn)->why = why;
}
static inline void fv_left(void *conn, const sc_vstate_t *peer) {
  (void)peer;
  ((fake_voice_t *)conn)->left++;
}
__attribute__((unused)) static const sc_attach_ops_t fv_ops = {fv_ended, NULL, NULL,
                                                               fv_left,  NULL, NULL};

static inline void fv_attach(fx_t *f, sc_vstate_t *vs, fake_voice_t *fv) {
  ASSERT_EQ(sc_registry_attach(f->app.registry, vs, &fv_ops, fv), 0);
}

#endif
