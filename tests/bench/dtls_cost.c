/*
 * lcv_dtls_cost: what a WebRTC member's DTLS-SRTP state costs the server.
 * Runs N handshakes (default 200, argv[1]) between sc_dtls and the OpenSSL
 * test client of tests/unit/dtls_fx.h in memory, phase by phase for all
 * sessions at once, and prints:
 *   - heap bytes per server session (mallinfo2 deltas taken around the
 *     server's calls only: the clients allocate in other phases) after the
 *     ClientHello, once connected, and after sc_dtls_shed;
 *   - heap bytes per sc_srtp_t (both directions, one stream each way) and
 *     per further outbound stream;
 *   - server CPU per handshake (CLOCK_THREAD_CPUTIME_ID around the server's
 *     calls only).
 * "lcv_dtls_cost N srtp" measures sc_srtp_t alone in a fresh process
 * (heap and RSS growth). "lcv_dtls_cost N protect [gcm|cm]" times one
 * protect and one unprotect of a 172-byte packet with N members alive (on
 * one member, then going round all of them); run it under callgrind with
 * a small N for instructions per call. It prints figures and asserts nothing about them; it fails
 * only if a handshake does not complete. Not run by ctest.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "dtls_fx.h"
#include "sc_dtls.h"
#include "sc_srtp.h"

static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long heap(void) {
  return (long)mallinfo2().uordblks;
}

/* Resident set size in bytes (/proc/self/statm, field 2). */
static long rss(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return resident * 4096;
}

typedef struct {
  fx_client_t client;
  sc_dtls_t *server;
  sc_dtls_out_t out;
  uint8_t buf[4096];
} pair_t;

static double server_cpu;

/* The client's queued datagrams into the server; replies kept in p->out. */
static void to_server(pair_t *p) {
  sc_dtls_out_init(&p->out, p->buf, sizeof p->buf);
  double t0 = cpu_ns();
  for (int i = 0; i < p->client.out.n; i++)
    sc_dtls_feed(p->server, p->client.out.data[i], p->client.out.len[i], 0, &p->out);
  server_cpu += cpu_ns() - t0;
  p->client.out.n = 0;
}

static void to_client(pair_t *p) {
  for (int j = 0; j < p->out.n; j++)
    fx_client_receive(&p->client, p->out.buf + p->out.off[j], p->out.len[j]);
}

static void report(const char *what, long bytes, int n) {
  printf("%-44s %8.0f bytes/session\n", what, (double)bytes / n);
}

/* Memory does not depend on the key's value: the exported keys, relabelled
 * with the profile to measure. */
static int srtp_phase(pair_t *pairs, int n, uint16_t profile) {
  sc_srtp_t **s = calloc((size_t)n, sizeof *s);
  uint8_t pkt[200 + SC_SRTP_SPARE] = {0x80, 111};
  printf("%s:\n", sc_srtp_profile_name(profile));
  long h0 = heap(), r0 = rss();
  for (int i = 0; i < n; i++) {
    sc_srtp_keys_t k;
    if (sc_dtls_srtp_keys(pairs[i].server, &k) < 0) return -1;
    k.profile = profile;
    k.salt_len = profile == SC_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    if (sc_srtp_new(&s[i], &k, 16) < 0) return -1;
  }
  long h1 = heap(), r1 = rss();
  for (int i = 0; i < n; i++) { /* one outbound stream each: the first SSRC we send */
    pkt[11] = 1;
    sc_srtp_protect_rtp(s[i], pkt, 100, sizeof pkt);
  }
  long h2 = heap();
  for (int i = 0; i < n; i++) {
    pkt[11] = 2;
    sc_srtp_protect_rtp(s[i], pkt, 100, sizeof pkt);
  }
  long h3 = heap();
  report("sc_srtp_t (2 sessions, no stream yet)", h1 - h0, n);
  report("  (RSS growth over the same step)", r1 - r0, n);
  report("  + first outbound stream", h2 - h1, n);
  report("  + each further stream (either direction)", h3 - h2, n);
  for (int i = 0; i < n; i++) sc_srtp_free(s[i]);
  free(s);
  return 0;
}

