/*
 * Unit tests for src/sc_sdp: Discord fragments of Chrome's and Firefox's
 * shape (reference webrtc.md §1), fragments that real stacks produced
 * (Chromium and werift, committed in tests/fuzz/corpus/fuzz_sdp by
 * tests/fuzz/make_sdp_seeds.js), every error code, the limits, the line
 * reader, and the writer's exact eight lines.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_sdp.h"
#include "sc_test.h"

#define FP_HEX                                                                                 \
  "4A:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:" \
  "88:9F"

/* Chrome's fragment (reference §1: the extmap order of a Chrome offer). */
static const char chrome[] =
    "a=extmap-allow-mixed\n"
    "a=ice-ufrag:Xk3q\n"
    "a=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 " FP_HEX
    "\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\n"
    "a=extmap:13 urn:3gpp:video-orientation\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtpmap:97 rtx/90000";

/* Firefox 99's (2022 capture shape): no fingerprint, directions, Opus 109. */
static const char firefox[] =
    "a=ice-options:trickle\r\n"
    "a=ice-pwd:b5d3c4a1e9f0827364a5b6c7d8e9f001\r\n"
    "a=ice-ufrag:3e1f0a9b\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=rtpmap:109 opus/48000/2\r\n"
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=rtpmap:120 VP8/90000\r\n"
    "a=rtpmap:124 rtx/90000\r\n";

static const char creds[] = "a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuv\n";

static int parse(const char *text, sc_sdp_fragment_t *f) {
  return sc_sdp_parse_fragment(text, strlen(text), f);
}

/* creds + one more line: the error (or 0) of that line. */
static int with_line(const char *line) {
  static char buf[4096];
  static sc_sdp_fragment_t f;
  snprintf(buf, sizeof buf, "%s%s\n", creds, line);
  return parse(buf, &f);
}

