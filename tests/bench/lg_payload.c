#include "lg_payload.h"

#include <errno.h>
#include <string.h>

static const uint8_t magic[4] = {'L', 'G', 'v', '1'};

static void put32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint8_t pattern(const lg_payload_t *p, size_t i) {
  return (uint8_t)(p->seq * 7u + p->sender * 13u + (uint32_t)i);
}

void lg_payload_fill(uint8_t *buf, size_t len, const lg_payload_t *p) {
  memcpy(buf, magic, 4);
  put32(buf + 4, p->sender);
  put32(buf + 8, p->seq);
  put32(buf + 12, (uint32_t)p->sent_ns);
  put32(buf + 16, (uint32_t)((uint64_t)p->sent_ns >> 32));
  for (size_t i = 20; i < len; i++) buf[i] = pattern(p, i);
}

int lg_payload_check(const uint8_t *buf, size_t len, size_t expected_len, lg_payload_t *p) {
  if (len != expected_len || len < LG_PAYLOAD_MIN || memcmp(buf, magic, 4) != 0) return -EBADMSG;
  p->sender = get32(buf + 4);
  p->seq = get32(buf + 8);
  p->sent_ns = (int64_t)((uint64_t)get32(buf + 12) | (uint64_t)get32(buf + 16) << 32);
  for (size_t i = 20; i < len; i++)
    if (buf[i] != pattern(p, i)) return -EBADMSG;
  return 0;
}
