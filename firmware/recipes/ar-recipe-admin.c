/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-recipe-admin.c: an administrator's recipe folder changed through the
 * API: validate with the loader, write atomically, remove (ar-recipe-admin.h).
 */
#include "ar-recipe-admin.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(ar - recipe - admin - error - quark, ar_recipe_admin_error)

gboolean
ar_recipe_id_is_valid(const char *id)
{
  if (id == NULL || id[0] == '\0' || strlen(id) > 32)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return FALSE;
  return TRUE;
}

/* The loader's message without its "ID.json: " (the upload has no file). */
static const char *
strip_file(const char *message, const char *file)
{
  gsize n = strlen(file);
  if (strncmp(message, file, n) == 0 && message[n] == ':' && message[n + 1] == ' ')
    return message + n + 2;
  return message;
}

/* The "id" member of a recipe the loader already parsed this far (it found
 * the id wrong: the JSON is valid and bounded). NULL if none. */
static char *
peek_id(const char *data, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonNode *id = json_object_get_member(json_node_get_object(root), "id");
  if (id == NULL || !JSON_NODE_HOLDS_VALUE(id) || json_node_get_value_type(id) != G_TYPE_STRING)
    return NULL;
  return g_strdup(json_node_get_string(id));
}

ArRecipe *
ar_recipe_admin_validate(const char *id, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(data != NULL || len == 0, NULL);
  if (!ar_recipe_id_is_valid(id)) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_BAD_ID,
                "not a recipe id (1 to 32 lower-case letters, digits and '-')");
    return NULL;
  }
  if (len > AR_RECIPE_MAX_FILE_SIZE) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_TOO_LARGE,
                "the recipe is larger than %d bytes (%" G_GSIZE_FORMAT ")", AR_RECIPE_MAX_FILE_SIZE,
                len);
    return NULL;
  }
  if (len == 0) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_INVALID,
                "the body is empty: send the recipe's JSON");
    return NULL;
  }
  g_autofree char *file = g_strconcat(id, ".json", NULL);
  g_autoptr(GError) local = NULL;
  ArRecipe *r = ar_recipe_new_from_data(file, data, len, &local);
  if (r != NULL)
    return r;
  const char *why = strip_file(local->message, file);
  if (g_str_has_prefix(why, "id: ") && strstr(why, "does not match the file name") != NULL) {
    g_autofree char *got = peek_id(data, len);
    g_autofree char *shown = got != NULL ? g_strescape(got, NULL) : NULL;
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_ID_MISMATCH,
                "id: the recipe's id \"%s\" is not the id in the address (%s)",
                shown != NULL ? shown : "?", id);
    return NULL;
  }
  gboolean large = g_error_matches(local, AR_RECIPE_ERROR, AR_RECIPE_ERROR_TOO_LARGE);
  g_set_error(error, AR_RECIPE_ADMIN_ERROR,
              large ? AR_RECIPE_ADMIN_ERROR_TOO_LARGE : AR_RECIPE_ADMIN_ERROR_INVALID, "%s", why);
  return NULL;
}

static gboolean
io_error(GError **error, int e, const char *what, const char *path)
{
  g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_IO, "cannot %s %s: %s", what,
              path, g_strerror(e));
  return FALSE;
}

/* Creates the folder (0700) if missing; refuses anything but a folder. */
static gboolean
ensure_dir(const char *dir, struct stat *st, GError **error)
{
  if (g_mkdir_with_parents(dir, 0700) != 0)
    return io_error(error, errno, "create", dir);
  if (lstat(dir, st) != 0)
    return io_error(error, errno, "read", dir);
  if (!S_ISDIR(st->st_mode)) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_IO, "%s is not a folder", dir);
    return FALSE;
  }
  return TRUE;
}

/* Recipe files the loader would count ("*.json", not hidden), but @except. */
static guint
count_files(const char *dir, const char *except)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint n = 0;
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    if (name[0] != '.' && g_str_has_suffix(name, ".json") && g_strcmp0(name, except) != 0)
      n++;
  return n;
}

