#include "sc_registry.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_drain.h"
#include "sc_hmap.h"
#include "sc_log.h"
#include "sc_media.h"
#include "sc_token.h"

struct sc_registry {
  sc_media_t *media;
  sc_hmap_t channels; /* channel id -> sc_channel_t */
  sc_hmap_t sessions; /* session id -> sc_vstate_t */
  sc_hmap_t users;    /* "user/server" -> sc_vstate_t */
  sc_hmap_t ssrcs;    /* decimal SSRC -> sc_vstate_t: own, aliases and legs */
  sc_hmap_t tokens;   /* keyed hash of the voice token (token_key) -> sc_vstate_t */
  uint8_t token_hash_key[SC_TOKEN_HASH_KEY_LEN]; /* per process (CSPRNG) */
  uint64_t next_room_id;
  size_t n_states;
  size_t max_channels, max_states; /* 0 = no limit */
  int draining;                    /* sc_registry_set_draining */
  sc_traffic_t retired;            /* counts of ended labels (sc_traffic.h) */
  sc_registry_counts_t counts;
};

int sc_registry_valid_id(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n < 1 || n > 20) return 0;
  for (size_t i = 0; i < n; i++)
    if (id[i] < '0' || id[i] > '9') return 0;
  return 1;
}

sc_registry_t *sc_registry_create(sc_media_t *media) {
  sc_registry_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->media = media;
  r->next_room_id = 1;
  sc_hmap_init(&r->channels);
  sc_hmap_init(&r->sessions);
  sc_hmap_init(&r->users);
  sc_hmap_init(&r->ssrcs);
  sc_hmap_init(&r->tokens);
  sc_token_random(r->token_hash_key, sizeof r->token_hash_key);
  return r;
}

static void free_channel(sc_registry_t *r, sc_channel_t *ch) {
  sc_hmap_del(&r->channels, ch->id);
  free(ch);
}

void sc_registry_destroy(sc_registry_t *r) {
  if (!r) return;
  for (size_t i = 0; i < r->channels.cap; i++) {
    sc_hmap_slot_t *s = &r->channels.slots[i];
    /* Ending a channel's last state frees the channel and clears its slot
     * (deletion never moves slots), so re-read the slot every time. */
    while (s->value && ((sc_channel_t *)s->value)->states)
      sc_registry_end_state(r, ((sc_channel_t *)s->value)->states, SC_END_SHUTDOWN);
    if (s->value) free_channel(r, s->value);
  }
  sc_hmap_free(&r->channels);
  sc_hmap_free(&r->sessions);
  sc_hmap_free(&r->users);
  sc_hmap_free(&r->ssrcs);
  sc_hmap_free(&r->tokens);
  free(r);
}

void sc_registry_set_limits(sc_registry_t *r, size_t max_channels, size_t max_states) {
  r->max_channels = max_channels;
  r->max_states = max_states;
}

void sc_registry_set_draining(sc_registry_t *r, int draining) {
  r->draining = draining;
}

sc_channel_t *sc_registry_find_channel(sc_registry_t *r, const char *channel_id) {
  return channel_id ? sc_hmap_get(&r->channels, channel_id) : NULL;
}

sc_channel_t *sc_registry_channel(sc_registry_t *r, const char *channel_id, const char *guild_id) {
  if (!sc_registry_valid_id(channel_id) ||
      (guild_id && *guild_id && !sc_registry_valid_id(guild_id))) {
    errno = EINVAL;
    return NULL;
  }
  sc_channel_t *ch = sc_registry_find_channel(r, channel_id);
  if (ch) {
    if (guild_id && *guild_id && !ch->guild_id[0])
      snprintf(ch->guild_id, sizeof ch->guild_id, "%s", guild_id);
    return ch;
  }
  if (r->draining) {
    errno = ESHUTDOWN; /* no new call starts during a drain */
    return NULL;
  }
  if (r->max_channels && r->channels.used >= r->max_channels) {
    errno = ENOSPC;
    return NULL;
  }
  ch = calloc(1, sizeof *ch);
  if (!ch) {
    errno = ENOMEM;
    return NULL;
  }
  snprintf(ch->id, sizeof ch->id, "%s", channel_id);
  snprintf(ch->guild_id, sizeof ch->guild_id, "%s", guild_id ? guild_id : "");
  ch->room_id = r->next_room_id++;
  if (sc_token_random_hex(ch->token, sizeof ch->token, SC_CHANNEL_TOKEN_LEN / 2) < 0 ||
      sc_hmap_put(&r->channels, ch->id, ch) < 0) {
    free(ch);
    errno = ENOMEM;
    return NULL;
  }
  return ch;
}

