#include "sc_admin_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "sc_frontend.h"
#include "sc_lathist.h"
#include "sc_load.h"
#include "sc_registry.h"

#ifndef SC_VERSION
#define SC_VERSION "dev"
#endif

static int64_t now_ms(void);

#define LOADED(field) ((json_int_t)atomic_load_explicit(&(field), memory_order_relaxed))

static json_t *flags_json(const sc_vflags_t *f) {
  return json_pack("{s:b,s:b,s:b,s:b,s:b}", "mute", f->mute, "deaf", f->deaf, "self_mute",
                   f->self_mute, "self_deaf", f->self_deaf, "suppress", f->suppress);
}

/* The member's counters; rx/tx include its legs' (docs/ADMIN.md). */
static json_t *member_stats_json(const sc_vstate_t *vs) {
  sc_member_stats_t *s = vs->stats;
  if (!s) return json_null();
  sc_traffic_counts_t legs = {0};
  sc_legs_add_counts(vs->legs, &legs);
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "rx_packets",
                   LOADED(s->rx_packets) + (json_int_t)legs.rx_packets, "rx_bytes",
                   LOADED(s->rx_bytes) + (json_int_t)legs.rx_bytes, "rx_rtcp", LOADED(s->rx_rtcp),
                   "tx_packets", LOADED(s->tx_packets) + (json_int_t)legs.tx_packets, "tx_bytes",
                   LOADED(s->tx_bytes) + (json_int_t)legs.tx_bytes, "drops", LOADED(s->drops));
}

/* Opus RTP runs at 48 kHz: RTCP jitter (timestamp units) / 48 = ms. */
#define RTP_UNITS_PER_MS 48.0

/* Our own figures (sc_qsample, over its last interval): the bitrate from
 * and to the member, the loss and jitter of its audio as we receive it,
 * and the round-trip time its front end measured (null: unknown). */
static void add_own_figures(json_t *o, const sc_member_stats_t *s) {
  const sc_quality_t *q = &s->quality;
  json_object_set_new(o, "rx_kbps", json_real(q->rx_kbps));
  json_object_set_new(o, "tx_kbps", json_real(q->tx_kbps));
  json_object_set_new(o, "loss_fraction", json_real(q->loss_fraction));
  json_object_set_new(o, "lost_total", json_integer(q->lost_total));
  json_object_set_new(o, "jitter_ms", json_real(q->jitter_ms));
  json_object_set_new(o, "rtt_ms",
                      s->rtt_us > 0 ? json_real((double)s->rtt_us / 1000.0) : json_null());
}

/* How the member's media is doing (docs/ADMIN.md "quality"): the age of
 * its last authenticated datagram, what its own RTCP reports say about
 * how it receives the room (null until it sent one), and our figures. */
static json_t *quality_json(sc_member_stats_t *s) {
  if (!s) return json_null();
  int64_t last = atomic_load_explicit(&s->rx_last_ms, memory_order_relaxed);
  int64_t age = last ? now_ms() - last : -1;
  json_t *rtcp = json_null();
  if (LOADED(s->rtcp_rr) || LOADED(s->rtcp_sr) || LOADED(s->rtcp_malformed))
    rtcp = json_pack("{s:I,s:I,s:I,s:I,s:f,s:I,s:f}", "sender_reports", LOADED(s->rtcp_sr),
                     "receiver_reports", LOADED(s->rtcp_rr), "malformed", LOADED(s->rtcp_malformed),
                     "sources", LOADED(s->rtcp_sources), "fraction_lost",
                     (double)LOADED(s->rtcp_fraction_lost) / 256.0, "cumulative_lost",
                     LOADED(s->rtcp_cumulative_lost), "jitter_ms",
                     (double)LOADED(s->rtcp_jitter) / RTP_UNITS_PER_MS);
  json_t *o = json_object();
  if (!o) {
    json_decref(rtcp);
    return NULL;
  }
  json_object_set_new(o, "last_rx_age_ms", last ? json_integer(age < 0 ? 0 : age) : json_null());
  json_object_set_new(o, "rtcp", rtcp ? rtcp : json_null());
  add_own_figures(o, s);
  return o;
}

