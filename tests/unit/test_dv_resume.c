/*
 * dv_resume (the messages a voice session keeps for resume), dv_limits
 * (the message-rate bucket) and dv_timer (manual clock, and the lws_sul
 * clock on a real lws context).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dv_limits.h"
#include "dv_resume.h"
#include "dv_timer.h"
#include "sc_server.h"
#include "sc_test.h"

static void push(dv_resume_t *b, int n) {
  for (int i = 0; i < n; i++) {
    char text[32];
    uint32_t seq = dv_resume_next(b);
    int len = snprintf(text, sizeof text, "msg %u", seq);
    ASSERT_EQ(dv_resume_keep(b, seq, text, (size_t)len), 0);
  }
}

static void test_wire_numbers(void) {
  ASSERT_EQ(dv_resume_wire(1), 1);
  ASSERT_EQ(dv_resume_wire(65535), 65535);
  ASSERT_EQ(dv_resume_wire(65536), 1); /* never 0: clients ignore seq 0 */
  ASSERT_EQ(dv_resume_wire(65537), 2);
  dv_resume_t b;
  ASSERT_EQ(dv_resume_init(&b, 0, DV_RESUME_BYTES), -EINVAL);
  ASSERT_EQ(dv_resume_init(&b, DV_RESUME_MAX_CAP + 1, DV_RESUME_BYTES), -EINVAL);
}

static void test_keep_ack_replay(void) {
  dv_resume_t b;
  ASSERT_EQ(dv_resume_init(&b, 8, DV_RESUME_BYTES), 0);
  const dv_resume_msg_t *first;
  ASSERT_EQ(dv_resume_from(&b, -1, &first), 0); /* nothing sent, nothing seen */
  ASSERT_TRUE(first == NULL);
  push(&b, 5);
  ASSERT_EQ(dv_resume_from(&b, -1, &first), 0);
  ASSERT_STREQ(first->text, "msg 1");
  ASSERT_EQ(dv_resume_from(&b, 3, &first), 0);
  ASSERT_STREQ(first->text, "msg 4");
  ASSERT_EQ(first->len, 5);
  ASSERT_STREQ(first->next->text, "msg 5");
  ASSERT_TRUE(first->next->next == NULL);
  ASSERT_EQ(dv_resume_from(&b, 5, &first), 0);
  ASSERT_TRUE(first == NULL);                        /* up to date: nothing to re-send */
  ASSERT_EQ(dv_resume_from(&b, 6, &first), -ESTALE); /* never sent */
  ASSERT_EQ(dv_resume_from(&b, 0, &first), -ESTALE);
  dv_resume_ack(&b, 2);
  ASSERT_EQ(dv_resume_count(&b), 3);
  ASSERT_EQ(dv_resume_from(&b, 2, &first), 0);
  ASSERT_STREQ(first->text, "msg 3");
  ASSERT_EQ(dv_resume_from(&b, 1, &first), -ESTALE); /* msg 2 is gone */
  ASSERT_EQ(dv_resume_from(&b, -1, &first), -ESTALE);
  dv_resume_ack(&b, 1); /* an old ack changes nothing */
  dv_resume_ack(&b, 999);
  ASSERT_EQ(dv_resume_count(&b), 3);
  /* Overflow drops the oldest. */
  push(&b, 7); /* 3 + 7 > 8: msgs 3 and 4 dropped */
  ASSERT_EQ(dv_resume_count(&b), 8);
  ASSERT_STREQ(b.head->text, "msg 5");
  ASSERT_STREQ(b.tail->text, "msg 12");
  ASSERT_EQ(dv_resume_from(&b, 3, &first), -ESTALE);
  ASSERT_EQ(dv_resume_from(&b, 4, &first), 0);
  int n = 0;
  for (; first; first = first->next) ASSERT_EQ(first->seq, 5u + (uint32_t)n++);
  ASSERT_EQ(n, 8);
  dv_resume_clear(&b);
  ASSERT_EQ(dv_resume_from(&b, 12, &first), 0);
  ASSERT_EQ(dv_resume_from(&b, 11, &first), -ESTALE);
  dv_resume_free(&b);
}

