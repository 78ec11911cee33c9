/*
 * dv_gateway: see dv_gateway.h. The opcode table with a field table per
 * opcode, its handlers, and the gateway object. The socket is dv_conn.c;
 * numbering, resume, budgets and the room are dv_session.c.
 */
#include "dv_gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dv_video.h"
#include "dv_webrtc.h"
#include "dv_webrtc_call.h"
#include "sc_jcheck.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_registry.h"
#include "sc_token.h"

static int64_t monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- failing ------------------------------------------------------------ */

/* Closes with an error code; a session on the socket ends with it (the
 * client must identify anew, as Discord's codes other than 4015 mean). */
static void conn_fail(dv_conn_t *c, int code, const char *reason) {
  dv_session_t *s = c->session;
  dv_conn_close(c, code, reason);
  if (s) dv_session_end(s, 0, reason);
}

static void on_heartbeat_deadline(dv_timer_t *t) {
  dv_conn_t *c = (dv_conn_t *)((char *)t - offsetof(dv_conn_t, heartbeat));
  conn_fail(c, DV_CLOSE_SESSION_TIMEOUT, "no heartbeat in time");
}

/* ---- Identify -------------------------------------------------------------- */

static json_t *modes_json(const dv_modes_t *m) {
  json_t *a = json_array();
  for (int i = 0; i < m->n; i++) json_array_append_new(a, json_string(dv_mode_name(m->modes[i])));
  return a;
}

static void send_ready(dv_session_t *s, const dv_modes_t *modes, json_t *streams) {
  sc_app_t *app = s->tab->app;
  sc_vstate_t *vs = s->vs;
  uint16_t port = app->media ? sc_media_port_for_room(app->media, vs->channel->room_id)
                             : app->cfg.udp_listen.port;
  dv_session_send(s, DV_OP_READY,
                  json_pack("{s:I, s:s, s:i, s:o, s:[], s:o}", "ssrc", (json_int_t)vs->ssrc, "ip",
                            dv_settings(app)->ready_ip, "port", (int)port, "modes",
                            modes_json(modes), "experiments", "streams", streams));
  dv_session_greet(s);
}

typedef struct {
  const char *server_id;
  int found;
} server_probe_t;

static void probe_channel(sc_channel_t *ch, void *arg) {
  server_probe_t *p = arg;
  const char *server = ch->guild_id[0] ? ch->guild_id : ch->id; /* as sc_vstate_t.server_id */
  if (ch->n_states && strcmp(server, p->server_id) == 0) p->found = 1;
}

/* 4004: wrong credentials, for a session we have or on a server where we
 * hold voice states; 4011: no voice state on that server at all
 * (docs/GATEWAY.md). Only failed Identifies pay for the channel scan. */
static int auth_failure_code(dv_gw_t *gw, const sc_vstate_t *vs, const char *server_id) {
  if (vs) return DV_CLOSE_AUTH_FAILED;
  server_probe_t p = {server_id, 0};
  sc_registry_each_channel(gw->app->registry, probe_channel, &p);
  return p.found ? DV_CLOSE_AUTH_FAILED : DV_CLOSE_SERVER_NOT_FOUND;
}

/* A new Identify for a state another socket holds: the newcomer wins. */
static int take_over(dv_conn_t *c, sc_vstate_t *vs) {
  if (!vs->ops) return 0;
  if (vs->ops != &dv_session_attach_ops) {
    conn_fail(c, DV_CLOSE_ALREADY_AUTHENTICATED, "session in use");
    return -1;
  }
  dv_session_end(vs->conn, DV_CLOSE_SESSION_INVALID, "session taken over by a new Identify");
  return 0;
}

/* A string field the opcode's table requires (present and a string). */
static const char *str_field(json_t *d, const char *key) {
  return json_string_value(json_object_get(d, key));
}

