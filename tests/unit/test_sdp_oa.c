/*
 * Unit tests for src/sc_sdp_oa: the SDP documents real Chromium wrote
 * (tests/unit/data/sdp_oa, captured by tests/fuzz/make_sdp_oa_seeds.js:
 * a sendonly and a recvonly audio offer, an audio+video+data offer, an
 * answer), every error of the reader, and both writers: their refusals,
 * their cap, and their output read back by our own reader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_sdp_oa.h"
#include "sc_test.h"

#define FP_HEX                                                                                 \
  "4A:19:0B:7C:2D:E5:F6:01:A2:33:C4:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:" \
  "88:9F"
#define HEAD                                            \
  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" \
  "a=ice-ufrag:Xk3q\r\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\r\na=fingerprint:sha-256 " FP_HEX "\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"

static sc_sdp_session_t s, back;
static char out[SC_SDP_OA_OUT_MAX];

static int parse(const char *text) {
  return sc_sdp_parse_session(text, strlen(text), &s);
}

/* tests/unit/data/sdp_oa/<name> into *into. */
static int parse_file(const char *name, sc_sdp_session_t *into) {
  const char *node = getenv("SC_NODE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/../unit/data/sdp_oa/%s", node ? node : "tests/node", name);
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    fprintf(stderr, "%s: cannot open\n", path);
    return -1000;
  }
  static char text[SC_SDP_MAX_BYTES + 1];
  size_t n = fread(text, 1, sizeof text, fp);
  fclose(fp);
  int rc = sc_sdp_parse_session(text, n, into);
  if (rc) fprintf(stderr, "%s: %s at line %u\n", name, sc_sdp_oa_err_name(rc), into->t.bad_line);
  return rc;
}

static sc_sdp_local_t local(void) {
  sc_sdp_local_t l = {.ip = "192.0.2.7",
                      .port = 50001,
                      .ufrag = "AbC+",
                      .pwd = "0123456789abcdef/+XYZW",
                      .session_id = 77,
                      .version = 3};
  for (int i = 0; i < SC_SDP_FP_LEN; i++) l.fingerprint[i] = (uint8_t)(0xA0 + i);
  return l;
}

static sc_sdp_take_t send_take(uint32_t ssrc) {
  sc_sdp_take_t t = {SC_SDP_TAKE_SEND, ssrc, "cn", "stream-1", "track-1"};
  return t;
}

static void test_chromium_offers(void) {
  ASSERT_EQ(parse_file("chromium-sendonly.sdp", &s), 0);
  ASSERT_EQ(s.n, 1);
  ASSERT_EQ(s.setup, SC_SDP_SETUP_ACTPASS);
  ASSERT_STREQ(s.m[0].kind, "audio");
  ASSERT_STREQ(s.m[0].mid, "0");
  ASSERT_STREQ(s.m[0].proto, "UDP/TLS/RTP/SAVPF");
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_SENDONLY);
  ASSERT_EQ(s.m[0].port, 9);
  ASSERT_EQ(s.m[0].opus_pt, 111);
  ASSERT_TRUE(strstr(s.m[0].opus_fmtp, "useinbandfec=1") != NULL);
  ASSERT_TRUE(s.m[0].audio_level_id > 0 && s.m[0].mid_ext_id > 0);
  ASSERT_TRUE(s.m[0].ssrc != 0 && s.m[0].msid_stream[0] && s.m[0].msid_track[0]);
  ASSERT_TRUE(s.t.has_fingerprint && s.t.ufrag[0]);
  ASSERT_EQ(sc_sdp_first_audio(&s), 0);

  ASSERT_EQ(parse_file("chromium-recvonly.sdp", &s), 0);
  ASSERT_EQ(s.n, 1);
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_RECVONLY);
  ASSERT_EQ(s.m[0].ssrc, 0);
  ASSERT_STREQ(s.m[0].msid_stream, "");

  ASSERT_EQ(parse_file("chromium-av-data.sdp", &s), 0);
  ASSERT_EQ(s.n, 3);
  ASSERT_STREQ(s.m[0].kind, "audio");
  ASSERT_STREQ(s.m[1].kind, "video");
  ASSERT_STREQ(s.m[2].kind, "application");
  ASSERT_STREQ(s.m[2].proto, "UDP/DTLS/SCTP");
  ASSERT_STREQ(s.m[2].fmt, "webrtc-datachannel");
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_SENDRECV);
  ASSERT_EQ(s.m[1].opus_pt, -1);
  ASSERT_EQ(s.m[2].opus_pt, -1);
  ASSERT_STREQ(s.m[1].mid, "1");
  ASSERT_STREQ(s.m[2].mid, "2");
  ASSERT_EQ(sc_sdp_first_audio(&s), 0);

  ASSERT_EQ(parse_file("chromium-answer.sdp", &s), 0);
  ASSERT_EQ(s.setup, SC_SDP_SETUP_ACTIVE);
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_RECVONLY);
  ASSERT_EQ(s.m[0].opus_pt, 111);
}

