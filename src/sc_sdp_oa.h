/*
 * sc_sdp_oa: full SDP offer/answer (RFC 8829/3264) for the WebRTC front
 * ends whose clients exchange whole SDP documents (Galène, ion/protoo):
 * the reader of a browser's offer or answer, section by section, and the
 * writers of our answer to it and of our own offer of send-only audio.
 * Discord's trimmed fragment and 8-line answer stay in sc_sdp; this
 * module reuses sc_sdp's line reader and its limits.
 *
 * What we write is always ICE-lite (a=ice-lite, one host candidate, the
 * shared media port, end-of-candidates), rtcp-mux, BUNDLE over the
 * accepted sections, and DTLS: a=setup:passive in answers, actpass in
 * offers (we are always the DTLS server: a browser answers our actpass
 * with active). ICE credentials and the fingerprint are written once at
 * session level (they hold for every section), so the longest text fits
 * SC_SDP_OA_OUT_MAX and our own reader. Audio is Opus only; a section we
 * do not take (video, application, audio without opus/48000/2) is
 * answered with port 0, the offer's transport and first format (with its
 * rtpmap), its mid and a=inactive, so the m-line count and order stay the
 * offer's.
 *
 * The reader also refuses what would make a section ambiguous: two
 * different mids or directions in one section, a mid used by two
 * sections, two a=setup values, two different fmtp lines for the opus PT,
 * an a=ssrc/a=msid/a=mid before the first m= line. A line repeated with
 * the same value counts once; of several a=msid lines (one track in
 * several streams) the first is kept. Lines it does not know are skipped,
 * and so are the fmtp lines of other payload types.
 *
 * Owns: nothing. Pure functions over (buf, len): no I/O, no allocation,
 * no globals; results in caller structs with fixed-size arrays.
 * Threads: any.
 */
#ifndef SC_SDP_OA_H
#define SC_SDP_OA_H

#include <stddef.h>
#include <stdint.h>

#include "sc_sdp.h"

#define SC_SDP_OA_MAX_SECTIONS 16 /* m= sections we read (more: an error) */
#define SC_SDP_OA_MID_MAX 32      /* bytes of a mid */
#define SC_SDP_OA_FMTP_MAX 256    /* bytes of the opus fmtp parameters */
#define SC_SDP_OA_MSID_MAX 64     /* bytes of each msid part */
#define SC_SDP_OA_KIND_MAX 16     /* "audio", "video", "application" */
#define SC_SDP_OA_PROTO_MAX 32    /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" */
#define SC_SDP_OA_FMT_MAX 32      /* bytes of one m= line format ("111", "webrtc-datachannel") */
#define SC_SDP_OA_OUT_MAX 16384   /* longest text the writers produce (= SC_SDP_MAX_BYTES) */

enum {
  SC_SDP_SETUP_NONE = 0,
  SC_SDP_SETUP_ACTPASS,
  SC_SDP_SETUP_ACTIVE,
  SC_SDP_SETUP_PASSIVE,
};

/* Errors beyond sc_sdp_err_t (negative, below SC_SDP_ERR_COUNT's range). */
enum {
  SC_SDP_OA_ERR_NO_SECTIONS = -40,       /* "no_sections": not one m= line */
  SC_SDP_OA_ERR_TOO_MANY_SECTIONS = -41, /* over SC_SDP_OA_MAX_SECTIONS */
  SC_SDP_OA_ERR_BAD_MLINE = -42,         /* "bad_mline" */
  SC_SDP_OA_ERR_BAD_SETUP = -43,         /* "bad_setup" */
  SC_SDP_OA_ERR_BAD_MID = -44,  /* "bad_mid": empty, too long, not token chars, in two sections */
  SC_SDP_OA_ERR_BAD_SSRC = -45, /* "bad_ssrc" */
  SC_SDP_OA_ERR_BAD_FMTP = -46, /* "bad_fmtp" */
  SC_SDP_OA_ERR_NO_AUDIO = -47, /* "no_audio": for callers, when sc_sdp_first_audio < 0 */
  SC_SDP_OA_ERR_BAD_DIRECTION = -48, /* "bad_direction": two different ones in a section */
  SC_SDP_OA_ERR_BAD_MSID = -49,      /* "bad_msid": empty, too long or a third part */
};

/* The short name of an sc_sdp_err_t or SC_SDP_OA_ERR_* ("ok" for 0). */
const char *sc_sdp_oa_err_name(int err);

