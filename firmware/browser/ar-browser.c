/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-browser.c: the meeting browser (ar-browser.h, docs/web-engine.md). */
#include "ar-browser-priv.h"

#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK(ar - browser - error - quark, ar_browser_error)

/* The first answer after launch: Chromium starts in 1.5 s here, more on a
 * loaded board; after it, options.answer_timeout_ms. */
#define START_TIMEOUT_MS 30000
#define NAVIGATE_TIMEOUT_MS 30000
#define EVALUATE_TIMEOUT_MS 10000
#define SCREENSHOT_TIMEOUT_MS 10000
#define DEFAULT_ANSWER_TIMEOUT_MS 5000
#define MAX_URL_LEN (8 * 1024)
/* A page whose loads a network change aborted (net::ERR_NETWORK_CHANGED: an
 * address or interface came or went under it, e.g. a DHCP renewal or a
 * second interface coming up) is loaded again, this many times at most,
 * within the navigation's time. */
#define NETWORK_CHANGED_RELOADS 2
#define NETWORK_CHANGED "net::ERR_NETWORK_CHANGED"
#define MAX_EXPRESSION_LEN (256 * 1024)
/* Permissions no meeting page gets (camera and microphone: allowed origins
 * only). Names Chromium does not know are skipped (debug log). */
static const char *const denied_permissions[] = {
    "camera",
    "microphone",
    "geolocation",
    "notifications",
    "midi",
    "clipboard-read",
    "clipboard-write",
    "display-capture",
    "idle-detection",
    "local-fonts",
    "window-management",
    "storage-access",
    "payment-handler",
    "background-sync",
    "accelerometer",
    "gyroscope",
    "magnetometer",
    "nfc",
    "keyboard-lock",
    "pointer-lock",
    NULL,
};

typedef enum { OP_NAVIGATE, OP_EVALUATE, OP_SCREENSHOT } OpKind;

typedef struct {
  ArBrowser *b;
  OpKind kind;
  guint cdp_id;
  guint timer;
  guint idle;
  gboolean navigated; /* OP_NAVIGATE: committed, waiting for the load event */
  char *url;          /* OP_NAVIGATE: the page asked for */
  gboolean watching;  /* OP_NAVIGATE: holds the page's Network domain on */
  gboolean lost;      /* OP_NAVIGATE: a load of the page failed with NETWORK_CHANGED */
  guint reloads;      /* OP_NAVIGATE: loaded again since */
  char *what;
  ArBrowserDoneFunc done;
  ArBrowserBytesFunc bytes_done;
  gpointer user_data;
  /* the outcome, for a deferred completion */
  JsonNode *result;
  GBytes *bytes;
  GError *error;
} Op;

/* ---- the profile ---- */

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (remove(path) != 0 && errno != ENOENT)
    g_debug("browser: cannot remove %s: %s", path, g_strerror(errno));
  return 0;
}

static void
remove_profile(ArBrowser *b)
{
  if (b->profile == NULL)
    return;
  /* Depth first, never following a symbolic link out of the profile. */
  (void)nftw(b->profile, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  if (g_file_test(b->profile, G_FILE_TEST_EXISTS))
    g_warning("browser: the profile %s could not be removed", b->profile);
}

/* ---- operations (navigate, evaluate, screenshot) ---- */

static void
op_free(Op *op)
{
  if (op->timer)
    g_source_remove(op->timer);
  if (op->idle)
    g_source_remove(op->idle);
  if (op->cdp_id && op->b->cdp)
    ar_cdp_cancel(op->b->cdp, op->cdp_id);
  g_clear_pointer(&op->result, json_node_unref);
  g_clear_pointer(&op->bytes, g_bytes_unref);
  g_clear_error(&op->error);
  g_free(op->what);
  g_free(op->url);
  g_free(op);
}

/* A navigation watches the page's failed loads (Network.loadingFailed) until
 * it completes: the domain is on only then, since once on it also reports
 * every frame of the meeting's WebSockets. */
static void
op_watch(Op *op, gboolean on)
{
  ArBrowser *b = op->b;

  if (op->watching == on || b->cdp == NULL || !ar_cdp_is_running(b->cdp) || b->page_session == NULL)
    return;
  op->watching = on;
  if (on ? b->watchers++ == 0 : --b->watchers == 0)
    call(b, b->page_session, on ? "Network.enable" : "Network.disable", NULL, NULL, NULL);
}

/* Calls the op's callback now and frees it. */
static void
op_complete(Op *op)
{
  ArBrowser *b = op->b;
  b->ops = g_list_remove(b->ops, op);
  if (op->timer) {
    g_source_remove(op->timer);
    op->timer = 0;
  }
  if (op->cdp_id) {
    ar_cdp_cancel(b->cdp, op->cdp_id);
    op->cdp_id = 0;
  }
  op_watch(op, FALSE);
  if (op->bytes_done)
    op->bytes_done(b, op->bytes, op->error, op->user_data);
  else if (op->done)
    op->done(b, op->result, op->error, op->user_data);
  op_free(op);
}

static gboolean
op_idle(gpointer data)
{
  Op *op = data;
  op->idle = 0;
  op_complete(op);
  return G_SOURCE_REMOVE;
}

/* Completes the op from the main loop (never inside the caller's call). */
static void
op_finish_later(Op *op, GError *error)
{
  if (error != NULL) {
    g_clear_error(&op->error);
    op->error = error;
  }
  if (op->idle == 0)
    op->idle = g_idle_add(op_idle, op);
}

static void
op_fail(Op *op, GError *error)
{
  g_clear_error(&op->error);
  op->error = error;
  op_complete(op);
}

static gboolean
op_timed_out(gpointer data)
{
  Op *op = data;
  op->timer = 0;
  op_fail(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_TIMEOUT,
                          "The meeting page did not finish %s in time", op->what));
  return G_SOURCE_REMOVE;
}

