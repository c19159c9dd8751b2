/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-api-recipes.c: GET /api/v1/recipes, PUT and DELETE /api/v1/recipes/ID
 * (ar-api-recipes.h). */
#include "ar-api-recipes.h"

#include <string.h>

#include "ar-api-hub.h"
#include "ar-recipe-admin.h"

#define PREFIX "/api/v1/recipes"

struct _ArApiRecipes {
  char *shipped_dir; /* NULL: ar_recipe_default_dir() */
  char *admin_dir;
  ArApiRecipesReloadFunc reload;
  gpointer reload_data;
};

ArApiRecipes *
ar_api_recipes_new(const char *shipped_dir, const char *admin_dir, ArApiRecipesReloadFunc reload,
                   gpointer user_data)
{
  g_return_val_if_fail(admin_dir != NULL, NULL);
  ArApiRecipes *r = g_new0(ArApiRecipes, 1);
  r->shipped_dir = g_strdup(shipped_dir);
  r->admin_dir = g_strdup(admin_dir);
  r->reload = reload;
  r->reload_data = user_data;
  return r;
}

void
ar_api_recipes_free(ArApiRecipes *r)
{
  if (r == NULL)
    return;
  g_free(r->shipped_dir);
  g_free(r->admin_dir);
  g_free(r);
}

gboolean
ar_api_recipes_is_path(const char *path)
{
  return path != NULL && g_str_has_prefix(path, PREFIX) &&
         (path[strlen(PREFIX)] == '\0' || path[strlen(PREFIX)] == '/');
}

static void
add_strv(JsonBuilder *b, const char *name, const char *const *v)
{
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (guint i = 0; v != NULL && v[i] != NULL; i++)
    json_builder_add_string_value(b, v[i]);
  json_builder_end_array(b);
}

/* One recipe as listed: id, name, origin, overrides_built_in, what it serves. */
static void
add_recipe(JsonBuilder *b, ArRecipe *recipe, gboolean admin, gboolean overrides)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, ar_recipe_get_id(recipe));
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, ar_recipe_get_name(recipe));
  json_builder_set_member_name(b, "origin");
  json_builder_add_string_value(b, admin ? "admin" : "built-in");
  json_builder_set_member_name(b, "overrides_built_in");
  json_builder_add_boolean_value(b, overrides);
  add_strv(b, "hosts", ar_recipe_get_hosts(recipe));
  add_strv(b, "providers", ar_recipe_get_providers(recipe));
  json_builder_set_member_name(b, "fallback");
  json_builder_add_boolean_value(b, ar_recipe_is_fallback(recipe));
  json_builder_end_object(b);
}

static void
add_errors(JsonBuilder *b, GPtrArray *problems, guint from, const char *origin)
{
  for (guint i = from; problems != NULL && i < problems->len; i++) {
    const GError *e = problems->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "origin");
    json_builder_add_string_value(b, origin);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, e->message);
    json_builder_end_object(b);
  }
}

static void
respond_list(ArApiRecipes *r, SoupServerMessage *msg)
{
  g_autoptr(GPtrArray) shipped_problems = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(ArRecipeSet) shipped = ar_recipe_set_load(r->shipped_dir, NULL, &shipped_problems);
  g_autoptr(ArRecipeSet) all = ar_recipe_set_load(r->shipped_dir, r->admin_dir, &problems);
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(all);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "admin_folder");
  json_builder_add_string_value(b, r->admin_dir);
  json_builder_set_member_name(b, "max_size");
  json_builder_add_int_value(b, AR_RECIPE_MAX_FILE_SIZE);
  /* FALSE: [web] enabled=false; changes apply once the web engine runs. */
  json_builder_set_member_name(b, "web_engine");
  json_builder_add_boolean_value(b, r->reload != NULL);
  json_builder_set_member_name(b, "recipes");
  json_builder_begin_array(b);
  for (guint i = 0; ids[i] != NULL; i++) {
    gboolean admin = ar_recipe_set_is_admin(all, ids[i]);
    add_recipe(b, ar_recipe_set_lookup_id(all, ids[i]), admin,
               admin && ar_recipe_set_lookup_id(shipped, ids[i]) != NULL);
  }
  json_builder_end_array(b);
  /* The full load repeats the shipped folder's problems first. */
  json_builder_set_member_name(b, "errors");
  json_builder_begin_array(b);
  add_errors(b, shipped_problems, 0, "built-in");
  add_errors(b, problems, shipped_problems->len, "admin");
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

