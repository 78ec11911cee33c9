/*
 * lcv_heapsites.so: the live heap of a process by allocation site, for
 * finding where a session's memory goes (docs/BENCHMARKS.md, RSS per idle
 * WebRTC session). LD_PRELOAD it into the server (lcv_loadgen's --wrapper
 * "env LD_PRELOAD=.../lcv_heapsites.so"); each time the file
 * /tmp/heapsites.trigger.<pid> appears, a thread of its own writes
 * /tmp/heapsites.<pid>.<n>.txt and removes the trigger: one line per
 * allocation site with live blocks, requested bytes and chunk bytes
 * (malloc_usable_size + glibc's 8-byte chunk header), then its call stack
 * as module+offset (symbolise with addr2line -f -e MODULE OFFSET).
 * Allocations it cannot record (the tables full, an allocation inside
 * the hook) are counted in the dump's first line.
 * Not run by ctest and not built by CMake (an interposed malloc does not
 * mix with the sanitizer build); build it by hand:
 *   gcc -O2 -g -shared -fPIC -o lcv_heapsites.so tests/bench/heapsites.c -ldl -lpthread
 * Figures only, nothing asserted. Slow-ish: a global lock per malloc and
 * a backtrace per allocation (a DTLS handshake takes several times
 * longer under it; RSS is not comparable, the heap is).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define DEPTH 10
#define SKIP 2              /* the hook and its caller in this file */
#define LIVE_CAP (1u << 23) /* pointers tracked (open addressing) */
#define SITE_CAP (1u << 16)

typedef struct {
  uintptr_t p; /* 0 empty, 1 tombstone */
  uint32_t size;
  uint32_t site;
} live_t;

typedef struct {
  uint64_t key;
  int depth;
  void *pc[DEPTH];
} site_t;

static live_t *live;
static site_t *sites;
static uint64_t missed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int busy;
static int ready;

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

static uint32_t site_of(void **pc, int n) {
  uint64_t key = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < n; i++) key = mix(key ^ (uintptr_t)pc[i]);
  if (key < 2) key += 2;
  for (uint32_t i = (uint32_t)key & (SITE_CAP - 1), k = 0; k < SITE_CAP;
       i = (i + 1) & (SITE_CAP - 1), k++) {
    if (sites[i].key == key) return i;
    if (!sites[i].key) {
      sites[i].key = key;
      sites[i].depth = n;
      memcpy(sites[i].pc, pc, (size_t)n * sizeof *pc);
      return i;
    }
  }
  return UINT32_MAX;
}

static void put(void *p, size_t size) {
  void *pc[DEPTH + SKIP];
  int n = backtrace(pc, DEPTH + SKIP) - SKIP;
  if (n < 0) n = 0;
  pthread_mutex_lock(&lock);
  uint32_t s = site_of(pc + SKIP, n);
  uint32_t i = (uint32_t)mix((uintptr_t)p) & (LIVE_CAP - 1), k = 0;
  for (; k < LIVE_CAP && live[i].p > 1; i = (i + 1) & (LIVE_CAP - 1), k++) {
  }
  if (s == UINT32_MAX || k == LIVE_CAP) {
    missed++;
  } else {
    live[i].p = (uintptr_t)p;
    live[i].size = (uint32_t)size;
    live[i].site = s;
  }
  pthread_mutex_unlock(&lock);
}

static void drop(void *p) {
  pthread_mutex_lock(&lock);
  uint32_t i = (uint32_t)mix((uintptr_t)p) & (LIVE_CAP - 1);
  for (uint32_t k = 0; k < LIVE_CAP && live[i].p; i = (i + 1) & (LIVE_CAP - 1), k++)
    if (live[i].p == (uintptr_t)p) {
      live[i].p = 1;
      break;
    }
  pthread_mutex_unlock(&lock);
}

static void note(void *p, size_t size) {
  if (!p || !ready || busy) return;
  busy = 1;
  put(p, size);
  busy = 0;
}

static void forget(void *p) {
  if (!p || !ready || busy) return;
  busy = 1;
  drop(p);
  busy = 0;
}

void *malloc(size_t n) {
  void *p = __libc_malloc(n);
  note(p, n);
  return p;
}

