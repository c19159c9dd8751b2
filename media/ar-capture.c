/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-capture.c: the capture graph. One GstPipeline per call holds the camera
 * and the microphone, their conversion and processing, the camera-off and
 * mute gates, and a tee per medium; consumers hang off the tees.
 *
 *   camera ! queue leaky ! videoconvert ! videoscale ! videorate (drop-only
 *     unless the camera is slower) ! video/x-raw,format=I420,WxH@fps
 *     ! [camera-off gate] tee
 *   microphone ! audioconvert ! audioresample ! S16LE/48000/mono
 *     ! (processing) ! [mute gate] tee
 *
 *   tee ! appsink  ... appsrc (another pipeline: a peer's)   source consumers
 *   tee ! queue leaky ! SINK  (this pipeline: the web bridge) sink consumers
 *
 * The appsink callbacks run on the capture's streaming threads; a source
 * consumer's appsrc is a bounded leaky queue that never blocks them. The rest
 * runs in the context that was thread-default when the capture was made.
 * docs/decisions.md "Capture graph" says why appsink -> appsrc.
 */
#include "ar-capture-priv.h"

#include <gst/app/app.h>

const char *const ar_capture_kind_names[] = {"video", "audio", "speaker"};

/* ---- branches ---- */

static void
ar_capture_branch_clear(gpointer data)
{
  ArCaptureBranch *b = data;

  g_clear_object(&b->teepad);
  g_clear_pointer(&b->elements, g_ptr_array_unref);
  g_clear_object(&b->sink);
  g_clear_object(&b->appsrc);
  gst_clear_caps(&b->caps);
  g_main_context_unref(b->context);
  g_mutex_clear(&b->lock);
}

ArCaptureBranch *
ar_capture_branch_ref(ArCaptureBranch *b)
{
  return g_atomic_rc_box_acquire(b);
}

void
ar_capture_branch_unref(gpointer b)
{
  g_atomic_rc_box_release_full(b, ar_capture_branch_clear);
}

ArCaptureBranch *
ar_capture_branch_new(ArCapture *capture, ArCaptureKind kind)
{
  ArCaptureBranch *b = g_atomic_rc_box_new0(ArCaptureBranch);

  b->kind = kind;
  b->elements = g_ptr_array_new_with_free_func(gst_object_unref);
  b->context = g_main_context_ref(capture->context);
  b->discont = TRUE;
  b->next = GST_CLOCK_TIME_NONE;
  g_mutex_init(&b->lock);
  return b;
}

/* The tee's (or the mixer's) pad is idle (no buffer in flight): unlink, stop and drop the
 * branch's elements (@data, a GPtrArray). Runs at once in the thread that
 * added the probe, or on the tee's streaming thread right after the buffer in
 * flight, as GStreamer's dynamic pipeline examples do; the tee goes on with
 * its other pads (allow-not-linked). The data holds no reference on the tee,
 * its pad or the pipeline: no cycle if the probe never fires. */
static GstPadProbeReturn
ar_branch_teardown_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GPtrArray *elements = data;
  g_autoptr(GstPad) peer = gst_pad_get_peer(pad);
  g_autoptr(GstElement) tee = gst_pad_get_parent_element(pad);

  if (peer != NULL) {
    if (GST_PAD_IS_SRC(pad))
      gst_pad_unlink(pad, peer);
    else
      gst_pad_unlink(peer, pad); /* the mixer's pad */
  }
  if (tee != NULL)
    gst_element_release_request_pad(tee, pad);
  for (guint i = 0; i < elements->len; i++) {
    GstElement *e = elements->pdata[i];
    g_autoptr(GstObject) parent = gst_object_get_parent(GST_OBJECT(e));

    gst_element_set_locked_state(e, TRUE);
    gst_element_set_state(e, GST_STATE_NULL);
    if (parent != NULL)
      gst_bin_remove(GST_BIN(parent), e);
  }
  return GST_PAD_PROBE_REMOVE;
}

typedef struct {
  GstPad *pad;         /* the speaker mixer's sink pad of the branch */
  GPtrArray *elements; /* the branch's elements */
} ArMixerRelease;

static void
ar_mixer_release_free(gpointer data)
{
  ArMixerRelease *r = data;

  gst_object_unref(r->pad);
  g_ptr_array_unref(r->elements);
  g_free(r);
}

/* The speaker mixer's thread, as it sends out what it mixed: no pad is being
 * mixed now, so the branch's pad can go. GStreamer 1.22's audio aggregator
 * drops its locks while it mixes a pad and holds no reference on it; released
 * from any other thread (the IDLE probe on the pad keeps only the upstream
 * thread out), the pad was freed mid-mix: anyroomd died of SIGSEGV in
 * audiomixer as a call ended (docs/decisions.md). */