/* Picks an SSRC no live state uses, as its own, an alias or a leg's,
 * and writes its index key (12 bytes). The CSPRNG makes a clash
 * unlikely; the loop makes it impossible. */
static uint32_t fresh_ssrc(sc_registry_t *r, char *key) {
  uint32_t ssrc;
  do {
    ssrc = sc_token_random_u32();
    snprintf(key, 12, "%u", ssrc);
  } while (sc_hmap_get(&r->ssrcs, key));
  return ssrc;
}

/* A voice token whose keyed hash no live state's has: two tokens never
 * share an index slot, so the look-up needs one comparison. */
static int fresh_token(sc_registry_t *r, sc_vstate_t *vs) {
  do {
    if (sc_token_random_alnum(vs->token, sizeof vs->token, SC_VOICE_TOKEN_LEN) < 0 ||
        sc_token_keyed_hash_hex(vs->token_key, sizeof vs->token_key, r->token_hash_key, vs->token,
                                SC_VOICE_TOKEN_LEN) < 0)
      return -1;
  } while (sc_hmap_get(&r->tokens, vs->token_key));
  return 0;
}

static int index_state(sc_registry_t *r, sc_vstate_t *vs) {
  if (sc_hmap_put(&r->sessions, vs->session_id, vs) < 0) return -ENOMEM;
  if (sc_hmap_put(&r->users, vs->user_key, vs) < 0) goto undo_session;
  if (sc_hmap_put(&r->ssrcs, vs->ssrc_key, vs) < 0) goto undo_user;
  if (sc_hmap_put(&r->tokens, vs->token_key, vs) < 0) goto undo_ssrc;
  return 0;
undo_ssrc:
  sc_hmap_del(&r->ssrcs, vs->ssrc_key);
undo_user:
  sc_hmap_del(&r->users, vs->user_key);
undo_session:
  sc_hmap_del(&r->sessions, vs->session_id);
  return -ENOMEM;
}

static void link_into_channel(sc_channel_t *ch, sc_vstate_t *vs) {
  vs->channel = ch;
  vs->ch_prev = NULL;
  vs->ch_next = ch->states;
  if (ch->states) ch->states->ch_prev = vs;
  ch->states = vs;
  ch->n_states++;
}

static void unlink_from_channel(sc_vstate_t *vs) {
  sc_channel_t *ch = vs->channel;
  if (vs->ch_prev)
    vs->ch_prev->ch_next = vs->ch_next;
  else
    ch->states = vs->ch_next;
  if (vs->ch_next) vs->ch_next->ch_prev = vs->ch_prev;
  ch->n_states--;
  vs->channel = NULL;
}

static unsigned media_flags(const sc_vflags_t *f) {
  return (f->mute || f->suppress ? SC_MEMBER_MUTED : 0u) | (f->deaf ? SC_MEMBER_DEAF : 0u);
}

static sc_vstate_t *new_state(sc_registry_t *r, const char *user_id, sc_channel_t *ch) {
  sc_vstate_t *vs = calloc(1, sizeof *vs);
  if (!vs) return NULL;
  snprintf(vs->user_id, sizeof vs->user_id, "%s", user_id);
  snprintf(vs->guild_id, sizeof vs->guild_id, "%s", ch->guild_id);
  snprintf(vs->server_id, sizeof vs->server_id, "%s", ch->guild_id[0] ? ch->guild_id : ch->id);
  snprintf(vs->user_key, sizeof vs->user_key, "%s/%s", vs->user_id, vs->server_id);
  vs->stats = sc_member_stats_new();
  if (!vs->stats ||
      sc_token_random_hex(vs->session_id, sizeof vs->session_id, SC_SESSION_ID_LEN / 2) < 0 ||
      fresh_token(r, vs) < 0) {
    sc_member_stats_release(vs->stats);
    free(vs);
    return NULL;
  }
  vs->ssrc = fresh_ssrc(r, vs->ssrc_key);
  return vs;
}

