/*
 * ion_ws: the ion/protoo front end's listener (--ion-listen, TLS like
 * the voice gateway unless --no-tls), registered with
 * SC_FRONTEND_REGISTER. It speaks the WebSocket side: the subprotocol
 * "protoo" (selected in the 101 answer: protoo-client and browsers fail
 * the handshake otherwise), the path /ws, the URL's ?token= and ?peer=,
 * over the core's listener plumbing (sc_wsfront: message reassembly,
 * the outbound queue); each complete
 * text frame goes to ion_proto.
 *
 * Threads: control (lws) thread only.
 * Memory: the listener state (one ion_proto_t) is allocated at start
 * and freed at destroy; per-socket state is lws per-session memory.
 */
#ifndef ION_WS_H
#define ION_WS_H

/* Everything is reached through the front-end record. */

#endif
