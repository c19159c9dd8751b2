/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-set.c: the recipes the room knows: the shipped folder, then an
 * administrator's folder whose files add recipes or replace shipped ones by
 * id. A file that does not load is refused with its error; the others load.
 */
#include "ar-recipe-priv.h"

#include <string.h>

struct _ArRecipeSet {
  GHashTable *by_id; /* id -> ArRecipe* (owned) */
  GHashTable *admin; /* ids that came from the administrator */
};

const char *
ar_recipe_default_dir(void)
{
  const char *env = g_getenv("ANYROOM_RECIPES_DIR");
  if (env != NULL && env[0] != '\0')
    return env;
  if (g_file_test(AR_SOURCE_RECIPES_DIR, G_FILE_TEST_IS_DIR))
    return AR_SOURCE_RECIPES_DIR;
  return AR_RECIPES_DIR;
}

static ArRecipeSet *
set_new(void)
{
  ArRecipeSet *set = g_new0(ArRecipeSet, 1);
  set->by_id =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)ar_recipe_unref);
  set->admin = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return set;
}

void
ar_recipe_set_free(ArRecipeSet *set)
{
  if (set == NULL)
    return;
  g_hash_table_unref(set->by_id);
  g_hash_table_unref(set->admin);
  g_free(set);
}

void
ar_recipe_set_add(ArRecipeSet *set, ArRecipe *recipe, gboolean from_admin)
{
  g_return_if_fail(set != NULL && recipe != NULL);
  g_hash_table_replace(set->by_id, g_strdup(recipe->id), ar_recipe_ref(recipe));
  if (from_admin)
    g_hash_table_add(set->admin, g_strdup(recipe->id));
  else
    g_hash_table_remove(set->admin, recipe->id);
}

static gint
cmp_str_ptr(gconstpointer a, gconstpointer b, gpointer user_data)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
add_problem(GPtrArray *problems, GError *error)
{
  if (problems != NULL)
    g_ptr_array_add(problems, error);
  else
    g_error_free(error);
}

static void
load_dir(ArRecipeSet *set, const char *dir, gboolean admin, GPtrArray *problems)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &local);
  if (d == NULL) {
    if (!admin || !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      add_problem(problems,
                  g_error_new(AR_RECIPE_ERROR, AR_RECIPE_ERROR_IO, "%s: %s", dir, local->message));
    return;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    if (name[0] == '.' || !g_str_has_suffix(name, ".json"))
      continue;
    if (names->len == AR_RECIPE_MAX_FILES) {
      add_problem(problems, g_error_new(AR_RECIPE_ERROR, AR_RECIPE_ERROR_TOO_LARGE,
                                        "%s: more than %d recipe files; the rest are ignored", dir,
                                        AR_RECIPE_MAX_FILES));
      break;
    }
    g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort_with_data(names, cmp_str_ptr, NULL);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
    GError *error = NULL;
    g_autoptr(ArRecipe) r = ar_recipe_new_from_file(path, &error);
    if (r == NULL) {
      g_debug("recipe refused: %s", error->message);
      add_problem(problems, error);
      continue;
    }
    if (r->fallback) {
      /* One fallback recipe: an administrator's replaces the shipped one. */
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init(&it, set->by_id);
      while (g_hash_table_iter_next(&it, &key, &value)) {
        if (((ArRecipe *)value)->fallback && !g_str_equal(key, r->id)) {
          g_hash_table_remove(set->admin, key);
          g_hash_table_iter_remove(&it);
        }
      }
    }
    g_debug("recipe %s loaded from %s", r->id, path);
    ar_recipe_set_add(set, r, admin);
  }
}

ArRecipeSet *
ar_recipe_set_load(const char *shipped_dir, const char *admin_dir, GPtrArray **problems)
{
  ArRecipeSet *set = set_new();
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
  load_dir(set, shipped_dir != NULL ? shipped_dir : ar_recipe_default_dir(), FALSE, list);
  if (admin_dir != NULL)
    load_dir(set, admin_dir, TRUE, list);
  if (problems != NULL)
    *problems = list;
  else
    g_ptr_array_unref(list);
  return set;
}

ArRecipe *
ar_recipe_set_lookup_id(const ArRecipeSet *set, const char *id)
{
  g_return_val_if_fail(set != NULL, NULL);
  return id != NULL ? g_hash_table_lookup(set->by_id, id) : NULL;
}

