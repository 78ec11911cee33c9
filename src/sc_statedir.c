#include "sc_statedir.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sc_log.h"
#include "sc_token.h"

#define SECRET_BYTES 32
#define SECRET_FILE_MAX 4096
#define CERT_CN "litecord-voice"
#define CERT_DAYS 3652 /* ten years, leap days included */
#define SAN_MAX 1024
#define SAN_HOST_MAX 256

/* ---- directories and small files ---------------------------------------- */

static int mkdir_one(const char *path) {
  struct stat st;
  if (mkdir(path, 0700) == 0) {
    /* mkdir honours the umask; the state dir holds secrets, so be explicit. */
    return chmod(path, 0700) == 0 ? 0 : -errno;
  }
  if (errno != EEXIST) return -errno;
  if (stat(path, &st) != 0) return -errno;
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int sc_statedir_ensure(const char *dir) {
  char path[4096];
  if (!dir || !*dir) return -EINVAL;
  size_t n = strlen(dir);
  if (n >= sizeof path) return -ENAMETOOLONG;
  memcpy(path, dir, n + 1);
  while (n > 1 && path[n - 1] == '/') path[--n] = '\0';
  /* Create each parent in turn ("mkdir -p"); existing ones are left as is. */
  for (size_t i = 1; i < n; i++) {
    if (path[i] != '/' || path[i - 1] == '/') continue;
    path[i] = '\0';
    int rc = mkdir_one(path);
    path[i] = '/';
    if (rc < 0) return rc;
  }
  return mkdir_one(path);
}

static int join_path(char *out, size_t size, const char *dir, const char *name) {
  int n = snprintf(out, size, "%s/%s", dir, name);
  return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -errno;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Creates a fresh, uniquely named 0600 file next to `final` for the caller
 * to fill and then publish with link() or rename(). Returns an fd or -errno. */
static int open_temp(const char *final, char *tmp, size_t tmp_size) {
  char rnd[17];
  sc_token_random_hex(rnd, sizeof rnd, 8);
  int n = snprintf(tmp, tmp_size, "%s.tmp-%s", final, rnd);
  if (n < 0 || (size_t)n >= tmp_size) return -ENAMETOOLONG;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -errno;
  if (fchmod(fd, 0600) != 0) {
    int rc = -errno;
    close(fd);
    unlink(tmp);
    return rc;
  }
  return fd;
}

/* ---- the LVSP secret ------------------------------------------------------ */

/* Reads at most `size` bytes; returns the count or -errno. */
static ssize_t read_upto(int fd, char *buf, size_t size) {
  size_t len = 0;
  while (len < size) {
    ssize_t r = read(fd, buf + len, size - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (r == 0) break;
    len += (size_t)r;
  }
  return (ssize_t)len;
}

static int read_secret(const char *path, char *out, size_t out_size) {
  char buf[SECRET_FILE_MAX + 1];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (fstat(fd, &st) == 0 && (st.st_mode & 077))
    sc_log_warn("statedir", "%s is readable by group/others (mode %03o)", path,
                (unsigned)(st.st_mode & 0777));
  ssize_t got = read_upto(fd, buf, sizeof buf);
  close(fd);
  int rc = got < 0 ? (int)got : 0;
  size_t len = got < 0 ? 0 : (size_t)got;
  if (rc == 0 && len > SECRET_FILE_MAX) rc = -EFBIG;
  while (rc == 0 && len > 0 && isspace((unsigned char)buf[len - 1])) len--;
  if (rc == 0 && (len == 0 || memchr(buf, '\0', len))) rc = -EINVAL;
  if (rc == 0 && len >= out_size) rc = -ENAMETOOLONG;
  if (rc == 0) {
    memcpy(out, buf, len);
    out[len] = '\0';
  }
  sc_token_random(buf, sizeof buf); /* don't leave the secret on the stack */
  return rc;
}

/* Writes a fresh secret to a temp file, then link()s it into place: link
 * fails with EEXIST if another start won the race, and the name never
 * points at a half-written file. Returns 0, -EEXIST or -errno. */
static int create_secret(const char *path, char *out, size_t out_size) {
  char hex[2 * SECRET_BYTES + 2], tmp[4200];
  if (out_size < 2 * SECRET_BYTES + 1) return -ENAMETOOLONG;
  sc_token_random_hex(hex, sizeof hex, SECRET_BYTES);
  int fd = open_temp(path, tmp, sizeof tmp);
  if (fd < 0) return fd;
  hex[2 * SECRET_BYTES] = '\n';
  int rc = write_all(fd, hex, 2 * SECRET_BYTES + 1);
  if (rc == 0 && fsync(fd) != 0) rc = -errno;
  if (close(fd) != 0 && rc == 0) rc = -errno;
  if (rc == 0 && link(tmp, path) != 0) rc = -errno;
  unlink(tmp);
  hex[2 * SECRET_BYTES] = '\0';
  if (rc == 0) memcpy(out, hex, 2 * SECRET_BYTES + 1);
  sc_token_random(hex, sizeof hex);
  return rc;
}

int sc_statedir_secret(const char *dir, char *out, size_t out_size, int *created) {
  return sc_statedir_named_secret(dir, "lvsp_secret", out, out_size, created);
}

int sc_statedir_read_named_secret(const char *dir, const char *name, char *out, size_t out_size) {
  char path[4096];
  if (!dir || !name || !out || out_size == 0) return -EINVAL;
  int rc = join_path(path, sizeof path, dir, name);
  return rc < 0 ? rc : read_secret(path, out, out_size);
}

int sc_statedir_named_secret(const char *dir, const char *name, char *out, size_t out_size,
                             int *created) {
  char path[4096];
  if (!dir || !name || !out || out_size == 0) return -EINVAL;
  if (created) *created = 0;
  int rc = join_path(path, sizeof path, dir, name);
  if (rc < 0) return rc;
  rc = read_secret(path, out, out_size);
  if (rc != -ENOENT) return rc;
  rc = create_secret(path, out, out_size);
  if (rc == -EEXIST) return read_secret(path, out, out_size); /* lost the race */
  if (rc == 0 && created) *created = 1;
  return rc;
}

/* ---- whole files ------------------------------------------------------------ */

int sc_statedir_read_file(const char *dir, const char *name, void *out, size_t cap, size_t *len) {
  char path[4096];
  struct stat st;
  int rc = join_path(path, sizeof path, dir, name);
  if (rc < 0) return rc;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (fstat(fd, &st) == 0 && (st.st_mode & 077))
    sc_log_warn("statedir", "%s is readable by group/others (mode %03o)", path,
                (unsigned)(st.st_mode & 0777));
  ssize_t got = read_upto(fd, out, cap);
  char extra;
  if (got >= 0 && (size_t)got == cap && read_upto(fd, &extra, 1) == 1) got = -EFBIG;
  close(fd);
  if (got < 0) return (int)got;
  *len = (size_t)got;
  return 0;
}

int sc_statedir_create_file(const char *dir, const char *name, const void *data, size_t len) {
  char path[4096], tmp[4200];
  int rc = join_path(path, sizeof path, dir, name);
  if (rc < 0) return rc;
  int fd = open_temp(path, tmp, sizeof tmp);
  if (fd < 0) return fd;
  rc = write_all(fd, data, len);
  if (rc == 0 && fsync(fd) != 0) rc = -errno;
  if (close(fd) != 0 && rc == 0) rc = -errno;
  if (rc == 0 && link(tmp, path) != 0) rc = -errno;
  unlink(tmp);
  return rc;
}

/* ---- the TLS pair ---------------------------------------------------------- */

static int add_ext(X509 *x, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext) return -1;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -1;
}

static int dns_name_ok(const char *h) {
  size_t n = strlen(h);
  if (n == 0 || n > 253) return 0;
  for (; *h; h++)
    if (!isalnum((unsigned char)*h) && !strchr(".-_*", *h)) return 0;
  return 1;
}

/* Writes the public host's SAN entry ("IP:x" or "DNS:x") into entry, or ""
 * when it adds nothing: empty, a wildcard, already in the fixed list, or
 * not a plausible name (then a warning says so). */
static void san_entry(char *entry, size_t size, const char *host) {
  char h[SAN_HOST_MAX], norm[INET6_ADDRSTRLEN];
  uint8_t a[16];
  size_t n = host ? strlen(host) : 0;
  entry[0] = '\0';
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') { /* "[v6]" as in URLs */
    host++;
    n -= 2;
  }
  if (n == 0 || n >= sizeof h) return;
  memcpy(h, host, n);
  h[n] = '\0';
  int af = inet_pton(AF_INET, h, a) == 1 ? AF_INET : inet_pton(AF_INET6, h, a) == 1 ? AF_INET6 : 0;
  if (af) {
    inet_ntop(af, a, norm, sizeof norm);
    if (strcmp(norm, "0.0.0.0") && strcmp(norm, "::") && strcmp(norm, "127.0.0.1") &&
        strcmp(norm, "::1"))
      snprintf(entry, size, ",IP:%s", norm);
  } else if (!dns_name_ok(h)) {
    sc_log_warn("statedir", "public host '%s' is not a DNS name; left out of the cert", h);
  } else if (strcasecmp(h, "localhost") != 0) {
    snprintf(entry, size, ",DNS:%s", h);
  }
}

static int set_serial(X509 *x) {
  uint8_t raw[16];
  sc_token_random(raw, sizeof raw);
  raw[0] = (uint8_t)((raw[0] & 0x7f) | 0x01); /* positive, 16 significant bytes */
  BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
  int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok ? 0 : -1;
}

static int fill_cert(X509 *x, EVP_PKEY *pkey, const char *san) {
  X509_NAME *name = X509_get_subject_name(x);
  if (!X509_set_version(x, 2) || set_serial(x) < 0) return -1;
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL))
    return -1;
  if (!X509_set_pubkey(x, pkey) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)CERT_CN, -1, -1,
                                  0) ||
      !X509_set_issuer_name(x, name))
    return -1;
  if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
      add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
      add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
      add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
      add_ext(x, NID_authority_key_identifier, "keyid:always") < 0 ||
      add_ext(x, NID_subject_alt_name, san) < 0)
    return -1;
  return X509_sign(x, pkey, EVP_sha256()) > 0 ? 0 : -1;
}

