/*
 * lg_control: see lg_control.h. Each client walks the states below; a
 * timer-free design: the pump loop checks discovery retries, heartbeats
 * and new joins after every lws service pass (at least every 10 ms).
 */
#include "lg_control.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dv_discovery.h"
#include "lg_webrtc.h"
#include "lg_ws.h"
#include "sc_token.h"

#define USER_BASE 200000000000000000ull
#define CHANNEL_BASE 300000000000000000ull
#define GUILD_BASE 400000000000000000ull
#define DISC_RETRY_NS 500000000LL
#define DISC_TRIES 10
#define GW_PATH "/?v=8"
#define SCAN_NS 5000000LL
/* lg_control_pump_quiet: one pass per this many ms. Heartbeats are due
 * every 41.25 s (the server's default), so a second is plenty; a pass is
 * one poll() over every connection (2-3 ms with 4,500), which a
 * non-preemptive kernel lets hold its CPU to the end, delaying the packets
 * of whoever waits for that CPU (at 100 ms the server's half-rate p99 was
 * twice as high). */
#define STEP_PUMP_MS 1000

/* Join stages, as in lg_join_stats_t.stage_*: each ends where the next begins. */
enum { T_VST, T_INFO, T_OPEN, T_READY, T_SELECT, T_DONE };

/* S_RTC: a WebRTC client between op 4 and DTLS connected (media thread). */
typedef enum {
  S_NEW,
  S_VST,
  S_CONNECT,
  S_READY,
  S_DISC,
  S_SELECT,
  S_RTC,
  S_JOINED,
  S_FAILED
} cstate_t;

typedef struct {
  lg_control_t *ctl;
  int idx;
  cstate_t state;
  lg_ws_t ws;
  char session_id[48], token[64];
  int64_t t[LG_JOIN_STAGES + 1]; /* when each join stage began; [LG_JOIN_STAGES]: done */
  int64_t t_disc;
  int disc_tries;
  int64_t seq; /* last numbered gateway message (v8 seq_ack) */
  int64_t hb_ns, next_hb;
} client_t;

typedef struct {
  uint32_t ssrc;
  uint16_t port;
  char ip[64];
} disc_t;

struct lg_control {
  lg_run_t *run;
  lg_control_cfg_t cfg;
  lg_wsctx_t *ws;
  lg_ws_t lvsp;
  int lvsp_ready, lvsp_closed;
  int64_t lvsp_hb_ns, lvsp_next_hb, lvsp_s;
  client_t *clients;
  int next_client, in_flight, joined, failed, dropped, shutting_down;
  int64_t last_scan;
  int64_t last_quiet;   /* lg_control_pump_quiet: last pass */
  uint64_t heartbeats;  /* voice gateway heartbeats sent */
  pthread_mutex_t lock; /* guards disc[] (media thread -> main) */
  disc_t *disc;
  int disc_n, disc_cap;
};

const char *const lg_join_stage_names[LG_JOIN_STAGES] = {"lvsp", "connect", "identify", "discovery",
                                                         "select"};

static int64_t ms_to_ns(int64_t ms) {
  return ms * 1000000;
}

/* Sends {"op":op,"d":d} (steals d). */
static void send_op(lg_ws_t *ws, int op, json_t *d) {
  json_t *msg = json_pack("{s:i, s:o}", "op", op, "d", d);
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  if (!text || lg_ws_send(ws, text, strlen(text)) < 0)
    fprintf(stderr, "lcv_loadgen: cannot send op %d\n", op);
  free(text);
  json_decref(msg);
}

static void fail_client(client_t *cl, const char *why) {
  lg_control_t *c = cl->ctl;
  if (cl->state == S_FAILED || cl->state == S_JOINED || c->shutting_down) return;
  if (cl->state != S_NEW) c->in_flight--;
  cl->state = S_FAILED;
  c->failed++;
  if (c->failed <= 5) fprintf(stderr, "lcv_loadgen: client %d failed: %s\n", cl->idx, why);
  lg_ws_close(&cl->ws);
}

/* ---- gateway: one client ------------------------------------------------- */