/* Firefox's shape (max-bundle): session-level fingerprint, fmtp before
 * its rtpmap, braces in msid and cname, a bundle-only section (port 0,
 * still offered). */
static const char firefox_offer[] =
    "v=0\r\no=mozilla...THIS_IS_SDPARTA-99.0 2089463445337853245 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\nt=0 0\r\na=fingerprint:sha-256 " FP_HEX
    "\r\na=group:BUNDLE 0 1 2\r\na=ice-options:trickle\r\na=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\na=fmtp:101 0-15\r\n"
    "a=ice-pwd:b5d3c4a1e9f0827364a5b6c7d8e9f001\r\na=ice-ufrag:3e1f0a9b\r\na=mid:0\r\n"
    "a=msid:{7a0b5b3e-7a35-4a0c-9d7e-5d4e1d9c2f11} {d2b3c4e5-1111-2222-3333-444455556666}\r\n"
    "a=rtcp-mux\r\na=rtpmap:109 opus/48000/2\r\na=rtpmap:9 G722/8000/1\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000/1\r\n"
    "a=setup:actpass\r\na=ssrc:2655508255 cname:{0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0}\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=recvonly\r\n"
    "a=mid:1\r\na=rtpmap:120 VP8/90000\r\na=setup:actpass\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=recvonly\r\n"
    "a=mid:2\r\na=rtpmap:109 opus/48000/2\r\na=setup:actpass\r\n";

static void test_firefox_shape(void) {
  ASSERT_EQ(parse(firefox_offer), 0);
  ASSERT_EQ(s.n, 3);
  ASSERT_EQ(s.setup, SC_SDP_SETUP_ACTPASS);
  ASSERT_EQ(s.m[0].opus_pt, 109);
  ASSERT_STREQ(s.m[0].opus_fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  ASSERT_EQ(s.m[0].ssrc, 2655508255u);
  ASSERT_STREQ(s.m[0].msid_stream, "{7a0b5b3e-7a35-4a0c-9d7e-5d4e1d9c2f11}");
  ASSERT_EQ(s.m[0].audio_level_id, 1);
  ASSERT_EQ(s.m[0].mid_ext_id, 3);
  ASSERT_EQ(s.m[1].port, 0);
  ASSERT_TRUE(s.m[1].bundle_only && s.m[2].bundle_only && !s.m[0].bundle_only);
  ASSERT_EQ(s.m[2].direction, SC_SDP_DIR_RECVONLY);
  /* The bundle-only audio section can be taken; our answer gives it our port. */
  sc_sdp_local_t l = local();
  sc_sdp_take_t t[3] = {{SC_SDP_TAKE_RECV, 0, NULL, NULL, NULL},
                        {SC_SDP_TAKE_REJECT, 0, NULL, NULL, NULL},
                        send_take(9)};
  int n = sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out);
  ASSERT_TRUE(n > 0);
  ASSERT_TRUE(strstr(out, "\r\na=group:BUNDLE 0 2\r\n") != NULL);
  ASSERT_EQ(sc_sdp_parse_session(out, (size_t)n, &back), 0);
  ASSERT_EQ(back.m[2].port, 50001);
  ASSERT_EQ(back.m[2].bundle_only, 0);
  ASSERT_EQ(back.m[2].direction, SC_SDP_DIR_SENDONLY);
  ASSERT_EQ(back.m[1].port, 0);
  /* A section stopped without bundle-only stays unusable. */
  ASSERT_EQ(parse(HEAD "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"), 0);
  ASSERT_EQ(sc_sdp_first_audio(&s), -1);
  ASSERT_EQ(parse(HEAD "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
                       "a=bundle-only\r\n"),
            0);
  ASSERT_EQ(sc_sdp_first_audio(&s), 0);
}

