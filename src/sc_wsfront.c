/*
 * sc_wsfront: see sc_wsfront.h.
 */
#include "sc_wsfront.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_log.h"
#include "sc_server.h"

enum { SC_WSFRONT_TX_PACKET = 16384 /* one TLS record */ };

void sc_wsfront_open(sc_wsfront_conn_t *c, struct lws *wsi) {
  sc_server_conn_opened(wsi);
  sc_wsq_init(&c->q, wsi, 0);
  c->open = 1;
}

void sc_wsfront_release(sc_wsfront_conn_t *c) {
  if (!c->open) return;
  sc_wsq_clear(&c->q);
  free(c->rx);
  c->rx = NULL;
  c->rx_len = 0;
  c->open = 0;
}

/* A peer that does not read its queue could not take a close frame
 * either: the socket is dropped without one. */
static int kill_if_full(sc_wsfront_conn_t *c, int rc) {
  if (rc == -ENOBUFS || rc == -ENOMEM)
    lws_set_timeout(c->q.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  return rc;
}

int sc_wsfront_send_text(void *ctx, const char *text, size_t len) {
  sc_wsfront_conn_t *c = ctx;
  return kill_if_full(c, sc_wsq_push_text(&c->q, text, len));
}

int sc_wsfront_send_binary(void *ctx, const uint8_t *buf, size_t len) {
  sc_wsfront_conn_t *c = ctx;
  return kill_if_full(c, sc_wsq_push_binary(&c->q, buf, len));
}

void sc_wsfront_close(void *ctx, int code, const char *reason) {
  sc_wsq_close(&((sc_wsfront_conn_t *)ctx)->q, code, reason);
}

sc_wsfront_rx_t sc_wsfront_reassemble(sc_wsfront_conn_t *c, struct lws *wsi, const char *in,
                                      size_t len, size_t max, const char **msg, size_t *msg_len) {
  *msg_len = c->rx_len + len;
  if (c->rx_len + len > max) return SC_WSFRONT_TOO_BIG;
  int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
  if (final && !c->rx_len) { /* the common case: whole, no copy */
    *msg = in;
    return SC_WSFRONT_COMPLETE;
  }
  char *grown = realloc(c->rx, c->rx_len + len);
  if (!grown) return SC_WSFRONT_NO_MEMORY;
  c->rx = grown;
  memcpy(c->rx + c->rx_len, in, len);
  c->rx_len += len;
  if (!final) return SC_WSFRONT_PARTIAL;
  *msg = c->rx;
  return SC_WSFRONT_COMPLETE;
}

void sc_wsfront_message_done(sc_wsfront_conn_t *c) {
  free(c->rx); /* rare (large or fragmented messages): don't keep it idle */
  c->rx = NULL;
  c->rx_len = 0;
}

int sc_wsfront_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: return sc_server_admit(wsi, in, SC_ADMIT_CLIENT);
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      sc_wsfront_conn_t *c = user;
      return c->open ? sc_wsq_on_writeable(&c->q) : 0;
    }
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: sc_server_tls_ctx_setup(user); break;
    case LWS_CALLBACK_HTTP: return sc_server_refuse_http(wsi);
    default: break;
  }
  return 0;
}

int sc_wsfront_listen(sc_app_t *app, sc_wsfront_listener_t *l, const sc_wsfront_spec_t *spec,
                      const sc_hostport_t *listen, void *user) {
  l->protocols[0] = (struct lws_protocols){
      .name = spec->protocol,
      .callback = spec->callback,
      .per_session_data_size = spec->session_size,
      .rx_buffer_size = spec->rx_buffer,
      .user = user,
      /* Without it lws cuts every send at rx_buffer_size and copies the
       * rest aside for later writable callbacks. */
      .tx_packet_size = SC_WSFRONT_TX_PACKET,
  };
  if (spec->off_flag && sc_hostport_off(listen)) { /* the operator turned this dialect off */
    sc_log_info(spec->name, "listener off (%s off)", spec->off_flag);
    return 0;
  }
  return sc_server_add_listener(app, spec->name, listen, l->protocols, spec->listener_flags) ? 0
                                                                                             : -1;
}

uint64_t sc_wsfront_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
