#include "sc_ice.h"

#include "sc_token.h"

#include <errno.h>
#include <string.h>

/* SHA1(): the peer ufrag's digest (sc_stun uses the same interface) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"; 64 characters, so
 * six random bits pick one without bias. */
static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void random_ice_string(char *out, size_t n) {
  uint8_t raw[SC_ICE_PWD_LEN];
  sc_token_random(raw, n);
  for (size_t i = 0; i < n; i++) out[i] = ice_chars[raw[i] & 63];
  out[n] = '\0';
  memset(raw, 0, sizeof raw);
}

int sc_ice_init(sc_ice_t *a) {
  memset(a, 0, sizeof *a);
  random_ice_string(a->ufrag, SC_ICE_UFRAG_LEN);
  random_ice_string(a->pwd, SC_ICE_PWD_LEN);
  sc_stun_key_init(&a->key, a->pwd, SC_ICE_PWD_LEN);
  a->selected = -1;
  return 0;
}

int sc_ice_set_remote_ufrag(sc_ice_t *a, const char *ufrag, size_t len) {
  if (len == 0 || len > SC_ICE_REMOTE_UFRAG_MAX) return -EINVAL;
  SHA1((const unsigned char *)ufrag, len, a->remote_ufrag_sha1);
  a->remote_ufrag_len = (uint16_t)len;
  return 0;
}

int sc_ice_creds_new(sc_ice_creds_t *c, const char *remote_ufrag) {
  size_t len = remote_ufrag ? strlen(remote_ufrag) : 0;
  if (len > SC_ICE_REMOTE_UFRAG_MAX) return -EINVAL;
  random_ice_string(c->ufrag, SC_ICE_UFRAG_LEN);
  random_ice_string(c->pwd, SC_ICE_PWD_LEN);
  memcpy(c->remote_ufrag, remote_ufrag ? remote_ufrag : "", len + 1);
  return 0;
}

int sc_ice_restart(sc_ice_t *a, const sc_ice_creds_t *c) {
  memcpy(a->ufrag, c->ufrag, sizeof a->ufrag);
  memcpy(a->pwd, c->pwd, sizeof a->pwd);
  sc_stun_key_init(&a->key, a->pwd, SC_ICE_PWD_LEN);
  a->remote_ufrag_len = 0; /* any peer part, unless the peer's is known */
  size_t len = strnlen(c->remote_ufrag, sizeof c->remote_ufrag);
  if (len) sc_ice_set_remote_ufrag(a, c->remote_ufrag, len);
  return 0;
}

static int consent_holds(const sc_ice_pair_t *p, int64_t now_ms) {
  return p->used && now_ms - p->checked_ms < SC_ICE_CONSENT_MS;
}

static int find_pair(const sc_ice_t *a, const struct sockaddr_storage *from) {
  for (int i = 0; i < SC_ICE_MAX_PAIRS; i++)
    if (a->pairs[i].used && sc_udp_addr_equal(&a->pairs[i].addr, from)) return i;
  return -1;
}

/* ---- the request's checks, in order ----------------------------------- */

static int names_us(const sc_ice_t *a, const sc_stun_msg_t *m) {
  if (!m->username || m->our_ufrag_len != SC_ICE_UFRAG_LEN) return 0;
  if (memcmp(m->our_ufrag, a->ufrag, SC_ICE_UFRAG_LEN) != 0) return 0;
  if (a->remote_ufrag_len == 0) return 1;
  uint8_t md[sizeof a->remote_ufrag_sha1];
  if (!m->peer_ufrag || m->peer_ufrag_len != a->remote_ufrag_len) return 0;
  SHA1((const unsigned char *)m->peer_ufrag, m->peer_ufrag_len, md);
  return memcmp(md, a->remote_ufrag_sha1, sizeof md) == 0;
}

/* Charges one request to from's budget: 1 if within it. A source not yet
 * tracked takes a free slot or the least recently seen one. */
static int within_budget(sc_ice_t *a, int64_t now_ms, const struct sockaddr_storage *from) {
  sc_ice_source_t *s = NULL, *oldest = &a->sources[0];
  for (int i = 0; i < SC_ICE_MAX_SOURCES && !s; i++) {
    sc_ice_source_t *c = &a->sources[i];
    if (c->used && sc_udp_addr_equal(&c->addr, from))
      s = c;
    else if (!c->used || (oldest->used && c->seen_ms < oldest->seen_ms))
      oldest = c;
  }
  if (!s) {
    s = oldest;
    *s = (sc_ice_source_t){.used = 1, .window_ms = now_ms};
    sc_udp_addr_set(&s->addr, from);
  }
  s->seen_ms = now_ms;
  if (now_ms - s->window_ms >= 1000 || now_ms < s->window_ms) {
    s->window_ms = now_ms;
    s->in_window = 0;
  }
  if (s->in_window >= SC_ICE_RATE_PER_SEC) return 0;
  s->in_window++;
  return 1;
}

/* ---- the validated tuples ---------------------------------------------- */

/* The slot for a new tuple: a free one, an expired one, else the least
 * recently checked one that is not selected. */
