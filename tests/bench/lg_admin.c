#include "lg_admin.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sc_admin_cli.h"

#define RESPONSE_MAX (256 << 10)

int lg_admin_init(lg_admin_t *a, int port, const char *state_dir) {
  char path[256];
  memset(a, 0, sizeof *a);
  a->port = port;
  snprintf(path, sizeof path, "%s/admin_token", state_dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int ok = fgets(a->token, sizeof a->token, f) != NULL;
  fclose(f);
  a->token[strcspn(a->token, "\r\n")] = '\0';
  return ok && a->token[0] ? 0 : -1;
}

/* GET path over HTTP/1.0; the body (NUL-terminated) moved to the start
 * of buf. Returns its length, or -1 unless the answer is a whole 200. */
static int http_get(const lg_admin_t *a, const char *path, char *buf, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                   "Connection: close\r\n\r\n", path, a->token);
  size_t got = 0;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && write(fd, req, (size_t)n) == n) {
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, buf + got, cap - 1 - got)) > 0) got += (size_t)r;
  }
  close(fd);
  int status;
  const char *body;
  size_t len;
  if (sc_admin_parse_response(buf, got, &status, &body, &len) < 0 || status != 200) return -1;
  memmove(buf, body, len);
  buf[len] = '\0';
  return (int)len;
}

int lg_admin_fwd_hist(const lg_admin_t *a, uint64_t counts[SC_LATHIST_BUCKETS]) {
  static char buf[RESPONSE_MAX];
  memset(counts, 0, sizeof(uint64_t) * SC_LATHIST_BUCKETS);
  if (http_get(a, "/health", buf, sizeof buf) < 0) return -1;
  json_t *root = json_loads(buf, 0, NULL);
  json_t *buckets = json_object_get(json_object_get(json_object_get(root, "media"),
                                                    "forward_delay"), "buckets");
  int rc = json_is_array(buckets) ? 0 : -1;
  size_t i;
  json_t *pair;
  json_array_foreach(buckets, i, pair) {
    json_t *up = json_array_get(pair, 0);
    json_int_t n = json_integer_value(json_array_get(pair, 1));
    unsigned b = json_is_integer(up) && json_integer_value(up) > 0
                     ? sc_lathist_bucket((uint64_t)json_integer_value(up) - 1)
                     : SC_LATHIST_BUCKETS - 1;
    if (n > 0) counts[b] += (uint64_t)n;
  }
  json_decref(root);
  return rc;
}
