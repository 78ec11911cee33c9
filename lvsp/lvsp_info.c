#include "lvsp_info.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sc_jcheck.h"
#include "sc_log.h"
#include "sc_registry.h"

#define LOG "lvsp"
#define FIELDS(t) (t), sizeof(t) / sizeof((t)[0])

/* The key of an INFO body in each dialect. */
static const char *const body_key[] = {[LVSP_DIALECT_SEED] = "info", [LVSP_DIALECT_LATER] = "data"};

/* === Rendering ========================================================== */

static json_t *info_d(lvsp_dialect_t dl, int type, json_t *body) {
  return body ? json_pack("{s:i,s:o}", "type", type, body_key[dl], body) : NULL;
}

/* VoiceInfo plus what Litecord forwards in VOICE_SERVER_UPDATE. */
static json_t *vst_body(const lvsp_conn_t *c, const sc_vstate_t *vs) {
  const sc_vflags_t *f = &vs->flags;
  return json_pack("{s:s,s:s,s:s?,s:s,s:b,s:b,s:b,s:b,s:b,s:s,s:s}", "user_id", vs->user_id,
                   "channel_id", vs->channel->id, "guild_id", vs->guild_id[0] ? vs->guild_id : NULL,
                   "session_id", vs->session_id, "deaf", f->deaf, "mute", f->mute, "self_deaf",
                   f->self_deaf, "self_mute", f->self_mute, "suppress", f->suppress, "token",
                   vs->token, "endpoint", c->app->endpoint);
}

/* Seed: INFO VST. Later: the VST_CREATE type echoed with the state. */
static int send_state(lvsp_conn_t *c, lvsp_dialect_t dl, const sc_vstate_t *vs) {
  int type = dl == LVSP_DIALECT_SEED ? LVSP_INFO_VST : LVSP_INFO_VST_CREATE;
  return lvsp__send_info(c, info_d(dl, type, vst_body(c, vs)));
}

/* Seed: INFO CHANNEL. Later: CHANNEL_ASSIGN. */
static int send_channel(lvsp_conn_t *c, lvsp_dialect_t dl, const sc_channel_t *ch) {
  const char *guild = ch->guild_id[0] ? ch->guild_id : NULL;
  json_t *body =
      dl == LVSP_DIALECT_SEED
          ? json_pack("{s:s,s:s?,s:i}", "id", ch->id, "guild_id", guild, "bitrate", ch->bitrate)
          : json_pack("{s:s,s:s?,s:s,s:i}", "channel_id", ch->id, "guild_id", guild, "token",
                      ch->token, "bitrate", ch->bitrate);
  int type = dl == LVSP_DIALECT_SEED ? LVSP_INFO_CHANNEL : LVSP_INFO_CHANNEL_ASSIGN;
  return lvsp__send_info(c, info_d(dl, type, body));
}

/* === Channels ============================================================ */

/* Reads an optional non-negative int field into *out. 0, or -EPROTO
 * after closing. */
static int read_count(lvsp_conn_t *c, json_t *body, const char *key, int *out) {
  json_t *v = json_object_get(body, key);
  if (!json_is_integer(v)) return 0; /* absent or null: unchanged */
  if (json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX) return lvsp__bad_field(c, key);
  *out = (int)json_integer_value(v);
  return 0;
}

/* Finds or creates the channel a message names (under id_key), pins it
 * (Litecord announced it) and applies bitrate / user_limit. NULL after
 * closing. */
static sc_channel_t *upsert_channel(lvsp_conn_t *c, json_t *body, const char *id_key) {
  char id[SC_ID_MAX], guild[SC_ID_MAX];
  int bitrate = -1, limit = -1;
  if (read_count(c, body, "bitrate", &bitrate) < 0 || read_count(c, body, "user_limit", &limit) < 0)
    return NULL;
  sc_jcheck_get_id(body, id_key, id);
  int has_guild = sc_jcheck_get_id(body, "guild_id", guild) == 0;
  sc_channel_t *ch = sc_registry_channel(c->app->registry, id, has_guild ? guild : NULL);
  if (!ch) {
    lvsp__fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
    return NULL;
  }
  ch->pinned = 1;
  if (bitrate >= 0) ch->bitrate = bitrate;
  if (limit >= 0) ch->user_limit = limit;
  sc_log_debug(LOG, "channel %s: bitrate %d, user limit %d", id, ch->bitrate, ch->user_limit);
  return ch;
}

