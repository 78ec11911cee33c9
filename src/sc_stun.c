/* The low-level SHA-1 calls are deprecated in OpenSSL 3 but, unlike the
 * EVP HMAC, allocate nothing: the context lives on the stack. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "sc_stun.h"

#include "sc_bytes.h"

#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#define ATTR_MAPPED_ADDRESS 0x0001
#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_ERROR_CODE 0x0009
#define ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define ATTR_REALM 0x0014
#define ATTR_NONCE 0x0015
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_SOFTWARE 0x8022
#define ATTR_FINGERPRINT 0x8028
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A

#define ATTR_HEADER 4
#define MI_LEN 20
#define FP_LEN 4
#define FP_XOR 0x5354554Eu
#define ERROR_REASON_MAX 763

static size_t pad4(size_t n) {
  return (n + 3) & ~(size_t)3;
}

/* ---- CRC-32 ------------------------------------------------------------- */

/* Reflected polynomial 0xEDB88320, four bits per step: a 16-entry table
 * instead of zlib (one dependency less) or a 1 KiB table. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t sc_stun_crc32(const uint8_t *buf, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    c ^= buf[i];
    c = (c >> 4) ^ crc_nibble[c & 0x0F];
    c = (c >> 4) ^ crc_nibble[c & 0x0F];
  }
  return c ^ 0xFFFFFFFFu;
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_xor_address(const uint8_t *v, size_t n, const uint8_t *header, sc_stun_msg_t *m) {
  memset(&m->mapped, 0, sizeof m->mapped);
  uint16_t port = sc_rd16(v + 2) ^ (uint16_t)(SC_STUN_COOKIE >> 16);
  if (v[1] == 1 && n == 8) {
    struct sockaddr_in *a = (struct sockaddr_in *)&m->mapped;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    uint8_t ip[4];
    for (int i = 0; i < 4; i++) ip[i] = v[4 + i] ^ header[4 + i];
    memcpy(&a->sin_addr, ip, 4);
  } else if (v[1] == 2 && n == 20) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&m->mapped;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    /* XORed with the cookie and the transaction id: header bytes 4..19 */
    for (int i = 0; i < 16; i++) a->sin6_addr.s6_addr[i] = v[4 + i] ^ header[4 + i];
  } else {
    return -EINVAL;
  }
  m->has_mapped = 1;
  return 0;
}

static void split_username(sc_stun_msg_t *m) {
  const uint8_t *colon = memchr(m->username, ':', m->username_len);
  m->our_ufrag = m->username;
  m->our_ufrag_len = colon ? (size_t)(colon - m->username) : m->username_len;
  m->peer_ufrag = colon ? colon + 1 : NULL;
  m->peer_ufrag_len = colon ? m->username_len - m->our_ufrag_len - 1 : 0;
}

static int known_required(uint16_t type) {
  switch (type) {
    case ATTR_MAPPED_ADDRESS:
    case ATTR_USERNAME:
    case ATTR_MESSAGE_INTEGRITY:
    case ATTR_ERROR_CODE:
    case ATTR_UNKNOWN_ATTRIBUTES:
    case ATTR_REALM:
    case ATTR_NONCE:
    case ATTR_XOR_MAPPED_ADDRESS:
    case ATTR_PRIORITY:
    case ATTR_USE_CANDIDATE: return 1;
    default: return 0;
  }
}

