#include "lvsp_info.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_jcheck.h"
#include "sc_log.h"
#include "sc_registry.h"

/* The key of an INFO body in each dialect. */
static const char *const body_key[] = {[LVSP_DIALECT_SEED] = "info", [LVSP_DIALECT_LATER] = "data"};

/* === Rendering ========================================================== */

/* INFO frames are numbered and kept for replay. */
static int send_info(lvsp_conn_t *c, json_t *d) {
  return lvsp_conn_send_frame(c, LVSP_OP_INFO, d, 1);
}

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

/* The type a voice state is sent as: seed VST, later VST_CREATE. */
static int state_type(lvsp_dialect_t dl) {
  return dl == LVSP_DIALECT_SEED ? LVSP_INFO_VST : LVSP_INFO_VST_CREATE;
}

/* Seed: INFO VST. Later: the VST_CREATE type echoed with the state. */
static int send_state(lvsp_conn_t *c, lvsp_dialect_t dl, const sc_vstate_t *vs) {
  return send_info(c, info_d(dl, state_type(dl), vst_body(c, vs)));
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
  return send_info(c, info_d(dl, type, body));
}

/* === Limits ============================================================== */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why the registry refused a request (its errno), as the error answer
 * says it. */
typedef enum { REFUSED_CHANNEL_LIMIT, REFUSED_STATE_LIMIT, REFUSED_DRAINING } refusal_t;

static const struct {
  const char *code, *message;
} refusals[] = {
    [REFUSED_CHANNEL_LIMIT] = {"channel_limit",
                               "this voice server holds its maximum of channels (--max-channels)"},
    [REFUSED_STATE_LIMIT] = {"voice_state_limit",
                             "this voice server holds its maximum of voice "
                             "states (--max-voice-states)"},
    [REFUSED_DRAINING] = {"draining",
                          "this voice server is draining (shutting down): it takes "
                          "no new calls, only joins to calls in progress"},
};

/* The registry refused a new channel or voice state (its limits, or a
 * drain). The link stays up (Litecord never reconnects it): the request
 * is answered with one INFO of type `answer` echoing the request's fields
 * plus "error" {code, message} and no credentials; counted; logged once
 * per LVSP_REFUSAL_LOG_MS with the count. Returns 0, or -errno after
 * closing (the answer could not be sent). */
static int refuse(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl, int answer, refusal_t why) {
  lvsp_link_t *l = c->link;
  const char *code = refusals[why].code, *msg = refusals[why].message;
  uint64_t *count[] = {[REFUSED_CHANNEL_LIMIT] = &l->n_refused_channels,
                       [REFUSED_STATE_LIMIT] = &l->n_refused_states,
                       [REFUSED_DRAINING] = &l->n_refused_draining};
  (*count[why])++;
  uint64_t n = sc_log_limit(&l->refusal_log, mono_ms(), LVSP_REFUSAL_LOG_MS);
  if (n) {
    const char *ch = json_string_value(json_object_get(body, "channel_id"));
    if (!ch) ch = json_string_value(json_object_get(body, "id"));
    sc_log_warn_ids(LVSP_LOG, &(sc_log_ids_t){.channel = ch},
                    "refused %llu request(s) from Litecord: %s (last: %s)", (unsigned long long)n,
                    msg, code);
  }
  json_t *echo = json_copy(body);
  if (echo)
    json_object_set_new(echo, "error", json_pack("{s:s,s:s}", "code", code, "message", msg));
  return send_info(c, info_d(dl, answer, echo));
}

/* A voice state refused (errno from the registry): by a drain, or for
 * want of room for its channel, or for it. */
static int refuse_state(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl, const char *channel_id,
                        int err) {
  refusal_t why = err == ESHUTDOWN                                         ? REFUSED_DRAINING
                  : sc_registry_find_channel(c->app->registry, channel_id) ? REFUSED_STATE_LIMIT
                                                                           : REFUSED_CHANNEL_LIMIT;
  return refuse(c, body, dl, state_type(dl), why);
}

/* The registry's refusals: its limits (ENOSPC) and a drain (ESHUTDOWN). */
static int refused(int err) {
  return err == ENOSPC || err == ESHUTDOWN;
}

/* === Channels ============================================================ */

/* Reads an optional non-negative int field into *out. 0, or -EPROTO
 * after closing. */