static int info_channel(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  (void)dl;
  return upsert_channel(c, body, "id") ? 0 : -EPROTO;
}

static int info_channel_update(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  (void)dl;
  return upsert_channel(c, body, "channel_id") ? 0 : -EPROTO;
}

static int info_channel_req(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  sc_channel_t *ch = upsert_channel(c, body, "channel_id");
  return ch ? send_channel(c, dl, ch) : -EPROTO;
}

static int info_channel_destroy(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  (void)dl;
  char id[SC_ID_MAX];
  sc_jcheck_get_id(body, "channel_id", id);
  sc_channel_t *ch = sc_registry_find_channel(c->app->registry, id);
  if (!ch) {
    sc_log_info(LOG, "CHANNEL_DESTROY for unknown channel %s ignored", id);
    return 0;
  }
  sc_log_info(LOG, "channel %s destroyed by Litecord (%d voice states end)", id, ch->n_states);
  sc_registry_destroy_channel(c->app->registry, ch);
  return 0;
}

/* === Voice states ======================================================== */

/* Absent (or null) flags keep their current value. */
static void merge_flags(json_t *body, sc_vflags_t *f) {
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
    json_t *v = json_object_get(body, map[i].key);
    if (json_is_boolean(v)) *(int *)((char *)f + map[i].off) = json_is_true(v);
  }
}

static void apply_flags(lvsp_conn_t *c, sc_vstate_t *vs, json_t *body) {
  sc_vflags_t f = vs->flags;
  merge_flags(body, &f);
  if (memcmp(&f, &vs->flags, sizeof f) != 0) sc_registry_set_flags(c->app->registry, vs, &f);
}

/* VST_REQUEST (seed) and VST_CREATE (later): a new state, any flags given
 * applied, answered in the message's dialect. */
static int create_state(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  char user[SC_ID_MAX], channel[SC_ID_MAX], guild[SC_ID_MAX];
  /* The field table already proved these are valid snowflakes. */
  sc_jcheck_get_id(body, "user_id", user);
  sc_jcheck_get_id(body, "channel_id", channel);
  int has_guild = sc_jcheck_get_id(body, "guild_id", guild) == 0;
  sc_vstate_t *vs =
      sc_registry_create_state(c->app->registry, user, channel, has_guild ? guild : NULL);
  if (!vs) return lvsp__fail(c, LVSP_CLOSE_GENERAL, "cannot create voice state", -ENOMEM);
  apply_flags(c, vs, body);
  sc_log_info(LOG, "voice state %s created: user %s, channel %s", vs->session_id, user, channel);
  return send_state(c, dl, vs);
}

int lvsp_info_vst_request(lvsp_conn_t *c, json_t *d) {
  return create_state(c, d, LVSP_DIALECT_SEED);
}

/* The server (guild, or channel for DM calls) a message names: guild_id,
 * else the guild of the named channel, else the channel itself. */
static int server_of(lvsp_conn_t *c, json_t *body, char out[SC_ID_MAX]) {
  if (sc_jcheck_get_id(body, "guild_id", out) == 0) return 0;
  if (sc_jcheck_get_id(body, "channel_id", out) < 0) return -ENOENT;
  const sc_channel_t *ch = sc_registry_find_channel(c->app->registry, out);
  if (ch && ch->guild_id[0]) snprintf(out, SC_ID_MAX, "%s", ch->guild_id);
  return 0;
}

/* The state a message is about: by session id when given (and then it
 * must belong to user_id, if that is given too), else by user and server. */
