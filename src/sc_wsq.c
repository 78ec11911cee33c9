#include "sc_wsq.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A newcomer to a 200-member room is sent ~400 messages at once (op 11,
 * op 5 per member); bound by bytes so that fits while a peer that stopped
 * reading is still cut off. */
#define SC_WSQ_DEFAULT_MAX 4096
#define SC_WSQ_MAX_BYTES (1u << 20)

/* One queued text frame, with the LWS_PRE headroom lws_write needs. */
struct sc_wsq_msg {
  sc_wsq_msg_t *next;
  size_t len;
  int binary;          /* a binary frame (DAVE opcodes), else text */
  unsigned char buf[]; /* LWS_PRE + len */
};

void sc_wsq_init(sc_wsq_t *q, struct lws *wsi, size_t max_count) {
  memset(q, 0, sizeof *q);
  q->wsi = wsi;
  q->max_count = max_count ? max_count : SC_WSQ_DEFAULT_MAX;
  q->max_bytes = SC_WSQ_MAX_BYTES;
}

static int push(sc_wsq_t *q, const void *data, size_t len, int binary) {
  if (q->close_code) return -EPIPE;
  if (q->count >= q->max_count || q->bytes + len > q->max_bytes) return -ENOBUFS;
  sc_wsq_msg_t *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) return -ENOMEM;
  m->next = NULL;
  m->len = len;
  m->binary = binary;
  memcpy(m->buf + LWS_PRE, data, len);
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->count++;
  q->bytes += len;
  if (q->wsi) lws_callback_on_writable(q->wsi);
  return 0;
}

int sc_wsq_push_text(sc_wsq_t *q, const char *data, size_t len) {
  return push(q, data, len, 0);
}

int sc_wsq_push_binary(sc_wsq_t *q, const void *data, size_t len) {
  return push(q, data, len, 1);
}

void sc_wsq_close(sc_wsq_t *q, int code, const char *reason) {
  if (q->close_code) return;
  q->close_code = code;
  snprintf(q->close_reason, sizeof q->close_reason, "%s", reason ? reason : "");
  if (q->wsi) lws_callback_on_writable(q->wsi);
}

/* Messages written per writable callback at most: enough that a burst (a
 * join storm's LVSP replies) leaves in one pass of the loop instead of one
 * message per pass behind every other connection's TLS work, few enough
 * that one connection cannot hold the loop. */
#define SC_WSQ_BURST 64

/* Bytes of frames gathered into one write at most. */
#define SC_WSQ_GATHER_BYTES (64u * 1024)
/* The largest RFC 6455 header of an unmasked frame. */
#define SC_WS_HEADER_MAX 10

size_t sc_wsq_text_header(unsigned char *h, size_t len) {
  return sc_wsq_frame_header(h, len, 0);
}

size_t sc_wsq_frame_header(unsigned char *h, size_t len, int binary) {
  h[0] = binary ? 0x82 : 0x81; /* FIN, opcode 2 (binary) or 1 (text) */
  if (len < 126) {
    h[1] = (unsigned char)len;
    return 2;
  }
  if (len <= 0xffff) {
    h[1] = 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  return 10;
}

static sc_wsq_msg_t *pop_head(sc_wsq_t *q) {
  sc_wsq_msg_t *m = q->head;
  q->head = m->next;
  if (!q->head) q->tail = NULL;
  q->count--;
  q->bytes -= m->len;
  return m;
}

/* How many head messages one write takes (at least 1), and their frames'
 * size in `total`. */
static int gather_count(const sc_wsq_t *q, size_t *total) {
  int n = 0;
  *total = 0;
  for (const sc_wsq_msg_t *m = q->head; m && n < SC_WSQ_BURST; m = m->next, n++) {
    size_t frame = SC_WS_HEADER_MAX + m->len;
    if (n && *total + frame > SC_WSQ_GATHER_BYTES) break;
    *total += frame;
  }
  return n;
}

/* Writes the head message, or the first messages framed here into one
 * buffer: one send() (and one TLS record) instead of one per message. A
 * joining client is sent Ready, op 11 and op 5 per member at once.
 * lws_write's RAW mode sends the bytes as they are, through TLS if any;
 * the frames are what lws would build (server frames are unmasked, no
 * extension is negotiated). 0, or -1 if the write failed. */
static int write_some(sc_wsq_t *q) {
  size_t cap;
  int n = gather_count(q, &cap);
  if (n == 1) {
    sc_wsq_msg_t *m = pop_head(q);
    int w =
        lws_write(q->wsi, m->buf + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    int failed = w < (int)m->len;
    free(m);
    return failed ? -1 : 0;
  }
  unsigned char *buf = malloc(LWS_PRE + cap);
  if (!buf) return -1;
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    sc_wsq_msg_t *m = pop_head(q);
    used += sc_wsq_frame_header(buf + LWS_PRE + used, m->len, m->binary);
    memcpy(buf + LWS_PRE + used, m->buf + LWS_PRE, m->len);
    used += m->len;
    free(m);
  }
  int w = lws_write(q->wsi, buf + LWS_PRE, used, LWS_WRITE_RAW);
  free(buf);
  return w < (int)used ? -1 : 0;
}

int sc_wsq_on_writeable(sc_wsq_t *q) {
  /* Each pass writes what fits one buffer; the choked check (a poll()
   * system call in lws) only runs when more is queued. */
  for (int i = 0; q->head && i < SC_WSQ_BURST; i++) {
    if (write_some(q) < 0) return -1;
    if (!q->head || lws_send_pipe_choked(q->wsi)) break;
  }
  if (q->head) {
    lws_callback_on_writable(q->wsi);
    return 0;
  }
  if (q->close_code && !q->close_handed) {
    q->close_handed = 1;
    lws_close_reason(q->wsi, (enum lws_close_status)q->close_code, (unsigned char *)q->close_reason,
                     strlen(q->close_reason));
    return -1;
  }
  return 0;
}

void sc_wsq_clear(sc_wsq_t *q) {
  while (q->head) {
    sc_wsq_msg_t *m = q->head;
    q->head = m->next;
    free(m);
  }
  q->tail = NULL;
  q->count = 0;
  q->bytes = 0;
}
