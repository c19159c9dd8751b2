/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ArBridge without its servers: configuration errors and an unreachable PipeWire fail with clear
 * errors and leave nothing running (the real paths: tests/integration/test-web-bridge.mjs). */
#include <gst/gst.h>

#include "ar-bridge.h"

static void
test_needs_mic_sink(void)
{
  ArBridgeConfig cfg = {.speaker_source = "x.monitor"};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBridge) b =
      ar_bridge_new(&cfg, NULL, gst_element_factory_make("audiotestsrc", NULL), NULL, &error);

  g_assert_null(b);
  g_assert_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_INVALID);
}

static void
test_needs_speaker_source(void)
{
  ArBridgeConfig cfg = {.mic_sink = "mic"};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBridge) b =
      ar_bridge_new(&cfg, NULL, NULL, gst_element_factory_make("fakesink", NULL), &error);

  g_assert_null(b);
  g_assert_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_INVALID);
}

static void
test_pipewire_unreachable(void)
{
  ArBridgeConfig cfg = {.pipewire_socket = "/nonexistent/anyroom/pipewire-0"};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArBridge) b = NULL;

  if (gst_element_factory_find("pipewiresink") == NULL) {
    g_test_skip("gstreamer1.0-pipewire is not installed (./build.sh deps)");
    return;
  }
  b = ar_bridge_new(&cfg, gst_element_factory_make("videotestsrc", NULL), NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_false(ar_bridge_start(b, &error));
  g_assert_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_CONNECT);
  g_assert_nonnull(strstr(error->message, "/nonexistent/anyroom/pipewire-0"));
  g_assert_false(ar_bridge_is_running(b));
  ar_bridge_stop(b); /* idempotent */
  ar_bridge_set_camera_off(b, TRUE);
  ar_bridge_set_mute(b, TRUE); /* no microphone path: a no-op */
}

/* What the camera node offers for a capture's format: at most 1920x1080 at 30, never more than
 * the capture (issue 11, part 6). */
static void
test_camera_format(void)
{
  static const struct {
    int w, h, fps, want_w, want_h, want_fps;
  } cases[] = {
      {1920, 1080, 30, 1920, 1080, 30}, /* 1080p30: as it is */
      {1280, 720, 30, 1280, 720, 30},   /* a smaller capture: never upscaled */
      {640, 480, 15, 640, 480, 15},     /* nor made faster */
      {3840, 2160, 60, 1920, 1080, 30}, /* 4K60: down to 1080p30 */
      {2560, 1600, 30, 1728, 1080, 30}, /* 16:10: fits by height */
      {4096, 2160, 50, 1920, 1012, 30}, /* wider than 16:9: fits by width, even height */
      {1920, 1200, 24, 1728, 1080, 24},
      {2160, 3840, 30, 606, 1080, 30}, /* portrait: even width */
      {0, 0, 0, 1280, 720, 30},        /* unset: the defaults */
      {-5, 1080, -1, 1280, 720, 30},
      {G_MAXINT, G_MAXINT, G_MAXINT, 1080, 1080, 30}, /* no overflow */
      {G_MAXINT, 1, 30, 1920, 2, 30},                 /* degenerate: still a valid size */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    int w = -1, h = -1, fps = -1;
    ar_bridge_camera_format(cases[i].w, cases[i].h, cases[i].fps, &w, &h, &fps);
    g_test_message("%dx%d@%d -> %dx%d@%d", cases[i].w, cases[i].h, cases[i].fps, w, h, fps);
    g_assert_cmpint(w, ==, cases[i].want_w);
    g_assert_cmpint(h, ==, cases[i].want_h);
    g_assert_cmpint(fps, ==, cases[i].want_fps);
  }
}

/* The camera pipeline's caps are that format; a faster capture gets a videorate that only drops. */
static void
test_camera_caps(void)
{
  static const int cases[][4] = {{3840, 2160, 60, 1}, {1920, 1080, 30, 0}, {1280, 720, 30, 0}};

  if (gst_element_factory_find("pipewiresink") == NULL) {
    g_test_skip("gstreamer1.0-pipewire is not installed (./build.sh deps)");
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    ArBridgeConfig cfg = {.width = cases[i][0], .height = cases[i][1], .fps = cases[i][2]};
    g_autoptr(GError) error = NULL;
    g_autoptr(ArBridge) b =
        ar_bridge_new(&cfg, gst_element_factory_make("videotestsrc", NULL), NULL, NULL, &error);
    g_assert_no_error(error);
    GstElement *pipeline = ar_bridge_get_pipeline(b, AR_BRIDGE_CAMERA);
    g_autoptr(GstElement) filter = gst_bin_get_by_name(GST_BIN(pipeline), "bridge-vcaps");
    g_autoptr(GstElement) rate = gst_bin_get_by_name(GST_BIN(pipeline), "bridge-vrate");
    g_autoptr(GstCaps) caps = NULL;
    int want_w, want_h, want_fps, w = 0, h = 0, num = 0, den = 0;
    ar_bridge_camera_format(cfg.width, cfg.height, cfg.fps, &want_w, &want_h, &want_fps);
    g_object_get(filter, "caps", &caps, NULL);
    GstStructure *st = gst_caps_get_structure(caps, 0);
    g_assert_true(gst_structure_get_int(st, "width", &w) &&
                  gst_structure_get_int(st, "height", &h));
    g_assert_true(gst_structure_get_fraction(st, "framerate", &num, &den));
    g_assert_cmpint(w, ==, want_w);
    g_assert_cmpint(h, ==, want_h);
    g_assert_cmpint(num, ==, want_fps);
    g_assert_cmpint(den, ==, 1);
    g_assert_cmpint(rate != NULL, ==, cases[i][3]);
    if (rate != NULL) {
      gboolean drop_only = FALSE;
      g_object_get(rate, "drop-only", &drop_only, NULL);
      g_assert_true(drop_only);
    }
  }
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/bridge/needs-mic-sink", test_needs_mic_sink);
  g_test_add_func("/media/bridge/needs-speaker-source", test_needs_speaker_source);
  g_test_add_func("/media/bridge/pipewire-unreachable", test_pipewire_unreachable);
  g_test_add_func("/media/bridge/camera-format", test_camera_format);
  g_test_add_func("/media/bridge/camera-caps", test_camera_caps);
  return g_test_run();
}
