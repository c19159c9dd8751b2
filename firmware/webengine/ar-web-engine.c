/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ar-web-engine.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "ar-access-portal.h"
#include "ar-bridge.h"
#include "ar-browser.h"
#include "ar-capture.h"
#include "ar-recipe.h"
#include "ar-web-media.h"
#include "ar-web-page.h"

struct _ArWebEngine {
  gint refs;
  const ArConfig *config;
  ArMediaEngine *media;
  ArRecipeSet *recipes;
  char *recipes_dir;       /* for reloads: NULL = ar_recipe_default_dir() */
  char *admin_recipes_dir; /* NULL: none */
  char *chromium;
  gboolean headless;
  char *wayland_display;
  char **extra_flags;
  char **blocked;
  char *state_dir;
  char *room_email;
  gboolean bridge;
  guint answer_timeout_ms;
  guint start_timeout_ms;
  guint admin_port;
  char *runtime_dir;
  gboolean registered;
  gboolean call_active; /* the Access portal grants the camera only then */
};

typedef enum {
  PHASE_STARTING, /* media environment, bridge, browser */
  PHASE_STEPS,    /* the recipe's pre-join steps */
  PHASE_WAITING,  /* probing: lobby, needs-attention, or not yet in */
  PHASE_CONNECTED,
  PHASE_ENDING, /* failure screenshot, leave steps, closing the browser */
  PHASE_DONE,
} Phase;

typedef struct {
  ArProvider parent;
  ArProviderClass klass; /* web_call_class, its join minimum stretched by the board's pace */
  ArWebEngine *engine;
  ArRecipe *recipe;
  ArLink *link;
  char *room_name;
  char *display;
  char *join_url;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArWebMedia *webmedia;
  ArCapture *capture;
  ArBridge *bridge;
  ArBrowser *browser;
  Phase phase;
  guint step;
  gint64 step_deadline_us;
  guint timer_id;
  guint stats_id;
  guint end_timer_id;
  gboolean busy; /* an evaluate of the state machine is in flight */
  gint64 unknown_since_us;
  guint script_probe; /* the scripted probe being evaluated (probe round) */
  ArRecipeState round_state;
  gboolean round_matched;
  GPtrArray *tracks;      /* ArTrackInfo*: the last statistics */
  GHashTable *last_bytes; /* "source/kind/direction" -> bytes at last_stats_us */
  gint64 last_stats_us;
  guint capture_restarted, capture_lost; /* the page's camera, as last logged */
  GError *end_error;                     /* why it ends (NULL: a leave) */
  gboolean leaving;
  gboolean mic_muted, camera_enabled;
  char *attention; /* the last needs-attention message */
  gint64 camera_wait_until_us;
  gint64 camera_seen_us;
  GPtrArray *participants; /* ArParticipant*: the page's list as last read */
  gint64 participants_us;  /* when it was last asked for */
  gboolean participants_busy;
} WebCall;

static const ArProviderClass web_call_class;

/* ---- ending ---- */

static void
stop_timers(WebCall *c)
{
  g_clear_handle_id(&c->timer_id, g_source_remove);
  g_clear_handle_id(&c->stats_id, g_source_remove);
  g_clear_handle_id(&c->end_timer_id, g_source_remove);
}

/* Frees what the call holds of the room (bridge, capture, media environment);
 * the browser is gone already. */
static void
release_media(WebCall *c)
{
  g_clear_pointer(&c->bridge, ar_bridge_free);
  g_clear_pointer(&c->capture, ar_capture_unref);
  g_clear_pointer(&c->webmedia, ar_web_media_free);
  c->engine->call_active = FALSE;
}

/* Everything is gone: tell the call manager once. */
static void
finish(WebCall *c)
{
  if (c->phase == PHASE_DONE)
    return;
  c->phase = PHASE_DONE;
  stop_timers(c);
  release_media(c);
  if (c->end_error) {
    g_autoptr(GError) e = g_steal_pointer(&c->end_error);
    c->cb.failed(&c->parent, e, c->user_data);
  } else {
    c->cb.left(&c->parent, c->user_data);
  }
}

static void
on_browser_closed(ArBrowser *b, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (error && !c->end_error && !c->leaving) {
    /* A crash or a hang: the call ends with the browser's own words. */
    c->end_error = g_error_copy(error);
    g_warning("web: %s", error->message);
  }
  finish(c);
}

static void
close_browser(WebCall *c)
{
  stop_timers(c);
  /* The page's tracks end first (the browser may be slow to close): no
   * frame and no sound of the room reaches it after this. The session bus
   * stays until the browser is gone (Chromium aborts without it). */
  if (c->bridge)
    ar_bridge_stop(c->bridge);
  if (c->webmedia)
    ar_web_media_release_devices(c->webmedia);
  if (c->browser && c->phase != PHASE_DONE)
    ar_browser_close(c->browser); /* on_browser_closed follows */
  else
    finish(c);
}

static char *
redacted_url(const char *url)
{
  /* Meeting URLs carry passcodes and tokens in their query and fragment. */
  g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;
  if (!uri)
    return g_strdup("(none)");
  return g_uri_join(G_URI_FLAGS_NONE, g_uri_get_scheme(uri), NULL, g_uri_get_host(uri),
                    g_uri_get_port(uri), g_uri_get_path(uri), NULL, NULL);
}

/* Keeps a screenshot of the page and its URL (query and fragment removed:
 * they carry passcodes) in STATE/web-failures for the admin's logs page. */
