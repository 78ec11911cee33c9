#include "sc_admin_cli.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sc_admin_print.h"
#include "sc_config.h"
#include "sc_statedir.h"

#define PROG "litecord-voice"
#define MAX_RESPONSE (64u << 20)
#define TIMEOUT_S 10
#define TOKEN_ENV "LITECORD_VOICE_ADMIN_TOKEN"

typedef struct {
  const char *url, *token, *state_dir, *ca, *path;
  int json;
  int drain; /* `litecord-voice drain`: POST /drain */
} cli_opts_t;

/* === Pure parsers ======================================================== */

int sc_admin_parse_url(const char *url, sc_admin_url_t *out) {
  memset(out, 0, sizeof *out);
  const char *p;
  if (strncmp(url, "http://", 7) == 0)
    p = url + 7;
  else if (strncmp(url, "https://", 8) == 0)
    p = url + 8, out->tls = 1;
  else
    return -EINVAL;
  size_t auth_len = strcspn(p, "/");
  const char *path = p + auth_len;
  char hostport[300];
  if (auth_len == 0 || auth_len >= sizeof hostport || strlen(path) >= sizeof out->path)
    return -EINVAL;
  memcpy(hostport, p, auth_len);
  hostport[auth_len] = '\0';
  /* No port given: the scheme's default (brackets keep v6 colons apart). */
  if (hostport[0] == '[' ? !strstr(hostport, "]:") : !strchr(hostport, ':')) {
    size_t n = strlen(hostport);
    snprintf(hostport + n, sizeof hostport - n, ":%s", out->tls ? "443" : "80");
  }
  sc_hostport_t hp;
  if (sc_config_parse_hostport(hostport, &hp) < 0 || hp.port == 0) return -EINVAL;
  snprintf(out->host, sizeof out->host, "%s", hp.host);
  snprintf(out->port, sizeof out->port, "%u", hp.port);
  snprintf(out->path, sizeof out->path, "%s", path);
  return 0;
}

/* Decodes a chunked body in place; returns its length or -EBADMSG. */
static long dechunk(char *b, size_t len) {
  size_t in = 0, out = 0;
  for (;;) {
    char *end;
    unsigned long n = strtoul(b + in, &end, 16);
    char *crlf = memmem(b + in, len - in, "\r\n", 2);
    if (end == b + in || !crlf) return -EBADMSG;
    in = (size_t)(crlf - b) + 2;
    if (n == 0) return (long)out;
    if (n > len - in || len - in - n < 2) return -EBADMSG;
    memmove(b + out, b + in, n);
    out += n;
    in += n + 2;
  }
}

/* The value of header `name` in the header block, or NULL. */
static const char *header(const char *head, size_t head_len, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = head; p && p < head + head_len;
       p = memchr(p, '\n', (size_t)(head + head_len - p))) {
    if (*p == '\n') p++;
    if ((size_t)(head + head_len - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      p += nl + 1;
      while (*p == ' ' || *p == '\t') p++;
      return p;
    }
  }
  return NULL;
}

int sc_admin_parse_response(char *buf, size_t len, int *status, const char **body,
                            size_t *body_len) {
  char *sep = memmem(buf, len, "\r\n\r\n", 4);
  int major, minor, code;
  if (!sep || len < 12 || sscanf(buf, "HTTP/%d.%d %3d", &major, &minor, &code) != 3 || code < 100 ||
      code > 599)
    return -EBADMSG;
  size_t head_len = (size_t)(sep - buf);
  char *b = sep + 4;
  size_t blen = len - head_len - 4;
  const char *te = header(buf, head_len, "Transfer-Encoding");
  const char *cl = header(buf, head_len, "Content-Length");
  if (te && strncasecmp(te, "chunked", 7) == 0) {
    long n = dechunk(b, blen);
    if (n < 0) return -EBADMSG;
    blen = (size_t)n;
  } else if (cl) {
    char *end;
    unsigned long n = strtoul(cl, &end, 10);
    if (end == cl || n > blen) return -EBADMSG;
    blen = n;
  }
  *status = code;
  *body = b;
  *body_len = blen;
  return 0;
}

