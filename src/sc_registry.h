/*
 * sc_registry: the control plane's record of channels and voice states.
 *
 * A voice state is created when Litecord asks for one (LVSP), and carries
 * what the user's client must present to the voice gateway (session id and
 * token). A front-end connection (a Discord voice WebSocket) attaches to a
 * state once it authenticated; the registry then tells it about its room:
 * peers joining and leaving, peers speaking, its own flags changing, and
 * the end of its state.
 *
 * Threads: control (lws) thread only. No locks.
 * Memory: the registry owns every channel and voice state (and, through
 * sc_legs, each state's legs: see "Legs" below). A state is freed
 * by sc_registry_end_state(); its attached connection is told through
 * ops->on_ended *before* the free and must drop its pointer there. A channel
 * that only exists because a state named it is freed with its last state; a
 * channel Litecord announced (pinned) lives, empty or not, until
 * sc_registry_destroy_channel().
 */
#ifndef SC_REGISTRY_H
#define SC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "sc_legs.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_traffic.h"

#define SC_ID_MAX 24 /* snowflakes: up to 20 digits */
#define SC_SESSION_ID_LEN 32
#define SC_VOICE_TOKEN_LEN 40
#define SC_CHANNEL_TOKEN_LEN 32 /* hex, 128 bits */
#define SC_TRANSPORT_MAX 48

typedef struct sc_registry sc_registry_t;
typedef struct sc_channel sc_channel_t;
typedef struct sc_vstate sc_vstate_t;

typedef struct {
  int mute, deaf, self_mute, self_deaf, suppress;
} sc_vflags_t;

/* Why a state ended; front ends map it to their close code. */
typedef enum {
  SC_END_LEFT = 0,     /* Litecord ended the state (leave / disconnect) */
  SC_END_CHANNEL_GONE, /* the channel was destroyed */
  SC_END_REPLACED,     /* a newer state for the same user and server */
  SC_END_SHUTDOWN,     /* the process is stopping */
} sc_end_reason_t;

/* Callbacks from the registry to an attached front-end connection.
 * Control thread only; `conn` is the pointer given to sc_registry_attach. */
typedef struct {
  void (*on_ended)(void *conn, sc_end_reason_t why);
  void (*on_flags)(void *conn, const sc_vstate_t *self);
  void (*on_peer_join)(void *conn, const sc_vstate_t *peer);
  void (*on_peer_leave)(void *conn, const sc_vstate_t *peer);
  void (*on_peer_speaking)(void *conn, const sc_vstate_t *peer, unsigned speaking);
  /* Optional: Litecord changed a peer's flags (server mute, suppress...):
   * for dialects that show what the server holds back. */
  void (*on_peer_flags)(void *conn, const sc_vstate_t *peer);
} sc_attach_ops_t;

struct sc_vstate {
  char user_id[SC_ID_MAX];
  char guild_id[SC_ID_MAX];  /* "" for DMs and group calls */
  char server_id[SC_ID_MAX]; /* guild_id, or channel_id when there is none */
  char session_id[SC_SESSION_ID_LEN + 1];
  char token[SC_VOICE_TOKEN_LEN + 1];
  sc_vflags_t flags;
  uint32_t ssrc; /* assigned at creation, unique in the process */
  /* Extra SSRCs (video, RTX) claimed for this state
   * (sc_registry_claim_ssrc): unique in the process like `ssrc`. */
  uint32_t aliases[SC_MEDIA_MAX_ALIASES];
  int n_aliases;
  unsigned speaking; /* last Speaking flags (0 = silent) */
  /* The attached client's highest DAVE protocol version
   * (sc_registry_set_e2ee); 0 until a front end sets it. Only attached
   * states count for a call's DAVE version. */
  int max_dave_version;
  /* How the attached client's media is protected (for Discord: the
   * encryption mode name), set by the front end; "" = not chosen yet. */
  char transport[SC_TRANSPORT_MAX];
  /* The kind of transport ("discord_udp"; "" = not chosen) and the
   * member's counters when transport and kind were last set: what it
   * counted since belongs to them (sc_traffic.h). Set both only with
   * sc_registry_set_transport. */
  char transport_kind[SC_TRAFFIC_KIND_MAX];
  sc_traffic_counts_t traffic_base;
  sc_channel_t *channel;
  sc_member_stats_t *stats;   /* media counters (one reference held here) */
  const sc_attach_ops_t *ops; /* NULL while no connection is attached */
  void *conn;
  /* registry private: channel list links and hash keys */
  sc_vstate_t *ch_next, *ch_prev;
  char user_key[2 * SC_ID_MAX]; /* "user_id/server_id" */
  char ssrc_key[12];
  char alias_keys[SC_MEDIA_MAX_ALIASES][12];
  sc_legs_t *legs;    /* NULL until the first leg (sc_registry_add_leg) */
  char token_key[17]; /* keyed hash of token, hex: the token index key */
};

