/*
 * lg_webrtc: see lg_webrtc.h. The binding request is built with
 * tests/unit/stun_fx.h (independent of src/sc_stun, shaped like
 * Chrome's); responses are read with the core's sc_stun parser and
 * checks; the DTLS client is tests/unit/dtls_fx.h's.
 */
#include "lg_webrtc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dtls_fx.h"
#include "sc_sdp.h"
#include "sc_stun.h"
#include "sc_token.h"
#include "stun_fx.h"

#define ICE_RETRY_NS 100000000LL /* a check unanswered for 100 ms is sent again */
#define ICE_TRIES 100            /* then the client fails */
#define CONSENT_NS 5000000000LL  /* consent freshness (RFC 7675: about every 5 s) */
#define DTLS_DEADLINE_NS 30000000000LL
#define UFRAG_LEN 8
#define PWD_LEN 24

struct lg_rtc {
  _Atomic int state;
  const char *error;
  uint16_t profile;
  char ufrag[UFRAG_LEN + 1], pwd[PWD_LEN + 1];
  char srv_ufrag[SC_SDP_ICE_MAX + 1], srv_pwd[SC_SDP_ICE_MAX + 1];
  sc_stun_key_t srv_key;
  uint8_t srv_fp[SC_DTLS_FP_LEN], own_fp[SC_DTLS_FP_LEN];
  uint32_t ssrc;
  int fd;
  struct sockaddr_in to;
  fx_client_t *dtls; /* until connected */
  sc_srtp_t *srtp;   /* once connected */
  uint8_t tid[SC_STUN_TID_LEN];
  uint8_t tid_seed;
  int tries;
  int64_t next_check, dtls_start;
};

lg_rtc_state_t lg_rtc_state(const lg_rtc_t *r) {
  return (lg_rtc_state_t)atomic_load_explicit(&r->state, memory_order_acquire);
}

const char *lg_rtc_error(const lg_rtc_t *r) {
  return r->error;
}

sc_srtp_t *lg_rtc_srtp(lg_rtc_t *r) {
  return r->srtp;
}

static void fail(lg_rtc_t *r, const char *why) {
  r->error = why;
  atomic_store_explicit(&r->state, LG_RTC_FAILED, memory_order_release);
}

lg_rtc_t *lg_rtc_new(uint16_t profile) {
  lg_rtc_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->profile = profile;
  if (sc_token_random_alnum(r->ufrag, sizeof r->ufrag, UFRAG_LEN) < 0 ||
      sc_token_random_alnum(r->pwd, sizeof r->pwd, PWD_LEN) < 0) {
    lg_rtc_free(r);
    return NULL;
  }
  return r;
}

void lg_rtc_free(lg_rtc_t *r) {
  if (!r) return;
  if (r->dtls) fx_client_free(r->dtls);
  free(r->dtls);
  sc_srtp_free(r->srtp);
  free(r);
}

int lg_rtc_fragment(lg_rtc_t *r, char *out, size_t cap) {
  char fp[SC_SDP_FP_TEXT];
  if (!r->dtls) { /* a key and certificate per peer connection, as a browser */
    r->dtls = calloc(1, sizeof *r->dtls);
    if (!r->dtls || fx_client_init(r->dtls, sc_srtp_profile_name(r->profile), 1) < 0) return -1;
    memcpy(r->own_fp, r->dtls->fp, sizeof r->own_fp);
  }
  sc_sdp_fingerprint_text(r->own_fp, fp);
  int n = snprintf(out, cap,
                   "a=extmap-allow-mixed\na=ice-ufrag:%s\na=ice-pwd:%s\na=ice-options:trickle\n"
                   "a=fingerprint:sha-256 %s\na=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-"
                   "level\na=rtpmap:%d opus/48000/2",
                   r->ufrag, r->pwd, fp, LG_RTC_LEVEL_ID, LG_RTC_OPUS_PT);
  return n > 0 && (size_t)n < cap ? n : -1;
}

