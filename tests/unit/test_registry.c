/*
 * test_registry: the control plane's channels and voice states
 * (src/sc_registry) without a media plane: creation, replacement, channel
 * destruction, moves, pinned channels and the iteration used by LVSP
 * snapshots and the admin view. Fake connections record every callback,
 * so the tests check what a voice client would be told.
 */
#include <errno.h>

#include "sc_media.h"
#include "sc_registry.h"
#include "sc_test.h"
#include "sc_token.h"

#define MAX_EVENTS 32

/* One fake attached connection: what the registry told it. */
typedef struct {
  const char *name;
  int ended; /* on_ended calls */
  sc_end_reason_t why;
  int flags_calls;
  char peer_flags[MAX_EVENTS][SC_ID_MAX]; /* whose flags changed (on_peer_flags) */
  int n_peer_flags;
  char joined[MAX_EVENTS][SC_ID_MAX];
  int n_joined;
  char left[MAX_EVENTS][SC_ID_MAX];
  int n_left;
  sc_vstate_t *vs; /* cleared on on_ended, like a real connection */
} fake_conn_t;

static void on_ended(void *conn, sc_end_reason_t why) {
  fake_conn_t *c = conn;
  c->ended++;
  c->why = why;
  c->vs = NULL;
}
static void on_flags(void *conn, const sc_vstate_t *self) {
  (void)self;
  ((fake_conn_t *)conn)->flags_calls++;
}
static void on_join(void *conn, const sc_vstate_t *peer) {
  fake_conn_t *c = conn;
  ASSERT_TRUE(c->n_joined < MAX_EVENTS);
  snprintf(c->joined[c->n_joined++], SC_ID_MAX, "%s", peer->user_id);
}
static void on_leave(void *conn, const sc_vstate_t *peer) {
  fake_conn_t *c = conn;
  ASSERT_TRUE(c->n_left < MAX_EVENTS);
  snprintf(c->left[c->n_left++], SC_ID_MAX, "%s", peer->user_id);
}

static void on_peer_flags(void *conn, const sc_vstate_t *peer) {
  fake_conn_t *c = conn;
  ASSERT_TRUE(c->n_peer_flags < MAX_EVENTS);
  snprintf(c->peer_flags[c->n_peer_flags++], SC_ID_MAX, "%s", peer->user_id);
}

static const sc_attach_ops_t fake_ops = {on_ended, on_flags, on_join,
                                         on_leave, NULL,     on_peer_flags};

static sc_vstate_t *make(sc_registry_t *r, const char *user, const char *ch, const char *guild,
                         fake_conn_t *conn) {
  sc_vstate_t *vs = sc_registry_create_state(r, user, ch, guild);
  ASSERT_TRUE(vs != NULL);
  if (conn) {
    ASSERT_EQ(sc_registry_attach(r, vs, &fake_ops, conn), 0);
    conn->vs = vs;
  }
  return vs;
}

static void test_create_and_find(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  sc_vstate_t *vs = make(r, "11", "21", "31", NULL);
  ASSERT_STREQ(vs->server_id, "31");
  ASSERT_STREQ(vs->transport, "");
  ASSERT_EQ(strlen(vs->session_id), SC_SESSION_ID_LEN);
  ASSERT_TRUE(sc_registry_find_session(r, vs->session_id) == vs);
  ASSERT_TRUE(sc_registry_find_user(r, "11", "31") == vs);
  sc_channel_t *ch = sc_registry_find_channel(r, "21");
  ASSERT_TRUE(ch == vs->channel);
  ASSERT_EQ(strlen(ch->token), SC_CHANNEL_TOKEN_LEN);
  ASSERT_EQ(ch->pinned, 0);
  /* Same user in another guild: a second, independent state. */
  sc_vstate_t *other = make(r, "11", "22", "32", NULL);
  ASSERT_TRUE(sc_registry_find_user(r, "11", "31") == vs);
  ASSERT_TRUE(sc_registry_find_user(r, "11", "32") == other);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  ASSERT_EQ(sc_registry_count_channels(r), 2);
  ASSERT_TRUE(sc_registry_create_state(r, "x", "21", NULL) == NULL);
  ASSERT_TRUE(sc_registry_channel(r, "21", "bad") == NULL);
  sc_registry_destroy(r);
}

