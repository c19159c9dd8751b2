/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-session.c: admin sessions (cookie + CSRF), first-run setup, login
 * with throttling and lockout (the password checked in a worker thread),
 * logout. */
#include "ar-web-priv.h"

#include <glib/gstdio.h>

#include "ar-janus-msg.h"

#include <openssl/crypto.h>
#include <string.h>

#define MAX_THROTTLE_ENTRIES 1024
#define MAX_LOGINS_IN_FLIGHT 4
/* Failed logins from the network, across every address (docs/decisions.md
 * "Guessing budgets"): 10 at once, then 20 an hour. */
#define LOGIN_BUDGET_BURST 10
#define LOGIN_BUDGET_PER_HOUR 20
/* Browsers that logged in before (a device cookie) skip the budget, each
 * with failures of its own. */
#define DEVICE_COOKIE "__Host-ar_device"
#define LOGIN_DEVICES_MAX 16
#define LOGIN_DEVICE_MAX_FAILURES 5
#define LOGIN_DEVICE_LIFE_S (G_GINT64_CONSTANT(365) * 24 * 3600)

struct _ArWebLoginDevice {
  char *hash; /* SHA-256 of the cookie value */
  guint failures;
  gint64 last_used; /* unix seconds */
};

static void
login_device_free(ArWebLoginDevice *d)
{
  g_free(d->hash);
  g_free(d);
}

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
  gint64 retry_us = 0;
  ArWebSetupVerdict v = ar_web_room_setup_check(s, msg, body, &retry_us);
  if (v == AR_WEB_SETUP_PAUSED) {
    ar_web_audit(s, msg, NULL, "setup_paused", NULL);
    ar_web_error_retry(msg, retry_us,
                       "too many wrong setup codes: setup from another machine waits ",
                       " (or set up on the room itself)");
    return;
  }
  if (v == AR_WEB_SETUP_WRONG) {
    ar_web_audit(s, msg, NULL, "setup_code_wrong", NULL);
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
  /* A provisioned setup code is good once. */
  g_autofree char *code_file = ar_web_state_path(s, "setup-code.sha256");
  g_unlink(code_file);
  ar_web_audit(s, msg, NULL, "setup", "admin password set");
  start_session(s, msg);
}

/* The address's entry. A full table forgets the entry that holds back the
 * least (the earliest free): never full, so an attacker who fails from a
 * thousand addresses locks nobody else out (the global budget is what bounds
 * the guesses). */
static ArThrottleEntry *
throttle_entry(ArWebServer *s, const char *client)
{
  ArThrottleEntry *e = g_hash_table_lookup(s->throttle, client);
  if (e)
    return e;
  while (g_hash_table_size(s->throttle) >= MAX_THROTTLE_ENTRIES) {
    GHashTableIter it;
    gpointer k, v, oldest = NULL;
    gint64 oldest_t = G_MAXINT64;
    g_hash_table_iter_init(&it, s->throttle);
    while (g_hash_table_iter_next(&it, &k, &v)) {
      ArThrottleEntry *x = v;
      gint64 free_at = MAX(x->next_allowed_us, x->locked_until_us);
      if (free_at < oldest_t) {
        oldest_t = free_at;
        oldest = k;
      }
    }
    g_hash_table_remove(s->throttle, oldest);
  }
  e = g_new0(ArThrottleEntry, 1);
  g_hash_table_insert(s->throttle, g_strdup(client), e);
  return e;
}

/* ---- device cookies: browsers that logged in before ---- */

static void
save_login_devices(ArWebServer *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < s->login_devices->len; i++) {
    ArWebLoginDevice *d = s->login_devices->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, d->hash);
    json_builder_set_member_name(b, "last_used");
    json_builder_add_int_value(b, d->last_used);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) n = json_builder_get_root(b);
  g_autofree char *text = json_to_string(n, TRUE);
  g_autofree char *path = ar_web_state_path(s, "login-devices.json");
  g_autoptr(GError) error = NULL;
  if (!ar_web_write_private_file(path, text, strlen(text), &error))
    g_warning("admin: cannot save the login devices: %s", error->message);
}

static void
load_login_devices(ArWebServer *s)
{
  g_autofree char *path = ar_web_state_path(s, "login-devices.json");
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL))
    return;
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  if (len > 64 * 1024 || !ar_json_depth_ok(text, len, 4) ||
      !json_parser_load_from_data(p, text, (gssize)len, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
    g_warning("admin: %s is not a list of login devices: ignored", path);
    return;
  }
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  JsonArray *a = json_node_get_array(json_parser_get_root(p));
  for (guint i = 0; i < json_array_get_length(a) && s->login_devices->len < LOGIN_DEVICES_MAX;
       i++) {
    JsonNode *e = json_array_get_element(a, i);
    const char *hash = ar_web_string_member(e, "sha256");
    if (!hash || strlen(hash) != 64)
      continue;
    gint64 used = json_object_get_int_member_with_default(json_node_get_object(e), "last_used", 0);
    if (now - used > LOGIN_DEVICE_LIFE_S)
      continue;
    ArWebLoginDevice *d = g_new0(ArWebLoginDevice, 1);
    d->hash = g_strdup(hash);
    d->last_used = used;
    g_ptr_array_add(s->login_devices, d);
  }
}

/* The login device of this browser, or NULL. */
static ArWebLoginDevice *
login_device_of(ArWebServer *s, SoupServerMessage *msg)
{
  g_autofree char *v = ar_web_cookie_value(msg, DEVICE_COOKIE);
  if (!v)
    return NULL;
  g_autofree char *h = ar_web_sha256_hex(v, strlen(v));
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  ArWebLoginDevice *found = NULL;
  for (guint i = 0; i < s->login_devices->len; i++) {
    ArWebLoginDevice *d = s->login_devices->pdata[i];
    if (ar_web_secret_equal(d->hash, h) && !found && now - d->last_used <= LOGIN_DEVICE_LIFE_S)
      found = d;
  }
  return found;
}

