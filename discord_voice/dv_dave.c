/*
 * dv_dave: see dv_dave.h. Members live in an array (found by pointer;
 * calls are small), the group's leaves in `roster` (dv_dave_roster.h; each
 * member keeps its leaf number), the proposals of the current round in
 * `props` (dv_dave_props.h; each member keeps what it was sent).
 */
#include "dv_dave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dv_dave_guard.h"
#include "dv_dave_props.h"
#include "dv_dave_roster.h"
#include "dv_mls.h"
#include "sc_log.h"

/* A member's part in the last commit's transition (dv_dave_guard.h). */
enum { ROLE_NONE, ROLE_COMMITTER, ROLE_RECEIVER, ROLE_WELCOMED };

static const dv_dave_rate_t flag_rate = {DV_DAVE_FLAG_BURST, DV_DAVE_FLAG_EVERY_MS};
static const dv_dave_rate_t recreate_rate = {DV_DAVE_RECREATE_BURST, DV_DAVE_RECREATE_EVERY_MS};
static const dv_dave_rate_t member_recreate_rate = {1, DV_DAVE_MEMBER_RECREATE_MS};

typedef struct {
  void *who;
  uint64_t user;
  int max;       /* its client's max_dave_protocol_version */
  int told;      /* version it was told (op 4, op 24, a transition) */
  int described; /* op 4 went out (a second Select Protocol sends no second op 25) */
  uint8_t *kp;   /* latest key package (bare), or NULL */
  size_t kp_len;
  dv_mls_ref_t kp_ref;
  int in_group; /* holds leaf `leaf` */
  uint32_t leaf;
  int awaiting;              /* op 23 due for the open transition */
  int in_tr;                 /* a target of the open transition */
  dv_dave_sent_t sent;       /* this round's proposals it was sent (unrevoked) */
  int role;                  /* ROLE_*, in the transition d->judged_tid */
  int flagged;               /* it sent op 31 for that transition (within its budget) */
  dv_dave_bucket_t flags;    /* its op 31 budget */
  uint64_t hold_until;       /* its re-add waits until then (op 31s over budget) */
  dv_dave_bucket_t recreate; /* its flags re-create the group at most once a while */
  uint64_t barred_until;     /* its commits lose until then (a bad commit of its own) */
} member_t;

struct dv_dave {
  uint64_t group;
  int enabled, version;
  const dv_dave_io_t *io;
  void *ctx;
  dv_mls_signer_t *signer;
  uint64_t epoch;
  member_t *m;
  size_t n, cap;
  /* Members of other front ends without DAVE (dv_dave_foreign), by key. */
  const void **foreign;
  size_t nforeign, foreign_cap;
  dv_dave_roster_t roster;
  dv_dave_props_t props;
  int round_graced; /* a barred commit shortened this round's commit timeout */
  int tr_open, tr_version;
  uint16_t tr_id, next_tid;
  uint64_t tr_since_ms; /* when the open transition opened (admin view) */
  dv_timer_t timer;     /* the open transition's timeout, or the round's commit timeout */
  uint16_t judged_tid;  /* the last commit's transition, while its flags can still count */
  dv_dave_bucket_t recreates;
  dv_timer_t hold_timer; /* the earliest held re-add */
  sc_log_limit_t flag_log;
  dv_dave_stats_t st;
};

static void advance(dv_dave_t *d);
static void on_timer(dv_timer_t *t);
static void on_hold(dv_timer_t *t);

static uint64_t now_ms(const dv_dave_t *d) {
  return dv_timers_now(d->timer.hub);
}

/* ---- members -------------------------------------------------------------- */

static member_t *find(const dv_dave_t *d, const void *who) {
  for (size_t i = 0; i < d->n; i++)
    if (d->m[i].who == who) return &d->m[i];
  return NULL;
}

static void drop_kp(member_t *m) {
  free(m->kp);
  m->kp = NULL;
  m->kp_len = 0;
}

static void tell(dv_dave_t *d, member_t *m, int version) {
  m->told = version;
  d->io->set_version(d->ctx, m->who, version);
}

static void send_json(dv_dave_t *d, member_t *m, int op, json_t *j) {
  d->io->send_json(d->ctx, m->who, op, j);
}

static void send_external_sender(dv_dave_t *d, member_t *m) {
  uint8_t buf[256];
  int n = dv_mls_external_sender(d->signer, buf, sizeof buf);
  if (n > 0) d->io->send_binary(d->ctx, m->who, 25, buf, (size_t)n);
}