static void
keep_page(WebCall *c, GBytes *bytes, const char *kind, const char *why)
{
  if (!bytes || !c->engine->state_dir)
    return;
  g_autofree char *dir = g_build_filename(c->engine->state_dir, "web-failures", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  g_autofree char *base = g_strdup_printf("%s-%s-%s", stamp, ar_recipe_get_id(c->recipe), kind);
  g_autofree char *png = g_strdup_printf("%s/%s.png", dir, base);
  g_autofree char *txt = g_strdup_printf("%s/%s.txt", dir, base);
  g_autofree char *url = redacted_url(c->browser ? ar_browser_get_url(c->browser) : NULL);
  g_autofree char *note = g_strdup_printf("url: %s\n%s: %s\n", url, kind, why ? why : "");
  gsize size = 0;
  const char *data = g_bytes_get_data(bytes, &size);
  if (g_mkdir_with_parents(dir, 0700) == 0 &&
      g_file_set_contents_full(png, data, (gssize)size, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                               NULL) &&
      g_file_set_contents_full(txt, note, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
    g_message("web: the page is kept in %s (url %s)", png, url);
}

static void
on_failure_screenshot(ArBrowser *b, GBytes *bytes, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_ENDING)
    return;
  if (error)
    g_message("web: no screenshot of the failed page: %s", error->message);
  keep_page(c, bytes, "error", c->end_error ? c->end_error->message : NULL);
  close_browser(c);
}

static void
on_attention_screenshot(ArBrowser *b, GBytes *bytes, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase == PHASE_WAITING)
    keep_page(c, bytes, "attention", c->attention);
}

static gboolean
end_timeout_cb(gpointer data)
{
  WebCall *c = data;
  c->end_timer_id = 0;
  close_browser(c);
  return G_SOURCE_REMOVE;
}

/* The call fails with @message: a screenshot and the (redacted) URL are kept
 * for the admin's logs, then the browser goes. */
static void
fail(WebCall *c, GQuark domain, gint code, const char *message)
{
  if (c->phase == PHASE_ENDING || c->phase == PHASE_DONE)
    return;
  g_warning("web: %s", message);
  c->end_error = g_error_new_literal(domain, code, message);
  c->phase = PHASE_ENDING;
  stop_timers(c);
  if (!c->browser) {
    finish(c);
    return;
  }
  c->end_timer_id =
      g_timeout_add(AR_WEB_LEAVE_STEPS_MS * ar_browser_pace(c->browser), end_timeout_cb, c);
  ar_browser_screenshot(c->browser, TRUE, on_failure_screenshot, c);
}

static void
fail_error(WebCall *c, const char *prefix, const GError *error)
{
  g_autofree char *m = g_strdup_printf("%s%s", prefix, error->message);
  fail(c, error->domain, error->code, m);
}

/* ---- the page's state ---- */

static void probe_round(WebCall *c);
static void run_step(WebCall *c);

static gboolean
tick_cb(gpointer data)
{
  WebCall *c = data;
  c->timer_id = 0;
  if (c->phase == PHASE_STEPS)
    run_step(c);
  else if (c->phase == PHASE_WAITING || c->phase == PHASE_CONNECTED)
    probe_round(c);
  return G_SOURCE_REMOVE;
}

static void
schedule(WebCall *c, guint ms)
{
  g_clear_handle_id(&c->timer_id, g_source_remove);
  c->timer_id = g_timeout_add(ms, tick_cb, c);
}

static void start_stats(WebCall *c);

static const char *
probe_message(WebCall *c, ArRecipeState state, const char *fallback)
{
  const ArRecipeProbe *p = ar_recipe_get_probe(c->recipe, state);
  return p && p->message ? p->message : fallback;
}

static void
needs_attention(WebCall *c, const char *why)
{
  g_autofree char *m = g_strdup_printf("Finish joining on the room screen: %s", why);
  if (g_strcmp0(m, c->attention) != 0) {
    g_free(c->attention);
    c->attention = g_strdup(m);
    /* What the person was asked to finish, for the admin's logs. */
    if (c->browser)
      ar_browser_screenshot(c->browser, TRUE, on_attention_screenshot, c);
  }
  if (c->cb.waiting)
    c->cb.waiting(&c->parent, AR_PROVIDER_WAIT_ATTENTION, m, c->user_data);
}

/* What a probe round found (or not: @matched FALSE). */
static void
on_state(WebCall *c, gboolean matched, ArRecipeState state)
{
  gint64 now = g_get_monotonic_time();
  if (!matched || state == AR_RECIPE_STATE_PRE_JOIN) {
    if (c->phase == PHASE_WAITING) {
      if (!c->unknown_since_us)
        c->unknown_since_us = now;
      else if (now - c->unknown_since_us >=
               (gint64)AR_WEB_UNKNOWN_PAGE_MS * 1000 * ar_browser_pace(c->browser))
        needs_attention(c, matched ? "the meeting page is still asking for something before "
                                     "joining"
                                   : "the meeting page is not one the room knows");
    }
    schedule(c, AR_WEB_PROBE_INTERVAL_MS);
    return;
  }
  c->unknown_since_us = 0;
  switch (state) {
  case AR_RECIPE_STATE_CAPTCHA:
    needs_attention(c, probe_message(c, state, "the meeting asks to prove a person is joining"));
    break;
  case AR_RECIPE_STATE_SIGN_IN_REQUIRED:
    needs_attention(c, probe_message(c, state, "This meeting requires sign-in"));
    break;
  case AR_RECIPE_STATE_DENIED:
    fail(c, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
         probe_message(c, state, "The host denied the request"));
    return;
  case AR_RECIPE_STATE_REMOVED:
    fail(c, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
         probe_message(c, state, "Removed from the meeting"));
    return;
  case AR_RECIPE_STATE_ENDED:
    fail(c, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, probe_message(c, state, "The meeting ended"));
    return;
  case AR_RECIPE_STATE_ERROR:
    fail(c, G_IO_ERROR, G_IO_ERROR_FAILED,
         probe_message(c, state, "The meeting page reported an error"));
    return;
  case AR_RECIPE_STATE_IN_CALL:
    if (c->phase != PHASE_CONNECTED) {
      g_message("web: in the meeting (%s)", ar_recipe_get_id(c->recipe));
      c->phase = PHASE_CONNECTED;
      start_stats(c);
      c->cb.connected(&c->parent, c->user_data);
    }
    break;
  case AR_RECIPE_STATE_LOBBY:
    if (c->cb.waiting && c->phase == PHASE_WAITING)
      c->cb.waiting(&c->parent, AR_PROVIDER_WAIT_HOST,
                    probe_message(c, state, "Waiting for a host to let the room in"), c->user_data);
    break;
  default:
    break;
  }
  if (c->phase == PHASE_WAITING || c->phase == PHASE_CONNECTED)
    schedule(c, AR_WEB_PROBE_INTERVAL_MS);
}

static void probe_scripts(WebCall *c);

static void
on_script_probe(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  c->busy = FALSE;
  if (c->phase != PHASE_WAITING && c->phase != PHASE_CONNECTED)
    return;
  if (error && !g_error_matches(error, AR_BROWSER_ERROR, AR_BROWSER_ERROR_EXCEPTION))
    g_debug("web: a scripted probe: %s", error->message);
  gboolean yes = result && JSON_NODE_HOLDS_VALUE(result) &&
                 json_node_get_value_type(result) == G_TYPE_BOOLEAN &&
                 json_node_get_boolean(result);
  if (yes) {
    on_state(c, TRUE, (ArRecipeState)c->script_probe);
    return;
  }
  c->script_probe++;
  probe_scripts(c);
}

/* The scripted probes of states before the one the plain probes found (in
 * the order of ArRecipeState), one evaluate each. */
static void
probe_scripts(WebCall *c)
{
  guint limit = c->round_matched ? (guint)c->round_state : AR_RECIPE_N_STATES;
  for (; c->script_probe < limit; c->script_probe++) {
    const ArRecipeProbe *p = ar_recipe_get_probe(c->recipe, (ArRecipeState)c->script_probe);
    if (!p || !p->applicable || !p->script)
      continue;
    g_autofree char *expr = ar_web_page_script_probe_expression(p->script);
    c->busy = TRUE;
    ar_browser_evaluate(c->browser, expr, 2000, on_script_probe, c);
    return;
  }
  on_state(c, c->round_matched, c->round_state);
}

static void
on_probe(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  c->busy = FALSE;
  if (c->phase != PHASE_WAITING && c->phase != PHASE_CONNECTED)
    return;
  if (error)
    g_debug("web: probe: %s", error->message);
  c->round_matched = !error && ar_web_page_probe_result(result, &c->round_state);
  c->script_probe = 0;
  probe_scripts(c);
}

/* ---- participants ---- */

static gboolean
same_participants(GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    const ArParticipant *x = a->pdata[i], *y = b->pdata[i];
    if (g_strcmp0(x->id, y->id) != 0 || g_strcmp0(x->display, y->display) != 0)
      return FALSE;
  }
  return TRUE;
}

