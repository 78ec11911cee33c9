/*
 * dv_webrtc: see dv_webrtc.h. Reads op 1's webrtc offer, holds the plug
 * for the WebRTC transport and writes op 4's answer.
 */
#include "dv_webrtc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <strings.h>

#include "dv_crypto.h"
#include "dv_settings.h"
#include "dv_webrtc_call.h"
#include "sc_dtls.h"
#include "sc_media.h"
#include "sc_rtc.h"
#include "sc_token.h"

#define DV_WEBRTC_MAX_CODECS 32 /* entries of `codecs` looked at */

/* `sdp` if it is a string, else `data` (older clients send both, newer
 * ones only data). */
static json_t *fragment_field(json_t *d) {
  json_t *sdp = json_object_get(d, "sdp");
  return json_is_string(sdp) ? sdp : json_object_get(d, "data");
}

/* The Opus entry's payload_type in `codecs`: 0 and *pt, 1 when there is
 * no codecs list at all, or -1 with why. */
static int codecs_opus_pt(json_t *d, int *pt, char *why, size_t why_len) {
  json_t *codecs = json_object_get(d, "codecs");
  if (!codecs || json_is_null(codecs)) return 1;
  if (!json_is_array(codecs) || json_array_size(codecs) > DV_WEBRTC_MAX_CODECS) {
    snprintf(why, why_len, "webrtc codecs: not an array of at most %d", DV_WEBRTC_MAX_CODECS);
    return -1;
  }
  size_t i;
  json_t *c;
  json_array_foreach(codecs, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!json_is_object(c) || !name || strcasecmp(name, "opus") != 0) continue;
    json_t *p = json_object_get(c, "payload_type");
    json_int_t v = json_is_integer(p) ? json_integer_value(p) : -1;
    if (v < DV_WEBRTC_PT_MIN || v > DV_WEBRTC_PT_MAX) {
      snprintf(why, why_len, "webrtc codecs: opus payload_type must be %d..%d", DV_WEBRTC_PT_MIN,
               DV_WEBRTC_PT_MAX);
      return -1;
    }
    *pt = (int)v;
    return 0;
  }
  snprintf(why, why_len, "webrtc codecs: no opus entry");
  return -1;
}

/* The Opus PT: codecs' (cross-checked with the fragment), else the
 * fragment's own. 0, or -1 with why (a close reason: at most 63 bytes
 * reach the client). */
static int pick_opus_pt(json_t *d, const sc_sdp_fragment_t *f, int *out, char *why,
                        size_t why_len) {
  int from_sdp = sc_sdp_opus_pt(f), pt = -1;
  int rc = codecs_opus_pt(d, &pt, why, why_len);
  if (rc < 0) return -1;
  if (rc == 1) {
    if (from_sdp < DV_WEBRTC_PT_MIN || from_sdp > DV_WEBRTC_PT_MAX) {
      snprintf(why, why_len, "webrtc: no codecs and no opus/48000/2 rtpmap of PT %d..%d",
               DV_WEBRTC_PT_MIN, DV_WEBRTC_PT_MAX);
      return -1;
    }
    *out = from_sdp;
    return 0;
  }
  /* The fragment must not map the PT to another codec, nor put Opus on
   * another PT. */
  const sc_sdp_rtpmap_t *m = sc_sdp_find_rtpmap(f, pt);
  int is_opus = m && strcasecmp(m->codec, "opus") == 0 && m->clock == 48000 && m->channels == 2;
  if (m && !is_opus) {
    snprintf(why, why_len, "webrtc codecs: opus PT %d is %s in the sdp", pt, m->codec);
    return -1;
  }
  if (!m && from_sdp >= 0) {
    snprintf(why, why_len, "webrtc codecs: opus PT %d, the sdp says %d", pt, from_sdp);
    return -1;
  }
  *out = pt;
  return 0;
}

/* A video codec's payload_type and rtx_payload_type in `codecs` (VP8,
 * H264) into out[i] and out[i + 1]; an entry out of range, or whose PT
 * the fragment maps to another codec, is left out (0): the member then
 * neither sends nor gets that codec, and its audio is unaffected. */
