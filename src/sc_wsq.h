/*
 * sc_wsq: a bounded outbound message queue for one WebSocket connection,
 * and the deferred close that follows it.
 *
 * A connection queues what it wants to send, asks for a writable
 * callback, and writes from the queue there (sc_wsq_on_writeable) while
 * lws reports the socket not choked; messages queued together leave in
 * one write (framed here). A peer that does
 * not read fills its queue; sc_wsq_push then fails and the owner closes it.
 * A close is also queued: once the messages before it are written, the
 * connection is closed with the stored code.
 *
 * Threads: control (lws) thread only.
 * Memory: the queue owns its messages; sc_wsq_clear frees them. The struct
 * itself is embedded in the owner's per-connection data.
 */
#ifndef SC_WSQ_H
#define SC_WSQ_H

#include <stddef.h>

struct lws;
typedef struct sc_wsq_msg sc_wsq_msg_t;

typedef struct {
  sc_wsq_msg_t *head, *tail;
  size_t count;
  size_t max_count; /* bound on messages; 0 = default (4096) */
  size_t bytes;     /* payload bytes queued */
  size_t max_bytes; /* bound on bytes (1 MiB): a large room's join burst fits */
  int close_code;   /* 0 = no close pending */
  char close_reason[64];
  int close_handed; /* lws has the close: it sends it and waits for the peer's */
  struct lws *wsi;
} sc_wsq_t;

void sc_wsq_init(sc_wsq_t *q, struct lws *wsi, size_t max_count);

/* Queues a text frame (copied) and requests a writable callback.
 * Returns 0, -ENOBUFS when the queue is full (messages or bytes), -ENOMEM, or -EPIPE once a
 * close is pending (nothing is sent after a close). */
int sc_wsq_push_text(sc_wsq_t *q, const char *data, size_t len);

/* The same for a binary frame. */
int sc_wsq_push_binary(sc_wsq_t *q, const void *data, size_t len);

/* Queues a close with code and reason after what is already queued. The
 * first close wins. */
void sc_wsq_close(sc_wsq_t *q, int code, const char *reason);

/* For LWS_CALLBACK_SERVER_WRITEABLE: writes queued messages while the
 * socket takes them (a bounded burst). Returns 0 to keep
 * the connection, -1 when the callback must return -1 (close now: a
 * queued close was reached, with lws_close_reason already set, or a write
 * failed). Requests another callback when more is queued. The close is
 * handed over once: lws then sends it, discards what the peer still sends
 * and waits (5 s) for the peer's close, and the writable callbacks lws
 * makes meanwhile return 0 (a second -1 would kill the socket at once,
 * resetting it under unread input, and the peer would never read the
 * close code). */
int sc_wsq_on_writeable(sc_wsq_t *q);

/* Writes the RFC 6455 header of one unmasked final text frame of `len`
 * bytes into h (room for 10) and returns its size (2, 4 or 10). Pure. */
size_t sc_wsq_text_header(unsigned char *h, size_t len);
/* The same for a text (binary 0) or binary (binary 1) frame. */
size_t sc_wsq_frame_header(unsigned char *h, size_t len, int binary);

/* Frees queued messages (on LWS_CALLBACK_CLOSED). */
void sc_wsq_clear(sc_wsq_t *q);

#endif
