/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-api-recipes.h: the recipes group of the API, shared by the Unix-socket
 * and the HTTPS API (docs/api.md, docs/recipes.md):
 *
 *   GET    /api/v1/recipes      every recipe: id, name, origin (built-in or
 *                               admin), what it serves, whether an admin one
 *                               overrides a built-in one; the folders' errors
 *   PUT    /api/v1/recipes/ID   body: the recipe's JSON (at most
 *                               AR_RECIPE_MAX_FILE_SIZE bytes), validated by
 *                               the loader, written to the admin folder
 *   DELETE /api/v1/recipes/ID   an administrator's recipe only
 *
 * After a change the web engine reloads its recipes through the reload
 * function: the next join uses them; a call in progress keeps the recipe it
 * started with. Authentication and the audit log are the caller's business.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Reloads the web engine's recipes; returns how many files were refused. */
typedef guint (*ArApiRecipesReloadFunc)(gpointer user_data);

typedef struct _ArApiRecipes ArApiRecipes;

/* @shipped_dir: NULL = ar_recipe_default_dir(); @admin_dir: the folder
 * uploads go to (required); @reload: NULL when no web engine runs. */
ArApiRecipes *ar_api_recipes_new(const char *shipped_dir, const char *admin_dir,
                                 ArApiRecipesReloadFunc reload, gpointer user_data);
void ar_api_recipes_free(ArApiRecipes *recipes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArApiRecipes, ar_api_recipes_free)

/* TRUE if @path is one of this group's ("/api/v1/recipes", "/api/v1/recipes/ID"). */
gboolean ar_api_recipes_is_path(const char *path);

/* Answers @msg for @path (GET, PUT or DELETE; other methods 405). For a change
 * that was made, returns the audit event ("recipe_added", "recipe_replaced",
 * "recipe_removed") and sets *@detail ("ID: NAME; hosts ...", never a
 * secret); NULL when nothing changed. */
const char *ar_api_recipes_handle(ArApiRecipes *recipes, SoupServerMessage *msg, const char *path,
                                  char **detail);

/* Factory reset: an administrator's recipes go when their folder is inside
 * @state_dir (the default, STATE_DIR/recipes; a folder set with [web] recipes
 * elsewhere is the config file's and stays). Reloads the engine. Returns how
 * many recipes were removed. */
guint ar_api_recipes_forget(ArApiRecipes *recipes, const char *state_dir);

G_END_DECLS
