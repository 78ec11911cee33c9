/*
 * dv_ws: the voice gateway's WebSocket listener (libwebsockets glue) and
 * the discord_voice front-end registration.
 *
 * Owns: the gateway (dv_gw_t: sessions, timers on the lws loop, offered
 * modes, limits) and the lws protocol table, stored in
 * app->frontend_state[slot]; per-connection data (a dv_conn_t, its
 * sc_wsfront part: outbound queue, reassembly buffer) lives in lws
 * per-session memory and is released on LWS_CALLBACK_CLOSED.
 * Threads: control (lws) thread only.
 *
 * A message is reassembled from its fragments up to --gw-max-message
 * bytes (larger: close 4020); a peer that does not read its queue is
 * dropped at once (its session may resume).
 */
#ifndef DV_WS_H
#define DV_WS_H

#endif