static void codecs_video_pts(json_t *d, const sc_sdp_fragment_t *f, uint8_t *out) {
  static const struct {
    const char *name;
    int index;
  } known[] = {{"VP8", SC_RTC_VP8}, {"H264", SC_RTC_H264}};
  json_t *codecs = json_object_get(d, "codecs");
  size_t i;
  json_t *c;
  if (!json_is_array(codecs)) return;
  json_array_foreach(codecs, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    for (size_t k = 0; name && k < sizeof known / sizeof *known; k++) {
      if (strcasecmp(name, known[k].name) != 0) continue;
      json_t *pt = json_object_get(c, "payload_type"),
             *rtx = json_object_get(c, "rtx_payload_type");
      json_int_t v = json_is_integer(pt) ? json_integer_value(pt) : 0;
      const sc_sdp_rtpmap_t *m = sc_sdp_find_rtpmap(f, (int)v);
      if (v < DV_WEBRTC_PT_MIN || v > DV_WEBRTC_PT_MAX || (m && strcasecmp(m->codec, name) != 0))
        continue;
      out[known[k].index] = (uint8_t)v;
      v = json_is_integer(rtx) ? json_integer_value(rtx) : 0;
      if (v >= DV_WEBRTC_PT_MIN && v <= DV_WEBRTC_PT_MAX) out[known[k].index + 1] = (uint8_t)v;
    }
  }
}

/* Bits 1 << DV_CODEC_* of the codecs that got a usable PT. */
static uint8_t codecs_with_pt(const uint8_t *video_pt) {
  return (uint8_t)((video_pt[SC_RTC_H264] ? 1u << DV_CODEC_H264 : 0) |
                   (video_pt[SC_RTC_VP8] ? 1u << DV_CODEC_VP8 : 0));
}

/* What codecs says the member can encode and decode (dv_webrtc_codec),
 * limited to the codecs it gave a usable PT. */
static void video_caps(json_t *d, const uint8_t *video_pt, dv_codec_caps_t *caps) {
  dv_codec_caps_read(json_object_get(d, "codecs"), caps);
  uint8_t with_pt = codecs_with_pt(video_pt);
  caps->encode &= with_pt;
  caps->decode &= with_pt;
}

int dv_webrtc_read_offer(json_t *d, dv_webrtc_offer_t *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  json_t *text = fragment_field(d);
  if (!json_is_string(text)) {
    snprintf(why, why_len, "webrtc: sdp (or data) must be SDP text");
    return -1;
  }
  int rc = sc_sdp_parse_fragment(json_string_value(text), json_string_length(text), &out->sdp);
  if (rc < 0) {
    if (out->sdp.bad_line)
      snprintf(why, why_len, "webrtc sdp: %s (line %u)", sc_sdp_err_name(rc), out->sdp.bad_line);
    else
      snprintf(why, why_len, "webrtc sdp: %s", sc_sdp_err_name(rc));
    return -1;
  }
  if (pick_opus_pt(d, &out->sdp, &out->opus_pt, why, why_len) < 0) return -1;
  out->audio_level_id = sc_sdp_audio_level_id(&out->sdp);
  codecs_video_pts(d, &out->sdp, out->video_pt);
  video_caps(d, out->video_pt, &out->caps);
  int own = dv_codec_choose(&out->caps, 1);
  out->video_codec = dv_codec_name(own < 0 ? DV_CODEC_H264 : own);
  return 0;
}

/* The member's WebRTC transport for the offer: the peer's ICE ufrag, its
 * fingerprint if the fragment named one, its Opus PT and audio-level id. */
