/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-server.c: the core of the HTTPS server: the checks every request
 * passes before its body is read, the route table (feature files register
 * their routes, ar-web-priv.h), static files, start and stop. */
#include "ar-web-server.h"

#include <string.h>

#include "ar-api-listener.h"
#include "ar-janus-msg.h"
#include "ar-web-build-config.h"
#include "ar-web-priv.h"
#include "ar-web-tls.h"

#define MAX_BUCKETS 1024
#define RATE_PER_S 50.0
#define RATE_BURST 200.0
#define STATIC_MAX_BYTES (512 * 1024)
#define STATIC_NAME_MAX 64

#define CSP                                                                                        \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "  \
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

typedef struct {
  double tokens;
  gint64 last_us;
} Bucket;

typedef struct {
  char *prefix; /* "/admin/" */
  char *subdir; /* "admin" */
} ArWebStaticDir;

static void
static_dir_free(ArWebStaticDir *d)
{
  g_free(d->prefix);
  g_free(d->subdir);
  g_free(d);
}

/* ---- small things ---- */

const char *
ar_web_client_of(SoupServerMessage *msg)
{
  const char *h = soup_server_message_get_remote_host(msg);
  return h ? h : "?";
}

const char *
ar_web_header(SoupServerMessage *msg, const char *name)
{
  return soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
}

void
ar_web_error(SoupServerMessage *msg, guint status, const char *error)
{
  ar_api_respond_result(msg, status, error);
}

void
ar_web_error_retry(SoupServerMessage *msg, gint64 retry_us, const char *before, const char *after)
{
  g_autofree char *secs = g_strdup_printf("%" G_GINT64_FORMAT, (retry_us + 999999) / 1000000);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", secs);
  g_autofree char *text = g_strconcat(before, secs, " s", after, NULL);
  ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, text);
}

/* ---- request bodies ---- */

JsonNode *
ar_web_body_object(SoupServerMessage *msg, GError **error)
{
  return ar_api_body_object(msg, AR_WEB_MAX_BODY, FALSE, error);
}

const char *
ar_web_string_member(JsonNode *obj, const char *name)
{
  return ar_api_string_member(obj, name);
}

/* ---- checks before the body is read ---- */

static gboolean
rate_ok(ArWebServer *s, const char *client)
{
  gint64 now = g_get_monotonic_time();
  Bucket *b = g_hash_table_lookup(s->buckets, client);
  if (!b) {
    if (g_hash_table_size(s->buckets) >= MAX_BUCKETS)
      g_hash_table_remove_all(s->buckets);
    b = g_new0(Bucket, 1);
    b->tokens = RATE_BURST;
    b->last_us = now;
    g_hash_table_insert(s->buckets, g_strdup(client), b);
  }
  b->tokens = MIN(RATE_BURST, b->tokens + (double)(now - b->last_us) / G_USEC_PER_SEC * RATE_PER_S);
  b->last_us = now;
  if (b->tokens < 1.0)
    return FALSE;
  b->tokens -= 1.0;
  return TRUE;
}

static gboolean
is_video_path(SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri(msg);
  return uri && g_str_equal(g_uri_get_path(uri), "/api/v1/video");
}

/* The WebSockets: events, and the room screen's video (ar-web-room.c). */
static gboolean
is_events_path(SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri(msg);
  return uri && (g_str_equal(g_uri_get_path(uri), "/api/v1/events") || is_video_path(msg));
}

static void
set_security_headers(SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Content-Security-Policy", CSP);
  soup_message_headers_replace(h, "X-Frame-Options", "DENY");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_message_headers_replace(h, "Cross-Origin-Resource-Policy", "same-origin");
  soup_message_headers_replace(h, "Cross-Origin-Opener-Policy", "same-origin");
  /* libsoup 3.2 (Debian 12 has 3.2.3) leaks the file descriptor of every
   * keep-alive connection the client closes while idle (measured: one fd per
   * curl request; upstream fix d20c6601 is in 3.3): a script polling status
   * would exhaust our fds. So every answer closes its connection. */
  if (!is_events_path(msg))
    soup_message_headers_replace(h, "Connection", "close");
}

/* Runs when the headers are in, before any body is read: a refusal here
 * means no handler runs. */