guint
ar_browser_pace_for(guint answer_timeout_ms)
{
  guint ms = answer_timeout_ms ? answer_timeout_ms : DEFAULT_ANSWER_TIMEOUT_MS;
  return MAX(1, (ms + DEFAULT_ANSWER_TIMEOUT_MS - 1) / DEFAULT_ANSWER_TIMEOUT_MS);
}

guint
ar_browser_pace(const ArBrowser *b)
{
  return b == NULL ? 1 : ar_browser_pace_for(b->answer_timeout_ms);
}

static Op *
op_new(ArBrowser *b, OpKind kind, const char *what, guint timeout_ms)
{
  Op *op = g_new0(Op, 1);
  op->b = b;
  op->kind = kind;
  op->what = g_strdup(what);
  if (timeout_ms > 0)
    op->timer = g_timeout_add(timeout_ms * ar_browser_pace(b), op_timed_out, op);
  b->ops = g_list_prepend(b->ops, op);
  return op;
}

static gboolean
check_usable(ArBrowser *b, Op *op)
{
  if (b->cdp == NULL || !ar_cdp_is_running(b->cdp)) {
    op_finish_later(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_CLOSED,
                                    "The meeting browser is closed"));
    return FALSE;
  }
  if (b->page_session == NULL || !b->ready_done) {
    op_finish_later(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NOT_READY,
                                    "The meeting browser is not ready yet"));
    return FALSE;
  }
  return TRUE;
}

/* ---- start: rules for every session ---- */

static void
ready_once(ArBrowser *b, const GError *error)
{
  if (b->ready_done)
    return;
  b->ready_done = TRUE;
  if (b->ready)
    b->ready(b, error, b->user_data);
}

static JsonNode *
auto_attach_params(void)
{
  JsonObject *o;
  JsonNode *params = params_new(&o);
  json_object_set_boolean_member(o, "autoAttach", TRUE);
  json_object_set_boolean_member(o, "waitForDebuggerOnStart", TRUE);
  json_object_set_boolean_member(o, "flatten", TRUE);
  return params;
}

typedef struct {
  ArBrowser *b;
  char *session;
  gboolean is_page;
  gboolean waiting;
} Setup;

static void
setup_done(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Setup *s = data;
  ArBrowser *b = s->b;
  if (error != NULL && cdp != NULL && ar_cdp_is_running(cdp) && s->is_page) {
    /* The page could not be held to the rules: the call cannot go on. */
    g_debug("browser: page setup: %s", error->message);
    ready_once(b, error);
    ar_cdp_close(cdp);
  } else if (error == NULL && s->is_page) {
    g_debug("browser: page %s ready", s->session);
    ready_once(b, NULL);
  }
  g_free(s->session);
  g_free(s);
}

/* Holds a new session (the page, its frames and workers) to the rules
 * before it runs: request interception, URL blocking, child auto-attach,
 * and for the page dialogs and navigation events. */
static void
setup_session(ArBrowser *b, const char *session, const char *type, gboolean waiting)
{
  gboolean is_page = g_strcmp0(session, b->page_session) == 0;
  g_hash_table_insert(b->sessions, g_strdup(session), g_strdup(type));

  JsonObject *o;
  JsonNode *params = params_new(&o);
  JsonArray *patterns = json_array_new();
  const char *stages[] = {"Request", "Response"};
  for (guint i = 0; i < G_N_ELEMENTS(stages); i++) {
    JsonObject *all = json_object_new();
    json_object_set_string_member(all, "urlPattern", "*");
    json_object_set_string_member(all, "requestStage", stages[i]);
    json_array_add_object_element(patterns, all);
  }
  json_object_set_array_member(o, "patterns", patterns);
  call(b, session, "Fetch.enable", params, NULL, NULL);
  if (is_page) {
    call(b, session, "Page.enable", NULL, NULL, NULL);
    params = params_new(&o);
    json_object_set_boolean_member(o, "enabled", TRUE);
    call(b, session, "Page.setInterceptFileChooserDialog", params, NULL, NULL);
  }
  if (g_strcmp0(type, "service_worker") != 0 && g_strcmp0(type, "worker") != 0 &&
      g_strcmp0(type, "shared_worker") != 0)
    call(b, session, "Target.setAutoAttach", auto_attach_params(), NULL, NULL);
  Setup *s = g_new0(Setup, 1);
  s->b = b;
  s->session = g_strdup(session);
  s->is_page = is_page;
  s->waiting = waiting;
  /* The last command's answer says all before it were taken (in order). */
  call(b, session, "Runtime.runIfWaitingForDebugger", NULL, setup_done, s);
}

