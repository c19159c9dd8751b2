/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hdrext.c: the RTP header extensions on our video (media/ar-encoder.c,
 * media/ar-playout-delay.c). The encoder bin's RTP carries the
 * transport-wide sequence number slot (id 3, 2 bytes) and the playout-delay
 * wish (id 4, 3 bytes) on every packet, and its caps name both (what the
 * offer's a=extmap lines come from).
 */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <string.h>

#include "ar-media-priv.h"

static void
test_pack(void)
{
  guint8 d[3];

  g_assert_cmpuint(ar_playout_delay_pack(0, 0, d, sizeof(d)), ==, 3);
  g_assert_cmpmem(d, 3, ((guint8[]){0, 0, 0}), 3);
  /* 100 ms and 400 ms: 10 and 40 units of 10 ms, 12 bits each. */
  g_assert_cmpuint(ar_playout_delay_pack(100, 400, d, sizeof(d)), ==, 3);
  g_assert_cmpmem(d, 3, ((guint8[]){0x00, 0xa0, 0x28}), 3);
  /* Clamped at 40.95 s; a maximum under the minimum is raised to it. */
  g_assert_cmpuint(ar_playout_delay_pack(99999, 5, d, sizeof(d)), ==, 3);
  g_assert_cmpmem(d, 3, ((guint8[]){0xff, 0xff, 0xff}), 3);
  g_assert_cmpuint(ar_playout_delay_pack(0, 0, d, 2), ==, 0);
  g_assert_cmpuint(ar_playout_delay_pack(0, 0, NULL, 3), ==, 0);
}

static const ArEncoderInfo *
software_encoder(ArVideoCodec codec)
{
  gsize n = 0;
  const ArEncoderInfo *table = ar_encoder_table(&n);

  for (gsize i = 0; i < n; i++)
    if (table[i].codec == codec && !table[i].hardware &&
        ar_encoder_probe_default(table[i].factory, NULL))
      return &table[i];
  return NULL;
}

static void
check_codec(ArVideoCodec codec)
{
  const ArEncoderInfo *info = software_encoder(codec);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_pipeline_new(NULL);
  GstElement *src = gst_element_factory_make("videotestsrc", NULL);
  GstElement *caps = gst_element_factory_make("capsfilter", NULL);
  GstElement *bin, *sink = gst_element_factory_make("appsink", NULL);
  g_autoptr(GstCaps) raw = gst_caps_from_string("video/x-raw,format=I420,width=320,height=240,"
                                                "framerate=30/1");
  guint packets = 0;

  if (info == NULL) {
    g_test_skip("no software encoder for this codec");
    return;
  }
  bin = ar_encoder_make_bin(info, 500, 30, &error);
  g_assert_no_error(error);
  g_assert_nonnull(bin);
  g_object_set(src, "num-buffers", 10, NULL);
  g_object_set(caps, "caps", raw, NULL);
  g_object_set(sink, "sync", FALSE, NULL);
  gst_bin_add_many(GST_BIN(pipeline), src, caps, bin, sink, NULL);
  g_assert_true(gst_element_link_many(src, caps, bin, sink, NULL));
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  for (;;) {
    g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gpointer data = NULL;
    guint size = 0;

    if (sample == NULL)
      break;
    if (packets == 0) {
      /* The caps name both (the offer's a=extmap lines). */
      const GstStructure *s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);

      g_assert_cmpstr(gst_structure_get_string(s, "extmap-3"), ==, AR_MEDIA_TWCC_URI);
      g_assert_cmpstr(gst_structure_get_string(s, "extmap-4"), ==, AR_MEDIA_PLAYOUT_DELAY_URI);
    }
    g_assert_true(gst_rtp_buffer_map(gst_sample_get_buffer(sample), GST_MAP_READ, &rtp));
    g_assert_true(
        gst_rtp_buffer_get_extension_onebyte_header(&rtp, AR_MEDIA_EXT_TWCC, 0, &data, &size));
    g_assert_cmpuint(size, ==, 2);
    g_assert_true(gst_rtp_buffer_get_extension_onebyte_header(&rtp, AR_MEDIA_EXT_PLAYOUT_DELAY, 0,
                                                              &data, &size));
    g_assert_cmpuint(size, ==, 3);
    guint8 want[3];
    ar_playout_delay_pack(AR_MEDIA_PLAYOUT_MIN_MS, AR_MEDIA_PLAYOUT_MAX_MS, want, sizeof(want));
    g_assert_cmpmem(data, 3, want, 3);
    gst_rtp_buffer_unmap(&rtp);
    packets++;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  g_test_message("%s: %u packets, each with both extensions", info->factory, packets);
  g_assert_cmpuint(packets, >=, 10);
}

static void
test_vp8(void)
{
  check_codec(AR_VIDEO_CODEC_VP8);
}

static void
test_h264(void)
{
  check_codec(AR_VIDEO_CODEC_H264);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/hdrext/playout-delay-pack", test_pack);
  g_test_add_func("/media/hdrext/vp8", test_vp8);
  g_test_add_func("/media/hdrext/h264", test_h264);
  return g_test_run();
}
