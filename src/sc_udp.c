#include "sc_udp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sc_log.h"

#define SOCK_BUF (4 << 20)

int sc_udp_open(const char *host, uint16_t port) {
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char service[8];
  snprintf(service, sizeof service, "%u", port);
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    sc_log_error("media", "udp listen address %s: %s", host, gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    /* Large buffers ride out scheduling stalls; the FORCE variants (root or
     * CAP_NET_ADMIN) go past net.core.rmem_max/wmem_max. */
    int size = SOCK_BUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    /* Kernel receive timestamps, for the forwarding-delay histogram. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0)
      sc_log_warn("media", "no receive timestamps (forwarding delay not measured): %s",
                  strerror(errno));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
      sc_log_error("media", "cannot listen on UDP %s:%u: %s", host, port, strerror(errno));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

socklen_t sc_udp_addr_len(const struct sockaddr *a) {
  return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

void sc_udp_addr_set(sc_udp_addr_t *dst, const struct sockaddr_storage *src) {
  memset(dst, 0, sizeof *dst);
  memcpy(dst, src, sc_udp_addr_len((const struct sockaddr *)src));
}

void sc_udp_addr_get(const sc_udp_addr_t *a, struct sockaddr_storage *dst) {
  memcpy(dst, a, sizeof *a);
}

int sc_udp_addr_same(const sc_udp_addr_t *a, const sc_udp_addr_t *b) {
  if (a->sa.sa_family != b->sa.sa_family) return 0;
  if (a->sa.sa_family == AF_INET6)
    return a->in6.sin6_port == b->in6.sin6_port &&
           memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof b->in6.sin6_addr) == 0;
  return a->in.sin_port == b->in.sin_port && a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

int sc_udp_addr_equal(const sc_udp_addr_t *a, const struct sockaddr_storage *b) {
  if (a->sa.sa_family != b->ss_family) return 0;
  if (b->ss_family == AF_INET) {
    const struct sockaddr_in *y = (const void *)b;
    return a->in.sin_port == y->sin_port && a->in.sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *y = (const void *)b;
  return a->in6.sin6_port == y->sin6_port &&
         memcmp(&a->in6.sin6_addr, &y->sin6_addr, sizeof y->sin6_addr) == 0;
}

int sc_udp_addr_usable(const struct sockaddr_storage *a) {
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
    uint32_t ip = ntohl(v4->sin_addr.s_addr);
    return v4->sin_port != 0 && ip != INADDR_ANY && ip != INADDR_BROADCAST && !IN_MULTICAST(ip);
  }
  if (a->ss_family != AF_INET6) return 0;
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
  const struct in6_addr *ip = &v6->sin6_addr;
  if (v6->sin6_port == 0 || IN6_IS_ADDR_UNSPECIFIED(ip) || IN6_IS_ADDR_MULTICAST(ip)) return 0;
  if (!IN6_IS_ADDR_V4MAPPED(ip)) return 1;
  uint32_t v4 = (uint32_t)ip->s6_addr[12] << 24 | (uint32_t)ip->s6_addr[13] << 16 |
                (uint32_t)ip->s6_addr[14] << 8 | ip->s6_addr[15];
  return v4 != INADDR_ANY && v4 != INADDR_BROADCAST && !IN_MULTICAST(v4);
}

void sc_udp_rx_init(sc_udp_rx_t *r) {
  for (int i = 0; i < SC_UDP_RX_BATCH; i++) {
    r->iov[i] = (struct iovec){.iov_base = r->bufs[i], .iov_len = SC_UDP_PKT_MAX};
    r->msgs[i].msg_hdr = (struct msghdr){.msg_name = &r->addrs[i],
                                         .msg_namelen = sizeof r->addrs[i],
                                         .msg_iov = &r->iov[i],
                                         .msg_iovlen = 1,
                                         .msg_control = r->ctrl[i].buf,
                                         .msg_controllen = sizeof r->ctrl[i]};
  }
}

int64_t sc_udp_rx_take(sc_udp_rx_t *r, int i, int *truncated) {
  struct msghdr *h = &r->msgs[i].msg_hdr;
  int64_t ns = 0;
  *truncated = (h->msg_flags & MSG_TRUNC) != 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
  }
  /* The kernel wrote these two lengths; everything else is as init left it. */
  h->msg_namelen = sizeof r->addrs[i];
  h->msg_controllen = sizeof r->ctrl[i];
  return ns;
}

void sc_udp_tx_init(sc_udp_tx_t *t) {
  for (int i = 0; i < SC_UDP_TX_BATCH; i++) {
    t->iov[i] = (struct iovec){.iov_base = t->bufs[i], .iov_len = 0};
    t->msgs[i].msg_hdr =
        (struct msghdr){.msg_name = &t->addrs[i], .msg_iov = &t->iov[i], .msg_iovlen = 1};
  }
  t->n = 0;
}

void sc_udp_tx_commit(sc_udp_tx_t *t, size_t len, const struct sockaddr *to) {
  int slot = t->n;
  socklen_t alen = sc_udp_addr_len(to);
  memcpy(&t->addrs[slot], to, alen);
  t->iov[slot].iov_len = len;
  t->msgs[slot].msg_hdr.msg_namelen = alen;
  t->n++;
}

sc_udp_err_kind_t sc_udp_err_kind(int err) {
  switch (err) {
    case EACCES:
    case EPERM: return SC_UDP_ERR_DEST_REFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNREFUSED:
    case EHOSTDOWN:
    case ENETDOWN: return SC_UDP_ERR_UNREACHABLE;
    /* The socket, not the destination: every later slot would fail too. */
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case ENOMEM:
    case EBADF:
    case ENOTSOCK:
    case EFAULT: return SC_UDP_ERR_SOCKET;
    default: return SC_UDP_ERR_OTHER_DEST; /* EINVAL, EMSGSIZE, EAFNOSUPPORT, ... */
  }
}

sc_udp_sent_t sc_udp_tx_flush(sc_udp_tx_t *t, int fd) {
  sc_udp_sent_t out = {0};
  int sent = 0;
  while (sent < t->n) {
    int n = sendmmsg(fd, t->msgs + sent, (unsigned)(t->n - sent), MSG_DONTWAIT);
    if (n > 0) {
      for (int i = sent; i < sent + n; i++) out.bytes += t->msgs[i].msg_len;
      out.sent += (uint64_t)n;
      sent += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    /* n == 0 cannot happen with slots left; treat it as a full socket. */
    sc_udp_err_kind_t kind = n < 0 ? sc_udp_err_kind(errno) : SC_UDP_ERR_SOCKET;
    if (kind == SC_UDP_ERR_SOCKET) {
      out.socket_full += (uint64_t)(t->n - sent);
      break;
    }
    /* The error is the first slot's: skip that one packet only. */
    if (kind == SC_UDP_ERR_DEST_REFUSED)
      out.dest_refused++;
    else if (kind == SC_UDP_ERR_UNREACHABLE)
      out.unreachable++;
    else
      out.other_dest++;
    sent++;
  }
  out.failed = out.dest_refused + out.unreachable + out.other_dest + out.socket_full;
  t->n = 0;
  return out;
}
