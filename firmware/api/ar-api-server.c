/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-api.h"
#include "ar-link.h"

#define MAX_EVENT_CLIENTS 16

struct _ArApiServer {
  ArCallManager *calls;
  SoupServer *soup;
  char *socket_path;
  GPtrArray *event_clients; /* SoupWebsocketConnection* */
  GPtrArray *waiters;       /* Waiter* of paused requests */
};

typedef struct {
  ArApiServer *server;
  SoupServerMessage *msg;
  gboolean gone;
} Waiter;

char *
ar_api_default_socket_path(void)
{
  const char *runtime = g_getenv("XDG_RUNTIME_DIR");
  if (runtime && *runtime)
    return g_build_filename(runtime, "anyroom", "anyroomd.sock", NULL);
  g_autofree char *dir = g_strdup_printf("/tmp/anyroom-%u", (guint)getuid());
  return g_build_filename(dir, "anyroomd.sock", NULL);
}

static void
respond_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree char *text = json_to_string(node, FALSE);
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text,
                                   strlen(text));
}

static void
respond_result(SoupServerMessage *msg, guint status, const char *error)
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
  respond_json(msg, status, node);
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
  return SOUP_STATUS_BAD_GATEWAY;
}

/* ---- waiting requests (join/leave answer when done) ---- */

static void
waiter_disconnected(SoupServerMessage *msg, gpointer data)
{
  Waiter *w = data;
  w->gone = TRUE;
  ar_call_manager_forget_waiter(w->server->calls, w);
  g_ptr_array_remove(w->server->waiters, w);
}

static void
waiter_free(Waiter *w)
{
  g_signal_handlers_disconnect_by_data(w->msg, w);
  g_object_unref(w->msg);
  g_free(w);
}

static Waiter *
waiter_new(ArApiServer *s, SoupServerMessage *msg)
{
  Waiter *w = g_new0(Waiter, 1);
  w->server = s;
  w->msg = g_object_ref(msg);
  g_signal_connect(msg, "disconnected", G_CALLBACK(waiter_disconnected), w);
  g_ptr_array_add(s->waiters, w);
  soup_server_message_pause(msg);
  return w;
}

static void
waiter_done(const GError *error, gpointer data)
{
  Waiter *w = data;
  if (!w->gone) {
    respond_result(w->msg, error ? status_for_error(error) : SOUP_STATUS_OK,
                   error ? error->message : NULL);
    soup_server_message_unpause(w->msg);
  }
  g_ptr_array_remove(w->server->waiters, w);
}

/* ---- handlers ---- */

static char *
body_link(SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (!body || body->length == 0 || body->length > AR_API_MAX_BODY) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request needs a JSON body of at most %d bytes", AR_API_MAX_BODY);
    return NULL;
  }
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!g_utf8_validate(data, (gssize)len, NULL) ||
      !json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the request body is not a JSON object");
    return NULL;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  JsonNode *n = json_object_get_member(o, "link");
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the request needs a \"link\" string");
    return NULL;
  }
  return g_strdup(json_node_get_string(n));
}

static gboolean
peer_is_owner(SoupServerMessage *msg)
{
  GSocket *sock = soup_server_message_get_socket(msg);
  if (!sock)
    return FALSE;
  g_autoptr(GCredentials) creds = g_socket_get_credentials(sock, NULL);
  if (!creds)
    return FALSE;
  uid_t uid = g_credentials_get_unix_user(creds, NULL);
  return uid == getuid();
}

