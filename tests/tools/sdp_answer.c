/*
 * sdp_answer: src/sc_sdp from the command line, for the node tests that
 * show real WebRTC stacks accept what the server will write and that our
 * reader takes what they send (tests/node/webrtc_signal.test.js).
 *
 *   sdp_answer IP PORT UFRAG PWD FINGERPRINT
 *       Prints Discord's eight-line op 4 answer (sc_sdp_write_discord_answer)
 *       for our ICE credentials and the sha-256 FINGERPRINT ("AB:CD:..").
 *   sdp_answer --parse
 *       Reads an SDP fragment (or a whole SDP) on stdin and prints one JSON
 *       line: {"ufrag","pwd","fingerprint" (or null),"opus_pt","audio_level_id",
 *       "extmaps","rtpmaps","sections"}, or {"error":"<name>","line":N}.
 *
 * Exit status: 0 done, 1 refused (bad input), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_sdp.h"

static int usage(void) {
  fprintf(stderr, "usage: sdp_answer IP PORT UFRAG PWD FINGERPRINT | sdp_answer --parse\n");
  return 2;
}

/* The fingerprint text through our own reader, so it is checked the way
 * a peer's would be. */
static int fingerprint_bytes(const char *text, uint8_t out[SC_SDP_FP_LEN]) {
  char sdp[256];
  static sc_sdp_fragment_t f;
  int n = snprintf(sdp, sizeof sdp,
                   "a=ice-ufrag:xxxx\na=ice-pwd:xxxxxxxxxxxxxxxxxxxxxx\n"
                   "a=fingerprint:sha-256 %s\n",
                   text);
  if (n < 0 || (size_t)n >= sizeof sdp || sc_sdp_parse_fragment(sdp, (size_t)n, &f) != 0 ||
      !f.has_fingerprint)
    return -1;
  memcpy(out, f.fingerprint, SC_SDP_FP_LEN);
  return 0;
}

static int write_answer(char **argv) {
  char *end;
  long port = strtol(argv[1], &end, 10);
  sc_sdp_answer_t a = {.ip = argv[0], .port = (uint16_t)port, .ufrag = argv[2], .pwd = argv[3]};
  if (*end || port < 1 || port > 65535 || fingerprint_bytes(argv[4], a.fingerprint) < 0) {
    fprintf(stderr, "sdp_answer: bad port or fingerprint\n");
    return 1;
  }
  char out[SC_SDP_ANSWER_MAX];
  int n = sc_sdp_write_discord_answer(&a, out, sizeof out);
  if (n < 0) {
    fprintf(stderr, "sdp_answer: refused (ip, ufrag or pwd)\n");
    return 1;
  }
  fwrite(out, 1, (size_t)n, stdout);
  return 0;
}

static int parse_stdin(void) {
  static char text[SC_SDP_MAX_BYTES + 1];
  size_t n = fread(text, 1, sizeof text, stdin);
  static sc_sdp_fragment_t f;
  int rc = sc_sdp_parse_fragment(text, n, &f);
  if (rc < 0) {
    printf("{\"error\":\"%s\",\"line\":%u}\n", sc_sdp_err_name(rc), f.bad_line);
    return 1;
  }
  char fp[SC_SDP_FP_TEXT + 2] = "null";
  if (f.has_fingerprint) {
    char hex[SC_SDP_FP_TEXT];
    sc_sdp_fingerprint_text(f.fingerprint, hex);
    snprintf(fp, sizeof fp, "\"%s\"", hex);
  }
  /* ufrag and pwd are ice-chars only: no JSON escaping needed */
  printf(
      "{\"ufrag\":\"%s\",\"pwd\":\"%s\",\"fingerprint\":%s,\"opus_pt\":%d,"
      "\"audio_level_id\":%d,\"extmaps\":%d,\"rtpmaps\":%d,\"sections\":%d}\n",
      f.ufrag, f.pwd, fp, sc_sdp_opus_pt(&f), sc_sdp_audio_level_id(&f), f.n_extmaps, f.n_rtpmaps,
      f.n_sections);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--parse") == 0) return parse_stdin();
  if (argc == 6) return write_answer(argv + 1);
  return usage();
}