static GstPadProbeReturn
ar_mixer_release_probe(GstPad *out, GstPadProbeInfo *info, gpointer data)
{
  ArMixerRelease *r = data;

  (void)out;
  ar_branch_teardown_probe(r->pad, info, r->elements);
  return GST_PAD_PROBE_REMOVE; /* the buffer goes on */
}

/* Main context: takes @b out of the graph. */
static void
ar_capture_branch_teardown(ArCapture *capture, ArCaptureBranch *b)
{
  g_autoptr(GstPad) teepad = g_steal_pointer(&b->teepad);

  if (teepad == NULL)
    return;
  if (GST_PAD_IS_SINK(teepad)) { /* a far end's pad on the speaker mixer */
    g_autoptr(GstElement) mixer = gst_pad_get_parent_element(teepad);
    g_autoptr(GstPad) out = mixer != NULL ? gst_element_get_static_pad(mixer, "src") : NULL;
    GstState state = GST_STATE_NULL;

    if (mixer != NULL)
      gst_element_get_state(mixer, &state, NULL, 0);
    /* Mixing only while PLAYING: otherwise no thread mixes, and none would
     * send out a buffer for the probe. */
    if (out != NULL && state == GST_STATE_PLAYING) {
      ArMixerRelease *r = g_new0(ArMixerRelease, 1);

      r->pad = gst_object_ref(teepad);
      r->elements = g_ptr_array_ref(b->elements);
      gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                        ar_mixer_release_probe, r, ar_mixer_release_free);
      return;
    }
  }
  gst_pad_add_probe(teepad, GST_PAD_PROBE_TYPE_IDLE, ar_branch_teardown_probe,
                    g_ptr_array_ref(b->elements), (GDestroyNotify)g_ptr_array_unref);
}

/* Main context: the consumer @b is gone (removed, or its bin finalized). */
static void
ar_capture_branch_detach(ArCapture *capture, ArCaptureBranch *b)
{
  ArCapture *held;

  if (!g_ptr_array_remove(capture->branches, b))
    return;
  g_mutex_lock(&b->lock);
  g_clear_object(&b->appsrc); /* no buffer enters it any more */
  if (b->source != NULL) {
    g_object_weak_unref(G_OBJECT(b->source), ar_capture_source_gone, b);
    b->source = NULL;
    ar_capture_branch_unref(b); /* the weak reference's */
  }
  g_mutex_unlock(&b->lock);
  ar_capture_branch_teardown(capture, b);
  /* The teardown probe holds the elements now: an appsink (which holds @b
   * through its callbacks) is freed once it is out of the graph. */
  g_clear_pointer(&b->elements, g_ptr_array_unref);
  held = g_steal_pointer(&b->capture);
  GST_DEBUG("capture: %s consumer removed (%u left)", ar_capture_kind_names[b->kind],
            capture->branches->len);
  ar_capture_branch_unref(b); /* the list's */
  ar_capture_unref(held);     /* may be the last reference */
}

static gboolean
ar_capture_source_gone_in_context(gpointer data)
{
  ArCaptureBranch *b = data;

  if (b->capture != NULL)
    ar_capture_branch_detach(b->capture, b);
  return G_SOURCE_REMOVE;
}

/* The source bin was finalized (any thread) without ar_capture_remove_source(). */
void
ar_capture_source_gone(gpointer data, GObject *where_the_object_was)
{
  ArCaptureBranch *b = data;

  g_mutex_lock(&b->lock);
  b->source = NULL;
  g_clear_object(&b->appsrc);
  g_mutex_unlock(&b->lock);
  /* Takes over the weak reference's reference. */
  g_main_context_invoke_full(b->context, G_PRIORITY_DEFAULT, ar_capture_source_gone_in_context, b,
                             ar_capture_branch_unref);
}

/* ---- source consumers: appsink (capture) -> appsrc (consumer) ---- */

/* The capture's streaming thread: one buffer for one consumer. Timestamps:
 * both pipelines run on GStreamer's system clock (the capture pins it), so a
 * buffer's capture time is the same clock time for both; the consumer gets it
 * in its own running time. A consumer on another clock gets the time of
 * arrival. A consumer that is not PLAYING has no running time: dropped. */
