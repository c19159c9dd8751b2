/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision.c: the provisioning file's format (ar-provision.h). Untrusted
 * input: the JSON is read only after its signature verified, but a signed
 * file is still bounded and checked member by member, one-line errors.
 * Fuzzed (tests/fuzz/fuzz-provision.c).
 */
#include "ar-provision.h"

#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <string.h>

#include "ar-api-config.h"
#include "ar-json.h"
#include "ar-web-priv.h"

G_DEFINE_QUARK(ar - provision - error - quark, ar_provision_error)

static const struct {
  const char *name, *file;
} cas[AR_PROVISION_CA_N] = {
    [AR_PROVISION_CA_CALENDAR] = {"calendar", "ca-calendar.pem"},
    [AR_PROVISION_CA_UPDATE_CHANNEL] = {"update-channel", "ca-update-channel.pem"},
    [AR_PROVISION_CA_UPDATE_DOWNLOAD] = {"update-download", "ca-update-download.pem"},
    [AR_PROVISION_CA_TURN] = {"turn", "ca-turn.pem"},
    [AR_PROVISION_CA_LOGS] = {"logs", "ca-logs.pem"},
};

const char *
ar_provision_ca_name(ArProvisionCa ca)
{
  return ca < AR_PROVISION_CA_N ? cas[ca].name : NULL;
}

const char *
ar_provision_ca_file(ArProvisionCa ca)
{
  return ca < AR_PROVISION_CA_N ? cas[ca].file : NULL;
}

static void
token_free(gpointer data)
{
  ArProvisionToken *t = data;
  g_free(t->name);
  g_free(t->sha256);
  g_free(t);
}

void
ar_provision_free(ArProvision *p)
{
  if (!p)
    return;
  g_strfreev(p->boards);
  g_strfreev(p->machine_ids);
  g_free(p->password_hash);
  g_free(p->setup_code_sha256);
  if (p->tokens)
    g_ptr_array_unref(p->tokens);
  if (p->settings)
    json_node_unref(p->settings);
  for (int i = 0; i < AR_PROVISION_CA_N; i++)
    g_free(p->ca[i]);
  g_free(p);
}

/* ---- errors: "where: what", one line ---- */

static gpointer G_GNUC_PRINTF(3, 4) fail(GError **error, const char *where, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  for (char *c = what; *c; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      *c = '?';
  g_set_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_INVALID, "%s: %s", where, what);
  return NULL;
}

/* A member name as shown in an error: at most 40 bytes. */
static char *
shown(const char *name)
{
  return strlen(name) > 40 ? g_strdup_printf("%.40s...", name) : g_strdup(name);
}

/* The members of @o must all be in @known (NULL-terminated). */
static gboolean
known_members(JsonObject *o, const char *const *known, const char *where, GError **error)
{
  g_autoptr(GList) names = json_object_get_members(o);
  for (GList *l = names; l; l = l->next)
    if (!g_strv_contains(known, l->data)) {
      g_autofree char *n = shown(l->data);
      fail(error, where, "unknown member \"%s\"", n);
      return FALSE;
    }
  return TRUE;
}

/* The string at @n, 1..@max bytes, printable (no control characters). */
static const char *
text_of(JsonNode *n, gsize max, const char *where, GError **error)
{
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return fail(error, where, "must be a string");
  const char *s = json_node_get_string(n);
  gsize len = strlen(s);
  if (len == 0 || len > max)
    return fail(error, where, "must be 1 to %" G_GSIZE_FORMAT " bytes", max);
  for (const char *c = s; *c; c++)
    if ((guchar)*c < 0x20 && *c != '\n' && *c != '\r')
      return fail(error, where, "must not hold control characters");
  return s;
}

static gboolean
lower_hex(const char *s, gsize len)
{
  if (strlen(s) != len)
    return FALSE;
  for (const char *c = s; *c; c++)
    if (!g_ascii_isdigit(*c) && !(*c >= 'a' && *c <= 'f'))
      return FALSE;
  return TRUE;
}

/* A list of 1..@max distinct strings, each passing @ok. */
static GStrv
string_list(JsonNode *n, guint max, gboolean (*ok)(const char *), const char *rule,
            const char *where, GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY(n))
    return fail(error, where, "must be a list of strings");
  JsonArray *a = json_node_get_array(n);
  guint len = json_array_get_length(a);
  if (len == 0 || len > max)
    return fail(error, where, "must have 1 to %u entries", max);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < len; i++) {
    g_autofree char *at = g_strdup_printf("%s[%u]", where, i);
    const char *s = text_of(json_array_get_element(a, i), 128, at, error);
    if (!s)
      return NULL;
    if (!ok(s))
      return fail(error, at, "%s", rule);
    if (!g_hash_table_add(seen, (gpointer)s))
      return fail(error, at, "listed twice");
    g_strv_builder_add(b, s);
  }
  return g_strv_builder_end(b);
}

