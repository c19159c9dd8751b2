/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-web-room.c: the room screen and the touch panels (docs/api.md "Room
 * screen and touch panels", docs/decisions.md).
 *
 * Roles. The room screen (the kiosk browser on this device) gets a room
 * session by handing over the kiosk secret (a file in the state dir only the
 * launcher reads, passed to the page in the URL fragment, never sent by the
 * browser on its own), from loopback only. A touch panel gets a panel
 * credential by pairing: it asks, the room screen shows a 6-digit code, the
 * panel sends it back (5 tries, 2 minutes). Both are HttpOnly, Secure,
 * SameSite=Strict cookies with a CSRF token, like the admin session, and can
 * only do what their page needs: status, events, the commands group; the room
 * screen also the pairing code, the setup code and the video stream (only the
 * room screen's own session sees those codes: not an admin session, not a
 * token). A panel credential lives AR_WEB_PANEL_LIFE_S and is renewed by use
 * once more than half of that is spent; a panel paired by a request that
 * carried an API token records the token as its parent and is revoked with
 * it. A page of
 * another origin in the same kiosk browser (a web-engine meeting) can neither
 * send those cookies (SameSite, Origin checks) nor read the secret.
 *
 * First-run setup from a client that is not on this device needs a one-time
 * code the room screen shows (whoever reaches the device first no longer
 * becomes its admin).
 */
#include "ar-web-room-priv.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

static void
room_session_free(RoomSession *r)
{
  g_free(r->id_hash);
  g_free(r->csrf);
  g_free(r);
}

/* ---- small helpers ---- */

char *
ar_web_cookie_value(SoupServerMessage *msg, const char *name)
{
  const char *cookie = ar_web_header(msg, "Cookie");
  if (!cookie || strlen(cookie) > 8192)
    return NULL;
  g_auto(GStrv) parts = g_strsplit(cookie, ";", 64);
  gsize nlen = strlen(name);
  for (gsize i = 0; parts[i]; i++) {
    char *p = g_strstrip(parts[i]);
    if (strncmp(p, name, nlen) == 0 && p[nlen] == '=' && strlen(p + nlen + 1) == 64)
      return g_strdup(p + nlen + 1);
  }
  return NULL;
}

/* @max_age_s 0: a session cookie (gone with the browser). */
char *
ar_web_make_cookie(const char *name, const char *value, gint64 max_age_s)
{
  g_autofree char *age =
      max_age_s > 0 ? g_strdup_printf("; Max-Age=%" G_GINT64_FORMAT, max_age_s) : g_strdup("");
  return g_strdup_printf("%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict%s", name, value, age);
}

gint64
ar_web_now_s(void)
{
  return g_get_real_time() / G_USEC_PER_SEC;
}

gboolean
ar_web_is_loopback_client(SoupServerMessage *msg)
{
  GSocketAddress *a = soup_server_message_get_remote_address(msg);
  if (!a || !G_IS_INET_SOCKET_ADDRESS(a))
    return FALSE;
  return g_inet_address_get_is_loopback(
      g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(a)));
}

/* @n decimal digits, uniformly (rejection sampling over random bytes). */
char *
ar_web_random_digits(guint n)
{
  GString *out = g_string_sized_new(n);
  while (out->len < n) {
    g_autofree char *hex = ar_web_random_hex(NULL);
    if (!hex) {
      g_string_free(out, TRUE);
      return NULL;
    }
    for (gsize i = 0; i + 2 <= 64 && out->len < n; i += 2) {
      guint byte = (guint)(g_ascii_xdigit_value(hex[i]) << 4 | g_ascii_xdigit_value(hex[i + 1]));
      if (byte < 250) /* a multiple of 10: no modulo bias */
        g_string_append_c(out, (char)('0' + byte % 10));
    }
  }
  return g_string_free(out, FALSE);
}

void
ar_web_room_broadcast(ArWebServer *s, const char *event, const char *key, gboolean value)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, event);
  json_builder_set_member_name(b, key);
  json_builder_add_boolean_value(b, value);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_hub_broadcast(s->hub, n);
}

void
ar_web_respond_csrf(SoupServerMessage *msg, const char *csrf, const char *extra_name,
                    const char *extra_value)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "csrf_token");
  json_builder_add_string_value(b, csrf);
  if (extra_name) {
    json_builder_set_member_name(b, extra_name);
    json_builder_add_string_value(b, extra_value);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, n);
}

