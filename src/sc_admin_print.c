#include "sc_admin_print.h"

#include <time.h>

static json_int_t int_at(json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

static const char *str_at(json_t *o, const char *key, const char *dflt) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : dflt;
}

/* "12 s ago" from a unix-ms timestamp, relative to `now` (ms). */
static void ago(char *buf, size_t n, json_t *ms, json_int_t now) {
  if (!json_is_integer(ms)) {
    snprintf(buf, n, "never");
    return;
  }
  json_int_t d = (now - json_integer_value(ms)) / 1000;
  snprintf(buf, n, "%lld s ago", (long long)(d < 0 ? 0 : d));
}

static void print_lvsp(FILE *out, json_t *l, json_int_t now) {
  char hb[32], since[32];
  if (!json_is_object(l)) return;
  int up = json_is_true(json_object_get(l, "connected"));
  ago(hb, sizeof hb, json_object_get(l, "last_heartbeat"), now);
  ago(since, sizeof since, json_object_get(l, up ? "up_since" : "down_since"), now);
  fprintf(out, "LVSP: %s", up ? "connected" : "not connected");
  if (up) fprintf(out, " (%s dialect, from %s)", str_at(l, "dialect", "?"), str_at(l, "peer", "?"));
  fprintf(out, ", %s since %s; last heartbeat %s; seq %lld; health %.3f\n", up ? "up" : "down",
          since, hb, (long long)int_at(l, "seq"), json_number_value(json_object_get(l, "health")));
}

/* The voice gateway's sessions and budget counters (docs/GATEWAY.md). */
static void print_gateway(FILE *out, json_t *g) {
  if (!json_is_object(g)) return;
  fprintf(out,
          "voice gateway: %lld session(s); over budget: %lld socket(s) closed to resume (4015), "
          "%lld relaying member(s) closed (4021); %lld op 12 SSRC(s) not the member's\n",
          (long long)int_at(g, "sessions"), (long long)int_at(g, "resume_over_budget"),
          (long long)int_at(g, "relay_over_budget"), (long long)int_at(g, "ssrc_refused"));
  const char *id;
  json_t *c;
  json_object_foreach(json_object_get(json_object_get(g, "dave"), "channels"), id, c) {
    fprintf(out,
            "  DAVE channel %s: protocol %lld, epoch %lld, %lld member(s), %lld in the group, "
            "%lld key package(s) pending",
            id, (long long)int_at(c, "version"), (long long)int_at(c, "epoch"),
            (long long)int_at(c, "members"), (long long)int_at(c, "group_members"),
            (long long)int_at(c, "pending_key_packages"));
    json_t *tr = json_object_get(c, "transition");
    if (json_is_object(tr))
      fprintf(out, ", transition %lld open for %lld ms", (long long)int_at(tr, "id"),
              (long long)int_at(tr, "age_ms"));
    fprintf(out, "\n");
  }
}

static void print_media(FILE *out, json_t *m) {
  if (!json_is_object(m)) return;
  json_t *d = json_object_get(m, "drops");
  json_int_t drops = 0;
  const char *k;
  json_t *v;
  json_object_foreach(d, k, v) drops += json_integer_value(v);
  fprintf(
      out, "media: %lld worker(s), %.2f s CPU; rx %lld datagrams, tx %lld packets; %lld dropped\n",
      (long long)int_at(m, "workers"), json_number_value(json_object_get(m, "cpu_seconds")),
      (long long)int_at(m, "rx_datagrams"), (long long)int_at(m, "tx_packets"), (long long)drops);
  json_t *se = json_object_get(m, "send_error_reasons");
  if (int_at(m, "send_errors") || int_at(m, "hint_refused") || int_at(m, "addr_moved"))
    fprintf(out,
            "send errors %lld (one copy each: %lld refused, %lld unreachable, %lld other; "
            "%lld dropped with a full socket); %lld hints refused; %lld addresses moved\n",
            (long long)int_at(m, "send_errors"), (long long)int_at(se, "dest_refused"),
            (long long)int_at(se, "unreachable"), (long long)int_at(se, "other_dest"),
            (long long)int_at(se, "socket_full"), (long long)int_at(m, "hint_refused"),
            (long long)int_at(m, "addr_moved"));
  json_t *fd = json_object_get(m, "forward_delay");
  if (int_at(fd, "count") > 0)
    fprintf(out,
            "forwarding delay since start: p50 < %lld us, p99 < %lld us, p99.9 < %lld us (%lld "
            "packets)\n",
            (long long)int_at(fd, "p50_us"), (long long)int_at(fd, "p99_us"),
            (long long)int_at(fd, "p999_us"), (long long)int_at(fd, "count"));
}

static double num_at(json_t *o, const char *key) {
  return json_number_value(json_object_get(o, key));
}

/* Our own figures over the last sampling interval (docs/ADMIN.md). */
static void print_figures(FILE *out, json_t *q) {
  json_t *rtt = json_object_get(q, "rtt_ms");
  if (!json_object_get(q, "rx_kbps")) return; /* an older server */
  fprintf(out, "      in %.1f kbit/s, out %.1f kbit/s; loss %.1f %% (%lld lost), jitter %.1f ms",
          num_at(q, "rx_kbps"), num_at(q, "tx_kbps"), 100.0 * num_at(q, "loss_fraction"),
          (long long)int_at(q, "lost_total"), num_at(q, "jitter_ms"));
  if (json_is_number(rtt))
    fprintf(out, ", rtt %.1f ms\n", json_number_value(rtt));
  else
    fprintf(out, ", rtt unknown\n");
}