/* One attribute before MESSAGE-INTEGRITY (or MI itself) at offset off. */
static int parse_attr(const uint8_t *buf, size_t off, uint16_t type, size_t n, sc_stun_msg_t *m) {
  const uint8_t *v = buf + off + ATTR_HEADER;
  switch (type) {
    case ATTR_USERNAME:
      if (n < 1 || n > SC_STUN_USERNAME_MAX) return -EINVAL;
      if (m->username) return 0;
      m->username = v, m->username_len = n;
      split_username(m);
      return 0;
    case ATTR_PRIORITY:
      if (n != 4) return -EINVAL;
      if (!m->has_priority) m->priority = sc_rd32(v);
      m->has_priority = 1;
      return 0;
    case ATTR_USE_CANDIDATE:
      if (n != 0) return -EINVAL;
      m->use_candidate = 1;
      return 0;
    case ATTR_ICE_CONTROLLING:
    case ATTR_ICE_CONTROLLED:
      if (n != 8) return -EINVAL;
      if (!m->has_controlling && !m->has_controlled)
        m->tiebreaker = (uint64_t)sc_rd32(v) << 32 | sc_rd32(v + 4);
      if (type == ATTR_ICE_CONTROLLING) m->has_controlling = 1;
      if (type == ATTR_ICE_CONTROLLED) m->has_controlled = 1;
      return 0;
    case ATTR_MESSAGE_INTEGRITY:
      if (n != MI_LEN) return -EINVAL;
      m->mi_off = off;
      return 0;
    case ATTR_XOR_MAPPED_ADDRESS:
      if (n < 4) return -EINVAL;
      return m->has_mapped ? 0 : parse_xor_address(v, n, buf, m);
    case ATTR_ERROR_CODE:
      if (n < 4 || n > 4 + ERROR_REASON_MAX) return -EINVAL;
      if (!m->error_code) m->error_code = (v[2] & 7) * 100 + v[3];
      return 0;
    default:
      if (type < 0x8000 && !known_required(type)) {
        if (m->n_unknown < SC_STUN_MAX_UNKNOWN) m->unknown[m->n_unknown] = type;
        m->n_unknown++;
      }
      return 0;
  }
}

int sc_stun_parse(const uint8_t *buf, size_t len, sc_stun_msg_t *m) {
  memset(m, 0, sizeof *m);
  if (len < SC_STUN_HEADER_LEN || len > SC_STUN_MAX_LEN || buf[0] > 3) return -EINVAL;
  if (sc_rd32(buf + 4) != SC_STUN_COOKIE) return -EINVAL;
  if (sc_rd16(buf + 2) != len - SC_STUN_HEADER_LEN || len % 4 != 0) return -EINVAL;
  m->type = sc_rd16(buf);
  memcpy(m->tid, buf + 8, SC_STUN_TID_LEN);
  m->len = len;
  size_t off = SC_STUN_HEADER_LEN;
  while (off < len) {
    if (m->fp_off || len - off < ATTR_HEADER) return -EINVAL; /* FINGERPRINT must be last */
    uint16_t type = sc_rd16(buf + off);
    size_t n = sc_rd16(buf + off + 2);
    if (pad4(n) > len - off - ATTR_HEADER) return -EINVAL;
    if (++m->n_attrs > SC_STUN_MAX_ATTRS) return -EINVAL;
    if (type == ATTR_FINGERPRINT) {
      if (n != FP_LEN) return -EINVAL;
      m->fp_off = off;
    } else if (!m->mi_off) {
      if (parse_attr(buf, off, type, n, m) < 0) return -EINVAL;
    }
    off += ATTR_HEADER + pad4(n);
  }
  return 0;
}

int sc_stun_peek_ufrag(const uint8_t *buf, size_t len, const uint8_t **ufrag, size_t *ufrag_len) {
  sc_stun_msg_t m;
  if (sc_stun_parse(buf, len, &m) < 0 || !m.username || m.our_ufrag_len == 0) return -EINVAL;
  *ufrag = m.our_ufrag;
  *ufrag_len = m.our_ufrag_len;
  return 0;
}

/* ---- integrity ---------------------------------------------------------- */

void sc_stun_key_init(sc_stun_key_t *k, const void *pwd, size_t pwd_len) {
  memset(k->block, 0, sizeof k->block);
  if (pwd_len > sizeof k->block) {
    SHA1(pwd, pwd_len, k->block); /* RFC 2104: a long key is hashed first */
  } else if (pwd_len) {
    memcpy(k->block, pwd, pwd_len);
  }
}

