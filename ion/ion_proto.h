/*
 * ion_proto: the protoo methods of the ion dialect (seed 004 and
 * ion-sdk-js 0.4.x; docs/ION.md), the top of the ion stack (ion_conn <-
 * ion_session <- ion_proto). It reads each request (ion_msg), checks the
 * credentials (the voice token names the room: rid and uid are
 * cross-checked, a mismatch is answered 401 and the socket closed with
 * 4000), runs join, leave, keepalive, publish, unpublish, subscribe,
 * unsubscribe and broadcast, and turns room events into the
 * notifications peer-join, peer-leave, stream-add, stream-remove and
 * broadcast.
 *
 * Threads: control (lws) thread only.
 * Memory: the listener owns one ion_proto_t; each socket's ion_client_t
 * lives in lws per-session memory and holds its session (freed by
 * ion_client_closed, or when the registry ends the state).
 */
#ifndef ION_PROTO_H
#define ION_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ion_conn.h"
#include "ion_msg.h"
#include "ion_session.h"
#include "sc_app.h"
#include "sc_hmap.h"

#define ION_SFU_ID "litecord-voice" /* sfuid and signalid: this sidecar */
#define ION_BROADCAST_MAX 8192      /* bytes of one broadcast notification; more: 413 */

typedef struct {
  sc_app_t *app;
  ion_limits_t lim;
  ion_counts_t counts;
  const char *ip; /* media IPv4 for SDP */
  int max_subs;
  uint64_t method_counts[ION_M_COUNT];
  int sessions; /* joined clients */
} ion_proto_t;

/* What a client's clean leave ended: ion-sdk-js unpublishes and
 * unsubscribes after its leave, and those requests are answered {}. */
typedef struct {
  char sid[ION_SID_MAX];
  char mid[ION_MID_MAX];
} ion_ended_sub_t;

typedef struct {
  int valid;             /* the client left with leave, and did not join again */
  char rid[SC_ID_MAX];   /* the room it left */
  char mid[ION_MID_MAX]; /* its own stream's name */
  ion_ended_sub_t *subs; /* the subscriptions the leave ended (owned) */
  int n_subs;
} ion_left_t;

typedef struct {
  ion_conn_t conn;
  ion_proto_t *proto;
  ion_session_t *session;            /* NULL before join and after leave */
  char token[ION_MSG_FIELD_MAX + 1]; /* from the URL, "" when none */
  char peer[ION_MSG_FIELD_MAX + 1];  /* ?peer= from the URL, "" when none */
  json_t *info;                      /* the join's info (peer-join to others) */
  sc_hmap_t streams;                 /* mids announced with stream-add (keys owned) */
  ion_left_t left;                   /* after a leave */
} ion_client_t;

/* A socket opened with the URL's token and peer (NULL when absent):
 * an unknown token, or a peer that is not the token's user, is counted
 * and closed with 4000 at once. */
void ion_client_open(ion_client_t *c, ion_proto_t *p, const ion_io_t *io, void *io_ctx,
                     const char *token, const char *peer);
/* One complete text frame at now_ms. */
void ion_client_text(ion_client_t *c, const char *buf, size_t len, uint64_t now_ms);
/* The socket is gone: the session (if any) leaves. */
void ion_client_closed(ion_client_t *c);
/* Counters and sessions for the admin view. */
json_t *ion_proto_status(const ion_proto_t *p);
/* The same as metric families (GET /metrics, litecord_voice_ion_*). */
struct sc_metrics;
void ion_proto_metrics(const ion_proto_t *p, struct sc_metrics *m);

#endif
