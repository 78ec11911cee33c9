/*
 * dv_video: see dv_video.h. Identify's streams (server-chosen SSRCs) and
 * op 12 (the member's video SSRCs become its aliases, the rest relayed).
 */
#include "dv_video.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>

#include "sc_log.h"
#include "sc_token.h"

#define DV_MAX_STREAMS 4 /* video streams in Identify and op 12 */
#define DV_MAX_STRING 16 /* bytes of a string relayed in op 12 (type, rid) */

/* A fresh SSRC claimed for the member (avoiding every SSRC in use), or 0
 * when it has SC_MEDIA_MAX_ALIASES already. */
static uint32_t claim_random(dv_session_t *s) {
  for (int tries = 0; tries < 16; tries++) {
    uint32_t ssrc = sc_token_random_u32();
    int rc = dv_session_alias(s, ssrc);
    if (rc == 0) return ssrc;
    if (rc != -EEXIST && rc != -EINVAL) break;
  }
  return 0;
}

/* Video streams asked for in Identify get server-chosen SSRCs (stream and
 * RTX), claimed for the member, registered with the media plane, listed
 * in Ready. */
json_t *dv_video_assign_streams(dv_session_t *s, json_t *asked) {
  json_t *out = json_array();
  size_t i;
  json_t *st;
  json_array_foreach(asked, i, st) {
    if (i == DV_MAX_STREAMS || !json_is_object(st)) break;
    uint32_t ssrc = claim_random(s), rtx = claim_random(s);
    json_t *o = json_pack("{s:s, s:I, s:I, s:b}", "type", "video", "ssrc", (json_int_t)ssrc,
                          "rtx_ssrc", (json_int_t)rtx, "active", 0);
    json_t *rid = json_object_get(st, "rid"), *q = json_object_get(st, "quality");
    json_t *type = json_object_get(st, "type");
    if (json_is_string(type)) json_object_set(o, "type", type);
    if (json_is_string(rid)) json_object_set(o, "rid", rid);
    if (json_is_integer(q)) json_object_set(o, "quality", q);
    json_array_append_new(out, o);
  }
  return out;
}

static uint32_t ssrc_of(json_t *v) {
  json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
  return n > 0 && n <= (json_int_t)UINT32_MAX ? (uint32_t)n : 0;
}

/* Copies from[key] to `to` if it is a string of at most DV_MAX_STRING
 * bytes, an integer or a boolean, as `types` allows. */
enum { COPY_STR = 1, COPY_INT = 2, COPY_BOOL = 4 };
static void copy_field(json_t *to, json_t *from, const char *key, int types) {
  json_t *v = json_object_get(from, key);
  if (((types & COPY_STR) && json_is_string(v) && json_string_length(v) <= DV_MAX_STRING) ||
      ((types & COPY_INT) && json_is_integer(v)) || ((types & COPY_BOOL) && json_is_boolean(v)))
    json_object_set(to, key, v);
}

/* An SSRC field of op 12, if present: kept when it is (or now becomes) the
 * member's own alias, else relayed as 0 ("no stream") and counted. */
static uint32_t video_ssrc_field(dv_session_t *s, json_t *to, json_t *from, const char *key,
                                 int *refused) {
  json_t *v = json_object_get(from, key);
  if (!v) return 0;
  uint32_t ssrc = ssrc_of(v);
  if (ssrc && dv_session_alias(s, ssrc) < 0) {
    (*refused)++;
    ssrc = 0;
  }
  json_object_set_new(to, key, json_integer(ssrc));
  return ssrc;
}

static json_t *video_stream(dv_session_t *s, json_t *st, int *refused) {
  json_t *o = json_object();
  copy_field(o, st, "type", COPY_STR);
  copy_field(o, st, "rid", COPY_STR);
  uint32_t ssrc = video_ssrc_field(s, o, st, "ssrc", refused);
  video_ssrc_field(s, o, st, "rtx_ssrc", refused);
  json_t *active = json_object_get(st, "active");
  if (json_is_boolean(active))
    json_object_set_new(o, "active", json_boolean(ssrc && json_is_true(active)));
  copy_field(o, st, "quality", COPY_INT);
  copy_field(o, st, "max_bitrate", COPY_INT);
  copy_field(o, st, "max_framerate", COPY_INT);
  json_t *res = json_object_get(st, "max_resolution");
  if (json_is_object(res)) {
    json_t *r = json_object();
    copy_field(r, res, "type", COPY_STR);
    copy_field(r, res, "width", COPY_INT);
    copy_field(r, res, "height", COPY_INT);
    json_object_set_new(o, "max_resolution", r);
  }
  return o;
}

/* SSRCs refused in op 12: counted, logged at most every 10 s. */
static void count_refused(dv_session_t *s, int refused) {
  dv_session_stats_t *st = &s->tab->stats;
  st->ssrc_refused += (uint64_t)refused;
  int64_t now = (int64_t)dv_timers_now(s->tab->timers);
  if (!sc_log_limit(&st->ssrc_refused_log, now, 10000)) return;
  sc_log_warn_ids("gateway", SC_VSTATE_IDS(s->vs),
                  "announced %d SSRC(s) that are not its own: relayed as 0 (%llu so far)", refused,
                  (unsigned long long)st->ssrc_refused);
}

/* Op 12: rebuilt with at most DV_MAX_STREAMS streams (see dv_video.h). */
int dv_video_announce(dv_session_t *s, json_t *d) {
  if (!json_is_object(d) || !json_object_get(d, "video_ssrc")) return 0;
  int refused = 0;
  json_t *relay = json_pack("{s:I}", "audio_ssrc", (json_int_t)s->vs->ssrc);
  video_ssrc_field(s, relay, d, "video_ssrc", &refused);
  video_ssrc_field(s, relay, d, "rtx_ssrc", &refused);
  json_t *streams = json_object_get(d, "streams");
  if (json_is_array(streams)) {
    json_t *out = json_array();
    size_t i;
    json_t *st;
    json_array_foreach(streams, i, st) {
      if (i == DV_MAX_STREAMS) break;
      if (json_is_object(st)) json_array_append_new(out, video_stream(s, st, &refused));
    }
    json_object_set_new(relay, "streams", out);
  }
  if (refused) count_refused(s, refused);
  return dv_session_announce(s, DV_ANNOUNCE_VIDEO, DV_OP_VIDEO, relay);
}
