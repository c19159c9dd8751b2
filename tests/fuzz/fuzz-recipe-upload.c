/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-recipe-upload.c: a recipe uploaded through the API (PUT
 * /api/v1/recipes/ID, ar-recipe-admin.h): the body is hostile, the id comes
 * from the address. Replays the recipe corpus (tests/fuzz/corpus/recipe).
 *
 * The input is validated as the recipe "fixture-app" and as the id it names
 * itself (when it names one). Besides memory errors: a refusal always says
 * why, without the loader's file name first, with the right code (an id
 * mismatch names the "id" field); what loads has the id asked for. Nothing
 * is written (validation only: ar_recipe_admin_put() writes after it).
 */
#include "ar-recipe-admin.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *id, const char *text, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArRecipe) r = ar_recipe_admin_validate(id, text, size, &error);
  if (r != NULL) {
    if (error != NULL || !g_str_equal(ar_recipe_get_id(r), id))
      abort();
    return;
  }
  if (error == NULL || error->domain != AR_RECIPE_ADMIN_ERROR || error->message[0] == '\0')
    abort();
  g_autofree char *file = g_strconcat(id, ".json: ", NULL);
  if (g_str_has_prefix(error->message, file))
    abort(); /* the upload has no file name */
  if (error->code == AR_RECIPE_ADMIN_ERROR_ID_MISMATCH && !g_str_has_prefix(error->message, "id: "))
    abort();
  if (error->code == AR_RECIPE_ADMIN_ERROR_TOO_LARGE && size <= AR_RECIPE_MAX_FILE_SIZE &&
      strstr(error->message, "deep") == NULL && strstr(error->message, "nest") == NULL)
    abort(); /* within the size: too large only for depth */
}

/* The "id" the input names, if it is short text (json-glib only after the
 * same nesting bound as the loader's). */
static char *
named_id(const char *data, size_t size)
{
  if (size > AR_RECIPE_MAX_FILE_SIZE || memchr(data, '\0', size) != NULL)
    return NULL;
  guint depth = 0, max = 0;
  gboolean in_string = FALSE;
  for (size_t i = 0; i < size; i++) {
    if (in_string) {
      if (data[i] == '\\')
        i++;
      else if (data[i] == '"')
        in_string = FALSE;
    } else if (data[i] == '"') {
      in_string = TRUE;
    } else if (data[i] == '{' || data[i] == '[') {
      max = MAX(max, ++depth);
    } else if ((data[i] == '}' || data[i] == ']') && depth > 0) {
      depth--;
    }
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (max > 16 || !json_parser_load_from_data(parser, data, (gssize)size, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  const char *id =
      json_object_get_string_member_with_default(json_node_get_object(root), "id", NULL);
  return ar_recipe_id_is_valid(id) ? g_strdup(id) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  check("fixture-app", text, size);
  g_autofree char *id = named_id(text, size);
  if (id != NULL)
    check(id, text, size);
  return 0;
}