gboolean
ar_web_room_authorize(ArWebServer *s, SoupServerMessage *msg, ArWebAuthNeed need,
                      ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  const char *csrf = NULL;
  g_autofree char *room = ar_web_cookie_value(msg, ROOM_COOKIE);
  if (room) {
    g_autofree char *h = ar_web_sha256_hex(room, strlen(room));
    for (guint i = 0; i < r->sessions->len && !csrf; i++) {
      RoomSession *rs = r->sessions->pdata[i];
      if (ar_web_secret_equal(rs->id_hash, h)) {
        csrf = rs->csrf;
        g_snprintf(caller->owner, sizeof caller->owner, "room:%s", rs->id_hash);
        caller->room = TRUE;
      }
    }
  }
  g_autofree char *panel =
      (!csrf && need == AR_WEB_AUTH_DEVICE) ? ar_web_cookie_value(msg, PANEL_COOKIE) : NULL;
  ArWebPanel *p = panel ? ar_web_panel_of_secret(s, panel) : NULL;
  if (p && ar_web_panel_expired(p)) {
    ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED, "this panel's pairing has expired: pair it again");
    return FALSE;
  }
  if (p) {
    csrf = p->csrf;
    g_snprintf(caller->owner, sizeof caller->owner, "panel:%s", p->id);
    caller->panel = p;
  }
  if (!csrf) {
    ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED,
                 need == AR_WEB_AUTH_ROOM ? "this needs the room screen's session"
                                          : "pair this panel first (or log in)");
    return FALSE;
  }
  if (ar_web_method_changes_state(soup_server_message_get_method(msg)) &&
      !ar_web_csrf_ok(csrf, ar_web_header(msg, "X-CSRF-Token"))) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong X-CSRF-Token header");
    return FALSE;
  }
  if (caller->panel)
    ar_web_panel_renew_if_due(s, msg, caller->panel, panel);
  return TRUE;
}

/* ---- the room screen ---- */

static void
handle_room_session(ArWebServer *s, SoupServerMessage *msg, const char *path,
                    const ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  if (!ar_web_is_loopback_client(msg)) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "the room screen runs on the device itself");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *secret = ar_web_string_member(body, "kiosk_secret");
  if (!secret || !r->kiosk_secret || !ar_web_secret_equal(secret, r->kiosk_secret)) {
    g_message("room: a wrong kiosk secret from %s", ar_web_client_of(msg));
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "wrong kiosk secret");
    return;
  }
  g_autofree char *id = ar_web_random_hex(NULL);
  g_autofree char *csrf = ar_web_random_hex(NULL);
  if (!id || !csrf) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  while (r->sessions->len >= AR_ROOM_MAX_SESSIONS) {
    RoomSession *old = r->sessions->pdata[0];
    g_autofree char *owner = g_strconcat("room:", old->id_hash, NULL);
    ar_api_hub_close_event_clients(s->hub, owner);
    ar_video_relay_close_clients(r->video, owner);
    g_ptr_array_remove_index(r->sessions, 0);
  }
  RoomSession *rs = g_new0(RoomSession, 1);
  rs->id_hash = ar_web_sha256_hex(id, strlen(id));
  rs->csrf = g_strdup(csrf);
  g_ptr_array_add(r->sessions, rs);
  g_autofree char *cookie = ar_web_make_cookie(ROOM_COOKIE, id, 0);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  ar_web_respond_csrf(msg, csrf, NULL, NULL);
  g_message("room: the room screen signed in from %s (%u session%s)", ar_web_client_of(msg),
            r->sessions->len, r->sessions->len == 1 ? "" : "s");
}

/* The admin address people can type: listening on every address
 * (0.0.0.0 / ::), that is the first LAN IPv4 address of the device, without
 * ":443" (browsers add it); NULL when there is none (no network yet). */
static char *
reachable_admin_url(ArWebServer *s)
{
  const char *any4 = "https://0.0.0.0:", *any6 = "https://[::]:";
  const char *rest = NULL;
  if (s->url && g_str_has_prefix(s->url, any4))
    rest = s->url + strlen(any4);
  else if (s->url && g_str_has_prefix(s->url, any6))
    rest = s->url + strlen(any6);
  if (!rest)
    return g_strdup(s->url);
  struct ifaddrs *ifs = NULL;
  char *found = NULL;
  if (getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
          !(i->ifa_flags & IFF_UP))
        continue;
      g_autoptr(GSocketAddress) sa =
          g_socket_address_new_from_native(i->ifa_addr, sizeof(struct sockaddr_in));
      if (sa && G_IS_INET_SOCKET_ADDRESS(sa)) {
        g_autofree char *ip =
            g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa)));
        if (g_str_has_prefix(rest, "443/"))
          found = g_strdup_printf("https://%s%s", ip, rest + 3);
        else
          found = g_strdup_printf("https://%s:%s", ip, rest);
      }
    }
    freeifaddrs(ifs);
  }
  return found;
}