static sc_vstate_t *find_state(lvsp_conn_t *c, json_t *body) {
  sc_registry_t *r = c->app->registry;
  char user[SC_ID_MAX], server[SC_ID_MAX];
  int has_user = sc_jcheck_get_id(body, "user_id", user) == 0;
  const char *sid = json_string_value(json_object_get(body, "session_id"));
  if (sid) {
    sc_vstate_t *vs = sc_registry_find_session(r, sid);
    return vs && (!has_user || strcmp(vs->user_id, user) == 0) ? vs : NULL;
  }
  if (!has_user || server_of(c, body, server) < 0) return NULL;
  return sc_registry_find_user(r, user, server);
}

/* A state must be named by user_id or session_id. NULL: unknown (logged,
 * not fatal: Litecord may speak of a state that already ended here) or
 * unnamed (closed, *err set). */
static sc_vstate_t *state_of(lvsp_conn_t *c, json_t *body, const char *what, int *err) {
  *err = 0;
  if (!json_object_get(body, "user_id") &&
      !json_string_value(json_object_get(body, "session_id"))) {
    *err = lvsp__bad_field(c, "user_id");
    return NULL;
  }
  sc_vstate_t *vs = find_state(c, body);
  if (!vs) sc_log_info(LOG, "%s for an unknown voice state ignored", what);
  return vs;
}

static void end_state(lvsp_conn_t *c, sc_vstate_t *vs) {
  sc_log_info(LOG, "voice state %s ended by Litecord", vs->session_id);
  sc_registry_end_state(c->app->registry, vs, SC_END_LEFT);
}

/* Seed VST and later VST_UPDATE: channel_id null ends the state, another
 * channel moves it (new credentials, answered like a creation), and the
 * flags given are applied at once. */
static int info_vst_update(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  int err;
  sc_vstate_t *vs = state_of(c, body, "voice state update", &err);
  if (!vs) return err;
  json_t *chv = json_object_get(body, "channel_id");
  if (json_is_null(chv)) {
    end_state(c, vs);
    return 0;
  }
  char cid[SC_ID_MAX];
  if (chv && sc_jcheck_id(chv, cid) == 0 && strcmp(cid, vs->channel->id) != 0) {
    sc_log_info(LOG, "voice state %s moves to channel %s", vs->session_id, cid);
    vs = sc_registry_move_state(c->app->registry, vs, cid);
    if (!vs) return lvsp__fail(c, LVSP_CLOSE_GENERAL, "cannot move voice state", -ENOMEM);
    apply_flags(c, vs, body);
    return send_state(c, dl, vs);
  }
  apply_flags(c, vs, body);
  return 0;
}

static int info_vst_leave(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  (void)dl;
  int err;
  sc_vstate_t *vs = state_of(c, body, "VST_LEAVE", &err);
  if (vs) end_state(c, vs);
  return err;
}

/* === Tables ============================================================== */

typedef int (*info_fn)(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl);

typedef struct {
  info_fn fn;
  const sc_jfield_t *fields;
  size_t n_fields;
} info_entry_t;

typedef struct {
  const info_entry_t *types;
  size_t n_types;
} info_dialect_t;

#define ID_OR_NULL (SC_JT_ID | SC_JT_NULL)
#define INT_OR_NULL (SC_JT_INT | SC_JT_NULL)
#define FLAG_FIELD(name) \
  { name, SC_JT_BOOL | SC_JT_NULL, 0 }
#define FLAG_FIELDS                                                                         \
  FLAG_FIELD("mute"), FLAG_FIELD("deaf"), FLAG_FIELD("self_mute"), FLAG_FIELD("self_deaf"), \
      FLAG_FIELD("suppress")

