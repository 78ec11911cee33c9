/*
 * dv_gateway: see dv_gateway.h. This file is the socket side: limits,
 * the opcode table and its handlers, and the gateway object. The session
 * side (numbering, resume, the room) is dv_session.c.
 */
#include "dv_gateway.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dv_session.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_registry.h"
#include "sc_token.h"

#define DV_MAX_STREAMS 4 /* video streams a client may ask for in Identify */

/* ---- the socket ----------------------------------------------------------- */

int dv_conn_send_text(dv_conn_t *c, const char *text, size_t len) {
  if (c->closing) return -EPIPE;
  if (c->io->send_text(c->io_ctx, text, len) < 0) {
    /* The transport drops a socket whose peer does not read; a session
     * on it may resume with what it missed. */
    sc_log_warn("gateway", "outbound queue full; dropping the socket");
    c->closing = 1;
    return -ENOBUFS;
  }
  return 0;
}

void dv_conn_close(dv_conn_t *c, int code, const char *reason) {
  if (c->closing) return;
  sc_log_info("gateway", "closing %s with %d: %s",
              c->session ? c->session->vs->user_id : "(anonymous)", code, reason);
  c->closing = 1;
  c->io->close(c->io_ctx, code, reason);
}

/* Closes with an error code; a session on the socket ends with it (the
 * client must identify anew, as Discord's codes other than 4015 mean). */
static void conn_fail(dv_conn_t *c, int code, const char *reason) {
  dv_session_t *s = c->session;
  dv_conn_close(c, code, reason);
  if (s) dv_session_end(s, 0, reason);
}

/* Unnumbered messages: Hello, Heartbeat ACK (and Resumed, dv_session.c). */
static void send_unnumbered(dv_conn_t *c, int op, json_t *d) {
  json_t *msg = json_pack("{s:i, s:o}", "op", op, "d", d ? d : json_null());
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (text) dv_conn_send_text(c, text, strlen(text));
  free(text);
}

static void on_heartbeat_deadline(dv_timer_t *t) {
  dv_conn_t *c = (dv_conn_t *)((char *)t - offsetof(dv_conn_t, heartbeat));
  conn_fail(c, DV_CLOSE_SESSION_TIMEOUT, "no heartbeat in time");
}

/* ---- Identify -------------------------------------------------------------- */

static json_t *modes_json(const dv_modes_t *m) {
  json_t *a = json_array();
  for (int i = 0; i < m->n; i++) json_array_append_new(a, json_string(dv_mode_name(m->modes[i])));
  return a;
}

/* Video streams asked for in Identify get server-chosen SSRCs (stream and
 * RTX), registered with the media plane, listed in Ready. */
static json_t *assign_streams(dv_session_t *s, json_t *asked) {
  json_t *out = json_array();
  size_t i;
  json_t *st;
  json_array_foreach(asked, i, st) {
    if (i == DV_MAX_STREAMS || !json_is_object(st)) break;
    uint32_t ssrc = sc_token_random_u32(), rtx = sc_token_random_u32();
    json_t *o = json_pack("{s:s, s:I, s:I, s:b}", "type", "video", "ssrc", (json_int_t)ssrc,
                          "rtx_ssrc", (json_int_t)rtx, "active", 0);
    json_t *rid = json_object_get(st, "rid"), *q = json_object_get(st, "quality");
    json_t *type = json_object_get(st, "type");
    if (json_is_string(type)) json_object_set(o, "type", type);
    if (json_is_string(rid)) json_object_set(o, "rid", rid);
    if (json_is_integer(q)) json_object_set(o, "quality", q);
    json_array_append_new(out, o);
    dv_session_alias(s, ssrc);
    dv_session_alias(s, rtx);
  }
  return out;
}

static void send_ready(dv_session_t *s, json_t *streams) {
  sc_app_t *app = s->gw->app;
  sc_vstate_t *vs = s->vs;
  uint16_t port = app->media ? sc_media_port_for_room(app->media, vs->channel->room_id)
                             : app->cfg.udp_listen.port;
  dv_session_send(s, DV_OP_READY,
                  json_pack("{s:I, s:s, s:i, s:o, s:[], s:o}", "ssrc", (json_int_t)vs->ssrc, "ip",
                            dv_settings(app)->ready_ip, "port", (int)port, "modes",
                            modes_json(&s->gw->modes), "experiments", "streams", streams));
  dv_session_greet(s);
}

typedef struct {
  const char *server_id;
  int found;
} server_probe_t;

