/*
 * test_metrics: the Prometheus text writer (src/sc_metrics), the core's
 * /metrics renderer over a snapshot (src/sc_admin_metrics), the /proc
 * parser, and the per-(transport, mode) totals that keep the media
 * counters monotonic when members change mode or leave (src/sc_traffic,
 * sc_registry_set_transport / sc_registry_traffic).
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "sc_admin_metrics.h"
#include "sc_metrics.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_traffic.h"

static int contains(const char *text, const char *needle) {
  return text && strstr(text, needle) != NULL;
}

#define ASSERT_HAS(text, needle)                                                 \
  do {                                                                           \
    if (!contains((text), (needle))) SC_FAIL("missing line part: %s", (needle)); \
    sc_test_checks++;                                                            \
  } while (0)

static void test_label_and_help_escaping(void) {
  sc_metrics_t m;
  sc_metrics_init(&m);
  sc_metrics_family(&m, "x_total", SC_METRIC_COUNTER, "a \\ b\nc \"q\"");
  sc_label_t l[2] = {{"a", "back\\slash \"quoted\"\nnext"}, {"b", ""}};
  sc_metrics_sample_u64(&m, l, 2, 7);
  const char *t = sc_metrics_text(&m);
  ASSERT_HAS(t, "# HELP x_total a \\\\ b\\nc \"q\"\n");
  ASSERT_HAS(t, "# TYPE x_total counter\n");
  ASSERT_HAS(t, "x_total{a=\"back\\\\slash \\\"quoted\\\"\\nnext\",b=\"\"} 7\n");
  sc_metrics_free(&m);
}

static void test_numbers(void) {
  char b[40];
  sc_metrics_format_double(0.000016, b, sizeof b);
  ASSERT_STREQ(b, "1.6e-05");
  sc_metrics_format_double(9175040.0, b, sizeof b);
  ASSERT_STREQ(b, "9175040");
  sc_metrics_format_double(0.1, b, sizeof b);
  ASSERT_STREQ(b, "0.1");
  sc_metrics_format_double(1.0 / 3.0, b, sizeof b);
  ASSERT_TRUE(strtod(b, NULL) == 1.0 / 3.0);
  sc_metrics_format_double(1e300, b, sizeof b);
  ASSERT_TRUE(strtod(b, NULL) == 1e300);
  sc_metrics_format_double(-2.5, b, sizeof b);
  ASSERT_STREQ(b, "-2.5");
  sc_metrics_format_double(INFINITY, b, sizeof b);
  ASSERT_STREQ(b, "+Inf");
  sc_metrics_format_double(NAN, b, sizeof b);
  ASSERT_STREQ(b, "NaN");
}

/* Bounds are inclusive, buckets cumulative, +Inf equals _count. */
static void test_histogram_cumulative(void) {
  static const double le[] = {0.1, 0.5, 1};
  sc_metrics_obs_t o;
  sc_metrics_obs_init(&o, le, 3);
  double vals[] = {0.05, 0.1, 0.3, 0.5, 0.7, 2, 3};
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) sc_metrics_observe(&o, vals[i]);
  sc_metrics_t m;
  sc_metrics_init(&m);
  sc_metrics_family(&m, "h_seconds", SC_METRIC_HISTOGRAM, "h");
  sc_label_t l = {"k", "v"};
  sc_metrics_obs_write(&m, &l, 1, &o);
  const char *t = sc_metrics_text(&m);
  ASSERT_HAS(t, "# TYPE h_seconds histogram\n");
  ASSERT_HAS(t, "h_seconds_bucket{k=\"v\",le=\"0.1\"} 2\n");
  ASSERT_HAS(t, "h_seconds_bucket{k=\"v\",le=\"0.5\"} 4\n");
  ASSERT_HAS(t, "h_seconds_bucket{k=\"v\",le=\"1\"} 5\n");
  ASSERT_HAS(t, "h_seconds_bucket{k=\"v\",le=\"+Inf\"} 7\n");
  ASSERT_HAS(t, "h_seconds_sum{k=\"v\"} 6.65\n");
  ASSERT_HAS(t, "h_seconds_count{k=\"v\"} 7\n");
  sc_metrics_free(&m);
}

/* sc_lathist buckets land under the power-of-two bound at or above their
 * exclusive upper bound; the open bucket only under +Inf. */
