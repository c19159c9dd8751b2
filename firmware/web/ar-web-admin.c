/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-web-admin.c: what the admin pages need beyond the API groups: devices
 * (list, test tone, camera preview), call history, logs, reboot and factory
 * reset. Device work blocks, so it runs in a worker thread, one job of a
 * kind at a time. */
#include "ar-web-priv.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ar-api-config.h"
#include "ar-log.h"
#include "ar-media.h"

#define TONE_MS 1000
#define SNAPSHOT_W 320
#define SNAPSHOT_H 180
#define PREVIEW_END_S 5 /* no picture asked for this long: the preview ended */
#define LOG_LINES_DEFAULT 500

typedef enum { JOB_DEVICES, JOB_TONE, JOB_SNAPSHOT, N_JOB_KINDS } JobKind;

struct _ArWebJob {
  ArWebServer *server; /* NULL once the server is gone */
  SoupServerMessage *msg;
  gboolean gone;
  JobKind kind;
  char *device;
  /* results */
  GPtrArray *devices;
  GBytes *jpeg;
  GError *error;
};

static void
job_free(ArWebJob *job)
{
  g_signal_handlers_disconnect_by_data(job->msg, job);
  g_object_unref(job->msg);
  g_free(job->device);
  g_clear_pointer(&job->devices, g_ptr_array_unref);
  g_clear_pointer(&job->jpeg, g_bytes_unref);
  g_clear_error(&job->error);
  g_free(job);
}

static void
job_disconnected(SoupServerMessage *msg, gpointer data)
{
  ((ArWebJob *)data)->gone = TRUE;
}

/* In a worker thread: only the job's own data. */
static void
job_run(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  ArWebJob *job = data;
  switch (job->kind) {
  case JOB_DEVICES:
    job->devices = ar_media_list_devices();
    break;
  case JOB_TONE:
    if (!ar_media_play_test_tone(job->device, TONE_MS, &job->error) && !job->error)
      g_set_error_literal(&job->error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "no tone");
    break;
  case JOB_SNAPSHOT:
    job->jpeg = ar_media_camera_snapshot(job->device, SNAPSHOT_W, SNAPSHOT_H, &job->error);
    break;
  case N_JOB_KINDS:
    break;
  }
  g_task_return_boolean(task, TRUE);
}

static void
respond_devices(ArWebServer *s, SoupServerMessage *msg, GPtrArray *devices)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  const ArMediaDeviceKind kinds[] = {AR_MEDIA_DEVICE_CAMERA, AR_MEDIA_DEVICE_MICROPHONE,
                                     AR_MEDIA_DEVICE_SPEAKER};
  const char *selected[] = {s->config->camera, s->config->microphone, s->config->speaker};
  for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
    json_builder_set_member_name(b, ar_media_device_kind_to_string(kinds[k]));
    json_builder_begin_array(b);
    for (guint i = 0; i < devices->len; i++) {
      ArMediaDevice *d = devices->pdata[i];
      if (d->kind != kinds[k])
        continue;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "id");
      json_builder_add_string_value(b, d->id);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, d->name);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
  }
  json_builder_set_member_name(b, "selected");
  json_builder_begin_object(b);
  for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
    json_builder_set_member_name(b, ar_media_device_kind_to_string(kinds[k]));
    json_builder_add_string_value(b, selected[k] ? selected[k] : "auto");
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

/* The camera-preview event: {"event":"camera-preview","active":true,
 * "camera":ID} when a preview starts and then at most every 5 s while it runs
 * (a screen that connects meanwhile learns it), {"active":false} once no
 * picture was asked for PREVIEW_END_S (the admin page asks every second). */
static void
preview_event(ArWebServer *s, const char *camera)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, "camera-preview");
  json_builder_set_member_name(b, "active");
  json_builder_add_boolean_value(b, camera != NULL);
  if (camera) {
    json_builder_set_member_name(b, "camera");
    json_builder_add_string_value(b, camera);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) ev = json_builder_get_root(b);
  ar_api_hub_broadcast(s->hub, ev);
}

static gboolean
preview_ended(gpointer data)
{
  ArWebServer *s = data;
  s->preview_end_timer = 0;
  s->preview_event_us = 0;
  preview_event(s, NULL);
  return G_SOURCE_REMOVE;
}

/* (Re)starts the countdown to the end of the preview: at each request and
 * when a picture was taken (a slow camera stays "on" while it works). */
