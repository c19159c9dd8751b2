/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-panels.c: touch panels (docs/api.md "Room screen and touch panels"):
 * pairing with the code the room screen shows, panel credentials (panels.json,
 * their life and renewal), the admin's list and revocation. The roles and their
 * rules are described at the top of ar-web-room.c.
 */
#include "ar-web-room-priv.h"

#include <string.h>

void
ar_web_panel_free(ArWebPanel *p)
{
  g_free(p->id);
  g_free(p->name);
  g_free(p->hash);
  g_free(p->csrf);
  g_free(p->parent);
  g_free(p);
}

void
ar_web_pairing_free(Pairing *p)
{
  if (!p)
    return;
  g_free(p->id);
  g_free(p->code);
  g_free(p);
}

/* ---- panels on disk: panels.json ---- */

gboolean
ar_web_panels_save(ArWebServer *s, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < s->room->panels->len; i++) {
    ArWebPanel *p = s->room->panels->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, p->id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, p->name);
    json_builder_set_member_name(b, "hash");
    json_builder_add_string_value(b, p->hash);
    json_builder_set_member_name(b, "csrf");
    json_builder_add_string_value(b, p->csrf);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, p->created);
    json_builder_set_member_name(b, "expires");
    json_builder_add_int_value(b, p->expires);
    if (p->parent) {
      json_builder_set_member_name(b, "parent");
      json_builder_add_string_value(b, p->parent);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  g_autofree char *text = json_to_string(n, TRUE);
  g_autofree char *path = ar_web_state_path(s, "panels.json");
  return ar_web_write_private_file(path, text, strlen(text), error);
}

gboolean
ar_web_panels_load(ArWebServer *s, GError **error)
{
  g_autofree char *path = ar_web_state_path(s, "panels.json");
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL))
    return TRUE; /* none yet */
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (len > 256 * 1024 || !json_parser_load_from_data(parser, text, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a JSON array", path);
    return FALSE;
  }
  JsonArray *a = json_node_get_array(json_parser_get_root(parser));
  gboolean migrated = FALSE;
  for (guint i = 0; i < json_array_get_length(a) && s->room->panels->len < AR_PANEL_MAX; i++) {
    JsonNode *e = json_array_get_element(a, i);
    const char *id = ar_web_string_member(e, "id"), *name = ar_web_string_member(e, "name");
    const char *hash = ar_web_string_member(e, "hash"), *csrf = ar_web_string_member(e, "csrf");
    if (!id || !name || !hash || !csrf)
      continue;
    ArWebPanel *p = g_new0(ArWebPanel, 1);
    p->id = g_strdup(id);
    p->name = g_strdup(name);
    p->hash = g_strdup(hash);
    p->csrf = g_strdup(csrf);
    JsonObject *o = json_node_get_object(e);
    p->created = json_object_get_int_member_with_default(o, "created", 0);
    /* Panels paired before credentials had a life get one from now (saved
     * below, so a restart does not extend it). */
    migrated |= !json_object_has_member(o, "expires");
    p->expires =
        json_object_get_int_member_with_default(o, "expires", ar_web_now_s() + AR_WEB_PANEL_LIFE_S);
    p->parent = g_strdup(ar_web_string_member(e, "parent"));
    g_ptr_array_add(s->room->panels, p);
  }
  if (migrated)
    return ar_web_panels_save(s, error);
  return TRUE;
}

/* ---- a panel's credential ---- */

char *
ar_web_panel_owner(ArWebPanel *p)
{
  return g_strconcat("panel:", p->id, NULL);
}

/* The panel whose credential @secret is (expired ones too), or NULL. */
ArWebPanel *
ar_web_panel_of_secret(ArWebServer *s, const char *secret)
{
  g_autofree char *h = ar_web_sha256_hex(secret, strlen(secret));
  ArWebPanel *found = NULL;
  for (guint i = 0; i < s->room->panels->len; i++) {
    ArWebPanel *p = s->room->panels->pdata[i];
    if (ar_web_secret_equal(p->hash, h) && !found)
      found = p;
  }
  return found;
}

/* A valid panel request: past half its life, the credential is extended
 * (the stored expiry and the cookie's Max-Age, same secret). */
