/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-session.c: admin sessions (cookie + CSRF), first-run setup, login
 * with throttling and lockout (the password checked in a worker thread),
 * logout. */
#include "ar-web-priv.h"

#include <openssl/crypto.h>
#include <string.h>

#define MAX_THROTTLE_ENTRIES 1024
#define MAX_LOGINS_IN_FLIGHT 4

void
ar_web_session_free(ArWebSession *se)
{
  if (!se)
    return;
  g_free(se->id_hash);
  g_free(se->csrf);
  g_free(se);
}

/* The owner name of event streams opened with a session or a token. */
char *
ar_web_owner_of(const char *kind, const char *hash)
{
  return g_strconcat(kind, ":", hash, NULL);
}

static void
session_ending(ArWebServer *s, ArWebSession *se)
{
  g_autofree char *owner = ar_web_owner_of("session", se->id_hash);
  ar_api_hub_close_event_clients(s->hub, owner);
  ar_web_room_close_video(s, owner);
}

void
ar_web_expire_sessions(ArWebServer *s, gint64 now)
{
  gint64 idle = (gint64)s->config->admin_session_idle_min * 60 * G_USEC_PER_SEC;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, s->sessions);
  while (g_hash_table_iter_next(&it, NULL, &v))
    if (now - ((ArWebSession *)v)->last_used_us > idle) {
      session_ending(s, v);
      g_hash_table_iter_remove(&it);
    }
}

/* A new session; its cookie value goes into @cookie_id. */
static ArWebSession *
session_new(ArWebServer *s, char **cookie_id)
{
  gint64 now = g_get_monotonic_time();
  ar_web_expire_sessions(s, now);
  while (g_hash_table_size(s->sessions) >= s->config->admin_max_sessions) {
    /* Full: the least recently used one goes. */
    GHashTableIter it;
    gpointer k, v;
    gpointer oldest = NULL;
    gint64 oldest_t = G_MAXINT64;
    g_hash_table_iter_init(&it, s->sessions);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (((ArWebSession *)v)->last_used_us < oldest_t) {
        oldest_t = ((ArWebSession *)v)->last_used_us;
        oldest = k;
      }
    session_ending(s, g_hash_table_lookup(s->sessions, oldest));
    g_hash_table_remove(s->sessions, oldest);
  }
  g_autofree char *id = ar_web_random_hex(NULL);
  g_autofree char *csrf = ar_web_random_hex(NULL);
  if (!id || !csrf)
    return NULL;
  ArWebSession *se = g_new0(ArWebSession, 1);
  se->id_hash = ar_web_sha256_hex(id, strlen(id));
  se->csrf = g_steal_pointer(&csrf);
  se->last_used_us = now;
  g_hash_table_insert(s->sessions, se->id_hash, se);
  *cookie_id = g_steal_pointer(&id);
  return se;
}

ArWebSession *
ar_web_session_of(ArWebServer *s, SoupServerMessage *msg)
{
  g_autofree char *id = ar_web_session_from_cookie_header(ar_web_header(msg, "Cookie"));
  if (!id)
    return NULL;
  gint64 now = g_get_monotonic_time();
  ar_web_expire_sessions(s, now);
  g_autofree char *h = ar_web_sha256_hex(id, strlen(id));
  ArWebSession *se = g_hash_table_lookup(s->sessions, h);
  if (se)
    se->last_used_us = now;
  return se;
}

static ArWebToken *
token_of(ArWebServer *s, const char *token)
{
  g_autofree char *h = ar_web_sha256_hex(token, strlen(token));
  ArWebToken *found = NULL;
  for (guint i = 0; i < s->tokens->len; i++) {
    ArWebToken *t = s->tokens->pdata[i];
    if (ar_web_secret_equal(t->hash, h) && !found)
      found = t;
  }
  return found;
}

/* Fills @caller or answers 401/403 and returns FALSE. */
gboolean
ar_web_authorize(ArWebServer *s, SoupServerMessage *msg, ArWebAuthNeed need, guint scope,
                 ArWebCaller *caller)
{
  memset(caller, 0, sizeof *caller);
  const char *authz = ar_web_header(msg, "Authorization");
  if (authz) {
    g_autofree char *tok = ar_web_bearer_token(authz);
    caller->token = tok ? token_of(s, tok) : NULL;
    if (!caller->token) {
      soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                   "WWW-Authenticate", "Bearer");
      ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED, "unknown or revoked API token");
      return FALSE;
    }
    /* A public route: the token is only named (a handler may record it). */
    if (need == AR_WEB_AUTH_NONE && scope == 0)
      return TRUE;
    if (scope == 0) {
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "this needs an admin session, not an API token");
      return FALSE;
    }
    if (!ar_web_scopes_allow(caller->token->scopes, scope)) {
      g_autofree char *missing = ar_web_scopes_missing(caller->token->scopes, scope);
      g_autofree char *text = g_strdup_printf("this API token lacks the scope: %s", missing);
      ar_web_error(msg, SOUP_STATUS_FORBIDDEN, text);
      return FALSE;
    }
    return TRUE;
  }
  if (need == AR_WEB_AUTH_NONE)
    return TRUE;
  caller->session = ar_web_session_of(s, msg);
  if (!caller->session && (need == AR_WEB_AUTH_ROOM || need == AR_WEB_AUTH_DEVICE))
    return ar_web_room_authorize(s, msg, need, caller);
  if (!caller->session) {
    ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED, "log in first (or send an API token)");
    return FALSE;
  }
  if (ar_web_method_changes_state(soup_server_message_get_method(msg)) &&
      !ar_web_csrf_ok(caller->session->csrf, ar_web_header(msg, "X-CSRF-Token"))) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong X-CSRF-Token header");
    return FALSE;
  }
  return TRUE;
}

