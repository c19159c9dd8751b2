/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ar-janus-msg.h"
#include "ar-web-auth.h"
#include "ar-web-build-config.h"
#include "ar-web-tls.h"

#define MAX_THROTTLE_ENTRIES 1024
#define MAX_BUCKETS 1024
#define RATE_PER_S 50.0
#define RATE_BURST 200.0
#define AUDIT_LIST_MAX 200
#define STATIC_MAX_BYTES (512 * 1024)
#define ROOM_NAME_MAX_CHARS 64
#define MAX_LOGINS_IN_FLIGHT 4
#define TOKEN_NAME_MAX 64
#define AR_HTTP_TOO_MANY_REQUESTS 429 /* libsoup 3.2 has no name for it */

#define CSP                                                                                        \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "  \
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

typedef struct {
  char *id_hash; /* SHA-256 of the cookie value: the value itself is kept nowhere */
  char *csrf;
  gint64 last_used_us;
} Session;

typedef struct {
  char *name;
  char *hash; /* SHA-256 hex of the token */
  gint64 created;
} Token;

typedef struct {
  double tokens;
  gint64 last_us;
} Bucket;

struct _ArWebServer {
  ArApiHub *hub;
  ArConfig *config;
  char *state_dir;
  char *ui_dir;
  SoupServer *soup;
  GTlsCertificate *cert;
  char *fingerprint;
  char *url;
  GStrv allowed;
  char *password_hash;  /* NULL: first-run setup not done */
  GHashTable *sessions; /* id_hash -> Session* */
  GPtrArray *tokens;    /* Token* */
  GHashTable *throttle; /* client address -> ArThrottleEntry* */
  GHashTable *buckets;  /* client address -> Bucket* */
  ArThrottlePolicy policy;
  guint expire_timer;
  GPtrArray *logins; /* LoginJob* whose password is being checked in a thread */
};

typedef struct {
  Session *session;
  Token *token;
} Auth;

/* ---- small things ---- */

static void
session_free(Session *s)
{
  g_free(s->id_hash);
  g_free(s->csrf);
  g_free(s);
}

static void
token_free(Token *t)
{
  g_free(t->name);
  g_free(t->hash);
  g_free(t);
}

char *
ar_web_default_state_dir(void)
{
  return g_build_filename(g_get_user_state_dir(), "anyroom", NULL);
}

static char *
state_path(ArWebServer *s, const char *name)
{
  return g_build_filename(s->state_dir, name, NULL);
}

static const char *
client_of(SoupServerMessage *msg)
{
  const char *h = soup_server_message_get_remote_host(msg);
  return h ? h : "?";
}

static const char *
header(SoupServerMessage *msg, const char *name)
{
  return soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
}

static void
error_json(SoupServerMessage *msg, guint status, const char *error)
{
  ar_api_respond_result(msg, status, error);
}

/* ---- audit log: JSON lines, bounded, never a secret ---- */

static void
audit(ArWebServer *s, SoupServerMessage *msg, const Auth *auth, const char *event,
      const char *detail)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *when = g_date_time_format_iso8601(now);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "time");
  json_builder_add_string_value(b, when);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, event);
  json_builder_set_member_name(b, "client");
  json_builder_add_string_value(b, msg ? client_of(msg) : NULL);
  json_builder_set_member_name(b, "actor");
  if (auth && auth->token) {
    g_autofree char *a = g_strdup_printf("token:%s", auth->token->name);
    json_builder_add_string_value(b, a);
  } else if (auth && auth->session) {
    json_builder_add_string_value(b, "admin");
  } else {
    json_builder_add_null_value(b);
  }
  if (detail) {
    json_builder_set_member_name(b, "detail");
    json_builder_add_string_value(b, detail);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *line = json_to_string(node, FALSE);
  g_autofree char *path = state_path(s, "audit.log");
  struct stat st;
  if (stat(path, &st) == 0 && st.st_size > AR_WEB_AUDIT_MAX_BYTES) {
    g_autofree char *old = state_path(s, "audit.log.1");
    g_rename(path, old);
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    g_warning("admin: cannot write the audit log %s: %s", path, g_strerror(errno));
    return;
  }
  g_autofree char *text = g_strconcat(line, "\n", NULL);
  if (write(fd, text, strlen(text)) < 0)
    g_warning("admin: cannot write the audit log: %s", g_strerror(errno));
  close(fd);
  g_message("admin: audit %s from %s", event, msg ? client_of(msg) : "-");
}

/* ---- persistent state ---- */

static gboolean
load_password(ArWebServer *s, GError **error)
{
  g_autofree char *path = state_path(s, "admin-password");
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_strstrip(data);
  if (!g_str_has_prefix(data, "pbkdf2-sha256$") || strlen(data) > 256) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a password hash", path);
    return FALSE;
  }
  s->password_hash = g_steal_pointer(&data);
  return TRUE;
}

