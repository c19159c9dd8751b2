/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-media-controls.c: the room's media controls, applied to every peer of an
 * engine at once: microphone mute (digital silence before the encoder),
 * camera off (every camera frame replaced by a black frame before the
 * encoder: the far end sees a dark picture, never a frozen live frame, and
 * the live camera never leaves the room), and speaker volume (a gain on the
 * decoded audio before the speaker).
 *
 * Pad probes read the shared state atomically on streaming threads; setters
 * run in the engine's context. The state is refcounted so a probe outlives
 * neither its state nor needs the engine.
 */
#include "ar-media-priv.h"

#include <gst/video/video.h>
#include <string.h>

struct _ArMediaControls {
  gint mic_muted;  /* atomic */
  gint camera_off; /* atomic */
  gint volume;     /* atomic, 0..AR_MEDIA_VOLUME_MAX */
};

ArMediaControls *
ar_media_controls_new(void)
{
  ArMediaControls *c = g_atomic_rc_box_new0(ArMediaControls);
  c->volume = AR_MEDIA_VOLUME_DEFAULT;
  return c;
}

ArMediaControls *
ar_media_controls_ref(ArMediaControls *c)
{
  return g_atomic_rc_box_acquire(c);
}

void
ar_media_controls_unref(ArMediaControls *c)
{
  if (c != NULL)
    g_atomic_rc_box_release(c);
}

static void
ar_controls_unref_notify(gpointer c)
{
  ar_media_controls_unref(c);
}

void
ar_media_controls_set_mic_muted(ArMediaControls *c, gboolean muted)
{
  g_atomic_int_set(&c->mic_muted, muted ? 1 : 0);
}

gboolean
ar_media_controls_get_mic_muted(ArMediaControls *c)
{
  return g_atomic_int_get(&c->mic_muted) != 0;
}

void
ar_media_controls_set_camera_enabled(ArMediaControls *c, gboolean enabled)
{
  g_atomic_int_set(&c->camera_off, enabled ? 0 : 1);
}

gboolean
ar_media_controls_get_camera_enabled(ArMediaControls *c)
{
  return g_atomic_int_get(&c->camera_off) == 0;
}

void
ar_media_controls_set_volume(ArMediaControls *c, guint level)
{
  g_atomic_int_set(&c->volume, (gint)MIN(level, AR_MEDIA_VOLUME_MAX));
}

guint
ar_media_controls_get_volume(ArMediaControls *c)
{
  return (guint)g_atomic_int_get(&c->volume);
}

double
ar_media_volume_to_gain(guint level)
{
  /* A cubic curve, as PulseAudio's volume sliders: equal steps sound like
   * equal steps (a linear gain puts all the change at the bottom). */
  double x = MIN(level, AR_MEDIA_VOLUME_MAX) / (double)AR_MEDIA_VOLUME_MAX;
  return x * x * x;
}

/* ---- microphone: S16 silence ---- */

static GstPadProbeReturn
ar_mic_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArMediaControls *c = user_data;
  GstBuffer *buf;
  GstMapInfo map;

  if (!g_atomic_int_get(&c->mic_muted))
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
    memset(map.data, 0, map.size);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

void
ar_media_controls_attach_microphone(ArMediaControls *c, GstPad *pad)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_mic_probe, ar_media_controls_ref(c),
                    ar_controls_unref_notify);
}

/* ---- speaker: S16 gain ---- */

static GstPadProbeReturn
ar_speaker_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArMediaControls *c = user_data;
  guint level = (guint)g_atomic_int_get(&c->volume);
  GstBuffer *buf;
  GstMapInfo map;
  gint32 gain_q15;

  if (level >= AR_MEDIA_VOLUME_MAX)
    return GST_PAD_PROBE_OK;
  gain_q15 = (gint32)(ar_media_volume_to_gain(level) * 32768.0 + 0.5);
  buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (gst_buffer_map(buf, &map, GST_MAP_READWRITE)) {
    gint16 *s = (gint16 *)map.data;
    gsize n = map.size / 2;
    for (gsize i = 0; i < n; i++) {
      gint16 v = (gint16)GUINT16_FROM_LE((guint16)s[i]);
      s[i] = (gint16)GUINT16_TO_LE((guint16)(gint16)(((gint32)v * gain_q15) >> 15));
    }
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

void
ar_media_controls_attach_speaker(ArMediaControls *c, GstPad *pad)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_speaker_probe, ar_media_controls_ref(c),
                    ar_controls_unref_notify);
}