static void
handle_request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  ArApiServer *s = data;
  const char *method = soup_server_message_get_method(msg);
  if (!peer_is_owner(msg)) {
    respond_result(msg, SOUP_STATUS_FORBIDDEN, "only the owner of anyroomd may use this socket");
    return;
  }
  g_debug("api: %s %s", method, path);
  if (g_str_equal(path, "/api/v1/status")) {
    if (!g_str_equal(method, "GET")) {
      respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    g_autoptr(JsonNode) status = ar_call_manager_status(s->calls);
    respond_json(msg, SOUP_STATUS_OK, status);
    return;
  }
  gboolean join = g_str_equal(path, "/api/v1/commands/join");
  gboolean leave = g_str_equal(path, "/api/v1/commands/leave");
  if (!join && !leave) {
    respond_result(msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
    return;
  }
  if (!g_str_equal(method, "POST")) {
    respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  g_autoptr(GError) error = NULL;
  if (join) {
    g_autofree char *link = body_link(msg, &error);
    if (!link) {
      respond_result(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    Waiter *w = waiter_new(s, msg);
    if (!ar_call_manager_join(s->calls, link, waiter_done, w, &error)) {
      respond_result(msg, status_for_error(error), error->message);
      soup_server_message_unpause(msg);
      g_ptr_array_remove(s->waiters, w);
    }
    return;
  }
  Waiter *w = waiter_new(s, msg);
  if (!ar_call_manager_leave(s->calls, waiter_done, w, &error)) {
    respond_result(msg, status_for_error(error), error->message);
    soup_server_message_unpause(msg);
    g_ptr_array_remove(s->waiters, w);
  }
}

/* ---- events ---- */

static void
event_client_closed(SoupWebsocketConnection *ws, gpointer data)
{
  ArApiServer *s = data;
  g_ptr_array_remove(s->event_clients, ws);
}

static void
handle_events(SoupServer *soup, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *ws, gpointer data)
{
  ArApiServer *s = data;
  if (!peer_is_owner(msg) || s->event_clients->len >= MAX_EVENT_CLIENTS) {
    soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "refused");
    return;
  }
  g_ptr_array_add(s->event_clients, g_object_ref(ws));
  g_signal_connect(ws, "closed", G_CALLBACK(event_client_closed), s);
}

static void
on_call_event(JsonNode *event, gpointer data)
{
  ArApiServer *s = data;
  g_autofree char *text = json_to_string(event, FALSE);
  for (guint i = 0; i < s->event_clients->len; i++) {
    SoupWebsocketConnection *ws = s->event_clients->pdata[i];
    if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(ws, text);
  }
}

static void
event_client_unref(gpointer p)
{
  SoupWebsocketConnection *ws = p;
  g_signal_handlers_disconnect_matched(ws, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, event_client_closed,
                                       NULL);
  g_object_unref(ws);
}

/* ---- socket ---- */

static GSocket *
bind_socket(const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s", dir,
                g_strerror(errno));
    return NULL;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || st.st_uid != getuid() || (st.st_mode & 0077) != 0) {
    /* A folder others can enter or that is not ours: tighten it or refuse. */
    if (stat(dir, &st) == 0 && st.st_uid == getuid() && chmod(dir, 0700) == 0) {
      g_debug("api: tightened %s to 0700", dir);
    } else {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                  "%s is not a private folder of this user", dir);
      return NULL;
    }
  }
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
  if (g_file_test(path, G_FILE_TEST_EXISTS)) {
    /* A stale socket from a crash is replaced; a live daemon is not. */
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
    if (conn) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                  "another anyroomd is already running on %s", path);
      return NULL;
    }
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
      g_unlink(path);
  }
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (!sock)
    return NULL;
  mode_t old = umask(0177);
  gboolean ok = g_socket_bind(sock, addr, FALSE, error);
  umask(old);
  if (!ok)
    return NULL;
  if (chmod(path, 0600) != 0 || !g_socket_listen(sock, error)) {
    if (error && !*error)
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s", path,
                  g_strerror(errno));
    return NULL;
  }
  return g_steal_pointer(&sock);
}

ArApiServer *
ar_api_server_new(ArCallManager *calls, const char *socket_path, GError **error)
{
  g_autoptr(GSocket) sock = bind_socket(socket_path, error);
  if (!sock)
    return NULL;
  ArApiServer *s = g_new0(ArApiServer, 1);
  s->calls = calls;
  s->socket_path = g_strdup(socket_path);
  s->event_clients = g_ptr_array_new_with_free_func(event_client_unref);
  s->waiters = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
  s->soup = soup_server_new("server-header", "anyroomd", NULL);
  soup_server_add_websocket_handler(s->soup, "/api/v1/events", NULL, NULL, handle_events, s,
                                    NULL);
  soup_server_add_handler(s->soup, "/api/v1", handle_request, s, NULL);
  if (!soup_server_listen_socket(s->soup, sock, 0, error)) {
    ar_api_server_free(s);
    return NULL;
  }
  ar_call_manager_set_event_func(calls, on_call_event, s);
  g_message("api: listening on %s", socket_path);
  return s;
}

void
ar_api_server_free(ArApiServer *s)
{
  if (!s)
    return;
  ar_call_manager_set_event_func(s->calls, NULL, NULL);
  for (guint i = 0; i < s->waiters->len; i++)
    ar_call_manager_forget_waiter(s->calls, s->waiters->pdata[i]);
  if (s->soup) {
    soup_server_disconnect(s->soup);
    g_object_unref(s->soup);
  }
  g_ptr_array_unref(s->event_clients);
  g_ptr_array_unref(s->waiters);
  g_unlink(s->socket_path);
  g_free(s->socket_path);
  g_free(s);
}
