/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the body of PATCH /api/v1/config (both APIs), from the JSON
 * parser through the settings layer to the config file's validation. Each
 * input starts from the defaults and an empty state dir. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "ar-api-config.h"
#include "ar-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *state_dir;

static void
clean(void)
{
  g_autofree char *p = g_build_filename(state_dir, "settings.conf", NULL);
  g_unlink(p);
}

static void
remove_state_dir(void)
{
  clean();
  g_rmdir(state_dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!state_dir) {
    state_dir = g_dir_make_tmp("ar-fuzz-config-patch-XXXXXX", NULL);
    if (state_dir)
      atexit(remove_state_dir);
  }
  /* As ar_api_body_object() reads a body: the strict check first. */
  if (!state_dir || size > 64 * 1024 || !ar_json_check((const char *)data, size, 4, NULL))
    return 0;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!json_parser_load_from_data(p, (const char *)data, (gssize)size, NULL))
    return 0;
  g_autoptr(ArConfig) c = ar_config_new_default();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) changed = NULL;
  if (ar_api_config_patch(c, state_dir, json_parser_get_root(p), &changed, NULL, &error)) {
    /* What was saved loads again. */
    g_autoptr(ArConfig) again = ar_config_new_default();
    g_autoptr(GError) e2 = NULL;
    if (!ar_api_config_apply_saved(again, state_dir, &e2))
      g_error("saved settings do not load: %s", e2->message);
    g_autoptr(JsonNode) got = ar_api_config_get(c);
    g_assert_nonnull(got);
  }
  clean();
  return 0;
}
