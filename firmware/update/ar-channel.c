/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-channel.c: update channel manifests (ar-channel.h). Untrusted input
 * throughout: the signed file comes from any web server or CDN, and the JSON
 * is read only after its signature verified. Fuzzed (tests/fuzz/fuzz-channel.c).
 */
#include "ar-channel.h"

#include <json-glib/json-glib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <string.h>

#include "ar-json.h"

G_DEFINE_QUARK(ar - channel - error - quark, ar_channel_error)

struct _ArChannelKeyring {
  STACK_OF(X509) * certs;
};

/* ---- errors ---- */

/* Pops OpenSSL's error queue (this thread's) and returns its last entry as
 * "reason" or "reason: data" (e.g. "certificate verify error: Verify error:
 * unable to get local issuer certificate"), as RAUC reports it. */
static char *
openssl_reason(void)
{
  char reason[256] = "";
  const char *data = NULL;
  int flags = 0;
  unsigned long e, last = 0;
  g_autofree char *last_data = NULL;
  while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
    last = e;
    g_clear_pointer(&last_data, g_free);
    if (data && (flags & ERR_TXT_STRING) && *data)
      last_data = g_strndup(data, 200);
  }
  if (last == 0)
    return g_strdup("unknown reason");
  const char *r = ERR_reason_error_string(last);
  if (r)
    g_strlcpy(reason, r, sizeof reason);
  else
    ERR_error_string_n(last, reason, sizeof reason);
  return last_data ? g_strdup_printf("%s: %s", reason, last_data) : g_strdup(reason);
}

/* ---- keyring ---- */

ArChannelKeyring *
ar_channel_keyring_new(const char *pem, gsize len, GError **error)
{
  if (!pem || len == 0 || len > 1024 * 1024) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_KEYRING,
                "the keyring must be a PEM file of at most 1 MiB");
    return NULL;
  }
  ERR_clear_error();
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509) *certs = sk_X509_new_null();
  X509 *cert;
  while (bio && certs && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(certs, cert)) {
      X509_free(cert);
      break;
    }
  }
  BIO_free(bio);
  ERR_clear_error(); /* the end of the PEM is an "error" too */
  if (!certs || sk_X509_num(certs) == 0) {
    sk_X509_pop_free(certs, X509_free);
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_KEYRING,
                "the keyring holds no PEM certificate");
    return NULL;
  }
  ArChannelKeyring *keyring = g_new0(ArChannelKeyring, 1);
  keyring->certs = certs;
  return keyring;
}

void
ar_channel_keyring_free(ArChannelKeyring *keyring)
{
  if (!keyring)
    return;
  sk_X509_pop_free(keyring->certs, X509_free);
  g_free(keyring);
}

/* ---- signature ---- */

GBytes *
ar_signed_verify(const guint8 *data, gsize len, const ArSignedKind *kind,
                 const ArChannelKeyring *keyring, gint64 now, GError **error)
{
  g_return_val_if_fail(keyring != NULL && kind != NULL, NULL);
  if (len == 0 || len > kind->max) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID,
                "a %s must be 1 to %" G_GSIZE_FORMAT " bytes (this one is %" G_GSIZE_FORMAT ")",
                kind->file, kind->max, len);
    return NULL;
  }
  gsize i = 0;
  while (i < len && g_ascii_isspace(data[i]))
    i++;
  if (i < len && data[i] == '{') {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED,
                "the %s is not signed (plain JSON; sign it with %s)", kind->content, kind->signer);
    return NULL;
  }
  ERR_clear_error();
  const unsigned char *p = data;
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
  if (!cms || p != data + len) {
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED,
                "not a signed %s (expected a DER CMS SignedData)", kind->file);
    return NULL;
  }
  GBytes *out = NULL;
  X509_STORE *store = NULL;
  BIO *content = NULL;
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED,
                "not a signed %s (CMS but not SignedData)", kind->file);
    goto out;
  }
  ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
  if (!pos || !*pos || ASN1_STRING_length(*pos) <= 0) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED,
                "the signed %s holds no %s (a detached signature?)", kind->file, kind->content);
    goto out;
  }
  STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms);
  if (!signers || sk_CMS_SignerInfo_num(signers) == 0) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED, "the %s has no signature",
                kind->file);
    goto out;
  }
  store = X509_STORE_new();
  if (!store)
    goto oom;
  for (int k = 0; k < sk_X509_num(keyring->certs); k++)
    if (!X509_STORE_add_cert(store, sk_X509_value(keyring->certs, k)))
      goto oom;
  /* The device's clock as given (certificate validity); the purpose is CMS_verify's
   * default, S/MIME signing, as RAUC checks its bundles unless configured otherwise. */
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)now);
  content = BIO_new(BIO_s_mem());
  if (!content)
    goto oom;
  if (CMS_verify(cms, NULL, store, NULL, content, CMS_BINARY) != 1) {
    g_autofree char *why = openssl_reason();
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_SIGNATURE,
                "signature verification failed: %s", why);
    goto out;
  }
  char *bytes = NULL;
  long n = BIO_get_mem_data(content, &bytes);
  if (n <= 0 || (gsize)n > kind->max) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_UNSIGNED, "the signed %s holds no %s",
                kind->file, kind->content);
    goto out;
  }
  out = g_bytes_new(bytes, (gsize)n);
  goto out;
