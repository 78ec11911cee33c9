/*
 * sc_conffile: the INI layer under sc_config. Reads a configuration file
 * with libinih (Debian's libinih-dev) and hands every "key = value" line to
 * a callback together with its section and line number, so the caller can
 * put the value through the same parser as the flag of that name and name
 * file and line in any error. Also reads secrets kept in files.
 *
 * Format: "key = value" lines, optional "[section]" headers, comments on
 * lines starting with '#' or ';'. No continuation lines, no inline
 * comments (a '#' or ';' after a value is part of the value, which then
 * fails its check with the line named). Lines up to SC_CONFFILE_LINE_MAX.
 *
 * Owns: nothing beyond the call (the FILE is closed before returning).
 * Threads: main/control thread only (libinih's options are process-wide
 * variables, set before each parse).
 */
#ifndef SC_CONFFILE_H
#define SC_CONFFILE_H

#include <stddef.h>

#define SC_CONFFILE_LINE_MAX 4000

/* Called per "key = value": section is "" before the first header. Return
 * 0, or -1 with a reason (without file and line) in why. */
typedef int (*sc_conffile_fn)(void *ctx, const char *section, const char *key, const char *value,
                              char *why, size_t n);

/* Parses path, calling fn for each key in file order; stops at the first
 * error. Returns 0, or -1 with "PATH:LINE: reason" (or "PATH: reason" when
 * the file cannot be opened) in why. */
int sc_conffile_read(const char *path, sc_conffile_fn fn, void *ctx, char *why, size_t n);

/* Reads a secret kept in a file: the whole file, trailing whitespace
 * (the newline editors add) removed. An empty result, one that does not
 * fit out_size with its NUL, or an unreadable file is -1 with a reason in
 * why. *loose is set to 1 when group or others may read the file (the
 * caller warns). */
int sc_conffile_read_secret(const char *path, char *out, size_t out_size, int *loose, char *why,
                            size_t n);

#endif
