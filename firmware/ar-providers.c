/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-providers.h"

#include "ar-janus.h"
#include "ar-native-call.h"

gboolean
ar_providers_register_builtin(ArProviderRegistry *registry, const ArConfig *config,
                              ArMediaEngine *engine, GError **error)
{
  g_autoptr(ArNativeEngine) native = ar_native_engine_new(config, engine, error);
  if (!native)
    return FALSE;
  ar_janus_provider_register(registry, native);
  return TRUE;
}