static void
arm_preview_end(ArWebServer *s)
{
  g_clear_handle_id(&s->preview_end_timer, g_source_remove);
  s->preview_end_timer = g_timeout_add_seconds(PREVIEW_END_S, preview_ended, s);
}

static void
job_done(GObject *source, GAsyncResult *res, gpointer data)
{
  ArWebJob *job = data;
  ArWebServer *s = job->server;
  if (s) {
    s->job_busy[job->kind] = FALSE;
    g_ptr_array_remove(s->jobs, job);
    if (job->kind == JOB_SNAPSHOT && s->preview_end_timer)
      arm_preview_end(s);
  }
  SoupServerMessage *msg = job->msg;
  if (!s || job->gone) {
    job_free(job);
    return;
  }
  if (job->error) {
    g_message("admin: %s failed: %s", job->kind == JOB_TONE ? "test tone" : "camera preview",
              job->error->message);
    ar_web_error(msg, SOUP_STATUS_BAD_GATEWAY, job->error->message);
  } else if (job->kind == JOB_DEVICES) {
    respond_devices(s, msg, job->devices);
  } else if (job->kind == JOB_TONE) {
    ar_web_error(msg, SOUP_STATUS_OK, NULL);
  } else {
    gsize len = 0;
    gconstpointer data_ = g_bytes_get_data(job->jpeg, &len);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, "image/jpeg", SOUP_MEMORY_COPY, data_, len);
  }
  soup_server_message_unpause(msg);
  job_free(job);
}

/* Starts a job for @msg, or answers 429 when one of its kind runs. */
static void
start_job(ArWebServer *s, SoupServerMessage *msg, JobKind kind, const char *device)
{
  if (s->job_busy[kind]) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "1");
    ar_web_error(msg, AR_HTTP_TOO_MANY_REQUESTS, "busy with the previous one: try again");
    return;
  }
  ArWebJob *job = g_new0(ArWebJob, 1);
  job->server = s;
  job->msg = g_object_ref(msg);
  job->kind = kind;
  job->device = g_strdup(device);
  g_signal_connect(msg, "disconnected", G_CALLBACK(job_disconnected), job);
  s->job_busy[kind] = TRUE;
  g_ptr_array_add(s->jobs, job);
  soup_server_message_pause(msg);
  g_autoptr(GTask) task = g_task_new(NULL, NULL, job_done, job);
  g_task_set_task_data(task, job, NULL);
  g_task_run_in_thread(task, job_run);
}

void
ar_web_admin_shutdown(ArWebServer *s)
{
  for (guint i = 0; s->jobs && i < s->jobs->len; i++)
    ((ArWebJob *)s->jobs->pdata[i])->server = NULL;
  g_clear_handle_id(&s->preview_end_timer, g_source_remove);
}

/* A device value the engine would take for @setting: the one check media/
 * owns (ar_media_setting_check), on the very string that will reach
 * GStreamer/ALSA. Answers 400 with its message otherwise. */
static gboolean
device_ok(SoupServerMessage *msg, ArMediaSetting setting, const char *value)
{
  g_autoptr(GError) error = NULL;
  if (ar_media_setting_check(setting, value, &error))
    return TRUE;
  ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
  return FALSE;
}

static const char *
query_param(SoupServerMessage *msg, const char *name, char **owned)
{
  GUri *uri = soup_server_message_get_uri(msg);
  const char *q = uri ? g_uri_get_query(uri) : NULL;
  *owned = NULL;
  if (!q || strlen(q) > 1024)
    return NULL;
  g_autoptr(GHashTable) params = g_uri_parse_params(q, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (!params)
    return NULL;
  *owned = g_strdup(g_hash_table_lookup(params, name));
  return *owned;
}

static void
handle_devices(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  start_job(s, msg, JOB_DEVICES, NULL);
}

static void
handle_test_tone(ArWebServer *s, SoupServerMessage *msg, const char *path,
                 const ArWebCaller *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  JsonNode *member = json_object_get_member(json_node_get_object(body), "speaker");
  const char *speaker = ar_web_string_member(body, "speaker");
  if (member && !JSON_NODE_HOLDS_NULL(member) && !speaker) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "\"speaker\" must be a device name");
    return;
  }
  if (speaker && !device_ok(msg, AR_MEDIA_SETTING_AUDIO_SINK, speaker))
    return;
  if (!speaker)
    speaker = s->config->speaker ? s->config->speaker : "auto";
  if (g_str_equal(speaker, "none")) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT, "no speaker is selected");
    return;
  }
  g_autofree char *detail = g_strdup_printf("test tone on %s", speaker);
  ar_web_audit(s, msg, caller, "test_tone", detail);
  start_job(s, msg, JOB_TONE, speaker);
}

