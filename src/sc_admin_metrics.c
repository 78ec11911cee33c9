#include "sc_admin_metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sc_frontend.h"
#include "sc_load.h"
#include "sc_registry.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

#define P "litecord_voice_"

/* === Rendering (pure) ==================================================== */

static void one_label(sc_metrics_t *m, const char *name, const char *value, uint64_t v) {
  sc_label_t l = {name, value};
  sc_metrics_sample_u64(m, &l, 1, v);
}

static void render_states(sc_metrics_t *m, const sc_admin_metrics_snap_t *s) {
  static const char *const reasons[] = {"left", "channel_gone", "replaced", "shutdown"};
  sc_metrics_family(m, P "build_info", SC_METRIC_GAUGE, "Build information (always 1)");
  sc_label_t v = {"version", s->version};
  sc_metrics_sample(m, &v, 1, 1);
  sc_metrics_gauge(m, P "voice_states", "Voice states held (members of calls)",
                   (double)s->voice_states);
  sc_metrics_gauge(m, P "channels", "Channels held", (double)s->channels);
  sc_metrics_gauge(m, P "capacity", "Configured capacity in voice states (--capacity)",
                   (double)s->capacity);
  sc_metrics_gauge(m, P "draining", "1 while the server drains (takes no new channels)",
                   s->draining ? 1 : 0);
  sc_metrics_counter(m, P "voice_states_created_total", "Voice states created by Litecord",
                     s->reg.created);
  sc_metrics_family(m, P "voice_states_ended_total", SC_METRIC_COUNTER,
                    "Voice states ended, by reason");
  for (unsigned i = 0; i < sizeof reasons / sizeof *reasons; i++)
    one_label(m, "reason", reasons[i], s->reg.ended[i]);
}

/* Packets or bytes per (transport, mode, direction). */
static void render_traffic(sc_metrics_t *m, const sc_traffic_t *t, int bytes) {
  if (bytes)
    sc_metrics_family(m, P "media_bytes_total", SC_METRIC_COUNTER,
                      "Bytes of RTP datagrams (UDP payload) from (in) and to (out) members, by "
                      "transport and mode");
  else
    sc_metrics_family(m, P "media_packets_total", SC_METRIC_COUNTER,
                      "RTP packets from (in, authenticated) and to (out) members, by transport "
                      "and mode");
  for (size_t i = 0; i < t->n; i++) {
    const sc_traffic_row_t *r = &t->rows[i];
    sc_label_t l[3] = {{"transport", r->kind}, {"mode", r->mode}, {"direction", "in"}};
    sc_metrics_sample_u64(m, l, 3, bytes ? r->c.rx_bytes : r->c.rx_packets);
    l[2].value = "out";
    sc_metrics_sample_u64(m, l, 3, bytes ? r->c.tx_bytes : r->c.tx_packets);
  }
}

static void render_drops(sc_metrics_t *m, const sc_media_stats_t *st) {
  const struct {
    const char *reason;
    uint64_t v;
  } drops[] =
      {
          {"unknown_ssrc", st->drop_unknown_ssrc},
          {"foreign_addr", st->drop_foreign_addr},
          {"auth", st->drop_auth},
          {"replay", st->drop_replay},
          {"malformed", st->drop_malformed},
          {"no_cipher", st->drop_no_cipher},
          {"muted", st->drop_muted},
          {"removed", st->drop_removed},
      },
    sends[] = {
        {"dest_refused", st->send_err_dest_refused},
        {"unreachable", st->send_err_unreachable},
        {"other_dest", st->send_err_other_dest},
        {"socket_full", st->send_dropped_socket_full},
    };
  sc_metrics_family(m, P "media_dropped_total", SC_METRIC_COUNTER,
                    "Datagrams received and dropped, by reason");
  for (size_t i = 0; i < sizeof drops / sizeof *drops; i++)
    one_label(m, "reason", drops[i].reason, drops[i].v);
  sc_metrics_family(m, P "media_send_errors_total", SC_METRIC_COUNTER,
                    "Copies not sent, by reason (socket_full: the rest of a send batch)");
  for (size_t i = 0; i < sizeof sends / sizeof *sends; i++)
    one_label(m, "reason", sends[i].reason, sends[i].v);
}

