/*
 * sc_token: secrets, tokens and the comparisons that guard them.
 *
 * Owns: nothing; every function works on caller-provided buffers.
 * Threads: any thread (libsodium's randombytes is thread-safe once
 * sodium_init() ran, which sc_token_init() does).
 * Memory: callers own all buffers; nothing is allocated.
 *
 * All randomness comes from libsodium's randombytes_buf (getrandom(2)), a
 * CSPRNG. All secret comparisons are constant-time in the secret's length.
 */
#ifndef SC_TOKEN_H
#define SC_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Must run once before any other call (idempotent). Returns 0 or -1. */
int sc_token_init(void);

/* Fills buf with len bytes from the CSPRNG. */
void sc_token_random(void *buf, size_t len);

/* A random non-zero 32-bit value (for SSRCs). */
uint32_t sc_token_random_u32(void);

/* Writes 2*nbytes lowercase hex characters of fresh randomness plus a NUL
 * into out (out_size must be >= 2*nbytes+1). Returns 0 or -1. */
int sc_token_random_hex(char *out, size_t out_size, size_t nbytes);

/* Writes a random string of exactly len characters from [A-Za-z0-9] plus a
 * NUL (out_size >= len+1), without modulo bias. Returns 0 or -1. */
int sc_token_random_alnum(char *out, size_t out_size, size_t len);

/* Lowercase hex encoding of in (2*len chars + NUL). Returns 0 or -1 if
 * out_size is too small. */
int sc_token_hex(char *out, size_t out_size, const uint8_t *in, size_t len);

/* Lowercase hex of HMAC-SHA256(key, msg): 64 chars + NUL, out_size >= 65. */
int sc_token_hmac_sha256_hex(char *out, size_t out_size, const void *key, size_t key_len,
                             const void *msg, size_t msg_len);

/* 1 if the two NUL-terminated strings are equal, else 0. The time taken
 * depends only on the length of `expected` (the secret), never on where the
 * strings differ. A `given` of a different length compares unequal. */
int sc_token_equal(const char *expected, const char *given);

/* Index keys for secrets: the keyed hash (SipHash-2-4, libsodium's
 * crypto_shorthash) of msg under key (SC_TOKEN_HASH_KEY_LEN random bytes
 * per process), as 16 hex chars + NUL (out_size >= 17). Someone who does
 * not know the key cannot aim at a slot, so a table keyed by it says
 * nothing about how close a guess came. 0 or -1. */
#define SC_TOKEN_HASH_KEY_LEN 16
int sc_token_keyed_hash_hex(char *out, size_t out_size, const uint8_t *key, const void *msg,
                            size_t len);

/* 1 if the len bytes at a and b are equal, else 0, in time that depends
 * on len only (sodium_memcmp). */
int sc_token_equal_bytes(const void *a, const void *b, size_t len);

#endif
