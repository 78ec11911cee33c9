/*
 * sc_udp: the media workers' UDP socket and their fixed datagram batches.
 * The socket gets large buffers and kernel receive timestamps; a receive
 * batch (recvmmsg) carries one SO_TIMESTAMPNS control message per slot, a
 * send batch (sendmmsg) one buffer per outgoing datagram. Every slot's
 * header, iovec, address and buffer pointers are set once (init); per
 * datagram only what the kernel overwrote or the packet changes is written.
 *
 * Owns: nothing but the structs, which the worker embeds (no allocation).
 * Threads: the socket is opened on the control thread; a batch is used by
 * the one worker thread that owns it.
 */
#ifndef SC_UDP_H
#define SC_UDP_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* At saturation every call is full: a receive batch of 64 fans out to 256
 * copies in rooms of 5, one sendmmsg, which also wakes each receiving
 * socket once per 256 packets rather than per 64 (measured at 267,000
 * forwarded pps: 3.70 us per packet and loss-free, against 3.77 us and a
 * standing queue with 32 / 64). */
#define SC_UDP_RX_BATCH 64  /* datagrams per recvmmsg */
#define SC_UDP_TX_BATCH 256 /* datagrams per sendmmsg */
#define SC_UDP_PKT_MAX 2048 /* largest datagram handled */

/* An IPv4 or IPv6 peer in 28 bytes, where sockaddr_storage takes 128: a
 * member's address shares its cache line with what else the packet path
 * reads (src/sc_mtable.h). */
typedef union {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
} sc_udp_addr_t;

typedef struct {
  struct mmsghdr msgs[SC_UDP_RX_BATCH];
  struct iovec iov[SC_UDP_RX_BATCH];
  struct sockaddr_storage addrs[SC_UDP_RX_BATCH];
  /* SO_TIMESTAMPNS control messages, aligned as cmsg needs. */
  union {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
  } ctrl[SC_UDP_RX_BATCH];
  uint8_t bufs[SC_UDP_RX_BATCH][SC_UDP_PKT_MAX];
} sc_udp_rx_t;

typedef struct {
  struct mmsghdr msgs[SC_UDP_TX_BATCH];
  struct iovec iov[SC_UDP_TX_BATCH];
  sc_udp_addr_t addrs[SC_UDP_TX_BATCH];
  uint8_t bufs[SC_UDP_TX_BATCH][SC_UDP_PKT_MAX];
  int n; /* slots filled */
} sc_udp_tx_t;

/* A non-blocking UDP socket bound to host:port with 4 MiB buffers and
 * receive timestamps (a warning if the kernel refuses them: the
 * forwarding delay is then not measured). -1 (logged) on failure. */
int sc_udp_open(const char *host, uint16_t port);

/* Bytes of the address in a: sockaddr_in6 for AF_INET6, else sockaddr_in. */
socklen_t sc_udp_addr_len(const struct sockaddr *a);
/* *dst = the IPv4 or IPv6 address in src (only the family's bytes). */
void sc_udp_addr_set(sc_udp_addr_t *dst, const struct sockaddr_storage *src);
/* *dst = a in the long form the emit and ICE interfaces take. Only the
 * family's bytes are written (and ever read): no memset on the packet
 * path; a caller that wants the rest zeroed zeroes it first. */
void sc_udp_addr_get(const sc_udp_addr_t *a, struct sockaddr_storage *dst);
/* Same family, address and port. */
int sc_udp_addr_equal(const sc_udp_addr_t *a, const struct sockaddr_storage *b);
/* The same, both compact. */
int sc_udp_addr_same(const sc_udp_addr_t *a, const sc_udp_addr_t *b);
/* 1 if a may ever be a media destination (or a member's bound address):
 * IPv4 or IPv6 with a port, not unspecified (0.0.0.0, ::), not the limited
 * broadcast 255.255.255.255, not multicast (224.0.0.0/4, ff00::/8; also
 * as IPv4-mapped IPv6). A subnet's directed broadcast (x.y.z.255) cannot
 * be told from a host address without the routing table: the kernel
 * refuses it per slot (EACCES), which costs that one slot only. Pure. */
int sc_udp_addr_usable(const struct sockaddr_storage *a);

void sc_udp_rx_init(sc_udp_rx_t *r);
/* After recvmmsg filled slot i: the kernel's receive time of its datagram
 * (ns, CLOCK_REALTIME; 0 if none came) and whether it was truncated. The
 * slot's address and control lengths are reset for the next read. */
int64_t sc_udp_rx_take(sc_udp_rx_t *r, int i, int *truncated);

void sc_udp_tx_init(sc_udp_tx_t *t);
/* Completes slot t->n (its buffer already written): length and
 * destination, copying only the bytes of the address family. */
void sc_udp_tx_commit(sc_udp_tx_t *t, size_t len, const struct sockaddr *to);

/* What one flush did. failed = the four reasons summed. */
typedef struct {
  uint64_t sent, bytes, failed;
  uint64_t dest_refused; /* EACCES, EPERM: broadcast without SO_BROADCAST, a firewall */
  uint64_t unreachable;  /* ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EHOSTDOWN, ENETDOWN */
  uint64_t other_dest;   /* any other error tied to one slot (EINVAL, EMSGSIZE, ...) */
  uint64_t socket_full;  /* slots dropped because the socket itself failed */
} sc_udp_sent_t;

/* How sendmmsg's error for a slot is handled. */
typedef enum {
  SC_UDP_ERR_DEST_REFUSED,
  SC_UDP_ERR_UNREACHABLE,
  SC_UDP_ERR_OTHER_DEST,
  SC_UDP_ERR_SOCKET, /* EAGAIN/EWOULDBLOCK, ENOBUFS, ENOMEM, EBADF, ... */
} sc_udp_err_kind_t;
sc_udp_err_kind_t sc_udp_err_kind(int err);

/* Sends every filled slot with sendmmsg (retrying on EINTR) and empties
 * the batch. sendmmsg reports an error only for the first slot of a call
 * (a later failing slot ends the call early and fails again as the first
 * of the next), so each error belongs to one slot: an error tied to that
 * slot's destination skips the slot only (one packet lost, counted by
 * reason) and the rest is sent; an error of the socket itself (buffer
 * full, out of memory) drops the rest of the batch (counted). */
sc_udp_sent_t sc_udp_tx_flush(sc_udp_tx_t *t, int fd);

#endif