static void test_lathist_conversion(void) {
  uint64_t c[SC_LATHIST_BUCKETS] = {0};
  c[sc_lathist_bucket(3)] += 1;        /* < 16 us */
  c[sc_lathist_bucket(15)] += 2;       /* < 16 us */
  c[sc_lathist_bucket(16)] += 4;       /* < 32 us */
  c[sc_lathist_bucket(1000)] += 8;     /* < 1024 us */
  c[sc_lathist_bucket(1024)] += 16;    /* < 2048 us */
  c[sc_lathist_bucket(5000000)] += 32; /* open bucket */
  sc_metrics_t m;
  sc_metrics_init(&m);
  sc_metrics_family(&m, "d_seconds", SC_METRIC_HISTOGRAM, "d");
  sc_metrics_lathist(&m, NULL, 0, c, 1500000);
  const char *t = sc_metrics_text(&m);
  ASSERT_HAS(t, "d_seconds_bucket{le=\"1.6e-05\"} 3\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"3.2e-05\"} 7\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"0.000512\"} 7\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"0.001024\"} 15\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"0.002048\"} 31\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"2.097152\"} 31\n");
  ASSERT_HAS(t, "d_seconds_bucket{le=\"+Inf\"} 63\n");
  ASSERT_HAS(t, "d_seconds_sum 1.5\n");
  ASSERT_HAS(t, "d_seconds_count 63\n");
  sc_metrics_free(&m);
}

static void test_parse_stat(void) {
  /* The command name holds ") " and digits: the parser must scan from
   * the last ')'. Fields: pid (comm) state ppid ... */
  const char *stat =
      "4242 (sc) 1 2) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
      "150 50 0 0 20 0 3 0 123456 19898368 2240 18446744073709551615 1 1 0\n";
  uint64_t cpu, start, vsize, rss;
  ASSERT_EQ(sc_admin_metrics_parse_stat(stat, strlen(stat), &cpu, &start, &vsize, &rss), 0);
  ASSERT_EQ(cpu, 200);
  ASSERT_EQ(start, 123456);
  ASSERT_EQ(vsize, 19898368);
  ASSERT_EQ(rss, 2240);
  ASSERT_TRUE(sc_admin_metrics_parse_stat("12 (x) S 1 2", 12, &cpu, &start, &vsize, &rss) < 0);
  ASSERT_TRUE(sc_admin_metrics_parse_stat("no paren", 8, &cpu, &start, &vsize, &rss) < 0);
}

/* Checks every family of text: names are litecord_voice_* or process_*,
 * a name ending in _total is a counter (and every counter ends in it). */
static void check_conventions(const char *text) {
  const char *p = text;
  int families = 0;
  while ((p = strstr(p, "# TYPE ")) != NULL) {
    char name[128], type[32];
    ASSERT_EQ(sscanf(p, "# TYPE %127s %31s", name, type), 2);
    size_t n = strlen(name);
    int total = n > 6 && strcmp(name + n - 6, "_total") == 0;
    ASSERT_TRUE(strncmp(name, "litecord_voice_", 15) == 0 || strncmp(name, "process_", 8) == 0);
    if (total != (strcmp(type, "counter") == 0)) SC_FAIL("%s is a %s", name, type);
    families++;
    p += 7;
  }
  ASSERT_TRUE(families > 20);
}

