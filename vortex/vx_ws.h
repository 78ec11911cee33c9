/*
 * vx_ws: the Vortex front end's libwebsockets binding and its
 * registration record (SC_FRONTEND_REGISTER): the --vortex-listen
 * listener (sc_wsfront: TLS like the gateway unless --no-tls; the send
 * queue; reassembly of fragmented frames up to --vortex-max-message),
 * per-socket data (vx_conn_t, the authentication deadline) and the entry
 * points of vx_proto. Nothing here is called from outside: lws calls it.
 *
 * Threads: control (lws) thread only.
 * Memory: the front end's vx_front_t is allocated in start() and freed in
 * destroy(); per-socket data is lws's.
 */
#ifndef VX_WS_H
#define VX_WS_H

#endif