static void op_identify(dv_conn_t *c, json_t *d) {
  const char *server_id = str_field(d, "server_id"), *user_id = str_field(d, "user_id");
  const char *session_id = str_field(d, "session_id"), *token = str_field(d, "token");
  dv_gw_t *gw = c->gw;
  sc_vstate_t *vs = sc_registry_find_session(gw->app->registry, session_id);
  /* Always compare the token, so timing does not tell which field failed. */
  int ok = sc_token_equal(vs ? vs->token : "", token);
  if (!vs || !ok || strcmp(vs->user_id, user_id) != 0 || strcmp(vs->server_id, server_id) != 0) {
    int code = auth_failure_code(gw, vs, server_id);
    conn_fail(c, code,
              code == DV_CLOSE_SERVER_NOT_FOUND ? "unknown server" : "authentication failed");
    return;
  }
  /* DAVE is v8's (binary frames share its seq); a larger max is our 1. */
  json_t *mx = json_object_get(d, "max_dave_protocol_version");
  int dave_max = c->version >= 8 && json_is_integer(mx) && json_integer_value(mx) >= 1;
  if (!dave_max && dv_settings(gw->app)->dave_required) {
    conn_fail(c, DV_CLOSE_DAVE_REQUIRED, "E2EE/DAVE protocol required");
    return;
  }
  /* What the member's previous session spent of its relay budget stays
   * spent: re-identifying does not buy a fresh one. */
  dv_rate_t relay =
      vs->ops == &dv_session_attach_ops ? ((dv_session_t *)vs->conn)->relay : (dv_rate_t){0};
  if (take_over(c, vs) < 0) return;
  /* Before the attach, so the room's other front ends see it on join. */
  sc_registry_set_e2ee(vs, dave_max);
  /* A new client: its old address binding and key must not carry over. */
  if (gw->app->media) sc_media_reset(gw->app->media, vs->stats);
  sc_registry_release_ssrcs(gw->app->registry, vs);
  dv_session_t *s = dv_session_create(&gw->sessions, vs, c->version);
  if (!s) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "out of memory");
    return;
  }
  s->relay = relay;
  s->identified_us = monotonic_us();
  gw->metrics.identified++;
  dv_session_bind(s, c);
  if (dv_e2ee_join(&gw->e2ee, s, dave_max, dv_settings(gw->app)->dave) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "out of memory");
    return;
  }
  sc_log_info_ids("gateway", SC_VSTATE_IDS(vs), "identified (ssrc %u, v%d)", vs->ssrc, c->version);
  json_t *asked = json_object_get(d, "streams");
  send_ready(s, &gw->modes,
             json_is_array(asked) ? dv_video_assign_streams(s, asked) : json_array());
}

/* ---- Select Protocol ------------------------------------------------------- */

static int find_mode(const dv_modes_t *m, const char *name) {
  int mode = name ? dv_mode_from_name(name) : -1;
  for (int i = 0; mode >= 0 && i < m->n; i++)
    if ((int)m->modes[i] == mode) return mode;
  return -1;
}

/* The address Select Protocol names; used until an authenticated datagram
 * binds one. A broadcast, multicast, unspecified or port-0 address is
 * ignored (sc_media_post_peer_hint counts it): the client still gets its
 * Session Description. Returns -ENOMEM only if the hint was lost. */
static int post_peer_hint(dv_session_t *s, json_t *data) {
  const char *address = NULL;
  json_int_t port = 0;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  if (json_unpack(data, "{s:s, s:I}", "address", &address, "port", &port) < 0 || port < 0 ||
      port > 65535 || inet_pton(AF_INET, address, &sin->sin_addr) != 1)
    return 0;
  sin->sin_family = AF_INET;
  sin->sin_port = htons((uint16_t)port);
  int rc = sc_media_post_peer_hint(s->tab->app->media, s->vs->stats, &ss);
  if (rc == -EINVAL)
    sc_log_info_ids("gateway", SC_VSTATE_IDS(s->vs),
                    "select protocol address %s:%d not usable; ignored", address, (int)port);
  return rc == -ENOMEM ? -ENOMEM : 0;
}

/* The gateway that embeds the session's table. */
static dv_gw_t *gw_of(dv_session_t *s) {
  return (dv_gw_t *)((char *)s->tab - offsetof(dv_gw_t, sessions));
}

