#include "sc_quality.h"

#include <stdatomic.h>

#define LOAD(f) atomic_load_explicit(&(f), memory_order_relaxed)
#define STORE(f, v) atomic_store_explicit(&(f), (v), memory_order_relaxed)
#define SEQ_MOD 0x10000u

uint32_t sc_quality_arrival(int64_t ns) {
  /* ns * 48000 / 1e9 = ns * 3 / 62500; unsigned: no overflow for any
   * unix time in nanoseconds, and only the low 32 bits matter. */
  return (uint32_t)((uint64_t)ns * 3u / 62500u);
}

/* A.1 init_seq: the stream (re)starts at seq with this packet. */
static void start(sc_rxq_hot_t *h, sc_rxq_cold_t *c, uint16_t seq, uint32_t transit) {
  STORE(c->base, (uint32_t)seq);
  c->bad_seq = SEQ_MOD + 1; /* no candidate */
  STORE(h->ext_max, (uint32_t)seq);
  h->transit = transit;
  STORE(h->received, 1u);
}

/* A.8, integer form: J += (|D| - J) / 16, J kept times 16. */
static void update_jitter(sc_rxq_hot_t *h, uint32_t transit) {
  int32_t d = (int32_t)(transit - h->transit);
  h->transit = transit;
  uint32_t ad = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;
  if (ad >= SC_QUALITY_PAUSE_UNITS) return;
  uint32_t j = LOAD(h->jitter16);
  STORE(h->jitter16, j + ad - ((j + 8) >> 4));
}

void sc_quality_rx(sc_rxq_hot_t *h, sc_rxq_cold_t *c, uint16_t seq, uint32_t rtp_ts,
                   uint32_t arrival) {
  uint32_t transit = arrival - rtp_ts;
  uint32_t received = LOAD(h->received);
  if (!received) {
    start(h, c, seq, transit);
    return;
  }
  uint32_t ext = LOAD(h->ext_max);
  uint16_t max = (uint16_t)ext, udelta = (uint16_t)(seq - max);
  if (udelta < SC_QUALITY_MAX_DROPOUT) {
    /* In order, with a permissible gap (a wrap adds a cycle). */
    if (udelta) STORE(h->ext_max, ((ext & 0xffff0000u) + (seq < max ? SEQ_MOD : 0)) | seq);
  } else if (udelta <= SEQ_MOD - SC_QUALITY_MAX_MISORDER) {
    /* A big jump: two sequential packets there mean the sender restarted;
     * a lone one is ignored (not counted). */
    if (seq != c->bad_seq) {
      c->bad_seq = (uint32_t)(uint16_t)(seq + 1);
      return;
    }
    start(h, c, seq, transit);
    return;
  }
  /* else a duplicate or a late packet: counted, the highest stays. */
  STORE(h->received, received + 1);
  update_jitter(h, transit);
}

void sc_quality_restart(sc_rxq_hot_t *h) {
  STORE(h->received, 0u);
}

void sc_quality_read(const sc_rxq_hot_t *h, const sc_rxq_cold_t *c, uint64_t rx_bytes,
                     uint64_t tx_bytes, sc_quality_reading_t *out) {
  out->rx_bytes = rx_bytes;
  out->tx_bytes = tx_bytes;
  out->received = LOAD(h->received);
  out->ext_max = LOAD(h->ext_max);
  out->base = LOAD(c->base);
  out->jitter16 = LOAD(h->jitter16);
}

/* A.3: packets expected since the stream (re)started. */
static uint32_t expected_of(const sc_quality_reading_t *r) {
  return r->received ? r->ext_max - r->base + 1 : 0;
}

static double kbps(uint64_t now, uint64_t before, int64_t ms) {
  return now >= before ? (double)(now - before) * 8.0 / (double)ms : 0;
}

int sc_quality_sample(sc_quality_t *q, const sc_quality_reading_t *r, int64_t now_ms) {
  uint32_t expected = expected_of(r);
  int64_t lost = (int64_t)expected - (int64_t)r->received;
  q->lost_total = lost > 0 ? lost : 0;
  q->jitter_ms = (double)r->jitter16 / 16.0 * 1000.0 / SC_QUALITY_RTP_HZ;
  /* Restarted (or reset) since the previous reading: count from there. */
  if (r->base != q->base || r->received < q->received || expected < q->expected)
    q->received = q->expected = 0;
  int measured = q->at_ms && now_ms > q->at_ms;
  if (measured) {
    int64_t ms = now_ms - q->at_ms;
    q->rx_kbps = kbps(r->rx_bytes, q->rx_bytes, ms);
    q->tx_kbps = kbps(r->tx_bytes, q->tx_bytes, ms);
    uint32_t exp_i = expected - q->expected, rec_i = r->received - q->received;
    q->expected_interval = exp_i;
    q->lost_interval = exp_i > rec_i ? exp_i - rec_i : 0;
    q->loss_fraction = exp_i ? (double)q->lost_interval / (double)exp_i : 0;
  }
  q->at_ms = now_ms;
  q->rx_bytes = r->rx_bytes;
  q->tx_bytes = r->tx_bytes;
  q->expected = expected;
  q->received = r->received;
  q->base = r->base;
  return measured;
}
