/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-api.c: the scripting API's groups served over HTTPS: status, meetings,
 * commands (join, leave, the calendar's) and configuration (docs/api.md). */
#include "ar-web-priv.h"

static void
handle_status(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autoptr(JsonNode) status = ar_api_hub_status(s->hub);
  ar_api_respond_json(msg, SOUP_STATUS_OK, status);
}

static void
handle_join(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  /* Parsed here once for the limits; the hub parses the same bytes. */
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  /* The link is not logged: meeting links carry passcodes. */
  ar_web_audit(s, msg, caller, "join", NULL);
  ar_api_hub_join(s->hub, msg, AR_WEB_MAX_BODY);
}

static void
handle_leave(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_web_audit(s, msg, caller, "leave", NULL);
  ar_api_hub_leave(s->hub, msg);
}

/* The configuration group (ar-api-config.h), shared with the local socket. */
static void
handle_config(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_auto(GStrv) changed = ar_api_hub_config(s->hub, msg, AR_WEB_MAX_BODY);
  if (changed) {
    g_autofree char *list = g_strjoinv(", ", changed);
    g_autofree char *detail = g_strconcat("changed ", list, NULL);
    ar_web_audit(s, msg, caller, "config", detail);
  }
}

static void
handle_meetings(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_api_hub_meetings(s->hub, msg);
}

/* cancel-auto-join (the room screen and panels), calendar-refresh (an administrator). */
static void
handle_calendar_command(ArWebServer *s, SoupServerMessage *msg, const char *path,
                        const ArWebCaller *caller)
{
  const char *name = ar_api_hub_command_name(path);
  ar_web_audit(s, msg, caller, name, NULL);
  ar_api_hub_command(s->hub, msg, name, AR_WEB_MAX_BODY);
}

void
ar_web_api_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/status", "GET", AR_WEB_AUTH_DEVICE, handle_status, AR_WEB_SCOPE_STATUS},
      {"/api/v1/commands/join", "POST", AR_WEB_AUTH_DEVICE, handle_join, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/leave", "POST", AR_WEB_AUTH_DEVICE, handle_leave, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/meetings", "GET", AR_WEB_AUTH_DEVICE, handle_meetings, AR_WEB_SCOPE_STATUS},
      {"/api/v1/commands/cancel-auto-join", "POST", AR_WEB_AUTH_DEVICE, handle_calendar_command,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/calendar-refresh", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN,
       handle_calendar_command, AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/config", "GET PATCH", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_config,
       AR_WEB_SCOPE_CONFIGURATION},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