static void test_chrome_fragment(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(parse(chrome, &f), 0);
  ASSERT_STREQ(f.ufrag, "Xk3q");
  ASSERT_STREQ(f.pwd, "5rCXm2Y5a0gFQwvBlQ7yDkdM");
  ASSERT_EQ(f.has_fingerprint, 1);
  ASSERT_EQ(f.fingerprint[0], 0x4A);
  ASSERT_EQ(f.fingerprint[31], 0x9F);
  ASSERT_EQ(f.extmap_allow_mixed, 1);
  ASSERT_EQ(f.n_extmaps, 12);
  ASSERT_EQ(f.n_rtpmaps, 3);
  ASSERT_EQ(f.n_sections, 0);
  ASSERT_EQ(sc_sdp_opus_pt(&f), 111);
  ASSERT_EQ(sc_sdp_audio_level_id(&f), 1);
  ASSERT_EQ(sc_sdp_extmap_id(&f, "urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  ASSERT_EQ(sc_sdp_extmap_id(&f, "urn:nothing"), 0);
  const sc_sdp_rtpmap_t *vp8 = sc_sdp_find_rtpmap(&f, 96);
  ASSERT_TRUE(vp8 != NULL);
  ASSERT_STREQ(vp8->codec, "VP8");
  ASSERT_EQ(vp8->clock, 90000);
  ASSERT_EQ(vp8->channels, 0);
  ASSERT_TRUE(sc_sdp_find_rtpmap(&f, 120) == NULL);
}

static void test_firefox_fragment(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(parse(firefox, &f), 0);
  ASSERT_STREQ(f.ufrag, "3e1f0a9b");
  ASSERT_EQ(f.has_fingerprint, 0);
  ASSERT_EQ(f.extmap_allow_mixed, 0);
  ASSERT_EQ(sc_sdp_opus_pt(&f), 109);
  ASSERT_EQ(sc_sdp_audio_level_id(&f), 1);
  ASSERT_EQ(f.extmaps[1].id, 2);
  ASSERT_EQ(f.extmaps[1].direction, SC_SDP_DIR_RECVONLY);
  ASSERT_STREQ(f.extmaps[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
  ASSERT_EQ(f.extmaps[0].direction, SC_SDP_DIR_NONE);
  /* PT 120 is VP8 here: never assume it is Opus. */
  ASSERT_STREQ(sc_sdp_find_rtpmap(&f, 120)->codec, "VP8");
}

/* A full offer reads the same: per-section repeats count once. */
static void test_full_offer(void) {
  static const char offer[] =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n"
      "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:SHA-256 " FP_HEX
      "\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
      "a=rtpmap:111 OPUS/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n"
      "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:sha-256 " FP_HEX
      "\r\na=fingerprint:sha-1 00:11\r\na=mid:1\r\n"
      "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=rtpmap:96 VP8/90000\r\n";
  static sc_sdp_fragment_t f;
  ASSERT_EQ(parse(offer, &f), 0);
  ASSERT_EQ(f.n_sections, 2);
  ASSERT_EQ(f.n_extmaps, 1);
  ASSERT_EQ(f.n_rtpmaps, 2);
  ASSERT_EQ(f.other_fingerprints, 1);
  ASSERT_EQ(sc_sdp_opus_pt(&f), 111);
}

static void test_line_reader(void) {
  static const char text[] = "v=0\r\n\nm=audio 9 X 0\na=rtcp-mux\r\na=mid:0\nm=video 9 X 0";
  sc_sdp_reader_t r;
  sc_sdp_line_t l;
  sc_sdp_reader_init(&r, text, strlen(text));
  ASSERT_EQ(sc_sdp_next(&r, &l), 1);
  ASSERT_EQ(l.type, 'v');
  ASSERT_EQ(l.section, -1);
  ASSERT_EQ(l.value_len, 1);
  ASSERT_EQ(sc_sdp_next(&r, &l), 1); /* the empty line is skipped */
  ASSERT_EQ(l.type, 'm');
  ASSERT_EQ(l.section, 0);
  ASSERT_EQ(l.line_no, 3);
  ASSERT_EQ(sc_sdp_next(&r, &l), 1);
  ASSERT_TRUE(l.name_len == 8 && memcmp(l.name, "rtcp-mux", 8) == 0);
  ASSERT_EQ(l.has_value, 0);
  ASSERT_TRUE(l.attr_value == NULL);
  ASSERT_EQ(sc_sdp_next(&r, &l), 1);
  ASSERT_EQ(l.has_value, 1);
  ASSERT_TRUE(l.attr_len == 1 && l.attr_value[0] == '0');
  ASSERT_EQ(sc_sdp_next(&r, &l), 1);
  ASSERT_EQ(l.section, 1);
  ASSERT_EQ(l.value_len, strlen("video 9 X 0")); /* last line without LF */
  ASSERT_EQ(sc_sdp_next(&r, &l), 0);
  ASSERT_EQ(sc_sdp_next(&r, &l), 0);
}

static void test_text_errors(void) {
  static sc_sdp_fragment_t f;
  static char big[SC_SDP_MAX_BYTES + 2];
  /* too_big: one byte over, even if every byte is fine. */
  memset(big, 'a', sizeof big);
  for (size_t i = 3; i < sizeof big; i += 4) big[i] = '\n';
  ASSERT_EQ(sc_sdp_parse_fragment(big, SC_SDP_MAX_BYTES + 1, &f), SC_SDP_ERR_TOO_BIG);
  /* too_many_lines: "a=x\n" x 2000 is under the byte limit. */
  for (size_t i = 0; i < 2000; i++) memcpy(big + 4 * i, "a=x\n", 4);
  ASSERT_EQ(sc_sdp_parse_fragment(big, 8000, &f), SC_SDP_ERR_TOO_MANY_LINES);
  ASSERT_EQ(sc_sdp_parse_fragment(big, 4 * SC_SDP_MAX_LINES, &f), SC_SDP_ERR_MISSING_UFRAG);
  ASSERT_EQ(sc_sdp_parse_fragment(big, 4 * SC_SDP_MAX_LINES + 4, &f), SC_SDP_ERR_TOO_MANY_LINES);
  /* empty lines count as lines */
  memset(big, '\n', 4000);
  ASSERT_EQ(sc_sdp_parse_fragment(big, 4000, &f), SC_SDP_ERR_TOO_MANY_LINES);
  /* line_too_long: the limit is on the line without its end. */
  memset(big, 'x', SC_SDP_MAX_LINE + 2);
  memcpy(big, "a=", 2);
  ASSERT_EQ(sc_sdp_parse_fragment(big, SC_SDP_MAX_LINE, &f), SC_SDP_ERR_MISSING_UFRAG);
  ASSERT_EQ(sc_sdp_parse_fragment(big, SC_SDP_MAX_LINE + 1, &f), SC_SDP_ERR_LINE_TOO_LONG);
  big[SC_SDP_MAX_LINE] = '\r', big[SC_SDP_MAX_LINE + 1] = '\n';
  ASSERT_EQ(sc_sdp_parse_fragment(big, SC_SDP_MAX_LINE + 2, &f), SC_SDP_ERR_MISSING_UFRAG);
  big[SC_SDP_MAX_LINE] = 'x';
  ASSERT_EQ(sc_sdp_parse_fragment(big, SC_SDP_MAX_LINE + 2, &f), SC_SDP_ERR_LINE_TOO_LONG);
  /* binary: NUL, controls, a lone CR, DEL, bytes >= 0x80, wherever they are */
  static const char *const binary[] = {"a=x\0y", "a=x\ty",     "a=x\ry",
                                       "a=\x7f", "a=\xc3\xa9", "a=ice-ufrag:abcd\n\x01"};
  static const size_t binary_len[] = {5, 5, 5, 3, 4, 18};
  for (size_t i = 0; i < sizeof binary / sizeof *binary; i++)
    ASSERT_EQ(sc_sdp_parse_fragment(binary[i], binary_len[i], &f), SC_SDP_ERR_BINARY);
  ASSERT_EQ(sc_sdp_parse_fragment("a=x\r", 4, &f), SC_SDP_ERR_BINARY);
  /* bad_line */
  ASSERT_EQ(parse("a=ice-ufrag:abcd\nhello\n", &f), SC_SDP_ERR_BAD_LINE);
  ASSERT_EQ(f.bad_line, 2);
  ASSERT_EQ(parse("A=x", &f), SC_SDP_ERR_BAD_LINE);
  ASSERT_EQ(parse("a", &f), SC_SDP_ERR_BAD_LINE);
  ASSERT_EQ(parse("a=:x", &f), SC_SDP_ERR_BAD_LINE);
  ASSERT_EQ(parse(" a=x", &f), SC_SDP_ERR_BAD_LINE);
  /* too_many_sections */
  char *p = big;
  for (int i = 0; i <= SC_SDP_MAX_SECTIONS; i++) p += sprintf(p, "m=audio 9 X 0\n");
  ASSERT_EQ(sc_sdp_parse_fragment(big, (size_t)(p - big), &f), SC_SDP_ERR_TOO_MANY_SECTIONS);
  ASSERT_EQ(f.bad_line, SC_SDP_MAX_SECTIONS + 1);
  ASSERT_EQ(sc_sdp_parse_fragment(big, (size_t)(p - big) - 14, &f), SC_SDP_ERR_MISSING_UFRAG);
  /* nothing at all */
  ASSERT_EQ(sc_sdp_parse_fragment("", 0, &f), SC_SDP_ERR_MISSING_UFRAG);
}

static void test_credentials(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(parse("a=ice-pwd:abcdefghijklmnopqrstuv\n", &f), SC_SDP_ERR_MISSING_UFRAG);
  ASSERT_EQ(parse("a=ice-ufrag:abcd\n", &f), SC_SDP_ERR_MISSING_PWD);
  ASSERT_EQ(parse("a=ice-ufrag\na=ice-pwd:abcdefghijklmnopqrstuv\n", &f), SC_SDP_ERR_MISSING_UFRAG);
  ASSERT_EQ(with_line("a=ice-ufrag:abc"), SC_SDP_ERR_BAD_UFRAG); /* 3 < 4 */
  ASSERT_EQ(with_line("a=ice-ufrag:ab-d"), SC_SDP_ERR_BAD_UFRAG);
  ASSERT_EQ(with_line("a=ice-ufrag:"), SC_SDP_ERR_BAD_UFRAG);
  ASSERT_EQ(with_line("a=ice-ufrag:abce"), SC_SDP_ERR_UFRAG_CONFLICT);
  ASSERT_EQ(with_line("a=ice-ufrag:abcd"), 0);
  ASSERT_EQ(with_line("a=ice-pwd:abcdefghijklmnopqrstu"), SC_SDP_ERR_BAD_PWD); /* 21 */
  ASSERT_EQ(with_line("a=ice-pwd:abcdefghijklmnopqrstu "), SC_SDP_ERR_BAD_PWD);
  ASSERT_EQ(with_line("a=ice-pwd:abcdefghijklmnopqrstuvw"), SC_SDP_ERR_PWD_CONFLICT);
  /* the limits: 4 and 256 for the ufrag, 22 and 256 for the pwd, + and / allowed */
  char line[600];
  memset(line, 0, sizeof line);
  strcpy(line, "a=ice-ufrag:");
  memset(line + 12, '+', 256);
  ASSERT_EQ(parse(line, &f), SC_SDP_ERR_MISSING_PWD);
  ASSERT_EQ((int)strlen(f.ufrag), 256);
  line[12 + 256] = '/';
  ASSERT_EQ(parse(line, &f), SC_SDP_ERR_BAD_UFRAG);
  ASSERT_TRUE(sc_sdp_valid_ufrag("a/+9"));
  ASSERT_TRUE(!sc_sdp_valid_ufrag("a/+"));
  ASSERT_TRUE(sc_sdp_valid_pwd("0123456789012345678901"));
  ASSERT_TRUE(!sc_sdp_valid_pwd("012345678901234567890"));
  ASSERT_TRUE(!sc_sdp_valid_pwd(line + 12)); /* 257 */
  ASSERT_TRUE(!sc_sdp_valid_ufrag(NULL));
}

static void test_fingerprint(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(with_line("a=fingerprint:sha-256 " FP_HEX), 0);
  char lower[128] = "a=fingerprint:sha-256 " FP_HEX;
  for (char *p = lower + 22; *p; p++)
    if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
  ASSERT_EQ(with_line(lower), 0);
  ASSERT_EQ(with_line("a=fingerprint:sha-256 4A:19"), SC_SDP_ERR_BAD_FINGERPRINT);
  ASSERT_EQ(with_line("a=fingerprint:sha-256 " FP_HEX ":00"), SC_SDP_ERR_BAD_FINGERPRINT);
  ASSERT_EQ(with_line("a=fingerprint:sha-256 " FP_HEX " extra"), SC_SDP_ERR_BAD_FINGERPRINT);
  ASSERT_EQ(with_line("a=fingerprint:sha-256"), SC_SDP_ERR_BAD_FINGERPRINT);
  ASSERT_EQ(with_line("a=fingerprint:sha-256 4G:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:"
                      "CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:9F"),
            SC_SDP_ERR_BAD_FINGERPRINT);
  ASSERT_EQ(with_line("a=fingerprint:sha-256 4A-19-0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:"
                      "CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:9F"),
            SC_SDP_ERR_BAD_FINGERPRINT);
  char two[512];
  snprintf(two, sizeof two, "%sa=fingerprint:sha-256 %s\na=fingerprint:sha-256 %s", creds, FP_HEX,
           "00:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:"
           "66:77:88:9F");
  ASSERT_EQ(parse(two, &f), SC_SDP_ERR_FINGERPRINT_CONFLICT);
  ASSERT_EQ(f.bad_line, 4);
  /* other hash functions: counted, ignored */
  ASSERT_EQ(
      parse("a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuv\na=fingerprint:sha-1 00:11\n", &f),
      0);
  ASSERT_EQ(f.has_fingerprint, 0);
  ASSERT_EQ(f.other_fingerprints, 1);
}

static void test_extmap(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(with_line("a=extmap:255 urn:x"), 0);
  ASSERT_EQ(with_line("a=extmap:15/sendonly urn:x attr1 attr2"), 0);
  ASSERT_EQ(with_line("a=extmap:0 urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:256 urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:0001 urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:1"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:1 "), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:x urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:1/sideways urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  ASSERT_EQ(with_line("a=extmap:1/ urn:x"), SC_SDP_ERR_BAD_EXTMAP);
  char uri[400] = "a=extmap:1 ";
  memset(uri + 11, 'u', SC_SDP_MAX_URI);
  ASSERT_EQ(with_line(uri), 0);
  uri[11 + SC_SDP_MAX_URI] = 'u';
  ASSERT_EQ(with_line(uri), SC_SDP_ERR_BAD_EXTMAP);
  char text[4096];
  snprintf(text, sizeof text, "%sa=extmap:3 urn:a\na=extmap:3/recvonly urn:a\na=extmap:3 urn:b\n",
           creds);
  ASSERT_EQ(parse(text, &f), SC_SDP_ERR_EXTMAP_CONFLICT);
  ASSERT_EQ(f.bad_line, 5);
  char *p = text + sprintf(text, "%s", creds);
  for (int i = 1; i <= SC_SDP_MAX_EXTMAPS; i++) p += sprintf(p, "a=extmap:%d urn:e%d\n", i, i);
  ASSERT_EQ(parse(text, &f), 0);
  ASSERT_EQ(f.n_extmaps, SC_SDP_MAX_EXTMAPS);
  sprintf(p, "a=extmap:200 urn:more\n");
  ASSERT_EQ(parse(text, &f), SC_SDP_ERR_TOO_MANY_EXTMAPS);
}

static void test_rtpmap(void) {
  static sc_sdp_fragment_t f;
  ASSERT_EQ(with_line("a=rtpmap:0 PCMU/8000"), 0);
  ASSERT_EQ(with_line("a=rtpmap:127 x/4294967295/255"), 0);
  ASSERT_EQ(with_line("a=rtpmap:128 opus/48000/2"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus/4294967296/2"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus/0/2"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus/48000/0"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus/48000/256"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus/48000/2/1"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 opus"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111 /48000"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:111"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap: 111 opus/48000"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:1 abcdefghijabcdefghijabcdefghijabc/8000"), SC_SDP_ERR_BAD_RTPMAP);
  ASSERT_EQ(with_line("a=rtpmap:1 abcdefghijabcdefghijabcdefghijab/8000"), 0);
  char text[4096];
  snprintf(text, sizeof text, "%sa=rtpmap:111 opus/48000/2\na=rtpmap:111 opus/48000/1\n", creds);
  ASSERT_EQ(parse(text, &f), SC_SDP_ERR_RTPMAP_CONFLICT);
  snprintf(text, sizeof text, "%sa=rtpmap:111 opus/48000/2\na=rtpmap:111 OPUS/48000/2\n", creds);
  ASSERT_EQ(parse(text, &f), 0);
  ASSERT_EQ(f.n_rtpmaps, 1);
  /* Opus needs 48000/2; mono or another clock is not the Opus PT */
  snprintf(text, sizeof text, "%sa=rtpmap:100 opus/48000/1\na=rtpmap:101 opus/16000/2\n", creds);
  ASSERT_EQ(parse(text, &f), 0);
  ASSERT_EQ(sc_sdp_opus_pt(&f), -1);
  char *p = text + sprintf(text, "%s", creds);
  for (int i = 0; i < SC_SDP_MAX_RTPMAPS; i++) p += sprintf(p, "a=rtpmap:%d c%d/90000\n", i, i);
  ASSERT_EQ(parse(text, &f), 0);
  sprintf(p, "a=rtpmap:127 more/90000\n");
  ASSERT_EQ(parse(text, &f), SC_SDP_ERR_TOO_MANY_RTPMAPS);
}

static void test_error_names(void) {
  ASSERT_STREQ(sc_sdp_err_name(0), "ok");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_TOO_BIG), "too_big");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_BINARY), "binary");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_MISSING_UFRAG), "missing_ufrag");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_MISSING_PWD), "missing_pwd");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_BAD_FINGERPRINT), "bad_fingerprint");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_TOO_MANY_LINES), "too_many_lines");
  ASSERT_STREQ(sc_sdp_err_name(SC_SDP_ERR_TOO_MANY_RTPMAPS), "too_many_rtpmaps");
  ASSERT_STREQ(sc_sdp_err_name(-SC_SDP_ERR_COUNT), "unknown");
  ASSERT_STREQ(sc_sdp_err_name(1), "unknown");
  /* every code has its own name */
  for (int i = 0; i < SC_SDP_ERR_COUNT; i++)
    for (int j = i + 1; j < SC_SDP_ERR_COUNT; j++)
      ASSERT_TRUE(strcmp(sc_sdp_err_name(-i), sc_sdp_err_name(-j)) != 0);
}

