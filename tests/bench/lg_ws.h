/*
 * lg_ws: WebSocket client connections over libwebsockets, for the load
 * generator: one lws context carries every simulated client's gateway
 * connection and the LVSP link. Text messages only; each is reassembled
 * before it is handed to the owner, and sends are queued (lws writes one
 * frame per writable callback).
 *
 * Owns: the lws context (lg_wsctx_t) and each connection's queues. The
 * lg_ws_t itself is embedded in its owner, which must outlive the context
 * (lg_wsctx_free closes every connection and calls on_close).
 * Threads: everything runs on the thread that calls lg_wsctx_service,
 * except lg_wsctx_wake, which any thread may call.
 * Memory: queued messages and the reassembly buffer are freed when the
 * connection closes.
 */
#ifndef LG_WS_H
#define LG_WS_H

#include <stddef.h>

struct lws;
typedef struct lg_wsctx lg_wsctx_t;
typedef struct lg_ws_msg lg_ws_msg_t;

typedef struct {
  void (*on_open)(void *owner);
  void (*on_text)(void *owner, const char *text, size_t len);
  /* Connection failed (failed = 1) or closed; no callback follows. */
  void (*on_close)(void *owner, int failed);
} lg_ws_ops_t;

typedef struct {
  lg_wsctx_t *ctx;
  struct lws *wsi;
  const lg_ws_ops_t *ops;
  void *owner;
  lg_ws_msg_t *head, *tail;
  int queued;
  char *rx;
  size_t rx_len, rx_cap;
  int state; /* private: idle, connecting, open, closing, closed */
} lg_ws_t;

/* A client context; tls = 0 for plain ws://. ca_file (with tls, may be
 * NULL): the only CA trusted, with full verification; NULL accepts any
 * certificate. on_wake (may be NULL) runs on
 * the service thread after another thread called lg_wsctx_wake. */
lg_wsctx_t *lg_wsctx_new(int tls, const char *ca_file, void (*on_wake)(void *), void *wake_ctx);
void lg_wsctx_free(lg_wsctx_t *x);
/* Services pending events; returns within ~10 ms even when idle. */
void lg_wsctx_service(lg_wsctx_t *x);
/* Services what is pending now and returns without waiting. */
void lg_wsctx_poll(lg_wsctx_t *x);
void lg_wsctx_wake(lg_wsctx_t *x);

/* Starts connecting to ws(s)://host:port/path. Returns 0, or -1 if lws
 * refused at once (on_close(failed) has then been called). */
int lg_ws_connect(lg_wsctx_t *x, lg_ws_t *ws, const char *host, int port, const char *path,
                  const lg_ws_ops_t *ops, void *owner);
/* Queues a text frame (copied). Returns 0, or -1 if the connection is not
 * open or its queue is full. */
int lg_ws_send(lg_ws_t *ws, const char *text, size_t len);
/* Closes after what is queued (code 1000). */
void lg_ws_close(lg_ws_t *ws);
int lg_ws_is_open(const lg_ws_t *ws);

#endif