static void
close_target(ArBrowser *b, const char *target_id)
{
  JsonObject *o;
  JsonNode *params = params_new(&o);
  json_object_set_string_member(o, "targetId", target_id);
  call(b, NULL, "Target.closeTarget", params, NULL, NULL);
}

static void
on_attached(ArCdp *cdp, const char *parent, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  const char *session = obj_string(params, "sessionId");
  JsonObject *info = obj_object(params, "targetInfo");
  const char *type = obj_string(info, "type");
  const char *target = obj_string(info, "targetId");
  gboolean waiting = FALSE;
  JsonNode *w = json_object_get_member(params, "waitingForDebugger");
  if (w && JSON_NODE_HOLDS_VALUE(w) && json_node_get_value_type(w) == G_TYPE_BOOLEAN)
    waiting = json_node_get_boolean(w);
  if (session == NULL || type == NULL || target == NULL) {
    g_debug("browser: attachedToTarget without a session, type or target");
    return;
  }
  g_debug("browser: attached %s %s (session %s, parent %s, waiting %d)", type, target, session,
          parent ? parent : "browser", waiting);
  if (g_hash_table_contains(b->sessions, session))
    return;
  if (strcmp(type, "page") == 0 || strcmp(type, "tab") == 0) {
    if (b->page_target == NULL && strcmp(type, "page") == 0) {
      b->page_target = g_strdup(target);
      b->page_session = g_strdup(session);
      setup_session(b, session, type, waiting);
    } else if (b->page_target != NULL && strcmp(target, b->page_target) == 0) {
      /* The same page attached twice (auto-attach and ours): one is enough. */
      JsonObject *o;
      JsonNode *p = params_new(&o);
      json_object_set_string_member(o, "sessionId", session);
      call(b, NULL, "Target.detachFromTarget", p, NULL, NULL);
    } else if (strcmp(type, "tab") == 0 && b->page_target == NULL) {
      /* A tab holding our page: its page attaches through it. */
      g_hash_table_insert(b->sessions, g_strdup(session), g_strdup(type));
      call(b, session, "Target.setAutoAttach", auto_attach_params(), NULL, NULL);
      call(b, session, "Runtime.runIfWaitingForDebugger", NULL, NULL, NULL);
    } else {
      /* A pop-up or a new window: closed at once. It may share its
       * opener's renderer, which waits while it is held for us: it is
       * held to the rules like any session, let go, then closed (the
       * commands run in this order). */
      g_debug("browser: closing the new %s %s", type, target);
      setup_session(b, session, "popup", waiting);
      close_target(b, target);
    }
    return;
  }
  const char *const held[] = {"iframe",          "worker",  "shared_worker",
                              "service_worker",  "worklet", "shared_storage_worklet",
                              "auction_worklet", NULL};
  if (!g_strv_contains(held, type)) {
    /* Chromium's own targets (browser_ui, other): not web content; let go. */
    if (waiting)
      call(b, session, "Runtime.runIfWaitingForDebugger", NULL, NULL, NULL);
    JsonObject *o;
    JsonNode *p = params_new(&o);
    json_object_set_string_member(o, "sessionId", session);
    call(b, NULL, "Target.detachFromTarget", p, NULL, NULL);
    return;
  }
  setup_session(b, session, type, waiting);
}

static void
on_detached(ArCdp *cdp, const char *parent, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  const char *session = obj_string(params, "sessionId");
  if (session != NULL)
    g_hash_table_remove(b->sessions, session);
}

static void
on_target_created(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  JsonObject *info = obj_object(params, "targetInfo");
  const char *type = obj_string(info, "type");
  const char *target = obj_string(info, "targetId");
  /* A second page not attached through auto-attach (a new window): closed. */
  if (b->page_target != NULL && target != NULL && g_strcmp0(type, "page") == 0 &&
      strcmp(target, b->page_target) != 0)
    close_target(b, target);
}

static void
on_dialog(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  /* Dismissed at once; a beforeunload is accepted so leaving is never held. */
  const char *type = obj_string(params, "type");
  JsonObject *o;
  JsonNode *reply = params_new(&o);
  json_object_set_boolean_member(o, "accept", g_strcmp0(type, "beforeunload") == 0);
  g_debug("browser: dismissing a %s dialog", type ? type : "JavaScript");
  call(b, session, "Page.handleJavaScriptDialog", reply, NULL, NULL);
}

static void
set_url(ArBrowser *b, const char *url)
{
  g_free(b->url);
  b->url = g_strndup(url, MAX_URL_LEN);
}

