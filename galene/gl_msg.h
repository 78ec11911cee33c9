/*
 * gl_msg: the reader of one Galène protocol message (a JSON object; every
 * field but `type` optional; galene-protocol.md, protocol.js version 2).
 * It keeps what the front end acts on, each field checked for its JSON
 * type and bounded in length, so what follows never sees raw input.
 *
 * Owns: nothing. gl_msg_parse is a pure function over (buf, len) (jansson
 * allocates while reading and frees before it returns); results in a
 * caller struct with fixed-size arrays (about 33 KiB: a heap or static
 * struct, not the stack of a deep callback).
 * Threads: any.
 */
#ifndef GL_MSG_H
#define GL_MSG_H

#include <stddef.h>

#define GL_ID_MAX 64      /* client ids and stream ids: 1..64 token characters */
#define GL_NAME_MAX 64    /* kind, username, group, label */
#define GL_SECRET_MAX 128 /* password or token */
#define GL_SDP_MAX 32768  /* bytes of an sdp field */
#define GL_REQUEST_MAX 16 /* labels in a request, and entries per label */

typedef enum {
  GL_T_UNKNOWN = 0, /* a type we do not know: out.type_name says which */
  GL_T_HANDSHAKE,
  GL_T_JOIN,
  GL_T_REQUEST,
  GL_T_OFFER,
  GL_T_ANSWER,
  GL_T_ICE,
  GL_T_RENEGOTIATE,
  GL_T_CLOSE,
  GL_T_ABORT,
  GL_T_PING,
  GL_T_PONG,
  /* known but refused ("not supported"): no Discord counterpart */
  GL_T_CHAT,
  GL_T_USERMESSAGE,
  GL_T_USERACTION,
  GL_T_GROUPACTION,
  GL_T_REQUESTSTREAM,
  GL_T_COUNT,
} gl_type_t;

/* Errors (negative). */
enum {
  GL_MSG_ERR_JSON = -1,       /* "json": not JSON */
  GL_MSG_ERR_NOT_OBJECT = -2, /* "not_object" */
  GL_MSG_ERR_NO_TYPE = -3,    /* "no_type": type missing or not a string */
  GL_MSG_ERR_FIELD = -4,      /* "bad_field": a known field of the wrong JSON type */
  GL_MSG_ERR_LONG = -5,       /* "too_long": a string field over its bound, or bad id chars */
};

typedef struct {
  int type;           /* gl_type_t */
  char type_name[24]; /* the type as sent (cut), for logs */
  char kind[GL_NAME_MAX + 1];
  char id[GL_ID_MAX + 1];      /* stream id (offer/answer/...) or client id (handshake) */
  char source[GL_ID_MAX + 1];  /* "" if absent */
  char replace[GL_ID_MAX + 1]; /* offer: the stream it replaces */
  char username[GL_NAME_MAX + 1];
  int has_username;
  char group[GL_NAME_MAX + 1];
  char secret[GL_SECRET_MAX + 1]; /* join: password or token */
  int has_token, has_password;
  int version2;    /* handshake: `version` is an array holding "2" */
  int wants_audio; /* request: some label's list holds "audio" */
  char sdp[GL_SDP_MAX + 1];
  size_t sdp_len; /* 0: no sdp field */
} gl_msg_t;

/* Reads one message into *out (zeroed first). 0, or an error above. */
int gl_msg_parse(const char *buf, size_t len, gl_msg_t *out);

/* "json", "not_object", ... ("ok" for 0). */
const char *gl_msg_err_name(int err);
/* "handshake", "join", ... ("unknown"). */
const char *gl_msg_type_name(int type);

#endif
