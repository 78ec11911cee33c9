/*
 * fuzz_util: what the fuzz targets share. Each target (tests/fuzz/fuzz_*.c)
 * defines LLVMFuzzerTestOneInput and is linked either with libFuzzer
 * (contrib/fuzz.sh: clang -fsanitize=fuzzer) or with standalone.c, the
 * replay driver that ctest runs over the committed corpus in every build.
 *
 * Owns: nothing. Helpers over caller buffers: splitting one fuzz input
 * into several messages, reading framed records, sealing a packet with an
 * implementation independent of discord_voice/dv_crypto (OpenSSL EVP for
 * AES-GCM, libsodium for XChaCha20-Poly1305), and the oracle that aborts
 * (so both libFuzzer and the replay driver report the input).
 * Threads: the fuzzing thread only.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The libFuzzer entry point every target defines. Targets set up what
 * they keep across inputs lazily (fuzz_init_once and their own statics),
 * so no LLVMFuzzerInitialize is needed. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false: a broken invariant is a
 * finding just like a sanitizer report. */
#define FUZZ_CHECK(cond)                               \
  do {                                                 \
    if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond); \
  } while (0)
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* Quiet logging (FUZZ_VERBOSE=1: debug), libsodium ready. Idempotent. */
void fuzz_init_once(void);
/* 1 when FUZZ_VERBOSE is set: targets may print what an input reached. */
int fuzz_verbose(void);

/* Iterates over the messages of an input split at '\n' (the separator
 * keeps seed files readable; a message itself never needs a newline).
 * Returns 1 and sets *msg and *len to the next message, 0 at the end. */
typedef struct {
  const uint8_t *p, *end;
} fuzz_lines_t;
void fuzz_lines_init(fuzz_lines_t *it, const uint8_t *data, size_t size);
int fuzz_lines_next(fuzz_lines_t *it, const uint8_t **msg, size_t *len);

/* A reader over binary records: fuzz_take_u8/u16/u32 return 0 (and 0 in
 * *v) once the input is used up; fuzz_take_bytes returns at most n bytes. */
typedef struct {
  const uint8_t *p;
  size_t left;
} fuzz_reader_t;
void fuzz_reader_init(fuzz_reader_t *r, const uint8_t *data, size_t size);
int fuzz_take_u8(fuzz_reader_t *r, uint8_t *v);
int fuzz_take_u16(fuzz_reader_t *r, uint16_t *v);
int fuzz_take_u32(fuzz_reader_t *r, uint32_t *v);
size_t fuzz_take_bytes(fuzz_reader_t *r, size_t n, const uint8_t **out);

/* A source address drawn from the last 19 bytes of an input (fewer:
 * zero-padded): byte 0's low bit picks IPv6 (16 address bytes + port)
 * or IPv4 (4 address bytes + port), so the fuzzer reaches both families. */
void fuzz_source_address(const uint8_t *data, size_t size, struct sockaddr_storage *ss);

/* A malloc'ed copy of exactly len bytes (at least 1 allocated), so that
 * ASan reports a read past a message that lies inside a larger input.
 * Never NULL (aborts). The caller frees it. */
uint8_t *fuzz_dup(const uint8_t *p, size_t len);

/* Builds a Discord rtpsize datagram: clear || AEAD(plain) || tag16 ||
 * u32be(ctr), the clear header as AAD, the nonce = ctr in its first 4
 * bytes. mode 0 = aead_aes256_gcm_rtpsize, 1 = xchacha20_poly1305. Returns
 * the length, or -1 if cap is too small. */
int fuzz_seal(int mode, const uint8_t key[32], const uint8_t *clear, size_t clear_len, uint32_t ctr,
              const uint8_t *plain, size_t plain_len, uint8_t *out, size_t cap);

/* Opens what fuzz_seal built (and what the server sends); plain must hold
 * len bytes. Returns the plaintext length or -1 if it does not authenticate. */
int fuzz_open(int mode, const uint8_t key[32], const uint8_t *pkt, size_t len, size_t clear_len,
              uint8_t *plain);

/* The oracle for what a protocol handler sends: a JSON object with an
 * integer "op" and a "d" (an object when d_object is set). Aborts if not. */
void fuzz_check_frame(const char *text, size_t len, int d_object);

/* Replaces every "@<c><d>@" in in with subst(c, d) (NULL: left as is),
 * e.g. "@s1@" -> session id 1. Writes a NUL-terminated result; returns its
 * length, or -1 if it does not fit. */
typedef const char *(*fuzz_subst_fn)(void *ctx, char kind, char index);
long fuzz_substitute(const uint8_t *in, size_t len, char *out, size_t cap, fuzz_subst_fn subst,
                     void *ctx);

/* fuzz_substitute into an exact-size malloc'ed copy (no NUL after it, so
 * ASan sees a read past the message). *out_len gets the length. Never
 * NULL (aborts); the caller frees it. */
uint8_t *fuzz_substituted(const uint8_t *in, size_t len, fuzz_subst_fn subst, void *ctx,
                          size_t *out_len);

#endif