static int want_version(const dv_dave_t *d) {
  if (!d->enabled || !d->n || d->nforeign) return 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->m[i].max < 1) return 0;
  return 1;
}

static uint16_t next_tid(dv_dave_t *d) {
  do d->next_tid++;
  while (d->next_tid == 0 || (d->tr_open && d->next_tid == d->tr_id));
  return d->next_tid;
}

/* ---- the round's proposals ------------------------------------------------- */

/* The round's op 27s go out through io (dv_dave_props_send_fn). */
static void send_op27(void *ctx, void *who, const uint8_t *p, size_t len) {
  dv_dave_t *d = ctx;
  d->io->send_binary(d->ctx, who, 27, p, len);
}

static void clear_round(dv_dave_t *d) {
  dv_dave_props_clear(&d->props);
  d->round_graced = 0;
  for (size_t i = 0; i < d->n; i++) d->m[i].sent.n = 0;
}

static void propose_add(dv_dave_t *d, const member_t *m) {
  dv_dave_signing_t s = {d->signer, d->group, d->epoch};
  dv_dave_props_propose_add(&d->props, &s, m->who, m->kp, m->kp_len, &m->kp_ref);
}

static void propose_remove(dv_dave_t *d, uint32_t leaf) {
  dv_dave_signing_t s = {d->signer, d->group, d->epoch};
  dv_dave_props_propose_remove(&d->props, &s, leaf);
}

static void send_props(dv_dave_t *d, member_t *m) {
  dv_dave_props_send(&d->props, m->who, &m->sent, send_op27, d);
}

/* ---- transitions ----------------------------------------------------------- */

static void open_transition(dv_dave_t *d, uint16_t tid, int version) {
  d->tr_open = 1;
  d->tr_id = tid;
  d->tr_version = version;
  d->tr_since_ms = dv_timers_now(d->timer.hub);
  dv_timer_arm(&d->timer, DV_DAVE_TRANSITION_MS);
}

/* Back to "no group": the epoch, roster and proposals are forgotten. */
static void forget_group(dv_dave_t *d) {
  clear_round(d);
  d->epoch = 0;
  dv_dave_roster_clear(&d->roster);
  for (size_t i = 0; i < d->n; i++) d->m[i].in_group = 0;
}

static void execute_transition(dv_dave_t *d) {
  dv_timer_cancel(&d->timer);
  d->tr_open = 0;
  d->st.transitions++;
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    if (!m->in_tr) continue;
    m->in_tr = m->awaiting = 0;
    send_json(d, m, 22, json_pack("{s:i}", "transition_id", (int)d->tr_id));
  }
  if (d->tr_version == 0) { /* a downgrade done: members stop encrypting now */
    d->version = 0;
    forget_group(d);
    for (size_t i = 0; i < d->n; i++) {
      drop_kp(&d->m[i]);
      tell(d, &d->m[i], 0);
    }
  }
}

static void upgrade(dv_dave_t *d);
static void judge(dv_dave_t *d);

/* The call is at the version its members allow (after a transition ran,
 * or the roster changed): a downgrade that ran while the member without
 * DAVE left again is followed by an upgrade. */
static void settle(dv_dave_t *d) {
  if (d->version == 0 && !d->tr_open && want_version(d))
    upgrade(d);
  else
    advance(d);
}

static void maybe_execute(dv_dave_t *d) {
  if (!d->tr_open) return;
  for (size_t i = 0; i < d->n; i++)
    if (d->m[i].awaiting) return;
  execute_transition(d);
  judge(d);
  settle(d);
}

/* A member without DAVE joined a call at version 1 (reference 2.5). */
static void downgrade(dv_dave_t *d) {
  if (d->tr_open) execute_transition(d); /* one transition at a time */
  clear_round(d);
  dv_timer_cancel(&d->timer);
  uint16_t tid = next_tid(d);
  int any = 0;
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    if (m->told != 1) continue;
    any = 1;
    m->in_tr = m->awaiting = 1;
    send_json(d, m, 21, json_pack("{s:i, s:i}", "protocol_version", 0, "transition_id", (int)tid));
  }
  if (any) {
    open_transition(d, tid, 0);
    return;
  }
  d->version = 0;
  forget_group(d);
}

/* The last member without DAVE left (reference 2.5): everyone starts a new
 * pending group. */
