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
    guint16 seqnum = 0;
    guint payload = 0;
    g_assert_true(ar_rtp_buffer_twcc_seqnum(gst_sample_get_buffer(sample), AR_MEDIA_EXT_TWCC,
                                            &seqnum, &payload));
    g_assert_cmpuint(seqnum, ==, GST_READ_UINT16_BE(data));
    g_assert_cmpuint(payload, ==, gst_rtp_buffer_get_payload_len(&rtp));
    g_assert_false(ar_rtp_buffer_twcc_seqnum(gst_sample_get_buffer(sample),
                                             AR_MEDIA_EXT_PLAYOUT_DELAY, &seqnum, &payload));
    g_assert_false(ar_rtp_buffer_twcc_seqnum(gst_sample_get_buffer(sample), 0, &seqnum, &payload));
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

static void
test_twcc_id(void)
{
  static const struct {
    const char *caps;
    guint id;
  } cases[] = {
      {"application/x-rtp,extmap-3=(string)" AR_MEDIA_TWCC_URI, 3},
      {"application/x-rtp,extmap-12=<(string)sendonly,(string)" AR_MEDIA_TWCC_URI ",(string)\"\">",
       12},
      {"application/x-rtp,extmap-4=(string)" AR_MEDIA_PLAYOUT_DELAY_URI, 0},
      {"application/x-rtp,extmap-0=(string)" AR_MEDIA_TWCC_URI, 0},
      {"application/x-rtp,extmap-256=(string)" AR_MEDIA_TWCC_URI, 0},
      {"application/x-rtp,extmap-3x=(string)" AR_MEDIA_TWCC_URI, 0},
      {"application/x-rtp,extmap-=(string)" AR_MEDIA_TWCC_URI, 0},
      {"application/x-rtp,extmap-5=(int)7", 0},
      {"application/x-rtp,extmap-5=<(string)sendonly>", 0},
      {"application/x-rtp", 0},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GstCaps) caps = gst_caps_from_string(cases[i].caps);

    g_assert_nonnull(caps);
    g_assert_cmpuint(ar_rtp_caps_twcc_id(caps), ==, cases[i].id);
  }
  g_assert_cmpuint(ar_rtp_caps_twcc_id(NULL), ==, 0);
}

/* Two streams into GStreamer's rtpfunnel, as webrtcbin bundles them, and the
 * funnel into an RTP session. */
typedef struct {
  GstElement *pipeline, *funnel, *session;
  GstPad *audio, *video, *send_rtp_sink;
  gboolean race; /* the video's caps come while the audio's first caps go */
  guint seq;
  GArray *wire; /* guint16: the transport-wide numbers on what the session sent */
} Bundle;

/* Our video's first RTP sequence number (any). */
#define VIDEO_SEQ 40000

static void
push_start(GstPad *pad, const char *caps_string, const char *stream)
{
  g_autoptr(GstCaps) caps = gst_caps_from_string(caps_string);
  GstSegment segment;

  g_assert_true(gst_pad_push_event(pad, gst_event_new_stream_start(stream)));
  g_assert_true(gst_pad_push_event(pad, gst_event_new_caps(caps)));
  gst_segment_init(&segment, GST_FORMAT_TIME);
  g_assert_true(gst_pad_push_event(pad, gst_event_new_segment(&segment)));
}

/* A packet; video ones with the transport-wide number our payloader writes
 * (GStreamer's rtphdrexttwcc alone on its stream: the RTP sequence number). */
static void
push_rtp(Bundle *b, GstPad *pad, guint8 pt, guint32 ssrc, gboolean twcc)
{
  GstBuffer *buffer = gst_rtp_buffer_new_allocate(100, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint16 seq = twcc ? (guint16)(VIDEO_SEQ + b->seq++) : 7;
  guint8 slot[2] = {seq >> 8, seq & 0xff};

  g_assert_true(gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_payload_type(&rtp, pt);
  gst_rtp_buffer_set_ssrc(&rtp, ssrc);
  gst_rtp_buffer_set_seq(&rtp, seq);
  if (twcc)
    g_assert_true(gst_rtp_buffer_add_extension_onebyte_header(&rtp, AR_MEDIA_EXT_TWCC, slot, 2));
  gst_rtp_buffer_unmap(&rtp);
  g_assert_cmpint(gst_pad_push(pad, buffer), ==, GST_FLOW_OK);
}

#define AUDIO_CAPS                                                                                 \
  "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,ssrc=(uint)1"
#define VIDEO_CAPS                                                                                 \
  "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,ssrc=(uint)2,"     \
  "extmap-3=(string)" AR_MEDIA_TWCC_URI

/* On the funnel's output: the first caps (the audio's) are on their way, and
 * the video's caps come now (from another thread in a call; here from this
 * one, so the order is certain). */
static GstPadProbeReturn
on_funnel_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Bundle *b = data;
  (void)pad;

  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_CAPS || !b->race)
    return GST_PAD_PROBE_OK;
  b->race = FALSE;
  push_start(b->video, VIDEO_CAPS, "video");
  return GST_PAD_PROBE_OK;
}

/* What the session sends: the numbers our log (ar-peer-rate.c) would read. */
static GstPadProbeReturn
on_sent(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Bundle *b = data;
  guint16 seqnum;
  guint size;
  (void)pad;

  if (ar_rtp_buffer_twcc_seqnum(GST_PAD_PROBE_INFO_BUFFER(info), AR_MEDIA_EXT_TWCC, &seqnum,
                                &size)) {
    g_assert_cmpuint(size, ==, 100);
    g_array_append_val(b->wire, seqnum);
  }
  return GST_PAD_PROBE_OK;
}

