/*
 * dave_fx: the DAVE vectors made by the real @snazzah/davey (OpenMLS) with
 * an External Sender written in Node's crypto (tests/node/dave_vectors.js
 * -> tests/unit/data/dave/vectors.json), for the unit tests: loading the
 * file once per test binary and reading its hex and decimal fields, each
 * a failed check if missing or malformed. The file is found through
 * SC_NODE_DIR (set by ctest), else from the source root.
 */
#ifndef DAVE_FX_H
#define DAVE_FX_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_test.h"

/* Large enough for every vector (commits with welcomes included). */
#define FX_BLOB_MAX 8192

typedef struct {
  uint8_t b[FX_BLOB_MAX];
  size_t n;
} blob_t;

/* The loaded vectors.json; the test's main() frees it with json_decref. */
static json_t *vectors;

static inline void unhex(const char *s, blob_t *out) {
  out->n = 0;
  if (!s) SC_FAIL("hex field missing");
  size_t n = strlen(s);
  if (n % 2 || n / 2 > sizeof out->b) SC_FAIL("bad hex field (%zu chars)", n);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) SC_FAIL("bad hex at %zu", i);
    out->b[i] = (uint8_t)v;
  }
  out->n = n / 2;
}

static inline const char *vec_text(const char *key) {
  const char *s = json_string_value(json_object_get(vectors, key));
  if (!s) SC_FAIL("vector %s missing", key);
  return s;
}

static inline blob_t vec_blob(const char *key) {
  blob_t b;
  unhex(vec_text(key), &b);
  return b;
}

/* Snowflakes (user and channel ids) are stored as decimal strings. */
static inline uint64_t vec_u64(const char *key) {
  return strtoull(vec_text(key), NULL, 10);
}

static inline void load_vectors(void) {
  const char *node = getenv("SC_NODE_DIR");
  char path[1024];
  if (node)
    snprintf(path, sizeof path, "%s/../unit/data/dave/vectors.json", node);
  else
    snprintf(path, sizeof path, "tests/unit/data/dave/vectors.json");
  json_error_t err;
  vectors = json_load_file(path, 0, &err);
  if (!vectors) SC_FAIL("cannot load %s: %s", path, err.text);
}

#endif
