/*
 * vx_proto: see vx_proto.h.
 */
#include "vx_proto.h"

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "sc_dtls.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_metrics.h"
#include "vx_msg.h"
#include "vx_session.h"
#include "vx_settings.h"

#define VX_CANDIDATE_PRIORITY 1076558079 /* what mediasoup gives a UDP host candidate */

/* Which state a request needs. */
enum { NEED_NONE = 0, NEED_AUTH, NEED_TRANSPORTS };

typedef void (*handler_fn)(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r);

/* ---- shapes ------------------------------------------------------------------ */

static json_t *opus_codec(const char *pt_key) {
  return json_pack("{s:s, s:s, s:i, s:i, s:i, s:{s:i, s:i}, s:[]}", "kind", "audio", "mimeType",
                   "audio/opus", pt_key, VX_ROUTER_OPUS_PT, "clockRate", 48000, "channels", 2,
                   "parameters", "minptime", 10, "useinbandfec", 1, "rtcpFeedback");
}

/* The router's capabilities: Opus stereo on PT 100 and the audio level. */
static json_t *router_caps(void) {
  return json_pack("{s:[o], s:[{s:s, s:s, s:i, s:b, s:s}]}", "codecs",
                   opus_codec("preferredPayloadType"), "headerExtensions", "kind", "audio", "uri",
                   VX_URI_AUDIO_LEVEL, "preferredId", VX_ROUTER_LEVEL_ID, "preferredEncrypt", 0,
                   "direction", "sendrecv");
}

static json_t *transport_json(vx_front_t *f, vx_session_t *s, vx_dir_t d) {
  const vx_transport_t *t = &s->t[d];
  uint8_t fp[SC_DTLS_FP_LEN];
  char fp_text[VX_FP_LEN * 3];
  sc_dtls_ctx_fingerprint_bytes(f->app->dtls, fp);
  vx_msg_format_fp(fp, fp_text);
  int port = sc_media_port_for_room(f->app->media, s->vs->channel->room_id);
  /* role "server": mediasoup-client makes the browser the DTLS client. */
  return json_pack(
      "{s:s, s:{s:s, s:s, s:b}, s:[{s:s, s:i, s:s, s:s, s:s, s:i, s:s}], "
      "s:{s:s, s:[{s:s, s:s}]}, s:n}",
      "id", t->id, "iceParameters", "usernameFragment", t->ufrag, "password", t->pwd, "iceLite", 1,
      "iceCandidates", "foundation", "udpcandidate", "priority", VX_CANDIDATE_PRIORITY, "ip",
      s->candidate_ip, "address", s->candidate_ip, "protocol", "udp", "port", port, "type", "host",
      "dtlsParameters", "role", "server", "fingerprints", "algorithm", "sha-256", "value", fp_text,
      "sctpParameters");
}

static void add_user(sc_vstate_t *peer, void *arg) {
  json_object_set_new(arg, peer->user_id,
                      json_pack("{s:b}", "audio", vx_session_peer_has_audio(peer)));
}

/* ---- handlers ---------------------------------------------------------------- */

static void fail(vx_conn_t *c, int code, const char *why) {
  vx_conn_close(c, code, why);
}

static void h_authenticate(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  if (s) {
    fail(c, VX_CLOSE_WRONG_STATE, "already authenticated");
    return;
  }
  sc_vstate_t *vs = sc_registry_find_token(f->app->registry, r->token, strlen(r->token));
  /* One answer for an unknown token and a token of another room. */
  if (!vs || !vs->channel || strcmp(vs->channel->id, r->room_id) != 0) {
    fail(c, VX_CLOSE_BAD_TOKEN, "invalid token for this room");
    return;
  }
  vx_settings_t *set = vx_settings(f->app);
  s = vx_session_attach(f->app, c, vs, set->candidate_ip);
  if (!s) {
    fail(c, VX_CLOSE_SERVER_ERROR, "out of memory");
    return;
  }
  f->authenticated++;
  vx_conn_reply(
      c, r->id, r->type,
      json_pack("{s:s, s:s, s:o, s:s}", "userId", vs->user_id, "roomId", vs->channel->id,
                "rtpCapabilities", router_caps(), "version", "litecord-voice " SC_VERSION));
}