static void upgrade(dv_dave_t *d) {
  d->version = 1;
  forget_group(d);
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    drop_kp(m);
    send_json(d, m, 24, json_pack("{s:i, s:i}", "protocol_version", 1, "epoch", 1));
    send_external_sender(d, m);
    tell(d, m, 1);
  }
}

/* The group is gone (reference 2.4's sole-member reset, and a
 * re-creation): each member still holding it gets op 24 (epoch 1: reset,
 * send a new key package) and op 21 with transition 0 (switch to the new
 * pending group now). A member that flagged the last transition reset
 * itself already and keeps the key package it sent; it gets only the op
 * 21, which ends its client's "reinitializing" state so that it can flag
 * the new group too (djs ignores a failed welcome while reinitializing). */
static void reset_group(dv_dave_t *d) {
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    if (m->in_group) {
      drop_kp(m);
      send_json(d, m, 24, json_pack("{s:i, s:i}", "protocol_version", 1, "epoch", 1));
    }
    if (m->in_group || m->flagged)
      send_json(d, m, 21, json_pack("{s:i, s:i}", "protocol_version", 1, "transition_id", 0));
    m->role = ROLE_NONE;
    m->flagged = 0;
  }
  d->judged_tid = 0;
  forget_group(d);
}

/* ---- rounds ------------------------------------------------------------------ */

/* Waiting to be added: told version 1, with a key package, not held back. */
static int pending(const dv_dave_t *d, const member_t *m) {
  return m->told == 1 && m->kp && !m->in_group && m->hold_until <= now_ms(d);
}

/* Epoch 0: every pending member gets the Adds of the others (reference 2.2). */
static void propose_initial(dv_dave_t *d) {
  size_t count = 0;
  for (size_t i = 0; i < d->n; i++) count += pending(d, &d->m[i]);
  if (count < 2) return;
  for (size_t i = 0; i < d->n; i++)
    if (pending(d, &d->m[i])) propose_add(d, &d->m[i]);
  for (size_t i = 0; i < d->n; i++)
    if (pending(d, &d->m[i])) send_props(d, &d->m[i]);
}

/* Epoch N: removes first, else adds, to every member holding a leaf. */
static void propose_changes(dv_dave_t *d) {
  for (uint32_t l = 0; dv_dave_roster_next_vacated(&d->roster, &l); l++) propose_remove(d, l);
  for (size_t i = 0; !d->props.n && i < d->n; i++)
    if (pending(d, &d->m[i])) propose_add(d, &d->m[i]);
  for (size_t i = 0; d->props.n && i < d->n; i++)
    if (d->m[i].in_group) send_props(d, &d->m[i]);
}

static void advance(dv_dave_t *d) {
  if (d->version != 1 || d->tr_open || d->props.n) return;
  if (d->epoch) {
    size_t present = 0;
    for (size_t i = 0; i < d->n; i++) present += d->m[i].in_group;
    if (present <= 1) reset_group(d);
  }
  if (d->epoch)
    propose_changes(d);
  else
    propose_initial(d);
  if (d->props.n) dv_timer_arm(&d->timer, DV_DAVE_COMMIT_MS);
}

/* Nobody committed in time (or the group is re-created): the round is
 * withdrawn. */
static void revoke_round(dv_dave_t *d) {
  for (size_t i = 0; i < d->n; i++) dv_dave_props_revoke(&d->m[i].sent, d->m[i].who, send_op27, d);
  clear_round(d);
}

static void on_timer(dv_timer_t *t) {
  dv_dave_t *d = (dv_dave_t *)((char *)t - offsetof(dv_dave_t, timer));
  if (d->tr_open) {
    d->st.timeouts++;
    execute_transition(d);
    judge(d);
  } else if (d->props.n) {
    for (size_t i = 0; i < d->n; i++) d->m[i].barred_until = 0; /* nobody else committed */
    revoke_round(d);
  }
  settle(d);
}

/* ---- lifetime and events ------------------------------------------------------ */

dv_dave_t *dv_dave_new(uint64_t group_id, int enabled, const dv_dave_io_t *io, void *ctx,
                       dv_timers_t *timers) {
  dv_dave_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  static const uint8_t identity[] = "litecord-voice";
  d->signer = dv_mls_signer_new(identity, sizeof identity - 1);
  if (!d->signer) {
    free(d);
    return NULL;
  }
  d->group = group_id;
  d->enabled = enabled;
  d->version = enabled;
  d->io = io;
  d->ctx = ctx;
  dv_timer_init(&d->timer, timers, on_timer);
  dv_timer_init(&d->hold_timer, timers, on_hold);
  return d;
}