int lg_rtc_answer(lg_rtc_t *r, const char *sdp, size_t len, uint32_t ssrc, int fd,
                  const struct sockaddr_in *to) {
  sc_sdp_fragment_t *f = malloc(sizeof *f); /* large: not on the stack */
  int ok = r->dtls && f && sc_sdp_parse_fragment(sdp, len, f) == 0 && f->has_fingerprint;
  if (ok) {
    snprintf(r->srv_ufrag, sizeof r->srv_ufrag, "%s", f->ufrag);
    snprintf(r->srv_pwd, sizeof r->srv_pwd, "%s", f->pwd);
    memcpy(r->srv_fp, f->fingerprint, sizeof r->srv_fp);
    sc_stun_key_init(&r->srv_key, r->srv_pwd, strlen(r->srv_pwd));
    r->ssrc = ssrc;
    r->fd = fd;
    r->to = *to;
    atomic_store_explicit(&r->state, LG_RTC_START, memory_order_release);
  }
  free(f);
  return ok ? 0 : -1;
}

/* ---- media thread -------------------------------------------------------- */

static void send_dgram(lg_rtc_t *r, const uint8_t *buf, size_t len) {
  /* A full socket buffer loses the datagram; the retry timers repair it. */
  (void)!sendto(r->fd, buf, len, 0, (const struct sockaddr *)&r->to, sizeof r->to);
}

/* A binding request as Chrome sends it; USE-CANDIDATE on the first
 * checks (the nomination), not on consent checks. */
static void send_check(lg_rtc_t *r, int nominate, int64_t now) {
  static _Thread_local fx_msg_t m;
  char user[2 * SC_SDP_ICE_MAX + 2];
  snprintf(user, sizeof user, "%s:%s", r->srv_ufrag, r->ufrag);
  /* The transaction id comes from a per-client counter: enough to tell a
   * late answer to an earlier check from the current one. */
  fx_request(&m, user, r->srv_pwd, nominate ? FX_USE_CANDIDATE : 0, r->tid_seed++);
  memcpy(r->tid, m.b + 8, SC_STUN_TID_LEN);
  send_dgram(r, m.b, m.len);
  r->next_check = now + (nominate ? ICE_RETRY_NS : CONSENT_NS);
}

static void flush_dtls(lg_rtc_t *r) {
  fx_queue_t *q = &r->dtls->out;
  for (int i = 0; i < q->n; i++) send_dgram(r, q->data[i], q->len[i]);
  q->n = 0;
}

/* The first Opus packet (a silence frame), as a browser's track sends at
 * once; RTP sequence 0 (the media steps go on from 1). */
static void send_first_packet(lg_rtc_t *r) {
  uint8_t pkt[64 + SC_SRTP_SPARE];
  size_t h = lg_rtc_header(pkt, LG_RTC_OPUS_PT, 0, 0, r->ssrc);
  static const uint8_t silence[3] = {0xF8, 0xFF, 0xFE};
  memcpy(pkt + h, silence, sizeof silence);
  int n = sc_srtp_protect_rtp(r->srtp, pkt, h + sizeof silence, sizeof pkt);
  if (n > 0) send_dgram(r, pkt, (size_t)n);
}

static int peer_cert_matches(lg_rtc_t *r) {
  X509 *cert = SSL_get1_peer_certificate(r->dtls->ssl);
  uint8_t fp[SC_DTLS_FP_LEN];
  unsigned int n = 0;
  int ok = cert && X509_digest(cert, EVP_sha256(), fp, &n) == 1 && n == sizeof fp &&
           memcmp(fp, r->srv_fp, sizeof fp) == 0;
  X509_free(cert);
  return ok;
}

