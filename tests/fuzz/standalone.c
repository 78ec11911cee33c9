/*
 * standalone: the replay driver. Linked instead of libFuzzer, it runs
 * LLVMFuzzerTestOneInput once over every file named on the command line
 * or found (non-recursively, in name order) in a named directory. ctest
 * runs it over tests/fuzz/corpus/<target>/ in the normal and in the
 * ASan+UBSan build, so every committed input, including every crash input
 * ever found, is replayed on every CI run without clang's libFuzzer.
 *
 * Exit status: 0 when at least one input ran and none aborted; 1 when no
 * input was found (a missing corpus is a configuration error, not a pass)
 * or a file could not be read. A crashing input aborts the process with
 * the sanitizer's or the target's own report, after "replaying FILE".
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

/* Reads the whole file; NULL on error. *len may be 0. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? 2 * cap : 4096;
      uint8_t *grown = realloc(buf, cap);
      if (!grown) break;
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad || !buf) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int run_file(const char *path) {
  size_t len = 0;
  uint8_t *buf = read_file(path, &len);
  if (!buf) {
    fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
  /* A copy of exactly len bytes, so ASan sees reads past the input. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every regular file in dir; returns how many, or -1 on error. */
static int run_dir(const char *dir) {
  struct dirent **names;
  int n = scandir(dir, &names, NULL, by_name);
  if (n < 0) {
    fprintf(stderr, "cannot list %s: %s\n", dir, strerror(errno));
    return -1;
  }
  int ran = 0, failed = 0;
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      if (run_file(path) < 0)
        failed = 1;
      else
        ran++;
    }
    free(names[i]);
  }
  free(names);
  return failed ? -1 : ran;
}

int main(int argc, char **argv) {
  int total = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
      return 1;
    }
    int n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) < 0 ? -1 : 1);
    if (n < 0) return 1;
    total += n;
  }
  if (total == 0) {
    fprintf(stderr, "usage: %s CORPUS_DIR|FILE...: no input found\n", argv[0]);
    return 1;
  }
  printf("%s: replayed %d inputs, all clean\n", argv[0], total);
  return 0;
}