/* The WebRTC transport (sc_rtc_stats_t): one counter family each. */
static void render_webrtc(sc_metrics_t *m, const sc_rtc_stats_t *w) {
  const struct {
    const char *name, *help;
    uint64_t v;
  } c[] = {
      {P "webrtc_stun_answered_total", "Valid STUN binding requests answered", w->stun_answered},
      {P "webrtc_stun_refused_total",
       "STUN dropped unanswered (unknown ufrag, bad integrity, malformed)", w->stun_refused},
      {P "webrtc_tuples_added_total", "ICE tuples validated by a check", w->tuples_added},
      {P "webrtc_nominations_total", "Checks that moved a member's send tuple", w->nominations},
      {P "webrtc_dtls_datagrams_total", "DTLS datagrams fed to handshakes", w->dtls_datagrams},
      {P "webrtc_dtls_connected_total", "DTLS handshakes done, SRTP keyed", w->dtls_connected},
      {P "webrtc_dtls_failed_total", "DTLS handshakes failed (timeout, fingerprint, protocol)",
       w->dtls_failed},
      {P "webrtc_dtls_refused_total",
       "DTLS datagrams refused (over the handshake bound, second handshake, garbage)",
       w->dtls_refused},
      {P "webrtc_dtls_deferred_total", "DTLS datagrams queued past a batch's handshake budget",
       w->dtls_deferred},
      {P "webrtc_dtls_dropped_total", "DTLS datagrams dropped with the queue full",
       w->dtls_dropped},
      {P "webrtc_foreign_ssrc_total", "SRTP under an SSRC that is not the member's",
       w->foreign_ssrc},
      {P "webrtc_not_opus_total", "SRTP of another payload type than Opus (dropped)", w->not_opus},
      {P "webrtc_no_consent_total", "Packets not taken or sent: consent expired or not keyed",
       w->no_consent},
      {P "webrtc_no_keys_total", "SRTP from a validated tuple before DTLS keyed it", w->no_keys},
      {P "webrtc_unknown_tuple_total", "Non-STUN datagrams from tuples nobody validated",
       w->unknown_tuple},
      {P "webrtc_wrong_direction_total", "Authentic RTP from a send-only (down) transport: dropped",
       w->wrong_direction},
      {P "webrtc_rtcp_sent_total", "Compound RTCP reports sent to WebRTC members (SR/RR/SDES)",
       w->rtcp_sent},
      {P "webrtc_rtcp_sent_bytes_total", "Bytes of those reports on the wire (SRTCP)",
       w->rtcp_sent_bytes},
      {P "webrtc_rtcp_send_failed_total", "Reports not sent (SRTCP refused, no send tuple)",
       w->rtcp_send_failed},
      {P "webrtc_rtcp_received_total", "Authentic SRTCP packets from WebRTC members",
       w->rtcp_received},
      {P "webrtc_rtcp_malformed_total", "Authentic RTCP that did not parse", w->rtcp_malformed},
      {P "webrtc_rtcp_bye_total", "RTCP BYE packets from WebRTC members", w->rtcp_bye},
      {P "webrtc_video_received_total", "Authentic video RTP from WebRTC members",
       w->video_received},
      {P "webrtc_video_foreign_ssrc_total",
       "Video under an SSRC its WebRTC member never announced (dropped)", w->video_foreign_ssrc},
      {P "webrtc_pli_sent_total", "PLIs passed to WebRTC video senders (SRTCP)", w->pli_sent},
      {P "webrtc_pli_limited_total", "Key-frame requests folded into a PLI sent recently",
       w->pli_limited},
      {P "webrtc_pli_unsent_total", "Key-frame requests whose WebRTC sender was not ready",
       w->pli_unsent},
      {P "webrtc_pli_not_passed_total",
       "Key-frame requests about a Discord UDP sender's video (not passed)", w->pli_not_passed},
      {P "webrtc_pli_unknown_ssrc_total",
       "Key-frame requests naming no video SSRC of another member of the room",
       w->pli_unknown_ssrc},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++)
    sc_metrics_counter(m, c[i].name, c[i].help, c[i].v);
  const struct {
    const char *type;
    uint64_t v;
  } fb[] = {{"pli", w->rtcp_pli},
            {"fir", w->rtcp_fir},
            {"nack", w->rtcp_nack},
            {"remb", w->rtcp_remb},
            {"transport_cc", w->rtcp_twcc}};
  sc_metrics_family(m, P "webrtc_rtcp_feedback_total", SC_METRIC_COUNTER,
                    "RTCP feedback from WebRTC members, by type (PLI/FIR are passed to the "
                    "video's sender: webrtc_pli_*)");
  for (size_t i = 0; i < sizeof fb / sizeof *fb; i++) one_label(m, "type", fb[i].type, fb[i].v);
  sc_metrics_family(m, P "webrtc_rtt_seconds", SC_METRIC_HISTOGRAM,
                    "Round trips WebRTC peers' receiver reports measure on our sender reports "
                    "(RFC 3550 LSR/DLSR), one per RTCP packet");
  sc_metrics_lathist(m, NULL, 0, w->rtt_hist, w->rtt_sum_us);
  sc_metrics_gauge(m, P "webrtc_members", "WebRTC transports (members and legs) on the workers",
                   (double)w->members);
}