static void
on_got_headers(SoupServerMessage *msg, gpointer data)
{
  ArWebServer *s = data;
  const char *method = soup_server_message_get_method(msg);
  const char *client = ar_web_client_of(msg);
  set_security_headers(msg);
  if (!rate_ok(s, client)) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, "too many requests");
    return;
  }
  const char *host = ar_web_header(msg, "Host");
  const char *const *allowed = (const char *const *)s->allowed;
  g_auto(GStrv) with_address = NULL;
  if (!ar_web_host_ok(host, allowed)) {
    /* The device's own address as the client connected to it (a server on
     * every address has no fixed list of them). */
    if (!ar_web_host_is_local_address(host, s->port, soup_server_message_get_local_address(msg))) {
      g_message("admin: refused a request from %s for an unknown Host", client);
      ar_web_error(msg, SOUP_STATUS_MISDIRECTED_REQUEST,
                   "unknown Host: use the device's address or a name in [admin] hostnames");
      return;
    }
    with_address = ar_web_hosts_with(allowed, host);
    allowed = (const char *const *)with_address;
  }
  const char *origin = ar_web_header(msg, "Origin");
  const char *authz = ar_web_header(msg, "Authorization");
  gboolean bearer = authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0;
  ArWebOriginVerdict v =
      ar_web_origin_check(method, origin, ar_web_header(msg, "Sec-Fetch-Site"), bearer, allowed);
  if (v == AR_WEB_ORIGIN_FOREIGN) {
    g_message("admin: refused a cross-origin %s from %s", method, client);
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "cross-origin requests are refused");
    return;
  }
  if (v == AR_WEB_ORIGIN_NOT_SAME_SITE) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN,
                 "a state change needs an Origin header of this device (or an API token)");
    return;
  }
  if (g_str_equal(method, "OPTIONS") || g_str_equal(method, "TRACE") ||
      g_str_equal(method, "CONNECT")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    return;
  }
  /* A bundle upload is the one large body: ar-web-update.c checks it (and
   * the caller) now and streams it to disk. */
  if (ar_web_update_is_upload(msg)) {
    if (ar_web_update_upload_headers(s, msg))
      g_object_set_data(G_OBJECT(msg), "ar-web-checked", GINT_TO_POINTER(1));
    return;
  }
  SoupMessageHeaders *rh = soup_server_message_get_request_headers(msg);
  SoupEncoding enc = soup_message_headers_get_encoding(rh);
  if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF) {
    ar_web_error(msg, SOUP_STATUS_LENGTH_REQUIRED, "send a Content-Length");
    return;
  }
  goffset clen = soup_message_headers_get_content_length(rh);
  if (enc == SOUP_ENCODING_CONTENT_LENGTH && clen > AR_WEB_MAX_BODY) {
    ar_web_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "the body is larger than 64 KiB");
    return;
  }
  if (enc == SOUP_ENCODING_CONTENT_LENGTH && clen > 0) {
    const char *ct = soup_message_headers_get_content_type(rh, NULL);
    if (!ct || g_ascii_strcasecmp(ct, "application/json") != 0) {
      ar_web_error(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
      return;
    }
  }
  if (is_events_path(msg)) {
    /* The WebSocket is authenticated before the handshake. A browser always
     * sends Origin on a WebSocket; a cookie without one is refused. */
    ArWebCaller auth;
    if (!bearer && !origin) {
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "a WebSocket needs an Origin of this device");
      return;
    }
    gboolean video = is_video_path(msg);
    if (!ar_web_authorize(s, msg, video ? AR_WEB_AUTH_ROOM : AR_WEB_AUTH_DEVICE,
                          video ? AR_WEB_SCOPE_MEDIA : AR_WEB_SCOPE_STATUS, &auth))
      return;
    char *owner = auth.token     ? ar_web_owner_of("token", auth.token->hash)
                  : auth.session ? ar_web_owner_of("session", auth.session->id_hash)
                                 : g_strdup(auth.owner);
    g_object_set_data_full(G_OBJECT(msg), "ar-web-owner", owner, g_free);
    /* Per-credential limits (ar-api-slots.h): refused before the handshake
     * when the slots open to all are taken (the room screen never is). */
    if (!(video ? ar_web_room_can_add_video_client(s, owner)
                : ar_api_hub_can_add_event_client(s->hub, owner))) {
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   "10");
      ar_web_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                   video ? "too many video streams are open" : "too many event streams are open");
      return;
    }
  }
  g_object_set_data(G_OBJECT(msg), "ar-web-checked", GINT_TO_POINTER(1));
}

static void
on_request_started(SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), data);
}

static gboolean
checked(SoupServerMessage *msg)
{
  return g_object_get_data(G_OBJECT(msg), "ar-web-checked") != NULL &&
         soup_server_message_get_status(msg) == 0;
}

