/*
 * sc_traffic: media counters summed per (transport, mode) label, kept
 * monotonic across members that come and go (the /metrics counters
 * litecord_voice_media_{packets,bytes}_total).
 *
 * A member's counters live in its member block (sc_member_stats_t) and
 * die with it; and a member may change mode (a new client selects
 * another). So the registry keeps, per voice state, the counter values at
 * the moment its current label began (`base`), and when the label ends
 * (the state ends, or its transport changes) it adds what the member
 * counted under that label (now - base) to a table of retired totals.
 * A reading is the retired totals plus every live member's (now - base)
 * under its current label: it only grows.
 *
 * Owns: nothing but the table (fixed size, embedded in its owner).
 * Threads: control thread (the registry's). Pure functions.
 */
#ifndef SC_TRAFFIC_H
#define SC_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#define SC_TRAFFIC_ROWS 16 /* labels kept apart; more share the last row */
#define SC_TRAFFIC_KIND_MAX 16
#define SC_TRAFFIC_MODE_MAX 48

typedef struct {
  uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
} sc_traffic_counts_t;

typedef struct {
  char kind[SC_TRAFFIC_KIND_MAX]; /* transport: "discord_udp"; "none" before one is chosen */
  char mode[SC_TRAFFIC_MODE_MAX]; /* encryption mode name; "none" */
  sc_traffic_counts_t c;
} sc_traffic_row_t;

typedef struct {
  sc_traffic_row_t rows[SC_TRAFFIC_ROWS];
  size_t n;
} sc_traffic_t;

/* Adds `now - base` to the row of (kind, mode) ("" counts as "none"),
 * creating the row; past SC_TRAFFIC_ROWS labels the last row takes the
 * rest and is relabelled "other". A counter below its base (cannot
 * happen with monotonic counters) adds nothing. */
void sc_traffic_add(sc_traffic_t *t, const char *kind, const char *mode,
                    const sc_traffic_counts_t *now, const sc_traffic_counts_t *base);

#endif