static gboolean
save_tokens(ArWebServer *s, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < s->tokens->len; i++) {
    Token *t = s->tokens->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, t->name);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, t->hash);
    json_builder_set_member_name(b, "created");
    json_builder_add_int_value(b, t->created);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, TRUE);
  g_autofree char *path = state_path(s, "tokens.json");
  return ar_web_write_private_file(path, text, strlen(text), error);
}

static gboolean
token_name_ok(const char *n)
{
  gsize len = n ? strlen(n) : 0;
  if (len == 0 || len > TOKEN_NAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(n[i]) && !strchr("._-", n[i]))
      return FALSE;
  return TRUE;
}

static gboolean
load_tokens(ArWebServer *s, GError **error)
{
  g_autofree char *path = state_path(s, "tokens.json");
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > 1024 * 1024 || !ar_json_depth_ok(data, len, 4) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a token list", path);
    return FALSE;
  }
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  for (guint i = 0; i < json_array_get_length(a) && s->tokens->len < AR_WEB_MAX_TOKENS; i++) {
    JsonNode *n = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      continue;
    JsonObject *o = json_node_get_object(n);
    const char *name = json_object_get_string_member_with_default(o, "name", NULL);
    const char *hash = json_object_get_string_member_with_default(o, "sha256", NULL);
    if (!token_name_ok(name) || !hash || strlen(hash) != 64)
      continue;
    Token *t = g_new0(Token, 1);
    t->name = g_strdup(name);
    t->hash = g_strdup(hash);
    t->created = json_object_get_int_member_with_default(o, "created", 0);
    g_ptr_array_add(s->tokens, t);
  }
  return TRUE;
}

static gboolean
room_name_ok(const char *name, const char **why)
{
  if (!name || !g_utf8_validate(name, -1, NULL)) {
    *why = "room_name must be UTF-8 text";
    return FALSE;
  }
  glong chars = g_utf8_strlen(name, -1);
  if (chars < 1 || chars > ROOM_NAME_MAX_CHARS) {
    *why = "room_name must have 1 to 64 characters";
    return FALSE;
  }
  for (const char *p = name; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029) {
      *why = "room_name must not contain control characters";
      return FALSE;
    }
  }
  if (g_ascii_isspace(name[0]) || g_ascii_isspace(name[strlen(name) - 1])) {
    *why = "room_name must not start or end with a space";
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_web_apply_saved_settings(ArConfig *config, const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename(state_dir, "settings.json", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > AR_WEB_MAX_BODY || !ar_json_depth_ok(data, len, 4) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a settings object", path);
    return FALSE;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  const char *name = json_object_get_string_member_with_default(o, "room_name", NULL);
  const char *why = NULL;
  if (name && room_name_ok(name, &why)) {
    g_free(config->room_name);
    config->room_name = g_strdup(name);
  }
  return TRUE;
}

static gboolean
save_settings(ArWebServer *s, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "room_name");
  json_builder_add_string_value(b, s->config->room_name);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, TRUE);
  g_autofree char *path = state_path(s, "settings.json");
  return ar_web_write_private_file(path, text, strlen(text), error);
}

/* ---- sessions and tokens ---- */

/* The owner name of event streams opened with a session or a token. */
static char *
owner_of(const char *kind, const char *hash)
{
  return g_strconcat(kind, ":", hash, NULL);
}

static void
session_ending(ArWebServer *s, Session *se)
{
  g_autofree char *owner = owner_of("session", se->id_hash);
  ar_api_hub_close_event_clients(s->hub, owner);
}

static void
expire_sessions(ArWebServer *s, gint64 now)
{
  gint64 idle = (gint64)s->config->admin_session_idle_min * 60 * G_USEC_PER_SEC;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, s->sessions);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (now - ((Session *)v)->last_used_us > idle) {
      session_ending(s, v);
      g_hash_table_iter_remove(&it);
    }
}

