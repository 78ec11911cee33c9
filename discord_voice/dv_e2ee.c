#include "dv_e2ee.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dv_mls.h"
#include "sc_log.h"

typedef struct {
  dv_dave_t *dave;
  dv_e2ee_t *e;
  char channel[SC_ID_MAX]; /* the map's key */
  sc_registry_t *registry;
  dv_timer_t recount; /* after a member left: see on_recount */
} call_t;

/* ---- dv_dave's output: the members' sessions ---------------------------- */

static void io_json(void *ctx, void *member, int op, json_t *d) {
  (void)ctx;
  dv_session_send(member, op, d);
}

static void io_binary(void *ctx, void *member, int op, const uint8_t *p, size_t len) {
  (void)ctx;
  dv_session_send_binary(member, op, p, len);
}

static void io_version(void *ctx, void *member, int version) {
  (void)ctx;
  dv_session_t *s = member;
  s->dave_version = version;
  dv_e2ee_gate_set(s->gate, version >= 1);
}

static const dv_dave_io_t session_io = {io_json, io_binary, io_version};

/* ---- calls ------------------------------------------------------------------ */

void dv_e2ee_init(dv_e2ee_t *e, dv_timers_t *timers) {
  memset(e, 0, sizeof *e);
  sc_hmap_init(&e->calls);
  e->timers = timers;
}

static void sum_stats(dv_dave_stats_t *to, const dv_dave_stats_t *from) {
  to->kp_refused += from->kp_refused;
  to->commit_refused += from->commit_refused;
  to->commit_late += from->commit_late;
  to->commits += from->commits;
  to->invalid_commits += from->invalid_commits;
  to->transitions += from->transitions;
  to->timeouts += from->timeouts;
  to->ready_unknown += from->ready_unknown;
  to->recreations += from->recreations;
  to->recreate_limited += from->recreate_limited;
  to->invalid_limited += from->invalid_limited;
  to->commit_barred += from->commit_barred;
}

static void call_free(dv_e2ee_t *e, call_t *c) {
  dv_timer_cancel(&c->recount);
  sum_stats(&e->st.calls, dv_dave_stats(c->dave));
  sc_hmap_del(&e->calls, c->channel);
  dv_dave_free(c->dave);
  free(c);
}

void dv_e2ee_free(dv_e2ee_t *e) {
  for (size_t i = 0; i < e->calls.cap; i++)
    if (e->calls.slots[i].value) call_free(e, e->calls.slots[i].value);
  sc_hmap_free(&e->calls);
}

dv_dave_t *dv_e2ee_call(dv_e2ee_t *e, const char *channel_id) {
  call_t *c = sc_hmap_get(&e->calls, channel_id);
  return c ? c->dave : NULL;
}

/* The MLS group id is the channel id as a number; a channel id that is not
 * one (clients would throw on it) keeps the call at version 0. */
static uint64_t group_of(const char *id, int *ok) {
  char *end;
  unsigned long long v = strtoull(id, &end, 10);
  *ok = id[0] >= '0' && id[0] <= '9' && *end == '\0' && v != 0;
  return v;
}

/* A member of another front end whose client cannot do DAVE. */
static int is_foreign(const sc_vstate_t *peer) {
  return peer->ops && peer->ops != &dv_session_attach_ops && peer->max_dave_version < 1;
}

typedef struct {
  dv_dave_t *dave;
  int rc;
} scan_t;

static void count_foreign(sc_vstate_t *peer, void *arg) {
  scan_t *scan = arg;
  if (is_foreign(peer) && dv_dave_foreign_join(scan->dave, peer) < 0) scan->rc = -ENOMEM;
}

/* A Discord member's voice state taken over by another front end
 * (sc_registry_take_over) stays in the room with no join for its peers:
 * after every leave, once the registry is done, the room is counted
 * again (joins are idempotent; leaves have their own event). */
static void on_recount(dv_timer_t *t) {
  call_t *c = (call_t *)((char *)t - offsetof(call_t, recount));
  sc_channel_t *ch = sc_registry_find_channel(c->registry, c->channel);
  scan_t scan = {c->dave, 0};
  if (ch) sc_registry_each_state(ch, count_foreign, &scan);
}

static call_t *call_for(dv_e2ee_t *e, dv_session_t *s, int enabled) {
  const char *id = s->vs->channel->id;
  call_t *c = sc_hmap_get(&e->calls, id);
  if (c) return c;
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  int numeric;
  uint64_t group = group_of(id, &numeric);
  snprintf(c->channel, sizeof c->channel, "%s", id);
  c->e = e;
  c->registry = s->tab->app->registry;
  dv_timer_init(&c->recount, e->timers, on_recount);
  c->dave = dv_dave_new(group, enabled && numeric, &session_io, c, e->timers);
  if (!c->dave || sc_hmap_put(&e->calls, c->channel, c) < 0) {
    dv_dave_free(c->dave);
    free(c);
    return NULL;
  }
  return c;
}

static dv_dave_t *dave_of(dv_e2ee_t *e, dv_session_t *s) {
  return dv_e2ee_call(e, s->vs->channel->id);
}

