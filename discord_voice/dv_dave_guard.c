/*
 * dv_dave_guard: see dv_dave_guard.h.
 */
#include "dv_dave_guard.h"

/* The bucket holds `burst` tokens when tat <= now; each take pushes tat
 * one interval on, and a take is refused once tat would run more than
 * burst intervals ahead of now. */
int dv_dave_bucket_take(dv_dave_bucket_t *b, uint64_t now_ms, const dv_dave_rate_t *r) {
  uint64_t tat = b->tat_ms > now_ms ? b->tat_ms : now_ms;
  uint64_t slack = (uint64_t)(r->burst ? r->burst - 1 : 0) * r->every_ms;
  if (r->burst == 0 || tat - now_ms > slack) return 0;
  b->tat_ms = tat + r->every_ms;
  return 1;
}

uint64_t dv_dave_bucket_ready_at(const dv_dave_bucket_t *b, const dv_dave_rate_t *r) {
  uint64_t slack = (uint64_t)(r->burst ? r->burst - 1 : 0) * r->every_ms;
  return b->tat_ms > slack ? b->tat_ms - slack : 0;
}

dv_dave_verdict_t dv_dave_guard_verdict(const dv_dave_tally_t *t) {
  if (!t->receivers_flagged && !t->welcomed_flagged && !t->committer_flagged)
    return DV_DAVE_VERDICT_NONE;
  /* Nobody but the committer could apply the commit: it was bad. */
  if (t->receivers && t->receivers_flagged == t->receivers) return DV_DAVE_VERDICT_RECREATE;
  /* Nobody it welcomed could join: its welcome (or its group) was bad. */
  if (t->welcomed && t->welcomed_flagged == t->welcomed) return DV_DAVE_VERDICT_RECREATE;
  return DV_DAVE_VERDICT_READD;
}