static void probe_channel(sc_channel_t *ch, void *arg) {
  server_probe_t *p = arg;
  const char *server = ch->guild_id[0] ? ch->guild_id : ch->id; /* as sc_vstate_t.server_id */
  if (ch->n_states && strcmp(server, p->server_id) == 0) p->found = 1;
}

/* 4004: wrong credentials, for a session we have or on a server where we
 * hold voice states; 4011: no voice state on that server at all
 * (docs/GATEWAY.md). Only failed Identifies pay for the channel scan. */
static int auth_failure_code(dv_gw_t *gw, const sc_vstate_t *vs, const char *server_id) {
  if (vs) return DV_CLOSE_AUTH_FAILED;
  server_probe_t p = {server_id, 0};
  sc_registry_each_channel(gw->app->registry, probe_channel, &p);
  return p.found ? DV_CLOSE_AUTH_FAILED : DV_CLOSE_SERVER_NOT_FOUND;
}

/* A new Identify for a state another socket holds: the newcomer wins. */
static int take_over(dv_conn_t *c, sc_vstate_t *vs) {
  if (!vs->ops) return 0;
  if (vs->ops != &dv_session_attach_ops) {
    conn_fail(c, DV_CLOSE_ALREADY_AUTHENTICATED, "session in use");
    return -1;
  }
  dv_session_end(vs->conn, DV_CLOSE_SESSION_INVALID, "session taken over by a new Identify");
  return 0;
}

static void op_identify(dv_conn_t *c, json_t *d) {
  const char *server_id, *user_id, *session_id, *token;
  dv_gw_t *gw = c->gw;
  if (c->session) {
    conn_fail(c, DV_CLOSE_ALREADY_AUTHENTICATED, "already identified");
    return;
  }
  if (json_unpack(d, "{s:s, s:s, s:s, s:s}", "server_id", &server_id, "user_id", &user_id,
                  "session_id", &session_id, "token", &token) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "identify needs server_id, user_id, session_id, token");
    return;
  }
  sc_vstate_t *vs = sc_registry_find_session(gw->app->registry, session_id);
  /* Always compare the token, so timing does not tell which field failed. */
  int ok = sc_token_equal(vs ? vs->token : "", token);
  if (!vs || !ok || strcmp(vs->user_id, user_id) != 0 || strcmp(vs->server_id, server_id) != 0) {
    int code = auth_failure_code(gw, vs, server_id);
    conn_fail(c, code,
              code == DV_CLOSE_SERVER_NOT_FOUND ? "unknown server" : "authentication failed");
    return;
  }
  if (take_over(c, vs) < 0) return;
  /* A new client: its old address binding and key must not carry over. */
  if (gw->app->media) sc_media_post_reset(gw->app->media, vs->channel->room_id, vs->ssrc);
  dv_session_t *s = dv_session_create(gw, vs, c->version);
  if (!s) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "out of memory");
    return;
  }
  dv_session_bind(s, c);
  sc_log_info("gateway", "user %s identified in channel %s (ssrc %u, v%d)", vs->user_id,
              vs->channel->id, vs->ssrc, c->version);
  json_t *asked = json_object_get(d, "streams");
  send_ready(s, json_is_array(asked) ? assign_streams(s, asked) : json_array());
}

/* ---- Select Protocol ------------------------------------------------------- */

static int find_mode(const dv_modes_t *m, const char *name) {
  int mode = name ? dv_mode_from_name(name) : -1;
  for (int i = 0; mode >= 0 && i < m->n; i++)
    if ((int)m->modes[i] == mode) return mode;
  return -1;
}

/* The address Select Protocol names; used until a datagram binds one. */
static void post_peer_hint(dv_session_t *s, json_t *data) {
  const char *address = NULL;
  json_int_t port = 0;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  if (json_unpack(data, "{s:s, s:I}", "address", &address, "port", &port) < 0 || port < 1 ||
      port > 65535 || inet_pton(AF_INET, address, &sin->sin_addr) != 1)
    return;
  sin->sin_family = AF_INET;
  sin->sin_port = htons((uint16_t)port);
  sc_media_post_peer_hint(s->gw->app->media, s->vs->channel->room_id, s->vs->ssrc, &ss);
}

static void send_session_description(dv_session_t *s, const uint8_t key[DV_KEY_LEN]) {
  json_t *k = json_array();
  for (int i = 0; i < DV_KEY_LEN; i++) json_array_append_new(k, json_integer(key[i]));
  char media_session[33];
  sc_token_random_hex(media_session, sizeof media_session, 16);
  dv_session_send(s, DV_OP_SESSION_DESCRIPTION,
                  json_pack("{s:s, s:o, s:s, s:s, s:s, s:i}", "mode", dv_mode_name(s->mode),
                            "secret_key", k, "audio_codec", "opus", "video_codec", "H264",
                            "media_session_id", media_session, "dave_protocol_version", 0));
}

