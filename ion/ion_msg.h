/*
 * ion_msg: the protoo envelope as the ion front end reads it
 * (docs/ION.md). A text frame is one JSON object: a request
 * {request:true, id, method, data}, a response {response:true, id, ok,
 * ...} or a notification {notification:true, method, data}; ids are
 * numbers. The fields of a request's data that the methods use are read
 * and type-checked here, so the layers above see typed values only.
 *
 * Owns: nothing beyond one parsed message (ion_msg_t.root, freed by
 * ion_msg_free). Pure: ion_msg_parse reads (buf, len) and writes *out,
 * no I/O, no globals. Threads: any (the front end uses it on the control
 * thread).
 */
#ifndef ION_MSG_H
#define ION_MSG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ION_MSG_ID_MAX 9007199254740991LL /* 2^53 - 1: what a JavaScript number holds exactly */
#define ION_MSG_FIELD_MAX 64              /* bytes of rid, uid, mid, sid, token */
#define ION_MSG_METHOD_MAX 32             /* bytes of a method name */

typedef enum { ION_MSG_REQUEST = 1, ION_MSG_RESPONSE, ION_MSG_NOTIFICATION } ion_msg_kind_t;

typedef enum {
  ION_M_UNKNOWN = 0,
  ION_M_JOIN,
  ION_M_LEAVE,
  ION_M_KEEPALIVE,
  ION_M_PUBLISH,
  ION_M_UNPUBLISH,
  ION_M_SUBSCRIBE,
  ION_M_UNSUBSCRIBE,
  ION_M_BROADCAST,
  ION_M_COUNT,
} ion_method_t;

/* Why ion_msg_parse refused a message (the envelope is unusable: no
 * answer can be addressed to it). */
typedef enum {
  ION_MSG_OK = 0,
  ION_MSG_ERR_JSON = -1,   /* not JSON */
  ION_MSG_ERR_OBJECT = -2, /* not an object */
  ION_MSG_ERR_KIND = -3,   /* none of request/response/notification true */
  ION_MSG_ERR_ID = -4,     /* request/response without an integer id in 0..2^53-1 */
  ION_MSG_ERR_METHOD = -5, /* request/notification without a method string of 1..32 bytes */
} ion_msg_err_t;

typedef struct {
  ion_msg_kind_t kind;
  int64_t id;          /* requests and responses */
  ion_method_t method; /* requests: ION_M_UNKNOWN for a method we do not serve */
  char method_name[ION_MSG_METHOD_MAX + 1];
  json_t *root; /* the whole message, owned (ion_msg_free) */
  json_t *data; /* borrowed: the data object, or NULL when absent */
  /* Request fields, borrowed from root (NULL when absent). Strings are
   * NUL-free and at most ION_MSG_FIELD_MAX bytes, except sdp. */
  const char *rid, *uid, *mid, *sid, *token;
  const char *jsep_type, *sdp; /* data.jsep.{type, sdp} */
  size_t sdp_len;
  json_t *info;    /* data.info (any JSON), for join and broadcast */
  json_t *payload; /* data.data (any JSON), for broadcast */
  /* A request whose envelope is fine but whose data is not: the reason
   * for a 400 answer (NULL when the data is well typed). */
  const char *bad;
} ion_msg_t;

/* Reads one text frame. 0 and *out (free with ion_msg_free), or an
 * ion_msg_err_t (nothing to free). out->bad may be set on success. */
int ion_msg_parse(const char *buf, size_t len, ion_msg_t *out);
void ion_msg_free(ion_msg_t *m);

/* "join", ... for a method; "unknown" otherwise. */
const char *ion_method_name(ion_method_t m);
/* Short name of an ion_msg_err_t ("ok" for 0). */
const char *ion_msg_err_name(int err);

#endif
