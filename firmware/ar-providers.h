/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-providers.h: which providers this firmware has. The one place that
 * names them; core knows providers only through ArProviderRegistry.
 */
#pragma once

#include "ar-config.h"
#include "ar-provider.h"

G_BEGIN_DECLS

typedef struct _ArWebEngine ArWebEngine;

typedef struct {
  const char *state_dir; /* the web engine's failure screenshots; its default recipe folder */
  /* Out (may be NULL): a reference to the web engine, NULL when it is off
   * (ar_web_engine_reload_recipes() after an administrator's change). */
  ArWebEngine **web_engine;
  /* The room's desk for calls to it (ar-room-call.h), or NULL: no calls to
   * the room (calls from it to a call link are always there). */
  struct _ArRoomCallDesk *room_calls;
} ArProvidersOptions;

/* The administrator's recipe folder: [web] recipes, else STATE_DIR/recipes
 * (NULL without either). Newly allocated. */
char *ar_providers_admin_recipes_dir(const ArConfig *config, const char *state_dir);

/* Registers every engine and provider built into anyroomd in @registry: the
 * native engine with Janus VideoRoom, and (unless [web] enabled=false) the
 * web engine with a provider for every service its join recipes serve.
 * @engine: the room's media engine, which both engines use (NULL: the native
 * engine only, registration tests); it, @config and @options' strings must
 * outlive @registry. Fails on network settings the media engine refuses. */
gboolean ar_providers_register_builtin(ArProviderRegistry *registry, const ArConfig *config,
                                       ArMediaEngine *engine, const ArProvidersOptions *options,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