static void test_answer(void) {
  sc_sdp_answer_t a = {
      .ip = "203.0.113.7", .port = 50001, .ufrag = "AbC+", .pwd = "0123456789abcdef/+XYZW"};
  for (int i = 0; i < SC_SDP_FP_LEN; i++) a.fingerprint[i] = (uint8_t)(i * 8 + 7);
  char out[SC_SDP_ANSWER_MAX];
  static const char want[] =
      "m=audio 50001 ICE/SDP\n"
      "a=fingerprint:sha-256 07:0F:17:1F:27:2F:37:3F:47:4F:57:5F:67:6F:77:7F:87:8F:97:9F:A7:AF:B7:"
      "BF:C7:CF:D7:DF:E7:EF:F7:FF\n"
      "c=IN IP4 203.0.113.7\n"
      "a=rtcp:50001\n"
      "a=ice-ufrag:AbC+\n"
      "a=ice-pwd:0123456789abcdef/+XYZW\n"
      "a=fingerprint:sha-256 07:0F:17:1F:27:2F:37:3F:47:4F:57:5F:67:6F:77:7F:87:8F:97:9F:A7:AF:B7:"
      "BF:C7:CF:D7:DF:E7:EF:F7:FF\n"
      "a=candidate:1 1 UDP 4261412862 203.0.113.7 50001 typ host\n";
  ASSERT_EQ(sc_sdp_write_discord_answer(&a, out, sizeof out), (int)strlen(want));
  ASSERT_STREQ(out, want);
  /* our own reader takes it back */
  static sc_sdp_fragment_t f;
  ASSERT_EQ(parse(out, &f), 0);
  ASSERT_MEMEQ(f.fingerprint, a.fingerprint, SC_SDP_FP_LEN);
  ASSERT_EQ(f.n_sections, 1);
  ASSERT_EQ(f.n_lines, 8);
  /* exactly fits, one byte short */
  ASSERT_EQ(sc_sdp_write_discord_answer(&a, out, strlen(want) + 1), (int)strlen(want));
  ASSERT_EQ(sc_sdp_write_discord_answer(&a, out, strlen(want)), -ENOSPC);
  /* the longest answer fits SC_SDP_ANSWER_MAX */
  static char ufrag[SC_SDP_ICE_MAX + 1], pwd[SC_SDP_ICE_MAX + 1];
  memset(ufrag, 'u', SC_SDP_ICE_MAX);
  memset(pwd, 'p', SC_SDP_ICE_MAX);
  sc_sdp_answer_t big = a;
  big.ip = "255.255.255.255", big.port = 65535, big.ufrag = ufrag, big.pwd = pwd;
  ASSERT_TRUE(sc_sdp_write_discord_answer(&big, out, sizeof out) > 0);
  /* refused: bad ip, port 0, bad credentials */
  sc_sdp_answer_t bad = a;
  bad.ip = "::1";
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
  bad.ip = "1.2.3.4\nx";
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
  bad = a, bad.port = 0;
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
  bad = a, bad.ufrag = "abc";
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
  bad = a, bad.pwd = "short";
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
  bad = a, bad.ufrag = "ab\ncd";
  ASSERT_EQ(sc_sdp_write_discord_answer(&bad, out, sizeof out), -EINVAL);
}