static void
on_frame_navigated(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  JsonObject *frame = obj_object(params, "frame");
  if (g_strcmp0(session, b->page_session) != 0 || frame == NULL ||
      obj_string(frame, "parentId") != NULL)
    return;
  const char *url = obj_string(frame, "url");
  if (url == NULL)
    return;
  set_url(b, url);
  /* A safety net under interception: a main frame that committed a page
   * outside the allowed origins (not an error page) is sent away. */
  gboolean error_page = obj_string(frame, "unreachableUrl") != NULL;
  if (!error_page && strcmp(url, "about:blank") != 0 &&
      !ar_browser_url_allowed((const char *const *)b->allowed, (const char *const *)b->blocked,
                              url)) {
    g_debug("browser: the page went to %.200s: back to about:blank", url);
    JsonObject *o;
    JsonNode *p = params_new(&o);
    json_object_set_string_member(o, "url", "about:blank");
    call(b, b->page_session, "Page.navigate", p, NULL, NULL);
  }
}

static void
on_same_document(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  const char *frame = obj_string(params, "frameId");
  const char *url = obj_string(params, "url");
  if (g_strcmp0(session, b->page_session) == 0 && url != NULL &&
      g_strcmp0(frame, b->page_target) == 0)
    set_url(b, url);
}

static gboolean op_load_again(Op *op);

static void
on_load(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  if (g_strcmp0(session, b->page_session) != 0)
    return;
  for (GList *l = b->ops; l != NULL; l = l->next) {
    Op *op = l->data;
    if (op->kind == OP_NAVIGATE && op->navigated) {
      if (op->lost && op_load_again(op))
        return;
      op_complete(op);
      return;
    }
  }
}

/* A load of the page failed: one a network change aborted makes the
 * navigation load the page again once it loaded. */
static void
on_loading_failed(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  ArBrowser *b = data;
  if (g_strcmp0(session, b->page_session) != 0 ||
      g_strcmp0(obj_string(params, "errorText"), NETWORK_CHANGED) != 0)
    return;
  for (GList *l = b->ops; l != NULL; l = l->next) {
    Op *op = l->data;
    if (op->kind == OP_NAVIGATE && op->idle == 0)
      op->lost = TRUE;
  }
}

static void
on_file_chooser(ArCdp *cdp, const char *session, JsonObject *params, gpointer data)
{
  g_debug("browser: a file chooser was refused");
}

/* ---- the start sequence ---- */

/* A start step that failed: the call cannot go on (e.g. the managed policy
 * DeveloperToolsAvailability = 2 makes Target.attachToTarget "Not allowed"). */
static void
start_step_done(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  if (error == NULL || cdp == NULL || !ar_cdp_is_running(cdp))
    return;
  g_autoptr(GError) e =
      g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NAVIGATE,
                  "The meeting browser could not be prepared: %s", error->message);
  ready_once(b, e);
  ar_cdp_close(cdp);
}

static void
got_targets(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  if (error != NULL)
    return; /* closing: closed says why */
  if (b->page_target != NULL)
    return; /* auto-attach found it */
  JsonNode *n = json_object_get_member(result, "targetInfos");
  JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
  for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
    JsonNode *e = json_array_get_element(a, i);
    JsonObject *info = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
    const char *target = obj_string(info, "targetId");
    if (g_strcmp0(obj_string(info, "type"), "page") == 0 && target != NULL) {
      JsonObject *o;
      JsonNode *p = params_new(&o);
      json_object_set_string_member(o, "targetId", target);
      json_object_set_boolean_member(o, "flatten", TRUE);
      call(b, NULL, "Target.attachToTarget", p, start_step_done, b);
      return;
    }
  }
  g_autoptr(GError) e = g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NAVIGATE,
                                    "The meeting browser opened no page");
  ready_once(b, e);
  ar_cdp_close(cdp);
}

static void
auto_attach_set(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  if (error != NULL)
    return;
  call(b, NULL, "Target.getTargets", NULL, got_targets, b);
}

static gboolean heartbeat_tick(gpointer data);

static void
heartbeat_answer(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  b->heartbeat_waiting = FALSE;
}

static gboolean
heartbeat_tick(gpointer data)
{
  ArBrowser *b = data;
  if (!b->heartbeat_waiting && ar_cdp_is_running(b->cdp)) {
    b->heartbeat_waiting = TRUE;
    call(b, NULL, "Browser.getVersion", NULL, heartbeat_answer, b);
  }
  return G_SOURCE_CONTINUE;
}

static void
first_answer(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  if (error != NULL)
    return; /* closed says why */
  g_debug("browser: %s answered after %" G_GINT64_FORMAT " ms", obj_string(result, "product"),
          ar_cdp_get_first_answer_us(cdp) / 1000);
  b->heartbeat = g_timeout_add(b->heartbeat_ms, heartbeat_tick, b);

  JsonObject *o;
  JsonNode *p = params_new(&o);
  json_object_set_string_member(o, "behavior", "deny");
  call(b, NULL, "Browser.setDownloadBehavior", p, start_step_done, b);
  for (guint i = 0; denied_permissions[i]; i++)
    ar_browser_set_permission(b, denied_permissions[i], "denied", NULL, NULL, NULL);
  for (guint i = 0; b->allowed[i]; i++)
    if (strstr(b->allowed[i], "*.") == NULL &&
        ar_browser_url_allowed((const char *const *)b->allowed, (const char *const *)b->blocked,
                               b->allowed[i])) {
      g_autofree char *origin = ar_browser_origin_of(b->allowed[i]);
      if (origin != NULL)
        ar_browser_grant_media(b, origin, NULL, NULL);
    }
  p = params_new(&o);
  json_object_set_boolean_member(o, "discover", TRUE);
  call(b, NULL, "Target.setDiscoverTargets", p, NULL, NULL);
  call(b, NULL, "Target.setAutoAttach", auto_attach_params(), auto_attach_set, b);
}

