/*
 * gl_ws: the Galène front end's listener (--galene-listen, TLS like the
 * voice gateway, WebSocket path /ws) and its registration with the core
 * (SC_FRONTEND_REGISTER), the top of its stack (gl_conn <- gl_session <-
 * gl_proto <- gl_ws), on the core's sc_wsfront plumbing. It has messages
 * reassembled (sc_wsfront_reassemble), applies the
 * per-socket limits (gl_conn_admit) and hands whole text messages to
 * gl_proto; binary frames are refused (malformed).
 *
 * Threads: control (lws) thread only.
 * Memory: the front end's state (counters, the protocol's scratch) is
 * allocated at start and freed at destroy; per-connection data is lws's.
 */
#ifndef GL_WS_H
#define GL_WS_H

#define GL_WS_PATH "/ws"

#endif
