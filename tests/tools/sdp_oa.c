/*
 * sdp_oa: src/sc_sdp_oa from the command line, for the node tests that
 * show real WebRTC stacks accept the answers and offers we write
 * (tests/node/sdp_oa_chromium.test.js).
 *
 *   sdp_oa parse
 *       Reads an SDP on stdin; prints one JSON line {"setup","ufrag",
 *       "fingerprint","first_audio","sections":[{"kind","port","mid",
 *       "direction","opus_pt","opus_fmtp","audio_level_id","mid_ext_id",
 *       "ssrc","msid_stream","msid_track"}]} or {"error":"<name>","line":N}.
 *   sdp_oa answer IP PORT UFRAG PWD FINGERPRINT TAKES
 *       Reads an offer on stdin and prints our answer. TAKES has one
 *       letter per offer section: r (we receive), s (we send), - (reject).
 *       A sending section gets SSRC 1000+index, cname "litecord" and
 *       msid "sc-stream-<index> sc-track-<index>".
 *   sdp_oa offer IP PORT UFRAG PWD FINGERPRINT N
 *       Prints our offer of N send-only audio sections (mids a0.., opus
 *       PT 111 with minptime=10;useinbandfec=1, audio level id 1, SSRC
 *       and msid as above).
 *
 * Exit status: 0 done, 1 refused (bad input), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_sdp_oa.h"

static int usage(void) {
  fprintf(stderr,
          "usage: sdp_oa parse | sdp_oa answer IP PORT UFRAG PWD FP TAKES |"
          " sdp_oa offer IP PORT UFRAG PWD FP N\n");
  return 2;
}

/* A JSON string of printable ASCII (what the reader lets through). */
static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

static const char *const dir_names[] = {"none", "sendrecv", "sendonly", "recvonly", "inactive"};
static const char *const setup_names[] = {"none", "actpass", "active", "passive"};

static size_t read_stdin(char *buf, size_t cap) {
  return fread(buf, 1, cap, stdin);
}

static void print_section(const sc_sdp_msection_t *m) {
  printf("{\"kind\":");
  json_str(m->kind);
  printf(",\"port\":%d,\"mid\":", m->port);
  json_str(m->mid);
  printf(",\"direction\":\"%s\",\"opus_pt\":%d,\"opus_fmtp\":", dir_names[m->direction],
         m->opus_pt);
  json_str(m->opus_fmtp);
  printf(",\"audio_level_id\":%d,\"mid_ext_id\":%d,\"ssrc\":%u,\"msid_stream\":", m->audio_level_id,
         m->mid_ext_id, (unsigned)m->ssrc);
  json_str(m->msid_stream);
  printf(",\"msid_track\":");
  json_str(m->msid_track);
  putchar('}');
}

static int parse(void) {
  static char text[SC_SDP_MAX_BYTES + 1];
  static sc_sdp_session_t s;
  size_t n = read_stdin(text, sizeof text);
  int rc = sc_sdp_parse_session(text, n, &s);
  if (rc < 0) {
    printf("{\"error\":\"%s\",\"line\":%u}\n", sc_sdp_oa_err_name(rc), s.t.bad_line);
    return 1;
  }
  char fp[SC_SDP_FP_TEXT] = "";
  if (s.t.has_fingerprint) sc_sdp_fingerprint_text(s.t.fingerprint, fp);
  printf("{\"setup\":\"%s\",\"ufrag\":\"%s\",\"fingerprint\":\"%s\",\"first_audio\":%d,",
         setup_names[s.setup], s.t.ufrag, fp, sc_sdp_first_audio(&s));
  printf("\"sections\":[");
  for (int i = 0; i < s.n; i++) {
    if (i) putchar(',');
    print_section(&s.m[i]);
  }
  printf("]}\n");
  return 0;
}

