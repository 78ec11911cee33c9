#include "sc_traffic.h"

#include <stdio.h>
#include <string.h>

static uint64_t delta(uint64_t now, uint64_t base) {
  return now > base ? now - base : 0;
}

static sc_traffic_row_t *row_for(sc_traffic_t *t, const char *kind, const char *mode) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->rows[i].kind, kind) == 0 && strcmp(t->rows[i].mode, mode) == 0)
      return &t->rows[i];
  if (t->n == SC_TRAFFIC_ROWS) {
    sc_traffic_row_t *last = &t->rows[SC_TRAFFIC_ROWS - 1];
    snprintf(last->kind, sizeof last->kind, "other");
    snprintf(last->mode, sizeof last->mode, "other");
    return last;
  }
  sc_traffic_row_t *r = &t->rows[t->n++];
  memset(r, 0, sizeof *r);
  snprintf(r->kind, sizeof r->kind, "%s", kind);
  snprintf(r->mode, sizeof r->mode, "%s", mode);
  return r;
}

void sc_traffic_add(sc_traffic_t *t, const char *kind, const char *mode,
                    const sc_traffic_counts_t *now, const sc_traffic_counts_t *base) {
  sc_traffic_counts_t d = {
      delta(now->rx_packets, base->rx_packets), delta(now->rx_bytes, base->rx_bytes),
      delta(now->tx_packets, base->tx_packets), delta(now->tx_bytes, base->tx_bytes)};
  if (!d.rx_packets && !d.rx_bytes && !d.tx_packets && !d.tx_bytes) return;
  sc_traffic_row_t *r = row_for(t, kind && *kind ? kind : "none", mode && *mode ? mode : "none");
  r->c.rx_packets += d.rx_packets;
  r->c.rx_bytes += d.rx_bytes;
  r->c.tx_packets += d.tx_packets;
  r->c.tx_bytes += d.tx_bytes;
}
