/* Unit tests for sc_statedir: directory creation, the LVSP secret (incl.
 * concurrent first starts) and the self-signed TLS pair, checked with
 * OpenSSL's API, the openssl CLI and a real Node TLS handshake. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sc_statedir.h"
#include "sc_test.h"
#include "sc_token.h"

static char root[64];

static void path_in(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", root, name);
}

static int file_mode(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ASSERT_TRUE(f != NULL);
  fputs(text, f);
  ASSERT_EQ(fclose(f), 0);
}

static size_t read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  ASSERT_TRUE(f != NULL);
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
  return n;
}

static void test_ensure(void) {
  char deep[256], file[256];
  path_in(deep, sizeof deep, "a/b//c/");
  ASSERT_EQ(sc_statedir_ensure(deep), 0);
  path_in(deep, sizeof deep, "a/b/c");
  ASSERT_EQ(file_mode(deep), 0700);
  path_in(deep, sizeof deep, "a");
  ASSERT_EQ(file_mode(deep), 0700);
  ASSERT_EQ(sc_statedir_ensure(deep), 0); /* existing: fine */
  path_in(file, sizeof file, "plainfile");
  write_file(file, "x");
  ASSERT_EQ(sc_statedir_ensure(file), -ENOTDIR);
  path_in(file, sizeof file, "plainfile/sub");
  ASSERT_EQ(sc_statedir_ensure(file), -ENOTDIR);
  ASSERT_EQ(sc_statedir_ensure(""), -EINVAL);
}

static int is_hex64(const char *s) {
  return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void test_secret(void) {
  char dir[256], file[300], s1[256], s2[256], raw[300];
  int created = -1;
  path_in(dir, sizeof dir, "sec");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  ASSERT_EQ(sc_statedir_secret(dir, s1, sizeof s1, &created), 0);
  ASSERT_EQ(created, 1);
  ASSERT_TRUE(is_hex64(s1));
  snprintf(file, sizeof file, "%s/lvsp_secret", dir);
  ASSERT_EQ(file_mode(file), 0600);
  read_file(file, raw, sizeof raw);
  ASSERT_EQ(strlen(raw), 65);
  ASSERT_EQ(raw[64], '\n');
  ASSERT_EQ(strncmp(raw, s1, 64), 0);
  ASSERT_EQ(sc_statedir_secret(dir, s2, sizeof s2, &created), 0);
  ASSERT_EQ(created, 0);
  ASSERT_STREQ(s1, s2);
  /* No temp files are left behind. */
  char cmd[400];
  snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = lvsp_secret", dir);
  ASSERT_EQ(system(cmd), 0);
  /* A fresh secret needs 65 bytes of room. */
  path_in(dir, sizeof dir, "sec_small");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  ASSERT_TRUE(sc_statedir_secret(dir, s1, 64, &created) < 0);
  path_in(dir, sizeof dir, "does/not/exist");
  ASSERT_EQ(sc_statedir_secret(dir, s1, sizeof s1, &created), -ENOENT);
}

static void test_secret_existing(void) {
  char dir[256], file[300], s[256];
  int created = -1;
  path_in(dir, sizeof dir, "sec2");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  snprintf(file, sizeof file, "%s/lvsp_secret", dir);
  write_file(file, "  my shared secret \t\r\n\n");
  ASSERT_EQ(sc_statedir_secret(dir, s, sizeof s, &created), 0);
  ASSERT_EQ(created, 0);
  ASSERT_STREQ(s, "  my shared secret"); /* only trailing blanks go */
  ASSERT_EQ(sc_statedir_secret(dir, s, 10, &created), -ENAMETOOLONG);
  write_file(file, "abc");
  ASSERT_EQ(sc_statedir_secret(dir, s, sizeof s, NULL), 0);
  ASSERT_STREQ(s, "abc");
  write_file(file, " \n\n");
  ASSERT_EQ(sc_statedir_secret(dir, s, sizeof s, &created), -EINVAL);
  write_file(file, "");
  ASSERT_EQ(sc_statedir_secret(dir, s, sizeof s, &created), -EINVAL);
}

/* Several processes start at once on one empty dir: all must end up with
 * the same secret, and exactly one of them created it. */
static void test_secret_race(void) {
  enum { N = 8 };
  char dir[256], first[256] = "";
  int fds[N][2], creators = 0;
  pid_t pids[N];
  path_in(dir, sizeof dir, "race");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(pipe(fds[i]), 0);
    pids[i] = fork();
    ASSERT_TRUE(pids[i] >= 0);
    if (pids[i] == 0) {
      char s[256], line[300];
      int created = 0;
      int rc = sc_statedir_secret(dir, s, sizeof s, &created);
      int n = snprintf(line, sizeof line, "%d %d %s", rc, created, rc == 0 ? s : "-");
      _exit(write(fds[i][1], line, (size_t)n + 1) == n + 1 ? 0 : 1);
    }
    close(fds[i][1]);
  }
  for (int i = 0; i < N; i++) {
    char line[300] = "", s[256];
    int rc, created, status;
    ASSERT_TRUE(read(fds[i][0], line, sizeof line - 1) > 0);
    close(fds[i][0]);
    ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
    ASSERT_EQ(status, 0);
    ASSERT_EQ(sscanf(line, "%d %d %255s", &rc, &created, s), 3);
    ASSERT_EQ(rc, 0);
    ASSERT_TRUE(is_hex64(s));
    creators += created;
    if (!first[0]) snprintf(first, sizeof first, "%s", s);
    ASSERT_STREQ(s, first);
  }
  ASSERT_EQ(creators, 1);
}

