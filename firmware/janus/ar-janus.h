/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-janus.h: the Janus VideoRoom provider (native engine). Serves links of
 * provider "janus" (janus+ws://, janus+wss://, janus+http(s)://).
 */
#pragma once

#include "ar-native-call.h"

G_BEGIN_DECLS

/* Registers the provider for (AR_ENGINE_NATIVE, "janus") through the native
 * engine (which adds reconnection and TURN credentials); its calls make peers
 * of the native engine's media engine, which must outlive @registry. */
void ar_janus_provider_register(ArProviderRegistry *registry, ArNativeEngine *native);

G_END_DECLS