/* A new session; its cookie value goes into @cookie_id. */
static Session *
session_new(ArWebServer *s, char **cookie_id)
{
  gint64 now = g_get_monotonic_time();
  expire_sessions(s, now);
  while (g_hash_table_size(s->sessions) >= s->config->admin_max_sessions) {
    /* Full: the least recently used one goes. */
    GHashTableIter it;
    gpointer k, v;
    gpointer oldest = NULL;
    gint64 oldest_t = G_MAXINT64;
    g_hash_table_iter_init(&it, s->sessions);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (((Session *)v)->last_used_us < oldest_t) {
        oldest_t = ((Session *)v)->last_used_us;
        oldest = k;
      }
    session_ending(s, g_hash_table_lookup(s->sessions, oldest));
    g_hash_table_remove(s->sessions, oldest);
  }
  g_autofree char *id = ar_web_random_hex(NULL);
  g_autofree char *csrf = ar_web_random_hex(NULL);
  if (!id || !csrf)
    return NULL;
  Session *se = g_new0(Session, 1);
  se->id_hash = ar_web_sha256_hex(id, strlen(id));
  se->csrf = g_steal_pointer(&csrf);
  se->last_used_us = now;
  g_hash_table_insert(s->sessions, se->id_hash, se);
  *cookie_id = g_steal_pointer(&id);
  return se;
}

static Session *
session_of(ArWebServer *s, SoupServerMessage *msg)
{
  g_autofree char *id = ar_web_session_from_cookie_header(header(msg, "Cookie"));
  if (!id)
    return NULL;
  gint64 now = g_get_monotonic_time();
  expire_sessions(s, now);
  g_autofree char *h = ar_web_sha256_hex(id, strlen(id));
  Session *se = g_hash_table_lookup(s->sessions, h);
  if (se)
    se->last_used_us = now;
  return se;
}

static Token *
token_of(ArWebServer *s, const char *token)
{
  g_autofree char *h = ar_web_sha256_hex(token, strlen(token));
  Token *found = NULL;
  for (guint i = 0; i < s->tokens->len; i++) {
    Token *t = s->tokens->pdata[i];
    if (ar_web_secret_equal(t->hash, h) && !found)
      found = t;
  }
  return found;
}

typedef enum { AUTH_NONE, AUTH_SESSION_OR_TOKEN, AUTH_SESSION } AuthNeed;

/* Fills @auth or answers 401/403 and returns FALSE. */
static gboolean
authorize(ArWebServer *s, SoupServerMessage *msg, AuthNeed need, Auth *auth)
{
  memset(auth, 0, sizeof *auth);
  const char *authz = header(msg, "Authorization");
  if (authz) {
    g_autofree char *tok = ar_web_bearer_token(authz);
    auth->token = tok ? token_of(s, tok) : NULL;
    if (!auth->token) {
      soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                   "WWW-Authenticate", "Bearer");
      error_json(msg, SOUP_STATUS_UNAUTHORIZED, "unknown or revoked API token");
      return FALSE;
    }
    if (need == AUTH_SESSION) {
      error_json(msg, SOUP_STATUS_FORBIDDEN, "this needs an admin session, not an API token");
      return FALSE;
    }
    return TRUE;
  }
  auth->session = session_of(s, msg);
  if (!auth->session) {
    error_json(msg, SOUP_STATUS_UNAUTHORIZED, "log in first (or send an API token)");
    return FALSE;
  }
  if (ar_web_method_changes_state(soup_server_message_get_method(msg)) &&
      !ar_web_csrf_ok(auth->session->csrf, header(msg, "X-CSRF-Token"))) {
    error_json(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong X-CSRF-Token header");
    return FALSE;
  }
  return TRUE;
}

/* ---- request bodies ---- */

static JsonNode *
body_object(SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (!body || body->length <= 0 || body->length > AR_WEB_MAX_BODY) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request needs a JSON object body of at most %d bytes", AR_WEB_MAX_BODY);
    return NULL;
  }
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (!g_utf8_validate(data, (gssize)len, NULL) ||
      !ar_json_depth_ok(data, len, AR_WEB_MAX_JSON_DEPTH) ||
      !json_parser_load_from_data(p, data, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the request body is not a JSON object");
    return NULL;
  }
  return json_node_copy(json_parser_get_root(p));
}