/* Our answer to Chromium's audio+video+data offer, read back. */
static void test_answer_read_back(void) {
  ASSERT_EQ(parse_file("chromium-av-data.sdp", &s), 0);
  sc_sdp_local_t l = local();
  sc_sdp_take_t takes[3] = {{SC_SDP_TAKE_RECV, 0, NULL, NULL, NULL}};
  int n = sc_sdp_write_answer(&l, &s, takes, 3, out, sizeof out);
  ASSERT_TRUE(n > 0 && (size_t)n == strlen(out));
  ASSERT_TRUE(strstr(out, "\r\na=group:BUNDLE 0\r\n") != NULL);
  ASSERT_TRUE(strstr(out, "\r\na=ice-lite\r\n") != NULL);
  ASSERT_TRUE(strstr(out, "\r\nm=video 0 UDP/TLS/RTP/SAVPF ") != NULL);
  ASSERT_TRUE(strstr(out, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n") != NULL);
  char rtpmap[96]; /* the rejected video keeps its first format's rtpmap */
  snprintf(rtpmap, sizeof rtpmap, "\r\na=inactive\r\na=rtpmap:%s VP8/90000\r\n", s.m[1].fmt);
  ASSERT_TRUE(strstr(out, rtpmap) != NULL);
  ASSERT_TRUE(strstr(out, "a=candidate:1 1 udp 2130706431 192.0.2.7 50001 typ host\r\n") != NULL);
  ASSERT_TRUE(strstr(out, "a=end-of-candidates\r\n") != NULL);
  ASSERT_TRUE(strstr(out, "o=- 77 3 IN IP4") != NULL);
  ASSERT_EQ(sc_sdp_parse_session(out, (size_t)n, &back), 0);
  ASSERT_EQ(back.n, 3);
  ASSERT_EQ(back.setup, SC_SDP_SETUP_PASSIVE);
  ASSERT_STREQ(back.t.ufrag, "AbC+");
  ASSERT_STREQ(back.t.pwd, l.pwd);
  ASSERT_MEMEQ(back.t.fingerprint, l.fingerprint, SC_SDP_FP_LEN);
  ASSERT_EQ(back.m[0].port, 50001);
  ASSERT_EQ(back.m[0].direction, SC_SDP_DIR_RECVONLY);
  ASSERT_EQ(back.m[0].opus_pt, s.m[0].opus_pt);
  ASSERT_STREQ(back.m[0].opus_fmtp, s.m[0].opus_fmtp);
  ASSERT_EQ(back.m[0].audio_level_id, s.m[0].audio_level_id);
  ASSERT_EQ(back.m[0].mid_ext_id, 0); /* only audio level is echoed */
  for (int i = 1; i < 3; i++) {
    ASSERT_EQ(back.m[i].port, 0);
    ASSERT_EQ(back.m[i].direction, SC_SDP_DIR_INACTIVE);
    ASSERT_STREQ(back.m[i].mid, s.m[i].mid);
    ASSERT_STREQ(back.m[i].kind, s.m[i].kind);
  }
  ASSERT_EQ(sc_sdp_first_audio(&back), 0);

  /* ion's subscribe: we send, with msid and ssrc. */
  ASSERT_EQ(parse_file("chromium-recvonly.sdp", &s), 0);
  sc_sdp_take_t t = send_take(0xdeadbeef);
  n = sc_sdp_write_answer(&l, &s, &t, 1, out, sizeof out);
  ASSERT_TRUE(n > 0);
  ASSERT_EQ(sc_sdp_parse_session(out, (size_t)n, &back), 0);
  ASSERT_EQ(back.m[0].direction, SC_SDP_DIR_SENDONLY);
  ASSERT_EQ(back.m[0].ssrc, 0xdeadbeef);
  ASSERT_STREQ(back.m[0].msid_stream, "stream-1");
  ASSERT_STREQ(back.m[0].msid_track, "track-1");
  ASSERT_TRUE(strstr(out, "a=ssrc:3735928559 cname:cn\r\n") != NULL);

  /* The exact cap: the text and its NUL. */
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, &t, 1, out, (size_t)n + 1), n);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, &t, 1, out, (size_t)n), -ENOSPC);
  ASSERT_STREQ(out, "");
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, &t, 1, out, 0), -ENOSPC);
}

