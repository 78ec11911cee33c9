/*
 * The voice gateway's message handling, driven directly (dv_gw_harness.h):
 * handshake, every close code, heartbeat shapes, Select Protocol in every
 * mode, room events, takeover, video and client announcements. Sessions
 * that outlive their sockets (resume) are in test_dv_session.c.
 */
#include "dv_gw_harness.h"
#include <errno.h>

#include "dv_session.h"

static void test_hello_and_ready(void) {
  client_t c;
  client_open(&c, 8);
  json_t *hello = expect_op(&c, 8);
  ASSERT_EQ(json_integer_value(json_object_get(hello, "heartbeat_interval")), 41250);
  ASSERT_EQ(json_integer_value(json_object_get(hello, "v")), 8);
  ASSERT_TRUE(json_object_get(c.msgs[0], "seq") == NULL); /* Hello is not numbered */
  sc_vstate_t *vs = state("10", "100");
  identify(&c, vs);
  json_t *ready = expect_op(&c, 2);
  ASSERT_EQ(json_integer_value(json_object_get(ready, "ssrc")), vs->ssrc);
  ASSERT_STREQ(json_string_value(json_object_get(ready, "ip")), "127.0.0.1");
  ASSERT_EQ(json_integer_value(json_object_get(ready, "port")), 7702);
  json_t *m = json_object_get(ready, "modes");
  const char *want[] = {"aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize",
                        "xsalsa20_poly1305_lite", "xsalsa20_poly1305_suffix", "xsalsa20_poly1305"};
  ASSERT_EQ(json_array_size(m), 5); /* AEAD first, legacy after, in this order */
  for (size_t i = 0; i < 5; i++) ASSERT_STREQ(json_string_value(json_array_get(m, i)), want[i]);
  ASSERT_EQ(json_array_size(json_object_get(ready, "streams")), 0);
  ASSERT_EQ(json_integer_value(json_object_get(c.msgs[1], "seq")), 1); /* v8 seq from 1 */
  expect_silence(&c);                                                  /* nobody else here */
  client_free(&c);
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

/* 4004: credentials that do not match a session we have, or any on a
 * server where we hold voice states; 4011: no voice state on that server. */
static void test_bad_identify(void) {
  sc_vstate_t *vs = state("11", "101");
  const struct {
    const char *server, *user, *session, *token;
    int code;
  } variants[] = {
      {"500", "11", "nosuchsession", NULL, DV_CLOSE_AUTH_FAILED},     /* stale session id */
      {"500", "12", NULL, NULL, DV_CLOSE_AUTH_FAILED},                /* wrong user */
      {"501", "11", NULL, NULL, DV_CLOSE_AUTH_FAILED},                /* wrong server */
      {"500", "11", NULL, "wrongtoken", DV_CLOSE_AUTH_FAILED},        /* wrong token */
      {"500", "13", "nosuchsession", "x", DV_CLOSE_AUTH_FAILED},      /* a stranger */
      {"999", "11", "nosuchsession", "x", DV_CLOSE_SERVER_NOT_FOUND}, /* no state there */
      {"101", "11", "nosuchsession", "x", DV_CLOSE_SERVER_NOT_FOUND}, /* a channel id */
  };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    client_t c;
    client_open(&c, 4);
    send_json(&c,
              "{\"op\":0,\"d\":{\"server_id\":\"%s\",\"user_id\":\"%s\",\"session_id\":\"%s\","
              "\"token\":\"%s\"}}",
              variants[i].server, variants[i].user,
              variants[i].session ? variants[i].session : vs->session_id,
              variants[i].token ? variants[i].token : vs->token);
    if (c.close_code != variants[i].code) SC_FAIL("variant %zu: close %d", i, c.close_code);
    ASSERT_TRUE(vs->ops == NULL); /* not attached */
    client_free(&c);
  }
  client_t c;
  client_open(&c, 4);
  send_json(&c, "{\"op\":0,\"d\":{\"server_id\":\"500\"}}");
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  client_free(&c);
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

static void test_close_codes(void) {
  struct {
    const char *msg;
    int code;
  } cases[] = {
      {"not json", DV_CLOSE_DECODE_ERROR},
      {"[1,2]", DV_CLOSE_DECODE_ERROR},
      {"{\"op\":\"0\"}", DV_CLOSE_DECODE_ERROR},
      {"{\"op\":99,\"d\":{}}", DV_CLOSE_UNKNOWN_OPCODE},
      {"{\"op\":-1,\"d\":{}}", DV_CLOSE_UNKNOWN_OPCODE},
      {"{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{}}}", DV_CLOSE_NOT_AUTHENTICATED},
      {"{\"op\":5,\"d\":{\"speaking\":1}}", DV_CLOSE_NOT_AUTHENTICATED},
      {"{\"op\":7,\"d\":{}}", DV_CLOSE_BAD_REQUEST},
      {"{\"op\":7,\"d\":{\"server_id\":\"500\",\"session_id\":\"nope\",\"token\":\"x\"}}",
       DV_CLOSE_SESSION_INVALID},
      {"{\"op\":0,\"d\":{\"server_id\":500}}", DV_CLOSE_BAD_REQUEST},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    client_t c;
    client_open(&c, 4);
    dv_gw_text(&c.conn, cases[i].msg, strlen(cases[i].msg));
    if (c.close_code != cases[i].code)
      SC_FAIL("%s: close %d, want %d", cases[i].msg, c.close_code, cases[i].code);
    client_free(&c);
  }
  /* Ops real clients send that a version-0 server ignores: never 4001. */
  client_t c;
  client_open(&c, 8);
  const int ignored[] = {12, 14, 15, 16, 17, 18, 19, 20, 23, 31};
  for (int i = 0; i < 10; i++) send_json(&c, "{\"op\":%d,\"d\":{}}", ignored[i]);
  send_json(&c, "{\"op\":12,\"d\":{\"audio_ssrc\":5}}"); /* pre-2023 "client connect" */
  const uint8_t dave[] = {26, 0, 1, 2};                  /* binary DAVE key package */
  dv_gw_binary(&c.conn, dave, sizeof dave);
  ASSERT_EQ(c.close_code, 0);
  expect_op(&c, 8);
  expect_silence(&c);
  client_free(&c);
}

static void test_heartbeat_shapes(void) {
  client_t c;
  client_open(&c, 4);
  expect_op(&c, 8);
  send_json(&c, "{\"op\":3,\"d\":1234567}");
  ASSERT_EQ(json_integer_value(expect_op(&c, 6)), 1234567); /* v4: bare nonce */
  client_free(&c);
  client_open(&c, 8);
  expect_op(&c, 8);
  send_json(&c, "{\"op\":3,\"d\":{\"t\":1700000000123,\"seq_ack\":-1}}");
  json_t *ack = expect_op(&c, 6);
  ASSERT_EQ(json_integer_value(json_object_get(ack, "t")), 1700000000123LL); /* v8: {t} */
  ASSERT_TRUE(json_object_get(c.msgs[1], "seq") == NULL);                    /* ACK not numbered */
  client_free(&c);
}

static void test_select_protocol(void) {
  sc_vstate_t *vs = state("20", "102");
  /* webrtc: tests/unit/test_dv_webrtc.c */
  const char *bad[][2] = {{"tcp", "aead_aes256_gcm_rtpsize"},
                          {"udp", "xsalsa20_poly1305_lite_rtpsize"}};
  const int want[] = {DV_CLOSE_UNKNOWN_PROTOCOL, DV_CLOSE_UNKNOWN_MODE};
  for (int i = 0; i < 2; i++) {
    client_t c;
    client_open(&c, 8);
    identify(&c, vs);
    send_json(&c,
              "{\"op\":1,\"d\":{\"protocol\":\"%s\",\"data\":{\"address\":\"127.0.0.1\","
              "\"port\":5000,\"mode\":\"%s\"}}}",
              bad[i][0], bad[i][1]);
    ASSERT_EQ(c.close_code, want[i]);
    client_free(&c);
  }
  client_t c;
  client_open(&c, 8);
  identify(&c, vs);
  send_json(&c,
            "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"127.0.0.1\","
            "\"port\":5000,\"mode\":\"aead_xchacha20_poly1305_rtpsize\"}}}");
  expect_op(&c, 8);
  expect_op(&c, 2);
  json_t *sd = expect_op(&c, 4);
  ASSERT_STREQ(json_string_value(json_object_get(sd, "mode")), "aead_xchacha20_poly1305_rtpsize");
  ASSERT_STREQ(json_string_value(json_object_get(sd, "audio_codec")), "opus");
  /* v8 with max_dave_protocol_version 1, alone in the call: DAVE (op 25 follows) */
  ASSERT_EQ(json_integer_value(json_object_get(sd, "dave_protocol_version")), 1);
  json_t *key = json_object_get(sd, "secret_key");
  ASSERT_EQ(json_array_size(key), 32);
  int nonzero = 0;
  for (size_t i = 0; i < 32; i++) {
    json_int_t b = json_integer_value(json_array_get(key, i));
    ASSERT_TRUE(b >= 0 && b <= 255);
    nonzero += b != 0;
  }
  ASSERT_TRUE(nonzero > 16); /* 32 CSPRNG bytes, not a constant */
  ASSERT_STREQ(vs->transport, "aead_xchacha20_poly1305_rtpsize");
  send_json(&c, "{\"op\":0,\"d\":{}}");
  ASSERT_EQ(c.close_code, DV_CLOSE_ALREADY_AUTHENTICATED);
  client_free(&c);
  /* Every mode offered can be selected; op 4 names it. */
  for (int m = 0; m < DV_MODE_COUNT; m++) {
    client_open(&c, 4);
    identify(&c, vs);
    skip_all(&c);
    send_json(&c,
              "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"127.0.0.1\","
              "\"port\":5000,\"mode\":\"%s\"}}}",
              dv_mode_name((dv_mode_t)m));
    sd = expect_op(&c, 4);
    ASSERT_STREQ(json_string_value(json_object_get(sd, "mode")), dv_mode_name((dv_mode_t)m));
    ASSERT_STREQ(vs->transport, dv_mode_name((dv_mode_t)m));
    ASSERT_EQ(c.close_code, 0);
    client_free(&c);
  }
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

/* Two members of one channel, a third elsewhere: joins, speaking, leaves. */
static void test_room_events(void) {
  sc_vstate_t *va = state("30", "103"), *vb = state("31", "103"), *vx = state("32", "104");
  client_t a, b, x;
  client_open(&a, 8);
  client_open(&x, 8);
  identify(&a, va);
  identify(&x, vx);
  expect_op(&a, 8);
  expect_op(&a, 2);
  expect_silence(&a);
  client_open(&b, 4);
  identify(&b, vb);
  /* The newcomer learns who is here: op 11, then op 5 mapping A's SSRC. */
  expect_op(&b, 8);
  expect_op(&b, 2);
  json_t *cc = expect_op(&b, 11);
  ASSERT_STREQ(json_string_value(json_array_get(json_object_get(cc, "user_ids"), 0)), "30");
  json_t *sp = expect_op(&b, 5);
  ASSERT_STREQ(json_string_value(json_object_get(sp, "user_id")), "30");
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), va->ssrc);
  /* A learns about B. */
  cc = expect_op(&a, 11);
  ASSERT_STREQ(json_string_value(json_array_get(json_object_get(cc, "user_ids"), 0)), "31");
  sp = expect_op(&a, 5);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), vb->ssrc);
  /* B speaks (an old client: no ssrc field): A hears of it, X does not. */
  send_json(&b, "{\"op\":5,\"d\":{\"speaking\":1,\"delay\":0}}");
  sp = expect_op(&a, 5);
  ASSERT_STREQ(json_string_value(json_object_get(sp, "user_id")), "31");
  ASSERT_EQ(json_integer_value(json_object_get(sp, "ssrc")), vb->ssrc);
  ASSERT_EQ(json_integer_value(json_object_get(sp, "speaking")), 1);
  ASSERT_TRUE(json_object_get(sp, "delay") == NULL);
  expect_silence(&b); /* not echoed */
  expect_op(&x, 8);
  expect_op(&x, 2);
  expect_silence(&x);
  /* Litecord ends B's state: B gets 4014, A gets op 13. */
  sc_registry_end_state(app.registry, vb, SC_END_LEFT);
  ASSERT_EQ(b.close_code, DV_CLOSE_DISCONNECTED);
  json_t *dc = expect_op(&a, 13);
  ASSERT_STREQ(json_string_value(json_object_get(dc, "user_id")), "31");
  expect_silence(&x);
  client_free(&b);
  /* A's socket goes away: the state stays (Litecord owns it) and so does
   * A's session, waiting for a resume (test_dv_session.c). */
  client_free(&a);
  ASSERT_TRUE(sc_registry_find_session(app.registry, va->session_id) == va);
  ASSERT_TRUE(va->ops == &dv_session_attach_ops);
  teardown((client_t *[]){&x, NULL}, (sc_vstate_t *[]){va, vx, NULL});
}