static GstFlowReturn
ar_capture_on_sample(GstAppSink *appsink, gpointer data)
{
  ArCaptureBranch *b = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(appsink);
  g_autoptr(GstClock) capture_clock = NULL;
  g_autoptr(GstClock) clock = NULL;
  GstBuffer *buf, *out;
  const GstSegment *segment;
  GstCaps *caps;
  GstClockTime pts, at, base;

  if (sample == NULL)
    return GST_FLOW_OK;
  buf = gst_sample_get_buffer(sample);
  segment = gst_sample_get_segment(sample);
  caps = gst_sample_get_caps(sample);
  if (buf == NULL || caps == NULL)
    return GST_FLOW_OK;
  pts = GST_BUFFER_PTS(buf);
  if (segment != NULL && segment->format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID(pts))
    pts = gst_segment_to_running_time(segment, GST_FORMAT_TIME, pts);
  else
    pts = GST_CLOCK_TIME_NONE;
  capture_clock = gst_element_get_clock(GST_ELEMENT(appsink));

  g_mutex_lock(&b->lock);
  if (b->appsrc == NULL || GST_STATE(b->appsrc) != GST_STATE_PLAYING ||
      (clock = gst_element_get_clock(b->appsrc)) == NULL) {
    GST_LOG("capture: a %s consumer is not playing (state %s, clock %p): dropped",
            ar_capture_kind_names[b->kind],
            b->appsrc ? gst_element_state_get_name(GST_STATE(b->appsrc)) : "none", (void *)clock);
    b->discont = TRUE;
    goto drop;
  }
  base = gst_element_get_base_time(b->appsrc);
  if (clock == capture_clock && GST_CLOCK_TIME_IS_VALID(pts))
    at = pts + gst_element_get_base_time(GST_ELEMENT(appsink));
  else
    at = gst_clock_get_time(clock);
  if (at < base) {
    GST_LOG("capture: a %s buffer from before its consumer started: dropped",
            ar_capture_kind_names[b->kind]);
    /* Captured before the consumer started. */
    b->discont = TRUE;
    goto drop;
  }
  if (b->caps == NULL || !gst_caps_is_equal(b->caps, caps)) {
    gst_caps_replace(&b->caps, caps);
    gst_app_src_set_caps(GST_APP_SRC(b->appsrc), caps);
  }
  out = gst_buffer_copy(buf); /* metadata only: the memory is shared */
  GST_BUFFER_PTS(out) = at - base;
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET(out) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END(out) = GST_BUFFER_OFFSET_NONE;
  if (b->discont)
    GST_BUFFER_FLAG_SET(out, GST_BUFFER_FLAG_DISCONT);
  else
    GST_BUFFER_FLAG_UNSET(out, GST_BUFFER_FLAG_DISCONT);
  b->discont = FALSE;
  /* Never blocks: the appsrc drops its oldest buffer when full. */
  gst_app_src_push_buffer(GST_APP_SRC(b->appsrc), out);
drop:
  g_mutex_unlock(&b->lock);
  /* Whatever a consumer does, the capture goes on. */
  return GST_FLOW_OK;
}

/* How late a buffer is when it reaches the tee: the capture's own latency
 * (the source's, e.g. one frame or one audio period, plus conversion), asked
 * upstream of the tee; before the first caps are known, one frame / 20 ms. */
static GstClockTime
ar_capture_latency(ArCapture *capture, ArCaptureKind kind)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad(capture->tee[kind], "sink");
  g_autoptr(GstQuery) query = gst_query_new_latency();
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;

  if (gst_pad_peer_query(pad, query)) {
    gst_query_parse_latency(query, &live, &min, &max);
    if (live && GST_CLOCK_TIME_IS_VALID(min) && min > 0)
      return min;
  }
  return kind == AR_CAPTURE_VIDEO ? GST_SECOND / MAX(capture->framerate, 1) : 20 * GST_MSECOND;
}

