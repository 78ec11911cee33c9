/*
 * sc_sdp_oa: see sc_sdp_oa.h. The reader makes two passes over the text:
 * sc_sdp_parse_fragment first (the size and byte checks, ICE credentials,
 * fingerprint, extmaps and rtpmaps, with their conflicts), then a pass
 * with sc_sdp's line reader over the m= sections for what is per section
 * (mid, direction, setup, opus PT and fmtp, ssrc, msid). The rtpmaps are
 * known before the second pass, so a section's opus PT is found from its
 * m= line alone, whatever the order of its a= lines.
 *
 * The writers append to the caller's buffer through a small cursor that
 * remembers overflow, so each template line is one call and the cap is
 * checked once at the end.
 */
#include "sc_sdp_oa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const oa_err_names[] = {
    "no_sections", "too_many_sections", "bad_mline", "bad_setup",     "bad_mid",
    "bad_ssrc",    "bad_fmtp",          "no_audio",  "bad_direction", "bad_msid",
};
#define OA_ERR_FIRST SC_SDP_OA_ERR_NO_SECTIONS
#define OA_ERR_COUNT (int)(sizeof oa_err_names / sizeof oa_err_names[0])

const char *sc_sdp_oa_err_name(int err) {
  if (err <= 0 && err > -SC_SDP_ERR_COUNT) return sc_sdp_err_name(err);
  if (err <= OA_ERR_FIRST && err > OA_ERR_FIRST - OA_ERR_COUNT)
    return oa_err_names[OA_ERR_FIRST - err];
  return "unknown";
}

/* ---- small scanners -------------------------------------------------- */

typedef struct {
  const char *p, *end;
} span_t;

static int span_is(const char *p, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* The next run of non-space characters (length 0 at the end). */
static size_t next_word(span_t *s, const char **w) {
  while (s->p < s->end && *s->p == ' ') s->p++;
  *w = s->p;
  while (s->p < s->end && *s->p != ' ') s->p++;
  return (size_t)(s->p - *w);
}

/* Decimal digits only, at most max_digits, into *v: 0 or -1. */
static int parse_uint(const char *p, size_t n, size_t max_digits, uint64_t *v) {
  if (n == 0 || n > max_digits) return -1;
  *v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    *v = *v * 10 + (uint64_t)(p[i] - '0');
  }
  return 0;
}

/* RFC 8843 §9 / RFC 4566 token characters (what a mid may hold). */
static int token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && strchr("!#$%&'*+-.^_`{|}~", c) != NULL);
}