static void test_render_snapshot(void) {
  sc_admin_metrics_snap_t s;
  memset(&s, 0, sizeof s);
  s.version = "1.2.3";
  s.voice_states = 3;
  s.channels = 2;
  s.capacity = 50;
  s.reg.created = 9;
  s.reg.ended[SC_END_REPLACED] = 4;
  sc_traffic_counts_t now = {10, 1000, 20, 2000}, zero = {0};
  sc_traffic_add(&s.traffic, "discord_udp", "aead_aes256_gcm_rtpsize", &now, &zero);
  s.have_media = 1;
  s.media.drop_auth = 5;
  s.media.send_err_unreachable = 6;
  s.media.hint_refused = 7;
  s.media.addr_moved = 8;
  s.media.fwd_delay_hist[sc_lathist_bucket(100)] = 11;
  s.media.fwd_delay_sum_us = 1100;
  s.n_workers = 2;
  s.worker_cpu_s[1] = 0.25;
  s.proc = (sc_admin_proc_t){1, 1.5, 1700000000.5, 9175040, 19898368, 14, 4096};
  s.rtcp_reporting = 2;
  s.rtcp_loss_max = 0.25;
  s.rtcp_jitter_max_s = 0.002;
  s.rtcp_lost_sum = 17;
  sc_qsample_agg(NULL, &s.q);
  sc_metrics_observe(&s.q.loss, 0.0);
  sc_metrics_observe(&s.q.loss, 0.1);
  sc_metrics_observe(&s.q.jitter, 0.003);
  sc_metrics_observe(&s.q.rtt, 0.04);
  s.q.lost = 12;
  s.q.expected = 1000;
  sc_metrics_t m;
  sc_metrics_init(&m);
  sc_admin_metrics_render(&m, &s);
  const char *t = sc_metrics_text(&m);
  ASSERT_HAS(t, "litecord_voice_build_info{version=\"1.2.3\"} 1\n");
  ASSERT_HAS(t, "litecord_voice_voice_states 3\n");
  ASSERT_HAS(t, "litecord_voice_channels 2\n");
  ASSERT_HAS(t, "litecord_voice_draining 0\n");
  ASSERT_HAS(t, "litecord_voice_voice_states_created_total 9\n");
  ASSERT_HAS(t, "litecord_voice_voice_states_ended_total{reason=\"replaced\"} 4\n");
  ASSERT_HAS(t,
             "litecord_voice_media_packets_total{transport=\"discord_udp\","
             "mode=\"aead_aes256_gcm_rtpsize\",direction=\"in\"} 10\n");
  ASSERT_HAS(t,
             "litecord_voice_media_bytes_total{transport=\"discord_udp\","
             "mode=\"aead_aes256_gcm_rtpsize\",direction=\"out\"} 2000\n");
  ASSERT_HAS(t, "litecord_voice_media_dropped_total{reason=\"auth\"} 5\n");
  ASSERT_HAS(t, "litecord_voice_media_send_errors_total{reason=\"unreachable\"} 6\n");
  ASSERT_HAS(t, "litecord_voice_media_hints_refused_total 7\n");
  ASSERT_HAS(t, "litecord_voice_media_address_moves_total 8\n");
  ASSERT_HAS(t, "litecord_voice_forward_delay_seconds_bucket{le=\"0.000128\"} 11\n");
  ASSERT_HAS(t, "litecord_voice_forward_delay_seconds_sum 0.0011\n");
  ASSERT_HAS(t, "litecord_voice_forward_delay_seconds_count 11\n");
  ASSERT_HAS(t, "litecord_voice_media_worker_cpu_seconds_total{worker=\"1\"} 0.25\n");
  ASSERT_HAS(t, "process_resident_memory_bytes 9175040\n");
  ASSERT_HAS(t, "litecord_voice_members_rtcp_reporting 2\n");
  ASSERT_HAS(t, "litecord_voice_member_rtcp_fraction_lost_max 0.25\n");
  ASSERT_HAS(t, "litecord_voice_member_rtcp_jitter_seconds_max 0.002\n");
  ASSERT_HAS(t, "litecord_voice_members_rtcp_lost_packets 17\n");
  ASSERT_HAS(t, "process_start_time_seconds 1700000000.5\n");
  ASSERT_HAS(t, "litecord_voice_member_loss_ratio_bucket{le=\"0\"} 1\n");
  ASSERT_HAS(t, "litecord_voice_member_loss_ratio_bucket{le=\"0.05\"} 1\n");
  ASSERT_HAS(t, "litecord_voice_member_loss_ratio_bucket{le=\"0.1\"} 2\n");
  ASSERT_HAS(t, "litecord_voice_member_loss_ratio_count 2\n");
  ASSERT_HAS(t, "litecord_voice_member_jitter_seconds_bucket{le=\"0.005\"} 1\n");
  ASSERT_HAS(t, "litecord_voice_member_rtt_seconds_bucket{le=\"0.05\"} 1\n");
  ASSERT_HAS(t, "litecord_voice_member_rtt_seconds_bucket{le=\"0.025\"} 0\n");
  ASSERT_HAS(t, "litecord_voice_media_packets_lost_total 12\n");
  ASSERT_HAS(t, "litecord_voice_media_packets_expected_total 1000\n");
  check_conventions(t);
  sc_metrics_free(&m);
}