/* Whether a new state of user in ch would replace one (same user and
 * server): that does not add to the count, so it passes the limit. */
static int replaces_one(sc_registry_t *r, const char *user_id, const sc_channel_t *ch) {
  char key[2 * SC_ID_MAX];
  snprintf(key, sizeof key, "%s/%s", user_id, ch->guild_id[0] ? ch->guild_id : ch->id);
  return sc_hmap_get(&r->users, key) != NULL;
}

sc_vstate_t *sc_registry_create_state(sc_registry_t *r, const char *user_id, const char *channel_id,
                                      const char *guild_id) {
  if (!sc_registry_valid_id(user_id)) {
    errno = EINVAL;
    return NULL;
  }
  sc_channel_t *ch = sc_registry_channel(r, channel_id, guild_id);
  if (!ch) return NULL;
  int err = ESHUTDOWN;
  if (!sc_drain_admits(r->draining, (size_t)ch->n_states)) goto fail;
  err = ENOSPC;
  if (r->max_states && r->n_states >= r->max_states && !replaces_one(r, user_id, ch)) goto fail;
  err = ENOMEM;
  /* The channel must not vanish while the old state ends: link first. */
  sc_vstate_t *vs = new_state(r, user_id, ch);
  if (!vs) goto fail;
  sc_vstate_t *old = sc_hmap_get(&r->users, vs->user_key);
  link_into_channel(ch, vs);
  if (old) sc_registry_end_state(r, old, SC_END_REPLACED);
  /* A state the media plane does not know would take a client that can
   * never be heard: fail the creation (Litecord is told) instead. */
  int media_rc = r->media ? sc_media_post_add(r->media, ch->room_id, vs->ssrc, vs->stats) : 0;
  if (media_rc < 0 || index_state(r, vs) < 0) {
    if (media_rc < 0)
      sc_log_error("registry", "media plane refused member ssrc=%u: %s", vs->ssrc,
                   strerror(-media_rc));
    else if (r->media)
      sc_media_remove(r->media, vs->stats);
    unlink_from_channel(vs);
    sc_member_stats_release(vs->stats);
    free(vs);
    goto fail;
  }
  r->n_states++;
  r->counts.created++;
  return vs;
fail:
  if (!ch->n_states && !ch->pinned) free_channel(r, ch);
  errno = err;
  return NULL;
}

sc_vstate_t *sc_registry_find_session(sc_registry_t *r, const char *session_id) {
  return session_id ? sc_hmap_get(&r->sessions, session_id) : NULL;
}

sc_vstate_t *sc_registry_find_user(sc_registry_t *r, const char *user_id, const char *server_id) {
  char key[2 * SC_ID_MAX];
  if (!sc_registry_valid_id(user_id) || !sc_registry_valid_id(server_id)) return NULL;
  snprintf(key, sizeof key, "%s/%s", user_id, server_id);
  return sc_hmap_get(&r->users, key);
}

typedef void (*peer_event_fn)(const sc_attach_ops_t *ops, void *conn, const sc_vstate_t *peer,
                              unsigned arg);

/* Tells every attached peer of vs (not vs itself) about vs. */
static void notify_peers(sc_vstate_t *vs, peer_event_fn fn, unsigned arg) {
  for (sc_vstate_t *p = vs->channel->states; p; p = p->ch_next)
    if (p != vs && p->ops) fn(p->ops, p->conn, vs, arg);
}

static void ev_join(const sc_attach_ops_t *o, void *c, const sc_vstate_t *p, unsigned a) {
  (void)a;
  if (o->on_peer_join) o->on_peer_join(c, p);
}
static void ev_leave(const sc_attach_ops_t *o, void *c, const sc_vstate_t *p, unsigned a) {
  (void)a;
  if (o->on_peer_leave) o->on_peer_leave(c, p);
}
static void ev_speaking(const sc_attach_ops_t *o, void *c, const sc_vstate_t *p, unsigned a) {
  if (o->on_peer_speaking) o->on_peer_speaking(c, p, a);
}
static void ev_flags(const sc_attach_ops_t *o, void *c, const sc_vstate_t *p, unsigned a) {
  (void)a;
  if (o->on_peer_flags) o->on_peer_flags(c, p);
}

