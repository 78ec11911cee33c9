/*
 * fuzz_sdp: the SDP line reader and the fragment reader (src/sc_sdp.h)
 * over any bytes, as Discord's op 1 sdp field or a WHIP offer brings them.
 * Besides memory safety it checks what callers rely on: every line lies
 * inside the input and is "<a-z>=", the reader and the fragment reader
 * agree on refusal, the limits hold, and what the fragment reader accepts
 * is valid enough to be written back: our answer made of its ufrag, pwd
 * and fingerprint parses to the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_sdp.h"

/* Runs the line reader over the whole input; returns its verdict (0 or
 * an error). */
static int read_lines(const char *buf, size_t size) {
  sc_sdp_reader_t r;
  sc_sdp_line_t l;
  int rc, sections = 0;
  unsigned last = 0;
  sc_sdp_reader_init(&r, buf, size);
  while ((rc = sc_sdp_next(&r, &l)) == 1) {
    FUZZ_CHECK(l.value >= buf + 2 && l.value + l.value_len <= buf + size);
    FUZZ_CHECK(l.type >= 'a' && l.type <= 'z' && l.value[-1] == '=' && l.value[-2] == l.type);
    FUZZ_CHECK(l.value_len + 2 <= SC_SDP_MAX_LINE);
    FUZZ_CHECK(l.line_no > last && l.line_no <= SC_SDP_MAX_LINES);
    last = l.line_no;
    if (l.type == 'm') sections++;
    FUZZ_CHECK(l.section == sections - 1 && sections <= SC_SDP_MAX_SECTIONS);
    if (l.type == 'a') {
      FUZZ_CHECK(l.name_len > 0 && l.name == l.value);
      FUZZ_CHECK(!l.has_value || l.attr_value + l.attr_len == l.value + l.value_len);
    }
    for (size_t i = 0; i < l.value_len; i++) FUZZ_CHECK(l.value[i] >= 0x20 && l.value[i] <= 0x7e);
  }
  FUZZ_CHECK(rc <= 0 && sc_sdp_next(&r, &l) == rc);
  return rc;
}

static void check_fragment(const sc_sdp_fragment_t *f) {
  FUZZ_CHECK(sc_sdp_valid_ufrag(f->ufrag) && sc_sdp_valid_pwd(f->pwd));
  FUZZ_CHECK(f->n_extmaps >= 0 && f->n_extmaps <= SC_SDP_MAX_EXTMAPS);
  FUZZ_CHECK(f->n_rtpmaps >= 0 && f->n_rtpmaps <= SC_SDP_MAX_RTPMAPS);
  for (int i = 0; i < f->n_extmaps; i++) {
    FUZZ_CHECK(f->extmaps[i].id >= 1 && f->extmaps[i].id <= 255 && f->extmaps[i].uri[0]);
    FUZZ_CHECK(sc_sdp_extmap_id(f, f->extmaps[i].uri) > 0);
  }
  for (int i = 0; i < f->n_rtpmaps; i++) {
    const sc_sdp_rtpmap_t *m = &f->rtpmaps[i];
    FUZZ_CHECK(m->pt >= 0 && m->pt <= 127 && m->codec[0] && m->clock > 0);
    FUZZ_CHECK(sc_sdp_find_rtpmap(f, m->pt) == m);
  }
  int opus = sc_sdp_opus_pt(f);
  FUZZ_CHECK(opus == -1 || sc_sdp_find_rtpmap(f, opus) != NULL);

  /* Round trip through our own answer. */
  sc_sdp_answer_t a = {.ip = "192.0.2.1", .port = 50001, .ufrag = f->ufrag, .pwd = f->pwd};
  memcpy(a.fingerprint, f->fingerprint, SC_SDP_FP_LEN);
  char out[SC_SDP_ANSWER_MAX];
  int n = sc_sdp_write_discord_answer(&a, out, sizeof out);
  FUZZ_CHECK(n > 0);
  static sc_sdp_fragment_t back;
  FUZZ_CHECK(sc_sdp_parse_fragment(out, (size_t)n, &back) == 0);
  FUZZ_CHECK(strcmp(back.ufrag, f->ufrag) == 0 && strcmp(back.pwd, f->pwd) == 0);
  FUZZ_CHECK(memcmp(back.fingerprint, f->fingerprint, SC_SDP_FP_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  /* An exact-size copy: ASan sees a read past the text. */
  char *buf = (char *)fuzz_dup(data, size);
  int lines = read_lines(buf, size);
  static sc_sdp_fragment_t f;
  int rc = sc_sdp_parse_fragment(buf, size, &f);
  FUZZ_CHECK(rc <= 0 && rc > -SC_SDP_ERR_COUNT);
  FUZZ_CHECK(strcmp(sc_sdp_err_name(rc), "unknown") != 0);
  /* A text the reader refuses is refused by the fragment reader: for the
   * same reason when the whole text is (size, bytes, line count and
   * length, checked first), else perhaps at an earlier attribute. A
   * reader error reported by the fragment reader is the reader's. */
  int whole_text = lines == SC_SDP_ERR_TOO_BIG || lines == SC_SDP_ERR_BINARY ||
                   lines == SC_SDP_ERR_TOO_MANY_LINES || lines == SC_SDP_ERR_LINE_TOO_LONG;
  if (lines < 0) FUZZ_CHECK(rc < 0);
  if (whole_text) FUZZ_CHECK(rc == lines);
  if (rc == SC_SDP_ERR_BAD_LINE || rc == SC_SDP_ERR_TOO_MANY_SECTIONS) FUZZ_CHECK(rc == lines);
  if (rc == 0) check_fragment(&f);
  free(buf);
  return 0;
}