static void test_channel_lifetime(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  /* Implicit channel: freed with its last state. */
  sc_vstate_t *vs = make(r, "1", "100", NULL, NULL);
  sc_registry_end_state(r, vs, SC_END_LEFT);
  ASSERT_TRUE(sc_registry_find_channel(r, "100") == NULL);
  /* Pinned: kept empty, with its settings and token. */
  sc_channel_t *ch = sc_registry_channel(r, "200", "9");
  ch->pinned = 1;
  ch->bitrate = 64000;
  char token[SC_CHANNEL_TOKEN_LEN + 1];
  snprintf(token, sizeof token, "%s", ch->token);
  vs = make(r, "1", "200", "9", NULL);
  sc_registry_end_state(r, vs, SC_END_LEFT);
  ch = sc_registry_find_channel(r, "200");
  ASSERT_TRUE(ch != NULL);
  ASSERT_EQ(ch->bitrate, 64000);
  ASSERT_STREQ(ch->token, token);
  ASSERT_TRUE(sc_registry_channel(r, "200", NULL) == ch);
  /* Tokens differ between channels. */
  sc_channel_t *ch2 = sc_registry_channel(r, "201", "9");
  ASSERT_TRUE(strcmp(ch2->token, ch->token) != 0);
  sc_registry_destroy_channel(r, ch);
  ASSERT_TRUE(sc_registry_find_channel(r, "200") == NULL);
  ASSERT_EQ(sc_registry_count_channels(r), 1);
  sc_registry_destroy(r);
}

static void test_destroy_channel_ends_everyone(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  fake_conn_t a = {.name = "a"}, b = {.name = "b"}, x = {.name = "x"};
  make(r, "1", "300", "9", &a);
  make(r, "2", "300", "9", &b);
  make(r, "3", "301", "9", NULL);
  sc_vstate_t *vx = make(r, "4", "302", "9", &x);
  ASSERT_EQ(a.n_joined, 1); /* b joined after a */
  sc_registry_destroy_channel(r, sc_registry_find_channel(r, "300"));
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_CHANNEL_GONE);
  ASSERT_EQ(b.ended, 1);
  ASSERT_EQ(b.why, SC_END_CHANNEL_GONE);
  ASSERT_TRUE(a.vs == NULL && b.vs == NULL);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  ASSERT_TRUE(sc_registry_find_user(r, "1", "9") == NULL);
  ASSERT_TRUE(sc_registry_find_channel(r, "300") == NULL);
  /* Other channels are untouched. */
  ASSERT_EQ(x.ended, 0);
  ASSERT_TRUE(sc_registry_find_user(r, "4", "9") == vx);
  ASSERT_TRUE(sc_registry_find_user(r, "3", "9") != NULL);
  sc_registry_destroy(r);
  ASSERT_EQ(x.ended, 1);
  ASSERT_EQ(x.why, SC_END_SHUTDOWN);
}

static void test_move_in_guild(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  fake_conn_t a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
  sc_vstate_t *va = make(r, "1", "400", "9", &a);
  make(r, "2", "400", "9", &b);
  make(r, "3", "401", "9", &c);
  sc_vflags_t f = {.mute = 1, .self_deaf = 1};
  sc_registry_set_flags(r, va, &f);
  char old_session[SC_SESSION_ID_LEN + 1];
  snprintf(old_session, sizeof old_session, "%s", va->session_id);
  uint32_t old_ssrc = va->ssrc;
  sc_vstate_t *moved = sc_registry_move_state(r, va, "401");
  ASSERT_TRUE(moved != NULL);
  /* The old connection is told, the old room sees it leave. */
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_REPLACED);
  ASSERT_EQ(b.n_left, 1);
  ASSERT_STREQ(b.left[0], "1");
  ASSERT_EQ(c.n_left, 0);
  /* New credentials in the new room, same flags. */
  ASSERT_STREQ(moved->channel->id, "401");
  ASSERT_TRUE(strcmp(moved->session_id, old_session) != 0);
  ASSERT_TRUE(moved->ssrc != old_ssrc);
  ASSERT_TRUE(sc_registry_find_session(r, old_session) == NULL);
  ASSERT_TRUE(sc_registry_find_user(r, "1", "9") == moved);
  ASSERT_EQ(moved->flags.mute, 1);
  ASSERT_EQ(moved->flags.self_deaf, 1);
  ASSERT_EQ(sc_registry_find_channel(r, "400")->n_states, 1);
  ASSERT_EQ(sc_registry_find_channel(r, "401")->n_states, 2);
  ASSERT_EQ(sc_registry_count_states(r), 3);
  /* A failed move leaves the state alone. */
  ASSERT_TRUE(sc_registry_move_state(r, moved, "nope") == NULL);
  ASSERT_TRUE(sc_registry_find_user(r, "1", "9") == moved);
  sc_registry_destroy(r);
}

