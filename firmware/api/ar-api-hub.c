/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-api-hub.h"

#include <string.h>

#include "ar-api-call.h"
#include "ar-api-config.h"
#include "ar-api-history.h"
#include "ar-api-meetings.h"
#include "ar-api-slots.h"
#include "ar-janus-msg.h"
#include "ar-json.h"
#include "ar-link.h"
#include "ar-room-call.h"

struct _ArApiHub {
  ArCallManager *calls;
  GPtrArray *event_clients; /* SoupWebsocketConnection* */
  GPtrArray *waiters;       /* Waiter* of paused requests */
  char *admin_url;
  char *admin_fingerprint;
  ArConfig *config; /* borrowed; the configuration group changes it */
  char *state_dir;
  ArUpdater *updater;    /* borrowed; NULL: no update commands */
  ArApiHistory *history; /* NULL until there is a state dir */
  ArApiAuditFunc audit;
  ArApiRecipes *recipes; /* owned; NULL: no recipes group */
  ArRoomCallDesk *desk;  /* borrowed; NULL: no calls to the room */
  ArCalDesk *calendar;   /* borrowed; NULL: no meetings */
  gpointer audit_data;
};

typedef struct {
  ArApiHub *hub;
  SoupServerMessage *msg;
  gboolean gone;
  gboolean join; /* a join: also answered when it waits for a host or a person */
} Waiter;

ArCallManager *
ar_api_hub_get_calls(ArApiHub *hub)
{
  return hub->calls;
}

void
ar_api_respond_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = json_to_string(node, FALSE);
  /* libsoup 3.2 (Debian 12: 3.2.3) leaks the fd of a keep-alive connection
   * the client closes while idle: one per anyroomctl call, so ~1000 calls ran
   * anyroomd out of descriptors. Every answer closes its connection. */
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                               "close");
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
}

void
ar_api_respond_result(SoupServerMessage *msg, guint status, const char *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, error == NULL);
  if (error) {
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, error);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, status, node);
}

static guint
status_for_error(const GError *e)
{
  if (e->domain == AR_CALL_ERROR && e->code == AR_CALL_ERROR_BUSY)
    return SOUP_STATUS_CONFLICT;
  if (e->domain == AR_CALL_ERROR && e->code == AR_CALL_ERROR_NOT_IN_CALL)
    return SOUP_STATUS_CONFLICT;
  if (e->domain == AR_CALL_ERROR && e->code == AR_CALL_ERROR_TIMEOUT)
    return SOUP_STATUS_GATEWAY_TIMEOUT;
  if (e->domain == AR_LINK_ERROR)
    return SOUP_STATUS_BAD_REQUEST;
  if (e->domain == AR_CALL_ERROR && e->code == AR_CALL_ERROR_UNSUPPORTED)
    return SOUP_STATUS_UNPROCESSABLE_ENTITY;
  if (e->domain == AR_ROOM_CALL_ERROR)
    return ar_room_call_error_status(e);
  return SOUP_STATUS_BAD_GATEWAY;
}

/* ---- waiting requests (join/leave answer when done) ---- */

static void
waiter_disconnected(SoupServerMessage *msg, gpointer data)
{
  Waiter *w = data;
  w->gone = TRUE;
  ar_call_manager_forget_waiter(w->hub->calls, w);
  g_ptr_array_remove(w->hub->waiters, w);
}

static void
waiter_free(Waiter *w)
{
  g_signal_handlers_disconnect_by_data(w->msg, w);
  g_object_unref(w->msg);
  g_free(w);
}

static Waiter *
waiter_new(ArApiHub *hub, SoupServerMessage *msg)
{
  Waiter *w = g_new0(Waiter, 1);
  w->hub = hub;
  w->msg = g_object_ref(msg);
  g_signal_connect(msg, "disconnected", G_CALLBACK(waiter_disconnected), w);
  g_ptr_array_add(hub->waiters, w);
  soup_server_message_pause(msg);
  return w;
}

static void
waiter_done(const GError *error, gpointer data)
{
  Waiter *w = data;
  if (!w->gone) {
    ar_api_respond_result(w->msg, error ? status_for_error(error) : SOUP_STATUS_OK,
                          error ? error->message : NULL);
    soup_server_message_unpause(w->msg);
  }
  g_ptr_array_remove(w->hub->waiters, w);
}

