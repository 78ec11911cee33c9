/*
 * vx_msg: see vx_msg.h. One table row per request type: its wire name,
 * the fields its data must carry (sc_jcheck) and the reader of the rest.
 */
#include "vx_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sc_jcheck.h"

#define ID_MAX ((json_int_t)1 << 53) /* JavaScript's safe integers */

typedef int (*reader_fn)(json_t *data, vx_req_t *out, char *why, size_t why_len);

typedef struct {
  const char *name;
  const sc_jfield_t *fields; /* of data; NULL: data may be absent */
  size_t n_fields;
  reader_fn read;
} req_row_t;

/* ---- field readers ------------------------------------------------------ */

static int copy_str(json_t *v, char *out, size_t cap) {
  size_t n = json_string_length(v);
  if (n >= cap || memchr(json_string_value(v), '\0', n)) return -1;
  memcpy(out, json_string_value(v), n);
  out[n] = '\0';
  return 0;
}

static int read_kind(json_t *v, vx_kind_t *out) {
  static const char *const names[] = {"audio", "video", "saudio", "svideo"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(json_string_value(v), names[i]) == 0) {
      *out = (vx_kind_t)i;
      return 0;
    }
  return -1;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "AB:CD:..." of exactly 32 bytes. */
static int parse_fp(const char *s, size_t n, uint8_t out[VX_FP_LEN]) {
  if (n != VX_FP_LEN * 3 - 1) return -1;
  for (size_t i = 0; i < VX_FP_LEN; i++) {
    int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < VX_FP_LEN && s[i * 3 + 2] != ':')) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static int is_opus(json_t *c, int need_stereo) {
  const char *mime = json_string_value(json_object_get(c, "mimeType"));
  json_t *rate = json_object_get(c, "clockRate"), *ch = json_object_get(c, "channels");
  if (!mime || strcasecmp(mime, "audio/opus") != 0) return 0;
  if (!json_is_integer(rate) || json_integer_value(rate) != 48000) return 0;
  return !need_stereo || (json_is_integer(ch) && json_integer_value(ch) == 2);
}

/* 1 if the array (of at most VX_MAX_ARRAY looked at) lists the audio
 * level extension for audio (capabilities) or at all (parameters);
 * *id gets its id field (key "preferredId" or "id"). */
static int find_audio_level(json_t *exts, const char *id_key, int *id) {
  size_t i;
  json_t *e;
  if (!json_is_array(exts)) return 0;
  json_array_foreach(exts, i, e) {
    if (i >= VX_MAX_ARRAY) break;
    const char *uri = json_string_value(json_object_get(e, "uri"));
    const char *kind = json_string_value(json_object_get(e, "kind"));
    if (!uri || strcmp(uri, VX_URI_AUDIO_LEVEL) != 0 || (kind && strcmp(kind, "audio") != 0))
      continue;
    json_t *v = json_object_get(e, id_key);
    *id = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    if (*id < 0 || *id > 255) *id = 0;
    return 1;
  }
  return 0;
}

/* ---- per type ------------------------------------------------------------ */

static int read_auth(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (copy_str(json_object_get(d, "token"), out->token, sizeof out->token) < 0) {
    snprintf(why, n, "token: too long");
    return -1;
  }
  /* roomId is a channel id: anything else can never match. */
  if (sc_jcheck_id(json_object_get(d, "roomId"), out->room_id) < 0) {
    snprintf(why, n, "roomId: not a channel id");
    return -1;
  }
  return 0;
}

static int read_init(json_t *d, vx_req_t *out, char *why, size_t n) {
  (void)why, (void)n;
  out->split_webrtc = strcmp(json_string_value(json_object_get(d, "mode")), "SplitWebRTC") == 0;
  json_t *caps = json_object_get(d, "rtpCapabilities");
  out->has_caps = json_is_object(caps);
  if (!out->has_caps) return 0;
  size_t i;
  json_t *c;
  json_t *codecs = json_object_get(caps, "codecs");
  if (json_is_array(codecs)) json_array_foreach(codecs, i, c) {
      if (i >= VX_MAX_ARRAY) break;
      if (is_opus(c, 1)) out->caps_opus_stereo = 1;
    }
  int id = 0;
  out->caps_audio_level =
      find_audio_level(json_object_get(caps, "headerExtensions"), "preferredId", &id);
  return 0;
}

static int read_connect(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (copy_str(json_object_get(d, "id"), out->obj_id, sizeof out->obj_id) < 0) {
    snprintf(why, n, "id: too long");
    return -1;
  }
  json_t *fps = json_object_get(json_object_get(d, "dtlsParameters"), "fingerprints");
  size_t i;
  json_t *f;
  if (!json_is_array(fps)) return 0;
  json_array_foreach(fps, i, f) {
    if (i >= VX_MAX_ARRAY) break;
    const char *alg = json_string_value(json_object_get(f, "algorithm"));
    json_t *v = json_object_get(f, "value");
    if (!alg || strcasecmp(alg, "sha-256") != 0 || !json_is_string(v)) continue;
    if (parse_fp(json_string_value(v), json_string_length(v), out->fp) == 0) out->has_fp = 1;
  }
  return 0;
}

static int read_kind_field(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (read_kind(json_object_get(d, "type"), &out->kind) < 0) {
    snprintf(why, n, "type: not a produce type");
    return -1;
  }
  return 0;
}

static int read_produce(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (read_kind_field(d, out, why, n) < 0) return -1;
  json_t *rp = json_object_get(d, "rtpParameters");
  json_t *c0 = json_array_get(json_object_get(rp, "codecs"), 0);
  json_t *pt = json_object_get(c0, "payloadType");
  out->opus_pt = -1;
  if (is_opus(c0, 0) && json_is_integer(pt) && json_integer_value(pt) >= VX_PT_MIN &&
      json_integer_value(pt) <= VX_PT_MAX)
    out->opus_pt = (int)json_integer_value(pt);
  int id = 0;
  if (find_audio_level(json_object_get(rp, "headerExtensions"), "id", &id) && id >= 1 && id <= 14)
    out->audio_level_id = id;
  json_t *ssrc = json_object_get(json_array_get(json_object_get(rp, "encodings"), 0), "ssrc");
  if (json_is_integer(ssrc) && json_integer_value(ssrc) > 0 &&
      json_integer_value(ssrc) <= 0xffffffffll)
    out->ssrc = (uint32_t)json_integer_value(ssrc);
  return 0;
}

static int read_consume(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (read_kind_field(d, out, why, n) < 0) return -1;
  if (sc_jcheck_id(json_object_get(d, "userId"), out->user_id) < 0) {
    snprintf(why, n, "userId: not a user id");
    return -1;
  }
  return 0;
}

static int read_obj_id(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (copy_str(json_object_get(d, "id"), out->obj_id, sizeof out->obj_id) < 0) {
    snprintf(why, n, "id: too long");
    return -1;
  }
  return 0;
}

static int read_pause(json_t *d, vx_req_t *out, char *why, size_t n) {
  if (read_obj_id(d, out, why, n) < 0) return -1;
  out->paused = json_is_true(json_object_get(d, "paused"));
  return 0;
}

static const sc_jfield_t F_AUTH[] = {{"token", SC_JT_STRING, SC_JF_REQUIRED},
                                     {"roomId", SC_JT_ID, SC_JF_REQUIRED}};
static const sc_jfield_t F_INIT[] = {{"mode", SC_JT_STRING, SC_JF_REQUIRED},
                                     {"rtpCapabilities", SC_JT_OBJECT, SC_JF_REQUIRED}};
static const sc_jfield_t F_CONNECT[] = {{"id", SC_JT_STRING, SC_JF_REQUIRED},
                                        {"dtlsParameters", SC_JT_OBJECT, SC_JF_REQUIRED}};
static const sc_jfield_t F_PRODUCE[] = {{"type", SC_JT_STRING, SC_JF_REQUIRED},
                                        {"rtpParameters", SC_JT_OBJECT, SC_JF_REQUIRED}};
static const sc_jfield_t F_KIND[] = {{"type", SC_JT_STRING, SC_JF_REQUIRED}};
static const sc_jfield_t F_CONSUME[] = {{"type", SC_JT_STRING, SC_JF_REQUIRED},
                                        {"userId", SC_JT_ID, SC_JF_REQUIRED}};
static const sc_jfield_t F_ID[] = {{"id", SC_JT_STRING, SC_JF_REQUIRED}};
static const sc_jfield_t F_PAUSE[] = {{"id", SC_JT_STRING, SC_JF_REQUIRED},
                                      {"paused", SC_JT_BOOL, SC_JF_REQUIRED}};

#define ROW(name, f, fn) \
  { name, f, sizeof f / sizeof f[0], fn }
static const req_row_t rows[VX_REQ_COUNT] = {
    [VX_REQ_AUTHENTICATE] = ROW("Authenticate", F_AUTH, read_auth),
    [VX_REQ_ROOM_INFO] = {"RoomInfo", NULL, 0, NULL},
    [VX_REQ_INIT_TRANSPORTS] = ROW("InitializeTransports", F_INIT, read_init),
    [VX_REQ_CONNECT_TRANSPORT] = ROW("ConnectTransport", F_CONNECT, read_connect),
    [VX_REQ_START_PRODUCE] = ROW("StartProduce", F_PRODUCE, read_produce),
    [VX_REQ_STOP_PRODUCE] = ROW("StopProduce", F_KIND, read_kind_field),
    [VX_REQ_START_CONSUME] = ROW("StartConsume", F_CONSUME, read_consume),
    [VX_REQ_STOP_CONSUME] = ROW("StopConsume", F_ID, read_obj_id),
    [VX_REQ_SET_CONSUMER_PAUSE] = ROW("SetConsumerPause", F_PAUSE, read_pause),
};

const char *vx_msg_type_name(vx_req_type_t t) {
  return (unsigned)t < VX_REQ_COUNT ? rows[t].name : "?";
}

const char *vx_msg_parse_name(vx_parse_t p) {
  static const char *const names[VX_PARSE_COUNT] = {"ok", "not_json", "bad_envelope",
                                                    "unknown_type", "bad_data"};
  return (unsigned)p < VX_PARSE_COUNT ? names[p] : "?";
}

/* The envelope: id (integer 0..2^53) and a known type. */
static vx_parse_t read_envelope(json_t *root, vx_req_t *out, char *why, size_t n) {
  json_t *id = json_object_get(root, "id");
  const char *type = json_string_value(json_object_get(root, "type"));
  if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > ID_MAX ||
      !type) {
    snprintf(why, n, "need {id: integer, type: string}");
    return VX_PARSE_BAD_ENVELOPE;
  }
  out->id = json_integer_value(id);
  for (int t = 0; t < VX_REQ_COUNT; t++)
    if (strcmp(type, rows[t].name) == 0) {
      out->type = (vx_req_type_t)t;
      return VX_PARSE_OK;
    }
  snprintf(why, n, "unknown request type");
  return VX_PARSE_UNKNOWN_TYPE;
}

