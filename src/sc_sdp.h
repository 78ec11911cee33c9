/*
 * sc_sdp: SDP text (RFC 8866) as WebRTC front ends need it, protocol-
 * neutral: a bounded line reader, the reader of the ICE/DTLS/RTP facts a
 * peer's SDP (or Discord's trimmed fragment of one) states, the writer of
 * Discord's 8-line partial answer, and look-ups the forwarder needs.
 *
 * The reader refuses, with a distinct error (sc_sdp_err_name), anything
 * that is not plain SDP text: more than SC_SDP_MAX_BYTES bytes or
 * SC_SDP_MAX_LINES lines, a line over SC_SDP_MAX_LINE bytes, any byte
 * outside printable ASCII (NUL, controls, a CR not before LF, bytes >=
 * 0x80: browsers write ASCII), a line that is not "<letter>=".
 * Lines end in LF or CRLF; empty lines are skipped.
 *
 * The fragment reader (sc_sdp_parse_fragment) reads every line of any
 * SDP, session or media level alike, and keeps: ice-ufrag and ice-pwd
 * (required; RFC 8839 lengths and ice-char alphabet), an optional
 * sha-256 fingerprint (other hash functions are counted and ignored),
 * the extmap list (id 1..255, optional direction, URI), the rtpmap list
 * and extmap-allow-mixed. A line repeated in several m-sections counts
 * once; the same key with a different value is a conflict (an error), so
 * a result never depends on which of two values came first.
 *
 * Owns: nothing. Pure functions over (buf, len): no I/O, no allocation,
 * no globals; results go into caller structs with fixed-size arrays
 * (strings copied, NUL-terminated), valid after buf is gone.
 * Threads: any.
 */
#ifndef SC_SDP_H
#define SC_SDP_H

#include <stddef.h>
#include <stdint.h>

#define SC_SDP_MAX_BYTES (16u * 1024u) /* whole text */
#define SC_SDP_MAX_LINES 1024u         /* lines, empty ones included */
#define SC_SDP_MAX_LINE 1024u          /* bytes of one line without its end */
#define SC_SDP_MAX_SECTIONS 64         /* m= lines */
#define SC_SDP_UFRAG_MIN 4             /* RFC 8839 §5.4 */
#define SC_SDP_PWD_MIN 22
#define SC_SDP_ICE_MAX 256 /* both */
#define SC_SDP_FP_LEN 32   /* sha-256 */
#define SC_SDP_MAX_EXTMAPS 32
#define SC_SDP_MAX_URI 256
#define SC_SDP_MAX_RTPMAPS 64
#define SC_SDP_MAX_CODEC 32 /* bytes of an encoding name */

/* Errors (negative return values). */
typedef enum {
  SC_SDP_OK = 0,
  SC_SDP_ERR_TOO_BIG = -1,               /* "too_big": over SC_SDP_MAX_BYTES */
  SC_SDP_ERR_BINARY = -2,                /* "binary": a byte that is not printable ASCII */
  SC_SDP_ERR_TOO_MANY_LINES = -3,        /* "too_many_lines" */
  SC_SDP_ERR_LINE_TOO_LONG = -4,         /* "line_too_long" */
  SC_SDP_ERR_BAD_LINE = -5,              /* "bad_line": not "<a-z>=" */
  SC_SDP_ERR_TOO_MANY_SECTIONS = -6,     /* "too_many_sections" */
  SC_SDP_ERR_MISSING_UFRAG = -7,         /* "missing_ufrag" */
  SC_SDP_ERR_MISSING_PWD = -8,           /* "missing_pwd" */
  SC_SDP_ERR_BAD_UFRAG = -9,             /* "bad_ufrag": length or alphabet */
  SC_SDP_ERR_BAD_PWD = -10,              /* "bad_pwd" */
  SC_SDP_ERR_UFRAG_CONFLICT = -11,       /* "ufrag_conflict": two different ones */
  SC_SDP_ERR_PWD_CONFLICT = -12,         /* "pwd_conflict" */
  SC_SDP_ERR_BAD_FINGERPRINT = -13,      /* "bad_fingerprint" */
  SC_SDP_ERR_FINGERPRINT_CONFLICT = -14, /* "fingerprint_conflict" */
  SC_SDP_ERR_BAD_EXTMAP = -15,           /* "bad_extmap" */
  SC_SDP_ERR_EXTMAP_CONFLICT = -16,      /* "extmap_conflict": one id, two URIs */
  SC_SDP_ERR_TOO_MANY_EXTMAPS = -17,     /* "too_many_extmaps" */
  SC_SDP_ERR_BAD_RTPMAP = -18,           /* "bad_rtpmap" */
  SC_SDP_ERR_RTPMAP_CONFLICT = -19,      /* "rtpmap_conflict": one PT, two codecs */
  SC_SDP_ERR_TOO_MANY_RTPMAPS = -20,     /* "too_many_rtpmaps" */
  SC_SDP_ERR_COUNT = 21
} sc_sdp_err_t;

/* The short name of an error ("too_big"), "ok" for 0, "unknown" else. */
const char *sc_sdp_err_name(int err);

/* ---- line reader ---------------------------------------------------------- */

typedef struct {
  const char *p, *end;
  unsigned lines; /* lines read so far, empty ones included */
  int section;    /* index of the current m-section; -1 at session level */
  int err;        /* sticky error (sc_sdp_err_t), 0 while reading */
} sc_sdp_reader_t;