/* Flags go to the state's own connection (on_flags) and to its attached
 * peers in the room (on_peer_flags), never to other rooms; a peer whose
 * ops have no on_peer_flags is skipped. */
static void test_peer_flags(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  fake_conn_t a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"}, d = {.name = "d"};
  static const sc_attach_ops_t no_peer_flags = {on_ended, on_flags, on_join, on_leave, NULL, NULL};
  sc_vstate_t *va = make(r, "1", "500", "9", &a);
  make(r, "2", "500", "9", &b);
  make(r, "3", "501", "9", &c);
  sc_vstate_t *vd = sc_registry_create_state(r, "4", "500", "9");
  ASSERT_EQ(sc_registry_attach(r, vd, &no_peer_flags, &d), 0);
  make(r, "5", "500", "9", NULL); /* not attached: told nothing */
  sc_vflags_t f = {.suppress = 1};
  sc_registry_set_flags(r, va, &f);
  ASSERT_EQ(a.flags_calls, 1);
  ASSERT_EQ(a.n_peer_flags, 0); /* not about itself */
  ASSERT_EQ(b.n_peer_flags, 1);
  ASSERT_STREQ(b.peer_flags[0], "1");
  ASSERT_EQ(b.flags_calls, 0);
  ASSERT_EQ(c.n_peer_flags, 0); /* another room */
  ASSERT_EQ(d.flags_calls + d.n_peer_flags, 0);
  f.suppress = 0;
  sc_registry_set_flags(r, va, &f);
  ASSERT_EQ(b.n_peer_flags, 2);
  sc_registry_destroy(r);
}

static void test_move_dm(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  fake_conn_t a = {.name = "a"}, b = {.name = "b"};
  sc_vstate_t *va = make(r, "1", "500", NULL, &a);
  make(r, "2", "500", NULL, &b);
  sc_vstate_t *moved = sc_registry_move_state(r, va, "501");
  ASSERT_TRUE(moved != NULL);
  ASSERT_EQ(a.ended, 1);
  ASSERT_EQ(a.why, SC_END_REPLACED);
  ASSERT_EQ(b.n_left, 1);
  ASSERT_TRUE(sc_registry_find_user(r, "1", "500") == NULL);
  ASSERT_TRUE(sc_registry_find_user(r, "1", "501") == moved);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  sc_registry_destroy(r);
}

typedef struct {
  int channels, states;
  char seen[8][SC_ID_MAX];
} tally_t;

static void count_state(sc_vstate_t *vs, void *arg) {
  (void)vs;
  ((tally_t *)arg)->states++;
}
static void count_channel(sc_channel_t *ch, void *arg) {
  tally_t *t = arg;
  ASSERT_TRUE(t->channels < 8);
  snprintf(t->seen[t->channels++], SC_ID_MAX, "%s", ch->id);
  sc_registry_each_state(ch, count_state, arg);
}