/* Acknowledged messages are freed, and an empty buffer holds no memory at
 * all (an idle v8 session acknowledges with every heartbeat). */
static void test_ack_releases_everything(void) {
  dv_resume_t b;
  ASSERT_EQ(dv_resume_init(&b, 4, DV_RESUME_BYTES), 0);
  ASSERT_TRUE(b.head == NULL && b.tail == NULL);
  push(&b, 6); /* 3..6 kept */
  ASSERT_EQ(dv_resume_count(&b), 4);
  dv_resume_ack(&b, 5);
  ASSERT_EQ(dv_resume_count(&b), 1);
  ASSERT_TRUE(b.head == b.tail);
  dv_resume_ack(&b, 6);
  ASSERT_EQ(dv_resume_count(&b), 0);
  ASSERT_TRUE(b.head == NULL && b.tail == NULL);
  /* Still numbered on from 7 and resumable from 6. */
  push(&b, 2);
  const dv_resume_msg_t *first;
  ASSERT_EQ(dv_resume_from(&b, 6, &first), 0);
  ASSERT_STREQ(first->text, "msg 7");
  ASSERT_STREQ(b.tail->text, "msg 8");
  /* Text is kept byte for byte, NUL-terminated after len. */
  uint32_t seq = dv_resume_next(&b);
  ASSERT_EQ(dv_resume_keep(&b, seq, "a\0b", 3), 0);
  ASSERT_EQ(b.tail->len, 3);
  ASSERT_MEMEQ(b.tail->text, "a\0b", 4);
  dv_resume_free(&b);
  ASSERT_TRUE(b.head == NULL && dv_resume_count(&b) == 0);
}

/* Across the wire wrap (65535 -> 1) acks still name the right message. */
static void test_wrap(void) {
  dv_resume_t b;
  ASSERT_EQ(dv_resume_init(&b, 16, DV_RESUME_BYTES), 0);
  push(&b, 65530);
  dv_resume_ack(&b, 65530);
  push(&b, 10); /* internal 65531..65540 = wire 65531..65535, 1..5 */
  const dv_resume_msg_t *first;
  ASSERT_EQ(dv_resume_from(&b, 65534, &first), 0);
  ASSERT_EQ(first->seq, 65535u);
  ASSERT_EQ(dv_resume_from(&b, 2, &first), 0);
  ASSERT_EQ(first->seq, 65538u);
  dv_resume_ack(&b, 3);
  ASSERT_EQ(dv_resume_count(&b), 2);
  ASSERT_EQ(dv_resume_from(&b, 65535, &first), -ESTALE);
  dv_resume_free(&b);
}

/* The byte budget: the text kept never passes max_bytes (but for one
 * message larger than the budget, kept alone); passing it drops the
 * oldest and says so, so the session can close the socket to resume. */