/* For comparison: what an in-place implementation on OpenSSL EVP would
 * hold per member, four keyed contexts (SRTP and SRTCP, each direction),
 * plus four HMAC-SHA1 contexts for the CM profile. */
static void evp_phase(int n) {
  static const uint8_t key[16], iv[12];
  EVP_CIPHER_CTX **c = calloc((size_t)n * 4, sizeof *c);
  EVP_MAC_CTX **m = calloc((size_t)n * 4, sizeof *m);
  EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA1", 0),
                         OSSL_PARAM_construct_end()};
  long h0 = heap();
  for (int i = 0; i < 4 * n; i++) {
    c[i] = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c[i], EVP_aes_128_gcm(), NULL, key, iv);
  }
  long h1 = heap();
  for (int i = 0; i < 4 * n; i++) {
    m[i] = EVP_MAC_CTX_new(hmac);
    EVP_MAC_init(m[i], key, 16, params);
  }
  long h2 = heap();
  report("EVP alternative: 4 AES-128-GCM contexts", h1 - h0, n);
  report("EVP alternative: + 4 HMAC-SHA1 (CM profile)", h2 - h1, n);
  for (int i = 0; i < 4 * n; i++) {
    EVP_CIPHER_CTX_free(c[i]);
    EVP_MAC_CTX_free(m[i]);
  }
  EVP_MAC_free(hmac);
  free(c);
  free(m);
}

/* "srtp" mode: sc_srtp_t alone in a fresh process (no freed handshake
 * memory to reuse), so the RSS growth is the real one. */
static int srtp_only(int n) {
  sc_srtp_keys_t k = {.profile = SC_SRTP_AEAD_AES_128_GCM, .key_len = 16, .salt_len = 12};
  sc_srtp_t **s = calloc((size_t)n, sizeof *s);
  RAND_bytes(k.local_key, 16);
  RAND_bytes(k.remote_key, 16);
  for (int pass = 0; pass < 2; pass++) {
    long h0 = heap(), r0 = rss();
    for (int i = 0; i < n; i++)
      if (sc_srtp_new(&s[i], &k, 16) < 0) return 1;
    printf("%s, fresh process:\n", sc_srtp_profile_name(k.profile));
    report("sc_srtp_t heap", heap() - h0, n);
    report("sc_srtp_t RSS growth", rss() - r0, n);
    for (int i = 0; i < n; i++) sc_srtp_free(s[i]);
    k.profile = SC_SRTP_AES128_CM_SHA1_80;
    k.salt_len = 14;
  }
  free(s);
  return 0;
}

static double wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Protects on member i and unprotects with the same keys (a member's
 * remote keys are its local ones), so both directions run per call. */