/* === Transport =========================================================== */

static int tcp_connect(const sc_admin_url_t *u, FILE *err) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(u->host, u->port, &hints, &res);
  if (rc != 0) {
    fprintf(err, PROG ": %s: %s\n", u->host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {TIMEOUT_S, 0};
    if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
                    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
                    connect(fd, a->ai_addr, a->ai_addrlen) < 0)) {
      close(fd);
      fd = -1;
    }
  }
  if (fd < 0)
    fprintf(err, PROG ": cannot connect to %s:%s: %s\n", u->host, u->port, strerror(errno));
  freeaddrinfo(res);
  return fd;
}

typedef struct {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
} conn_t;

static int tls_start(conn_t *c, const sc_admin_url_t *u, const char *ca, FILE *err) {
  c->ctx = SSL_CTX_new(TLS_client_method());
  if (!c->ctx) return -1;
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
  int ok = ca ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL)
              : SSL_CTX_set_default_verify_paths(c->ctx);
  c->ssl = ok == 1 ? SSL_new(c->ctx) : NULL;
  X509_VERIFY_PARAM *vp = c->ssl ? SSL_get0_param(c->ssl) : NULL;
  /* The certificate must name the host: as an IP address, or a DNS name. */
  if (vp && X509_VERIFY_PARAM_set1_ip_asc(vp, u->host) != 1) ok = SSL_set1_host(c->ssl, u->host);
  if (!c->ssl || ok != 1 || SSL_set_tlsext_host_name(c->ssl, u->host) != 1 ||
      SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
    unsigned long e = ERR_get_error();
    fprintf(err, PROG ": TLS with %s failed: %s\n", u->host,
            e ? ERR_reason_error_string(e) : "handshake failed");
    return -1;
  }
  return 0;
}

static long io_send(conn_t *c, const char *b, size_t n) {
  return c->ssl ? SSL_write(c->ssl, b, (int)n) : send(c->fd, b, n, MSG_NOSIGNAL);
}

static long io_recv(conn_t *c, char *b, size_t n) {
  return c->ssl ? SSL_read(c->ssl, b, (int)n) : recv(c->fd, b, n, 0);
}

/* Reads until the peer closes (we sent "Connection: close"). */
static char *read_all(conn_t *c, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap + 1);
  for (long r; buf && (r = io_recv(c, buf + n, cap - n)) > 0;) {
    n += (size_t)r;
    if (n == cap && cap < MAX_RESPONSE) {
      char *bigger = realloc(buf, 2 * cap + 1);
      if (!bigger) break;
      buf = bigger;
      cap *= 2;
    }
  }
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

static void conn_close(conn_t *c) {
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
  }
  SSL_CTX_free(c->ctx);
  if (c->fd >= 0) close(c->fd);
}

char *sc_admin_http_request(const sc_admin_url_t *u, const char *method, const char *path,
                            const char *token, const char *ca, size_t *len, FILE *err) {
  conn_t c = {.fd = tcp_connect(u, err)};
  char *resp = NULL;
  if (c.fd >= 0 && (!u->tls || tls_start(&c, u, ca, err) == 0)) {
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                     "Accept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     method, path, u->host, u->port, token);
    if (n > 0 && (size_t)n < sizeof req && io_send(&c, req, (size_t)n) == n)
      resp = read_all(&c, len);
    else
      fprintf(err, PROG ": cannot send the request\n");
  }
  conn_close(&c);
  return resp;
}

char *sc_admin_http_get(const sc_admin_url_t *u, const char *path, const char *token,
                        const char *ca, size_t *len, FILE *err) {
  return sc_admin_http_request(u, "GET", path, token, ca, len, err);
}

/* === Command ============================================================= */

static int usage(FILE *err) {
  fprintf(err, "usage: " PROG
               " status [--admin-url URL] [--admin-token T | --state-dir DIR]\n"
               "                             [--ca FILE] [--json] [--path /state|/health|/ready]\n"
               "       " PROG
               " drain [--admin-url URL] [--admin-token T | --state-dir DIR]\n"
               "                            [--ca FILE] [--json]\n");
  return 2;
}

