/*
 * addr_fx: socket addresses from text for the unit tests (header-only;
 * each test file is its own executable). A text that is not an address of
 * the family fails the test.
 */
#ifndef ADDR_FX_H
#define ADDR_FX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "sc_test.h"

static inline struct sockaddr_storage v4(const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *a = (struct sockaddr_in *)&ss;
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  ASSERT_EQ(inet_pton(AF_INET, ip, &a->sin_addr), 1);
  return ss;
}

static inline struct sockaddr_storage v6(const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  ASSERT_EQ(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
  return ss;
}

#endif
