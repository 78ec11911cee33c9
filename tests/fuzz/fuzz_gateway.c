/*
 * fuzz_gateway: dv_gw_text (discord_voice/dv_gateway.h), the
 * voice gateway's message handling, on two connections of one gateway
 * (sessions, resume, limits, a manual clock) against a real registry (no
 * media plane) holding three voice states: users 1 and 2 in channel 100,
 * user 3 in channel 200, all on server (guild) 10.
 *
 * The input is split at '\n'; each line's first byte says what happens:
 *   a<json> / b<json>   a text message on connection a / b
 *   x<bytes> / y<bytes> a binary message on connection a / b
 *   A<v> / B<v>         that connection's socket goes away; a new one
 *                       opens with gateway version <v> ('4'..'8', else 8)
 *   O                   a message on a outgrew the size limit
 *   T<d>                the clock moves d seconds (heartbeat deadlines,
 *                       resume grace)
 *   E<n><r>             voice state n ends (reason r % 4)
 *   R<n>                voice state n is replaced by a new one (LVSP)
 *   F<n>                voice state n is server-muted and deafened
 * Placeholders @sN@ / @tN@ become state N's session id / voice token (the
 * last ones it had, so ended states' credentials can be replayed).
 * Checks: every message sent is a JSON object with an integer op and a
 * d; close codes are the Discord voice codes the gateway documents; no
 * message follows a close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_gateway.h"
#include "fuzz_util.h"
#include "sc_config.h"
#include "sc_registry.h"

#define N_STATES 3

typedef struct {
  dv_conn_t conn;
  int closed;
} fconn_t;

typedef struct {
  sc_app_t *app;
  dv_gw_t *gw;
  fconn_t c[2];
  sc_vstate_t *vs[N_STATES + 1];
  char sid[N_STATES + 1][SC_SESSION_ID_LEN + 1];
  char tok[N_STATES + 1][SC_VOICE_TOKEN_LEN + 1];
} harness_t;

static int cap_send(void *ctx, const char *text, size_t len) {
  fconn_t *c = ctx;
  FUZZ_CHECK(!c->closed);
  fuzz_check_frame(text, len, 0);
  return 0;
}

static int cap_send_binary(void *ctx, const uint8_t *buf, size_t len) {
  fconn_t *c = ctx;
  FUZZ_CHECK(!c->closed && len >= 3);
  (void)buf;
  return 0;
}

static void cap_close(void *ctx, int code, const char *reason) {
  fconn_t *c = ctx;
  static const int codes[] = {
      DV_CLOSE_UNKNOWN_OPCODE,  DV_CLOSE_DECODE_ERROR,          DV_CLOSE_NOT_AUTHENTICATED,
      DV_CLOSE_AUTH_FAILED,     DV_CLOSE_ALREADY_AUTHENTICATED, DV_CLOSE_SESSION_INVALID,
      DV_CLOSE_SESSION_TIMEOUT, DV_CLOSE_SERVER_NOT_FOUND,      DV_CLOSE_UNKNOWN_PROTOCOL,
      DV_CLOSE_DISCONNECTED,    DV_CLOSE_SERVER_CRASH,          DV_CLOSE_UNKNOWN_MODE,
      DV_CLOSE_BAD_REQUEST,     DV_CLOSE_RATE_LIMITED,          DV_CLOSE_DAVE_REQUIRED};
  int known = 0;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) known |= codes[i] == code;
  FUZZ_CHECK(!c->closed && reason != NULL && known);
  c->closed = 1;
}

static const dv_io_t cap_io = {cap_send, cap_close, NULL, cap_send_binary};

static const char *subst(void *ctx, char kind, char index) {
  harness_t *h = ctx;
  int n = index - '0';
  if (n < 1 || n > N_STATES) return NULL;
  return kind == 's' ? h->sid[n] : kind == 't' ? h->tok[n] : NULL;
}

static void make_state(harness_t *h, int n) {
  static const char *const users[] = {"", "1", "2", "3"};
  static const char *const channels[] = {"", "100", "100", "200"};
  /* Each n is its own user, so the state this replaces (and frees) is
   * h->vs[n] itself, overwritten here. */
  sc_vstate_t *vs = sc_registry_create_state(h->app->registry, users[n], channels[n], "10");
  FUZZ_CHECK(vs != NULL);
  h->vs[n] = vs;
  memcpy(h->sid[n], vs->session_id, sizeof h->sid[n]);
  memcpy(h->tok[n], vs->token, sizeof h->tok[n]);
}