static guint
status_of(const GError *error)
{
  if (error->domain != AR_RECIPE_ADMIN_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch ((ArRecipeAdminError)error->code) {
  case AR_RECIPE_ADMIN_ERROR_INVALID:
  case AR_RECIPE_ADMIN_ERROR_ID_MISMATCH:
  case AR_RECIPE_ADMIN_ERROR_BAD_ID:
    return SOUP_STATUS_BAD_REQUEST;
  case AR_RECIPE_ADMIN_ERROR_TOO_LARGE:
    return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
  case AR_RECIPE_ADMIN_ERROR_NOT_FOUND:
    return SOUP_STATUS_NOT_FOUND;
  case AR_RECIPE_ADMIN_ERROR_BUILT_IN:
  case AR_RECIPE_ADMIN_ERROR_FULL:
    return SOUP_STATUS_CONFLICT;
  case AR_RECIPE_ADMIN_ERROR_IO:
    break;
  }
  return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

static void
reload(ArApiRecipes *r)
{
  if (r->reload == NULL)
    return;
  guint refused = r->reload(r->reload_data);
  if (refused > 0)
    g_debug("recipes: reloaded; %u file(s) refused", refused);
}

static const char *
handle_put(ArApiRecipes *r, SoupServerMessage *msg, const char *id, char **detail)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  gsize len = body != NULL && body->length > 0 ? (gsize)body->length : 0;
  g_autoptr(GError) error = NULL;
  if (len > AR_RECIPE_MAX_FILE_SIZE) {
    /* Refused before a byte is parsed. */
    g_autofree char *why =
        g_strdup_printf("the recipe is larger than %d bytes", AR_RECIPE_MAX_FILE_SIZE);
    ar_api_respond_result(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, why);
    return NULL;
  }
  g_autoptr(GBytes) bytes = len > 0 ? soup_message_body_flatten(body) : g_bytes_new(NULL, 0);
  gsize n = 0;
  const char *data = g_bytes_get_data(bytes, &n);
  gboolean replaced = FALSE;
  g_autoptr(ArRecipe) recipe = ar_recipe_admin_put(r->admin_dir, id, data, n, &replaced, &error);
  if (recipe == NULL) {
    guint status = status_of(error);
    if (status >= 500)
      g_warning("recipes: %s", error->message);
    ar_api_respond_result(msg, status, error->message);
    return NULL;
  }
  g_autoptr(ArRecipeSet) shipped = ar_recipe_set_load(r->shipped_dir, NULL, NULL);
  gboolean overrides = ar_recipe_set_lookup_id(shipped, id) != NULL;
  g_message("recipes: %s %s", replaced ? "replaced" : "added", id);
  reload(r);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "replaced");
  json_builder_add_boolean_value(b, replaced);
  json_builder_set_member_name(b, "recipe");
  add_recipe(b, recipe, TRUE, overrides);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, replaced ? SOUP_STATUS_OK : SOUP_STATUS_CREATED, node);
  const char *const *hosts = ar_recipe_get_hosts(recipe);
  g_autofree char *host_list = hosts && hosts[0] ? g_strjoinv(" ", (char **)hosts) : NULL;
  *detail = g_strdup_printf("%s%s%s%s", id, overrides ? " (overrides the built-in recipe)" : "",
                            host_list ? "; hosts " : "", host_list ? host_list : "");
  return replaced ? "recipe_replaced" : "recipe_added";
}

static const char *
handle_delete(ArApiRecipes *r, SoupServerMessage *msg, const char *id, char **detail)
{
  g_autoptr(ArRecipeSet) shipped = ar_recipe_set_load(r->shipped_dir, NULL, NULL);
  g_autoptr(GError) error = NULL;
  if (!ar_recipe_admin_remove(r->admin_dir, shipped, id, &error)) {
    guint status = status_of(error);
    if (status >= 500)
      g_warning("recipes: %s", error->message);
    ar_api_respond_result(msg, status, error->message);
    return NULL;
  }
  gboolean restored = ar_recipe_set_lookup_id(shipped, id) != NULL;
  g_message("recipes: removed %s", id);
  reload(r);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "built_in_restored");
  json_builder_add_boolean_value(b, restored);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
  *detail = g_strdup_printf("%s%s", id, restored ? " (the built-in recipe is back)" : "");
  return "recipe_removed";
}

const char *
ar_api_recipes_handle(ArApiRecipes *r, SoupServerMessage *msg, const char *path, char **detail)
{
  g_return_val_if_fail(r != NULL && msg != NULL && path != NULL && detail != NULL, NULL);
  *detail = NULL;
  const char *method = soup_server_message_get_method(msg);
  const char *rest = path + strlen(PREFIX);
  if (rest[0] == '\0' || g_str_equal(rest, "/")) {
    if (!g_str_equal(method, "GET")) {
      ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return NULL;
    }
    respond_list(r, msg);
    return NULL;
  }
  const char *id = rest + 1;
  if (!ar_recipe_id_is_valid(id)) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST,
                          "not a recipe id (1 to 32 lower-case letters, digits and '-')");
    return NULL;
  }
  if (g_str_equal(method, "PUT"))
    return handle_put(r, msg, id, detail);
  if (g_str_equal(method, "DELETE"))
    return handle_delete(r, msg, id, detail);
  ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use PUT or DELETE");
  return NULL;
}

guint
ar_api_recipes_forget(ArApiRecipes *r, const char *state_dir)
{
  g_return_val_if_fail(r != NULL && state_dir != NULL, 0);
  g_autofree char *dir = g_canonicalize_filename(r->admin_dir, NULL);
  g_autofree char *state = g_canonicalize_filename(state_dir, NULL);
  g_autofree char *prefix =
      g_str_has_suffix(state, "/") ? g_strdup(state) : g_strconcat(state, "/", NULL);
  if (!g_str_has_prefix(dir, prefix))
    return 0;
  guint n = ar_recipe_admin_remove_all(r->admin_dir);
  if (n > 0)
    g_message("recipes: factory reset: %u administrator recipe(s) removed", n);
  reload(r);
  return n;
}