static void
sync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

static gboolean
write_all(int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

ArRecipe *
ar_recipe_admin_put(const char *admin_dir, const char *id, const char *data, gsize len,
                    gboolean *replaced, GError **error)
{
  g_return_val_if_fail(admin_dir != NULL, NULL);
  g_autoptr(ArRecipe) r = ar_recipe_admin_validate(id, data, len, error);
  if (r == NULL)
    return NULL;
  struct stat dst;
  if (!ensure_dir(admin_dir, &dst, error))
    return NULL;
  g_autofree char *file = g_strconcat(id, ".json", NULL);
  g_autofree char *path = g_build_filename(admin_dir, file, NULL);
  struct stat st;
  gboolean existed = lstat(path, &st) == 0;
  if (existed && S_ISDIR(st.st_mode)) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_IO, "%s is a folder", path);
    return NULL;
  }
  if (!existed && count_files(admin_dir, file) >= AR_RECIPE_MAX_FILES) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_FULL,
                "the folder holds %d recipes already: remove one first", AR_RECIPE_MAX_FILES);
    return NULL;
  }
  /* Hidden while written: the loader skips names starting with '.'. */
  g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", admin_dir, file);
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    io_error(error, errno, "create a file in", admin_dir);
    return NULL;
  }
  /* A daemon running as root writes the file for the folder's owner. */
  if (geteuid() == 0 && (dst.st_uid != 0 || dst.st_gid != 0))
    (void)fchown(fd, dst.st_uid, dst.st_gid);
  if (!write_all(fd, data, len) || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    g_unlink(tmp);
    {
      io_error(error, e, "write", tmp);
      return NULL;
    }
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    g_unlink(tmp);
    {
      io_error(error, e, "write", path);
      return NULL;
    }
  }
  sync_dir(admin_dir);
  if (replaced != NULL)
    *replaced = existed;
  return g_steal_pointer(&r);
}

gboolean
ar_recipe_admin_remove(const char *admin_dir, const ArRecipeSet *shipped, const char *id,
                       GError **error)
{
  g_return_val_if_fail(admin_dir != NULL, FALSE);
  if (!ar_recipe_id_is_valid(id)) {
    g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_BAD_ID,
                "not a recipe id (1 to 32 lower-case letters, digits and '-')");
    return FALSE;
  }
  g_autofree char *file = g_strconcat(id, ".json", NULL);
  g_autofree char *path = g_build_filename(admin_dir, file, NULL);
  struct stat st;
  if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode)) {
    if (shipped != NULL && ar_recipe_set_lookup_id(shipped, id) != NULL)
      g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_BUILT_IN,
                  "\"%s\" is a built-in recipe: it cannot be removed, only replaced by an "
                  "administrator's recipe with the same id",
                  id);
    else
      g_set_error(error, AR_RECIPE_ADMIN_ERROR, AR_RECIPE_ADMIN_ERROR_NOT_FOUND,
                  "no administrator's recipe \"%s\"", id);
    return FALSE;
  }
  if (g_unlink(path) != 0)
    return io_error(error, errno, "remove", path);
  sync_dir(admin_dir);
  return TRUE;
}

guint
ar_recipe_admin_remove_all(const char *admin_dir)
{
  g_return_val_if_fail(admin_dir != NULL, 0);
  g_autoptr(GDir) d = g_dir_open(admin_dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint n = 0;
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    gboolean temp = name[0] == '.' && strstr(name, ".json.") != NULL;
    gboolean recipe = name[0] != '.' && g_str_has_suffix(name, ".json");
    if (!temp && !recipe)
      continue;
    g_autofree char *path = g_build_filename(admin_dir, name, NULL);
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode))
      continue;
    if (g_unlink(path) == 0 && recipe)
      n++;
  }
  sync_dir(admin_dir);
  return n;
}
