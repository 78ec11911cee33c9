/*
 * lvsp_json: table-driven checks of decoded LVSP payloads (jansson), and
 * the snowflake reader every handler shares.
 *
 * Each handler describes the fields it reads as a const table of
 * {name, accepted types, flags}; one validator walks the table, so every
 * malformed message is refused the same way and names the offending field.
 * Unknown fields are ignored (both LVSP dialects add fields freely).
 *
 * Owns: nothing. Pure functions over jansson values: no I/O, no globals.
 * Threads: any (the LVSP front end calls it on the control thread).
 * Memory: never allocates; the json_t values stay owned by the caller.
 */
#ifndef LVSP_JSON_H
#define LVSP_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "sc_registry.h"

/* Accepted types of a field (bit set). */
enum {
  LVSP_JT_STRING = 1u << 0,
  LVSP_JT_INT = 1u << 1,
  LVSP_JT_BOOL = 1u << 2,
  LVSP_JT_OBJECT = 1u << 3,
  LVSP_JT_NULL = 1u << 4,
  /* A snowflake: a string of 1..20 decimal digits, or a JSON integer >= 0
   * (Python clients may send ids as numbers). */
  LVSP_JT_ID = 1u << 5,
};

/* Field flags. */
enum {
  LVSP_JF_REQUIRED = 1u << 0,
};

typedef struct {
  const char *name;
  unsigned types;
  unsigned flags;
} lvsp_jfield_t;

/* Checks obj (must be an object) against the n fields of the table.
 * Returns 0, or -EINVAL with *bad (if bad is not NULL) pointing at the
 * table's name of the first missing or mistyped field. */
int lvsp_json_check(const json_t *obj, const lvsp_jfield_t *fields, size_t n, const char **bad);

/* Writes the snowflake in v as a decimal string into out (SC_ID_MAX bytes).
 * Returns 0, or -EINVAL if v is not a valid snowflake. */
int lvsp_json_id(const json_t *v, char out[SC_ID_MAX]);

/* Reads obj[key] as a snowflake. Returns 0, -ENOENT if the key is absent
 * or null, -EINVAL if it holds anything else. */
int lvsp_json_get_id(const json_t *obj, const char *key, char out[SC_ID_MAX]);

#endif
