#include "lvsp_proto.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvsp_json.h"
#include "sc_log.h"
#include "sc_registry.h"
#include "sc_token.h"

#define LOG "lvsp"
#define FIELDS(t) (t), sizeof(t) / sizeof((t)[0])

/* === Output ============================================================ */

void lvsp_conn_close(lvsp_conn_t *c, int code, const char *reason) {
  if (c->closed) return;
  c->closed = 1;
  c->io->close(c->io_ctx, code, reason);
}

/* Logs and closes; returns err so handlers can `return fail(...)`. */
static int fail(lvsp_conn_t *c, int code, const char *reason, int err) {
  sc_log_warn(LOG, "closing Litecord link with %d: %s", code, reason);
  lvsp_conn_close(c, code, reason);
  return err;
}

static int bad_field(lvsp_conn_t *c, const char *field) {
  char reason[64];
  snprintf(reason, sizeof reason, "invalid or missing field: %s", field);
  return fail(c, LVSP_CLOSE_GENERAL, reason, -EPROTO);
}

/* Serialises and sends msg, then drops it. A NULL msg (json_pack failed:
 * only ENOMEM once the formats are right) closes the link, since Litecord
 * would otherwise wait forever for the reply. */
static int send_msg(lvsp_conn_t *c, json_t *msg) {
  char *text = msg ? json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
  json_decref(msg);
  if (!text) return fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  int rc = c->io->send_text(c->io_ctx, text, strlen(text));
  free(text);
  if (rc < 0) return fail(c, LVSP_CLOSE_GENERAL, "send queue full", rc);
  return 0;
}

double lvsp_health(const sc_app_t *app) {
  if (!app->registry) return 0.0; /* shutting down */
  double cap = app->cfg.capacity ? (double)app->cfg.capacity : 1.0;
  double load = (double)sc_registry_count_states(app->registry) / cap;
  return load >= 1.0 ? 0.0 : 1.0 - load;
}

int lvsp_conn_open(lvsp_conn_t *c, sc_app_t *app, const lvsp_io_t *io, void *io_ctx) {
  memset(c, 0, sizeof *c);
  c->app = app;
  c->io = io;
  c->io_ctx = io_ctx;
  if (sc_token_random_alnum(c->nonce, sizeof c->nonce, LVSP_NONCE_LEN) < 0)
    return fail(c, LVSP_CLOSE_GENERAL, "internal error", -EIO);
  return send_msg(c, json_pack("{s:i,s:{s:I,s:s}}", "op", LVSP_OP_HELLO, "d",
                               "heartbeat_interval", (json_int_t)app->cfg.lvsp_heartbeat_ms,
                               "nonce", c->nonce));
}

/* === Handshake: IDENTIFY, RESUME ======================================= */

/* The seed dialect sends the secret itself, the later one the HMAC of our
 * nonce. Both comparisons always run, so the timing does not tell which
 * form (if any) matched. */
static int token_ok(const lvsp_conn_t *c, const char *given) {
  const char *secret = c->app->cfg.lvsp_secret;
  char mac[65];
  if (!secret[0]) return 0; /* no secret configured: nobody gets in */
  if (sc_token_hmac_sha256_hex(mac, sizeof mac, secret, strlen(secret), c->nonce,
                               strlen(c->nonce)) < 0)
    return 0;
  int ok = sc_token_equal(secret, given) | sc_token_equal(mac, given);
  sodium_memzero(mac, sizeof mac);
  return ok;
}

static int authenticate(lvsp_conn_t *c, json_t *d, const char *how) {
  if (!token_ok(c, json_string_value(json_object_get(d, "token"))))
    return fail(c, LVSP_CLOSE_AUTH, "authentication failed", -EACCES);
  c->ready = 1;
  sc_log_info(LOG, "Litecord authenticated (%s)", how);
  return send_msg(c, json_pack("{s:i,s:{s:f}}", "op", LVSP_OP_READY, "d", "health",
                               lvsp_health(c->app)));
}

static int op_identify(lvsp_conn_t *c, json_t *d) { return authenticate(c, d, "identify"); }

/* Nothing is replayable yet (the seed dialect has no sequence numbers on
 * INFO), so a RESUME is an IDENTIFY whose replay is empty. */
static int op_resume(lvsp_conn_t *c, json_t *d) { return authenticate(c, d, "resume"); }

/* === HEARTBEAT ========================================================== */

