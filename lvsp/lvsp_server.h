/*
 * lvsp_server: the LVSP listener. Binds lvsp_proto to libwebsockets and
 * registers the "lvsp" front end (order 10) with the core.
 *
 * Each Litecord connection gets one lws per-session record holding its
 * lvsp_conn_t, its bounded outbound queue (sc_wsq) and a reassembly buffer
 * for fragmented messages (bounded by LVSP_MAX_FRAME). The listener's
 * vhost keeps the list of live sessions in lws per-vhost protocol storage,
 * so stop() can close them all with 4000 ("reconnect").
 *
 * What outlives connections (lvsp_link_t: sequence numbers, replay
 * buffer, live connection, health sampler) is in an lvsp_front_t that
 * start() allocates and app->frontend_state[slot] holds until destroy().
 * A 2 s timer samples media load for the health figure. With
 * --lvsp-heartbeat-timeout-ms, a connection that sends nothing for that
 * long is closed with 4000 (voice is never touched).
 *
 * Threads: control (lws) thread only.
 * Memory: lws allocates and frees the per-session record and the per-vhost
 * storage; the reassembly buffer and queued messages are freed on
 * LWS_CALLBACK_CLOSED. After stop(), new connections get HELLO and then
 * close 4000 at once: the core destroys the registry while the closes drain.
 */
#ifndef LVSP_SERVER_H
#define LVSP_SERVER_H

#include "sc_frontend.h"

/* The front-end record (also registered with SC_FRONTEND_REGISTER). */
extern const sc_frontend_t lvsp_frontend;

#endif
