#include "dv_resume.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_CYCLE 65535u

int dv_resume_init(dv_resume_t *b, size_t cap, size_t max_bytes) {
  memset(b, 0, sizeof *b);
  if (cap < 1 || cap > DV_RESUME_MAX_CAP || max_bytes < 1) return -EINVAL;
  b->max = cap;
  b->max_bytes = max_bytes;
  return 0;
}

void dv_resume_free(dv_resume_t *b) {
  dv_resume_clear(b);
}

uint32_t dv_resume_next(dv_resume_t *b) {
  return ++b->last;
}

uint16_t dv_resume_wire(uint32_t seq) {
  return (uint16_t)((seq - 1u) % WIRE_CYCLE + 1u);
}

static void drop_oldest(dv_resume_t *b) {
  dv_resume_msg_t *m = b->head;
  b->head = m->next;
  if (!b->head) b->tail = NULL;
  b->count--;
  b->bytes -= m->len;
  free(m);
}

int dv_resume_keep(dv_resume_t *b, uint32_t seq, const char *text, size_t len) {
  return dv_resume_keep_frame(b, seq, text, len, 0);
}

int dv_resume_keep_frame(dv_resume_t *b, uint32_t seq, const void *text, size_t len, int binary) {
  dv_resume_msg_t *m = len < UINT32_MAX ? malloc(sizeof *m + len + 1) : NULL;
  if (!m) {
    /* A hole would replay a gap: forget everything, resumes now fail. */
    dv_resume_clear(b);
    return len < UINT32_MAX ? -ENOMEM : -EMSGSIZE;
  }
  m->next = NULL;
  m->seq = seq;
  m->len = (uint32_t)len;
  m->binary = binary ? 1 : 0;
  memcpy(m->text, text, len);
  m->text[len] = '\0';
  if (b->count == b->max) drop_oldest(b);
  if (b->tail)
    b->tail->next = m;
  else
    b->head = m;
  b->tail = m;
  b->count++;
  b->bytes += len;
  /* The newest message stays even alone over the bound: a hole in the
   * middle would replay a gap, a missing head only fails a resume. */
  int over = 0;
  for (; b->bytes > b->max_bytes && b->head != m; over = DV_RESUME_OVER) drop_oldest(b);
  return over;
}

void dv_resume_clear(dv_resume_t *b) {
  while (b->head) drop_oldest(b);
}

/* The oldest number a client may still acknowledge usefully: the one
 * before the oldest kept message (everything later is here). */
static uint32_t floor_seq(const dv_resume_t *b) {
  return (b->head ? b->head->seq : b->last + 1) - 1;
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
  while (b->head && b->head->seq <= upto) drop_oldest(b);
}

int dv_resume_from(const dv_resume_t *b, long long ack, const dv_resume_msg_t **first) {
  uint32_t upto;
  int rc = resolve(b, ack, &upto);
  if (rc < 0) return rc;
  const dv_resume_msg_t *m = b->head;
  while (m && m->seq <= upto) m = m->next;
  *first = m;
  return 0;
}

size_t dv_resume_count(const dv_resume_t *b) {
  return b->count;
}

size_t dv_resume_bytes(const dv_resume_t *b) {
  return b->bytes;
}