static int token_text(const char *p, size_t n, size_t max) {
  if (n == 0 || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if (!token_char(p[i])) return 0;
  return 1;
}

/* Printable ASCII without spaces (msid parts, cname): 1 if so. */
static int word_text(const char *p, size_t n, size_t max) {
  if (n == 0 || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if (p[i] <= 0x20 || p[i] > 0x7e) return 0;
  return 1;
}

static void copy_text(char *dst, const char *p, size_t n) {
  memcpy(dst, p, n);
  dst[n] = '\0';
}

/* ---- the session reader ---------------------------------------------- */

/* Per-section state of the second pass beyond what the result holds. */
typedef struct {
  sc_sdp_session_t *s;
  sc_sdp_msection_t *m; /* the current section, NULL at session level */
  int session_dir;      /* a direction at session level: the default */
  int dir_set;          /* the current section wrote one */
  int has_fmtp, has_msid;
} pass_t;

static int direction_of(const char *p, size_t n) {
  if (span_is(p, n, "sendrecv")) return SC_SDP_DIR_SENDRECV;
  if (span_is(p, n, "sendonly")) return SC_SDP_DIR_SENDONLY;
  if (span_is(p, n, "recvonly")) return SC_SDP_DIR_RECVONLY;
  if (span_is(p, n, "inactive")) return SC_SDP_DIR_INACTIVE;
  return 0;
}

static int is_opus(const sc_sdp_fragment_t *f, int pt) {
  const sc_sdp_rtpmap_t *r = sc_sdp_find_rtpmap(f, pt);
  return r && strcasecmp(r->codec, "opus") == 0 && r->clock == 48000 && r->channels == 2;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static int take_mline(pass_t *ps, const sc_sdp_line_t *l) {
  if (ps->s->n == SC_SDP_OA_MAX_SECTIONS) return SC_SDP_OA_ERR_TOO_MANY_SECTIONS;
  sc_sdp_msection_t *m = &ps->s->m[ps->s->n++];
  ps->m = m;
  ps->dir_set = ps->has_fmtp = ps->has_msid = 0;
  m->direction = ps->session_dir ? ps->session_dir : SC_SDP_DIR_SENDRECV;
  m->opus_pt = -1;
  span_t sp = {l->value, l->value + l->value_len};
  const char *w;
  size_t n = next_word(&sp, &w);
  if (!token_text(w, n, SC_SDP_OA_KIND_MAX)) return SC_SDP_OA_ERR_BAD_MLINE;
  copy_text(m->kind, w, n);
  n = next_word(&sp, &w);
  const char *slash = memchr(w, '/', n);
  uint64_t port, count;
  size_t port_len = slash ? (size_t)(slash - w) : n;
  if (parse_uint(w, port_len, 5, &port) < 0 || port > 65535) return SC_SDP_OA_ERR_BAD_MLINE;
  if (slash && parse_uint(slash + 1, n - port_len - 1, 3, &count) < 0)
    return SC_SDP_OA_ERR_BAD_MLINE;
  m->port = (int)port;
  n = next_word(&sp, &w);
  if (!word_text(w, n, SC_SDP_OA_PROTO_MAX)) return SC_SDP_OA_ERR_BAD_MLINE;
  copy_text(m->proto, w, n);
  int formats = 0;
  while ((n = next_word(&sp, &w)) > 0) {
    if (!word_text(w, n, SC_SDP_OA_FMT_MAX)) return SC_SDP_OA_ERR_BAD_MLINE;
    if (formats++ == 0) copy_text(m->fmt, w, n);
    uint64_t pt;
    if (m->opus_pt < 0 && parse_uint(w, n, 3, &pt) == 0 && pt <= 127 && is_opus(&ps->s->t, (int)pt))
      m->opus_pt = (int)pt;
  }
  return formats ? 0 : SC_SDP_OA_ERR_BAD_MLINE;
}

static int take_mid(pass_t *ps, const sc_sdp_line_t *l) {
  if (!ps->m || !token_text(l->attr_value, l->attr_len, SC_SDP_OA_MID_MAX))
    return SC_SDP_OA_ERR_BAD_MID;
  if (ps->m->mid[0]) /* a repeated line counts once; two different mids are an error */
    return span_is(l->attr_value, l->attr_len, ps->m->mid) ? 0 : SC_SDP_OA_ERR_BAD_MID;
  for (int i = 0; i + 1 < ps->s->n; i++)
    if (span_is(l->attr_value, l->attr_len, ps->s->m[i].mid)) return SC_SDP_OA_ERR_BAD_MID;
  copy_text(ps->m->mid, l->attr_value, l->attr_len);
  return 0;
}

/* Session level sets the default of the sections that follow; a section
 * states at most one. */
static int take_direction(pass_t *ps, int dir) {
  if (!ps->m) {
    if (ps->session_dir && ps->session_dir != dir) return SC_SDP_OA_ERR_BAD_DIRECTION;
    ps->session_dir = dir;
    return 0;
  }
  if (ps->dir_set && ps->m->direction != dir) return SC_SDP_OA_ERR_BAD_DIRECTION;
  ps->dir_set = 1;
  ps->m->direction = dir;
  return 0;
}

static int take_setup(pass_t *ps, const sc_sdp_line_t *l) {
  int v = span_is(l->attr_value, l->attr_len, "actpass")   ? SC_SDP_SETUP_ACTPASS
          : span_is(l->attr_value, l->attr_len, "active")  ? SC_SDP_SETUP_ACTIVE
          : span_is(l->attr_value, l->attr_len, "passive") ? SC_SDP_SETUP_PASSIVE
                                                           : 0;
  if (!v || (ps->s->setup && ps->s->setup != v)) return SC_SDP_OA_ERR_BAD_SETUP;
  ps->s->setup = v;
  return 0;
}

/* a=fmtp:<pt> <parameters> of the section's opus PT (others are not
 * ours to judge: they are skipped). */
static int take_fmtp(pass_t *ps, const sc_sdp_line_t *l) {
  span_t sp = {l->attr_value, l->attr_value + l->attr_len};
  const char *w;
  size_t n = next_word(&sp, &w);
  uint64_t pt;
  if (!ps->m || ps->m->opus_pt < 0 || parse_uint(w, n, 3, &pt) < 0 || (int)pt != ps->m->opus_pt)
    return 0;
  if (w != l->attr_value || sp.p == sp.end) return SC_SDP_OA_ERR_BAD_FMTP;
  const char *params = sp.p + 1;
  size_t params_len = (size_t)(sp.end - params);
  if (params_len == 0 || *params == ' ' || params_len > SC_SDP_OA_FMTP_MAX)
    return SC_SDP_OA_ERR_BAD_FMTP;
  if (ps->has_fmtp && !span_is(params, params_len, ps->m->opus_fmtp)) return SC_SDP_OA_ERR_BAD_FMTP;
  ps->has_fmtp = 1;
  copy_text(ps->m->opus_fmtp, params, params_len);
  return 0;
}

/* a=ssrc:<ssrc> <attribute>[:<value>]: the first SSRC of the section. */
static int take_ssrc(pass_t *ps, const sc_sdp_line_t *l) {
  span_t sp = {l->attr_value, l->attr_value + l->attr_len};
  const char *w, *attr;
  size_t n = next_word(&sp, &w);
  uint64_t ssrc;
  if (!ps->m || parse_uint(w, n, 10, &ssrc) < 0 || ssrc == 0 || ssrc > UINT32_MAX ||
      next_word(&sp, &attr) == 0)
    return SC_SDP_OA_ERR_BAD_SSRC;
  if (!ps->m->ssrc) ps->m->ssrc = (uint32_t)ssrc;
  return 0;
}

/* a=msid:<stream> [<track>] (RFC 8830). A track in several streams has
 * several lines: every one is checked, the first is kept. */
static int take_msid(pass_t *ps, const sc_sdp_line_t *l) {
  span_t sp = {l->attr_value, l->attr_value + l->attr_len};
  const char *stream, *track, *rest;
  size_t sn = next_word(&sp, &stream);
  size_t tn = next_word(&sp, &track);
  if (!ps->m || stream != l->attr_value || !word_text(stream, sn, SC_SDP_OA_MSID_MAX) ||
      (tn && !word_text(track, tn, SC_SDP_OA_MSID_MAX)) || next_word(&sp, &rest))
    return SC_SDP_OA_ERR_BAD_MSID;
  if (ps->has_msid) return 0;
  ps->has_msid = 1;
  copy_text(ps->m->msid_stream, stream, sn);
  copy_text(ps->m->msid_track, track, tn);
  return 0;
}

/* a=extmap in a section: the ids of the two URIs the forwarder uses.
 * sc_sdp_parse_fragment has checked the syntax already. */
static void take_extmap(pass_t *ps, const sc_sdp_line_t *l) {
  span_t sp = {l->attr_value, l->attr_value + l->attr_len};
  const char *w, *uri;
  size_t n = next_word(&sp, &w), un = next_word(&sp, &uri);
  const char *slash = memchr(w, '/', n);
  uint64_t id;
  if (!ps->m || parse_uint(w, slash ? (size_t)(slash - w) : n, 3, &id) < 0) return;
  if (span_is(uri, un, SC_SDP_URI_AUDIO_LEVEL)) ps->m->audio_level_id = (int)id;
  if (span_is(uri, un, "urn:ietf:params:rtp-hdrext:sdes:mid")) ps->m->mid_ext_id = (int)id;
}

static int take_line(pass_t *ps, const sc_sdp_line_t *l) {
  if (l->type == 'm') return take_mline(ps, l);
  if (l->type != 'a') return 0;
  const char *n = l->name;
  size_t nl = l->name_len;
  int dir = direction_of(n, nl);
  if (dir && !l->has_value) return take_direction(ps, dir);
  if (span_is(n, nl, "bundle-only") && ps->m) ps->m->bundle_only = 1;
  if (!l->has_value) return 0;
  if (span_is(n, nl, "mid")) return take_mid(ps, l);
  if (span_is(n, nl, "setup")) return take_setup(ps, l);
  if (span_is(n, nl, "fmtp")) return take_fmtp(ps, l);
  if (span_is(n, nl, "ssrc")) return take_ssrc(ps, l);
  if (span_is(n, nl, "msid")) return take_msid(ps, l);
  if (span_is(n, nl, "extmap")) take_extmap(ps, l);
  return 0;
}

int sc_sdp_parse_session(const char *buf, size_t len, sc_sdp_session_t *out) {
  memset(out, 0, sizeof *out);
  int rc = sc_sdp_parse_fragment(buf, len, &out->t);
  if (rc < 0) return rc;
  pass_t ps = {.s = out};
  sc_sdp_reader_t r;
  sc_sdp_line_t l;
  sc_sdp_reader_init(&r, buf, len);
  while ((rc = sc_sdp_next(&r, &l)) == 1) {
    if ((rc = take_line(&ps, &l)) < 0) {
      out->t.bad_line = l.line_no;
      return rc;
    }
  }
  if (rc < 0) return rc; /* the fragment reader has refused it already */
  return out->n ? 0 : SC_SDP_OA_ERR_NO_SECTIONS;
}

int sc_sdp_first_audio(const sc_sdp_session_t *s) {
  for (int i = 0; i < s->n; i++) {
    const sc_sdp_msection_t *m = &s->m[i];
    if (strcmp(m->kind, "audio") == 0 && (m->port || m->bundle_only) && m->opus_pt >= 0) return i;
  }
  return -1;
}

/* ---- the writers -------------------------------------------------------- */

typedef struct {
  char *out;
  size_t cap, len;
  int overflow;
} text_t;

__attribute__((format(printf, 2, 3))) static void put(text_t *t, const char *fmt, ...) {
  if (t->overflow) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->out + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= t->cap - t->len) {
    t->overflow = 1;
    return;
  }
  t->len += (size_t)n;
}

static int finish(text_t *t) {
  if (t->overflow) {
    if (t->cap) t->out[0] = '\0';
    return -ENOSPC;
  }
  return (int)t->len;
}

static int valid_local(const sc_sdp_local_t *l) {
  struct in_addr addr;
  return l && l->ip && inet_pton(AF_INET, l->ip, &addr) == 1 && l->port != 0 &&
         sc_sdp_valid_ufrag(l->ufrag) && sc_sdp_valid_pwd(l->pwd);
}

static int valid_word(const char *s, size_t max) {
  return s && word_text(s, strnlen(s, max + 1), max);
}

/* What a=ssrc/a=msid of a section we send need. */
static int valid_sender(uint32_t ssrc, const char *cname, const char *stream, const char *track) {
  return ssrc != 0 && valid_word(cname, SC_SDP_OA_MSID_MAX) &&
         valid_word(stream, SC_SDP_OA_MSID_MAX) && valid_word(track, SC_SDP_OA_MSID_MAX);
}

/* Session level: the ICE credentials and fingerprint hold for every
 * section (BUNDLE), so the longest text stays within SC_SDP_OA_OUT_MAX. */
static void put_session(text_t *t, const sc_sdp_local_t *l) {
  char fp[SC_SDP_FP_TEXT];
  sc_sdp_fingerprint_text(l->fingerprint, fp);
  put(t, "v=0\r\no=- %" PRIu64 " %u IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
      l->session_id & ((UINT64_C(1) << 62) - 1), l->version);
  put(t, "a=ice-lite\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n", l->ufrag,
      l->pwd, fp);
  put(t, "a=msid-semantic: WMS *\r\na=group:BUNDLE");
}

/* The lines of an accepted section after its m= line, up to the direction. */
static void put_transport(text_t *t, const sc_sdp_local_t *l, const char *mid, const char *setup) {
  put(t, "c=IN IP4 %s\r\na=mid:%s\r\na=setup:%s\r\na=rtcp-mux\r\n", l->ip, mid, setup);
}

static void put_opus(text_t *t, int pt, const char *fmtp, int audio_level_id) {
  put(t, "a=rtpmap:%d opus/48000/2\r\n", pt);
  if (fmtp && fmtp[0]) put(t, "a=fmtp:%d %s\r\n", pt, fmtp);
  if (audio_level_id) put(t, "a=extmap:%d %s\r\n", audio_level_id, SC_SDP_URI_AUDIO_LEVEL);
}

static void put_sender(text_t *t, uint32_t ssrc, const char *cname, const char *stream,
                       const char *track) {
  put(t, "a=msid:%s %s\r\na=ssrc:%" PRIu32 " cname:%s\r\n", stream, track, ssrc, cname);
}

static void put_candidate(text_t *t, const sc_sdp_local_t *l) {
  put(t, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", l->ip,
      (unsigned)l->port);
}

/* A take is possible when the offer's direction allows it. */
static int valid_take(const sc_sdp_msection_t *m, const sc_sdp_take_t *k) {
  if (k->take == SC_SDP_TAKE_REJECT) return 1;
  if ((!m->port && !m->bundle_only) || m->opus_pt < 0 || strcmp(m->kind, "audio") != 0 ||
      !m->mid[0])
    return 0;
  if (k->take == SC_SDP_TAKE_RECV)
    return m->direction == SC_SDP_DIR_SENDONLY || m->direction == SC_SDP_DIR_SENDRECV;
  if (k->take == SC_SDP_TAKE_SEND)
    return (m->direction == SC_SDP_DIR_RECVONLY || m->direction == SC_SDP_DIR_SENDRECV) &&
           valid_sender(k->ssrc, k->cname, k->msid_stream, k->msid_track);
  return 0;
}

/* A rejected section: port 0, the offer's transport and first format
 * with its rtpmap (stacks such as werift look for a codec even in a
 * rejected section), its mid. */
static void put_rejected(text_t *t, const sc_sdp_session_t *offer, const sc_sdp_msection_t *m) {
  put(t, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind, m->proto, m->fmt);
  if (m->mid[0]) put(t, "a=mid:%s\r\n", m->mid);
  put(t, "a=inactive\r\n");
  uint64_t pt;
  const sc_sdp_rtpmap_t *r = NULL;
  if (parse_uint(m->fmt, strlen(m->fmt), 3, &pt) == 0 && pt <= 127)
    r = sc_sdp_find_rtpmap(&offer->t, (int)pt);
  if (!r) return;
  put(t, "a=rtpmap:%d %s/%" PRIu32, r->pt, r->codec, r->clock);
  if (r->channels) put(t, "/%d", r->channels);
  put(t, "\r\n");
}

static void put_answer_section(text_t *t, const sc_sdp_local_t *l, const sc_sdp_session_t *offer,
                               int i, const sc_sdp_take_t *k) {
  const sc_sdp_msection_t *m = &offer->m[i];
  if (k->take == SC_SDP_TAKE_REJECT) {
    put_rejected(t, offer, m);
    return;
  }
  put(t, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\n", (unsigned)l->port, m->opus_pt);
  put_transport(t, l, m->mid, "passive");
  put(t, "a=%s\r\n", k->take == SC_SDP_TAKE_RECV ? "recvonly" : "sendonly");
  put_opus(t, m->opus_pt, m->opus_fmtp, m->audio_level_id);
  if (k->take == SC_SDP_TAKE_SEND) put_sender(t, k->ssrc, k->cname, k->msid_stream, k->msid_track);
  put_candidate(t, l);
}

int sc_sdp_write_answer(const sc_sdp_local_t *l, const sc_sdp_session_t *offer,
                        const sc_sdp_take_t *takes, int n, char *out, size_t cap) {
  if (!valid_local(l) || !offer || !takes || n != offer->n || n < 1 || n > SC_SDP_OA_MAX_SECTIONS)
    return -EINVAL;
  int accepted = 0;
  for (int i = 0; i < n; i++) {
    if (!valid_take(&offer->m[i], &takes[i])) return -EINVAL;
    accepted += takes[i].take != SC_SDP_TAKE_REJECT;
  }
  if (!accepted) return -EINVAL;
  text_t t = {out, cap, 0, cap == 0};
  put_session(&t, l);
  for (int i = 0; i < n; i++)
    if (takes[i].take != SC_SDP_TAKE_REJECT) put(&t, " %s", offer->m[i].mid);
  put(&t, "\r\n");
  for (int i = 0; i < n; i++) put_answer_section(&t, l, offer, i, &takes[i]);
  return finish(&t);
}

static int valid_offer_media(const sc_sdp_offer_media_t *m, int n) {
  for (int i = 0; i < n; i++) {
    const sc_sdp_offer_media_t *x = &m[i];
    if (!x->mid || !token_text(x->mid, strnlen(x->mid, SC_SDP_OA_MID_MAX + 1), SC_SDP_OA_MID_MAX))
      return 0;
    for (int j = 0; j < i; j++)
      if (strcmp(m[j].mid, x->mid) == 0) return 0;
    if (x->opus_pt < 96 || x->opus_pt > 127 || x->audio_level_id < 0 || x->audio_level_id > 14)
      return 0;
    if (x->opus_fmtp && x->opus_fmtp[0] &&
        !word_text(x->opus_fmtp, strnlen(x->opus_fmtp, SC_SDP_OA_FMTP_MAX + 1), SC_SDP_OA_FMTP_MAX))
      return 0;
    if (!valid_sender(x->ssrc, x->cname, x->msid_stream, x->msid_track)) return 0;
  }
  return 1;
}

int sc_sdp_write_offer(const sc_sdp_local_t *l, const sc_sdp_offer_media_t *m, int n, char *out,
                       size_t cap) {
  if (!valid_local(l) || !m || n < 1 || n > SC_SDP_OA_MAX_SECTIONS || !valid_offer_media(m, n))
    return -EINVAL;
  text_t t = {out, cap, 0, cap == 0};
  put_session(&t, l);
  for (int i = 0; i < n; i++) put(&t, " %s", m[i].mid);
  put(&t, "\r\n");
  for (int i = 0; i < n; i++) {
    put(&t, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\n", (unsigned)l->port, m[i].opus_pt);
    put_transport(&t, l, m[i].mid, "actpass");
    put(&t, "a=sendonly\r\n");
    put_opus(&t, m[i].opus_pt, m[i].opus_fmtp, m[i].audio_level_id);
    put_sender(&t, m[i].ssrc, m[i].cname, m[i].msid_stream, m[i].msid_track);
    put_candidate(&t, l);
  }
  return finish(&t);
}