static const char *
string_member(JsonNode *obj, const char *name)
{
  JsonNode *n = json_object_get_member(json_node_get_object(obj), name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(n);
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
is_events_path(SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri(msg);
  return uri && g_str_equal(g_uri_get_path(uri), "/api/v1/events");
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
  const char *client = client_of(msg);
  set_security_headers(msg);
  if (!rate_ok(s, client)) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    error_json(msg, AR_HTTP_TOO_MANY_REQUESTS, "too many requests");
    return;
  }
  const char *host = header(msg, "Host");
  if (!ar_web_host_ok(host, (const char *const *)s->allowed)) {
    g_message("admin: refused a request from %s for an unknown Host", client);
    error_json(msg, SOUP_STATUS_MISDIRECTED_REQUEST,
               "unknown Host: use the device's address or a name in [admin] hostnames");
    return;
  }
  const char *origin = header(msg, "Origin");
  const char *authz = header(msg, "Authorization");
  gboolean bearer = authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0;
  ArWebOriginVerdict v = ar_web_origin_check(method, origin, header(msg, "Sec-Fetch-Site"), bearer,
                                             (const char *const *)s->allowed);
  if (v == AR_WEB_ORIGIN_FOREIGN) {
    g_message("admin: refused a cross-origin %s from %s", method, client);
    error_json(msg, SOUP_STATUS_FORBIDDEN, "cross-origin requests are refused");
    return;
  }
  if (v == AR_WEB_ORIGIN_NOT_SAME_SITE) {
    error_json(msg, SOUP_STATUS_FORBIDDEN,
               "a state change needs an Origin header of this device (or an API token)");
    return;
  }
  if (g_str_equal(method, "OPTIONS") || g_str_equal(method, "TRACE") ||
      g_str_equal(method, "CONNECT") || g_str_equal(method, "PATCH")) {
    error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    return;
  }
  SoupMessageHeaders *rh = soup_server_message_get_request_headers(msg);
  SoupEncoding enc = soup_message_headers_get_encoding(rh);
  if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF) {
    error_json(msg, SOUP_STATUS_LENGTH_REQUIRED, "send a Content-Length");
    return;
  }
  goffset clen = soup_message_headers_get_content_length(rh);
  if (enc == SOUP_ENCODING_CONTENT_LENGTH && clen > AR_WEB_MAX_BODY) {
    error_json(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "the body is larger than 64 KiB");
    return;
  }
  if (enc == SOUP_ENCODING_CONTENT_LENGTH && clen > 0) {
    const char *ct = soup_message_headers_get_content_type(rh, NULL);
    if (!ct || g_ascii_strcasecmp(ct, "application/json") != 0) {
      error_json(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
      return;
    }
  }
  if (is_events_path(msg)) {
    /* The WebSocket is authenticated before the handshake. A browser always
     * sends Origin on a WebSocket; a cookie without one is refused. */
    Auth auth;
    if (!bearer && !origin) {
      error_json(msg, SOUP_STATUS_FORBIDDEN, "a WebSocket needs an Origin of this device");
      return;
    }
    if (!authorize(s, msg, AUTH_SESSION_OR_TOKEN, &auth))
      return;
    char *owner = auth.token ? owner_of("token", auth.token->hash)
                             : owner_of("session", auth.session->id_hash);
    g_object_set_data_full(G_OBJECT(msg), "ar-web-owner", owner, g_free);
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

/* ---- endpoints ---- */

static void
respond_session(ArWebServer *s, SoupServerMessage *msg, Session *se, guint status)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "setup_required");
  json_builder_add_boolean_value(b, s->password_hash == NULL);
  json_builder_set_member_name(b, "logged_in");
  json_builder_add_boolean_value(b, se != NULL);
  json_builder_set_member_name(b, "csrf_token");
  if (se)
    json_builder_add_string_value(b, se->csrf);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "idle_timeout_s");
  json_builder_add_int_value(b, (gint64)s->config->admin_session_idle_min * 60);
  json_builder_set_member_name(b, "tls_fingerprint_sha256");
  json_builder_add_string_value(b, s->fingerprint);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, status, node);
}

static void
start_session(ArWebServer *s, SoupServerMessage *msg)
{
  g_autofree char *cookie_id = NULL;
  Session *se = session_new(s, &cookie_id);
  if (!se) {
    error_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  g_autofree char *cookie = ar_web_session_cookie(cookie_id);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  respond_session(s, msg, se, SOUP_STATUS_OK);
}

static void
handle_setup(ArWebServer *s, SoupServerMessage *msg)
{
  if (s->password_hash) {
    error_json(msg, SOUP_STATUS_CONFLICT, "the admin password is already set");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = body_object(msg, &error);
  if (!body) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *password = string_member(body, "password");
  const char *why = NULL;
  if (!ar_web_password_acceptable(password, &why)) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST, why);
    return;
  }
  g_autofree char *hash = ar_web_password_hash(password, AR_WEB_PBKDF2_ITERATIONS);
  g_autofree char *path = state_path(s, "admin-password");
  g_autofree char *line = hash ? g_strconcat(hash, "\n", NULL) : NULL;
  if (!line || !ar_web_write_private_file(path, line, strlen(line), &error)) {
    g_warning("admin: cannot save the admin password: %s", error ? error->message : "no hash");
    error_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the password");
    return;
  }
  s->password_hash = g_steal_pointer(&hash);
  audit(s, msg, NULL, "setup", "admin password set");
  start_session(s, msg);
}

