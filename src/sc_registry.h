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
 * Memory: the registry owns every channel and voice state. A state is freed
 * by sc_registry_end_state(); its attached connection is told through
 * ops->on_ended *before* the free and must drop its pointer there. A channel
 * is freed when its last state ends (its settings are kept until then).
 */
#ifndef SC_REGISTRY_H
#define SC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "sc_media.h"

#define SC_ID_MAX 24      /* snowflakes: up to 20 digits */
#define SC_SESSION_ID_LEN 32
#define SC_VOICE_TOKEN_LEN 40

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
} sc_attach_ops_t;

struct sc_vstate {
  char user_id[SC_ID_MAX];
  char guild_id[SC_ID_MAX];   /* "" for DMs and group calls */
  char server_id[SC_ID_MAX];  /* guild_id, or channel_id when there is none */
  char session_id[SC_SESSION_ID_LEN + 1];
  char token[SC_VOICE_TOKEN_LEN + 1];
  sc_vflags_t flags;
  uint32_t ssrc;              /* assigned at creation, unique in the process */
  unsigned speaking;          /* last Speaking flags (0 = silent) */
  sc_channel_t *channel;
  sc_member_stats_t *stats;   /* media counters (one reference held here) */
  const sc_attach_ops_t *ops; /* NULL while no connection is attached */
  void *conn;
  /* registry private: channel list links and hash keys */
  sc_vstate_t *ch_next, *ch_prev;
  char user_key[2 * SC_ID_MAX]; /* "user_id/server_id" */
  char ssrc_key[12];
};

struct sc_channel {
  char id[SC_ID_MAX];
  char guild_id[SC_ID_MAX];
  uint64_t room_id;           /* media-plane room for this channel */
  int bitrate;                /* bits/s; 0 = not told */
  int n_states;
  sc_vstate_t *states;        /* list head via ch_next */
};

/* media may be NULL (unit tests): then no media commands are posted.
 * Otherwise each state is a media member from creation to end (SSRC added
 * at creation, removed at end) and flag changes are posted to it. */
sc_registry_t *sc_registry_create(sc_media_t *media);
/* Ends every state (SC_END_SHUTDOWN) and frees everything. */
void sc_registry_destroy(sc_registry_t *r);

/* Finds or creates the channel record. Returns NULL on bad id / ENOMEM. */
sc_channel_t *sc_registry_channel(sc_registry_t *r, const char *channel_id,
                                  const char *guild_id);
sc_channel_t *sc_registry_find_channel(sc_registry_t *r, const char *channel_id);

/* Creates a voice state for user in channel, with a fresh session id,
 * voice token (CSPRNG) and SSRC. A previous state of the same user on the
 * same server ends first (SC_END_REPLACED). Returns NULL on ENOMEM or an
 * invalid id (ids must be 1..20 decimal digits). */
sc_vstate_t *sc_registry_create_state(sc_registry_t *r, const char *user_id,
                                      const char *channel_id, const char *guild_id);

sc_vstate_t *sc_registry_find_session(sc_registry_t *r, const char *session_id);
/* The user's state on that server (guild id, or channel id for DMs). */
sc_vstate_t *sc_registry_find_user(sc_registry_t *r, const char *user_id,
                                   const char *server_id);

/* Stores new flags and tells the attached connection (on_flags). */
void sc_registry_set_flags(sc_registry_t *r, sc_vstate_t *vs, const sc_vflags_t *flags);

/* Ends a state: tells its connection (on_ended), tells attached peers
 * (on_peer_leave), frees it, and frees the channel if it is now empty. */
void sc_registry_end_state(sc_registry_t *r, sc_vstate_t *vs, sc_end_reason_t why);

/* Attaches a connection to a state and announces it to the attached peers
 * (on_peer_join). Returns -EBUSY if another connection is attached. */
int sc_registry_attach(sc_registry_t *r, sc_vstate_t *vs, const sc_attach_ops_t *ops,
                       void *conn);
/* Detaches (connection gone); peers get on_peer_leave. */
void sc_registry_detach(sc_registry_t *r, sc_vstate_t *vs);

/* Records speaking flags and tells the attached peers (on_peer_speaking). */
void sc_registry_set_speaking(sc_registry_t *r, sc_vstate_t *vs, unsigned speaking);

/* Iterates the channel's attached states other than `self`. */
typedef void (*sc_vstate_fn)(sc_vstate_t *peer, void *arg);
void sc_registry_each_peer(sc_channel_t *ch, const sc_vstate_t *self, sc_vstate_fn fn,
                           void *arg);

size_t sc_registry_count_states(const sc_registry_t *r);

/* 1 if id is a valid snowflake string (1..20 decimal digits). */
int sc_registry_valid_id(const char *id);

#endif
