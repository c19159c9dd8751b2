/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-providers.h"

#include "ar-janus.h"

void
ar_providers_register_builtin(ArProviderRegistry *registry, ArMediaEngine *engine)
{
  ar_janus_provider_register(registry, engine);
}