static vx_parse_t read_data(json_t *root, vx_req_t *out, char *why, size_t n) {
  const req_row_t *row = &rows[out->type];
  json_t *data = json_object_get(root, "data");
  if (!row->fields)
    return data && !json_is_object(data) && !json_is_null(data) ? VX_PARSE_BAD_DATA : VX_PARSE_OK;
  const char *bad = NULL;
  if (!json_is_object(data)) {
    snprintf(why, n, "%s: data must be an object", row->name);
    return VX_PARSE_BAD_DATA;
  }
  if (sc_jcheck(data, row->fields, row->n_fields, &bad) < 0) {
    snprintf(why, n, "%s: bad field %s", row->name, bad);
    return VX_PARSE_BAD_DATA;
  }
  return row->read(data, out, why, n) < 0 ? VX_PARSE_BAD_DATA : VX_PARSE_OK;
}

vx_parse_t vx_msg_parse(const char *buf, size_t len, vx_req_t *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  out->type = VX_REQ_COUNT;
  out->opus_pt = -1;
  snprintf(why, why_len, "ok");
  json_error_t err;
  json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  if (!json_is_object(root)) {
    json_decref(root);
    snprintf(why, why_len, "not a JSON object");
    return VX_PARSE_NOT_JSON;
  }
  vx_parse_t rc = read_envelope(root, out, why, why_len);
  if (rc == VX_PARSE_OK) rc = read_data(root, out, why, why_len);
  if (rc == VX_PARSE_BAD_DATA && strcmp(why, "ok") == 0)
    snprintf(why, why_len, "%s: data must be an object", vx_msg_type_name(out->type));
  json_decref(root);
  return rc;
}

void vx_msg_format_fp(const uint8_t fp[VX_FP_LEN], char out[VX_FP_LEN * 3]) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < VX_FP_LEN; i++) {
    out[i * 3] = hex[fp[i] >> 4];
    out[i * 3 + 1] = hex[fp[i] & 15];
    out[i * 3 + 2] = i + 1 < VX_FP_LEN ? ':' : '\0';
  }
}