static ArThrottleEntry *
throttle_entry(ArWebServer *s, const char *client)
{
  ArThrottleEntry *e = g_hash_table_lookup(s->throttle, client);
  if (e)
    return e;
  if (g_hash_table_size(s->throttle) >= MAX_THROTTLE_ENTRIES) {
    /* Forget entries that hold nothing back any more. */
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->throttle);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
      ArThrottleEntry *x = v;
      if (x->next_allowed_us < now && x->locked_until_us < now)
        g_hash_table_iter_remove(&it);
    }
    if (g_hash_table_size(s->throttle) >= MAX_THROTTLE_ENTRIES)
      return NULL;
  }
  e = g_new0(ArThrottleEntry, 1);
  g_hash_table_insert(s->throttle, g_strdup(client), e);
  return e;
}

typedef struct {
  ArWebServer *server; /* NULL once the server is gone */
  SoupServerMessage *msg;
  char *client;
  char *password;
  char *hash;
  gboolean gone; /* the client disconnected */
} LoginJob;

static void
login_job_free(LoginJob *job)
{
  g_signal_handlers_disconnect_by_data(job->msg, job);
  g_object_unref(job->msg);
  g_free(job->client);
  if (job->password)
    OPENSSL_cleanse(job->password, strlen(job->password));
  g_free(job->password);
  g_free(job->hash);
  g_free(job);
}

static void
login_job_disconnected(SoupServerMessage *msg, gpointer data)
{
  ((LoginJob *)data)->gone = TRUE;
}

/* In a worker thread: touches only the job's own copies. */
static void
login_job_verify(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LoginJob *job = data;
  g_task_return_boolean(task, ar_web_password_verify(job->password, job->hash));
}

static void
login_job_done(GObject *source, GAsyncResult *res, gpointer data)
{
  LoginJob *job = data;
  gboolean ok = g_task_propagate_boolean(G_TASK(res), NULL);
  ArWebServer *s = job->server;
  if (!s) {
    login_job_free(job);
    return;
  }
  g_ptr_array_remove(s->logins, job);
  SoupServerMessage *msg = job->msg;
  ArThrottleEntry *e = throttle_entry(s, job->client);
  if (!ok) {
    gboolean locked = FALSE;
    if (e) {
      ar_throttle_failed(e, &s->policy, g_get_monotonic_time());
      locked = e->locked_until_us != 0;
    }
    audit(s, msg, NULL, locked ? "login_failed_locked" : "login_failed", NULL);
    if (!job->gone)
      error_json(msg, SOUP_STATUS_UNAUTHORIZED,
                 locked ? "wrong password: too many failures, logins from here are locked"
                        : "wrong password");
  } else {
    if (e)
      ar_throttle_succeeded(e);
    audit(s, msg, NULL, "login", NULL);
    if (!job->gone)
      start_session(s, msg);
  }
  if (!job->gone)
    soup_server_message_unpause(msg);
  login_job_free(job);
}

static void
handle_login(ArWebServer *s, SoupServerMessage *msg)
{
  if (!s->password_hash) {
    error_json(msg, SOUP_STATUS_CONFLICT, "no admin password yet: do the first-run setup");
    return;
  }
  const char *client = client_of(msg);
  ArThrottleEntry *e = throttle_entry(s, client);
  if (!e) {
    error_json(msg, AR_HTTP_TOO_MANY_REQUESTS, "too many clients are failing to log in");
    return;
  }
  gint64 wait_us = 0;
  ArThrottleVerdict v = ar_throttle_check(e, g_get_monotonic_time(), &wait_us);
  if (v != AR_THROTTLE_OK) {
    g_autofree char *secs = g_strdup_printf("%" G_GINT64_FORMAT, (wait_us + 999999) / 1000000);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 secs);
    if (v == AR_THROTTLE_LOCKED)
      audit(s, msg, NULL, "login_refused_locked", NULL);
    g_autofree char *text = g_strdup_printf(
        v == AR_THROTTLE_LOCKED ? "too many failed logins: locked, try again in %s s"
                                : "too soon after a failed login: try again in %s s",
        secs);
    error_json(msg, AR_HTTP_TOO_MANY_REQUESTS, text);
    return;
  }
  for (guint i = 0; i < s->logins->len; i++)
    if (g_str_equal(((LoginJob *)s->logins->pdata[i])->client, client)) {
      /* One guess at a time per address: no parallel guessing past the delay. */
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   "1");
      error_json(msg, AR_HTTP_TOO_MANY_REQUESTS, "a login from here is being checked");
      return;
    }
  if (s->logins->len >= MAX_LOGINS_IN_FLIGHT) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    error_json(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy checking other logins");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = body_object(msg, &error);
  if (!body) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *password = string_member(body, "password");
  if (!password || strlen(password) > AR_WEB_PASSWORD_MAX_BYTES) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST, "the request needs a \"password\" string");
    return;
  }
  /* PBKDF2 takes tens of milliseconds: not on the main loop, which carries
   * the call's signalling. */
  LoginJob *job = g_new0(LoginJob, 1);
  job->server = s;
  job->msg = g_object_ref(msg);
  job->client = g_strdup(client);
  job->password = g_strdup(password);
  job->hash = g_strdup(s->password_hash);
  g_signal_connect(msg, "disconnected", G_CALLBACK(login_job_disconnected), job);
  g_ptr_array_add(s->logins, job);
  soup_server_message_pause(msg);
  g_autoptr(GTask) task = g_task_new(NULL, NULL, login_job_done, job);
  g_task_set_task_data(task, job, NULL);
  g_task_run_in_thread(task, login_job_verify);
}

