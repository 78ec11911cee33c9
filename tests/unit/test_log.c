/* Unit tests for sc_log's line formats: text, JSON (escaping, valid when
 * long), the journald priority prefixes, and the detection of journald
 * from $JOURNAL_STREAM against stderr's device and inode; the noisy-line
 * budget (sc_log_limit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "sc_log.h"
#include "sc_test.h"

static const struct timespec TS = {1764633600, 123456789}; /* 2025-12-02T00:00:00.123Z */

static void test_text(void) {
  char buf[256];
  size_t n = sc_log_format_line(buf, sizeof buf, SC_LOG_TEXT, 0, SC_LOG_WARN, "gateway", "hi", &TS);
  ASSERT_STREQ(buf, "2025-12-02T00:00:00.123Z WARN  gateway: hi\n");
  ASSERT_EQ(n, strlen(buf));
  /* journald: the priority, no timestamp (journald keeps its own). */
  sc_log_format_line(buf, sizeof buf, SC_LOG_TEXT, 1, SC_LOG_ERROR, "lvsp", "down", &TS);
  ASSERT_STREQ(buf, "<3>lvsp: down\n");
  sc_log_format_line(buf, sizeof buf, SC_LOG_TEXT, 1, SC_LOG_WARN, "m", "x", &TS);
  ASSERT_STREQ(buf, "<4>m: x\n");
  sc_log_format_line(buf, sizeof buf, SC_LOG_TEXT, 1, SC_LOG_INFO, "m", "x", &TS);
  ASSERT_STREQ(buf, "<6>m: x\n");
  sc_log_format_line(buf, sizeof buf, SC_LOG_TEXT, 1, SC_LOG_DEBUG, "m", "x", &TS);
  ASSERT_STREQ(buf, "<7>m: x\n");
  /* Truncated, still one line. */
  char small[64], big[200];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  n = sc_log_format_line(small, sizeof small, SC_LOG_TEXT, 0, SC_LOG_INFO, "m", big, &TS);
  ASSERT_EQ(n, sizeof small - 1);
  ASSERT_TRUE(small[n - 1] == '\n' && strchr(small, '\n') == small + n - 1);
}

static void check_json(const char *line, const char *level, const char *module, const char *msg) {
  json_error_t err;
  json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
  if (!o) SC_FAIL("not JSON (%s): %s", err.text, line);
  ASSERT_STREQ(json_string_value(json_object_get(o, "level")), level);
  ASSERT_STREQ(json_string_value(json_object_get(o, "module")), module);
  ASSERT_STREQ(json_string_value(json_object_get(o, "msg")), msg);
  ASSERT_STREQ(json_string_value(json_object_get(o, "ts")), "2025-12-02T00:00:00.123Z");
  json_decref(o);
}

static void test_json(void) {
  char buf[512];
  const char *msg = "quote \" backslash \\ tab \t newline \n bell \a end";
  size_t n = sc_log_format_line(buf, sizeof buf, SC_LOG_JSON, 0, SC_LOG_INFO, "gw", msg, &TS);
  ASSERT_EQ(n, strlen(buf));
  ASSERT_TRUE(buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);
  check_json(buf, "info", "gw", msg);
  sc_log_format_line(buf, sizeof buf, SC_LOG_JSON, 1, SC_LOG_DEBUG, "gw", "x", &TS);
  ASSERT_TRUE(strncmp(buf, "<7>{", 4) == 0);
  check_json(buf + 3, "debug", "gw", "x");
  /* A message of control bytes (6 bytes each escaped) in the real size. */
  char ctl[1024], line[8192];
  memset(ctl, 1, sizeof ctl - 1);
  ctl[sizeof ctl - 1] = '\0';
  sc_log_format_line(line, sizeof line, SC_LOG_JSON, 0, SC_LOG_ERROR, "m", ctl, &TS);
  check_json(line, "error", "m", ctl);
}

static void test_json_ids(void) {
  char buf[512];
  const char *msg = "voice state 0123456789abcdef0123456789abcdef created: user 42, channel 77";
  sc_log_format_line(buf, sizeof buf, SC_LOG_JSON, 0, SC_LOG_INFO, "lvsp", msg, &TS);
  check_json(buf, "info", "lvsp", msg);
  json_t *o = json_loads(buf, 0, NULL);
  ASSERT_STREQ(json_string_value(json_object_get(o, "session")),
               "0123456789abcdef0123456789abcdef");
  ASSERT_STREQ(json_string_value(json_object_get(o, "user")), "42");
  ASSERT_STREQ(json_string_value(json_object_get(o, "channel")), "77");
  json_decref(o);
  /* Words that are not ids are no fields. */
  msg = "holds its maximum of channels (--max-channels); the channel limit; superuser 5";
  sc_log_format_line(buf, sizeof buf, SC_LOG_JSON, 0, SC_LOG_WARN, "lvsp", msg, &TS);
  check_json(buf, "warn", "lvsp", msg);
  o = json_loads(buf, 0, NULL);
  ASSERT_EQ(json_object_size(o), 4);
  json_decref(o);
}

