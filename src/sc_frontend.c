#include "sc_frontend.h"

#include <stdlib.h>

/* Weak: a binary with no front end linked in (the unit tests) still links. */
extern const sc_frontend_t *const __start_sc_frontends[] __attribute__((weak));
extern const sc_frontend_t *const __stop_sc_frontends[] __attribute__((weak));

static int by_order(const void *a, const void *b) {
  const sc_frontend_t *x = *(const sc_frontend_t *const *)a;
  const sc_frontend_t *y = *(const sc_frontend_t *const *)b;
  return (x->order > y->order) - (x->order < y->order);
}

int sc_frontend_list(const sc_frontend_t **out, int max) {
  int n = 0;
  if (!__start_sc_frontends || !__stop_sc_frontends) return 0;
  for (const sc_frontend_t *const *p = __start_sc_frontends; p < __stop_sc_frontends; p++) {
    if (n < max && *p) out[n++] = *p;
  }
  qsort(out, (size_t)n, sizeof *out, by_order);
  return n;
}

void *sc_frontend_settings(const sc_app_t *app, const sc_setting_table_t *table) {
  for (int i = 0; i < app->n_frontends && i < SC_MAX_FRONTENDS; i++)
    if (app->frontends[i] && app->frontends[i]->settings == table) return app->frontend_settings[i];
  return NULL;
}
