/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-state.c: the web server's state dir: the admin password hash, API
 * tokens, saved settings. Every file 0600. (The audit log: ar-web-audit.c.) */
#include "ar-web-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-api-config.h"
#include "ar-janus-msg.h"

char *
ar_web_default_state_dir(void)
{
  return g_build_filename(g_get_user_state_dir(), "anyroom", NULL);
}

char *
ar_web_state_path(ArWebServer *s, const char *name)
{
  return g_build_filename(s->state_dir, name, NULL);
}

void
ar_web_token_free(ArWebToken *t)
{
  if (!t)
    return;
  g_free(t->name);
  g_free(t->hash);
  g_free(t);
}

/* ---- persistent state ---- */

gboolean
ar_web_load_password(ArWebServer *s, GError **error)
{
  g_autofree char *path = ar_web_state_path(s, "admin-password");
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_strstrip(data);
  if (!g_str_has_prefix(data, "pbkdf2-sha256$") || strlen(data) > 256) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a password hash", path);
    return FALSE;
  }
  s->password_hash = g_steal_pointer(&data);
  return TRUE;
}

gboolean
ar_web_save_tokens(ArWebServer *s, GError **error)
{
  g_autofree char *path = ar_web_state_path(s, "tokens.json");
  return ar_web_write_tokens(path, s->tokens, error);
}

gboolean
ar_web_write_tokens(const char *path, GPtrArray *tokens, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < tokens->len; i++) {
    ArWebToken *t = tokens->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, t->name);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, t->hash);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, t->created);
    json_builder_set_member_name(b, "scopes");
    json_builder_add_value(b, ar_web_scopes_to_json(t->scopes));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, TRUE);
  return ar_web_write_private_file(path, text, strlen(text), error);
}

gboolean
ar_web_token_name_ok(const char *n)
{
  gsize len = n ? strlen(n) : 0;
  if (len == 0 || len > AR_WEB_TOKEN_NAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(n[i]) && !strchr("._-", n[i]))
      return FALSE;
  return TRUE;
}

gboolean
ar_web_load_tokens(ArWebServer *s, GError **error)
{
  g_autofree char *path = ar_web_state_path(s, "tokens.json");
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > 1024 * 1024 || !ar_json_depth_ok(data, len, 4) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a token list", path);
    return FALSE;
  }
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  for (guint i = 0; i < json_array_get_length(a) && s->tokens->len < AR_WEB_MAX_TOKENS; i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      continue;
    JsonObject *o = json_node_get_object(n);
    const char *name = json_object_get_string_member_with_default(o, "name", NULL);
    const char *hash = json_object_get_string_member_with_default(o, "sha256", NULL);
    if (!ar_web_token_name_ok(name) || !hash || strlen(hash) != 64)
      continue;
    ArWebToken *t = g_new0(ArWebToken, 1);
    t->name = g_strdup(name);
    t->hash = g_strdup(hash);
    t->created = json_object_get_int_member_with_default(o, "created", 0);
    /* A token saved before scopes existed gets the cautious default (status
     * only): its integration must be given more by a new token. A list that
     * does not parse gives no more than that either. */
    const char *why = NULL;
    t->scopes = AR_WEB_SCOPE_LEGACY_DEFAULT;
    if (json_object_has_member(o, "scopes") &&
        !ar_web_scopes_from_json(json_object_get_member(o, "scopes"), &t->scopes, &why))
      g_warning("admin: token %s in %s: %s; it keeps only the status scope", name, path, why);
    g_ptr_array_add(s->tokens, t);
  }
  return TRUE;
}

gboolean
ar_web_apply_saved_settings(ArConfig *config, const char *state_dir, GError **error)
{
  return ar_api_config_apply_saved(config, state_dir, error);
}

gboolean
ar_web_private_dir(const char *dir, GError **error)
{
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || st.st_uid != getuid()) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s is not ours", dir);
    return FALSE;
  }
  if ((st.st_mode & 0077) != 0 && chmod(dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}
