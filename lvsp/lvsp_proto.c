#include "lvsp_proto.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvsp_info.h"
#include "lvsp_settings.h"
#include "sc_jcheck.h"
#include "sc_log.h"
#include "sc_load.h"
#include "sc_registry.h"
#include "sc_token.h"

/* === Output ============================================================ */

static int send_frame(lvsp_conn_t *c, int op, json_t *d) {
  return lvsp_conn_send_frame(c, op, d, 0); /* only INFO is replayed */
}

double lvsp_health(const sc_app_t *app, const lvsp_link_t *link) {
  /* Shutting down, or draining: this server takes no new calls. */
  if (!app->registry || app->drain.active) return 0.0;
  return sc_load_health((double)sc_registry_count_states(app->registry), (double)app->cfg.capacity,
                        link->load.cpu_share, link->load.drop_ratio);
}

int lvsp_proto_open(lvsp_conn_t *c, sc_app_t *app, const lvsp_io_t *io, void *io_ctx) {
  memset(c, 0, sizeof *c);
  lvsp_link_init(&c->own_link, 0); /* no ring: cannot fail */
  return lvsp_proto_open_on(c, app, &c->own_link, io, io_ctx);
}

int lvsp_proto_open_on(lvsp_conn_t *c, sc_app_t *app, lvsp_link_t *link, const lvsp_io_t *io,
                       void *io_ctx) {
  lvsp_conn_init(c, app, link, io, io_ctx);
  if (sc_token_random_alnum(c->nonce, sizeof c->nonce, LVSP_NONCE_LEN) < 0)
    return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "internal error", -EIO);
  return send_frame(
      c, LVSP_OP_HELLO,
      json_pack("{s:I,s:s}", "heartbeat_interval",
                (json_int_t)lvsp_settings(app)->lvsp_heartbeat_ms, "nonce", c->nonce));
}

/* 0 (never) becomes null. */
static json_t *ms_or_null(int64_t ms) {
  return ms ? json_integer(ms) : json_null();
}

json_t *lvsp_status_json(const lvsp_link_t *l, const sc_app_t *app) {
  const lvsp_conn_t *a = l->active;
  json_t *o =
      json_pack("{s:b,s:s?,s:s?,s:o,s:o,s:o,s:o,s:I,s:f}", "connected", a != NULL, "dialect",
                a ? (a->dialect == LVSP_DIALECT_SEED ? "seed" : "later") : NULL, "peer",
                a ? a->peer : NULL, "up_since", ms_or_null(a ? a->since_ms : 0), "down_since",
                ms_or_null(a ? 0 : l->down_since_ms), "last_heartbeat",
                ms_or_null(l->last_heartbeat_ms), "last_message", ms_or_null(l->last_message_ms),
                "seq", (json_int_t)l->seq, "health", lvsp_health(app, l));
  json_t *replay = json_pack("{s:I,s:I,s:I}", "size", (json_int_t)l->cap, "held",
                             (json_int_t)l->count, "evicted_up_to", (json_int_t)l->evicted);
  json_t *counts = json_pack(
      "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections", (json_int_t)l->n_connections,
      "identify", (json_int_t)l->n_identify, "resume", (json_int_t)l->n_resume, "replaced",
      (json_int_t)l->n_replaced, "stale_resume", (json_int_t)l->n_stale, "refused_channels",
      (json_int_t)l->n_refused_channels, "refused_voice_states", (json_int_t)l->n_refused_states,
      "refused_draining", (json_int_t)l->n_refused_draining, "auth_timeouts",
      (json_int_t)l->n_auth_timeouts, "evicted_unauthenticated", (json_int_t)l->n_evicted);
  json_t *load = json_pack("{s:f,s:f}", "media_cpu_share", l->load.cpu_share, "drop_ratio",
                           l->load.drop_ratio);
  if (o) {
    json_object_set_new(o, "replay", replay ? replay : json_null());
    json_object_set_new(o, "counts", counts ? counts : json_null());
    json_object_set_new(o, "load", load ? load : json_null());
  } else {
    json_decref(replay);
    json_decref(counts);
    json_decref(load);
  }
  return o;
}