static void send_session_description(dv_session_t *s, const uint8_t key[DV_KEY_LEN]) {
  json_t *k = json_array();
  for (int i = 0; i < DV_KEY_LEN; i++) json_array_append_new(k, json_integer(key[i]));
  dv_session_send(
      s, DV_OP_SESSION_DESCRIPTION,
      json_pack("{s:s, s:o, s:s, s:s, s:s, s:i}", "mode", dv_mode_name(s->mode), "secret_key", k,
                "audio_codec", "opus", "video_codec", dv_codec_name(s->video_told - 1),
                "media_session_id", s->media_session_id, "dave_protocol_version",
                dv_e2ee_version_for(&gw_of(s)->e2ee, s)));
  dv_e2ee_described(&gw_of(s)->e2ee, s);
}

/* Hands the member's new key to the media plane: posted before op 4 goes
 * out, so it is in force before the client can send under it. */
static int install_cipher(dv_session_t *s, json_t *data, dv_mode_t mode) {
  uint8_t key[DV_KEY_LEN];
  sc_token_random(key, sizeof key);
  dv_cipher_t *cipher = dv_cipher_new(mode, key);
  if (!cipher) {
    sodium_memzero(key, sizeof key);
    return -1;
  }
  dv_cipher_set_gate(cipher, s->gate); /* DAVE frames only while the member is in E2EE */
  sc_app_t *app = s->tab->app;
  if (app->media) {
    /* A key the media plane never got would leave the client talking into
     * the void: no Session Description then (the caller closes 4020). */
    int rc = post_peer_hint(s, data);
    if (rc < 0)
      dv_cipher_free(cipher);
    else
      rc = sc_media_post_cipher(app->media, s->vs->stats, &dv_cipher_ops, cipher); /* owns it */
    if (rc < 0) {
      sodium_memzero(key, sizeof key);
      return -ENOMEM;
    }
  } else {
    dv_cipher_free(cipher);
  }
  s->mode = mode;
  s->selected = 1;

  sc_registry_set_transport(app->registry, s->vs, DV_TRANSPORT_KIND, dv_mode_name(mode));
  send_session_description(s, key);
  sodium_memzero(key, sizeof key);
  return 0;
}

/* The member's round-trip time for the admin view (docs/ADMIN.md): its
 * socket's, read at Select Protocol and at each heartbeat. */
static void note_rtt(dv_conn_t *c) {
  dv_session_t *s = c->session;
  int64_t rtt = dv_conn_rtt_us(c);
  if (s && s->vs && s->vs->stats && rtt > 0) s->vs->stats->rtt_us = rtt;
}

/* Select Protocol's data for "udp" (address and port: a hint, used only
 * when valid). */
static const sc_jfield_t select_udp_fields[] = {
    {"mode", SC_JT_STRING, SC_JF_REQUIRED},
};

/* The first Session Description after Identify ends the join time. */
static void observe_join(dv_conn_t *c) {
  dv_session_t *s = c->session;
  if (!s->identified_us) return;
  sc_metrics_observe(&c->gw->metrics.join_time, (double)(monotonic_us() - s->identified_us) / 1e6);
  s->identified_us = 0;
}

/* A WebRTC offer we cannot read: 4020 with the reason, counted, logged at
 * most every 10 s (anyone identified can send these in a loop). */
static void webrtc_refused(dv_conn_t *c, const char *why) {
  dv_session_stats_t *st = &c->session->tab->stats;
  st->webrtc_refused++;
  uint64_t lines =
      sc_log_limit(&st->webrtc_refused_log, (int64_t)dv_timers_now(&c->gw->timers), 10000);
  if (lines)
    sc_log_warn("gateway", "user %s: webrtc select protocol refused: %s (%llu refused so far)",
                c->session->vs->user_id, why, (unsigned long long)st->webrtc_refused);
  conn_fail(c, DV_CLOSE_BAD_REQUEST, why);
}

/* protocol "webrtc": the offer is checked here; dv_webrtc_select hands
 * it to the core's WebRTC transport and sends op 4 (4012 only when the
 * server has no DTLS certificate or no media plane). */
static void select_webrtc(dv_conn_t *c, json_t *d) {
  dv_webrtc_offer_t offer;
  char why[96];
  if (dv_webrtc_read_offer(d, &offer, why, sizeof why) < 0) {
    webrtc_refused(c, why);
    return;
  }
  /* op 4's DAVE version is the call's, as for UDP: the browser's own
   * client does DAVE in its encoded-frame transform; one that cannot has
   * identified with max 0 and the call is at 0. */
  int rc = dv_webrtc_select(c->session, &offer, dv_e2ee_version_for(&c->gw->e2ee, c->session));
  if (rc == 0) {
    dv_e2ee_described(&c->gw->e2ee, c->session);
    observe_join(c);
  } else if (rc == -ENOTSUP)
    conn_fail(c, DV_CLOSE_UNKNOWN_PROTOCOL, "unknown protocol: webrtc is not served yet");
  else
    conn_fail(c, DV_CLOSE_BAD_REQUEST, rc == -ENOMEM ? "out of memory" : "cannot start webrtc");
}