static void
handle_config(ArWebServer *s, SoupServerMessage *msg, const Auth *auth)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(method, "PUT")) {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) body = body_object(msg, &error);
    if (!body) {
      error_json(msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
    JsonObject *o = json_node_get_object(body);
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next)
      if (!g_str_equal(l->data, "room_name")) {
        error_json(msg, SOUP_STATUS_BAD_REQUEST, "unknown setting (known: room_name)");
        return;
      }
    const char *name = string_member(body, "room_name");
    const char *why = "room_name must be a string";
    if (!name || !room_name_ok(name, &why)) {
      error_json(msg, SOUP_STATUS_BAD_REQUEST, why);
      return;
    }
    g_autofree char *old = s->config->room_name;
    s->config->room_name = g_strdup(name);
    if (!save_settings(s, &error)) {
      g_free(s->config->room_name);
      s->config->room_name = g_steal_pointer(&old);
      g_warning("admin: cannot save settings: %s", error->message);
      error_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the settings");
      return;
    }
    audit(s, msg, auth, "config", "room_name changed");
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
    error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or PUT");
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

static void
handle_tokens(ArWebServer *s, SoupServerMessage *msg, const char *path, const Auth *auth)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_has_prefix(path, "/api/v1/tokens/")) {
    const char *name = path + strlen("/api/v1/tokens/");
    if (!g_str_equal(method, "DELETE")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use DELETE");
      return;
    }
    for (guint i = 0; i < s->tokens->len; i++) {
      Token *t = s->tokens->pdata[i];
      if (g_str_equal(t->name, name)) {
        g_autofree char *gone = g_strdup(t->name);
        g_autofree char *owner = owner_of("token", t->hash);
        ar_api_hub_close_event_clients(s->hub, owner);
        g_ptr_array_remove_index(s->tokens, i);
        g_autoptr(GError) error = NULL;
        if (!save_tokens(s, &error))
          g_warning("admin: cannot save tokens: %s", error->message);
        g_autofree char *detail = g_strdup_printf("token %s revoked", gone);
        audit(s, msg, auth, "token_revoked", detail);
        error_json(msg, SOUP_STATUS_OK, NULL);
        return;
      }
    }
    error_json(msg, SOUP_STATUS_NOT_FOUND, "no token of that name");
    return;
  }
  if (g_str_equal(method, "GET")) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tokens");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->tokens->len; i++) {
      Token *t = s->tokens->pdata[i];
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, t->name);
      json_builder_set_member_name(b, "created");
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t->created);
      g_autofree char *iso = dt ? g_date_time_format_iso8601(dt) : NULL;
      json_builder_add_string_value(b, iso);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) node = json_builder_get_root(b);
    ar_api_respond_json(msg, SOUP_STATUS_OK, node);
    return;
  }
  if (!g_str_equal(method, "POST")) {
    error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or POST");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = body_object(msg, &error);
  if (!body) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *name = string_member(body, "name");
  if (!token_name_ok(name)) {
    error_json(msg, SOUP_STATUS_BAD_REQUEST,
               "name: 1 to 64 characters of letters, digits, '.', '_' and '-'");
    return;
  }
  for (guint i = 0; i < s->tokens->len; i++)
    if (g_str_equal(((Token *)s->tokens->pdata[i])->name, name)) {
      error_json(msg, SOUP_STATUS_CONFLICT, "a token of that name exists: revoke it first");
      return;
    }
  if (s->tokens->len >= AR_WEB_MAX_TOKENS) {
    error_json(msg, SOUP_STATUS_CONFLICT, "too many tokens (32): revoke one first");
    return;
  }
  g_autofree char *secret = ar_web_random_hex("art_");
  if (!secret) {
    error_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  Token *t = g_new0(Token, 1);
  t->name = g_strdup(name);
  t->hash = ar_web_sha256_hex(secret, strlen(secret));
  t->created = g_get_real_time() / G_USEC_PER_SEC;
  g_ptr_array_add(s->tokens, t);
  if (!save_tokens(s, &error)) {
    g_ptr_array_remove(s->tokens, t);
    g_warning("admin: cannot save tokens: %s", error->message);
    error_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the token");
    return;
  }
  g_autofree char *detail = g_strdup_printf("token %s created", name);
  audit(s, msg, auth, "token_created", detail);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_set_member_name(b, "token");
  json_builder_add_string_value(b, secret);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_CREATED, node);
}