/* A join names a link, a meeting of the room's calendar ({"meeting": ID}) or the next one
 * ({"next": true}). FALSE and @error when the body is none of these. */
static gboolean
body_join(SoupServerMessage *msg, gsize max_body, char **link, char **meeting, gboolean *next,
          GError **error)
{
  g_autoptr(JsonNode) body = ar_api_body_object(msg, max_body, FALSE, error);
  if (!body)
    return FALSE;
  JsonNode *n = json_object_get_member(json_node_get_object(body), "next");
  *next = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
          json_node_get_boolean(n);
  const char *l = ar_api_string_member(body, "link");
  const char *m = ar_api_string_member(body, "meeting");
  if ((l != NULL) + (m != NULL) + (*next ? 1 : 0) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request needs one of \"link\" (a string), \"meeting\" (an id of "
                "GET /api/v1/meetings) or \"next\": true");
    return FALSE;
  }
  *link = g_strdup(l);
  *meeting = g_strdup(m);
  return TRUE;
}

void
ar_api_hub_join(ArApiHub *hub, SoupServerMessage *msg, gsize max_body)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *link = NULL, *meeting = NULL;
  gboolean next = FALSE;
  if (!body_join(msg, max_body, &link, &meeting, &next, &error)) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  if (!link && !hub->calendar) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, "this room has no calendar");
    return;
  }
  Waiter *w = waiter_new(hub, msg);
  w->join = TRUE;
  gboolean ok = link ? ar_call_manager_join(hub->calls, link, waiter_done, w, &error)
                     : ar_cal_desk_join(hub->calendar, meeting, waiter_done, w, &error);
  if (!ok) {
    ar_api_respond_result(msg, status_for_error(error), error->message);
    soup_server_message_unpause(msg);
    g_ptr_array_remove(hub->waiters, w);
  }
}

void
ar_api_hub_leave(ArApiHub *hub, SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;
  Waiter *w = waiter_new(hub, msg);
  if (!ar_call_manager_leave(hub->calls, waiter_done, w, &error)) {
    ar_api_respond_result(msg, status_for_error(error), error->message);
    soup_server_message_unpause(msg);
    g_ptr_array_remove(hub->waiters, w);
  }
}

/* ---- media controls ---- */

static const char *const command_names[] = {"join",
                                            "leave",
                                            "mute",
                                            "unmute",
                                            "camera",
                                            "volume",
                                            "self-view",
                                            "update-install",
                                            "update-status",
                                            "accept",
                                            "decline",
                                            "call",
                                            "cancel-auto-join",
                                            "calendar-refresh",
                                            NULL};

const char *
ar_api_hub_command_name(const char *path)
{
  if (!path || !g_str_has_prefix(path, "/api/v1/commands/"))
    return NULL;
  const char *name = path + strlen("/api/v1/commands/");
  for (guint i = 0; command_names[i]; i++) {
    if (g_str_equal(name, command_names[i]))
      return command_names[i];
  }
  return NULL;
}

JsonNode *
ar_api_body_object(SoupServerMessage *msg, gsize max_body, gboolean empty_ok, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (!body || body->length <= 0) {
    if (empty_ok)
      return json_node_init_object(json_node_alloc(), json_object_new());
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request needs a JSON object body of at most %" G_GSIZE_FORMAT " bytes",
                max_body);
    return NULL;
  }
  if ((gsize)body->length > max_body) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request body is larger than %" G_GSIZE_FORMAT " bytes", max_body);
    return NULL;
  }
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  /* Strict RFC 8259 first (ar-json.h): json-glib would take 0x32, 0050 or
   * a wrapped huge integer as numbers and cut a string at \u0000. */
  g_autoptr(GError) invalid = NULL;
  if (!ar_json_check(data, len, AR_API_MAX_JSON_DEPTH, &invalid)) {
    if (g_error_matches(invalid, AR_JSON_ERROR, AR_JSON_ERROR_DEPTH))
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                  "the request body nests deeper than %d levels", AR_API_MAX_JSON_DEPTH);
    else
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                  "the request body is not valid JSON (RFC 8259): %s", invalid->message);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request body is not a JSON object");
    return NULL;
  }
  return json_node_copy(json_parser_get_root(parser));
}

const char *
ar_api_string_member(JsonNode *obj, const char *name)
{
  JsonNode *n = json_object_get_member(json_node_get_object(obj), name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
}

static gboolean
member_bool(JsonObject *o, const char *name, gboolean *out, GError **error)
{
  JsonNode *n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the request needs \"%s\": true|false",
                name);
    return FALSE;
  }
  *out = json_node_get_boolean(n);
  return TRUE;
}