static void test_iteration(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  tally_t t = {0};
  sc_registry_each_channel(r, count_channel, &t);
  ASSERT_EQ(t.channels, 0);
  /* Many channels at once, and an empty pinned one. */
  char ch[SC_ID_MAX], user[SC_ID_MAX];
  for (int i = 0; i < 5; i++) {
    snprintf(ch, sizeof ch, "%d", 600 + i);
    for (int u = 0; u <= i; u++) {
      snprintf(user, sizeof user, "%d", 10 * i + u + 1);
      make(r, user, ch, "9", NULL);
    }
  }
  sc_registry_channel(r, "700", "9")->pinned = 1;
  sc_registry_each_channel(r, count_channel, &t);
  ASSERT_EQ(t.channels, 6);
  ASSERT_EQ(t.states, 15);
  ASSERT_EQ(sc_registry_count_channels(r), 6);
  int found = 0;
  for (int i = 0; i < t.channels; i++) found += strcmp(t.seen[i], "700") == 0;
  ASSERT_EQ(found, 1);
  sc_registry_destroy(r);
}

/* The limits: ENOSPC beyond them, EINVAL for bad ids, a replacement
 * passes at the state limit, and room comes back when states end. */
static void test_limits(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  sc_registry_set_limits(r, 2, 2);
  ASSERT_TRUE(sc_registry_create_state(r, "1", "10", "5") != NULL);
  ASSERT_TRUE(sc_registry_create_state(r, "2", "10", "5") != NULL);
  errno = 0;
  ASSERT_TRUE(sc_registry_create_state(r, "3", "10", "5") == NULL);
  ASSERT_EQ(errno, ENOSPC);
  ASSERT_TRUE(sc_registry_create_state(r, "1", "11", "5") != NULL); /* replaces user 1's */
  ASSERT_EQ(sc_registry_count_states(r), 2);
  ASSERT_EQ(sc_registry_count_channels(r), 2);
  errno = 0;
  ASSERT_TRUE(sc_registry_channel(r, "12", "5") == NULL);
  ASSERT_EQ(errno, ENOSPC);
  ASSERT_TRUE(sc_registry_channel(r, "11", "5") != NULL); /* an existing one is found */
  ASSERT_TRUE(sc_registry_channel(r, "x", NULL) == NULL);
  ASSERT_EQ(errno, EINVAL);
  ASSERT_TRUE(sc_registry_create_state(r, "u", "10", NULL) == NULL);
  ASSERT_EQ(errno, EINVAL);
  /* A refused state leaves no channel behind. */
  sc_registry_set_limits(r, 3, 2);
  ASSERT_TRUE(sc_registry_create_state(r, "4", "13", "5") == NULL);
  ASSERT_EQ(errno, ENOSPC);
  ASSERT_TRUE(sc_registry_find_channel(r, "13") == NULL);
  sc_registry_end_state(r, sc_registry_find_user(r, "2", "5"), SC_END_LEFT);
  ASSERT_TRUE(sc_registry_create_state(r, "4", "13", "5") != NULL);
  sc_registry_set_limits(r, 0, 0); /* no limit */
  ASSERT_TRUE(sc_registry_create_state(r, "5", "14", "5") != NULL);
  sc_registry_destroy(r);
}

/* A drain: no new call starts (a new channel, or a state in a channel
 * with no state, pinned or not: ESHUTDOWN, nothing left behind, a
 * refused move leaves the old state), while a user joins a call in
 * progress, and a state in it can be replaced. */
