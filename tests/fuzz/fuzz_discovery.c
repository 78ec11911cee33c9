/*
 * fuzz_discovery: the IP discovery parsers (discord_voice/dv_discovery.h).
 * Each input is tried as a request and as a response; an accepted request
 * is answered for an address taken from the input (IPv4 or IPv6), and the
 * answer must parse back to the same SSRC, address and port, and never be
 * larger than the request (no amplification).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "dv_discovery.h"
#include "fuzz_util.h"

static void check_answer(uint32_t ssrc, const uint8_t *data, size_t size) {
  struct sockaddr_storage from;
  fuzz_source_address(data, size, &from);
  uint8_t resp[DV_DISCOVERY_LEN];
  FUZZ_CHECK(dv_discovery_build_response(ssrc, &from, resp) == 0);
  FUZZ_CHECK(sizeof resp <= size);
  uint32_t back;
  char ip[INET6_ADDRSTRLEN];
  uint16_t port;
  FUZZ_CHECK(dv_discovery_parse_response(resp, sizeof resp, &back, ip, sizeof ip, &port) == 0);
  FUZZ_CHECK(back == ssrc);
  uint8_t addr[16];
  if (from.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&from;
    FUZZ_CHECK(inet_pton(AF_INET, ip, addr) == 1 && memcmp(addr, &a->sin_addr, 4) == 0);
    FUZZ_CHECK(port == ntohs(a->sin_port));
  } else {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&from;
    int v4 = IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr);
    FUZZ_CHECK(inet_pton(v4 ? AF_INET : AF_INET6, ip, addr) == 1);
    FUZZ_CHECK(memcmp(addr, v4 ? a6->sin6_addr.s6_addr + 12 : a6->sin6_addr.s6_addr, v4 ? 4 : 16) ==
               0);
    FUZZ_CHECK(port == ntohs(a6->sin6_port));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t ssrc = 0;
  int rc = dv_discovery_parse_request(data, size, &ssrc);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (rc == 0) {
    FUZZ_CHECK(size == DV_DISCOVERY_LEN);
    check_answer(ssrc, data, size);
  }
  char ip[64];
  uint16_t port;
  for (size_t cap = 1; cap <= sizeof ip; cap *= 4) {
    rc = dv_discovery_parse_response(data, size, &ssrc, ip, cap, &port);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
    if (rc == 0) FUZZ_CHECK(strlen(ip) < cap && ip[0] != '\0');
  }
  return 0;
}