static void op_select_protocol(dv_conn_t *c, json_t *d) {
  const char *protocol = str_field(d, "protocol");
  json_t *data = json_object_get(d, "data");
  if (strcmp(protocol, "webrtc") == 0) {
    select_webrtc(c, d);
    return;
  }
  if (strcmp(protocol, "udp") != 0) {
    conn_fail(c, DV_CLOSE_UNKNOWN_PROTOCOL, "unknown protocol");
    return;
  }
  if (sc_jcheck(data, select_udp_fields, 1, NULL) < 0) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "select protocol needs data.mode");
    return;
  }
  const char *mode_name = str_field(data, "mode");
  int mode = find_mode(&c->gw->modes, mode_name);
  if (mode < 0) {
    conn_fail(c, DV_CLOSE_UNKNOWN_MODE, "unknown encryption mode");
    return;
  }
  dv_session_t *s = c->session;
  /* A native client's codecs count in the call's video codec too. */
  dv_codec_caps_read(json_object_get(d, "codecs"), &s->codecs);
  s->webrtc = 0;
  dv_webrtc_call_join(s);
  int rc = install_cipher(s, data, (dv_mode_t)mode);
  note_rtt(c);
  if (rc == 0) observe_join(c);
  if (rc < 0)
    conn_fail(c, DV_CLOSE_BAD_REQUEST,
              rc == -ENOMEM ? "out of memory" : "cannot prepare the cipher");
}

/* ---- Heartbeat, Speaking, Resume --------------------------------------- */

/* v8 sends {t, seq_ack} and gets {t}; older versions send and get the bare
 * nonce. Answer in the shape the client used. */
static void op_heartbeat(dv_conn_t *c, json_t *d) {
  dv_timer_arm(&c->heartbeat, c->gw->lim.hb_timeout_ms);
  note_rtt(c);
  if (json_is_object(d)) {
    json_t *t = json_object_get(d, "t"), *ack = json_object_get(d, "seq_ack");
    if (c->session && json_is_integer(ack)) dv_session_ack(c->session, json_integer_value(ack));
    dv_conn_send_op(c, DV_OP_HEARTBEAT_ACK, json_pack("{s:O}", "t", t ? t : json_null()));
  } else {
    dv_conn_send_op(c, DV_OP_HEARTBEAT_ACK, d ? json_incref(d) : json_null());
  }
}

static void op_speaking(dv_conn_t *c, json_t *d) {
  json_t *s = json_object_get(d, "speaking"); /* integer, or (pre-v4) boolean */
  json_int_t flags = json_is_integer(s) ? json_integer_value(s) : json_is_true(s);
  if (flags < 0 || flags > 0xff) {
    conn_fail(c, DV_CLOSE_BAD_REQUEST, "bad speaking flags");
    return;
  }
  sc_registry_set_speaking(c->gw->app->registry, c->session->vs, (unsigned)flags);
}

static void op_resume(dv_conn_t *c, json_t *d) {
  const char *server_id = str_field(d, "server_id"), *session_id = str_field(d, "session_id");
  const char *token = str_field(d, "token");
  dv_session_t *s = dv_session_find(&c->gw->sessions, session_id);
  int ok = sc_token_equal(s ? s->vs->token : "", token);
  if (!s || !ok || strcmp(s->vs->server_id, server_id) != 0) {
    dv_conn_close(c, DV_CLOSE_SESSION_INVALID, "no such session to resume");
    return;
  }
  json_t *ack = json_object_get(d, "seq_ack");
  int has_ack = c->version >= 8 && json_is_integer(ack);
  if (dv_session_resume(s, c, has_ack, has_ack ? json_integer_value(ack) : -1) < 0) {
    dv_conn_close(c, DV_CLOSE_SESSION_INVALID, "missed messages are gone");
    dv_session_end(s, DV_CLOSE_SESSION_INVALID, "resume impossible: messages gone");
    return;
  }
  c->gw->metrics.resumed++;
}