static int slot_for_new_pair(sc_ice_t *a, int64_t now_ms) {
  int victim = -1;
  for (int i = 0; i < SC_ICE_MAX_PAIRS; i++) {
    if (!a->pairs[i].used || !consent_holds(&a->pairs[i], now_ms)) return i;
    if (i == a->selected) continue;
    if (victim < 0 || a->pairs[i].checked_ms < a->pairs[victim].checked_ms) victim = i;
  }
  return victim;
}

static void record_check(sc_ice_t *a, int64_t now_ms, const sc_stun_msg_t *m,
                         const struct sockaddr_storage *from) {
  int i = find_pair(a, from);
  if (i < 0) {
    i = slot_for_new_pair(a, now_ms);
    if (a->pairs[i].used) a->counters.pairs_evicted++;
    if (i == a->selected) a->selected = -1;
    a->pairs[i] = (sc_ice_pair_t){.used = 1};
    sc_udp_addr_set(&a->pairs[i].addr, from);
  }
  a->pairs[i].checked_ms = now_ms;
  a->pairs[i].priority = m->priority;
  a->ever_valid = 1;
  if (m->use_candidate) {
    a->selected = i;
    a->counters.nominations++;
  }
}

/* ---- answering --------------------------------------------------------- */

/* The answer to an authenticated request, or -SC_ICE_TOO_LARGE. cap is
 * already limited to the request's length. */
static int answer(sc_ice_t *a, int64_t now_ms, const sc_stun_msg_t *m,
                  const struct sockaddr_storage *from, uint8_t *out, size_t cap) {
  int n;
  uint64_t *counter;
  if (m->n_unknown > 0) {
    int listed = m->n_unknown < SC_STUN_MAX_UNKNOWN ? m->n_unknown : SC_STUN_MAX_UNKNOWN;
    n = sc_stun_build_error(m->tid, 420, m->unknown, listed, &a->key, out, cap);
    counter = &a->counters.unknown_attr;
  } else if (!m->has_priority || !m->fp_off) {
    n = sc_stun_build_error(m->tid, 400, NULL, 0, &a->key, out, cap);
    counter = &a->counters.bad_request;
  } else if (m->has_controlled) {
    n = sc_stun_build_error(m->tid, 487, NULL, 0, &a->key, out, cap);
    counter = &a->counters.role_conflict;
  } else {
    n = sc_stun_build_success(m->tid, (const struct sockaddr *)from, NULL, &a->key, out, cap);
    counter = &a->counters.answered;
    if (n > 0) record_check(a, now_ms, m, from);
  }
  if (n <= 0) {
    a->counters.too_large++;
    return -SC_ICE_TOO_LARGE;
  }
  (*counter)++;
  return n;
}

static int refuse(uint64_t *counter, sc_ice_refusal_t why) {
  (*counter)++;
  return -(int)why;
}

int sc_ice_on_stun(sc_ice_t *a, int64_t now_ms, const uint8_t *buf, size_t len,
                   const struct sockaddr_storage *from, uint8_t *out, size_t cap) {
  sc_ice_counters_t *c = &a->counters;
  sc_stun_msg_t m;
  int family = from->ss_family;
  if ((family != AF_INET && family != AF_INET6) || sc_stun_parse(buf, len, &m) < 0)
    return refuse(&c->malformed, SC_ICE_MALFORMED);
  if (m.type != SC_STUN_BINDING_REQUEST) return refuse(&c->not_request, SC_ICE_NOT_REQUEST);
  if (m.fp_off && !sc_stun_check_fingerprint(buf, &m))
    return refuse(&c->bad_fingerprint, SC_ICE_BAD_FINGERPRINT);
  if (!names_us(a, &m)) return refuse(&c->unknown_ufrag, SC_ICE_UNKNOWN_UFRAG);
  if (!within_budget(a, now_ms, from)) return refuse(&c->rate_limited, SC_ICE_RATE_LIMITED);
  if (!sc_stun_check_integrity(buf, &m, &a->key))
    return refuse(&c->bad_integrity, SC_ICE_BAD_INTEGRITY);
  /* No amplification: an answer larger than its request is not sent. */
  return answer(a, now_ms, &m, from, out, cap < len ? cap : len);
}

/* ---- queries ----------------------------------------------------------- */

int sc_ice_tuple_valid(const sc_ice_t *a, int64_t now_ms, const struct sockaddr_storage *from) {
  int i = find_pair(a, from);
  return i >= 0 && consent_holds(&a->pairs[i], now_ms);
}

const sc_udp_addr_t *sc_ice_send_tuple(const sc_ice_t *a, int64_t now_ms) {
  if (a->selected < 0 || !consent_holds(&a->pairs[a->selected], now_ms)) return NULL;
  return &a->pairs[a->selected].addr;
}

int sc_ice_media_from(sc_ice_t *a, int64_t now_ms, const struct sockaddr_storage *from) {
  int i = find_pair(a, from);
  if (i < 0 || i == a->selected || !consent_holds(&a->pairs[i], now_ms)) return 0;
  a->selected = i;
  return 1;
}

sc_ice_state_t sc_ice_state(const sc_ice_t *a, int64_t now_ms) {
  if (!a->ever_valid) return SC_ICE_NEW;
  for (int i = 0; i < SC_ICE_MAX_PAIRS; i++)
    if (consent_holds(&a->pairs[i], now_ms)) return SC_ICE_CONNECTED;
  return SC_ICE_EXPIRED;
}
