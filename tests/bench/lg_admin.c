#include "lg_admin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_statedir.h"

int lg_admin_init(lg_admin_t *a, int port, const char *state_dir) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  if (sc_admin_parse_url(url, &a->url) < 0) return -1;
  return sc_statedir_read_named_secret(state_dir, "admin_token", a->token, sizeof a->token) < 0 ? -1
                                                                                                : 0;
}

/* GET /health: the parsed body, or NULL unless the answer is a whole 200. */
static json_t *get_health(const lg_admin_t *a) {
  size_t len = 0;
  char *resp = sc_admin_http_get(&a->url, "/health", a->token, NULL, &len, stderr);
  int status;
  const char *body;
  size_t body_len;
  json_t *root = NULL;
  if (resp && sc_admin_parse_response(resp, len, &status, &body, &body_len) == 0 && status == 200)
    root = json_loadb(body, body_len, 0, NULL);
  free(resp);
  return root;
}

int lg_admin_fwd_hist(const lg_admin_t *a, uint64_t counts[SC_LATHIST_BUCKETS]) {
  memset(counts, 0, sizeof(uint64_t) * SC_LATHIST_BUCKETS);
  json_t *root = get_health(a);
  json_t *media = json_object_get(root, "media");
  json_t *buckets = json_object_get(json_object_get(media, "forward_delay"), "buckets");
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