/* HMAC-SHA1 under k of header (20 bytes, as given) || body[0..body_len). */
static void hmac_sha1(const sc_stun_key_t *k, const uint8_t header[SC_STUN_HEADER_LEN],
                      const uint8_t *body, size_t body_len, uint8_t mac[MI_LEN]) {
  uint8_t pad[64];
  SHA_CTX c;
  for (size_t i = 0; i < sizeof pad; i++) pad[i] = k->block[i] ^ 0x36;
  SHA1_Init(&c);
  SHA1_Update(&c, pad, sizeof pad);
  SHA1_Update(&c, header, SC_STUN_HEADER_LEN);
  SHA1_Update(&c, body, body_len);
  SHA1_Final(mac, &c);
  for (size_t i = 0; i < sizeof pad; i++) pad[i] = k->block[i] ^ 0x5C;
  SHA1_Init(&c);
  SHA1_Update(&c, pad, sizeof pad);
  SHA1_Update(&c, mac, MI_LEN);
  SHA1_Final(mac, &c);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&c, sizeof c);
}

/* The MAC of buf[0..mi_off) with the header's length counting up to the
 * end of the MESSAGE-INTEGRITY attribute (RFC 8489 §14.5). */
static void mac_before(const uint8_t *buf, size_t mi_off, const sc_stun_key_t *k,
                       uint8_t mac[MI_LEN]) {
  uint8_t header[SC_STUN_HEADER_LEN];
  memcpy(header, buf, sizeof header);
  sc_wr16(header + 2, (uint16_t)(mi_off + ATTR_HEADER + MI_LEN - SC_STUN_HEADER_LEN));
  hmac_sha1(k, header, buf + SC_STUN_HEADER_LEN, mi_off - SC_STUN_HEADER_LEN, mac);
}

int sc_stun_check_integrity(const uint8_t *buf, const sc_stun_msg_t *m, const sc_stun_key_t *k) {
  if (!m->mi_off) return 0;
  uint8_t mac[MI_LEN];
  mac_before(buf, m->mi_off, k, mac);
  return CRYPTO_memcmp(mac, buf + m->mi_off + ATTR_HEADER, MI_LEN) == 0;
}

int sc_stun_check_fingerprint(const uint8_t *buf, const sc_stun_msg_t *m) {
  if (!m->fp_off) return 0;
  uint32_t want = sc_stun_crc32(buf, m->fp_off) ^ FP_XOR;
  return sc_rd32(buf + m->fp_off + ATTR_HEADER) == want;
}

/* ---- building ----------------------------------------------------------- */

typedef struct {
  uint8_t *out;
  size_t cap, len;
  int overflow;
} writer_t;

static void w_start(writer_t *w, uint8_t *out, size_t cap, uint16_t type,
                    const uint8_t tid[SC_STUN_TID_LEN]) {
  *w = (writer_t){.out = out, .cap = cap, .len = SC_STUN_HEADER_LEN};
  if (cap < SC_STUN_HEADER_LEN) {
    w->overflow = 1;
    return;
  }
  sc_wr16(out, type);
  sc_wr16(out + 2, 0);
  sc_wr32(out + 4, SC_STUN_COOKIE);
  memcpy(out + 8, tid, SC_STUN_TID_LEN);
}

/* Appends an attribute of n value bytes (zero padding); returns its value
 * pointer, or NULL (overflow recorded) if it does not fit. */
static uint8_t *w_attr(writer_t *w, uint16_t type, size_t n) {
  if (w->overflow || w->cap - w->len < ATTR_HEADER + pad4(n)) {
    w->overflow = 1;
    return NULL;
  }
  uint8_t *p = w->out + w->len;
  sc_wr16(p, type);
  sc_wr16(p + 2, (uint16_t)n);
  memset(p + ATTR_HEADER, 0, pad4(n));
  w->len += ATTR_HEADER + pad4(n);
  sc_wr16(w->out + 2, (uint16_t)(w->len - SC_STUN_HEADER_LEN));
  return p + ATTR_HEADER;
}

