/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-fingerprint.c: DTLS certificate fingerprints (RFC 8122 a=fingerprint).
 *
 * webrtcbin does not check that the certificate the remote peer presents in
 * the DTLS handshake is the one its SDP announced; without this check anyone
 * on the path can terminate DTLS-SRTP. Everything here takes untrusted input
 * (SDP from the network, a certificate from the handshake): it never asserts
 * and bounds every size.
 */
#include "ar-media-priv.h"

#include <string.h>

#define AR_FP_MAX_LINE 512 /* longest a=fingerprint line we accept */
#define AR_FP_MAX_COUNT 32 /* distinct fingerprints in one SDP */
#define AR_PEM_MAX_SIZE (64 * 1024)

typedef struct {
  const char *name; /* as in SDP, lowercase */
  GChecksumType type;
  gsize digest_len;
} ArHashAlgorithm;

static const ArHashAlgorithm ar_hash_algorithms[] = {
    {"sha-1", G_CHECKSUM_SHA1, 20},
    {"sha-256", G_CHECKSUM_SHA256, 32},
    {"sha-384", G_CHECKSUM_SHA384, 48},
    {"sha-512", G_CHECKSUM_SHA512, 64},
};

static const ArHashAlgorithm *
ar_hash_lookup(const char *name, gsize len)
{
  for (gsize i = 0; i < G_N_ELEMENTS(ar_hash_algorithms); i++) {
    const ArHashAlgorithm *a = &ar_hash_algorithms[i];

    if (strlen(a->name) == len && g_ascii_strncasecmp(a->name, name, len) == 0)
      return a;
  }
  return NULL;
}

/* Parses "AB:CD:..." (case-insensitive) of exactly @digest_len bytes into
 * normalized uppercase. Returns NULL if malformed. */
static char *
ar_normalize_hex(const char *s, gsize len, gsize digest_len)
{
  g_autoptr(GString) out = NULL;

  if (len != digest_len * 3 - 1)
    return NULL;
  out = g_string_sized_new(len + 1);
  for (gsize i = 0; i < len; i++) {
    char c = s[i];

    if (i % 3 == 2) {
      if (c != ':')
        return NULL;
      g_string_append_c(out, ':');
    } else {
      if (!g_ascii_isxdigit(c))
        return NULL;
      g_string_append_c(out, g_ascii_toupper(c));
    }
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Parses the value of one a=fingerprint attribute ("sha-256 AB:CD..."). */
static char *
ar_parse_fingerprint_value(const char *value, gsize len, GError **error)
{
  gsize i = 0, alg_start, alg_len, fp_start, fp_len;
  const ArHashAlgorithm *alg;
  g_autofree char *hex = NULL;

  while (i < len && (value[i] == ' ' || value[i] == '\t'))
    i++;
  alg_start = i;
  while (i < len && value[i] != ' ' && value[i] != '\t')
    i++;
  alg_len = i - alg_start;
  while (i < len && (value[i] == ' ' || value[i] == '\t'))
    i++;
  fp_start = i;
  while (i < len && value[i] != ' ' && value[i] != '\t')
    i++;
  fp_len = i - fp_start;
  while (i < len && (value[i] == ' ' || value[i] == '\t'))
    i++;

  if (alg_len == 0 || fp_len == 0 || i != len) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "Malformed a=fingerprint (expected \"<hash> <hex:hex:...>\")");
    return NULL;
  }
  alg = ar_hash_lookup(value + alg_start, alg_len);
  if (alg == NULL) {
    g_autofree char *shown = g_strndup(value + alg_start, MIN(alg_len, (gsize)16));

    g_strcanon(shown, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", '?');
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "Unsupported a=fingerprint hash '%s' (sha-1, sha-256, sha-384, sha-512)", shown);
    return NULL;
  }
  hex = ar_normalize_hex(value + fp_start, fp_len, alg->digest_len);
  if (hex == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "Malformed %s a=fingerprint (expected %" G_GSIZE_FORMAT
                " hex bytes separated by ':')",
                alg->name, alg->digest_len);
    return NULL;
  }
  return g_strdup_printf("%s %s", alg->name, hex);
}