static void browser_unref(ArBrowser *b);

static void
cdp_closed(ArCdp *cdp, const GError *error, gpointer data)
{
  ArBrowser *b = data;
  /* A callback below may free the browser: it then stops here. */
  b->ref++;
  if (b->heartbeat) {
    g_source_remove(b->heartbeat);
    b->heartbeat = 0;
  }
  while (b->ops != NULL && !b->freed)
    op_fail(b->ops->data, error ? g_error_copy(error)
                                : g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_CLOSED,
                                              "The meeting browser was closed"));
  if (!b->freed)
    remove_profile(b);
  g_autoptr(GError) e = error ? NULL
                              : g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_CLOSED,
                                            "The meeting browser was closed before it was ready");
  if (!b->freed)
    ready_once(b, error ? error : e);
  ArBrowserClosedFunc closed = b->freed ? NULL : b->closed;
  b->closed = NULL;
  if (closed != NULL)
    closed(b, error, b->user_data);
  browser_unref(b);
}

/* ---- options, argv, environment ---- */

static GStrv
copy_strv(const char *const *v)
{
  return v ? g_strdupv((char **)v) : g_new0(char *, 1);
}

static gboolean
check_options(const ArBrowserOptions *o, GError **error)
{
  guint n = 0;
  for (guint i = 0; o->allowed && o->allowed[i]; i++, n++)
    if (!ar_browser_check_pattern(o->allowed[i], FALSE, error))
      return FALSE;
  for (guint i = 0; o->blocked && o->blocked[i]; i++, n++)
    if (!ar_browser_check_pattern(o->blocked[i], TRUE, error))
      return FALSE;
  for (guint i = 0; o->media && o->media[i]; i++, n++)
    if (!ar_browser_check_pattern(o->media[i], FALSE, error))
      return FALSE;
  if (n > AR_BROWSER_MAX_ORIGINS * 3) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                "at most %d origin patterns in all", AR_BROWSER_MAX_ORIGINS * 3);
    return FALSE;
  }
  if ((o->width && (o->width < 320 || o->width > 7680)) ||
      (o->height && (o->height < 240 || o->height > 4320))) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                "a window size from 320x240 to 7680x4320");
    return FALSE;
  }
  if (o->wayland_display != NULL &&
      (!g_path_is_absolute(o->wayland_display) || strlen(o->wayland_display) >= 108 ||
       strpbrk(o->wayland_display, "\n\r") != NULL)) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                "the Wayland display is the absolute path of its socket (under 108 bytes)");
    return FALSE;
  }
  for (guint i = 0; o->env && o->env[i]; i++)
    if (o->env[i][0] == '\0' || o->env[i][0] == '=') {
      g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_OPTIONS,
                  "environment entries are NAME or NAME=VALUE");
      return FALSE;
    }
  return TRUE;
}

static void G_GNUC_PRINTF(2, 3) add_printf(GStrvBuilder *builder, const char *format, ...)
{
  va_list ap;
  va_start(ap, format);
  g_autofree char *text = g_strdup_vprintf(format, ap);
  va_end(ap);
  g_strv_builder_add(builder, text);
}