static void test_draining(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  fake_conn_t a = {.name = "a"};
  make(r, "1", "10", "5", &a);
  sc_channel_t *pinned = sc_registry_channel(r, "20", "5");
  ASSERT_TRUE(pinned != NULL);
  pinned->pinned = 1;
  sc_registry_set_draining(r, 1);
  errno = 0;
  ASSERT_TRUE(sc_registry_create_state(r, "2", "11", "5") == NULL);
  ASSERT_EQ(errno, ESHUTDOWN);
  ASSERT_TRUE(sc_registry_find_channel(r, "11") == NULL);
  errno = 0;
  ASSERT_TRUE(sc_registry_channel(r, "12", "5") == NULL);
  ASSERT_EQ(errno, ESHUTDOWN);
  errno = 0;
  ASSERT_TRUE(sc_registry_create_state(r, "2", "20", "5") == NULL); /* pinned, empty */
  ASSERT_EQ(errno, ESHUTDOWN);
  ASSERT_TRUE(sc_registry_channel(r, "20", "5") == pinned); /* existing: found */
  fake_conn_t b = {.name = "b"};
  make(r, "2", "10", "5", &b); /* joins the call in progress */
  ASSERT_EQ(a.n_joined, 1);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  /* Moving out of the call into an empty channel would start one. */
  errno = 0;
  ASSERT_TRUE(sc_registry_move_state(r, b.vs, "20") == NULL);
  ASSERT_EQ(errno, ESHUTDOWN);
  ASSERT_EQ(b.ended, 0);
  ASSERT_TRUE(sc_registry_find_user(r, "2", "5") == b.vs);
  /* The same user again in the same call: replaced as usual. */
  ASSERT_TRUE(sc_registry_create_state(r, "2", "10", "5") != NULL);
  ASSERT_EQ(b.ended, 1);
  ASSERT_EQ(b.why, SC_END_REPLACED);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  sc_registry_destroy(r);
}

/* SSRC claims: every SSRC in the process belongs to at most one state, as
 * its own or as a claimed alias; releasing and ending a state free them. */
static void test_ssrc_claims(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  sc_vstate_t *a = sc_registry_create_state(r, "1", "10", "100");
  sc_vstate_t *b = sc_registry_create_state(r, "2", "20", "100");
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, 0), -EINVAL);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, a->ssrc), -EEXIST); /* its own audio SSRC */
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, b->ssrc), -EEXIST); /* another state's, other channel */
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, 7000), 0);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, 7000), 0); /* again: still a's */
  ASSERT_EQ(a->n_aliases, 1);
  ASSERT_EQ(sc_registry_claim_ssrc(r, b, 7000), -EEXIST);
  ASSERT_TRUE(sc_registry_owns_ssrc(a, 7000) && sc_registry_owns_ssrc(a, a->ssrc));
  ASSERT_TRUE(!sc_registry_owns_ssrc(b, 7000));
  for (uint32_t s = 7001; s < 7000 + SC_MEDIA_MAX_ALIASES; s++)
    ASSERT_EQ(sc_registry_claim_ssrc(r, a, s), 0);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, 8000), -ENOSPC);
  sc_registry_release_ssrcs(r, a);
  ASSERT_EQ(a->n_aliases, 0);
  ASSERT_EQ(sc_registry_claim_ssrc(r, b, 7000), 0);
  /* Ending b releases 7000. */
  sc_registry_end_state(r, b, SC_END_LEFT);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, 7000), 0);
  sc_registry_destroy(r);
}

/* A reference of our own to a leg's member block, to look at it after the
 * registry let go of it. */
static sc_member_stats_t *hold(sc_member_stats_t *s) {
  return sc_member_stats_ref(s);
}

/* Legs: SSRCs unique with every other SSRC of the process (own, aliases,
 * other legs), the state's flags now and later, removal one by one, all
 * at once and with the state, and the SC_LEGS_MAX bound. A real media
 * plane, so removal is seen on the member blocks (SC_MEMBER_REMOVED). */
