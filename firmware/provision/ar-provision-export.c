/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-provision-export.c: a configured room's provisioning file
 * (GET /api/v1/provision/export, admin session only). The answer is the
 * JSON to sign with rootfs/keys/sign-provisioning.sh; secrets appear only as
 * the hashes the room holds (the admin password's PBKDF2, the tokens'
 * SHA-256). A secret the room holds in plain is never exported: it is left
 * out, with what cannot be set without it, and named in "omitted".
 */
#include "ar-provision.h"

#include <string.h>

#include "ar-api-config.h"
#include "ar-api-hub.h"
#include "ar-json.h"
#include "ar-web-priv.h"
#include "ar-web-provision.h"

static char *
read_state(const char *state_dir, const char *name, gsize max)
{
  g_autofree char *path = g_build_filename(state_dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL) || len == 0 || len > max)
    return NULL;
  return g_steal_pointer(&data);
}

/* Copies @from's members into a new object, leaving out nulls and @skip. */
static JsonObject *
copy_group(JsonObject *from, const char *const *skip)
{
  JsonObject *to = json_object_new();
  g_autoptr(GList) names = json_object_get_members(from);
  for (GList *l = names; l; l = l->next) {
    JsonNode *v = json_object_get_member(from, l->data);
    if (JSON_NODE_HOLDS_NULL(v) || (skip && g_strv_contains(skip, l->data)) ||
        g_str_has_suffix(l->data, "-set"))
      continue;
    json_object_set_member(to, l->data, json_node_copy(v));
  }
  return to;
}

static gboolean
flag(JsonObject *group, const char *name)
{
  return group && json_object_get_boolean_member_with_default(group, name, FALSE);
}

static JsonObject *
export_settings(const ArConfig *config, JsonArray *omitted)
{
  g_autoptr(JsonNode) all = ar_api_config_get(config);
  JsonObject *in = json_node_get_object(all);
  JsonObject *out = json_object_new();
  g_autoptr(GList) groups = json_object_get_members(in);
  for (GList *g = groups; g; g = g->next) {
    JsonObject *group = json_object_get_object_member(in, g->data);
    const char *const *skip = NULL;
    /* TURN servers with a static password: the password cannot be exported,
     * and the servers, the user and relay-only cannot be set without it. */
    static const char *const turn_static[] = {"turn", "turn-username", "relay-only", NULL};
    if (g_str_equal(g->data, "network") && flag(group, "turn-password-set")) {
      skip = turn_static;
      json_array_add_string_element(omitted, "network.turn-password");
      for (gsize i = 0; turn_static[i]; i++) {
        g_autofree char *n = g_strconcat("network.", turn_static[i], NULL);
        json_array_add_string_element(omitted, n);
      }
    }
    if (g_str_equal(g->data, "calendar")) {
      if (flag(group, "feed-url-set"))
        json_array_add_string_element(omitted, "calendar.feed-url");
      if (flag(group, "caldav-password-set"))
        json_array_add_string_element(omitted, "calendar.caldav-password");
    }
    JsonObject *copy = copy_group(group, skip);
    /* Empty lists and false flags are the defaults: left out, the file is
     * what the admin set. */
    g_autoptr(GList) keys = json_object_get_members(copy);
    for (GList *k = keys; k; k = k->next) {
      JsonNode *v = json_object_get_member(copy, k->data);
      if ((JSON_NODE_HOLDS_ARRAY(v) && json_array_get_length(json_node_get_array(v)) == 0))
        json_object_remove_member(copy, k->data);
    }
    if (json_object_get_size(copy) > 0)
      json_object_set_object_member(out, g->data, copy);
    else
      json_object_unref(copy);
  }
  return out;
}