/* A pointer to vs's user, channel and session as log fields (sc_log
 * *_ids), valid in the enclosing block. */
#define SC_VSTATE_IDS(vs) \
  (&(sc_log_ids_t){(vs)->user_id, (vs)->channel ? (vs)->channel->id : NULL, (vs)->session_id})

struct sc_channel {
  char id[SC_ID_MAX];
  char guild_id[SC_ID_MAX];
  uint64_t room_id; /* media-plane room for this channel */
  int bitrate;      /* bits/s; 0 = not told */
  int user_limit;   /* 0 = not told (advisory, like bitrate) */
  int pinned;       /* announced by Litecord: kept while empty */
  /* Opaque per-channel token (CSPRNG) sent in CHANNEL_ASSIGN. */
  char token[SC_CHANNEL_TOKEN_LEN + 1];
  int n_states;
  sc_vstate_t *states; /* list head via ch_next */
};

/* media may be NULL (unit tests): then no media commands are posted.
 * Otherwise each state is a media member from creation to end (SSRC added
 * at creation, removed at end) and flag changes are posted to it. */
sc_registry_t *sc_registry_create(sc_media_t *media);
/* Ends every state (SC_END_SHUTDOWN) and frees everything. */
void sc_registry_destroy(sc_registry_t *r);

/* Limits on what the registry holds (docs/LVSP.md): a new channel or
 * voice state beyond them is refused with errno ENOSPC, so memory and the
 * LVSP snapshot stay bounded. 0 = no limit, which a new registry starts
 * with; main applies --max-channels and --max-voice-states (defaults in
 * sc_config.h), tests set small ones. */
void sc_registry_set_limits(sc_registry_t *r, size_t max_channels, size_t max_states);

/* During a drain (docs/ADMIN.md "Drain") no new call starts: a new
 * channel is refused, and so is a voice state whose channel holds none
 * (a pinned empty channel included), with errno ESHUTDOWN; a state that
 * joins a call in progress is created as usual. Set by sc_server when a
 * drain starts; never cleared (the process stops at its end). */
void sc_registry_set_draining(sc_registry_t *r, int draining);

/* Finds or creates the channel record (with a fresh token). Returns NULL
 * with errno EINVAL (bad id), ENOSPC (a new channel over the channel
 * limit), ESHUTDOWN (a new channel during a drain) or ENOMEM. A front end sets ch->pinned when
 * Litecord announced the channel itself. */
sc_channel_t *sc_registry_channel(sc_registry_t *r, const char *channel_id, const char *guild_id);
sc_channel_t *sc_registry_find_channel(sc_registry_t *r, const char *channel_id);

/* Creates a voice state for user in channel, with a fresh session id,
 * voice token (CSPRNG) and SSRC. A previous state of the same user on the
 * same server ends first (SC_END_REPLACED). Returns NULL with errno
 * EINVAL (ids must be 1..20 decimal digits), ENOSPC (over the channel
 * limit, or a state that replaces none over the state limit), ESHUTDOWN
 * (draining, and the channel holds no voice state) or ENOMEM; the
 * previous state is then left as it was. */
