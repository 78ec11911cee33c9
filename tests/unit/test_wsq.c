/*
 * test_wsq: the frame header sc_wsq writes when it sends several queued
 * messages in one write (RFC 6455 section 5.2: FIN + text opcode, no mask,
 * 7-bit, 16-bit or 64-bit big-endian length). The frames themselves are
 * parsed by real clients in the node tests (ws, @discordjs/voice).
 */
#include "sc_test.h"
#include "sc_wsq.h"

static void check(size_t len, const unsigned char *want, size_t want_len) {
  unsigned char h[10];
  ASSERT_EQ(sc_wsq_text_header(h, len), want_len);
  ASSERT_MEMEQ(h, want, want_len);
}

static void test_text_header(void) {
  check(0, (const unsigned char[]){0x81, 0x00}, 2);
  check(125, (const unsigned char[]){0x81, 0x7d}, 2);
  check(126, (const unsigned char[]){0x81, 0x7e, 0x00, 0x7e}, 4);
  check(300, (const unsigned char[]){0x81, 0x7e, 0x01, 0x2c}, 4);
  check(65535, (const unsigned char[]){0x81, 0x7e, 0xff, 0xff}, 4);
  check(65536, (const unsigned char[]){0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, 10);
  check(0x123456789aULL, (const unsigned char[]){0x81, 0x7f, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a},
        10);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_text_header);
  SC_TEST_DONE();
}
