#include "lg_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define WS_QUEUE_MAX 4096
#define WS_RX_MAX (1 << 20)
#define WRITES_PER_CALLBACK 64
#define TICK_US (10 * LWS_US_PER_MS)

enum { ST_IDLE, ST_CONNECTING, ST_OPEN, ST_CLOSING, ST_CLOSED };

struct lg_ws_msg {
  lg_ws_msg_t *next;
  size_t len;
  unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

struct lg_wsctx {
  struct lws_context *lws;
  struct lws_protocols protocols[2];
  int tls;
  int verify; /* the server's certificate is the only CA */
  void (*on_wake)(void *);
  void *wake_ctx;
  lws_sorted_usec_list_t tick;
};

static void free_queue(lg_ws_t *ws) {
  while (ws->head) {
    lg_ws_msg_t *next = ws->head->next;
    free(ws->head);
    ws->head = next;
  }
  ws->tail = NULL;
  ws->queued = 0;
}

/* Ends the connection once: later lws callbacks for it find it closed. */
static void finish(lg_ws_t *ws, int failed) {
  if (ws->state == ST_CLOSED || ws->state == ST_IDLE) return;
  ws->state = ST_CLOSED;
  ws->wsi = NULL;
  free_queue(ws);
  free(ws->rx);
  ws->rx = NULL;
  ws->rx_len = ws->rx_cap = 0;
  ws->ops->on_close(ws->owner, failed);
}

static int append_rx(lg_ws_t *ws, const char *in, size_t len) {
  if (ws->rx_len + len > WS_RX_MAX) return -1;
  if (ws->rx_len + len > ws->rx_cap) {
    size_t cap = ws->rx_cap ? ws->rx_cap * 2 : 4096;
    while (cap < ws->rx_len + len) cap *= 2;
    char *p = realloc(ws->rx, cap);
    if (!p) return -1;
    ws->rx = p;
    ws->rx_cap = cap;
  }
  memcpy(ws->rx + ws->rx_len, in, len);
  ws->rx_len += len;
  return 0;
}

static int on_receive(struct lws *wsi, lg_ws_t *ws, const char *in, size_t len) {
  if (ws->state != ST_OPEN && ws->state != ST_CLOSING) return 0;
  if (append_rx(ws, in, len) < 0) return -1;
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
  size_t n = ws->rx_len;
  ws->rx_len = 0;
  if (!lws_frame_is_binary(wsi)) ws->ops->on_text(ws->owner, ws->rx, n);
  return 0;
}

static int write_one(struct lws *wsi, lg_ws_t *ws) {
  lg_ws_msg_t *m = ws->head;
  ws->head = m->next;
  if (!ws->head) ws->tail = NULL;
  ws->queued--;
  int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
  free(m);
  return n < 0 ? -1 : 0;
}

/* Writes queued frames while the socket takes them (a burst of 200 VST
 * requests must not wait one event-loop pass per frame on our side). */
static int on_writeable(struct lws *wsi, lg_ws_t *ws) {
  if (!ws->head) {
    if (ws->state != ST_CLOSING) return 0;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    return -1;
  }
  for (int k = 0; k < WRITES_PER_CALLBACK && ws->head; k++) {
    if (write_one(wsi, ws) < 0) return -1;
    if (lws_send_pipe_choked(wsi)) break;
  }
  if (ws->head || ws->state == ST_CLOSING) lws_callback_on_writable(wsi);
  return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  lg_ws_t *ws = user;
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      lg_wsctx_t *x = lws_context_user(lws_get_context(wsi));
      if (x && x->on_wake) x->on_wake(x->wake_ctx);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (!ws) return -1;
      ws->state = ST_OPEN;
      ws->ops->on_open(ws->owner);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: return ws ? on_receive(wsi, ws, in, len) : 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return ws && ws->wsi ? on_writeable(wsi, ws) : 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (ws) finish(ws, 1);
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (ws) finish(ws, ws->state == ST_CONNECTING);
      return 0;
    default: return 0;
  }
}