static int op_heartbeat(lvsp_conn_t *c, json_t *d) {
  /* "O?" turns an absent s into null rather than failing. */
  return send_msg(c, json_pack("{s:i,s:{s:O?,s:f}}", "op", LVSP_OP_HEARTBEAT_ACK, "d", "s",
                               json_object_get(d, "s"), "health", lvsp_health(c->app)));
}

/* === VST_REQUEST ======================================================== */

static json_t *vst_info_msg(const lvsp_conn_t *c, const sc_vstate_t *vs) {
  const sc_vflags_t *f = &vs->flags;
  return json_pack("{s:i,s:{s:i,s:{s:s,s:s,s:s?,s:s,s:b,s:b,s:b,s:b,s:b,s:s,s:s}}}", "op",
                   LVSP_OP_INFO, "d", "type", LVSP_INFO_VST, "info", "user_id", vs->user_id,
                   "channel_id", vs->channel->id, "guild_id",
                   vs->guild_id[0] ? vs->guild_id : NULL, "session_id", vs->session_id,
                   "deaf", f->deaf, "mute", f->mute, "self_deaf", f->self_deaf, "self_mute",
                   f->self_mute, "suppress", f->suppress, "token", vs->token, "endpoint",
                   c->app->endpoint);
}

static int op_vst_request(lvsp_conn_t *c, json_t *d) {
  char user[SC_ID_MAX], channel[SC_ID_MAX], guild[SC_ID_MAX];
  /* The field table already proved these are valid snowflakes. */
  lvsp_json_get_id(d, "user_id", user);
  lvsp_json_get_id(d, "channel_id", channel);
  int has_guild = lvsp_json_get_id(d, "guild_id", guild) == 0;
  sc_vstate_t *vs =
      sc_registry_create_state(c->app->registry, user, channel, has_guild ? guild : NULL);
  if (!vs) return fail(c, LVSP_CLOSE_GENERAL, "cannot create voice state", -ENOMEM);
  sc_log_info(LOG, "voice state %s created: user %s, channel %s", vs->session_id, user,
              channel);
  return send_msg(c, vst_info_msg(c, vs));
}

/* === INFO (seed dialect) ================================================ */

static int info_channel(lvsp_conn_t *c, json_t *info) {
  char id[SC_ID_MAX], guild[SC_ID_MAX];
  json_t *b = json_object_get(info, "bitrate");
  if (b && (json_integer_value(b) < 0 || json_integer_value(b) > INT_MAX))
    return bad_field(c, "bitrate");
  lvsp_json_get_id(info, "id", id);
  int has_guild = lvsp_json_get_id(info, "guild_id", guild) == 0;
  sc_channel_t *ch = sc_registry_channel(c->app->registry, id, has_guild ? guild : NULL);
  if (!ch) return fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  if (b) ch->bitrate = (int)json_integer_value(b);
  sc_log_debug(LOG, "channel %s: bitrate %d", id, ch->bitrate);
  return 0;
}

/* The state an INFO VST is about: by session id when given (and then it
 * must belong to user_id, if that is given too), else by user and server
 * (the guild, or the channel for DM calls). */
static sc_vstate_t *find_state(lvsp_conn_t *c, json_t *info) {
  sc_registry_t *r = c->app->registry;
  char user[SC_ID_MAX], server[SC_ID_MAX];
  int has_user = lvsp_json_get_id(info, "user_id", user) == 0;
  const char *sid = json_string_value(json_object_get(info, "session_id"));
  if (sid) {
    sc_vstate_t *vs = sc_registry_find_session(r, sid);
    return vs && (!has_user || strcmp(vs->user_id, user) == 0) ? vs : NULL;
  }
  if (!has_user) return NULL;
  if (lvsp_json_get_id(info, "guild_id", server) < 0 &&
      lvsp_json_get_id(info, "channel_id", server) < 0)
    return NULL;
  return sc_registry_find_user(r, user, server);
}

/* Absent (or null) flags keep their current value. */
static void merge_flags(json_t *info, sc_vflags_t *f) {
  static const struct {
    const char *key;
    size_t off;
  } map[] = {
      {"mute", offsetof(sc_vflags_t, mute)},
      {"deaf", offsetof(sc_vflags_t, deaf)},
      {"self_mute", offsetof(sc_vflags_t, self_mute)},
      {"self_deaf", offsetof(sc_vflags_t, self_deaf)},
      {"suppress", offsetof(sc_vflags_t, suppress)},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    json_t *v = json_object_get(info, map[i].key);
    if (json_is_boolean(v)) *(int *)((char *)f + map[i].off) = json_is_true(v);
  }
}

