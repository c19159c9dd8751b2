/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-recipes.c: the web engine's join recipes over HTTPS: GET
 * /api/v1/recipes, PUT and DELETE /api/v1/recipes/ID (ar-api-recipes.h,
 * docs/api.md). Admin sessions, and tokens with the configuration scope. */
#include "ar-web-priv.h"

static void
handle_recipes(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autofree char *detail = NULL;
  const char *event = ar_api_hub_recipes(s->hub, msg, path, &detail);
  if (event)
    ar_web_audit(s, msg, caller, event, detail);
}

void
ar_web_recipes_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/recipes", "GET", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_recipes,
       AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/recipes/", "PUT DELETE", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_recipes,
       AR_WEB_SCOPE_CONFIGURATION},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