static void add_member(sc_vstate_t *vs, void *arg) {
  json_t *m =
      json_pack("{s:s,s:s?,s:s,s:I,s:b,s:s?,s:i,s:o,s:o}", "user_id", vs->user_id, "guild_id",
                vs->guild_id[0] ? vs->guild_id : NULL, "session_id", vs->session_id, "ssrc",
                (json_int_t)vs->ssrc, "connected", vs->ops != NULL, "mode",
                vs->transport[0] ? vs->transport : NULL, "speaking", (int)vs->speaking, "flags",
                flags_json(&vs->flags), "stats", member_stats_json(vs));
  if (m) json_object_set_new(m, "legs", json_integer((json_int_t)sc_registry_count_legs(vs)));
  if (m) json_object_set_new(m, "quality", quality_json(vs->stats));
  if (m) json_array_append_new(arg, m);
}

typedef struct {
  sc_app_t *app;
  json_t *list;
} channels_ctx_t;

static void add_channel(sc_channel_t *ch, void *arg) {
  channels_ctx_t *cx = arg;
  json_t *members = json_array();
  if (members) sc_registry_each_state(ch, add_member, members);
  int port = cx->app->media ? sc_media_port_for_room(cx->app->media, ch->room_id) : 0;
  json_t *o = json_pack("{s:s,s:s?,s:i,s:i,s:b,s:I,s:i,s:o*}", "id", ch->id, "guild_id",
                        ch->guild_id[0] ? ch->guild_id : NULL, "bitrate", ch->bitrate, "user_limit",
                        ch->user_limit, "pinned", ch->pinned, "room_id", (json_int_t)ch->room_id,
                        "udp_port", port, "members", members);
  if (o) json_array_append_new(cx->list, o);
}

/* Forwarding delay since start: count, quantiles (bucket upper bounds, us)
 * and the non-empty buckets as [upper_us, count] (the last one open,
 * upper_us null), so a tool can diff two readings. */
static json_t *fwd_delay_json(const sc_media_stats_t *st) {
  const uint64_t *h = st->fwd_delay_hist;
  json_t *buckets = json_array();
  for (unsigned b = 0; buckets && b < SC_LATHIST_BUCKETS; b++) {
    if (!h[b]) continue;
    uint64_t up = sc_lathist_upper_us(b);
    json_t *pair = up == UINT64_MAX ? json_pack("[n,I]", (json_int_t)h[b])
                                    : json_pack("[I,I]", (json_int_t)up, (json_int_t)h[b]);
    if (pair) json_array_append_new(buckets, pair);
  }
  return json_pack("{s:I,s:I,s:I,s:I,s:o*}", "count", (json_int_t)sc_lathist_total(h), "p50_us",
                   (json_int_t)sc_lathist_quantile_us(h, 0.50), "p99_us",
                   (json_int_t)sc_lathist_quantile_us(h, 0.99), "p999_us",
                   (json_int_t)sc_lathist_quantile_us(h, 0.999), "buckets", buckets);
}

#define J(v) ((json_int_t)(v))

/* Why copies were not sent: one slot per destination error, the rest of
 * the batch for a socket error (docs/ADMIN.md). */
static json_t *send_errors_json(const sc_media_stats_t *st) {
  return json_pack("{s:I,s:I,s:I,s:I}", "dest_refused", J(st->send_err_dest_refused), "unreachable",
                   J(st->send_err_unreachable), "other_dest", J(st->send_err_other_dest),
                   "socket_full", J(st->send_dropped_socket_full));
}

/* The WebRTC transport's counters (sc_rtc_stats_t, docs/ADMIN.md). */
static json_t *webrtc_json(const sc_rtc_stats_t *w) {
  json_t *o = json_pack(
      "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "stun_answered",
      J(w->stun_answered), "stun_refused", J(w->stun_refused), "tuples_added", J(w->tuples_added),
      "nominations", J(w->nominations), "dtls_datagrams", J(w->dtls_datagrams), "dtls_deferred",
      J(w->dtls_deferred), "dtls_dropped", J(w->dtls_dropped), "dtls_refused", J(w->dtls_refused),
      "dtls_connected", J(w->dtls_connected), "dtls_failed", J(w->dtls_failed), "foreign_ssrc",
      J(w->foreign_ssrc), "not_opus", J(w->not_opus), "no_consent", J(w->no_consent), "no_keys",
      J(w->no_keys), "unknown_tuple", J(w->unknown_tuple));
  if (o) json_object_set_new(o, "wrong_direction", json_integer(J(w->wrong_direction)));
  return o;
}