void sc_registry_set_flags(sc_registry_t *r, sc_vstate_t *vs, const sc_vflags_t *flags) {
  vs->flags = *flags;
  sc_member_set_flags(vs->stats, media_flags(flags)); /* in force on the next packet */
  sc_legs_set_flags(vs->legs, media_flags(flags));
  (void)r;
  if (vs->ops && vs->ops->on_flags) vs->ops->on_flags(vs->conn, vs);
  notify_peers(vs, ev_flags, 0);
}

void sc_registry_end_state(sc_registry_t *r, sc_vstate_t *vs, sc_end_reason_t why) {
  const sc_attach_ops_t *ops = vs->ops;
  void *conn = vs->conn;
  if (ops) {
    vs->ops = NULL;
    vs->conn = NULL;
    notify_peers(vs, ev_leave, 0);
    if (ops->on_ended) ops->on_ended(conn, why);
  }
  sc_hmap_del(&r->sessions, vs->session_id);
  sc_hmap_del(&r->tokens, vs->token_key);
  if (sc_hmap_get(&r->users, vs->user_key) == vs) sc_hmap_del(&r->users, vs->user_key);
  sc_registry_release_ssrcs(r, vs);
  sc_registry_release_legs(r, vs);
  sc_hmap_del(&r->ssrcs, vs->ssrc_key);
  sc_channel_t *ch = vs->channel;
  if (r->media) sc_media_remove(r->media, vs->stats); /* allocates nothing, cannot fail */
  sc_registry_set_transport(r, vs, "", "");           /* retires its counts */
  unlink_from_channel(vs);
  r->n_states--;
  if ((unsigned)why <= SC_END_SHUTDOWN) r->counts.ended[why]++;
  sc_member_stats_release(vs->stats);
  sc_legs_free(vs->legs);
  free(vs);
  if (!ch->n_states && !ch->pinned) free_channel(r, ch);
}

int sc_registry_attach(sc_registry_t *r, sc_vstate_t *vs, const sc_attach_ops_t *ops, void *conn) {
  (void)r;
  if (vs->ops) return -EBUSY;
  vs->ops = ops;
  vs->conn = conn;
  notify_peers(vs, ev_join, 0);
  return 0;
}

int sc_registry_take_over(sc_registry_t *r, sc_vstate_t *vs, const sc_attach_ops_t *ops,
                          void *conn) {
  if (!vs || !ops || (vs->ops && vs->conn == conn)) return -EINVAL;
  const sc_attach_ops_t *old_ops = vs->ops;
  void *old_conn = vs->conn;
  int replacing = old_ops != NULL;
  /* Detached before it is told, so it cannot touch vs from on_ended. */
  vs->ops = NULL;
  vs->conn = NULL;
  if (replacing && old_ops->on_ended) old_ops->on_ended(old_conn, SC_END_REPLACED);
  /* The old client's keys, address, SSRCs and transports are gone. */
  if (r->media) sc_media_reset(r->media, vs->stats);
  sc_registry_release_ssrcs(r, vs);
  sc_registry_release_legs(r, vs);
  sc_registry_set_transport(r, vs, "", "");
  vs->max_dave_version = 0;
  if (vs->speaking) sc_registry_set_speaking(r, vs, 0);
  vs->ops = ops;
  vs->conn = conn;
  if (!replacing) notify_peers(vs, ev_join, 0); /* a first connection: a join */
  return 0;
}

void sc_registry_detach(sc_registry_t *r, sc_vstate_t *vs) {
  (void)r;
  if (!vs->ops) return;
  vs->ops = NULL;
  vs->conn = NULL;
  vs->speaking = 0;
  notify_peers(vs, ev_leave, 0);
}

void sc_registry_set_speaking(sc_registry_t *r, sc_vstate_t *vs, unsigned speaking) {
  (void)r;
  vs->speaking = speaking;
  notify_peers(vs, ev_speaking, speaking);
}