oom:
  g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_SIGNATURE,
              "signature verification failed: out of memory");
out:
  ERR_clear_error();
  BIO_free(content);
  X509_STORE_free(store);
  CMS_ContentInfo_free(cms);
  return out;
}

GBytes *
ar_channel_verify(const guint8 *data, gsize len, const ArChannelKeyring *keyring, gint64 now,
                  GError **error)
{
  static const ArSignedKind channel = {.file = "channel file",
                                       .content = "manifest",
                                       .signer = "rootfs/keys/sign-manifest.sh",
                                       .max = AR_CHANNEL_MAX_FILE};
  return ar_signed_verify(data, len, &channel, keyring, now, error);
}

/* ---- the manifest's JSON ---- */

static void
bundle_free(gpointer p)
{
  ArChannelBundle *b = p;
  g_free(b->compatible);
  g_free(b->url);
  g_free(b);
}

static void
release_free(gpointer p)
{
  ArChannelRelease *r = p;
  g_free(r->version);
  if (r->bundles)
    g_ptr_array_unref(r->bundles);
  g_free(r);
}

void
ar_channel_manifest_free(ArChannelManifest *manifest)
{
  if (!manifest)
    return;
  g_free(manifest->channel);
  if (manifest->releases)
    g_ptr_array_unref(manifest->releases);
  g_free(manifest);
}

static gboolean G_GNUC_PRINTF(3, 4) invalid(GError **error, const char *where, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  /* Names and values from the file may hold escaped control characters: one line. */
  for (char *p = what; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      *p = '?';
  g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID, "%s: %s", where, what);
  return FALSE;
}

/* Refuses members other than @allowed (NULL-terminated). */
static gboolean
only_members(JsonObject *obj, const char *const *allowed, const char *where, GError **error)
{
  g_autoptr(GList) names = json_object_get_members(obj);
  for (GList *l = names; l; l = l->next) {
    if (!g_strv_contains(allowed, l->data)) {
      g_autofree char *shown = g_strndup(l->data, 40);
      return invalid(error, where, "unknown member \"%s\"%s", shown,
                     strlen(l->data) > 40 ? "..." : "");
    }
  }
  return TRUE;
}

/* @name's value node, or NULL (then an error if @required). */
static JsonNode *
member(JsonObject *obj, const char *name, gboolean required, const char *where, GError **error)
{
  JsonNode *n = json_object_get_member(obj, name);
  if (!n && required)
    invalid(error, where, "\"%s\" is missing", name);
  return n;
}

static gboolean
get_string(JsonObject *obj, const char *name, gsize max, const char *where, const char **out,
           GError **error)
{
  JsonNode *n = member(obj, name, TRUE, where, error);
  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return invalid(error, where, "\"%s\" must be a string", name);
  const char *s = json_node_get_string(n);
  gsize len = strlen(s);
  if (len == 0 || len > max)
    return invalid(error, where, "\"%s\" must be 1 to %" G_GSIZE_FORMAT " characters", name, max);
  *out = s;
  return TRUE;
}

static gboolean
get_int(JsonObject *obj, const char *name, gint64 min, gint64 max, const char *where, gint64 *out,
        GError **error)
{
  JsonNode *n = member(obj, name, TRUE, where, error);
  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return invalid(error, where, "\"%s\" must be an integer", name);
  gint64 v = json_node_get_int(n);
  if (v < min || v > max)
    return invalid(error, where,
                   "\"%s\" is %" G_GINT64_FORMAT ", not within %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT,
                   name, v, min, max);
  *out = v;
  return TRUE;
}