/* ---- endpoints ---- */

static void
respond_session(ArWebServer *s, SoupServerMessage *msg, ArWebSession *se, guint status)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ok");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "setup_required");
  json_builder_add_boolean_value(b, s->password_hash == NULL);
  /* Setup from another machine needs the code the room screen shows. */
  json_builder_set_member_name(b, "setup_code_required");
  json_builder_add_boolean_value(b, s->password_hash == NULL && !ar_web_is_loopback_client(msg));
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
  ArWebSession *se = session_new(s, &cookie_id);
  if (!se) {
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "no random numbers");
    return;
  }
  g_autofree char *cookie = ar_web_session_cookie(cookie_id);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  respond_session(s, msg, se, SOUP_STATUS_OK);
}

static void
handle_setup(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  if (s->password_hash) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "the admin password is already set");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  if (!ar_web_room_setup_allowed(s, msg, body)) {
    ar_web_error(msg, SOUP_STATUS_FORBIDDEN,
                 "setup from another machine needs the setup code shown on the room screen");
    return;
  }
  const char *password = ar_web_string_member(body, "password");
  const char *why = NULL;
  if (!ar_web_password_acceptable(password, &why)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, why);
    return;
  }
  g_autofree char *hash = ar_web_password_hash(password, AR_WEB_PBKDF2_ITERATIONS);
  g_autofree char *file = ar_web_state_path(s, "admin-password");
  g_autofree char *line = hash ? g_strconcat(hash, "\n", NULL) : NULL;
  if (!line || !ar_web_write_private_file(file, line, strlen(line), &error)) {
    g_warning("admin: cannot save the admin password: %s", error ? error->message : "no hash");
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot save the password");
    return;
  }
  s->password_hash = g_steal_pointer(&hash);
  ar_web_audit(s, msg, NULL, "setup", "admin password set");
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
    ar_web_audit(s, msg, NULL, locked ? "login_failed_locked" : "login_failed", NULL);
    if (!job->gone)
      ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED,
                   locked ? "wrong password: too many failures, logins from here are locked"
                          : "wrong password");
  } else {
    if (e)
      ar_throttle_succeeded(e);
    ar_web_audit(s, msg, NULL, "login", NULL);
    if (!job->gone)
      start_session(s, msg);
  }
  if (!job->gone)
    soup_server_message_unpause(msg);
  login_job_free(job);
}

static void
handle_login(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  if (!s->password_hash) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "no admin password yet: do the first-run setup");
    return;
  }
  const char *client = ar_web_client_of(msg);
  ArThrottleEntry *e = throttle_entry(s, client);
  if (!e) {
    ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, "too many clients are failing to log in");
    return;
  }
  gint64 wait_us = 0;
  ArThrottleVerdict v = ar_throttle_check(e, g_get_monotonic_time(), &wait_us);
  if (v != AR_THROTTLE_OK) {
    g_autofree char *secs = g_strdup_printf("%" G_GINT64_FORMAT, (wait_us + 999999) / 1000000);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 secs);
    if (v == AR_THROTTLE_LOCKED)
      ar_web_audit(s, msg, NULL, "login_refused_locked", NULL);
    g_autofree char *text = g_strdup_printf(
        v == AR_THROTTLE_LOCKED ? "too many failed logins: locked, try again in %s s"
                                : "too soon after a failed login: try again in %s s",
        secs);
    ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, text);
    return;
  }
  for (guint i = 0; i < s->logins->len; i++)
    if (g_str_equal(((LoginJob *)s->logins->pdata[i])->client, client)) {
      /* One guess at a time per address: no parallel guessing past the delay. */
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   "1");
      ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, "a login from here is being checked");
      return;
    }
  if (s->logins->len >= MAX_LOGINS_IN_FLIGHT) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    ar_web_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy checking other logins");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  const char *password = ar_web_string_member(body, "password");
  if (!password || strlen(password) > AR_WEB_PASSWORD_MAX_BYTES) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "the request needs a \"password\" string");
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
handle_session(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  respond_session(s, msg, ar_web_session_of(s, msg), SOUP_STATUS_OK);
}

static void
handle_logout(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ar_web_audit(s, msg, caller, "logout", NULL);
  session_ending(s, caller->session);
  g_hash_table_remove(s->sessions, caller->session->id_hash);
  g_autofree char *cookie = ar_web_session_cookie(NULL);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  ar_web_error(msg, SOUP_STATUS_OK, NULL);
}

void
ar_web_session_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/session", "GET", AR_WEB_AUTH_NONE, handle_session},
      {"/api/v1/setup", "POST", AR_WEB_AUTH_NONE, handle_setup},
      {"/api/v1/login", "POST", AR_WEB_AUTH_NONE, handle_login},
      {"/api/v1/logout", "POST", AR_WEB_AUTH_SESSION, handle_logout},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}

void
ar_web_session_shutdown(ArWebServer *s)
{
  for (guint i = 0; s->logins && i < s->logins->len; i++)
    ((LoginJob *)s->logins->pdata[i])->server = NULL;
}