static void test_answer_refusals(void) {
  ASSERT_EQ(parse_file("chromium-av-data.sdp", &s), 0);
  sc_sdp_local_t l = local(), bad;
  sc_sdp_take_t ok[3] = {{SC_SDP_TAKE_RECV, 0, NULL, NULL, NULL}}, t[3];
  ASSERT_TRUE(sc_sdp_write_answer(&l, &s, ok, 3, out, sizeof out) > 0);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, ok, 2, out, sizeof out), -EINVAL);
  bad = l, bad.ip = "::1";
  ASSERT_EQ(sc_sdp_write_answer(&bad, &s, ok, 3, out, sizeof out), -EINVAL);
  bad = l, bad.port = 0;
  ASSERT_EQ(sc_sdp_write_answer(&bad, &s, ok, 3, out, sizeof out), -EINVAL);
  bad = l, bad.pwd = "short";
  ASSERT_EQ(sc_sdp_write_answer(&bad, &s, ok, 3, out, sizeof out), -EINVAL);
  bad = l, bad.ufrag = "ab\r\ncd";
  ASSERT_EQ(sc_sdp_write_answer(&bad, &s, ok, 3, out, sizeof out), -EINVAL);
  memset(t, 0, sizeof t); /* nothing accepted */
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  t[1].take = SC_SDP_TAKE_RECV; /* video */
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  memset(t, 0, sizeof t);
  t[0].take = 7;
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  t[0] = send_take(5);
  t[0].msid_track = NULL; /* a trackless stream */
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  t[0] = send_take(5);
  t[0].cname = "a b";
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  t[0] = send_take(0);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out), -EINVAL);
  t[0] = send_take(5); /* sendrecv offer: either way */
  ASSERT_TRUE(sc_sdp_write_answer(&l, &s, t, 3, out, sizeof out) > 0);

  /* The offer's direction decides. */
  ASSERT_EQ(parse_file("chromium-sendonly.sdp", &s), 0);
  t[0] = send_take(5);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, t, 1, out, sizeof out), -EINVAL);
  ASSERT_EQ(parse_file("chromium-recvonly.sdp", &s), 0);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, ok, 1, out, sizeof out), -EINVAL);
  /* A section the peer stopped (port 0) can only be rejected. */
  ASSERT_EQ(parse(HEAD AUDIO "a=mid:x\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:y\r\n"), 0);
  sc_sdp_take_t second[2] = {{SC_SDP_TAKE_REJECT, 0, NULL, NULL, NULL},
                             {SC_SDP_TAKE_RECV, 0, NULL, NULL, NULL}};
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, second, 2, out, sizeof out), -EINVAL);
  sc_sdp_take_t first[2] = {{SC_SDP_TAKE_RECV, 0, NULL, NULL, NULL}};
  ASSERT_TRUE(sc_sdp_write_answer(&l, &s, first, 2, out, sizeof out) > 0);
  /* An accepted section needs a mid (BUNDLE). */
  ASSERT_EQ(parse(HEAD AUDIO), 0);
  ASSERT_EQ(sc_sdp_write_answer(&l, &s, ok, 1, out, sizeof out), -EINVAL);
}