/* Its RTCP, terminated per leg (docs/ADMIN.md). */
static json_t *webrtc_rtcp_json(const sc_rtc_stats_t *w) {
  uint64_t n = sc_lathist_total(w->rtt_hist);
  return json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rtt_samples", J(n),
                   "rtt_mean_ms", n ? (double)w->rtt_sum_us / 1000.0 / (double)n : 0.0, "sent",
                   J(w->rtcp_sent), "sent_bytes", J(w->rtcp_sent_bytes), "send_failed",
                   J(w->rtcp_send_failed), "received", J(w->rtcp_received), "malformed",
                   J(w->rtcp_malformed), "pli", J(w->rtcp_pli), "fir", J(w->rtcp_fir), "nack",
                   J(w->rtcp_nack), "remb", J(w->rtcp_remb), "transport_cc", J(w->rtcp_twcc), "bye",
                   J(w->rtcp_bye));
}

/* Its video and the key-frame requests passed to senders (docs/ADMIN.md). */
static json_t *webrtc_video_json(const sc_rtc_stats_t *w) {
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "received", J(w->video_received),
                   "foreign_ssrc", J(w->video_foreign_ssrc), "pli_sent", J(w->pli_sent),
                   "pli_limited", J(w->pli_limited), "pli_unsent", J(w->pli_unsent),
                   "pli_not_passed", J(w->pli_not_passed), "pli_unknown_ssrc",
                   J(w->pli_unknown_ssrc));
}

static json_t *media_json(const sc_app_t *app) {
  if (!app->media) return json_null();
  sc_media_stats_t st;
  sc_media_get_stats(app->media, &st);
  json_t *o = json_pack(
      "{s:i,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:o*}",
      "workers", app->cfg.media_workers, "cpu_seconds", sc_load_media_cpu_seconds(), "rx_datagrams",
      J(st.rx_datagrams), "rx_rtp", J(st.rx_rtp), "rx_rtcp", J(st.rx_rtcp), "tx_packets",
      J(st.tx_packets), "tx_bytes", J(st.tx_bytes), "discovery", J(st.discovery), "keepalives",
      J(st.keepalives), "drops", "unknown_ssrc", J(st.drop_unknown_ssrc), "foreign_addr",
      J(st.drop_foreign_addr), "auth", J(st.drop_auth), "replay", J(st.drop_replay), "malformed",
      J(st.drop_malformed), "no_cipher", J(st.drop_no_cipher), "muted", J(st.drop_muted), "removed",
      J(st.drop_removed), "send_errors", J(st.send_errors), "forward_delay", fwd_delay_json(&st));
  if (!o) return NULL;
  json_object_set_new(o, "send_error_reasons", send_errors_json(&st));
  json_object_set_new(o, "hint_refused", json_integer(J(st.hint_refused)));
  json_object_set_new(o, "addr_moved", json_integer(J(st.addr_moved)));
  json_object_set_new(o, "cmd_stale", json_integer(J(st.cmd_stale)));
  json_t *w = webrtc_json(&st.webrtc);
  if (w) {
    json_object_set_new(w, "members", json_integer(J(st.webrtc.members)));
    json_object_set_new(w, "rtcp", webrtc_rtcp_json(&st.webrtc));
    json_object_set_new(w, "video", webrtc_video_json(&st.webrtc));
  }
  json_object_set_new(o, "webrtc", w);
  json_object_set_new(o, "seal_declined", json_integer(J(st.seal_declined)));
  json_object_set_new(o, "seal_filtered", json_integer(J(st.seal_filtered)));
  return o;
}

static json_t *frontends_json(sc_app_t *app) {
  const sc_frontend_t *fe[SC_MAX_FRONTENDS];
  int n = sc_frontend_list(fe, SC_MAX_FRONTENDS);
  json_t *o = json_object();
  for (int i = 0; o && i < n; i++) {
    json_t *st = fe[i]->status ? fe[i]->status(app, i) : NULL;
    if (st) json_object_set_new(o, fe[i]->name, st);
  }
  return o;
}

