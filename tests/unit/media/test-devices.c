/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device helpers: the choices, a test tone through a real ALSA device (a
 * "file" PCM: the real alsa-lib path and alsasink, no sound card needed; it
 * does not pace, fine for a tone), and a JPEG of the test camera. */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

#include "ar-media.h"

static char *tmp_home;

static void
test_list(void)
{
  g_autoptr(GPtrArray) devs = ar_media_list_devices();
  /* After the engine's initialization a device monitor with the list's
   * filters asks only V4L2 and ALSA: the engine takes no other device, and
   * every other provider would load its plugin and libraries for nothing
   * (DeckLink's brings C++ and its runtime). */
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new();
  gst_device_monitor_add_filter(monitor, "Video/Source", NULL);
  gst_device_monitor_add_filter(monitor, "Audio/Source", NULL);
  gst_device_monitor_add_filter(monitor, "Audio/Sink", NULL);
  g_auto(GStrv) asked = gst_device_monitor_get_providers(monitor);
  g_assert_nonnull(asked);
  for (guint i = 0; asked[i] != NULL; i++) {
    g_test_message("provider asked: %s", asked[i]);
    g_assert_true(g_str_equal(asked[i], "v4l2deviceprovider") ||
                  g_str_equal(asked[i], "alsadeviceprovider"));
  }
  GList *all = gst_registry_get_feature_list(gst_registry_get(), GST_TYPE_DEVICE_PROVIDER_FACTORY);
  g_test_message("%u device providers on this machine", g_list_length(all));
  gst_plugin_feature_list_free(all);
  gboolean cam_auto = FALSE, spk_none = FALSE;
  for (guint i = 0; i < devs->len; i++) {
    ArMediaDevice *d = devs->pdata[i];
    g_assert_nonnull(d->id);
    g_assert_nonnull(d->name);
    cam_auto |= d->kind == AR_MEDIA_DEVICE_CAMERA && g_str_equal(d->id, "auto");
    spk_none |= d->kind == AR_MEDIA_DEVICE_SPEAKER && g_str_equal(d->id, "none");
    g_test_message("%s %s (%s)", ar_media_device_kind_to_string(d->kind), d->id, d->name);
  }
  g_assert_true(cam_auto);
  g_assert_true(spk_none);
  g_assert_cmpuint(devs->len, <=, AR_MEDIA_MAX_DEVICES + 6);
}

static void
test_tone(void)
{
  g_autofree char *raw = g_build_filename(tmp_home, "tone.raw", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_media_play_test_tone("artest", 500, &error));
  g_assert_no_error(error);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(raw, &data, &len, NULL));
  /* A null slave never blocks, so the sink's ring buffer also writes
   * silence; the tone is there: 0.5 s at 48 kHz S16 stereo is 96000 bytes,
   * most of them non-zero. */
  g_assert_cmpuint(len, >, 10000);
  gsize nonzero = 0;
  for (gsize i = 0; i < len; i++)
    nonzero += data[i] != 0;
  g_assert_cmpuint(nonzero, >, 48000);
  /* No speaker: a clear error, no pipeline. */
  g_assert_false(ar_media_play_test_tone("none", 500, &error) || !error);
  g_clear_error(&error);
  /* A device that does not exist fails within the bound. */
  g_assert_false(ar_media_play_test_tone("nosuchpcm", 300, &error));
  g_assert_nonnull(error);
}

static void
test_snapshot(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = ar_media_camera_snapshot("test", 320, 180, &error);
  g_assert_no_error(error);
  gsize len = 0;
  const guint8 *p = g_bytes_get_data(jpeg, &len);
  g_assert_cmpuint(len, >, 500);
  g_assert_cmpuint(p[0], ==, 0xFF);
  g_assert_cmpuint(p[1], ==, 0xD8);
  g_assert_cmpuint(p[len - 2], ==, 0xFF);
  g_assert_cmpuint(p[len - 1], ==, 0xD9);
  g_autoptr(GBytes) none = ar_media_camera_snapshot("/dev/nonexistent-camera", 320, 180, &error);
  g_assert_null(none);
  g_assert_nonnull(error);
}

static void
test_set_devices(void)
{
  g_autoptr(GError) error = NULL;
  ArMediaConfig cfg;
  ar_media_config_init_defaults(&cfg);
  cfg.video_source = "test";
  cfg.audio_source = "test";
  cfg.audio_sink = "none";
  cfg.video_sink = "none";
  g_autoptr(ArMediaEngine) engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "speaker: discarded"));
  g_assert_true(ar_media_engine_set_devices(engine, "test", "test", "labspeaker", &error));
  g_assert_no_error(error);
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "speaker: alsasink labspeaker"));
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "camera: videotestsrc"));
  /* Refused: nothing changes. */
  g_autofree char *before = g_strdup(ar_media_engine_describe(engine));
  g_assert_false(ar_media_engine_set_devices(engine, "test", "$(reboot)", "none", &error));
  g_assert_nonnull(error);
  g_assert_cmpstr(ar_media_engine_describe(engine), ==, before);
}

/* The private HOME with what alsa-lib and GStreamer put there (.cache, .config). */
static void
remove_tree(const char *path)
{
  GDir *dir = g_file_test(path, G_FILE_TEST_IS_SYMLINK) ? NULL : g_dir_open(path, 0, NULL);

  if (dir != NULL) {
    const char *name;

    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);

      remove_tree(child);
    }
    g_dir_close(dir);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

int
main(int argc, char **argv)
{
  /* alsa-lib reads ~/.asoundrc: a private HOME with a file PCM. */
  tmp_home = g_dir_make_tmp("ar-devices-XXXXXX", NULL);
  g_autofree char *rc = g_build_filename(tmp_home, ".asoundrc", NULL);
  g_autofree char *conf =
      g_strdup_printf("pcm.artest {\n type file\n slave.pcm \"null\"\n file \"%s/tone.raw\"\n"
                      " format \"raw\"\n}\n",
                      tmp_home);
  g_file_set_contents(rc, conf, -1, NULL);
  g_setenv("HOME", tmp_home, TRUE);
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/devices/list", test_list);
  g_test_add_func("/media/devices/test-tone", test_tone);
  g_test_add_func("/media/devices/snapshot", test_snapshot);
  g_test_add_func("/media/devices/set-devices", test_set_devices);
  int rc_ = g_test_run();
  remove_tree(tmp_home);
  return rc_;
}