void lvsp_metrics(const lvsp_link_t *l, const sc_app_t *app, sc_metrics_t *m) {
  sc_metrics_gauge(m, "litecord_voice_lvsp_up",
                   "1 while an authenticated LVSP link to Litecord is up", l->active ? 1 : 0);
  sc_metrics_gauge(m, "litecord_voice_health",
                   "Health figure reported to Litecord (0..1, 1 = idle; docs/LVSP.md)",
                   lvsp_health(app, l));
  sc_metrics_counter(m, "litecord_voice_lvsp_connections_total", "LVSP connections accepted",
                     l->n_connections);
  sc_metrics_family(m, "litecord_voice_lvsp_handshakes_total", SC_METRIC_COUNTER,
                    "LVSP handshakes accepted, by kind");
  sc_label_t id = {"kind", "identify"}, re = {"kind", "resume"}, st = {"kind", "stale_resume"};
  sc_metrics_sample_u64(m, &id, 1, l->n_identify);
  sc_metrics_sample_u64(m, &re, 1, l->n_resume);
  sc_metrics_sample_u64(m, &st, 1, l->n_stale);
  sc_metrics_family(m, "litecord_voice_lvsp_refused_total", SC_METRIC_COUNTER,
                    "LVSP requests refused at the registry's limits, by what was asked");
  sc_label_t ch = {"what", "channel"}, vs = {"what", "voice_state"};
  sc_metrics_sample_u64(m, &ch, 1, l->n_refused_channels);
  sc_metrics_sample_u64(m, &vs, 1, l->n_refused_states);
  sc_metrics_family(m, "litecord_voice_lvsp_unauthenticated_closed_total", SC_METRIC_COUNTER,
                    "LVSP connections closed before authenticating, by reason");
  sc_label_t to = {"reason", "timeout"}, ev = {"reason", "evicted"};
  sc_metrics_sample_u64(m, &to, 1, l->n_auth_timeouts);
  sc_metrics_sample_u64(m, &ev, 1, l->n_evicted);
}

/* === Handshake: IDENTIFY, RESUME ======================================= */

/* The seed dialect sends the secret itself, the later one the HMAC of our
 * nonce. Both comparisons always run, so the timing does not tell which
 * form (if any) matched. Returns 1 and sets *dl on a match. */
static int token_ok(const lvsp_conn_t *c, const char *given, lvsp_dialect_t *dl) {
  const char *secret = lvsp_settings(c->app)->lvsp_secret;
  char mac[65];
  if (!secret[0]) return 0; /* no secret configured: nobody gets in */
  if (sc_token_hmac_sha256_hex(mac, sizeof mac, secret, strlen(secret), c->nonce,
                               strlen(c->nonce)) < 0)
    return 0;
  int plain = sc_token_equal(secret, given);
  int hmac = sc_token_equal(mac, given);
  sodium_memzero(mac, sizeof mac);
  *dl = hmac ? LVSP_DIALECT_LATER : LVSP_DIALECT_SEED;
  return plain | hmac;
}

/* Checks the token and makes c the link's live connection; a previous
 * one is closed with 4000 (voice is not touched). 0 or -errno. */
static int authenticate(lvsp_conn_t *c, json_t *d) {
  if (!token_ok(c, json_string_value(json_object_get(d, "token")), &c->dialect))
    return lvsp_conn_fail(c, LVSP_CLOSE_AUTH, "authentication failed", -EACCES);
  lvsp_link_t *l = c->link;
  if (l->active && l->active != c) {
    sc_log_info(LVSP_LOG, "a new Litecord connection replaces the live one");
    l->n_replaced++;
    lvsp_conn_close(l->active, LVSP_CLOSE_GENERAL, "replaced by a newer connection");
  }
  l->active = c;
  c->since_ms = lvsp_link_now_ms();
  return 0;
}

