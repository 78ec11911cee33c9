/*
 * sc_quality: how one member's media reaches us, measured on our own
 * receive path (RFC 3550 appendix A), since real clients (discord.js,
 * discord.py) send no RTCP.
 *
 * Worker side (sc_quality_rx): per authenticated RTP packet of the
 * member's audio SSRC, the extended highest sequence number, the packets
 * received (A.1, A.3) and the interarrival jitter (A.8, in RTP timestamp
 * units, 1/16 fixed point). Its state is 16 bytes that live in the member
 * block's first cache line (sc_rxq_hot_t) plus 8 bytes touched only when
 * the stream starts or jumps (sc_rxq_cold_t). No allocation.
 *
 * Control side (sc_quality_sample): from two readings of the counters
 * (this one and the previous one, sc_quality_t) the figures over the
 * interval between them: bitrate in and out, the fraction lost (A.3:
 * expected - received over the interval, 0 when nothing was lost or
 * expected), the cumulative loss and the jitter in milliseconds.
 *
 * Threads: sc_quality_rx and sc_quality_restart on the worker that owns
 * the member; sc_quality_sample on the control thread (it reads the
 * worker's fields with relaxed loads: a reading may be one packet
 * behind). Pure otherwise; unit-tested in tests/unit/test_quality.c.
 */
#ifndef SC_QUALITY_H
#define SC_QUALITY_H

#include <stdint.h>

/* Opus RTP runs at 48 kHz: 48 timestamp units per millisecond. */
#define SC_QUALITY_RTP_HZ 48000
/* A.1: a forward jump of at least this many sequence numbers is a
 * restart candidate, a step back of at most MISORDER a late packet. */
#define SC_QUALITY_MAX_DROPOUT 3000
#define SC_QUALITY_MAX_MISORDER 100
/* A transit change larger than one second is not jitter: the sender
 * paused without advancing its timestamps (discord.js and discord.py stop
 * sending in silence and go on with the next timestamp), or a clock was
 * stepped. Such a packet starts a new baseline and updates nothing. */
#define SC_QUALITY_PAUSE_UNITS SC_QUALITY_RTP_HZ

/* Per packet (first cache line of the member block). */
typedef struct {
  _Atomic uint32_t ext_max;  /* cycles << 16 | highest sequence number seen */
  _Atomic uint32_t received; /* packets counted since the stream (re)started; 0: none */
  uint32_t transit;          /* worker only: arrival - RTP timestamp of the last packet */
  _Atomic uint32_t jitter16; /* A.8 interarrival jitter, 1/16 RTP timestamp units */
} sc_rxq_hot_t;

/* Touched when the stream starts or jumps. */
typedef struct {
  _Atomic uint32_t base; /* extended sequence number the stream (re)started at */
  uint32_t bad_seq;      /* worker only: A.1's resynchronisation candidate + 1 */
} sc_rxq_cold_t;

/* The arrival time in RTP timestamp units (48 kHz, wrapping) of a
 * datagram received at ns (any clock, nanoseconds). */
uint32_t sc_quality_arrival(int64_t ns);

/* One authenticated RTP packet of the member's audio SSRC. */
void sc_quality_rx(sc_rxq_hot_t *h, sc_rxq_cold_t *c, uint16_t seq, uint32_t rtp_ts,
                   uint32_t arrival);
/* A new client took the member over: its sequence numbers start anew
 * (the jitter is kept, it decays with the new stream's packets). */
void sc_quality_restart(sc_rxq_hot_t *h);

/* What the control thread keeps per member: the previous reading and the
 * figures over the last interval (all zero until the second reading). */
typedef struct {
  int64_t at_ms; /* the previous reading (0: none yet) */
  uint64_t rx_bytes, tx_bytes;
  uint32_t expected, received, base;
  /* Figures over [previous reading, this reading]. */
  double rx_kbps, tx_kbps;
  double loss_fraction;       /* 0..1 */
  uint32_t lost_interval;     /* packets lost in the interval */
  uint32_t expected_interval; /* packets expected in the interval */
  int64_t lost_total;         /* since the stream (re)started, >= 0 */
  double jitter_ms;
} sc_quality_t;

/* A reading of a member's counters. */
typedef struct {
  uint64_t rx_bytes, tx_bytes; /* all of the member's RTP, every SSRC */
  uint32_t ext_max, received, base, jitter16;
} sc_quality_reading_t;

/* Reads h, c and the byte counters (relaxed) into out. */
void sc_quality_read(const sc_rxq_hot_t *h, const sc_rxq_cold_t *c, uint64_t rx_bytes,
                     uint64_t tx_bytes, sc_quality_reading_t *out);
/* Updates q's figures from reading r taken at now_ms, and keeps r as the
 * previous reading. A stream restart (received went back) counts from the
 * restart. Returns 1 when an interval was measured (not the first
 * reading), else 0. */
int sc_quality_sample(sc_quality_t *q, const sc_quality_reading_t *r, int64_t now_ms);

#endif
