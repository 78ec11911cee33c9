/*
 * sc_admin_cli: `litecord-voice status`, the command-line reader of the
 * admin API. main() hands it argv before the server's own flags are
 * parsed.
 *
 *   litecord-voice status [--admin-url URL] [--admin-token T | --state-dir DIR]
 *                         [--ca FILE] [--json] [--path /state|/health|/ready]
 *   litecord-voice drain  (the same options but --path: POST /drain)
 *
 * URL defaults to http://127.0.0.1:7703; the token to --admin-token, else
 * $LITECORD_VOICE_ADMIN_TOKEN, else DIR/admin_token (DIR defaults to
 * ./litecord-voice-state). https URLs are verified against --ca, else
 * DIR/cert.pem if present, else the system's CAs. Prints a summary, or
 * the JSON as served with --json. Exit status: 0, 1 (unreachable, HTTP
 * error, token rejected; with --path /ready: not ready, 503), 2 (usage).
 *
 * One blocking HTTP/1.1 request over a TCP socket (OpenSSL for https),
 * with a 10 s timeout. Runs on the main thread of a process that is not
 * a server; nothing is shared.
 */
#ifndef SC_ADMIN_CLI_H
#define SC_ADMIN_CLI_H

#include <stddef.h>
#include <stdio.h>

/* argv[0] is "status" or "drain". Returns the exit status. */
int sc_admin_status_main(int argc, char **argv, FILE *out, FILE *err);

/* Pure: splits an http(s) URL. 0 or -EINVAL. */
typedef struct {
  int tls;
  char host[256];
  char port[8];
  char path[256]; /* "" when the URL has none */
} sc_admin_url_t;
int sc_admin_parse_url(const char *url, sc_admin_url_t *out);

/* Pure: the status code and body of a complete HTTP/1.x response
 * (Content-Length or read-to-close; chunked is decoded in place, so buf
 * must be writable). 0 or -EBADMSG. */
int sc_admin_parse_response(char *buf, size_t len, int *status, const char **body,
                            size_t *body_len);

/* `method` (GET, POST without a body) u + path with the bearer token
 * (as sc_admin_http_get). */
char *sc_admin_http_request(const sc_admin_url_t *u, const char *method, const char *path,
                            const char *token, const char *ca, size_t *len, FILE *err);

/* GET u + path with the bearer token (TLS when u is https, verified
 * against ca or the system store). The raw response, NUL-terminated, in
 * *len bytes (malloc'd: the caller frees), or NULL with the reason on err. */
char *sc_admin_http_get(const sc_admin_url_t *u, const char *path, const char *token,
                        const char *ca, size_t *len, FILE *err);

#endif