typedef struct {
  char type;         /* 'v', 'o', 'm', 'a', ... */
  const char *value; /* after "x=" (not NUL-terminated; points into buf) */
  size_t value_len;
  int section;      /* m-section index (an m= line opens its own); -1: session */
  unsigned line_no; /* 1-based */
  /* a= lines: the attribute name, and its value after the first ':'
   * (has_value 0 and attr_value NULL for a flag such as a=rtcp-mux). */
  const char *name;
  size_t name_len;
  const char *attr_value;
  size_t attr_len;
  int has_value;
} sc_sdp_line_t;

/* Starts reading buf. The size and byte checks run over the whole text
 * first, so no line is returned from text that will be refused. */
void sc_sdp_reader_init(sc_sdp_reader_t *r, const char *buf, size_t len);
/* The next non-empty line into *out. Returns 1, 0 at the end, or an
 * sc_sdp_err_t (< 0; further calls return it again). */
int sc_sdp_next(sc_sdp_reader_t *r, sc_sdp_line_t *out);

/* ---- what a peer's SDP (or Discord fragment) states --------------------- */

enum {
  SC_SDP_DIR_NONE,
  SC_SDP_DIR_SENDRECV,
  SC_SDP_DIR_SENDONLY,
  SC_SDP_DIR_RECVONLY,
  SC_SDP_DIR_INACTIVE
};

typedef struct {
  int id;        /* 1..255 (1..14 fit the one-byte header form) */
  int direction; /* SC_SDP_DIR_*; NONE when not written */
  char uri[SC_SDP_MAX_URI + 1];
} sc_sdp_extmap_t;

typedef struct {
  int pt;                           /* 0..127 */
  char codec[SC_SDP_MAX_CODEC + 1]; /* as written ("opus", "VP8") */
  uint32_t clock;                   /* Hz */
  int channels;                     /* 0 when not written */
} sc_sdp_rtpmap_t;

typedef struct {
  char ufrag[SC_SDP_ICE_MAX + 1];
  char pwd[SC_SDP_ICE_MAX + 1];
  int has_fingerprint; /* a sha-256 one */
  uint8_t fingerprint[SC_SDP_FP_LEN];
  int other_fingerprints; /* fingerprint lines of other hash functions (ignored) */
  int extmap_allow_mixed;
  int n_extmaps;
  sc_sdp_extmap_t extmaps[SC_SDP_MAX_EXTMAPS];
  int n_rtpmaps;
  sc_sdp_rtpmap_t rtpmaps[SC_SDP_MAX_RTPMAPS];
  int n_sections; /* m= lines seen (0 in a Discord fragment) */
  unsigned n_lines;
  unsigned bad_line; /* on error: the line it was found on (0: none / whole text) */
} sc_sdp_fragment_t;

/* Reads the SDP text buf into *out (zeroed first). Returns 0 or an
 * sc_sdp_err_t; the ICE credentials are required. */
int sc_sdp_parse_fragment(const char *buf, size_t len, sc_sdp_fragment_t *out);

/* RFC 8839 checks, also for what we write: 1 if s (NUL-terminated) is a
 * valid ufrag / pwd. */
int sc_sdp_valid_ufrag(const char *s);
int sc_sdp_valid_pwd(const char *s);

/* ---- look-ups for the forwarder ----------------------------------------- */

#define SC_SDP_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/* The rtpmap of payload type pt, or NULL. */
const sc_sdp_rtpmap_t *sc_sdp_find_rtpmap(const sc_sdp_fragment_t *f, int pt);
/* The PT of opus/48000/2 (the name case-insensitive), or -1. The caller
 * cross-checks it with what the signalling says (Discord op 1 codecs). */
int sc_sdp_opus_pt(const sc_sdp_fragment_t *f);
/* The extmap id of uri (exact match), or 0. */
int sc_sdp_extmap_id(const sc_sdp_fragment_t *f, const char *uri);
/* sc_sdp_extmap_id(f, SC_SDP_URI_AUDIO_LEVEL). */
int sc_sdp_audio_level_id(const sc_sdp_fragment_t *f);

/* ---- Discord's partial answer (gateway op 4 "sdp") ---------------------- */

typedef struct {
  const char *ip;                     /* IPv4 dotted quad: the Ready ip */
  uint16_t port;                      /* the Ready port */
  const char *ufrag, *pwd;            /* ours (valid per sc_sdp_valid_ufrag/_pwd) */
  uint8_t fingerprint[SC_SDP_FP_LEN]; /* sha-256 of our DTLS certificate */
} sc_sdp_answer_t;

/* Longest answer: 8 lines with a 256-byte ufrag and pwd. */
#define SC_SDP_ANSWER_MAX 1024

/* Writes the eight LF-terminated lines of Discord's op 4 answer
 * (m=, fingerprint, c=, rtcp, ufrag, pwd, fingerprint again, one host
 * candidate) and a NUL. Returns the length without the NUL, -EINVAL on a
 * bad ip or credential, -ENOSPC if cap is too small. */
int sc_sdp_write_discord_answer(const sc_sdp_answer_t *a, char *out, size_t cap);

/* "AB:CD:..." (upper-case colon hex, 95 characters and a NUL). */
#define SC_SDP_FP_TEXT (SC_SDP_FP_LEN * 3)
/* Parses "AB:CD:..." (SC_SDP_FP_LEN hex pairs, either case), the value
 * of a=fingerprint:sha-256. 0 or -EINVAL. Pure. */
int sc_sdp_fingerprint_parse(const char *text, size_t len, uint8_t out[SC_SDP_FP_LEN]);
void sc_sdp_fingerprint_text(const uint8_t fp[SC_SDP_FP_LEN], char out[SC_SDP_FP_TEXT]);

#endif