static double protect_round(sc_srtp_t **s, int n, int rounds, int spread, double *unprot) {
  uint8_t pkt[172 + SC_SRTP_SPARE] = {0x80, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  static uint32_t seq; /* never replayed: one count for all rounds */
  double tp = 0, tu = 0;
  for (int r = 0; r < rounds; r++, seq++) {
    sc_srtp_t *m = s[spread ? r % n : 0];
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    double t0 = wall_ns();
    int len = sc_srtp_protect_rtp(m, pkt, 172, sizeof pkt);
    double t1 = wall_ns();
    if (len < 0 || sc_srtp_unprotect_rtp(m, pkt, (size_t)len) != 172) return -1;
    tu += wall_ns() - t1;
    tp += t1 - t0;
  }
  *unprot = tu / rounds;
  return tp / rounds;
}

static int protect_only(int n, int cm) {
  sc_srtp_keys_t k = {.profile = cm ? SC_SRTP_AES128_CM_SHA1_80 : SC_SRTP_AEAD_AES_128_GCM,
                      .key_len = 16,
                      .salt_len = cm ? 14 : 12};
  sc_srtp_t **s = calloc((size_t)n, sizeof *s);
  for (int i = 0; i < n; i++) {
    RAND_bytes(k.local_key, 16);
    memcpy(k.remote_key, k.local_key, 16);
    if (sc_srtp_new(&s[i], &k, 16) < 0) return 1;
  }
  int rounds = n < 20000 ? 20000 : n;
  double u1, un;
  /* the first round creates each member's streams */
  if (protect_round(s, n, n, 1, &un) < 0) return 1;
  double p1 = protect_round(s, n, rounds, 0, &u1), pn = protect_round(s, n, rounds, 1, &un);
  if (p1 < 0 || pn < 0) return 1;
  printf(
      "%s, %d members: protect %.0f ns, unprotect %.0f ns (one member); "
      "%.0f / %.0f ns going round all\n",
      sc_srtp_profile_name(k.profile), n, p1, u1, pn, un);
  for (int i = 0; i < n; i++) sc_srtp_free(s[i]);
  free(s);
  return 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  if (argc > 2 && strcmp(argv[2], "protect") == 0)
    return n < 1 ? 1 : protect_only(n, argc > 3 && strcmp(argv[3], "cm") == 0);
  if (argc > 2 && strcmp(argv[2], "srtp") == 0) return n < 1 ? 1 : srtp_only(n);
  char err[256];
  sc_dtls_ctx_t *ctx = NULL;
  double t0 = cpu_ns();
  if (n < 1 || sc_dtls_ctx_new(&ctx, NULL, 0, err, sizeof err) < 0) return 1;
  printf("context (P-256 key, certificate, SSL_CTX): %.2f ms CPU\n", (cpu_ns() - t0) / 1e6);
  pair_t *pairs = calloc((size_t)n, sizeof *pairs);
  for (int i = 0; i < n; i++) {
    if (fx_client_init(&pairs[i].client, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", 1) < 0)
      return 1;
    fx_client_step(&pairs[i].client); /* ClientHello */
  }
  long h0 = heap();
  t0 = cpu_ns();
  for (int i = 0; i < n; i++) sc_dtls_new(&pairs[i].server, ctx, NULL, 0);
  server_cpu += cpu_ns() - t0;
  long h1 = heap();
  for (int i = 0; i < n; i++) to_server(&pairs[i]);
  long h2 = heap();
  for (int i = 0; i < n; i++) to_client(&pairs[i]);
  long h3 = heap();
  for (int i = 0; i < n; i++) to_server(&pairs[i]);
  long h4 = heap();
  for (int i = 0; i < n; i++) {
    to_client(&pairs[i]);
    if (sc_dtls_state(pairs[i].server) != SC_DTLS_CONNECTED || !pairs[i].client.done) {
      fprintf(stderr, "handshake %d did not complete\n", i);
      return 1;
    }
  }
  printf("server CPU per handshake: %.3f ms (%d handshakes)\n", server_cpu / 1e6 / n, n);
  report("new session (before any datagram)", h1 - h0, n);
  report("after the ClientHello (flight sent)", h2 - h0, n);
  report("connected", (h2 - h0) + (h4 - h3), n);
  long h5 = heap();
  for (int i = 0; i < n; i++) sc_dtls_shed(pairs[i].server);
  long h6 = heap();
  report("connected, after sc_dtls_shed", (h2 - h0) + (h4 - h3) + (h6 - h5), n);
  printf("sizeof(sc_srtp_keys_t) %zu\n", sizeof(sc_srtp_keys_t));
  if (srtp_phase(pairs, n, SC_SRTP_AEAD_AES_128_GCM) < 0 ||
      srtp_phase(pairs, n, SC_SRTP_AES128_CM_SHA1_80) < 0)
    return 1;
  evp_phase(n);
  for (int i = 0; i < n; i++) {
    sc_dtls_free(pairs[i].server);
    fx_client_free(&pairs[i].client);
  }
  free(pairs);
  sc_dtls_ctx_free(ctx);
  return 0;
}
