/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests: ar_media_config_check() and ar_media_setting_check(), the
 * device-free check of a media config, and that the engine applies the very
 * same rules (a value the check refuses, the engine refuses with the same
 * message; a value it passes, the engine takes).
 */
#include <string.h>

#include "ar-media.h"

static void
test_defaults(void)
{
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;

  ar_media_config_init_defaults(&cfg);
  g_assert_true(ar_media_config_check(&cfg, &error));
  g_assert_no_error(error);
  g_assert_true(ar_media_config_check(NULL, &error));
  g_assert_no_error(error);
  /* NULL device values mean "auto", as in ar_media_engine_new(). */
  cfg.video_source = cfg.audio_source = cfg.audio_sink = cfg.video_sink = NULL;
  g_assert_true(ar_media_config_check(&cfg, &error));
  g_assert_no_error(error);
}

typedef struct {
  ArMediaSetting setting;
  const char *value;
} Case;

static void
test_settings_valid(void)
{
  static const Case good[] = {
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "auto"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "test"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "/dev/video0"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "/dev/v4l/by-id/usb-Logitech_BRIO-video-index0"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "auto"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "test"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "hw:Loopback,1,0"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "plughw:CARD=Bar,DEV=0"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "auto"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "none"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "default"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "auto"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "none"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "kiosk"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "window"},
      {AR_MEDIA_SETTING_VIDEO_SINK, NULL}, /* auto */
  };

  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GError) error = NULL;

    if (!ar_media_setting_check(good[i].setting, good[i].value, &error))
      g_error("case %zu '%s': %s", i, good[i].value, error->message);
  }
}

static void
test_settings_invalid(void)
{
  static const struct {
    ArMediaSetting setting;
    const char *value;
    const char *message; /* what the error must say */
  } bad[] = {
      {AR_MEDIA_SETTING_VIDEO_SINK, "kiosky", "expected auto, none, kiosk or window"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "Kiosk", "Invalid video sink 'Kiosk'"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "", "Invalid video sink ''"},
      {AR_MEDIA_SETTING_VIDEO_SINK, "test", "video sink"}, /* a source's word */
      {AR_MEDIA_SETTING_VIDEO_SINK, "/dev/fb0", "video sink"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "kiosk", "expected auto, test or a /dev/ path"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "none", "video source"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "camera; rm -rf /", "video source"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "/etc/passwd", "video source"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "/dev/../etc/passwd", "video source"},
      {AR_MEDIA_SETTING_VIDEO_SOURCE, "video0", "video source"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "none", "expected auto, test or an ALSA device name"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "hw:0 ; reboot", "audio source"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "", "audio source"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "test", "expected auto, none or an ALSA device name"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "kiosk", "audio sink"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "hw:0/1", "audio sink"},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;

    if (ar_media_setting_check(bad[i].setting, bad[i].value, &error))
      g_error("case %zu: '%s' accepted", i, bad[i].value);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
    if (strstr(error->message, bad[i].message) == NULL)
      g_error("case %zu: '%s' does not say '%s'", i, error->message, bad[i].message);
  }
}

/* An untrusted value is quoted escaped and bounded in the message. */
static void
test_message_bounded(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *longer = g_strnfill(5000, 'x');

  g_assert_false(ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SINK, longer, &error));
  g_assert_cmpuint(strlen(error->message), <, 200);
  g_assert_nonnull(strstr(error->message, "...'"));
  g_clear_error(&error);
  g_assert_false(ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SINK, "a\nb\033c", &error));
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(strchr(error->message, '\033'));
  g_clear_error(&error);
  g_assert_false(ar_media_setting_check((ArMediaSetting)99, "auto", &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
}

static void
test_numbers(void)
{
  static const struct {
    guint width, height, framerate, bitrate, latency;
    const char *message;
  } bad[] = {
      {641, 360, 30, 1500, 60, "video size"},  {640, 0, 30, 1500, 60, "video size"},
      {8000, 360, 30, 1500, 60, "video size"}, {640, 360, 0, 1500, 60, "frame rate"},
      {640, 360, 121, 1500, 60, "frame rate"}, {640, 360, 30, 10, 60, "bitrate"},
      {640, 360, 30, 1500, 10001, "jitter"},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    ArMediaConfig cfg;
    g_autoptr(GError) error = NULL;

    ar_media_config_init_defaults(&cfg);
    cfg.width = bad[i].width;
    cfg.height = bad[i].height;
    cfg.framerate = bad[i].framerate;
    cfg.video_bitrate_kbps = bad[i].bitrate;
    cfg.jitter_latency_ms = bad[i].latency;
    g_assert_false(ar_media_config_check(&cfg, &error));
    if (strstr(error->message, bad[i].message) == NULL)
      g_error("case %zu: '%s' does not say '%s'", i, error->message, bad[i].message);
  }
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;
  ar_media_config_init_defaults(&cfg);
  cfg.codec = (ArVideoCodec)42;
  g_assert_false(ar_media_config_check(&cfg, &error));
  g_assert_nonnull(strstr(error->message, "codec"));
}

/* ar_media_engine_new() refuses what the check refuses, with its message,
 * and takes the kiosk display (drawing nothing itself). */
static void
test_engine_same_rules(void)
{
  static const char *const pref[] = {"x264enc", "vp8enc", NULL};
  static const char *const sinks[] = {"kiosk", "kiosky", "none", "window ", NULL};

  for (gsize i = 0; sinks[i] != NULL; i++) {
    ArMediaConfig cfg;
    g_autoptr(GError) check_error = NULL;
    g_autoptr(GError) engine_error = NULL;

    ar_media_config_init_defaults(&cfg);
    cfg.video_source = "test";
    cfg.audio_source = "test";
    cfg.audio_sink = "none";
    cfg.video_sink = sinks[i];
    cfg.encoders = pref;
    gboolean checked = ar_media_config_check(&cfg, &check_error);
    g_autoptr(ArMediaEngine) engine = ar_media_engine_new(&cfg, &engine_error);
    g_test_message("video sink '%s': check %s, engine %s", sinks[i],
                   checked ? "ok" : check_error->message,
                   engine != NULL ? ar_media_engine_describe(engine) : engine_error->message);
    g_assert_cmpint(checked, ==, engine != NULL);
    if (!checked) {
      g_assert_cmpstr(check_error->message, ==, engine_error->message);
      continue;
    }
    if (g_str_equal(sinks[i], "kiosk"))
      g_assert_nonnull(strstr(ar_media_engine_describe(engine), "screen: none (kiosk"));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/config/defaults", test_defaults);
  g_test_add_func("/media/config/settings-valid", test_settings_valid);
  g_test_add_func("/media/config/settings-invalid", test_settings_invalid);
  g_test_add_func("/media/config/message-bounded", test_message_bounded);
  g_test_add_func("/media/config/numbers", test_numbers);
  g_test_add_func("/media/config/engine-same-rules", test_engine_same_rules);
  return g_test_run();
}