/* The fragments real stacks made, and their full offers
 * (tests/fuzz/make_sdp_seeds.js): each parses, with its Opus PT, the
 * audio-level extension and a fingerprint. */
static void test_real_fragments(void) {
  const char *node = getenv("SC_NODE_DIR");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/../fuzz/corpus/fuzz_sdp", node ? node : "tests/node");
  DIR *d = opendir(dir);
  ASSERT_TRUE(d != NULL);
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    int full = strncmp(e->d_name, "seed-full-", 10) == 0;
    if (!full && strncmp(e->d_name, "seed-real-", 10) != 0) continue;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *fp = fopen(path, "rb");
    ASSERT_TRUE(fp != NULL);
    static char text[SC_SDP_MAX_BYTES + 1];
    size_t n = fread(text, 1, sizeof text, fp);
    fclose(fp);
    static sc_sdp_fragment_t f;
    int rc = sc_sdp_parse_fragment(text, n, &f);
    if (rc) fprintf(stderr, "%s: %s at line %u\n", e->d_name, sc_sdp_err_name(rc), f.bad_line);
    ASSERT_EQ(rc, 0);
    ASSERT_TRUE(sc_sdp_opus_pt(&f) >= 96);
    ASSERT_TRUE(sc_sdp_audio_level_id(&f) > 0);
    ASSERT_TRUE(f.has_fingerprint);
    ASSERT_EQ(f.n_sections > 0, full);
    seen++;
  }
  closedir(d);
  ASSERT_TRUE(seen >= 4);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_chrome_fragment);
  RUN_TEST(test_firefox_fragment);
  RUN_TEST(test_full_offer);
  RUN_TEST(test_line_reader);
  RUN_TEST(test_text_errors);
  RUN_TEST(test_credentials);
  RUN_TEST(test_fingerprint);
  RUN_TEST(test_extmap);
  RUN_TEST(test_rtpmap);
  RUN_TEST(test_error_names);
  RUN_TEST(test_answer);
  RUN_TEST(test_real_fragments);
  SC_TEST_DONE();
}