static void test_byte_budget(void) {
  dv_resume_t b;
  ASSERT_EQ(dv_resume_init(&b, 100, 0), -EINVAL);
  ASSERT_EQ(dv_resume_init(&b, 100, 1000), 0);
  char big[400];
  memset(big, 'x', sizeof big);
  for (int i = 0; i < 2; i++) ASSERT_EQ(dv_resume_keep(&b, dv_resume_next(&b), big, 400), 0);
  ASSERT_EQ(dv_resume_bytes(&b), 800);
  /* The third would make 1200: the oldest goes. */
  ASSERT_EQ(dv_resume_keep(&b, dv_resume_next(&b), big, 400), DV_RESUME_OVER);
  ASSERT_EQ(dv_resume_count(&b), 2);
  ASSERT_EQ(dv_resume_bytes(&b), 800);
  const dv_resume_msg_t *first;
  ASSERT_EQ(dv_resume_from(&b, 1, &first), 0); /* what fits can still be resumed */
  ASSERT_EQ(dv_resume_from(&b, -1, &first), -ESTALE);
  /* Acknowledged bytes are released. */
  dv_resume_ack(&b, 2);
  ASSERT_EQ(dv_resume_bytes(&b), 400);
  /* Bounded however many large messages come. */
  for (int i = 0; i < 50; i++) {
    ASSERT_TRUE(dv_resume_keep(&b, dv_resume_next(&b), big, 400) >= 0);
    ASSERT_TRUE(dv_resume_bytes(&b) <= 1000);
  }
  /* One message over the whole budget is kept alone. */
  char huge[1500];
  memset(huge, 'y', sizeof huge);
  ASSERT_EQ(dv_resume_keep(&b, dv_resume_next(&b), huge, sizeof huge), DV_RESUME_OVER);
  ASSERT_EQ(dv_resume_count(&b), 1);
  ASSERT_EQ(dv_resume_bytes(&b), sizeof huge);
  dv_resume_clear(&b);
  ASSERT_EQ(dv_resume_bytes(&b), 0);
  dv_resume_free(&b);
}

static void test_rate(void) {
  dv_rate_t r = {0};
  for (int i = 0; i < 10; i++) ASSERT_EQ(dv_rate_take(&r, 10, 1000, 5000), 0);
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 5000), -1);
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 5099), -1); /* 99 ms: not yet one message */
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 5100), 0);
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 5100), -1);
  /* A long pause refills to the burst size, never beyond. */
  for (int i = 0; i < 10; i++) ASSERT_EQ(dv_rate_take(&r, 10, 1000, 900000), 0);
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 900000), -1);
  /* The clock never goes back, but a step back must not refill. */
  ASSERT_EQ(dv_rate_take(&r, 10, 1000, 1), -1);
  dv_settings_t cfg = {.gw_heartbeat_ms = 1000, .gw_max_message = 7};
  dv_limits_t l;
  dv_limits_from_config(&cfg, &l);
  ASSERT_EQ(l.hb_timeout_ms, 7000);
  ASSERT_EQ(l.max_message, 7);
  cfg.gw_heartbeat_timeout_ms = 1234;
  dv_limits_from_config(&cfg, &l);
  ASSERT_EQ(l.hb_timeout_ms, 1234);
}

typedef struct {
  dv_timer_t t;
  int fired;
  uint64_t at;
  dv_timer_t *rearm; /* armed by this one's callback */
} probe_t;

static void on_probe(dv_timer_t *t) {
  probe_t *p = (probe_t *)t;
  p->fired++;
  p->at = dv_timers_now(t->hub);
  if (p->rearm) dv_timer_arm(p->rearm, 10);
}

static void test_manual_timers(void) {
  dv_timers_t h;
  dv_timers_init(&h, NULL);
  probe_t a = {0}, b = {0}, c = {0};
  dv_timer_init(&a.t, &h, on_probe);
  dv_timer_init(&b.t, &h, on_probe);
  dv_timer_init(&c.t, &h, on_probe);
  a.rearm = &c.t;
  dv_timer_arm(&b.t, 50);
  dv_timer_arm(&a.t, 30);
  dv_timer_arm(&b.t, 40); /* re-arming moves it */
  dv_timers_advance(&h, 39);
  ASSERT_EQ(a.fired, 1);
  ASSERT_EQ(a.at, 30);
  ASSERT_EQ(b.fired, 0);
  ASSERT_EQ(c.fired, 0); /* due at 40 */
  dv_timers_advance(&h, 100);
  ASSERT_EQ(b.fired, 1);
  ASSERT_EQ(b.at, 40);
  ASSERT_EQ(c.fired, 1);
  ASSERT_EQ(c.at, 40);
  ASSERT_EQ(dv_timers_now(&h), 139);
  dv_timer_arm(&a.t, 5);
  dv_timer_cancel(&a.t);
  dv_timers_advance(&h, 100);
  ASSERT_EQ(a.fired, 1);
  dv_timers_free(&h, 0);
}

