/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-encoder.c: encoder selection with injected probes, config defaults,
 * engine construction.
 */
#include <string.h>

#include "ar-media.h"

/* A fake probe: only the factories listed in user_data are "usable"; every
 * call is recorded so tests can check what was tried. */
typedef struct {
  const char *const *usable;
  GPtrArray *probed;
} FakeProbe;

static gboolean
fake_probe(const char *factory, gpointer user_data)
{
  FakeProbe *fp = user_data;

  g_ptr_array_add(fp->probed, g_strdup(factory));
  return fp->usable != NULL && g_strv_contains(fp->usable, factory);
}

static void
fake_probe_init(FakeProbe *fp, const char *const *usable)
{
  fp->usable = usable;
  fp->probed = g_ptr_array_new_with_free_func(g_free);
}

static void
fake_probe_clear(FakeProbe *fp)
{
  g_ptr_array_unref(fp->probed);
}

static void
test_table(void)
{
  gsize n = 0;
  const ArEncoderInfo *t = ar_encoder_table(&n);
  static const char *const expected[] = {"v4l2h264enc", "vah264enc", "vaapih264enc",
                                         "nvh264enc",   "x264enc",   "vp8enc"};

  g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
  for (gsize i = 0; i < n; i++)
    g_assert_cmpstr(t[i].factory, ==, expected[i]);
  g_assert_true(t[0].hardware && t[3].hardware);
  g_assert_false(t[4].hardware || t[5].hardware);
  g_assert_cmpint(t[4].codec, ==, AR_VIDEO_CODEC_H264);
  g_assert_cmpint(t[5].codec, ==, AR_VIDEO_CODEC_VP8);
}

static void
test_select_hardware_first(void)
{
  static const char *const usable[] = {"x264enc", "vaapih264enc", "vp8enc", NULL};
  FakeProbe fp;
  g_autoptr(GError) error = NULL;
  const ArEncoderInfo *info;

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_AUTO, fake_probe, &fp, &error);
  g_assert_no_error(error);
  g_assert_nonnull(info);
  g_assert_cmpstr(info->factory, ==, "vaapih264enc");
  g_assert_true(info->hardware);
  /* Tried in table order, stopped at the first usable one. */
  g_assert_cmpuint(fp.probed->len, ==, 3);
  g_assert_cmpstr(g_ptr_array_index(fp.probed, 0), ==, "v4l2h264enc");
  g_assert_cmpstr(g_ptr_array_index(fp.probed, 2), ==, "vaapih264enc");
  fake_probe_clear(&fp);
}

static void
test_select_software_fallback(void)
{
  static const char *const usable[] = {"x264enc", "vp8enc", NULL};
  FakeProbe fp;
  g_autoptr(GError) error = NULL;
  const ArEncoderInfo *info;

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_AUTO, fake_probe, &fp, &error);
  g_assert_no_error(error);
  g_assert_nonnull(info);
  g_assert_cmpstr(info->factory, ==, "x264enc");
  g_assert_false(info->hardware);
  g_assert_cmpuint(fp.probed->len, ==, 5);
  fake_probe_clear(&fp);
}

static void
test_select_codec_pin(void)
{
  static const char *const usable[] = {"vah264enc", "x264enc", "vp8enc", NULL};
  FakeProbe fp;
  g_autoptr(GError) error = NULL;
  const ArEncoderInfo *info;

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_VP8, fake_probe, &fp, &error);
  g_assert_no_error(error);
  g_assert_nonnull(info);
  g_assert_cmpstr(info->factory, ==, "vp8enc");
  /* H.264 encoders are not even probed when VP8 is pinned. */
  g_assert_cmpuint(fp.probed->len, ==, 1);
  fake_probe_clear(&fp);

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_H264, fake_probe, &fp, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(info->factory, ==, "vah264enc");
  fake_probe_clear(&fp);
}

static void
test_select_nothing_usable(void)
{
  static const char *const usable[] = {"vp8enc", NULL};
  FakeProbe fp;
  g_autoptr(GError) error = NULL;
  const ArEncoderInfo *info;

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_H264, fake_probe, &fp, &error);
  g_assert_null(info);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER);
  /* The message names what was tried. */
  g_assert_nonnull(strstr(error->message, "x264enc"));
  g_assert_nonnull(strstr(error->message, "v4l2h264enc"));
  g_assert_nonnull(strstr(error->message, "H264"));
  fake_probe_clear(&fp);
  g_clear_error(&error);

  fake_probe_init(&fp, NULL);
  info = ar_encoder_select(NULL, AR_VIDEO_CODEC_AUTO, fake_probe, &fp, &error);
  g_assert_null(info);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER);
  g_assert_cmpuint(fp.probed->len, ==, 6);
  fake_probe_clear(&fp);
}

