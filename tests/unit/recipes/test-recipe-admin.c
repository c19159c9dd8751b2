/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-recipe-admin.c: an administrator's recipe folder changed through the
 * API (ar-recipe-admin.h): an upload is validated by the loader with the
 * field named, the id must be the address's, it is written whole (0600) and
 * then loads with the folder; a refused one writes nothing; removal takes
 * administrator files only; the folder's cap holds.
 */
#include "ar-recipe-admin.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static char *
lab_data(gsize *len)
{
  char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(AR_LAB_RECIPES_DIR "/fixture-app.json", &data, len, &error));
  g_assert_no_error(error);
  return data;
}

static char *
make_dir(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("ar-recipe-admin-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static void
rm_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dir);
}

static guint
n_files(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d) != NULL)
    n++;
  return n;
}

static void
test_ids(void)
{
  g_assert_true(ar_recipe_id_is_valid("fixture-app"));
  g_assert_true(ar_recipe_id_is_valid("a"));
  g_assert_false(ar_recipe_id_is_valid(""));
  g_assert_false(ar_recipe_id_is_valid(NULL));
  g_assert_false(ar_recipe_id_is_valid("Teams"));
  g_assert_false(ar_recipe_id_is_valid("../x"));
  g_assert_false(ar_recipe_id_is_valid("a.json"));
  g_assert_false(ar_recipe_id_is_valid("0123456789012345678901234567890123"));
}

static void
test_put_and_load(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *admin = g_build_filename(dir, "recipes", NULL); /* created by the put */
  gsize len = 0;
  g_autofree char *data = lab_data(&len);
  g_autoptr(GError) error = NULL;
  gboolean replaced = TRUE;
  g_autoptr(ArRecipe) r = ar_recipe_admin_put(admin, "fixture-app", data, len, &replaced, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
  g_assert_false(replaced);
  g_autofree char *path = g_build_filename(admin, "fixture-app.json", NULL);
  struct stat st;
  g_assert_cmpint(stat(path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  g_assert_cmpint(stat(admin, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0700);
  g_autofree char *back = NULL;
  gsize back_len = 0;
  g_assert_true(g_file_get_contents(path, &back, &back_len, NULL));
  g_assert_cmpmem(back, back_len, data, len);
  g_assert_cmpuint(n_files(admin), ==, 1); /* no temporary file left */

  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(ArRecipeSet) set = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, admin, &problems);
  g_assert_cmpuint(problems->len, ==, 0);
  g_assert_true(ar_recipe_set_is_admin(set, "fixture-app"));

  g_autoptr(ArRecipe) again =
      ar_recipe_admin_put(admin, "fixture-app", data, len, &replaced, &error);
  g_assert_no_error(error);
  g_assert_true(replaced);

  g_autoptr(ArRecipeSet) shipped = ar_recipe_set_load(AR_SOURCE_RECIPES_DIR, NULL, NULL);
  g_assert_true(ar_recipe_admin_remove(admin, shipped, "fixture-app", &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n_files(admin), ==, 0);
  g_assert_false(ar_recipe_admin_remove(admin, shipped, "fixture-app", &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(ar_recipe_admin_remove(admin, shipped, "teams", &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_BUILT_IN);
  g_clear_error(&error);
  rm_dir(admin);
  g_rmdir(dir);
}

/* A refused upload names the field and writes nothing. */
static void
test_refused(void)
{
  g_autofree char *admin = make_dir();
  gsize len = 0;
  g_autofree char *data = lab_data(&len);
  g_autoptr(GError) error = NULL;

  /* Another id in the address. */
  g_assert_null(ar_recipe_admin_put(admin, "other-app", data, len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_ID_MISMATCH);
  g_assert_nonnull(strstr(error->message, "id: "));
  g_assert_nonnull(strstr(error->message, "\"fixture-app\""));
  g_clear_error(&error);

  /* A broken selector: the field is named, without the file name. */
  g_autoptr(GString) bad = g_string_new_len(data, len);
  g_assert_cmpuint(g_string_replace(bad, "\"#prejoin #name\"", "\"#prejoin [name\"", 1), ==, 1);
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", bad->str, bad->len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "steps[0].selectors[0]: "));
  g_clear_error(&error);

  /* http:// to a host that is not loopback: the loader's rule holds. */
  g_autoptr(GString) wide = g_string_new_len(data, len);
  g_assert_cmpuint(g_string_replace(wide, "\"origins\": [\"{link}\"]",
                                    "\"origins\": [\"http://evil.example\"]", 1),
                   ==, 1);
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", wide->str, wide->len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "origins[0]: "));
  g_clear_error(&error);

  /* Too large, too deep, empty, not JSON, a bad id. */
  g_autofree char *big = g_malloc0(AR_RECIPE_MAX_FILE_SIZE + 1);
  memset(big, ' ', AR_RECIPE_MAX_FILE_SIZE + 1);
  g_assert_null(
      ar_recipe_admin_put(admin, "fixture-app", big, AR_RECIPE_MAX_FILE_SIZE + 1, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_TOO_LARGE);
  g_clear_error(&error);
  g_autoptr(GString) deep = g_string_new(NULL);
  for (int i = 0; i < 5000; i++)
    g_string_append_c(deep, '[');
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", deep->str, deep->len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_TOO_LARGE);
  g_clear_error(&error);
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", "", 0, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", "{\"id\":", 6, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(ar_recipe_admin_put(admin, "../x", data, len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_BAD_ID);
  g_clear_error(&error);

  g_assert_cmpuint(n_files(admin), ==, 0);
  rm_dir(admin);
}

/* The folder's cap: a new file past AR_RECIPE_MAX_FILES is refused (the
 * loader would ignore it); replacing one is still fine. */
static void
test_full(void)
{
  g_autofree char *admin = make_dir();
  for (int i = 0; i < AR_RECIPE_MAX_FILES; i++) {
    g_autofree char *p = g_strdup_printf("%s/x%02d.json", admin, i);
    g_assert_true(g_file_set_contents(p, "{}", 2, NULL));
  }
  gsize len = 0;
  g_autofree char *data = lab_data(&len);
  g_autoptr(GError) error = NULL;
  g_assert_null(ar_recipe_admin_put(admin, "fixture-app", data, len, NULL, &error));
  g_assert_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_FULL);
  g_clear_error(&error);
  /* A file that did not load can still be removed by its id. */
  g_assert_true(ar_recipe_admin_remove(admin, NULL, "x00", &error));
  g_assert_no_error(error);
  g_autoptr(ArRecipe) r = ar_recipe_admin_put(admin, "fixture-app", data, len, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(r);
  /* Factory reset: recipe files and a left-over temporary file go, nothing else. */
  g_autofree char *tmp = g_build_filename(admin, ".x.json.AbC123", NULL);
  g_autofree char *other = g_build_filename(admin, "README", NULL);
  g_assert_true(g_file_set_contents(tmp, "{", 1, NULL));
  g_assert_true(g_file_set_contents(other, "x", 1, NULL));
  g_assert_cmpuint(ar_recipe_admin_remove_all(admin), ==, AR_RECIPE_MAX_FILES);
  g_assert_cmpuint(n_files(admin), ==, 1);
  g_assert_cmpuint(ar_recipe_admin_remove_all("/nonexistent/ar-recipes"), ==, 0);
  rm_dir(admin);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/recipes/admin/ids", test_ids);
  g_test_add_func("/recipes/admin/put-and-load", test_put_and_load);
  g_test_add_func("/recipes/admin/refused", test_refused);
  g_test_add_func("/recipes/admin/full", test_full);
  return g_test_run();
}