static sc_rtc_t *new_transport(sc_app_t *app, dv_session_t *s, const dv_webrtc_offer_t *offer,
                               int codec) {
  sc_rtc_params_t p;
  memset(&p, 0, sizeof p);
  snprintf(p.remote_ufrag, sizeof p.remote_ufrag, "%s", offer->sdp.ufrag);
  p.has_fingerprint = offer->sdp.has_fingerprint;
  memcpy(p.fingerprint, offer->sdp.fingerprint, sizeof p.fingerprint);
  p.opus_pt = (uint8_t)offer->opus_pt;
  p.audio_level_id = (uint8_t)(offer->audio_level_id <= 14 ? offer->audio_level_id : 0);
  memcpy(p.video_pt, offer->video_pt, sizeof p.video_pt);
  dv_webrtc_call_filter(s, codec, &p.video_seal_off, &p.video_open_off);
  p.dtls = app->dtls;
  /* DAVE frames only while the member's client is in the E2EE group,
   * exactly as for a Discord UDP member (dv_crypto's gate). */
  p.e2ee = 1; /* DAVE frames: as its gate says */
  p.declines = dv_e2ee_gate_declines;
  p.release = dv_e2ee_gate_release;
  p.policy = s->gate;
  dv_e2ee_gate_hold(s->gate);
  sc_rtc_t *r = sc_rtc_new(&p);
  if (!r) dv_e2ee_gate_put(s->gate);
  return r;
}

static int send_answer(dv_session_t *s, const sc_sdp_answer_t *a, int dave_version,
                       const char *video_codec);

/* The WebRTC transport: the member's ICE/DTLS/SRTP state goes to the media
 * plane as its cipher (posted before op 4 goes out, so it is in force
 * before the browser's first check), then op 4 with our credentials. */
int dv_webrtc_select(dv_session_t *s, const dv_webrtc_offer_t *offer, int dave_version) {
  sc_app_t *app = s->tab->app;
  if (!app->media || !app->dtls) return -ENOTSUP;
  s->codecs = offer->caps;
  s->webrtc = 1;
  s->rtc_video = codecs_with_pt(offer->video_pt);
  int codec = dv_webrtc_call_join(s); /* the call's, with this member in it */
  sc_rtc_t *r = new_transport(app, s, offer, codec);
  if (!r) return -ENOMEM;
  char ufrag[SC_ICE_UFRAG_LEN + 1], pwd[SC_ICE_PWD_LEN + 1];
  snprintf(ufrag, sizeof ufrag, "%s", sc_rtc_local_ufrag(r)); /* r is the worker's after the post */
  snprintf(pwd, sizeof pwd, "%s", sc_rtc_local_pwd(r));
  if (sc_media_post_cipher(app->media, s->vs->stats, &sc_rtc_cipher_ops, r) < 0) return -ENOMEM;
  s->selected = 1;
  sc_registry_set_transport(app->registry, s->vs, DV_WEBRTC_TRANSPORT_KIND, "dtls_srtp");
  sc_sdp_answer_t a = {
      .ip = dv_settings(app)->ready_ip,
      .port = sc_media_port_for_room(app->media, s->vs->channel->room_id),
      .ufrag = ufrag,
      .pwd = pwd,
  };
  sc_dtls_ctx_fingerprint_bytes(app->dtls, a.fingerprint);
  int rc = send_answer(s, &a, dave_version, dv_codec_name(codec));
  sodium_memzero(pwd, sizeof pwd);
  return rc;
}

int dv_webrtc_send_answer(dv_session_t *s, const sc_sdp_answer_t *a, int dave_version) {
  return send_answer(s, a, dave_version, "H264");
}

static int send_answer(dv_session_t *s, const sc_sdp_answer_t *a, int dave_version,
                       const char *video_codec) {
  char sdp[SC_SDP_ANSWER_MAX];
  if (sc_sdp_write_discord_answer(a, sdp, sizeof sdp) < 0) return -EINVAL;
  if (!s->media_session_id[0])
    sc_token_random_hex(s->media_session_id, sizeof s->media_session_id, 16);
  dv_session_send(s, DV_OP_SESSION_DESCRIPTION,
                  json_pack("{s:s, s:s, s:s, s:s, s:i}", "audio_codec", "opus", "video_codec",
                            video_codec, "media_session_id", s->media_session_id, "sdp", sdp,
                            "dave_protocol_version", dave_version));
  return 0;
}
