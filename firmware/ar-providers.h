/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-providers.h: which providers this firmware has. The one place that
 * names them; core knows providers only through ArProviderRegistry.
 */
#pragma once

#include "ar-provider.h"

G_BEGIN_DECLS

/* Registers every provider built into anyroomd (today: Janus VideoRoom,
 * native engine) in @registry. @engine: the room's media engine, which the
 * native engine's providers make their peers with; it must outlive @registry. */
void ar_providers_register_builtin(ArProviderRegistry *registry, ArMediaEngine *engine);

G_END_DECLS
