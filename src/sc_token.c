#include "sc_token.h"

#include <sodium.h>

static const char sc_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int sc_token_init(void) {
  /* 1 means "already initialised", which is fine: the call is idempotent. */
  return sodium_init() < 0 ? -1 : 0;
}

void sc_token_random(void *buf, size_t len) {
  randombytes_buf(buf, len);
}

uint32_t sc_token_random_u32(void) {
  uint32_t v;
  /* SSRC 0 is reserved as "none" by the front ends; redraw (p = 2^-32). */
  do {
    v = randombytes_random();
  } while (v == 0);
  return v;
}

int sc_token_hex(char *out, size_t out_size, const uint8_t *in, size_t len) {
  if (!out || (len && !in)) return -1;
  if (len > (SIZE_MAX - 1) / 2 || out_size < 2 * len + 1) return -1;
  sodium_bin2hex(out, out_size, in, len);
  return 0;
}

int sc_token_random_hex(char *out, size_t out_size, size_t nbytes) {
  uint8_t chunk[64];
  if (!out || nbytes > (SIZE_MAX - 1) / 2 || out_size < 2 * nbytes + 1) return -1;
  /* Encode in chunks so any nbytes works without a heap buffer. */
  for (size_t done = 0; done < nbytes;) {
    size_t n = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
    randombytes_buf(chunk, n);
    sodium_bin2hex(out + 2 * done, 2 * n + 1, chunk, n);
    done += n;
  }
  out[2 * nbytes] = '\0';
  sodium_memzero(chunk, sizeof chunk);
  return 0;
}

int sc_token_random_alnum(char *out, size_t out_size, size_t len) {
  enum { ALNUM = sizeof sc_alnum - 1, LIMIT = 256 - 256 % ALNUM };
  uint8_t pool[64];
  size_t used = sizeof pool;
  if (!out || len == SIZE_MAX || out_size < len + 1) return -1;
  /* Bytes from one CSPRNG call per 64 (randombytes_uniform per character
   * was a getrandom system call each: 40 per voice token, ~7 % of the
   * control thread's CPU per join). Bytes >= LIMIT are rejected, so every
   * character stays equally likely (no modulo bias). */
  for (size_t i = 0; i < len;) {
    if (used == sizeof pool) {
      randombytes_buf(pool, sizeof pool);
      used = 0;
    }
    uint8_t b = pool[used++];
    if (b < LIMIT) out[i++] = sc_alnum[b % ALNUM];
  }
  out[len] = '\0';
  sodium_memzero(pool, sizeof pool);
  return 0;
}

int sc_token_hmac_sha256_hex(char *out, size_t out_size, const void *key, size_t key_len,
                             const void *msg, size_t msg_len) {
  crypto_auth_hmacsha256_state st;
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  if (!out || out_size < 2 * sizeof mac + 1) return -1;
  if ((key_len && !key) || (msg_len && !msg)) return -1;
  /* The init/update/final API accepts keys of any length (RFC 2104: keys
   * longer than the block are hashed first), unlike crypto_auth_hmacsha256. */
  if (crypto_auth_hmacsha256_init(&st, key, key_len) != 0 ||
      crypto_auth_hmacsha256_update(&st, msg, msg_len) != 0 ||
      crypto_auth_hmacsha256_final(&st, mac) != 0) {
    sodium_memzero(&st, sizeof st);
    return -1;
  }
  sodium_bin2hex(out, out_size, mac, sizeof mac);
  sodium_memzero(&st, sizeof st);
  sodium_memzero(mac, sizeof mac);
  return 0;
}

int sc_token_equal(const char *expected, const char *given) {
  if (!expected || !given) return 0;
  const unsigned char *e = (const unsigned char *)expected;
  const unsigned char *g = (const unsigned char *)given;
  unsigned diff = 0;
  size_t gi = 0;
  /* One pass over the secret's length. The read position in `given` stops
   * advancing at its NUL, so reads never run past it, and a shorter `given`
   * then differs (NUL vs a secret byte). A longer one is caught by the
   * final check that `given` ends exactly where the secret does. The
   * advance is arithmetic, not a branch, so no path depends on the data. */
  for (size_t i = 0; e[i] != '\0'; i++) {
    unsigned c = g[gi];
    diff |= (unsigned)e[i] ^ c;
    gi += (c + 0xFFu) >> 8; /* 1 if c != 0, else 0 */
  }
  diff |= g[gi];
  return (int)(1u & ((diff - 1u) >> 8)); /* diff is 0..255: 1 iff diff == 0 */
}

_Static_assert(SC_TOKEN_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "SipHash key length");

int sc_token_keyed_hash_hex(char *out, size_t out_size, const uint8_t *key, const void *msg,
                            size_t len) {
  unsigned char h[crypto_shorthash_BYTES];
  if (!out || !key || (len && !msg) || out_size < 2 * sizeof h + 1) return -1;
  crypto_shorthash(h, msg, len, key);
  sodium_bin2hex(out, out_size, h, sizeof h);
  return 0;
}

int sc_token_equal_bytes(const void *a, const void *b, size_t len) {
  return sodium_memcmp(a, b, len) == 0;
}