static void gw_on_open(void *owner) {
  client_t *cl = owner;
  lg_client_t *lc = &cl->ctl->run->clients[cl->idx];
  char uid[24], gid[24];
  snprintf(uid, sizeof uid, "%llu", USER_BASE + (unsigned long long)cl->idx);
  snprintf(gid, sizeof gid, "%llu", GUILD_BASE + (unsigned long long)lc->room);
  cl->state = S_READY;
  cl->t[T_OPEN] = lg_now_ns();
  send_op(&cl->ws, 0,
          json_pack("{s:s, s:s, s:s, s:s, s:i}", "server_id", gid, "user_id", uid, "session_id",
                    cl->session_id, "token", cl->token, "max_dave_protocol_version", 0));
}

static void send_discovery(client_t *cl) {
  lg_run_t *run = cl->ctl->run;
  lg_client_t *lc = &run->clients[cl->idx];
  uint8_t req[DV_DISCOVERY_LEN] = {0, 1, 0, 70};
  for (int i = 0; i < 4; i++) req[4 + i] = (uint8_t)(lc->ssrc >> (24 - 8 * i));
  if (sendto(run->socks[lc->sock], req, sizeof req, 0, (struct sockaddr *)&lc->media,
             sizeof lc->media) < 0)
    perror("lcv_loadgen: discovery");
  cl->t_disc = lg_now_ns();
  cl->disc_tries++;
}

/* Op 1 as Discord's web client sends it: no IP discovery, the trimmed
 * SDP fragment in both sdp and data, Opus PT 111 in codecs. */
static void select_webrtc(client_t *cl) {
  lg_client_t *lc = &cl->ctl->run->clients[cl->idx];
  char frag[1024];
  if (lg_rtc_fragment(lc->rtc, frag, sizeof frag) < 0) {
    fail_client(cl, "cannot make the DTLS client");
    return;
  }
  cl->state = S_SELECT;
  cl->t[T_SELECT] = lg_now_ns(); /* the "discovery" stage is empty */
  json_t *codecs = json_pack("[{s:s, s:s, s:i, s:i, s:n}]", "name", "opus", "type", "audio",
                             "priority", 1000, "payload_type", LG_RTC_OPUS_PT, "rtx_payload_type");
  send_op(&cl->ws, 1,
          json_pack("{s:s, s:s, s:s, s:o}", "protocol", "webrtc", "sdp", frag, "data", frag,
                    "codecs", codecs));
}

static void gw_ready(client_t *cl, json_t *d) {
  lg_run_t *run = cl->ctl->run;
  lg_client_t *lc = &run->clients[cl->idx];
  json_int_t ssrc = 0, port = 0;
  const char *ip = NULL;
  if (cl->state != S_READY ||
      json_unpack(d, "{s:I, s:s, s:I}", "ssrc", &ssrc, "ip", &ip, "port", &port) < 0 || ssrc <= 0 ||
      ssrc > UINT32_MAX || port < 1 || port > 65535) {
    fail_client(cl, "bad Ready");
    return;
  }
  lc->ssrc = (uint32_t)ssrc;
  lc->media.sin_family = AF_INET;
  lc->media.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, ip, &lc->media.sin_addr) != 1 ||
      lg_run_map_insert(run, lc->ssrc, cl->idx) < 0) {
    fail_client(cl, "bad Ready ip or duplicate ssrc");
    return;
  }
  cl->t[T_READY] = lg_now_ns();
  if (lc->rtc) {
    select_webrtc(cl);
    return;
  }
  cl->state = S_DISC;
  send_discovery(cl);
}

static int read_key(json_t *arr, uint8_t key[DV_KEY_LEN]) {
  if (!json_is_array(arr) || json_array_size(arr) != DV_KEY_LEN) return -1;
  for (size_t i = 0; i < DV_KEY_LEN; i++) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255) return -1;
    key[i] = (uint8_t)json_integer_value(v);
  }
  return 0;
}

static void client_joined(client_t *cl) {
  lg_control_t *c = cl->ctl;
  lg_client_t *lc = &c->run->clients[cl->idx];
  cl->t[T_DONE] = lg_now_ns();
  cl->state = S_JOINED;
  c->in_flight--;
  c->joined++;
  if (lc->slot < c->run->opt.speakers)
    send_op(&cl->ws, 5,
            json_pack("{s:i, s:i, s:I}", "speaking", 1, "delay", 0, "ssrc", (json_int_t)lc->ssrc));
}

/* Op 4 of the webrtc mode: the eight-line partial answer; the media
 * thread then runs ICE and DTLS (the join ends when SRTP is keyed). */