/* ---- routing ---- */

void
ar_web_server_add_routes(ArWebServer *s, const ArWebRoute *routes, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (routes[i].need == AR_WEB_AUTH_SESSION_OR_TOKEN && routes[i].scope == 0)
      g_warning("admin: route %s is meant for tokens but names no scope: tokens are refused",
                routes[i].path);
  g_array_append_vals(s->routes, routes, (guint)n);
}

static const ArWebRoute *
route_of(ArWebServer *s, const char *path)
{
  for (guint i = 0; i < s->routes->len; i++) {
    const ArWebRoute *r = &g_array_index(s->routes, ArWebRoute, i);
    gsize len = strlen(r->path);
    gboolean prefix = len > 0 && r->path[len - 1] == '/';
    if (prefix ? g_str_has_prefix(path, r->path) : g_str_equal(path, r->path))
      return r;
  }
  return NULL;
}

static gboolean
method_allowed(const ArWebRoute *r, const char *method)
{
  g_auto(GStrv) methods = g_strsplit(r->methods, " ", -1);
  return g_strv_contains((const char *const *)methods, method);
}

/* "use GET", "use GET or PUT" */
static char *
methods_hint(const ArWebRoute *r)
{
  g_auto(GStrv) methods = g_strsplit(r->methods, " ", -1);
  g_autofree char *list = g_strjoinv(" or ", methods);
  return g_strconcat("use ", list, NULL);
}

static void
handle_api(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  ArWebServer *s = data;
  if (!checked(msg)) {
    if (soup_server_message_get_status(msg) == 0)
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "refused");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  g_debug("admin: %s %s from %s", method, path, ar_web_client_of(msg));
  const ArWebRoute *r = route_of(s, path);
  if (!r) {
    ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
    return;
  }
  /* Credentials first: an unknown caller learns nothing of the endpoint. A
   * token is checked on every route, public ones included (a revoked token
   * is refused everywhere; the route's scope decides what it may do). */
  ArWebCaller caller = {0};
  gboolean has_authz = ar_web_header(msg, "Authorization") != NULL;
  if (r->need != AR_WEB_AUTH_CALL_LINK && (r->need != AR_WEB_AUTH_NONE || has_authz) &&
      !ar_web_authorize(s, msg, r->need, r->scope, &caller))
    return;
  if (!method_allowed(r, method)) {
    g_autofree char *hint = methods_hint(r);
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, hint);
    return;
  }
  r->handler(s, msg, path, &caller);
}

static void
handle_events(SoupServer *soup, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *ws, gpointer data)
{
  ArWebServer *s = data;
  /* The handshake is done (status 101): only the flag of on_got_headers. */
  if (!g_object_get_data(G_OBJECT(msg), "ar-web-checked")) {
    soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "refused");
    return;
  }
  if (is_video_path(msg))
    ar_web_room_add_video_client(s, ws, g_object_get_data(G_OBJECT(msg), "ar-web-owner"));
  else
    ar_api_hub_add_event_client(s->hub, ws, g_object_get_data(G_OBJECT(msg), "ar-web-owner"));
}

/* ---- static files: the pages ---- */

void
ar_web_server_add_static_dir(ArWebServer *s, const char *prefix, const char *ui_subdir)
{
  ArWebStaticDir *d = g_new0(ArWebStaticDir, 1);
  d->prefix = g_strdup(prefix);
  d->subdir = g_strdup(ui_subdir);
  g_ptr_array_add(s->static_dirs, d);
}

/* A plain file name: letters, digits, '-', '_' and one '.', known type. */
static const char *
static_type(const char *name)
{
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
  };
  gsize len = strlen(name);
  if (len == 0 || len > STATIC_NAME_MAX || name[0] == '.')
    return NULL;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(name[i]) && !strchr("-_.", name[i]))
      return NULL;
  if (strchr(name, '.') != strrchr(name, '.'))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
    if (g_str_has_suffix(name, types[i].ext))
      return types[i].type;
  return NULL;
}

