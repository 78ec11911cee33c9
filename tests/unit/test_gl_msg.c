/* gl_msg: the Galène message reader (galene/gl_msg.h). */
#include <string.h>

#include "gl_msg.h"
#include "sc_test.h"

static gl_msg_t m; /* 33 KiB */

static int parse(const char *text) {
  return gl_msg_parse(text, strlen(text), &m);
}

static void test_handshake(void) {
  ASSERT_EQ(parse("{\"type\":\"handshake\",\"version\":[\"1\",\"2\"],\"id\":\"abc123\"}"), 0);
  ASSERT_EQ(m.type, GL_T_HANDSHAKE);
  ASSERT_EQ(m.version2, 1);
  ASSERT_STREQ(m.id, "abc123");
  ASSERT_EQ(parse("{\"type\":\"handshake\",\"version\":[\"1\"]}"), 0);
  ASSERT_EQ(m.version2, 0);
  ASSERT_EQ(parse("{\"type\":\"handshake\",\"version\":\"2\"}"), GL_MSG_ERR_FIELD);
}

static void test_join(void) {
  ASSERT_EQ(parse("{\"type\":\"join\",\"kind\":\"join\",\"group\":\"42\",\"token\":\"tok\"}"), 0);
  ASSERT_EQ(m.type, GL_T_JOIN);
  ASSERT_STREQ(m.kind, "join");
  ASSERT_STREQ(m.group, "42");
  ASSERT_STREQ(m.secret, "tok");
  ASSERT_TRUE(m.has_token && !m.has_password && !m.has_username);
  ASSERT_EQ(parse("{\"type\":\"join\",\"group\":\"42\",\"username\":\"7\",\"password\":\"pw\"}"),
            0);
  ASSERT_TRUE(m.has_password && !m.has_token && m.has_username);
  ASSERT_STREQ(m.secret, "pw");
  ASSERT_STREQ(m.username, "7");
  ASSERT_EQ(parse("{\"type\":\"join\",\"token\":\"a\",\"password\":\"b\"}"), GL_MSG_ERR_FIELD);
  ASSERT_EQ(parse("{\"type\":\"join\",\"group\":7}"), GL_MSG_ERR_FIELD);
  ASSERT_EQ(parse("{\"type\":\"join\",\"token\":\"a\\u0000b\"}"),
            GL_MSG_ERR_JSON); /* NUL: jansson refuses */
  char big[300];
  snprintf(big, sizeof big, "{\"type\":\"join\",\"group\":\"%0100d\"}", 1);
  ASSERT_EQ(parse(big), GL_MSG_ERR_LONG);
}

static void test_streams(void) {
  ASSERT_EQ(parse("{\"type\":\"request\",\"request\":{\"\":[\"audio\",\"video\"]}}"), 0);
  ASSERT_EQ(m.wants_audio, 1);
  ASSERT_EQ(parse("{\"type\":\"request\",\"request\":{\"\":[\"video\"]}}"), 0);
  ASSERT_EQ(m.wants_audio, 0);
  ASSERT_EQ(parse("{\"type\":\"request\",\"request\":{\"camera\":true}}"), 0);
  ASSERT_EQ(m.wants_audio, 1);
  ASSERT_EQ(parse("{\"type\":\"offer\",\"id\":\"u1\",\"source\":\"c1\",\"replace\":\"u0\","
                  "\"sdp\":\"v=0\\r\\n\"}"),
            0);
  ASSERT_EQ(m.type, GL_T_OFFER);
  ASSERT_STREQ(m.replace, "u0");
  ASSERT_EQ(m.sdp_len, 5);
  ASSERT_EQ(parse("{\"type\":\"close\",\"id\":\"a b\"}"), GL_MSG_ERR_LONG); /* not a token */
  ASSERT_EQ(parse("{\"type\":\"close\",\"id\":null}"), 0);
  ASSERT_STREQ(m.id, "");
}

static void test_refused(void) {
  ASSERT_EQ(parse("{\"type\":\"frobnicate\"}"), 0);
  ASSERT_EQ(m.type, GL_T_UNKNOWN);
  ASSERT_STREQ(m.type_name, "frobnicate");
  ASSERT_EQ(parse("{\"type\":\"chat\",\"value\":\"hi\"}"), 0);
  ASSERT_EQ(m.type, GL_T_CHAT);
  ASSERT_EQ(parse("[1]"), GL_MSG_ERR_NOT_OBJECT);
  ASSERT_EQ(parse("{\"id\":\"x\"}"), GL_MSG_ERR_NO_TYPE);
  ASSERT_EQ(parse("{\"type\":"), GL_MSG_ERR_JSON);
  ASSERT_EQ(parse("{\"type\":\"ping\",\"type\":\"pong\"}"), GL_MSG_ERR_JSON); /* duplicate key */
  ASSERT_STREQ(gl_msg_err_name(GL_MSG_ERR_FIELD), "bad_field");
  ASSERT_STREQ(gl_msg_type_name(GL_T_REQUESTSTREAM), "requestStream");
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_handshake);
  RUN_TEST(test_join);
  RUN_TEST(test_streams);
  RUN_TEST(test_refused);
  SC_TEST_DONE();
}