static JsonArray *
export_tokens(const char *state_dir)
{
  JsonArray *out = json_array_new();
  g_autofree char *data = read_state(state_dir, "tokens.json", 1024 * 1024);
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!data || !ar_json_check(data, strlen(data), 4, NULL) ||
      !json_parser_load_from_data(p, data, -1, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p)))
    return out;
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  for (guint i = 0; i < json_array_get_length(a) && i < AR_PROVISION_MAX_TOKENS; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *o = json_node_get_object(e);
    const char *name = json_object_get_string_member_with_default(o, "name", NULL);
    const char *hash = json_object_get_string_member_with_default(o, "sha256", NULL);
    JsonNode *scopes = json_object_get_member(o, "scopes");
    if (!name || !hash || !scopes)
      continue; /* a token without scopes (status only) is made again by hand */
    JsonObject *t = json_object_new();
    json_object_set_string_member(t, "name", name);
    json_object_set_string_member(t, "sha256", hash);
    json_object_set_member(t, "scopes", json_node_copy(scopes));
    json_array_add_object_element(out, t);
  }
  return out;
}

JsonNode *
ar_provision_export(const ArConfig *config, const char *state_dir, const char *board_id,
                    GError **error)
{
  JsonObject *file = json_object_new();
  JsonArray *omitted = json_array_new();
  json_object_set_int_member(file, "format", 1);
  JsonArray *boards = json_array_new();
  json_array_add_string_element(boards, board_id);
  json_object_set_array_member(file, "boards", boards);
  g_autofree char *hash = read_state(state_dir, "admin-password", 512);
  g_autofree char *code = read_state(state_dir, "setup-code.sha256", 512);
  if (hash && ar_web_password_hash_ok(g_strstrip(hash), NULL)) {
    JsonObject *admin = json_object_new();
    json_object_set_string_member(admin, "password-hash", hash);
    json_object_set_object_member(file, "admin", admin);
  } else if (code) {
    JsonObject *admin = json_object_new();
    json_object_set_string_member(admin, "setup-code-sha256", g_strstrip(code));
    json_object_set_object_member(file, "admin", admin);
  }
  JsonArray *tokens = export_tokens(state_dir);
  if (json_array_get_length(tokens) > 0)
    json_object_set_array_member(file, "tokens", tokens);
  else
    json_array_unref(tokens);
  JsonObject *settings = export_settings(config, omitted);
  if (json_object_get_size(settings) > 0)
    json_object_set_object_member(file, "settings", settings);
  else
    json_object_unref(settings);
  JsonObject *cas = json_object_new();
  for (int i = 0; i < AR_PROVISION_CA_N; i++) {
    g_autofree char *pem = read_state(state_dir, ar_provision_ca_file(i), AR_PROVISION_MAX_PEM);
    if (pem)
      json_object_set_string_member(cas, ar_provision_ca_name(i), pem);
  }
  if (json_object_get_size(cas) > 0)
    json_object_set_object_member(file, "ca-certificates", cas);
  else
    json_object_unref(cas);
  /* What the room would refuse, it does not hand out. */
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), file);
  json_object_unref(file);
  g_autofree char *text = json_to_string(node, TRUE);
  g_autoptr(ArProvision) check = ar_provision_parse(text, strlen(text), error);
  if (!check || !ar_provision_check_settings(check, config, error)) {
    json_array_unref(omitted);
    g_prefix_error(error, "the export would not apply: ");
    return NULL;
  }
  JsonObject *answer = json_object_new();
  json_object_set_boolean_member(answer, "ok", TRUE);
  json_object_set_member(answer, "provisioning", json_node_copy(node));
  json_object_set_array_member(answer, "omitted", omitted);
  JsonNode *out = json_node_init_object(json_node_alloc(), answer);
  json_object_unref(answer);
  return out;
}

/* ---- the route ---- */

static char *export_board; /* the room's board id; one admin server per process */

static void
handle_export(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) answer = ar_provision_export(s->config, s->state_dir, export_board, &error);
  if (!answer) {
    g_warning("provision: export: %s", error->message);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, error->message);
    return;
  }
  ar_web_audit(s, msg, caller, "provision_exported", NULL);
  ar_api_respond_json(msg, SOUP_STATUS_OK, answer);
}

void
ar_web_provision_register(ArWebServer *s, const char *board_id)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/provision/export", "GET", AR_WEB_AUTH_SESSION, handle_export},
  };
  g_free(export_board);
  export_board = g_strdup(board_id);
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