static void dtls_progress(lg_rtc_t *r, int64_t now) {
  flush_dtls(r);
  if (r->dtls->failed) {
    fail(r, "DTLS handshake failed");
    return;
  }
  if (!r->dtls->done) {
    if (now - r->dtls_start > DTLS_DEADLINE_NS) fail(r, "DTLS handshake timed out");
    return;
  }
  sc_srtp_keys_t k;
  if (!peer_cert_matches(r)) {
    fail(r, "server certificate does not match op 4's fingerprint");
    return;
  }
  if (fx_client_keys(r->dtls, &k) < 0 || k.profile != r->profile ||
      sc_srtp_new(&r->srtp, &k, 16) < 0) {
    fail(r, "SRTP keys");
    return;
  }
  fx_client_free(r->dtls); /* the server finished last: nothing left to answer */
  free(r->dtls);
  r->dtls = NULL;
  send_first_packet(r);
  r->next_check = now + CONSENT_NS;
  atomic_store_explicit(&r->state, LG_RTC_CONNECTED, memory_order_release);
}

static void on_stun(lg_rtc_t *r, const uint8_t *buf, size_t len, int64_t now) {
  sc_stun_msg_t m;
  if (sc_stun_parse(buf, len, &m) < 0 || m.type != SC_STUN_BINDING_SUCCESS ||
      memcmp(m.tid, r->tid, SC_STUN_TID_LEN) != 0 ||
      !sc_stun_check_integrity(buf, &m, &r->srv_key) || !sc_stun_check_fingerprint(buf, &m))
    return;                                  /* stale, or not for us: the retry timer goes on */
  if (lg_rtc_state(r) != LG_RTC_ICE) return; /* a consent answer */
  atomic_store_explicit(&r->state, LG_RTC_DTLS, memory_order_release);
  r->dtls_start = now;
  fx_client_step(r->dtls); /* ClientHello */
  dtls_progress(r, now);
}

void lg_rtc_input(lg_rtc_t *r, const uint8_t *buf, size_t len, int64_t now_ns) {
  lg_rtc_state_t st = lg_rtc_state(r);
  if (st < LG_RTC_ICE || st == LG_RTC_FAILED) return;
  if (buf[0] < 4) {
    on_stun(r, buf, len, now_ns);
  } else if (st == LG_RTC_DTLS) {
    fx_client_receive(r->dtls, buf, len);
    dtls_progress(r, now_ns);
  }
}

void lg_rtc_tick(lg_rtc_t *r, int64_t now_ns) {
  switch (lg_rtc_state(r)) {
    case LG_RTC_START:
      atomic_store_explicit(&r->state, LG_RTC_ICE, memory_order_release);
      send_check(r, 1, now_ns);
      break;
    case LG_RTC_ICE:
      if (now_ns < r->next_check) break;
      if (++r->tries >= ICE_TRIES)
        fail(r, "no answer to the binding checks");
      else
        send_check(r, 1, now_ns);
      break;
    case LG_RTC_DTLS: {
      struct timeval tv;
      if (DTLSv1_get_timeout(r->dtls->ssl, &tv) == 1 && tv.tv_sec == 0 && tv.tv_usec == 0) {
        DTLSv1_handle_timeout(r->dtls->ssl);
        dtls_progress(r, now_ns);
      } else if (now_ns - r->dtls_start > DTLS_DEADLINE_NS) {
        fail(r, "DTLS handshake timed out");
      }
      break;
    }
    case LG_RTC_CONNECTED:
      if (now_ns >= r->next_check) send_check(r, 0, now_ns);
      break;
    default: break;
  }
}

size_t lg_rtc_header(uint8_t *out, int pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  out[0] = 0x90; /* version 2, X: the audio-level extension */
  out[1] = (uint8_t)pt;
  out[2] = (uint8_t)(seq >> 8);
  out[3] = (uint8_t)seq;
  for (int i = 0; i < 4; i++) out[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; i++) out[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  static const uint8_t ext[LG_RTC_LEVEL_EXT] = {0xBE, 0xDE, 0x00, 0x01, LG_RTC_LEVEL_ID << 4,
                                                30,   0,    0};
  memcpy(out + 12, ext, sizeof ext);
  return 12 + LG_RTC_LEVEL_EXT;
}