/* Keeps lws_service returning regularly, so the caller's checks run. */
static void on_tick(lws_sorted_usec_list_t *sul) {
  lg_wsctx_t *x = lws_container_of(sul, lg_wsctx_t, tick);
  lws_sul_schedule(x->lws, 0, &x->tick, on_tick, TICK_US);
}

/* No lws validity timer per connection (as in the server, src/sc_server.c):
 * lws re-arms it on every frame in one sorted list of all connections. */
static const lws_retry_bo_t no_validity_timer = {.secs_since_valid_hangup = 0};

lg_wsctx_t *lg_wsctx_new(int tls, const char *ca_file, void (*on_wake)(void *), void *wake_ctx) {
  lg_wsctx_t *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  x->tls = tls;
  x->on_wake = on_wake;
  x->wake_ctx = wake_ctx;
  x->protocols[0] =
      (struct lws_protocols){.name = "lg-client", .callback = callback, .rx_buffer_size = 8192};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = x->protocols;
  info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
  /* Clients trust the server's certificate alone, loaded once, as node
   * clients trust their in-memory CA list. With OpenSSL's default verify
   * paths the generator listed a directory (getdents on ext4) on every
   * handshake: 1.16 -> 0.95 ms of its CPU per TLS join without them. */
  if (tls && ca_file) {
    info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.client_ssl_ca_filepath = ca_file;
    x->verify = 1;
  }
  info.user = x;
  info.retry_and_idle_policy = &no_validity_timer;
  lws_set_log_level(LLL_ERR, NULL);
  x->lws = lws_create_context(&info);
  if (!x->lws) {
    free(x);
    return NULL;
  }
  lws_sul_schedule(x->lws, 0, &x->tick, on_tick, TICK_US);
  return x;
}

void lg_wsctx_free(lg_wsctx_t *x) {
  if (!x) return;
  lws_sul_cancel(&x->tick);
  lws_context_destroy(x->lws);
  free(x);
}

void lg_wsctx_service(lg_wsctx_t *x) {
  lws_service(x->lws, 0);
}

void lg_wsctx_poll(lg_wsctx_t *x) {
  lws_service(x->lws, -1);
}

void lg_wsctx_wake(lg_wsctx_t *x) {
  lws_cancel_service(x->lws);
}

int lg_ws_connect(lg_wsctx_t *x, lg_ws_t *ws, const char *host, int port, const char *path,
                  const lg_ws_ops_t *ops, void *owner) {
  memset(ws, 0, sizeof *ws);
  ws->ctx = x;
  ws->ops = ops;
  ws->owner = owner;
  ws->state = ST_CONNECTING;
  struct lws_client_connect_info i;
  memset(&i, 0, sizeof i);
  i.context = x->lws;
  i.address = host;
  i.port = port;
  i.path = path;
  i.host = host;
  i.origin = host;
  /* With the server's certificate as the CA: no self-signed or host-name
   * exemption; without it, any certificate (a --tls-cert of the user's
   * own). */
  i.ssl_connection = !x->tls     ? 0
                     : x->verify ? LCCSCF_USE_SSL
                                 : LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                                       LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
  i.local_protocol_name = x->protocols[0].name;
  i.userdata = ws;
  i.pwsi = &ws->wsi;
  if (lws_client_connect_via_info(&i)) return 0;
  finish(ws, 1); /* no-op if lws already reported the error */
  return -1;
}

int lg_ws_send(lg_ws_t *ws, const char *text, size_t len) {
  if (ws->state != ST_OPEN || !ws->wsi || ws->queued >= WS_QUEUE_MAX) return -1;
  lg_ws_msg_t *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m) return -1;
  m->next = NULL;
  m->len = len;
  memcpy(m->buf + LWS_PRE, text, len);
  if (ws->tail)
    ws->tail->next = m;
  else
    ws->head = m;
  ws->tail = m;
  ws->queued++;
  lws_callback_on_writable(ws->wsi);
  return 0;
}

void lg_ws_close(lg_ws_t *ws) {
  if (ws->state != ST_OPEN || !ws->wsi) return;
  ws->state = ST_CLOSING;
  lws_callback_on_writable(ws->wsi);
}

int lg_ws_is_open(const lg_ws_t *ws) {
  return ws->state == ST_OPEN;
}