void dv_dave_free(dv_dave_t *d) {
  if (!d) return;
  dv_timer_cancel(&d->timer);
  dv_timer_cancel(&d->hold_timer);
  clear_round(d);
  for (size_t i = 0; i < d->n; i++) drop_kp(&d->m[i]);
  free(d->m);
  free(d->foreign);
  dv_dave_roster_free(&d->roster);
  dv_mls_signer_free(d->signer);
  free(d);
}

/* Someone without DAVE is in a call at version 1: down to 0, unless a
 * downgrade is under way already. */
static void maybe_downgrade(dv_dave_t *d) {
  if (d->version == 1 && !want_version(d) && !(d->tr_open && d->tr_version == 0)) downgrade(d);
}

int dv_dave_join(dv_dave_t *d, void *member, uint64_t user, int max_version) {
  if (find(d, member)) return 0;
  if (d->n == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 4;
    member_t *grown = realloc(d->m, cap * sizeof *grown);
    if (!grown) return -ENOMEM;
    d->m = grown;
    d->cap = cap;
  }
  int was_empty = d->n == 0;
  d->m[d->n++] = (member_t){.who = member, .user = user, .max = max_version};
  if (was_empty && !d->tr_open) d->version = want_version(d);
  maybe_downgrade(d);
  return 0;
}

int dv_dave_version_for(const dv_dave_t *d, const void *member) {
  const member_t *m = find(d, member);
  if (!m || d->version != 1 || m->max < 1) return 0;
  return d->tr_open && d->tr_version == 0 ? 0 : 1;
}

void dv_dave_described(dv_dave_t *d, void *member) {
  member_t *m = find(d, member);
  if (!m || m->described) return;
  m->described = 1;
  int v = dv_dave_version_for(d, member);
  tell(d, m, v);
  if (v) send_external_sender(d, m);
}

/* Its Add still in flight: withdrawn from the members that got it. */
static void revoke_add_of(dv_dave_t *d, const void *who) {
  dv_mls_ref_t ref;
  if (!dv_dave_props_take_add_of(&d->props, who, &ref)) return;
  for (size_t i = 0; i < d->n; i++)
    dv_dave_props_revoke_one(&d->m[i].sent, &ref, d->m[i].who, send_op27, d);
}

void dv_dave_leave(dv_dave_t *d, void *member) {
  member_t *m = find(d, member);
  if (!m) return;
  if (m->in_group) dv_dave_roster_vacate(&d->roster, m->leaf);
  drop_kp(m);
  *m = d->m[--d->n];
  revoke_add_of(d, member);
  int nobody_sent = 1;
  for (size_t i = 0; i < d->n; i++) nobody_sent &= d->m[i].sent.n == 0;
  if (d->props.n && nobody_sent) clear_round(d);
  if (!d->n) {
    dv_timer_cancel(&d->timer);
    d->tr_open = 0;
    forget_group(d);
    d->version = d->enabled;
    return;
  }
  if (d->version == 0 && !d->tr_open && want_version(d)) {
    upgrade(d);
    return;
  }
  maybe_execute(d);
  advance(d);
}

/* ---- members of other front ends ------------------------------------------------ */

static size_t find_foreign(const dv_dave_t *d, const void *key) {
  for (size_t i = 0; i < d->nforeign; i++)
    if (d->foreign[i] == key) return i;
  return d->nforeign;
}

int dv_dave_foreign_join(dv_dave_t *d, const void *key) {
  if (find_foreign(d, key) < d->nforeign) return 0;
  if (d->nforeign == d->foreign_cap) {
    size_t cap = d->foreign_cap ? 2 * d->foreign_cap : 4;
    const void **grown = realloc(d->foreign, cap * sizeof *grown);
    if (!grown) return -ENOMEM;
    d->foreign = grown;
    d->foreign_cap = cap;
  }
  d->foreign[d->nforeign++] = key;
  if (!d->n && !d->tr_open) d->version = 0; /* nobody to tell */
  maybe_downgrade(d);
  return 0;
}

void dv_dave_foreign_leave(dv_dave_t *d, const void *key) {
  size_t i = find_foreign(d, key);
  if (i == d->nforeign) return;
  d->foreign[i] = d->foreign[--d->nforeign];
  if (!d->n) {
    d->version = want_version(d);
    return;
  }
  settle(d);
}