static void h_room_info(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  json_t *users = json_object();
  json_object_set_new(users, s->vs->user_id, json_pack("{s:b}", "audio", s->producing));
  sc_registry_each_peer(s->vs->channel, s->vs, add_user, users);
  vx_conn_reply(
      c, r->id, r->type,
      json_pack("{s:s, s:b, s:o}", "id", s->vs->channel->id, "videoAllowed", 0, "users", users));
}

static void h_init(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  vx_err_t e = VX_ERR_TRANSPORT_CONNECTION_FAILURE;
  if (!r->split_webrtc) {
    vx_conn_error(c, r->id, r->type, e, "only mode SplitWebRTC is supported");
    return;
  }
  if (!r->caps_opus_stereo) {
    vx_conn_error(c, r->id, r->type, e, "rtpCapabilities: no audio/opus 48000 with 2 channels");
    return;
  }
  int rc = vx_session_init_transports(s, r->caps_audio_level);
  if (rc == -EALREADY) {
    vx_conn_error(c, r->id, r->type, e, "transports already initialized");
    return;
  }
  if (rc < 0) {
    fail(c, VX_CLOSE_SERVER_ERROR, rc == -ENOTSUP ? "no WebRTC transport" : "out of memory");
    return;
  }
  vx_conn_reply(c, r->id, r->type,
                json_pack("{s:o, s:o}", "sendTransport", transport_json(f, s, VX_SEND),
                          "recvTransport", transport_json(f, s, VX_RECV)));
}

static void h_connect(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  vx_err_t e = VX_ERR_TRANSPORT_CONNECTION_FAILURE;
  int d = vx_session_transport_dir(s, r->obj_id);
  if (d < 0) {
    vx_conn_error(c, r->id, r->type, e, "no such transport");
    return;
  }
  if (!r->has_fp) {
    vx_conn_error(c, r->id, r->type, e, "dtlsParameters: need a sha-256 fingerprint");
    return;
  }
  int rc = vx_session_connect(s, (vx_dir_t)d, r->fp);
  if (rc == -ENOMEM) {
    fail(c, VX_CLOSE_SERVER_ERROR, "out of memory");
    return;
  }
  if (rc < 0) {
    vx_conn_error(c, r->id, r->type, e,
                  rc == -EALREADY ? "transport already connected" : "no transport left");
    return;
  }
  vx_conn_reply(c, r->id, r->type, NULL);
}

static void h_produce(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  vx_err_t e = VX_ERR_PRODUCER_FAILURE;
  if (r->kind != VX_KIND_AUDIO) {
    vx_conn_error(c, r->id, r->type, e, "only audio is produced");
    return;
  }
  if (r->opus_pt < 0) {
    vx_conn_error(c, r->id, r->type, e, "rtpParameters: first codec must be audio/opus 48000");
    return;
  }
  int rc = vx_session_produce(s, r->opus_pt, r->audio_level_id, r->ssrc);
  static const struct {
    int rc;
    const char *why;
  } reasons[] = {
      {-EALREADY, "already producing audio"},
      {-EPERM, "server muted or suppressed"},
      {-ENOTCONN, "send transport not connected"},
  };
  if (rc == -ENOMEM) {
    fail(c, VX_CLOSE_SERVER_ERROR, "out of memory");
    return;
  }
  for (size_t i = 0; rc < 0 && i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].rc == rc) {
      vx_conn_error(c, r->id, r->type, e, reasons[i].why);
      return;
    }
  vx_conn_reply(c, r->id, r->type, json_pack("{s:s}", "producerId", s->vs->user_id));
}

static void h_stop_produce(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  if (r->kind != VX_KIND_AUDIO || vx_session_stop_produce(s) < 0) {
    vx_conn_error(c, r->id, r->type, VX_ERR_PRODUCER_NOT_FOUND, "no such producer");
    return;
  }
  vx_conn_reply(c, r->id, r->type, NULL);
}

static json_t *consumer_params(const vx_session_t *s, const vx_consumer_t *k) {
  char mid[12], cname[SC_ID_MAX + 4];
  snprintf(mid, sizeof mid, "%u", k->mid);
  snprintf(cname, sizeof cname, "vx-%s", k->user_id);
  json_t *exts = json_array();
  if (s->client_level)
    json_array_append_new(exts, json_pack("{s:s, s:i, s:b}", "uri", VX_URI_AUDIO_LEVEL, "id",
                                          VX_ROUTER_LEVEL_ID, "encrypt", 0));
  json_t *codec = opus_codec("payloadType");
  json_object_del(codec, "kind");
  return json_pack("{s:s, s:[o], s:o, s:[{s:I}], s:{s:s, s:b, s:b}}", "mid", mid, "codecs", codec,
                   "headerExtensions", exts, "encodings", "ssrc", (json_int_t)k->out_ssrc, "rtcp",
                   "cname", cname, "reducedSize", 1, "mux", 1);
}