/* A RAUC compatible: printable ASCII without spaces, as board.conf takes. */
static gboolean
compatible_ok(const char *s)
{
  for (const char *c = s; *c; c++)
    if (*c <= ' ' || *c >= 0x7f)
      return FALSE;
  return *s != '\0';
}

/* A machine ID as /etc/machine-id holds it: 32 lower-case hex digits. */
static gboolean
machine_id_ok(const char *s)
{
  return lower_hex(s, 32);
}

/* ---- members ---- */

static gboolean
parse_admin(ArProvision *p, JsonNode *n, GError **error)
{
  static const char *const known[] = {"password-hash", "setup-code-sha256", NULL};
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return fail(error, "admin", "must be an object"), FALSE;
  JsonObject *o = json_node_get_object(n);
  if (!known_members(o, known, "admin", error))
    return FALSE;
  if (json_object_get_size(o) != 1)
    return fail(error, "admin", "give either password-hash or setup-code-sha256"), FALSE;
  JsonNode *hash = json_object_get_member(o, "password-hash");
  if (hash) {
    const char *s = text_of(hash, 256, "admin.password-hash", error);
    if (!s)
      return FALSE;
    guint iterations = 0;
    if (!ar_web_password_hash_ok(s, &iterations))
      return fail(error, "admin.password-hash",
                  "not a password hash (pbkdf2-sha256$ITERATIONS$SALT$HASH, as "
                  "anyroom-provision password-hash makes)"),
             FALSE;
    if (iterations < AR_PROVISION_MIN_PBKDF2)
      return fail(error, "admin.password-hash", "%u iterations: at least %d", iterations,
                  AR_PROVISION_MIN_PBKDF2),
             FALSE;
    p->password_hash = g_strdup(s);
    return TRUE;
  }
  const char *code =
      text_of(json_object_get_member(o, "setup-code-sha256"), 64, "admin.setup-code-sha256", error);
  if (!code)
    return FALSE;
  if (!lower_hex(code, 64))
    return fail(error, "admin.setup-code-sha256", "must be 64 lower-case hex digits"), FALSE;
  p->setup_code_sha256 = g_strdup(code);
  return TRUE;
}

static gboolean
parse_tokens(ArProvision *p, JsonNode *n, GError **error)
{
  static const char *const known[] = {"name", "sha256", "scopes", NULL};
  if (!JSON_NODE_HOLDS_ARRAY(n))
    return fail(error, "tokens", "must be a list"), FALSE;
  JsonArray *a = json_node_get_array(n);
  guint len = json_array_get_length(a);
  if (len > AR_PROVISION_MAX_TOKENS)
    return fail(error, "tokens", "at most %d", AR_PROVISION_MAX_TOKENS), FALSE;
  for (guint i = 0; i < len; i++) {
    g_autofree char *at = g_strdup_printf("tokens[%u]", i);
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      return fail(error, at, "must be an object"), FALSE;
    JsonObject *o = json_node_get_object(e);
    if (!known_members(o, known, at, error))
      return FALSE;
    g_autofree char *at_name = g_strconcat(at, ".name", NULL);
    g_autofree char *at_hash = g_strconcat(at, ".sha256", NULL);
    g_autofree char *at_scopes = g_strconcat(at, ".scopes", NULL);
    const char *name = text_of(json_object_get_member(o, "name"), 64, at_name, error);
    if (!name)
      return FALSE;
    if (!ar_web_token_name_ok(name))
      return fail(error, at_name, "letters, digits, '.', '_' and '-' only"), FALSE;
    const char *hash = text_of(json_object_get_member(o, "sha256"), 64, at_hash, error);
    if (!hash)
      return FALSE;
    if (!lower_hex(hash, 64))
      return fail(error, at_hash, "must be 64 lower-case hex digits (the token's SHA-256)"), FALSE;
    JsonNode *sn = json_object_get_member(o, "scopes");
    guint scopes = 0;
    const char *why = NULL;
    if (!sn)
      return fail(error, at_scopes, "missing (at least one scope)"), FALSE;
    if (!ar_web_scopes_from_json(sn, &scopes, &why))
      return fail(error, at_scopes, "%s", why), FALSE;
    for (guint k = 0; k < p->tokens->len; k++) {
      ArProvisionToken *t = p->tokens->pdata[k];
      if (g_str_equal(t->name, name))
        return fail(error, at_name, "a token of that name is listed before"), FALSE;
      if (g_str_equal(t->sha256, hash))
        return fail(error, at_hash, "the same token is listed before"), FALSE;
    }
    ArProvisionToken *t = g_new0(ArProvisionToken, 1);
    t->name = g_strdup(name);
    t->sha256 = g_strdup(hash);
    t->scopes = scopes;
    g_ptr_array_add(p->tokens, t);
  }
  return TRUE;
}

