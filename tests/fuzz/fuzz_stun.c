/*
 * fuzz_stun: sc_stun (parse, MESSAGE-INTEGRITY, FINGERPRINT, builders) and
 * the ICE-lite agent sc_ice over any bytes. The agent has fixed
 * credentials, ufrag "fuzzfuzz" and the RFC 5769 password
 * "VOkJxbRl1RmTxUk/WvJxBt", so seeds signed with them reach the answers.
 * The source address comes from the input's last bytes.
 *
 * Oracles: the parser never points outside the input; peek agrees with
 * parse; an answer is never larger than the request, parses, carries the
 * request's transaction id and a MESSAGE-INTEGRITY and FINGERPRINT that
 * verify; a success answer only to a request that verified, whose
 * XOR-MAPPED-ADDRESS is the source; nothing is written when there is no
 * answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sc_ice.h"
#include "sc_stun.h"

#define FUZZ_UFRAG "fuzzfuzz"
#define FUZZ_PWD "VOkJxbRl1RmTxUk/WvJxBt"

static void check_parse(const uint8_t *buf, size_t len, const sc_stun_msg_t *m) {
  FUZZ_CHECK(m->len == len && len >= SC_STUN_HEADER_LEN && len <= SC_STUN_MAX_LEN);
  FUZZ_CHECK(m->n_attrs <= SC_STUN_MAX_ATTRS);
  if (m->username) {
    FUZZ_CHECK(m->username >= buf && m->username + m->username_len <= buf + len);
    FUZZ_CHECK(m->our_ufrag_len <= m->username_len);
    const uint8_t *uf;
    size_t n;
    int rc = sc_stun_peek_ufrag(buf, len, &uf, &n);
    FUZZ_CHECK(rc == (m->our_ufrag_len ? 0 : -EINVAL));
    if (rc == 0) FUZZ_CHECK(uf == m->our_ufrag && n == m->our_ufrag_len);
  }
  if (m->mi_off) FUZZ_CHECK(m->mi_off + 24 <= len);
  if (m->fp_off) FUZZ_CHECK(m->fp_off + 8 == len);
}

static void check_answer(const uint8_t *req, size_t req_len, const sc_stun_msg_t *rm,
                         const uint8_t *out, int n, const sc_stun_key_t *k,
                         const struct sockaddr_storage *from) {
  FUZZ_CHECK(n > 0 && (size_t)n <= req_len);
  sc_stun_msg_t a;
  FUZZ_CHECK(sc_stun_parse(out, (size_t)n, &a) == 0);
  FUZZ_CHECK(memcmp(a.tid, req + 8, SC_STUN_TID_LEN) == 0);
  FUZZ_CHECK(sc_stun_check_integrity(out, &a, k) && sc_stun_check_fingerprint(out, &a));
  /* Any answer means the request named us and verified. */
  FUZZ_CHECK(sc_stun_check_integrity(req, rm, k));
  if (a.type == SC_STUN_BINDING_SUCCESS) {
    FUZZ_CHECK(a.has_mapped);
    struct sockaddr_storage want = *from;
    if (from->ss_family == AF_INET6 &&
        IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)from)->sin6_addr))
      return; /* written as IPv4: checked by the unit test */
    size_t cmp =
        from->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    FUZZ_CHECK(memcmp(&a.mapped, &want, cmp) == 0);
  } else {
    FUZZ_CHECK(a.type == SC_STUN_BINDING_ERROR);
    FUZZ_CHECK(a.error_code == 400 || a.error_code == 420 || a.error_code == 487);
  }
}

static void run_agent(const uint8_t *buf, size_t len, const sc_stun_msg_t *m, int parsed,
                      const struct sockaddr_storage *from) {
  static sc_ice_t agent;
  sc_ice_init(&agent);
  memcpy(agent.ufrag, FUZZ_UFRAG, sizeof FUZZ_UFRAG);
  sc_stun_key_init(&agent.key, FUZZ_PWD, strlen(FUZZ_PWD));
  uint8_t out[SC_STUN_MAX_LEN];
  memset(out, 0xA5, sizeof out);
  int n = sc_ice_on_stun(&agent, 1000, buf, len, from, out, sizeof out);
  if (n <= 0) {
    FUZZ_CHECK(n < 0 && n >= -SC_ICE_TOO_LARGE);
    FUZZ_CHECK(out[0] == 0xA5 || n == -SC_ICE_TOO_LARGE);
    FUZZ_CHECK(!sc_ice_tuple_valid(&agent, 1000, from));
    return;
  }
  FUZZ_CHECK(parsed);
  check_answer(buf, len, m, out, n, &agent.key, from);
  /* Consent is granted by a success answer only, and lasts 30 s. */
  int valid = sc_ice_tuple_valid(&agent, 1000, from);
  FUZZ_CHECK(valid == (agent.counters.answered == 1));
  FUZZ_CHECK(!sc_ice_tuple_valid(&agent, 1000 + SC_ICE_CONSENT_MS, from));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_init_once();
  uint8_t *buf = fuzz_dup(data, size);
  struct sockaddr_storage from;
  fuzz_source_address(data, size, &from);
  sc_stun_msg_t m;
  int rc = sc_stun_parse(buf, size, &m);
  FUZZ_CHECK(rc == 0 || rc == -EINVAL);
  if (rc == 0) {
    check_parse(buf, size, &m);
    sc_stun_key_t k;
    sc_stun_key_init(&k, FUZZ_PWD, strlen(FUZZ_PWD));
    (void)sc_stun_check_fingerprint(buf, &m);
    (void)sc_stun_check_integrity(buf, &m, &k);
    /* The builders round-trip for this transaction and source. */
    uint8_t out[128];
    int n = sc_stun_build_success(m.tid, (const struct sockaddr *)&from, NULL, &k, out, sizeof out);
    FUZZ_CHECK(n == SC_STUN_SUCCESS_LEN_V4 || n == SC_STUN_SUCCESS_LEN_V6);
    sc_stun_msg_t back;
    FUZZ_CHECK(sc_stun_parse(out, (size_t)n, &back) == 0 && back.has_mapped);
    FUZZ_CHECK(sc_stun_check_integrity(out, &back, &k) && sc_stun_check_fingerprint(out, &back));
    int listed = m.n_unknown < SC_STUN_MAX_UNKNOWN ? m.n_unknown : SC_STUN_MAX_UNKNOWN;
    n = sc_stun_build_error(m.tid, 420, m.unknown, listed, &k, out, sizeof out);
    FUZZ_CHECK(n > 0 && sc_stun_parse(out, (size_t)n, &back) == 0 && back.error_code == 420);
  }
  run_agent(buf, size, &m, rc == 0, &from);
  free(buf);
  return 0;
}
