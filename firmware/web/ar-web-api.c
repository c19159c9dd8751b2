/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-api.c: the scripting API's groups served over HTTPS: status,
 * commands (join, leave) and configuration (docs/api.md). */
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

static void
handle_config(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(method, "PUT")) {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
    if (!body) {
      ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    JsonObject *o = json_node_get_object(body);
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next)
      if (!g_str_equal(l->data, "room_name")) {
        ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "unknown setting (known: room_name)");
        return;
      }
    const char *name = ar_web_string_member(body, "room_name");
    const char *why = "room_name must be a string";
    if (!name || !ar_web_room_name_ok(name, &why)) {
      ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, why);
      return;
    }
    g_autofree char *old = s->config->room_name;
    s->config->room_name = g_strdup(name);
    if (!ar_web_save_settings(s, &error)) {
      g_free(s->config->room_name);
      s->config->room_name = g_steal_pointer(&old);
      g_warning("admin: cannot save settings: %s", error->message);
      ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the settings");
      return;
    }
    ar_web_audit(s, msg, caller, "config", "room_name changed");
    g_autoptr(JsonBuilder) eb = json_builder_new();
    json_builder_begin_object(eb);
    json_builder_set_member_name(eb, "event");
    json_builder_add_string_value(eb, "config");
    json_builder_set_member_name(eb, "room_name");
    json_builder_add_string_value(eb, name);
    json_builder_end_object(eb);
    g_autoptr(JsonNode) ev = json_builder_get_root(eb);
    ar_api_hub_broadcast(s->hub, ev);
  } else if (!g_str_equal(method, "GET")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or PUT");
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "room_name");
  json_builder_add_string_value(b, s->config->room_name);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

void
ar_web_api_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/status", "GET", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_status},
      {"/api/v1/commands/join", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_join},
      {"/api/v1/commands/leave", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_leave},
      {"/api/v1/config", "GET PUT", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_config},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