static void render_media(sc_metrics_t *m, const sc_admin_metrics_snap_t *s) {
  render_traffic(m, &s->traffic, 0);
  render_traffic(m, &s->traffic, 1);
  if (!s->have_media) return;
  const sc_media_stats_t *st = &s->media;
  sc_metrics_counter(m, P "media_datagrams_received_total", "UDP datagrams received",
                     st->rx_datagrams);
  sc_metrics_counter(m, P "media_rtcp_received_total", "Authenticated RTCP packets received",
                     st->rx_rtcp);
  sc_metrics_counter(m, P "media_sent_total", "Datagrams sent to members (forwarded RTP)",
                     st->tx_packets);
  sc_metrics_counter(m, P "media_sent_bytes_total", "Bytes of datagrams sent to members",
                     st->tx_bytes);
  sc_metrics_counter(m, P "media_discovery_total", "IP discovery requests answered", st->discovery);
  sc_metrics_counter(m, P "media_keepalives_total", "UDP keepalives received", st->keepalives);
  render_drops(m, st);
  render_webrtc(m, &st->webrtc);
  sc_metrics_counter(m, P "media_hints_refused_total",
                     "Select Protocol addresses not used (broadcast, multicast, ...)",
                     st->hint_refused);
  sc_metrics_counter(m, P "media_address_moves_total",
                     "Member addresses moved by an authenticated datagram (NAT rebinding)",
                     st->addr_moved);
  sc_metrics_counter(m, P "media_stale_commands_total",
                     "Media commands discarded because a reset came after them", st->cmd_stale);
  sc_metrics_counter(m, P "media_seal_declined_total",
                     "Forwarded copies a receiver's front end withheld by policy (E2EE frames "
                     "to a member outside the E2EE group)",
                     st->seal_declined);
  sc_metrics_counter(m, P "media_seal_filtered_total",
                     "Forwarded copies a receiver's transport does not carry (a publish-only "
                     "transport, a down leg of another source)",
                     st->seal_filtered);
  sc_metrics_family(m, P "forward_delay_seconds", SC_METRIC_HISTOGRAM,
                    "Per forwarded RTP packet: kernel receive timestamp to the send of its last "
                    "copy");
  sc_metrics_lathist(m, NULL, 0, st->fwd_delay_hist, st->fwd_delay_sum_us);
  sc_metrics_family(m, P "media_worker_cpu_seconds_total", SC_METRIC_COUNTER,
                    "CPU time (user + system) of each media worker thread");
  for (int i = 0; i < s->n_workers && i < SC_ADMIN_METRICS_WORKERS; i++) {
    char w[12];
    snprintf(w, sizeof w, "%d", i);
    sc_label_t l = {"worker", w};
    sc_metrics_sample(m, &l, 1, s->worker_cpu_s[i]);
  }
}

static void render_process(sc_metrics_t *m, const sc_admin_proc_t *p) {
  if (!p->ok) return;
  sc_metrics_family(m, "process_cpu_seconds_total", SC_METRIC_COUNTER,
                    "Total user and system CPU time spent in seconds.");
  sc_metrics_sample(m, NULL, 0, p->cpu_s);
  sc_metrics_gauge(m, "process_resident_memory_bytes", "Resident memory size in bytes.",
                   (double)p->rss_bytes);
  sc_metrics_gauge(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                   (double)p->vm_bytes);
  sc_metrics_gauge(m, "process_open_fds", "Number of open file descriptors.", (double)p->open_fds);
  sc_metrics_gauge(m, "process_max_fds", "Maximum number of open file descriptors.",
                   (double)p->max_fds);
  sc_metrics_gauge(m, "process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.", p->start_time_s);
}

/* Measured by us, one observation per member and sampling interval
 * (sc_qsample): how members' audio reaches us, and their RTT. */
