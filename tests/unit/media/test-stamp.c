/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-stamp.c: the latency benchmark's time stamps in pictures (ar-stamp.c):
 * written and read back, refused when absent or damaged, and read back after a
 * real H.264 and VP8 encode and decode at a call's bitrate.
 */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#include "ar-media-priv.h"

static GstBuffer *
make_frame(GstVideoInfo *info, guint8 luma)
{
  GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  GstVideoFrame f;

  g_assert_true(gst_video_frame_map(&f, info, buf, GST_MAP_WRITE));
  for (guint c = 0; c < 3; c++) {
    guint8 *p = GST_VIDEO_FRAME_COMP_DATA(&f, c);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, c);
    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&f, c); y++)
      memset(p + (gsize)y * stride, c == 0 ? luma : 128, GST_VIDEO_FRAME_COMP_WIDTH(&f, c));
  }
  gst_video_frame_unmap(&f);
  return buf;
}

static void
test_roundtrip(void)
{
  GstVideoInfo info;
  const guint32 values[] = {0, 1, 0x80000000u, 0xffffffffu, 0x12345678u, 1733290000u};

  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 320, 240);
  for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
    g_autoptr(GstBuffer) buf = make_frame(&info, 100);
    GstVideoFrame f;
    guint32 got = 0;

    g_assert_true(gst_video_frame_map(&f, &info, buf, GST_MAP_READWRITE));
    g_assert_true(ar_stamp_write(&f, values[i]));
    g_assert_true(ar_stamp_read(&f, &got));
    g_assert_cmpuint(got, ==, values[i]);
    gst_video_frame_unmap(&f);
  }
  /* No stamp (a flat picture, black or white) and a damaged one: not read. */
  for (guint8 luma = 16; luma != 0; luma = luma == 16 ? 235 : 0) {
    g_autoptr(GstBuffer) buf = make_frame(&info, luma);
    GstVideoFrame f;
    guint32 got = 7;
    g_assert_true(gst_video_frame_map(&f, &info, buf, GST_MAP_READ));
    g_assert_false(ar_stamp_read(&f, &got));
    g_assert_cmpuint(got, ==, 7);
    gst_video_frame_unmap(&f);
  }
  {
    g_autoptr(GstBuffer) buf = make_frame(&info, 100);
    GstVideoFrame f;
    guint32 got;
    g_assert_true(gst_video_frame_map(&f, &info, buf, GST_MAP_READWRITE));
    g_assert_true(ar_stamp_write(&f, 0x0000ffffu));
    /* One bit of row 1 flipped: its complement in row 2 no longer matches. */
    guint8 *y = GST_VIDEO_FRAME_COMP_DATA(&f, 0);
    gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&f, 0);
    for (guint py = 0; py < AR_STAMP_BLOCK; py++)
      memset(y + (gsize)(AR_STAMP_BLOCK + py) * stride, 16, AR_STAMP_BLOCK);
    g_assert_false(ar_stamp_read(&f, &got));
    gst_video_frame_unmap(&f);
  }
  /* Too small a picture for the code: neither written nor read. */
  {
    GstVideoInfo small;
    gst_video_info_set_format(&small, GST_VIDEO_FORMAT_I420, 160, 120);
    g_autoptr(GstBuffer) buf = make_frame(&small, 100);
    GstVideoFrame f;
    guint32 got;
    g_assert_true(gst_video_frame_map(&f, &small, buf, GST_MAP_READWRITE));
    g_assert_false(ar_stamp_write(&f, 5));
    g_assert_false(ar_stamp_read(&f, &got));
    gst_video_frame_unmap(&f);
  }
}

/* Streaming thread: frame N carries 1000 * N + 777. */
static GstPadProbeReturn
stamp_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  guint *n = data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vinfo;
  GstVideoFrame f;
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));

  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (caps != NULL && gst_video_info_from_caps(&vinfo, caps) &&
      gst_video_frame_map(&f, &vinfo, buf, GST_MAP_WRITE)) {
    ar_stamp_write(&f, 1000 * (*n)++ + 777);
    gst_video_frame_unmap(&f);
  }
  return GST_PAD_PROBE_OK;
}

/* Moving test pictures, stamped, through a real encoder and decoder at a
 * call's bitrate: the decoded frames' stamps read back as written. */
static void
run_codec(const char *encoder)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *desc = g_strdup_printf(
      "videotestsrc num-buffers=60 pattern=ball ! video/x-raw,format=I420,width=640,height=360,"
      "framerate=30/1 ! identity name=stamp ! %s ! decodebin ! videoconvert "
      "! video/x-raw,format=I420 ! appsink name=out sync=false",
      encoder);
  g_autoptr(GstElement) pipeline = gst_parse_launch(desc, &error);
  g_autoptr(GstElement) stamp = NULL;
  g_autoptr(GstElement) out = NULL;
  g_autoptr(GstPad) pad = NULL;
  guint written = 0, frames = 0, read = 0;
  guint32 last = 0;

  g_assert_no_error(error);
  stamp = gst_bin_get_by_name(GST_BIN(pipeline), "stamp");
  out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  pad = gst_element_get_static_pad(stamp, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_probe, &written, NULL);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  for (;;) {
    g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample(GST_APP_SINK(out), 10 * GST_SECOND);
    GstVideoInfo vinfo;
    GstVideoFrame f;
    guint32 ms;
    if (sample == NULL)
      break;
    frames++;
    g_assert_true(gst_video_info_from_caps(&vinfo, gst_sample_get_caps(sample)));
    g_assert_true(gst_video_frame_map(&f, &vinfo, gst_sample_get_buffer(sample), GST_MAP_READ));
    if (ar_stamp_read(&f, &ms)) {
      read++;
      g_assert_cmpuint(ms % 1000, ==, 777);
      g_assert_cmpuint(ms / 1000, <, written);
      g_assert_true(read == 1 || ms > last);
      last = ms;
    }
    gst_video_frame_unmap(&f);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  g_test_message("%s: %u frames decoded, %u stamps read", encoder, frames, read);
  g_assert_cmpuint(frames, >=, 55);
  g_assert_cmpuint(read, ==, frames);
}

static void
test_h264(void)
{
  run_codec("x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=60");
}

static void
test_vp8(void)
{
  run_codec("vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=600000");
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/stamp/roundtrip", test_roundtrip);
  g_test_add_func("/media/stamp/h264", test_h264);
  g_test_add_func("/media/stamp/vp8", test_vp8);
  return g_test_run();
}
