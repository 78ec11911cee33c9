/*
 * sc_dashboard: the admin listener's live dashboard (docs/ADMIN.md
 * "Dashboard"): the page's HTML, JavaScript, CSS and icon, written in
 * src/dashboard/ and compiled into the binary (CMake embeds them as byte
 * arrays, cmake/embed_assets.cmake), and the headers they are served with.
 *
 * The page carries no data and no secret: its script asks the operator
 * for the admin token and polls GET /state with it, so sc_admin serves
 * these files without a token. The policy keeps the page to its own
 * origin: no inline script or style, no other host, no framing.
 *
 * Threads: any (constant data only). Memory: static; nothing to free.
 */
#ifndef SC_DASHBOARD_H
#define SC_DASHBOARD_H

#include <stddef.h>

/* Content-Security-Policy of every dashboard file. */
#define SC_DASHBOARD_CSP                                                                         \
  "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src " \
  "'none'"

typedef struct {
  const char *path; /* "/dashboard", "/dashboard.js", ... */
  const char *type; /* Content-Type */
  const unsigned char *data;
  size_t len;
} sc_dashboard_file_t;

/* The file served at path (the query string already removed), or NULL. */
const sc_dashboard_file_t *sc_dashboard_find(const char *path);

#endif
