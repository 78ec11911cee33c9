/*
 * dv_limits: the voice gateway's per-connection limits and session
 * timings (from the command line), and the message-rate bucket.
 *
 * Rate limit: a token bucket per connection holding `rate_limit`
 * messages, refilled continuously at rate_limit per rate_window_ms; a
 * message that finds it empty closes the connection with 4021. So a
 * client may send a burst of rate_limit messages, and on average
 * rate_limit per window.
 *
 * Threads: control thread only. Pure functions; no I/O.
 */
#ifndef DV_LIMITS_H
#define DV_LIMITS_H

#include <stdint.h>

#include "dv_resume.h"
#include "dv_settings.h"

typedef struct {
  uint32_t max_message; /* bytes per message (text or binary); more: 4020 */
  uint32_t rate_limit;  /* messages per window; more: 4021 */
  uint32_t rate_window_ms;
  uint32_t heartbeat_ms;    /* told in Hello */
  uint32_t hb_timeout_ms;   /* no heartbeat for this long: 4009 */
  uint32_t resume_grace_ms; /* a session without socket for this long ends */
  uint32_t resume_buffer;   /* numbered messages kept per session */
  uint32_t resume_bytes;    /* bytes of them (DV_RESUME_BYTES); more: 4015 */
  uint32_t relay_bytes;     /* announcement bytes a member may relay per
                             * rate_window_ms (DV_RELAY_BYTES); more: 4021 */
} dv_limits_t;

/* What one member may make the server relay to each of its roommates per
 * rate window, in bytes of op 12/18/20 payload (docs/GATEWAY.md
 * "Budgets"): some 40 full-size op 12 announcements per window. */
#define DV_RELAY_BYTES (16u * 1024u)

/* From the configuration; --gw-heartbeat-timeout-ms 0 means
 * 2 x heartbeat interval + 5 s. */
void dv_limits_from_config(const dv_settings_t *cfg, dv_limits_t *out);

typedef struct {
  int started;
  uint64_t tokens; /* in message x window-ms units */
  uint64_t last_ms;
} dv_rate_t;

/* Takes one message out of the bucket at time now_ms. Returns 0, or -1 if
 * the bucket was empty (the message is over the limit). */
int dv_rate_take(dv_rate_t *r, uint32_t limit, uint32_t window_ms, uint64_t now_ms);
/* The same for n units at once (a byte budget: n bytes). */
int dv_rate_take_n(dv_rate_t *r, uint32_t limit, uint32_t window_ms, uint64_t now_ms, uint32_t n);

#endif
