#include "dv_gateway.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "sc_log.h"
#include "sc_media.h"
#include "sc_registry.h"
#include "sc_token.h"

/* Gateway opcodes. */
enum {
  OP_IDENTIFY = 0,
  OP_SELECT_PROTOCOL = 1,
  OP_READY = 2,
  OP_HEARTBEAT = 3,
  OP_SESSION_DESCRIPTION = 4,
  OP_SPEAKING = 5,
  OP_HEARTBEAT_ACK = 6,
  OP_RESUME = 7,
  OP_HELLO = 8,
  OP_RESUMED = 9,
  OP_CLIENTS_CONNECT = 11,
  OP_CLIENT_DISCONNECT = 13,
  OP_MAX = 32,
};

static const sc_attach_ops_t attach_ops;

/* ---- sending ------------------------------------------------------------ */

/* Sends {"op":op,"d":d} (steals d). v8 numbers every message a resume may
 * need to re-deliver: all but Hello and Heartbeat ACK. */
static void send_op(dv_conn_t *c, int op, json_t *d) {
  if (c->closing) {
    json_decref(d);
    return;
  }
  json_t *msg = json_pack("{s:i, s:o}", "op", op, "d", d ? d : json_null());
  if (c->version >= 8 && op != OP_HELLO && op != OP_HEARTBEAT_ACK)
    json_object_set_new(msg, "seq", json_integer(++c->seq));
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!text) return;
  if (c->io->send_text(c->io_ctx, text, strlen(text)) < 0) {
    sc_log_warn("gateway", "outbound queue full; closing");
    c->closing = 1;
  }
  free(text);
}

static void close_with(dv_conn_t *c, int code, const char *reason) {
  if (c->closing) return;
  sc_log_info("gateway", "closing %s with %d: %s", c->vs ? c->vs->user_id : "(anonymous)", code,
              reason);
  c->closing = 1;
  c->io->close(c->io_ctx, code, reason);
}

static void send_speaking(dv_conn_t *c, const sc_vstate_t *peer) {
  send_op(c, OP_SPEAKING,
          json_pack("{s:s, s:I, s:i}", "user_id", peer->user_id, "ssrc", (json_int_t)peer->ssrc,
                    "speaking", (int)peer->speaking));
}

/* ---- registry callbacks (the room talks to this connection) ------------ */

static void on_ended(void *conn, sc_end_reason_t why) {
  dv_conn_t *c = conn;
  close_with(c, why == SC_END_SHUTDOWN ? DV_CLOSE_SERVER_CRASH : DV_CLOSE_DISCONNECTED,
             why == SC_END_SHUTDOWN ? "server restarting" : "disconnected");
  c->vs = NULL; /* the registry frees it after this returns */
}

static void on_peer_join(void *conn, const sc_vstate_t *peer) {
  dv_conn_t *c = conn;
  send_op(c, OP_CLIENTS_CONNECT, json_pack("{s:[s]}", "user_ids", peer->user_id));
  /* Map the newcomer's SSRC now: its first packets may beat its Speaking. */
  send_speaking(c, peer);
}

static void on_peer_leave(void *conn, const sc_vstate_t *peer) {
  send_op(conn, OP_CLIENT_DISCONNECT, json_pack("{s:s}", "user_id", peer->user_id));
}

static void on_peer_speaking(void *conn, const sc_vstate_t *peer, unsigned speaking) {
  (void)speaking;
  send_speaking(conn, peer);
}

static const sc_attach_ops_t attach_ops = {
    .on_ended = on_ended,
    .on_flags = NULL, /* server mute/deaf is enforced on the media path */
    .on_peer_join = on_peer_join,
    .on_peer_leave = on_peer_leave,
    .on_peer_speaking = on_peer_speaking,
};

/* ---- opcode handlers ---------------------------------------------------- */

static json_t *modes_json(const dv_modes_t *m) {
  json_t *a = json_array();
  for (int i = 0; i < m->n; i++) json_array_append_new(a, json_string(dv_mode_name(m->modes[i])));
  return a;
}

static void collect_peer(sc_vstate_t *peer, void *arg) {
  json_array_append_new(arg, json_string(peer->user_id));
}

static void speaking_of_peer(sc_vstate_t *peer, void *arg) {
  send_speaking(arg, peer);
}

/* Ready, then who is already here: op 11 and an op 5 each (SSRC mapping). */
static void send_ready(dv_conn_t *c) {
  sc_vstate_t *vs = c->vs;
  uint16_t port = c->app->media ? sc_media_port_for_room(c->app->media, vs->channel->room_id)
                                : c->app->cfg.udp_listen.port;
  send_op(
      c, OP_READY,
      json_pack("{s:I, s:s, s:i, s:o, s:[]}", "ssrc", (json_int_t)vs->ssrc, "ip", c->app->ready_ip,
                "port", (int)port, "modes", modes_json(c->modes), "experiments"));
  json_t *ids = json_array();
  sc_registry_each_peer(vs->channel, vs, collect_peer, ids);
  if (json_array_size(ids))
    send_op(c, OP_CLIENTS_CONNECT, json_pack("{s:o}", "user_ids", ids));
  else
    json_decref(ids);
  sc_registry_each_peer(vs->channel, vs, speaking_of_peer, c);
}