void
ar_web_panel_renew_if_due(ArWebServer *s, SoupServerMessage *msg, ArWebPanel *p, const char *secret)
{
  gint64 now = ar_web_now_s();
  if (ar_web_panel_life(p->expires, now, AR_WEB_PANEL_LIFE_S) != AR_WEB_PANEL_RENEW)
    return;
  gint64 old = p->expires;
  p->expires = now + AR_WEB_PANEL_LIFE_S;
  g_autoptr(GError) error = NULL;
  if (!ar_web_panels_save(s, &error)) {
    g_warning("room: cannot save panels: %s", error->message);
    p->expires = old;
    return;
  }
  g_autofree char *cookie = ar_web_make_cookie(PANEL_COOKIE, secret, AR_WEB_PANEL_LIFE_S);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  g_message("room: panel %s renewed for %" G_GINT64_FORMAT " days", p->id,
            AR_WEB_PANEL_LIFE_S / 86400);
}

gboolean
ar_web_panel_expired(ArWebPanel *p)
{
  return ar_web_panel_life(p->expires, ar_web_now_s(), AR_WEB_PANEL_LIFE_S) == AR_WEB_PANEL_EXPIRED;
}

void
ar_web_pairing_expire(ArWebServer *s)
{
  ArWebRoom *r = s->room;
  if (r->pairing && g_get_monotonic_time() > r->pairing->expires_us) {
    g_clear_pointer(&r->pairing, ar_web_pairing_free);
    ar_web_room_broadcast(s, "pairing", "active", FALSE);
  }
}

/* ---- pairing ---- */

/* TRUE while the hour's budget of wrong codes is spent (answers 429). */
static gboolean
pairing_locked(ArWebServer *s, SoupServerMessage *msg)
{
  ArWebRoom *r = s->room;
  gint64 now = g_get_monotonic_time();
  if (!r->wrong_window_start_us || now - r->wrong_window_start_us > AR_PAIRING_WINDOW_US) {
    r->wrong_window_start_us = now;
    r->wrong_in_window = 0;
  }
  if (r->wrong_in_window < AR_PAIRING_WRONG_PER_HOUR)
    return FALSE;
  g_autofree char *retry =
      g_strdup_printf("%" G_GINT64_FORMAT,
                      (r->wrong_window_start_us + AR_PAIRING_WINDOW_US - now) / G_USEC_PER_SEC + 1);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", retry);
  ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS,
               "too many wrong pairing codes this hour: pairing is paused");
  return TRUE;
}

static void
forget_panel_at(ArWebServer *s, guint i)
{
  g_autofree char *owner = ar_web_panel_owner(s->room->panels->pdata[i]);
  ar_api_hub_close_event_clients(s->hub, owner);
  g_ptr_array_remove_index(s->room->panels, i);
}

/* A full list makes room by dropping the panel that expired first. */
static void
drop_an_expired_panel(ArWebServer *s)
{
  ArWebRoom *r = s->room;
  if (r->panels->len < AR_PANEL_MAX)
    return;
  gint oldest = -1;
  for (guint i = 0; i < r->panels->len; i++) {
    ArWebPanel *p = r->panels->pdata[i];
    if (ar_web_panel_expired(p) &&
        (oldest < 0 || p->expires < ((ArWebPanel *)r->panels->pdata[oldest])->expires))
      oldest = (gint)i;
  }
  if (oldest < 0)
    return;
  g_message("room: panel %s expired and makes room for a new one",
            ((ArWebPanel *)r->panels->pdata[oldest])->id);
  forget_panel_at(s, (guint)oldest);
  g_autoptr(GError) error = NULL;
  if (!ar_web_panels_save(s, &error))
    g_warning("room: cannot save panels: %s", error->message);
}

static void
handle_pair_start(ArWebServer *s, SoupServerMessage *msg, const char *path,
                  const ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  if (pairing_locked(s, msg))
    return;
  drop_an_expired_panel(s);
  if (r->panels->len >= AR_PANEL_MAX) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "too many panels: the admin must remove one first");
    return;
  }
  /* One pairing at a time; a new request replaces the old one (its code
   * stops working), so guessing across requests gains nothing. */
  ar_web_pairing_free(r->pairing);
  r->pairing = g_new0(Pairing, 1);
  r->pairing->id = ar_web_random_hex(NULL);
  r->pairing->code = ar_web_random_digits(6);
  r->pairing->expires_us = g_get_monotonic_time() + AR_PAIRING_TTL_US;
  if (!r->pairing->id || !r->pairing->code) {
    g_clear_pointer(&r->pairing, ar_web_pairing_free);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  g_debug("room: a panel at %s asks to pair", ar_web_client_of(msg));
  ar_web_audit(s, msg, NULL, "pairing-started", NULL);
  ar_web_room_broadcast(s, "pairing", "active", TRUE);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "pairing_id");
  json_builder_add_string_value(b, r->pairing->id);
  json_builder_set_member_name(b, "expires_in_s");
  json_builder_add_int_value(b, AR_PAIRING_TTL_US / G_USEC_PER_SEC);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, n);
}

