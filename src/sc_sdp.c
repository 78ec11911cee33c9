/*
 * sc_sdp: see sc_sdp.h. The reader checks the whole text once (size,
 * bytes, line count and length), then hands out lines; the fragment
 * reader dispatches the attributes it knows and ignores every other line.
 */
#include "sc_sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const err_names[SC_SDP_ERR_COUNT] = {
    "ok",
    "too_big",
    "binary",
    "too_many_lines",
    "line_too_long",
    "bad_line",
    "too_many_sections",
    "missing_ufrag",
    "missing_pwd",
    "bad_ufrag",
    "bad_pwd",
    "ufrag_conflict",
    "pwd_conflict",
    "bad_fingerprint",
    "fingerprint_conflict",
    "bad_extmap",
    "extmap_conflict",
    "too_many_extmaps",
    "bad_rtpmap",
    "rtpmap_conflict",
    "too_many_rtpmaps",
};

const char *sc_sdp_err_name(int err) {
  return err <= 0 && -err < SC_SDP_ERR_COUNT ? err_names[-err] : "unknown";
}

/* ---- line reader ---------------------------------------------------------- */

/* Size, bytes, line count and line length of the whole text: 0 or an
 * error. A CR is only allowed as the end of a CRLF. */
static int check_text(const char *buf, size_t len) {
  if (len > SC_SDP_MAX_BYTES) return SC_SDP_ERR_TOO_BIG;
  unsigned lines = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)buf[i];
    if (c == '\n' || (c == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
      if (c == '\r') continue;
      size_t n = i - line_start - (i > line_start && buf[i - 1] == '\r');
      if (n > SC_SDP_MAX_LINE) return SC_SDP_ERR_LINE_TOO_LONG;
      if (++lines > SC_SDP_MAX_LINES) return SC_SDP_ERR_TOO_MANY_LINES;
      line_start = i + 1;
    } else if (c < 0x20 || c > 0x7e) {
      return SC_SDP_ERR_BINARY;
    }
  }
  if (len - line_start > SC_SDP_MAX_LINE) return SC_SDP_ERR_LINE_TOO_LONG;
  if (len > line_start && ++lines > SC_SDP_MAX_LINES) return SC_SDP_ERR_TOO_MANY_LINES;
  return 0;
}

void sc_sdp_reader_init(sc_sdp_reader_t *r, const char *buf, size_t len) {
  memset(r, 0, sizeof *r);
  r->section = -1;
  r->err = check_text(buf, len);
  r->p = buf;
  r->end = buf + (r->err ? 0 : len);
}

static int reader_fail(sc_sdp_reader_t *r, int err) {
  r->err = err;
  r->p = r->end;
  return err;
}

/* Splits an a= value into name and, after the first ':', value. */
static void split_attribute(sc_sdp_line_t *l) {
  const char *colon = memchr(l->value, ':', l->value_len);
  l->name = l->value;
  l->name_len = colon ? (size_t)(colon - l->value) : l->value_len;
  l->has_value = colon != NULL;
  l->attr_value = colon ? colon + 1 : NULL;
  l->attr_len = colon ? l->value_len - l->name_len - 1 : 0;
}

int sc_sdp_next(sc_sdp_reader_t *r, sc_sdp_line_t *out) {
  if (r->err) return r->err;
  while (r->p < r->end) {
    const char *line = r->p;
    const char *nl = memchr(line, '\n', (size_t)(r->end - line));
    size_t n = (size_t)((nl ? nl : r->end) - line);
    r->p = nl ? nl + 1 : r->end;
    r->lines++;
    if (n && line[n - 1] == '\r') n--;
    if (n == 0) continue;
    if (n < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=') {
      return reader_fail(r, SC_SDP_ERR_BAD_LINE);
    }
    if (line[0] == 'm' && ++r->section >= SC_SDP_MAX_SECTIONS) {
      return reader_fail(r, SC_SDP_ERR_TOO_MANY_SECTIONS);
    }
    memset(out, 0, sizeof *out);
    out->type = line[0];
    out->value = line + 2;
    out->value_len = n - 2;
    out->section = r->section;
    out->line_no = r->lines;
    if (out->type == 'a') {
      split_attribute(out);
      if (out->name_len == 0) return reader_fail(r, SC_SDP_ERR_BAD_LINE);
    }
    return 1;
  }
  return 0;
}

/* ---- small scanners over (p, end) ------------------------------------ */

typedef struct {
  const char *p, *end;
} span_t;