static GStrv
build_env(ArBrowser *b)
{
  g_autoptr(GStrvBuilder) env = g_strv_builder_new();
  g_strv_builder_add(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
  /* Everything Chromium writes outside the profile folder (NSS database,
   * caches, temporary files) lands inside it, and goes with it. */
  add_printf(env, "HOME=%s", b->profile);
  add_printf(env, "XDG_CONFIG_HOME=%s/.config", b->profile);
  add_printf(env, "XDG_CACHE_HOME=%s/.cache", b->profile);
  add_printf(env, "TMPDIR=%s", b->profile);
  g_strv_builder_add(env, "LANGUAGE=en_US");
  if (!b->headless && b->wayland_display != NULL) {
    add_printf(env, "WAYLAND_DISPLAY=%s", b->wayland_display);
    /* Chromium wants a runtime folder of its own; the socket's path is absolute. */
    add_printf(env, "XDG_RUNTIME_DIR=%s", b->profile);
  } else if (!b->headless) {
    const char *const display_env[] = {"DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY",
                                       "XDG_RUNTIME_DIR", NULL};
    for (guint i = 0; display_env[i]; i++)
      if (g_getenv(display_env[i]) != NULL)
        add_printf(env, "%s=%s", display_env[i], g_getenv(display_env[i]));
  }
  for (guint i = 0; b->env[i]; i++) {
    if (strchr(b->env[i], '=') != NULL)
      g_strv_builder_add(env, b->env[i]);
    else if (g_getenv(b->env[i]) != NULL)
      add_printf(env, "%s=%s", b->env[i], g_getenv(b->env[i]));
  }
  return g_strv_builder_end(env);
}

static GStrv
build_argv(ArBrowser *b)
{
  g_autoptr(GStrvBuilder) a = g_strv_builder_new();
  g_strv_builder_add(a, b->chromium);
  g_strv_builder_add(a, "--remote-debugging-pipe");
  add_printf(a, "--user-data-dir=%s", b->profile);
  add_printf(a, "--disk-cache-dir=%s/cache", b->profile);
  /* Why each flag: docs/decisions.md, "The meeting browser (issue 11, part 2)". */
  const char *const fixed[] = {
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
      "--disable-client-side-phishing-detection",
      "--disable-domain-reliability",
      "--disable-breakpad",
      "--no-pings",
      "--password-store=basic",
      "--use-mock-keychain",
      "--autoplay-policy=no-user-gesture-required",
      "--deny-permission-prompts",
      "--disable-quic",
      "--noerrdialogs",
      "--disable-infobars",
      "--disable-session-crashed-bubble",
      "--disable-features=Translate,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,"
      "OptimizationHints,LocalNetworkAccessChecks,NetworkTimeServiceQuerying",
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
      "--lang=en-US",
      "--accept-lang=en-US",
      NULL,
  };
  for (guint i = 0; fixed[i]; i++)
    g_strv_builder_add(a, fixed[i]);
  add_printf(a, "--window-size=%u,%u", b->width, b->height);
  g_strv_builder_add(a, "--window-position=0,0");
  g_strv_builder_add(a, b->headless ? "--headless=new" : "--kiosk");
  if (!b->headless && b->wayland_display != NULL)
    g_strv_builder_add(a, "--ozone-platform=wayland");
  for (guint i = 0; b->extra[i]; i++)
    g_strv_builder_add(a, b->extra[i]);
  g_strv_builder_add(a, "about:blank");
  return g_strv_builder_end(a);
}

ArBrowser *
ar_browser_start(const ArBrowserOptions *options, ArBrowserReadyFunc ready,
                 ArBrowserClosedFunc closed, gpointer user_data, GError **error)
{
  g_return_val_if_fail(options != NULL, NULL);
  if (!check_options(options, error))
    return NULL;
  g_autoptr(ArBrowser) b = g_new0(ArBrowser, 1);
  b->ref = 1;
  b->chromium = g_strdup(options->chromium ? options->chromium : "/usr/bin/chromium");
  b->headless = options->headless;
  b->wayland_display = g_strdup(options->wayland_display);
  b->chromium_log = options->chromium_log;
  b->width = options->width ? options->width : 1920;
  b->height = options->height ? options->height : 1080;
  b->allowed = copy_strv(options->allowed);
  b->blocked = copy_strv(options->blocked);
  b->media = options->media ? g_strdupv((char **)options->media) : NULL;
  b->csp = ar_browser_build_csp(b);
  b->extra = copy_strv(options->extra_flags);
  b->env = copy_strv(options->env);
  b->answer_timeout_ms =
      options->answer_timeout_ms ? options->answer_timeout_ms : DEFAULT_ANSWER_TIMEOUT_MS;
  b->start_timeout_ms = options->start_timeout_ms ? options->start_timeout_ms : START_TIMEOUT_MS;
  b->heartbeat_ms = options->heartbeat_ms ? options->heartbeat_ms : 1000;
  b->granted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  b->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  b->ready = ready;
  b->closed = closed;
  b->user_data = user_data;

  g_autofree char *tmpl =
      g_build_filename(options->profile_parent ? options->profile_parent : g_get_tmp_dir(),
                       "ar-browser-XXXXXX", NULL);
  /* g_mkdtemp makes it 0700. */
  if (g_mkdtemp(tmpl) == NULL) {
    g_set_error(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_PROFILE,
                "The meeting browser's profile could not be made in %s: %s",
                options->profile_parent ? options->profile_parent : g_get_tmp_dir(),
                g_strerror(errno));
    return NULL;
  }
  b->profile = g_steal_pointer(&tmpl);

  g_auto(GStrv) argv = build_argv(b);
  g_auto(GStrv) envp = build_env(b);
  b->cdp = ar_cdp_launch((const char *const *)argv, (const char *const *)envp, b->chromium_log,
                         cdp_closed, b, error);
  if (b->cdp == NULL)
    return NULL; /* the profile goes with b */
  ar_cdp_set_marker(b->cdp, b->profile);
  ar_cdp_on(b->cdp, "Target.attachedToTarget", on_attached, b);
  ar_cdp_on(b->cdp, "Target.detachedFromTarget", on_detached, b);
  ar_cdp_on(b->cdp, "Target.targetCreated", on_target_created, b);
  ar_cdp_on(b->cdp, "Fetch.requestPaused", ar_browser_on_request_paused, b);
  ar_cdp_on(b->cdp, "Page.javascriptDialogOpening", on_dialog, b);
  ar_cdp_on(b->cdp, "Page.frameNavigated", on_frame_navigated, b);
  ar_cdp_on(b->cdp, "Page.navigatedWithinDocument", on_same_document, b);
  ar_cdp_on(b->cdp, "Page.loadEventFired", on_load, b);
  ar_cdp_on(b->cdp, "Network.loadingFailed", on_loading_failed, b);
  ar_cdp_on(b->cdp, "Page.fileChooserOpened", on_file_chooser, b);
  ar_cdp_call(b->cdp, NULL, "Browser.getVersion", NULL, b->start_timeout_ms, first_answer, b);
  return g_steal_pointer(&b);
}

/* ---- the engine's calls ---- */

static void navigated(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data);

static void
op_navigate(Op *op)
{
  JsonObject *o;
  JsonNode *p = params_new(&o);
  json_object_set_string_member(o, "url", op->url);
  op->navigated = FALSE;
  op->lost = FALSE;
  /* The answer waits for the server: bounded by the op, not as a hang. */
  op->cdp_id = ar_cdp_call(op->b->cdp, op->b->page_session, "Page.navigate", p, 0, navigated, op);
}

/* The page, or some of its loads, failed with a network change: loaded
 * again (within the navigation's time), unless it already was as often as
 * allowed. */
static gboolean
op_load_again(Op *op)
{
  if (op->reloads >= NETWORK_CHANGED_RELOADS || op->url == NULL)
    return FALSE;
  op->reloads++;
  g_message("browser: a network change aborted loads of the meeting page (%s): loading it again "
            "(%u of %u)",
            NETWORK_CHANGED, op->reloads, NETWORK_CHANGED_RELOADS);
  op_navigate(op);
  return TRUE;
}

static void
navigated(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Op *op = data;
  op->cdp_id = 0;
  if (error != NULL) {
    op_fail(op, g_error_copy(error));
    return;
  }
  const char *text = obj_string(result, "errorText");
  if (g_strcmp0(text, NETWORK_CHANGED) == 0 && op_load_again(op))
    return;
  if (text != NULL) {
    op_fail(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NAVIGATE,
                            "The meeting page did not load: %s", text));
    return;
  }
  if (obj_string(result, "loaderId") == NULL) {
    op_complete(op); /* within the same document: no load event */
    return;
  }
  op->navigated = TRUE;
}