static gboolean
panel_name_ok(const char *name)
{
  if (!name || !*name || strlen(name) > AR_PANEL_NAME_MAX || !g_utf8_validate(name, -1, NULL))
    return FALSE;
  for (const char *p = name; *p; p = g_utf8_next_char(p))
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return FALSE;
  return TRUE;
}

static void
handle_pair(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *id = ar_web_string_member(body, "pairing_id");
  const char *code = ar_web_string_member(body, "code");
  const char *name = ar_web_string_member(body, "name");
  if (!name)
    name = "Touch panel";
  if (!id || !code || !panel_name_ok(name)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 "send pairing_id, code and (optional) a name of at most 48 characters");
    return;
  }
  ar_web_pairing_expire(s);
  if (pairing_locked(s, msg))
    return;
  if (!r->pairing || !ar_web_secret_equal(id, r->pairing->id)) {
    ar_web_error(msg, SOUP_STATUS_GONE, "no such pairing (expired or replaced): start again");
    return;
  }
  if (!ar_web_secret_equal(code, r->pairing->code)) {
    r->pairing->tries++;
    r->wrong_in_window++;
    ar_web_audit(s, msg, NULL, "pairing-failed", NULL);
    if (r->pairing->tries >= AR_PAIRING_MAX_TRIES) {
      g_clear_pointer(&r->pairing, ar_web_pairing_free);
      ar_web_room_broadcast(s, "pairing", "active", FALSE);
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "wrong code, too many tries: start again");
      return;
    }
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "wrong code");
    return;
  }
  g_clear_pointer(&r->pairing, ar_web_pairing_free);
  ar_web_room_broadcast(s, "pairing", "active", FALSE);
  g_autofree char *secret = ar_web_random_hex(NULL);
  g_autofree char *pid = ar_web_random_hex(NULL);
  g_autofree char *csrf = ar_web_random_hex(NULL);
  if (!secret || !pid || !csrf) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  ArWebPanel *p = g_new0(ArWebPanel, 1);
  p->id = g_strndup(pid, 16);
  p->name = g_strdup(name);
  p->hash = ar_web_sha256_hex(secret, strlen(secret));
  p->csrf = g_strdup(csrf);
  p->created = ar_web_now_s();
  p->expires = p->created + AR_WEB_PANEL_LIFE_S;
  /* Minted on a token's authority (the core checked its scopes): it goes
   * when the token is revoked. */
  if (caller->token)
    p->parent = ar_web_owner_of("token", caller->token->hash);
  g_ptr_array_add(r->panels, p);
  if (!ar_web_panels_save(s, &error)) {
    g_warning("room: cannot save panels: %s", error->message);
    g_ptr_array_remove(r->panels, p);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the panel");
    return;
  }
  ar_web_audit(s, msg, caller, "panel-paired", p->id);
  g_message("room: panel %s paired from %s%s", p->id, ar_web_client_of(msg),
            caller->token ? " with an API token" : "");
  g_autofree char *cookie = ar_web_make_cookie(PANEL_COOKIE, secret, AR_WEB_PANEL_LIFE_S);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  ar_web_respond_csrf(msg, csrf, "panel_id", p->id);
}