static void
respond_controls(ArApiHub *hub, SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "controls");
  ArCallControls controls;
  ar_call_manager_get_controls(hub->calls, &controls);
  json_builder_add_value(b, ar_api_call_controls_to_json(&controls));
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

void
ar_api_hub_command(ArApiHub *hub, SoupServerMessage *msg, const char *name, gsize max_body)
{
  g_autoptr(GError) error = NULL;
  if (g_str_equal(name, "join") || g_str_equal(name, "call")) {
    ar_api_hub_join(hub, msg, max_body);
    return;
  }
  if (g_str_equal(name, "accept") || g_str_equal(name, "decline")) {
    gboolean ok = FALSE;
    if (!hub->desk)
      g_set_error_literal(&error, AR_ROOM_CALL_ERROR, AR_ROOM_CALL_ERROR_NO_CALL,
                          "this room takes no calls");
    else if (g_str_equal(name, "accept"))
      ok = ar_room_call_desk_accept(hub->desk, &error);
    else
      ok = ar_room_call_desk_decline(hub->desk, &error);
    ar_api_respond_result(msg, ok ? SOUP_STATUS_OK : status_for_error(error),
                          ok ? NULL : error->message);
    return;
  }
  if (g_str_equal(name, "leave")) {
    ar_api_hub_leave(hub, msg);
    return;
  }
  if (g_str_equal(name, "cancel-auto-join") || g_str_equal(name, "calendar-refresh")) {
    if (!hub->calendar) {
      ar_api_respond_result(msg, SOUP_STATUS_CONFLICT, "this room has no calendar");
    } else if (g_str_equal(name, "calendar-refresh")) {
      ar_cal_desk_refresh(hub->calendar);
      ar_api_respond_result(msg, SOUP_STATUS_OK, NULL);
    } else {
      gboolean ok = ar_cal_desk_cancel_auto_join(hub->calendar);
      ar_api_respond_result(msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_CONFLICT,
                            ok ? NULL : "no auto-join is counting down");
    }
    return;
  }
  if (g_str_has_prefix(name, "update-")) {
    ar_api_hub_update_command(hub, msg, name, max_body);
    return;
  }
  g_autoptr(JsonNode) body = ar_api_body_object(msg, max_body, TRUE, &error);
  if (!body) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  JsonObject *o = json_node_get_object(body);
  gboolean on = FALSE;
  if (g_str_equal(name, "mute") || g_str_equal(name, "unmute")) {
    ar_call_manager_set_microphone_muted(hub->calls, g_str_equal(name, "mute"));
  } else if (g_str_equal(name, "camera")) {
    if (!member_bool(o, "on", &on, &error)) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    ar_call_manager_set_camera_enabled(hub->calls, on);
  } else if (g_str_equal(name, "self-view")) {
    if (!member_bool(o, "on", &on, &error)) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    ar_call_manager_set_self_view(hub->calls, on);
  } else if (g_str_equal(name, "volume")) {
    JsonNode *n = json_object_get_member(o, "level");
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST,
                            "the request needs \"level\": an integer from 0 to 100");
      return;
    }
    if (!ar_call_manager_set_speaker_volume(hub->calls, json_node_get_int(n), &error)) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
  } else {
    ar_api_respond_result(msg, SOUP_STATUS_NOT_FOUND, "no such command");
    return;
  }
  respond_controls(hub, msg);
}

/* ---- configuration ---- */

void
ar_api_hub_set_config(ArApiHub *hub, ArConfig *config, const char *state_dir)
{
  hub->config = config;
  g_free(hub->state_dir);
  hub->state_dir = g_strdup(state_dir);
  g_clear_pointer(&hub->history, ar_api_history_free);
  if (state_dir)
    hub->history = ar_api_history_new(state_dir);
}

ArApiHistory *
ar_api_hub_get_history(ArApiHub *hub)
{
  return hub->history;
}

ArConfig *
ar_api_hub_get_config(ArApiHub *hub)
{
  return hub->config;
}

void
ar_api_hub_set_audit_func(ArApiHub *hub, ArApiAuditFunc func, gpointer user_data)
{
  hub->audit = func;
  hub->audit_data = user_data;
}

