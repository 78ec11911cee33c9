/*
 * ion_msg: see ion_msg.h. protoo-client 4.0.8 (lib/Message.js) is the
 * reference for what an envelope must hold.
 */
#include "ion_msg.h"

#include <stdio.h>
#include <string.h>

static const char *const method_names[ION_M_COUNT] = {
    [ION_M_UNKNOWN] = "unknown",     [ION_M_JOIN] = "join",
    [ION_M_LEAVE] = "leave",         [ION_M_KEEPALIVE] = "keepalive",
    [ION_M_PUBLISH] = "publish",     [ION_M_UNPUBLISH] = "unpublish",
    [ION_M_SUBSCRIBE] = "subscribe", [ION_M_UNSUBSCRIBE] = "unsubscribe",
    [ION_M_BROADCAST] = "broadcast",
};

const char *ion_method_name(ion_method_t m) {
  return m > ION_M_UNKNOWN && m < ION_M_COUNT ? method_names[m] : "unknown";
}

const char *ion_msg_err_name(int err) {
  switch (err) {
    case ION_MSG_OK: return "ok";
    case ION_MSG_ERR_JSON: return "not JSON";
    case ION_MSG_ERR_OBJECT: return "not an object";
    case ION_MSG_ERR_KIND: return "neither request, response nor notification";
    case ION_MSG_ERR_ID: return "no valid numeric id";
    case ION_MSG_ERR_METHOD: return "no valid method";
    default: return "unknown error";
  }
}

static int flag(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return v && json_is_true(v);
}

static ion_method_t method_of(const char *name) {
  for (int m = ION_M_UNKNOWN + 1; m < ION_M_COUNT; m++)
    if (strcmp(name, method_names[m]) == 0) return (ion_method_t)m;
  return ION_M_UNKNOWN;
}

/* A JSON string of 1..max bytes without NUL, or NULL. */
static const char *short_string(json_t *v, size_t max) {
  if (!json_is_string(v)) return NULL;
  size_t len = json_string_length(v);
  const char *s = json_string_value(v);
  if (len == 0 || len > max || strlen(s) != len) return NULL;
  return s;
}

/* data.<key> when present: a short string, else m->bad. */
static const char *field(ion_msg_t *m, json_t *o, const char *key, const char *why) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return NULL;
  const char *s = short_string(v, ION_MSG_FIELD_MAX);
  if (!s && !m->bad) m->bad = why;
  return s;
}

static void read_jsep(ion_msg_t *m, json_t *jsep) {
  if (!jsep || json_is_null(jsep)) return;
  json_t *type = json_object_get(jsep, "type"), *sdp = json_object_get(jsep, "sdp");
  if (!json_is_object(jsep) || !json_is_string(type) || !json_is_string(sdp)) {
    if (!m->bad) m->bad = "jsep must be {type, sdp} strings";
    return;
  }
  m->jsep_type = json_string_value(type);
  m->sdp = json_string_value(sdp);
  m->sdp_len = json_string_length(sdp);
  if (strlen(m->sdp) != m->sdp_len && !m->bad) m->bad = "jsep.sdp holds a NUL";
}

static void read_data(ion_msg_t *m) {
  json_t *d = m->data;
  if (!d) return;
  m->rid = field(m, d, "rid", "rid must be a string of 1..64 bytes");
  m->uid = field(m, d, "uid", "uid must be a string of 1..64 bytes");
  m->mid = field(m, d, "mid", "mid must be a string of 1..64 bytes");
  m->sid = field(m, d, "sid", "sid must be a string of 1..64 bytes");
  m->info = json_object_get(d, "info");
  m->payload = json_object_get(d, "data");
  m->token = field(m, d, "token", "token must be a string of 1..64 bytes");
  if (json_is_object(m->info) && !m->token)
    m->token = field(m, m->info, "token", "info.token must be a string of 1..64 bytes");
  read_jsep(m, json_object_get(d, "jsep"));
}

/* id: an integer, or a real with an integral value (JavaScript has one
 * number type), in 0..2^53-1. */
static int read_id(json_t *v, int64_t *out) {
  double x;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0 || i > ION_MSG_ID_MAX) return -1;
    *out = (int64_t)i;
    return 0;
  }
  if (!json_is_real(v)) return -1;
  x = json_real_value(v);
  if (!(x >= 0 && x <= (double)ION_MSG_ID_MAX) || x != (double)(int64_t)x) return -1;
  *out = (int64_t)x;
  return 0;
}

int ion_msg_parse(const char *buf, size_t len, ion_msg_t *out) {
  memset(out, 0, sizeof *out);
  json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
  if (!root) return ION_MSG_ERR_JSON;
  int err = ION_MSG_OK;
  if (!json_is_object(root)) {
    err = ION_MSG_ERR_OBJECT;
    goto fail;
  }
  out->root = root;
  if (flag(root, "request"))
    out->kind = ION_MSG_REQUEST;
  else if (flag(root, "response"))
    out->kind = ION_MSG_RESPONSE;
  else if (flag(root, "notification"))
    out->kind = ION_MSG_NOTIFICATION;
  else {
    err = ION_MSG_ERR_KIND;
    goto fail;
  }
  if (out->kind != ION_MSG_NOTIFICATION && read_id(json_object_get(root, "id"), &out->id) < 0) {
    err = ION_MSG_ERR_ID;
    goto fail;
  }
  if (out->kind != ION_MSG_RESPONSE) {
    const char *name = short_string(json_object_get(root, "method"), ION_MSG_METHOD_MAX);
    if (!name) {
      err = ION_MSG_ERR_METHOD;
      goto fail;
    }
    snprintf(out->method_name, sizeof out->method_name, "%s", name);
    out->method = method_of(name);
  }
  json_t *data = json_object_get(root, "data");
  if (json_is_object(data))
    out->data = data;
  else if (data && !json_is_null(data))
    out->bad = "data must be an object";
  if (out->kind == ION_MSG_REQUEST) read_data(out);
  return 0;
fail:
  json_decref(root);
  memset(out, 0, sizeof *out);
  return err;
}

void ion_msg_free(ion_msg_t *m) {
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}