static void
handle_static(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
  ArWebServer *s = data;
  if (!checked(msg)) {
    if (soup_server_message_get_status(msg) == 0)
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "refused");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
    ar_web_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  if (g_str_equal(path, "/") || g_str_equal(path, "/admin")) {
    soup_server_message_set_redirect(msg, SOUP_STATUS_FOUND, "/admin/");
    return;
  }
  for (guint i = 0; i < s->static_dirs->len; i++) {
    ArWebStaticDir *d = s->static_dirs->pdata[i];
    /* "/call" is "/call/" (a call link names the page without the slash). */
    gsize plen = strlen(d->prefix);
    gboolean bare = strlen(path) + 1 == plen && strncmp(path, d->prefix, plen - 1) == 0;
    if (!bare && !g_str_has_prefix(path, d->prefix))
      continue;
    const char *name = bare ? "" : path + plen;
    if (!*name)
      name = "index.html";
    const char *type = static_type(name);
    if (!type)
      break;
    g_autofree char *fpath = g_build_filename(s->ui_dir, d->subdir, name, NULL);
    g_autofree char *content = NULL;
    gsize len = 0;
    if (!g_file_get_contents(fpath, &content, &len, NULL) || len > STATIC_MAX_BYTES) {
      ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "the page is not installed");
      return;
    }
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, g_steal_pointer(&content), len);
    return;
  }
  ar_web_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

static gboolean
expire_tick(gpointer data)
{
  ArWebServer *s = data;
  ar_web_expire_sessions(s, g_get_monotonic_time());
  return G_SOURCE_CONTINUE;
}

static char *
find_ui_dir(void)
{
  const char *dirs[] = {g_getenv("ANYROOM_UI_DIR"), AR_SOURCE_UI_DIR, AR_UI_DIR};
  for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
    if (!dirs[i] || !*dirs[i])
      continue;
    g_autofree char *index = g_build_filename(dirs[i], "admin", "index.html", NULL);
    if (g_file_test(index, G_FILE_TEST_IS_REGULAR))
      return g_strdup(dirs[i]);
  }
  return g_strdup(AR_UI_DIR);
}

ArWebServer *
ar_web_server_new(ArApiHub *hub, ArConfig *config, const char *state_dir, const char *ui_dir,
                  GError **error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  if (!ar_web_parse_listen(config->admin_listen, &host, &port, error))
    return NULL;
  if (!ar_web_private_dir(state_dir, error))
    return NULL;
  g_autoptr(ArWebServer) s = g_new0(ArWebServer, 1);
  s->hub = hub;
  s->config = config;
  s->state_dir = g_strdup(state_dir);
  s->ui_dir = ui_dir ? g_strdup(ui_dir) : find_ui_dir();
  s->sessions =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)ar_web_session_free);
  s->tokens = g_ptr_array_new_with_free_func((GDestroyNotify)ar_web_token_free);
  s->throttle = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->logins = g_ptr_array_new();
  s->routes = g_array_new(FALSE, FALSE, sizeof(ArWebRoute));
  s->static_dirs = g_ptr_array_new_with_free_func((GDestroyNotify)static_dir_free);
  ar_web_session_register(s);
  ar_web_api_register(s);
  ar_web_tokens_register(s);
  ar_web_audit_register(s);
  ar_web_update_register(s);
  ar_web_admin_register(s);
  ar_web_recipes_register(s);
  ar_web_calls_register(s);
  s->jobs = g_ptr_array_new();
  ar_web_server_add_static_dir(s, "/admin/", "admin");
  ar_web_server_add_static_dir(s, "/call/", "call");
  if (!ar_web_room_register(s, error))
    return NULL;
  s->policy = (ArThrottlePolicy){.base_delay_ms = 1000,
                                 .max_delay_ms = 30000,
                                 .max_failures = config->admin_login_max_failures,
                                 .lockout_s = config->admin_login_lockout_min * 60};
  s->port = port;
  /* NAME.local too: the room's mDNS name (avahi), which its call links name. */
  g_autoptr(GStrvBuilder) hb = g_strv_builder_new();
  if (config->admin_hostnames)
    g_strv_builder_addv(hb, (const char **)config->admin_hostnames);
  const char *hostname = g_get_host_name();
  g_autofree char *mdns = hostname && *hostname && !strchr(hostname, '.')
                              ? g_strconcat(hostname, ".local", NULL)
                              : NULL;
  if (mdns)
    g_strv_builder_add(hb, mdns);
  g_auto(GStrv) hostnames = g_strv_builder_end(hb);
  s->allowed = ar_web_allowed_hosts(port, host, (const char *const *)hostnames);
  if (!ar_web_load_password(s, error) || !ar_web_load_tokens(s, error))
    return NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  g_ptr_array_add(names, host);
  for (gsize i = 0; config->admin_hostnames && config->admin_hostnames[i]; i++)
    g_ptr_array_add(names, config->admin_hostnames[i]);
  g_ptr_array_add(names, NULL);
  s->cert = ar_web_tls_load_or_create(state_dir, (const char *const *)names->pdata, error);
  if (!s->cert)
    return NULL;
  s->fingerprint = ar_web_tls_fingerprint(s->cert);
  /* TLS is ours (ar-api-listener.c hands libsoup finished TLS streams). */
  s->soup = soup_server_new("server-header", "anyroomd", NULL);
  g_signal_connect(s->soup, "request-started", G_CALLBACK(on_request_started), s);
  soup_server_add_websocket_handler(s->soup, "/api/v1/events", NULL, NULL, handle_events, s, NULL);
  soup_server_add_websocket_handler(s->soup, "/api/v1/video", NULL, NULL, handle_events, s, NULL);
  soup_server_add_handler(s->soup, "/api", handle_api, s, NULL);
  if (config->admin_metrics)
    soup_server_add_handler(s->soup, "/metrics", handle_api, s, NULL);
  soup_server_add_handler(s->soup, NULL, handle_static, s, NULL);
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, (guint16)port);
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, error);
  if (!sock || !g_socket_bind(sock, sa, TRUE, error))
    return NULL;
  g_socket_set_listen_backlog(sock, 128);
  if (!g_socket_listen(sock, error))
    return NULL;
  /* Our own accept, caps and deadlines (ar-api-listener.h): libsoup's
   * listener stops for good after one EMFILE and has no deadlines. */
  ArApiListenerLimits limits;
  ar_api_listener_limits_for_nofile(&limits, ar_api_raise_nofile(0));
  limits.name = "admin";
  s->listener = ar_api_listener_new(s->soup, sock, s->cert, &limits, error);
  if (!s->listener)
    return NULL;
  g_message("admin: at most %u connections from the LAN (%u per address) and %u from this "
            "device; deadlines: TLS %u s, headers %u s, body %u s, response %u s",
            limits.max_remote, limits.max_per_address, limits.max_local, limits.handshake_timeout_s,
            limits.header_timeout_s, limits.body_timeout_s, limits.request_timeout_s);
  gboolean v6 = strchr(host, ':') != NULL;
  s->url = g_strdup_printf(v6 ? "https://[%s]:%u/admin/" : "https://%s:%u/admin/", host, port);
  ar_api_hub_set_admin_info(hub, s->url, s->fingerprint);
  ar_api_hub_set_audit_func(hub, ar_web_audit_local, s);
  /* Idle sessions end (and their event streams close) without a request. */
  s->expire_timer = g_timeout_add_seconds(30, expire_tick, s);
  g_message("admin: listening on %s (TLS certificate SHA-256 %s)%s", s->url, s->fingerprint,
            s->password_hash ? "" : "; first-run setup: set the admin password there");
  return g_steal_pointer(&s);
}