void
ar_api_hub_audit(ArApiHub *hub, const char *event, const char *detail)
{
  if (hub->audit)
    hub->audit(event, detail, hub->audit_data);
}

static void
respond_config(ArApiHub *hub, SoupServerMessage *msg, const char *const *changed, gboolean restart)
{
  g_autoptr(JsonNode) node = ar_api_config_get(hub->config);
  JsonObject *o = json_node_get_object(node);
  if (changed) {
    json_object_set_boolean_member(o, "ok", TRUE);
    JsonArray *a = json_array_new();
    for (gsize i = 0; changed[i]; i++)
      json_array_add_string_element(a, changed[i]);
    json_object_set_array_member(o, "changed", a);
    json_object_set_boolean_member(o, "restart_required", restart);
  }
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

GStrv
ar_api_hub_config(ArApiHub *hub, SoupServerMessage *msg, gsize max_body)
{
  if (!hub->config || !hub->state_dir) {
    ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no settings store");
    return NULL;
  }
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(method, "GET")) {
    respond_config(hub, msg, NULL, FALSE);
    return NULL;
  }
  if (!g_str_equal(method, "PATCH")) {
    ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or PATCH");
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (!body || body->length <= 0) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, "the request needs a JSON object body");
    return NULL;
  }
  {
    g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);
    if (len > max_body || !ar_json_depth_ok(data, len, 4)) {
      ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST,
                            "the settings are too large or too deeply nested");
      return NULL;
    }
  }
  g_autoptr(JsonNode) patch = ar_api_body_object(msg, max_body, TRUE, &error);
  if (!patch) {
    ar_api_respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return NULL;
  }
  g_auto(GStrv) changed = NULL;
  ArApiConfigChanged areas = 0;
  if (!ar_api_config_patch(hub->config, hub->state_dir, patch, &changed, &areas, &error)) {
    gboolean ours = g_error_matches(error, AR_API_CONFIG_ERROR, AR_API_CONFIG_ERROR_SAVE);
    if (ours)
      g_warning("config: %s", error->message);
    ar_api_respond_result(msg, ours ? SOUP_STATUS_INTERNAL_SERVER_ERROR : SOUP_STATUS_BAD_REQUEST,
                          ours ? "cannot save the settings" : error->message);
    return NULL;
  }
  g_autofree char *list = g_strjoinv(", ", changed);
  g_message("config: changed %s", list);
  if (areas & AR_API_CONFIG_CHANGED_NETWORK) {
    g_autoptr(GError) net_error = NULL;
    if (!ar_call_manager_reload_network(hub->calls, &net_error))
      g_warning("config: the new network settings do not apply: %s", net_error->message);
  }
  if ((areas & AR_API_CONFIG_CHANGED_CALENDAR) && hub->calendar)
    ar_cal_desk_reload(hub->calendar);
  if (areas & AR_API_CONFIG_CHANGED_LOGS) {
    /* The forwarder starts again with the new settings (what was queued is sent first). */
    g_autoptr(GError) log_error = NULL;
    if (!ar_api_config_apply_logs(hub->config, &log_error))
      g_warning("config: the new logs settings do not apply: %s", log_error->message);
  }
  gboolean restart = (areas & AR_API_CONFIG_CHANGED_RESTART) != 0;
  if (areas & AR_API_CONFIG_CHANGED_DEVICE) {
    g_autoptr(GError) dev_error = NULL;
    if (!ar_call_manager_reload_devices(hub->calls, &dev_error)) {
      g_warning("config: the new devices apply after a restart: %s", dev_error->message);
      restart = TRUE;
    }
  }
  /* Tell every client (the room screen shows the room name). No values but
   * the room name: a secret never goes out on the event stream. */
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "config");
  json_builder_set_member_name(b, "changed");
  json_builder_begin_array(b);
  for (gsize i = 0; changed[i]; i++)
    json_builder_add_string_value(b, changed[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "room_name");
  json_builder_add_string_value(b, hub->config->room_name);
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_api_hub_broadcast(hub, ev);
  respond_config(hub, msg, (const char *const *)changed, restart);
  return g_steal_pointer(&changed);
}

/* ---- status ---- */

static void
on_update_event(JsonNode *event, gpointer data)
{
  ar_api_hub_broadcast(data, event);
}

void
ar_api_hub_set_updater(ArApiHub *hub, ArUpdater *updater)
{
  if (hub->updater)
    ar_updater_set_event_func(hub->updater, NULL, NULL);
  hub->updater = updater;
  if (updater)
    ar_updater_set_event_func(updater, on_update_event, hub);
}

