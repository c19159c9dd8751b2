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

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/bridge/needs-mic-sink", test_needs_mic_sink);
  g_test_add_func("/media/bridge/needs-speaker-source", test_needs_speaker_source);
  g_test_add_func("/media/bridge/pipewire-unreachable", test_pipewire_unreachable);
  return g_test_run();
}
