/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a web call: the media environment, the bridge to the room's devices, the meeting
 * browser and the page (docs/web-engine.md). */
#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "ar-web-call-priv.h"
#include "ar-web-page.h"

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
    ar_web_call_fail_error(c, "the meeting page did not load: ", error);
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
    ar_web_call_needs_attention(c, "this meeting app has no join recipe");
    ar_web_call_probe_round(c);
    return;
  }
  c->phase = PHASE_STEPS;
  c->step = 0;
  c->step_deadline_us = 0;
  ar_web_call_run_step(c);
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
  c->browser = ar_browser_start(&bo, on_browser_ready, ar_web_call_on_browser_closed, c, &error);
  if (!c->browser) {
    ar_web_call_fail_error(c, "the meeting browser did not start: ", error);
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
    ar_web_call_fail_error(c, bridge_failed, error);
    return;
  }
  g_debug("web: the call's media environment is up");
  if (!start_bridge(c, &bridge_error)) {
    ar_web_call_fail_error(c, bridge_failed, bridge_error);
    return;
  }
  start_browser(c);
}

/* With the bridge, the media environment starts first (polled on the main context: seconds on
 * a slow board, during which anyroomd answers as always), then the bridge and the browser. */
void
ar_web_call_join(ArProvider *p)
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
    ar_web_call_fail_error(c, bridge_failed, error);
}
