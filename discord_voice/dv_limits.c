#include "dv_limits.h"

#define HB_TIMEOUT_SLACK_MS 5000u

void dv_limits_from_config(const dv_settings_t *cfg, dv_limits_t *out) {
  out->max_message = cfg->gw_max_message;
  out->rate_limit = cfg->gw_rate_limit;
  out->rate_window_ms = cfg->gw_rate_window_ms;
  out->heartbeat_ms = cfg->gw_heartbeat_ms;
  uint64_t hb = cfg->gw_heartbeat_timeout_ms ? cfg->gw_heartbeat_timeout_ms
                                             : 2ull * cfg->gw_heartbeat_ms + HB_TIMEOUT_SLACK_MS;
  out->hb_timeout_ms = hb > UINT32_MAX ? UINT32_MAX : (uint32_t)hb;
  out->resume_grace_ms = cfg->gw_resume_grace_ms;
  out->resume_buffer = cfg->gw_resume_buffer;
  out->resume_bytes = DV_RESUME_BYTES;
  out->relay_bytes = DV_RELAY_BYTES;
}

int dv_rate_take(dv_rate_t *r, uint32_t limit, uint32_t window_ms, uint64_t now_ms) {
  return dv_rate_take_n(r, limit, window_ms, now_ms, 1);
}

int dv_rate_take_n(dv_rate_t *r, uint32_t limit, uint32_t window_ms, uint64_t now_ms, uint32_t n) {
  uint64_t cap = (uint64_t)limit * window_ms, cost = (uint64_t)n * window_ms;
  if (!r->started) {
    r->started = 1;
    r->tokens = cap;
  } else if (now_ms > r->last_ms) {
    /* Past a whole window the bucket is full anyway: no overflow. */
    uint64_t dt = now_ms - r->last_ms;
    r->tokens = dt >= window_ms ? cap : r->tokens + dt * limit;
    if (r->tokens > cap) r->tokens = cap;
  }
  r->last_ms = now_ms;
  if (r->tokens < cost) return -1;
  r->tokens -= cost;
  return 0;
}