static int info_vst(lvsp_conn_t *c, json_t *info) {
  if (!json_object_get(info, "user_id") && !json_string_value(json_object_get(info, "session_id")))
    return bad_field(c, "user_id");
  sc_vstate_t *vs = find_state(c, info);
  if (!vs) {
    /* Litecord may speak of a state that already ended here: not fatal. */
    sc_log_info(LOG, "INFO VST for an unknown voice state ignored");
    return 0;
  }
  json_t *ch = json_object_get(info, "channel_id");
  if (json_is_null(ch)) {
    sc_log_info(LOG, "voice state %s ended by Litecord", vs->session_id);
    sc_registry_end_state(c->app->registry, vs, SC_END_LEFT);
    return 0;
  }
  char cid[SC_ID_MAX];
  if (ch && lvsp_json_id(ch, cid) == 0 && strcmp(cid, vs->channel->id) != 0)
    sc_log_warn(LOG, "voice state %s: move to channel %s ignored (send VST_REQUEST)",
                vs->session_id, cid);
  sc_vflags_t f = vs->flags;
  merge_flags(info, &f);
  if (memcmp(&f, &vs->flags, sizeof f) != 0) sc_registry_set_flags(c->app->registry, vs, &f);
  return 0;
}

typedef int (*lvsp_body_fn)(lvsp_conn_t *c, json_t *body);

typedef struct {
  lvsp_body_fn fn;
  const lvsp_jfield_t *fields;
  size_t n_fields;
} info_entry_t;

/* An INFO dialect: the key holding the body, and its handlers by type. */
typedef struct {
  const char *body_key;
  const info_entry_t *types;
  size_t n_types;
} info_dialect_t;

#define FLAG_FIELD(name) {name, LVSP_JT_BOOL | LVSP_JT_NULL, 0}

static const lvsp_jfield_t channel_fields[] = {
    {"id", LVSP_JT_ID, LVSP_JF_REQUIRED},
    {"bitrate", LVSP_JT_INT, 0},
    {"guild_id", LVSP_JT_ID | LVSP_JT_NULL, 0},
};
static const lvsp_jfield_t vst_fields[] = {
    {"user_id", LVSP_JT_ID, 0},
    {"channel_id", LVSP_JT_ID | LVSP_JT_NULL, 0},
    {"guild_id", LVSP_JT_ID | LVSP_JT_NULL, 0},
    {"session_id", LVSP_JT_STRING | LVSP_JT_NULL, 0},
    FLAG_FIELD("mute"),
    FLAG_FIELD("deaf"),
    FLAG_FIELD("self_mute"),
    FLAG_FIELD("self_deaf"),
    FLAG_FIELD("suppress"),
};

static const info_entry_t seed_info[] = {
    [LVSP_INFO_CHANNEL] = {info_channel, FIELDS(channel_fields)},
    [LVSP_INFO_VST] = {info_vst, FIELDS(vst_fields)},
};

/* The later dialect ("data" bodies) is a later issue: its row goes here. */
static const info_dialect_t info_dialects[] = {
    {"info", FIELDS(seed_info)},
};

static int op_info(lvsp_conn_t *c, json_t *d) {
  json_int_t type = json_integer_value(json_object_get(d, "type"));
  for (size_t i = 0; i < sizeof info_dialects / sizeof info_dialects[0]; i++) {
    const info_dialect_t *dl = &info_dialects[i];
    json_t *body = json_object_get(d, dl->body_key);
    if (!body) continue;
    const info_entry_t *e = type >= 0 && (size_t)type < dl->n_types ? &dl->types[type] : NULL;
    if (!e || !e->fn) return fail(c, LVSP_CLOSE_GENERAL, "unknown INFO type", -EPROTO);
    const char *bad = "info";
    if (lvsp_json_check(body, e->fields, e->n_fields, &bad) < 0) return bad_field(c, bad);
    return e->fn(c, body);
  }
  return fail(c, LVSP_CLOSE_GENERAL, "unsupported INFO body", -EPROTO);
}

/* === Dispatch =========================================================== */

