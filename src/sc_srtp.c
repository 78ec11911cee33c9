#include "sc_srtp.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "sc_srtp_evp.h"

/* Inbound: the peer's packets, reordered on the network, still open
 * within 1,024 positions (libwebrtc's own window). Outbound the window
 * only refuses our own sends that fall that far behind the newest of
 * their stream (a source's packets that reached us that much reordered):
 * 256 positions is 5 s of Opus and half a second of 5 Mbit/s video, far
 * behind any receiver's jitter buffer, and each outbound stream's bitmap
 * is then 32 bytes instead of 128 (a member gets one per source). */
#define REPLAY_WINDOW_IN 1024
#define REPLAY_WINDOW_OUT 256
#define STREAMS_MAX 64
#define MASTER_MAX (SC_SRTP_KEY_MAX + SC_SRTP_SALT_MAX)

_Static_assert(SC_SRTP_SPARE >= SRTP_MAX_TRAILER_LEN + 4, "SRTCP trailer room");

/* One direction: the libsrtp session and the SSRCs it has streams for
 * (max slots, in the allocation's tail). */
typedef struct {
  srtp_t session;
  int n, max;
  uint32_t *ssrc;
} direction_t;

struct sc_srtp {
  direction_t in, out;
  uint32_t slots[]; /* in.ssrc, then out.ssrc: sized to the budgets */
};

int sc_srtp_profile_lengths(uint16_t profile, size_t *key_len, size_t *salt_len) {
  switch (profile) {
    case SC_SRTP_AES128_CM_SHA1_80:
      *key_len = 16;
      *salt_len = 14;
      return 0;
    case SC_SRTP_AEAD_AES_128_GCM:
      *key_len = 16;
      *salt_len = 12;
      return 0;
    default: return -EINVAL;
  }
}