static void gw_session_webrtc(client_t *cl, json_t *d) {
  lg_run_t *run = cl->ctl->run;
  lg_client_t *lc = &run->clients[cl->idx];
  const char *sdp = json_string_value(json_object_get(d, "sdp"));
  if (cl->state != S_SELECT || !sdp ||
      lg_rtc_answer(lc->rtc, sdp, strlen(sdp), lc->ssrc, run->socks[lc->sock], &lc->media) < 0) {
    fail_client(cl, "bad webrtc Session Description");
    return;
  }
  cl->state = S_RTC;
}

static void gw_session(client_t *cl, json_t *d) {
  lg_control_t *c = cl->ctl;
  lg_client_t *lc = &c->run->clients[cl->idx];
  uint8_t key[DV_KEY_LEN];
  if (lc->rtc) {
    gw_session_webrtc(cl, d);
    return;
  }
  const char *mode = NULL;
  int m = json_unpack(d, "{s:s}", "mode", &mode) == 0 ? dv_mode_from_name(mode) : -1;
  if (cl->state != S_SELECT || m < 0 || strcmp(mode, c->run->opt.mode) != 0 ||
      read_key(json_object_get(d, "secret_key"), key) < 0) {
    fail_client(cl, "bad Session Description");
    return;
  }
  dv_cipher_free(lc->cipher);
  lc->cipher = dv_cipher_new((dv_mode_t)m, key);
  if (!lc->cipher) {
    fail_client(cl, "cannot create the cipher");
    return;
  }
  client_joined(cl);
}

static void gw_hello(client_t *cl, json_t *d) {
  json_t *hb = json_object_get(d, "heartbeat_interval");
  int64_t ms = json_is_number(hb) ? (int64_t)json_number_value(hb) : 0;
  if (ms < 100) ms = 100; /* never spin on a nonsense interval */
  cl->hb_ns = ms_to_ns(ms);
  /* The first one anywhere in the interval: clients that joined together
   * would otherwise beat together for good, while real ones, which join
   * at different times, reach the server spread out. */
  cl->next_hb =
      lg_now_ns() + (int64_t)((double)rand() / ((double)RAND_MAX + 1) * (double)cl->hb_ns);
}

static void gw_on_text(void *owner, const char *text, size_t len) {
  client_t *cl = owner;
  json_t *msg = json_loadb(text, len, 0, NULL);
  json_t *op = json_object_get(msg, "op"), *d = json_object_get(msg, "d");
  json_t *seq = json_object_get(msg, "seq");
  if (json_is_integer(seq)) cl->seq = json_integer_value(seq);
  switch (json_is_integer(op) ? json_integer_value(op) : -1) {
    case 2: gw_ready(cl, d); break;
    case 4: gw_session(cl, d); break;
    case 8: gw_hello(cl, d); break;
    case -1: fail_client(cl, "undecodable gateway message"); break;
    default: break; /* 5, 6, 11, 13: nothing to do for a load client */
  }
  json_decref(msg);
}

static void gw_on_close(void *owner, int failed) {
  client_t *cl = owner;
  (void)failed;
  if (cl->state == S_JOINED) {
    if (!cl->ctl->shutting_down) cl->ctl->dropped++;
    return;
  }
  fail_client(cl, "gateway connection closed");
}

static const lg_ws_ops_t gw_ops = {gw_on_open, gw_on_text, gw_on_close};

/* ---- LVSP: the Litecord stand-in ---------------------------------------- */

static void start_gateway(client_t *cl, json_t *info) {
  const char *sid = NULL, *tok = NULL, *ep = NULL;
  char host[64];
  int port = 0;
  if (json_unpack(info, "{s:s, s:s, s:s}", "session_id", &sid, "token", &tok, "endpoint", &ep) <
          0 ||
      strlen(sid) >= sizeof cl->session_id || strlen(tok) >= sizeof cl->token ||
      sscanf(ep, "%63[^:]:%d", host, &port) != 2 || port < 1 || port > 65535) {
    fail_client(cl, "VST reply without session_id/token/endpoint");
    return;
  }
  cl->t[T_INFO] = lg_now_ns();
  snprintf(cl->session_id, sizeof cl->session_id, "%s", sid);
  snprintf(cl->token, sizeof cl->token, "%s", tok);
  cl->state = S_CONNECT;
  lg_ws_connect(cl->ctl->ws, &cl->ws, host, port, GW_PATH, &gw_ops, cl);
}