static X509 *load_cert(const char *path) {
  FILE *f = fopen(path, "r");
  ASSERT_TRUE(f != NULL);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  ASSERT_TRUE(x != NULL);
  return x;
}

static EVP_PKEY *load_key(const char *path) {
  FILE *f = fopen(path, "r");
  ASSERT_TRUE(f != NULL);
  EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  ASSERT_TRUE(k != NULL);
  return k;
}

/* Counts the SAN entries; sets *has if one equals `want` ("IP:x"/"DNS:x"). */
static int san_count(X509 *x, const char *want, int *has) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  ASSERT_TRUE(gens != NULL);
  int n = sk_GENERAL_NAME_num(gens);
  *has = 0;
  for (int i = 0; i < n; i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    char buf[300] = "";
    if (g->type == GEN_DNS) {
      snprintf(buf, sizeof buf, "DNS:%s", (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
      char ip[INET6_ADDRSTRLEN] = "?";
      int len = g->d.iPAddress->length;
      inet_ntop(len == 4 ? AF_INET : AF_INET6, g->d.iPAddress->data, ip, sizeof ip);
      if (len == 4 || len == 16) snprintf(buf, sizeof buf, "IP:%s", ip);
    }
    if (strcasecmp(buf, want) == 0) *has = 1;
  }
  GENERAL_NAMES_free(gens);
  return n;
}

static int has_san(X509 *x, const char *want) {
  int has;
  san_count(x, want, &has);
  return has;
}

static void check_cert_fields(X509 *x, EVP_PKEY *key) {
  char cn[64];
  ASSERT_EQ(X509_get_version(x), 2);
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  ASSERT_STREQ(cn, "litecord-voice");
  ASSERT_EQ(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  ASSERT_EQ(X509_check_private_key(x, key), 1);
  ASSERT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[32] = "";
  size_t glen = 0;
  EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &glen);
  ASSERT_STREQ(group, "prime256v1");
  ASSERT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
  ASSERT_EQ(X509_verify(x, key), 1);
  /* Not a CA, for TLS servers only. */
  ASSERT_EQ(X509_check_ca(x), 0);
  ASSERT_TRUE(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
  ASSERT_TRUE(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
  /* Serial: positive, random (so not a small counter). */
  const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
  ASSERT_EQ(serial->type, V_ASN1_INTEGER);
  ASSERT_TRUE(serial->length >= 8);
  /* Valid from about an hour ago for about ten years. */
  time_t now = time(NULL), t;
  t = now - 1800;
  ASSERT_TRUE(X509_cmp_time(X509_get0_notBefore(x), &t) < 0);
  t = now - 7200;
  ASSERT_TRUE(X509_cmp_time(X509_get0_notBefore(x), &t) > 0);
  t = now + (time_t)3650 * 86400;
  ASSERT_TRUE(X509_cmp_time(X509_get0_notAfter(x), &t) > 0);
  t = now + (time_t)3660 * 86400;
  ASSERT_TRUE(X509_cmp_time(X509_get0_notAfter(x), &t) < 0);
}

/* Runs a shell command and returns its first output line in out. */
static int run_line(const char *cmd, char *out, size_t size) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  out[0] = '\0';
  if (!fgets(out, (int)size, p)) out[0] = '\0';
  char rest[256];
  while (fgets(rest, sizeof rest, p)) {
  }
  out[strcspn(out, "\r\n")] = '\0';
  return pclose(p);
}

static void check_openssl_cli(const char *cert, const char *verify_opt) {
  char cmd[1200], line[512];
  snprintf(cmd, sizeof cmd, "openssl verify %s -CAfile '%s' '%s' 2>&1", verify_opt, cert, cert);
  ASSERT_EQ(run_line(cmd, line, sizeof line), 0);
  char want[600];
  snprintf(want, sizeof want, "%s: OK", cert);
  ASSERT_STREQ(line, want);
}

/* A real TLS server/client pair in Node that trusts only this cert and
 * checks the name; prints OK on a verified handshake. */
static const char node_script[] =
    "const tls=require('tls'),fs=require('fs');\n"
    "const [cert,key,host,name]=process.argv.slice(2);\n"
    "const c=fs.readFileSync(cert),k=fs.readFileSync(key);\n"
    "tls.createSecureContext({cert:c,key:k});\n"
    "const srv=tls.createServer({cert:c,key:k},s=>s.end('hi'));\n"
    "srv.listen(0,'127.0.0.1',()=>{\n"
    "  const opts={host:'127.0.0.1',port:srv.address().port,ca:[c]};\n"
    "  if(name!=='-') opts.servername=name; else opts.checkServerIdentity=(h,crt)=>\n"
    "    tls.checkServerIdentity(host,crt);\n"
    "  const "
    "s=tls.connect(opts,()=>{console.log(s.authorized?'OK':'UNAUTH');s.end();srv.close();});\n"
    "  s.on('error',e=>{console.log('ERR '+e.message);srv.close();process.exitCode=1;});\n"
    "});\n";

static void check_node(const char *cert, const char *key, const char *host, const char *name) {
  char script[300], cmd[1500], line[512];
  if (system("node --version > /dev/null 2>&1") != 0) {
    fprintf(stderr, "   (node not found: Node TLS check skipped)\n");
    return;
  }
  path_in(script, sizeof script, "tls_check.js");
  write_file(script, node_script);
  snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s' '%s' '%s' 2>&1", script, cert, key, host, name);
  ASSERT_EQ(run_line(cmd, line, sizeof line), 0);
  ASSERT_STREQ(line, "OK");
}

static void test_tls_pair(void) {
  char dir[256], cert[1024], key[1024], pem1[8192], pem2[8192];
  int created = -1;
  path_in(dir, sizeof dir, "tls");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  ASSERT_EQ(sc_statedir_tls_pair(dir, "203.0.113.7", cert, sizeof cert, key, sizeof key, &created),
            0);
  ASSERT_EQ(created, 1);
  char want[300];
  snprintf(want, sizeof want, "%s/cert.pem", dir);
  ASSERT_STREQ(cert, want);
  snprintf(want, sizeof want, "%s/key.pem", dir);
  ASSERT_STREQ(key, want);
  ASSERT_EQ(file_mode(key), 0600);
  X509 *x = load_cert(cert);
  EVP_PKEY *k = load_key(key);
  check_cert_fields(x, k);
  int has;
  ASSERT_EQ(san_count(x, "IP:127.0.0.1", &has), 4);
  ASSERT_EQ(has, 1);
  ASSERT_TRUE(has_san(x, "IP:::1"));
  ASSERT_TRUE(has_san(x, "DNS:localhost"));
  ASSERT_TRUE(has_san(x, "IP:203.0.113.7"));
  ASSERT_EQ(X509_check_ip_asc(x, "203.0.113.7", 0), 1);
  ASSERT_EQ(X509_check_ip_asc(x, "203.0.113.8", 0), 0);
  X509_free(x);
  EVP_PKEY_free(k);
  check_openssl_cli(cert, "-verify_ip 203.0.113.7 -purpose sslserver");
  check_openssl_cli(cert, "-verify_ip 127.0.0.1");
  check_node(cert, key, "203.0.113.7", "-");

  /* Second start: same files, nothing regenerated. */
  read_file(cert, pem1, sizeof pem1);
  ASSERT_EQ(sc_statedir_tls_pair(dir, "203.0.113.7", cert, sizeof cert, key, sizeof key, &created),
            0);
  ASSERT_EQ(created, 0);
  read_file(cert, pem2, sizeof pem2);
  ASSERT_STREQ(pem1, pem2);
  /* One half missing: a fresh, matching pair. */
  ASSERT_EQ(unlink(key), 0);
  ASSERT_EQ(sc_statedir_tls_pair(dir, "203.0.113.7", cert, sizeof cert, key, sizeof key, &created),
            0);
  ASSERT_EQ(created, 1);
  read_file(cert, pem2, sizeof pem2);
  ASSERT_TRUE(strcmp(pem1, pem2) != 0);
  x = load_cert(cert);
  k = load_key(key);
  ASSERT_EQ(X509_check_private_key(x, k), 1);
  X509_free(x);
  EVP_PKEY_free(k);
  ASSERT_EQ(
      sc_statedir_tls_pair("/nonexistent/dir", "h", cert, sizeof cert, key, sizeof key, &created),
      -ENOENT);
}

/* Public host variants: a DNS name, v6, wildcards and duplicates. */
static void check_host(const char *sub, const char *host, const char *entry, int n_san) {
  char dir[256], cert[1024], key[1024];
  int created = 0, has = 0;
  path_in(dir, sizeof dir, sub);
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  ASSERT_EQ(sc_statedir_tls_pair(dir, host, cert, sizeof cert, key, sizeof key, &created), 0);
  ASSERT_EQ(created, 1);
  X509 *x = load_cert(cert);
  if (san_count(x, entry ? entry : "IP:127.0.0.1", &has) != n_san)
    SC_FAIL("host '%s': expected %d SAN entries", host, n_san);
  ASSERT_EQ(has, 1);
  X509_free(x);
}

static void test_tls_hosts(void) {
  check_host("h_dns", "voice.example.com", "DNS:voice.example.com", 4);
  check_host("h_v6", "2001:db8::7", "IP:2001:db8::7", 4);
  check_host("h_v6b", "[2001:db8::8]", "IP:2001:db8::8", 4);
  check_host("h_any", "0.0.0.0", NULL, 3);
  check_host("h_empty", "", NULL, 3);
  check_host("h_lo", "127.0.0.1", NULL, 3);
  check_host("h_lo6", "::1", NULL, 3);
  check_host("h_lh", "LocalHost", NULL, 3);
  check_host("h_bad", "bad host,DNS:evil", NULL, 3); /* no SAN injection */
  char dir[256], cert[300];
  path_in(dir, sizeof dir, "h_dns");
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  check_openssl_cli(cert, "-verify_hostname voice.example.com");
  char key[300];
  snprintf(key, sizeof key, "%s/key.pem", dir);
  check_node(cert, key, "voice.example.com", "voice.example.com");
}

/* Whole files (the DTLS certificate uses them): created 0600 once, never
 * overwritten, read back whole; a file larger than the buffer is refused. */
static void test_whole_files(void) {
  char dir[256], file[300], buf[16];
  size_t len = 0;
  path_in(dir, sizeof dir, "whole");
  ASSERT_EQ(sc_statedir_ensure(dir), 0);
  ASSERT_EQ(sc_statedir_read_file(dir, "f", buf, sizeof buf, &len), -ENOENT);
  ASSERT_EQ(sc_statedir_create_file(dir, "f", "hello\0world", 11), 0);
  snprintf(file, sizeof file, "%s/f", dir);
  ASSERT_EQ(file_mode(file), 0600);
  ASSERT_EQ(sc_statedir_create_file(dir, "f", "other", 5), -EEXIST);
  ASSERT_EQ(sc_statedir_read_file(dir, "f", buf, sizeof buf, &len), 0);
  ASSERT_EQ(len, 11);
  ASSERT_MEMEQ(buf, "hello\0world", 11);
  ASSERT_EQ(sc_statedir_read_file(dir, "f", buf, 11, &len), 0); /* exactly full */
  ASSERT_EQ(sc_statedir_read_file(dir, "f", buf, 10, &len), -EFBIG);
}

int main(int argc, char **argv) {
  SC_TEST_ARGS(argc, argv);
  ASSERT_EQ(sc_token_init(), 0);
  snprintf(root, sizeof root, "/tmp/sc_test_statedir_XXXXXX");
  ASSERT_TRUE(mkdtemp(root) != NULL);
  RUN_TEST(test_ensure);
  RUN_TEST(test_secret);
  RUN_TEST(test_secret_existing);
  RUN_TEST(test_secret_race);
  RUN_TEST(test_tls_pair);
  RUN_TEST(test_tls_hosts);
  RUN_TEST(test_whole_files);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  ASSERT_EQ(system(cmd), 0);
  SC_TEST_DONE();
}
