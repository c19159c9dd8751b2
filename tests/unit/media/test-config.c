/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests: ar_media_config_check() and ar_media_setting_check(), the
 * device-free check of a media config, and that the engine applies the very
 * same rules (a value the check refuses, the engine refuses with the same
 * message; a value it passes, the engine takes).
 */
#include <glib/gstdio.h>
#include <string.h>

#include "ar-media-priv.h"
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
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "none", "expected auto, test, an ALSA device name"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "hw:0 ; reboot", "audio source"},
      {AR_MEDIA_SETTING_AUDIO_SOURCE, "", "audio source"},
      {AR_MEDIA_SETTING_AUDIO_SINK, "test", "expected auto, none, an ALSA device name"},
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

/* The device-name grammar (issue 10: {"speaker":"file:FILE=x,FORMAT=raw"}
 * made ALSA's file plugin write a file). Names a room really has pass;
 * anything that gives an ALSA plugin arguments, or a path v4l2src would
 * open outside the camera nodes, is refused, for every device setting. */
static void
test_device_names(void)
{
  static const char *const alsa_good[] = {
      "default",
      "pulse",
      "pipewire",
      "labspeaker",
      "speaker_bar-2",
      "hw:0",
      "hw:1,0",
      "hw:Loopback,1,0",
      "plughw:1,0",
      "hw:CARD=PCH",
      "hw:CARD=Bar,DEV=0",
      "plughw:CARD=Bar,DEV=0,SUBDEV=1",
      "sysdefault:CARD=Bar",
      "default:CARD=Device",
      "front:CARD=PCH,DEV=0",
      "dmix:CARD=1",
      "dsnoop:0",
      "iec958:CARD=PCH",
      "hdmi:CARD=HDMI,DEV=3",
      /* Not ALSA: a PulseAudio (or PipeWire-pulse) source or sink. */
      "pulse:room_air.monitor",
      "pulse:alsa_output.usb-Bar_Speaker-00.analog-stereo",
  };
  static const char *const alsa_bad[] = {
      "pulse:",
      "pulse:a b",
      "pulse:x/y",
      "pulse:x;y",
      "pulse:'x'",
      "file:FILE=x.raw,FORMAT=raw",
      "file:x.raw",
      "file:'x.raw'",
      "file:\"x.raw\"",
      "file:{FILE x.raw}",
      "file", /* bare is only a defined PCM: still no */
      "tee:default,x.raw,raw",
      "shm:/tmp/sock,default",
      "plug:{SLAVE file}",
      "plug:file",
      "hw:CARD=0,FILE=x.raw",
      "default:FILE=x.raw",
      "hw:0,0,0,0",
      "hw:",
      "hw:,0",
      "hw:0,",
      "hw:0;file",
      "hw:CARD=\"Bar\"",
      "hw:{CARD 0}",
      "hw:CARD=../x",
      "hw:CARD=a b",
      "hw:card=0",
      "hw:CARD=",
      "HW:0",
      "pcm.file",
      "cards.pcm.default",
      "0",
      "_x",
      "-x",
      "default ",
      " default",
      "def\\ault",
      "hw:CARD=0123456789012345678901234567890123",
      "ladspa:x",
      "route:x",
      "multi:x",
      "asym:x",
  };
  static const char *const camera_good[] = {
      "/dev/video0",
      "/dev/video12",
      "/dev/v4l/by-id/usb-Logitech_BRIO_12AB-video-index0",
      "/dev/v4l/by-path/pci-0000:00:14.0-usb-0:1:1.0-video-index0",
  };
  static const char *const camera_bad[] = {
      "/dev/sda",
      "/dev/mem",
      "/dev/tty0",
      "/dev/video",
      "/dev/video0/..",
      "/dev/video0x",
      "/dev/video1234",
      "/dev/../tmp/video0",
      "/dev/v4l/by-id/",
      "/dev/v4l/by-id/..",
      "/dev/v4l/by-id/../../sda",
      "/dev/v4l/by-id/a/b",
      "/dev/v4l/other/x",
      "/tmp/video0",
      "file:FILE=x",
      "video0",
      "/dev/video0 ",
      "/dev/v4l/by-id/a b",
  };
  const ArMediaSetting audio[] = {AR_MEDIA_SETTING_AUDIO_SOURCE, AR_MEDIA_SETTING_AUDIO_SINK};

  for (gsize a = 0; a < G_N_ELEMENTS(audio); a++) {
    for (gsize i = 0; i < G_N_ELEMENTS(alsa_good); i++) {
      g_autoptr(GError) error = NULL;
      if (!ar_media_setting_check(audio[a], alsa_good[i], &error))
        g_error("'%s' refused: %s", alsa_good[i], error->message);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(alsa_bad); i++) {
      g_autoptr(GError) error = NULL;
      if (ar_media_setting_check(audio[a], alsa_bad[i], &error))
        g_error("'%s' accepted as an ALSA name", alsa_bad[i]);
      g_assert_nonnull(strstr(error->message, "no plugin arguments"));
    }
    /* ALSA names are never cameras and camera paths never ALSA names. */
    for (gsize i = 0; i < G_N_ELEMENTS(camera_good); i++)
      g_assert_false(ar_media_setting_check(audio[a], camera_good[i], NULL));
  }
  for (gsize i = 0; i < G_N_ELEMENTS(camera_good); i++) {
    g_autoptr(GError) error = NULL;
    if (!ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE, camera_good[i], &error))
      g_error("'%s' refused: %s", camera_good[i], error->message);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(camera_bad); i++) {
    if (ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE, camera_bad[i], NULL))
      g_error("'%s' accepted as a camera", camera_bad[i]);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(alsa_good); i++)
    g_assert_false(ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE, alsa_good[i], NULL));
}