static const sc_jfield_t seed_channel_fields[] = {
    {"id", SC_JT_ID, SC_JF_REQUIRED},
    {"bitrate", INT_OR_NULL, 0},
    {"user_limit", INT_OR_NULL, 0},
    {"guild_id", ID_OR_NULL, 0},
};
static const sc_jfield_t channel_fields[] = {
    {"channel_id", SC_JT_ID, SC_JF_REQUIRED},
    {"guild_id", ID_OR_NULL, 0},
    {"bitrate", INT_OR_NULL, 0},
    {"user_limit", INT_OR_NULL, 0},
};
static const sc_jfield_t vst_fields[] = {
    {"user_id", SC_JT_ID, 0},
    {"channel_id", ID_OR_NULL, 0},
    {"guild_id", ID_OR_NULL, 0},
    {"session_id", SC_JT_STRING | SC_JT_NULL, 0},
    FLAG_FIELDS,
};
static const sc_jfield_t vst_create_fields[] = {
    {"user_id", SC_JT_ID, SC_JF_REQUIRED},
    {"channel_id", SC_JT_ID, SC_JF_REQUIRED},
    {"guild_id", ID_OR_NULL, 0},
    FLAG_FIELDS,
};

static const info_entry_t seed_info[] = {
    [LVSP_INFO_CHANNEL] = {info_channel, FIELDS(seed_channel_fields)},
    [LVSP_INFO_VST] = {info_vst_update, FIELDS(vst_fields)},
};

/* CHANNEL_ASSIGN is ours to send; from Litecord it is an unknown type. */
static const info_entry_t later_info[LVSP_INFO_LATER_COUNT] = {
    [LVSP_INFO_CHANNEL_REQ] = {info_channel_req, FIELDS(channel_fields)},
    [LVSP_INFO_CHANNEL_UPDATE] = {info_channel_update, FIELDS(channel_fields)},
    [LVSP_INFO_CHANNEL_DESTROY] = {info_channel_destroy, FIELDS(channel_fields)},
    [LVSP_INFO_VST_CREATE] = {create_state, FIELDS(vst_create_fields)},
    [LVSP_INFO_VST_UPDATE] = {info_vst_update, FIELDS(vst_fields)},
    [LVSP_INFO_VST_LEAVE] = {info_vst_leave, FIELDS(vst_fields)},
};

static const info_dialect_t dialects[] = {
    [LVSP_DIALECT_SEED] = {FIELDS(seed_info)},
    [LVSP_DIALECT_LATER] = {FIELDS(later_info)},
};

int lvsp_info_handle(lvsp_conn_t *c, json_t *d) {
  json_int_t type = json_integer_value(json_object_get(d, "type"));
  for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
    json_t *body = json_object_get(d, body_key[i]);
    if (!body) continue;
    const info_dialect_t *dl = &dialects[i];
    const info_entry_t *e = type >= 0 && (size_t)type < dl->n_types ? &dl->types[type] : NULL;
    if (!e || !e->fn) return lvsp__fail(c, LVSP_CLOSE_GENERAL, "unknown INFO type", -EPROTO);
    const char *bad = body_key[i];
    if (sc_jcheck(body, e->fields, e->n_fields, &bad) < 0) return lvsp__bad_field(c, bad);
    return e->fn(c, body, (lvsp_dialect_t)i);
  }
  return lvsp__fail(c, LVSP_CLOSE_GENERAL, "INFO without info or data", -EPROTO);
}

/* === Snapshot ============================================================ */

typedef struct {
  lvsp_conn_t *c;
  int rc;
} snap_t;

static void snap_state(sc_vstate_t *vs, void *arg) {
  snap_t *s = arg;
  if (!s->rc) s->rc = send_state(s->c, s->c->dialect, vs);
}

static void snap_channel(sc_channel_t *ch, void *arg) {
  snap_t *s = arg;
  if (!s->rc) s->rc = send_channel(s->c, s->c->dialect, ch);
}

static void snap_channel_states(sc_channel_t *ch, void *arg) {
  sc_registry_each_state(ch, snap_state, arg);
}

int lvsp_info_snapshot(lvsp_conn_t *c) {
  sc_registry_t *r = c->app->registry;
  if (c->reserve)
    c->reserve(c->io_ctx, sc_registry_count_channels(r) + sc_registry_count_states(r));
  snap_t s = {c, 0};
  sc_registry_each_channel(r, snap_channel, &s);
  sc_registry_each_channel(r, snap_channel_states, &s);
  return s.rc;
}