/* Which phase an op is accepted in. */
typedef enum { PHASE_HANDSHAKE = 1, PHASE_READY } lvsp_phase_t;

typedef struct {
  lvsp_body_fn fn;
  lvsp_phase_t phase;
  const lvsp_jfield_t *fields;
  size_t n_fields;
} op_entry_t;

static const lvsp_jfield_t frame_fields[] = {
    {"op", LVSP_JT_INT, LVSP_JF_REQUIRED},
    {"d", LVSP_JT_OBJECT, LVSP_JF_REQUIRED},
};
static const lvsp_jfield_t identify_fields[] = {
    {"token", LVSP_JT_STRING, LVSP_JF_REQUIRED},
};
static const lvsp_jfield_t resume_fields[] = {
    {"token", LVSP_JT_STRING, LVSP_JF_REQUIRED},
    {"seq", LVSP_JT_INT | LVSP_JT_NULL, 0},
};
static const lvsp_jfield_t heartbeat_fields[] = {
    {"s", LVSP_JT_INT | LVSP_JT_NULL, 0},
};
static const lvsp_jfield_t info_fields[] = {
    {"type", LVSP_JT_INT, LVSP_JF_REQUIRED},
    {"info", LVSP_JT_OBJECT, 0},
    {"data", LVSP_JT_OBJECT, 0},
};
static const lvsp_jfield_t vst_request_fields[] = {
    {"user_id", LVSP_JT_ID, LVSP_JF_REQUIRED},
    {"channel_id", LVSP_JT_ID, LVSP_JF_REQUIRED},
    {"guild_id", LVSP_JT_ID | LVSP_JT_NULL, 0},
};

/* Server-sent ops (HELLO, READY, HEARTBEAT_ACK) have no entry: from the
 * client they are unknown ops. */
static const op_entry_t op_table[LVSP_OP_COUNT] = {
    [LVSP_OP_IDENTIFY] = {op_identify, PHASE_HANDSHAKE, FIELDS(identify_fields)},
    [LVSP_OP_RESUME] = {op_resume, PHASE_HANDSHAKE, FIELDS(resume_fields)},
    [LVSP_OP_HEARTBEAT] = {op_heartbeat, PHASE_READY, FIELDS(heartbeat_fields)},
    [LVSP_OP_INFO] = {op_info, PHASE_READY, FIELDS(info_fields)},
    [LVSP_OP_VST_REQUEST] = {op_vst_request, PHASE_READY, FIELDS(vst_request_fields)},
};

static int dispatch(lvsp_conn_t *c, json_t *root) {
  const char *bad = "message";
  if (!json_is_object(root) || lvsp_json_check(root, FIELDS(frame_fields), &bad) < 0)
    return bad_field(c, bad);
  json_int_t op = json_integer_value(json_object_get(root, "op"));
  const op_entry_t *e = op >= 0 && op < LVSP_OP_COUNT ? &op_table[op] : NULL;
  if (!e || !e->fn) return fail(c, LVSP_CLOSE_GENERAL, "unknown op", -EPROTO);
  if (e->phase == PHASE_READY && !c->ready)
    return fail(c, LVSP_CLOSE_GENERAL, "not authenticated", -EPROTO);
  if (e->phase == PHASE_HANDSHAKE && c->ready)
    return fail(c, LVSP_CLOSE_GENERAL, "already authenticated", -EPROTO);
  json_t *d = json_object_get(root, "d");
  if (lvsp_json_check(d, e->fields, e->n_fields, &bad) < 0) return bad_field(c, bad);
  return e->fn(c, d);
}

int lvsp_handle_text(lvsp_conn_t *c, const char *buf, size_t len) {
  if (c->closed) return -EPIPE;
  if (len > LVSP_MAX_FRAME) return fail(c, LVSP_CLOSE_GENERAL, "message too large", -EPROTO);
  /* Without JSON_ALLOW_NUL, jansson rejects "\u0000" in strings, so a
   * token can never hide a NUL that would cut the comparison short.
   * JSON_DECODE_ANY lets valid non-objects reach dispatch (4000, not 4002). */
  json_error_t err;
  json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
  if (!root) {
    sc_log_debug(LOG, "undecodable message: %s (line %d)", err.text, err.line);
    return fail(c, LVSP_CLOSE_DECODE, "invalid JSON", -EBADMSG);
  }
  int rc = dispatch(c, root);
  json_decref(root);
  return rc;
}