/* Which element a device value makes, and its "device" property. */
static void
test_audio_elements(void)
{
  const char *dev = NULL;

  g_assert_cmpstr(ar_media_audio_element("hw:1,0", TRUE, &dev), ==, "alsasrc");
  g_assert_cmpstr(dev, ==, "hw:1,0");
  g_assert_cmpstr(ar_media_audio_element("pulse", FALSE, &dev), ==, "alsasink");
  g_assert_cmpstr(dev, ==, "pulse");
  g_assert_cmpstr(ar_media_audio_element("pulse:room_air.monitor", TRUE, &dev), ==, "pulsesrc");
  g_assert_cmpstr(dev, ==, "room_air.monitor");
  g_assert_cmpstr(ar_media_audio_element("pulse:room_speaker", FALSE, &dev), ==, "pulsesink");
  g_assert_cmpstr(dev, ==, "room_speaker");
  /* Not a valid pulse name: ALSA's element, which the settings refuse anyway. */
  g_assert_cmpstr(ar_media_audio_element("pulse:a b", TRUE, NULL), ==, "alsasrc");
  g_assert_cmpstr(ar_media_audio_element(NULL, FALSE, &dev), ==, "alsasink");
  g_assert_null(dev);
}

/* The device helpers check the name themselves, whoever calls them: the
 * hostile name never reaches ALSA (no file is written) or v4l2src. */
static void
test_device_helpers_refuse(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("ar-test-media-names-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *target = g_build_filename(dir, "tone.raw", NULL);
  g_autofree char *speaker = g_strdup_printf("file:FILE=%s,FORMAT=raw", target);
  g_assert_false(ar_media_play_test_tone(speaker, 100, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "Invalid audio sink"));
  g_clear_error(&error);
  g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
  g_autoptr(GBytes) jpeg = ar_media_camera_snapshot("/dev/../tmp/x", 64, 64, &error);
  g_assert_null(jpeg);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/config/defaults", test_defaults);
  g_test_add_func("/media/config/audio-elements", test_audio_elements);
  g_test_add_func("/media/config/settings-valid", test_settings_valid);
  g_test_add_func("/media/config/settings-invalid", test_settings_invalid);
  g_test_add_func("/media/config/message-bounded", test_message_bounded);
  g_test_add_func("/media/config/numbers", test_numbers);
  g_test_add_func("/media/config/engine-same-rules", test_engine_same_rules);
  g_test_add_func("/media/config/device-names", test_device_names);
  g_test_add_func("/media/config/device-helpers-refuse", test_device_helpers_refuse);
  return g_test_run();
}