const char *sc_srtp_profile_name(uint16_t profile) {
  switch (profile) {
    case SC_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
    case SC_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
    default: return "unknown";
  }
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = SC_SRTP_E_IO;

/* AES-GCM on OpenSSL EVP instead of the NSS build's (sc_srtp_evp.h says
 * why); if libsrtp refuses it, its own stays in use. */
static void init_library(void) {
  init_status = srtp_init() == srtp_err_status_ok ? 0 : SC_SRTP_E_IO;
  if (init_status == 0) sc_srtp_evp_register();
}

int sc_srtp_global_init(void) {
  pthread_once(&init_once, init_library);
  return init_status;
}

static void set_crypto(srtp_policy_t *p, uint16_t profile) {
  if (profile == SC_SRTP_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  }
}

/* libsrtp wants the master key and salt back to back. */
static int create_session(srtp_t *out, uint16_t profile, const uint8_t *key, const uint8_t *salt,
                          size_t key_len, size_t salt_len, srtp_ssrc_type_t type,
                          unsigned long window) {
  uint8_t master[MASTER_MAX];
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  memcpy(master, key, key_len);
  memcpy(master + key_len, salt, salt_len);
  set_crypto(&p, profile);
  p.ssrc.type = type;
  p.key = master;
  p.window_size = window;
  p.allow_repeat_tx = 1;
  srtp_err_status_t st = srtp_create(out, &p);
  OPENSSL_cleanse(master, sizeof master);
  if (st == srtp_err_status_alloc_fail) return -ENOMEM;
  return st == srtp_err_status_ok ? 0 : SC_SRTP_E_IO;
}

int sc_srtp_new(sc_srtp_t **out, const sc_srtp_keys_t *keys, int max_streams) {
  return sc_srtp_new_budget(out, keys, max_streams, max_streams);
}

static int budget_ok(int n) {
  return n >= 1 && n <= STREAMS_MAX;
}

int sc_srtp_new_budget(sc_srtp_t **out, const sc_srtp_keys_t *keys, int max_in, int max_out) {
  size_t key_len, salt_len;
  *out = NULL;
  if (sc_srtp_profile_lengths(keys->profile, &key_len, &salt_len) < 0 || keys->key_len != key_len ||
      keys->salt_len != salt_len || !budget_ok(max_in) || !budget_ok(max_out))
    return -EINVAL;
  if (sc_srtp_global_init() < 0) return SC_SRTP_E_IO;
  sc_srtp_t *s = calloc(1, sizeof *s + (size_t)(max_in + max_out) * sizeof s->slots[0]);
  if (!s) return -ENOMEM;
  s->in.max = max_in;
  s->out.max = max_out;
  s->in.ssrc = s->slots;
  s->out.ssrc = s->slots + max_in;
  int rc = create_session(&s->in.session, keys->profile, keys->remote_key, keys->remote_salt,
                          key_len, salt_len, ssrc_any_inbound, REPLAY_WINDOW_IN);
  if (rc == 0)
    rc = create_session(&s->out.session, keys->profile, keys->local_key, keys->local_salt, key_len,
                        salt_len, ssrc_any_outbound, REPLAY_WINDOW_OUT);
  if (rc < 0) {
    sc_srtp_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void sc_srtp_free(sc_srtp_t *s) {
  if (!s) return;
  if (s->in.session) srtp_dealloc(s->in.session);
  if (s->out.session) srtp_dealloc(s->out.session);
  free(s);
}

/* ---- the SSRC budget ------------------------------------------------------ */

static int find_ssrc(const direction_t *d, uint32_t ssrc) {
  for (int i = 0; i < d->n; i++)
    if (d->ssrc[i] == ssrc) return i;
  return -1;
}

/* 0 if a packet of ssrc may go to libsrtp (known, or room for one more). */
static int admit_ssrc(const direction_t *d, uint32_t ssrc) {
  return find_ssrc(d, ssrc) >= 0 || d->n < d->max ? 0 : SC_SRTP_E_STREAMS;
}

/* Called after libsrtp accepted a packet: it now has a stream for ssrc. */
static void note_ssrc(direction_t *d, uint32_t ssrc) {
  if (find_ssrc(d, ssrc) < 0 && d->n < d->max) d->ssrc[d->n++] = ssrc;
}

static int remove_ssrc(direction_t *d, uint32_t ssrc) {
  int i = find_ssrc(d, ssrc);
  if (i < 0) return -ENOENT;
  d->ssrc[i] = d->ssrc[--d->n];
  srtp_remove_stream(d->session, htonl(ssrc)); /* libsrtp keys streams in network order */
  return 0;
}

int sc_srtp_remove_inbound(sc_srtp_t *s, uint32_t ssrc) {
  return remove_ssrc(&s->in, ssrc);
}
int sc_srtp_remove_outbound(sc_srtp_t *s, uint32_t ssrc) {
  return remove_ssrc(&s->out, ssrc);
}
int sc_srtp_inbound_streams(const sc_srtp_t *s) {
  return s->in.n;
}
int sc_srtp_outbound_streams(const sc_srtp_t *s) {
  return s->out.n;
}

/* ---- packets ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int map_error(srtp_err_status_t st) {
  switch (st) {
    case srtp_err_status_auth_fail: return SC_SRTP_E_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return SC_SRTP_E_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return SC_SRTP_E_INVAL;
    default: return SC_SRTP_E_IO;
  }
}

/* The SSRC libsrtp keys its stream on: RTP bytes 8-11, RTCP 4-7. */
static int packet_ssrc(const uint8_t *pkt, size_t len, int rtcp, uint32_t *ssrc) {
  size_t min = rtcp ? 8 : 12;
  if (len < min || len > INT32_MAX - SC_SRTP_SPARE || (pkt[0] >> 6) != 2) return SC_SRTP_E_INVAL;
  *ssrc = be32(pkt + (rtcp ? 4 : 8));
  return 0;
}

static int protect(sc_srtp_t *s, uint8_t *pkt, size_t len, size_t cap, int rtcp) {
  uint32_t ssrc;
  int rc = packet_ssrc(pkt, len, rtcp, &ssrc);
  if (rc < 0) return rc;
  if (cap < len + SC_SRTP_SPARE) return SC_SRTP_E_NOBUFS;
  if ((rc = admit_ssrc(&s->out, ssrc)) < 0) return rc;
  int n = (int)len;
  srtp_err_status_t st =
      rtcp ? srtp_protect_rtcp(s->out.session, pkt, &n) : srtp_protect(s->out.session, pkt, &n);
  if (st != srtp_err_status_ok) return map_error(st);
  note_ssrc(&s->out, ssrc);
  return n;
}

static int unprotect(sc_srtp_t *s, uint8_t *pkt, size_t len, int rtcp) {
  uint32_t ssrc;
  int rc = packet_ssrc(pkt, len, rtcp, &ssrc);
  if (rc < 0) return rc;
  if ((rc = admit_ssrc(&s->in, ssrc)) < 0) return rc;
  int n = (int)len;
  srtp_err_status_t st =
      rtcp ? srtp_unprotect_rtcp(s->in.session, pkt, &n) : srtp_unprotect(s->in.session, pkt, &n);
  if (st != srtp_err_status_ok) return map_error(st);
  note_ssrc(&s->in, ssrc); /* libsrtp adds a stream only once a packet authenticates */
  return n;
}

int sc_srtp_protect_rtp(sc_srtp_t *s, uint8_t *pkt, size_t len, size_t cap) {
  return protect(s, pkt, len, cap, 0);
}
int sc_srtp_protect_rtcp(sc_srtp_t *s, uint8_t *pkt, size_t len, size_t cap) {
  return protect(s, pkt, len, cap, 1);
}
int sc_srtp_unprotect_rtp(sc_srtp_t *s, uint8_t *pkt, size_t len) {
  return unprotect(s, pkt, len, 0);
}
int sc_srtp_unprotect_rtcp(sc_srtp_t *s, uint8_t *pkt, size_t len) {
  return unprotect(s, pkt, len, 1);
}
