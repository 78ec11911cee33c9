#include "sc_dashboard.h"

#include <string.h>

/* Generated from src/dashboard/ at build time (CMakeLists.txt). */
#include "sc_dashboard_assets.h"

#define FILE_OF(p, t, a) \
  { p, t, a, sizeof a - 1 }

static const sc_dashboard_file_t files[] = {
    FILE_OF("/", "text/html; charset=utf-8", asset_dashboard_html),
    FILE_OF("/dashboard", "text/html; charset=utf-8", asset_dashboard_html),
    FILE_OF("/dashboard.js", "text/javascript; charset=utf-8", asset_dashboard_js),
    FILE_OF("/dashboard.css", "text/css; charset=utf-8", asset_dashboard_css),
    FILE_OF("/dashboard.svg", "image/svg+xml", asset_dashboard_svg),
};

const sc_dashboard_file_t *sc_dashboard_find(const char *path) {
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (strcmp(path, files[i].path) == 0) return &files[i];
  return NULL;
}