static void lvsp_info(lg_control_t *c, json_t *d) {
  json_t *info = json_object_get(d, "info");
  json_t *type = json_object_get(d, "type");
  const char *uid = json_string_value(json_object_get(info, "user_id"));
  if (!json_is_integer(type) || json_integer_value(type) != 1 || !uid) return;
  unsigned long long u = strtoull(uid, NULL, 10);
  if (u < USER_BASE || u - USER_BASE >= (unsigned long long)c->run->n_clients) return;
  client_t *cl = &c->clients[u - USER_BASE];
  if (cl->state == S_VST) start_gateway(cl, info);
}

static void lvsp_hello(lg_control_t *c, json_t *d) {
  const char *nonce = json_string_value(json_object_get(d, "nonce"));
  json_t *hb = json_object_get(d, "heartbeat_interval");
  char mac[65];
  int64_t ms = json_is_number(hb) ? (int64_t)json_number_value(hb) : 0;
  c->lvsp_hb_ns = ms_to_ns(ms < 100 ? 100 : ms);
  c->lvsp_next_hb = lg_now_ns() + c->lvsp_hb_ns;
  if (!nonce || sc_token_hmac_sha256_hex(mac, sizeof mac, c->cfg.secret, strlen(c->cfg.secret),
                                         nonce, strlen(nonce)) < 0) {
    fprintf(stderr, "lcv_loadgen: LVSP HELLO without a nonce\n");
    lg_ws_close(&c->lvsp);
    return;
  }
  send_op(&c->lvsp, 1, json_pack("{s:s}", "token", mac));
}

static void lvsp_on_text(void *owner, const char *text, size_t len) {
  lg_control_t *c = owner;
  json_t *msg = json_loadb(text, len, 0, NULL);
  json_t *op = json_object_get(msg, "op"), *d = json_object_get(msg, "d");
  switch (json_is_integer(op) ? json_integer_value(op) : -1) {
    case 0: lvsp_hello(c, d); break;
    case 3: c->lvsp_ready = 1; break;
    case 6: lvsp_info(c, d); break;
    default: break;
  }
  json_decref(msg);
}

static void lvsp_on_open(void *owner) {
  (void)owner; /* the server speaks first: HELLO */
}

static void lvsp_on_close(void *owner, int failed) {
  lg_control_t *c = owner;
  c->lvsp_closed = 1;
  if (!c->shutting_down)
    fprintf(stderr, "lcv_loadgen: LVSP link %s\n", failed ? "failed" : "closed");
}

static const lg_ws_ops_t lvsp_ops = {lvsp_on_open, lvsp_on_text, lvsp_on_close};

static void send_vst(lg_control_t *c, client_t *cl) {
  lg_client_t *lc = &c->run->clients[cl->idx];
  char uid[24], cid[24], gid[24];
  snprintf(uid, sizeof uid, "%llu", USER_BASE + (unsigned long long)cl->idx);
  snprintf(cid, sizeof cid, "%llu", CHANNEL_BASE + (unsigned long long)lc->room);
  snprintf(gid, sizeof gid, "%llu", GUILD_BASE + (unsigned long long)lc->room);
  cl->state = S_VST;
  c->in_flight++;
  cl->t[T_VST] = lg_now_ns();
  send_op(&c->lvsp, 7,
          json_pack("{s:s, s:s, s:s}", "user_id", uid, "channel_id", cid, "guild_id", gid));
}

/* ---- discovery answers (media thread -> main) ---------------------------- */

void lg_control_on_datagram(void *ctx, int sock, const uint8_t *buf, size_t len) {
  lg_control_t *c = ctx;
  disc_t d;
  (void)sock;
  if (dv_discovery_parse_response(buf, len, &d.ssrc, d.ip, sizeof d.ip, &d.port) < 0) return;
  pthread_mutex_lock(&c->lock);
  if (c->disc_n < c->disc_cap) c->disc[c->disc_n++] = d;
  pthread_mutex_unlock(&c->lock);
  lg_wsctx_wake(c->ws);
}

