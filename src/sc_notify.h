/*
 * sc_notify: the systemd service notification protocol (sd_notify(3)),
 * written here instead of linking libsystemd: one datagram of
 * "KEY=VALUE\n..." text sent to the AF_UNIX SOCK_DGRAM socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), plus
 * the watchdog period systemd passes in $WATCHDOG_USEC / $WATCHDOG_PID.
 * Outside systemd (no $NOTIFY_SOCKET) every send is a no-op returning 0.
 *
 * Owns: nothing. Each send opens, uses and closes its own socket, so
 * there is no process-wide state and any thread may call it.
 * Threads: any. The pure functions (sc_notify_addr,
 * sc_notify_watchdog_parse, sc_notify_status_text) touch nothing but
 * their arguments; the others read the environment (never written
 * while the server runs).
 * Memory: nothing allocated.
 */
#ifndef SC_NOTIFY_H
#define SC_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Pure: the socket address for a $NOTIFY_SOCKET value. "/abs/path" is a
 * file system socket; "@name" an abstract one (sun_path[0] = '\0', the
 * length counts exactly the name's bytes, as systemd binds it). 0 with
 * *addr and *len filled, or -1 for NULL, empty, relative or too long. */
int sc_notify_addr(const char *value, struct sockaddr_un *addr, socklen_t *len);

/* Pure: the watchdog period in microseconds from the values of
 * $WATCHDOG_USEC and $WATCHDOG_PID (either may be NULL) for process
 * `self`. 0 (off) when usec is absent, not a positive decimal number, or
 * when pid is set and names another process (the variables were
 * inherited by a child). */
uint64_t sc_notify_watchdog_parse(const char *usec, const char *pid, long self);

/* Pure: the STATUS= line (without a newline) into buf: "STATUS=3
 * sessions, 1 channel"; draining: "STATUS=draining: 3 sessions, 1
 * channel left". Returns the length, or -1 if it does not fit. */
int sc_notify_status_text(char *buf, size_t cap, size_t sessions, size_t channels, int draining);

/* 1 if $NOTIFY_SOCKET is set (we run as a Type=notify service). */
int sc_notify_enabled(void);

/* Sends msg (newline-separated assignments) to $NOTIFY_SOCKET: 1 sent,
 * 0 no socket configured, -1 on error (errno set; the caller logs). */
int sc_notify_send(const char *msg);

/* "READY=1" plus an optional STATUS line (NULL: none); same returns. */
int sc_notify_ready(const char *status_line);

/* "STOPPING=1" plus an optional STATUS line: a drain or stop has begun
 * (systemd then waits up to TimeoutStopSec). Same returns. */
int sc_notify_stopping(const char *status_line);
/* RELOADING=1 with MONOTONIC_USEC= (the CLOCK_MONOTONIC time the reload
 * began, which systemd 253's Type=notify-reload requires and older ones
 * ignore) and the status line; READY=1 follows when the reload is done. */
int sc_notify_reloading(const char *status_line);

/* The watchdog period from this process's environment (0: off). */
uint64_t sc_notify_watchdog_usec(void);

#endif