/* One m= section of a peer's SDP, as far as we use it. */
typedef struct {
  char kind[SC_SDP_OA_KIND_MAX + 1];      /* from the m= line */
  int port;                               /* 0: the peer rejected / stopped it, unless */
  int bundle_only;                        /* a=bundle-only (RFC 8843: port 0, yet offered) */
  char proto[SC_SDP_OA_PROTO_MAX + 1];    /* the m= line's transport, echoed when rejecting */
  char fmt[SC_SDP_OA_FMT_MAX + 1];        /* its first format, echoed when rejecting */
  char mid[SC_SDP_OA_MID_MAX + 1];        /* "" if the section has none */
  int direction;                          /* SC_SDP_DIR_*; SENDRECV when not written */
  int opus_pt;                            /* opus/48000/2 in this section's fmt list, or -1 */
  char opus_fmtp[SC_SDP_OA_FMTP_MAX + 1]; /* a=fmtp:<opus_pt> parameters, "" if none */
  int audio_level_id;                     /* this section's ssrc-audio-level extmap id, 0 if none */
  int mid_ext_id;                         /* this section's sdes:mid extmap id, 0 if none */
  uint32_t ssrc;                          /* first a=ssrc, 0 if none */
  char msid_stream[SC_SDP_OA_MSID_MAX + 1]; /* a=msid:<stream> <track>, "" if none */
  char msid_track[SC_SDP_OA_MSID_MAX + 1];
} sc_sdp_msection_t;

/* A peer's whole SDP (offer or answer). */
typedef struct {
  /* ICE credentials, fingerprint, extmaps and rtpmaps over all sections,
   * as sc_sdp_parse_fragment reads them (ufrag and pwd required). */
  sc_sdp_fragment_t t;
  int setup; /* SC_SDP_SETUP_*: the one a=setup value (a conflict is an error) */
  int n;     /* sections */
  sc_sdp_msection_t m[SC_SDP_OA_MAX_SECTIONS];
} sc_sdp_session_t;

/* Reads a peer's SDP into *out (zeroed first). 0 or an error above. */
int sc_sdp_parse_session(const char *buf, size_t len, sc_sdp_session_t *out);
/* The index of the first section of kind "audio" with port != 0 (or
 * bundle_only) and opus_pt >= 0, or -1. */
int sc_sdp_first_audio(const sc_sdp_session_t *s);

/* Our side of any SDP we write. */
typedef struct {
  const char *ip;                     /* IPv4 dotted quad of the media socket */
  uint16_t port;                      /* the room's media port */
  const char *ufrag, *pwd;            /* ours (sc_rtc_local_ufrag/_pwd) */
  uint8_t fingerprint[SC_SDP_FP_LEN]; /* sha-256 of our DTLS certificate */
  uint64_t session_id;                /* o= line (any 62-bit number) */
  unsigned version;                   /* o= version: bump on every re-offer */
} sc_sdp_local_t;

/* How we answer one section of an offer. */
enum {
  SC_SDP_TAKE_REJECT = 0, /* port 0, a=inactive */
  SC_SDP_TAKE_RECV,       /* we receive the peer's audio: a=recvonly */
  SC_SDP_TAKE_SEND,       /* we send audio to the peer: a=sendonly + ssrc/msid */
};

typedef struct {
  int take;          /* SC_SDP_TAKE_*; RECV/SEND only on an audio section with opus */
  uint32_t ssrc;     /* SEND: the SSRC the peer will receive */
  const char *cname; /* SEND: a=ssrc:<ssrc> cname:<cname> */
  const char *msid_stream,
      *msid_track; /* SEND: a=msid (required: clients drop trackless streams) */
} sc_sdp_take_t;

/* Our answer to offer, one take per offer section (takes[i] for
 * offer->m[i]; n must equal offer->n). An accepted section echoes the
 * offer's mid, opus PT and fmtp (rtcp-fb lines: none), and the
 * audio-level extmap with the offer's id if it offered one; nothing else.
 * A take must fit the offer: RECV a section the peer sends on (sendonly,
 * sendrecv), SEND one it receives on (recvonly, sendrecv), both only on
 * a section with a mid and port != 0 (or bundle_only). cname and msid
 * parts: 1..SC_SDP_OA_MSID_MAX printable characters, no spaces; ssrc != 0.
 * Returns the length (NUL written), -EINVAL (bad local, bad take, n
 * mismatch, no accepted section), -ENOSPC (cap too small; out is ""). */
int sc_sdp_write_answer(const sc_sdp_local_t *l, const sc_sdp_session_t *offer,
                        const sc_sdp_take_t *takes, int n, char *out, size_t cap);

/* One send-only audio section of our own offer. */
typedef struct {
  const char *mid;       /* unique in the offer (token chars) */
  int opus_pt;           /* 96..127 */
  const char *opus_fmtp; /* e.g. "minptime=10;useinbandfec=1", or NULL */
  int audio_level_id;    /* 1..14, 0: none */
  uint32_t ssrc;
  const char *cname;
  const char *msid_stream, *msid_track;
} sc_sdp_offer_media_t;

/* Our offer of n (1..SC_SDP_OA_MAX_SECTIONS) send-only audio sections
 * (a=setup:actpass); fmtp without spaces, at most SC_SDP_OA_FMTP_MAX.
 * Returns the length (NUL written), -EINVAL or -ENOSPC as above. */
int sc_sdp_write_offer(const sc_sdp_local_t *l, const sc_sdp_offer_media_t *m, int n, char *out,
                       size_t cap);

#endif
