/*
 * dv_webrtc_codec: see dv_webrtc_codec.h. A codecs list's video
 * capabilities and the call-wide codec choice.
 */
#include "dv_webrtc_codec.h"

#include <strings.h>

static const char *const names[DV_CODECS] = {[DV_CODEC_H264] = "H264", [DV_CODEC_VP8] = "VP8"};

const char *dv_codec_name(int codec) {
  return codec >= 0 && codec < DV_CODECS ? names[codec] : names[DV_CODEC_H264];
}

static int codec_of(const char *name) {
  for (int k = 0; name && k < DV_CODECS; k++)
    if (strcasecmp(name, names[k]) == 0) return k;
  return -1;
}

int dv_codec_caps_read(json_t *codecs, dv_codec_caps_t *out) {
  *out = (dv_codec_caps_t){0, 0, {INT32_MAX, INT32_MAX}};
  if (!json_is_array(codecs)) return -1;
  size_t i;
  json_t *c;
  json_array_foreach(codecs, i, c) {
    if (i == DV_CODEC_MAX_ENTRIES) break;
    int k = codec_of(json_string_value(json_object_get(c, "name")));
    if (k < 0) continue;
    uint8_t bit = (uint8_t)(1u << k);
    if (!json_is_false(json_object_get(c, "encode"))) out->encode |= bit;
    if (!json_is_false(json_object_get(c, "decode"))) out->decode |= bit;
    json_t *p = json_object_get(c, "priority");
    if (json_is_integer(p) && json_integer_value(p) >= 0 && json_integer_value(p) < INT32_MAX)
      out->priority[k] = (int32_t)json_integer_value(p);
  }
  return 0;
}

int dv_codec_caps_video(const dv_codec_caps_t *c) {
  return (c->encode | c->decode) != 0;
}

static int both_ways(const dv_codec_caps_t *c, int k) {
  return (c->encode & c->decode & (1u << k)) != 0;
}

void dv_codec_tally_add(dv_codec_tally_t *t, const dv_codec_caps_t *m) {
  for (int k = 0; k < DV_CODECS; k++) t->both_ways[k] += (uint32_t)both_ways(m, k);
  if (!both_ways(m, DV_CODEC_H264) || !both_ways(m, DV_CODEC_VP8)) return;
  t->both_codecs++;
  /* A member without both priorities does not rank VP8 first. */
  t->vp8_first += m->priority[DV_CODEC_H264] != INT32_MAX &&
                  m->priority[DV_CODEC_VP8] < m->priority[DV_CODEC_H264];
}

int dv_codec_tally_choose(const dv_codec_tally_t *t) {
  uint32_t h264 = t->both_ways[DV_CODEC_H264], vp8 = t->both_ways[DV_CODEC_VP8];
  if (!h264 && !vp8) return -1;
  if (h264 != vp8) return h264 > vp8 ? DV_CODEC_H264 : DV_CODEC_VP8;
  /* Equal: common to the same members; their priorities decide if they agree. */
  return t->both_codecs && t->vp8_first == t->both_codecs ? DV_CODEC_VP8 : DV_CODEC_H264;
}

int dv_codec_choose(const dv_codec_caps_t *m, size_t n) {
  dv_codec_tally_t t = {0};
  for (size_t i = 0; i < n; i++) dv_codec_tally_add(&t, &m[i]);
  return dv_codec_tally_choose(&t);
}