static void
on_participants(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  c->participants_busy = FALSE;
  if (c->phase != PHASE_CONNECTED)
    return;
  if (error) {
    g_debug("web: participants: %s", error->message);
    return;
  }
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
  if (!ar_web_page_participants_result(result, ar_recipe_get_participants(c->recipe), list))
    return; /* not an answer (the frame is not there yet): the list stays */
  if (same_participants(list, c->participants))
    return;
  g_debug("web: %u participants in the page", list->len);
  g_ptr_array_unref(c->participants);
  c->participants = g_steal_pointer(&list);
  c->cb.participants_changed(&c->parent, c->user_data);
}

/* With the state probes, while connected, at most every
 * AR_WEB_PARTICIPANTS_INTERVAL_MS; one read at a time. */
static void
read_participants(WebCall *c)
{
  gint64 now = g_get_monotonic_time();
  if (c->phase != PHASE_CONNECTED || c->participants_busy || !c->browser ||
      !ar_recipe_get_participants(c->recipe) ||
      (c->participants_us && now - c->participants_us < AR_WEB_PARTICIPANTS_INTERVAL_MS * 1000))
    return;
  g_autofree char *expr = ar_web_page_participants_expression(c->recipe);
  c->participants_us = now;
  c->participants_busy = TRUE;
  ar_browser_evaluate(c->browser, expr, 2000, on_participants, c);
}

static void
probe_round(WebCall *c)
{
  if (c->busy || !c->browser)
    return;
  read_participants(c);
  g_autofree char *expr = ar_web_page_probe_expression(c->recipe);
  c->busy = TRUE;
  ar_browser_evaluate(c->browser, expr, 2000, on_probe, c);
}

/* ---- pre-join steps ---- */

static void
next_step(WebCall *c)
{
  c->step++;
  c->step_deadline_us = 0;
  run_step(c);
}