/* Writes one PEM object to a temp file and renames it over `path`. */
static int write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
  char tmp[4200];
  int fd = open_temp(path, tmp, sizeof tmp);
  if (fd < 0) return fd;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
    return -EIO;
  }
  int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  ok = ok && fflush(f) == 0 && fsync(fd) == 0;
  ok = (fclose(f) == 0) && ok;
  if (ok && rename(tmp, path) == 0) return 0;
  unlink(tmp);
  return -EIO;
}

static int generate_pair(const char *cert_path, const char *key_path, const char *host) {
  char san[SAN_MAX], entry[SAN_HOST_MAX + 8];
  int rc = -EIO;
  san_entry(entry, sizeof entry, host);
  snprintf(san, sizeof san, "IP:127.0.0.1,IP:::1,DNS:localhost%s", entry);
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *x = X509_new();
  if (pkey && x && fill_cert(x, pkey, san) == 0) {
    /* Key first: a cert.pem never exists without its key.pem. */
    rc = write_pem(key_path, NULL, pkey);
    if (rc == 0) rc = write_pem(cert_path, x, NULL);
  }
  X509_free(x);
  EVP_PKEY_free(pkey);
  return rc;
}

int sc_statedir_tls_pair(const char *dir, const char *public_host, char *cert_path,
                         size_t cert_size, char *key_path, size_t key_size, int *created) {
  char lock_path[4096];
  if (!dir || !cert_path || !key_path) return -EINVAL;
  if (created) *created = 0;
  int rc = join_path(cert_path, cert_size, dir, "cert.pem");
  if (rc == 0) rc = join_path(key_path, key_size, dir, "key.pem");
  if (rc == 0) rc = join_path(lock_path, sizeof lock_path, dir, ".tls.lock");
  if (rc < 0) return rc;
  /* Two starts on one state dir must not interleave their renames and end
   * up with a cert from one and a key from the other. */
  int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lfd < 0) return -errno;
  while ((rc = flock(lfd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (rc != 0) rc = -errno;
  if (rc == 0 && (access(cert_path, F_OK) != 0 || access(key_path, F_OK) != 0)) {
    rc = generate_pair(cert_path, key_path, public_host);
    if (rc == 0 && created) *created = 1;
  }
  close(lfd); /* releases the lock */
  return rc;
}