static void
handle_audit(ArWebServer *s, SoupServerMessage *msg)
{
  g_autofree char *path = state_path(s, "audit.log");
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(JsonArray) entries = json_array_new();
  if (g_file_get_contents(path, &data, &len, NULL) && len <= 2 * AR_WEB_AUDIT_MAX_BYTES) {
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    guint n = g_strv_length(lines);
    guint first = n > AUDIT_LIST_MAX + 1 ? n - AUDIT_LIST_MAX - 1 : 0;
    for (guint i = first; i < n; i++) {
      if (!*lines[i])
        continue;
      g_autoptr(JsonParser) p = json_parser_new_immutable();
      if (ar_json_depth_ok(lines[i], strlen(lines[i]), 4) &&
          json_parser_load_from_data(p, lines[i], -1, NULL))
        json_array_add_element(entries, json_node_copy(json_parser_get_root(p)));
    }
  }
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "entries", json_array_ref(entries));
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

static void
handle_api(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  ArWebServer *s = data;
  if (!checked(msg)) {
    if (soup_server_message_get_status(msg) == 0)
      error_json(msg, SOUP_STATUS_FORBIDDEN, "refused");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  g_debug("admin: %s %s from %s", method, path, client_of(msg));
  Auth auth = {0};
  if (g_str_equal(path, "/api/v1/session")) {
    if (!g_str_equal(method, "GET")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    respond_session(s, msg, session_of(s, msg), SOUP_STATUS_OK);
    return;
  }
  if (g_str_equal(path, "/api/v1/setup") || g_str_equal(path, "/api/v1/login")) {
    if (!g_str_equal(method, "POST")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
      return;
    }
    if (g_str_equal(path, "/api/v1/setup"))
      handle_setup(s, msg);
    else
      handle_login(s, msg);
    return;
  }
  if (g_str_equal(path, "/api/v1/logout")) {
    if (!g_str_equal(method, "POST")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
      return;
    }
    if (!authorize(s, msg, AUTH_SESSION, &auth))
      return;
    audit(s, msg, &auth, "logout", NULL);
    session_ending(s, auth.session);
    g_hash_table_remove(s->sessions, auth.session->id_hash);
    g_autofree char *cookie = ar_web_session_cookie(NULL);
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                cookie);
    error_json(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  if (g_str_equal(path, "/api/v1/status")) {
    if (!authorize(s, msg, AUTH_SESSION_OR_TOKEN, &auth))
      return;
    if (!g_str_equal(method, "GET")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    g_autoptr(JsonNode) status = ar_api_hub_status(s->hub);
    ar_api_respond_json(msg, SOUP_STATUS_OK, status);
    return;
  }
  gboolean join = g_str_equal(path, "/api/v1/commands/join");
  if (join || g_str_equal(path, "/api/v1/commands/leave")) {
    if (!g_str_equal(method, "POST")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
      return;
    }
    if (!authorize(s, msg, AUTH_SESSION_OR_TOKEN, &auth))
      return;
    if (join) {
      /* Parsed here once for the limits; the hub parses the same bytes. */
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) body = body_object(msg, &error);
      if (!body) {
        error_json(msg, SOUP_STATUS_BAD_REQUEST, error->message);
        return;
      }
      /* The link is not logged: meeting links carry passcodes. */
      audit(s, msg, &auth, "join", NULL);
      ar_api_hub_join(s->hub, msg, AR_WEB_MAX_BODY);
    } else {
      audit(s, msg, &auth, "leave", NULL);
      ar_api_hub_leave(s->hub, msg);
    }
    return;
  }
  if (g_str_equal(path, "/api/v1/config")) {
    if (!authorize(s, msg, AUTH_SESSION_OR_TOKEN, &auth))
      return;
    handle_config(s, msg, &auth);
    return;
  }
  if (g_str_equal(path, "/api/v1/tokens") || g_str_has_prefix(path, "/api/v1/tokens/")) {
    if (!authorize(s, msg, AUTH_SESSION, &auth))
      return;
    handle_tokens(s, msg, path, &auth);
    return;
  }
  if (g_str_equal(path, "/api/v1/audit")) {
    if (!authorize(s, msg, AUTH_SESSION, &auth))
      return;
    if (!g_str_equal(method, "GET")) {
      error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    handle_audit(s, msg);
    return;
  }
  error_json(msg, SOUP_STATUS_NOT_FOUND, "no such endpoint");
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
  ar_api_hub_add_event_client(s->hub, ws, g_object_get_data(G_OBJECT(msg), "ar-web-owner"));
}

/* ---- the admin page ---- */

static void
handle_static(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
  ArWebServer *s = data;
  if (!checked(msg)) {
    if (soup_server_message_get_status(msg) == 0)
      error_json(msg, SOUP_STATUS_FORBIDDEN, "refused");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  if (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")) {
    error_json(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  if (g_str_equal(path, "/") || g_str_equal(path, "/admin")) {
    soup_server_message_set_redirect(msg, SOUP_STATUS_FOUND, "/admin/");
    return;
  }
  static const struct {
    const char *path, *file, *type;
  } files[] = {
      {"/admin/", "index.html", "text/html; charset=utf-8"},
      {"/admin/index.html", "index.html", "text/html; charset=utf-8"},
      {"/admin/admin.js", "admin.js", "text/javascript; charset=utf-8"},
      {"/admin/admin.css", "admin.css", "text/css; charset=utf-8"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    if (!g_str_equal(path, files[i].path))
      continue;
    g_autofree char *fpath = g_build_filename(s->ui_dir, "admin", files[i].file, NULL);
    g_autofree char *content = NULL;
    gsize len = 0;
    if (!g_file_get_contents(fpath, &content, &len, NULL) || len > STATIC_MAX_BYTES) {
      error_json(msg, SOUP_STATUS_NOT_FOUND, "the admin page is not installed");
      return;
    }
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, files[i].type, SOUP_MEMORY_TAKE,
                                     g_steal_pointer(&content), len);
    return;
  }
  error_json(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

static gboolean
expire_tick(gpointer data)
{
  ArWebServer *s = data;
  expire_sessions(s, g_get_monotonic_time());
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

static gboolean
private_dir(const char *dir, GError **error)
{
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot create %s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || st.st_uid != getuid()) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s is not ours", dir);
    return FALSE;
  }
  if ((st.st_mode & 0077) != 0 && chmod(dir, 0700) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

ArWebServer *
ar_web_server_new(ArApiHub *hub, ArConfig *config, const char *state_dir, const char *ui_dir,
                  GError **error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  if (!ar_web_parse_listen(config->admin_listen, &host, &port, error))
    return NULL;
  if (!private_dir(state_dir, error))
    return NULL;
  g_autoptr(ArWebServer) s = g_new0(ArWebServer, 1);
  s->hub = hub;
  s->config = config;
  s->state_dir = g_strdup(state_dir);
  s->ui_dir = ui_dir ? g_strdup(ui_dir) : find_ui_dir();
  s->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)session_free);
  s->tokens = g_ptr_array_new_with_free_func((GDestroyNotify)token_free);
  s->throttle = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->logins = g_ptr_array_new();
  s->policy = (ArThrottlePolicy){.base_delay_ms = 1000,
                                 .max_delay_ms = 30000,
                                 .max_failures = config->admin_login_max_failures,
                                 .lockout_s = config->admin_login_lockout_min * 60};
  s->allowed = ar_web_allowed_hosts(port, host, (const char *const *)config->admin_hostnames);
  if (!load_password(s, error) || !load_tokens(s, error))
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
  s->soup = soup_server_new("server-header", "anyroomd", "tls-certificate", s->cert, NULL);
  g_signal_connect(s->soup, "request-started", G_CALLBACK(on_request_started), s);
  soup_server_add_websocket_handler(s->soup, "/api/v1/events", NULL, NULL, handle_events, s, NULL);
  soup_server_add_handler(s->soup, "/api", handle_api, s, NULL);
  soup_server_add_handler(s->soup, NULL, handle_static, s, NULL);
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, (guint16)port);
  if (!soup_server_listen(s->soup, sa, SOUP_SERVER_LISTEN_HTTPS, error))
    return NULL;
  gboolean v6 = strchr(host, ':') != NULL;
  s->url = g_strdup_printf(v6 ? "https://[%s]:%u/admin/" : "https://%s:%u/admin/", host, port);
  ar_api_hub_set_admin_info(hub, s->url, s->fingerprint);
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
  /* Password checks still running end on their own and then see no server. */
  for (guint i = 0; s->logins && i < s->logins->len; i++)
    ((LoginJob *)s->logins->pdata[i])->server = NULL;
  g_clear_pointer(&s->logins, g_ptr_array_unref);
  if (s->hub)
    ar_api_hub_set_admin_info(s->hub, NULL, NULL);
  if (s->soup) {
    soup_server_disconnect(s->soup);
    g_object_unref(s->soup);
  }
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
