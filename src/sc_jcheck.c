#include "sc_jcheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sc_jcheck_id(const json_t *v, char out[SC_ID_MAX]) {
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (json_string_length(v) >= SC_ID_MAX || !sc_registry_valid_id(s)) return -EINVAL;
    memcpy(out, s, json_string_length(v) + 1);
    return 0;
  }
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    /* json_int_t is at most 19 digits, well inside SC_ID_MAX. */
    snprintf(out, SC_ID_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return 0;
  }
  return -EINVAL;
}

int sc_jcheck_get_id(const json_t *obj, const char *key, char out[SC_ID_MAX]) {
  const json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return -ENOENT;
  return sc_jcheck_id(v, out);
}

static unsigned type_bit(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_STRING: return SC_JT_STRING;
    case JSON_INTEGER: return SC_JT_INT;
    case JSON_TRUE:
    case JSON_FALSE: return SC_JT_BOOL;
    case JSON_OBJECT: return SC_JT_OBJECT;
    case JSON_NULL: return SC_JT_NULL;
    case JSON_ARRAY: return SC_JT_ARRAY;
    default: return 0; /* reals are never accepted */
  }
}

int sc_jcheck_type(const json_t *v, unsigned types) {
  char id[SC_ID_MAX];
  if (!v) return 0;
  if ((types & SC_JT_ID) && sc_jcheck_id(v, id) == 0) return 1;
  return (type_bit(v) & types) != 0;
}

int sc_jcheck(const json_t *obj, const sc_jfield_t *fields, size_t n, const char **bad) {
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_object_get(obj, fields[i].name);
    int ok = v ? sc_jcheck_type(v, fields[i].types) : !(fields[i].flags & SC_JF_REQUIRED);
    if (!ok) {
      if (bad) *bad = fields[i].name;
      return -EINVAL;
    }
  }
  return 0;
}