static void render_own_quality(sc_metrics_t *m, const sc_qsample_agg_t *q) {
  sc_metrics_family(m, P "member_loss_ratio", SC_METRIC_HISTOGRAM,
                    "Fraction of a member's audio packets lost on the way to us, per member and "
                    "2 s interval in which it sent audio");
  sc_metrics_obs_write(m, NULL, 0, &q->loss);
  sc_metrics_family(m, P "member_jitter_seconds", SC_METRIC_HISTOGRAM,
                    "Interarrival jitter of a member's audio as we receive it (RFC 3550), per "
                    "member and 2 s interval in which it sent audio");
  sc_metrics_obs_write(m, NULL, 0, &q->jitter);
  sc_metrics_family(m, P "member_rtt_seconds", SC_METRIC_HISTOGRAM,
                    "Round-trip time of a member's signalling connection (kernel TCP RTT), per "
                    "member and 2 s interval");
  sc_metrics_obs_write(m, NULL, 0, &q->rtt);
  sc_metrics_counter(
      m, P "media_packets_lost_total",
      "Audio packets from members we expected (RTP sequence numbers) and did not get", q->lost);
  sc_metrics_counter(m, P "media_packets_expected_total",
                     "Audio packets from members we expected (RTP sequence numbers)", q->expected);
}

static void render_quality(sc_metrics_t *m, const sc_admin_metrics_snap_t *s) {
  sc_metrics_gauge(m, P "members_rtcp_reporting",
                   "Members whose latest RTCP report described how they receive the room",
                   (double)s->rtcp_reporting);
  sc_metrics_gauge(m, P "member_rtcp_fraction_lost_max",
                   "Worst fraction lost (0..1) in the members' latest RTCP reports",
                   s->rtcp_loss_max);
  sc_metrics_gauge(m, P "member_rtcp_jitter_seconds_max",
                   "Worst interarrival jitter in the members' latest RTCP reports (Opus 48 kHz)",
                   s->rtcp_jitter_max_s);
  sc_metrics_gauge(m, P "members_rtcp_lost_packets",
                   "Cumulative packets lost as the members held now report it, summed",
                   (double)s->rtcp_lost_sum);
  render_own_quality(m, &s->q);
}

void sc_admin_metrics_render(sc_metrics_t *m, const sc_admin_metrics_snap_t *s) {
  render_states(m, s);
  render_quality(m, s);
  render_media(m, s);
  sc_metrics_gauge(m, P "connections_max", "Client connections planned for (--max-connections)",
                   (double)s->conn_max);
  sc_metrics_gauge(m, P "fd_limit", "Soft RLIMIT_NOFILE the server set", (double)s->fd_limit);
  sc_metrics_counter(m, P "connections_refused_total",
                     "Connections closed at accept (over the fd plan)", s->conn_refused);
  render_process(m, &s->proc);
}

/* === /proc/self ========================================================== */

int sc_admin_metrics_parse_stat(const char *buf, size_t len, uint64_t *cpu_ticks,
                                uint64_t *start_ticks, uint64_t *vsize, uint64_t *rss_pages) {
  const char *end = NULL;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == ')') end = buf + i; /* the command name may hold ")" */
  if (!end) return -EINVAL;
  /* Fields after ')': 0 = state (field 3); utime 11, stime 12,
   * starttime 19, vsize 20, rss 21. */
  uint64_t v[22] = {0};
  const char *p = end + 1, *stop = buf + len;
  for (int f = 0; f < 22; f++) {
    while (p < stop && *p == ' ') p++;
    if (p >= stop) return -EINVAL;
    const char *start = p;
    int neg = *p == '-';
    if (neg) p++;
    while (p < stop && *p != ' ' && *p != '\n') {
      if (f > 0 && (*p < '0' || *p > '9')) return -EINVAL;
      if (f > 0) v[f] = v[f] * 10 + (uint64_t)(*p - '0');
      p++;
    }
    if (p == start) return -EINVAL;
    if (neg) v[f] = 0;
  }
  *cpu_ticks = v[11] + v[12];
  *start_ticks = v[19];
  *vsize = v[20];
  *rss_pages = v[21];
  return 0;
}

static ssize_t read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return -EIO;
  buf[n] = '\0';
  return n;
}

/* The wall-clock time of boot, as /proc/stat's btime gives it, but from the
 * clocks: the systemd unit's ProcSubset=pid hides /proc/stat. */