void
ar_browser_navigate(ArBrowser *b, const char *url, guint timeout_ms, ArBrowserDoneFunc done,
                    gpointer user_data)
{
  g_return_if_fail(b != NULL && url != NULL);
  Op *op = op_new(b, OP_NAVIGATE, "loading", timeout_ms ? timeout_ms : NAVIGATE_TIMEOUT_MS);
  op->done = done;
  op->user_data = user_data;
  if (!check_usable(b, op))
    return;
  if (strlen(url) > MAX_URL_LEN || !ar_browser_url_allowed((const char *const *)b->allowed,
                                                           (const char *const *)b->blocked, url)) {
    op_finish_later(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_BLOCKED,
                                    "%.200s is not on an allowed origin", url));
    return;
  }
  /* One navigation at a time: a newer one replaces the older. */
  for (GList *l = b->ops; l != NULL; l = l->next) {
    Op *old = l->data;
    if (old != op && old->kind == OP_NAVIGATE && old->idle == 0) {
      op_finish_later(old, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NAVIGATE,
                                       "Replaced by a newer navigation"));
      break;
    }
  }
  op->url = g_strdup(url);
  op_watch(op, TRUE);
  op_navigate(op);
}

static void
evaluated(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Op *op = data;
  op->cdp_id = 0;
  if (error != NULL) {
    op_fail(op, g_error_copy(error));
    return;
  }
  JsonObject *exc = obj_object(result, "exceptionDetails");
  if (exc != NULL) {
    const char *text = obj_string(obj_object(exc, "exception"), "description");
    if (text == NULL)
      text = obj_string(exc, "text");
    op_fail(op,
            g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_EXCEPTION,
                        "The meeting page's script failed: %.500s", text ? text : "an exception"));
    return;
  }
  JsonObject *ro = obj_object(result, "result");
  JsonNode *value = ro ? json_object_get_member(ro, "value") : NULL;
  if (value != NULL) {
    g_autofree char *text = json_to_string(value, FALSE);
    if (strlen(text) > AR_BROWSER_MAX_RESULT) {
      op_fail(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_TOO_LARGE,
                              "The meeting page's answer is over %d bytes", AR_BROWSER_MAX_RESULT));
      return;
    }
    op->result = json_node_copy(value);
  }
  op_complete(op);
}

void
ar_browser_evaluate(ArBrowser *b, const char *expression, guint timeout_ms, ArBrowserDoneFunc done,
                    gpointer user_data)
{
  g_return_if_fail(b != NULL && expression != NULL);
  Op *op = op_new(b, OP_EVALUATE, "a script", timeout_ms ? timeout_ms : EVALUATE_TIMEOUT_MS);
  op->done = done;
  op->user_data = user_data;
  if (!check_usable(b, op))
    return;
  if (strlen(expression) > MAX_EXPRESSION_LEN) {
    op_finish_later(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_TOO_LARGE,
                                    "A script over %d bytes", MAX_EXPRESSION_LEN));
    return;
  }
  JsonObject *o;
  JsonNode *p = params_new(&o);
  json_object_set_string_member(o, "expression", expression);
  json_object_set_boolean_member(o, "returnByValue", TRUE);
  json_object_set_boolean_member(o, "awaitPromise", TRUE);
  /* As if a person had clicked: recipes press the page's buttons, some of
   * which want a user activation (audio, full screen). Pop-ups it would
   * allow are closed by on_attached(). */
  json_object_set_boolean_member(o, "userGesture", TRUE);
  op->cdp_id = ar_cdp_call(b->cdp, b->page_session, "Runtime.evaluate", p, 0, evaluated, op);
}

