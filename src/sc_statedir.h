/*
 * sc_statedir: the state directory (LVSP secret, self-signed TLS pair,
 * admin token).
 *
 * Owns: the files it creates inside the directory (mode 0600 for secrets).
 * Threads: start-up only, on the main thread, before the loops run.
 * Memory: results are written into caller-provided buffers.
 */
#ifndef SC_STATEDIR_H
#define SC_STATEDIR_H

#include <stddef.h>

/* Creates dir (and parents) with mode 0700 if missing. 0 or -errno. */
int sc_statedir_ensure(const char *dir);

/* Reads "<dir>/lvsp_secret" into out (trailing newline stripped). If the
 * file does not exist, generates 32 random bytes, stores their hex (64
 * chars) with mode 0600 and returns that. *created is set to 1 when the
 * secret was generated now. Returns 0 or -errno. Trailing whitespace is
 * stripped; an empty file is -EINVAL, one too long for out -ENAMETOOLONG.
 * A new file is written under a temporary name and link()ed into place, so
 * concurrent first starts all end up with the one secret that won. */
int sc_statedir_secret(const char *dir, char *out, size_t out_size, int *created);

/* The same for "<dir>/<name>" (e.g. "admin_token"). */
int sc_statedir_named_secret(const char *dir, const char *name, char *out, size_t out_size,
                             int *created);
/* Reads "<dir>/<name>" without creating it: 0, -ENOENT or another -errno. */
int sc_statedir_read_named_secret(const char *dir, const char *name, char *out, size_t out_size);

/* Reads the whole of "<dir>/<name>" (at most cap bytes) into out and its
 * length into *len: 0, -ENOENT, -EFBIG (longer than cap) or -errno. */
int sc_statedir_read_file(const char *dir, const char *name, void *out, size_t cap, size_t *len);
/* Creates "<dir>/<name>" with mode 0600 holding data, written under a
 * temporary name and link()ed into place: 0, -EEXIST if it exists already
 * (another start won the race: read that one) or -errno. */
int sc_statedir_create_file(const char *dir, const char *name, const void *data, size_t len);

/* Ensures "<dir>/cert.pem" and "<dir>/key.pem" exist; if either is
 * missing, generates a fresh ECDSA P-256 key and a self-signed X.509 v3
 * certificate valid for 10 years whose subjectAltName holds
 * IP:127.0.0.1, IP:::1, DNS:localhost and `public_host` (as IP if it parses
 * as one, else DNS). Writes the paths into cert_path/key_path.
 * *created is 1 when the pair was generated now. Returns 0 or -errno/-EIO. */
/* (Both files are written 0600 via temp file + rename; concurrent starts
 * are serialised with flock on "<dir>/.tls.lock", which is left in place.
 * A public_host that is empty, 0.0.0.0/::, already listed, or not a valid
 * DNS name is left out of the SAN.) */
int sc_statedir_tls_pair(const char *dir, const char *public_host, char *cert_path,
                         size_t cert_size, char *key_path, size_t key_size, int *created);

#endif
