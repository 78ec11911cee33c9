#include "sc_wsq.h"

#include <errno.h>
#include <libwebsockets.h>
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
  unsigned char buf[]; /* LWS_PRE + len */
};

void sc_wsq_init(sc_wsq_t *q, struct lws *wsi, size_t max_count) {
  memset(q, 0, sizeof *q);
  q->wsi = wsi;
  q->max_count = max_count ? max_count : SC_WSQ_DEFAULT_MAX;
  q->max_bytes = SC_WSQ_MAX_BYTES;
}

int sc_wsq_push_text(sc_wsq_t *q, const char *data, size_t len) {
  if (q->close_code) return -EPIPE;
  if (q->count >= q->max_count || q->bytes + len > q->max_bytes) return -ENOBUFS;
  sc_wsq_msg_t *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) return -ENOMEM;
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, data, len);
  if (q->tail) q->tail->next = m;
  else q->head = m;
  q->tail = m;
  q->count++;
  q->bytes += len;
  if (q->wsi) lws_callback_on_writable(q->wsi);
  return 0;
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

/* Writes the head message; 0, or -1 if the write failed. */
static int write_head(sc_wsq_t *q) {
  sc_wsq_msg_t *m = q->head;
  q->head = m->next;
  if (!q->head) q->tail = NULL;
  q->count--;
  q->bytes -= m->len;
  int n = lws_write(q->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
  int failed = n < (int)m->len;
  free(m);
  return failed ? -1 : 0;
}

int sc_wsq_on_writeable(sc_wsq_t *q) {
  for (int i = 0; q->head && i < SC_WSQ_BURST; i++) {
    if (write_head(q) < 0) return -1;
    if (lws_send_pipe_choked(q->wsi)) break;
  }
  if (q->head) {
    lws_callback_on_writable(q->wsi);
    return 0;
  }
  if (q->close_code) {
    lws_close_reason(q->wsi, (enum lws_close_status)q->close_code,
                     (unsigned char *)q->close_reason, strlen(q->close_reason));
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
