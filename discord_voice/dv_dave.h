/*
 * dv_dave: the DAVE (E2EE) Delivery Service and External Sender of one
 * call (reference dave-server.md sections 2 and 4): the call's protocol
 * version, its signer (op 25), the MLS epoch and roster (leaves), the
 * members' pending key packages, the proposals in flight this epoch, and
 * at most one open transition with its timeout. It never holds media keys.
 *
 * Driven by the gateway's events for the call's members (join, op 4 sent,
 * op 26, op 28, op 23, op 31, leave); it answers through dv_dave_io_t, so
 * it knows no socket and can be tested with a capture. A member is the
 * caller's opaque pointer (a gateway session) with its user id.
 *
 * Policy, as the reference says: op 11 is the session layer's (sent at
 * Identify, before any op 27 naming the user); the first valid commit of
 * an epoch wins; joins and leaves that arrive while proposals or a
 * transition are open wait and go out together afterwards; removes go out
 * before adds (one identity per user in the group); a call whose members
 * all support DAVE is at version 1, one member without it (a Discord
 * client without DAVE, or a member of another front end) downgrades the
 * call to 0, and the last one leaving upgrades the call again.
 *
 * op 31 (a member could not apply a commit or welcome): the member is
 * removed and re-added, unless every member that had to apply that
 * transition's commit, or every member it welcomed, flagged it: then the
 * group is re-created for everyone (op 24 epoch 1 + op 21 transition 0 to
 * the members holding it, a new initial group) and its committer cannot
 * win the next rounds while another member can commit. Budgets
 * (dv_dave_guard.h) bound the op 31s a member may send (past them its
 * re-add waits) and the re-creations of a call (past them the flaggers
 * are re-added instead).
 *
 * Parts, each driven by this module alone (a stack: none calls dv_dave;
 * dv_dave_props sends its op 27s through the callback it is handed):
 * dv_dave_props (the round's proposals: op 27 append and revoke, the op 28
 * ref and welcome checks; each member's sent refs live in the member),
 * dv_dave_roster (the group's leaves: held, vacated, blank) and
 * dv_dave_guard (the op 31 verdict and budgets). The members, the
 * foreign-member keys, the transition and the status view stay here.
 *
 * Threads: control thread only.
 * Memory: dv_dave_new allocates the call's state (and its signer), which
 * dv_dave_free frees. Frames handed to io are the callee's to copy.
 */
#ifndef DV_DAVE_H
#define DV_DAVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dv_timer.h"

/* Waiting for op 23s of a transition at most this long, then op 22. */
#define DV_DAVE_TRANSITION_MS 2000
/* Waiting for a commit to proposals at most this long, then they are
 * proposed again (a member that cannot commit must not stall the call). */
#define DV_DAVE_COMMIT_MS 5000
/* Binary payload caps (after the op byte). */
#define DV_DAVE_OP28_MAX (64u * 1024u)

typedef struct {
  /* JSON op 21, 22 or 24 to a member (steals d). */
  void (*send_json)(void *ctx, void *member, int op, json_t *d);
  /* Binary op 25, 27, 29 or 30 (payload after the op byte). */
  void (*send_binary)(void *ctx, void *member, int op, const uint8_t *p, size_t len);
  /* The member's DAVE protocol version is now `version` (0 or 1): the
   * caller opens or closes its gate for E2EE media (dv_crypto.h). */
  void (*set_version)(void *ctx, void *member, int version);
} dv_dave_io_t;

/* Counters (per call; the gateway sums them). */
typedef struct {
  uint64_t kp_refused;       /* op 26 that failed dv_mls_keypackage_check */
  uint64_t commit_refused;   /* op 28 malformed or not matching what was proposed */
  uint64_t commit_late;      /* op 28 for an epoch that had its winner already */
  uint64_t commits;          /* winning commits broadcast */
  uint64_t invalid_commits;  /* op 31 received */
  uint64_t transitions;      /* transitions executed (op 22 or tid 0) */
  uint64_t timeouts;         /* transitions executed by the timeout */
  uint64_t ready_unknown;    /* op 23 naming no open transition: ignored */
  uint64_t recreations;      /* groups re-created after a transition failed its members */
  uint64_t recreate_limited; /* re-creations over the call's budget (re-added instead) */
  uint64_t invalid_limited;  /* op 31 over the member's budget: its re-add held back */
  uint64_t commit_barred;    /* op 28 from a member whose last commit failed its members */
} dv_dave_stats_t;

typedef struct dv_dave dv_dave_t;

/* The state of the call with numeric channel id group_id; enabled 0 keeps
 * the call at version 0 whoever joins. NULL on ENOMEM or a signer failure. */
dv_dave_t *dv_dave_new(uint64_t group_id, int enabled, const dv_dave_io_t *io, void *ctx,
                       dv_timers_t *timers);
void dv_dave_free(dv_dave_t *d);

/* A member joined (Identify) with its client's max_dave_protocol_version.
 * A member without DAVE downgrades a call at version 1. 0 or -ENOMEM. */
int dv_dave_join(dv_dave_t *d, void *member, uint64_t user, int max_version);
/* The version to tell the member in op 4 (0 or 1). */
int dv_dave_version_for(const dv_dave_t *d, const void *member);
/* Op 4 went out with dv_dave_version_for: at 1 the member gets op 25. */
void dv_dave_described(dv_dave_t *d, void *member);
/* The member left the call (session ended). */
void dv_dave_leave(dv_dave_t *d, void *member);
/* Members still in the call. */
size_t dv_dave_count(const dv_dave_t *d);

/* A member of another front end without DAVE (a Vortex, Galene or ion
 * client) is in the room, named by an opaque key (its voice state): while
 * any is, the call is at version 0 (a call at 1 is downgraded, a member
 * identifying starts at 0); when the last one leaves, the call is
 * upgraded again. Idempotent per key: every session of the call reports
 * the same peer. Such members get nothing from the call (no op 21..30)
 * and do not count in dv_dave_count. join: 0 or -ENOMEM. */
int dv_dave_foreign_join(dv_dave_t *d, const void *key);
void dv_dave_foreign_leave(dv_dave_t *d, const void *key);
size_t dv_dave_foreign_count(const dv_dave_t *d);

/* Binary ops from a member (payload after the op byte). Returns 0, or a
 * negative dv_mls error / -EPROTO (not expected now: dropped). */
int dv_dave_key_package(dv_dave_t *d, void *member, const uint8_t *p, size_t len);
int dv_dave_commit(dv_dave_t *d, void *member, const uint8_t *p, size_t len);
/* JSON op 23 and op 31 with their transition_id. */
void dv_dave_transition_ready(dv_dave_t *d, void *member, long long tid);
void dv_dave_invalid_commit(dv_dave_t *d, void *member, long long tid);

/* For the admin view and tests. */
int dv_dave_version(const dv_dave_t *d);
uint64_t dv_dave_epoch(const dv_dave_t *d);
const dv_dave_stats_t *dv_dave_stats(const dv_dave_t *d);
/* The member accepts binary DAVE ops now (told version 1). */
int dv_dave_member_active(const dv_dave_t *d, const void *member);
/* The call's state for the admin view, no secrets: {version, epoch,
 * members, foreign_members, group_members, pending_key_packages,
 * proposals, transition: null | {id, version, age_ms}}. A new object, or
 * NULL on ENOMEM. */
json_t *dv_dave_status_json(const dv_dave_t *d);

#endif