static sc_sdp_offer_media_t offer_media(const char *mid, uint32_t ssrc) {
  sc_sdp_offer_media_t m = {mid, 111, "minptime=10;useinbandfec=1", 1, ssrc, "cn", "st", "tr"};
  return m;
}

static void test_offer_read_back(void) {
  sc_sdp_local_t l = local();
  sc_sdp_offer_media_t m[3] = {offer_media("a", 1), offer_media("b", 2), offer_media("c", 3)};
  m[1].opus_fmtp = NULL;
  m[2].audio_level_id = 0;
  m[2].opus_pt = 100;
  int n = sc_sdp_write_offer(&l, m, 3, out, sizeof out);
  ASSERT_TRUE(n > 0);
  ASSERT_TRUE(strstr(out, "\r\na=group:BUNDLE a b c\r\n") != NULL);
  ASSERT_EQ(sc_sdp_parse_session(out, (size_t)n, &back), 0);
  ASSERT_EQ(back.n, 3);
  ASSERT_EQ(back.setup, SC_SDP_SETUP_ACTPASS);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(back.m[i].direction, SC_SDP_DIR_SENDONLY);
    ASSERT_STREQ(back.m[i].mid, m[i].mid);
    ASSERT_EQ(back.m[i].opus_pt, m[i].opus_pt);
    ASSERT_EQ(back.m[i].ssrc, m[i].ssrc);
    ASSERT_EQ(back.m[i].audio_level_id, m[i].audio_level_id);
    ASSERT_STREQ(back.m[i].msid_stream, "st");
    ASSERT_STREQ(back.m[i].msid_track, "tr");
    ASSERT_EQ(back.m[i].port, 50001);
  }
  ASSERT_STREQ(back.m[0].opus_fmtp, "minptime=10;useinbandfec=1");
  ASSERT_STREQ(back.m[1].opus_fmtp, "");
  ASSERT_EQ(sc_sdp_write_offer(&l, m, 3, out, (size_t)n), -ENOSPC);

  sc_sdp_offer_media_t b[2] = {offer_media("a", 1), offer_media("a", 2)};
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 2, out, sizeof out), -EINVAL); /* same mid */
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 0, out, sizeof out), -EINVAL);
  ASSERT_EQ(sc_sdp_write_offer(&l, b, SC_SDP_OA_MAX_SECTIONS + 1, out, sizeof out), -EINVAL);
  b[0].opus_pt = 95;
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
  b[0] = offer_media("a", 1), b[0].audio_level_id = 15;
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
  b[0] = offer_media("a b", 1);
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
  b[0] = offer_media("a", 1), b[0].opus_fmtp = "x=1\r\na=evil";
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
  b[0] = offer_media("a", 0);
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
  b[0] = offer_media("a", 1), b[0].msid_stream = "";
  ASSERT_EQ(sc_sdp_write_offer(&l, b, 1, out, sizeof out), -EINVAL);
}

/* The longest answer fits SC_SDP_OA_OUT_MAX and our own reader: 16
 * sections with the longest mids and fmtps, 256-byte credentials. */
static void test_longest(void) {
  static char text[SC_SDP_MAX_BYTES];
  size_t len = (size_t)snprintf(text, sizeof text, "%s", HEAD);
  char fmtp[SC_SDP_OA_FMTP_MAX + 1];
  memset(fmtp, 'f', SC_SDP_OA_FMTP_MAX);
  fmtp[SC_SDP_OA_FMTP_MAX] = '\0';
  for (int i = 0; i < SC_SDP_OA_MAX_SECTIONS; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, AUDIO "a=mid:%031d\r\na=fmtp:111 %s\r\n",
                            i, fmtp);
  ASSERT_EQ(sc_sdp_parse_session(text, len, &s), 0);
  char ufrag[SC_SDP_ICE_MAX + 1], pwd[SC_SDP_ICE_MAX + 1];
  memset(ufrag, 'u', SC_SDP_ICE_MAX), ufrag[SC_SDP_ICE_MAX] = '\0';
  memset(pwd, 'p', SC_SDP_ICE_MAX), pwd[SC_SDP_ICE_MAX] = '\0';
  sc_sdp_local_t l = local();
  l.ip = "255.255.255.255", l.port = 65535, l.ufrag = ufrag, l.pwd = pwd;
  l.session_id = UINT64_MAX, l.version = UINT32_MAX;
  sc_sdp_take_t t[SC_SDP_OA_MAX_SECTIONS];
  char name[SC_SDP_OA_MSID_MAX + 1];
  memset(name, 'n', SC_SDP_OA_MSID_MAX), name[SC_SDP_OA_MSID_MAX] = '\0';
  for (int i = 0; i < SC_SDP_OA_MAX_SECTIONS; i++) {
    sc_sdp_take_t k = {SC_SDP_TAKE_SEND, UINT32_MAX, name, name, name};
    t[i] = k;
  }
  int n = sc_sdp_write_answer(&l, &s, t, s.n, out, sizeof out);
  ASSERT_TRUE(n > 0);
  ASSERT_EQ(sc_sdp_parse_session(out, (size_t)n, &back), 0);
  ASSERT_EQ(back.n, SC_SDP_OA_MAX_SECTIONS);
}