/* ---- video and client announcements ------------------------------------ */

/* Over the relay budget: the socket is closed with 4021 but the session
 * stays (like after a lost socket), so a new Identify inherits its spent
 * budget and a Resume continues with it. */
static void relay_over_budget(dv_conn_t *c) {
  dv_conn_close(c, DV_CLOSE_RATE_LIMITED, "relay budget exceeded");
}

/* Op 12 (dv_video): relayed to the others; over budget closes the socket. */
static void op_video(dv_conn_t *c, json_t *d) {
  if (c->session && dv_video_announce(c->session, d) < 0) relay_over_budget(c);
}

/* Ops 18/20: relayed to the others with user_id where the field is present. */
static void announce_field(dv_conn_t *c, json_t *d, const char *field, int kind, int op) {
  json_t *v = json_is_object(d) ? json_object_get(d, field) : NULL;
  if (!c->session || !json_is_integer(v)) return;
  if (dv_session_announce(c->session, kind, op, json_pack("{s:O}", field, v)) < 0)
    relay_over_budget(c);
}

static void op_client_flags(dv_conn_t *c, json_t *d) {
  announce_field(c, d, "flags", DV_ANNOUNCE_FLAGS, DV_OP_CLIENT_FLAGS);
}

static void op_client_platform(dv_conn_t *c, json_t *d) {
  announce_field(c, d, "platform", DV_ANNOUNCE_PLATFORM, DV_OP_CLIENT_PLATFORM);
}

/* Op 23 / 31: for the call's DAVE state (dv_e2ee). */
static void op_dave_ready(dv_conn_t *c, json_t *d) {
  if (c->session) dv_e2ee_transition_ready(&c->gw->e2ee, c->session, d);
}

static void op_dave_invalid_commit(dv_conn_t *c, json_t *d) {
  if (c->session) dv_e2ee_invalid_commit(&c->gw->e2ee, c->session, d);
}

/* Op 14 from the client: its codecs changed (dv_webrtc_call). */
static void op_session_update(dv_conn_t *c, json_t *d) {
  if (c->session && json_is_object(d) && dv_webrtc_call_update(c->session, d) == -ENOBUFS)
    relay_over_budget(c);
}