static void set_counts(sc_vstate_t *vs, uint64_t rx, uint64_t tx) {
  atomic_store(&vs->stats->rx_packets, rx);
  atomic_store(&vs->stats->rx_bytes, rx * 100);
  atomic_store(&vs->stats->tx_packets, tx);
  atomic_store(&vs->stats->tx_bytes, tx * 100);
}

static const sc_traffic_row_t *row(const sc_traffic_t *t, const char *kind, const char *mode) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->rows[i].kind, kind) == 0 && strcmp(t->rows[i].mode, mode) == 0)
      return &t->rows[i];
  return NULL;
}

/* A member counts under mode A, its new client under mode B, then it
 * leaves: neither label's total ever goes down. */
static void test_traffic_monotonic(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  ASSERT_TRUE(r != NULL);
  sc_vstate_t *vs = sc_registry_create_state(r, "1", "10", "100");
  ASSERT_TRUE(vs != NULL);
  sc_registry_set_transport(r, vs, "discord_udp", "mode_a");
  set_counts(vs, 5, 7);
  sc_traffic_t t;
  sc_registry_traffic(r, &t);
  ASSERT_TRUE(row(&t, "discord_udp", "mode_a") != NULL);
  ASSERT_EQ(row(&t, "discord_udp", "mode_a")->c.rx_packets, 5);
  /* A new client (reset: not chosen yet), then mode B. */
  sc_registry_set_transport(r, vs, "", "");
  sc_registry_set_transport(r, vs, "discord_udp", "mode_b");
  set_counts(vs, 8, 10);
  sc_registry_traffic(r, &t);
  ASSERT_EQ(row(&t, "discord_udp", "mode_a")->c.rx_packets, 5);
  ASSERT_EQ(row(&t, "discord_udp", "mode_a")->c.tx_bytes, 700);
  ASSERT_EQ(row(&t, "discord_udp", "mode_b")->c.rx_packets, 3);
  ASSERT_EQ(row(&t, "discord_udp", "mode_b")->c.tx_packets, 3);
  sc_registry_counts_t rc;
  sc_registry_counts(r, &rc);
  ASSERT_EQ(rc.created, 1);
  sc_registry_end_state(r, vs, SC_END_LEFT);
  sc_registry_traffic(r, &t);
  ASSERT_TRUE(row(&t, "discord_udp", "mode_b") != NULL);
  ASSERT_EQ(row(&t, "discord_udp", "mode_a")->c.rx_packets, 5);
  ASSERT_EQ(row(&t, "discord_udp", "mode_b")->c.rx_packets, 3);
  ASSERT_EQ(row(&t, "discord_udp", "mode_b")->c.rx_bytes, 300);
  sc_registry_counts(r, &rc);
  ASSERT_EQ(rc.ended[SC_END_LEFT], 1);
  sc_registry_destroy(r);
}

/* More labels than rows: the last row takes the rest as "other". */
static void test_traffic_overflow(void) {
  sc_traffic_t t;
  memset(&t, 0, sizeof t);
  sc_traffic_counts_t one = {1, 1, 1, 1}, zero = {0};
  for (int i = 0; i < SC_TRAFFIC_ROWS + 3; i++) {
    char mode[16];
    snprintf(mode, sizeof mode, "m%d", i);
    sc_traffic_add(&t, "k", mode, &one, &zero);
  }
  ASSERT_EQ(t.n, SC_TRAFFIC_ROWS);
  ASSERT_STREQ(t.rows[SC_TRAFFIC_ROWS - 1].mode, "other");
  ASSERT_EQ(t.rows[SC_TRAFFIC_ROWS - 1].c.rx_packets, 4);
  sc_traffic_add(&t, "", "", &one, &zero); /* a row of its own? no: full */
  ASSERT_EQ(t.rows[SC_TRAFFIC_ROWS - 1].c.rx_packets, 5);
  sc_traffic_add(&t, "k", "m0", &zero, &one); /* below base: adds nothing */
  ASSERT_EQ(t.rows[0].c.rx_packets, 1);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_label_and_help_escaping);
  RUN_TEST(test_numbers);
  RUN_TEST(test_histogram_cumulative);
  RUN_TEST(test_lathist_conversion);
  RUN_TEST(test_parse_stat);
  RUN_TEST(test_render_snapshot);
  RUN_TEST(test_traffic_monotonic);
  RUN_TEST(test_traffic_overflow);
  SC_TEST_DONE();
}