/* Hands the member's new key to the media plane: posted before op 4 goes
 * out, so it is in force before the client can send under it. */
static int install_cipher(dv_session_t *s, json_t *data, dv_mode_t mode) {
  uint8_t key[DV_KEY_LEN];
  sc_token_random(key, sizeof key);
  dv_cipher_t *cipher = dv_cipher_new(mode, key);
  if (!cipher) {
    sodium_memzero(key, sizeof key);
    return -1;
  }
  sc_app_t *app = s->gw->app;
  s->mode = mode;
  s->selected = 1;
  snprintf(s->vs->transport, sizeof s->vs->transport, "%s", dv_mode_name(mode));
  if (app->media) {
    post_peer_hint(s, data);
    sc_media_post_cipher(app->media, s->vs->channel->room_id, s->vs->ssrc, &dv_cipher_ops, cipher);
  } else {
    dv_cipher_free(cipher);
  }
  send_session_description(s, key);
  sodium_memzero(key, sizeof key);
  return 0;
}

static void op_select_protocol(dv_conn_t *c, json_t *d) {
  const char *protocol = NULL, *mode_name = NULL;
  json_t *data = NULL;
  if (json_unpack(d, "{s:s, s:o}", "protocol", &protocol, "data", &data) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "select protocol needs protocol and data");
    return;
  }
  if (strcmp(protocol, "udp") != 0) {
    conn_fail(c, DV_CLOSE_UNKNOWN_PROTOCOL, "unknown protocol");
    return;
  }
  if (json_unpack(data, "{s:s}", "mode", &mode_name) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "select protocol needs data.mode");
    return;
  }
  int mode = find_mode(&c->gw->modes, mode_name);
  if (mode < 0) {
    conn_fail(c, DV_CLOSE_UNKNOWN_MODE, "unknown encryption mode");
    return;
  }
  if (install_cipher(c->session, data, (dv_mode_t)mode) < 0)
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "cannot prepare the cipher");
}

/* ---- Heartbeat, Speaking, Resume --------------------------------------- */

/* v8 sends {t, seq_ack} and gets {t}; older versions send and get the bare
 * nonce. Answer in the shape the client used. */
static void op_heartbeat(dv_conn_t *c, json_t *d) {
  dv_timer_arm(&c->heartbeat, c->gw->lim.hb_timeout_ms);
  if (json_is_object(d)) {
    json_t *t = json_object_get(d, "t"), *ack = json_object_get(d, "seq_ack");
    if (c->session && json_is_integer(ack)) dv_session_ack(c->session, json_integer_value(ack));
    send_unnumbered(c, DV_OP_HEARTBEAT_ACK, json_pack("{s:O}", "t", t ? t : json_null()));
  } else {
    send_unnumbered(c, DV_OP_HEARTBEAT_ACK, d ? json_incref(d) : json_null());
  }
}

static void op_speaking(dv_conn_t *c, json_t *d) {
  json_t *s = json_is_object(d) ? json_object_get(d, "speaking") : NULL;
  json_int_t flags;
  if (json_is_integer(s))
    flags = json_integer_value(s);
  else if (json_is_boolean(s))
    flags = json_is_true(s); /* pre-v4 clients */
  else {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "speaking needs a speaking value");
    return;
  }
  if (flags < 0 || flags > 0xff) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "bad speaking flags");
    return;
  }
  sc_registry_set_speaking(c->gw->app->registry, c->session->vs, (unsigned)flags);
}

static void op_resume(dv_conn_t *c, json_t *d) {
  const char *server_id, *session_id, *token;
  if (c->session) {
    conn_fail(c, DV_CLOSE_ALREADY_AUTHENTICATED, "already identified");
    return;
  }
  if (json_unpack(d, "{s:s, s:s, s:s}", "server_id", &server_id, "session_id", &session_id, "token",
                  &token) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "resume needs server_id, session_id, token");
    return;
  }
  dv_session_t *s = dv_session_find(c->gw, session_id);
  int ok = sc_token_equal(s ? s->vs->token : "", token);
  if (!s || !ok || strcmp(s->vs->server_id, server_id) != 0) {
    dv_conn_close(c, DV_CLOSE_SESSION_INVALID, "no such session to resume");
    return;
  }
  json_t *ack = json_object_get(d, "seq_ack");
  int has_ack = c->version >= 8 && json_is_integer(ack);
  if (dv_session_resume(s, c, has_ack, has_ack ? json_integer_value(ack) : -1) < 0) {
    dv_conn_close(c, DV_CLOSE_SESSION_INVALID, "missed messages are gone");
    dv_session_end(s, DV_CLOSE_SESSION_INVALID, "resume impossible: messages gone");
  }
}