size_t dv_dave_foreign_count(const dv_dave_t *d) {
  return d->nforeign;
}

size_t dv_dave_count(const dv_dave_t *d) {
  return d->n;
}

int dv_dave_key_package(dv_dave_t *d, void *member, const uint8_t *p, size_t len) {
  member_t *m = find(d, member);
  if (!m || m->told != 1) return -EPROTO;
  const uint8_t *kp;
  size_t kp_len;
  dv_mls_ref_t ref;
  int rc = dv_mls_keypackage_check(p, len, m->user, &kp, &kp_len, &ref);
  if (rc < 0) {
    d->st.kp_refused++;
    return rc;
  }
  uint8_t *copy = malloc(kp_len);
  if (!copy) return -ENOMEM;
  memcpy(copy, kp, kp_len);
  drop_kp(m);
  m->kp = copy;
  m->kp_len = kp_len;
  m->kp_ref = ref;
  advance(d);
  return 0;
}

/* ---- op 28 --------------------------------------------------------------------- */

static void take_leaf(dv_dave_t *d, member_t *m) {
  if (dv_dave_roster_take(&d->roster, &m->leaf) == 0) m->in_group = 1;
}

static void send_tid_frame(dv_dave_t *d, member_t *m, int op, uint16_t tid, const uint8_t *p,
                           size_t len) {
  uint8_t *buf = malloc(len + 2);
  if (!buf) return;
  buf[0] = (uint8_t)(tid >> 8);
  buf[1] = (uint8_t)tid;
  memcpy(buf + 2, p, len);
  d->io->send_binary(d->ctx, m->who, op, buf, len + 2);
  free(buf);
}

static void send_welcome(dv_dave_t *d, member_t *m, uint16_t tid, const dv_mls_commit_t *c) {
  uint8_t *w = malloc(c->welcome_len);
  int n = w ? dv_mls_welcome_for(c->welcome, c->welcome_len, &m->kp_ref, w, c->welcome_len) : -1;
  if (n > 0) send_tid_frame(d, m, 30, tid, w, (size_t)n);
  free(w);
}

/* The first valid commit of the round: broadcast, roster updated, a
 * transition opened (reference 2.2-2.4). */
static void apply_commit(dv_dave_t *d, member_t *winner, const dv_mls_commit_t *c,
                         const uint8_t *p) {
  uint16_t tid = next_tid(d);
  d->st.commits++;
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    m->flagged = 0;
    m->role = m == winner ? ROLE_COMMITTER : d->epoch && m->in_group ? ROLE_RECEIVER : ROLE_NONE;
  }
  d->judged_tid = tid;
  if (d->epoch == 0) {
    send_tid_frame(d, winner, 29, tid, p, c->commit_len);
    take_leaf(d, winner);
  } else {
    for (size_t i = 0; i < d->n; i++)
      if (d->m[i].in_group) send_tid_frame(d, &d->m[i], 29, tid, p, c->commit_len);
  }
  for (size_t i = 0; i < c->nrefs; i++) {
    const dv_dave_prop_t *pr = dv_dave_props_find(&d->props, &c->refs[i]);
    if (pr && pr->kind == DV_DAVE_PROP_REMOVE) dv_dave_roster_release(&d->roster, pr->leaf);
  }
  for (size_t i = 0; i < c->nrefs; i++) {
    const dv_dave_prop_t *pr = dv_dave_props_find(&d->props, &c->refs[i]);
    member_t *m = pr && pr->kind == DV_DAVE_PROP_ADD ? find(d, pr->who) : NULL;
    if (!m) continue;
    m->role = ROLE_WELCOMED;
    send_welcome(d, m, tid, c);
    take_leaf(d, m);
    drop_kp(m);
  }
  clear_round(d);
  d->epoch++;
  for (size_t i = 0; i < d->n; i++) d->m[i].in_tr = d->m[i].awaiting = d->m[i].in_group;
  open_transition(d, tid, 1);
}

/* Another member that is not barred was sent this round's proposals. */
static int others_can_commit(const dv_dave_t *d, const member_t *m, uint64_t now) {
  for (size_t i = 0; i < d->n; i++)
    if (&d->m[i] != m && d->m[i].sent.n && d->m[i].barred_until <= now) return 1;
  return 0;
}

