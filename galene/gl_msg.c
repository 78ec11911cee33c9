#include "gl_msg.h"

#include <jansson.h>
#include <string.h>

static const char *const type_names[GL_T_COUNT] = {
    [GL_T_UNKNOWN] = "unknown",
    [GL_T_HANDSHAKE] = "handshake",
    [GL_T_JOIN] = "join",
    [GL_T_REQUEST] = "request",
    [GL_T_OFFER] = "offer",
    [GL_T_ANSWER] = "answer",
    [GL_T_ICE] = "ice",
    [GL_T_RENEGOTIATE] = "renegotiate",
    [GL_T_CLOSE] = "close",
    [GL_T_ABORT] = "abort",
    [GL_T_PING] = "ping",
    [GL_T_PONG] = "pong",
    [GL_T_CHAT] = "chat",
    [GL_T_USERMESSAGE] = "usermessage",
    [GL_T_USERACTION] = "useraction",
    [GL_T_GROUPACTION] = "groupaction",
    [GL_T_REQUESTSTREAM] = "requestStream",
};

const char *gl_msg_type_name(int type) {
  return type > 0 && type < GL_T_COUNT ? type_names[type] : "unknown";
}

const char *gl_msg_err_name(int err) {
  switch (err) {
    case 0: return "ok";
    case GL_MSG_ERR_JSON: return "json";
    case GL_MSG_ERR_NOT_OBJECT: return "not_object";
    case GL_MSG_ERR_NO_TYPE: return "no_type";
    case GL_MSG_ERR_FIELD: return "bad_field";
    case GL_MSG_ERR_LONG: return "too_long";
    default: return "unknown";
  }
}

/* Ids name streams and clients in our replies and logs: token
 * characters only, so nothing needs escaping anywhere. */
static int id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* Copies an optional string field (absent or null: ""). 0, or an error
 * for another JSON type, an overlong value or (ids) a bad character. */
static int take_string(json_t *o, const char *name, char *dst, size_t cap, int is_id,
                       int *present) {
  json_t *v = json_object_get(o, name);
  dst[0] = '\0';
  if (!v || json_is_null(v)) return 0;
  if (!json_is_string(v)) return GL_MSG_ERR_FIELD;
  size_t n = json_string_length(v);
  const char *s = json_string_value(v);
  if (n >= cap || strlen(s) != n) return GL_MSG_ERR_LONG;
  for (size_t i = 0; is_id && i < n; i++)
    if (!id_char(s[i])) return GL_MSG_ERR_LONG;
  memcpy(dst, s, n + 1);
  if (present) *present = 1;
  return 0;
}

static int read_version(json_t *o, gl_msg_t *out) {
  json_t *v = json_object_get(o, "version");
  if (!v || json_is_null(v)) return 0;
  if (!json_is_array(v)) return GL_MSG_ERR_FIELD;
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    if (i >= GL_REQUEST_MAX) break;
    if (json_is_string(e) && strcmp(json_string_value(e), "2") == 0) out->version2 = 1;
  }
  return 0;
}

/* request: {label: ["audio", "video", ...]}; the old form {label: true}
 * of galene-protocol.md counts as audio too. */
static int read_request(json_t *o, gl_msg_t *out) {
  json_t *r = json_object_get(o, "request");
  if (!r || json_is_null(r)) return 0;
  if (!json_is_object(r) || json_object_size(r) > GL_REQUEST_MAX) return GL_MSG_ERR_FIELD;
  const char *label;
  json_t *v;
  json_object_foreach(r, label, v) {
    if (json_is_true(v)) out->wants_audio = 1;
    if (!json_is_array(v)) continue;
    if (json_array_size(v) > GL_REQUEST_MAX) return GL_MSG_ERR_FIELD;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (json_is_string(e) && strcmp(json_string_value(e), "audio") == 0) out->wants_audio = 1;
    }
  }
  return 0;
}

static int read_type(json_t *o, gl_msg_t *out) {
  json_t *t = json_object_get(o, "type");
  if (!json_is_string(t)) return GL_MSG_ERR_NO_TYPE;
  const char *name = json_string_value(t);
  size_t n = json_string_length(t);
  for (int i = 1; i < GL_T_COUNT; i++)
    if (strlen(type_names[i]) == n && memcmp(type_names[i], name, n) == 0) out->type = i;
  size_t keep = n < sizeof out->type_name - 1 ? n : sizeof out->type_name - 1;
  for (size_t i = 0; i < keep; i++) out->type_name[i] = id_char(name[i]) ? name[i] : '?';
  out->type_name[keep] = '\0';
  return 0;
}

static int read_fields(json_t *o, gl_msg_t *out) {
  int rc, token = 0, password = 0;
  char pw[GL_SECRET_MAX + 1];
  if ((rc = read_type(o, out)) < 0) return rc;
  if ((rc = take_string(o, "kind", out->kind, sizeof out->kind, 0, NULL)) < 0) return rc;
  if ((rc = take_string(o, "id", out->id, sizeof out->id, 1, NULL)) < 0) return rc;
  if ((rc = take_string(o, "source", out->source, sizeof out->source, 1, NULL)) < 0) return rc;
  if ((rc = take_string(o, "replace", out->replace, sizeof out->replace, 1, NULL)) < 0) return rc;
  if ((rc = take_string(o, "username", out->username, sizeof out->username, 0,
                        &out->has_username)) < 0)
    return rc;
  if ((rc = take_string(o, "group", out->group, sizeof out->group, 0, NULL)) < 0) return rc;
  if ((rc = take_string(o, "token", out->secret, sizeof out->secret, 0, &token)) < 0) return rc;
  if ((rc = take_string(o, "password", pw, sizeof pw, 0, &password)) < 0) return rc;
  if (token && password) return GL_MSG_ERR_FIELD; /* which one would count? */
  if (password) memcpy(out->secret, pw, sizeof pw);
  out->has_token = token;
  out->has_password = password;
  if ((rc = take_string(o, "sdp", out->sdp, sizeof out->sdp, 0, NULL)) < 0) return rc;
  out->sdp_len = strlen(out->sdp);
  if ((rc = read_version(o, out)) < 0) return rc;
  return read_request(o, out);
}

int gl_msg_parse(const char *buf, size_t len, gl_msg_t *out) {
  memset(out, 0, sizeof *out);
  json_error_t err;
  json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  if (!o) return GL_MSG_ERR_JSON;
  int rc = json_is_object(o) ? read_fields(o, out) : GL_MSG_ERR_NOT_OBJECT;
  json_decref(o);
  return rc;
}