static int send_ready(lvsp_conn_t *c) {
  c->ready = 1;
  return send_frame(c, LVSP_OP_READY, json_pack("{s:f}", "health", lvsp_health(c->app, c->link)));
}

/* READY, then the state of every channel and voice state: Litecord may
 * have restarted and forgotten what it set up here. */
static int op_identify(lvsp_conn_t *c, json_t *d) {
  int rc = authenticate(c, d);
  if (rc < 0) return rc;
  c->link->n_identify++;
  sc_log_info(LVSP_LOG, "Litecord identified (%s dialect)",
              c->dialect == LVSP_DIALECT_SEED ? "seed" : "later");
  rc = send_ready(c);
  return rc < 0 ? rc : lvsp_info_snapshot(c);
}

/* A streamed replay: the last "s" sent, and the counter at the RESUME
 * (nothing after it is replayed; nothing is added while the input is
 * held, since INFO frames only answer the live connection's requests). */
typedef struct {
  uint64_t after, end;
} replay_t;

/* The burst's producer: the next held frame, as first sent; READY after
 * the last one. */
static int replay_next(lvsp_conn_t *c, void *arg) {
  replay_t *r = arg;
  const lvsp_frame_t *f = lvsp_link_next(c->link, r->after);
  if (f && f->s <= r->end) {
    r->after = f->s;
    return lvsp_conn_send_raw(c, f->text, f->len);
  }
  int rc = send_ready(c);
  return rc < 0 ? rc : 1;
}

/* Re-sends every INFO after seq, as first sent, then READY. A seq the
 * buffer no longer covers closes with 4000: the client identifies afresh
 * and gets the snapshot instead. */
static int op_resume(lvsp_conn_t *c, json_t *d) {
  json_t *sv = json_object_get(d, "seq");
  json_int_t seq = json_is_integer(sv) ? json_integer_value(sv) : 0;
  int rc = authenticate(c, d);
  if (rc < 0) return rc;
  lvsp_link_t *l = c->link;
  if (seq < 0 || !lvsp_link_can_resume(l, (uint64_t)seq)) {
    l->n_stale++;
    return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "cannot resume from that seq: identify", -ESTALE);
  }
  l->n_resume++;
  sc_log_info(LVSP_LOG, "Litecord resumed after s=%lld (now at s=%llu)", (long long)seq,
              (unsigned long long)l->seq);
  replay_t *r = malloc(sizeof *r);
  if (!r) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "out of memory", -ENOMEM);
  *r = (replay_t){(uint64_t)seq, l->seq};
  return lvsp_conn_burst(c, replay_next, r, free, 1);
}

/* === HEARTBEAT ========================================================== */

static int op_heartbeat(lvsp_conn_t *c, json_t *d) {
  c->link->last_heartbeat_ms = lvsp_link_now_ms();
  /* "O?" turns an absent s into null rather than failing. */
  return send_frame(c, LVSP_OP_HEARTBEAT_ACK,
                    json_pack("{s:O?,s:f}", "s", json_object_get(d, "s"), "health",
                              lvsp_health(c->app, c->link)));
}

/* === Dispatch =========================================================== */

/* Which phase an op is accepted in. */
typedef enum { PHASE_HANDSHAKE = 1, PHASE_READY } lvsp_phase_t;

typedef int (*lvsp_body_fn)(lvsp_conn_t *c, json_t *body);

typedef struct {
  lvsp_body_fn fn;
  lvsp_phase_t phase;
  const sc_jfield_t *fields;
  size_t n_fields;
} op_entry_t;