void
ar_web_server_free(ArWebServer *s)
{
  if (!s)
    return;
  if (s->expire_timer)
    g_source_remove(s->expire_timer);
  ar_web_session_shutdown(s);
  ar_web_admin_shutdown(s);
  g_clear_pointer(&s->jobs, g_ptr_array_unref);
  g_clear_pointer(&s->logins, g_ptr_array_unref);
  ar_web_calls_free(s);
  g_clear_pointer(&s->routes, g_array_unref);
  g_clear_pointer(&s->static_dirs, g_ptr_array_unref);
  if (s->hub) {
    ar_api_hub_set_admin_info(s->hub, NULL, NULL);
    ar_api_hub_set_audit_func(s->hub, NULL, NULL);
  }
  if (s->soup) {
    soup_server_disconnect(s->soup);
    g_object_unref(s->soup);
  }
  /* After the server: it let go of every connection. */
  ar_api_listener_free(s->listener);
  ar_web_room_free(s);
  ar_web_audit_free(s);
  g_clear_object(&s->cert);
  g_clear_pointer(&s->sessions, g_hash_table_unref);
  g_clear_pointer(&s->tokens, g_ptr_array_unref);
  g_clear_pointer(&s->throttle, g_hash_table_unref);
  g_clear_pointer(&s->buckets, g_hash_table_unref);
  g_strfreev(s->allowed);
  g_free(s->password_hash);
  g_free(s->fingerprint);
  g_free(s->url);
  g_free(s->state_dir);
  g_free(s->ui_dir);
  g_free(s);
}

const char *
ar_web_server_get_fingerprint(ArWebServer *s)
{
  return s->fingerprint;
}

const char *
ar_web_server_get_url(ArWebServer *s)
{
  return s->url;
}
