/*
 * dv_webrtc_call: see dv_webrtc_call.h. The call's video codec chosen over
 * its members, op 14 when it changes, the transports' PT filters.
 */
#include "dv_webrtc_call.h"

#include <errno.h>
#include <string.h>

#include "sc_log.h"
#include "sc_media.h"
#include "sc_rtc_video.h"
#include "sc_token.h"

#define OP14_COST 160 /* bytes an op 14 keeps per member until acknowledged (about) */

/* The gateway session attached to vs, or NULL (another front end's). */
static dv_session_t *member_of(const sc_vstate_t *vs) {
  return vs->ops == &dv_session_attach_ops ? vs->conn : NULL;
}

typedef struct {
  dv_codec_tally_t tally;
  int told;   /* 1 + the codec some member was told; 0: none */
  uint32_t n; /* members told a codec */
} survey_t;

static void survey_member(sc_vstate_t *vs, void *arg) {
  survey_t *sv = arg;
  dv_session_t *m = member_of(vs);
  if (!m || !m->video_told) return;
  dv_codec_tally_add(&sv->tally, &m->codecs);
  if (!sv->told) sv->told = m->video_told;
  sv->n++;
}

/* The members other than s that were told a codec. */
static survey_t survey_others(dv_session_t *s) {
  survey_t sv;
  memset(&sv, 0, sizeof sv);
  sc_registry_each_peer(s->vs->channel, s->vs, survey_member, &sv);
  return sv;
}

/* The tally's codec, else what the call has, else H264. */
static int choice(const survey_t *sv) {
  int c = dv_codec_tally_choose(&sv->tally);
  if (c >= 0) return c;
  return sv->told ? sv->told - 1 : DV_CODEC_H264;
}

static int rtc_index(int codec) {
  return codec == DV_CODEC_VP8 ? SC_RTC_VP8 : SC_RTC_H264;
}

void dv_webrtc_call_filter(const dv_session_t *s, int codec, uint8_t *seal_off, uint8_t *open_off) {
  const uint8_t all = (1u << SC_RTC_VIDEO_PTS) - 1;
  uint8_t seal_on = 0, open = 0;
  if (s->codecs.decode & (1u << codec)) seal_on = (uint8_t)(3u << rtc_index(codec)); /* and RTX */
  for (int k = 0; k < DV_CODECS; k++)
    if (!(s->codecs.encode & (1u << k))) open |= (uint8_t)(3u << rtc_index(k));
  *seal_off = (uint8_t)(all & ~seal_on);
  *open_off = open;
}

static void post_filter(dv_session_t *m, int codec) {
  sc_media_t *media = m->tab->app->media;
  if (!m->webrtc || !media) return;
  uint8_t seal_off, open_off;
  dv_webrtc_call_filter(m, codec, &seal_off, &open_off);
  if (sc_media_post_video_filter(media, m->vs->stats, seal_off, open_off) < 0)
    sc_log_warn_ids("gateway", SC_VSTATE_IDS(m->vs), "video filter not posted: out of memory");
}

static void send_update(dv_session_t *m, int codec) {
  m->video_told = (uint8_t)(codec + 1);
  dv_session_send(m, DV_OP_SESSION_UPDATE,
                  json_pack("{s:s, s:s, s:s}", "audio_codec", "opus", "video_codec",
                            dv_codec_name(codec), "media_session_id", m->media_session_id));
  post_filter(m, codec);
}

typedef struct {
  int codec;
  uint32_t told;
} retell_t;

static void retell_member(sc_vstate_t *vs, void *arg) {
  retell_t *r = arg;
  dv_session_t *m = member_of(vs);
  if (!m || !m->video_told || m->video_told == r->codec + 1) return;
  send_update(m, r->codec);
  r->told++;
}

/* Every member of s's call (s too, unless skip_self) told another codec
 * gets op 14 with this one. */
static void retell(dv_session_t *s, int codec, int skip_self) {
  retell_t r = {codec, 0};
  sc_registry_each_peer(s->vs->channel, s->vs, retell_member, &r);
  if (!skip_self && s->video_told && s->video_told != codec + 1) {
    send_update(s, codec);
    r.told++;
  }
  if (!r.told) return;
  dv_session_stats_t *st = &s->tab->stats;
  st->codec_switches++;
  if (sc_log_limit(&st->codec_log, (int64_t)dv_timers_now(s->tab->timers), 10000))
    sc_log_info_ids("gateway", SC_VSTATE_IDS(s->vs),
                    "call video codec now %s: op 14 to %u member(s) (%llu switches so far)",
                    dv_codec_name(codec), r.told, (unsigned long long)st->codec_switches);
}

int dv_webrtc_call_join(dv_session_t *s) {
  if (!s->media_session_id[0])
    sc_token_random_hex(s->media_session_id, sizeof s->media_session_id, 16);
  survey_t sv = survey_others(s);
  dv_codec_tally_add(&sv.tally, &s->codecs);
  int codec = choice(&sv);
  s->video_told = (uint8_t)(codec + 1);
  retell(s, codec, 1);
  return codec;
}

void dv_webrtc_call_leave(dv_session_t *s) {
  if (s->tab->stopping || !s->video_told || !s->vs->channel) return;
  survey_t sv = survey_others(s);
  if (!sv.n) return;
  retell(s, choice(&sv), 1);
}

/* The member's relay budget pays for the op 14s a change sends. */
static int charge(dv_session_t *s, uint32_t members) {
  dv_sessions_t *t = s->tab;
  uint64_t cost = (uint64_t)OP14_COST * members;
  return dv_rate_take_n(&s->relay, t->lim->relay_bytes, t->lim->rate_window_ms,
                        dv_timers_now(t->timers), cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost);
}

static void refused(dv_session_t *s, const char *why) {
  dv_session_stats_t *st = &s->tab->stats;
  st->codec_refused++;
  if (sc_log_limit(&st->codec_refused_log, (int64_t)dv_timers_now(s->tab->timers), 10000))
    sc_log_warn_ids("gateway", SC_VSTATE_IDS(s->vs), "op 14 codecs dropped: %s (%llu so far)", why,
                    (unsigned long long)st->codec_refused);
}

int dv_webrtc_call_update(dv_session_t *s, json_t *d) {
  json_t *codecs = json_object_get(d, "codecs");
  if (!codecs) return 0;
  dv_codec_caps_t caps;
  if (dv_codec_caps_read(codecs, &caps) < 0) {
    refused(s, "codecs is not an array");
    return -EINVAL;
  }
  if (s->webrtc) { /* its transport knows PTs of op 1's codecs only */
    caps.encode &= s->rtc_video;
    caps.decode &= s->rtc_video;
  }
  s->tab->stats.codec_updates++;
  if (!s->video_told) { /* counted at its Select Protocol */
    s->codecs = caps;
    return 0;
  }
  survey_t sv = survey_others(s);
  dv_codec_tally_add(&sv.tally, &caps);
  int codec = choice(&sv);
  if (codec + 1 != s->video_told && charge(s, sv.n + 1)) {
    s->tab->stats.relay_over_budget++;
    refused(s, "relay budget spent");
    return -ENOBUFS;
  }
  s->codecs = caps;
  if (codec + 1 == s->video_told)
    post_filter(s, codec); /* its own decode/encode flags may have changed */
  else
    retell(s, codec, 0);
  return 0;
}
