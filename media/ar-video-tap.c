/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-video-tap.c: the encoded video of every peer, for a renderer outside the
 * pipeline (the room screen's browser decodes it with WebCodecs; see
 * docs/decisions.md "Native-call video on the room page").
 *
 * RECV: webrtcbin's RTP goes through a tee to the decoder (as before) and to
 * a depayloader (+ h264parse: Annex B access units, SPS/PPS before every IDR)
 * whose output a probe hands over. SEND: the encoded frames entering the
 * payloader (our self view, after the camera-off gate). No re-encoding, no
 * decoding. Units are posted to the peer's context one by one; a unit posted
 * after the tap closed is dropped.
 */
#include "ar-peer-priv.h"

#include <gst/video/video.h>

struct _ArVideoTap {
  ArMediaEngine *engine;
  char *track;
  gboolean local;
  ArVideoCodec codec;
  GMainContext *context;
  GstPad *key_pad; /* where an upstream force-key-unit event goes */
  guint ssrc;      /* RECV: the RTP session finds the sender by it */
  gint closed;     /* atomic */
  gint refs;       /* atomic */
  guint key_count;
};

typedef struct {
  ArVideoTap *tap;
  GBytes *data;
  gboolean key;
  gint64 pts_us;
} ArTapUnit;

static ArVideoTap *
ar_video_tap_ref(ArVideoTap *tap)
{
  g_atomic_int_inc(&tap->refs);
  return tap;
}

static void
ar_video_tap_unref(gpointer data)
{
  ArVideoTap *tap = data;
  if (!g_atomic_int_dec_and_test(&tap->refs))
    return;
  g_clear_object(&tap->key_pad);
  g_main_context_unref(tap->context);
  g_free(tap->track);
  g_free(tap);
}

static void
ar_tap_unit_free(gpointer data)
{
  ArTapUnit *u = data;
  ar_video_tap_unref(u->tap);
  g_bytes_unref(u->data);
  g_free(u);
}

static gboolean
ar_tap_unit_dispatch(gpointer data)
{
  ArTapUnit *u = data;
  ArVideoUnit unit = {
      .track = u->tap->track,
      .local = u->tap->local,
      .codec = u->tap->codec,
      .key = u->key,
      .pts_us = u->pts_us,
      .data = u->data,
  };
  if (!g_atomic_int_get(&u->tap->closed))
    ar_media_engine_emit_video_unit(u->tap->engine, &unit);
  return G_SOURCE_REMOVE;
}

/* Streaming thread: one encoded frame. */
static GstPadProbeReturn
ar_video_tap_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArVideoTap *tap = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  ArTapUnit *u;

  if (buf == NULL || g_atomic_int_get(&tap->closed) || gst_buffer_get_size(buf) == 0 ||
      gst_buffer_get_size(buf) > AR_VIDEO_UNIT_MAX_SIZE)
    return GST_PAD_PROBE_OK;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  u = g_new0(ArTapUnit, 1);
  u->tap = ar_video_tap_ref(tap);
  u->data = g_bytes_new(map.data, map.size);
  gst_buffer_unmap(buf, &map);
  u->key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  u->pts_us = GST_BUFFER_PTS_IS_VALID(buf) ? (gint64)(GST_BUFFER_PTS(buf) / GST_USECOND) : 0;
  g_main_context_invoke_full(tap->context, G_PRIORITY_DEFAULT, ar_tap_unit_dispatch, u,
                             ar_tap_unit_free);
  return GST_PAD_PROBE_OK;
}

ArVideoTap *
ar_video_tap_new(ArMediaEngine *engine, const char *track, gboolean local, ArVideoCodec codec,
                 GMainContext *context)
{
  ArVideoTap *tap = g_new0(ArVideoTap, 1);
  tap->refs = 1;
  tap->engine = engine;
  tap->track = g_strdup(track);
  tap->local = local;
  tap->codec = codec;
  tap->context = g_main_context_ref(context);
  ar_media_engine_add_tap(engine, tap);
  return tap;
}

const char *
ar_video_tap_get_track(ArVideoTap *tap)
{
  return tap->track;
}

/* @pad carries one encoded frame per buffer; @key_pad receives key frame
 * requests (upstream). */
void
ar_video_tap_attach(ArVideoTap *tap, GstPad *pad, GstPad *key_pad, guint ssrc)
{
  g_set_object(&tap->key_pad, key_pad);
  tap->ssrc = ssrc;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_video_tap_probe, ar_video_tap_ref(tap),
                    ar_video_tap_unref);
}

void
ar_video_tap_request_key_frame(ArVideoTap *tap)
{
  GstEvent *event;

  if (tap->key_pad == NULL || g_atomic_int_get(&tap->closed))
    return;
  event = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, ++tap->key_count);
  if (tap->ssrc != 0)
    gst_structure_set(gst_event_writable_structure(event), "ssrc", G_TYPE_UINT, tap->ssrc, NULL);
  GST_DEBUG("tap %s: asking for a key frame", tap->track);
  if (GST_PAD_IS_SINK(tap->key_pad))
    gst_pad_push_event(tap->key_pad, event); /* travels upstream to the encoder */
  else
    gst_pad_send_event(tap->key_pad, event); /* webrtcbin's src pad: RTCP PLI */
}