static void
on_step(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  c->busy = FALSE;
  if (c->phase != PHASE_STEPS)
    return;
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(c->recipe, &n);
  const ArRecipeStep *s = &steps[c->step];
  ArWebStepResult r = AR_WEB_STEP_NOT_FOUND;
  if (s->action == AR_RECIPE_ACTION_SCRIPT)
    r = error ? AR_WEB_STEP_NOT_FOUND : AR_WEB_STEP_DONE;
  else if (!error)
    r = ar_web_page_step_result(result);
  else
    g_debug("web: step %u: %s", c->step + 1, error->message);
  if (r == AR_WEB_STEP_DONE || r == AR_WEB_STEP_UNKNOWN) {
    g_debug("web: step %u (%s) done", c->step + 1, ar_recipe_action_to_string(s->action));
    next_step(c);
    return;
  }
  if (g_get_monotonic_time() < c->step_deadline_us) {
    schedule(c, 250);
    return;
  }
  if (s->optional) {
    next_step(c);
    return;
  }
  /* The page is not what the recipe expects: it may be in a state of its
   * own (denied, a captcha, already in the call); else a person finishes. */
  g_message("web: step %u (%s) found nothing in %u ms; probing the page", c->step + 1,
            ar_recipe_action_to_string(s->action), s->timeout_ms);
  c->phase = PHASE_WAITING;
  c->unknown_since_us =
      g_get_monotonic_time() - (gint64)AR_WEB_UNKNOWN_PAGE_MS * 1000 * ar_browser_pace(c->browser);
  probe_round(c);
}

static void
run_step(WebCall *c)
{
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(c->recipe, &n);
  if (c->phase != PHASE_STEPS || c->busy)
    return;
  if (c->step >= n) {
    c->phase = PHASE_WAITING;
    c->unknown_since_us = 0;
    probe_round(c);
    return;
  }
  const ArRecipeStep *s = &steps[c->step];
  if (!c->step_deadline_us)
    c->step_deadline_us = g_get_monotonic_time() +
                          (gint64)(s->timeout_ms ? s->timeout_ms : AR_RECIPE_DEFAULT_TIMEOUT_MS) *
                              1000 * ar_browser_pace(c->browser);
  g_autofree char *expr = NULL;
  if (s->action == AR_RECIPE_ACTION_SCRIPT) {
    expr = g_strdup(s->script);
  } else {
    g_autofree char *value = NULL;
    if (s->action == AR_RECIPE_ACTION_FILL) {
      g_autoptr(GError) error = NULL;
      value = ar_recipe_expand_value(c->recipe, s, c->room_name, c->engine->room_email, &error);
      if (!value) {
        fail_error(c, "cannot join: ", error);
        return;
      }
    }
    expr = ar_web_page_step_expression(s, value);
  }
  c->busy = TRUE;
  ar_browser_evaluate(c->browser, expr, 5000, on_step, c);
}

/* ---- statistics ---- */

static void
on_stats(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_CONNECTED || error)
    return;
  g_autoptr(GPtrArray) tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  ar_web_page_stats_to_tracks(result, tracks);
  gint64 now = g_get_monotonic_time();
  double dt = c->last_stats_us ? (now - c->last_stats_us) / 1e6 : 0;
  for (guint i = 0; i < tracks->len; i++) {
    ArTrackInfo *t = tracks->pdata[i];
    g_autofree char *key =
        g_strdup_printf("%s/%s/%s/%u", t->source, t->stats.kind, t->stats.direction, i);
    gpointer old = g_hash_table_lookup(c->last_bytes, key);
    if (old && dt > 0 && t->stats.bytes >= GPOINTER_TO_SIZE(old) - 1)
      t->stats.bitrate_bps = (t->stats.bytes - (GPOINTER_TO_SIZE(old) - 1)) * 8.0 / dt;
    g_hash_table_replace(c->last_bytes, g_steal_pointer(&key),
                         GSIZE_TO_POINTER((gsize)t->stats.bytes + 1));
  }
  c->last_stats_us = now;
  guint restarted, lost;
  if (ar_web_page_stats_capture(result, &restarted, &lost)) {
    if (restarted > c->capture_restarted)
      g_message("web: the page's camera track was renewed after Chromium's capture lost it "
                "(%u in this call)",
                restarted);
    if (lost > c->capture_lost)
      g_warning("web: the page's camera track ended and could not be renewed: the meeting gets "
                "no picture from the room until the page opens the camera again");
    c->capture_restarted = restarted;
    c->capture_lost = lost;
  }
  g_ptr_array_unref(c->tracks);
  c->tracks = g_steal_pointer(&tracks);
}

static gboolean
stats_cb(gpointer data)
{
  WebCall *c = data;
  if (c->phase == PHASE_CONNECTED && c->browser)
    ar_browser_evaluate(c->browser, ar_web_page_stats_expression(), 2000, on_stats, c);
  return G_SOURCE_CONTINUE;
}

static void
start_stats(WebCall *c)
{
  if (!c->stats_id)
    c->stats_id = g_timeout_add(AR_WEB_STATS_INTERVAL_MS, stats_cb, c);
  stats_cb(c);
}

/* ---- starting ---- */

static void start_steps(WebCall *c);
static void wait_for_camera(WebCall *c);

static gboolean
camera_retry_cb(gpointer data)
{
  WebCall *c = data;
  c->timer_id = 0;
  wait_for_camera(c);
  return G_SOURCE_REMOVE;
}

static void
on_camera_listed(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_STARTING)
    return;
  gboolean listed = result && JSON_NODE_HOLDS_VALUE(result) &&
                    json_node_get_value_type(result) == G_TYPE_BOOLEAN &&
                    json_node_get_boolean(result);
  if (listed || g_get_monotonic_time() >= c->camera_wait_until_us) {
    c->camera_seen_us = g_get_monotonic_time();
    if (listed)
      g_message("web: the room's camera is listed in the page after %" G_GINT64_FORMAT " ms",
                (c->camera_seen_us - c->camera_wait_until_us) / 1000 + AR_WEB_CAMERA_WAIT_MS);
    else
      g_message("web: the room's camera is not listed in the page after %d ms; joining anyway",
                AR_WEB_CAMERA_WAIT_MS);
    start_steps(c);
    return;
  }
  g_clear_handle_id(&c->timer_id, g_source_remove);
  c->timer_id = g_timeout_add(100, camera_retry_cb, c);
}