static json_t *connections_json(const sc_fdlimit_t *l) {
  return json_pack("{s:I,s:I,s:I}", "max", (json_int_t)l->connections, "fd_limit",
                   (json_int_t)l->soft, "refused", (json_int_t)l->refused);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *sc_admin_drain_json(const sc_app_t *app) {
  const sc_drain_t *d = &app->drain;
  if (!d->active) return json_null();
  int64_t since = d->started_wall;
  return json_pack("{s:s,s:I,s:I,s:I}", "reason", d->reason, "since", (json_int_t)since,
                   "timeout_s", (json_int_t)d->timeout_s, "deadline",
                   (json_int_t)(since + (int64_t)d->timeout_s * 1000));
}

/* === Readiness =========================================================== */

unsigned sc_admin_not_ready(const sc_admin_ready_in_t *in) {
  unsigned bits = 0;
  if (in->draining) bits |= SC_NOT_READY_DRAINING;
  if (in->max_voice_states && in->voice_states >= in->max_voice_states)
    bits |= SC_NOT_READY_VOICE_STATES;
  if (in->max_channels && in->channels >= in->max_channels) bits |= SC_NOT_READY_CHANNELS;
  /* accept() takes the lowest free fd, and sc_fdlimit closes a client's
   * connection whose fd is not below client_below. */
  if (in->client_below > 0 && in->lowest_free_fd != -2 &&
      (in->lowest_free_fd == -1 || in->lowest_free_fd >= in->client_below))
    bits |= SC_NOT_READY_CONNECTIONS;
  return bits;
}

const char *sc_admin_not_ready_name(unsigned bit) {
  switch (bit) {
    case SC_NOT_READY_DRAINING: return "draining";
    case SC_NOT_READY_VOICE_STATES: return "voice_states_full";
    case SC_NOT_READY_CHANNELS: return "channels_full";
    case SC_NOT_READY_CONNECTIONS: return "connections_full";
    default: return "unknown";
  }
}

/* The fd the next accept() would get: a dup of stderr (always open: the
 * log goes there) takes the lowest free one. -1 at the fd limit, -2 when
 * it cannot be told. */
static int lowest_free_fd(void) {
  int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
  if (fd >= 0) {
    close(fd);
    return fd;
  }
  return errno == EMFILE ? -1 : -2;
}

static unsigned not_ready_now(const sc_app_t *app) {
  sc_registry_t *r = app->registry;
  sc_admin_ready_in_t in = {
      .draining = app->drain.active,
      .voice_states = r ? sc_registry_count_states(r) : 0,
      .max_voice_states = app->cfg.max_voice_states,
      .channels = r ? sc_registry_count_channels(r) : 0,
      .max_channels = app->cfg.max_channels,
      .lowest_free_fd = app->fdlimit.client_below > 0 ? lowest_free_fd() : -2,
      .client_below = app->fdlimit.client_below,
  };
  return sc_admin_not_ready(&in);
}

static json_t *reasons_json(unsigned bits) {
  json_t *a = json_array();
  for (unsigned i = 0; a && i < SC_NOT_READY_REASONS; i++)
    if (bits & (1u << i)) json_array_append_new(a, json_string(sc_admin_not_ready_name(1u << i)));
  return a;
}

json_t *sc_admin_ready_json(sc_app_t *app, int *ready) {
  unsigned bits = not_ready_now(app);
  json_t *o = json_pack("{s:b,s:s,s:o*}", "ready", bits == 0, "status",
                        app->drain.active ? "draining" : "serving", "reasons", reasons_json(bits));
  *ready = o && bits == 0;
  return o;
}

json_t *sc_admin_health_json(sc_app_t *app) {
  sc_registry_t *r = app->registry;
  unsigned bits = not_ready_now(app);
  json_t *o = json_pack(
      "{s:s,s:s,s:o*,s:I,s:I,s:I,s:I,s:o*,s:o*,s:o*}", "version", SC_VERSION, "status",
      app->drain.active ? "draining" : "serving", "drain", sc_admin_drain_json(app), "now",
      (json_int_t)now_ms(), "capacity", (json_int_t)app->cfg.capacity, "voice_states",
      (json_int_t)(r ? sc_registry_count_states(r) : 0), "channel_count",
      (json_int_t)(r ? sc_registry_count_channels(r) : 0), "frontends", frontends_json(app),
      "media", media_json(app), "connections", connections_json(&app->fdlimit));
  if (o)
    json_object_set_new(o, "readiness",
                        json_pack("{s:b,s:o*}", "ready", bits == 0, "reasons", reasons_json(bits)));
  return o;
}

json_t *sc_admin_state_json(sc_app_t *app) {
  json_t *o = sc_admin_health_json(app);
  channels_ctx_t cx = {app, json_array()};
  if (!o || !cx.list) {
    json_decref(o);
    json_decref(cx.list);
    return NULL;
  }
  if (app->registry) sc_registry_each_channel(app->registry, add_channel, &cx);
  json_object_set_new(o, "channels", cx.list);
  return o;
}
