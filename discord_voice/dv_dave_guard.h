/*
 * dv_dave_guard: how a DAVE call judges op 31 (dave_mls_invalid_commit_
 * welcome, reference dave-server.md 2.6), and the budgets that keep one
 * member from making a call re-key in a loop.
 *
 * The verdict on a transition once its flags are in: a member that could
 * not apply the commit or its welcome is normally removed and re-added
 * (its client reset itself and sends a new key package). That cannot help
 * when the fault is not the member's: when every member that had to apply
 * the commit (op 29, the committer aside) flagged it, the commit was bad;
 * when every member it welcomed (op 30) flagged, its welcome or the group
 * it describes was bad (protocol.md "Invalid Groups"). Then the group is
 * re-created for everyone (op 24 epoch 1, a new initial group).
 *
 * The budgets are token buckets (burst, then one token per interval),
 * kept as one timestamp (GCRA): per member for op 31s, per call for
 * re-creations.
 *
 * Pure functions over the caller's state and clock: no I/O, no allocation.
 * Threads: any (the caller's, the control thread in the gateway).
 */
#ifndef DV_DAVE_GUARD_H
#define DV_DAVE_GUARD_H

#include <stdint.h>

/* op 31s a member may send before its re-add is held back: a burst, then
 * one per interval. */
#define DV_DAVE_FLAG_BURST 2
#define DV_DAVE_FLAG_EVERY_MS 15000
/* Re-creations of one call's group: a burst, then one per interval; past
 * it the flaggers are removed and re-added instead. */
#define DV_DAVE_RECREATE_BURST 2
#define DV_DAVE_RECREATE_EVERY_MS 30000
/* A member whose flag re-created the group counts toward another
 * re-creation only this long after (its own fault looks like the group's). */
#define DV_DAVE_MEMBER_RECREATE_MS 60000
/* The committer of a commit judged bad cannot win a round for this long
 * while another member can commit (protocol.md: the gateway "may remove the
 * user that produced the offending commit/welcome message from committing
 * members"); a round nobody else commits to lifts it. */
#define DV_DAVE_BAR_MS 60000
/* A round whose commits so far came only from barred members is withdrawn
 * this long after the first of them (bars lifted, proposed again), so a
 * member that never commits cannot stall the call behind the bar. */
#define DV_DAVE_BAR_GRACE_MS 2000

typedef struct {
  uint32_t burst;
  uint32_t every_ms;
} dv_dave_rate_t;

/* Zero-initialised: full. */
typedef struct {
  uint64_t tat_ms; /* when the bucket is full again */
} dv_dave_bucket_t;

/* Takes a token at now_ms: 1, or 0 when there is none (nothing changes). */
int dv_dave_bucket_take(dv_dave_bucket_t *b, uint64_t now_ms, const dv_dave_rate_t *r);
/* When the next take succeeds (<= now_ms: at once). */
uint64_t dv_dave_bucket_ready_at(const dv_dave_bucket_t *b, const dv_dave_rate_t *r);

/* One transition's roles and flags (op 31 naming it), as the call counts
 * them: the committer, the members that had to apply its commit (op 29)
 * and those it welcomed (op 30). */
typedef struct {
  uint32_t receivers, receivers_flagged;
  uint32_t welcomed, welcomed_flagged;
  int committer_flagged;
} dv_dave_tally_t;

typedef enum {
  DV_DAVE_VERDICT_NONE,     /* nobody flagged */
  DV_DAVE_VERDICT_READD,    /* remove and re-add the flaggers */
  DV_DAVE_VERDICT_RECREATE, /* re-create the group for everyone */
} dv_dave_verdict_t;

dv_dave_verdict_t dv_dave_guard_verdict(const dv_dave_tally_t *t);

#endif
