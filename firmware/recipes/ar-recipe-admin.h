/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-admin.h: changes to an administrator's recipe folder made through
 * the API (PUT/DELETE /api/v1/recipes/ID, docs/recipes.md): an upload is
 * validated by the same loader as a file in the folder, then written
 * atomically as ADMIN_DIR/ID.json (0600); a removal takes only an
 * administrator's file (a shipped recipe can be replaced, never removed).
 *
 * Pure C + GLib; blocking file I/O on small files (at most
 * AR_RECIPE_MAX_FILE_SIZE bytes each).
 */
#pragma once

#include "ar-recipe.h"

G_BEGIN_DECLS

#define AR_RECIPE_ADMIN_ERROR (ar_recipe_admin_error_quark())
GQuark ar_recipe_admin_error_quark(void);

typedef enum {
  AR_RECIPE_ADMIN_ERROR_INVALID,     /* the recipe does not load; the message names the field */
  AR_RECIPE_ADMIN_ERROR_TOO_LARGE,   /* over AR_RECIPE_MAX_FILE_SIZE, or nested too deep */
  AR_RECIPE_ADMIN_ERROR_ID_MISMATCH, /* the recipe's id is not the one asked for */
  AR_RECIPE_ADMIN_ERROR_BAD_ID,      /* not an id (lower-case letters, digits, '-', <= 32) */
  AR_RECIPE_ADMIN_ERROR_NOT_FOUND,   /* no administrator recipe with this id */
  AR_RECIPE_ADMIN_ERROR_BUILT_IN,    /* a shipped recipe: it can be replaced, not removed */
  AR_RECIPE_ADMIN_ERROR_FULL,        /* the folder holds AR_RECIPE_MAX_FILES files already */
  AR_RECIPE_ADMIN_ERROR_IO,          /* the folder or file cannot be written */
} ArRecipeAdminError;

/* TRUE if @id is a recipe id: 1 to 32 lower-case ASCII letters, digits and '-'. */
gboolean ar_recipe_id_is_valid(const char *id);

/* Validates @data (@len bytes, need not be NUL-terminated) as the recipe @id:
 * the loader's own checks and bounds, and the recipe's "id" must be @id.
 * Errors name the field ("steps[2].selectors[0]: unclosed '['"), without the
 * file name the loader puts first. */
ArRecipe *ar_recipe_admin_validate(const char *id, const char *data, gsize len,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Validates, then writes @data as @admin_dir/@id.json: a temporary file in the
 * same folder (0600, O_CLOEXEC, fsync) renamed over the old one, so the
 * folder never holds half a file. Creates @admin_dir (0700) if missing.
 * *@replaced (may be NULL): an administrator's file with this id was there.
 * Returns the recipe as loaded. Nothing is written on error. */
ArRecipe *ar_recipe_admin_put(const char *admin_dir, const char *id, const char *data, gsize len,
                              gboolean *replaced, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Removes @admin_dir/@id.json (a file that did not load, too). @shipped: the
 * shipped recipes (for the BUILT_IN error), or NULL. */
gboolean ar_recipe_admin_remove(const char *admin_dir, const ArRecipeSet *shipped, const char *id,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Factory reset: removes every recipe file ("*.json") of @admin_dir and any
 * temporary file an interrupted upload left; the folder stays. Returns how
 * many recipe files went; a missing folder is 0. */
guint ar_recipe_admin_remove_all(const char *admin_dir);

G_END_DECLS