static void test_takeover_and_replace(void) {
  sc_vstate_t *vs = state("40", "105");
  client_t old, fresh;
  client_open(&old, 8);
  identify(&old, vs);
  client_open(&fresh, 8);
  identify(&fresh, vs); /* a reconnect wins over a stale socket */
  ASSERT_EQ(old.close_code, DV_CLOSE_SESSION_INVALID);
  ASSERT_EQ(fresh.close_code, 0);
  dv_session_t *s = vs->conn;
  ASSERT_TRUE(s->conn == &fresh.conn);
  client_free(&old);
  ASSERT_TRUE(vs->conn == s && s->conn == &fresh.conn); /* the old close changes nothing */
  ASSERT_EQ(dv_gw_session_count(gw), 1);
  /* A new state for the same user and guild replaces this one. */
  sc_vstate_t *moved = state("40", "106");
  ASSERT_EQ(fresh.close_code, DV_CLOSE_DISCONNECTED);
  ASSERT_TRUE(sc_registry_find_user(app.registry, "40", "500") == moved);
  client_free(&fresh);
  sc_registry_end_state(app.registry, moved, SC_END_LEFT);
}

static void test_versions(void) {
  ASSERT_EQ(dv_gateway_version(NULL), 4);
  ASSERT_EQ(dv_gateway_version("4"), 4);
  ASSERT_EQ(dv_gateway_version("8"), 8);
  ASSERT_EQ(dv_gateway_version("9"), 8);
  ASSERT_EQ(dv_gateway_version("3"), -1);
  ASSERT_EQ(dv_gateway_version("x"), -1);
  dv_settings_t cfg = {.n_modes = 1};
  strcpy(cfg.modes[0], "nonsense");
  dv_modes_t m;
  ASSERT_EQ(dv_modes_from_config(&cfg, &m), -1);
}