char **
ar_sdp_get_fingerprints(const char *sdp, GError **error)
{
  static const char prefix[] = "a=fingerprint:";
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
  const char *p;
  gsize total;

  if (sdp == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "No SDP");
    return NULL;
  }
  total = strnlen(sdp, AR_MEDIA_MAX_SDP_SIZE + 1);
  if (total > AR_MEDIA_MAX_SDP_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "SDP larger than %d bytes",
                AR_MEDIA_MAX_SDP_SIZE);
    return NULL;
  }

  p = sdp;
  while (p < sdp + total) {
    const char *eol = memchr(p, '\n', (sdp + total) - p);
    const char *end = eol != NULL ? eol : sdp + total;
    gsize len = end - p;

    if (len > 0 && p[len - 1] == '\r')
      len--;
    if (len >= sizeof(prefix) - 1 && g_ascii_strncasecmp(p, prefix, sizeof(prefix) - 1) == 0) {
      const char *value = p + sizeof(prefix) - 1;
      gsize value_len = len - (sizeof(prefix) - 1);
      g_autofree char *fp = NULL;
      gboolean dup = FALSE;

      if (len > AR_FP_MAX_LINE) {
        g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                    "a=fingerprint line too long (%" G_GSIZE_FORMAT " bytes)", len);
        return NULL;
      }
      fp = ar_parse_fingerprint_value(value, value_len, error);
      if (fp == NULL)
        return NULL;
      for (guint i = 0; i < found->len && !dup; i++)
        dup = g_str_equal(g_ptr_array_index(found, i), fp);
      if (!dup) {
        if (found->len >= AR_FP_MAX_COUNT) {
          g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                      "More than %d distinct a=fingerprint values", AR_FP_MAX_COUNT);
          return NULL;
        }
        g_ptr_array_add(found, g_steal_pointer(&fp));
      }
    }
    if (eol == NULL)
      break;
    p = eol + 1;
  }

  if (found->len == 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "SDP has no a=fingerprint (DTLS-SRTP requires one)");
    return NULL;
  }
  g_ptr_array_add(found, NULL);
  return (char **)g_ptr_array_free(g_steal_pointer(&found), FALSE);
}

gboolean
ar_fingerprint_split(const char *fingerprint, char **algorithm, char **value)
{
  const char *space;

  if (fingerprint == NULL || (space = strchr(fingerprint, ' ')) == NULL || space == fingerprint ||
      space[1] == '\0')
    return FALSE;
  if (algorithm != NULL)
    *algorithm = g_strndup(fingerprint, space - fingerprint);
  if (value != NULL)
    *value = g_strdup(space + 1);
  return TRUE;
}

/* Checks that @der is one DER SEQUENCE whose length covers it exactly. */
static gboolean
ar_der_is_sequence(const guint8 *der, gsize len)
{
  gsize body, hdr;

  if (len < 2 || der[0] != 0x30)
    return FALSE;
  if (der[1] < 0x80) {
    body = der[1];
    hdr = 2;
  } else {
    gsize n = der[1] & 0x7f;

    if (n == 0 || n > 4 || len < 2 + n)
      return FALSE;
    body = 0;
    for (gsize i = 0; i < n; i++)
      body = (body << 8) | der[2 + i];
    hdr = 2 + n;
  }
  return hdr + body == len;
}