int sc_registry_claim_ssrc(sc_registry_t *r, sc_vstate_t *vs, uint32_t ssrc) {
  if (!ssrc) return -EINVAL;
  char key[sizeof vs->ssrc_key];
  snprintf(key, sizeof key, "%u", ssrc);
  sc_vstate_t *holder = sc_hmap_get(&r->ssrcs, key);
  /* Held: fine only as one of vs's aliases (not its own, not a leg's). */
  if (holder)
    return holder == vs && ssrc != vs->ssrc && sc_registry_owns_ssrc(vs, ssrc) ? 0 : -EEXIST;
  if (vs->n_aliases == SC_MEDIA_MAX_ALIASES) return -ENOSPC;
  char *slot = vs->alias_keys[vs->n_aliases];
  memcpy(slot, key, sizeof key);
  if (sc_hmap_put(&r->ssrcs, slot, vs) < 0) return -ENOMEM;
  vs->aliases[vs->n_aliases++] = ssrc;
  return 0;
}

void sc_registry_release_ssrcs(sc_registry_t *r, sc_vstate_t *vs) {
  while (vs->n_aliases) sc_hmap_del(&r->ssrcs, vs->alias_keys[--vs->n_aliases]);
}

int sc_registry_owns_ssrc(const sc_vstate_t *vs, uint32_t ssrc) {
  if (ssrc == vs->ssrc) return 1;
  for (int i = 0; i < vs->n_aliases; i++)
    if (vs->aliases[i] == ssrc) return 1;
  return 0;
}

/* === Legs (sc_legs.h) ==================================================== */

sc_member_stats_t *sc_registry_add_leg(sc_registry_t *r, sc_vstate_t *vs, uint32_t *ssrc_out) {
  sc_leg_t *leg = sc_legs_slot(&vs->legs);
  if (!leg) return NULL; /* errno ENOSPC or ENOMEM */
  char key[sizeof leg->ssrc_key];
  uint32_t ssrc = fresh_ssrc(r, key);
  int rc =
      sc_legs_start(vs->legs, leg, r->media, vs->channel->room_id, ssrc, media_flags(&vs->flags));
  if (rc == 0 && sc_hmap_put(&r->ssrcs, leg->ssrc_key, vs) == 0) {
    if (ssrc_out) *ssrc_out = ssrc;
    return leg->stats;
  }
  if (rc == 0) sc_legs_stop(vs->legs, leg, r->media);
  sc_log_error("registry", "leg ssrc=%u refused: %s", ssrc, strerror(rc ? -rc : ENOMEM));
  errno = ENOMEM;
  return NULL;
}

static void end_leg(sc_registry_t *r, sc_vstate_t *vs, sc_leg_t *leg) {
  sc_hmap_del(&r->ssrcs, leg->ssrc_key);
  sc_legs_stop(vs->legs, leg, r->media);
}

void sc_registry_remove_leg(sc_registry_t *r, sc_vstate_t *vs, sc_member_stats_t *stats) {
  sc_leg_t *leg = sc_legs_find(vs->legs, stats);
  if (leg) end_leg(r, vs, leg);
}

void sc_registry_release_legs(sc_registry_t *r, sc_vstate_t *vs) {
  for (size_t i = 0; vs->legs && vs->legs->n && i < SC_LEGS_MAX; i++)
    if (vs->legs->slot[i].stats) end_leg(r, vs, &vs->legs->slot[i]);
}

size_t sc_registry_count_legs(const sc_vstate_t *vs) {
  return sc_legs_count(vs->legs);
}

/* === Token look-up and e2ee ============================================== */

sc_vstate_t *sc_registry_find_token(sc_registry_t *r, const char *token, size_t len) {
  char key[sizeof((sc_vstate_t *)0)->token_key];
  if (!token || len != SC_VOICE_TOKEN_LEN ||
      sc_token_keyed_hash_hex(key, sizeof key, r->token_hash_key, token, len) < 0)
    return NULL;
  sc_vstate_t *vs = sc_hmap_get(&r->tokens, key);
  return vs && sc_token_equal_bytes(vs->token, token, len) ? vs : NULL;
}

