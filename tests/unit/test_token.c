/* Unit tests for sc_token: HMAC against RFC 4231 and the openssl CLI, hex,
 * random strings, and the constant-time comparison's results. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_test.h"
#include "sc_token.h"

static void test_hmac_rfc4231(void) {
  char out[65];
  uint8_t key1[20], key3[20], data3[50], key6[131];
  memset(key1, 0x0b, sizeof key1);
  memset(key3, 0xaa, sizeof key3);
  memset(data3, 0xdd, sizeof data3);
  memset(key6, 0xaa, sizeof key6);

  /* Test case 1 */
  ASSERT_EQ(sc_token_hmac_sha256_hex(out, sizeof out, key1, sizeof key1, "Hi There", 8), 0);
  ASSERT_STREQ(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  /* Test case 2: key shorter than the hash */
  const char *m2 = "what do ya want for nothing?";
  ASSERT_EQ(sc_token_hmac_sha256_hex(out, sizeof out, "Jefe", 4, m2, strlen(m2)), 0);
  ASSERT_STREQ(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* Test case 3: binary data */
  ASSERT_EQ(sc_token_hmac_sha256_hex(out, sizeof out, key3, sizeof key3, data3, sizeof data3), 0);
  ASSERT_STREQ(out, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  /* Test case 6: key longer than the block size (hashed first) */
  const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  ASSERT_EQ(sc_token_hmac_sha256_hex(out, sizeof out, key6, sizeof key6, m6, strlen(m6)), 0);
  ASSERT_STREQ(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

  /* Output buffer too small is refused, not truncated. */
  ASSERT_EQ(sc_token_hmac_sha256_hex(out, 64, key1, sizeof key1, "Hi There", 8), -1);
}

/* Runs `openssl dgst` on a file and returns its hex digest in out. */
static int openssl_hmac(const char *key_hex, const char *path, char *out, size_t size) {
  char cmd[1024], line[512];
  snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s < '%s' 2>&1", key_hex,
           path);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  int ok = fgets(line, sizeof line, p) != NULL;
  if (pclose(p) != 0 || !ok) return -1;
  line[strcspn(line, "\r\n")] = '\0';
  const char *hex = strrchr(line, ' '); /* "SHA2-256(stdin)= <hex>" */
  if (!hex) return -1;
  snprintf(out, size, "%s", hex + 1);
  return 0;
}

static void test_hmac_vs_openssl_cli(void) {
  char dir[] = "/tmp/sc_test_token_XXXXXX", path[256];
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/msg", dir);
  /* Keys on both sides of the 64-byte block, messages from empty to large. */
  static const size_t key_lens[] = {1, 16, 32, 64, 65, 200};
  static const size_t msg_lens[] = {0, 1, 63, 64, 1000, 70000};
  for (size_t i = 0; i < sizeof key_lens / sizeof key_lens[0]; i++) {
    uint8_t key[200];
    char key_hex[401], ours[65], theirs[256];
    size_t mlen = msg_lens[i];
    uint8_t *msg = malloc(mlen + 1);
    ASSERT_TRUE(msg != NULL);
    sc_token_random(key, key_lens[i]);
    sc_token_random(msg, mlen);
    ASSERT_EQ(sc_token_hex(key_hex, sizeof key_hex, key, key_lens[i]), 0);
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(msg, 1, mlen, f), mlen);
    ASSERT_EQ(fclose(f), 0);
    ASSERT_EQ(openssl_hmac(key_hex, path, theirs, sizeof theirs), 0);
    ASSERT_EQ(sc_token_hmac_sha256_hex(ours, sizeof ours, key, key_lens[i], msg, mlen), 0);
    ASSERT_STREQ(ours, theirs);
    free(msg);
  }
  unlink(path);
  rmdir(dir);
}

static void test_hex(void) {
  const uint8_t in[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x7f};
  char out[15];
  ASSERT_EQ(sc_token_hex(out, sizeof out, in, sizeof in), 0);
  ASSERT_STREQ(out, "0001abcdefff7f");
  ASSERT_EQ(sc_token_hex(out, sizeof out - 1, in, sizeof in), -1);
  ASSERT_EQ(sc_token_hex(out, 1, in, 0), 0);
  ASSERT_STREQ(out, "");
}

static int all_in(const char *s, const char *alphabet) {
  return strspn(s, alphabet) == strlen(s);
}

static void test_random_hex(void) {
  char a[129], b[129], big[2 * 1000 + 1];
  ASSERT_EQ(sc_token_random_hex(a, sizeof a, 64), 0);
  ASSERT_EQ(strlen(a), 128);
  ASSERT_TRUE(all_in(a, "0123456789abcdef"));
  ASSERT_EQ(sc_token_random_hex(b, sizeof b, 64), 0);
  ASSERT_TRUE(strcmp(a, b) != 0);
  ASSERT_EQ(sc_token_random_hex(a, 2 * 16, 16), -1); /* no room for the NUL */
  ASSERT_EQ(sc_token_random_hex(a, 1, 0), 0);
  ASSERT_STREQ(a, "");
  /* Longer than the internal chunk: every part must be filled. */
  memset(big, 'x', sizeof big);
  ASSERT_EQ(sc_token_random_hex(big, sizeof big, 1000), 0);
  ASSERT_EQ(strlen(big), 2000);
  ASSERT_TRUE(all_in(big, "0123456789abcdef"));
}

static void test_random_alnum(void) {
  static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char s[63];
  int counts[256] = {0};
  ASSERT_EQ(sc_token_random_alnum(s, sizeof s, 62), 0);
  ASSERT_EQ(strlen(s), 62);
  ASSERT_EQ(sc_token_random_alnum(s, 10, 10), -1);
  ASSERT_EQ(sc_token_random_alnum(s, 11, 10), 0);
  ASSERT_EQ(strlen(s), 10);
  /* 62,000 characters: each of the 62 is expected 1000 times (sd ~31).
   * A modulo-biased or truncated alphabet falls outside 800..1200. */
  for (int round = 0; round < 1000; round++) {
    ASSERT_EQ(sc_token_random_alnum(s, sizeof s, 62), 0);
    ASSERT_TRUE(all_in(s, alpha));
    for (int i = 0; i < 62; i++) counts[(unsigned char)s[i]]++;
  }
  for (const char *c = alpha; *c; c++) {
    if (counts[(unsigned char)*c] < 800 || counts[(unsigned char)*c] > 1200)
      SC_FAIL("character '%c' drawn %d times of ~1000", *c, counts[(unsigned char)*c]);
  }
}

static void test_random_u32(void) {
  int high = 0;
  uint32_t prev = 0, repeats = 0;
  for (int i = 0; i < 200000; i++) {
    uint32_t v = sc_token_random_u32();
    ASSERT_TRUE(v != 0);
    high += (v >> 31) & 1;
    repeats += (v == prev);
    prev = v;
  }
  ASSERT_TRUE(high > 95000 && high < 105000); /* the top bit is used */
  ASSERT_TRUE(repeats < 3);
}

/* `given` in a buffer of exactly its size, so ASan flags any read past its
 * NUL. */
static int eq_exact(const char *expected, const char *given) {
  size_t n = strlen(given) + 1;
  char *g = malloc(n);
  memcpy(g, given, n);
  int r = sc_token_equal(expected, g);
  free(g);
  return r;
}

static void test_equal(void) {
  ASSERT_EQ(eq_exact("secret", "secret"), 1);
  ASSERT_EQ(eq_exact("", ""), 1);
  ASSERT_EQ(eq_exact("secret", "secreT"), 0);
  ASSERT_EQ(eq_exact("secret", "Secret"), 0);
  ASSERT_EQ(eq_exact("secret", "secre"), 0);   /* prefix of the secret */
  ASSERT_EQ(eq_exact("secret", "secrets"), 0); /* secret is a prefix of it */
  ASSERT_EQ(eq_exact("secret", ""), 0);
  ASSERT_EQ(eq_exact("", "x"), 0);
  ASSERT_EQ(eq_exact("secret", "totally different and much longer"), 0);
  ASSERT_EQ(sc_token_equal(NULL, "x"), 0);
  ASSERT_EQ(sc_token_equal("x", NULL), 0);
  /* Every single-byte change, including bytes with the high bit set. */
  char want[65], got[65];
  ASSERT_EQ(sc_token_random_hex(want, sizeof want, 32), 0);
  for (int i = 0; i < 64; i++) {
    static const char subs[] = {'0', 'g', '\x80', '\xff', ' '};
    for (size_t k = 0; k < sizeof subs; k++) {
      memcpy(got, want, sizeof want);
      if (got[i] == subs[k]) continue;
      got[i] = subs[k];
      ASSERT_EQ(eq_exact(want, got), 0);
    }
  }
  memcpy(got, want, sizeof want);
  ASSERT_EQ(eq_exact(want, got), 1);
}

/* The keyed hash: SipHash-2-4's reference vector (key 00..0f, message
 * 00..0e), the key matters, and equal_bytes compares whole buffers. */
static void test_keyed_hash(void) {
  uint8_t key[SC_TOKEN_HASH_KEY_LEN], msg[15];
  for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
  for (int i = 0; i < 15; i++) msg[i] = (uint8_t)i;
  char h[17], h2[17];
  ASSERT_EQ(sc_token_keyed_hash_hex(h, sizeof h, key, msg, sizeof msg), 0);
  ASSERT_STREQ(h, "e545be4961ca29a1"); /* vectors_sip64[15], little-endian bytes */
  key[0] ^= 1;
  ASSERT_EQ(sc_token_keyed_hash_hex(h2, sizeof h2, key, msg, sizeof msg), 0);
  ASSERT_TRUE(strcmp(h, h2) != 0);
  ASSERT_EQ(sc_token_keyed_hash_hex(h2, 16, key, msg, sizeof msg), -1); /* no room for the NUL */
  ASSERT_EQ(sc_token_equal_bytes("abcdef", "abcdef", 6), 1);
  ASSERT_EQ(sc_token_equal_bytes("abcdef", "abcdeF", 6), 0);
  ASSERT_EQ(sc_token_equal_bytes("xbcdef", "abcdef", 6), 0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  ASSERT_EQ(sc_token_init(), 0); /* idempotent */
  RUN_TEST(test_hmac_rfc4231);
  RUN_TEST(test_hmac_vs_openssl_cli);
  RUN_TEST(test_hex);
  RUN_TEST(test_random_hex);
  RUN_TEST(test_random_alnum);
  RUN_TEST(test_random_u32);
  RUN_TEST(test_equal);
  RUN_TEST(test_keyed_hash);
  SC_TEST_DONE();
}
