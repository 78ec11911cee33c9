/*
 * sc_service: running as a systemd Type=notify service
 * (contrib/litecord-voice.service). Tells systemd, through sc_notify:
 *  - READY=1 once every listener accepts (main calls sc_service_start
 *    after the front ends, the admin listener and the media workers have
 *    started and the banner is printed), with the first STATUS= line;
 *  - STATUS= "N sessions, M channels" (voice states and channels in the
 *    registry), re-sent on a timer whenever it changed, and "draining:
 *    ... left" once a stop has begun;
 *  - WATCHDOG=1 every tick while the control loop runs it AND every media
 *    worker turned its loop since the previous tick (each tick pings the
 *    workers, sc_media_ping, so an idle one turns too). A worker stuck in
 *    a call or a loop stops the pings: systemd then kills and restarts
 *    the service (WatchdogSec=). The tick is half of $WATCHDOG_USEC, at
 *    most SC_SERVICE_STATUS_S;
 *  - RELOADING=1 and READY=1 around a SIGHUP reload;
 *  - STOPPING=1 when a stop or drain begins (sc_service_stopping).
 * Outside systemd (no $NOTIFY_SOCKET) sc_service_start returns NULL and
 * nothing runs.
 *
 * Owns: the sc_service_t (timer, last STATUS sent, the workers' counts
 * at the previous tick); the app holds it in app->service.
 * Threads: control thread only (the timer runs in app->loop).
 * Memory: sc_service_destroy stops the timer and frees it; call it before
 * the loop is destroyed.
 */
#ifndef SC_SERVICE_H
#define SC_SERVICE_H

#include <stdint.h>

#include "sc_app.h"

/* Longest time between two STATUS checks, seconds. */
#define SC_SERVICE_STATUS_S 5.0

typedef struct sc_service sc_service_t;

/* Sends READY=1 with the first STATUS and, when app->loop is set, starts
 * the timer (without a loop, as in tests, the caller drives
 * sc_service_tick). NULL when not run by systemd, or on ENOMEM (logged:
 * systemd would then time the start out, which is the right outcome). */
sc_service_t *sc_service_start(sc_app_t *app);

/* One tick: WATCHDOG=1 if the watchdog is on and every media worker
 * turned since the previous tick, plus STATUS= if it changed; then pings
 * the workers. Returns 1 if WATCHDOG=1 was sent, 0 if not (a worker did
 * not turn: logged, rate-limited), -1 if sending failed. */
int sc_service_tick(sc_service_t *s);

/* A stop or drain has begun: STOPPING=1 and "draining: ..." STATUS lines
 * from now on. The watchdog stays fed while the loop runs. Idempotent;
 * s may be NULL. */
void sc_service_stopping(sc_service_t *s);

/* A SIGHUP reload begins / has ended (whether or not it applied):
 * RELOADING=1, then READY=1, so `systemctl reload` returns once the new
 * settings are in force. s may be NULL. */
void sc_service_reloading(sc_service_t *s);
void sc_service_reloaded(sc_service_t *s);

/* Stops the timer and frees s (NULL is fine). */
void sc_service_destroy(sc_service_t *s);

#endif