static void
bundle_run(Bundle *b, gboolean race)
{
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_autoptr(GstPad) funnel_src = NULL, session_src = NULL;
  GstPad *pad;

  memset(b, 0, sizeof(*b));
  b->race = race;
  b->wire = g_array_new(FALSE, FALSE, sizeof(guint16));
  b->pipeline = gst_pipeline_new(NULL);
  b->funnel = gst_element_factory_make("rtpfunnel", NULL);
  b->session = gst_element_factory_make("rtpsession", NULL);
  g_assert_nonnull(b->funnel);
  g_assert_nonnull(b->session);
  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many(GST_BIN(b->pipeline), b->funnel, b->session, sink, NULL);
  b->send_rtp_sink = gst_element_request_pad_simple(b->session, "send_rtp_sink");
  g_assert_nonnull(b->send_rtp_sink);
  funnel_src = gst_element_get_static_pad(b->funnel, "src");
  g_assert_cmpint(gst_pad_link(funnel_src, b->send_rtp_sink), ==, GST_PAD_LINK_OK);
  session_src = gst_element_get_static_pad(b->session, "send_rtp_src");
  g_assert_nonnull(session_src);
  pad = gst_element_get_static_pad(sink, "sink");
  g_assert_cmpint(gst_pad_link(session_src, pad), ==, GST_PAD_LINK_OK);
  gst_object_unref(pad);
  gst_pad_add_probe(funnel_src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_funnel_event, b, NULL);
  gst_pad_add_probe(session_src, GST_PAD_PROBE_TYPE_BUFFER, on_sent, b, NULL);
  g_assert_cmpint(gst_element_set_state(b->pipeline, GST_STATE_PLAYING), ==,
                  GST_STATE_CHANGE_SUCCESS);
  b->audio = gst_pad_new("audio", GST_PAD_SRC);
  b->video = gst_pad_new("video", GST_PAD_SRC);
  gst_pad_set_active(b->audio, TRUE);
  gst_pad_set_active(b->video, TRUE);
  pad = gst_element_request_pad_simple(b->funnel, "sink_%u");
  g_assert_cmpint(gst_pad_link(b->audio, pad), ==, GST_PAD_LINK_OK);
  gst_object_unref(pad);
  pad = gst_element_request_pad_simple(b->funnel, "sink_%u");
  g_assert_cmpint(gst_pad_link(b->video, pad), ==, GST_PAD_LINK_OK);
  gst_object_unref(pad);
  push_start(b->audio, AUDIO_CAPS, "audio");
  if (!race)
    push_start(b->video, VIDEO_CAPS, "video");
  for (guint i = 0; i < 5; i++) {
    push_rtp(b, b->audio, 111, 1, FALSE);
    push_rtp(b, b->video, 96, 2, TRUE);
    push_rtp(b, b->video, 96, 2, TRUE);
  }
}

static void
bundle_stop(Bundle *b)
{
  gst_element_set_state(b->pipeline, GST_STATE_NULL);
  gst_object_unref(b->audio);
  gst_object_unref(b->video);
  gst_object_unref(b->send_rtp_sink);
  gst_object_unref(b->pipeline);
  g_array_unref(b->wire);
}

/* The extension id the session was told (its send caps). */
static guint
session_twcc_id(Bundle *b)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(b->send_rtp_sink);

  g_assert_nonnull(caps);
  return ar_rtp_caps_twcc_id(caps);
}

/* The video's packets leave numbered one after the other, from FIRST. */
static void
assert_numbered(Bundle *b, guint16 first)
{
  g_assert_cmpuint(b->wire->len, ==, 10);
  g_assert_cmpuint(g_array_index(b->wire, guint16, 0), ==, first);
  for (guint i = 1; i < b->wire->len; i++)
    g_assert_cmpuint(g_array_index(b->wire, guint16, i), ==,
                     (guint16)(g_array_index(b->wire, guint16, i - 1) + 1));
}

static void
test_funnel_race(void)
{
  Bundle b;

  /* The usual order: the session learns the extension from the funnel, and
   * numbers the packets itself (from 0) as it keeps their send times. */
  bundle_run(&b, FALSE);
  g_assert_cmpuint(session_twcc_id(&b), ==, 3);
  assert_numbered(&b, 0);
  bundle_stop(&b);

  /* The race: the funnel took note of the video's extension while the audio's
   * caps went, then marked its caps as sent: the session never learns it
   * (GStreamer 1.22 to 1.26, gst_rtp_funnel_send_sticky()), and keeps no send
   * times. The packets still leave numbered (by our payloader, the funnel
   * keeps the numbers of a single stream), what our own log of send times
   * reads (ar-peer-rate.c). */
  bundle_run(&b, TRUE);
  g_assert_false(b.race);
  g_assert_cmpuint(session_twcc_id(&b), ==, 0);
  assert_numbered(&b, VIDEO_SEQ);
  bundle_stop(&b);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/hdrext/playout-delay-pack", test_pack);
  g_test_add_func("/media/hdrext/vp8", test_vp8);
  g_test_add_func("/media/hdrext/h264", test_h264);
  g_test_add_func("/media/hdrext/twcc-id", test_twcc_id);
  g_test_add_func("/media/hdrext/funnel-race", test_funnel_race);
  return g_test_run();
}