static GstElement *
ar_capture_make_source(ArCapture *capture, ArCaptureKind kind, GError **error)
{
  g_autoptr(ArCaptureBranch) b = NULL;
  g_autoptr(GstElement) bin = NULL;
  g_autoptr(GstPad) sinkpad = NULL;
  g_autoptr(GstPad) srcpad = NULL;
  GstElement *appsink, *appsrc, *last;
  GstAppSinkCallbacks callbacks = {.new_sample = ar_capture_on_sample};
  GstPad *ghost;

  if (capture->error != NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "The capture failed: %s",
                capture->error->message);
    return NULL;
  }
  /* The consumer's half: a bounded leaky queue (appsrc) in its pipeline. */
  bin =
      gst_object_ref_sink(gst_bin_new(kind == AR_CAPTURE_VIDEO ? "video-source" : "audio-source"));
  appsrc =
      ar_media_make_element("appsrc", kind == AR_CAPTURE_VIDEO ? "camera" : "microphone", error);
  if (appsrc == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), appsrc);
  /* Live, and as late as the capture made its buffers: a consumer whose sink
   * syncs on the clock renders them on time. */
  g_object_set(appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "block", FALSE, "min-latency",
               (gint64)ar_capture_latency(capture, kind), NULL);
  gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
  if (kind == AR_CAPTURE_VIDEO) {
    /* Two frames, as the camera queue always had: a slow encoder drops old
     * frames rather than adding latency. */
    g_object_set(appsrc, "max-buffers", (guint64)2, "max-bytes", (guint64)0, NULL);
    /* Any encoder links: a passthrough when it takes I420. */
    last = ar_media_make_element("videoconvert", NULL, error);
    if (last == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), last);
    if (!gst_element_link(appsrc, last)) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the video source");
      return NULL;
    }
  } else {
    g_object_set(appsrc, "max-time", (guint64)(200 * GST_MSECOND), "max-bytes", (guint64)0, NULL);
    last = appsrc;
  }
  srcpad = gst_element_get_static_pad(last, "src");
  ghost = gst_ghost_pad_new("src", srcpad);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);

  /* The capture's half: an appsink on the tee, no queue: it only hands a
   * buffer reference to the appsrc, which never blocks. */
  appsink = ar_media_make_element("appsink", NULL, error);
  if (appsink == NULL)
    return NULL;
  g_object_set(appsink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "qos", FALSE,
               "max-buffers", 1u, "drop", TRUE, NULL);
  b = ar_capture_branch_new(capture, kind);
  b->appsrc = gst_object_ref(appsrc);
  g_ptr_array_add(b->elements, gst_object_ref(appsink));
  gst_bin_add(GST_BIN(capture->pipeline), appsink);
  /* The appsink holds the branch; the branch's element list holds the
   * appsink until the branch is taken out (then the cycle is broken). */
  gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, ar_capture_branch_ref(b),
                             ar_capture_branch_unref);
  /* Running before the tee links to it: a buffer pushed into a pad that is not active yet comes
   * back FLUSHING, and the tee hands that upstream, where the capture's streaming task stops
   * for good (seen: the camera of a web call never reached the page, one join in four on a
   * loaded core). */
  gst_element_sync_state_with_parent(appsink);
  b->teepad = gst_element_request_pad_simple(capture->tee[kind], "src_%u");
  sinkpad = gst_element_get_static_pad(appsink, "sink");
  if (b->teepad == NULL || gst_pad_link(b->teepad, sinkpad) != GST_PAD_LINK_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot add a %s consumer",
                ar_capture_kind_names[kind]);
    if (b->teepad != NULL)
      gst_element_release_request_pad(capture->tee[kind], b->teepad);
    g_clear_object(&b->teepad);
    /* Breaks the appsink -> branch -> appsink cycle (the callbacks' reference). */
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &(GstAppSinkCallbacks){0}, NULL, NULL);
    gst_element_set_state(appsink, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(capture->pipeline), appsink);
    return NULL;
  }
  b->capture = ar_capture_ref(capture);
  b->source = bin;
  g_object_weak_ref(G_OBJECT(bin), ar_capture_source_gone, ar_capture_branch_ref(b));
  g_ptr_array_add(capture->branches, ar_capture_branch_ref(b));
  GST_DEBUG("capture: %s consumer added (%u in all)", ar_capture_kind_names[kind],
            capture->branches->len);
  g_object_force_floating(G_OBJECT(bin));
  return g_steal_pointer(&bin);
}

GstElement *
ar_capture_make_video_source(ArCapture *capture, GError **error)
{
  return ar_capture_make_source(capture, AR_CAPTURE_VIDEO, error);
}

GstElement *
ar_capture_make_audio_source(ArCapture *capture, GError **error)
{
  return ar_capture_make_source(capture, AR_CAPTURE_AUDIO, error);
}

void
ar_capture_remove_source(ArCapture *capture, GstElement *source)
{
  if (capture == NULL || source == NULL)
    return;
  for (guint i = 0; i < capture->branches->len; i++) {
    ArCaptureBranch *b = capture->branches->pdata[i];
    gboolean match;

    g_mutex_lock(&b->lock);
    match = b->source == source;
    g_mutex_unlock(&b->lock);
    if (match) {
      ar_capture_branch_detach(capture, b);
      return;
    }
  }
}

/* ---- sink consumers: in the capture pipeline ---- */

