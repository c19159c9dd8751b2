/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-tls.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
ar_web_write_private_file(const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s", tmp,
                g_strerror(errno));
    return FALSE;
  }
  gsize done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      g_unlink(tmp);
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write %s: %s", tmp,
                  g_strerror(e));
      return FALSE;
    }
    done += (gsize)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || g_rename(tmp, path) != 0) {
    int e = errno;
    g_unlink(tmp);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

static char *
bio_string(BIO *bio, gsize *len)
{
  char *p = NULL;
  long n = BIO_get_mem_data(bio, &p);
  if (n <= 0)
    return NULL;
  *len = (gsize)n;
  return g_strndup(p, (gsize)n);
}

static gboolean
add_ext(X509 *cert, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext)
    return FALSE;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

static gboolean
set_serial(X509 *cert, const guchar *serial, gsize len)
{
  BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
  gboolean ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
  BN_free(bn);
  return ok;
}

static gboolean
create_cert(const char *cert_path, const char *key_path, const char *const *names, GError **error)
{
  gboolean ok = FALSE;
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  BIO *kbio = BIO_new(BIO_s_mem()), *cbio = BIO_new(BIO_s_mem());
  g_autoptr(GString) san = g_string_new("DNS:localhost,IP:127.0.0.1,IP:::1");
  for (gsize i = 0; names && names[i]; i++) {
    const char *n = names[i];
    if (!*n || strlen(n) > 253 || strchr(n, ',') || g_str_equal(n, "localhost") ||
        g_str_equal(n, "127.0.0.1") || g_str_equal(n, "::1") || g_str_equal(n, "0.0.0.0"))
      continue;
    g_string_append_printf(san, ",%s:%s", g_hostname_is_ip_address(n) ? "IP" : "DNS", n);
  }
  char *kpem = NULL, *cpem = NULL;
  gsize klen = 0, clen = 0;
  guchar serial[16];
  if (!key || !cert || !kbio || !cbio || RAND_bytes(serial, sizeof serial) != 1)
    goto out;
  serial[0] &= 0x7f;
  if (!set_serial(cert, serial, sizeof serial))
    goto out;
  X509_NAME *name = X509_get_subject_name(cert);
  if (X509_set_version(cert, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600) ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const guchar *)"Anyroom", -1, -1, 0) !=
          1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const guchar *)"anyroom admin", -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1 || X509_set_pubkey(cert, key) != 1 ||
      !add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
      !add_ext(cert, NID_subject_alt_name, san->str) || X509_sign(cert, key, EVP_sha256()) <= 0)
    goto out;
  if (PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
      PEM_write_bio_X509(cbio, cert) != 1)
    goto out;
  kpem = bio_string(kbio, &klen);
  cpem = bio_string(cbio, &clen);
  if (!kpem || !cpem)
    goto out;
  /* The key first: a certificate without its key is never left behind. */
  ok = ar_web_write_private_file(key_path, kpem, klen, error) &&
       ar_web_write_private_file(cert_path, cpem, clen, error);
  if (!ok)
    goto out_quiet;
out:
  if (!ok && error && !*error)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make the admin TLS certificate");
out_quiet:
  if (kpem)
    OPENSSL_cleanse(kpem, klen);
  g_free(kpem);
  g_free(cpem);
  EVP_PKEY_free(key);
  X509_free(cert);
  BIO_free(kbio);
  BIO_free(cbio);
  return ok;
}

