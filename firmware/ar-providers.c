/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-providers.h"

#include <string.h>

#include "ar-janus.h"
#include "ar-native-call.h"
#include "ar-room-call.h"
#include "ar-web-engine.h"
#include "ar-whip.h"

/* What the meeting page may never reach: anyroomd's own HTTPS server on
 * loopback (and, when it listens on the LAN, on the room's addresses: the web
 * engine adds those at each join). */
static char **
admin_origins(const char *listen, guint *port_out)
{
  g_autoptr(GStrvBuilder) out = g_strv_builder_new();
  *port_out = 0;
  const char *colon = listen ? strrchr(listen, ':') : NULL;
  guint64 port = 0;
  if (colon && g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
    g_autofree char *host = g_strndup(listen, colon - listen);
    const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]"};
    for (gsize i = 0; i < G_N_ELEMENTS(loopback); i++) {
      g_autofree char *o = g_strdup_printf("https://%s:%u", loopback[i], (guint)port);
      g_strv_builder_add(out, o);
    }
    if (!g_str_equal(host, "127.0.0.1") && !g_str_equal(host, "localhost") &&
        !g_str_equal(host, "[::1]"))
      *port_out = (guint)port;
  }
  return g_strv_builder_end(out);
}

char *
ar_providers_admin_recipes_dir(const ArConfig *config, const char *state_dir)
{
  if (config->web_recipes_dir)
    return g_strdup(config->web_recipes_dir);
  return state_dir ? g_build_filename(state_dir, "recipes", NULL) : NULL;
}

gboolean
ar_providers_register_builtin(ArProviderRegistry *registry, const ArConfig *config,
                              ArMediaEngine *engine, const ArProvidersOptions *options,
                              GError **error)
{
  g_autoptr(ArNativeEngine) native = ar_native_engine_new(config, engine, error);
  if (!native)
    return FALSE;
  ar_janus_provider_register(registry, native);
  ar_whip_provider_register(registry, native);
  ar_room_call_register(registry, native, options ? options->room_calls : NULL);
  if (!config->web_enabled || !engine)
    return TRUE;
  const char *state_dir = options ? options->state_dir : NULL;
  guint admin_port = 0;
  g_auto(GStrv) blocked = admin_origins(config->admin_listen, &admin_port);
  g_autofree char *admin_recipes = ar_providers_admin_recipes_dir(config, state_dir);
  ArWebEngineOptions wo = {
      .chromium = config->web_browser,
      .headless = config->web_headless,
      .wayland_display = config->web_wayland_display,
      .start_timeout_ms = config->web_browser_start_timeout_s * 1000,
      .answer_timeout_ms = config->web_browser_answer_timeout_s * 1000,
      .extra_flags = (const char *const *)config->web_browser_flags,
      .blocked = (const char *const *)blocked,
      .state_dir = state_dir,
      .admin_recipes_dir = admin_recipes,
      .room_email = config->web_room_email,
      .bridge = config->web_bridge,
      .admin_port = admin_port,
      /* systemd's RuntimeDirectory= (/run/anyroom on the device); else the default. */
      .runtime_dir = g_getenv("RUNTIME_DIRECTORY"),
  };
  g_autoptr(ArWebEngine) web = ar_web_engine_new(config, engine, &wo, error);
  if (!web)
    return FALSE;
  ar_web_engine_register(web, registry);
  if (options && options->web_engine)
    *options->web_engine = g_steal_pointer(&web);
  return TRUE;
}