static gboolean
ar_capture_add_sink(ArCapture *capture, ArCaptureKind kind, GstElement *sink, GError **error)
{
  g_autoptr(ArCaptureBranch) b = NULL;
  g_autoptr(GstPad) sinkpad = NULL;
  GstElement *queue;

  gst_object_ref_sink(sink);
  if (capture->error != NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "The capture failed: %s",
                capture->error->message);
    gst_object_unref(sink);
    return FALSE;
  }
  queue = ar_media_make_element("queue", NULL, error);
  if (queue == NULL) {
    gst_object_unref(sink);
    return FALSE;
  }
  /* A sink that waits for its clock or device never holds the tee. */
  if (kind == AR_CAPTURE_VIDEO)
    g_object_set(queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", (guint64)0,
                 NULL);
  else
    g_object_set(queue, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
                 (guint64)(200 * GST_MSECOND), NULL);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  b = ar_capture_branch_new(capture, kind);
  b->sink = gst_object_ref(sink);
  g_ptr_array_add(b->elements, gst_object_ref(queue));
  g_ptr_array_add(b->elements, gst_object_ref(sink));
  gst_bin_add_many(GST_BIN(capture->pipeline), queue, sink, NULL);
  gst_object_unref(sink); /* the pipeline holds it */
  /* Running before the tee links to them: see ar_capture_make_source(). */
  gboolean linked = gst_element_link(queue, sink);
  if (linked) {
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(queue);
    b->teepad = gst_element_request_pad_simple(capture->tee[kind], "src_%u");
  }
  sinkpad = gst_element_get_static_pad(queue, "sink");
  if (!linked || b->teepad == NULL || gst_pad_link(b->teepad, sinkpad) != GST_PAD_LINK_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link %s to the %s capture",
                GST_OBJECT_NAME(sink), ar_capture_kind_names[kind]);
    if (b->teepad != NULL)
      gst_element_release_request_pad(capture->tee[kind], b->teepad);
    g_clear_object(&b->teepad);
    for (guint i = 0; i < b->elements->len; i++) {
      gst_element_set_state(b->elements->pdata[i], GST_STATE_NULL);
      gst_bin_remove(GST_BIN(capture->pipeline), b->elements->pdata[i]);
    }
    return FALSE;
  }
  g_ptr_array_add(capture->branches, g_steal_pointer(&b));
  return TRUE;
}

gboolean
ar_capture_add_video_sink(ArCapture *capture, GstElement *sink, GError **error)
{
  return ar_capture_add_sink(capture, AR_CAPTURE_VIDEO, sink, error);
}

gboolean
ar_capture_add_audio_sink(ArCapture *capture, GstElement *sink, GError **error)
{
  return ar_capture_add_sink(capture, AR_CAPTURE_AUDIO, sink, error);
}

static ArCaptureBranch *
ar_capture_find_sink(ArCapture *capture, GstObject *object)
{
  for (guint i = 0; i < capture->branches->len; i++) {
    ArCaptureBranch *b = capture->branches->pdata[i];

    if (b->sink != NULL &&
        (object == GST_OBJECT(b->sink) || gst_object_has_as_ancestor(object, GST_OBJECT(b->sink))))
      return b;
  }
  return NULL;
}

void
ar_capture_remove_sink(ArCapture *capture, GstElement *sink)
{
  ArCaptureBranch *b;

  if (capture == NULL || sink == NULL)
    return;
  b = ar_capture_find_sink(capture, GST_OBJECT(sink));
  if (b != NULL && b->sink == sink)
    ar_capture_branch_detach(capture, b);
}

/* ---- errors ---- */

/* Main context: the capture stopped for good. Every source consumer hears it
 * on its own bus, as an error from its appsrc (a peer then fails, as it did
 * when it owned the camera). */
static void
ar_capture_fail(ArCapture *capture, GError *error, const GError *device_error, const char *debug)
{
  g_autoptr(GPtrArray) appsrcs = g_ptr_array_new_with_free_func(gst_object_unref);

  if (capture->error != NULL) {
    g_error_free(error);
    return;
  }
  capture->error = error;
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_CAPTURE", "failed", "MESSAGE",
                   "capture: %s (%s)", error->message, debug != NULL ? debug : "");
  gst_element_set_state(capture->pipeline, GST_STATE_NULL);
  if (capture->owner_slot != NULL && *capture->owner_slot == capture)
    *capture->owner_slot = NULL; /* the next acquire opens the devices again */
  capture->owner_slot = NULL;
  for (guint i = 0; i < capture->branches->len; i++) {
    ArCaptureBranch *b = capture->branches->pdata[i];

    g_mutex_lock(&b->lock);
    /* A speaker input's appsrc is ours: its consumer has nothing to hear. */
    if (b->appsrc != NULL && b->kind != AR_CAPTURE_SPEAKER)
      g_ptr_array_add(appsrcs, gst_object_ref(b->appsrc));
    g_mutex_unlock(&b->lock);
  }
  for (guint i = 0; i < appsrcs->len; i++) {
    GstElement *appsrc = appsrcs->pdata[i];

    /* The device's own words: the consumer names the appsrc ("camera"). */
    gst_element_post_message(
        appsrc, gst_message_new_error(GST_OBJECT(appsrc),
                                      device_error != NULL ? (GError *)device_error : error,
                                      (gchar *)debug));
  }
  if (capture->error_func != NULL)
    capture->error_func(capture, NULL, capture->error, capture->error_data);
}

