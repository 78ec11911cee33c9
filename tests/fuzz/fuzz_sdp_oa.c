/*
 * fuzz_sdp_oa: the whole-SDP reader (src/sc_sdp_oa.h) over any bytes, as
 * a Galène or ion client's offer or answer brings them. Besides memory
 * safety it checks what the front ends rely on: every error has a name,
 * a text the fragment reader refuses is refused, what is accepted keeps
 * the documented bounds (sections, mids unique and token-only, opus PT
 * mapped to opus/48000/2), and our answer to it (each section taken the
 * way its direction allows, the others rejected) is written within
 * SC_SDP_OA_OUT_MAX and reads back with the offer's mids, order, opus PT,
 * fmtp and audio-level id, our credentials and a=setup:passive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_sdp_oa.h"

static int token_only(const char *s) {
  for (; *s; s++)
    if (*s <= 0x20 || *s > 0x7e || *s == ',' || *s == ':' || *s == '/') return 0;
  return 1;
}

static void check_session(const sc_sdp_session_t *s) {
  FUZZ_CHECK(s->n >= 1 && s->n <= SC_SDP_OA_MAX_SECTIONS);
  FUZZ_CHECK(s->setup >= SC_SDP_SETUP_NONE && s->setup <= SC_SDP_SETUP_PASSIVE);
  for (int i = 0; i < s->n; i++) {
    const sc_sdp_msection_t *m = &s->m[i];
    FUZZ_CHECK(m->kind[0] && m->proto[0] && m->fmt[0]);
    FUZZ_CHECK(m->port >= 0 && m->port <= 65535);
    FUZZ_CHECK(m->direction >= SC_SDP_DIR_SENDRECV && m->direction <= SC_SDP_DIR_INACTIVE);
    FUZZ_CHECK(token_only(m->mid) && strlen(m->mid) <= SC_SDP_OA_MID_MAX);
    for (int j = 0; j < i && m->mid[0]; j++) FUZZ_CHECK(strcmp(m->mid, s->m[j].mid) != 0);
    if (m->opus_pt >= 0) {
      const sc_sdp_rtpmap_t *r = sc_sdp_find_rtpmap(&s->t, m->opus_pt);
      FUZZ_CHECK(r && r->clock == 48000 && r->channels == 2);
    } else {
      FUZZ_CHECK(m->opus_pt == -1 && m->opus_fmtp[0] == '\0');
    }
    FUZZ_CHECK(!m->msid_track[0] || m->msid_stream[0]);
  }
  int a = sc_sdp_first_audio(s);
  FUZZ_CHECK(a >= -1 && a < s->n);
  if (a >= 0) FUZZ_CHECK((s->m[a].port || s->m[a].bundle_only) && s->m[a].opus_pt >= 0);
}

/* RECV where the peer sends, SEND where it only receives, else reject. */
static int choose(const sc_sdp_msection_t *m, sc_sdp_take_t *t) {
  memset(t, 0, sizeof *t);
  if ((!m->port && !m->bundle_only) || m->opus_pt < 0 || strcmp(m->kind, "audio") != 0 ||
      !m->mid[0])
    return 0;
  if (m->direction == SC_SDP_DIR_SENDONLY || m->direction == SC_SDP_DIR_SENDRECV) {
    t->take = SC_SDP_TAKE_RECV;
  } else if (m->direction == SC_SDP_DIR_RECVONLY) {
    sc_sdp_take_t send = {SC_SDP_TAKE_SEND, 0x11223344u, "cname", "stream", "track"};
    *t = send;
  }
  return t->take != SC_SDP_TAKE_REJECT;
}

static void check_answer(const sc_sdp_session_t *offer) {
  sc_sdp_local_t l = {.ip = "192.0.2.1",
                      .port = 50001,
                      .ufrag = "Ab+/",
                      .pwd = "0123456789abcdefghijkl",
                      .session_id = 1,
                      .version = 2};
  memset(l.fingerprint, 0x5a, sizeof l.fingerprint);
  sc_sdp_take_t takes[SC_SDP_OA_MAX_SECTIONS] = {{0}};
  int accepted = 0;
  for (int i = 0; i < offer->n; i++) accepted += choose(&offer->m[i], &takes[i]);
  static char out[SC_SDP_OA_OUT_MAX];
  int n = sc_sdp_write_answer(&l, offer, takes, offer->n, out, sizeof out);
  if (!accepted) {
    FUZZ_CHECK(n == -EINVAL);
    return;
  }
  FUZZ_CHECK(n > 0 && (size_t)n < sizeof out && strlen(out) == (size_t)n);
  static sc_sdp_session_t back;
  FUZZ_CHECK(sc_sdp_parse_session(out, (size_t)n, &back) == 0);
  FUZZ_CHECK(back.n == offer->n && back.setup == SC_SDP_SETUP_PASSIVE);
  FUZZ_CHECK(strcmp(back.t.ufrag, l.ufrag) == 0 && strcmp(back.t.pwd, l.pwd) == 0);
  FUZZ_CHECK(memcmp(back.t.fingerprint, l.fingerprint, SC_SDP_FP_LEN) == 0);
  for (int i = 0; i < offer->n; i++) {
    const sc_sdp_msection_t *o = &offer->m[i], *b = &back.m[i];
    FUZZ_CHECK(strcmp(o->kind, b->kind) == 0 && strcmp(o->mid, b->mid) == 0);
    if (takes[i].take == SC_SDP_TAKE_REJECT) {
      FUZZ_CHECK(b->port == 0 && b->direction == SC_SDP_DIR_INACTIVE);
      continue;
    }
    FUZZ_CHECK(b->port == l.port && b->opus_pt == o->opus_pt);
    FUZZ_CHECK(strcmp(b->opus_fmtp, o->opus_fmtp) == 0 && b->audio_level_id == o->audio_level_id);
    int send = takes[i].take == SC_SDP_TAKE_SEND;
    FUZZ_CHECK(b->direction == (send ? SC_SDP_DIR_SENDONLY : SC_SDP_DIR_RECVONLY));
    FUZZ_CHECK(b->ssrc == (send ? 0x11223344u : 0));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  /* An exact-size copy: ASan sees a read past the text. */
  char *buf = (char *)fuzz_dup(data, size);
  static sc_sdp_session_t s;
  static sc_sdp_fragment_t f;
  int rc = sc_sdp_parse_session(buf, size, &s);
  FUZZ_CHECK(rc <= 0 && strcmp(sc_sdp_oa_err_name(rc), "unknown") != 0);
  int frc = sc_sdp_parse_fragment(buf, size, &f);
  if (frc < 0) FUZZ_CHECK(rc == frc);
  if (rc == 0) {
    FUZZ_CHECK(memcmp(&f, &s.t, sizeof f) == 0);
    check_session(&s);
    check_answer(&s);
  }
  free(buf);
  return 0;
}
