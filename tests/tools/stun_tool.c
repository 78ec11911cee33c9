/*
 * stun_tool: one ICE-lite agent (src/sc_ice) driven from stdin, for the
 * cross-check with werift's STUN code (tests/node/stun_werift.test.js).
 *
 *   stun_tool UFRAG PWD
 *
 * Each input line is "IP PORT NOW_MS HEX" (a datagram from IP:PORT at
 * NOW_MS); each output line is the agent's answer as hex, or "- N" when
 * sc_ice_on_stun returned -N (no answer), followed by " send=IP:PORT" (or
 * " send=-") naming the agent's send tuple after the datagram. The agent
 * keeps its state across lines (tuples, nomination, budgets). Exit 0 at
 * end of input, 2 on a usage or input error.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_ice.h"
#include "sc_token.h"

static int parse_addr(const char *ip, const char *port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  uint16_t p = (uint16_t)atoi(port);
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET, a4->sin_port = htons(p);
    return 0;
  }
  if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6, a6->sin6_port = htons(p);
    return 0;
  }
  return -1;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (s[0] && s[1] && n < cap) {
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

static void print_send(const sc_ice_t *a, int64_t now) {
  const sc_udp_addr_t *to = sc_ice_send_tuple(a, now);
  char ip[INET6_ADDRSTRLEN] = "-";
  unsigned port = 0;
  if (to && to->sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &to->in.sin_addr, ip, sizeof ip), port = ntohs(to->in.sin_port);
  } else if (to) {
    inet_ntop(AF_INET6, &to->in6.sin6_addr, ip, sizeof ip), port = ntohs(to->in6.sin6_port);
  }
  if (to)
    printf(" send=%s:%u\n", ip, port);
  else
    printf(" send=-\n");
}

int main(int argc, char **argv) {
  if (argc != 3 || strlen(argv[1]) != SC_ICE_UFRAG_LEN) {
    fprintf(stderr, "usage: stun_tool UFRAG(%d chars) PWD\n", SC_ICE_UFRAG_LEN);
    return 2;
  }
  if (sc_token_init() != 0) return 2;
  static sc_ice_t agent;
  sc_ice_init(&agent);
  memcpy(agent.ufrag, argv[1], SC_ICE_UFRAG_LEN);
  sc_stun_key_init(&agent.key, argv[2], strlen(argv[2]));
  static char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char ip[64], port[16], hex[8192];
    long long now;
    if (sscanf(line, "%63s %15s %lld %8191s", ip, port, &now, hex) != 4) return 2;
    struct sockaddr_storage from;
    if (parse_addr(ip, port, &from) < 0) return 2;
    uint8_t req[4096], out[4096];
    size_t len = unhex(hex, req, sizeof req);
    int n = sc_ice_on_stun(&agent, now, req, len, &from, out, sizeof out);
    if (n <= 0) printf("- %d", -n);
    for (int i = 0; i < n; i++) printf("%02x", out[i]);
    print_send(&agent, now);
    fflush(stdout);
  }
  return 0;
}