static int local_of(char **argv, sc_sdp_local_t *l) {
  char *end;
  long port = strtol(argv[1], &end, 10);
  memset(l, 0, sizeof *l);
  l->ip = argv[0];
  l->port = (uint16_t)port;
  l->ufrag = argv[2];
  l->pwd = argv[3];
  l->session_id = 4242;
  l->version = 1;
  if (*end || port < 1 || port > 65535 ||
      sc_sdp_fingerprint_parse(argv[4], strlen(argv[4]), l->fingerprint) < 0) {
    fprintf(stderr, "sdp_oa: bad port or fingerprint\n");
    return -1;
  }
  return 0;
}

static char names[SC_SDP_OA_MAX_SECTIONS][2][32];

static void sender_names(int i, const char **stream, const char **track) {
  snprintf(names[i][0], sizeof names[i][0], "sc-stream-%d", i);
  snprintf(names[i][1], sizeof names[i][1], "sc-track-%d", i);
  *stream = names[i][0];
  *track = names[i][1];
}

static int print_result(int n, const char *out) {
  if (n < 0) {
    fprintf(stderr, "sdp_oa: refused (%d)\n", n);
    return 1;
  }
  fwrite(out, 1, (size_t)n, stdout);
  return 0;
}

static int answer(char **argv) {
  static char text[SC_SDP_MAX_BYTES + 1], out[SC_SDP_OA_OUT_MAX];
  static sc_sdp_session_t offer;
  sc_sdp_local_t l;
  if (local_of(argv, &l) < 0) return 1;
  int rc = sc_sdp_parse_session(text, read_stdin(text, sizeof text), &offer);
  if (rc < 0) {
    fprintf(stderr, "sdp_oa: offer refused: %s\n", sc_sdp_oa_err_name(rc));
    return 1;
  }
  const char *takes = argv[5];
  if ((int)strlen(takes) != offer.n) {
    fprintf(stderr, "sdp_oa: %d sections, %zu takes\n", offer.n, strlen(takes));
    return 1;
  }
  sc_sdp_take_t t[SC_SDP_OA_MAX_SECTIONS];
  memset(t, 0, sizeof t);
  for (int i = 0; i < offer.n; i++) {
    t[i].take = takes[i] == 'r'   ? SC_SDP_TAKE_RECV
                : takes[i] == 's' ? SC_SDP_TAKE_SEND
                                  : SC_SDP_TAKE_REJECT;
    t[i].ssrc = 1000u + (uint32_t)i;
    t[i].cname = "litecord";
    sender_names(i, &t[i].msid_stream, &t[i].msid_track);
  }
  return print_result(sc_sdp_write_answer(&l, &offer, t, offer.n, out, sizeof out), out);
}

static int offer(char **argv) {
  static char out[SC_SDP_OA_OUT_MAX];
  static char mids[SC_SDP_OA_MAX_SECTIONS][8];
  sc_sdp_local_t l;
  if (local_of(argv, &l) < 0) return 1;
  int n = atoi(argv[5]);
  if (n < 1 || n > SC_SDP_OA_MAX_SECTIONS) return usage();
  sc_sdp_offer_media_t m[SC_SDP_OA_MAX_SECTIONS];
  memset(m, 0, sizeof m);
  for (int i = 0; i < n; i++) {
    snprintf(mids[i], sizeof mids[i], "a%d", i);
    m[i].mid = mids[i];
    m[i].opus_pt = 111;
    m[i].opus_fmtp = "minptime=10;useinbandfec=1";
    m[i].audio_level_id = 1;
    m[i].ssrc = 1000u + (uint32_t)i;
    m[i].cname = "litecord";
    sender_names(i, &m[i].msid_stream, &m[i].msid_track);
  }
  return print_result(sc_sdp_write_offer(&l, m, n, out, sizeof out), out);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "parse") == 0) return parse();
  if (argc == 8 && strcmp(argv[1], "answer") == 0) return answer(argv + 2);
  if (argc == 8 && strcmp(argv[1], "offer") == 0) return offer(argv + 2);
  return usage();
}