static const sc_jfield_t frame_fields[] = {
    {"op", SC_JT_INT, SC_JF_REQUIRED},
    {"d", SC_JT_OBJECT, SC_JF_REQUIRED},
};
static const sc_jfield_t identify_fields[] = {
    {"token", SC_JT_STRING, SC_JF_REQUIRED},
};
static const sc_jfield_t resume_fields[] = {
    {"token", SC_JT_STRING, SC_JF_REQUIRED},
    {"seq", SC_JT_INT | SC_JT_NULL, 0},
};
static const sc_jfield_t heartbeat_fields[] = {
    {"s", SC_JT_INT | SC_JT_NULL, 0},
};
static const sc_jfield_t info_fields[] = {
    {"type", SC_JT_INT, SC_JF_REQUIRED},
    {"info", SC_JT_OBJECT, 0},
    {"data", SC_JT_OBJECT, 0},
};
static const sc_jfield_t vst_request_fields[] = {
    {"user_id", SC_JT_ID, SC_JF_REQUIRED},
    {"channel_id", SC_JT_ID, SC_JF_REQUIRED},
    {"guild_id", SC_JT_ID | SC_JT_NULL, 0},
};

/* Server-sent ops (HELLO, READY, HEARTBEAT_ACK) have no entry: from the
 * client they are unknown ops. */
static const op_entry_t op_table[LVSP_OP_COUNT] = {
    [LVSP_OP_IDENTIFY] = {op_identify, PHASE_HANDSHAKE, LVSP_FIELDS(identify_fields)},
    [LVSP_OP_RESUME] = {op_resume, PHASE_HANDSHAKE, LVSP_FIELDS(resume_fields)},
    [LVSP_OP_HEARTBEAT] = {op_heartbeat, PHASE_READY, LVSP_FIELDS(heartbeat_fields)},
    [LVSP_OP_INFO] = {lvsp_info_handle, PHASE_READY, LVSP_FIELDS(info_fields)},
    [LVSP_OP_VST_REQUEST] = {lvsp_info_vst_request, PHASE_READY, LVSP_FIELDS(vst_request_fields)},
};

static int dispatch(lvsp_conn_t *c, json_t *root) {
  const char *bad = "message";
  if (!json_is_object(root) || sc_jcheck(root, LVSP_FIELDS(frame_fields), &bad) < 0)
    return lvsp_conn_bad_field(c, bad);
  json_int_t op = json_integer_value(json_object_get(root, "op"));
  const op_entry_t *e = op >= 0 && op < LVSP_OP_COUNT ? &op_table[op] : NULL;
  if (!e || !e->fn) return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "unknown op", -EPROTO);
  if (e->phase == PHASE_READY && !c->ready)
    return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "not authenticated", -EPROTO);
  if (e->phase == PHASE_HANDSHAKE && c->ready)
    return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "already authenticated", -EPROTO);
  json_t *d = json_object_get(root, "d");
  if (sc_jcheck(d, e->fields, e->n_fields, &bad) < 0) return lvsp_conn_bad_field(c, bad);
  return e->fn(c, d);
}

int lvsp_handle_text(lvsp_conn_t *c, const char *buf, size_t len) {
  if (c->closed) return -EPIPE;
  if (len > LVSP_MAX_FRAME)
    return lvsp_conn_fail(c, LVSP_CLOSE_GENERAL, "message too large", -EPROTO);
  /* Without JSON_ALLOW_NUL, jansson rejects "\u0000" in strings, so a
   * token can never hide a NUL that would cut the comparison short.
   * JSON_DECODE_ANY lets valid non-objects reach dispatch (4000, not 4002). */
  json_error_t err;
  json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
  if (!root) {
    sc_log_debug(LVSP_LOG, "undecodable message: %s (line %d)", err.text, err.line);
    return lvsp_conn_fail(c, LVSP_CLOSE_DECODE, "invalid JSON", -EBADMSG);
  }
  if (c->ready) c->link->last_message_ms = lvsp_link_now_ms();
  int rc = dispatch(c, root);
  json_decref(root);
  return rc;
}