static void h_consume(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  if (r->kind != VX_KIND_AUDIO) {
    vx_conn_error(c, r->id, r->type, VX_ERR_CONSUMER_FAILURE, "only audio is consumed");
    return;
  }
  int err = 0;
  const vx_consumer_t *k = vx_session_consume(s, r->user_id, &err);
  if (!k) {
    vx_err_t e = err == -ENOENT   ? VX_ERR_USER_NOT_FOUND
                 : err == -EAGAIN ? VX_ERR_PRODUCER_NOT_FOUND
                                  : VX_ERR_CONSUMER_FAILURE;
    const char *why = err == -ENOENT     ? "no such user in the room"
                      : err == -EAGAIN   ? "the user has no audio producer"
                      : err == -EALREADY ? "already consuming that user"
                      : err == -ENOMEM   ? "out of memory"
                                         : "too many consumers";
    vx_conn_error(c, r->id, r->type, e, why);
    return;
  }
  vx_conn_reply(c, r->id, r->type,
                json_pack("{s:s, s:s, s:s, s:o}", "id", k->id, "producerId", k->user_id, "kind",
                          "audio", "rtpParameters", consumer_params(s, k)));
}

static void h_stop_consume(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  if (vx_session_stop_consume(s, r->obj_id) < 0) {
    vx_conn_error(c, r->id, r->type, VX_ERR_CONSUMER_NOT_FOUND, "no such consumer");
    return;
  }
  vx_conn_reply(c, r->id, r->type, NULL);
}

static void h_pause(vx_front_t *f, vx_conn_t *c, vx_session_t *s, const vx_req_t *r) {
  (void)f;
  int rc = vx_session_pause(s, r->obj_id, r->paused);
  if (rc < 0) {
    vx_conn_error(c, r->id, r->type,
                  rc == -ENOENT ? VX_ERR_CONSUMER_NOT_FOUND : VX_ERR_CONSUMER_FAILURE,
                  rc == -ENOENT ? "no such consumer" : "too many sources forwarded");
    return;
  }
  vx_conn_reply(c, r->id, r->type, NULL);
}

static const struct {
  int need;
  handler_fn fn;
} table[VX_REQ_COUNT] = {
    [VX_REQ_AUTHENTICATE] = {NEED_NONE, h_authenticate},
    [VX_REQ_ROOM_INFO] = {NEED_AUTH, h_room_info},
    [VX_REQ_INIT_TRANSPORTS] = {NEED_AUTH, h_init},
    [VX_REQ_CONNECT_TRANSPORT] = {NEED_TRANSPORTS, h_connect},
    [VX_REQ_START_PRODUCE] = {NEED_TRANSPORTS, h_produce},
    [VX_REQ_STOP_PRODUCE] = {NEED_TRANSPORTS, h_stop_produce},
    [VX_REQ_START_CONSUME] = {NEED_TRANSPORTS, h_consume},
    [VX_REQ_STOP_CONSUME] = {NEED_TRANSPORTS, h_stop_consume},
    [VX_REQ_SET_CONSUMER_PAUSE] = {NEED_TRANSPORTS, h_pause},
};

/* ---- entry points -------------------------------------------------------------- */

void vx_proto_open(vx_front_t *f, vx_conn_t *c, const vx_io_t *io, void *io_ctx) {
  vx_conn_init(c, io, io_ctx, &f->counts);
  f->connections++;
}

/* A readable request: the state's verdict, then its handler. */
static void dispatch(vx_front_t *f, vx_conn_t *c, const vx_req_t *r) {
  f->counts.requests[r->type]++;
  vx_session_t *s = c->session;
  int need = table[r->type].need;
  if ((need >= NEED_AUTH && !s) || (need == NEED_TRANSPORTS && !s->transports)) {
    fail(c, VX_CLOSE_WRONG_STATE, !s ? "authenticate first" : "initialize transports first");
    return;
  }
  table[r->type].fn(f, c, s, r);
}