/* 4020 for a message over --gw-max-message, 4021 past the rate limit;
 * binary frames count too. An identified socket's session ends with it. */
static void test_limits(void) {
  dv_limits_t saved = *dv_gw_limits(gw);
  dv_gw_limits(gw)->rate_limit = 5;
  dv_gw_limits(gw)->rate_window_ms = 1000;
  dv_gw_limits(gw)->max_message = 1024;
  client_t c;
  client_open(&c, 8);
  char big[1100];
  memset(big, ' ', sizeof big);
  memcpy(big, "{\"op\":3,\"d\":1}", 14);
  dv_gw_text(&c.conn, big, sizeof big);
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  client_free(&c);
  client_open(&c, 8);
  dv_gw_oversize(&c.conn); /* as dv_ws reports a long fragmented message */
  ASSERT_EQ(c.close_code, DV_CLOSE_BAD_REQUEST);
  client_free(&c);
  /* 5 per second: a burst of 5 passes, the 6th is refused... */
  sc_vstate_t *va = state("50", "107"), *vb = state("51", "107");
  client_t a, b;
  join(&a, 8, va);
  join(&b, 8, vb); /* Identify: b's first message */
  skip_all(&a);
  const uint8_t bin[] = {23, 0};
  dv_gw_binary(&b.conn, bin, sizeof bin);
  for (int i = 0; i < 3; i++) send_json(&b, "{\"op\":3,\"d\":%d}", i);
  ASSERT_EQ(b.close_code, 0);
  /* ...unless time refills the bucket: 200 ms give one message back. */
  advance(200);
  send_json(&b, "{\"op\":3,\"d\":9}");
  ASSERT_EQ(b.close_code, 0);
  send_json(&b, "{\"op\":3,\"d\":10}");
  ASSERT_EQ(b.close_code, DV_CLOSE_RATE_LIMITED);
  json_t *dc = expect_op(&a, 13); /* b's session ended with its socket */
  ASSERT_STREQ(json_string_value(json_object_get(dc, "user_id")), "51");
  ASSERT_TRUE(vb->ops == NULL);
  teardown((client_t *[]){&b, &a, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  *dv_gw_limits(gw) = saved;
}

/* No heartbeat within --gw-heartbeat-timeout-ms: 4009, and the session
 * ends (not resumable). Heartbeats in time keep the socket. */
static void test_heartbeat_timeout(void) {
  uint32_t timeout = dv_gw_limits(gw)->hb_timeout_ms;
  ASSERT_EQ(timeout, 2 * 41250 + 5000); /* the default: 2 intervals + 5 s */
  client_t anon;
  client_open(&anon, 4);
  advance(timeout - 1);
  ASSERT_EQ(anon.close_code, 0);
  advance(1);
  ASSERT_EQ(anon.close_code, DV_CLOSE_SESSION_TIMEOUT);
  client_free(&anon);
  sc_vstate_t *va = state("52", "108"), *vb = state("53", "108");
  client_t a, b;
  join(&a, 8, va);
  join(&b, 4, vb);
  for (int i = 0; i < 3; i++) {
    advance(timeout - 1000);
    send_json(&a, "{\"op\":3,\"d\":{\"t\":%d,\"seq_ack\":-1}}", i);
    send_json(&b, "{\"op\":3,\"d\":%d}", i);
  }
  ASSERT_EQ(a.close_code, 0);
  ASSERT_EQ(b.close_code, 0);
  skip_all(&a);
  advance(timeout - 1000);
  send_json(&a, "{\"op\":3,\"d\":{\"t\":9,\"seq_ack\":-1}}");
  advance(1000);
  ASSERT_EQ(b.close_code, DV_CLOSE_SESSION_TIMEOUT);
  ASSERT_EQ(a.close_code, 0);
  expect_op(&a, 6);
  expect_op(&a, 13);
  ASSERT_TRUE(vb->ops == NULL);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
}

/* 4014 when Litecord ends the state, 4015 when the server shuts down. */
static void test_end_codes(void) {
  sc_vstate_t *va = state("54", "109");
  client_t a;
  join(&a, 8, va);
  sc_registry_end_state(app.registry, va, SC_END_SHUTDOWN);
  ASSERT_EQ(a.close_code, DV_CLOSE_SERVER_CRASH);
  ASSERT_EQ(dv_gw_session_count(gw), 0);
  client_free(&a);
  va = state("54", "109");
  join(&a, 8, va);
  sc_registry_end_state(app.registry, va, SC_END_CHANNEL_GONE);
  ASSERT_EQ(a.close_code, DV_CLOSE_DISCONNECTED);
  client_free(&a);
}

/* Op 12 with video SSRCs is relayed with user_id (and the sender's audio
 * SSRC) and re-told to newcomers; ops 18 and 20 likewise. Streams asked for
 * in Identify get server-chosen SSRCs in Ready. */
static void test_video_and_announcements(void) {
  sc_vstate_t *va = state("60", "110"), *vb = state("61", "110"), *vc = state("62", "110");
  client_t a, b, c;
  join(&a, 8, va);
  join(&b, 8, vb);
  skip_all(&a);
  send_json(&a,
            "{\"op\":12,\"d\":{\"audio_ssrc\":1,\"video_ssrc\":4000,\"rtx_ssrc\":4001,"
            "\"streams\":[{\"type\":\"video\",\"rid\":\"100\",\"ssrc\":4000,"
            "\"rtx_ssrc\":4001,\"active\":true,\"quality\":100}]}}");
  send_json(&a, "{\"op\":18,\"d\":{\"flags\":2}}");
  send_json(&a, "{\"op\":20,\"d\":{\"platform\":1}}");
  ASSERT_EQ(a.close_code, 0);
  expect_silence(&a); /* nothing echoed */
  json_t *v = expect_op(&b, 12);
  ASSERT_STREQ(json_string_value(json_object_get(v, "user_id")), "60");
  ASSERT_EQ(json_integer_value(json_object_get(v, "audio_ssrc")), va->ssrc);
  ASSERT_EQ(json_integer_value(json_object_get(v, "video_ssrc")), 4000);
  ASSERT_EQ(json_integer_value(json_object_get(v, "rtx_ssrc")), 4001);
  ASSERT_EQ(json_array_size(json_object_get(v, "streams")), 1);
  json_t *f = expect_op(&b, 18);
  ASSERT_STREQ(json_string_value(json_object_get(f, "user_id")), "60");
  ASSERT_EQ(json_integer_value(json_object_get(f, "flags")), 2);
  json_t *p = expect_op(&b, 20);
  ASSERT_EQ(json_integer_value(json_object_get(p, "platform")), 1);
  ASSERT_EQ(va->n_aliases, 2); /* 4000 and 4001, once each */
  /* A newcomer asking for a video stream gets SSRCs for it in Ready, then
   * hears who is here and what they announced. */
  client_open(&c, 8);
  send_json(&c,
            "{\"op\":0,\"d\":{\"server_id\":\"500\",\"user_id\":\"62\",\"session_id\":\"%s\","
            "\"token\":\"%s\",\"video\":true,\"streams\":[{\"type\":\"video\",\"rid\":\"100\","
            "\"quality\":100}]}}",
            vc->session_id, vc->token);
  expect_op(&c, 8);
  json_t *ready = expect_op(&c, 2);
  json_t *st = json_array_get(json_object_get(ready, "streams"), 0);
  json_int_t vs_ssrc = json_integer_value(json_object_get(st, "ssrc"));
  json_int_t rtx = json_integer_value(json_object_get(st, "rtx_ssrc"));
  ASSERT_TRUE(vs_ssrc > 0 && rtx > 0 && vs_ssrc != rtx && vs_ssrc != vc->ssrc);
  ASSERT_STREQ(json_string_value(json_object_get(st, "rid")), "100");
  ASSERT_EQ(vc->n_aliases, 2);
  expect_op(&c, 11);
  int seen12 = 0, seen18 = 0, seen20 = 0;
  while (c.next < c.n) {
    json_t *m = c.msgs[c.next++];
    json_int_t op = json_integer_value(json_object_get(m, "op"));
    const char *uid = json_string_value(json_object_get(json_object_get(m, "d"), "user_id"));
    seen12 += op == 12 && uid && !strcmp(uid, "60");
    seen18 += op == 18 && uid && !strcmp(uid, "60");
    seen20 += op == 20 && uid && !strcmp(uid, "60");
  }
  ASSERT_TRUE(seen12 == 1 && seen18 == 1 && seen20 == 1);
  teardown((client_t *[]){&a, &b, &c, NULL}, (sc_vstate_t *[]){va, vb, vc, NULL});
}

/* Every opcode's field table: a field of the wrong type (or a d of the
 * wrong type) closes with 4020, before or after Identify; an identified
 * socket's session ends with it. */
static void test_field_tables(void) {
  static const char *fresh[] = {
      "{\"op\":0,\"d\":\"x\"}",
      "{\"op\":0,\"d\":{\"server_id\":\"500\",\"user_id\":\"1\",\"session_id\":\"s\","
      "\"token\":5}}",
      "{\"op\":0,\"d\":{\"server_id\":\"500\",\"user_id\":\"1\",\"session_id\":\"s\","
      "\"token\":\"t\",\"streams\":\"x\"}}",
      "{\"op\":7,\"d\":[]}",
      "{\"op\":7,\"d\":{\"server_id\":\"500\",\"session_id\":\"s\",\"token\":\"t\","
      "\"seq_ack\":\"1\"}}",
      "{\"op\":3,\"d\":{\"t\":1,\"seq_ack\":\"1\"}}",
      "{\"op\":3,\"d\":{\"t\":1,\"seq_ack\":1.5}}",
  };
  for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
    client_t c;
    client_open(&c, 8);
    dv_gw_text(&c.conn, fresh[i], strlen(fresh[i]));
    if (c.close_code != DV_CLOSE_BAD_REQUEST)
      SC_FAIL("%s: close %d, want 4020", fresh[i], c.close_code);
    client_free(&c);
  }
  static const char *identified[] = {
      "{\"op\":1,\"d\":{\"protocol\":1,\"data\":{}}}",
      "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":\"x\"}}",
      "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"mode\":7}}}",
      "{\"op\":5,\"d\":{\"speaking\":\"1\"}}",
      "{\"op\":5,\"d\":5}",
      "{\"op\":12,\"d\":5}",
      "{\"op\":12,\"d\":{\"video_ssrc\":\"1\"}}",
      "{\"op\":12,\"d\":{\"video_ssrc\":1,\"streams\":{}}}",
      "{\"op\":18,\"d\":{\"flags\":\"2\"}}",
      "{\"op\":20,\"d\":{\"platform\":1.5}}",
  };
  sc_vstate_t *vs = state("90", "120");
  for (size_t i = 0; i < sizeof identified / sizeof identified[0]; i++) {
    client_t c;
    join(&c, 8, vs);
    dv_gw_text(&c.conn, identified[i], strlen(identified[i]));
    if (c.close_code != DV_CLOSE_BAD_REQUEST)
      SC_FAIL("%s: close %d, want 4020", identified[i], c.close_code);
    ASSERT_TRUE(vs->ops == NULL); /* the session ended with it */
    client_free(&c);
  }
  sc_registry_end_state(app.registry, vs, SC_END_LEFT);
}

/* op 12 relays only SSRCs that are the member's own: another member's
 * audio SSRC (or one another member claimed, in any room) is relayed as 0
 * and counted; a claim is released when the session ends. */
static void test_video_ssrc_claims(void) {
  sc_vstate_t *va = state("91", "121"), *vb = state("92", "121"), *vc = state("93", "122");
  client_t a, b, c;
  join(&a, 8, va);
  join(&b, 8, vb);
  join(&c, 8, vc);
  uint64_t refused = gw->sessions.stats.ssrc_refused;
  send_json(&a,
            "{\"op\":12,\"d\":{\"audio_ssrc\":1,\"video_ssrc\":%u,\"rtx_ssrc\":9001,"
            "\"streams\":[{\"type\":\"video\",\"ssrc\":%u,\"rtx_ssrc\":%u,\"active\":true,"
            "\"extra\":\"dropped\"}],\"junk\":1}}",
            vb->ssrc, va->ssrc, vb->ssrc);
  ASSERT_EQ(a.close_code, 0);
  json_t *v = expect_op(&b, 12);
  ASSERT_EQ(json_integer_value(json_object_get(v, "audio_ssrc")), va->ssrc);
  ASSERT_EQ(json_integer_value(json_object_get(v, "video_ssrc")), 0);
  ASSERT_EQ(json_integer_value(json_object_get(v, "rtx_ssrc")), 9001);
  json_t *st = json_array_get(json_object_get(v, "streams"), 0);
  ASSERT_EQ(json_integer_value(json_object_get(st, "ssrc")), 0); /* its own audio SSRC */
  ASSERT_EQ(json_integer_value(json_object_get(st, "rtx_ssrc")), 0);
  ASSERT_TRUE(json_is_false(json_object_get(st, "active")));
  ASSERT_TRUE(json_object_get(st, "extra") == NULL); /* rebuilt from known fields */
  ASSERT_TRUE(json_object_get(v, "junk") == NULL);
  ASSERT_EQ(gw->sessions.stats.ssrc_refused, refused + 3);
  ASSERT_EQ(va->n_aliases, 1);
  /* 9001 is A's in the whole process: C, in another room, cannot have it. */
  ASSERT_EQ(sc_registry_claim_ssrc(app.registry, vc, 9001), -EEXIST);
  ASSERT_EQ(sc_registry_claim_ssrc(app.registry, vc, vb->ssrc), -EEXIST);
  ASSERT_EQ(sc_registry_claim_ssrc(app.registry, vc, vc->ssrc), -EEXIST);
  /* Released with A's session. */
  client_free(&a);
  advance(dv_gw_limits(gw)->resume_grace_ms + 1);
  ASSERT_EQ(va->n_aliases, 0);
  ASSERT_EQ(sc_registry_claim_ssrc(app.registry, vc, 9001), 0);
  teardown((client_t *[]){&b, &c, NULL}, (sc_vstate_t *[]){va, vb, vc, NULL});
}

/* A member relaying more than lim.relay_bytes of announcements per rate
 * window is closed with 4021 (counted); nothing over the budget is
 * relayed, and a new Identify inherits the spent budget. */
static void test_relay_budget(void) {
  dv_limits_t saved = *dv_gw_limits(gw);
  dv_gw_limits(gw)->relay_bytes = 500;
  sc_vstate_t *va = state("94", "123"), *vb = state("95", "123");
  client_t a, b;
  join(&a, 8, va);
  join(&b, 8, vb);
  uint64_t before = gw->sessions.stats.relay_over_budget;
  int relayed = 0;
  for (int i = 0; i < 20 && !a.close_code; i++)
    send_json(&a, "{\"op\":18,\"d\":{\"flags\":%d}}", i);
  ASSERT_EQ(a.close_code, DV_CLOSE_RATE_LIMITED);
  ASSERT_EQ(gw->sessions.stats.relay_over_budget, before + 1);
  while (b.next < b.n) {
    json_t *m = b.msgs[b.next++];
    relayed += json_integer_value(json_object_get(m, "op")) == 18;
  }
  ASSERT_TRUE(relayed > 5 && relayed < 20); /* ~40 bytes each */
  /* The session stays; identifying again does not refill the budget. */
  ASSERT_TRUE(va->ops != NULL);
  client_free(&a);
  join(&a, 8, va);
  send_json(&a, "{\"op\":18,\"d\":{\"flags\":1}}");
  ASSERT_EQ(a.close_code, DV_CLOSE_RATE_LIMITED);
  ASSERT_EQ(gw->sessions.stats.relay_over_budget, before + 2);
  /* A window later it is whole again. */
  client_free(&a);
  advance(dv_gw_limits(gw)->rate_window_ms);
  join(&a, 8, va);
  send_json(&a, "{\"op\":18,\"d\":{\"flags\":1}}");
  ASSERT_EQ(a.close_code, 0);
  teardown((client_t *[]){&a, &b, NULL}, (sc_vstate_t *[]){va, vb, NULL});
  *dv_gw_limits(gw) = saved;
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  harness_init();
  RUN_TEST(test_hello_and_ready);
  RUN_TEST(test_bad_identify);
  RUN_TEST(test_close_codes);
  RUN_TEST(test_heartbeat_shapes);
  RUN_TEST(test_select_protocol);
  RUN_TEST(test_room_events);
  RUN_TEST(test_takeover_and_replace);
  RUN_TEST(test_versions);
  RUN_TEST(test_limits);
  RUN_TEST(test_heartbeat_timeout);
  RUN_TEST(test_end_codes);
  RUN_TEST(test_video_and_announcements);
  RUN_TEST(test_field_tables);
  RUN_TEST(test_video_ssrc_claims);
  RUN_TEST(test_relay_budget);
  harness_fini();
  SC_TEST_DONE();
}
