#include "dv_resume.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_CYCLE 65535u

int dv_resume_init(dv_resume_t *b, size_t cap) {
  memset(b, 0, sizeof *b);
  if (cap < 1 || cap > DV_RESUME_MAX_CAP) return -EINVAL;
  /* Slots are allocated as messages arrive: an idle session whose client
   * acknowledges what it got holds a handful, not the whole bound. */
  b->max = cap;
  return 0;
}

/* Doubles the ring (up to max), keeping the messages in order from 0. */
static int grow(dv_resume_t *b) {
  size_t cap = b->cap ? b->cap * 2 : 8;
  if (cap > b->max) cap = b->max;
  dv_resume_msg_t *ring = calloc(cap, sizeof *ring);
  if (!ring) return -ENOMEM;
  for (size_t i = 0; i < b->count; i++) ring[i] = b->ring[(b->head + i) % b->cap];
  free(b->ring);
  b->ring = ring;
  b->cap = cap;
  b->head = 0;
  return 0;
}

void dv_resume_free(dv_resume_t *b) {
  dv_resume_clear(b);
  free(b->ring);
  b->ring = NULL;
}

uint32_t dv_resume_next(dv_resume_t *b) { return ++b->last; }

uint16_t dv_resume_wire(uint32_t seq) { return (uint16_t)((seq - 1u) % WIRE_CYCLE + 1u); }

static void drop_oldest(dv_resume_t *b) {
  free(b->ring[b->head].text);
  b->ring[b->head].text = NULL;
  b->head = (b->head + 1) % b->cap;
  b->count--;
}

int dv_resume_keep(dv_resume_t *b, uint32_t seq, const char *text, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy) {
    /* A hole would replay a gap: forget everything, resumes now fail. */
    dv_resume_clear(b);
    return -ENOMEM;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  if (b->count == b->cap && (b->cap == b->max || grow(b) < 0)) {
    if (!b->count) { /* no slot at all */
      free(copy);
      return -ENOMEM;
    }
    drop_oldest(b);
  }
  b->ring[(b->head + b->count) % b->cap] = (dv_resume_msg_t){seq, copy, len};
  b->count++;
  return 0;
}

void dv_resume_clear(dv_resume_t *b) {
  while (b->count) drop_oldest(b);
}

/* The oldest number a client may still acknowledge usefully: the one
 * before the oldest kept message (everything later is here). */
static uint32_t floor_seq(const dv_resume_t *b) {
  return (b->count ? b->ring[b->head].seq : b->last + 1) - 1;
}

/* Maps wire number `ack` to the internal number in floor..last with that
 * wire form. -1 maps to 0 (nothing seen). Returns 0 or -ESTALE. */
static int resolve(const dv_resume_t *b, long long ack, uint32_t *out) {
  uint32_t lo = floor_seq(b);
  if (ack == -1) {
    *out = 0;
    return lo == 0 ? 0 : -ESTALE;
  }
  if (ack < 1 || ack > (long long)WIRE_CYCLE || b->last == 0) return -ESTALE;
  uint32_t back = ((uint32_t)dv_resume_wire(b->last) + WIRE_CYCLE - (uint32_t)ack) % WIRE_CYCLE;
  if (back > b->last - lo) return -ESTALE;
  *out = b->last - back;
  return 0;
}

void dv_resume_ack(dv_resume_t *b, long long ack) {
  uint32_t upto;
  if (resolve(b, ack, &upto) < 0) return;
  while (b->count && b->ring[b->head].seq <= upto) drop_oldest(b);
}

int dv_resume_from(const dv_resume_t *b, long long ack, size_t *first) {
  uint32_t upto;
  int rc = resolve(b, ack, &upto);
  if (rc < 0) return rc;
  *first = b->count ? (size_t)(upto + 1 - b->ring[b->head].seq) : 0;
  return 0;
}

const dv_resume_msg_t *dv_resume_at(const dv_resume_t *b, size_t i) {
  return i < b->count ? &b->ring[(b->head + i) % b->cap] : NULL;
}

size_t dv_resume_count(const dv_resume_t *b) { return b->count; }