ArUpdater *
ar_api_hub_get_updater(ArApiHub *hub)
{
  return hub->updater;
}

void
ar_api_hub_set_admin_info(ArApiHub *hub, const char *url, const char *fingerprint)
{
  g_free(hub->admin_url);
  g_free(hub->admin_fingerprint);
  hub->admin_url = g_strdup(url);
  hub->admin_fingerprint = g_strdup(fingerprint);
}

static JsonNode *incoming_to_json(const ArRoomCallIncoming *in);

JsonNode *
ar_api_hub_status(ArApiHub *hub)
{
  g_autoptr(ArCallStatus) call = ar_call_manager_get_status(hub->calls);
  JsonNode *status = ar_api_call_status_to_json(call);
  if (status && JSON_NODE_HOLDS_OBJECT(status)) {
    JsonObject *admin = json_object_new();
    if (hub->admin_url) {
      json_object_set_string_member(admin, "url", hub->admin_url);
      json_object_set_string_member(admin, "tls_fingerprint_sha256", hub->admin_fingerprint);
    } else {
      json_object_set_null_member(admin, "url");
      json_object_set_null_member(admin, "tls_fingerprint_sha256");
    }
    json_object_set_object_member(json_node_get_object(status), "admin", admin);
    if (hub->updater)
      json_object_set_member(json_node_get_object(status), "update",
                             ar_updater_status(hub->updater));
    json_object_set_member(
        json_node_get_object(status), "incoming",
        incoming_to_json(hub->desk ? ar_room_call_desk_get_incoming(hub->desk) : NULL));
    json_object_set_member(json_node_get_object(status), "auto_join",
                           ar_api_meetings_auto_join_to_json(hub->calendar));
    if (hub->calendar)
      json_object_set_member(json_node_get_object(status), "calendar",
                             ar_api_meetings_health_to_json(hub->calendar));
  }
  return status;
}

/* ---- events ---- */

static void
event_client_closed(SoupWebsocketConnection *ws, gpointer data)
{
  ArApiHub *hub = data;
  g_ptr_array_remove(hub->event_clients, ws);
}

static void
event_client_unref(gpointer p)
{
  SoupWebsocketConnection *ws = p;
  g_signal_handlers_disconnect_matched(ws, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, event_client_closed,
                                       NULL);
  g_object_unref(ws);
}

static const ArSlotPolicy event_slots = {
    .max_total = AR_API_HUB_MAX_EVENT_CLIENTS,
    .per_owner = AR_API_HUB_MAX_EVENT_CLIENTS_PER_OWNER,
    .reserved = AR_API_HUB_RESERVED_EVENT_CLIENTS,
};

/* ar_slot_admit over the open streams. */
static gboolean
event_slot_admit(ArApiHub *hub, const char *owner, gint *evict)
{
  guint n = hub->event_clients->len;
  g_autofree const char **owners = g_new0(const char *, n + 1);
  for (guint i = 0; i < n; i++)
    owners[i] = g_object_get_data(G_OBJECT(hub->event_clients->pdata[i]), "ar-api-owner");
  return ar_slot_admit(&event_slots, owners, n, owner, evict);
}

gboolean
ar_api_hub_can_add_event_client(ArApiHub *hub, const char *owner)
{
  gint evict;
  return event_slot_admit(hub, owner, &evict);
}

void
ar_api_hub_set_recipes(ArApiHub *hub, ArApiRecipes *recipes)
{
  g_clear_pointer(&hub->recipes, ar_api_recipes_free);
  hub->recipes = recipes;
}

/* {"id", "caller", "link", "ringing_s", "ring_s"} or null. */
static JsonNode *
incoming_to_json(const ArRoomCallIncoming *in)
{
  if (in == NULL)
    return json_node_init_null(json_node_alloc());
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "id", in->id);
  json_object_set_string_member(o, "caller", in->caller);
  json_object_set_string_member(o, "link", in->link_name);
  json_object_set_int_member(o, "ringing_s",
                             (g_get_monotonic_time() - in->since_us) / G_USEC_PER_SEC);
  json_object_set_int_member(o, "ring_s", in->ring_s);
  return json_node_init_object(json_node_alloc(), o);
}

