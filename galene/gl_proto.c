#include "gl_proto.h"

#include <sodium.h>
#include <string.h>

#include "gl_session.h"
#include "sc_log.h"

/* `joined {kind: fail}` with Galène's error word and our text. */
static void join_fail(gl_conn_t *c, const gl_msg_t *m, const char *error, const char *text) {
  c->counts->refused[GL_REFUSE_AUTH]++;
  sc_log_info("galene", "join refused (%s): %s", error, text);
  gl_conn_send(c, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "joined", "kind", "fail", "group",
                            m->group, "error", error, "value", text));
}

static void on_join(gl_proto_t *p, gl_conn_t *c, gl_msg_t *m) {
  if (strcmp(m->kind, "leave") == 0) {
    if (c->session)
      gl_session_end(c->session, 1);
    else
      gl_conn_refuse(c, GL_REFUSE_BEFORE_JOIN, "leave: not in a group");
    return;
  }
  if (m->kind[0] && strcmp(m->kind, "join") != 0) {
    gl_conn_refuse(c, GL_REFUSE_MALFORMED, "join: kind must be join or leave");
    return;
  }
  if (c->session) {
    join_fail(c, m, "already-joined", "already in a group: leave first");
    return;
  }
  if (!m->has_token && !m->has_password) {
    join_fail(c, m, "not-authorised", "a token (or password) is required");
    return;
  }
  sc_vstate_t *vs = sc_registry_find_token(c->app->registry, m->secret, strlen(m->secret));
  sodium_memzero(m->secret, sizeof m->secret);
  if (!vs || !vs->channel || strcmp(vs->channel->id, m->group) != 0) {
    join_fail(c, m, "not-authorised", vs ? "the token is for another group" : "unknown token");
    return;
  }
  /* Password form: the username names the user; with a token it may be
   * omitted, and if given it must match too. */
  if ((m->has_password && !m->has_username) ||
      (m->has_username && strcmp(m->username, vs->user_id) != 0)) {
    join_fail(c, m, "not-authorised", "the username is not the token's user");
    return;
  }
  if (!gl_session_join(c, vs, p->media_ip)) gl_conn_refuse(c, GL_REFUSE_LIMIT, "out of memory");
}

static void on_handshake(gl_conn_t *c, const gl_msg_t *m) {
  if (c->handshaken) {
    gl_conn_refuse(c, GL_REFUSE_MALFORMED, "handshake: sent twice");
    return;
  }
  if (!m->version2) {
    gl_conn_close(c, GL_CLOSE_PROTOCOL, "protocol version 2 required", GL_REFUSE_BAD_VERSION);
    return;
  }
  c->handshaken = 1;
  snprintf(c->client_id, sizeof c->client_id, "%s", m->id);
  /* protocol.js ignores everything until our handshake: it goes first. */
  gl_conn_send(c, json_pack("{s:s, s:[s]}", "type", "handshake", "version", "2"));
}

/* A stream message from a joined client. */
static void on_stream(gl_conn_t *c, gl_session_t *s, const gl_msg_t *m) {
  if (!m->id[0] && m->type != GL_T_REQUEST) {
    gl_conn_refuse(c, GL_REFUSE_MALFORMED, "a stream message needs an id");
    return;
  }
  switch (m->type) {
    case GL_T_REQUEST: gl_session_request(s, m->wants_audio); break;
    case GL_T_OFFER: gl_session_up_offer(s, m); break;
    case GL_T_ANSWER: gl_session_down_answer(s, m); break;
    case GL_T_RENEGOTIATE: gl_session_renegotiate(s, m->id); break;
    case GL_T_CLOSE: gl_session_close_up(s, m->id); break;
    case GL_T_ABORT: gl_session_abort_down(s, m->id); break;
    case GL_T_ICE: /* ICE-lite: the client finds our candidate in the SDP */
      if (!gl_session_owns(s, m->id)) gl_conn_refuse(c, GL_REFUSE_NOT_OURS, "ice: unknown stream");
      break;
    default: break;
  }
}

static void dispatch(gl_proto_t *p, gl_conn_t *c, gl_msg_t *m) {
  switch (m->type) {
    case GL_T_HANDSHAKE: on_handshake(c, m); return;
    case GL_T_PING: gl_conn_send(c, json_pack("{s:s}", "type", "pong")); return;
    case GL_T_PONG: return;
    case GL_T_JOIN: on_join(p, c, m); return;
    case GL_T_CHAT:
    case GL_T_USERMESSAGE:
    case GL_T_USERACTION:
    case GL_T_GROUPACTION:
    case GL_T_REQUESTSTREAM:
      gl_conn_refuse(c, GL_REFUSE_UNSUPPORTED, "not supported by this server");
      return;
    case GL_T_UNKNOWN: gl_conn_refuse(c, GL_REFUSE_UNKNOWN_TYPE, "unknown message type"); return;
    default: break;
  }
  if (!c->session) {
    gl_conn_refuse(c, GL_REFUSE_BEFORE_JOIN, "join a group first");
    return;
  }
  on_stream(c, c->session, m);
}

void gl_proto_text(gl_proto_t *p, gl_conn_t *c, const char *buf, size_t len) {
  if (c->closing) return;
  gl_msg_t *m = &p->msg;
  int rc = gl_msg_parse(buf, len, m);
  if (rc == 0) c->counts->received[m->type]++;
  if (!c->handshaken && (rc < 0 || m->type != GL_T_HANDSHAKE)) {
    gl_conn_close(c, GL_CLOSE_PROTOCOL, "handshake first", GL_REFUSE_BEFORE_HANDSHAKE);
    return;
  }
  if (rc < 0) {
    char why[64];
    snprintf(why, sizeof why, "malformed message: %s", gl_msg_err_name(rc));
    gl_conn_refuse(c, GL_REFUSE_MALFORMED, why);
    return;
  }
  dispatch(p, c, m);
  sodium_memzero(m->secret, sizeof m->secret);
}

void gl_proto_closed(gl_proto_t *p, gl_conn_t *c) {
  (void)p;
  if (c->session) gl_session_end(c->session, 0); /* unbinds it */
}
