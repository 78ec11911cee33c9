/*
 * sc_wsfront: the WebSocket listener plumbing every client front end's
 * lws binding shares (discord_voice, vortex, galene, ion): the protocol
 * record and its listener, the per-socket send queue and open flag, the
 * reassembly of fragmented messages, the io functions the protocols send
 * through, and the callback reasons they all answer alike (admission,
 * writable, TLS context set-up, plain HTTP refused).
 *
 * A front end's per-session data begins with an sc_wsfront_conn_t (its
 * first member: sc_wsfront_callback reads it from lws's `user`); the
 * front end's own callback handles ESTABLISHED, RECEIVE and CLOSED
 * (calling sc_wsfront_open / _reassemble / _release) and hands every
 * other reason to sc_wsfront_callback. What a message means, its limits
 * and close codes stay with the front end.
 *
 * Threads: control (lws) thread only.
 * Memory: the queue and the reassembly buffer belong to the connection:
 * sc_wsfront_message_done frees a delivered message's buffer,
 * sc_wsfront_release everything at close. The structs are embedded in the
 * front end's data (per-session data is lws's; sc_wsfront_listener_t lives
 * in the front end's state, as long as its listener).
 */
#ifndef SC_WSFRONT_H
#define SC_WSFRONT_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_app.h"
#include "sc_wsq.h"

/* Per-socket part; the first member of the front end's per-session data. */
typedef struct {
  sc_wsq_t q;
  char *rx; /* message being reassembled from fragments */
  size_t rx_len;
  int open;
} sc_wsfront_conn_t;

/* LWS_CALLBACK_ESTABLISHED: per-connection set-up (sc_server_conn_opened),
 * the send queue, and the connection marked open. */
void sc_wsfront_open(sc_wsfront_conn_t *c, struct lws *wsi);

/* LWS_CALLBACK_CLOSED, after the front end told its protocol: frees the
 * queue and any partial message. Does nothing to a connection that was
 * never opened; sc_wsfront_conn_t.open says which. */
void sc_wsfront_release(sc_wsfront_conn_t *c);

/* The protocols' io functions; ctx is the sc_wsfront_conn_t. A send that
 * finds the queue full (the peer does not read it, so its close frame
 * could never get out either) drops the socket without one. Return what
 * sc_wsq_push_* returns. */
int sc_wsfront_send_text(void *ctx, const char *text, size_t len);
int sc_wsfront_send_binary(void *ctx, const uint8_t *buf, size_t len);
/* Queues a close after what is queued (sc_wsq_close). */
void sc_wsfront_close(void *ctx, int code, const char *reason);

typedef enum {
  SC_WSFRONT_PARTIAL,   /* a piece kept; the message is not complete yet */
  SC_WSFRONT_COMPLETE,  /* *msg, *msg_len: a whole message to deliver */
  SC_WSFRONT_TOO_BIG,   /* *msg_len: the bytes so far, over max (nothing kept) */
  SC_WSFRONT_NO_MEMORY, /* the piece could not be kept */
} sc_wsfront_rx_t;

/* LWS_CALLBACK_RECEIVE: adds a piece (`in`, `len`) to the message being
 * received, refusing it when the message would pass `max` bytes. A
 * message that arrives whole is handed over in place; a reassembled one
 * is the connection's buffer, until sc_wsfront_message_done (call it
 * after every SC_WSFRONT_COMPLETE). */
sc_wsfront_rx_t sc_wsfront_reassemble(sc_wsfront_conn_t *c, struct lws *wsi, const char *in,
                                      size_t len, size_t max, const char **msg, size_t *msg_len);
void sc_wsfront_message_done(sc_wsfront_conn_t *c);

/* The callback reasons every client listener answers alike: admission
 * (SC_ADMIT_CLIENT), writable (the queue of an open connection), the TLS
 * context's set-up, and 426 to plain HTTP. Returns what the lws callback
 * must return (0 for any other reason). */
int sc_wsfront_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in);

/* One front end's listener: its lws protocol record. */
typedef struct {
  struct lws_protocols protocols[2]; /* the second stays zero: the list's end */
} sc_wsfront_listener_t;

typedef struct {
  const char *name;     /* listener's name in logs and the banner */
  const char *protocol; /* lws protocol name (Sec-WebSocket-Protocol) */
  const char *off_flag; /* "--x-listen": may be 'off'; NULL: never off */
  lws_callback_function *callback;
  size_t session_size;     /* per-session data, an sc_wsfront_conn_t first */
  size_t rx_buffer;        /* lws receive buffer; larger messages come in pieces */
  unsigned listener_flags; /* SC_LISTENER_* */
} sc_wsfront_spec_t;

/* Fills l's protocol record (`user` reaches the callback as the protocol's
 * user) and adds the listener on `listen`, TLS like the gateway; a
 * listener the operator turned off is logged and skipped. 0, or -1
 * (logged by sc_server_add_listener). */
int sc_wsfront_listen(sc_app_t *app, sc_wsfront_listener_t *l, const sc_wsfront_spec_t *spec,
                      const sc_hostport_t *listen, void *user);

/* The monotonic clock in milliseconds: the front ends' rate windows. */
uint64_t sc_wsfront_now_ms(void);

#endif