/* After a good password: this browser is (still) a login device. */
static void
remember_login_device(ArWebServer *s, SoupServerMessage *msg, ArWebLoginDevice *d)
{
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  g_autofree char *value = NULL;
  if (!d) {
    value = ar_web_random_hex(NULL);
    if (!value)
      return;
    while (s->login_devices->len >= LOGIN_DEVICES_MAX) {
      /* The one unused longest goes. */
      guint oldest = 0;
      for (guint i = 1; i < s->login_devices->len; i++)
        if (((ArWebLoginDevice *)s->login_devices->pdata[i])->last_used <
            ((ArWebLoginDevice *)s->login_devices->pdata[oldest])->last_used)
          oldest = i;
      g_ptr_array_remove_index(s->login_devices, oldest);
    }
    d = g_new0(ArWebLoginDevice, 1);
    d->hash = ar_web_sha256_hex(value, strlen(value));
    g_ptr_array_add(s->login_devices, d);
    g_autofree char *cookie = g_strdup_printf(
        "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%" G_GINT64_FORMAT,
        DEVICE_COOKIE, value, LOGIN_DEVICE_LIFE_S);
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                cookie);
  }
  d->failures = 0;
  d->last_used = now;
  save_login_devices(s);
}

/* A wrong password with this device's cookie: too many and it is forgotten
 * (its browser meets the global budget like any other). */
static void
login_device_failed(ArWebServer *s, ArWebLoginDevice *d)
{
  if (++d->failures < LOGIN_DEVICE_MAX_FAILURES)
    return;
  g_message("admin: a login device failed %u times: forgotten", d->failures);
  g_ptr_array_remove(s->login_devices, d);
  save_login_devices(s);
}

void
ar_web_forget_login_devices(ArWebServer *s)
{
  g_ptr_array_set_size(s->login_devices, 0);
  ar_budget_init(&s->login_budget, LOGIN_BUDGET_BURST, LOGIN_BUDGET_PER_HOUR,
                 g_get_monotonic_time());
}

typedef struct {
  ArWebServer *server; /* NULL once the server is gone */
  SoupServerMessage *msg;
  char *client;
  char *password;
  char *hash;
  gboolean gone;   /* the client disconnected */
  gboolean remote; /* not from this device: the global budget applies */
  char *device;    /* the login device's hash, if the browser sent one */
} LoginJob;

static void
login_job_free(LoginJob *job)
{
  g_signal_handlers_disconnect_by_data(job->msg, job);
  g_object_unref(job->msg);
  g_free(job->client);
  g_free(job->device);
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
  /* The device may have gone meanwhile (forgotten, factory reset). */
  ArWebLoginDevice *dev = NULL;
  for (guint i = 0; job->device && i < s->login_devices->len; i++)
    if (g_str_equal(((ArWebLoginDevice *)s->login_devices->pdata[i])->hash, job->device))
      dev = s->login_devices->pdata[i];
  if (!ok) {
    ar_throttle_failed(e, &s->policy, g_get_monotonic_time());
    gboolean locked = e->locked_until_us != 0;
    if (dev)
      login_device_failed(s, dev);
    else if (job->remote)
      ar_budget_spend(&s->login_budget, g_get_monotonic_time());
    ar_web_audit(s, msg, NULL, locked ? "login_failed_locked" : "login_failed", NULL);
    if (!job->gone)
      ar_web_error(msg, SOUP_STATUS_UNAUTHORIZED,
                   locked ? "wrong password: too many failures, logins from here are locked"
                          : "wrong password");
  } else {
    ar_throttle_succeeded(e);
    ar_web_audit(s, msg, NULL, "login", NULL);
    if (!job->gone) {
      remember_login_device(s, msg, dev);
      start_session(s, msg);
    }
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
  gboolean remote = !ar_web_is_loopback_client(msg);
  ArWebLoginDevice *dev = login_device_of(s, msg);
  if (remote && !dev) {
    gint64 budget_wait = ar_budget_wait_us(&s->login_budget, g_get_monotonic_time());
    if (budget_wait) {
      ar_web_audit(s, msg, NULL, "login_refused_budget", NULL);
      ar_web_error_retry(msg, budget_wait,
                         "too many failed logins from the network: logins from the network wait ",
                         " (a browser that logged in here before, and the room itself, are not "
                         "held back)");
      return;
    }
  }
  gint64 wait_us = 0;
  ArThrottleVerdict v = ar_throttle_check(e, g_get_monotonic_time(), &wait_us);
  if (v != AR_THROTTLE_OK) {
    if (v == AR_THROTTLE_LOCKED)
      ar_web_audit(s, msg, NULL, "login_refused_locked", NULL);
    ar_web_error_retry(msg, wait_us,
                       v == AR_THROTTLE_LOCKED ? "too many failed logins: locked, try again in "
                                               : "too soon after a failed login: try again in ",
                       "");
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
  job->remote = remote;
  job->device = dev ? g_strdup(dev->hash) : NULL;
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
  s->login_devices = g_ptr_array_new_with_free_func((GDestroyNotify)login_device_free);
  ar_budget_init(&s->login_budget, LOGIN_BUDGET_BURST, LOGIN_BUDGET_PER_HOUR,
                 g_get_monotonic_time());
  load_login_devices(s);
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
  g_clear_pointer(&s->login_devices, g_ptr_array_unref);
}