/* A percentage 0..100 (integer or fraction); @dflt when absent and not required. */
static gboolean
get_percent(JsonObject *obj, const char *name, gboolean required, double dflt, const char *where,
            double *out, GError **error)
{
  JsonNode *n = member(obj, name, required, where, error);
  if (!n) {
    if (required)
      return FALSE;
    *out = dflt;
    return TRUE;
  }
  double v;
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
    v = (double)json_node_get_int(n);
  else if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE)
    v = json_node_get_double(n);
  else
    return invalid(error, where, "\"%s\" must be a number", name);
  if (!(v >= 0.0 && v <= 100.0))
    return invalid(error, where, "\"%s\" must be within 0..100", name);
  *out = v;
  return TRUE;
}

static JsonObject *
get_object(JsonObject *obj, const char *name, const char *where, GError **error)
{
  JsonNode *n = member(obj, name, TRUE, where, error);
  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(n)) {
    invalid(error, where, "\"%s\" must be an object", name);
    return NULL;
  }
  return json_node_get_object(n);
}

/* RFC 3339 with seconds and an explicit offset: 2026-12-01T10:00:00Z,
 * 2026-12-01T11:00:00.5+01:00. GLib's ISO 8601 reader takes more forms. */
static gboolean
parse_time(JsonObject *obj, const char *name, const char *where, gint64 *out, GError **error)
{
  const char *s;
  if (!get_string(obj, name, 40, where, &s, error))
    return FALSE;
  static const char shape[] = "dddd-dd-ddTdd:dd:dd";
  gsize len = strlen(s), i = 0;
  gboolean ok = len >= sizeof shape; /* the shape and at least "Z" */
  for (; ok && i < sizeof shape - 1; i++)
    ok = shape[i] == 'd' ? g_ascii_isdigit(s[i]) : s[i] == shape[i];
  if (ok && s[i] == '.') {
    gsize digits = 0;
    for (i++; g_ascii_isdigit(s[i]); i++)
      digits++;
    ok = digits > 0 && digits <= 9;
  }
  if (ok) {
    const char *z = s + i;
    ok = strcmp(z, "Z") == 0 ||
         ((z[0] == '+' || z[0] == '-') && g_ascii_isdigit(z[1]) && g_ascii_isdigit(z[2]) &&
          z[3] == ':' && g_ascii_isdigit(z[4]) && g_ascii_isdigit(z[5]) && z[6] == '\0');
  }
  g_autoptr(GDateTime) dt = ok ? g_date_time_new_from_iso8601(s, NULL) : NULL;
  if (!dt)
    return invalid(error, where, "\"%s\" must be an RFC 3339 time like 2026-12-01T10:00:00Z", name);
  *out = g_date_time_to_unix(dt);
  return TRUE;
}

static gboolean
valid_channel_name(const char *s)
{
  if (!g_ascii_isalnum(s[0]))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
valid_compatible(const char *s, gsize len)
{
  if (len == 0 || len > AR_CHANNEL_MAX_COMPATIBLE)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar)s[i] <= ' ' || (guchar)s[i] >= 0x7f)
      return FALSE;
  return TRUE;
}

static ArChannelBundle *
parse_bundle(const char *compatible, JsonNode *node, const char *where, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    invalid(error, where, "must be an object");
    return NULL;
  }
  JsonObject *obj = json_node_get_object(node);
  static const char *const allowed[] = {"url", "size", "sha256", NULL};
  const char *url, *sha;
  gint64 size;
  if (!only_members(obj, allowed, where, error) ||
      !get_string(obj, "url", 2048, where, &url, error))
    return NULL;
  g_autoptr(GError) url_error = NULL;
  if (!ar_update_check_url(url, &url_error)) {
    invalid(error, where, "\"url\": %s", url_error->message);
    return NULL;
  }
  if (!get_int(obj, "size", 1, (gint64)AR_CHANNEL_MAX_BUNDLE_SIZE, where, &size, error) ||
      !get_string(obj, "sha256", 64, where, &sha, error))
    return NULL;
  gboolean hex = strlen(sha) == 64;
  for (gsize i = 0; hex && i < 64; i++)
    hex = g_ascii_isxdigit(sha[i]);
  if (!hex) {
    invalid(error, where, "\"sha256\" must be 64 hexadecimal digits");
    return NULL;
  }
  ArChannelBundle *b = g_new0(ArChannelBundle, 1);
  b->compatible = g_strdup(compatible);
  b->url = g_strdup(url);
  b->size = (guint64)size;
  for (gsize i = 0; i < 64; i++)
    b->sha256[i] = g_ascii_tolower(sha[i]);
  return b;
}

