/*
 * fuzz_udp_datagram: dv_udp_on_datagram, the media plane's handler for
 * every datagram that is not RTP (discord_voice/dv_discovery.h), against a
 * stand-in worker that implements the three sc_media_worker_* calls the
 * handler may make, with the contract of src/sc_media.h. (fuzz_media runs
 * the same handler inside the real media plane.)
 *
 * Input: records of u8 source (which of 4 addresses sent it), u16 length,
 * bytes. Checks: the answer is exactly what the wire format prescribes
 * (74 bytes to a known SSRC, telling the sender its own address; nothing
 * to an unknown one), never larger than the request, and discovery binds
 * nothing (only an authenticated RTP datagram binds, in sc_media).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dv_discovery.h"
#include "fuzz_util.h"

#define N_MEMBERS 3
#define N_SOURCES 4

struct sc_media_worker {
  uint32_t ssrc[N_MEMBERS];
  unsigned keepalives, discoveries;
};

int sc_media_worker_knows(sc_media_worker_t *w, uint32_t ssrc) {
  for (int i = 0; i < N_MEMBERS; i++)
    if (w->ssrc[i] == ssrc) return 1;
  return 0;
}

void sc_media_worker_count_keepalive(sc_media_worker_t *w) {
  w->keepalives++;
}
void sc_media_worker_count_discovery(sc_media_worker_t *w) {
  w->discoveries++;
}

static void source(int i, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (i == 3) { /* one IPv6 peer */
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    a6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::7", &a6->sin6_addr);
    a6->sin6_port = htons(50000);
    return;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)i);
  a->sin_port = htons((uint16_t)(40000 + i));
}

static int member_of(const sc_media_worker_t *w, uint32_t ssrc) {
  for (int i = 0; i < N_MEMBERS; i++)
    if (w->ssrc[i] == ssrc) return i;
  return -1;
}

static void check_reply(const sc_media_worker_t *w, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, const uint8_t *reply, int rc) {
  uint32_t ssrc;
  if (dv_discovery_parse_request(buf, len, &ssrc) != 0) {
    FUZZ_CHECK(rc == (len == DV_KEEPALIVE_LEN ? 0 : -EINVAL));
    return;
  }
  int m = member_of(w, ssrc);
  if (m < 0) {
    FUZZ_CHECK(rc == -ENOENT);
    return;
  }
  FUZZ_CHECK(rc == DV_DISCOVERY_LEN && (size_t)rc <= len);
  uint8_t want[DV_DISCOVERY_LEN];
  FUZZ_CHECK(dv_discovery_build_response(ssrc, from, want) == 0);
  FUZZ_CHECK(memcmp(reply, want, sizeof want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_media_worker_t w;
  memset(&w, 0, sizeof w);
  w.ssrc[0] = 1111;
  w.ssrc[1] = 2222;
  w.ssrc[2] = 0xdeadbeef;
  fuzz_reader_t r;
  fuzz_reader_init(&r, data, size);
  uint8_t src;
  uint16_t n;
  while (fuzz_take_u8(&r, &src) && fuzz_take_u16(&r, &n)) {
    const uint8_t *in;
    size_t len = fuzz_take_bytes(&r, n, &in);
    uint8_t *p = fuzz_dup(in, len);
    struct sockaddr_storage from;
    source(src % N_SOURCES, &from);
    uint8_t reply[2048];
    int rc = dv_udp_on_datagram(&w, p, len, &from, reply, sizeof reply);
    check_reply(&w, p, len, &from, reply, rc);
    free(p);
  }
  return 0;
}