static void
script_added(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Op *op = data;
  op->cdp_id = 0;
  if (error != NULL) {
    op_fail(op, g_error_copy(error));
    return;
  }
  op_complete(op);
}

void
ar_browser_add_init_script(ArBrowser *b, const char *source, ArBrowserDoneFunc done,
                           gpointer user_data)
{
  g_return_if_fail(b != NULL && source != NULL);
  Op *op = op_new(b, OP_EVALUATE, "an init script", EVALUATE_TIMEOUT_MS);
  op->done = done;
  op->user_data = user_data;
  if (!check_usable(b, op))
    return;
  if (strlen(source) > MAX_EXPRESSION_LEN) {
    op_finish_later(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_TOO_LARGE,
                                    "A script over %d bytes", MAX_EXPRESSION_LEN));
    return;
  }
  JsonObject *o;
  JsonNode *p = params_new(&o);
  json_object_set_string_member(o, "source", source);
  op->cdp_id = ar_cdp_call(b->cdp, b->page_session, "Page.addScriptToEvaluateOnNewDocument", p, 0,
                           script_added, op);
}

static void
captured(ArCdp *cdp, JsonObject *result, const GError *error, gpointer data)
{
  Op *op = data;
  op->cdp_id = 0;
  if (error != NULL) {
    op_fail(op, g_error_copy(error));
    return;
  }
  const char *b64 = obj_string(result, "data");
  if (b64 == NULL) {
    op_fail(op, g_error_new(AR_BROWSER_ERROR, AR_BROWSER_ERROR_NAVIGATE,
                            "The meeting browser returned no screenshot"));
    return;
  }
  gsize len = 0;
  guchar *raw = g_base64_decode(b64, &len);
  op->bytes = g_bytes_new_take(raw, len);
  op_complete(op);
}

void
ar_browser_screenshot(ArBrowser *b, gboolean png, ArBrowserBytesFunc done, gpointer user_data)
{
  g_return_if_fail(b != NULL);
  Op *op = op_new(b, OP_SCREENSHOT, "a screenshot", SCREENSHOT_TIMEOUT_MS);
  op->bytes_done = done;
  op->user_data = user_data;
  if (!check_usable(b, op))
    return;
  JsonObject *o;
  JsonNode *p = params_new(&o);
  json_object_set_string_member(o, "format", png ? "png" : "jpeg");
  if (!png)
    json_object_set_int_member(o, "quality", 80);
  op->cdp_id = ar_cdp_call(b->cdp, b->page_session, "Page.captureScreenshot", p, 0, captured, op);
}

const char *
ar_browser_get_url(ArBrowser *b)
{
  return b ? b->url : NULL;
}

const char *
ar_browser_get_profile_dir(ArBrowser *b)
{
  return b ? b->profile : NULL;
}

GPid
ar_browser_get_pid(ArBrowser *b)
{
  return b ? ar_cdp_get_pid(b->cdp) : 0;
}

gint64
ar_browser_get_first_answer_us(ArBrowser *b)
{
  return b ? ar_cdp_get_first_answer_us(b->cdp) : -1;
}

void
ar_browser_close(ArBrowser *b)
{
  g_return_if_fail(b != NULL);
  if (b->cdp != NULL)
    ar_cdp_close(b->cdp);
}

static void
browser_unref(ArBrowser *b)
{
  if (--b->ref > 0)
    return;
  g_free(b->profile);
  g_free(b->chromium);
  g_free(b->wayland_display);
  g_strfreev(b->allowed);
  g_strfreev(b->blocked);
  g_strfreev(b->media);
  g_free(b->csp);
  g_strfreev(b->extra);
  g_strfreev(b->env);
  g_free(b->page_target);
  g_free(b->page_session);
  g_free(b->url);
  g_clear_pointer(&b->granted, g_hash_table_unref);
  g_clear_pointer(&b->sessions, g_hash_table_unref);
  g_free(b);
}

void
ar_browser_free(ArBrowser *b)
{
  if (b == NULL || b->freed)
    return;
  b->freed = TRUE;
  if (b->heartbeat) {
    g_source_remove(b->heartbeat);
    b->heartbeat = 0;
  }
  while (b->ops != NULL) {
    Op *op = b->ops->data;
    b->ops = g_list_delete_link(b->ops, b->ops);
    op_free(op);
  }
  if (b->cdp != NULL) {
    ar_cdp_disown(b->cdp);
    g_clear_pointer(&b->cdp, ar_cdp_unref);
  }
  remove_profile(b);
  browser_unref(b);
}
