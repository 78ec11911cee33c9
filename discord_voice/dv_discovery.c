/*
 * dv_discovery: see dv_discovery.h. Datagrams are told apart by length
 * alone (74 discovery, 8 keepalive): RTP/RTCP never reaches this handler.
 */
#include "dv_discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "sc_bytes.h"

#define DV_DISC_TYPE_REQUEST 1
#define DV_DISC_TYPE_RESPONSE 2
#define DV_DISC_BODY_LEN 70 /* the length field: bytes after type and length */
#define DV_DISC_ADDR_OFF 8
#define DV_DISC_ADDR_LEN 64
#define DV_DISC_PORT_OFF 72

static int parse_header(const uint8_t *buf, size_t len, uint16_t type, uint32_t *ssrc) {
  if (len != DV_DISCOVERY_LEN || sc_rd16(buf) != type || sc_rd16(buf + 2) != DV_DISC_BODY_LEN)
    return -EINVAL;
  *ssrc = sc_rd32(buf + 4);
  return 0;
}

int dv_discovery_parse_request(const uint8_t *buf, size_t len, uint32_t *ssrc) {
  return parse_header(buf, len, DV_DISC_TYPE_REQUEST, ssrc);
}

/* Writes from's address as text into dst (DV_DISC_ADDR_LEN bytes, zeroed
 * by the caller) and its port into *port. Clients (djs) accept only IPv4
 * text, and a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
static int addr_text(const struct sockaddr_storage *from, char *dst, uint16_t *port) {
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    *port = ntohs(a->sin_port);
    return inet_ntop(AF_INET, &a->sin_addr, dst, DV_DISC_ADDR_LEN) ? 0 : -EINVAL;
  }
  if (from->ss_family != AF_INET6) return -EAFNOSUPPORT;
  const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from;
  *port = ntohs(a6->sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
    return inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], dst, DV_DISC_ADDR_LEN) ? 0 : -EINVAL;
  return inet_ntop(AF_INET6, &a6->sin6_addr, dst, DV_DISC_ADDR_LEN) ? 0 : -EINVAL;
}

int dv_discovery_build_response(uint32_t ssrc, const struct sockaddr_storage *from,
                                uint8_t out[DV_DISCOVERY_LEN]) {
  char text[DV_DISC_ADDR_LEN] = {0};
  uint16_t port = 0;
  int rc = addr_text(from, text, &port);
  if (rc) return rc;
  memset(out, 0, DV_DISCOVERY_LEN);
  sc_wr16(out, DV_DISC_TYPE_RESPONSE);
  sc_wr16(out + 2, DV_DISC_BODY_LEN);
  sc_wr32(out + 4, ssrc);
  memcpy(out + DV_DISC_ADDR_OFF, text, DV_DISC_ADDR_LEN);
  sc_wr16(out + DV_DISC_PORT_OFF, port);
  return 0;
}

int dv_discovery_parse_response(const uint8_t *buf, size_t len, uint32_t *ssrc, char *ip,
                                size_t ip_size, uint16_t *port) {
  uint32_t s;
  if (parse_header(buf, len, DV_DISC_TYPE_RESPONSE, &s)) return -EINVAL;
  const uint8_t *addr = buf + DV_DISC_ADDR_OFF;
  const uint8_t *nul = memchr(addr, 0, DV_DISC_ADDR_LEN);
  if (!nul || nul == addr) return -EINVAL;
  size_t n = (size_t)(nul - addr);
  if (n + 1 > ip_size) return -ENOSPC;
  memcpy(ip, addr, n + 1);
  *ssrc = s;
  *port = sc_rd16(buf + DV_DISC_PORT_OFF);
  return 0;
}

/* Answers the sender with its own address and binds nothing: whoever
 * asks learns only what it already is, in a reply no larger than the
 * request, and only for an SSRC this worker serves (not a reflector). The
 * member's address is bound by its first authenticated datagram. */
static int on_discovery(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  uint32_t ssrc;
  if (dv_discovery_parse_request(buf, len, &ssrc)) return -EINVAL;
  if (cap < DV_DISCOVERY_LEN) return -ENOSPC;
  if (!sc_media_worker_knows(w, ssrc)) return -ENOENT;
  int rc = dv_discovery_build_response(ssrc, from, reply);
  if (rc) return rc;
  sc_media_worker_count_discovery(w);
  return DV_DISCOVERY_LEN;
}

static int on_keepalive(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  (void)buf, (void)len, (void)from, (void)reply, (void)cap;
  sc_media_worker_count_keepalive(w);
  return 0;
}

static const struct {
  size_t len;
  sc_datagram_fn fn;
} dv_datagram_kinds[] = {
    {DV_DISCOVERY_LEN, on_discovery},
    {DV_KEEPALIVE_LEN, on_keepalive},
};

int dv_udp_on_datagram(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, uint8_t *reply, size_t cap) {
  for (size_t i = 0; i < sizeof dv_datagram_kinds / sizeof dv_datagram_kinds[0]; i++)
    if (dv_datagram_kinds[i].len == len)
      return dv_datagram_kinds[i].fn(w, buf, len, from, reply, cap);
  return -EINVAL;
}