static void select_protocol(client_t *cl, const disc_t *d) {
  cl->state = S_SELECT;
  cl->t[T_SELECT] = lg_now_ns();
  send_op(&cl->ws, 1,
          json_pack("{s:s, s:{s:s, s:i, s:s}}", "protocol", "udp", "data", "address", d->ip, "port",
                    (int)d->port, "mode", cl->ctl->run->opt.mode));
}

static void drain_discovery(lg_control_t *c) {
  disc_t batch[64];
  int n;
  do {
    pthread_mutex_lock(&c->lock);
    n = c->disc_n < 64 ? c->disc_n : 64;
    memcpy(batch, c->disc + c->disc_n - n, sizeof *batch * (size_t)n);
    c->disc_n -= n;
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < n; i++) {
      int idx = lg_run_map_find(c->run, batch[i].ssrc);
      if (idx >= 0 && c->clients[idx].state == S_DISC) select_protocol(&c->clients[idx], &batch[i]);
    }
  } while (n == 64);
}

static void on_wake(void *ctx) {
  drain_discovery(ctx);
}

/* ---- the pump ------------------------------------------------------------ */

static void heartbeat(lg_control_t *c, client_t *cl, int64_t now) {
  if (cl->state != S_JOINED || !cl->hb_ns || now < cl->next_hb) return;
  cl->next_hb = now + cl->hb_ns;
  c->heartbeats++;
  send_op(
      &cl->ws, 3,
      json_pack("{s:I, s:I}", "t", (json_int_t)(now / 1000000), "seq_ack", (json_int_t)cl->seq));
}

/* Retries and heartbeats: a scan over all clients, at most every 5 ms. */
static void scan_clients(lg_control_t *c, int64_t now) {
  if (now - c->last_scan < SCAN_NS) return;
  c->last_scan = now;
  for (int i = 0; i < c->run->n_clients; i++) {
    client_t *cl = &c->clients[i];
    if (cl->state == S_RTC) {
      lg_rtc_t *rtc = c->run->clients[i].rtc;
      lg_rtc_state_t st = lg_rtc_state(rtc);
      if (st == LG_RTC_CONNECTED) client_joined(cl);
      if (st == LG_RTC_FAILED) fail_client(cl, lg_rtc_error(rtc));
    }
    if (cl->state == S_DISC && now - cl->t_disc > DISC_RETRY_NS) {
      if (cl->disc_tries >= DISC_TRIES)
        fail_client(cl, "no IP discovery answer");
      else
        send_discovery(cl);
    }
    heartbeat(c, cl, now);
  }
}

static void periodic(lg_control_t *c, int inflight) {
  int64_t now = lg_now_ns();
  drain_discovery(c);
  scan_clients(c, now);
  while (inflight > 0 && c->in_flight < inflight && c->next_client < c->run->n_clients &&
         lg_ws_is_open(&c->lvsp))
    send_vst(c, &c->clients[c->next_client++]);
  if (lg_ws_is_open(&c->lvsp) && c->lvsp_hb_ns && now >= c->lvsp_next_hb) {
    c->lvsp_next_hb = now + c->lvsp_hb_ns;
    send_op(&c->lvsp, 4, json_pack("{s:I}", "s", (json_int_t)++c->lvsp_s));
  }
}

void lg_control_pump(void *ctx, int ms) {
  lg_control_t *c = ctx;
  int64_t until = lg_now_ns() + ms_to_ns(ms);
  do {
    lg_wsctx_service(c->ws);
    periodic(c, 0);
  } while (lg_now_ns() < until);
}

void lg_control_pump_quiet(void *ctx, int ms) {
  lg_control_t *c = ctx;
  int64_t now = lg_now_ns(), until = now + ms_to_ns(ms);
  while (now < until) {
    if (now - c->last_quiet >= ms_to_ns(STEP_PUMP_MS)) {
      c->last_quiet = now;
      lg_wsctx_poll(c->ws);
      periodic(c, 0);
    }
    int64_t next = c->last_quiet + ms_to_ns(STEP_PUMP_MS);
    int64_t nap = (next < until ? next : until) - lg_now_ns();
    if (nap > 0) {
      struct timespec ts = {(time_t)(nap / 1000000000), (long)(nap % 1000000000)};
      nanosleep(&ts, NULL);
    }
    now = lg_now_ns();
  }
}

/* ---- API ----------------------------------------------------------------- */

