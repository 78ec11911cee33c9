/*
 * dv_discovery: Discord voice IP discovery and the media plane's handler
 * for every datagram that is not RTP/RTCP (discovery requests, client
 * keepalives).
 *
 * Owns: nothing. The parse/build functions are pure over caller buffers;
 * dv_udp_on_datagram is the sc_datagram_fn given to sc_media_create and
 * runs on the media worker thread that received the datagram, acting on
 * that worker only through sc_media_worker_*.
 * Memory: callers own all buffers; nothing is allocated.
 *
 * Wire format (74 bytes each way, big-endian): u16 type (1 request, 2
 * response), u16 length = 70, u32 SSRC, 64 bytes address as NUL-terminated
 * ASCII (zeros in the request), u16 port (zero in the request).
 */
#ifndef DV_DISCOVERY_H
#define DV_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sc_media.h"

#define DV_DISCOVERY_LEN 74
#define DV_KEEPALIVE_LEN 8

/* Accepts exactly 74 bytes with type 1 and length 70 (the address and port
 * fields are not checked). Writes the SSRC. Returns 0 or -EINVAL. */
int dv_discovery_parse_request(const uint8_t *buf, size_t len, uint32_t *ssrc);

/* Writes the 74-byte response telling the sender `from` its own address:
 * IPv4 (and IPv4-mapped IPv6) as dotted quad, other IPv6 as RFC 5952 text.
 * Returns 0, or -EAFNOSUPPORT for a family other than AF_INET/AF_INET6. */
int dv_discovery_build_response(uint32_t ssrc, const struct sockaddr_storage *from,
                                uint8_t out[DV_DISCOVERY_LEN]);

/* Parses a 74-byte response (type 2, length 70, address NUL-terminated
 * within its 64 bytes). ip gets the address text (ip_size bytes incl. the
 * NUL). Returns 0, -EINVAL if malformed, -ENOSPC if ip_size is too small. */
int dv_discovery_parse_response(const uint8_t *buf, size_t len, uint32_t *ssrc, char *ip,
                                size_t ip_size, uint16_t *port);

/* sc_datagram_fn. A discovery request for an SSRC on this worker is
 * counted and answered with the sender's own address: returns 74 with the
 * response in reply. It binds nothing (the member's first authenticated
 * datagram does, see sc_media.h), so a roommate who asks for a newcomer's
 * SSRC first learns only its own address. Unknown SSRC: -ENOENT, no reply.
 * 8-byte keepalive: counted, returns 0. Anything else: -EINVAL (and
 * -ENOSPC if cap < 74, which only a misconfigured caller can cause). */
int dv_udp_on_datagram(sc_media_worker_t *w, const uint8_t *buf, size_t len,
                       const struct sockaddr_storage *from, uint8_t *reply, size_t cap);

#endif
