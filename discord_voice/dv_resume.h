/*
 * dv_resume: the numbered server messages one voice session keeps for
 * re-delivery (gateway v8 buffered resume).
 *
 * Numbering (JSON messages and DAVE binary frames share it): internally a 32-bit count from 1; on
 * the wire (JSON "seq", and the u16 prefix of binary frames if any were ever sent) the count cycles
 * through 1..65535, skipping 0 because clients ignore seq 0. The buffer holds at most `cap`
 * messages (cap < 32768, so a wire number maps back to at most one kept message) and at most
 * `max_bytes` bytes of text (one message larger than that is kept alone). When either bound is
 * reached the oldest messages are dropped and a resume that still needs
 * them fails; dropping for bytes is reported to the caller (the session
 * closes a bound socket so that the client resumes with what fits,
 * docs/GATEWAY.md). A client's seq_ack trims it.
 *
 * Storage: one allocation per kept message (header and text together) in
 * a list from the oldest; the buffer itself allocates nothing. An idle
 * session whose client acknowledged everything holds no memory here (a v8
 * client acknowledges with every heartbeat).
 *
 * Threads: control thread only. Pure data structure, no I/O.
 * Memory: the buffer owns the kept messages; dv_resume_free (or ack,
 * clear) releases them.
 */
#ifndef DV_RESUME_H
#define DV_RESUME_H

#include <stddef.h>
#include <stdint.h>

#define DV_RESUME_MAX_CAP 16384
/* Bytes of message text kept per session (docs/GATEWAY.md "Budgets"):
 * 512 ordinary messages (<= 500 bytes) fit with room to spare. */
#define DV_RESUME_BYTES (256u * 1024u)
/* dv_resume_keep's result when older messages were dropped for bytes. */
#define DV_RESUME_OVER 1

typedef struct dv_resume_msg dv_resume_msg_t;
struct dv_resume_msg {
  dv_resume_msg_t *next; /* the next newer kept message, or NULL */
  uint32_t seq;          /* internal number */
  uint32_t len;
  int binary;  /* a binary frame (DAVE: u16 seq | u8 op | payload), else JSON text */
  char text[]; /* len bytes and a NUL */
};

typedef struct {
  dv_resume_msg_t *head, *tail; /* oldest and newest kept */
  size_t count, max;            /* max: the configured bound */
  size_t bytes, max_bytes;      /* text kept, and its bound */
  uint32_t last;                /* internal number of the last message (0: none yet) */
} dv_resume_t;

/* cap in 1..DV_RESUME_MAX_CAP, max_bytes >= 1. 0 or -EINVAL. */
int dv_resume_init(dv_resume_t *b, size_t cap, size_t max_bytes);
void dv_resume_free(dv_resume_t *b);

/* Numbers the next message: returns its internal number. */
uint32_t dv_resume_next(dv_resume_t *b);
/* The wire form of an internal number: 1..65535. */
uint16_t dv_resume_wire(uint32_t seq);

/* Keeps a copy of message `seq` (from dv_resume_next, in order). When the
 * buffer is full (count) the oldest message is dropped: 0. When the text
 * kept would pass max_bytes the oldest are dropped until it fits:
 * DV_RESUME_OVER. -ENOMEM or -EMSGSIZE (4 GiB or more): then everything
 * kept is dropped, so a resume that needs the message fails instead of
 * skipping it. */
int dv_resume_keep(dv_resume_t *b, uint32_t seq, const char *text, size_t len);
/* The same for a text (binary 0) or binary frame; the kind is re-sent as kept. */
int dv_resume_keep_frame(dv_resume_t *b, uint32_t seq, const void *text, size_t len, int binary);

/* The client has seen everything up to wire number `ack`: drops those.
 * An ack that names no message we could still have is ignored. */
void dv_resume_ack(dv_resume_t *b, long long ack);
/* Drops every kept message. */
void dv_resume_clear(dv_resume_t *b);

/* For a resume with seq_ack `ack` (-1: nothing seen): sets *first to the
 * first message to re-send (NULL: none); the rest follow through ->next.
 * Returns 0, or -ESTALE when a message after `ack` is no longer kept or
 * `ack` names nothing we sent. */
int dv_resume_from(const dv_resume_t *b, long long ack, const dv_resume_msg_t **first);
size_t dv_resume_count(const dv_resume_t *b);
/* Bytes of message text kept. */
size_t dv_resume_bytes(const dv_resume_t *b);

#endif