lg_control_t *lg_control_new(lg_run_t *run, const lg_control_cfg_t *cfg) {
  lg_control_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->run = run;
  c->cfg = *cfg;
  c->clients = calloc((size_t)run->n_clients, sizeof *c->clients);
  c->disc_cap = run->n_clients * 2 + 64;
  c->disc = calloc((size_t)c->disc_cap, sizeof *c->disc);
  pthread_mutex_init(&c->lock, NULL);
  c->ws = c->clients && c->disc ? lg_wsctx_new(cfg->tls, cfg->ca_file, on_wake, c) : NULL;
  if (!c->ws) {
    lg_control_free(c);
    return NULL;
  }
  for (int i = 0; i < run->n_clients; i++) {
    c->clients[i].ctl = c;
    c->clients[i].idx = i;
  }
  return c;
}

int lg_control_connect(lg_control_t *c, int timeout_ms) {
  int64_t deadline = lg_now_ns() + ms_to_ns(timeout_ms);
  lg_ws_connect(c->ws, &c->lvsp, "127.0.0.1", c->cfg.lvsp_port, "/", &lvsp_ops, c);
  while (!c->lvsp_ready && !c->lvsp_closed && lg_now_ns() < deadline) lg_wsctx_service(c->ws);
  return c->lvsp_ready && !c->lvsp_closed ? 0 : -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p) {
  int rank = (int)(p / 100.0 * n + 0.999999);
  return n ? sorted[(rank < 1 ? 1 : rank) - 1] : 0;
}

/* Percentiles of stage [from, to) over the joined clients into *p50..*max. */
static void stage_pcts(lg_control_t *c, double *t, int from, int to, double *p50, double *p99,
                       double *max) {
  int n = 0;
  for (int i = 0; i < c->run->n_clients; i++) {
    client_t *cl = &c->clients[i];
    if (cl->state == S_JOINED) t[n++] = (double)(cl->t[to] - cl->t[from]) / 1e6;
  }
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  *p50 = pct(t, n, 50);
  *p99 = pct(t, n, 99);
  if (max) *max = n ? t[n - 1] : 0;
}

static void join_stats(lg_control_t *c, lg_join_stats_t *out) {
  double *t = malloc(sizeof *t * (size_t)(c->run->n_clients ? c->run->n_clients : 1));
  int64_t first = INT64_MAX, last = 0;
  for (int i = 0; i < c->run->n_clients; i++) {
    client_t *cl = &c->clients[i];
    if (cl->state != S_JOINED) continue;
    if (cl->t[T_VST] < first) first = cl->t[T_VST];
    if (cl->t[T_DONE] > last) last = cl->t[T_DONE];
  }
  *out = (lg_join_stats_t){.n = c->run->n_clients,
                           .joined = c->joined,
                           .failed = c->failed,
                           .wall_s = c->joined ? (double)(last - first) / 1e9 : 0};
  if (!t) return;
  stage_pcts(c, t, T_VST, T_DONE, &out->p50_ms, &out->p99_ms, &out->max_ms);
  for (int k = 0; k < LG_JOIN_STAGES; k++)
    stage_pcts(c, t, k, k + 1, &out->stage_p50_ms[k], &out->stage_p99_ms[k], NULL);
  free(t);
}

int lg_control_join(lg_control_t *c, int inflight, int timeout_ms, lg_join_stats_t *out) {
  int64_t deadline = lg_now_ns() + ms_to_ns(timeout_ms);
  int n = c->run->n_clients;
  while (c->joined + c->failed < n && !c->lvsp_closed && lg_now_ns() < deadline) {
    periodic(c, inflight);
    lg_wsctx_service(c->ws);
  }
  join_stats(c, out);
  if (c->joined < n)
    fprintf(stderr, "lcv_loadgen: %d of %d clients joined (%d failed%s)\n", c->joined, n, c->failed,
            lg_now_ns() >= deadline ? ", setup timed out" : "");
  return c->joined == n ? 0 : -1;
}

int lg_control_dropped(const lg_control_t *c) {
  return c->dropped;
}

uint64_t lg_control_heartbeats(const lg_control_t *c) {
  return c->heartbeats;
}

void lg_control_free(lg_control_t *c) {
  if (!c) return;
  c->shutting_down = 1;
  lg_wsctx_free(c->ws); /* closes every connection: callbacks still see c */
  pthread_mutex_destroy(&c->lock);
  free(c->disc);
  free(c->clients);
  free(c);
}