static void print_member(FILE *out, json_t *m) {
  json_t *f = json_object_get(m, "flags"), *st = json_object_get(m, "stats");
  fprintf(out, "  user %-20s ssrc %-10lld %-9s %-32s speaking %lld", str_at(m, "user_id", "?"),
          (long long)int_at(m, "ssrc"),
          json_is_true(json_object_get(m, "connected")) ? "connected" : "waiting",
          str_at(m, "mode", "-"), (long long)int_at(m, "speaking"));
  static const char *const flags[] = {"mute", "deaf", "self_mute", "self_deaf", "suppress"};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (json_is_true(json_object_get(f, flags[i]))) fprintf(out, " %s", flags[i]);
  fprintf(out, "\n      in %lld pkts / %lld B, out %lld pkts / %lld B, %lld dropped\n",
          (long long)int_at(st, "rx_packets"), (long long)int_at(st, "rx_bytes"),
          (long long)int_at(st, "tx_packets"), (long long)int_at(st, "tx_bytes"),
          (long long)int_at(st, "drops"));
  json_t *q = json_object_get(m, "quality"), *age = json_object_get(q, "last_rx_age_ms");
  json_t *rtcp = json_object_get(q, "rtcp");
  if (!json_is_object(q)) return;
  if (json_is_integer(age))
    fprintf(out, "      last packet %lld ms ago", (long long)json_integer_value(age));
  else
    fprintf(out, "      no packet yet");
  if (json_is_object(rtcp))
    fprintf(out, "; RTCP: loss %.1f %% (%lld lost), jitter %.1f ms, %lld report(s)",
            100.0 * json_number_value(json_object_get(rtcp, "fraction_lost")),
            (long long)int_at(rtcp, "cumulative_lost"),
            json_number_value(json_object_get(rtcp, "jitter_ms")),
            (long long)(int_at(rtcp, "receiver_reports") + int_at(rtcp, "sender_reports")));
  fprintf(out, "\n");
  print_figures(out, q);
}

static void print_channel(FILE *out, json_t *ch) {
  json_t *members = json_object_get(ch, "members");
  fprintf(out, "channel %s (guild %s): bitrate %lld, %zu member(s)\n", str_at(ch, "id", "?"),
          str_at(ch, "guild_id", "-"), (long long)int_at(ch, "bitrate"), json_array_size(members));
  size_t i;
  json_t *m;
  json_array_foreach(members, i, m) print_member(out, m);
}

/* One line about a drain (d: the "drain" object); `now` in unix ms, or
 * 0 when unknown. */
static void print_drain_line(FILE *out, json_t *d, json_int_t now) {
  char since[32] = "now";
  if (!json_is_object(d)) return;
  if (now) ago(since, sizeof since, json_object_get(d, "since"), now);
  fprintf(out, "DRAINING (%s, %s): no new calls; stops when the last voice state ends",
          str_at(d, "reason", "?"), since);
  json_int_t left = now ? (int_at(d, "deadline") - now) / 1000 : int_at(d, "timeout_s");
  fprintf(out, " or in %lld s (--drain-timeout %lld)\n", (long long)(left < 0 ? 0 : left),
          (long long)int_at(d, "timeout_s"));
}

/* "draining, channels_full" from a reasons array. */
static void print_reasons(FILE *out, json_t *reasons) {
  size_t i;
  json_t *r;
  json_array_foreach(reasons, i, r) fprintf(out, "%s%s", i ? ", " : "", json_string_value(r));
}

/* The readiness line (r: /health's "readiness"); nothing from an older
 * server. */
static void print_readiness(FILE *out, json_t *r) {
  if (!json_is_object(r)) return;
  if (json_is_true(json_object_get(r, "ready"))) {
    fprintf(out, "ready: new calls can start here (GET /ready answers 200)\n");
    return;
  }
  fprintf(out, "NOT READY: ");
  print_reasons(out, json_object_get(r, "reasons"));
  fprintf(out, " (GET /ready answers 503)\n");
}

void sc_admin_print_ready(FILE *out, json_t *r) {
  if (json_is_true(json_object_get(r, "ready"))) {
    fprintf(out, "ready (%s)\n", str_at(r, "status", "serving"));
    return;
  }
  fprintf(out, "not ready (%s): ", str_at(r, "status", "?"));
  print_reasons(out, json_object_get(r, "reasons"));
  fprintf(out, "\n");
}

void sc_admin_print_drain(FILE *out, json_t *a) {
  json_t *d = json_object_get(a, "drain");
  fprintf(out, "%s\n",
          json_is_true(json_object_get(a, "started")) ? "drain started" : "already draining");
  print_drain_line(out, d, 0);
}

void sc_admin_print_summary(FILE *out, json_t *s) {
  json_int_t now = int_at(s, "now");
  fprintf(out, "litecord-voice %s (%s): %lld voice state(s) in %lld channel(s), capacity %lld\n",
          str_at(s, "version", "?"), str_at(s, "status", "serving"),
          (long long)int_at(s, "voice_states"), (long long)int_at(s, "channel_count"),
          (long long)int_at(s, "capacity"));
  print_drain_line(out, json_object_get(s, "drain"), now);
  print_readiness(out, json_object_get(s, "readiness"));
  json_t *conns = json_object_get(s, "connections");
  if (conns)
    fprintf(out, "connections: up to %lld (fd limit %lld), %lld refused at the limit\n",
            (long long)int_at(conns, "max"), (long long)int_at(conns, "fd_limit"),
            (long long)int_at(conns, "refused"));
  json_t *fe = json_object_get(s, "frontends");
  print_lvsp(out, json_object_get(fe, "lvsp"), now);
  print_gateway(out, json_object_get(fe, "discord voice gateway"));
  print_media(out, json_object_get(s, "media"));
  size_t i;
  json_t *ch;
  json_array_foreach(json_object_get(s, "channels"), i, ch) print_channel(out, ch);
}