void sc_registry_set_e2ee(sc_vstate_t *vs, int max_dave_version) {
  vs->max_dave_version = max_dave_version > 0 ? max_dave_version : 0;
}

void sc_registry_each_peer(sc_channel_t *ch, const sc_vstate_t *self, sc_vstate_fn fn, void *arg) {
  for (sc_vstate_t *p = ch->states; p; p = p->ch_next)
    if (p != self && p->ops) fn(p, arg);
}

void sc_registry_destroy_channel(sc_registry_t *r, sc_channel_t *ch) {
  /* Pinned, so ending the last state does not free it under us. */
  ch->pinned = 1;
  while (ch->states) sc_registry_end_state(r, ch->states, SC_END_CHANNEL_GONE);
  free_channel(r, ch);
}

sc_vstate_t *sc_registry_move_state(sc_registry_t *r, sc_vstate_t *vs, const char *channel_id) {
  char user[SC_ID_MAX], guild[SC_ID_MAX], key[sizeof vs->user_key];
  sc_vflags_t flags = vs->flags;
  snprintf(user, sizeof user, "%s", vs->user_id);
  snprintf(guild, sizeof guild, "%s", vs->guild_id);
  snprintf(key, sizeof key, "%s", vs->user_key);
  /* In a guild the new state has the same user key and replaces vs inside
   * create_state; a DM call's key is per channel, so vs is ended here. */
  sc_vstate_t *moved = sc_registry_create_state(r, user, channel_id, guild[0] ? guild : NULL);
  if (!moved) return NULL;
  if (strcmp(moved->user_key, key) != 0) sc_registry_end_state(r, vs, SC_END_REPLACED);
  if (memcmp(&flags, &moved->flags, sizeof flags) != 0) sc_registry_set_flags(r, moved, &flags);
  return moved;
}

void sc_registry_each_channel(sc_registry_t *r, sc_channel_fn fn, void *arg) {
  for (size_t i = 0; i < r->channels.cap; i++) {
    sc_hmap_slot_t *s = &r->channels.slots[i];
    if (s->value) fn(s->value, arg);
  }
}

void sc_registry_each_state(sc_channel_t *ch, sc_vstate_fn fn, void *arg) {
  for (sc_vstate_t *p = ch->states; p; p = p->ch_next) fn(p, arg);
}

size_t sc_registry_count_states(const sc_registry_t *r) {
  return r->n_states;
}

size_t sc_registry_count_channels(const sc_registry_t *r) {
  return r->channels.used;
}

/* === Traffic per transport and mode ===================================== */

#define LOADED(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* The state's own member and its legs, live and stopped. */
static void member_counts(const sc_vstate_t *vs, sc_traffic_counts_t *out) {
  sc_member_stats_t *s = vs->stats;
  *out = (sc_traffic_counts_t){LOADED(s->rx_packets), LOADED(s->rx_bytes), LOADED(s->tx_packets),
                               LOADED(s->tx_bytes)};
  sc_legs_add_counts(vs->legs, out);
}

void sc_registry_set_transport(sc_registry_t *r, sc_vstate_t *vs, const char *kind,
                               const char *mode) {
  sc_traffic_counts_t now;
  member_counts(vs, &now);
  sc_traffic_add(&r->retired, vs->transport_kind, vs->transport, &now, &vs->traffic_base);
  vs->traffic_base = now;
  snprintf(vs->transport_kind, sizeof vs->transport_kind, "%s", kind);
  snprintf(vs->transport, sizeof vs->transport, "%s", mode);
}

static void add_live(sc_vstate_t *vs, void *arg) {
  sc_traffic_counts_t now;
  member_counts(vs, &now);
  sc_traffic_add(arg, vs->transport_kind, vs->transport, &now, &vs->traffic_base);
}

static void add_live_channel(sc_channel_t *ch, void *arg) {
  sc_registry_each_state(ch, add_live, arg);
}

void sc_registry_traffic(sc_registry_t *r, sc_traffic_t *out) {
  *out = r->retired;
  sc_registry_each_channel(r, add_live_channel, out);
}

void sc_registry_counts(const sc_registry_t *r, sc_registry_counts_t *out) {
  *out = r->counts;
}