static gboolean
ar_capture_on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  ArCapture *capture = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *debug = NULL;
  ArCaptureBranch *b;

  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ERROR:
    gst_message_parse_error(msg, &error, &debug);
    b = ar_capture_find_sink(capture, GST_MESSAGE_SRC(msg));
    if (b != NULL) {
      /* One in-graph consumer failed: it goes, the capture goes on. */
      g_autoptr(GstElement) sink = gst_object_ref(b->sink);
      GST_DEBUG("capture: sink %s failed: %s (%s)", GST_OBJECT_NAME(sink), error->message,
                debug != NULL ? debug : "");
      ar_capture_branch_detach(capture, b);
      if (capture->error_func != NULL)
        capture->error_func(capture, sink, error, capture->error_data);
      break;
    }
    ar_capture_fail(capture,
                    g_error_new(AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "%s: %s",
                                GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message),
                    error, debug);
    break;
  case GST_MESSAGE_EOS:
    /* Live devices do not end: the camera or microphone went away. */
    ar_capture_fail(capture,
                    g_error_new_literal(AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                                        "the camera or microphone stopped (end of stream)"),
                    NULL, NULL);
    break;
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning(msg, &error, NULL);
    GST_DEBUG("capture: warning from %s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
              error->message);
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

void
ar_capture_set_error_func(ArCapture *capture, ArCaptureErrorFunc func, gpointer user_data)
{
  capture->error_func = func;
  capture->error_data = func != NULL ? user_data : NULL;
}

const GError *
ar_capture_get_error(ArCapture *capture)
{
  return capture != NULL ? capture->error : NULL;
}

GstElement *
ar_capture_get_pipeline(ArCapture *capture)
{
  return capture->pipeline;
}

/* ---- the graph ---- */

gboolean
ar_capture_add_chain(ArCapture *capture, GstElement **e, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    gst_bin_add(GST_BIN(capture->pipeline), e[i]);
  for (gsize i = 0; i + 1 < n; i++) {
    if (!gst_element_link(e[i], e[i + 1])) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link %s to %s",
                  GST_OBJECT_NAME(e[i]), GST_OBJECT_NAME(e[i + 1]));
      return FALSE;
    }
  }
  return TRUE;
}

/* Makes the elements of @names into @out; on failure unrefs those made. */
gboolean
ar_capture_make_elements(const char *const *names, GstElement **out, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++) {
    out[i] = ar_media_make_element(names[i], NULL, error);
    if (out[i] == NULL) {
      for (gsize j = 0; j < i; j++)
        gst_object_unref(gst_object_ref_sink(out[j]));
      return FALSE;
    }
  }
  return TRUE;
}

GstElement *
ar_capture_make_tee(ArCapture *capture, const char *name, GError **error)
{
  GstElement *tee = ar_media_make_element("tee", name, error);

  /* No consumer, or one just removed: the capture runs on. */
  if (tee != NULL)
    g_object_set(tee, "allow-not-linked", TRUE, NULL);
  return tee;
}

/* Streaming thread: the time stamp into a test camera frame. */
static GstPadProbeReturn
ar_capture_stamp_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  GstBuffer *buf;

  if (caps == NULL || !gst_video_info_from_caps(&vinfo, caps))
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (gst_video_frame_map(&frame, &vinfo, buf, GST_MAP_WRITE)) {
    ar_stamp_write(&frame, ar_stamp_now());
    gst_video_frame_unmap(&frame);
  }
  return GST_PAD_PROBE_OK;
}

/* The test camera's picture: a ball, or for the bandwidth lab a picture that
 * fills any bitrate (ANYROOM_TEST_PATTERN=snow; any videotestsrc pattern name). */
static const char *
ar_capture_test_pattern(GstElement *src)
{
  const char *want = g_getenv("ANYROOM_TEST_PATTERN");
  GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(src), "pattern");

  if (want == NULL || spec == NULL || !G_IS_PARAM_SPEC_ENUM(spec))
    return "ball";
  if (g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(spec)->enum_class, want) == NULL) {
    g_warning("capture: ANYROOM_TEST_PATTERN=%s is no test pattern: a ball instead", want);
    return "ball";
  }
  return want;
}

/* The capture's videorate duplicates frames only for a camera slower than the
 * configured rate. In its default mode it holds every frame until the next one
 * comes, to decide whether to send it again: a frame period (33 ms at 30 fps) of
 * latency and one frame (1.4 MB at 720p) of memory, for every camera. Its
 * drop-only mode sends a frame at once or drops it, but cannot negotiate a
 * camera slower than its output. So the mode follows the camera's rate, set as
 * the caps pass (before videorate takes them). */