static int parse_args(int argc, char **argv, cli_opts_t *o) {
  static const struct {
    const char *name;
    size_t off;
  } opts[] = {
      {"--admin-url", offsetof(cli_opts_t, url)},
      {"--admin-token", offsetof(cli_opts_t, token)},
      {"--state-dir", offsetof(cli_opts_t, state_dir)},
      {"--ca", offsetof(cli_opts_t, ca)},
      {"--path", offsetof(cli_opts_t, path)},
  };
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      o->json = 1;
      continue;
    }
    size_t k = 0;
    while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].name) != 0) k++;
    if (k == sizeof opts / sizeof opts[0] || i + 1 >= argc) return -1;
    *(const char **)((char *)o + opts[k].off) = argv[++i];
  }
  return 0;
}

/* The token from the flag, the environment or the state directory. */
static int find_token(const cli_opts_t *o, char *out, size_t size, FILE *err) {
  const char *t = o->token ? o->token : getenv(TOKEN_ENV);
  if (t && *t) {
    snprintf(out, size, "%s", t);
    return 0;
  }
  int rc = sc_statedir_read_named_secret(o->state_dir, "admin_token", out, size);
  if (rc < 0)
    fprintf(err, PROG ": no admin token: cannot read %s/admin_token (%s); use --admin-token\n",
            o->state_dir, strerror(-rc));
  return rc < 0 ? -1 : 0;
}

static int report(const cli_opts_t *o, char *resp, size_t len, FILE *out, FILE *err) {
  int status;
  const char *body;
  size_t blen;
  if (sc_admin_parse_response(resp, len, &status, &body, &blen) < 0) {
    fprintf(err, PROG ": not an HTTP response from %s\n", o->url);
    return 1;
  }
  if (status == 401) {
    fprintf(err, PROG ": the admin token was rejected (401)\n");
    return 1;
  }
  json_error_t je;
  json_t *j = json_loadb(body, blen, 0, &je);
  /* /ready answers 503 with its reasons: printed, and exit status 1. */
  int ready_body = json_is_boolean(json_object_get(j, "ready")) && (status == 200 || status == 503);
  if (ready_body) {
    if (o->json)
      fprintf(out, "%.*s\n", (int)blen, body);
    else
      sc_admin_print_ready(out, j);
    json_decref(j);
    return status == 200 ? 0 : 1;
  }
  if (status != 200 || !j) {
    fprintf(err, PROG ": HTTP %d: %.*s\n", status, (int)(blen > 200 ? 200 : blen), body);
    json_decref(j);
    return 1;
  }
  if (o->json)
    fprintf(out, "%.*s\n", (int)blen, body);
  else if (o->drain)
    sc_admin_print_drain(out, j);
  else
    sc_admin_print_summary(out, j);
  json_decref(j);
  return 0;
}

int sc_admin_status_main(int argc, char **argv, FILE *out, FILE *err) {
  cli_opts_t o = {.url = "http://127.0.0.1:7703", .state_dir = SC_DEFAULT_STATE_DIR};
  o.drain = strcmp(argv[0], "drain") == 0;
  sc_admin_url_t u;
  char token[SC_SECRET_MAX], ca[SC_PATH_MAX + 16];
  if (parse_args(argc, argv, &o) < 0) return usage(err);
  if (sc_admin_parse_url(o.url, &u) < 0) {
    fprintf(err, PROG ": bad --admin-url '%s' (http://HOST:PORT or https://...)\n", o.url);
    return 2;
  }
  if (find_token(&o, token, sizeof token, err) < 0) return 1;
  snprintf(ca, sizeof ca, "%s/cert.pem", o.state_dir);
  if (!o.ca && access(ca, R_OK) == 0) o.ca = ca;
  const char *path = o.path ? o.path : u.path[0] && strcmp(u.path, "/") ? u.path : "/state";
  if (o.drain) path = "/drain";
  size_t len = 0;
  char *resp = sc_admin_http_request(&u, o.drain ? "POST" : "GET", path, token, o.ca, &len, err);
  int rc = resp ? report(&o, resp, len, out, err) : 1;
  free(resp);
  return rc;
}
