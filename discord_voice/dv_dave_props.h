/*
 * dv_dave_props: the proposals of one DAVE round (reference dave-server.md
 * 2.2-2.3 and 4.5) and what each member was sent of them. It owns the
 * list: each proposal's signed MLSMessage, its ProposalRef, and for an Add
 * the member it adds and its KeyPackageRef, for a Remove the leaf. It
 * frames op 27 (append and revoke) and checks an op 28 against the round:
 * its refs are exactly what its committer was sent, its welcome has a
 * secret for every Add it commits.
 *
 * dv_dave (the round's policy: what is proposed when, to whom) drives it,
 * one way: this module knows no member list and no socket. Each member's
 * sent refs are a dv_dave_sent_t the caller keeps in its member and hands
 * in per call; frames go out through the caller's send callback.
 *
 * Threads: the caller's (the control thread, with dv_dave).
 * Memory: the list and the sent refs are the caller's (embedded,
 * zero-initialised). Each proposal's message is allocated by
 * dv_dave_props_propose_* and freed by dv_dave_props_clear or
 * dv_dave_props_take_add_of. Frames handed to send are the callee's to copy.
 */
#ifndef DV_DAVE_PROPS_H
#define DV_DAVE_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include "dv_mls.h"

typedef enum { DV_DAVE_PROP_ADD, DV_DAVE_PROP_REMOVE } dv_dave_prop_kind_t;

typedef struct {
  dv_dave_prop_kind_t kind;
  dv_mls_ref_t ref;
  void *who;           /* add: the member it adds */
  dv_mls_ref_t kp_ref; /* add: its KeyPackageRef */
  uint32_t leaf;       /* remove: the leaf */
  uint8_t *msg;        /* the signed proposal (MLSMessage) */
  size_t len;
} dv_dave_prop_t;

/* Zero-initialised: empty. n > 0 means a round is open. */
typedef struct {
  dv_dave_prop_t p[DV_MLS_MAX_REFS];
  size_t n;
} dv_dave_props_t;

/* The refs of the round's proposals one member was sent (not revoked). */
typedef struct {
  size_t n;
  dv_mls_ref_t ref[DV_MLS_MAX_REFS];
} dv_dave_sent_t;

/* Who signs the round's proposals, for which group and epoch. */
typedef struct {
  const dv_mls_signer_t *signer;
  uint64_t group, epoch;
} dv_dave_signing_t;

/* An op 27 payload (after the op byte) for member who. */
typedef void (*dv_dave_props_send_fn)(void *ctx, void *who, const uint8_t *p, size_t len);

/* Signs and appends an Add of who's key package (kp, bare) or a Remove of
 * leaf. 0, -ENOSPC (DV_MLS_MAX_REFS already), -ENOMEM or a dv_mls error. */
int dv_dave_props_propose_add(dv_dave_props_t *ps, const dv_dave_signing_t *s, void *who,
                              const uint8_t *kp, size_t kp_len, const dv_mls_ref_t *kp_ref);
int dv_dave_props_propose_remove(dv_dave_props_t *ps, const dv_dave_signing_t *s, uint32_t leaf);
/* Frees every proposal; the list is empty (members' sent refs are the
 * caller's to reset). */
void dv_dave_props_clear(dv_dave_props_t *ps);
/* The proposal with ProposalRef ref, or NULL. */
const dv_dave_prop_t *dv_dave_props_find(const dv_dave_props_t *ps, const dv_mls_ref_t *ref);

/* Op 27 append to who with every proposal except its own Add (a member is
 * never sent its own Add); *sent becomes their refs. Nothing goes out
 * when there is nothing for it (sent->n is 0 then). */
void dv_dave_props_send(const dv_dave_props_t *ps, void *who, dv_dave_sent_t *sent,
                        dv_dave_props_send_fn send, void *ctx);
/* Op 27 revoke to who of everything in *sent, which is emptied. */
void dv_dave_props_revoke(dv_dave_sent_t *sent, void *who, dv_dave_props_send_fn send, void *ctx);
/* Takes who's Add out of the list (freed): 1 and its ref in *ref, or 0
 * when there is none. The caller revokes it (dv_dave_props_revoke_one)
 * from the members that were sent it. */
int dv_dave_props_take_add_of(dv_dave_props_t *ps, const void *who, dv_mls_ref_t *ref);
/* When *sent holds ref: op 27 revoke of ref alone to who, ref dropped
 * from *sent. */
void dv_dave_props_revoke_one(dv_dave_sent_t *sent, const dv_mls_ref_t *ref, void *who,
                              dv_dave_props_send_fn send, void *ctx);

/* An op 28 against the round: its refs are exactly *sent (any order). */
int dv_dave_props_sent_matches(const dv_dave_sent_t *sent, const dv_mls_commit_t *c);
/* A welcome iff it commits Adds, with a secret for each Add's key package. */
int dv_dave_props_welcome_matches(const dv_dave_props_t *ps, const dv_mls_commit_t *c);

#endif
