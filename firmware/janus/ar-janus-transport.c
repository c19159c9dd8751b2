/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-janus-transport.h"

#include <libsoup/soup.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 8
#define REQUEST_TIMEOUT_S 10
#define LONGPOLL_TIMEOUT_S 45 /* Janus holds a long poll for up to 30 s */

struct _ArJanusTransport {
  char *url;
  gboolean websocket;
  ArJanusTransportCallbacks cb;
  gpointer user_data;
  GCancellable *cancellable;
  SoupSession *session;
  SoupSession *poll_session;
  SoupWebsocketConnection *ws;
  guint64 session_id; /* HTTP: learned from the "create" answer; starts long polls */
  gboolean polling;
  gboolean failed;
};

static void
fail(ArJanusTransport *t, GError *error)
{
  if (t->failed || g_cancellable_is_cancelled(t->cancellable))
    return;
  t->failed = TRUE;
  g_cancellable_cancel(t->cancellable);
  t->cb.failed(t, error, t->user_data);
}

static void http_poll(ArJanusTransport *t);

/* Delivers a JSON text that may hold one message or (long poll) several. */
static void
deliver(ArJanusTransport *t, const char *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) msgs = ar_janus_msg_parse_many(data, len, &error);
  if (!msgs) {
    /* A message we cannot read is dropped with a log line, not fatal: the
     * transaction it answered times out with a clear error instead. */
    g_debug("janus: dropping unreadable message: %s", error->message);
    return;
  }
  for (guint i = 0; i < msgs->len; i++) {
    if (t->failed || g_cancellable_is_cancelled(t->cancellable))
      return;
    ArJanusMsg *m = msgs->pdata[i];
    if (!t->websocket && m->type == AR_JANUS_MSG_SUCCESS && !t->session_id && m->data_id &&
        !m->sender) {
      t->session_id = m->data_id;
      http_poll(t);
    }
    t->cb.message(t, m, t->user_data);
  }
}

/* ---- WebSocket ---- */

static void
ws_on_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  ArJanusTransport *t = data;
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize len = 0;
  const char *text = g_bytes_get_data(message, &len);
  deliver(t, text, len);
}

static void
ws_on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  ArJanusTransport *t = data;
  gushort code = soup_websocket_connection_get_close_code(ws);
  /* No close frame (code 0): the server died or the network went away. */
  g_autoptr(GError) e =
      code == 0 ? g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_TRANSPORT,
                              "lost the connection to Janus (the server stopped or is unreachable)")
                : g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_TRANSPORT,
                              "Janus closed the connection (WebSocket close code %u)", code);
  fail(t, e);
}

static void
ws_on_error(SoupWebsocketConnection *ws, GError *error, gpointer data)
{
  g_debug("janus: websocket error: %s", error->message);
}

static void
ws_connected(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error);
  if (!ws) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      return;
    ArJanusTransport *t = data;
    g_autoptr(GError) e = g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_UNREACHABLE,
                                      "cannot reach Janus at %s: %s", t->url, error->message);
    fail(t, e);
    return;
  }
  ArJanusTransport *t = data;
  t->ws = ws;
  soup_websocket_connection_set_max_incoming_payload_size(ws, AR_JANUS_MAX_MESSAGE);
  soup_websocket_connection_set_keepalive_interval(ws, 15);
  g_signal_connect(ws, "message", G_CALLBACK(ws_on_message), t);
  g_signal_connect(ws, "closed", G_CALLBACK(ws_on_closed), t);
  g_signal_connect(ws, "error", G_CALLBACK(ws_on_error), t);
  t->cb.opened(t, t->user_data);
}

/* ---- HTTP ---- */

typedef struct {
  ArJanusTransport *t;
  gboolean poll;
} HttpReq;

static void
http_done(GObject *source, GAsyncResult *res, gpointer data)
{
  HttpReq *req = data;
  gboolean poll = req->poll;
  g_autoptr(GError) error = NULL;
  SoupSession *session = SOUP_SESSION(source);
  SoupMessage *msg = soup_session_get_async_result_message(session, res);
  g_autoptr(GBytes) body = soup_session_send_and_read_finish(session, res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_free(req);
    return;
  }
  ArJanusTransport *t = req->t;
  g_free(req);
  if (!body) {
    g_autoptr(GError) e = g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_UNREACHABLE,
                                      "cannot reach Janus at %s: %s", t->url, error->message);
    fail(t, e);
    return;
  }
  guint status = soup_message_get_status(msg);
  if (status != SOUP_STATUS_OK) {
    g_autoptr(GError) e =
        g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_TRANSPORT, "Janus at %s answered HTTP %u %s",
                    t->url, status, soup_message_get_reason_phrase(msg));
    fail(t, e);
    return;
  }
  gsize len = 0;
  const char *text = g_bytes_get_data(body, &len);
  if (len > 0)
    deliver(t, text, len);
  if (poll && !t->failed && !g_cancellable_is_cancelled(t->cancellable)) {
    t->polling = FALSE;
    http_poll(t);
  }
}

static char *
http_url(ArJanusTransport *t, guint64 session_id, guint64 handle_id, const char *query)
{
  GString *s = g_string_new(t->url);
  if (session_id)
    g_string_append_printf(s, "/%" G_GUINT64_FORMAT, session_id);
  if (handle_id)
    g_string_append_printf(s, "/%" G_GUINT64_FORMAT, handle_id);
  if (query)
    g_string_append(s, query);
  return g_string_free(s, FALSE);
}

