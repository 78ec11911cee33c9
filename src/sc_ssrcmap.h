/*
 * sc_ssrcmap: a receiver's fixed table of source SSRC -> the SSRC that
 * receiver sees for it (a mediasoup-style consumer SSRC: every consumer
 * its own, so a browser that keeps a closed consumer's SSRC in its SDP
 * never sees it reused). sc_rtc rewrites the header of each copy it seals
 * through it.
 *
 * Bound: SC_SSRCMAP_MAX pairs (8 bytes each, in one fixed struct; nothing
 * here allocates). A set beyond it is refused (-ENOSPC) and
 * the source keeps its own SSRC on that receiver; the signalling side
 * keeps its consumers within the bound, so this is a guard, not a path.
 * Threads: the owner's (sc_rtc's: control before the hand-over, then its
 * worker). Memory: the owner's (sc_rtc allocates a transport's table at
 * its first pair, a command, and frees it with the transport).
 */
#ifndef SC_SSRCMAP_H
#define SC_SSRCMAP_H

#include <stdint.h>

/* Within sc_rtc's outbound SRTP budget (64, one kept for our RTCP
 * sender SSRC and room for unmapped sources). */
#define SC_SSRCMAP_MAX 48

typedef struct {
  uint32_t n;
  uint32_t from[SC_SSRCMAP_MAX]; /* source SSRCs, no duplicates, none 0 */
  uint32_t to[SC_SSRCMAP_MAX];
} sc_ssrcmap_t;

/* source -> out (both non-zero). Replaces source's previous pair (its
 * old out SSRC in *old_out, else 0). 0, -EINVAL, -ENOSPC (full). */
int sc_ssrcmap_set(sc_ssrcmap_t *m, uint32_t source, uint32_t out, uint32_t *old_out);
/* Removes source's pair: its out SSRC, or 0 if it had none. */
uint32_t sc_ssrcmap_del(sc_ssrcmap_t *m, uint32_t source);
/* What a receiver sees for source: its out SSRC, or source itself. */
static inline uint32_t sc_ssrcmap_out(const sc_ssrcmap_t *m, uint32_t source) {
  for (uint32_t i = 0; i < m->n; i++)
    if (m->from[i] == source) return m->to[i];
  return source;
}

#endif
