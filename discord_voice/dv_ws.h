/*
 * dv_ws: the voice gateway's WebSocket listener (libwebsockets glue) and
 * the discord_voice front-end registration.
 *
 * Owns: the listener's state (offered modes, the lws protocol table),
 * stored in app->frontend_state[slot]; per-connection data (a dv_conn_t,
 * its outbound queue and a reassembly buffer) lives in lws per-session
 * memory and is released on LWS_CALLBACK_CLOSED.
 * Threads: control (lws) thread only.
 */
#ifndef DV_WS_H
#define DV_WS_H

/* Largest accepted gateway message; bigger ones are closed with 4020. */
#define DV_WS_MAX_MESSAGE (16 * 1024)

#endif