gboolean
ar_recipe_set_is_admin(const ArRecipeSet *set, const char *id)
{
  g_return_val_if_fail(set != NULL, FALSE);
  return id != NULL && g_hash_table_contains(set->admin, id);
}

char **
ar_recipe_set_dup_ids(const ArRecipeSet *set)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array(set->by_id, NULL);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; keys[i] != NULL; i++)
    g_strv_builder_add(b, keys[i]);
  char **ids = g_strv_builder_end(b);
  g_qsort_with_data(ids, g_strv_length(ids), sizeof(char *), cmp_str_ptr, NULL);
  return ids;
}

/* Iterates in id order so that the answer never depends on hash order. */
static ArRecipe *
find(const ArRecipeSet *set, gboolean (*match)(const ArRecipe *, gconstpointer), gconstpointer data)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array(set->by_id, NULL);
  guint n = g_hash_table_size(set->by_id);
  g_qsort_with_data(keys, n, sizeof(gpointer), cmp_str_ptr, NULL);
  for (guint i = 0; i < n; i++) {
    ArRecipe *r = g_hash_table_lookup(set->by_id, keys[i]);
    if (match(r, data))
      return r;
  }
  return NULL;
}

static gboolean
serves_host(const ArRecipe *r, gconstpointer host)
{
  for (guint i = 0; r->hosts[i] != NULL; i++)
    if (ar_recipe_host_matches(r->hosts[i], host))
      return TRUE;
  return FALSE;
}

static gboolean
serves_provider(const ArRecipe *r, gconstpointer provider)
{
  return g_strv_contains((const char *const *)r->providers, provider);
}

static gboolean
is_fallback(const ArRecipe *r, gconstpointer unused)
{
  return r->fallback;
}

static char *
host_of(const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
  const char *host = uri != NULL ? g_uri_get_host(uri) : NULL;
  return host != NULL ? g_ascii_strdown(host, -1) : NULL;
}

ArRecipe *
ar_recipe_set_lookup(const ArRecipeSet *set, const ArLink *link, gboolean use_fallback)
{
  g_return_val_if_fail(set != NULL && link != NULL, NULL);
  if (link->engine != AR_ENGINE_WEB || link->join_url == NULL)
    return NULL;
  g_autofree char *host = host_of(link->join_url);
  ArRecipe *r = NULL;
  if (host != NULL)
    r = find(set, serves_host, host);
  if (r == NULL && link->provider != NULL)
    r = find(set, serves_provider, link->provider);
  if (r == NULL && use_fallback)
    r = find(set, is_fallback, NULL);
  return r;
}

ArLink *
ar_recipe_set_parse_app_link(const ArRecipeSet *set, const char *text, GError **error)
{
  g_return_val_if_fail(set != NULL && text != NULL, NULL);
  if (strlen(text) > AR_LINK_MAX_LEN) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "the link is too long");
    return NULL;
  }
  for (const char *p = text; *p; p++) {
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f) {
      g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                  "the link has spaces or characters a URL cannot hold");
      return NULL;
    }
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(GUri) uri =
      g_uri_parse(text, G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE, &local);
  if (uri == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "not a link: %s", local->message);
    return NULL;
  }
  g_autofree char *origin = ar_recipe_url_origin(text, &local);
  if (origin == NULL) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK, "%s", local->message);
    return NULL;
  }
  g_autofree char *host = g_ascii_strdown(g_uri_get_host(uri), -1);
  if (g_str_equal(g_uri_get_scheme(uri), "http") &&
      !(g_str_equal(host, "localhost") || g_str_has_prefix(host, "127.") ||
        g_str_equal(host, "::1"))) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "http:// links only to this machine; use https://");
    return NULL;
  }
  /* Only administrator recipes serve hosts: a shipped one is matched by provider. */
  ArRecipe *r = find(set, serves_host, host);
  g_autoptr(ArLink) link = g_new0(ArLink, 1);
  link->engine = AR_ENGINE_WEB;
  /* Everything but the fragment, as written. */
  link->join_url = g_uri_join(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri), NULL, g_uri_get_host(uri),
                              g_uri_get_port(uri), g_uri_get_path(uri), g_uri_get_query(uri), NULL);
  if (r == NULL || !ar_recipe_allows_origin(r, link, origin)) {
    g_set_error(error, AR_RECIPE_ERROR, AR_RECIPE_ERROR_LINK,
                "%s is not a web meeting app an administrator allowed", origin);
    return NULL;
  }
  link->provider = g_strdup(r->id);
  return g_steal_pointer(&link);
}