static void
on_ring(const ArRoomCallIncoming *incoming, gpointer data)
{
  ArApiHub *hub = data;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "incoming");
  json_builder_set_member_name(b, "incoming");
  json_builder_add_value(b, incoming_to_json(incoming));
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_api_hub_broadcast(hub, ev);
}

void
ar_api_hub_set_room_calls(ArApiHub *hub, ArRoomCallDesk *desk)
{
  if (hub->desk)
    ar_room_call_desk_set_ring_func(hub->desk, NULL, NULL);
  hub->desk = desk;
  if (desk)
    ar_room_call_desk_set_ring_func(desk, on_ring, hub);
}

/* {"event": "meetings"} (look again) or {"event": "auto-join", "auto_join": {...}|null}. */
static void
on_calendar_changed(ArCalDeskChange what, gpointer data)
{
  ArApiHub *hub = data;
  for (int i = 0; i < 2; i++) {
    ArCalDeskChange one = i == 0 ? AR_CAL_DESK_CHANGED_MEETINGS : AR_CAL_DESK_CHANGED_AUTO_JOIN;
    if (!(what & one))
      continue;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, i == 0 ? "meetings" : "auto-join");
    if (i == 1) {
      json_builder_set_member_name(b, "auto_join");
      json_builder_add_value(b, ar_api_meetings_auto_join_to_json(hub->calendar));
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) ev = json_builder_get_root(b);
    ar_api_hub_broadcast(hub, ev);
  }
}

void
ar_api_hub_set_calendar(ArApiHub *hub, ArCalDesk *calendar)
{
  if (hub->calendar)
    ar_cal_desk_set_changed_func(hub->calendar, NULL, NULL);
  hub->calendar = calendar;
  if (calendar)
    ar_cal_desk_set_changed_func(calendar, on_calendar_changed, hub);
}

ArCalDesk *
ar_api_hub_get_calendar(ArApiHub *hub)
{
  return hub->calendar;
}

void
ar_api_hub_meetings(ArApiHub *hub, SoupServerMessage *msg)
{
  if (!g_str_equal(soup_server_message_get_method(msg), "GET")) {
    ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  if (!hub->calendar) {
    ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "this room has no calendar");
    return;
  }
  g_autoptr(JsonNode) node = ar_api_meetings_to_json(hub->calendar);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

ArRoomCallDesk *
ar_api_hub_get_room_calls(ArApiHub *hub)
{
  return hub->desk;
}

ArApiRecipes *
ar_api_hub_get_recipes(ArApiHub *hub)
{
  return hub->recipes;
}

const char *
ar_api_hub_recipes(ArApiHub *hub, SoupServerMessage *msg, const char *path, char **detail)
{
  *detail = NULL;
  if (!hub->recipes) {
    ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no recipe folder");
    return NULL;
  }
  return ar_api_recipes_handle(hub->recipes, msg, path, detail);
}

void
ar_api_hub_add_event_client(ArApiHub *hub, SoupWebsocketConnection *ws, const char *owner)
{
  gint evict = -1;
  if (!event_slot_admit(hub, owner, &evict)) {
    g_debug("api: refused an event stream of %s: too many", owner ? owner : "the local socket");
    soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                    "too many event streams");
    return;
  }
  if (evict >= 0) {
    /* Stolen from the array first: "closed" comes later, after the close
     * handshake (or never, from a peer that is gone). */
    g_autoptr(SoupWebsocketConnection) old = g_object_ref(hub->event_clients->pdata[evict]);
    const char *o = g_object_get_data(G_OBJECT(old), "ar-api-owner");
    gboolean own = owner && g_strcmp0(o, owner) == 0;
    g_debug("api: event stream of %s closed for a new one of %s", o ? o : "the local socket",
            owner ? owner : "the local socket");
    g_ptr_array_remove_index(hub->event_clients, (guint)evict);
    if (soup_websocket_connection_get_state(old) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(old, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                      own ? "replaced by a newer stream of the same credential"
                                          : "the room screen needs this slot");
  }
  /* Events are small; a client that never reads must not grow our memory. */
  soup_websocket_connection_set_max_incoming_payload_size(ws, 4096);
  g_object_set_data_full(G_OBJECT(ws), "ar-api-owner", g_strdup(owner), g_free);
  g_ptr_array_add(hub->event_clients, g_object_ref(ws));
  g_signal_connect(ws, "closed", G_CALLBACK(event_client_closed), hub);
}

void
ar_api_hub_close_event_clients(ArApiHub *hub, const char *owner)
{
  if (!owner)
    return;
  /* Closing emits "closed" later (after the close handshake), so walk a copy. */
  g_autoptr(GPtrArray) match = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < hub->event_clients->len; i++) {
    SoupWebsocketConnection *ws = hub->event_clients->pdata[i];
    const char *o = g_object_get_data(G_OBJECT(ws), "ar-api-owner");
    if (o && g_str_equal(o, owner))
      g_ptr_array_add(match, g_object_ref(ws));
  }
  for (guint i = 0; i < match->len; i++) {
    SoupWebsocketConnection *ws = match->pdata[i];
    g_ptr_array_remove(hub->event_clients, ws);
    if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                      "credential ended");
  }
}

