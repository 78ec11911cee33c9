/*
 * gl_proto: the Galène protocol's message handling, above gl_session
 * (gl_conn <- gl_session <- gl_proto <- gl_ws). Each text message is read
 * by gl_msg and acted on by type: the handshake (ours goes out first,
 * version ["2"]), join (credentials from LVSP: group = channel id, token =
 * voice token, or username = user id + password = voice token; anything
 * else is `joined {kind: fail}`), request, offer/answer/ice/renegotiate/
 * close/abort for streams, ping/pong and leave. What is refused, and how
 * it is answered, is listed in docs/GALENE.md; every refusal is counted
 * (gl_counts_t).
 *
 * Threads: control (lws) thread only.
 * Memory: one gl_msg_t scratch per front end (messages are handled one at
 * a time on the control thread); sessions are gl_session's.
 */
#ifndef GL_PROTO_H
#define GL_PROTO_H

#include <stddef.h>

#include "gl_conn.h"
#include "gl_msg.h"

typedef struct {
  const char *media_ip; /* our host candidate's IPv4 literal */
  gl_msg_t msg;         /* scratch for the message being handled */
} gl_proto_t;

/* One complete text message from c. */
void gl_proto_text(gl_proto_t *p, gl_conn_t *c, const char *buf, size_t len);
/* The socket is gone: the session (if any) ends. */
void gl_proto_closed(gl_proto_t *p, gl_conn_t *c);

#endif
