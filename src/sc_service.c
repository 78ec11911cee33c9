#include "sc_service.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_notify.h"

struct sc_service {
  sc_app_t *app;
  ev_timer timer;
  int timer_on;
  uint64_t watchdog_usec; /* 0: no watchdog, STATUS only */
  int stopping;
  int stuck;       /* a worker did not turn at the last tick (logged once) */
  int send_failed; /* a send failed (logged once) */
  char status[128];
  int n_beats;
  uint64_t beats[]; /* each worker's count at the previous tick */
};

static void status_line(const sc_service_t *s, char *buf, size_t cap) {
  const sc_registry_t *r = s->app->registry;
  size_t states = r ? sc_registry_count_states(r) : 0;
  size_t channels = r ? sc_registry_count_channels(r) : 0;
  if (sc_notify_status_text(buf, cap, states, channels, s->stopping) < 0)
    snprintf(buf, cap, "STATUS=%s", s->stopping ? "draining" : "running");
}

static void note_send(sc_service_t *s, int rc, const char *what) {
  if (rc >= 0 || s->send_failed) return;
  s->send_failed = 1; /* once: every tick would repeat it */
  sc_log_warn("service", "cannot notify systemd (%s): %s", what, strerror(errno));
}

/* 1 if every worker's count moved since the previous call; then records
 * the counts and pings the workers for the next call. */
static int workers_turned(sc_service_t *s) {
  const sc_media_t *m = s->app->media;
  int all = 1;
  for (int i = 0; i < s->n_beats && i < sc_media_workers(m); i++) {
    uint64_t b = sc_media_worker_beats(m, i);
    if (b == s->beats[i]) {
      if (!s->stuck) sc_log_error("service", "media worker %d is not turning: watchdog not fed", i);
      all = 0;
    }
    s->beats[i] = b;
  }
  if (all && s->stuck) sc_log_info("service", "every media worker turns again: watchdog fed");
  s->stuck = !all;
  sc_media_ping(s->app->media);
  return all;
}

int sc_service_tick(sc_service_t *s) {
  char line[sizeof s->status], msg[sizeof s->status + 16];
  int feed = workers_turned(s) && s->watchdog_usec;
  status_line(s, line, sizeof line);
  int changed = strcmp(line, s->status) != 0;
  if (!feed && !changed) return 0;
  snprintf(msg, sizeof msg, "%s%s%s", feed ? "WATCHDOG=1" : "", feed && changed ? "\n" : "",
           changed ? line : "");
  int rc = sc_notify_send(msg);
  note_send(s, rc, "tick");
  if (rc < 0) return -1;
  if (changed) snprintf(s->status, sizeof s->status, "%s", line);
  return feed;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  sc_service_tick(w->data);
}

sc_service_t *sc_service_start(sc_app_t *app) {
  if (!sc_notify_enabled()) return NULL;
  int n = sc_media_workers(app->media);
  sc_service_t *s = calloc(1, sizeof *s + (size_t)n * sizeof s->beats[0]);
  if (!s) {
    sc_log_error("service", "out of memory: not telling systemd we are ready");
    return NULL;
  }
  s->app = app;
  s->n_beats = n;
  s->watchdog_usec = sc_notify_watchdog_usec();
  for (int i = 0; i < n; i++) s->beats[i] = sc_media_worker_beats(app->media, i);
  sc_media_ping(app->media); /* the first tick compares with these counts */
  status_line(s, s->status, sizeof s->status);
  note_send(s, sc_notify_ready(s->status), "READY=1");
  double tick = SC_SERVICE_STATUS_S;
  if (s->watchdog_usec && s->watchdog_usec / 2e6 < tick) tick = s->watchdog_usec / 2e6;
  if (app->loop) {
    ev_timer_init(&s->timer, on_timer, tick, tick);
    s->timer.data = s;
    ev_timer_start(app->loop, &s->timer);
    s->timer_on = 1;
  }
  sc_log_info("service", "systemd notified: ready (watchdog %s, status every %.1f s)",
              s->watchdog_usec ? "on" : "off", tick);
  return s;
}

void sc_service_stopping(sc_service_t *s) {
  if (!s || s->stopping) return;
  s->stopping = 1;
  status_line(s, s->status, sizeof s->status);
  note_send(s, sc_notify_stopping(s->status), "STOPPING=1");
}

/* Not while stopping: a READY=1 after STOPPING=1 would tell systemd the
 * stop was over. */
void sc_service_reloading(sc_service_t *s) {
  if (!s || s->stopping) return;
  status_line(s, s->status, sizeof s->status);
  note_send(s, sc_notify_reloading(s->status), "RELOADING=1");
}

void sc_service_reloaded(sc_service_t *s) {
  if (!s || s->stopping) return;
  status_line(s, s->status, sizeof s->status);
  note_send(s, sc_notify_ready(s->status), "READY=1");
}

void sc_service_destroy(sc_service_t *s) {
  if (!s) return;
  if (s->timer_on) ev_timer_stop(s->app->loop, &s->timer);
  free(s);
}