/* ---- video and client announcements ------------------------------------ */

static uint32_t ssrc_of(json_t *v) {
  json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
  return n > 0 && n <= (json_int_t)UINT32_MAX ? (uint32_t)n : 0;
}

/* Op 12 with video_ssrc: the member's video SSRCs (and RTX) become its
 * aliases on the media path; the others learn them. Pre-2023 libraries
 * send op 12 without video_ssrc as "client connect": ignored. */
static void op_video(dv_conn_t *c, json_t *d) {
  dv_session_t *s = c->session;
  if (!s || !json_is_object(d) || !json_object_get(d, "video_ssrc")) return;
  dv_session_alias(s, ssrc_of(json_object_get(d, "video_ssrc")));
  dv_session_alias(s, ssrc_of(json_object_get(d, "rtx_ssrc")));
  size_t i;
  json_t *st;
  json_array_foreach(json_object_get(d, "streams"), i, st) {
    dv_session_alias(s, ssrc_of(json_object_get(st, "ssrc")));
    dv_session_alias(s, ssrc_of(json_object_get(st, "rtx_ssrc")));
  }
  json_t *relay = json_deep_copy(d);
  json_object_set_new(relay, "audio_ssrc", json_integer(s->vs->ssrc));
  dv_session_announce(s, DV_ANNOUNCE_VIDEO, DV_OP_VIDEO, relay);
}

/* Ops 18/20: relayed to the others with user_id where the field is present. */
static void announce_field(dv_conn_t *c, json_t *d, const char *field, int kind, int op) {
  json_t *v = json_is_object(d) ? json_object_get(d, field) : NULL;
  if (!c->session || !json_is_integer(v)) return;
  dv_session_announce(c->session, kind, op, json_pack("{s:O}", field, v));
}

static void op_client_flags(dv_conn_t *c, json_t *d) {
  announce_field(c, d, "flags", DV_ANNOUNCE_FLAGS, DV_OP_CLIENT_FLAGS);
}

static void op_client_platform(dv_conn_t *c, json_t *d) {
  announce_field(c, d, "platform", DV_ANNOUNCE_PLATFORM, DV_OP_CLIENT_PLATFORM);
}

static void op_ignore(dv_conn_t *c, json_t *d) {
  (void)c;
  (void)d;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef void (*op_fn)(dv_conn_t *c, json_t *d);
typedef struct {
  op_fn fn;
  int needs_identify;
} op_entry_t;

/* Opcodes clients send. 14-17, 19 and the DAVE ops 23/31 are sent by real
 * clients; a version-0 (no DAVE) server accepts and ignores them. */
static const op_entry_t op_table[DV_OP_MAX] = {
    [DV_OP_IDENTIFY] = {op_identify, 0},
    [DV_OP_SELECT_PROTOCOL] = {op_select_protocol, 1},
    [DV_OP_HEARTBEAT] = {op_heartbeat, 0},
    [DV_OP_SPEAKING] = {op_speaking, 1},
    [DV_OP_RESUME] = {op_resume, 0},
    [DV_OP_VIDEO] = {op_video, 0},
    [14] = {op_ignore, 0},
    [15] = {op_ignore, 0},
    [16] = {op_ignore, 0},
    [17] = {op_ignore, 0},
    [DV_OP_CLIENT_FLAGS] = {op_client_flags, 0},
    [19] = {op_ignore, 0},
    [DV_OP_CLIENT_PLATFORM] = {op_client_platform, 0},
    [23] = {op_ignore, 0},
    [31] = {op_ignore, 0},
};

/* Size and rate limits, for every message. 0 = go on. */
static int admit(dv_conn_t *c, size_t len) {
  if (c->closing) return -1;
  const dv_limits_t *l = &c->gw->lim;
  if (len > l->max_message) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "message too large");
    return -1;
  }
  if (dv_rate_take(&c->rate, l->rate_limit, l->rate_window_ms, dv_timers_now(&c->gw->timers))) {
    conn_fail(c, DV_CLOSE_RATE_LIMITED, "rate limited");
    return -1;
  }
  return 0;
}

