/*
 * dv_video: a member's video streams at the gateway layer, beside
 * dv_gateway (dv_conn <- dv_session <- dv_gateway/dv_video). It owns:
 *
 *  - the streams asked for in Identify: server-chosen SSRCs (stream and
 *    RTX) claimed as the member's aliases, listed in Ready;
 *  - op 12 with video_ssrc: the member's video SSRCs (and RTX) become its
 *    aliases on the media path; the relay to the others is rebuilt from the
 *    fields we know (docs/GATEWAY.md "op 12"), SSRCs that are not the
 *    member's own relayed as 0 and counted (log rate-limited).
 *
 * Threads: control (lws) thread only.
 * Memory: returns new JSON references (the caller owns them); op 12's
 * relay is handed to dv_session_announce.
 */
#ifndef DV_VIDEO_H
#define DV_VIDEO_H

#include <jansson.h>

#include "dv_session.h"

/* Ready's "streams" for Identify's `asked` (a JSON array): a new array of
 * at most DV_MAX_STREAMS objects (an SSRC is 0 when none could be
 * claimed). */
json_t *dv_video_assign_streams(dv_session_t *s, json_t *asked);
/* Op 12 payload d of session s: its SSRCs claimed, relayed to the others.
 * Pre-2023 libraries send op 12 without video_ssrc as "client connect":
 * ignored (0). Returns dv_session_announce's answer: < 0 when over the
 * relay budget (the caller closes the socket with 4021). */
int dv_video_announce(dv_session_t *s, json_t *d);

#endif
