/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-webdev: a test program (not product code) that runs the product's web call media
 * environment (ArWebMedia: private bus, PipeWire + WirePlumber, portal + permission store, the
 * room's Access backend, private PulseAudio) and an ArBridge fed by test sources, driven by
 * one-line commands on stdin (tests/lab/webdev.mjs, tests/integration/test-web-bridge.mjs):
 *   call on|off        the Access backend's "a web call is active" answer
 *   revoke             delete the stored camera grant
 *   start | stop       the bridge
 *   color 0xRRGGBB     the camera's solid colour
 *   tone on|off        the microphone feed: a 440 Hz tone or silence
 *   camera-off on|off, mute on|off   the bridge's own gates
 *   volume V           the speaker sink's volume (the caller's sink applies it)
 *   speaker            prints "speaker rms=<dBFS> peak=<dBFS>" over the last 300 ms
 *   state              prints the bridge's camera pipeline's state ("state none" once a stop
 *                      left it behind)
 *   stall | unstall    a fixture fault: the camera source's streaming thread blocks in a pad
 *                      probe (an element that does not return) until "unstall"; "stall" answers
 *                      once the thread is held (an error if not within 5 s)
 *   stopping           prints "stopping left=N now=M": paths this bridge's stops left behind,
 *                      and paths of the process still stopping
 *   portal             prints "portal requests=N granted=M"
 *   release            ar_web_media_release_devices(): camera grant revoked, PulseAudio gone
 *   leave              stop the bridge and the whole environment
 *   quit
 * Replies: "ok <command>" or "error <message>". At start it prints "env KEY=VALUE" lines for
 * the browser, then "ready <dir>".
 */
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <math.h>
#include <stdio.h>

#include "ar-bridge.h"
#include "ar-web-media.h"

typedef struct {
  GMainLoop *loop;
  ArWebMedia *media;
  ArBridge *bridge;
  GstElement *video;
  GstElement *audio;
  GstElement *speaker_volume;
  gboolean call_active;
  GMutex lock;
  double sum_sq; /* speaker energy since the last "speaker" command */
  double peak;
  guint64 samples;
  GCond stall_cond; /* "stall": the camera source's thread waits on it (under lock) */
  gboolean stall;
  gboolean stalled; /* the thread is held */
  gulong stall_probe;
} Tool;

static GstPadProbeReturn
stall_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Tool *t = data;
  g_mutex_lock(&t->lock);
  while (t->stall) {
    t->stalled = TRUE;
    g_cond_wait(&t->stall_cond, &t->lock);
  }
  t->stalled = FALSE;
  g_mutex_unlock(&t->lock);
  return GST_PAD_PROBE_OK;
}

/* Holds the camera source's streaming thread in a probe; TRUE once it is held (within 5 s: a
 * loaded CI machine). */
static gboolean
stall_camera(Tool *t)
{
  if (t->stall_probe == 0) {
    g_autoptr(GstPad) pad = gst_element_get_static_pad(t->video, "src");
    t->stall_probe = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, stall_probe, t, NULL);
  }
  g_mutex_lock(&t->lock);
  t->stall = TRUE;
  g_mutex_unlock(&t->lock);
  for (int i = 0; i < 500; i++) {
    g_mutex_lock(&t->lock);
    gboolean held = t->stalled;
    g_mutex_unlock(&t->lock);
    if (held)
      return TRUE;
    g_usleep(10000);
  }
  return FALSE;
}

static gboolean
allow_cb(const char *app_id, const char *icon, gpointer data)
{
  Tool *t = data;
  printf("# access request app='%s' icon='%s' -> %s\n", app_id, icon,
         t->call_active ? "grant" : "deny");
  fflush(stdout);
  return t->call_active;
}

static void
bridge_error(const GError *error, gpointer data)
{
  printf("# bridge error: %s\n", error->message);
  fflush(stdout);
}

