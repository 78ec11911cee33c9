/*
 * fuzz_vortex: the Vortex message reader (vortex/vx_msg.h) over any
 * bytes, each '\n'-separated line of an input one client frame (the
 * separator keeps seeds readable; revite's own frames end with "\n",
 * which the reader must accept too, so the whole input is read as one
 * frame as well). Besides memory safety it checks what the handlers rely
 * on: a verdict in range, a known type on success, strings terminated
 * inside their fields, PTs and extension ids in their ranges, the same
 * answer twice for the same bytes, and that an accepted fingerprint
 * written back by vx_msg_format_fp reads to the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "vx_msg.h"

static void check_terminated(const char *s, size_t cap) {
  FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
}

static void check_request(const vx_req_t *r) {
  FUZZ_CHECK(r->type < VX_REQ_COUNT && r->id >= 0 && r->id <= ((int64_t)1 << 53));
  check_terminated(r->token, sizeof r->token);
  check_terminated(r->room_id, sizeof r->room_id);
  check_terminated(r->obj_id, sizeof r->obj_id);
  check_terminated(r->user_id, sizeof r->user_id);
  FUZZ_CHECK(r->opus_pt == -1 || (r->opus_pt >= VX_PT_MIN && r->opus_pt <= VX_PT_MAX));
  FUZZ_CHECK(r->audio_level_id >= 0 && r->audio_level_id <= 14);
  FUZZ_CHECK(r->kind <= VX_KIND_SVIDEO);
  if (r->type == VX_REQ_AUTHENTICATE) FUZZ_CHECK(sc_registry_valid_id(r->room_id));
  if (r->type == VX_REQ_START_CONSUME) FUZZ_CHECK(sc_registry_valid_id(r->user_id));
  if (r->has_fp) {
    char text[VX_FP_LEN * 3], frame[512];
    vx_msg_format_fp(r->fp, text);
    snprintf(frame, sizeof frame,
             "{\"id\":1,\"type\":\"ConnectTransport\",\"data\":{\"id\":\"x\",\"dtlsParameters\":"
             "{\"fingerprints\":[{\"algorithm\":\"sha-256\",\"value\":\"%s\"}]}}}",
             text);
    static vx_req_t back;
    char why[64];
    FUZZ_CHECK(vx_msg_parse(frame, strlen(frame), &back, why, sizeof why) == VX_PARSE_OK);
    FUZZ_CHECK(back.has_fp && memcmp(back.fp, r->fp, VX_FP_LEN) == 0);
  }
}

static void one_frame(const uint8_t *msg, size_t len) {
  /* An exact-size copy: ASan sees a read past the frame. */
  char *buf = (char *)fuzz_dup(msg, len);
  static vx_req_t a, b;
  char why[64], why2[64];
  vx_parse_t p = vx_msg_parse(buf, len, &a, why, sizeof why);
  FUZZ_CHECK(p < VX_PARSE_COUNT);
  FUZZ_CHECK(strcmp(vx_msg_parse_name(p), "?") != 0);
  check_terminated(why, sizeof why);
  if (p == VX_PARSE_OK) check_request(&a);
  FUZZ_CHECK(vx_msg_parse(buf, len, &b, why2, sizeof why2) == p);
  FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0 && strcmp(why, why2) == 0);
  if (fuzz_verbose()) printf("%s %s\n", vx_msg_parse_name(p), why);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  fuzz_lines_t it;
  const uint8_t *msg;
  size_t len;
  fuzz_lines_init(&it, data, size);
  while (fuzz_lines_next(&it, &msg, &len)) one_frame(msg, len);
  one_frame(data, size);
  return 0;
}