static void test_legs(void) {
  sc_media_t *media = sc_media_create("127.0.0.1", 0, 1, NULL);
  ASSERT_TRUE(media != NULL);
  ASSERT_EQ(sc_media_start(media), 0);
  sc_registry_t *r = sc_registry_create(media);
  sc_vstate_t *a = sc_registry_create_state(r, "1", "10", "100");
  sc_vstate_t *b = sc_registry_create_state(r, "2", "10", "100");
  ASSERT_EQ(sc_registry_count_legs(a), 0);
  sc_vflags_t f = {.mute = 1, .deaf = 1};
  sc_registry_set_flags(r, a, &f);
  uint32_t s1 = 0, s2 = 0;
  sc_member_stats_t *l1 = sc_registry_add_leg(r, a, &s1);
  ASSERT_TRUE(l1 != NULL && l1 != a->stats);
  sc_member_stats_t *l2 = sc_registry_add_leg(r, a, &s2);
  ASSERT_TRUE(l2 != NULL && l2 != l1);
  ASSERT_TRUE(s1 && s2 && s1 != s2 && s1 != a->ssrc && s1 != b->ssrc && s2 != a->ssrc);
  ASSERT_EQ(l1->ssrc, s1);
  ASSERT_EQ(l1->room_id, a->channel->room_id);
  ASSERT_EQ(sc_registry_count_legs(a), 2);
  /* A leg's SSRC is taken: nobody may claim it, not even its own state. */
  ASSERT_EQ(sc_registry_claim_ssrc(r, b, s1), -EEXIST);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, s2), -EEXIST);
  /* Flags: applied at creation, and on every change. */
  ASSERT_EQ(sc_member_flags(l1) & (SC_MEMBER_MUTED | SC_MEMBER_DEAF),
            SC_MEMBER_MUTED | SC_MEMBER_DEAF);
  f = (sc_vflags_t){.deaf = 1};
  sc_registry_set_flags(r, a, &f);
  ASSERT_EQ(sc_member_flags(l1) & (SC_MEMBER_MUTED | SC_MEMBER_DEAF), SC_MEMBER_DEAF);
  ASSERT_EQ(sc_member_flags(l2) & (SC_MEMBER_MUTED | SC_MEMBER_DEAF), SC_MEMBER_DEAF);
  f = (sc_vflags_t){0};
  sc_registry_set_flags(r, a, &f);
  ASSERT_EQ(sc_member_flags(l2) & (SC_MEMBER_MUTED | SC_MEMBER_DEAF), 0);
  ASSERT_EQ(sc_member_flags(b->stats), 0); /* another state's flags are its own */
  /* Remove one: out of the media plane, its SSRC free again. */
  sc_member_stats_t *h1 = hold(l1);
  sc_registry_remove_leg(r, a, l1);
  ASSERT_TRUE(sc_member_flags(h1) & SC_MEMBER_REMOVED);
  ASSERT_EQ(sc_registry_count_legs(a), 1);
  ASSERT_EQ(sc_registry_claim_ssrc(r, b, s1), 0);
  sc_registry_remove_leg(r, a, h1); /* gone already: nothing happens */
  sc_registry_remove_leg(r, b, l2); /* not b's: nothing happens */
  ASSERT_EQ(sc_registry_count_legs(a), 1);
  sc_member_stats_release(h1);
  /* The bound: SC_LEGS_MAX live legs, then ENOSPC; removing one makes room. */
  sc_member_stats_t *last = NULL;
  while (sc_registry_count_legs(a) < SC_LEGS_MAX)
    ASSERT_TRUE((last = sc_registry_add_leg(r, a, NULL)));
  errno = 0;
  ASSERT_TRUE(sc_registry_add_leg(r, a, NULL) == NULL);
  ASSERT_EQ(errno, ENOSPC);
  sc_registry_remove_leg(r, a, last);
  ASSERT_TRUE(sc_registry_add_leg(r, a, NULL) != NULL);
  /* Release all: every one removed. */
  sc_member_stats_t *h2 = hold(l2);
  sc_registry_release_legs(r, a);
  ASSERT_EQ(sc_registry_count_legs(a), 0);
  ASSERT_TRUE(sc_member_flags(h2) & SC_MEMBER_REMOVED);
  ASSERT_EQ(sc_registry_claim_ssrc(r, b, s2), 0);
  sc_member_stats_release(h2);
  /* Ending the state removes its legs and frees their SSRCs. */
  uint32_t s3 = 0;
  sc_member_stats_t *h3 = hold(sc_registry_add_leg(r, b, &s3));
  sc_registry_end_state(r, b, SC_END_LEFT);
  ASSERT_TRUE(sc_member_flags(h3) & SC_MEMBER_REMOVED);
  ASSERT_EQ(sc_registry_claim_ssrc(r, a, s3), 0);
  sc_member_stats_release(h3);
  sc_media_sync(media);
  sc_registry_destroy(r);
  sc_media_stop(media);
  sc_media_destroy(media);
}