/* Shape only: {"group": {"key": value}}; the values are the config API's. */
static gboolean
parse_settings(ArProvision *p, JsonNode *n, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return fail(error, "settings", "must be an object of settings groups"), FALSE;
  g_autoptr(GList) groups = json_object_get_members(json_node_get_object(n));
  if (!groups)
    return fail(error, "settings", "is empty (leave it out instead)"), FALSE;
  for (GList *g = groups; g; g = g->next) {
    JsonNode *gn = json_object_get_member(json_node_get_object(n), g->data);
    if (!JSON_NODE_HOLDS_OBJECT(gn)) {
      g_autofree char *name = shown(g->data);
      return fail(error, "settings", "%s: must be an object", name), FALSE;
    }
  }
  p->settings = json_node_copy(n);
  return TRUE;
}

/* PEM with 1..16 certificates and nothing else (no private key). */
static gboolean
pem_certificates_ok(const char *pem, const char **why)
{
  gsize len = strlen(pem);
  guint certs = 0;
  const char *c = pem;
  while ((c = strstr(c, "-----BEGIN ")) != NULL) {
    if (!g_str_has_prefix(c, "-----BEGIN CERTIFICATE-----")) {
      *why = "only CERTIFICATE blocks (no keys or other PEM)";
      return FALSE;
    }
    certs++;
    c += 11;
  }
  if (certs == 0 || certs > AR_PROVISION_MAX_PEM_CERTS) {
    *why = "must hold 1 to 16 PEM certificates";
    return FALSE;
  }
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  guint read = 0;
  X509 *x;
  while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    read++;
    X509_free(x);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (read != certs) {
    *why = "a certificate in it does not parse";
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_cas(ArProvision *p, JsonNode *n, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return fail(error, "ca-certificates", "must be an object"), FALSE;
  JsonObject *o = json_node_get_object(n);
  const char *known[AR_PROVISION_CA_N + 1] = {NULL};
  for (int i = 0; i < AR_PROVISION_CA_N; i++)
    known[i] = cas[i].name;
  if (!known_members(o, known, "ca-certificates", error))
    return FALSE;
  for (int i = 0; i < AR_PROVISION_CA_N; i++) {
    JsonNode *m = json_object_get_member(o, cas[i].name);
    if (!m)
      continue;
    g_autofree char *at = g_strconcat("ca-certificates.", cas[i].name, NULL);
    const char *pem = text_of(m, AR_PROVISION_MAX_PEM, at, error);
    const char *why = NULL;
    if (!pem)
      return FALSE;
    if (!pem_certificates_ok(pem, &why))
      return fail(error, at, "%s", why), FALSE;
    p->ca[i] = g_strdup(pem);
  }
  return TRUE;
}

ArProvision *
ar_provision_parse(const char *json, gsize len, GError **error)
{
  if (!json || len == 0 || len > AR_PROVISION_MAX_FILE)
    return fail(error, "provisioning file", "must be 1 to %d bytes", AR_PROVISION_MAX_FILE);
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!ar_json_check(json, len, AR_PROVISION_MAX_DEPTH, &local) ||
      !json_parser_load_from_data(parser, json, (gssize)len, &local))
    return fail(error, "provisioning file", "not JSON: %s", local->message);
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return fail(error, "provisioning file", "must be a JSON object");
  JsonObject *o = json_node_get_object(root);
  static const char *const known[] = {"format",      "serial",          "boards",
                                      "machine-ids", "admin",           "tokens",
                                      "settings",    "ca-certificates", NULL};
  if (!known_members(o, known, "provisioning file", error))
    return NULL;
  JsonNode *format = json_object_get_member(o, "format");
  if (!format || !JSON_NODE_HOLDS_VALUE(format) || json_node_get_value_type(format) != G_TYPE_INT64)
    return fail(error, "format", "missing or not a number (this firmware reads format 1)");
  if (json_node_get_int(format) != 1)
    return fail(error, "format", "%" G_GINT64_FORMAT " is not known to this firmware (1 is)",
                json_node_get_int(format));
  g_autoptr(ArProvision) p = g_new0(ArProvision, 1);
  p->tokens = g_ptr_array_new_with_free_func(token_free);
  JsonNode *serial = json_object_get_member(o, "serial");
  if (serial) {
    if (!JSON_NODE_HOLDS_VALUE(serial) || json_node_get_value_type(serial) != G_TYPE_INT64 ||
        json_node_get_int(serial) < 1 || json_node_get_int(serial) > AR_PROVISION_SERIAL_MAX)
      return fail(error, "serial", "must be a whole number from 1 to 2^53-1");
    p->serial = json_node_get_int(serial);
  }
  JsonNode *boards = json_object_get_member(o, "boards");
  if (!boards)
    return fail(error, "boards", "missing (the RAUC compatibles this file is for)");
  p->boards = string_list(boards, AR_PROVISION_MAX_BOARDS, compatible_ok,
                          "a RAUC compatible (printable, no spaces)", "boards", error);
  if (!p->boards)
    return NULL;
  JsonNode *machines = json_object_get_member(o, "machine-ids");
  if (machines) {
    p->machine_ids = string_list(machines, AR_PROVISION_MAX_MACHINES, machine_id_ok,
                                 "a machine ID: 32 lower-case hex digits", "machine-ids", error);
    if (!p->machine_ids)
      return NULL;
  }
  JsonNode *n;
  if ((n = json_object_get_member(o, "admin")) && !parse_admin(p, n, error))
    return NULL;
  if ((n = json_object_get_member(o, "tokens")) && !parse_tokens(p, n, error))
    return NULL;
  if ((n = json_object_get_member(o, "settings")) && !parse_settings(p, n, error))
    return NULL;
  if ((n = json_object_get_member(o, "ca-certificates")) && !parse_cas(p, n, error))
    return NULL;
  g_autofree char *digest =
      g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)json, len);
  g_strlcpy(p->digest, digest, sizeof p->digest);
  return g_steal_pointer(&p);
}