void
ar_video_tap_close(ArVideoTap *tap)
{
  if (tap == NULL || g_atomic_int_get(&tap->closed))
    return;
  g_atomic_int_set(&tap->closed, 1);
  ar_media_engine_remove_tap(tap->engine, tap);
}

void
ar_video_tap_free(ArVideoTap *tap)
{
  if (tap == NULL)
    return;
  ar_video_tap_close(tap);
  ar_video_tap_unref(tap);
}

/* ---- RECV: a depayloading branch beside the decoder ---- */

static ArVideoCodec
ar_codec_of_encoding(const char *encoding)
{
  if (encoding != NULL && g_ascii_strcasecmp(encoding, "H264") == 0)
    return AR_VIDEO_CODEC_H264;
  if (encoding != NULL && g_ascii_strcasecmp(encoding, "VP8") == 0)
    return AR_VIDEO_CODEC_VP8;
  return AR_VIDEO_CODEC_AUTO;
}

/* Streaming thread (pad-added). Returns the pad to link the decoder to: a
 * tee's, or @src itself when the codec cannot be tapped. */
GstPad *
ar_video_tap_branch(ArVideoTap *tap, GstBin *pipeline, GstPad *src, const char *encoding,
                    guint ssrc)
{
  ArVideoCodec codec = ar_codec_of_encoding(encoding);
  GstElement *tee, *queue, *depay, *parse = NULL, *filter = NULL, *sink;
  g_autoptr(GstPad) tee_sink = NULL;
  g_autoptr(GstPad) branch = NULL;
  g_autoptr(GstPad) queue_sink = NULL;
  g_autoptr(GstPad) out = NULL;

  if (codec == AR_VIDEO_CODEC_AUTO)
    return gst_object_ref(src);
  tap->codec = codec;
  tee = gst_element_factory_make("tee", NULL);
  queue = gst_element_factory_make("queue", NULL);
  depay =
      gst_element_factory_make(codec == AR_VIDEO_CODEC_H264 ? "rtph264depay" : "rtpvp8depay", NULL);
  sink = gst_element_factory_make("fakesink", NULL);
  if (codec == AR_VIDEO_CODEC_H264) {
    parse = gst_element_factory_make("h264parse", NULL);
    filter = gst_element_factory_make("capsfilter", NULL);
  }
  if (tee == NULL || queue == NULL || depay == NULL || sink == NULL ||
      (codec == AR_VIDEO_CODEC_H264 && (parse == NULL || filter == NULL))) {
    GST_WARNING("tap %s: missing elements, no encoded video for the screen", tap->track);
    GstElement *made[] = {tee, queue, depay, sink, parse, filter};
    for (gsize i = 0; i < G_N_ELEMENTS(made); i++) {
      if (made[i] != NULL)
        gst_object_unref(gst_object_ref_sink(made[i]));
    }
    return gst_object_ref(src);
  }
  /* The tap never holds the decoder back: a slow consumer loses frames here
   * (the relay then waits for a key frame), the decoder gets every packet. */
  g_object_set(tee, "allow-not-linked", TRUE, NULL);
  g_object_set(queue, "max-size-buffers", 200u, "max-size-bytes", 0u, "max-size-time", (guint64)0,
               NULL);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many(pipeline, tee, queue, depay, sink, NULL);
  if (parse != NULL) {
    g_autoptr(GstCaps) caps =
        gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
    g_object_set(parse, "config-interval", -1, NULL);
    g_object_set(filter, "caps", caps, NULL);
    gst_bin_add_many(pipeline, parse, filter, NULL);
    if (!gst_element_link_many(queue, depay, parse, filter, sink, NULL))
      GST_WARNING("tap %s: cannot link the H.264 branch", tap->track);
  } else if (!gst_element_link_many(queue, depay, sink, NULL)) {
    GST_WARNING("tap %s: cannot link the VP8 branch", tap->track);
  }
  g_object_set(depay, "request-keyframe", TRUE, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(depay), "wait-for-keyframe") != NULL)
    g_object_set(depay, "wait-for-keyframe", TRUE, NULL);
  tee_sink = gst_element_get_static_pad(tee, "sink");
  branch = gst_element_request_pad_simple(tee, "src_%u");
  queue_sink = gst_element_get_static_pad(queue, "sink");
  gst_pad_link(branch, queue_sink);
  out = gst_element_get_static_pad(sink, "sink");
  ar_video_tap_attach(tap, out, src, ssrc);
  if (gst_pad_link(src, tee_sink) != GST_PAD_LINK_OK)
    GST_WARNING("tap %s: cannot link webrtcbin to the tee", tap->track);
  gst_element_sync_state_with_parent(sink);
  if (filter != NULL)
    gst_element_sync_state_with_parent(filter);
  if (parse != NULL)
    gst_element_sync_state_with_parent(parse);
  gst_element_sync_state_with_parent(depay);
  gst_element_sync_state_with_parent(queue);
  gst_element_sync_state_with_parent(tee);
  return gst_element_request_pad_simple(tee, "src_%u");
}
