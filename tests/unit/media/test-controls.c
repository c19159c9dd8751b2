/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-controls.c: the media controls' pad probes on real GStreamer buffers:
 * the speaker gain at several volumes, microphone silence, and the camera-off
 * black frame in the raw formats cameras and hardware encoders use (checked by
 * converting it to RGB with GStreamer's own converter).
 */
#include <math.h>
#include <string.h>

#include "ar-media-priv.h"

typedef struct {
  double sum;
  guint64 n;
} Rms;

/* Runs after the control's probe (probes run in the order they were added). */
static GstPadProbeReturn
measure_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Rms *r = data;
  GstMapInfo map;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    const gint16 *s = (const gint16 *)map.data;
    for (gsize i = 0; i < map.size / 2; i++) {
      double x = GINT16_FROM_LE(s[i]) / 32768.0;
      r->sum += x * x;
      r->n++;
    }
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

/* Mean of the first 64x48 bytes (NV12's Y plane). */
static GstPadProbeReturn
luma_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Rms *r = data;
  GstMapInfo map;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    for (gsize i = 0; i < MIN(map.size, 64 * 48); i++)
      r->sum += map.data[i];
    r->n += MIN(map.size, 64 * 48);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

/* RMS (0..1) of what reaches the sink of a 0.5 sine with @attach's probe. */
static double
run_audio(void (*attach)(ArMediaControls *, GstPad *), ArMediaControls *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipe =
      gst_parse_launch("audiotestsrc wave=sine freq=440 volume=0.5 num-buffers=20 ! "
                       "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! "
                       "fakesink name=sink sync=false",
                       &error);
  g_assert_no_error(error);
  g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  g_autoptr(GstPad) pad = gst_element_get_static_pad(sink, "sink");
  Rms r = {0};
  if (attach)
    attach(c, pad);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, measure_probe, &r, NULL);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipe);
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state(pipe, GST_STATE_NULL);
  g_assert_cmpuint(r.n, >, 0);
  return sqrt(r.sum / (double)r.n);
}

static void
test_speaker_volume(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_media_init(&error));
  ArMediaControls *c = ar_media_controls_new();
  double plain = run_audio(NULL, c);
  g_assert_cmpfloat(plain, >, 0.3); /* 0.5 sine: RMS 0.354 */
  const guint levels[] = {100, 70, 50, 10, 0};
  for (gsize i = 0; i < G_N_ELEMENTS(levels); i++) {
    ar_media_controls_set_volume(c, levels[i]);
    double rms = run_audio(ar_media_controls_attach_speaker, c);
    double want = plain * ar_media_volume_to_gain(levels[i]);
    g_test_message("volume %u: RMS %.5f (want %.5f)", levels[i], rms, want);
    g_assert_cmpfloat(fabs(rms - want), <=, 0.002 + want * 0.01);
  }
  ar_media_controls_unref(c);
}

static void
test_microphone_mute(void)
{
  ArMediaControls *c = ar_media_controls_new();
  g_assert_cmpfloat(run_audio(ar_media_controls_attach_microphone, c), >, 0.3);
  ar_media_controls_set_mic_muted(c, TRUE);
  g_assert_cmpfloat(run_audio(ar_media_controls_attach_microphone, c), ==, 0.0);
  ar_media_controls_unref(c);
}

/* The black frame of @format, converted to RGB by GStreamer: every pixel
 * black (at most 2/255 off, chroma rounding). */
static void
check_black(GstVideoFormat format)
{
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, format, 64, 48);
  gst_video_info_set_format(&out, GST_VIDEO_FORMAT_RGB, 64, 48);
  g_autoptr(GstBuffer) black = ar_media_make_black_frame(&in);
  g_assert_nonnull(black);
  g_autoptr(GstBuffer) rgb = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&out), NULL);
  GstVideoFrame fin, fout;
  g_assert_true(gst_video_frame_map(&fin, &in, black, GST_MAP_READ));
  g_assert_true(gst_video_frame_map(&fout, &out, rgb, GST_MAP_WRITE));
  GstVideoConverter *conv = gst_video_converter_new(&in, &out, NULL);
  gst_video_converter_frame(conv, &fin, &fout);
  gst_video_converter_free(conv);
  guint worst = 0;
  for (guint y = 0; y < 48; y++) {
    const guint8 *line = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&fout, 0) +
                         y * GST_VIDEO_FRAME_PLANE_STRIDE(&fout, 0);
    for (guint x = 0; x < 64 * 3; x++)
      worst = MAX(worst, line[x]);
  }
  gst_video_frame_unmap(&fin);
  gst_video_frame_unmap(&fout);
  g_test_message("%s: brightest component %u", gst_video_format_to_string(format), worst);
  g_assert_cmpuint(worst, <=, 2);
}

static void
test_black_frames(void)
{
  const GstVideoFormat formats[] = {
      GST_VIDEO_FORMAT_I420,      GST_VIDEO_FORMAT_NV12,      GST_VIDEO_FORMAT_YV12,
      GST_VIDEO_FORMAT_YUY2,      GST_VIDEO_FORMAT_UYVY,      GST_VIDEO_FORMAT_Y42B,
      GST_VIDEO_FORMAT_Y444,      GST_VIDEO_FORMAT_BGRx,      GST_VIDEO_FORMAT_RGBA,
      GST_VIDEO_FORMAT_I420_10LE, GST_VIDEO_FORMAT_P010_10LE,
  };
  for (gsize i = 0; i < G_N_ELEMENTS(formats); i++)
    check_black(formats[i]);
}

/* The camera gate: frames replaced while off, passed while on. */
static void
test_camera_gate(void)
{
  ArMediaControls *c = ar_media_controls_new();
  for (int off = 0; off <= 1; off++) {
    ar_media_controls_set_camera_enabled(c, !off);
    g_autoptr(GError) error = NULL;
    g_autoptr(GstElement) pipe =
        gst_parse_launch("videotestsrc pattern=white num-buffers=5 ! "
                         "video/x-raw,format=NV12,width=64,height=48 ! fakesink name=sink",
                         &error);
    g_assert_no_error(error);
    g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
    g_autoptr(GstPad) pad = gst_element_get_static_pad(sink, "sink");
    ar_media_controls_attach_camera(c, pad);
    Rms luma = {0};
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, luma_probe, &luma, NULL);
    g_autoptr(GstBus) bus = gst_element_get_bus(pipe);
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    g_autoptr(GstMessage) msg =
        gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    g_assert_nonnull(msg);
    g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
    gst_element_set_state(pipe, GST_STATE_NULL);
    g_assert_cmpuint(luma.n, >, 0);
    double mean = luma.sum / (double)luma.n;
    g_test_message("camera %s: mean luma %.1f", off ? "off" : "on", mean);
    if (off)
      g_assert_cmpfloat(fabs(mean - 16.0), <, 0.5); /* video-range black */
    else
      g_assert_cmpfloat(mean, >, 200.0); /* white: 235 */
  }
  ar_media_controls_unref(c);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(ar_media_init(&error));
  g_test_add_func("/media/controls/speaker-volume", test_speaker_volume);
  g_test_add_func("/media/controls/microphone-mute", test_microphone_mute);
  g_test_add_func("/media/controls/black-frames", test_black_frames);
  g_test_add_func("/media/controls/camera-gate", test_camera_gate);
  return g_test_run();
}
