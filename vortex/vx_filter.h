/*
 * vx_filter: which sources one receive transport forwards. mediasoup's
 * consumers are per source and may be paused; the Vortex receive
 * transport is one media-plane leg carrying every source (skip_source:
 * its own user), and this set is its sc_rtc receive policy
 * (sc_rtc_params_t.declines): a packet whose source SSRC is not consumed,
 * or whose consumer is paused, is declined on the worker.
 *
 * A fixed open-addressing set of source SSRCs with an on/off word each,
 * written by the control thread and read by the worker, every word an
 * atomic: no lock and no allocation after vx_filter_new. Stopped
 * consumers leave their SSRC in place (off); when half the slots are
 * used the live entries are copied into the second table and the worker
 * is switched to it. A worker reading a table that is being refilled at
 * that moment may decide one packet wrongly; memory is never at stake.
 *
 * Threads: vx_filter_set on the control thread; vx_filter_declines on
 * the worker. Memory: reference-counted (the session and the receive
 * transport's sc_rtc each hold one); the last vx_filter_put frees it.
 */
#ifndef VX_FILTER_H
#define VX_FILTER_H

#include <stdint.h>

#include "sc_media.h"

#define VX_FILTER_SLOTS 512
#define VX_FILTER_MAX (VX_FILTER_SLOTS / 4) /* sources forwarded at once */

typedef struct vx_filter vx_filter_t;

/* A new empty set with one reference, or NULL. */
vx_filter_t *vx_filter_new(void);
void vx_filter_hold(vx_filter_t *f);
void vx_filter_put(vx_filter_t *f);

/* Forward (on = 1) or stop forwarding ssrc (nonzero). 0, or -ENOSPC when
 * VX_FILTER_MAX sources are on already. Control thread. */
int vx_filter_set(vx_filter_t *f, uint32_t ssrc, int on);

/* sc_rtc's policy hooks (policy = the vx_filter_t). */
int vx_filter_declines(void *policy, const sc_media_pkt_t *pkt);
void vx_filter_release(void *policy);

#endif
