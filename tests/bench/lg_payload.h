/*
 * lg_payload: the bytes a simulated speaker sends inside each packet, and
 * their verification by the receiver. Pure functions over caller buffers.
 *
 * Layout (little-endian, len >= LG_PAYLOAD_MIN): "LGv1", u32 sender client
 * index, u32 sequence (per sender, from 0), u64 send time (CLOCK_MONOTONIC
 * ns), then a pattern that depends on index, sequence and position, so a
 * payload delivered to the wrong receiver, truncated or mixed up with
 * another packet fails the check.
 *
 * Owns: nothing. Threads: any. Memory: nothing is allocated.
 */
#ifndef LG_PAYLOAD_H
#define LG_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define LG_PAYLOAD_MIN 24

typedef struct {
  uint32_t sender;
  uint32_t seq;
  int64_t sent_ns;
} lg_payload_t;

/* Writes len bytes (len >= LG_PAYLOAD_MIN). */
void lg_payload_fill(uint8_t *buf, size_t len, const lg_payload_t *p);

/* Checks magic, length and pattern; fills *p. Returns 0 or -EBADMSG. */
int lg_payload_check(const uint8_t *buf, size_t len, size_t expected_len, lg_payload_t *p);

#endif
