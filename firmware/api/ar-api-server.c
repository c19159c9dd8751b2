/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-api-listener.h"
#include "ar-api.h"

/* Connections on the socket at once: anyroomctl and its event streams. */
#define AR_API_MAX_CONNECTIONS 32

struct _ArApiServer {
  ArApiHub *hub;
  SoupServer *soup;
  ArApiListener *listener;
  char *socket_path;
};

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
handle_request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  ArApiServer *s = data;
  const char *method = soup_server_message_get_method(msg);
  /* A peer with another uid was closed at accept (ar-api-listener.c). */
  g_debug("api: %s %s", method, path);
  if (g_str_equal(path, "/api/v1/status")) {
    if (!g_str_equal(method, "GET")) {
      ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    g_autoptr(JsonNode) status = ar_api_hub_status(s->hub);
    ar_api_respond_json(msg, SOUP_STATUS_OK, status);
    return;
  }
  if (g_str_equal(path, "/api/v1/history")) {
    ArApiHistory *h = ar_api_hub_get_history(s->hub);
    if (!g_str_equal(method, "GET")) {
      ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    if (!h) {
      ar_api_respond_result(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no call history");
      return;
    }
    g_autoptr(JsonNode) node = ar_api_history_get(h);
    ar_api_respond_json(msg, SOUP_STATUS_OK, node);
    return;
  }
  if (g_str_equal(path, "/api/v1/meetings")) {
    ar_api_hub_meetings(s->hub, msg);
    return;
  }
  if (g_str_equal(path, "/api/v1/config")) {
    g_auto(GStrv) changed = ar_api_hub_config(s->hub, msg, AR_API_MAX_BODY);
    if (changed) {
      g_autofree char *list = g_strjoinv(", ", changed);
      g_autofree char *detail = g_strconcat("changed ", list, NULL);
      ar_api_hub_audit(s->hub, "config", detail);
    }
    return;
  }
  if (ar_api_recipes_is_path(path)) {
    g_autofree char *detail = NULL;
    const char *event = ar_api_hub_recipes(s->hub, msg, path, &detail);
    if (event)
      ar_api_hub_audit(s->hub, event, detail);
    return;
  }
  const char *command = ar_api_hub_command_name(path);
  if (!command) {
    ar_api_respond_result(msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
    return;
  }
  if (!g_str_equal(method, "POST")) {
    ar_api_respond_result(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  /* The link is not logged: meeting links carry passcodes. */
  ar_api_hub_audit(s->hub, command, NULL);
  ar_api_hub_command(s->hub, msg, command, AR_API_MAX_BODY);
}

static void
handle_events(SoupServer *soup, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *ws, gpointer data)
{
  ArApiServer *s = data;
  ar_api_hub_add_event_client(s->hub, ws, NULL);
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
  g_socket_set_listen_backlog(sock, 64);
  if (chmod(path, 0600) != 0 || !g_socket_listen(sock, error)) {
    if (error && !*error)
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s", path,
                  g_strerror(errno));
    return NULL;
  }
  return g_steal_pointer(&sock);
}

ArApiServer *
ar_api_server_new(ArApiHub *hub, const char *socket_path, GError **error)
{
  g_autoptr(GSocket) sock = bind_socket(socket_path, error);
  if (!sock)
    return NULL;
  ArApiServer *s = g_new0(ArApiServer, 1);
  s->hub = hub;
  s->socket_path = g_strdup(socket_path);
  s->soup = soup_server_new("server-header", "anyroomd", NULL);
  soup_server_add_websocket_handler(s->soup, "/api/v1/events", NULL, NULL, handle_events, s, NULL);
  soup_server_add_handler(s->soup, "/api/v1", handle_request, s, NULL);
  /* Our own accept (ar-api-listener.h): it survives running out of file
   * descriptors, refuses other users before they send a byte and has
   * deadlines. */
  ArApiListenerLimits limits;
  ar_api_listener_limits_for_nofile(&limits, ar_api_raise_nofile(0));
  limits.name = "api";
  limits.max_local = AR_API_MAX_CONNECTIONS;
  limits.owner_only = TRUE;
  s->listener = ar_api_listener_new(s->soup, sock, NULL, &limits, error);
  if (!s->listener) {
    ar_api_server_free(s);
    return NULL;
  }
  g_message("api: listening on %s", socket_path);
  return s;
}

void
ar_api_server_free(ArApiServer *s)
{
  if (!s)
    return;
  if (s->soup) {
    soup_server_disconnect(s->soup);
    g_object_unref(s->soup);
  }
  /* After the server: it let go of every connection. */
  ar_api_listener_free(s->listener);
  g_unlink(s->socket_path);
  g_free(s->socket_path);
  g_free(s);
}