static void
wait_for_camera(WebCall *c)
{
  ar_browser_evaluate(c->browser,
                      "(async () => { const m = navigator.mediaDevices;"
                      " if (!m || !m.enumerateDevices) return false;"
                      " const d = await m.enumerateDevices();"
                      " return d.some((x) => x.kind === 'videoinput'); })()",
                      2000, on_camera_listed, c);
}

static void
on_navigated(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_STARTING)
    return;
  if (error) {
    fail_error(c, "the meeting page did not load: ", error);
    return;
  }
  g_message("web: the meeting page loaded (%s)", ar_recipe_get_id(c->recipe));
  if (c->bridge && !c->camera_seen_us) {
    /* The room's camera appears to the browser a moment after it starts:
     * the recipe's join must not ask for it before (a page that finds no
     * camera joins without one). */
    c->camera_wait_until_us = g_get_monotonic_time() + (gint64)AR_WEB_CAMERA_WAIT_MS * 1000;
    wait_for_camera(c);
    return;
  }
  start_steps(c);
}

static void
start_steps(WebCall *c)
{
  if (ar_recipe_needs_attention_at_once(c->recipe)) {
    c->phase = PHASE_WAITING;
    needs_attention(c, "this meeting app has no join recipe");
    probe_round(c);
    return;
  }
  c->phase = PHASE_STEPS;
  c->step = 0;
  c->step_deadline_us = 0;
  run_step(c);
}

static void
on_init_script(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_STARTING)
    return;
  if (error)
    g_message("web: no call statistics for this page: %s", error->message);
  ar_browser_navigate(c->browser, c->join_url, 30000, on_navigated, c);
}

static void
on_browser_ready(ArBrowser *b, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (error || c->phase != PHASE_STARTING)
    return; /* closed follows with the reason */
  g_message("web: the meeting browser answered %.0f ms after launch",
            ar_browser_get_first_answer_us(b) / 1000.0);
  ar_browser_add_init_script(b, ar_web_page_init_script(), on_init_script, c);
}

static gboolean
allow_camera(const char *app_id, const char *icon, gpointer data)
{
  ArWebEngine *engine = data;
  return engine->call_active;
}

/* The room's camera, microphone and speaker for the browser, once the call's media environment
 * is up. */
static gboolean
start_bridge(WebCall *c, GError **error)
{
  ArWebEngine *e = c->engine;
  c->capture = ar_media_engine_capture_acquire(e->media, error);
  if (!c->capture)
    return FALSE;
  GstElement *video = ar_capture_make_video_source(c->capture, error);
  if (!video)
    return FALSE;
  GstElement *audio = ar_capture_make_audio_source(c->capture, error);
  if (!audio) {
    gst_object_unref(gst_object_ref_sink(video));
    return FALSE;
  }
  GstElement *speaker = ar_capture_make_speaker_input(c->capture, error);
  if (!speaker) {
    gst_object_unref(gst_object_ref_sink(video));
    gst_object_unref(gst_object_ref_sink(audio));
    return FALSE;
  }
  const ArMediaConfig *mc = ar_media_engine_get_config(e->media);
  ArBridgeConfig bc = {
      .pipewire_socket = ar_web_media_get_pipewire_socket(c->webmedia),
      .width = (int)mc->width,
      .height = (int)mc->height,
      .fps = (int)mc->framerate,
      .pulse_server = ar_web_media_get_pulse_server(c->webmedia),
      .mic_sink = AR_WEB_MEDIA_MIC_FEED_SINK,
      .speaker_source = AR_WEB_MEDIA_SPEAKER_MONITOR,
  };
  int cw, ch, cfps;
  ar_bridge_camera_format(bc.width, bc.height, bc.fps, &cw, &ch, &cfps);
  g_message("web: the room's camera goes to the page as %dx%d at %d fps (capture %ux%u at %u)", cw,
            ch, cfps, mc->width, mc->height, mc->framerate);
  c->bridge = ar_bridge_new(&bc, video, audio, speaker, error);
  if (!c->bridge)
    return FALSE;
  return ar_bridge_start(c->bridge, error);
}

/* The origins the page may use: the recipe's, with "{link}" as the link's. */
static char **
allowed_origins(WebCall *c)
{
  g_autoptr(GStrvBuilder) out = g_strv_builder_new();
  const char *const *origins = ar_recipe_get_origins(c->recipe);
  g_autoptr(GUri) uri = g_uri_parse(c->link->join_url, G_URI_FLAGS_NONE, NULL);
  for (guint i = 0; origins && origins[i]; i++) {
    if (g_str_equal(origins[i], "{link}")) {
      if (!uri || !g_uri_get_host(uri))
        continue;
      int port = g_uri_get_port(uri);
      g_autofree char *o =
          port > 0 ? g_strdup_printf("%s://%s:%d", g_uri_get_scheme(uri), g_uri_get_host(uri), port)
                   : g_strdup_printf("%s://%s", g_uri_get_scheme(uri), g_uri_get_host(uri));
      g_strv_builder_add(out, o);
    } else {
      g_strv_builder_add(out, origins[i]);
    }
  }
  return g_strv_builder_end(out);
}

/* The engine's blocked origins, and anyroomd's HTTPS server on every address
 * the room has right now (addresses change: DHCP, a second network). */
