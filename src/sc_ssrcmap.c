/*
 * sc_ssrcmap: see sc_ssrcmap.h. Unordered arrays; removal moves the last
 * pair into the gap.
 */
#include "sc_ssrcmap.h"

#include <errno.h>

static int find(const sc_ssrcmap_t *m, uint32_t source) {
  for (uint32_t i = 0; i < m->n; i++)
    if (m->from[i] == source) return (int)i;
  return -1;
}

int sc_ssrcmap_set(sc_ssrcmap_t *m, uint32_t source, uint32_t out, uint32_t *old_out) {
  *old_out = 0;
  if (!source || !out) return -EINVAL;
  int i = find(m, source);
  if (i >= 0) {
    *old_out = m->to[i];
    m->to[i] = out;
    return 0;
  }
  if (m->n == SC_SSRCMAP_MAX) return -ENOSPC;
  m->from[m->n] = source;
  m->to[m->n++] = out;
  return 0;
}

uint32_t sc_ssrcmap_del(sc_ssrcmap_t *m, uint32_t source) {
  int i = find(m, source);
  if (i < 0) return 0;
  uint32_t out = m->to[i];
  m->n--;
  m->from[i] = m->from[m->n];
  m->to[i] = m->to[m->n];
  return out;
}