void dv_conn_handle_text(dv_conn_t *c, const char *buf, size_t len) {
  if (admit(c, len) < 0) return;
  json_error_t err;
  json_t *msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  json_t *op = json_is_object(msg) ? json_object_get(msg, "op") : NULL;
  if (!json_is_integer(op)) {
    json_decref(msg);
    conn_fail(c, DV_CLOSE_DECODE_ERROR, "failed to decode payload");
    return;
  }
  json_int_t n = json_integer_value(op);
  const op_entry_t *e = n >= 0 && n < DV_OP_MAX ? &op_table[n] : NULL;
  if (!e || !e->fn)
    conn_fail(c, DV_CLOSE_UNKNOWN_OPCODE, "unknown opcode");
  else if (e->needs_identify && !c->session)
    conn_fail(c, DV_CLOSE_NOT_AUTHENTICATED, "not authenticated");
  else
    e->fn(c, json_object_get(msg, "d"));
  json_decref(msg);
}

void dv_conn_handle_binary(dv_conn_t *c, const uint8_t *buf, size_t len) {
  (void)buf; /* DAVE (ops 26/28): this server stays at protocol version 0 */
  admit(c, len);
}

void dv_conn_oversize(dv_conn_t *c) {
  if (!c->closing) conn_fail(c, DV_CLOSE_BAD_REQUEST, "message too large");
}

/* ---- lifecycle ------------------------------------------------------------ */

void dv_conn_open(dv_conn_t *c, dv_gw_t *gw, int version, const dv_io_t *io, void *io_ctx) {
  memset(c, 0, sizeof *c);
  c->gw = gw;
  c->version = version;
  c->io = io;
  c->io_ctx = io_ctx;
  dv_timer_init(&c->heartbeat, &gw->timers, on_heartbeat_deadline);
  dv_timer_arm(&c->heartbeat, gw->lim.hb_timeout_ms);
  send_unnumbered(
      c, DV_OP_HELLO,
      json_pack("{s:i, s:i}", "v", version, "heartbeat_interval", (int)gw->lim.heartbeat_ms));
}

void dv_conn_closed(dv_conn_t *c) {
  dv_timer_cancel(&c->heartbeat);
  if (c->session) dv_session_unbind(c->session);
  c->session = NULL;
  c->closing = 1;
}

int dv_modes_from_config(const dv_settings_t *cfg, dv_modes_t *out) {
  out->n = 0;
  for (int i = 0; i < cfg->n_modes; i++) {
    int mode = dv_mode_from_name(cfg->modes[i]);
    if (mode < 0) {
      sc_log_error("gateway", "--modes: unknown encryption mode \"%s\"", cfg->modes[i]);
      return -1;
    }
    if (out->n < DV_MODE_COUNT && find_mode(out, cfg->modes[i]) < 0)
      out->modes[out->n++] = (dv_mode_t)mode;
  }
  return out->n ? 0 : -1;
}

dv_gw_t *dv_gw_create(sc_app_t *app, struct lws_context *lws) {
  dv_gw_t *gw = calloc(1, sizeof *gw);
  if (!gw) return NULL;
  gw->app = app;
  const dv_settings_t *set = dv_settings(app);
  if (!set || dv_modes_from_config(set, &gw->modes) < 0) {
    free(gw);
    return NULL;
  }
  dv_limits_from_config(set, &gw->lim);
  dv_timers_init(&gw->timers, lws);
  sc_hmap_init(&gw->sessions);
  return gw;
}

void dv_gw_stop(dv_gw_t *gw) {
  gw->stopping = 1;
}

void dv_gw_destroy(dv_gw_t *gw) {
  if (!gw) return;
  for (size_t i = 0; i < gw->sessions.cap; i++) {
    sc_hmap_slot_t *slot = &gw->sessions.slots[i];
    /* Ending a session deletes its slot (deletion never moves slots). */
    if (slot->value) dv_session_end(slot->value, DV_CLOSE_SERVER_CRASH, "gateway stopping");
  }
  sc_hmap_free(&gw->sessions);
  dv_timers_free(&gw->timers, gw->app && gw->app->lws); /* NULL after sc_server_destroy */
  free(gw);
}

dv_timers_t *dv_gw_timers(dv_gw_t *gw) {
  return &gw->timers;
}

dv_limits_t *dv_gw_limits(dv_gw_t *gw) {
  return &gw->lim;
}

size_t dv_gw_session_count(const dv_gw_t *gw) {
  return gw->sessions.used;
}

int dv_gateway_version(const char *value) {
  if (!value || !*value) return 4;
  char *end;
  long v = strtol(value, &end, 10);
  if (*end || v < 4) return -1;
  return v > 8 ? 8 : (int)v;
}