static double boot_time_s(void) {
  struct timespec wall, boot;
  if (clock_gettime(CLOCK_REALTIME, &wall) < 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
    return 0;
  return (double)(wall.tv_sec - boot.tv_sec) + (double)(wall.tv_nsec - boot.tv_nsec) / 1e9;
}

static uint64_t count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 0;
  uint64_t n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n ? n - 1 : 0; /* not the one opendir holds */
}

static void read_proc(sc_admin_proc_t *p) {
  char buf[1024];
  uint64_t cpu, start, vsize, rss;
  ssize_t n = read_file("/proc/self/stat", buf, sizeof buf);
  memset(p, 0, sizeof *p);
  if (n <= 0 || sc_admin_metrics_parse_stat(buf, (size_t)n, &cpu, &start, &vsize, &rss) < 0) return;
  long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  if (hz <= 0) hz = 100;
  struct rlimit rl;
  p->ok = 1;
  p->cpu_s = (double)cpu / (double)hz;
  p->start_time_s = boot_time_s() + (double)start / (double)hz;
  p->vm_bytes = vsize;
  p->rss_bytes = rss * (uint64_t)(page > 0 ? page : 4096);
  p->open_fds = count_fds();
  p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)rl.rlim_cur : 0;
}

/* === Snapshot of the app ================================================= */

/* The core's drain (sc_drain.h): 1 from the first SIGTERM or POST /drain. */
static int app_draining(const sc_app_t *app) {
  return app->drain.active;
}

#define LOADED(field) atomic_load_explicit(&(field), memory_order_relaxed)

static void add_quality(sc_vstate_t *vs, void *arg) {
  sc_admin_metrics_snap_t *s = arg;
  sc_member_stats_t *st = vs->stats;
  if (!st || !LOADED(st->rtcp_sources)) return;
  double loss = (double)LOADED(st->rtcp_fraction_lost) / 256.0;
  double jitter = (double)LOADED(st->rtcp_jitter) / 48000.0; /* Opus RTP clock */
  s->rtcp_reporting++;
  if (loss > s->rtcp_loss_max) s->rtcp_loss_max = loss;
  if (jitter > s->rtcp_jitter_max_s) s->rtcp_jitter_max_s = jitter;
  s->rtcp_lost_sum += LOADED(st->rtcp_cumulative_lost);
}

static void add_channel_quality(sc_channel_t *ch, void *arg) {
  sc_registry_each_state(ch, add_quality, arg);
}

static void snapshot(sc_app_t *app, sc_admin_metrics_snap_t *s) {
  memset(s, 0, sizeof *s);
  s->version = SC_VERSION;
  s->capacity = app->cfg.capacity;
  if (app->registry) {
    s->voice_states = sc_registry_count_states(app->registry);
    s->channels = sc_registry_count_channels(app->registry);
    sc_registry_counts(app->registry, &s->reg);
    sc_registry_traffic(app->registry, &s->traffic);
    sc_registry_each_channel(app->registry, add_channel_quality, s);
  }
  if (app->media) {
    s->have_media = 1;
    sc_media_get_stats(app->media, &s->media);
    s->n_workers = app->cfg.media_workers < SC_ADMIN_METRICS_WORKERS ? app->cfg.media_workers
                                                                     : SC_ADMIN_METRICS_WORKERS;
    sc_load_media_cpu_per_worker(s->worker_cpu_s, s->n_workers);
  }
  s->conn_max = app->fdlimit.connections;
  s->fd_limit = app->fdlimit.soft > 0 ? (uint64_t)app->fdlimit.soft : 0;
  s->conn_refused = app->fdlimit.refused;
  s->draining = app_draining(app);
  sc_qsample_agg(app->qsample, &s->q);
  read_proc(&s->proc);
}

int sc_admin_metrics_render_app(sc_app_t *app, sc_metrics_t *m) {
  sc_admin_metrics_snap_t *s = malloc(sizeof *s);
  if (!s) return -ENOMEM;
  snapshot(app, s);
  sc_admin_metrics_render(m, s);
  free(s);
  const sc_frontend_t *fe[SC_MAX_FRONTENDS];
  int n = sc_frontend_list(fe, SC_MAX_FRONTENDS);
  for (int i = 0; i < n; i++)
    if (fe[i]->metrics) fe[i]->metrics(app, i, m);
  return sc_metrics_text(m) ? 0 : -ENOMEM;
}