gboolean
ar_provision_check_settings(const ArProvision *p, const ArConfig *config, GError **error)
{
  if (!p->settings)
    return TRUE;
  g_autoptr(GError) local = NULL;
  g_autofree char *scratch = g_dir_make_tmp("ar-provision-XXXXXX", &local);
  if (!scratch) {
    g_set_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_IO, "settings: %s", local->message);
    return FALSE;
  }
  /* A copy of the config file's config: the check must not change @config. */
  g_autoptr(ArConfig) copy = NULL;
  if (config && config->source) {
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(config->source, &len, NULL);
    copy = ar_config_load_data(data, len, config->path ? config->path : "config", &local);
  } else {
    copy = ar_config_new_default();
  }
  gboolean ok = copy && ar_api_config_patch(copy, scratch, p->settings, NULL, NULL, &local);
  g_autofree char *saved = g_build_filename(scratch, "settings.conf", NULL);
  g_unlink(saved);
  g_rmdir(scratch);
  if (!ok) {
    g_set_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_INVALID, "settings: %s",
                local ? local->message : "cannot be checked");
    return FALSE;
  }
  return TRUE;
}

char *
ar_provision_board_id(const ArBoard *board)
{
  if (board->compatible && *board->compatible)
    return g_strdup(board->compatible);
  return g_strconcat("anyroom-", board->name, NULL);
}

ArProvision *
ar_provision_load(const guint8 *data, gsize len, const ArChannelKeyring *keyring,
                  const char *board_id, const char *machine_id, gint64 now, GError **error)
{
  static const ArSignedKind kind = {.file = "provisioning file",
                                    .content = "provisioning JSON",
                                    .signer = "rootfs/keys/sign-provisioning.sh",
                                    .max = AR_PROVISION_MAX_FILE};
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) content = ar_signed_verify(data, len, &kind, keyring, now, &local);
  if (!content) {
    ArProvisionError code = g_error_matches(local, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_SIGNATURE)
                                ? AR_PROVISION_ERROR_SIGNATURE
                            : g_error_matches(local, AR_CHANNEL_ERROR, AR_CHANNEL_ERROR_INVALID)
                                ? AR_PROVISION_ERROR_INVALID
                                : AR_PROVISION_ERROR_UNSIGNED;
    g_set_error_literal(error, AR_PROVISION_ERROR, code, local->message);
    return NULL;
  }
  gsize clen = 0;
  const char *json = g_bytes_get_data(content, &clen);
  g_autoptr(ArProvision) p = ar_provision_parse(json, clen, error);
  if (!p)
    return NULL;
  if (!g_strv_contains((const char *const *)p->boards, board_id)) {
    g_autofree char *list = g_strjoinv(", ", p->boards);
    g_set_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_BOARD,
                "the provisioning file is for other boards (%.200s), not %s", list, board_id);
    return NULL;
  }
  if (p->machine_ids &&
      (!machine_id || !g_strv_contains((const char *const *)p->machine_ids, machine_id))) {
    g_set_error(error, AR_PROVISION_ERROR, AR_PROVISION_ERROR_MACHINE,
                "the provisioning file lists %u machine IDs and this room's (%s) is not one "
                "of them",
                g_strv_length(p->machine_ids), machine_id ? machine_id : "unknown");
    return NULL;
  }
  return g_steal_pointer(&p);
}