static void
handle_snapshot(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autofree char *owned = NULL;
  const char *camera = query_param(msg, "camera", &owned);
  if (camera && !device_ok(msg, AR_MEDIA_SETTING_VIDEO_SOURCE, camera))
    return;
  if (!camera)
    camera = s->config->camera ? s->config->camera : "auto";
  ArCallState st = ar_call_manager_get_state(ar_api_hub_get_calls(s->hub));
  if (!g_str_equal(camera, "test") && ar_call_state_is_active(st)) {
    ar_web_error(msg, SOUP_STATUS_CONFLICT,
                 "the camera is in use by the call: the preview works between calls");
    return;
  }
  /* The camera goes on: say so, on the audit log (at most once a minute) and
   * to every screen (at once, then at most every 5 s, and when it ends: the
   * room screen shows it). */
  gint64 now = g_get_monotonic_time();
  if (!s->preview_audit_us || now - s->preview_audit_us > 60 * G_USEC_PER_SEC) {
    s->preview_audit_us = now;
    g_autofree char *detail = g_strdup_printf("camera preview of %s", camera);
    ar_web_audit(s, msg, caller, "camera_preview", detail);
  }
  arm_preview_end(s);
  if (s->preview_event_us && now - s->preview_event_us < 5 * G_USEC_PER_SEC) {
    start_job(s, msg, JOB_SNAPSHOT, camera);
    return;
  }
  s->preview_event_us = now;
  preview_event(s, camera);
  start_job(s, msg, JOB_SNAPSHOT, camera);
}

static void
handle_history(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  ArApiHistory *h = ar_api_hub_get_history(s->hub);
  if (!h) {
    ar_web_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no call history");
    return;
  }
  g_autoptr(JsonNode) node = ar_api_history_get(h);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

static void
handle_logs(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  g_autofree char *fmt = NULL, *count = NULL;
  query_param(msg, "format", &fmt);
  query_param(msg, "lines", &count);
  guint64 n = LOG_LINES_DEFAULT;
  if (count && !g_ascii_string_to_unsigned(count, 10, 1, AR_LOG_RING_LINES, &n, NULL)) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "lines: a number from 1 to 2000");
    return;
  }
  g_auto(GStrv) lines =
      ar_log_ring_lines(fmt && g_str_equal(fmt, "text") ? AR_LOG_RING_LINES : (guint)n);
  if (fmt && g_str_equal(fmt, "text")) {
    g_autofree char *joined = g_strjoinv("\n", lines);
    g_autofree char *text = g_strconcat(joined, *lines ? "\n" : "", NULL);
    gsize len = strlen(text);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Content-Disposition",
                                 "attachment; filename=\"anyroomd-log.txt\"");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_TAKE,
                                     g_steal_pointer(&text), len);
    return;
  }
  if (fmt && !g_str_equal(fmt, "json")) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, "format: json or text");
    return;
  }
  JsonArray *a = json_array_new();
  for (gsize i = 0; lines[i]; i++)
    json_array_add_string_element(a, lines[i]);
  JsonObject *o = json_object_new();
  json_object_set_array_member(o, "lines", a);
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  ar_api_respond_json(msg, SOUP_STATUS_OK, node);
}

static void
handle_reboot(ArWebServer *s, SoupServerMessage *msg, const char *path, const ArWebCaller *caller)
{
  const char *cmd = s->config->reboot_command ? s->config->reboot_command : "systemctl reboot";
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_shell_parse_argv(cmd, NULL, &argv, &error)) {
    g_warning("admin: system.reboot-command: %s", error->message);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "the reboot command is not valid");
    return;
  }
  ar_web_audit(s, msg, caller, "reboot", NULL);
  g_message("admin: reboot requested: running %s", argv[0]);
  if (!g_spawn_async(NULL, argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &error)) {
    g_warning("admin: cannot run the reboot command: %s", error->message);
    ar_web_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot run the reboot command");
    return;
  }
  ar_web_error(msg, SOUP_STATUS_ACCEPTED, NULL);
}