static void
http_poll(ArJanusTransport *t)
{
  if (t->polling || !t->session_id)
    return;
  t->polling = TRUE;
  g_autofree char *url = http_url(t, t->session_id, 0, "?maxev=10");
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
  HttpReq *req = g_new0(HttpReq, 1);
  req->t = t;
  req->poll = TRUE;
  soup_session_send_and_read_async(t->poll_session, msg, G_PRIORITY_DEFAULT, t->cancellable,
                                   http_done, req);
}

static SoupMessage *
http_message(ArJanusTransport *t, const char *json)
{
  /* The HTTP API puts the session and handle into the path. */
  guint64 session_id = 0, handle_id = 0;
  g_autoptr(JsonParser) p = json_parser_new();
  if (json_parser_load_from_data(p, json, -1, NULL)) {
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    if (json_object_has_member(o, "session_id"))
      session_id = (guint64)json_object_get_int_member(o, "session_id");
    if (json_object_has_member(o, "handle_id"))
      handle_id = (guint64)json_object_get_int_member(o, "handle_id");
  }
  g_autofree char *url = http_url(t, session_id, handle_id, NULL);
  SoupMessage *msg = soup_message_new("POST", url);
  g_autoptr(GBytes) bytes = g_bytes_new(json, strlen(json));
  soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  return msg;
}

static void
http_send(ArJanusTransport *t, const char *json)
{
  g_autoptr(SoupMessage) msg = http_message(t, json);
  HttpReq *req = g_new0(HttpReq, 1);
  req->t = t;
  soup_session_send_and_read_async(t->session, msg, G_PRIORITY_DEFAULT, t->cancellable, http_done,
                                   req);
}

static gboolean
http_opened_idle(gpointer data)
{
  ArJanusTransport *t = data;
  if (!g_cancellable_is_cancelled(t->cancellable))
    t->cb.opened(t, t->user_data);
  return G_SOURCE_REMOVE;
}

static void
detached_done(GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
  g_object_unref(source);
}

/* ---- public ---- */

void
ar_janus_transport_send_detached(ArJanusTransport *t, const char *json)
{
  if (t->websocket) {
    ar_janus_transport_send(t, json);
    return;
  }
  /* A session of its own (2 s at most) that outlives @t: freeing @t aborts
   * the requests of its sessions. */
  SoupSession *session =
      soup_session_new_with_options("timeout", 2, "user-agent", "Anyroom/1", NULL);
  g_autoptr(SoupMessage) msg = http_message(t, json);
  soup_session_send_and_read_async(session, msg, G_PRIORITY_DEFAULT, NULL, detached_done, NULL);
}

ArJanusTransport *
ar_janus_transport_new(const char *url, const ArJanusTransportCallbacks *cb, gpointer user_data,
                       GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
  if (!scheme || !g_uri_get_host(uri)) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "not a Janus URL: %s", url);
    return NULL;
  }
  ArJanusTransport *t = g_new0(ArJanusTransport, 1);
  if (g_str_equal(scheme, "ws") || g_str_equal(scheme, "wss"))
    t->websocket = TRUE;
  else if (!g_str_equal(scheme, "http") && !g_str_equal(scheme, "https")) {
    g_set_error(error, AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED,
                "Janus URL scheme '%s' is not ws, wss, http or https", scheme);
    g_free(t);
    return NULL;
  }
  t->url = g_strdup(url);
  /* HTTP paths are joined with "/<session>": no trailing slash. */
  while (!t->websocket && g_str_has_suffix(t->url, "/"))
    t->url[strlen(t->url) - 1] = '\0';
  t->cb = *cb;
  t->user_data = user_data;
  t->cancellable = g_cancellable_new();
  t->session =
      soup_session_new_with_options("timeout", REQUEST_TIMEOUT_S, "idle-timeout", 60, "user-agent",
                                    "Anyroom/"
                                    "1",
                                    NULL);
  if (!t->websocket)
    t->poll_session = soup_session_new_with_options("timeout", LONGPOLL_TIMEOUT_S, "user-agent",
                                                    "Anyroom/1", NULL);
  return t;
}

void
ar_janus_transport_open(ArJanusTransport *t)
{
  if (t->websocket) {
    g_autoptr(SoupMessage) msg = soup_message_new("GET", t->url);
    if (!msg) {
      g_autoptr(GError) e =
          g_error_new(AR_JANUS_ERROR, AR_JANUS_ERROR_MALFORMED, "not a Janus URL: %s", t->url);
      fail(t, e);
      return;
    }
    const char *protocols[] = {"janus-protocol", NULL};
    g_object_set(t->session, "timeout", CONNECT_TIMEOUT_S, NULL);
    soup_session_websocket_connect_async(t->session, msg, NULL, (char **)protocols,
                                         G_PRIORITY_DEFAULT, t->cancellable, ws_connected, t);
  } else {
    /* HTTP needs no connection: ready at once (first request tells). */
    g_idle_add_full(G_PRIORITY_DEFAULT, http_opened_idle, t, NULL);
  }
}

void
ar_janus_transport_send(ArJanusTransport *t, const char *json)
{
  if (t->failed)
    return;
  if (t->websocket) {
    if (t->ws && soup_websocket_connection_get_state(t->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(t->ws, json);
  } else {
    http_send(t, json);
  }
}

void
ar_janus_transport_free(ArJanusTransport *t)
{
  if (!t)
    return;
  g_cancellable_cancel(t->cancellable);
  g_idle_remove_by_data(t);
  if (t->ws) {
    g_signal_handlers_disconnect_by_data(t->ws, t);
    if (soup_websocket_connection_get_state(t->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(t->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(t->ws);
  }
  if (t->session)
    soup_session_abort(t->session);
  if (t->poll_session)
    soup_session_abort(t->poll_session);
  g_clear_object(&t->session);
  g_clear_object(&t->poll_session);
  g_object_unref(t->cancellable);
  g_free(t->url);
  g_free(t);
}
