/*
 * test_dashboard: the dashboard files compiled into the binary
 * (src/sc_dashboard, embedded by cmake/embed_assets.cmake): each path
 * serves the bytes of its file in src/dashboard/ exactly (the build
 * embedded the committed page, whole), NUL-terminated, with its type; "/"
 * and "/dashboard" are the same page; other paths find nothing.
 * Reads src/dashboard/ through SC_NODE_DIR (<repo>/tests/node, set by ctest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_dashboard.h"
#include "sc_test.h"

/* The file's bytes (malloc'd; *len set), or a failed test. */
static unsigned char *read_source(const char *name, size_t *len) {
  const char *dir = getenv("SC_NODE_DIR");
  if (!dir || !*dir) SC_FAIL("SC_NODE_DIR is not set (should be <repo>/tests/node)");
  char path[4096];
  snprintf(path, sizeof path, "%s/../../src/dashboard/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) SC_FAIL("cannot open %s", path);
  static unsigned char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  int complete = feof(f);
  fclose(f);
  if (!complete) SC_FAIL("%s is larger than %zu bytes", path, sizeof buf);
  return buf;
}

static void check_file(const char *path, const char *name, const char *type) {
  const sc_dashboard_file_t *f = sc_dashboard_find(path);
  ASSERT_TRUE(f != NULL);
  ASSERT_STREQ(f->type, type);
  size_t len = 0;
  const unsigned char *src = read_source(name, &len);
  ASSERT_TRUE(len > 100);
  ASSERT_EQ(f->len, len);
  ASSERT_MEMEQ(f->data, src, len);
  ASSERT_EQ(f->data[f->len], 0);
}

static void test_files_match_sources(void) {
  check_file("/dashboard", "dashboard.html", "text/html; charset=utf-8");
  check_file("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8");
  check_file("/dashboard.css", "dashboard.css", "text/css; charset=utf-8");
  check_file("/dashboard.svg", "dashboard.svg", "image/svg+xml");
  const sc_dashboard_file_t *root = sc_dashboard_find("/");
  ASSERT_TRUE(root != NULL);
  ASSERT_TRUE(root->data == sc_dashboard_find("/dashboard")->data);
}

static void test_other_paths(void) {
  const char *none[] = {"",           "/state", "/dashboard/",     "/dashboard.js/x",
                        "/DASHBOARD", "//",     "/dashboard.html", "/../dashboard.js"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
    ASSERT_TRUE(sc_dashboard_find(none[i]) == NULL);
}

static void test_policy(void) {
  ASSERT_TRUE(strncmp(SC_DASHBOARD_CSP, "default-src 'self';", 19) == 0);
  ASSERT_TRUE(strstr(SC_DASHBOARD_CSP, "frame-ancestors 'none'") != NULL);
  ASSERT_TRUE(strstr(SC_DASHBOARD_CSP, "unsafe") == NULL);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_files_match_sources);
  RUN_TEST(test_other_paths);
  RUN_TEST(test_policy);
  SC_TEST_DONE();
}