/* Up to max_digits decimal digits (at least one) into *v. */
static int take_uint(span_t *s, int max_digits, uint64_t *v) {
  int n = 0;
  *v = 0;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
    if (++n > max_digits) return -1;
    *v = *v * 10 + (uint64_t)(*s->p++ - '0');
  }
  return n ? 0 : -1;
}

static int take_char(span_t *s, char c) {
  if (s->p >= s->end || *s->p != c) return -1;
  s->p++;
  return 0;
}

/* A run of characters up to (not including) a space or `stop`: its
 * length, 0 if none. */
static size_t take_token(span_t *s, char stop, const char **tok) {
  *tok = s->p;
  while (s->p < s->end && *s->p != ' ' && *s->p != stop) s->p++;
  return (size_t)(s->p - *tok);
}

static void skip_spaces(span_t *s) {
  while (s->p < s->end && *s->p == ' ') s->p++;
}

static int span_is(const char *p, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* ---- ICE credentials (RFC 8839 §5.4: ice-char = ALPHA / DIGIT / + / /) */

static int ice_chars(const char *p, size_t n, size_t min) {
  if (n < min || n > SC_SDP_ICE_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '/';
    if (!ok) return 0;
  }
  return 1;
}

int sc_sdp_valid_ufrag(const char *s) {
  return s && ice_chars(s, strnlen(s, SC_SDP_ICE_MAX + 1), SC_SDP_UFRAG_MIN);
}

int sc_sdp_valid_pwd(const char *s) {
  return s && ice_chars(s, strnlen(s, SC_SDP_ICE_MAX + 1), SC_SDP_PWD_MIN);
}

/* Stores an ICE credential, or compares it with the one stored. */
static int take_credential(const sc_sdp_line_t *l, size_t min, char *dst, int bad, int conflict) {
  if (!ice_chars(l->attr_value, l->attr_len, min)) return bad;
  if (dst[0]) {
    return span_is(l->attr_value, l->attr_len, dst) ? 0 : conflict;
  }
  memcpy(dst, l->attr_value, l->attr_len);
  dst[l->attr_len] = '\0';
  return 0;
}

/* ---- fingerprint ------------------------------------------------------------ */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int sc_sdp_fingerprint_parse(const char *p, size_t n, uint8_t out[SC_SDP_FP_LEN]) {
  if (n != SC_SDP_FP_LEN * 3 - 1) return -EINVAL;
  for (size_t i = 0; i < SC_SDP_FP_LEN; i++) {
    int hi = hex_value(p[3 * i]), lo = hex_value(p[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < SC_SDP_FP_LEN && p[3 * i + 2] != ':')) return -EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* a=fingerprint:<hash> <hex>. The hash name is case-insensitive (RFC
 * 8122); only sha-256 is kept. */
static int take_fingerprint(const sc_sdp_line_t *l, sc_sdp_fragment_t *f) {
  span_t s = {l->attr_value, l->attr_value + l->attr_len};
  const char *hash, *hex;
  size_t hash_len = take_token(&s, '\0', &hash);
  skip_spaces(&s);
  size_t hex_len = take_token(&s, '\0', &hex);
  skip_spaces(&s);
  if (!hash_len || !hex_len || s.p != s.end) return SC_SDP_ERR_BAD_FINGERPRINT;
  if (hash_len != 7 || strncasecmp(hash, "sha-256", 7) != 0) {
    f->other_fingerprints++;
    return 0;
  }
  uint8_t fp[SC_SDP_FP_LEN];
  if (sc_sdp_fingerprint_parse(hex, hex_len, fp) < 0) return SC_SDP_ERR_BAD_FINGERPRINT;
  if (f->has_fingerprint) {
    return memcmp(fp, f->fingerprint, sizeof fp) ? SC_SDP_ERR_FINGERPRINT_CONFLICT : 0;
  }
  memcpy(f->fingerprint, fp, sizeof fp);
  f->has_fingerprint = 1;
  return 0;
}

/* ---- extmap (RFC 8285 §8): <id>[/<direction>] <URI> [<attributes>] --- */

static int direction_of(const char *p, size_t n) {
  if (span_is(p, n, "sendrecv")) return SC_SDP_DIR_SENDRECV;
  if (span_is(p, n, "sendonly")) return SC_SDP_DIR_SENDONLY;
  if (span_is(p, n, "recvonly")) return SC_SDP_DIR_RECVONLY;
  if (span_is(p, n, "inactive")) return SC_SDP_DIR_INACTIVE;
  return -1;
}

static int take_extmap(const sc_sdp_line_t *l, sc_sdp_fragment_t *f) {
  span_t s = {l->attr_value, l->attr_value + l->attr_len};
  uint64_t id;
  int dir = SC_SDP_DIR_NONE;
  if (take_uint(&s, 3, &id) < 0 || id < 1 || id > 255) return SC_SDP_ERR_BAD_EXTMAP;
  if (take_char(&s, '/') == 0) {
    const char *d;
    size_t dn = take_token(&s, '\0', &d);
    if ((dir = direction_of(d, dn)) < 0) return SC_SDP_ERR_BAD_EXTMAP;
  }
  if (take_char(&s, ' ') < 0) return SC_SDP_ERR_BAD_EXTMAP;
  skip_spaces(&s);
  const char *uri;
  size_t uri_len = take_token(&s, '\0', &uri);
  if (!uri_len || uri_len > SC_SDP_MAX_URI) return SC_SDP_ERR_BAD_EXTMAP;
  for (int i = 0; i < f->n_extmaps; i++) {
    if (f->extmaps[i].id != (int)id) continue;
    return span_is(uri, uri_len, f->extmaps[i].uri) ? 0 : SC_SDP_ERR_EXTMAP_CONFLICT;
  }
  if (f->n_extmaps == SC_SDP_MAX_EXTMAPS) return SC_SDP_ERR_TOO_MANY_EXTMAPS;
  sc_sdp_extmap_t *e = &f->extmaps[f->n_extmaps++];
  e->id = (int)id;
  e->direction = dir;
  memcpy(e->uri, uri, uri_len);
  e->uri[uri_len] = '\0';
  return 0;
}

/* ---- rtpmap (RFC 8866 §6.6): <pt> <name>/<clock>[/<channels>] -------- */

static int same_rtpmap(const sc_sdp_rtpmap_t *a, const sc_sdp_rtpmap_t *b) {
  return strcasecmp(a->codec, b->codec) == 0 && a->clock == b->clock && a->channels == b->channels;
}

static int take_rtpmap(const sc_sdp_line_t *l, sc_sdp_fragment_t *f) {
  span_t s = {l->attr_value, l->attr_value + l->attr_len};
  sc_sdp_rtpmap_t m;
  memset(&m, 0, sizeof m);
  uint64_t pt, clock, channels = 0;
  if (take_uint(&s, 3, &pt) < 0 || pt > 127 || take_char(&s, ' ') < 0) return SC_SDP_ERR_BAD_RTPMAP;
  const char *name;
  size_t name_len = take_token(&s, '/', &name);
  if (!name_len || name_len > SC_SDP_MAX_CODEC || take_char(&s, '/') < 0 ||
      take_uint(&s, 10, &clock) < 0 || clock == 0 || clock > UINT32_MAX)
    return SC_SDP_ERR_BAD_RTPMAP;
  if (take_char(&s, '/') == 0 && (take_uint(&s, 3, &channels) < 0 || !channels || channels > 255))
    return SC_SDP_ERR_BAD_RTPMAP;
  skip_spaces(&s);
  if (s.p != s.end) return SC_SDP_ERR_BAD_RTPMAP;
  m.pt = (int)pt;
  memcpy(m.codec, name, name_len);
  m.clock = (uint32_t)clock;
  m.channels = (int)channels;
  const sc_sdp_rtpmap_t *old = sc_sdp_find_rtpmap(f, m.pt);
  if (old) return same_rtpmap(old, &m) ? 0 : SC_SDP_ERR_RTPMAP_CONFLICT;
  if (f->n_rtpmaps == SC_SDP_MAX_RTPMAPS) return SC_SDP_ERR_TOO_MANY_RTPMAPS;
  f->rtpmaps[f->n_rtpmaps++] = m;
  return 0;
}

/* ---- the fragment ---------------------------------------------------------- */

static int take_attribute(const sc_sdp_line_t *l, sc_sdp_fragment_t *f) {
  const char *n = l->name;
  size_t nl = l->name_len;
  if (span_is(n, nl, "extmap-allow-mixed")) {
    f->extmap_allow_mixed = 1;
    return 0;
  }
  if (!l->has_value) return 0;
  if (span_is(n, nl, "ice-ufrag"))
    return take_credential(l, SC_SDP_UFRAG_MIN, f->ufrag, SC_SDP_ERR_BAD_UFRAG,
                           SC_SDP_ERR_UFRAG_CONFLICT);
  if (span_is(n, nl, "ice-pwd"))
    return take_credential(l, SC_SDP_PWD_MIN, f->pwd, SC_SDP_ERR_BAD_PWD, SC_SDP_ERR_PWD_CONFLICT);
  if (span_is(n, nl, "fingerprint")) return take_fingerprint(l, f);
  if (span_is(n, nl, "extmap")) return take_extmap(l, f);
  if (span_is(n, nl, "rtpmap")) return take_rtpmap(l, f);
  return 0;
}

int sc_sdp_parse_fragment(const char *buf, size_t len, sc_sdp_fragment_t *out) {
  memset(out, 0, sizeof *out);
  sc_sdp_reader_t r;
  sc_sdp_line_t l;
  int rc;
  sc_sdp_reader_init(&r, buf, len);
  while ((rc = sc_sdp_next(&r, &l)) == 1) {
    if (l.type == 'm') out->n_sections++;
    if (l.type != 'a') continue;
    if ((rc = take_attribute(&l, out)) < 0) {
      out->bad_line = l.line_no;
      return rc;
    }
  }
  out->n_lines = r.lines;
  if (rc < 0) {
    out->bad_line =
        r.err == SC_SDP_ERR_BAD_LINE || r.err == SC_SDP_ERR_TOO_MANY_SECTIONS ? r.lines : 0;
    return rc;
  }
  if (!out->ufrag[0]) return SC_SDP_ERR_MISSING_UFRAG;
  if (!out->pwd[0]) return SC_SDP_ERR_MISSING_PWD;
  return 0;
}

/* ---- look-ups ---------------------------------------------------------------- */

const sc_sdp_rtpmap_t *sc_sdp_find_rtpmap(const sc_sdp_fragment_t *f, int pt) {
  for (int i = 0; i < f->n_rtpmaps; i++)
    if (f->rtpmaps[i].pt == pt) return &f->rtpmaps[i];
  return NULL;
}

int sc_sdp_opus_pt(const sc_sdp_fragment_t *f) {
  for (int i = 0; i < f->n_rtpmaps; i++) {
    const sc_sdp_rtpmap_t *m = &f->rtpmaps[i];
    if (strcasecmp(m->codec, "opus") == 0 && m->clock == 48000 && m->channels == 2) return m->pt;
  }
  return -1;
}

int sc_sdp_extmap_id(const sc_sdp_fragment_t *f, const char *uri) {
  for (int i = 0; i < f->n_extmaps; i++)
    if (strcmp(f->extmaps[i].uri, uri) == 0) return f->extmaps[i].id;
  return 0;
}

int sc_sdp_audio_level_id(const sc_sdp_fragment_t *f) {
  return sc_sdp_extmap_id(f, SC_SDP_URI_AUDIO_LEVEL);
}

/* ---- the answer ------------------------------------------------------------ */

void sc_sdp_fingerprint_text(const uint8_t fp[SC_SDP_FP_LEN], char out[SC_SDP_FP_TEXT]) {
  static const char hex[] = "0123456789ABCDEF";
  for (int i = 0; i < SC_SDP_FP_LEN; i++) {
    out[3 * i] = hex[fp[i] >> 4];
    out[3 * i + 1] = hex[fp[i] & 15];
    out[3 * i + 2] = i + 1 < SC_SDP_FP_LEN ? ':' : '\0';
  }
}

int sc_sdp_write_discord_answer(const sc_sdp_answer_t *a, char *out, size_t cap) {
  struct in_addr addr;
  if (!a->ip || inet_pton(AF_INET, a->ip, &addr) != 1 || a->port == 0 ||
      !sc_sdp_valid_ufrag(a->ufrag) || !sc_sdp_valid_pwd(a->pwd))
    return -EINVAL;
  char fp[SC_SDP_FP_TEXT];
  sc_sdp_fingerprint_text(a->fingerprint, fp);
  unsigned port = a->port;
  int n = snprintf(out, cap,
                   "m=audio %u ICE/SDP\n"
                   "a=fingerprint:sha-256 %s\n"
                   "c=IN IP4 %s\n"
                   "a=rtcp:%u\n"
                   "a=ice-ufrag:%s\n"
                   "a=ice-pwd:%s\n"
                   "a=fingerprint:sha-256 %s\n"
                   "a=candidate:1 1 UDP 4261412862 %s %u typ host\n",
                   port, fp, a->ip, port, a->ufrag, a->pwd, fp, a->ip, port);
  if (n < 0 || (size_t)n >= cap) return -ENOSPC;
  return n;
}