int dv_e2ee_join(dv_e2ee_t *e, dv_session_t *s, int max, int enabled) {
  s->dave_max = max;
  call_t *c = call_for(e, s, enabled);
  if (!c) return -ENOMEM;
  /* Members of other front ends already here (a new call, or ones that
   * came while this gateway had nobody in the room) count before the
   * joiner is told its version; its own state is Discord's from now on. */
  dv_dave_foreign_leave(c->dave, s->vs);
  scan_t scan = {c->dave, 0};
  sc_registry_each_peer(s->vs->channel, s->vs, count_foreign, &scan);
  if (scan.rc < 0) return scan.rc;
  int numeric;
  uint64_t user = group_of(s->vs->user_id, &numeric);
  /* Credentials are the user id as a number: without one, no DAVE. */
  return dv_dave_join(c->dave, s, user, numeric ? max : 0);
}

int dv_e2ee_version_for(dv_e2ee_t *e, dv_session_t *s) {
  dv_dave_t *d = dave_of(e, s);
  return d ? dv_dave_version_for(d, s) : 0;
}

void dv_e2ee_described(dv_e2ee_t *e, dv_session_t *s) {
  dv_dave_t *d = dave_of(e, s);
  if (d) dv_dave_described(d, s);
}

void dv_e2ee_leave(dv_e2ee_t *e, dv_session_t *s) {
  call_t *c = s->vs && s->vs->channel ? sc_hmap_get(&e->calls, s->vs->channel->id) : NULL;
  if (!c) return;
  dv_dave_leave(c->dave, s);
  if (!dv_dave_count(c->dave))
    call_free(e, c);
  else if (c->registry)
    dv_timer_arm(&c->recount, 0);
}

void dv_e2ee_peer(dv_e2ee_t *e, dv_session_t *s, const sc_vstate_t *peer, int joined) {
  dv_dave_t *d = dave_of(e, s);
  if (!d) return;
  if (!joined)
    dv_dave_foreign_leave(d, peer); /* nothing if it was not counted */
  else if (is_foreign(peer) && dv_dave_foreign_join(d, peer) < 0)
    sc_log_warn("gateway", "user %s: out of memory counting a member without DAVE", peer->user_id);
}

/* ---- client frames ------------------------------------------------------------ */

void dv_e2ee_binary(dv_e2ee_t *e, dv_session_t *s, const uint8_t *buf, size_t len) {
  dv_dave_t *d = dave_of(e, s);
  int op = len ? buf[0] : -1;
  if (!d || !dv_dave_member_active(d, s) || (op != 26 && op != 28)) {
    e->st.binary_refused++;
    return;
  }
  size_t cap = op == 26 ? DV_MLS_KEYPACKAGE_MAX : DV_DAVE_OP28_MAX;
  if (len - 1 > cap) {
    e->st.binary_oversize++;
    return;
  }
  int rc = op == 26 ? dv_dave_key_package(d, s, buf + 1, len - 1)
                    : dv_dave_commit(d, s, buf + 1, len - 1);
  if (rc < 0 && rc != -ESTALE)
    sc_log_info("gateway", "user %s: DAVE op %d refused: %s", s->vs->user_id, op,
                rc == -EPROTO ? "not what was proposed" : dv_mls_strerror(rc));
}

static long long transition_id(json_t *d) {
  json_t *t = json_is_object(d) ? json_object_get(d, "transition_id") : NULL;
  return json_is_integer(t) ? (long long)json_integer_value(t) : -1;
}

void dv_e2ee_transition_ready(dv_e2ee_t *e, dv_session_t *s, json_t *d) {
  dv_dave_t *dave = dave_of(e, s);
  if (dave) dv_dave_transition_ready(dave, s, transition_id(d));
}

void dv_e2ee_invalid_commit(dv_e2ee_t *e, dv_session_t *s, json_t *d) {
  dv_dave_t *dave = dave_of(e, s);
  if (dave) dv_dave_invalid_commit(dave, s, transition_id(d));
}

json_t *dv_e2ee_status_json(const dv_e2ee_t *e) {
  dv_dave_stats_t t = e->st.calls;
  json_t *channels = json_object();
  for (size_t i = 0; i < e->calls.cap; i++) {
    call_t *c = e->calls.slots[i].value;
    if (!c) continue;
    sum_stats(&t, dv_dave_stats(c->dave));
    if (channels) json_object_set_new(channels, c->channel, dv_dave_status_json(c->dave));
  }
  json_t *j = json_pack(
      "{s:o*, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "channels", channels,
      "ready_unknown", (json_int_t)t.ready_unknown, "calls", (json_int_t)e->calls.used,
      "binary_refused", (json_int_t)e->st.binary_refused, "binary_oversize",
      (json_int_t)e->st.binary_oversize, "kp_refused", (json_int_t)t.kp_refused, "commit_refused",
      (json_int_t)t.commit_refused, "commit_late", (json_int_t)t.commit_late, "commits",
      (json_int_t)t.commits, "invalid_commits", (json_int_t)t.invalid_commits, "transitions",
      (json_int_t)t.transitions, "transition_timeouts", (json_int_t)t.timeouts);
  json_t *recovery =
      json_pack("{s:I, s:I, s:I, s:I}", "recreations", (json_int_t)t.recreations,
                "recreate_limited", (json_int_t)t.recreate_limited, "invalid_limited",
                (json_int_t)t.invalid_limited, "commit_barred", (json_int_t)t.commit_barred);
  if (j && json_object_update(j, recovery) < 0)
    sc_log_warn("gateway", "DAVE status: out of memory");
  json_decref(recovery);
  return j;
}