void
ar_api_hub_broadcast(ArApiHub *hub, JsonNode *event)
{
  g_autofree char *text = json_to_string(event, FALSE);
  for (guint i = 0; i < hub->event_clients->len; i++) {
    SoupWebsocketConnection *ws = hub->event_clients->pdata[i];
    if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(ws, text);
  }
}

/* A join that waits for a host (lobby) or a person (needs-attention) is
 * answered now (202, the state and what it waits for): it may take minutes,
 * and the person who asked should read why on their screen, not a timeout. */
static void
answer_waiting_joins(ArApiHub *hub, const ArCallEvent *event)
{
  for (guint i = hub->waiters->len; i > 0; i--) {
    Waiter *w = hub->waiters->pdata[i - 1];
    if (!w->join)
      continue;
    ar_call_manager_forget_waiter(hub->calls, w);
    if (!w->gone) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "ok");
      json_builder_add_boolean_value(b, TRUE);
      ar_json_add_string_or_null(b, "state", ar_call_state_to_string(event->state));
      ar_json_add_string_or_null(b, "message", event->message);
      json_builder_end_object(b);
      g_autoptr(JsonNode) node = json_builder_get_root(b);
      ar_api_respond_json(w->msg, SOUP_STATUS_ACCEPTED, node);
      soup_server_message_unpause(w->msg);
    }
    g_ptr_array_remove_index(hub->waiters, i - 1);
  }
}

static void
on_call_event(const ArCallEvent *event, gpointer data)
{
  ArApiHub *hub = data;
  if (event->kind == AR_CALL_EVENT_STATE &&
      (event->state == AR_CALL_LOBBY || event->state == AR_CALL_NEEDS_ATTENTION))
    answer_waiting_joins(hub, event);
  if (hub->history)
    ar_api_history_on_event(hub->history, event);
  g_autoptr(JsonNode) json = ar_api_call_event_to_json(event);
  ar_api_hub_broadcast(hub, json);
  /* No automatic update starts, and no restart into one, while a call is under way (after the
   * call's own event: the update events it causes come after their cause). */
  if (event->kind == AR_CALL_EVENT_STATE && hub->updater)
    ar_updater_set_in_call(hub->updater,
                           event->state != AR_CALL_IDLE && event->state != AR_CALL_FAILED);
}

ArApiHub *
ar_api_hub_new(ArCallManager *calls)
{
  ArApiHub *hub = g_new0(ArApiHub, 1);
  hub->calls = calls;
  hub->event_clients = g_ptr_array_new_with_free_func(event_client_unref);
  hub->waiters = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
  ar_call_manager_set_event_func(calls, on_call_event, hub);
  return hub;
}

void
ar_api_hub_free(ArApiHub *hub)
{
  if (!hub)
    return;
  ar_call_manager_set_event_func(hub->calls, NULL, NULL);
  ar_api_hub_set_updater(hub, NULL);
  ar_api_hub_set_room_calls(hub, NULL);
  ar_api_hub_set_calendar(hub, NULL);
  for (guint i = 0; i < hub->waiters->len; i++)
    ar_call_manager_forget_waiter(hub->calls, hub->waiters->pdata[i]);
  for (guint i = 0; i < hub->event_clients->len; i++) {
    SoupWebsocketConnection *ws = hub->event_clients->pdata[i];
    if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  }
  g_ptr_array_unref(hub->event_clients);
  g_ptr_array_unref(hub->waiters);
  g_free(hub->admin_url);
  g_free(hub->admin_fingerprint);
  g_free(hub->state_dir);
  g_clear_pointer(&hub->history, ar_api_history_free);
  g_clear_pointer(&hub->recipes, ar_api_recipes_free);
  g_free(hub);
}