/* ---- camera: black frames ---- */

typedef struct {
  ArMediaControls *controls;
  GMutex lock;
  GstVideoInfo info;
  gboolean have_info;
  GstBuffer *black; /* one black frame of @info, shared read-only */
} ArCameraGate;

static void
ar_camera_gate_free(gpointer data)
{
  ArCameraGate *g = data;
  ar_media_controls_unref(g->controls);
  gst_clear_buffer(&g->black);
  g_mutex_clear(&g->lock);
  g_free(g);
}

GstBuffer *
ar_media_make_black_frame(const GstVideoInfo *info)
{
  const GstVideoFormatInfo *f = info->finfo;
  const GstVideoFormatInfo *uf = gst_video_format_get_info(f->unpack_format);
  GstVideoInfo vinfo = *info;
  GstVideoFrame frame;
  gboolean wide, yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(f);
  guint width = GST_VIDEO_INFO_WIDTH(info), height = GST_VIDEO_INFO_HEIGHT(info);
  guint lines = (guint)MAX(f->pack_lines, 1);
  gsize pixel, sstride;
  g_autofree guint8 *src = NULL;
  GstBuffer *buf;

  if (uf == NULL || f->pack_func == NULL || width == 0 || height == 0 ||
      GST_VIDEO_INFO_SIZE(info) == 0)
    return NULL;
  wide = GST_VIDEO_FORMAT_INFO_BITS(uf) > 8; /* AYUV64 / ARGB64 */
  pixel = wide ? 8 : 4;
  sstride = (gsize)width * pixel;
  src = g_malloc0(sstride * lines);
  for (guint y = 0; y < lines; y++) {
    for (guint x = 0; x < width; x++) {
      /* A, Y/R, U/G, V/B: video-range black, or RGB black. */
      guint16 px[4] = {0xffff, yuv ? 16 << 8 : 0, yuv ? 128 << 8 : 0, yuv ? 128 << 8 : 0};
      guint8 *p = src + y * sstride + x * pixel;
      for (guint k = 0; k < 4; k++) {
        if (wide)
          ((guint16 *)p)[k] = px[k];
        else
          p[k] = (guint8)(px[k] >> 8);
      }
    }
  }
  buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  if (buf == NULL)
    return NULL;
  if (!gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE)) {
    gst_buffer_unref(buf);
    return NULL;
  }
  for (guint y = 0; y < height; y += lines) {
    f->pack_func(f, GST_VIDEO_PACK_FLAG_NONE, src, (gint)sstride, frame.data, frame.info.stride,
                 GST_VIDEO_INFO_CHROMA_SITE(info), (gint)y, (gint)width);
  }
  gst_video_frame_unmap(&frame);
  return buf;
}

static GstPadProbeReturn
ar_camera_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArCameraGate *g = user_data;
  GstBuffer *in, *out = NULL;

  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    GstCaps *caps = NULL;
    GstVideoInfo vinfo;

    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      gst_event_parse_caps(event, &caps);
      g_mutex_lock(&g->lock);
      g->have_info = caps != NULL && gst_video_info_from_caps(&vinfo, caps);
      if (g->have_info)
        g->info = vinfo;
      gst_clear_buffer(&g->black);
      g_mutex_unlock(&g->lock);
    }
    return GST_PAD_PROBE_OK;
  }
  if (g_atomic_int_get(&g->controls->camera_off) == 0)
    return GST_PAD_PROBE_OK;

  in = GST_PAD_PROBE_INFO_BUFFER(info);
  g_mutex_lock(&g->lock);
  if (g->black == NULL && g->have_info)
    g->black = ar_media_make_black_frame(&g->info);
  if (g->black != NULL)
    out = gst_buffer_copy(g->black); /* shares the memory, no pixel copy */
  g_mutex_unlock(&g->lock);
  if (out == NULL) {
    /* Unknown format: send nothing rather than the live camera. */
    return GST_PAD_PROBE_DROP;
  }
  gst_buffer_copy_into(out, in, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  gst_buffer_unref(in);
  GST_PAD_PROBE_INFO_DATA(info) = out;
  return GST_PAD_PROBE_OK;
}

void
ar_media_controls_attach_camera(ArMediaControls *c, GstPad *pad)
{
  ArCameraGate *g = g_new0(ArCameraGate, 1);

  g->controls = ar_media_controls_ref(c);
  g_mutex_init(&g->lock);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    ar_camera_probe, g, ar_camera_gate_free);
}