static ArChannelRelease *
parse_release(JsonNode *node, const char *where, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    invalid(error, where, "must be an object");
    return NULL;
  }
  JsonObject *obj = json_node_get_object(node);
  static const char *const allowed[] = {"version", "bundles", "rollout", NULL};
  const char *version;
  if (!only_members(obj, allowed, where, error) ||
      !get_string(obj, "version", AR_VERSION_MAX_LEN, where, &version, error))
    return NULL;
  g_autoptr(GError) verror = NULL;
  ArVersion parsed;
  if (!ar_version_parse(version, strlen(version), &parsed, &verror)) {
    invalid(error, where, "\"version\": %s", verror->message);
    return NULL;
  }
  g_autoptr(GPtrArray) bundles = g_ptr_array_new_with_free_func(bundle_free);
  JsonObject *bobj = get_object(obj, "bundles", where, error);
  if (!bobj)
    return NULL;
  guint nb = json_object_get_size(bobj);
  if (nb == 0 || nb > AR_CHANNEL_MAX_BUNDLES) {
    invalid(error, where, "\"bundles\" must have 1 to %d boards", AR_CHANNEL_MAX_BUNDLES);
    return NULL;
  }
  g_autoptr(GList) names = json_object_get_members(bobj);
  for (GList *l = names; l; l = l->next) {
    const char *compatible = l->data;
    if (!valid_compatible(compatible, strlen(compatible))) {
      invalid(error, where, "a board's compatible must be 1 to %d printable characters",
              AR_CHANNEL_MAX_COMPATIBLE);
      return NULL;
    }
    g_autofree char *bwhere = g_strdup_printf("%s.bundles[\"%s\"]", where, compatible);
    ArChannelBundle *b =
        parse_bundle(compatible, json_object_get_member(bobj, compatible), bwhere, error);
    if (!b)
      return NULL;
    g_ptr_array_add(bundles, b);
  }
  g_autofree char *rwhere = g_strdup_printf("%s.rollout", where);
  JsonObject *robj = get_object(obj, "rollout", where, error);
  if (!robj)
    return NULL;
  static const char *const rallowed[] = {"start", "percent_start", "percent_per_day", "paused",
                                         NULL};
  ArChannelRelease r = {0};
  if (!only_members(robj, rallowed, rwhere, error) ||
      !parse_time(robj, "start", rwhere, &r.rollout_start, error) ||
      !get_percent(robj, "percent_start", TRUE, 0, rwhere, &r.percent_start, error) ||
      !get_percent(robj, "percent_per_day", FALSE, 0, rwhere, &r.percent_per_day, error))
    return NULL;
  JsonNode *paused = json_object_get_member(robj, "paused");
  if (paused) {
    if (!JSON_NODE_HOLDS_VALUE(paused) || json_node_get_value_type(paused) != G_TYPE_BOOLEAN) {
      invalid(error, rwhere, "\"paused\" must be true or false");
      return NULL;
    }
    r.paused = json_node_get_boolean(paused);
  }
  ArChannelRelease *out = g_new0(ArChannelRelease, 1);
  *out = r;
  out->version = g_strdup(version);
  out->parsed = parsed;
  out->bundles = g_steal_pointer(&bundles);
  return out;
}