sc_vstate_t *sc_registry_create_state(sc_registry_t *r, const char *user_id, const char *channel_id,
                                      const char *guild_id);

sc_vstate_t *sc_registry_find_session(sc_registry_t *r, const char *session_id);
/* The user's state on that server (guild id, or channel id for DMs). */
sc_vstate_t *sc_registry_find_user(sc_registry_t *r, const char *user_id, const char *server_id);

/* Stores new flags and tells the attached connection (on_flags), then its
 * attached peers (on_peer_flags). */
void sc_registry_set_flags(sc_registry_t *r, sc_vstate_t *vs, const sc_vflags_t *flags);

/* Ends a state: tells its connection (on_ended), tells attached peers
 * (on_peer_leave), frees it, and frees the channel if it is now empty. */
void sc_registry_end_state(sc_registry_t *r, sc_vstate_t *vs, sc_end_reason_t why);

/* Attaches a connection to a state and announces it to the attached peers
 * (on_peer_join). Returns -EBUSY if another connection is attached. */
int sc_registry_attach(sc_registry_t *r, sc_vstate_t *vs, const sc_attach_ops_t *ops, void *conn);
/* Attaches conn to vs like sc_registry_attach, replacing a connection
 * that is attached already (of any front end: one voice state, one media
 * session): that one is detached first and told ops->on_ended(old,
 * SC_END_REPLACED), the state lives on, its media member is reset
 * (sc_media_reset: the old client's keys and address are gone) and its
 * legs are released. Peers see no leave and no join for a replacement.
 * With nothing attached it is sc_registry_attach (peers see a join).
 * 0, or -EINVAL (no ops, or conn is the one attached already). */
int sc_registry_take_over(sc_registry_t *r, sc_vstate_t *vs, const sc_attach_ops_t *ops,
                          void *conn);
/* Detaches (connection gone); peers get on_peer_leave. */
void sc_registry_detach(sc_registry_t *r, sc_vstate_t *vs);

/* Records speaking flags and tells the attached peers (on_peer_speaking). */
void sc_registry_set_speaking(sc_registry_t *r, sc_vstate_t *vs, unsigned speaking);

/* SSRC claims. Every SSRC in the process belongs to at most one state:
 * its own (assigned at creation, never a claimed alias) or an alias it
 * claimed. A front end claims a member's extra SSRCs here before telling
 * the media plane or the room about them, so what one member announces
 * can never be another member's. Returns 0 (now or already claimed by
 * vs), -EINVAL (0), -EEXIST (vs's own SSRC or held by another state),
 * -ENOSPC (SC_MEDIA_MAX_ALIASES claimed) or -ENOMEM. */
int sc_registry_claim_ssrc(sc_registry_t *r, sc_vstate_t *vs, uint32_t ssrc);
/* Releases every alias of vs (with a media reset: a new client). Ending a
 * state releases them too. */
void sc_registry_release_ssrcs(sc_registry_t *r, sc_vstate_t *vs);
/* 1 if ssrc is vs's own or one of its claimed aliases. */
int sc_registry_owns_ssrc(const sc_vstate_t *vs, uint32_t ssrc);

/* Legs: extra media-plane members of one voice state, for front ends
 * whose clients use more than one transport per voice state (mediasoup's
 * receive transport, a Galène or ion down peer connection per remote
 * stream). A leg is a member of vs's room with a fresh SSRC unique in the
 * process (a media-plane key, never announced: what the leg sends out is
 * the sources' SSRCs), its own member block (counters; the admin view
 * adds them to vs's), and vs's mute/deaf flags, applied at once and on
 * every sc_registry_set_flags. The front end gives it a cipher
 * (sc_media_post_cipher with sc_rtc_cipher_ops). Legs end with vs, or
 * with sc_registry_remove_leg / _release_legs (media removal, as for
 * vs's own member; cannot fail).
 * Returns the leg's member block (a reference vs holds: the caller must
 * not release it) and its SSRC in *ssrc_out, or NULL with errno ENOSPC
 * (SC_LEGS_MAX legs already) or ENOMEM. */
