/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A web call after its start: the page's state, the recipe's steps, statistics, participants,
 * controls, leaving and ending (docs/web-engine.md). */
#include <glib/gstdio.h>
#include <string.h>

#include "ar-web-call-priv.h"
#include "ar-web-page.h"

/* ---- ending ---- */

void
ar_web_call_stop_timers(WebCall *c)
{
  g_clear_handle_id(&c->timer_id, g_source_remove);
  g_clear_handle_id(&c->stats_id, g_source_remove);
  g_clear_handle_id(&c->end_timer_id, g_source_remove);
}

/* Frees what the call holds of the room (bridge, capture, media environment);
 * the browser is gone already. */
void
ar_web_call_release_media(WebCall *c)
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
  ar_web_call_stop_timers(c);
  ar_web_call_release_media(c);
  if (c->end_error) {
    g_autoptr(GError) e = g_steal_pointer(&c->end_error);
    c->cb.failed(&c->parent, e, c->user_data);
  } else {
    c->cb.left(&c->parent, c->user_data);
  }
}

void
ar_web_call_on_browser_closed(ArBrowser *b, const GError *error, gpointer data)
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
  ar_web_call_stop_timers(c);
  /* The page's tracks end first (the browser may be slow to close): no
   * frame and no sound of the room reaches it after this. The session bus
   * stays until the browser is gone (Chromium aborts without it). */
  if (c->bridge)
    ar_bridge_stop(c->bridge);
  if (c->webmedia)
    ar_web_media_release_devices(c->webmedia);
  if (c->browser && c->phase != PHASE_DONE)
    ar_browser_close(c->browser); /* ar_web_call_on_browser_closed follows */
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
  ar_web_call_stop_timers(c);
  if (!c->browser) {
    finish(c);
    return;
  }
  c->end_timer_id =
      g_timeout_add(AR_WEB_LEAVE_STEPS_MS * ar_browser_pace(c->browser), end_timeout_cb, c);
  ar_browser_screenshot(c->browser, TRUE, on_failure_screenshot, c);
}

void
ar_web_call_fail_error(WebCall *c, const char *prefix, const GError *error)
{
  g_autofree char *m = g_strdup_printf("%s%s", prefix, error->message);
  fail(c, error->domain, error->code, m);
}

/* ---- the page's state ---- */

static gboolean
tick_cb(gpointer data)
{
  WebCall *c = data;
  c->timer_id = 0;
  if (c->phase == PHASE_STEPS)
    ar_web_call_run_step(c);
  else if (c->phase == PHASE_WAITING || c->phase == PHASE_CONNECTED)
    ar_web_call_probe_round(c);
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

void
ar_web_call_needs_attention(WebCall *c, const char *why)
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
        ar_web_call_needs_attention(
            c, matched ? "the meeting page is still asking for something before "
                         "joining"
                       : "the meeting page is not one the room knows");
    }
    schedule(c, AR_WEB_PROBE_INTERVAL_MS);
    return;
  }
  c->unknown_since_us = 0;
  switch (state) {
  case AR_RECIPE_STATE_CAPTCHA:
    ar_web_call_needs_attention(
        c, probe_message(c, state, "the meeting asks to prove a person is joining"));
    break;
  case AR_RECIPE_STATE_SIGN_IN_REQUIRED:
    ar_web_call_needs_attention(c, probe_message(c, state, "This meeting requires sign-in"));
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

void
ar_web_call_probe_round(WebCall *c)
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
  ar_web_call_run_step(c);
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
  ar_web_call_probe_round(c);
}

void
ar_web_call_run_step(WebCall *c)
{
  guint n = 0;
  const ArRecipeStep *steps = ar_recipe_get_steps(c->recipe, &n);
  if (c->phase != PHASE_STEPS || c->busy)
    return;
  if (c->step >= n) {
    c->phase = PHASE_WAITING;
    c->unknown_since_us = 0;
    ar_web_call_probe_round(c);
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
        ar_web_call_fail_error(c, "cannot join: ", error);
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

void
ar_web_call_leave(ArProvider *p)
{
  WebCall *c = (WebCall *)p;
  if (c->phase == PHASE_ENDING || c->phase == PHASE_DONE)
    return;
  c->leaving = TRUE;
  g_clear_error(&c->end_error);
  gboolean in_page = c->phase == PHASE_CONNECTED || c->phase == PHASE_WAITING;
  c->phase = PHASE_ENDING;
  ar_web_call_stop_timers(c);
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

void
ar_web_call_set_controls(ArProvider *p, gboolean microphone_muted, gboolean camera_enabled)
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
