/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-pace-element.c: the video pacer's GStreamer element (issue 14, part 2),
 * between the video payloader and webrtcbin: RTP packets enter as the encoder
 * makes them (a frame's packets at once), wait in the pacer (ar-pacer.c), and
 * leave from the element's own thread at the pacing rate. It sits before
 * webrtcbin's RTP session on purpose: the session numbers the transport-wide
 * sequence and takes each packet's send time as it passes (GStreamer 1.22's
 * rtptwcc.c: the system clock in the session's send chain), so the far end's
 * feedback compares arrival times with the paced departures. Audio has its
 * own webrtcbin pad and never enters here. Serialized events (caps, segment,
 * end of stream) keep their place among the packets; flushes and upstream
 * events (the far end's key frame requests) pass at once.
 */
#include "ar-media-priv.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#include "ar-pacer.h"

GST_DEBUG_CATEGORY_STATIC(ar_pace_debug);
#undef GST_CAT_DEFAULT
#define GST_CAT_DEFAULT ar_pace_debug

struct _ArPace {
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  GMutex lock; /* the rest */
  GCond cond;
  ArPacer *pacer;
  gboolean flushing;
  GstFlowReturn srcresult;
  GstClockTime key_pts; /* the next key frame's, from ar_pace_mark_key() */
  guint32 last_frame;
  gboolean have_frame;
};

G_DEFINE_TYPE(ArPace, ar_pace, GST_TYPE_ELEMENT)

static GstStaticPadTemplate ar_pace_sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
static GstStaticPadTemplate ar_pace_src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

/* Whether the pacer is on: ANYROOM_PACER=0 (or off) turns it off, for the
 * bench's before/after runs (docs/bandwidth.md). */
gboolean
ar_pace_enabled(void)
{
  const char *v = g_getenv("ANYROOM_PACER");

  return v == NULL || !(g_str_equal(v, "0") || g_ascii_strcasecmp(v, "off") == 0);
}

GstElement *
ar_pace_new(const char *name, guint target_kbps)
{
  ArPace *self = g_object_new(AR_TYPE_PACE, "name", name, NULL);

  ar_pace_set_target(self, target_kbps);
  return GST_ELEMENT(self);
}

void
ar_pace_set_target(ArPace *self, guint target_kbps)
{
  g_mutex_lock(&self->lock);
  ar_pacer_set_target(self->pacer, g_get_monotonic_time(), target_kbps);
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->lock);
}

void
ar_pace_charge(ArPace *self, gsize bytes)
{
  g_mutex_lock(&self->lock);
  ar_pacer_charge(self->pacer, g_get_monotonic_time(), bytes);
  g_mutex_unlock(&self->lock);
}

void
ar_pace_mark_key(ArPace *self, GstClockTime pts)
{
  g_mutex_lock(&self->lock);
  self->key_pts = pts;
  g_mutex_unlock(&self->lock);
}

void
ar_pace_get_stats(ArPace *self, ArPacerStats *stats)
{
  g_mutex_lock(&self->lock);
  ar_pacer_get_stats(self->pacer, stats);
  g_mutex_unlock(&self->lock);
}

/* The element's thread: sends what the pacer lets go, sleeps until the next. */
static void
ar_pace_loop(gpointer data)
{
  ArPace *self = data;
  gpointer item = NULL;

  g_mutex_lock(&self->lock);
  while (!self->flushing && item == NULL) {
    gint64 next = 0;

    item = ar_pacer_pop(self->pacer, g_get_monotonic_time(), &next);
    if (item != NULL)
      break;
    if (next == G_MAXINT64)
      g_cond_wait(&self->cond, &self->lock);
    else
      g_cond_wait_until(&self->cond, &self->lock, next);
  }
  if (self->flushing) {
    g_mutex_unlock(&self->lock);
    if (item != NULL)
      gst_mini_object_unref(item);
    gst_pad_pause_task(self->srcpad);
    return;
  }
  g_mutex_unlock(&self->lock);

  if (GST_IS_BUFFER(item)) {
    GstFlowReturn ret = gst_pad_push(self->srcpad, GST_BUFFER(item));

    if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED) {
      g_mutex_lock(&self->lock);
      self->srcresult = ret;
      g_mutex_unlock(&self->lock);
      if (ret == GST_FLOW_FLUSHING || ret == GST_FLOW_EOS || ret < GST_FLOW_NOT_LINKED)
        gst_pad_pause_task(self->srcpad);
    }
  } else {
    GstEvent *event = GST_EVENT(item);
    gboolean eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;

    gst_pad_push_event(self->srcpad, event);
    if (eos) {
      g_mutex_lock(&self->lock);
      self->srcresult = GST_FLOW_EOS;
      g_mutex_unlock(&self->lock);
      gst_pad_pause_task(self->srcpad);
    }
  }
}