/* What the room screen shows besides the status: the pairing and setup codes.
 * Others (an admin session, a token with the status scope) get the same
 * object with both codes null: a code is for people in the room to read off
 * the screen, never for a program on the LAN. */
static void
handle_room_info(ArWebServer *s, SoupServerMessage *msg, const char *path,
                 const ArWebCaller *caller)
{
  ArWebRoom *r = s->room;
  ar_web_pairing_expire(s);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "room_name");
  json_builder_add_string_value(b, s->config->room_name);
  g_autofree char *url = reachable_admin_url(s);
  json_builder_set_member_name(b, "admin_url");
  if (url)
    json_builder_add_string_value(b, url);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "tls_fingerprint_sha256");
  json_builder_add_string_value(b, s->fingerprint);
  json_builder_set_member_name(b, "pairing_code");
  if (r->pairing && caller->room)
    json_builder_add_string_value(b, r->pairing->code);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "pairing_expires_in_s");
  json_builder_add_int_value(
      b, r->pairing ? (r->pairing->expires_us - g_get_monotonic_time()) / G_USEC_PER_SEC : 0);
  json_builder_set_member_name(b, "setup_code");
  if (!s->password_hash && r->setup_code && caller->room)
    json_builder_add_string_value(b, r->setup_code);
  else
    json_builder_add_null_value(b);
  /* Remote setup waits this long after too many wrong codes (the room
   * screen says so). */
  gint64 paused_us =
      s->password_hash ? 0 : ar_budget_wait_us(&r->setup_budget, g_get_monotonic_time());
  json_builder_set_member_name(b, "setup_paused_s");
  json_builder_add_int_value(b, (paused_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  json_builder_end_object(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, n);
}

/* ---- media controls (commands group) ---- */

static void
handle_control(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *name = ar_api_hub_command_name(path);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;
  SoupMessageBody *mb = soup_server_message_get_request_body(msg);
  if (mb && mb->length > 0 && !(body = ar_web_body_object(msg, &error))) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  ar_web_audit(s, msg, caller, name, caller->panel ? caller->panel->id : NULL);
  ar_api_hub_command(s->hub, msg, name, AR_WEB_MAX_BODY);
}

/* ---- video ---- */

void
ar_web_room_add_video_client(ArWebServer *s, SoupWebsocketConnection *ws, const char *owner)
{
  ar_video_relay_add_client(s->room->video, ws, owner);
}

gboolean
ar_web_room_can_add_video_client(ArWebServer *s, const char *owner)
{
  return ar_video_relay_can_add_client(s->room->video, owner);
}

void
ar_web_room_close_video(ArWebServer *s, const char *owner)
{
  if (s->room)
    ar_video_relay_close_clients(s->room->video, owner);
}

/* ---- setup ---- */

/* The code as typed: digits, spaces and dashes ("12345 67890"). */
static gboolean
setup_code_matches(const char *typed, const char *code)
{
  if (!typed || !code || strlen(typed) > 64)
    return FALSE;
  char digits[65];
  gsize n = 0;
  for (const char *p = typed; *p; p++) {
    if (g_ascii_isdigit(*p))
      digits[n++] = *p;
    else if (*p != ' ' && *p != '-')
      return FALSE;
  }
  digits[n] = '\0';
  return ar_web_secret_equal(digits, code);
}

/* A one-time setup code from a provisioning file (its SHA-256 in the state
 * dir, docs/fleet.md): it lets an admin set the room up from another machine
 * without the code on the room screen. */
static gboolean
provisioned_code_matches(ArWebServer *s, const char *typed)
{
  g_autofree char *path = ar_web_state_path(s, "setup-code.sha256");
  g_autofree char *want = NULL;
  g_autofree char *code = ar_web_setup_code_normalize(typed);
  if (!code || !g_file_get_contents(path, &want, NULL, NULL))
    return FALSE;
  g_autofree char *got = ar_web_sha256_hex(code, strlen(code));
  return ar_web_secret_equal(got, g_strstrip(want));
}

ArWebSetupVerdict
ar_web_room_setup_check(ArWebServer *s, SoupServerMessage *msg, JsonNode *body, gint64 *retry_us)
{
  ArWebRoom *r = s->room;
  *retry_us = 0;
  if (ar_web_is_loopback_client(msg))
    return AR_WEB_SETUP_OK;
  gint64 now = g_get_monotonic_time();
  gint64 wait = ar_budget_wait_us(&r->setup_budget, now);
  if (wait) {
    /* Paused: no code is checked, not even the right one, and none is
     * drawn (the screen's code stays readable). */
    *retry_us = wait;
    return AR_WEB_SETUP_PAUSED;
  }
  const char *code = ar_web_string_member(body, "setup_code");
  if (!setup_code_matches(code, r->setup_code) && !provisioned_code_matches(s, code)) {
    /* A refused try costs the code: a new one is shown. */
    ar_budget_spend(&r->setup_budget, now);
    g_free(r->setup_code);
    r->setup_code = ar_web_random_digits(AR_SETUP_CODE_DIGITS);
    g_message("room: a setup attempt from %s without the right setup code", ar_web_client_of(msg));
    ar_web_room_broadcast(s, "setup", "code_changed", TRUE);
    if (ar_budget_wait_us(&r->setup_budget, now)) {
      if (!r->setup_paused_said)
        g_warning("room: too many wrong setup codes: remote setup paused (the room screen says "
                  "so; setup on the device itself still works)");
      r->setup_paused_said = TRUE;
      ar_web_room_broadcast(s, "setup", "paused", TRUE);
    }
    return AR_WEB_SETUP_WRONG;
  }
  r->setup_paused_said = FALSE;
  g_clear_pointer(&r->setup_code, g_free);
  return AR_WEB_SETUP_OK;
}

/* ---- registration ---- */

static char *
load_kiosk_secret(ArWebServer *s, GError **error)
{
  g_autofree char *path = ar_web_state_path(s, "kiosk-secret");
  g_autofree char *text = NULL;
  if (g_file_get_contents(path, &text, NULL, NULL)) {
    g_strstrip(text);
    if (strlen(text) == 64)
      return g_steal_pointer(&text);
  }
  g_autofree char *secret = ar_web_random_hex(NULL);
  if (!secret) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no random numbers");
    return NULL;
  }
  g_autofree char *line = g_strconcat(secret, "\n", NULL);
  if (!ar_web_write_private_file(path, line, strlen(line), error))
    return NULL;
  return g_steal_pointer(&secret);
}

