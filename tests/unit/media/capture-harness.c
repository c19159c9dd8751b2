/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capture-harness.c: the capture graph tests' shared helpers (capture-harness.h). */
#include <gst/app/app.h>
#include <gst/video/video.h>

#include "capture-harness.h"

static GstFlowReturn
on_sample(GstAppSink *sink, gpointer data)
{
  Consumer *c = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
  GstBuffer *buf = sample != NULL ? gst_sample_get_buffer(sample) : NULL;
  GstCaps *caps = sample != NULL ? gst_sample_get_caps(sample) : NULL;
  const GstStructure *s;

  if (buf == NULL || caps == NULL)
    return GST_FLOW_OK;
  s = gst_caps_get_structure(caps, 0);
  g_mutex_lock(&c->lock);
  c->buffers++;
  gst_caps_replace(&c->caps, caps);
  if (GST_CLOCK_TIME_IS_VALID(c->last_pts) && GST_BUFFER_PTS(buf) < c->last_pts)
    c->pts_backwards = TRUE;
  c->last_pts = GST_BUFFER_PTS(buf);
  if (gst_structure_has_name(s, "video/x-raw")) {
    GstVideoInfo info;
    GstVideoFrame frame;
    if (gst_video_info_from_caps(&info, caps) &&
        gst_video_frame_map(&frame, &info, buf, GST_MAP_READ)) {
      guint64 y = 0, u = 0;
      guint w = GST_VIDEO_FRAME_COMP_WIDTH(&frame, 0), h = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, 0);
      guint cw = GST_VIDEO_FRAME_COMP_WIDTH(&frame, 1), ch = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, 1);
      for (guint r = 0; r < h; r++) {
        const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_COMP_DATA(&frame, 0) +
                            r * GST_VIDEO_FRAME_COMP_STRIDE(&frame, 0);
        for (guint x = 0; x < w; x++)
          y += row[x];
      }
      for (guint r = 0; r < ch; r++) {
        const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_COMP_DATA(&frame, 1) +
                            r * GST_VIDEO_FRAME_COMP_STRIDE(&frame, 1);
        for (guint x = 0; x < cw; x++)
          u += row[x];
      }
      c->luma = (double)y / (w * h);
      c->chroma_u = (double)u / (cw * ch);
      gst_video_frame_unmap(&frame);
    }
  } else {
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
      const gint16 *v = (const gint16 *)map.data;
      guint m = 0;
      for (gsize i = 0; i < map.size / 2; i++)
        m = MAX(m, (guint)ABS((int)GINT16_FROM_LE(v[i])));
      c->max_abs = m;
      gst_buffer_unmap(buf, &map);
    }
  }
  g_mutex_unlock(&c->lock);
  return GST_FLOW_OK;
}

/* A consumer of @capture's video or audio, PLAYING; @slow_us: an identity
 * that sleeps this long per buffer (a slow encoder). */
Consumer *
consumer_new(ArCapture *capture, gboolean video, guint slow_us)
{
  Consumer *c = g_new0(Consumer, 1);
  g_autoptr(GError) error = NULL;
  GstAppSinkCallbacks cb = {.new_sample = on_sample};
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  GstElement *last;

  g_mutex_init(&c->lock);
  c->last_pts = GST_CLOCK_TIME_NONE;
  c->pipeline = gst_object_ref_sink(gst_pipeline_new(NULL));
  c->source = video ? ar_capture_make_video_source(capture, &error)
                    : ar_capture_make_audio_source(capture, &error);
  g_assert_no_error(error);
  g_assert_nonnull(c->source);
  g_object_set(sink, "sync", FALSE, NULL);
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, c, NULL);
  gst_bin_add_many(GST_BIN(c->pipeline), c->source, sink, NULL);
  last = c->source;
  if (slow_us > 0) {
    GstElement *identity = gst_element_factory_make("identity", NULL);
    g_object_set(identity, "sleep-time", slow_us, NULL);
    gst_bin_add(GST_BIN(c->pipeline), identity);
    g_assert_true(gst_element_link(last, identity));
    last = identity;
  }
  g_assert_true(gst_element_link(last, sink));
  g_assert_cmpint(gst_element_set_state(c->pipeline, GST_STATE_PLAYING), !=,
                  GST_STATE_CHANGE_FAILURE);
  return c;
}

void
consumer_free(Consumer *c)
{
  gst_element_set_state(c->pipeline, GST_STATE_NULL);
  gst_object_unref(c->pipeline);
  gst_clear_caps(&c->caps);
  g_mutex_clear(&c->lock);
  g_free(c);
}

guint64
consumer_count(Consumer *c)
{
  g_mutex_lock(&c->lock);
  guint64 n = c->buffers;
  g_mutex_unlock(&c->lock);
  return n;
}

/* Iterates the default context until @check(@a) && @check(@b) or @ms pass. */

gboolean
wait_both(CheckFunc check, Consumer *a, Consumer *b, guint ms)
{
  gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    if (check(a) && (b == NULL || check(b)))
      return TRUE;
    g_usleep(10 * 1000);
  }
  return FALSE;
}

void
spin(guint ms)
{
  gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    g_usleep(10 * 1000);
  }
}

gboolean
flowing(Consumer *c)
{
  return consumer_count(c) >= 3;
}

gboolean
black(Consumer *c)
{
  g_mutex_lock(&c->lock);
  /* Video-range black: Y 16, U/V 128. */
  gboolean r = c->buffers > 0 && c->luma < 17.5 && ABS(c->chroma_u - 128.0) < 1.5;
  g_mutex_unlock(&c->lock);
  return r;
}

gboolean
lit(Consumer *c)
{
  g_mutex_lock(&c->lock);
  /* The test camera's dark blue and its ball: Y well above 16. */
  gboolean r = c->buffers > 0 && c->luma > 30.0;
  g_mutex_unlock(&c->lock);
  return r;
}

gboolean
silent(Consumer *c)
{
  g_mutex_lock(&c->lock);
  gboolean r = c->buffers > 0 && c->max_abs == 0;
  g_mutex_unlock(&c->lock);
  return r;
}

gboolean
loud(Consumer *c)
{
  g_mutex_lock(&c->lock);
  /* The 440 Hz tone at volume 0.3: peaks near 9830. */
  gboolean r = c->buffers > 0 && c->max_abs > 5000;
  g_mutex_unlock(&c->lock);
  return r;
}

/* An engine with @camera and @microphone ("test": the tone; "null": ALSA's
 * null device, a microphone that gives silence). */
ArMediaEngine *
make_engine_with(const char *camera, const char *microphone)
{
  g_autoptr(GError) error = NULL;
  ArMediaConfig cfg;
  ArMediaEngine *engine;

  ar_media_config_init_defaults(&cfg);
  cfg.video_source = camera;
  cfg.audio_source = microphone;
  cfg.audio_sink = "none";
  cfg.video_sink = "none";
  cfg.width = W;
  cfg.height = H;
  cfg.framerate = FPS;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  return engine;
}

ArMediaEngine *
make_engine(const char *camera)
{
  return make_engine_with(camera, "test");
}

/* How many elements made by @factory are in @bin, at any depth. */
guint
count_factory(GstElement *bin, const char *factory)
{
  g_autoptr(GstIterator) it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  guint n = 0;

  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory(g_value_get_object(&item));
    if (f != NULL && g_str_equal(GST_OBJECT_NAME(f), factory))
      n++;
    g_value_reset(&item);
  }
  g_value_unset(&item);
  return n;
}