static GstPadProbeReturn
ar_capture_rate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  guint want = GPOINTER_TO_UINT(data);
  GstCaps *caps = NULL;
  gint n = 0, d = 1;

  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps(event, &caps);
  const GstStructure *s =
      caps != NULL && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : NULL;
  /* 0/1 (a variable rate) or none: duplicate as needed. */
  gboolean fast_enough = s != NULL && gst_structure_get_fraction(s, "framerate", &n, &d) && n > 0 &&
                         d > 0 && (guint64)n >= (guint64)want * (guint64)d;
  GstElement *rate = gst_pad_get_parent_element(pad);
  if (rate != NULL) {
    g_object_set(rate, "drop-only", fast_enough, NULL);
    g_debug("capture: the camera gives %d/%d fps for %u: %s", n, d, want,
            fast_enough ? "frames pass at once (drop-only)" : "frames repeated where missing");
    gst_object_unref(rate);
  }
  return GST_PAD_PROBE_OK;
}

void
ar_capture_follow_camera_rate(GstElement *videorate, guint framerate)
{
  g_autoptr(GstPad) in = gst_element_get_static_pad(videorate, "sink");
  gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, ar_capture_rate_probe,
                    GUINT_TO_POINTER(framerate), NULL);
}

static gboolean
ar_capture_build_video(ArCapture *capture, const ArCaptureSpec *spec, GError **error)
{
  static const char *const names[] = {"queue", "videoconvert", "videoscale", "videorate",
                                      "capsfilter"};
  GstElement *e[2 + G_N_ELEMENTS(names)];
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstPad) gate = NULL;

  if (spec->video_device != NULL) {
    e[0] = ar_media_make_element("v4l2src", "camera", error);
    if (e[0] != NULL)
      g_object_set(e[0], "device", spec->video_device, NULL);
  } else if (g_getenv("ANYROOM_TEST_CLIP") != NULL) {
    /* The efficiency lab's camera: a clip's frames, as a Chromium room gets them. */
    e[0] = ar_test_clip_new(g_getenv("ANYROOM_TEST_CLIP"), spec->width, spec->height,
                            spec->framerate, error);
  } else {
    e[0] = ar_media_make_element("videotestsrc", "camera", error);
    if (e[0] != NULL) {
      g_object_set(e[0], "is-live", TRUE, NULL);
      gst_util_set_object_arg(G_OBJECT(e[0]), "pattern", ar_capture_test_pattern(e[0]));
      /* Dark blue, not black: a test camera must not look like "no video". */
      g_object_set(e[0], "background-color", 0xff1f3a5fu, NULL);
    }
  }
  if (e[0] == NULL)
    return FALSE;
  if (!ar_capture_make_elements(names, e + 1, G_N_ELEMENTS(names), error)) {
    gst_object_unref(gst_object_ref_sink(e[0]));
    return FALSE;
  }
  /* Leaky: slow conversion drops old frames rather than adding latency. */
  g_object_set(e[1], "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", (guint64)0,
               NULL);
  gst_util_set_object_arg(G_OBJECT(e[1]), "leaky", "downstream");
  caps = gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, AR_CAPTURE_VIDEO_FORMAT, "width", G_TYPE_INT,
      (int)spec->width, "height", G_TYPE_INT, (int)spec->height, "framerate", GST_TYPE_FRACTION,
      (int)spec->framerate, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set(e[G_N_ELEMENTS(names)], "caps", caps, NULL);
  ar_capture_follow_camera_rate(e[1 + 3] /* videorate */, spec->framerate);
  e[G_N_ELEMENTS(e) - 1] = capture->tee[AR_CAPTURE_VIDEO] =
      ar_capture_make_tee(capture, "video-tee", error);
  if (e[G_N_ELEMENTS(e) - 1] == NULL) {
    for (gsize j = 0; j + 1 < G_N_ELEMENTS(e); j++)
      gst_object_unref(gst_object_ref_sink(e[j]));
    return FALSE;
  }
  if (!ar_capture_add_chain(capture, e, G_N_ELEMENTS(e), error))
    return FALSE;
  /* The latency benchmark's test camera: each frame carries the time it was
   * made, written as it leaves the camera, so that the graph's own queue,
   * conversions and rate count (the camera-off gate comes after: a black frame
   * carries none). */
  if (spec->video_device == NULL && ar_stamp_enabled()) {
    g_autoptr(GstPad) stamped = gst_element_get_static_pad(e[0], "src");
    gst_pad_add_probe(stamped, GST_PAD_PROBE_TYPE_BUFFER, ar_capture_stamp_probe, NULL, NULL);
  }
  /* Camera off: black frames from here on, for every consumer. */
  gate = gst_element_get_static_pad(capture->tee[AR_CAPTURE_VIDEO], "sink");
  ar_media_controls_attach_camera(capture->controls, gate);
  return TRUE;
}

