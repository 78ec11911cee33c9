/*
 * dave_tool: discord_voice/dv_mls driven line by line, for
 * tests/node/dave_mls_cross.test.js (real davey sessions on the other
 * side). One External Sender key for the process's life.
 *
 *   dave_tool GROUP_ID        (the channel id, decimal)
 * Commands on stdin, one answer line each on stdout (bytes in hex):
 *   es                          -> op 25 payload
 *   kp USER HEX                 -> "ok REF" | "err NAME"   (op 26 check)
 *   add EPOCH USER KP_HEX       -> "MSG REF" (key package checked first)
 *   remove EPOCH LEAF           -> "MSG REF"
 *   append HEX                  -> op 27 payload, operation 0
 *   revoke REF...               -> op 27 payload, operation 1
 *   commit HEX                  -> "ok epoch=E leaf=L path=P commit_len=N
 *                                   refs=R,R members=M,M" | "err NAME"
 *   welcome_for WELCOME_HEX REF -> op 30 welcome (without the tid) | "err NAME"
 * Exit status: 0 at end of input, 1 on a setup error, 2 on usage error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv_mls.h"

#define BUF_MAX 65536

static uint8_t in_a[BUF_MAX], in_b[BUF_MAX], out[BUF_MAX];
static uint64_t group_id;
static dv_mls_signer_t *signer;

static long unhex(const char *s, uint8_t *buf, size_t cap) {
  size_t n = s ? strlen(s) : 0;
  if (!s || n % 2 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    buf[i] = (uint8_t)v;
  }
  return (long)(n / 2);
}

static void put_hex(const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static int answer(int n) {
  if (n < 0) {
    printf("err %s\n", dv_mls_strerror(n));
    return 0;
  }
  put_hex(out, (size_t)n);
  putchar('\n');
  return 0;
}

static int proposal_answer(int n, const dv_mls_ref_t *ref) {
  if (n < 0) return answer(n);
  put_hex(out, (size_t)n);
  putchar(' ');
  put_hex(ref->b, DV_MLS_REF_LEN);
  putchar('\n');
  return 0;
}

static int cmd_kp(char *user, char *hex, int build_add, uint64_t epoch) {
  long n = unhex(hex, in_a, sizeof in_a);
  if (!user || n < 0) return -1;
  const uint8_t *kp;
  size_t kp_len;
  dv_mls_ref_t ref;
  int rc = dv_mls_keypackage_check(in_a, (size_t)n, strtoull(user, NULL, 10), &kp, &kp_len, &ref);
  if (rc < 0) return answer(rc);
  if (build_add) {
    rc = dv_mls_propose_add(signer, group_id, epoch, kp, kp_len, out, sizeof out, &ref);
    return proposal_answer(rc, &ref);
  }
  printf("ok ");
  put_hex(ref.b, DV_MLS_REF_LEN);
  putchar('\n');
  return 0;
}

static void put_refs(const char *name, const dv_mls_ref_t *refs, size_t n) {
  printf(" %s=", name);
  for (size_t i = 0; i < n; i++) {
    if (i) putchar(',');
    put_hex(refs[i].b, DV_MLS_REF_LEN);
  }
}

static int cmd_commit(char *hex) {
  static dv_mls_commit_t c;
  long n = unhex(hex, in_a, sizeof in_a);
  if (n < 0) return -1;
  int rc = dv_mls_commit_parse(in_a, (size_t)n, group_id, &c);
  if (rc < 0) return answer(rc);
  printf("ok epoch=%llu leaf=%u path=%d commit_len=%zu", (unsigned long long)c.epoch,
         (unsigned)c.sender_leaf, c.has_path, c.commit_len);
  put_refs("refs", c.refs, c.nrefs);
  put_refs("members", c.new_members, c.nsecrets);
  putchar('\n');
  return 0;
}

/* first is the first ref (or NULL), the rest follow in save's strtok_r state. */
static int cmd_revoke(char *first, char **save) {
  static dv_mls_ref_t refs[DV_MLS_MAX_REFS];
  size_t n = 0;
  for (char *t = first; t && n < DV_MLS_MAX_REFS; t = strtok_r(NULL, " \n", save), n++)
    if (unhex(t, refs[n].b, DV_MLS_REF_LEN) != DV_MLS_REF_LEN) return -1;
  return answer(dv_mls_op27_revoke(refs, n, out, sizeof out));
}

static int cmd_welcome_for(char *whex, char *rhex) {
  long n = unhex(whex, in_b, sizeof in_b);
  dv_mls_ref_t ref;
  if (n < 0 || unhex(rhex, ref.b, DV_MLS_REF_LEN) != DV_MLS_REF_LEN) return -1;
  return answer(dv_mls_welcome_for(in_b, (size_t)n, &ref, out, sizeof out));
}

static int run(char *line) {
  char *save = NULL, *cmd = strtok_r(line, " \n", &save);
  char *a1 = strtok_r(NULL, " \n", &save);
  if (!cmd) return -1;
  if (!strcmp(cmd, "es")) return answer(dv_mls_external_sender(signer, out, sizeof out));
  if (!strcmp(cmd, "revoke")) return cmd_revoke(a1, &save);
  char *a2 = strtok_r(NULL, " \n", &save);
  if (!strcmp(cmd, "kp")) return cmd_kp(a1, a2, 0, 0);
  if (!strcmp(cmd, "add") && a1)
    return cmd_kp(a2, strtok_r(NULL, " \n", &save), 1, strtoull(a1, NULL, 10));
  if (!strcmp(cmd, "remove") && a1 && a2) {
    dv_mls_ref_t ref;
    int n = dv_mls_propose_remove(signer, group_id, strtoull(a1, NULL, 10),
                                  (uint32_t)strtoul(a2, NULL, 10), out, sizeof out, &ref);
    return proposal_answer(n, &ref);
  }
  if (!strcmp(cmd, "append")) {
    long n = unhex(a1 ? a1 : "", in_a, sizeof in_a);
    return n < 0 ? -1 : answer(dv_mls_op27_append(in_a, (size_t)n, out, sizeof out));
  }
  if (!strcmp(cmd, "commit")) return cmd_commit(a1);
  if (!strcmp(cmd, "welcome_for")) return cmd_welcome_for(a1, a2);
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dave_tool GROUP_ID\n");
    return 2;
  }
  group_id = strtoull(argv[1], NULL, 10);
  static const uint8_t identity[] = "litecord-voice";
  signer = dv_mls_signer_new(identity, sizeof identity - 1);
  if (!signer) return 1;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    if (run(line) < 0) printf("err usage\n");
    fflush(stdout);
  }
  free(line);
  dv_mls_signer_free(signer);
  return 0;
}
