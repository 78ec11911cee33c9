/*
 * dv_webrtc_codec: the call-wide video codec of Discord's voice gateway
 * (reference webrtc.md §1, discord-voice-protocol.md op 14). Pure
 * functions, no state: what one member's `codecs` list (op 1 or op 14)
 * says it can encode and decode, and the codec a call of such members
 * uses (dv_webrtc applies it: op 4, op 14, the transports' PT filters).
 *
 * The choice: among the call's video-capable members (a member whose
 * codecs name VP8 or H264), the codec the most of them can both encode and
 * decode (every one of them, when a common codec exists); on a tie H264,
 * then VP8 (Discord's own preference), unless every member that can do
 * both ranks VP8 first by `priority` (lower is preferred).
 *
 * Threads: any (pure). Memory: nothing allocated.
 */
#ifndef DV_WEBRTC_CODEC_H
#define DV_WEBRTC_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Video codecs in Discord's order of preference. */
enum { DV_CODEC_H264 = 0, DV_CODEC_VP8, DV_CODECS };

#define DV_CODEC_MAX_ENTRIES 32 /* entries of a codecs list looked at */

/* What a member's codecs list said about video. */
typedef struct {
  uint8_t encode;              /* bits 1 << DV_CODEC_*: it can send the codec */
  uint8_t decode;              /* bits: it can receive it */
  int32_t priority[DV_CODECS]; /* its `priority` (lower first); INT32_MAX: none given */
} dv_codec_caps_t;

/* "H264" or "VP8" (static); "H264" for anything else. */
const char *dv_codec_name(int codec);

/* Reads a `codecs` array (any JSON; at most DV_CODEC_MAX_ENTRIES entries
 * looked at): VP8 and H264 entries, `encode`/`decode` true unless false.
 * Returns 0, or -1 when codecs is not an array. */
int dv_codec_caps_read(json_t *codecs, dv_codec_caps_t *out);

/* 1 if the member can do some video codec either way. */
int dv_codec_caps_video(const dv_codec_caps_t *c);

/* The choice over a call's members, one at a time (no array: a call has
 * no fixed size). Start from {0}. */
typedef struct {
  uint32_t both_ways[DV_CODECS]; /* members that can encode and decode the codec */
  uint32_t both_codecs;          /* members that can do both codecs both ways */
  uint32_t vp8_first;            /* of those, the ones ranking VP8 before H264 */
} dv_codec_tally_t;

void dv_codec_tally_add(dv_codec_tally_t *t, const dv_codec_caps_t *member);
/* DV_CODEC_*, or -1 when no member can both encode and decode any. */
int dv_codec_tally_choose(const dv_codec_tally_t *t);

/* The same for an array of n members. */
int dv_codec_choose(const dv_codec_caps_t *members, size_t n);

#endif
