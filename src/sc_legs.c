/*
 * sc_legs: see sc_legs.h. A fixed block of slots per voice state, so a
 * leg's index key never moves while the registry's SSRC index points at
 * it.
 */
#include "sc_legs.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define LOADED(field) atomic_load_explicit(&(field), memory_order_relaxed)

sc_leg_t *sc_legs_slot(sc_legs_t **legs) {
  if (!*legs && !(*legs = calloc(1, sizeof **legs))) {
    errno = ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < SC_LEGS_MAX; i++)
    if (!(*legs)->slot[i].stats) return &(*legs)->slot[i];
  errno = ENOSPC;
  return NULL;
}

int sc_legs_start(sc_legs_t *legs, sc_leg_t *leg, sc_media_t *m, uint64_t room_id, uint32_t ssrc,
                  unsigned flags) {
  sc_member_stats_t *s = sc_member_stats_new();
  if (!s) return -ENOMEM;
  /* Flags first: the worker may see the member before another command. */
  sc_member_set_flags(s, flags);
  int rc = m ? sc_media_post_add(m, room_id, ssrc, s) : 0;
  if (rc < 0) {
    sc_member_stats_release(s);
    return rc;
  }
  leg->stats = s;
  leg->ssrc = ssrc;
  snprintf(leg->ssrc_key, sizeof leg->ssrc_key, "%u", ssrc);
  legs->n++;
  return 0;
}

sc_leg_t *sc_legs_find(sc_legs_t *legs, const sc_member_stats_t *stats) {
  if (!legs || !stats) return NULL;
  for (size_t i = 0; i < SC_LEGS_MAX; i++)
    if (legs->slot[i].stats == stats) return &legs->slot[i];
  return NULL;
}

static void add_member(const sc_member_stats_t *s, sc_traffic_counts_t *sum) {
  sum->rx_packets += LOADED(s->rx_packets);
  sum->rx_bytes += LOADED(s->rx_bytes);
  sum->tx_packets += LOADED(s->tx_packets);
  sum->tx_bytes += LOADED(s->tx_bytes);
}

void sc_legs_stop(sc_legs_t *legs, sc_leg_t *leg, sc_media_t *m) {
  if (!leg->stats) return;
  if (m) sc_media_remove(m, leg->stats); /* allocates nothing, cannot fail */
  /* SC_MEMBER_REMOVED stops its counters; a copy its worker is sealing
   * right now may still count after this read and is lost to the totals. */
  add_member(leg->stats, &legs->gone);
  sc_member_stats_release(leg->stats);
  leg->stats = NULL;
  leg->ssrc = 0;
  leg->ssrc_key[0] = '\0';
  legs->n--;
}

void sc_legs_set_flags(sc_legs_t *legs, unsigned flags) {
  for (size_t i = 0; legs && i < SC_LEGS_MAX; i++)
    if (legs->slot[i].stats) sc_member_set_flags(legs->slot[i].stats, flags);
}

void sc_legs_add_counts(const sc_legs_t *legs, sc_traffic_counts_t *sum) {
  if (!legs) return;
  sum->rx_packets += legs->gone.rx_packets;
  sum->rx_bytes += legs->gone.rx_bytes;
  sum->tx_packets += legs->gone.tx_packets;
  sum->tx_bytes += legs->gone.tx_bytes;
  for (size_t i = 0; i < SC_LEGS_MAX; i++)
    if (legs->slot[i].stats) add_member(legs->slot[i].stats, sum);
}

size_t sc_legs_count(const sc_legs_t *legs) {
  return legs ? legs->n : 0;
}

void sc_legs_free(sc_legs_t *legs) {
  free(legs);
}
