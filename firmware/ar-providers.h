/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-providers.h: which providers this firmware has. The one place that
 * names them; core knows providers only through ArProviderRegistry.
 */
#pragma once

#include "ar-config.h"
#include "ar-provider.h"

G_BEGIN_DECLS

/* Registers every engine and provider built into anyroomd (today: the native
 * engine with Janus VideoRoom) in @registry. @engine: the room's media engine,
 * which the native engine's providers make their peers with (NULL: register
 * only, for tests); it and @config must outlive @registry. Fails on network
 * settings the media engine refuses. */
gboolean ar_providers_register_builtin(ArProviderRegistry *registry, const ArConfig *config,
                                       ArMediaEngine *engine,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