GTlsCertificate *
ar_web_tls_load_or_create(const char *dir, const char *const *names, GError **error)
{
  g_autofree char *cert_path = g_build_filename(dir, "admin-cert.pem", NULL);
  g_autofree char *key_path = g_build_filename(dir, "admin-key.pem", NULL);
  gboolean have_cert = g_file_test(cert_path, G_FILE_TEST_IS_REGULAR);
  gboolean have_key = g_file_test(key_path, G_FILE_TEST_IS_REGULAR);
  if (!have_cert || !have_key) {
    if (!create_cert(cert_path, key_path, names, error))
      return NULL;
    g_message("admin: made a self-signed TLS certificate in %s", dir);
  }
  struct stat st;
  if (stat(key_path, &st) == 0 && (st.st_mode & 0077) != 0) {
    g_warning("admin: %s was readable by others; set to 0600", key_path);
    if (chmod(key_path, 0600) != 0) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s", key_path,
                  g_strerror(errno));
      return NULL;
    }
  }
  return g_tls_certificate_new_from_files(cert_path, key_path, error);
}

char *
ar_web_tls_fingerprint(GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;
  g_object_get(cert, "certificate", &der, NULL);
  if (!der)
    return NULL;
  guchar digest[32];
  gsize len = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, der->data, der->len);
  g_checksum_get_digest(sum, digest, &len);
  GString *s = g_string_new(NULL);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf(s, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free(s, FALSE);
}

/* ---- the TLS policy ---- */

#define PRIORITY_ENV "G_TLS_GNUTLS_PRIORITY"

gboolean
ar_web_tls_check_priority(const char *priority, GError **error)
{
  gnutls_priority_t prio = NULL;
  const char *where = NULL;
  int ret = gnutls_priority_init2(&prio, priority, &where, 0);
  if (ret != GNUTLS_E_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "GnuTLS %s refuses the TLS priority string at '%.40s': %s",
                gnutls_check_version(NULL), where ? where : "", gnutls_strerror(ret));
    return FALSE;
  }
  const unsigned int *list = NULL;
  int n = gnutls_priority_protocol_list(prio, &list);
  gboolean ok = n > 0;
  for (int i = 0; ok && i < n; i++)
    ok = list[i] == GNUTLS_TLS1_2 || list[i] == GNUTLS_TLS1_3;
  if (!ok) {
    gnutls_priority_deinit(prio);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "the TLS priority string allows a protocol other than TLS 1.2 and 1.3");
    return FALSE;
  }
  n = gnutls_priority_cipher_list(prio, &list);
  ok = n > 0;
  for (int i = 0; ok && i < n; i++)
    ok = list[i] == GNUTLS_CIPHER_AES_128_GCM || list[i] == GNUTLS_CIPHER_AES_256_GCM ||
         list[i] == GNUTLS_CIPHER_CHACHA20_POLY1305;
  gnutls_priority_deinit(prio);
  if (!ok) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "the TLS priority string allows a cipher other than AES-GCM and "
                "ChaCha20-Poly1305");
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_web_tls_init_policy(char **ignored, GError **error)
{
  if (!ar_web_tls_check_priority(AR_WEB_TLS_PRIORITY, error))
    return FALSE;
  /* Not a knob: a value left in a unit file or a shell would otherwise
   * weaken every connection without a word. */
  const char *before = g_getenv(PRIORITY_ENV);
  char *was = before && !g_str_equal(before, AR_WEB_TLS_PRIORITY) ? g_strdup(before) : NULL;
  if (!g_setenv(PRIORITY_ENV, AR_WEB_TLS_PRIORITY, TRUE)) {
    g_free(was);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot set %s", PRIORITY_ENV);
    return FALSE;
  }
  /* The variable is glib-networking's GnuTLS backend's: another backend
   * (GIO_USE_TLS) would not read it. No TLS at all is fine (nothing to
   * weaken): the admin server then fails to start with its own message. */
  GTlsBackend *backend = g_tls_backend_get_default();
  const char *type = G_OBJECT_TYPE_NAME(backend);
  if (g_tls_backend_supports_tls(backend) && !g_str_equal(type, "GTlsBackendGnutls")) {
    g_free(was);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "the TLS backend is %s, not glib-networking's GnuTLS: the TLS policy (TLS 1.2 "
                "minimum, AEAD only) cannot be enforced",
                type);
    return FALSE;
  }
  if (ignored)
    *ignored = was;
  else
    g_free(was);
  return TRUE;
}