void vx_proto_text(vx_front_t *f, vx_conn_t *c, const char *buf, size_t len) {
  if (c->closing) return;
  vx_req_t r;
  char why[64];
  vx_parse_t p = vx_msg_parse(buf, len, &r, why, sizeof why);
  if (p != VX_PARSE_OK) {
    f->counts.refused[p]++;
    fail(c, VX_CLOSE_UNPARSABLE, why);
  } else {
    dispatch(f, c, &r);
  }
  sodium_memzero(r.token, sizeof r.token); /* a voice token never outlives its frame */
}

void vx_proto_binary(vx_front_t *f, vx_conn_t *c) {
  (void)f, (void)c;
}

void vx_proto_oversize(vx_front_t *f, vx_conn_t *c) {
  (void)f;
  fail(c, VX_CLOSE_TOO_BIG, "message too big");
}

void vx_proto_auth_deadline(vx_front_t *f, vx_conn_t *c) {
  (void)f;
  if (!c->session) fail(c, VX_CLOSE_BAD_TOKEN, "authentication timeout");
}

void vx_proto_closed(vx_front_t *f, vx_conn_t *c) {
  (void)f;
  if (c->session) vx_session_end(c->session, 0, "socket closed");
  c->session = NULL;
}

static json_t *counts_json(const uint64_t *v, int n, const char *(*name)(int)) {
  json_t *o = json_object();
  for (int i = 0; i < n; i++)
    if (v[i]) json_object_set_new(o, name(i), json_integer((json_int_t)v[i]));
  return o;
}

static const char *req_name(int i) {
  return vx_msg_type_name((vx_req_type_t)i);
}
static const char *parse_name(int i) {
  return vx_msg_parse_name((vx_parse_t)i);
}
static const char *err_name(int i) {
  return vx_conn_err_name((vx_err_t)i);
}

json_t *vx_proto_status(const vx_front_t *f) {
  json_t *closes = json_object();
  for (int i = 0; i <= VX_CLOSE_KINDS; i++) {
    char code[12];
    snprintf(code, sizeof code, "%d", vx_conn_close_code(i));
    if (f->counts.closes[i])
      json_object_set_new(closes, i < VX_CLOSE_KINDS ? code : "other",
                          json_integer((json_int_t)f->counts.closes[i]));
  }
  return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "authenticated", (json_int_t)f->authenticated,
                   "connections", (json_int_t)f->connections, "requests",
                   counts_json(f->counts.requests, VX_REQ_COUNT, req_name), "refused",
                   counts_json(f->counts.refused, VX_PARSE_COUNT, parse_name), "errors",
                   counts_json(f->counts.errors, VX_ERR_COUNT, err_name), "closes", closes);
}

/* One counter family with a label per non-zero slot: its name, or for
 * closes the code (slot is NULL). */
static void family(sc_metrics_t *m, const char *name, const char *help, const char *label,
                   const uint64_t *v, int n, const char *(*slot)(int)) {
  sc_metrics_family(m, name, SC_METRIC_COUNTER, help);
  for (int i = 0; i < n; i++) {
    char code[16];
    if (!v[i]) continue;
    if (!slot) snprintf(code, sizeof code, "%d", vx_conn_close_code(i));
    sc_label_t l = {label, slot ? slot(i) : i < VX_CLOSE_KINDS ? code : "other"};
    sc_metrics_sample_u64(m, &l, 1, v[i]);
  }
}

void vx_proto_metrics(const vx_front_t *f, sc_metrics_t *m) {
  sc_metrics_counter(m, "litecord_voice_vortex_connections_total", "Vortex sockets opened",
                     f->connections);
  sc_metrics_counter(m, "litecord_voice_vortex_authenticated_total",
                     "Vortex sockets that authenticated", f->authenticated);
  family(m, "litecord_voice_vortex_requests_total", "Vortex requests read, by type", "type",
         f->counts.requests, VX_REQ_COUNT, req_name);
  family(m, "litecord_voice_vortex_refused_total", "Vortex frames refused unread (close 1003)",
         "verdict", f->counts.refused, VX_PARSE_COUNT, parse_name);
  family(m, "litecord_voice_vortex_errors_total", "Vortex error replies, by error", "error",
         f->counts.errors, VX_ERR_COUNT, err_name);
  family(m, "litecord_voice_vortex_closes_total", "Vortex sockets closed by the server, by code",
         "code", f->counts.closes, VX_CLOSE_KINDS + 1, NULL);
}