#define X16 "xxxxxxxxxxxxxxxx"
#define LONG_FMTP X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 "x"

/* Each error with the line it names. */
static void test_errors(void) {
  struct {
    const char *text;
    int err;
    unsigned line;
  } cases[] = {
      {HEAD, SC_SDP_OA_ERR_NO_SECTIONS, 0},
      {"a=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\r\n" AUDIO, SC_SDP_ERR_MISSING_UFRAG, 0},
      {HEAD "a=ice-ufrag:Zzzz\r\n" AUDIO, SC_SDP_ERR_UFRAG_CONFLICT, 8},
      {HEAD "m=audio\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audio 9\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audio 65536 RTP/AVP 0\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audio x RTP/AVP 0\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audio 9/x RTP/AVP 0\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "m=audi@ 9 RTP/AVP 0\r\n", SC_SDP_OA_ERR_BAD_MLINE, 8},
      {HEAD "a=mid:0\r\n" AUDIO, SC_SDP_OA_ERR_BAD_MID, 8},
      {HEAD AUDIO "a=mid:\r\n", SC_SDP_OA_ERR_BAD_MID, 10},
      {HEAD AUDIO "a=mid:a,b\r\n", SC_SDP_OA_ERR_BAD_MID, 10},
      {HEAD AUDIO "a=mid:012345678901234567890123456789012\r\n", SC_SDP_OA_ERR_BAD_MID, 10},
      {HEAD AUDIO "a=mid:a\r\na=mid:b\r\n", SC_SDP_OA_ERR_BAD_MID, 11},
      {HEAD AUDIO "a=mid:a\r\na=mid:a\r\n" AUDIO "a=mid:b\r\na=mid:a\r\n", SC_SDP_OA_ERR_BAD_MID,
       15},
      {HEAD AUDIO "a=mid:a\r\n" AUDIO "a=mid:a\r\n", SC_SDP_OA_ERR_BAD_MID, 13},
      {HEAD AUDIO "a=setup:holdconn\r\n", SC_SDP_OA_ERR_BAD_SETUP, 10},
      {HEAD "a=setup:actpass\r\n" AUDIO "a=setup:passive\r\n", SC_SDP_OA_ERR_BAD_SETUP, 11},
      {HEAD AUDIO "a=ssrc:0 cname:x\r\n", SC_SDP_OA_ERR_BAD_SSRC, 10},
      {HEAD AUDIO "a=ssrc:12\r\n", SC_SDP_OA_ERR_BAD_SSRC, 10},
      {HEAD AUDIO "a=ssrc:-1 cname:x\r\n", SC_SDP_OA_ERR_BAD_SSRC, 10},
      {HEAD AUDIO "a=ssrc:4294967296 cname:x\r\n", SC_SDP_OA_ERR_BAD_SSRC, 10},
      {HEAD "a=ssrc:1 cname:x\r\n" AUDIO, SC_SDP_OA_ERR_BAD_SSRC, 8},
      {HEAD AUDIO "a=fmtp:111\r\n", SC_SDP_OA_ERR_BAD_FMTP, 10},
      {HEAD AUDIO "a=fmtp:111  y=1\r\n", SC_SDP_OA_ERR_BAD_FMTP, 10},
      {HEAD AUDIO "a=fmtp: 111 y=1\r\n", SC_SDP_OA_ERR_BAD_FMTP, 10},
      {HEAD AUDIO "a=fmtp:111 a=1\r\na=fmtp:111 a=2\r\n", SC_SDP_OA_ERR_BAD_FMTP, 11},
      {HEAD AUDIO "a=fmtp:111 " LONG_FMTP "\r\n", SC_SDP_OA_ERR_BAD_FMTP, 10},
      {HEAD AUDIO "a=msid:a b c\r\n", SC_SDP_OA_ERR_BAD_MSID, 10},
      {HEAD AUDIO "a=msid:a b\r\na=msid: d\r\n", SC_SDP_OA_ERR_BAD_MSID, 11},
      {HEAD AUDIO "a=msid:\r\n", SC_SDP_OA_ERR_BAD_MSID, 10},
      {HEAD AUDIO "a=msid:s 01234567890123456789012345678901234567890123456789012345678901234\r\n",
       SC_SDP_OA_ERR_BAD_MSID, 10},
      {HEAD AUDIO "a=sendonly\r\na=recvonly\r\n", SC_SDP_OA_ERR_BAD_DIRECTION, 11},
      {HEAD "a=sendonly\r\na=inactive\r\n" AUDIO, SC_SDP_OA_ERR_BAD_DIRECTION, 9},
      {HEAD AUDIO "a=rtpmap:111 opus/48000/1\r\n", SC_SDP_ERR_RTPMAP_CONFLICT, 10},
      {HEAD AUDIO "a=ice-pwd\x01\r\n", SC_SDP_ERR_BINARY, 0},
      {HEAD AUDIO "a=x:\xc3\xa9\r\n", SC_SDP_ERR_BINARY, 0},
      {HEAD AUDIO "x\r\n", SC_SDP_ERR_BAD_LINE, 10},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = parse(cases[i].text);
    if (rc != cases[i].err || s.t.bad_line != cases[i].line)
      fprintf(stderr, "case %zu: %s at %u\n", i, sc_sdp_oa_err_name(rc), s.t.bad_line);
    ASSERT_EQ(rc, cases[i].err);
    ASSERT_EQ(s.t.bad_line, cases[i].line);
  }
}

static void test_limits(void) {
  static char text[SC_SDP_MAX_BYTES + 64];
  size_t len = (size_t)snprintf(text, sizeof text, "%s", HEAD);
  for (int i = 0; i < SC_SDP_OA_MAX_SECTIONS; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%s", AUDIO);
  ASSERT_EQ(sc_sdp_parse_session(text, len, &s), 0);
  ASSERT_EQ(s.n, SC_SDP_OA_MAX_SECTIONS);
  len += (size_t)snprintf(text + len, sizeof text - len, "%s", AUDIO);
  ASSERT_EQ(sc_sdp_parse_session(text, len, &s), SC_SDP_OA_ERR_TOO_MANY_SECTIONS);
  ASSERT_EQ(s.n, SC_SDP_OA_MAX_SECTIONS);
  memset(text + len, 'a', sizeof text - len);
  ASSERT_EQ(sc_sdp_parse_session(text, sizeof text, &s), SC_SDP_ERR_TOO_BIG);
  ASSERT_EQ(sc_sdp_parse_session(text, 0, &s), SC_SDP_ERR_MISSING_UFRAG);
  ASSERT_EQ(sc_sdp_parse_session("\0\0\0", 3, &s), SC_SDP_ERR_BINARY);
}

static void test_defaults(void) {
  /* LF only; the session-level direction is the sections' default; the
   * first opus/48000/2 in m= order (not rtpmap order), any case. */
  ASSERT_EQ(parse("v=0\na=ice-ufrag:Xk3q\na=ice-pwd:5rCXm2Y5a0gFQwvBlQ7yDkdM\na=recvonly\n"
                  "m=audio 9/2 RTP/AVP 0 109 110\na=rtpmap:110 OPUS/48000/2\n"
                  "a=rtpmap:109 opus/48000/2\na=rtpmap:0 PCMU/8000\na=mid:m0\n"
                  "a=fmtp:110 stereo=1\na=fmtp:109 minptime=10\n"
                  "m=audio 9 RTP/AVP 108\na=rtpmap:108 opus/48000/1\na=sendrecv\n"),
            0);
  ASSERT_EQ(s.n, 2);
  ASSERT_EQ(s.setup, SC_SDP_SETUP_NONE);
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_RECVONLY);
  ASSERT_EQ(s.m[0].opus_pt, 109);
  ASSERT_STREQ(s.m[0].opus_fmtp, "minptime=10");
  ASSERT_STREQ(s.m[0].fmt, "0");
  ASSERT_EQ(s.m[1].direction, SC_SDP_DIR_SENDRECV);
  ASSERT_EQ(s.m[1].opus_pt, -1);
  ASSERT_STREQ(s.m[1].mid, "");
  ASSERT_EQ(sc_sdp_first_audio(&s), 0);
  /* Lines repeated with the same value, a track in two streams (the
   * first kept), other PTs' fmtp lines of any shape. */
  ASSERT_EQ(parse(HEAD AUDIO "a=mid:a\r\na=mid:a\r\na=sendonly\r\na=sendonly\r\n"
                             "a=msid:s1 t\r\na=msid:s2 t\r\na=fmtp:111 x=1\r\na=fmtp:111 x=1\r\n"
                             "a=fmtp:webrtc-datachannel max-message-size=1\r\na=fmtp:96\r\n"),
            0);
  ASSERT_STREQ(s.m[0].mid, "a");
  ASSERT_STREQ(s.m[0].msid_stream, "s1");
  ASSERT_STREQ(s.m[0].opus_fmtp, "x=1");
  ASSERT_EQ(s.m[0].direction, SC_SDP_DIR_SENDONLY);
  /* first_audio skips stopped and opus-less sections. */
  ASSERT_EQ(parse(HEAD "m=video 9 X 96\r\n"
                       "m=audio 0 X 111\r\n" AUDIO "a=rtpmap:0 PCMU/8000\r\n"
                       "m=audio 9 X 0\r\n" AUDIO),
            0);
  ASSERT_EQ(sc_sdp_first_audio(&s), 2);
  ASSERT_EQ(parse(HEAD "m=audio 9 X 0\r\na=rtpmap:0 PCMU/8000\r\n"), 0);
  ASSERT_EQ(sc_sdp_first_audio(&s), -1);
}

static void test_err_names(void) {
  ASSERT_STREQ(sc_sdp_oa_err_name(0), "ok");
  ASSERT_STREQ(sc_sdp_oa_err_name(SC_SDP_ERR_BINARY), "binary");
  ASSERT_STREQ(sc_sdp_oa_err_name(SC_SDP_OA_ERR_NO_SECTIONS), "no_sections");
  ASSERT_STREQ(sc_sdp_oa_err_name(SC_SDP_OA_ERR_BAD_MSID), "bad_msid");
  ASSERT_STREQ(sc_sdp_oa_err_name(SC_SDP_OA_ERR_NO_AUDIO), "no_audio");
  ASSERT_STREQ(sc_sdp_oa_err_name(-30), "unknown");
  ASSERT_STREQ(sc_sdp_oa_err_name(SC_SDP_OA_ERR_BAD_MSID - 1), "unknown");
  ASSERT_STREQ(sc_sdp_oa_err_name(1), "unknown");
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_chromium_offers);
  RUN_TEST(test_firefox_shape);
  RUN_TEST(test_answer_read_back);
  RUN_TEST(test_answer_refusals);
  RUN_TEST(test_offer_read_back);
  RUN_TEST(test_longest);
  RUN_TEST(test_errors);
  RUN_TEST(test_limits);
  RUN_TEST(test_defaults);
  RUN_TEST(test_err_names);
  SC_TEST_DONE();
}