int dv_dave_commit(dv_dave_t *d, void *member, const uint8_t *p, size_t len) {
  member_t *m = find(d, member);
  if (!m || m->told != 1) return -EPROTO;
  if (!d->props.n || !m->sent.n) {
    d->st.commit_late++;
    return -ESTALE;
  }
  uint64_t now = now_ms(d);
  if (m->barred_until > now && others_can_commit(d, m, now)) {
    d->st.commit_barred++;
    sc_log_info("gateway", "user %llu: DAVE commit dropped: its last commit failed its members",
                (unsigned long long)m->user);
    if (!d->round_graced && (!d->timer.armed || d->timer.due_ms > now + DV_DAVE_BAR_GRACE_MS)) {
      d->round_graced = 1; /* once a round: a barred member cannot keep it open */
      dv_timer_arm(&d->timer, DV_DAVE_BAR_GRACE_MS);
    }
    return -ESTALE;
  }
  dv_mls_commit_t *c = malloc(sizeof *c);
  if (!c) return -ENOMEM;
  int rc = len > DV_DAVE_OP28_MAX ? DV_MLS_E_TOO_BIG : dv_mls_commit_parse(p, len, d->group, c);
  uint32_t leaf = d->epoch ? m->leaf : 0;
  if (rc == 0 &&
      (c->epoch != d->epoch || c->sender_leaf != leaf || (d->epoch && !m->in_group) ||
       !dv_dave_props_sent_matches(&m->sent, c) || !dv_dave_props_welcome_matches(&d->props, c)))
    rc = -EPROTO;
  if (rc == 0)
    apply_commit(d, m, c, p);
  else
    d->st.commit_refused++;
  free(c);
  return rc;
}

/* ---- op 23, op 31 --------------------------------------------------------------- */

void dv_dave_transition_ready(dv_dave_t *d, void *member, long long tid) {
  member_t *m = find(d, member);
  if (!m) return;
  if (!d->tr_open || tid != d->tr_id) {
    d->st.ready_unknown++;
    return;
  }
  m->awaiting = 0;
  maybe_execute(d);
}

/* ---- recovery (dv_dave_guard.h) -------------------------------------------- */

/* The group is re-created for everyone: members holding the group reset
 * (reset_group), the round in flight is dropped, and the members' new key
 * packages make a new initial group (reference 2.2). */
static void recreate(dv_dave_t *d, uint16_t tid, const dv_dave_tally_t *t) {
  d->st.recreations++;
  sc_log_warn("gateway",
              "DAVE call %llu: transition %u failed for %u of %u members that applied its commit "
              "and %u of %u it welcomed: re-creating the group",
              (unsigned long long)d->group, tid, t->receivers_flagged, t->receivers,
              t->welcomed_flagged, t->welcomed);
  /* A round in flight needs no revoke: whoever was sent it holds the
   * group and resets on op 24, or flagged and reset itself already. */
  dv_timer_cancel(&d->timer);
  reset_group(d);
}

/* The flags on the last commit's transition are in (it executed, or a late
 * op 31 named it): the group is re-created when the fault cannot be the
 * flaggers' own, within the call's budget; otherwise the flaggers, out of
 * the group already, are removed and re-added by the next rounds. A
 * flagger whose flag re-created the group lately does not count. */
static void judge(dv_dave_t *d) {
  if (d->version != 1 || !d->judged_tid || d->tr_open) return;
  uint64_t now = now_ms(d);
  dv_dave_tally_t t = {0};
  for (size_t i = 0; i < d->n; i++) {
    const member_t *m = &d->m[i];
    int flag = m->flagged && dv_dave_bucket_ready_at(&m->recreate, &member_recreate_rate) <= now;
    if (m->role == ROLE_RECEIVER) {
      t.receivers++;
      t.receivers_flagged += (uint32_t)flag;
    } else if (m->role == ROLE_WELCOMED) {
      t.welcomed++;
      t.welcomed_flagged += (uint32_t)flag;
    } else if (m->role == ROLE_COMMITTER) {
      t.committer_flagged = flag;
    }
  }
  if (dv_dave_guard_verdict(&t) != DV_DAVE_VERDICT_RECREATE) return;
  uint16_t tid = d->judged_tid;
  d->judged_tid = 0;
  for (size_t i = 0; i < d->n; i++) {
    member_t *m = &d->m[i];
    if (m->role == ROLE_COMMITTER) m->barred_until = now + DV_DAVE_BAR_MS;
    if (m->flagged) dv_dave_bucket_take(&m->recreate, now, &member_recreate_rate);
  }
  if (!dv_dave_bucket_take(&d->recreates, now, &recreate_rate)) {
    d->st.recreate_limited++;
    sc_log_warn("gateway",
                "DAVE call %llu: transition %u failed for its members, but the group was "
                "re-created %u times lately: removing and re-adding them instead",
                (unsigned long long)d->group, tid, DV_DAVE_RECREATE_BURST);
    return;
  }
  recreate(d, tid, &t);
}