static GstPadProbeReturn
speaker_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Tool *t = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;

  if (buf != NULL && gst_buffer_map(buf, &map, GST_MAP_READ)) {
    const gint16 *s = (const gint16 *)map.data;
    gsize n = map.size / 2;
    g_mutex_lock(&t->lock);
    for (gsize i = 0; i < n; i++) {
      double v = s[i] / 32768.0;
      t->sum_sq += v * v;
      if (fabs(v) > t->peak)
        t->peak = fabs(v);
    }
    t->samples += n;
    g_mutex_unlock(&t->lock);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

/* The "room's speaker" of this test: volume (as the room applies it) -> S16 mono -> fakesink,
 * with a probe measuring what arrives. */
static GstElement *
make_speaker(Tool *t)
{
  g_autoptr(GError) error = NULL;
  GstElement *bin = gst_parse_bin_from_description(
      "volume name=room-volume ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=1 ! fakesink name=room-speaker sync=false",
      TRUE, &error);
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstPad) pad = NULL;

  if (bin == NULL)
    g_error("speaker bin: %s", error->message);
  t->speaker_volume = gst_bin_get_by_name(GST_BIN(bin), "room-volume");
  sink = gst_bin_get_by_name(GST_BIN(bin), "room-speaker");
  pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, speaker_probe, t, NULL);
  return bin;
}

static const char *reply(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static const char *
reply(GString *out, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_string_vprintf(out, fmt, ap);
  va_end(ap);
  return out->str;
}

static double
db(double v)
{
  return v > 1e-9 ? 20.0 * log10(v) : -180.0;
}

static void
command(Tool *t, const char *line, GString *out)
{
  g_auto(GStrv) w = g_strsplit(line, " ", 2);
  const char *cmd = w[0] ? w[0] : "";
  const char *arg = w[0] && w[1] ? w[1] : "";
  gboolean on = g_strcmp0(arg, "on") == 0;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0(cmd, "call") == 0) {
    t->call_active = on;
  } else if (g_strcmp0(cmd, "revoke") == 0) {
    if (t->media && !ar_access_portal_revoke(ar_web_media_get_access_portal(t->media), &error)) {
      reply(out, "error %s", error->message);
      return;
    }
  } else if (g_strcmp0(cmd, "start") == 0) {
    if (!ar_bridge_start(t->bridge, &error)) {
      reply(out, "error %s", error->message);
      return;
    }
  } else if (g_strcmp0(cmd, "stop") == 0) {
    ar_bridge_stop(t->bridge);
  } else if (g_strcmp0(cmd, "color") == 0) {
    guint64 rgb = g_ascii_strtoull(arg, NULL, 16);
    g_object_set(t->video, "foreground-color", (guint)(0xff000000u | (rgb & 0xffffff)), NULL);
  } else if (g_strcmp0(cmd, "tone") == 0) {
    gst_util_set_object_arg(G_OBJECT(t->audio), "wave", on ? "sine" : "silence");
  } else if (g_strcmp0(cmd, "camera-off") == 0) {
    ar_bridge_set_camera_off(t->bridge, on);
  } else if (g_strcmp0(cmd, "mute") == 0) {
    ar_bridge_set_mute(t->bridge, on);
  } else if (g_strcmp0(cmd, "volume") == 0) {
    g_object_set(t->speaker_volume, "volume", g_ascii_strtod(arg, NULL), NULL);
  } else if (g_strcmp0(cmd, "speaker") == 0) {
    g_mutex_lock(&t->lock);
    double rms = t->samples ? sqrt(t->sum_sq / t->samples) : 0;
    reply(out, "speaker rms=%.1f peak=%.1f samples=%" G_GUINT64_FORMAT, db(rms), db(t->peak),
          t->samples);
    t->sum_sq = t->peak = 0;
    t->samples = 0;
    g_mutex_unlock(&t->lock);
    return;
  } else if (g_strcmp0(cmd, "stall") == 0) {
    if (!stall_camera(t)) {
      reply(out, "error the camera's streaming thread did not reach the probe in 5 s");
      return;
    }
  } else if (g_strcmp0(cmd, "unstall") == 0) {
    g_mutex_lock(&t->lock);
    t->stall = FALSE;
    g_cond_broadcast(&t->stall_cond);
    g_mutex_unlock(&t->lock);
  } else if (g_strcmp0(cmd, "stopping") == 0) {
    reply(out, "stopping left=%u now=%u", ar_bridge_get_left_behind(t->bridge),
          ar_bridge_stopping_paths());
    return;
  } else if (g_strcmp0(cmd, "state") == 0) {
    GstState st = GST_STATE_NULL, pending = GST_STATE_NULL;
    GstElement *camera = ar_bridge_get_pipeline(t->bridge, AR_BRIDGE_CAMERA);
    if (camera == NULL) {
      reply(out, "state none");
      return;
    }
    gst_element_get_state(camera, &st, &pending, 0);
    reply(out, "state %s pending %s", gst_element_state_get_name(st),
          gst_element_state_get_name(pending));
    return;
  } else if (g_strcmp0(cmd, "portal") == 0) {
    ArAccessPortal *p = t->media ? ar_web_media_get_access_portal(t->media) : NULL;
    reply(out, "portal requests=%u granted=%u", p ? ar_access_portal_get_requests(p) : 0,
          p ? ar_access_portal_get_granted(p) : 0);
    return;
  } else if (g_strcmp0(cmd, "release") == 0) {
    if (t->media)
      ar_web_media_release_devices(t->media);
  } else if (g_strcmp0(cmd, "leave") == 0) {
    ar_bridge_stop(t->bridge);
    g_clear_pointer(&t->media, ar_web_media_free);
  } else if (g_strcmp0(cmd, "quit") == 0) {
    g_main_loop_quit(t->loop);
  } else {
    reply(out, "error unknown command '%s'", cmd);
    return;
  }
  reply(out, "ok %s", cmd);
}