ArChannelManifest *
ar_channel_parse(const char *json, gsize len, GError **error)
{
  if (!json || len == 0 || len > AR_CHANNEL_MAX_FILE) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID,
                "a manifest must be 1 to %d bytes", AR_CHANNEL_MAX_FILE);
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  if (!ar_json_check(json, len, AR_CHANNEL_MAX_DEPTH, &local)) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID, "the manifest is not JSON: %s",
                local->message);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, json, (gssize)len, &local)) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID, "the manifest is not JSON: %s",
                local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    invalid(error, "manifest", "must be a JSON object");
    return NULL;
  }
  JsonObject *obj = json_node_get_object(root);
  static const char *const allowed[] = {"format",  "channel",  "serial", "issued",
                                        "expires", "releases", NULL};
  gint64 format;
  if (!only_members(obj, allowed, "manifest", error) ||
      !get_int(obj, "format", G_MININT64, G_MAXINT64, "manifest", &format, error))
    return NULL;
  if (format != 1) {
    invalid(error, "manifest", "format %" G_GINT64_FORMAT " is not known to this firmware (1 is)",
            format);
    return NULL;
  }
  g_autoptr(ArChannelManifest) m = g_new0(ArChannelManifest, 1);
  const char *channel;
  if (!get_string(obj, "channel", AR_CHANNEL_MAX_NAME, "manifest", &channel, error))
    return NULL;
  if (!valid_channel_name(channel)) {
    invalid(error, "manifest", "\"channel\" must be letters, digits, '-', '_' or '.'");
    return NULL;
  }
  m->channel = g_strdup(channel);
  if (!get_int(obj, "serial", 1, AR_CHANNEL_MAX_SERIAL, "manifest", &m->serial, error) ||
      !parse_time(obj, "issued", "manifest", &m->issued, error) ||
      !parse_time(obj, "expires", "manifest", &m->expires, error))
    return NULL;
  if (m->expires <= m->issued) {
    invalid(error, "manifest", "\"expires\" must be after \"issued\"");
    return NULL;
  }
  JsonNode *rnode = member(obj, "releases", TRUE, "manifest", error);
  if (!rnode)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY(rnode)) {
    invalid(error, "manifest", "\"releases\" must be an array");
    return NULL;
  }
  JsonArray *arr = json_node_get_array(rnode);
  guint n = json_array_get_length(arr);
  if (n == 0 || n > AR_CHANNEL_MAX_RELEASES) {
    invalid(error, "manifest", "\"releases\" must have 1 to %d entries", AR_CHANNEL_MAX_RELEASES);
    return NULL;
  }
  m->releases = g_ptr_array_new_with_free_func(release_free);
  for (guint i = 0; i < n; i++) {
    g_autofree char *where = g_strdup_printf("releases[%u]", i);
    ArChannelRelease *r = parse_release(json_array_get_element(arr, i), where, error);
    if (!r)
      return NULL;
    for (guint j = 0; j < m->releases->len; j++) {
      const ArChannelRelease *o = g_ptr_array_index(m->releases, j);
      if (ar_version_compare(&o->parsed, &r->parsed) == 0) {
        invalid(error, where, "version %s is already releases[%u] (%s)", r->version, j, o->version);
        release_free(r);
        return NULL;
      }
    }
    g_ptr_array_add(m->releases, r);
  }
  g_autofree char *digest =
      g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)json, len);
  g_strlcpy(m->digest, digest, sizeof m->digest);
  return g_steal_pointer(&m);
}

/* ---- the checks of a downloaded file ---- */

static const ArChannelBundle *
bundle_for(const ArChannelRelease *r, const char *compatible)
{
  for (guint i = 0; i < r->bundles->len; i++) {
    const ArChannelBundle *b = g_ptr_array_index(r->bundles, i);
    if (strcmp(b->compatible, compatible) == 0)
      return b;
  }
  return NULL;
}

static char *
format_time(gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
  return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("(out of range)");
}

ArChannelManifest *
ar_channel_load(const guint8 *data, gsize len, const ArChannelKeyring *keyring,
                const ArChannelCheck *check, GError **error)
{
  g_return_val_if_fail(check && check->channel && check->compatible, NULL);
  g_autoptr(GBytes) content = ar_channel_verify(data, len, keyring, check->now, error);
  if (!content)
    return NULL;
  gsize clen;
  const char *json = g_bytes_get_data(content, &clen);
  g_autoptr(ArChannelManifest) m = ar_channel_parse(json, clen, error);
  if (!m)
    return NULL;
  if (strcmp(m->channel, check->channel) != 0) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_CHANNEL,
                "this is the manifest of channel '%s', the device follows '%s'", m->channel,
                check->channel);
    return NULL;
  }
  if (m->issued - AR_CHANNEL_CLOCK_SKEW_S > check->now) { /* issued is within years 1..9999 */
    g_autofree char *issued = format_time(m->issued), *now = format_time(check->now);
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_EXPIRED,
                "the manifest was issued at %s, in the future of this device's clock (%s)", issued,
                now);
    return NULL;
  }
  if (check->now >= m->expires) {
    g_autofree char *expires = format_time(m->expires), *now = format_time(check->now);
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_EXPIRED,
                "the manifest expired at %s (now %s)", expires, now);
    return NULL;
  }
  if (m->serial < check->last.serial) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_REPLAY,
                "serial %" G_GINT64_FORMAT " is older than the last accepted %" G_GINT64_FORMAT
                " (a replayed or rolled-back manifest)",
                m->serial, check->last.serial);
    return NULL;
  }
  if (m->serial == check->last.serial) {
    if (strcmp(m->digest, check->last.digest) != 0) {
      g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_REPLAY,
                  "serial %" G_GINT64_FORMAT " was accepted before with other content (a new "
                  "manifest needs a higher serial)",
                  m->serial);
      return NULL;
    }
    m->unchanged = TRUE;
  }
  gboolean any = FALSE;
  for (guint i = 0; !any && i < m->releases->len; i++)
    any = bundle_for(g_ptr_array_index(m->releases, i), check->compatible) != NULL;
  if (!any) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_NO_BUNDLE,
                "channel '%s' has no bundle for this board ('%s')", m->channel, check->compatible);
    return NULL;
  }
  return g_steal_pointer(&m);
}