static void
remove_state_file(ArWebServer *s, const char *name)
{
  g_autofree char *path = ar_web_state_path(s, name);
  if (g_unlink(path) != 0 && errno != ENOENT)
    g_warning("admin: factory reset: cannot remove %s: %s", path, g_strerror(errno));
}

static void
handle_factory_reset(ArWebServer *s, SoupServerMessage *msg, const char *path,
                     const ArWebCaller *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = ar_web_body_object(msg, &error);
  if (!body) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  if (g_strcmp0(ar_web_string_member(body, "confirm"), "factory-reset") != 0) {
    ar_web_error(msg, SOUP_STATUS_BAD_REQUEST,
                 "send {\"confirm\": \"factory-reset\"} to erase this room's settings");
    return;
  }
  g_message("admin: factory reset from %s", ar_web_client_of(msg));
  /* Files first: if anyroomd stops halfway, the next start is a first run. */
  /* ...and what a provisioning file left: its record, setup code and CAs
   * (a file still at a provisioning source applies again at the next start). */
  const char *files[] = {
      "admin-password",  "tokens.json",           "admin-key.pem",          "admin-cert.pem",
      "panels.json",     "login-devices.json",    "provisioned.json",       "setup-code.sha256",
      "ca-calendar.pem", "ca-update-channel.pem", "ca-update-download.pem", "ca-turn.pem",
      "ca-logs.pem",     "provision-pending"};
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++)
    remove_state_file(s, files[i]);
  ar_web_audit_forget(s);
  if (!ar_api_config_forget(s->state_dir, &error)) {
    g_warning("admin: factory reset: %s", error->message);
    g_clear_error(&error);
  }
  ArApiHistory *h = ar_api_hub_get_history(s->hub);
  if (h)
    ar_api_history_forget(h);
  /* An administrator's web meeting recipes (those in the state dir). */
  ArApiRecipes *recipes = ar_api_hub_get_recipes(s->hub);
  if (recipes)
    ar_api_recipes_forget(recipes, s->state_dir);
  ar_log_ring_clear();
  /* Then what is in memory: every credential ends with its event streams. */
  g_clear_pointer(&s->password_hash, g_free);
  for (guint i = 0; i < s->tokens->len; i++) {
    g_autofree char *owner = ar_web_owner_of("token", ((ArWebToken *)s->tokens->pdata[i])->hash);
    ar_api_hub_close_event_clients(s->hub, owner);
  }
  g_ptr_array_set_size(s->tokens, 0);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, s->sessions);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    g_autofree char *owner = ar_web_owner_of("session", ((ArWebSession *)v)->id_hash);
    ar_api_hub_close_event_clients(s->hub, owner);
    g_hash_table_iter_remove(&it);
  }
  g_hash_table_remove_all(s->throttle);
  ar_web_forget_login_devices(s);
  ar_web_room_forget_panels(s);
  if (!ar_api_config_reset(s->config, &error))
    g_warning("admin: factory reset: settings: %s", error->message);
  /* The TLS key is gone from disk; this run keeps serving the certificate the
   * browser trusts, and the next start makes a new one. The kiosk secret
   * stays: it is the room screen's, not an admin's credential. */
  ar_web_audit(s, msg, NULL, "factory_reset",
               "password, tokens, sessions, settings, recipes, keys erased");
  g_autofree char *cookie = ar_web_session_cookie(NULL);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  ar_web_error(msg, SOUP_STATUS_OK, NULL);
}

void
ar_web_admin_register(ArWebServer *s)
{
  static const ArWebRoute routes[] = {
      {"/api/v1/devices", "GET", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_devices,
       AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/commands/test-tone", "POST", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_test_tone,
       AR_WEB_SCOPE_CONFIGURATION},
      {"/api/v1/camera/snapshot", "GET", AR_WEB_AUTH_SESSION, handle_snapshot},
      {"/api/v1/history", "GET", AR_WEB_AUTH_SESSION_OR_TOKEN, handle_history, AR_WEB_SCOPE_STATUS},
      {"/api/v1/logs", "GET", AR_WEB_AUTH_SESSION, handle_logs},
      {"/api/v1/commands/reboot", "POST", AR_WEB_AUTH_SESSION, handle_reboot},
      {"/api/v1/factory-reset", "POST", AR_WEB_AUTH_SESSION, handle_factory_reset},
  };
  ar_web_server_add_routes(s, routes, G_N_ELEMENTS(routes));
}