/* SC_LEGS_MAX: sc_legs.h (64). */
sc_member_stats_t *sc_registry_add_leg(sc_registry_t *r, sc_vstate_t *vs, uint32_t *ssrc_out);
void sc_registry_remove_leg(sc_registry_t *r, sc_vstate_t *vs, sc_member_stats_t *leg);
void sc_registry_release_legs(sc_registry_t *r, sc_vstate_t *vs);
size_t sc_registry_count_legs(const sc_vstate_t *vs);

/* The voice state whose voice token is token (len bytes), or NULL: for
 * front ends whose clients present only the token (Vortex, Galène, ion).
 * The look-up is keyed by a hash under a per-process random key, and the
 * token is then compared in constant time, so timing says nothing about
 * how much of a guess was right. */
sc_vstate_t *sc_registry_find_token(sc_registry_t *r, const char *token, size_t len);

/* Which front end kind is attached to vs, and what end-to-end encryption
 * its client can do: set by the front end at attach (Discord: its
 * Identify's max_dave_protocol_version; every other dialect 0) and read by
 * the Discord front end, whose DAVE call downgrades to protocol 0 while a
 * member that cannot do DAVE is in the room. */
void sc_registry_set_e2ee(sc_vstate_t *vs, int max_dave_version);

/* Iterates the channel's attached states other than `self`. */
typedef void (*sc_vstate_fn)(sc_vstate_t *peer, void *arg);
void sc_registry_each_peer(sc_channel_t *ch, const sc_vstate_t *self, sc_vstate_fn fn, void *arg);

/* Ends every state of the channel (SC_END_CHANNEL_GONE: their connections
 * are told, their peers see them leave) and frees the channel, pinned or
 * not. `ch` is invalid afterwards. */
void sc_registry_destroy_channel(sc_registry_t *r, sc_channel_t *ch);

/* Moves the user of `vs` to channel_id (same guild): a new state with a
 * fresh session id, token and SSRC and the same flags is created there,
 * and `vs` ends with SC_END_REPLACED (its connection is closed, its old
 * room sees it leave), since the client must connect anew with the new
 * credentials. Returns the new state, or NULL (errno as for create_state) with `vs`
 * left as it was. `vs` is invalid after a successful move. */
sc_vstate_t *sc_registry_move_state(sc_registry_t *r, sc_vstate_t *vs, const char *channel_id);

/* Iteration for snapshots and the admin view. The callbacks must not
 * create or end states or channels. Channel order is the hash order;
 * states are listed newest first. */
typedef void (*sc_channel_fn)(sc_channel_t *ch, void *arg);
void sc_registry_each_channel(sc_registry_t *r, sc_channel_fn fn, void *arg);
void sc_registry_each_state(sc_channel_t *ch, sc_vstate_fn fn, void *arg);

size_t sc_registry_count_states(const sc_registry_t *r);

/* The transport a client chose for vs (kind "discord_udp", mode its
 * encryption mode; "" and "" when a new client has not chosen yet): what
 * the member counted under the previous pair is retired into the
 * registry's per-label totals first, so those stay monotonic. */
void sc_registry_set_transport(sc_registry_t *r, sc_vstate_t *vs, const char *kind,
                               const char *mode);
/* Media counters per (transport, mode) since start: retired totals plus
 * every live member under its current pair (sc_traffic.h). */
void sc_registry_traffic(sc_registry_t *r, sc_traffic_t *out);
/* Voice states created, and ended per sc_end_reason_t, since start. */
typedef struct {
  uint64_t created;
  uint64_t ended[SC_END_SHUTDOWN + 1];
} sc_registry_counts_t;
void sc_registry_counts(const sc_registry_t *r, sc_registry_counts_t *out);
size_t sc_registry_count_channels(const sc_registry_t *r);

/* 1 if id is a valid snowflake string (1..20 decimal digits). */
int sc_registry_valid_id(const char *id);

#endif
