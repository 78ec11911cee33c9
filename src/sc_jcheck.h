/*
 * sc_jcheck: table-driven checks of decoded JSON messages (jansson), and
 * the snowflake reader, for every front end that speaks JSON (LVSP, the
 * Discord voice gateway).
 *
 * Each handler describes the fields it reads as a const table of
 * {name, accepted types, flags}; one validator walks the table, so every
 * malformed message is refused the same way and names the offending field.
 * Unknown fields are ignored (clients and both LVSP dialects add fields
 * freely); a handler then reads the fields it listed knowing they are
 * present (if required) and of an accepted type.
 *
 * Owns: nothing. Pure functions over jansson values: no I/O, no globals.
 * Threads: any (front ends call it on the control thread).
 * Memory: never allocates; the json_t values stay owned by the caller.
 */
#ifndef SC_JCHECK_H
#define SC_JCHECK_H

#include <jansson.h>
#include <stddef.h>

#include "sc_registry.h"

/* Accepted types of a field (bit set). */
enum {
  SC_JT_STRING = 1u << 0,
  SC_JT_INT = 1u << 1,
  SC_JT_BOOL = 1u << 2,
  SC_JT_OBJECT = 1u << 3,
  SC_JT_NULL = 1u << 4,
  /* A snowflake: a string of 1..20 decimal digits, or a JSON integer >= 0
   * (Python clients may send ids as numbers). */
  SC_JT_ID = 1u << 5,
  SC_JT_ARRAY = 1u << 6,
  SC_JT_ANY = (1u << 7) - 1, /* anything but a real */
};

/* Field flags. */
enum {
  SC_JF_REQUIRED = 1u << 0,
};

typedef struct {
  const char *name;
  unsigned types;
  unsigned flags;
} sc_jfield_t;

/* 1 if v (NULL: absent, never accepted) has one of the types. */
int sc_jcheck_type(const json_t *v, unsigned types);

/* Checks obj (must be an object) against the n fields of the table.
 * Returns 0, or -EINVAL with *bad (if bad is not NULL) pointing at the
 * table's name of the first missing or mistyped field. */
int sc_jcheck(const json_t *obj, const sc_jfield_t *fields, size_t n, const char **bad);

/* Writes the snowflake in v as a decimal string into out (SC_ID_MAX bytes).
 * Returns 0, or -EINVAL if v is not a valid snowflake. */
int sc_jcheck_id(const json_t *v, char out[SC_ID_MAX]);

/* Reads obj[key] as a snowflake. Returns 0, -ENOENT if the key is absent
 * or null, -EINVAL if it holds anything else. */
int sc_jcheck_get_id(const json_t *obj, const char *key, char out[SC_ID_MAX]);

#endif
