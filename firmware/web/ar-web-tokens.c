/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-tokens.c: per-integration API tokens (shown once, stored hashed,
 * each with the scopes chosen at creation), for admin sessions only.
 * Revoking a token ends its event and video streams and every credential
 * minted on its authority (panels it paired). (The audit log listing:
 * ar-web-audit.c.) */
#include "ar-web-priv.h"

#include <string.h>

#include "ar-janus-msg.h"

static void
handle_tokens(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_has_prefix(path, "/api/v1/tokens/")) {
    const char *name = path + strlen("/api/v1/tokens/");
    if (!g_str_equal(method, "DELETE")) {
      ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use DELETE");
      return;
    }
    for (guint i = 0; i < s->tokens->len; i++) {
      ArWebToken *t = s->tokens->pdata[i];
      if (g_str_equal(t->name, name)) {
        g_autofree char *gone = g_strdup(t->name);
        g_autofree char *owner = ar_web_owner_of("token", t->hash);
        ar_api_hub_close_event_clients(s->hub, owner);
        ar_web_room_close_video(s, owner);
        g_ptr_array_remove_index(s->tokens, i);
        g_autoptr(GError) error = NULL;
        if (!ar_web_save_tokens(s, &error))
          g_warning("admin: cannot save tokens: %s", error->message);
        g_autofree char *detail = g_strdup_printf("token %s revoked", gone);
        ar_web_audit(s, msg, caller, "token_revoked", detail);
        /* What the token minted goes with it (audited one by one). */
        ar_web_room_revoke_derived(s, msg, caller, owner);
        ar_web_error(msg, SOUP_STATUS_OK, NULL);
        return;
      }
    }
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no token of that name");
    return;
  }
  if (g_str_equal(method, "GET")) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tokens");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->tokens->len; i++) {
      ArWebToken *t = s->tokens->pdata[i];
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, t->name);
      json_builder_set_member_name(b, "created");
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t->created);
      g_autofree char *iso = dt ? g_date_time_format_iso8601(dt) : NULL;
      json_builder_add_string_value(b, iso);
      json_builder_set_member_name(b, "scopes");
      json_builder_add_value(b, ar_web_scopes_to_json(t->scopes));
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    ar_api_respond_json(msg, SOUP_STATUS_OK, node);
    return;
  }
  if (!g_str_equal(method, "POST")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or POST");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *name = ar_web_string_member(body, "name");
  if (!ar_web_token_name_ok(name)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 "name: 1 to 64 characters of letters, digits, '.', '_' and '-'");
    return;
  }
  guint scopes = 0;
  const char *why = NULL;
  JsonObject *bo = json_node_get_object(body);
  if (!ar_web_scopes_from_json(json_object_get_member(bo, "scopes"), &scopes, &why)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, why);
    return;
  }
  for (guint i = 0; i < s->tokens->len; i++)
    if (g_str_equal(((ArWebToken *)s->tokens->pdata[i])->name, name)) {
      ar_web_error(msg, SOUP_STATUS_CONFLICT, "a token of that name exists: revoke it first");
      return;
    }
  if (s->tokens->len >= AR_WEB_MAX_TOKENS) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "too many tokens (32): revoke one first");
    return;
  }
  g_autofree char *secret = ar_web_random_hex("art_");
  if (!secret) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  ArWebToken *t = g_new0(ArWebToken, 1);
  t->name = g_strdup(name);
  t->hash = ar_web_sha256_hex(secret, strlen(secret));
  t->created = g_get_real_time() / G_USEC_PER_SEC;
  t->scopes = scopes;
  g_ptr_array_add(s->tokens, t);
  if (!ar_web_save_tokens(s, &error)) {
    g_ptr_array_remove(s->tokens, t);
    g_warning("admin: cannot save tokens: %s", error->message);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the token");
    return;
  }
  g_autoptr(JsonNode) scope_list = ar_web_scopes_to_json(scopes);
  g_autofree char *scope_text = json_to_string(scope_list, FALSE);
  g_autofree char *detail = g_strdup_printf("token %s created, scopes %s", name, scope_text);
  ar_web_audit(s, msg, caller, "token_created", detail);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_set_member_name(b, "token");
  json_builder_add_string_value(b, secret);
  json_builder_set_member_name(b, "scopes");
  json_builder_add_value(b, ar_web_scopes_to_json(scopes));
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_CREATED, node);
}

void
ar_web_tokens_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/tokens", "GET POST", AR_WEB_AUTH_SESSION, handle_tokens},
      {"/api/v1/tokens/", "DELETE", AR_WEB_AUTH_SESSION, handle_tokens},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