static void
on_line(GObject *src, GAsyncResult *res, gpointer data)
{
  Tool *t = data;
  GDataInputStream *in = G_DATA_INPUT_STREAM(src);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish(in, res, NULL, &error);
  g_autoptr(GString) out = g_string_new(NULL);

  if (line == NULL) {
    g_main_loop_quit(t->loop); /* stdin closed: the driver is gone */
    return;
  }
  command(t, g_strstrip(line), out);
  printf("%s\n", out->str);
  fflush(stdout);
  g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, on_line, t);
}

static gboolean
on_signal(gpointer data)
{
  g_main_loop_quit(((Tool *)data)->loop);
  return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
  Tool t = {0};
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) raw = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  const char *parent = argc > 1 ? argv[1] : NULL;

  gst_init(&argc, &argv);
  g_mutex_init(&t.lock);
  g_cond_init(&t.stall_cond);
  t.loop = g_main_loop_new(NULL, FALSE);
  g_unix_signal_add(SIGTERM, on_signal, &t);
  g_unix_signal_add(SIGINT, on_signal, &t);

  ArWebMediaOptions opts = {
      .parent_dir = parent, .allow = allow_cb, .allow_data = &t, .keep_logs = parent != NULL};
  gint64 t0 = g_get_monotonic_time();
  t.media = ar_web_media_start(&opts, &error);
  if (t.media == NULL) {
    printf("error %s\n", error->message);
    return 1;
  }
  printf("# media environment up in %.0f ms\n", (g_get_monotonic_time() - t0) / 1000.0);

  t.video = gst_element_factory_make("videotestsrc", "test-camera");
  t.audio = gst_element_factory_make("audiotestsrc", "test-microphone");
  g_object_set(t.video, "is-live", TRUE, NULL);
  gst_util_set_object_arg(G_OBJECT(t.video), "pattern", "solid-color");
  g_object_set(t.video, "foreground-color", 0xffff0000u, NULL);
  g_object_set(t.audio, "is-live", TRUE, "freq", 440.0, "volume", 0.5, NULL);
  ArBridgeConfig cfg = {
      .pipewire_socket = ar_web_media_get_pipewire_socket(t.media),
      .pulse_server = ar_web_media_get_pulse_server(t.media),
      .mic_sink = AR_WEB_MEDIA_MIC_FEED_SINK,
      .speaker_source = AR_WEB_MEDIA_SPEAKER_MONITOR,
      .width = 640,
      .height = 480,
      .fps = 30,
  };
  t.bridge = ar_bridge_new(&cfg, t.video, t.audio, make_speaker(&t), &error);
  if (t.bridge != NULL)
    ar_bridge_set_error_func(t.bridge, bridge_error, NULL);
  if (t.bridge == NULL) {
    printf("error %s\n", error->message);
    ar_web_media_free(t.media);
    return 1;
  }
  for (const char *const *e = ar_web_media_get_browser_environ(t.media); *e; e++)
    printf("env %s\n", *e);
  printf("ready %s\n", ar_web_media_get_dir(t.media));
  fflush(stdout);

  raw = g_unix_input_stream_new(0, FALSE);
  in = g_data_input_stream_new(raw);
  g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, on_line, &t);
  g_main_loop_run(t.loop);

  g_mutex_lock(&t.lock); /* a stalled camera thread goes on */
  t.stall = FALSE;
  g_cond_broadcast(&t.stall_cond);
  g_mutex_unlock(&t.lock);
  ar_bridge_free(t.bridge);
  g_clear_pointer(&t.media, ar_web_media_free);
  g_clear_object(&t.speaker_volume);
  g_main_loop_unref(t.loop);
  return 0;
}