/* Legs' counters count towards the state's traffic, also once removed. */
static void test_legs_traffic(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  sc_vstate_t *a = sc_registry_create_state(r, "1", "10", "100");
  sc_registry_set_transport(r, a, "webrtc", "srtp");
  sc_member_stats_t *leg = sc_registry_add_leg(r, a, NULL);
  atomic_store(&leg->tx_packets, 5);
  atomic_store(&leg->tx_bytes, 500);
  atomic_store(&a->stats->rx_packets, 2);
  sc_traffic_t t;
  sc_registry_traffic(r, &t);
  ASSERT_EQ(t.n, 1);
  ASSERT_EQ(t.rows[0].c.tx_packets, 5);
  ASSERT_EQ(t.rows[0].c.rx_packets, 2);
  sc_registry_remove_leg(r, a, leg);
  sc_registry_traffic(r, &t);
  ASSERT_EQ(t.rows[0].c.tx_bytes, 500); /* monotonic */
  sc_registry_end_state(r, a, SC_END_LEFT);
  sc_registry_traffic(r, &t);
  ASSERT_EQ(t.rows[0].c.tx_packets, 5);
  sc_registry_destroy(r);
}

/* Token look-up: hit, miss (other token, a prefix, one byte off, wrong
 * length), and no hit once the state ended or moved. */