/* Many timers, armed, re-armed (earlier and later) and cancelled in a
 * pseudo-random order: each fires exactly once, at its last due time, in
 * due-time order, and a cancelled one never fires (the hub's heap). */
#define HEAP_N 1000
typedef struct {
  dv_timer_t t;
  uint64_t due; /* expected due time; 0 = cancelled */
  int fired;
  uint64_t at;
} heap_probe_t;
static uint64_t heap_last_at;
static int heap_order_ok = 1;

static void on_heap_probe(dv_timer_t *t) {
  heap_probe_t *p = (heap_probe_t *)t;
  p->fired++;
  p->at = dv_timers_now(t->hub);
  if (p->at < heap_last_at) heap_order_ok = 0;
  heap_last_at = p->at;
}

static void test_timer_heap(void) {
  static heap_probe_t p[HEAP_N];
  dv_timers_t h;
  dv_timers_init(&h, NULL);
  uint32_t x = 12345;
  for (int i = 0; i < HEAP_N; i++) dv_timer_init(&p[i].t, &h, on_heap_probe);
  for (int round = 0; round < 5 * HEAP_N; round++) {
    x = x * 1103515245u + 12345u;
    int i = (int)((x >> 8) % HEAP_N);
    uint32_t ms = 1 + (x >> 20) % 5000;
    if ((x & 7) == 0) {
      dv_timer_cancel(&p[i].t);
      p[i].due = 0;
    } else {
      dv_timer_arm(&p[i].t, ms);
      p[i].due = ms; /* the clock stands at 0 while arming */
    }
  }
  dv_timers_advance(&h, 2500);
  dv_timers_advance(&h, 2600);
  ASSERT_TRUE(heap_order_ok);
  ASSERT_EQ(h.n, 0);
  for (int i = 0; i < HEAP_N; i++) {
    ASSERT_EQ(p[i].fired, p[i].due ? 1 : 0);
    if (p[i].due) ASSERT_EQ(p[i].at, p[i].due);
    ASSERT_EQ(p[i].t.armed, 0);
  }
  dv_timers_free(&h, 0);
}

/* The same timers on the server's lws loop (lws_sul), as sc_server makes it. */
static void test_lws_timers(void) {
  static sc_app_t app;
  ASSERT_EQ(sc_config_parse(&app, NULL, 0, 1, (char *[]){"litecord-voice", NULL}, stdout, stderr),
            SC_CONFIG_RUN);
  ASSERT_EQ(sc_server_create(&app), 0);
  dv_timers_t h;
  dv_timers_init(&h, app.lws);
  probe_t a = {0}, b = {0};
  dv_timer_init(&a.t, &h, on_probe);
  dv_timer_init(&b.t, &h, on_probe);
  uint64_t start = dv_timers_now(&h);
  /* b first: arming a then moves the hub's one lws timer earlier. */
  dv_timer_arm(&b.t, 30);
  dv_timer_arm(&a.t, 20);
  dv_timer_cancel(&b.t);
  /* A pass that does not wait cannot sleep past the timer on a context
   * with nothing else to do. */
  while (!a.fired && dv_timers_now(&h) < start + 5000) {
    sc_server_service(&app, 0);
    usleep(1000);
  }
  ASSERT_EQ(a.fired, 1);
  ASSERT_TRUE(a.at >= start + 20);
  ASSERT_EQ(b.fired, 0);
  ASSERT_EQ(a.t.armed, 0);
  dv_timers_free(&h, 1);
  sc_server_destroy(&app);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_wire_numbers);
  RUN_TEST(test_keep_ack_replay);
  RUN_TEST(test_ack_releases_everything);
  RUN_TEST(test_wrap);
  RUN_TEST(test_byte_budget);
  RUN_TEST(test_rate);
  RUN_TEST(test_manual_timers);
  RUN_TEST(test_timer_heap);
  RUN_TEST(test_lws_timers);
  SC_TEST_DONE();
}