/* GET: whether this browser holds a panel credential (and its CSRF token). */
static void
handle_panel_session(ArWebServer *s, SoupServerMessage *msg, const char *path,
                     const ArWebCaller *caller)
{
  g_autofree char *panel = ar_web_cookie_value(msg, PANEL_COOKIE);
  ArWebPanel *found = panel ? ar_web_panel_of_secret(s, panel) : NULL;
  gboolean expired = found && ar_web_panel_expired(found);
  if (expired)
    found = NULL;
  if (found)
    ar_web_panel_renew_if_due(s, msg, found, panel);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "paired");
  json_builder_add_boolean_value(b, found != NULL);
  json_builder_set_member_name(b, "expired");
  json_builder_add_boolean_value(b, expired);
  json_builder_set_member_name(b, "expires");
  if (found)
    json_builder_add_int_value(b, found->expires);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "csrf_token");
  if (found)
    json_builder_add_string_value(b, found->csrf);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "name");
  if (found)
    json_builder_add_string_value(b, found->name);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, n);
}

/* Admin: GET /api/v1/panels, DELETE /api/v1/panels/ID. */
static void
handle_panels(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(method, "DELETE")) {
    const char *id = path + strlen("/api/v1/panels/");
    for (guint i = 0; i < r->panels->len; i++) {
      ArWebPanel *p = r->panels->pdata[i];
      if (g_str_equal(p->id, id)) {
        g_autofree char *owner = ar_web_panel_owner(p);
        g_autoptr(GError) error = NULL;
        ar_api_hub_close_event_clients(s->hub, owner);
        ar_web_audit(s, msg, caller, "panel-revoked", p->id);
        g_ptr_array_remove_index(r->panels, i);
        if (!ar_web_panels_save(s, &error))
          g_warning("room: cannot save panels: %s", error->message);
        ar_web_error(msg, SOUP_STATUS_OK, NULL);
        return;
      }
    }
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no such panel");
    return;
  }
  if (!g_str_equal(path, "/api/v1/panels")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET on /api/v1/panels");
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "panels");
  json_builder_begin_array(b);
  for (guint i = 0; i < r->panels->len; i++) {
    ArWebPanel *p = r->panels->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, p->id);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, p->name);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, p->created);
    json_builder_set_member_name(b, "expires");
    json_builder_add_int_value(b, p->expires);
    json_builder_set_member_name(b, "expired");
    json_builder_add_boolean_value(b, ar_web_panel_expired(p));
    json_builder_set_member_name(b, "paired_with_token");
    json_builder_add_boolean_value(b, p->parent != NULL);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, n);
}

void
ar_web_room_revoke_derived(ArWebServer *s, SoupServerMessage *msg, const ArWebCaller *caller,
                           const char *parent)
{
  ArWebRoom *r = s->room;
  gboolean changed = FALSE;
  for (guint i = r->panels->len; i > 0; i--) {
    ArWebPanel *p = r->panels->pdata[i - 1];
    if (!p->parent || !parent || !g_str_equal(p->parent, parent))
      continue;
    g_autofree char *detail = g_strdup_printf("%s (paired with the revoked token)", p->id);
    ar_web_audit(s, msg, caller, "panel-revoked", detail);
    g_message("room: panel %s revoked with the token that paired it", p->id);
    forget_panel_at(s, i - 1);
    changed = TRUE;
  }
  g_autoptr(GError) error = NULL;
  if (changed && !ar_web_panels_save(s, &error))
    g_warning("room: cannot save panels: %s", error->message);
}

/* Factory reset (ar-web-admin.c): every paired panel goes, its event streams
 * with it; panels.json is removed by the caller. */
void
ar_web_room_forget_panels(ArWebServer *s)
{
  ArWebRoom *r = s->room;
  if (!r)
    return;
  for (guint i = 0; i < r->panels->len; i++) {
    g_autofree char *owner = ar_web_panel_owner(r->panels->pdata[i]);
    ar_api_hub_close_event_clients(s->hub, owner);
  }
  g_ptr_array_set_size(r->panels, 0);
  g_clear_pointer(&r->pairing, ar_web_pairing_free);
}

void
ar_web_panels_add_routes(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/panel/pair/start", "POST", AR_WEB_AUTH_NONE, handle_pair_start},
      /* A token presented while pairing must hold what the panel will get. */
      {"/api/v1/panel/pair", "POST", AR_WEB_AUTH_NONE, handle_pair,
       AR_WEB_SCOPE_STATUS | AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/panel/session", "GET", AR_WEB_AUTH_NONE, handle_panel_session},
      {"/api/v1/panels", "GET", AR_WEB_AUTH_SESSION, handle_panels},
      {"/api/v1/panels/", "DELETE", AR_WEB_AUTH_SESSION, handle_panels},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