static int read_count(lvsp_conn_t *c, json_t *body, const char *key, int *out) {
  json_t *v = json_object_get(body, key);
  if (!json_is_integer(v)) return 0; /* absent or null: unchanged */
  if (json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
    return lvsp_conn_bad_field(c, key);
  *out = (int)json_integer_value(v);
  return 0;
}

/* Finds or creates the channel a message names (under id_key), pins it
 * (Litecord announced it) and applies bitrate / user_limit. 0 with *out
 * set; 0 with *out NULL when the channel limit refused it (answered with
 * an error INFO of type `answer`); or -errno after closing. */
static int upsert_channel(lvsp_conn_t *c, json_t *body, const char *id_key, lvsp_dialect_t dl,
                          int answer, sc_channel_t **out) {
  char id[SC_ID_MAX], guild[SC_ID_MAX];
  int bitrate = -1, limit = -1;
  *out = NULL;
  int rc = read_count(c, body, "bitrate", &bitrate);
  if (rc < 0 || (rc = read_count(c, body, "user_limit", &limit)) < 0) return rc;
  sc_jcheck_get_id(body, id_key, id);
  int has_guild = sc_jcheck_get_id(body, "guild_id", guild) == 0;
  sc_channel_t *ch = sc_registry_channel(c->app->registry, id, has_guild ? guild : NULL);
  if (!ch && refused(errno))
    return refuse(c, body, dl, answer,
                  errno == ESHUTDOWN ? REFUSED_DRAINING : REFUSED_CHANNEL_LIMIT);
  if (!ch) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  ch->pinned = 1;
  if (bitrate >= 0) ch->bitrate = bitrate;
  if (limit >= 0) ch->user_limit = limit;
  if (sc_log_get_level() >= SC_LOG_DEBUG)
    sc_log_write_ids(SC_LOG_DEBUG, LVSP_LOG, &(sc_log_ids_t){.channel = id},
                     "channel: bitrate %d, user limit %d", ch->bitrate, ch->user_limit);
  *out = ch;
  return 0;
}

static int info_channel(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  sc_channel_t *ch;
  return upsert_channel(c, body, "id", dl, LVSP_INFO_CHANNEL, &ch);
}

static int info_channel_update(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  sc_channel_t *ch;
  return upsert_channel(c, body, "channel_id", dl, LVSP_INFO_CHANNEL_ASSIGN, &ch);
}

static int info_channel_req(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  sc_channel_t *ch;
  int rc = upsert_channel(c, body, "channel_id", dl, LVSP_INFO_CHANNEL_ASSIGN, &ch);
  return rc < 0 || !ch ? rc : send_channel(c, dl, ch);
}

static int info_channel_destroy(lvsp_conn_t *c, json_t *body, lvsp_dialect_t dl) {
  (void)dl;
  char id[SC_ID_MAX];
  sc_jcheck_get_id(body, "channel_id", id);
  sc_channel_t *ch = sc_registry_find_channel(c->app->registry, id);
  if (!ch) {
    sc_log_info_ids(LVSP_LOG, &(sc_log_ids_t){.channel = id},
                    "CHANNEL_DESTROY for an unknown channel ignored");
    return 0;
  }
  sc_log_info_ids(LVSP_LOG, &(sc_log_ids_t){.channel = id},
                  "channel destroyed by Litecord (%d voice states end)", ch->n_states);
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
  if (!vs && refused(errno)) return refuse_state(c, body, dl, channel, errno);
  if (!vs) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "cannot create voice state", -ENOMEM);
  apply_flags(c, vs, body);
  sc_log_info_ids(LVSP_LOG, SC_VSTATE_IDS(vs), "voice state created");
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
    *err = lvsp_conn_bad_field(c, "user_id");
    return NULL;
  }
  sc_vstate_t *vs = find_state(c, body);
  if (!vs) sc_log_info(LVSP_LOG, "%s for an unknown voice state ignored", what);
  return vs;
}