/* ---- rollout ---- */

double
ar_channel_rollout_share(const ArChannelRelease *release, gint64 now)
{
  if (release->paused || now < release->rollout_start)
    return 0.0;
  double days = ((double)now - (double)release->rollout_start) / 86400.0; /* no overflow */
  double share = release->percent_start + release->percent_per_day * days;
  return share >= 100.0 ? 100.0 : share;
}

double
ar_channel_rollout_place(const char *machine_id, const char *version)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, (const guchar *)"anyroom-rollout", sizeof "anyroom-rollout");
  g_checksum_update(sum, (const guchar *)machine_id, (gssize)strlen(machine_id) + 1);
  g_checksum_update(sum, (const guchar *)version, (gssize)strlen(version));
  guint8 digest[32];
  gsize dlen = sizeof digest;
  g_checksum_get_digest(sum, digest, &dlen);
  guint64 v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | digest[i];
  /* The top 53 bits: exact in a double, so the place is < 100 even for v near 2^64. */
  return (double)(v >> 11) / 9007199254740992.0 * 100.0;
}

static gboolean
valid_machine_id(const char *id)
{
  gsize len = id ? strlen(id) : 0;
  if (len == 0 || len > 128)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(id[i]) && id[i] != '-')
      return FALSE;
  return TRUE;
}

gboolean
ar_channel_choose(const ArChannelManifest *manifest, const char *compatible, const char *machine_id,
                  gint64 now, const char *running_version, ArChannelChoice *choice, GError **error)
{
  g_return_val_if_fail(manifest && compatible && choice, FALSE);
  if (!valid_machine_id(machine_id)) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_BAD_INPUT,
                "the machine ID must be 1 to 128 letters, digits or '-'");
    return FALSE;
  }
  ArVersion running;
  g_autoptr(GError) verror = NULL;
  if (!running_version ||
      !ar_version_parse(running_version, strlen(running_version), &running, &verror)) {
    g_set_error(error, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_BAD_INPUT, "the running version: %s",
                verror ? verror->message : "unknown");
    return FALSE;
  }
  ArChannelChoice c = {.verdict = AR_CHANNEL_UP_TO_DATE};
  const ArChannelRelease *best = NULL, *newest = NULL;
  for (guint i = 0; i < manifest->releases->len; i++) {
    const ArChannelRelease *r = g_ptr_array_index(manifest->releases, i);
    if (ar_version_compare(&r->parsed, &running) <= 0 || !bundle_for(r, compatible))
      continue;
    if (!newest || ar_version_compare(&r->parsed, &newest->parsed) > 0)
      newest = r;
    if (best && ar_version_compare(&r->parsed, &best->parsed) <= 0)
      continue;
    if (ar_channel_rollout_place(machine_id, r->version) < ar_channel_rollout_share(r, now))
      best = r;
  }
  const ArChannelRelease *shown = best ? best : newest;
  if (shown) {
    c.verdict = best ? AR_CHANNEL_INSTALL : AR_CHANNEL_WAITING;
    c.release = shown;
    c.bundle = bundle_for(shown, compatible);
    c.place = ar_channel_rollout_place(machine_id, shown->version);
    c.share = ar_channel_rollout_share(shown, now);
  }
  *choice = c;
  return TRUE;
}
