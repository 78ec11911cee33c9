/*
 * dv_dave_props: see dv_dave_props.h. The list is a fixed array (a commit
 * names at most DV_MLS_MAX_REFS proposals), searched by ref: rounds are
 * small.
 */
#include "dv_dave_props.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int same_ref(const dv_mls_ref_t *a, const dv_mls_ref_t *b) {
  return memcmp(a->b, b->b, DV_MLS_REF_LEN) == 0;
}

/* The next slot, with a message buffer of cap bytes: 0, -ENOSPC or -ENOMEM. */
static int new_slot(dv_dave_props_t *ps, size_t cap, dv_dave_prop_t **out) {
  if (ps->n == DV_MLS_MAX_REFS) return -ENOSPC;
  dv_dave_prop_t *p = &ps->p[ps->n];
  p->msg = malloc(cap);
  if (!p->msg) return -ENOMEM;
  *out = p;
  return 0;
}

/* A proposal is its key package (or leaf index) plus framing and signature. */
#define PROP_OVERHEAD 512

int dv_dave_props_propose_add(dv_dave_props_t *ps, const dv_dave_signing_t *s, void *who,
                              const uint8_t *kp, size_t kp_len, const dv_mls_ref_t *kp_ref) {
  size_t cap = kp_len + PROP_OVERHEAD;
  dv_dave_prop_t *p;
  int rc = new_slot(ps, cap, &p);
  if (rc) return rc;
  int n = dv_mls_propose_add(s->signer, s->group, s->epoch, kp, kp_len, p->msg, cap, &p->ref);
  if (n < 0) {
    free(p->msg);
    return n;
  }
  p->kind = DV_DAVE_PROP_ADD;
  p->len = (size_t)n;
  p->leaf = 0;
  p->who = who;
  p->kp_ref = *kp_ref;
  ps->n++;
  return 0;
}

int dv_dave_props_propose_remove(dv_dave_props_t *ps, const dv_dave_signing_t *s, uint32_t leaf) {
  size_t cap = PROP_OVERHEAD;
  dv_dave_prop_t *p;
  int rc = new_slot(ps, cap, &p);
  if (rc) return rc;
  int n = dv_mls_propose_remove(s->signer, s->group, s->epoch, leaf, p->msg, cap, &p->ref);
  if (n < 0) {
    free(p->msg);
    return n;
  }
  p->kind = DV_DAVE_PROP_REMOVE;
  p->len = (size_t)n;
  p->leaf = leaf;
  p->who = NULL;
  ps->n++;
  return 0;
}

void dv_dave_props_clear(dv_dave_props_t *ps) {
  for (size_t i = 0; i < ps->n; i++) free(ps->p[i].msg);
  ps->n = 0;
}

const dv_dave_prop_t *dv_dave_props_find(const dv_dave_props_t *ps, const dv_mls_ref_t *ref) {
  for (size_t i = 0; i < ps->n; i++)
    if (same_ref(&ps->p[i].ref, ref)) return &ps->p[i];
  return NULL;
}

void dv_dave_props_send(const dv_dave_props_t *ps, void *who, dv_dave_sent_t *sent,
                        dv_dave_props_send_fn send, void *ctx) {
  size_t total = 0;
  for (size_t i = 0; i < ps->n; i++) total += ps->p[i].len;
  uint8_t *msgs = malloc(total + 1), *out = malloc(total + 8);
  if (!msgs || !out) goto done;
  size_t used = 0;
  sent->n = 0;
  for (size_t i = 0; i < ps->n; i++) {
    if (ps->p[i].who == who) continue; /* never a member its own Add */
    memcpy(msgs + used, ps->p[i].msg, ps->p[i].len);
    used += ps->p[i].len;
    sent->ref[sent->n++] = ps->p[i].ref;
  }
  int n = sent->n ? dv_mls_op27_append(msgs, used, out, total + 8) : -1;
  if (n > 0) send(ctx, who, out, (size_t)n);
done:
  free(msgs);
  free(out);
}

void dv_dave_props_revoke(dv_dave_sent_t *sent, void *who, dv_dave_props_send_fn send, void *ctx) {
  uint8_t out[8 + DV_MLS_MAX_REFS * (DV_MLS_REF_LEN + 1)];
  int n = sent->n ? dv_mls_op27_revoke(sent->ref, sent->n, out, sizeof out) : -1;
  if (n > 0) send(ctx, who, out, (size_t)n);
  sent->n = 0;
}

int dv_dave_props_take_add_of(dv_dave_props_t *ps, const void *who, dv_mls_ref_t *ref) {
  for (size_t i = 0; i < ps->n; i++) {
    dv_dave_prop_t *p = &ps->p[i];
    if (p->kind != DV_DAVE_PROP_ADD || p->who != who) continue;
    *ref = p->ref;
    free(p->msg);
    *p = ps->p[--ps->n];
    return 1;
  }
  return 0;
}

void dv_dave_props_revoke_one(dv_dave_sent_t *sent, const dv_mls_ref_t *ref, void *who,
                              dv_dave_props_send_fn send, void *ctx) {
  for (size_t k = 0; k < sent->n; k++) {
    if (!same_ref(&sent->ref[k], ref)) continue;
    uint8_t out[64];
    int n = dv_mls_op27_revoke(ref, 1, out, sizeof out);
    if (n > 0) send(ctx, who, out, (size_t)n);
    sent->ref[k] = sent->ref[--sent->n];
    return;
  }
}

int dv_dave_props_sent_matches(const dv_dave_sent_t *sent, const dv_mls_commit_t *c) {
  if (c->nrefs != sent->n) return 0;
  for (size_t i = 0; i < sent->n; i++) {
    int found = 0;
    for (size_t k = 0; k < c->nrefs && !found; k++) found = same_ref(&sent->ref[i], &c->refs[k]);
    if (!found) return 0;
  }
  return 1;
}

int dv_dave_props_welcome_matches(const dv_dave_props_t *ps, const dv_mls_commit_t *c) {
  size_t adds = 0;
  for (size_t i = 0; i < c->nrefs; i++) {
    const dv_dave_prop_t *p = dv_dave_props_find(ps, &c->refs[i]);
    if (!p || p->kind != DV_DAVE_PROP_ADD) continue;
    adds++;
    int found = 0;
    for (size_t k = 0; k < c->nsecrets && !found; k++)
      found = same_ref(&c->new_members[k], &p->kp_ref);
    if (!found) return 0;
  }
  return adds ? c->welcome != NULL : c->welcome == NULL;
}