static void op_ignore(dv_conn_t *c, json_t *d) {
  (void)c;
  (void)d;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef void (*op_fn)(dv_conn_t *c, json_t *d);
/* Who may send an opcode: anyone, identified sockets only (else 4003), or
 * sockets not identified yet (else 4005). Checked before the fields. */
enum { ANY, AUTHED, FRESH };

typedef struct {
  op_fn fn;
  int who;
  unsigned d_types;          /* accepted types of d (SC_JT_*; absent d is null; 0: any) */
  const sc_jfield_t *fields; /* checked when d is an object */
  size_t n_fields;
} op_entry_t;

#define FIELDS(t) t, sizeof t / sizeof t[0]
#define STR_REQ(name) \
  { name, SC_JT_STRING, SC_JF_REQUIRED }
#define INT_OPT(name) \
  { name, SC_JT_INT | SC_JT_NULL, 0 }

static const sc_jfield_t identify_fields[] = {
    STR_REQ("server_id"),
    STR_REQ("user_id"),
    STR_REQ("session_id"),
    STR_REQ("token"),
    {"streams", SC_JT_ARRAY | SC_JT_NULL, 0},
    INT_OPT("max_dave_protocol_version"),
};
static const sc_jfield_t select_fields[] = {
    STR_REQ("protocol"),
    /* an object for udp; webrtc sends SDP text (data and/or sdp) */
    {"data", SC_JT_ANY, SC_JF_REQUIRED},
};
static const sc_jfield_t heartbeat_fields[] = {
    INT_OPT("seq_ack"),
};
static const sc_jfield_t speaking_fields[] = {
    {"speaking", SC_JT_INT | SC_JT_BOOL, SC_JF_REQUIRED}, /* bool: pre-v4 clients */
};
static const sc_jfield_t resume_fields[] = {
    STR_REQ("server_id"),
    STR_REQ("session_id"),
    STR_REQ("token"),
    INT_OPT("seq_ack"),
};
static const sc_jfield_t video_fields[] = {
    INT_OPT("audio_ssrc"),
    INT_OPT("video_ssrc"),
    INT_OPT("rtx_ssrc"),
    {"streams", SC_JT_ARRAY | SC_JT_NULL, 0},
};
static const sc_jfield_t flags_fields[] = {INT_OPT("flags")};
static const sc_jfield_t platform_fields[] = {INT_OPT("platform")};

#define OBJ SC_JT_OBJECT
#define OBJ_OR_NULL (SC_JT_OBJECT | SC_JT_NULL)

/* Opcodes clients send, with what their d must hold (else 4020). 15-17
 * and 19 are sent by real clients and ignored, whatever their d (14
 * without codecs too); so are
 * DAVE's 23/31 outside a DAVE call. */
static const op_entry_t op_table[DV_OP_MAX] = {
    [DV_OP_IDENTIFY] = {op_identify, FRESH, OBJ, FIELDS(identify_fields)},
    [DV_OP_SELECT_PROTOCOL] = {op_select_protocol, AUTHED, OBJ, FIELDS(select_fields)},
    [DV_OP_HEARTBEAT] = {op_heartbeat, ANY, 0, FIELDS(heartbeat_fields)},
    [DV_OP_SPEAKING] = {op_speaking, AUTHED, OBJ, FIELDS(speaking_fields)},
    [DV_OP_RESUME] = {op_resume, FRESH, OBJ, FIELDS(resume_fields)},
    [DV_OP_VIDEO] = {op_video, ANY, OBJ_OR_NULL, FIELDS(video_fields)},
    [DV_OP_SESSION_UPDATE] = {op_session_update, ANY, 0, NULL, 0},
    [15] = {op_ignore, ANY, 0, NULL, 0},
    [16] = {op_ignore, ANY, 0, NULL, 0},
    [17] = {op_ignore, ANY, 0, NULL, 0},
    [DV_OP_CLIENT_FLAGS] = {op_client_flags, ANY, OBJ_OR_NULL, FIELDS(flags_fields)},
    [19] = {op_ignore, ANY, 0, NULL, 0},
    [DV_OP_CLIENT_PLATFORM] = {op_client_platform, ANY, OBJ_OR_NULL, FIELDS(platform_fields)},
    [DV_OP_DAVE_TRANSITION_READY] = {op_dave_ready, ANY, 0, NULL, 0},
    [DV_OP_DAVE_INVALID_COMMIT] = {op_dave_invalid_commit, ANY, 0, NULL, 0},
};

/* Size and rate limits, for every message. 0 = go on. */
static int admit(dv_conn_t *c, size_t len) {
  const char *why = NULL;
  int code = dv_conn_admit(c, &c->gw->lim, len, dv_timers_now(&c->gw->timers), &why);
  if (code > 0) conn_fail(c, code, why);
  return code ? -1 : 0;
}

/* d against the opcode's table: 0, or -1 after closing with 4020 and the
 * name of what is wrong (docs/GATEWAY.md). */
static int check_fields(dv_conn_t *c, json_int_t op, const op_entry_t *e, json_t *d) {
  char why[96];
  const char *bad = NULL;
  if (e->d_types && !sc_jcheck_type(d ? d : json_null(), e->d_types))
    snprintf(why, sizeof why, "op %d: d has the wrong type", (int)op);
  else if (json_is_object(d) && sc_jcheck(d, e->fields, e->n_fields, &bad) < 0)
    snprintf(why, sizeof why, "op %d: missing or mistyped field \"%s\"", (int)op, bad);
  else
    return 0;
  conn_fail(c, DV_CLOSE_BAD_REQUEST, why);
  return -1;
}

void dv_gw_text(dv_conn_t *c, const char *buf, size_t len) {
  if (admit(c, len) < 0) return;
  json_error_t err;
  json_t *msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  json_t *op = json_is_object(msg) ? json_object_get(msg, "op") : NULL;
  if (!json_is_integer(op)) {
    json_decref(msg);
    conn_fail(c, DV_CLOSE_DECODE_ERROR, "failed to decode payload");
    return;
  }
  json_int_t n = json_integer_value(op);
  const op_entry_t *e = n >= 0 && n < DV_OP_MAX ? &op_table[n] : NULL;
  json_t *d = json_object_get(msg, "d");
  if (!e || !e->fn)
    conn_fail(c, DV_CLOSE_UNKNOWN_OPCODE, "unknown opcode");
  else if (e->who == AUTHED && !c->session)
    conn_fail(c, DV_CLOSE_NOT_AUTHENTICATED, "not authenticated");
  else if (e->who == FRESH && c->session)
    conn_fail(c, DV_CLOSE_ALREADY_AUTHENTICATED, "already identified");
  else if (check_fields(c, n, e, d) == 0)
    e->fn(c, d);
  json_decref(msg);
}

/* DAVE ops 26/28 (dv_e2ee checks who may send what, and their sizes). */
void dv_gw_binary(dv_conn_t *c, const uint8_t *buf, size_t len) {
  if (len > DV_E2EE_FRAME_MAX) {
    if (!c->closing) conn_fail(c, DV_CLOSE_BAD_REQUEST, "message too large");
    return;
  }
  if (admit(c, 0) < 0) return; /* the rate limit; the size is DAVE's */
  if (c->session)
    dv_e2ee_binary(&c->gw->e2ee, c->session, buf, len);
  else
    c->gw->e2ee.st.binary_refused++;
}

void dv_gw_oversize(dv_conn_t *c) {
  if (!c->closing) conn_fail(c, DV_CLOSE_BAD_REQUEST, "message too large");
}

/* ---- lifecycle ------------------------------------------------------------ */

void dv_gw_open(dv_conn_t *c, dv_gw_t *gw, int version, const dv_io_t *io, void *io_ctx) {
  dv_conn_init(c, version, io, io_ctx);
  c->gw = gw;
  c->counts = &gw->metrics.conn;
  gw->metrics.opened++;
  dv_timer_init(&c->heartbeat, &gw->timers, on_heartbeat_deadline);
  dv_timer_arm(&c->heartbeat, gw->lim.hb_timeout_ms);
  dv_conn_send_op(
      c, DV_OP_HELLO,
      json_pack("{s:i, s:i}", "v", version, "heartbeat_interval", (int)gw->lim.heartbeat_ms));
}

void dv_gw_closed(dv_conn_t *c) {
  dv_timer_cancel(&c->heartbeat);
  if (c->session) dv_session_unbind(c->session);
  c->session = NULL;
  c->closing = 1;
}

int dv_modes_from_config(const dv_settings_t *cfg, dv_modes_t *out) {
  out->n = 0;
  for (int i = 0; i < cfg->n_modes; i++) {
    int mode = dv_mode_from_name(cfg->modes[i]);
    if (mode < 0) {
      sc_log_error("gateway", "--modes: unknown encryption mode \"%s\"", cfg->modes[i]);
      return -1;
    }
    if (out->n < DV_MODE_COUNT && find_mode(out, cfg->modes[i]) < 0)
      out->modes[out->n++] = (dv_mode_t)mode;
  }
  return out->n ? 0 : -1;
}

/* Join time bounds (seconds): a join on loopback takes milliseconds, one
 * across the world with IP discovery a second or more. */
static const double join_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

static void on_session_end(void *ctx, dv_session_t *s) {
  dv_gw_t *gw = ctx;
  dv_e2ee_leave(&gw->e2ee, s);
  dv_webrtc_call_leave(s);
}

static void on_session_peer(void *ctx, dv_session_t *s, const sc_vstate_t *peer, int joined) {
  dv_gw_t *gw = ctx;
  dv_e2ee_peer(&gw->e2ee, s, peer, joined);
}

dv_gw_t *dv_gw_create(sc_app_t *app, struct lws_context *lws) {
  dv_gw_t *gw = calloc(1, sizeof *gw);
  if (!gw) return NULL;
  gw->app = app;
  const dv_settings_t *set = dv_settings(app);
  if (!set || dv_modes_from_config(set, &gw->modes) < 0) {
    free(gw);
    return NULL;
  }
  dv_limits_from_config(set, &gw->lim);
  sc_metrics_obs_init(&gw->metrics.join_time, join_bounds,
                      sizeof join_bounds / sizeof *join_bounds);
  dv_timers_init(&gw->timers, lws);
  dv_sessions_init(&gw->sessions, app, &gw->lim, &gw->timers);
  dv_e2ee_init(&gw->e2ee, &gw->timers);
  gw->sessions.on_end = on_session_end;
  gw->sessions.on_end_ctx = gw;
  gw->sessions.on_peer = on_session_peer;
  return gw;
}

void dv_gw_stop(dv_gw_t *gw) {
  gw->sessions.stopping = 1;
}

void dv_gw_destroy(dv_gw_t *gw) {
  if (!gw) return;
  dv_sessions_free(&gw->sessions, DV_CLOSE_SERVER_CRASH, "gateway stopping");
  dv_e2ee_free(&gw->e2ee);
  dv_timers_free(&gw->timers, gw->app && gw->app->lws); /* NULL after sc_server_destroy */
  free(gw);
}

dv_timers_t *dv_gw_timers(dv_gw_t *gw) {
  return &gw->timers;
}

size_t dv_gw_max_frame(const dv_gw_t *gw, int binary) {
  size_t max = gw->lim.max_message;
  return binary && max < DV_E2EE_FRAME_MAX ? DV_E2EE_FRAME_MAX : max;
}

dv_limits_t *dv_gw_limits(dv_gw_t *gw) {
  return &gw->lim;
}

size_t dv_gw_session_count(const dv_gw_t *gw) {
  return gw->sessions.by_id.used;
}

json_t *dv_gw_status_json(const dv_gw_t *gw) {
  const dv_session_stats_t *st = &gw->sessions.stats;
  json_t *out = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:o}", "sessions", (json_int_t)gw->sessions.by_id.used,
      "resume_over_budget", (json_int_t)st->resume_over_budget, "relay_over_budget",
      (json_int_t)st->relay_over_budget, "ssrc_refused", (json_int_t)st->ssrc_refused,
      "webrtc_refused", (json_int_t)st->webrtc_refused, "dave", dv_e2ee_status_json(&gw->e2ee));
  json_t *codec =
      json_pack("{s:I, s:I, s:I}", "switches", (json_int_t)st->codec_switches, "updates",
                (json_int_t)st->codec_updates, "refused", (json_int_t)st->codec_refused);
  if (out && codec)
    json_object_set_new(out, "video_codec", codec);
  else
    json_decref(codec);
  return out;
}