static void op_identify(dv_conn_t *c, json_t *d) {
  const char *server_id, *user_id, *session_id, *token;
  if (c->vs) {
    close_with(c, DV_CLOSE_ALREADY_AUTHENTICATED, "already identified");
    return;
  }
  if (json_unpack(d, "{s:s, s:s, s:s, s:s}", "server_id", &server_id, "user_id", &user_id,
                  "session_id", &session_id, "token", &token) < 0) {
    close_with(c, DV_CLOSE_BAD_REQUEST, "identify needs server_id, user_id, session_id, token");
    return;
  }
  sc_vstate_t *vs = sc_registry_find_session(c->app->registry, session_id);
  /* Always compare the token, so timing does not tell which field failed. */
  int ok = sc_token_equal(vs ? vs->token : "", token);
  if (!vs || !ok || strcmp(vs->user_id, user_id) != 0 || strcmp(vs->server_id, server_id) != 0) {
    close_with(c, DV_CLOSE_AUTH_FAILED, "authentication failed");
    return;
  }
  if (vs->ops == &attach_ops) {
    /* A reconnecting client wins over its stale socket. */
    dv_conn_t *old = vs->conn;
    sc_registry_detach(c->app->registry, vs);
    old->vs = NULL;
    close_with(old, DV_CLOSE_SESSION_INVALID, "session taken over by a new connection");
  } else if (vs->ops) {
    close_with(c, DV_CLOSE_ALREADY_AUTHENTICATED, "session in use");
    return;
  }
  c->vs = vs;
  sc_registry_attach(c->app->registry, vs, &attach_ops, c);
  sc_log_info("gateway", "user %s identified in channel %s (ssrc %u)", vs->user_id, vs->channel->id,
              vs->ssrc);
  send_ready(c);
}

static int find_mode(const dv_modes_t *m, const char *name) {
  int mode = name ? dv_mode_from_name(name) : -1;
  for (int i = 0; mode >= 0 && i < m->n; i++)
    if ((int)m->modes[i] == mode) return mode;
  return -1;
}

/* The address Select Protocol names; used until a datagram binds one. */
static void post_peer_hint(dv_conn_t *c, json_t *data) {
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
  sc_media_post_peer_hint(c->app->media, c->vs->channel->room_id, c->vs->ssrc, &ss);
}

static void send_session_description(dv_conn_t *c, const uint8_t key[DV_KEY_LEN]) {
  json_t *k = json_array();
  for (int i = 0; i < DV_KEY_LEN; i++) json_array_append_new(k, json_integer(key[i]));
  char media_session[33];
  sc_token_random_hex(media_session, sizeof media_session, 16);
  send_op(c, OP_SESSION_DESCRIPTION,
          json_pack("{s:s, s:o, s:s, s:s, s:s, s:i}", "mode", dv_mode_name(c->mode), "secret_key",
                    k, "audio_codec", "opus", "video_codec", "H264", "media_session_id",
                    media_session, "dave_protocol_version", 0));
}

static void op_select_protocol(dv_conn_t *c, json_t *d) {
  const char *protocol = NULL, *mode_name = NULL;
  json_t *data = NULL;
  if (json_unpack(d, "{s:s, s:o}", "protocol", &protocol, "data", &data) < 0) {
    close_with(c, DV_CLOSE_BAD_REQUEST, "select protocol needs protocol and data");
    return;
  }
  if (strcmp(protocol, "udp") != 0) {
    close_with(c, DV_CLOSE_UNKNOWN_PROTOCOL, "unknown protocol");
    return;
  }
  if (json_unpack(data, "{s:s}", "mode", &mode_name) < 0) {
    close_with(c, DV_CLOSE_BAD_REQUEST, "select protocol needs data.mode");
    return;
  }
  int mode = find_mode(c->modes, mode_name);
  if (mode < 0) {
    close_with(c, DV_CLOSE_UNKNOWN_MODE, "unknown encryption mode");
    return;
  }
  uint8_t key[DV_KEY_LEN];
  sc_token_random(key, sizeof key);
  dv_cipher_t *cipher = dv_cipher_new((dv_mode_t)mode, key);
  if (!cipher) {
    sodium_memzero(key, sizeof key);
    close_with(c, DV_CLOSE_BAD_REQUEST, "cannot prepare the cipher");
    return;
  }
  c->mode = (dv_mode_t)mode;
  c->selected = 1;
  snprintf(c->vs->transport, sizeof c->vs->transport, "%s", dv_mode_name(c->mode));
  if (c->app->media) {
    post_peer_hint(c, data);
    /* Posted before op 4 goes out: the key is in force before the client
     * can send its first packet under it. */
    sc_media_post_cipher(c->app->media, c->vs->channel->room_id, c->vs->ssrc, &dv_cipher_ops,
                         cipher);
  } else {
    dv_cipher_free(cipher);
  }
  send_session_description(c, key);
  sodium_memzero(key, sizeof key);
}