static void
ar_capture_free(ArCapture *capture)
{
  if (capture->bus_source != NULL) {
    g_source_destroy(capture->bus_source);
    g_source_unref(capture->bus_source);
  }
  gst_element_set_state(capture->pipeline, GST_STATE_NULL);
  /* Only sink consumers can be left: a source consumer holds a reference. */
  while (capture->branches->len > 0)
    ar_capture_branch_detach(capture, capture->branches->pdata[capture->branches->len - 1]);
  g_ptr_array_unref(capture->branches);
  if (capture->owner_slot != NULL && *capture->owner_slot == capture)
    *capture->owner_slot = NULL;
  if (capture->description != NULL)
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_CAPTURE", "closed", "MESSAGE",
                     "capture: closed (%s)", capture->description);
  gst_object_unref(capture->pipeline);
  ar_media_controls_unref(capture->controls);
  g_clear_error(&capture->error);
  g_main_context_unref(capture->context);
  g_free(capture->description);
  g_free(capture->probe_name);
  g_free(capture->processing);
  ar_echo_delay_free(capture->echo_delay);
  g_free(capture);
}

ArCapture *
ar_capture_ref(ArCapture *capture)
{
  g_atomic_int_inc(&capture->ref_count);
  return capture;
}

void
ar_capture_unref(ArCapture *capture)
{
  if (capture != NULL && g_atomic_int_dec_and_test(&capture->ref_count))
    ar_capture_free(capture);
}

void
ar_capture_set_owner_slot(ArCapture *capture, ArCapture **slot)
{
  capture->owner_slot = slot;
}

/* The element that posted the first error on @bus, and what it said. */
static char *
ar_capture_pop_error(GstBus *bus)
{
  g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  g_autoptr(GError) error = NULL;

  if (msg == NULL)
    return g_strdup("the device refused to start (is it busy or missing?)");
  gst_message_parse_error(msg, &error, NULL);
  return g_strdup_printf("%s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message);
}

ArCapture *
ar_capture_new(const ArCaptureSpec *spec, ArMediaControls *controls, GError **error)
{
  ArCapture *capture = g_new0(ArCapture, 1);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstClock) clock = gst_system_clock_obtain();

  capture->ref_count = 1;
  capture->context = g_main_context_ref_thread_default();
  capture->controls = ar_media_controls_ref(controls);
  capture->branches = g_ptr_array_new();
  capture->speaker_latency_us = -1;
  capture->framerate = spec->framerate;
  capture->pipeline = gst_object_ref_sink(gst_pipeline_new("ar-capture"));
  /* The consumers' pipelines run on the system clock: so does the capture
   * (an alsasrc would otherwise give it the sound card's clock), and a
   * buffer's capture time means the same in every pipeline. */
  gst_pipeline_use_clock(GST_PIPELINE(capture->pipeline), clock);
  {
    static gint serial;
    capture->probe_name = g_strdup_printf("ar-speaker-reference-%d", g_atomic_int_add(&serial, 1));
  }
  /* The speaker first: the microphone's echo canceller finds its reference. */
  if (!ar_capture_build_video(capture, spec, error) ||
      !ar_capture_build_speaker(capture, spec, error) ||
      !ar_capture_build_audio(capture, spec, error))
    goto fail;

  bus = gst_pipeline_get_bus(GST_PIPELINE(capture->pipeline));
  if (gst_element_set_state(capture->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_autofree char *why = ar_capture_pop_error(bus);
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "Cannot open the camera, microphone and speaker: %s", why);
    goto fail;
  }
  capture->bus_source = gst_bus_create_watch(bus);
  g_source_set_callback(capture->bus_source, (GSourceFunc)(void (*)(void))ar_capture_on_bus,
                        capture, NULL);
  g_source_attach(capture->bus_source, capture->context);
  capture->description = g_strdup_printf(
      "camera %s, microphone %s, speaker %s, %ux%u@%u, processing: %s",
      spec->video_device                      ? spec->video_device
      : g_getenv("ANYROOM_TEST_CLIP") != NULL ? "test clip"
                                              : "test",
      spec->audio_device ? spec->audio_device : "test",
      spec->speaker_device ? spec->speaker_device : "none", spec->width, spec->height,
      spec->framerate, capture->processing ? capture->processing : "none");
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_CAPTURE", "opened", "MESSAGE",
                   "capture: opened (%s)", capture->description);
  return capture;

fail:
  g_prefix_error(error, "Capture: ");
  ar_capture_unref(capture);
  return NULL;
}