static void open_conn(harness_t *h, int i, char v) {
  char text[2] = {v, 0};
  int version = dv_gateway_version(text);
  h->c[i].closed = 0;
  dv_gw_open(&h->c[i].conn, h->gw, version < 0 ? 8 : version, &cap_io, &h->c[i]);
}

static void send_text(harness_t *h, int i, const uint8_t *msg, size_t len) {
  size_t n;
  uint8_t *exact = fuzz_substituted(msg, len, subst, h, &n);
  dv_gw_text(&h->c[i].conn, (const char *)exact, n);
  free(exact);
}

static void send_binary(harness_t *h, int i, const uint8_t *msg, size_t len) {
  uint8_t *exact = fuzz_dup(msg, len);
  dv_gw_binary(&h->c[i].conn, exact, len);
  free(exact);
}

/* A state named by digit d, or NULL if it is gone. */
static sc_vstate_t *state_of(harness_t *h, uint8_t d) {
  int n = d - '0';
  return n >= 1 && n <= N_STATES ? h->vs[n] : NULL;
}

/* Events on connections and on the clock. 1 if line was one of them. */
static int conn_event(harness_t *h, const uint8_t *line, size_t len) {
  uint8_t arg = len > 1 ? line[1] : 0;
  switch (line[0]) {
    case 'a':
    case 'b': send_text(h, line[0] - 'a', line + 1, len - 1); return 1;
    case 'x':
    case 'y': send_binary(h, line[0] - 'x', line + 1, len - 1); return 1;
    case 'A':
    case 'B':
      dv_gw_closed(&h->c[line[0] - 'A'].conn);
      open_conn(h, line[0] - 'A', (char)arg);
      return 1;
    case 'O': dv_gw_oversize(&h->c[0].conn); return 1;
    case 'T': dv_timers_advance(dv_gw_timers(h->gw), 1000u * (arg % 64)); return 1;
    default: return 0;
  }
}

/* Events from the LVSP side (the registry). */
static void state_event(harness_t *h, const uint8_t *line, size_t len) {
  uint8_t arg = len > 1 ? line[1] : 0, arg2 = len > 2 ? line[2] : 0;
  sc_vstate_t *vs = state_of(h, arg);
  switch (line[0]) {
    case 'E':
      if (!vs) break;
      h->vs[arg - '0'] = NULL;
      sc_registry_end_state(h->app->registry, vs, (sc_end_reason_t)(arg2 % 4));
      break;
    case 'R':
      if (arg >= '1' && arg <= '0' + N_STATES) make_state(h, arg - '0');
      break;
    case 'F':
      if (vs) sc_registry_set_flags(h->app->registry, vs, &(sc_vflags_t){.mute = 1, .deaf = 1});
      break;
    default: break;
  }
}

/* The configuration's defaults (every limit as shipped), once. */
static sc_app_t *app_once(void) {
  static sc_app_t app;
  static int done;
  if (!done) {
    char *argv[] = {"fuzz_gateway", NULL};
    FUZZ_CHECK(sc_config_parse(&app, NULL, 0, 1, argv, stdout, stderr) == SC_CONFIG_RUN);
    dv_settings_t *set = dv_settings(&app);
    FUZZ_CHECK(set != NULL);
    snprintf(set->ready_ip, sizeof set->ready_ip, "127.0.0.1");
    done = 1;
  }
  return &app;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  static harness_t h;
  memset(&h, 0, sizeof h);
  h.app = app_once();
  h.app->registry = sc_registry_create(NULL);
  FUZZ_CHECK(h.app->registry != NULL);
  h.gw = dv_gw_create(h.app, NULL);
  FUZZ_CHECK(h.gw != NULL);
  for (int n = 1; n <= N_STATES; n++) make_state(&h, n);
  open_conn(&h, 0, '8');
  open_conn(&h, 1, '4');
  fuzz_lines_t it;
  fuzz_lines_init(&it, data, size);
  const uint8_t *line;
  size_t len;
  while (fuzz_lines_next(&it, &line, &len))
    if (len && !conn_event(&h, line, len)) state_event(&h, line, len);
  dv_gw_closed(&h.c[0].conn);
  dv_gw_closed(&h.c[1].conn);
  dv_gw_destroy(h.gw);
  sc_registry_destroy(h.app->registry);
  h.app->registry = NULL;
  return 0;
}