/* v8 sends {t, seq_ack} and gets {t}; older versions send and get the bare
 * nonce. Answer in the shape the client used. */
static void op_heartbeat(dv_conn_t *c, json_t *d) {
  if (json_is_object(d)) {
    json_t *t = json_object_get(d, "t");
    send_op(c, OP_HEARTBEAT_ACK, json_pack("{s:O}", "t", t ? t : json_null()));
  } else {
    send_op(c, OP_HEARTBEAT_ACK, d ? json_incref(d) : json_null());
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
    close_with(c, DV_CLOSE_BAD_REQUEST, "speaking needs a speaking value");
    return;
  }
  if (flags < 0 || flags > 0xff) {
    close_with(c, DV_CLOSE_BAD_REQUEST, "bad speaking flags");
    return;
  }
  sc_registry_set_speaking(c->app->registry, c->vs, (unsigned)flags);
}

static void op_resume(dv_conn_t *c, json_t *d) {
  (void)d;
  /* Buffered resume is not implemented yet: tell the client to start over. */
  close_with(c, DV_CLOSE_SESSION_INVALID, "session cannot be resumed");
}

static void op_ignore(dv_conn_t *c, json_t *d) {
  (void)c;
  (void)d;
}

typedef void (*op_fn)(dv_conn_t *c, json_t *d);
typedef struct {
  op_fn fn;
  int needs_identify;
} op_entry_t;

/* Opcodes clients send. 12 (video), 14-20 and the DAVE ops 23/31 are sent
 * by real clients; a version-0 (no DAVE) server accepts and ignores them. */
static const op_entry_t op_table[OP_MAX] = {
    [OP_IDENTIFY] = {op_identify, 0},
    [OP_SELECT_PROTOCOL] = {op_select_protocol, 1},
    [OP_HEARTBEAT] = {op_heartbeat, 0},
    [OP_SPEAKING] = {op_speaking, 1},
    [OP_RESUME] = {op_resume, 0},
    [12] = {op_ignore, 0},
    [14] = {op_ignore, 0},
    [15] = {op_ignore, 0},
    [16] = {op_ignore, 0},
    [17] = {op_ignore, 0},
    [18] = {op_ignore, 0},
    [19] = {op_ignore, 0},
    [20] = {op_ignore, 0},
    [23] = {op_ignore, 0},
    [31] = {op_ignore, 0},
};

void dv_conn_handle_text(dv_conn_t *c, const char *buf, size_t len) {
  if (c->closing) return;
  json_error_t err;
  json_t *msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  json_t *op = json_is_object(msg) ? json_object_get(msg, "op") : NULL;
  if (!json_is_integer(op)) {
    json_decref(msg);
    close_with(c, DV_CLOSE_DECODE_ERROR, "failed to decode payload");
    return;
  }
  json_int_t n = json_integer_value(op);
  const op_entry_t *e = n >= 0 && n < OP_MAX ? &op_table[n] : NULL;
  if (!e || !e->fn)
    close_with(c, DV_CLOSE_UNKNOWN_OPCODE, "unknown opcode");
  else if (e->needs_identify && !c->vs)
    close_with(c, DV_CLOSE_NOT_AUTHENTICATED, "not authenticated");
  else
    e->fn(c, json_object_get(msg, "d"));
  json_decref(msg);
}

/* ---- lifecycle ---------------------------------------------------------- */

int dv_modes_from_config(const sc_config_t *cfg, dv_modes_t *out) {
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

void dv_conn_open(dv_conn_t *c, sc_app_t *app, const dv_modes_t *modes, int version,
                  const dv_io_t *io, void *io_ctx) {
  memset(c, 0, sizeof *c);
  c->app = app;
  c->modes = modes;
  c->version = version;
  c->io = io;
  c->io_ctx = io_ctx;
  send_op(
      c, OP_HELLO,
      json_pack("{s:i, s:i}", "v", version, "heartbeat_interval", (int)app->cfg.gw_heartbeat_ms));
}

void dv_conn_closed(dv_conn_t *c) {
  if (c->vs) {
    sc_log_info("gateway", "user %s disconnected", c->vs->user_id);
    sc_registry_detach(c->app->registry, c->vs);
  }
  c->vs = NULL;
  c->closing = 1;
}

int dv_gateway_version(const char *value) {
  if (!value || !*value) return 4;
  char *end;
  long v = strtol(value, &end, 10);
  if (*end || v < 4) return -1;
  return v > 8 ? 8 : (int)v;
}