void dv_gw_metrics(const dv_gw_t *gw, sc_metrics_t *m) {
  const dv_gw_metrics_t *gm = &gw->metrics;
  sc_metrics_gauge(m, "litecord_voice_gateway_sessions",
                   "Voice gateway sessions held (bound to a socket or waiting for a resume)",
                   (double)gw->sessions.by_id.used);
  sc_metrics_counter(m, "litecord_voice_gateway_connections_total",
                     "Voice gateway WebSocket connections opened", gm->opened);
  sc_metrics_counter(m, "litecord_voice_gateway_identifies_total",
                     "Identify requests accepted (a client joined: Ready sent)", gm->identified);
  sc_metrics_counter(m, "litecord_voice_gateway_resumes_total", "Resume requests accepted",
                     gm->resumed);
  sc_metrics_family(m, "litecord_voice_gateway_closes_total", SC_METRIC_COUNTER,
                    "Voice gateway sockets closed by the server, by close code");
  for (int i = 0; i < DV_CLOSE_SLOTS; i++) {
    char code[16];
    if (!gm->conn.closes[i]) continue;
    if (i == DV_CLOSE_SLOTS - 1)
      snprintf(code, sizeof code, "other");
    else
      snprintf(code, sizeof code, "%d", DV_CLOSE_BASE + i);
    sc_label_t l = {"code", code};
    sc_metrics_sample_u64(m, &l, 1, gm->conn.closes[i]);
  }
  sc_metrics_family(m, "litecord_voice_gateway_join_seconds", SC_METRIC_HISTOGRAM,
                    "Time from Identify to the Session Description (Select Protocol answered)");
  sc_metrics_obs_write(m, NULL, 0, &gm->join_time);
}

int dv_gateway_version(const char *value) {
  if (!value || !*value) return 4;
  char *end;
  long v = strtol(value, &end, 10);
  if (*end || v < 4) return -1;
  return v > 8 ? 8 : (int)v;
}