/* The hold timer follows the earliest held re-add. */
static void arm_hold(dv_dave_t *d) {
  uint64_t now = now_ms(d), next = 0;
  for (size_t i = 0; i < d->n; i++) {
    uint64_t h = d->m[i].hold_until;
    if (h > now && (!next || h < next)) next = h;
  }
  if (next)
    dv_timer_arm(&d->hold_timer, (uint32_t)(next - now));
  else
    dv_timer_cancel(&d->hold_timer);
}

static void on_hold(dv_timer_t *t) {
  dv_dave_t *d = (dv_dave_t *)((char *)t - offsetof(dv_dave_t, hold_timer));
  arm_hold(d);
  settle(d);
}

/* The member could not apply a commit or welcome; its client starts over
 * and sends a new key package: its leaf is removed, then it is added, and
 * its flag counts toward the verdict on the transition it names. Past its
 * budget its flag counts for nothing and its re-add waits. */
void dv_dave_invalid_commit(dv_dave_t *d, void *member, long long tid) {
  member_t *m = find(d, member);
  if (!m || m->told != 1) return;
  d->st.invalid_commits++;
  uint64_t now = now_ms(d);
  if (dv_dave_bucket_take(&m->flags, now, &flag_rate)) {
    if (d->judged_tid && tid == d->judged_tid && m->role != ROLE_NONE) m->flagged = 1;
  } else {
    d->st.invalid_limited++;
    m->hold_until = dv_dave_bucket_ready_at(&m->flags, &flag_rate);
    uint64_t lines = sc_log_limit(&d->flag_log, (int64_t)now + 1, 10000);
    if (lines)
      sc_log_warn("gateway",
                  "user %llu: DAVE op 31 over its budget (%llu since the last such line): its "
                  "re-add waits %llu ms",
                  (unsigned long long)m->user, (unsigned long long)lines,
                  (unsigned long long)(m->hold_until - now));
    arm_hold(d);
  }
  if (m->in_group) dv_dave_roster_vacate(&d->roster, m->leaf);
  m->in_group = 0;
  m->awaiting = 0;
  m->sent.n = 0; /* its client dropped them: a revoke would make it throw */
  drop_kp(m);
  if (d->tr_open) {
    maybe_execute(d); /* judged when it executes */
  } else {
    judge(d);
    advance(d);
  }
}

/* ---- views ---------------------------------------------------------------------- */

int dv_dave_version(const dv_dave_t *d) {
  return d->version;
}

uint64_t dv_dave_epoch(const dv_dave_t *d) {
  return d->epoch;
}

const dv_dave_stats_t *dv_dave_stats(const dv_dave_t *d) {
  return &d->st;
}

int dv_dave_member_active(const dv_dave_t *d, const void *member) {
  const member_t *m = find(d, member);
  return m && m->told == 1;
}

json_t *dv_dave_status_json(const dv_dave_t *d) {
  size_t in_group = 0, pending_kps = 0;
  for (size_t i = 0; i < d->n; i++) {
    in_group += d->m[i].in_group != 0;
    pending_kps += d->m[i].kp != NULL && !d->m[i].in_group; /* waiting to be added */
  }
  json_t *tr = json_null();
  if (d->tr_open)
    tr = json_pack("{s:i, s:i, s:I}", "id", (int)d->tr_id, "version", d->tr_version, "age_ms",
                   (json_int_t)(dv_timers_now(d->timer.hub) - d->tr_since_ms));
  return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o*}", "version", d->version, "epoch",
                   (json_int_t)d->epoch, "members", (json_int_t)d->n, "foreign_members",
                   (json_int_t)d->nforeign, "group_members", (json_int_t)in_group,
                   "pending_key_packages", (json_int_t)pending_kps, "proposals",
                   (json_int_t)d->props.n, "transition", tr);
}