gboolean
ar_web_room_register(ArWebServer *s, GError **error)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/room/session", "POST", AR_WEB_AUTH_NONE, handle_room_session},
      {"/api/v1/room/info", "GET", AR_WEB_AUTH_ROOM, handle_room_info, AR_WEB_SCOPE_STATUS},
      {"/api/v1/commands/mute", "POST", AR_WEB_AUTH_DEVICE, handle_control, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/unmute", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/camera", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/volume", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/accept", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/decline", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/call", "POST", AR_WEB_AUTH_DEVICE, handle_control, AR_WEB_SCOPE_COMMANDS},
      {"/api/v1/commands/self-view", "POST", AR_WEB_AUTH_DEVICE, handle_control,
       AR_WEB_SCOPE_COMMANDS},
  };
  s->room = g_new0(ArWebRoom, 1);
  s->room->sessions = g_ptr_array_new_with_free_func((GDestroyNotify)room_session_free);
  s->room->panels = g_ptr_array_new_with_free_func((GDestroyNotify)ar_web_panel_free);
  s->room->video = ar_video_relay_new(ar_call_manager_get_engine(ar_api_hub_get_calls(s->hub)));
  s->room->kiosk_secret = load_kiosk_secret(s, error);
  if (!s->room->kiosk_secret || !ar_web_panels_load(s, error))
    return FALSE;
  s->room->setup_code = ar_web_random_digits(AR_SETUP_CODE_DIGITS);
  ar_budget_init(&s->room->setup_budget, AR_SETUP_WRONG_BURST, AR_SETUP_WRONG_PER_HOUR,
                 g_get_monotonic_time());
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
  ar_web_panels_add_routes(s);
  ar_web_server_add_static_dir(s, "/room/", "room");
  ar_web_server_add_static_dir(s, "/panel/", "panel");
  return TRUE;
}

void
ar_web_room_free(ArWebServer *s)
{
  ArWebRoom *r = s->room;
  if (!r)
    return;
  ar_video_relay_free(r->video);
  g_ptr_array_unref(r->sessions);
  g_ptr_array_unref(r->panels);
  ar_web_pairing_free(r->pairing);
  g_free(r->kiosk_secret);
  g_free(r->setup_code);
  g_free(r);
  s->room = NULL;
}