static void
test_select_unknown_names_ignored(void)
{
  static const char *const usable[] = {"x264enc", "evilenc", "vp8enc", NULL};
  static const char *const pref[] = {"evilenc", "", "x264enc; rm -rf /", "vp8enc", "x264enc", NULL};
  FakeProbe fp;
  g_autoptr(GError) error = NULL;
  const ArEncoderInfo *info;

  fake_probe_init(&fp, usable);
  info = ar_encoder_select(pref, AR_VIDEO_CODEC_AUTO, fake_probe, &fp, &error);
  g_assert_no_error(error);
  g_assert_nonnull(info);
  /* The preference order wins over the table order; unknown names are never probed. */
  g_assert_cmpstr(info->factory, ==, "vp8enc");
  g_assert_cmpuint(fp.probed->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(fp.probed, 0), ==, "vp8enc");
  fake_probe_clear(&fp);

  /* Only unknown names: a clear error, nothing probed. */
  {
    static const char *const only_unknown[] = {"evilenc", "openh264enc", NULL};

    fake_probe_init(&fp, usable);
    info = ar_encoder_select(only_unknown, AR_VIDEO_CODEC_AUTO, fake_probe, &fp, &error);
    g_assert_null(info);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER);
    g_assert_cmpuint(fp.probed->len, ==, 0);
    fake_probe_clear(&fp);
  }
}

static void
test_probe_default(void)
{
  /* On this machine: software encoders exist, a bogus name does not. */
  g_assert_false(ar_encoder_probe_default("no-such-encoder-element", NULL));
  g_assert_false(ar_encoder_probe_default(NULL, NULL));
  if (!ar_encoder_probe_default("x264enc", NULL) && !ar_encoder_probe_default("vp8enc", NULL))
    g_test_fail_printf(
        "neither x264enc nor vp8enc is usable (install gstreamer1.0-plugins-ugly/good)");
}

static void
test_codec_strings(void)
{
  ArVideoCodec c = AR_VIDEO_CODEC_AUTO;

  g_assert_true(ar_video_codec_from_string("h264", &c));
  g_assert_cmpint(c, ==, AR_VIDEO_CODEC_H264);
  g_assert_true(ar_video_codec_from_string("VP8", &c));
  g_assert_cmpint(c, ==, AR_VIDEO_CODEC_VP8);
  g_assert_false(ar_video_codec_from_string("av1", &c));
  g_assert_cmpint(c, ==, AR_VIDEO_CODEC_VP8); /* untouched on failure */
  g_assert_false(ar_video_codec_from_string(NULL, &c));
  g_assert_cmpstr(ar_video_codec_to_string(AR_VIDEO_CODEC_H264), ==, "H264");
  g_assert_cmpstr(ar_video_codec_to_string(AR_VIDEO_CODEC_VP8), ==, "VP8");
}

static void
test_config_defaults(void)
{
  ArMediaConfig cfg;

  memset(&cfg, 0xAA, sizeof(cfg));
  ar_media_config_init_defaults(&cfg);
  g_assert_cmpstr(cfg.video_source, ==, "auto");
  g_assert_cmpstr(cfg.audio_source, ==, "auto");
  g_assert_cmpstr(cfg.audio_sink, ==, "auto");
  g_assert_cmpstr(cfg.video_sink, ==, "auto");
  g_assert_null(cfg.encoders);
  g_assert_cmpint(cfg.codec, ==, AR_VIDEO_CODEC_AUTO);
  g_assert_cmpuint(cfg.width, ==, 1280);
  g_assert_cmpuint(cfg.height, ==, 720);
  g_assert_cmpuint(cfg.framerate, ==, 30);
  g_assert_cmpuint(cfg.video_bitrate_kbps, ==, 1500);
  g_assert_cmpuint(cfg.jitter_latency_ms, ==, 60);
}

static void
test_engine_new(void)
{
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = NULL;
  static const char *const pref[] = {"vp8enc", NULL};
  char source[] = "test";

  ar_media_config_init_defaults(&cfg);
  cfg.video_source = source;
  cfg.audio_source = "test";
  cfg.audio_sink = "none";
  cfg.video_sink = "none";
  cfg.encoders = pref;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  g_assert_nonnull(engine);
  /* The engine copied the strings. */
  source[0] = 'X';
  g_assert_cmpstr(ar_media_engine_get_encoder(engine)->factory, ==, "vp8enc");
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "videotestsrc"));
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "audiotestsrc"));
  g_assert_nonnull(strstr(ar_media_engine_describe(engine), "vp8enc"));
  g_test_message("engine: %s", ar_media_engine_describe(engine));
}

static void
test_engine_bad_config(void)
{
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;
  ArMediaEngine *engine;
  static const char *const pref[] = {"nosuchenc", NULL};

  ar_media_config_init_defaults(&cfg);
  cfg.video_source = "camera; rm -rf /";
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_null(engine);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  g_clear_error(&error);

  ar_media_config_init_defaults(&cfg);
  cfg.width = 0;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_null(engine);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  g_clear_error(&error);

  ar_media_config_init_defaults(&cfg);
  cfg.encoders = pref;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_null(engine);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER);
  ar_media_engine_free(NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/encoder/table", test_table);
  g_test_add_func("/media/encoder/select-hardware-first", test_select_hardware_first);
  g_test_add_func("/media/encoder/select-software-fallback", test_select_software_fallback);
  g_test_add_func("/media/encoder/select-codec-pin", test_select_codec_pin);
  g_test_add_func("/media/encoder/select-nothing-usable", test_select_nothing_usable);
  g_test_add_func("/media/encoder/select-unknown-names-ignored", test_select_unknown_names_ignored);
  g_test_add_func("/media/encoder/probe-default", test_probe_default);
  g_test_add_func("/media/config/codec-strings", test_codec_strings);
  g_test_add_func("/media/config/defaults", test_config_defaults);
  g_test_add_func("/media/engine/new", test_engine_new);
  g_test_add_func("/media/engine/bad-config", test_engine_bad_config);
  return g_test_run();
}