static void end_state(lvsp_conn_t *c, sc_vstate_t *vs) {
  sc_log_info_ids(LVSP_LOG, SC_VSTATE_IDS(vs), "voice state ended by Litecord");
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
    sc_log_info_ids(LVSP_LOG, SC_VSTATE_IDS(vs), "voice state moves to channel %s", cid);
    vs = sc_registry_move_state(c->app->registry, vs, cid);
    if (!vs && refused(errno)) return refuse_state(c, body, dl, cid, errno);
    if (!vs) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "cannot move voice state", -ENOMEM);
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
    [LVSP_INFO_CHANNEL] = {info_channel, LVSP_FIELDS(seed_channel_fields)},
    [LVSP_INFO_VST] = {info_vst_update, LVSP_FIELDS(vst_fields)},
};

/* CHANNEL_ASSIGN is ours to send; from Litecord it is an unknown type. */
static const info_entry_t later_info[LVSP_INFO_LATER_COUNT] = {
    [LVSP_INFO_CHANNEL_REQ] = {info_channel_req, LVSP_FIELDS(channel_fields)},
    [LVSP_INFO_CHANNEL_UPDATE] = {info_channel_update, LVSP_FIELDS(channel_fields)},
    [LVSP_INFO_CHANNEL_DESTROY] = {info_channel_destroy, LVSP_FIELDS(channel_fields)},
    [LVSP_INFO_VST_CREATE] = {create_state, LVSP_FIELDS(vst_create_fields)},
    [LVSP_INFO_VST_UPDATE] = {info_vst_update, LVSP_FIELDS(vst_fields)},
    [LVSP_INFO_VST_LEAVE] = {info_vst_leave, LVSP_FIELDS(vst_fields)},
};

static const info_dialect_t dialects[] = {
    [LVSP_DIALECT_SEED] = {LVSP_FIELDS(seed_info)},
    [LVSP_DIALECT_LATER] = {LVSP_FIELDS(later_info)},
};

int lvsp_info_handle(lvsp_conn_t *c, json_t *d) {
  json_int_t type = json_integer_value(json_object_get(d, "type"));
  for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
    json_t *body = json_object_get(d, body_key[i]);
    if (!body) continue;
    const info_dialect_t *dl = &dialects[i];
    const info_entry_t *e = type >= 0 && (size_t)type < dl->n_types ? &dl->types[type] : NULL;
    if (!e || !e->fn) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "unknown INFO type", -EPROTO);
    const char *bad = body_key[i];
    if (sc_jcheck(body, e->fields, e->n_fields, &bad) < 0) return lvsp_conn_bad_field(c, bad);
    return e->fn(c, body, (lvsp_dialect_t)i);
  }
  return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "INFO without info or data", -EPROTO);
}

/* === Snapshot ============================================================ */

/* The ids to send, listed when the snapshot starts: channels first, then
 * voice states by session id. Each is looked up again when its turn
 * comes, so one that ended meanwhile is skipped. */
typedef struct {
  size_t n, next, n_channels;
  char ids[][SC_SESSION_ID_LEN + 1];
} snap_t;

static void list_channel(sc_channel_t *ch, void *arg) {
  snap_t *s = arg;
  snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", ch->id);
}

static void list_state(sc_vstate_t *vs, void *arg) {
  snap_t *s = arg;
  snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", vs->session_id);
}

static void list_channel_states(sc_channel_t *ch, void *arg) {
  sc_registry_each_state(ch, list_state, arg);
}

/* The burst's producer: the next id that still exists, rendered now. */
static int snap_next(lvsp_conn_t *c, void *arg) {
  snap_t *s = arg;
  sc_registry_t *r = c->app->registry;
  while (s->next < s->n) {
    size_t i = s->next++;
    if (i < s->n_channels) {
      const sc_channel_t *ch = sc_registry_find_channel(r, s->ids[i]);
      if (ch) return send_channel(c, c->dialect, ch);
    } else {
      const sc_vstate_t *vs = sc_registry_find_session(r, s->ids[i]);
      if (vs) return send_state(c, c->dialect, vs);
    }
  }
  return 1;
}

int lvsp_info_snapshot(lvsp_conn_t *c) {
  sc_registry_t *r = c->app->registry;
  size_t n = sc_registry_count_channels(r) + sc_registry_count_states(r);
  snap_t *s = malloc(sizeof *s + n * sizeof s->ids[0]);
  if (!s) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  s->n = s->next = 0;
  sc_registry_each_channel(r, list_channel, s);
  s->n_channels = s->n;
  sc_registry_each_channel(r, list_channel_states, s);
  return lvsp_conn_burst(c, snap_next, s, free, 0);
}