static char **
blocked_origins(ArWebEngine *e)
{
  g_autoptr(GStrvBuilder) out = g_strv_builder_new();
  if (e->blocked)
    g_strv_builder_addv(out, (const char **)e->blocked);
  struct ifaddrs *list = NULL;
  if (e->admin_port && getifaddrs(&list) == 0) {
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
      char host[INET6_ADDRSTRLEN] = "";
      if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
        continue;
      if (i->ifa_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, host, sizeof host);
      else if (i->ifa_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, host, sizeof host);
      else
        continue;
      g_autofree char *o = strchr(host, ':')
                               ? g_strdup_printf("https://[%s]:%u", host, e->admin_port)
                               : g_strdup_printf("https://%s:%u", host, e->admin_port);
      g_strv_builder_add(out, o);
    }
    freeifaddrs(list);
  }
  return g_strv_builder_end(out);
}

static void
start_browser(WebCall *c)
{
  ArWebEngine *e = c->engine;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) allowed = allowed_origins(c);
  g_auto(GStrv) blocked = blocked_origins(e);
  g_autoptr(GStrvBuilder) flags = g_strv_builder_new();
  if (e->extra_flags)
    g_strv_builder_addv(flags, (const char **)e->extra_flags);
  if (e->bridge)
    g_strv_builder_add(flags, "--enable-features=" AR_WEB_MEDIA_BROWSER_FEATURE);
  g_auto(GStrv) flagv = g_strv_builder_end(flags);
  /* The room display (cage's socket on the device) may not be there: a board
   * without a screen, or the room display restarting. The call goes on
   * without a window then, with the room's devices as always. */
  gboolean headless = e->headless;
  const char *wayland = NULL;
  if (!headless && e->wayland_display != NULL) {
    GStatBuf st;
    if (g_stat(e->wayland_display, &st) == 0 && S_ISSOCK(st.st_mode)) {
      wayland = e->wayland_display;
    } else {
      g_message("web: no room display at %s: the meeting browser runs without a window",
                e->wayland_display);
      headless = TRUE;
    }
  }
  ArBrowserOptions bo = {
      .chromium = e->chromium,
      .headless = headless,
      .wayland_display = wayland,
      .allowed = (const char *const *)allowed,
      .blocked = (const char *const *)blocked,
      .extra_flags = (const char *const *)flagv,
      .env = c->webmedia ? ar_web_media_get_browser_environ(c->webmedia) : NULL,
      .answer_timeout_ms = e->answer_timeout_ms,
      .start_timeout_ms = e->start_timeout_ms,
      .chromium_log = g_strcmp0(g_getenv("AR_WEB_DEBUG_LOGS"), "1") == 0,
  };
  c->browser = ar_browser_start(&bo, on_browser_ready, on_browser_closed, c, &error);
  if (!c->browser) {
    fail_error(c, "the meeting browser did not start: ", error);
    return;
  }
}

static const char bridge_failed[] =
    "the room's camera and microphone could not be given to the meeting: ";

static void
on_media_ready(ArWebMedia *media, const GError *error, gpointer data)
{
  WebCall *c = data;
  g_autoptr(GError) bridge_error = NULL;
  if (c->phase != PHASE_STARTING)
    return;
  if (error) {
    fail_error(c, bridge_failed, error);
    return;
  }
  g_debug("web: the call's media environment is up");
  if (!start_bridge(c, &bridge_error)) {
    fail_error(c, bridge_failed, bridge_error);
    return;
  }
  start_browser(c);
}

/* With the bridge, the media environment starts first (polled on the main context: seconds on
 * a slow board, during which anyroomd answers as always), then the bridge and the browser. */
static void
web_call_join(ArProvider *p)
{
  WebCall *c = (WebCall *)p;
  ArWebEngine *e = c->engine;
  g_autoptr(GError) error = NULL;
  if (!e->bridge) {
    start_browser(c);
    return;
  }
  ArWebMediaOptions mo = {.allow = allow_camera,
                          .allow_data = e,
                          .parent_dir = e->runtime_dir,
                          .keep_logs = g_strcmp0(g_getenv("AR_WEB_DEBUG_LOGS"), "1") == 0};
  e->call_active = TRUE;
  c->webmedia = ar_web_media_start_async(&mo, on_media_ready, c, &error);
  if (!c->webmedia)
    fail_error(c, bridge_failed, error);
}

/* ---- leaving ---- */

static void run_leave_step(WebCall *c);

static void
on_leave_step(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  WebCall *c = data;
  if (c->phase != PHASE_ENDING)
    return;
  c->step++;
  run_leave_step(c);
}

static void
run_leave_step(WebCall *c)
{
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_leave(c->recipe, &n);
  if (c->step >= n || !c->browser) {
    if (n == 0 || !c->browser) {
      close_browser(c);
      return;
    }
    /* The page's own leave goes out asynchronously (a fetch, a WebSocket
     * message after the click): the room's devices go now, the browser a
     * moment later, so that others see the room leave. */
    if (c->bridge)
      ar_bridge_stop(c->bridge);
    if (c->webmedia)
      ar_web_media_release_devices(c->webmedia);
    g_clear_handle_id(&c->end_timer_id, g_source_remove);
    c->end_timer_id = g_timeout_add(AR_WEB_LEAVE_GRACE_MS, end_timeout_cb, c);
    return;
  }
  const ArRecipeStep *s = &steps[c->step];
  g_autofree char *expr = s->action == AR_RECIPE_ACTION_SCRIPT
                              ? g_strdup(s->script)
                              : ar_web_page_step_expression(s, NULL);
  ar_browser_evaluate(c->browser, expr, 1000, on_leave_step, c);
}

static void
web_call_leave(ArProvider *p)
{
  WebCall *c = (WebCall *)p;
  if (c->phase == PHASE_ENDING || c->phase == PHASE_DONE)
    return;
  c->leaving = TRUE;
  g_clear_error(&c->end_error);
  gboolean in_page = c->phase == PHASE_CONNECTED || c->phase == PHASE_WAITING;
  c->phase = PHASE_ENDING;
  stop_timers(c);
  /* The page's own leave (others see the room go), bounded; then the
   * browser is closed whatever it does. */
  c->end_timer_id =
      g_timeout_add(AR_WEB_LEAVE_STEPS_MS * ar_browser_pace(c->browser), end_timeout_cb, c);
  c->step = 0;
  if (in_page)
    run_leave_step(c);
  else
    close_browser(c);
}

