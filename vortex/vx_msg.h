/*
 * vx_msg: the Vortex wire format (seed 000; reference seed-frontends.md
 * §1), the bottom of the Vortex front end. A client message is one JSON
 * text frame {id, type, data}; vx_msg_parse reads it into a flat request
 * (fixed-size fields, no pointers into the input) or says why it cannot:
 * a frame that is not that shape, an unknown type, or data whose fields
 * are missing or of the wrong type is "unparsable" (Vortex closes 1003).
 * What is well-formed but unusable (no sha-256 fingerprint, no Opus
 * codec) is parsed into flags the handlers answer with an error reply.
 *
 * Owns: nothing. Pure functions over (buf, len): no I/O, no globals (the
 * fuzz target tests/fuzz/fuzz_vortex.c runs them over any bytes).
 * Threads: any. Memory: jansson's tree lives only inside vx_msg_parse.
 */
#ifndef VX_MSG_H
#define VX_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "sc_registry.h"

/* Request types, in the reference's table order. */
typedef enum {
  VX_REQ_AUTHENTICATE = 0,
  VX_REQ_ROOM_INFO,
  VX_REQ_INIT_TRANSPORTS,
  VX_REQ_CONNECT_TRANSPORT,
  VX_REQ_START_PRODUCE,
  VX_REQ_STOP_PRODUCE,
  VX_REQ_START_CONSUME,
  VX_REQ_STOP_CONSUME,
  VX_REQ_SET_CONSUMER_PAUSE,
  VX_REQ_COUNT,
} vx_req_type_t;

/* Produce/consume kinds (Vortex's ProduceType). Only audio is carried. */
typedef enum { VX_KIND_AUDIO = 0, VX_KIND_VIDEO, VX_KIND_SAUDIO, VX_KIND_SVIDEO } vx_kind_t;

#define VX_TOKEN_MAX 128 /* bytes of Authenticate.token read */
#define VX_OBJ_ID_MAX 64 /* transport and consumer ids */
#define VX_FP_LEN 32     /* sha-256 */
#define VX_PT_MIN 96     /* the Opus payload types a browser may use */
#define VX_PT_MAX 127
#define VX_MAX_ARRAY 64 /* entries of codecs, headerExtensions, fingerprints looked at */

#define VX_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

typedef struct {
  int64_t id; /* the client's request id (0..2^53) */
  vx_req_type_t type;
  /* Authenticate */
  char token[VX_TOKEN_MAX + 1];
  char room_id[SC_ID_MAX];
  /* InitializeTransports */
  int split_webrtc;     /* mode is "SplitWebRTC" */
  int has_caps;         /* rtpCapabilities is an object */
  int caps_opus_stereo; /* its codecs list audio/opus 48000 with channels 2 */
  int caps_audio_level; /* its headerExtensions list the audio level (audio) */
  /* ConnectTransport, StopConsume, SetConsumerPause: the object's id */
  char obj_id[VX_OBJ_ID_MAX + 1];
  int has_fp; /* ConnectTransport: a sha-256 fingerprint */
  uint8_t fp[VX_FP_LEN];
  /* StartProduce, StopProduce, StartConsume */
  vx_kind_t kind;
  int opus_pt;        /* StartProduce: the first codec's PT if Opus 96..127, else -1 */
  int audio_level_id; /* its audio-level extension id 1..14, else 0 */
  uint32_t ssrc;      /* its encodings[0].ssrc, 0 if absent */
  /* StartConsume */
  char user_id[SC_ID_MAX];
  /* SetConsumerPause */
  int paused;
} vx_req_t;

typedef enum {
  VX_PARSE_OK = 0,
  VX_PARSE_NOT_JSON,     /* not a JSON object */
  VX_PARSE_BAD_ENVELOPE, /* id or type missing or of the wrong type */
  VX_PARSE_UNKNOWN_TYPE, /* a type we do not know */
  VX_PARSE_BAD_DATA,     /* data's fields missing or of the wrong type */
  VX_PARSE_COUNT,
} vx_parse_t;

/* Reads one client frame. On VX_PARSE_OK *out is filled; otherwise why
 * holds a short reason (a close reason, at most 63 bytes reach the
 * client) and, when the envelope was readable, out->id and out->type are
 * set. Any byte string is safe. */
vx_parse_t vx_msg_parse(const char *buf, size_t len, vx_req_t *out, char *why, size_t why_len);

/* The wire name of a request type ("Authenticate", ...), or "?". */
const char *vx_msg_type_name(vx_req_type_t t);
/* Short names of parse verdicts for counters and logs. */
const char *vx_msg_parse_name(vx_parse_t p);

/* "AA:BB:..." (upper case) of a 32-byte fingerprint into out (96 bytes). */
void vx_msg_format_fp(const uint8_t fp[VX_FP_LEN], char out[VX_FP_LEN * 3]);

#endif