/* MESSAGE-INTEGRITY (if k), FINGERPRINT; the length or -ENOSPC. */
static int w_finish(writer_t *w, const sc_stun_key_t *k) {
  if (k) {
    size_t mi_off = w->len;
    uint8_t *v = w_attr(w, ATTR_MESSAGE_INTEGRITY, MI_LEN);
    if (v) mac_before(w->out, mi_off, k, v);
  }
  size_t fp_off = w->len;
  uint8_t *v = w_attr(w, ATTR_FINGERPRINT, FP_LEN);
  if (!v) return -ENOSPC;
  sc_wr32(v, sc_stun_crc32(w->out, fp_off) ^ FP_XOR);
  return (int)w->len;
}

static int w_xor_address(writer_t *w, const struct sockaddr *a) {
  const uint8_t *ip;
  uint16_t port;
  size_t ip_len;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    ip = (const uint8_t *)&in->sin_addr, ip_len = 4, port = ntohs(in->sin_port);
  } else if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
    ip = in6->sin6_addr.s6_addr, ip_len = 16, port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) ip += 12, ip_len = 4;
  } else {
    return -EAFNOSUPPORT;
  }
  uint8_t *v = w_attr(w, ATTR_XOR_MAPPED_ADDRESS, 4 + ip_len);
  if (!v) return -ENOSPC;
  v[1] = ip_len == 4 ? 1 : 2;
  sc_wr16(v + 2, port ^ (uint16_t)(SC_STUN_COOKIE >> 16));
  for (size_t i = 0; i < ip_len; i++) v[4 + i] = ip[i] ^ w->out[4 + i];
  return 0;
}

int sc_stun_build_success(const uint8_t tid[SC_STUN_TID_LEN], const struct sockaddr *mapped,
                          const char *software, const sc_stun_key_t *k, uint8_t *out, size_t cap) {
  writer_t w;
  w_start(&w, out, cap, SC_STUN_BINDING_SUCCESS, tid);
  if (software) {
    size_t n = strlen(software);
    uint8_t *v = w_attr(&w, ATTR_SOFTWARE, n);
    if (v) {
      memcpy(v, software, n);
      /* RFC 5769's vectors pad with spaces; any padding is valid. */
      memset(v + n, ' ', pad4(n) - n);
    }
  }
  if (w.overflow) return -ENOSPC;
  int rc = w_xor_address(&w, mapped);
  if (rc < 0) return rc;
  return w_finish(&w, k);
}

static const char *reason_phrase(int code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthenticated";
    case 420: return "Unknown Attribute";
    case 487: return "Role Conflict";
    default: return "Error";
  }
}

int sc_stun_build_error(const uint8_t tid[SC_STUN_TID_LEN], int code, const uint16_t *unknown,
                        int n, const sc_stun_key_t *k, uint8_t *out, size_t cap) {
  if (code < 300 || code > 699 || n < 0 || n > SC_STUN_MAX_UNKNOWN) return -EINVAL;
  writer_t w;
  w_start(&w, out, cap, SC_STUN_BINDING_ERROR, tid);
  const char *reason = reason_phrase(code);
  size_t rn = strlen(reason);
  uint8_t *v = w_attr(&w, ATTR_ERROR_CODE, 4 + rn);
  if (v) {
    v[2] = (uint8_t)(code / 100);
    v[3] = (uint8_t)(code % 100);
    memcpy(v + 4, reason, rn);
  }
  if (n > 0 && (v = w_attr(&w, ATTR_UNKNOWN_ATTRIBUTES, 2 * (size_t)n)) != NULL)
    for (int i = 0; i < n; i++) sc_wr16(v + 2 * i, unknown[i]);
  if (w.overflow) return -ENOSPC;
  return w_finish(&w, k);
}