/* ---- controls ---- */

static void
on_control(ArBrowser *b, JsonNode *result, const GError *error, gpointer data)
{
  if (error)
    g_debug("web: the page's own control: %s", error->message);
}

static void
press_control(WebCall *c, ArRecipeControl control)
{
  const ArRecipeControlSpec *spec = ar_recipe_get_control(c->recipe, control);
  if (!spec || !spec->applicable || !spec->step || !c->browser ||
      (c->phase != PHASE_CONNECTED && c->phase != PHASE_WAITING))
    return;
  g_autofree char *expr = spec->step->action == AR_RECIPE_ACTION_SCRIPT
                              ? g_strdup(spec->step->script)
                              : ar_web_page_step_expression(spec->step, NULL);
  ar_browser_evaluate(c->browser, expr, 2000, on_control, c);
}

static void
web_call_set_controls(ArProvider *p, gboolean microphone_muted, gboolean camera_enabled)
{
  WebCall *c = (WebCall *)p;
  /* The bridge enforces both below the page (the capture graph's gates);
   * the page's own buttons let the others see it. */
  if (c->bridge) {
    ar_bridge_set_mute(c->bridge, microphone_muted);
    ar_bridge_set_camera_off(c->bridge, !camera_enabled);
  }
  if (microphone_muted != c->mic_muted)
    press_control(c, microphone_muted ? AR_RECIPE_CONTROL_MUTE : AR_RECIPE_CONTROL_UNMUTE);
  if (camera_enabled != c->camera_enabled)
    press_control(c, camera_enabled ? AR_RECIPE_CONTROL_CAMERA_ON : AR_RECIPE_CONTROL_CAMERA_OFF);
  c->mic_muted = microphone_muted;
  c->camera_enabled = camera_enabled;
}

/* ---- the provider ---- */

static ArProvider *
web_call_create(const ArLink *link, gpointer class_data, const char *display_name,
                const ArProviderCallbacks *cb, gpointer user_data, GError **error)
{
  ArWebEngine *e = class_data;
  ArRecipe *recipe = ar_recipe_set_lookup(e->recipes, link, FALSE);
  if (!recipe) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no join recipe for %s meetings",
                link->provider ? link->provider : "these");
    return NULL;
  }
  g_autofree char *display = ar_recipe_display_name(recipe, display_name);
  char *url = ar_recipe_build_join_url(recipe, link, display, error);
  if (!url)
    return NULL;
  WebCall *c = g_new0(WebCall, 1);
  /* A board declared slower (browser-answer-timeout) gets every page deadline
   * stretched (ar_browser_pace): the whole join's minimum too, or the call
   * would fail before the stretched steps could (qemu: the browser's first
   * answer 150 s after launch, the page loaded 70 s later). */
  c->klass = web_call_class;
  c->klass.min_join_timeout_s = ar_web_min_join_timeout_s(e->answer_timeout_ms);
  c->parent.klass = &c->klass;
  c->engine = e;
  g_atomic_int_inc(&e->refs);
  c->recipe = ar_recipe_ref(recipe);
  c->link = ar_link_copy(link);
  c->room_name = g_strdup(display_name);
  c->display = g_steal_pointer(&display);
  c->join_url = url;
  c->cb = *cb;
  c->user_data = user_data;
  c->tracks = g_ptr_array_new_with_free_func((GDestroyNotify)ar_track_info_free);
  c->participants = g_ptr_array_new_with_free_func((GDestroyNotify)ar_participant_free);
  c->last_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c->mic_muted = ar_media_engine_get_microphone_muted(e->media);
  c->camera_enabled = ar_media_engine_get_camera_enabled(e->media);
  g_message("web: joining with the %s recipe", ar_recipe_get_id(recipe));
  return &c->parent;
}

static void
web_call_collect_tracks(ArProvider *p, GPtrArray *out)
{
  WebCall *c = (WebCall *)p;
  for (guint i = 0; i < c->tracks->len; i++) {
    const ArTrackInfo *t = c->tracks->pdata[i];
    ArTrackInfo *copy = g_new0(ArTrackInfo, 1);
    copy->source = g_strdup(t->source);
    copy->path = g_strdup(t->path);
    copy->stats = t->stats;
    g_ptr_array_add(out, copy);
  }
}

static void
web_call_collect_participants(ArProvider *p, GPtrArray *out)
{
  WebCall *c = (WebCall *)p;
  for (guint i = 0; i < c->participants->len; i++) {
    const ArParticipant *x = c->participants->pdata[i];
    ArParticipant *copy = g_new0(ArParticipant, 1);
    copy->id = g_strdup(x->id);
    copy->display = g_strdup(x->display);
    g_ptr_array_add(out, copy);
  }
}

static void
web_call_free(ArProvider *p)
{
  WebCall *c = (WebCall *)p;
  if (!c)
    return;
  stop_timers(c);
  /* Kills a live browser (no callback) and removes its profile. */
  g_clear_pointer(&c->browser, ar_browser_free);
  release_media(c);
  g_clear_error(&c->end_error);
  ar_recipe_unref(c->recipe);
  ar_link_free(c->link);
  g_free(c->room_name);
  g_free(c->display);
  g_free(c->join_url);
  g_free(c->attention);
  g_ptr_array_unref(c->tracks);
  g_ptr_array_unref(c->participants);
  g_hash_table_unref(c->last_bytes);
  ar_web_engine_unref(c->engine);
  g_free(c);
}