/* Ids passed by the call site: a readable suffix in text (the session
 * shortened), whole and escaped fields in json, never parsed from the
 * message then; ids not named are left out. */
static void test_given_ids(void) {
  char buf[512];
  const char *sess = "0123456789abcdef0123456789abcdef";
  sc_log_ids_t ids = {"42", "77", sess};
  sc_log_format_line_ids(buf, sizeof buf, SC_LOG_TEXT, 0, SC_LOG_INFO, "lvsp", &ids,
                         "voice state created", &TS);
  ASSERT_STREQ(buf,
               "2025-12-02T00:00:00.123Z INFO  lvsp: voice state created user=42 channel=77 "
               "session=01234567\n");
  sc_log_format_line_ids(buf, sizeof buf, SC_LOG_TEXT, 1, SC_LOG_WARN, "gateway",
                         &(sc_log_ids_t){.user = "9"}, "closing with 4014: x", &TS);
  ASSERT_STREQ(buf, "<4>gateway: closing with 4014: x user=9\n");
  sc_log_format_line_ids(buf, sizeof buf, SC_LOG_JSON, 0, SC_LOG_INFO, "lvsp", &ids,
                         "user 99 said \"hi\"", &TS);
  check_json(buf, "info", "lvsp", "user 99 said \"hi\"");
  json_t *o = json_loads(buf, 0, NULL);
  ASSERT_STREQ(json_string_value(json_object_get(o, "user")), "42");
  ASSERT_STREQ(json_string_value(json_object_get(o, "channel")), "77");
  ASSERT_STREQ(json_string_value(json_object_get(o, "session")), sess);
  json_decref(o);
  sc_log_format_line_ids(buf, sizeof buf, SC_LOG_JSON, 0, SC_LOG_INFO, "lvsp",
                         &(sc_log_ids_t){.channel = "7\"x", .user = ""}, "m", &TS);
  o = json_loads(buf, 0, NULL);
  ASSERT_TRUE(o != NULL);
  ASSERT_STREQ(json_string_value(json_object_get(o, "channel")), "7\"x");
  ASSERT_TRUE(json_object_get(o, "user") == NULL && json_object_get(o, "session") == NULL);
  json_decref(o);
}

static void test_journal_detect(void) {
  struct stat st;
  char v[64];
  ASSERT_EQ(fstat(2, &st), 0);
  unsetenv("JOURNAL_STREAM");
  ASSERT_EQ(sc_log_detect_journal(), 0);
  snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  ASSERT_EQ(setenv("JOURNAL_STREAM", v, 1), 0);
  ASSERT_EQ(sc_log_detect_journal(), 1);
  /* stderr redirected elsewhere: another inode. */
  snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino + 1);
  ASSERT_EQ(setenv("JOURNAL_STREAM", v, 1), 0);
  ASSERT_EQ(sc_log_detect_journal(), 0);
  ASSERT_EQ(setenv("JOURNAL_STREAM", "garbage", 1), 0);
  ASSERT_EQ(sc_log_detect_journal(), 0);
  unsetenv("JOURNAL_STREAM");
  sc_log_detect_journal();
}

static void test_parse_format(void) {
  sc_log_format_t f;
  ASSERT_EQ(sc_log_parse_format("json", &f), 0);
  ASSERT_EQ(f, SC_LOG_JSON);
  ASSERT_EQ(sc_log_parse_format("text", &f), 0);
  ASSERT_EQ(f, SC_LOG_TEXT);
  ASSERT_EQ(sc_log_parse_format("JSON", &f), -1);
  ASSERT_EQ(sc_log_parse_format("logfmt", &f), -1);
}

/* The first line at once, then one per interval standing for those held. */
static void test_limit(void) {
  sc_log_limit_t l = {0, 0};
  ASSERT_EQ(sc_log_limit(&l, 1000, 100), 1);
  for (int i = 1; i < 100; i++) ASSERT_EQ(sc_log_limit(&l, 1000 + i, 100), 0);
  ASSERT_EQ(l.held, 99);
  ASSERT_EQ(sc_log_limit(&l, 1100, 100), 100); /* this one and the 99 held */
  ASSERT_EQ(l.held, 0);
  ASSERT_EQ(sc_log_limit(&l, 1150, 100), 0);
  ASSERT_EQ(sc_log_limit(&l, 5000, 100), 2);
  sc_log_limit_t z = {0, 0};
  ASSERT_EQ(sc_log_limit(&z, 0, 100), 1); /* a clock at 0 still counts as written */
  ASSERT_EQ(sc_log_limit(&z, 50, 100), 0);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  RUN_TEST(test_text);
  RUN_TEST(test_json);
  RUN_TEST(test_json_ids);
  RUN_TEST(test_given_ids);
  RUN_TEST(test_journal_detect);
  RUN_TEST(test_parse_format);
  RUN_TEST(test_limit);
  SC_TEST_DONE();
}