void *calloc(size_t a, size_t b) {
  void *p = __libc_calloc(a, b);
  note(p, a * b);
  return p;
}

void *realloc(void *old, size_t n) {
  forget(old);
  void *p = __libc_realloc(old, n);
  note(p, n);
  return p;
}

void free(void *p) {
  forget(p);
  __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  if (!p) return 12;
  note(p, n);
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  note(p, n);
  return p;
}

void *memalign(size_t align, size_t n) {
  void *p = __libc_memalign(align, n);
  note(p, n);
  return p;
}

typedef struct {
  uint32_t site;
  uint64_t blocks, bytes, chunk;
} sum_t;

static int by_chunk(const void *a, const void *b) {
  const sum_t *x = a, *y = b;
  return x->chunk < y->chunk ? 1 : x->chunk > y->chunk ? -1 : 0;
}

static void dump(const char *path) {
  sum_t *sum = mmap(NULL, SITE_CAP * sizeof *sum, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (sum == MAP_FAILED) return;
  uint64_t tb = 0, tc = 0, tn = 0;
  pthread_mutex_lock(&lock);
  for (uint32_t i = 0; i < LIVE_CAP; i++) {
    if (live[i].p <= 1) continue;
    sum_t *s = &sum[live[i].site];
    size_t chunk = malloc_usable_size((void *)live[i].p) + 8;
    s->site = live[i].site;
    s->blocks++;
    s->bytes += live[i].size;
    s->chunk += chunk;
    tn++;
    tb += live[i].size;
    tc += chunk;
  }
  uint64_t miss = missed;
  pthread_mutex_unlock(&lock);
  qsort(sum, SITE_CAP, sizeof *sum, by_chunk);
  FILE *f = fopen(path, "w");
  if (f) {
    struct mallinfo2 mi = mallinfo2();
    fprintf(f, "total blocks %llu bytes %llu chunk %llu missed %llu mallinfo2 uordblks %zu\n",
            (unsigned long long)tn, (unsigned long long)tb, (unsigned long long)tc,
            (unsigned long long)miss, mi.uordblks);
    for (uint32_t i = 0; i < SITE_CAP && sum[i].blocks; i++) {
      const site_t *s = &sites[sum[i].site];
      fprintf(f, "site %u blocks %llu bytes %llu chunk %llu\n", sum[i].site,
              (unsigned long long)sum[i].blocks, (unsigned long long)sum[i].bytes,
              (unsigned long long)sum[i].chunk);
      for (int d = 0; d < s->depth; d++) {
        Dl_info di;
        if (dladdr(s->pc[d], &di) && di.dli_fname)
          fprintf(f, "  %s+0x%lx %s\n", di.dli_fname,
                  (unsigned long)((uintptr_t)s->pc[d] - (uintptr_t)di.dli_fbase - 1),
                  di.dli_sname ? di.dli_sname : "?");
        else
          fprintf(f, "  %p\n", s->pc[d]);
      }
    }
    fclose(f);
  }
  munmap(sum, SITE_CAP * sizeof *sum);
}

static void *watch(void *arg) {
  (void)arg;
  busy = 1; /* this thread's own allocations are not the process's */
  char trig[64], out[80];
  snprintf(trig, sizeof trig, "/tmp/heapsites.trigger.%d", (int)getpid());
  for (int n = 0;; usleep(100000)) {
    if (access(trig, F_OK) != 0) continue;
    snprintf(out, sizeof out, "/tmp/heapsites.%d.%d.txt", (int)getpid(), n++);
    dump(out);
    unlink(trig);
  }
  return NULL;
}

__attribute__((constructor)) static void start(void) {
  busy = 1;
  void *pc[4];
  backtrace(pc, 4); /* loads libgcc's unwinder now, not inside a hook */
  live = mmap(NULL, LIVE_CAP * sizeof *live, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
              -1, 0);
  sites = mmap(NULL, SITE_CAP * sizeof *sites, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
  if (live != MAP_FAILED && sites != MAP_FAILED) {
    pthread_t t;
    pthread_create(&t, NULL, watch, NULL);
    pthread_detach(t);
    ready = 1;
  }
  busy = 0;
}