static GstFlowReturn
ar_pace_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  ArPace *self = AR_PACE(parent);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint32 frame = 0;
  gboolean key = FALSE;
  GstFlowReturn ret;
  ArPacerPush pushed;
  gsize size = gst_buffer_get_size(buffer);

  (void)pad;
  if (gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
    frame = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);
  }
  g_mutex_lock(&self->lock);
  if (self->flushing || self->srcresult != GST_FLOW_OK) {
    ret = self->flushing ? GST_FLOW_FLUSHING : self->srcresult;
    g_mutex_unlock(&self->lock);
    gst_buffer_unref(buffer);
    return ret;
  }
  /* The first packet of the frame the payloader's input said was a key frame. */
  if (GST_CLOCK_TIME_IS_VALID(self->key_pts) && GST_BUFFER_PTS(buffer) == self->key_pts &&
      (!self->have_frame || frame != self->last_frame)) {
    key = TRUE;
    self->key_pts = GST_CLOCK_TIME_NONE;
  }
  self->last_frame = frame;
  self->have_frame = TRUE;
  pushed = ar_pacer_push(self->pacer, g_get_monotonic_time(), buffer, MAX(size, 1), frame, key);
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->lock);
  if (pushed & AR_PACER_PUSH_FLUSHED)
    GST_DEBUG_OBJECT(self, "a key frame: older frames dropped from the queue");
  if (pushed & AR_PACER_PUSH_OVERFLOW) {
    GST_INFO_OBJECT(self, "queue full: dropped, asking for a key frame");
    gst_pad_push_event(self->sinkpad,
                       gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  return GST_FLOW_OK;
}

static gboolean
ar_pace_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  ArPace *self = AR_PACE(parent);

  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_FLUSH_START:
    g_mutex_lock(&self->lock);
    self->flushing = TRUE;
    ar_pacer_clear(self->pacer);
    g_cond_signal(&self->cond);
    g_mutex_unlock(&self->lock);
    gst_pad_push_event(self->srcpad, event);
    gst_pad_pause_task(self->srcpad);
    return TRUE;
  case GST_EVENT_FLUSH_STOP:
    gst_pad_push_event(self->srcpad, event);
    g_mutex_lock(&self->lock);
    self->flushing = FALSE;
    self->srcresult = GST_FLOW_OK;
    self->have_frame = FALSE;
    g_mutex_unlock(&self->lock);
    return gst_pad_start_task(self->srcpad, ar_pace_loop, self, NULL);
  default:
    break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event))
    return gst_pad_event_default(pad, parent, event);
  g_mutex_lock(&self->lock);
  if (self->flushing) {
    g_mutex_unlock(&self->lock);
    gst_event_unref(event);
    return FALSE;
  }
  /* In its place among the packets, with no budget. */
  ar_pacer_push(self->pacer, g_get_monotonic_time(), event, 0, 0, FALSE);
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->lock);
  return TRUE;
}

static gboolean
ar_pace_src_activate_mode(GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  ArPace *self = AR_PACE(parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock(&self->lock);
  self->flushing = !active;
  self->srcresult = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  if (!active)
    ar_pacer_clear(self->pacer);
  self->have_frame = FALSE;
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->lock);
  if (active)
    return gst_pad_start_task(pad, ar_pace_loop, self, NULL);
  return gst_pad_stop_task(pad);
}

static void
ar_pace_finalize(GObject *object)
{
  ArPace *self = AR_PACE(object);

  ar_pacer_free(self->pacer);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  G_OBJECT_CLASS(ar_pace_parent_class)->finalize(object);
}

static void
ar_pace_init(ArPace *self)
{
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  self->pacer = ar_pacer_new((GDestroyNotify)gst_mini_object_unref);
  self->flushing = TRUE;
  self->srcresult = GST_FLOW_FLUSHING;
  self->key_pts = GST_CLOCK_TIME_NONE;

  self->sinkpad = gst_pad_new_from_static_template(&ar_pace_sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, ar_pace_chain);
  gst_pad_set_event_function(self->sinkpad, ar_pace_sink_event);
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&ar_pace_src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad, ar_pace_src_activate_mode);
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void
ar_pace_class_init(ArPaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  object_class->finalize = ar_pace_finalize;
  gst_element_class_add_static_pad_template(element_class, &ar_pace_sink_template);
  gst_element_class_add_static_pad_template(element_class, &ar_pace_src_template);
  gst_element_class_set_static_metadata(element_class, "Anyroom video pacer", "Filter/Network/RTP",
                                        "Sends RTP packets at a bounded rate", "Anyroom");
  GST_DEBUG_CATEGORY_INIT(ar_pace_debug, "arpace", 0, "Anyroom video pacer");
}