static void test_find_token(void) {
  sc_registry_t *r = sc_registry_create(NULL);
  sc_vstate_t *a = sc_registry_create_state(r, "1", "10", "100");
  sc_vstate_t *b = sc_registry_create_state(r, "2", "10", "100");
  ASSERT_TRUE(sc_registry_find_token(r, a->token, strlen(a->token)) == a);
  ASSERT_TRUE(sc_registry_find_token(r, b->token, SC_VOICE_TOKEN_LEN) == b);
  char guess[SC_VOICE_TOKEN_LEN + 2];
  snprintf(guess, sizeof guess, "%s", a->token);
  guess[SC_VOICE_TOKEN_LEN - 1] = guess[SC_VOICE_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(sc_registry_find_token(r, guess, SC_VOICE_TOKEN_LEN) == NULL);
  ASSERT_TRUE(sc_registry_find_token(r, a->token, SC_VOICE_TOKEN_LEN - 1) == NULL);
  snprintf(guess, sizeof guess, "%sx", a->token);
  ASSERT_TRUE(sc_registry_find_token(r, guess, SC_VOICE_TOKEN_LEN + 1) == NULL);
  ASSERT_TRUE(sc_registry_find_token(r, NULL, 0) == NULL);
  ASSERT_TRUE(sc_registry_find_token(r, "", 0) == NULL);
  /* Ended: its token finds nothing. */
  snprintf(guess, sizeof guess, "%s", b->token);
  sc_registry_end_state(r, b, SC_END_LEFT);
  ASSERT_TRUE(sc_registry_find_token(r, guess, SC_VOICE_TOKEN_LEN) == NULL);
  /* Moved: the old token finds nothing, the new one the new state. */
  snprintf(guess, sizeof guess, "%s", a->token);
  sc_vstate_t *moved = sc_registry_move_state(r, a, "11");
  ASSERT_TRUE(moved != NULL);
  ASSERT_TRUE(sc_registry_find_token(r, guess, SC_VOICE_TOKEN_LEN) == NULL);
  ASSERT_TRUE(sc_registry_find_token(r, moved->token, SC_VOICE_TOKEN_LEN) == moved);
  /* Replaced by a new state of the same user: the new token only. */
  snprintf(guess, sizeof guess, "%s", moved->token);
  sc_vstate_t *again = sc_registry_create_state(r, "1", "11", "100");
  ASSERT_TRUE(sc_registry_find_token(r, guess, SC_VOICE_TOKEN_LEN) == NULL);
  ASSERT_TRUE(sc_registry_find_token(r, again->token, SC_VOICE_TOKEN_LEN) == again);
  sc_registry_set_e2ee(again, 1);
  ASSERT_EQ(again->max_dave_version, 1);
  sc_registry_set_e2ee(again, -3);
  ASSERT_EQ(again->max_dave_version, 0);
  sc_registry_destroy(r);
}

/* take_over: the old connection is detached, then told SC_END_REPLACED;
 * the state lives on with the new one; peers see neither a leave nor a
 * join; legs and aliases are released and the media member reset. */
static void test_take_over(void) {
  sc_media_t *media = sc_media_create("127.0.0.1", 0, 1, NULL);
  ASSERT_TRUE(media != NULL);
  ASSERT_EQ(sc_media_start(media), 0);
  sc_registry_t *r = sc_registry_create(media);
  fake_conn_t peer = {.name = "peer"}, old = {.name = "old"}, new = {.name = "new"};
  sc_vstate_t *p = make(r, "1", "10", "100", &peer);
  sc_vstate_t *vs = make(r, "2", "10", "100", &old);
  ASSERT_EQ(peer.n_joined, 1);
  ASSERT_EQ(sc_registry_claim_ssrc(r, vs, 4242), 0);
  sc_member_stats_t *leg = hold(sc_registry_add_leg(r, vs, NULL));
  sc_registry_set_e2ee(vs, 1);
  uint32_t gen = sc_member_gen(vs->stats);
  ASSERT_EQ(sc_registry_take_over(r, vs, &fake_ops, &new), 0);
  ASSERT_EQ(old.ended, 1);
  ASSERT_EQ(old.why, SC_END_REPLACED);
  ASSERT_TRUE(old.vs == NULL);
  ASSERT_EQ(new.ended, 0);
  ASSERT_TRUE(vs->ops == &fake_ops && vs->conn == &new);
  ASSERT_TRUE(sc_registry_find_session(r, vs->session_id) == vs);
  ASSERT_TRUE(sc_registry_find_token(r, vs->token, SC_VOICE_TOKEN_LEN) == vs);
  ASSERT_EQ(peer.n_joined, 1);
  ASSERT_EQ(peer.n_left, 0);
  ASSERT_EQ(sc_registry_count_legs(vs), 0);
  ASSERT_TRUE(sc_member_flags(leg) & SC_MEMBER_REMOVED);
  ASSERT_EQ(vs->n_aliases, 0);
  ASSERT_EQ(vs->max_dave_version, 0);
  ASSERT_TRUE(sc_member_gen(vs->stats) != gen);
  ASSERT_EQ(sc_registry_count_states(r), 2);
  /* The new connection hears about its peers as usual. */
  sc_registry_end_state(r, p, SC_END_LEFT);
  ASSERT_EQ(new.n_left, 1);
  ASSERT_EQ(old.n_left, 0);
  /* A take-over with nobody attached is an attach: peers see a join. */
  fake_conn_t late = {.name = "late"}, third = {.name = "third"};
  sc_vstate_t *q = make(r, "3", "10", "100", NULL);
  ASSERT_EQ(sc_registry_take_over(r, q, &fake_ops, &third), 0);
  ASSERT_EQ(new.n_joined, 1);
  ASSERT_EQ(third.ended, 0);
  ASSERT_EQ(sc_registry_take_over(r, q, NULL, &late), -EINVAL);
  ASSERT_EQ(sc_registry_take_over(r, q, &fake_ops, &third), -EINVAL); /* itself */
  ASSERT_EQ(third.ended, 0);
  sc_member_stats_release(leg);
  sc_media_sync(media);
  sc_registry_destroy(r);
  ASSERT_EQ(new.ended, 1);
  ASSERT_EQ(new.why, SC_END_SHUTDOWN);
  sc_media_stop(media);
  sc_media_destroy(media);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  RUN_TEST(test_create_and_find);
  RUN_TEST(test_channel_lifetime);
  RUN_TEST(test_destroy_channel_ends_everyone);
  RUN_TEST(test_move_in_guild);
  RUN_TEST(test_peer_flags);
  RUN_TEST(test_move_dm);
  RUN_TEST(test_iteration);
  RUN_TEST(test_limits);
  RUN_TEST(test_draining);
  RUN_TEST(test_ssrc_claims);
  RUN_TEST(test_legs);
  RUN_TEST(test_legs_traffic);
  RUN_TEST(test_find_token);
  RUN_TEST(test_take_over);
  SC_TEST_DONE();
}