static const ArProviderClass web_call_class = {
    .create = web_call_create,
    .join = web_call_join,
    .leave = web_call_leave,
    .collect_tracks = web_call_collect_tracks,
    .collect_participants = web_call_collect_participants,
    .set_controls = web_call_set_controls,
    .free = web_call_free,
    .min_join_timeout_s = AR_WEB_MIN_JOIN_TIMEOUT_S,
};

guint
ar_web_min_join_timeout_s(guint answer_timeout_ms)
{
  return AR_WEB_MIN_JOIN_TIMEOUT_S * ar_browser_pace_for(answer_timeout_ms);
}

/* ---- the engine ---- */

ArWebEngine *
ar_web_engine_new(const ArConfig *config, ArMediaEngine *media, const ArWebEngineOptions *o,
                  GError **error)
{
  ArWebEngine *e = g_new0(ArWebEngine, 1);
  e->refs = 1;
  e->config = config;
  e->media = media;
  g_autoptr(GPtrArray) problems = NULL;
  e->recipes = ar_recipe_set_load(o->recipes_dir, o->admin_recipes_dir, &problems);
  for (guint i = 0; problems && i < problems->len; i++)
    g_warning("web: a join recipe was refused: %s", ((GError *)problems->pdata[i])->message);
  e->recipes_dir = g_strdup(o->recipes_dir);
  e->admin_recipes_dir = g_strdup(o->admin_recipes_dir);
  e->chromium = g_strdup(o->chromium);
  e->headless = o->headless;
  e->wayland_display = g_strdup(o->wayland_display);
  e->extra_flags = g_strdupv((char **)o->extra_flags);
  e->blocked = g_strdupv((char **)o->blocked);
  e->state_dir = g_strdup(o->state_dir);
  e->room_email = g_strdup(o->room_email);
  e->bridge = o->bridge;
  e->answer_timeout_ms = o->answer_timeout_ms;
  e->start_timeout_ms = o->start_timeout_ms;
  e->admin_port = o->admin_port;
  e->runtime_dir = g_strdup(o->runtime_dir);
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  g_autofree char *list = g_strjoinv(", ", ids);
  g_message("web: join recipes: %s", list);
  return e;
}

void
ar_web_engine_unref(ArWebEngine *e)
{
  if (!e || !g_atomic_int_dec_and_test(&e->refs))
    return;
  ar_recipe_set_free(e->recipes);
  g_free(e->recipes_dir);
  g_free(e->admin_recipes_dir);
  g_free(e->chromium);
  g_free(e->wayland_display);
  g_strfreev(e->extra_flags);
  g_strfreev(e->blocked);
  g_free(e->state_dir);
  g_free(e->room_email);
  g_free(e->runtime_dir);
  g_free(e);
}

char **
ar_web_engine_dup_recipe_ids(ArWebEngine *e)
{
  return ar_recipe_set_dup_ids(e->recipes);
}

static ArLink *
engine_parse_link(gpointer data, const char *text, const GError *why)
{
  ArWebEngine *e = data;
  /* Only links the link module does not know: an administrator's own app. */
  return ar_recipe_set_parse_app_link(e->recipes, text, NULL);
}

static const ArEngineClass engine_class = {
    .parse_link = engine_parse_link,
};

static void
add_provider(ArWebEngine *e, ArProviderRegistry *registry, const char *id)
{
  if (ar_provider_registry_lookup(registry, AR_ENGINE_WEB, id))
    return;
  g_atomic_int_inc(&e->refs);
  ar_provider_registry_add(registry, AR_ENGINE_WEB, id, &web_call_class, e,
                           (GDestroyNotify)ar_web_engine_unref);
}

static void
add_recipe_providers(ArWebEngine *e, ArProviderRegistry *registry)
{
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  for (guint i = 0; ids[i]; i++) {
    ArRecipe *r = ar_recipe_set_lookup_id(e->recipes, ids[i]);
    const char *const *providers = ar_recipe_get_providers(r);
    for (guint j = 0; providers && providers[j]; j++)
      add_provider(e, registry, providers[j]);
    /* An administrator's app: its links are parsed by the engine with the
     * recipe's id as provider. */
    const char *const *hosts = ar_recipe_get_hosts(r);
    if (hosts && hosts[0])
      add_provider(e, registry, ids[i]);
  }
}

void
ar_web_engine_register(ArWebEngine *e, ArProviderRegistry *registry)
{
  if (e->registered)
    return;
  e->registered = TRUE;
  g_atomic_int_inc(&e->refs);
  ar_provider_registry_add_engine(registry, AR_ENGINE_WEB, &engine_class, e,
                                  (GDestroyNotify)ar_web_engine_unref);
  add_recipe_providers(e, registry);
}

guint
ar_web_engine_reload_recipes(ArWebEngine *e, ArProviderRegistry *registry)
{
  g_autoptr(GPtrArray) problems = NULL;
  ArRecipeSet *set = ar_recipe_set_load(e->recipes_dir, e->admin_recipes_dir, &problems);
  for (guint i = 0; i < problems->len; i++)
    g_warning("web: a join recipe was refused: %s", ((GError *)problems->pdata[i])->message);
  /* A call holds a reference to its own recipe: it keeps it. */
  ar_recipe_set_free(e->recipes);
  e->recipes = set;
  if (registry && e->registered)
    add_recipe_providers(e, registry);
  g_auto(GStrv) ids = ar_recipe_set_dup_ids(e->recipes);
  g_autofree char *list = g_strjoinv(", ", ids);
  g_message("web: join recipes reloaded: %s", list);
  return problems->len;
}