/* Decodes the first CERTIFICATE block of a PEM string into DER. */
static GBytes *
ar_pem_to_der(const char *pem, GError **error)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----";
  static const char end_marker[] = "-----END CERTIFICATE-----";
  const char *start, *end;
  g_autoptr(GString) b64 = NULL;
  g_autofree guchar *der = NULL;
  gsize der_len = 0;
  gsize pem_len;

  if (pem == NULL || *pem == '\0') {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT, "No certificate");
    return NULL;
  }
  pem_len = strnlen(pem, AR_PEM_MAX_SIZE + 1);
  if (pem_len > AR_PEM_MAX_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Certificate larger than %d bytes", AR_PEM_MAX_SIZE);
    return NULL;
  }
  start = g_strstr_len(pem, pem_len, begin);
  if (start == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Not a PEM certificate (no BEGIN CERTIFICATE line)");
    return NULL;
  }
  start += sizeof(begin) - 1;
  end = g_strstr_len(start, pem_len - (start - pem), end_marker);
  if (end == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Truncated PEM certificate (no END CERTIFICATE line)");
    return NULL;
  }

  b64 = g_string_sized_new(end - start);
  for (const char *p = start; p < end; p++) {
    if (g_ascii_isalnum(*p) || *p == '+' || *p == '/' || *p == '=') {
      g_string_append_c(b64, *p);
    } else if (!g_ascii_isspace(*p)) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                  "Malformed PEM certificate (invalid base64)");
      return NULL;
    }
  }
  if (b64->len == 0 || b64->len % 4 != 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Malformed PEM certificate (base64 length)");
    return NULL;
  }
  /* '=' may only end the data. */
  {
    const char *pad = strchr(b64->str, '=');

    if (pad != NULL && (b64->str + b64->len - pad > 2 || strspn(pad, "=") != strlen(pad))) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                  "Malformed PEM certificate (base64 padding)");
      return NULL;
    }
  }
  der = g_base64_decode(b64->str, &der_len);
  if (der == NULL || !ar_der_is_sequence(der, der_len)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Malformed certificate (not a DER SEQUENCE)");
    return NULL;
  }
  return g_bytes_new_take(g_steal_pointer(&der), der_len);
}

char *
ar_certificate_fingerprint(const char *pem, const char *algorithm, GError **error)
{
  const ArHashAlgorithm *alg;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GChecksum) sum = NULL;
  guint8 digest[64];
  gsize digest_len = sizeof(digest);
  g_autoptr(GString) out = NULL;

  alg = algorithm != NULL ? ar_hash_lookup(algorithm, strlen(algorithm)) : NULL;
  if (alg == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Unsupported fingerprint hash (sha-1, sha-256, sha-384, sha-512)");
    return NULL;
  }
  der = ar_pem_to_der(pem, error);
  if (der == NULL)
    return NULL;

  sum = g_checksum_new(alg->type);
  g_checksum_update(sum, g_bytes_get_data(der, NULL), g_bytes_get_size(der));
  g_checksum_get_digest(sum, digest, &digest_len);
  if (digest_len != alg->digest_len) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Unexpected %s digest length",
                alg->name);
    return NULL;
  }

  out = g_string_new(alg->name);
  g_string_append_c(out, ' ');
  for (gsize i = 0; i < digest_len; i++)
    g_string_append_printf(out, "%s%02X", i > 0 ? ":" : "", digest[i]);
  return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean
ar_fingerprint_verify(const char *pem, const char *const *fingerprints, GError **error)
{
  g_autoptr(GError) cert_error = NULL;
  g_autofree char *got = NULL;
  const char *expected = NULL;

  if (fingerprints == NULL || fingerprints[0] == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "No SDP fingerprint to verify the DTLS certificate of the remote peer against");
    return FALSE;
  }
  for (gsize i = 0; fingerprints[i] != NULL && i < AR_FP_MAX_COUNT; i++) {
    g_autofree char *alg = NULL;
    g_autofree char *computed = NULL;

    if (!ar_fingerprint_split(fingerprints[i], &alg, NULL))
      continue;
    if (expected == NULL)
      expected = fingerprints[i];
    computed = ar_certificate_fingerprint(pem, alg, cert_error == NULL ? &cert_error : NULL);
    if (computed == NULL)
      continue;
    if (g_ascii_strcasecmp(computed, fingerprints[i]) == 0)
      return TRUE;
    if (got == NULL)
      got = g_steal_pointer(&computed);
  }

  if (got == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
                "Cannot verify the DTLS certificate of the remote peer: %s",
                cert_error != NULL ? cert_error->message : "no usable SDP fingerprint");
    return FALSE;
  }
  g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT,
              "DTLS certificate of the remote peer does not match the SDP fingerprint "
              "(expected %s, got %s)",
              expected, got);
  return FALSE;
}
