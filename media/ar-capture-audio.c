/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-capture-audio.c: the capture graph's sound (ar-capture.c has the rest).
 *
 *   audiotestsrc (live silence) ! audiomixer ! [volume] tee ! speaker
 *                               tee ! webrtcechoprobe ! fakesink (the reference,
 *                                 only beside a microphone with echo cancellation)
 *     far ends: their appsink (sync) -> appsrc (here) -> a mixer pad
 *   microphone ! audioconvert ! audioresample ! S16LE/48000/mono
 *     ! [echo delay: timestamps earlier] webrtcdsp (its reference: the probe
 *     above) [timestamps back] ! [mute gate] tee
 */
#include "ar-capture-priv.h"

/* ---- speaker inputs: appsink (consumer) -> appsrc (capture) -> mixer ---- */

/* A far end's buffer for the mixer: its metadata copied and its memory shared,
 * unless the memory is mostly unused. A decoder may allocate every output for
 * its largest frame (opusdec: 120 ms, 11.5 KB in mono, of which 20 ms are
 * filled), and the speaker's side keeps buffers for a while (the appsrc's
 * 200 ms, the mixer's pad): those then take a right-sized copy, and the
 * decoder's block goes back at once. */
static GstBuffer *
ar_capture_speaker_buffer(GstBuffer *buf)
{
  gsize size = gst_buffer_get_size(buf), maxsize = 0, offset = 0;
  GstBuffer *out;
  GstMapInfo map;

  gst_buffer_get_sizes(buf, &offset, &maxsize);
  if (maxsize <= 2 * size + 1024 || !gst_buffer_map(buf, &map, GST_MAP_READ))
    return gst_buffer_copy(buf); /* metadata only: the memory is shared */
  out = gst_buffer_new_allocate(NULL, size, NULL);
  if (out != NULL)
    gst_buffer_fill(out, 0, map.data, map.size);
  gst_buffer_unmap(buf, &map);
  if (out == NULL)
    return gst_buffer_copy(buf);
  gst_buffer_copy_into(out, buf, GST_BUFFER_COPY_METADATA, 0, (gsize)-1);
  return out;
}

/* The consumer's streaming thread: its appsink (sync) hands over a buffer at
 * the time it is due on the speaker. It goes into the mixer stamped with that
 * time in the capture's running time: the speaker plays it a mixer latency
 * later, and the echo canceller's reference sees it as played. */
static GstFlowReturn
ar_capture_on_speaker_sample(GstAppSink *appsink, gpointer data)
{
  ArCaptureBranch *b = data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample(appsink);
  g_autoptr(GstClock) clock = NULL;
  GstBuffer *buf, *out;
  GstClockTime now, base, duration;
  GstCaps *caps;
  gsize frames;

  if (sample == NULL)
    return GST_FLOW_OK;
  buf = gst_sample_get_buffer(sample);
  caps = gst_sample_get_caps(sample);
  if (buf == NULL || caps == NULL)
    return GST_FLOW_OK;
  frames = gst_buffer_get_size(buf) / 2; /* S16 mono, as the bin's capsfilter says */
  duration = gst_util_uint64_scale_int(frames, GST_SECOND, 48000);

  g_mutex_lock(&b->lock);
  if (b->appsrc == NULL || GST_STATE(b->appsrc) != GST_STATE_PLAYING ||
      (clock = gst_element_get_clock(b->appsrc)) == NULL) {
    b->next = GST_CLOCK_TIME_NONE;
    goto drop;
  }
  base = gst_element_get_base_time(b->appsrc);
  now = gst_clock_get_time(clock);
  if (now < base)
    goto drop;
  now -= base;
  if (b->caps == NULL) {
    b->caps = gst_caps_ref(caps);
    gst_app_src_set_caps(GST_APP_SRC(b->appsrc), caps);
  }
  out = ar_capture_speaker_buffer(buf);
  if (GST_CLOCK_TIME_IS_VALID(b->next) &&
      (GstClockTimeDiff)(now - b->next) < (GstClockTimeDiff)AR_SPEAKER_CONTINUITY &&
      (GstClockTimeDiff)(b->next - now) < (GstClockTimeDiff)AR_SPEAKER_CONTINUITY) {
    GST_BUFFER_PTS(out) = b->next;
    GST_BUFFER_FLAG_UNSET(out, GST_BUFFER_FLAG_DISCONT);
  } else {
    GST_BUFFER_PTS(out) = now;
    GST_BUFFER_FLAG_SET(out, GST_BUFFER_FLAG_DISCONT);
  }
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = duration;
  GST_BUFFER_OFFSET(out) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END(out) = GST_BUFFER_OFFSET_NONE;
  b->next = GST_BUFFER_PTS(out) + duration;
  /* Never blocks: the appsrc drops its oldest buffer when full. */
  gst_app_src_push_buffer(GST_APP_SRC(b->appsrc), out);
drop:
  g_mutex_unlock(&b->lock);
  return GST_FLOW_OK;
}

GstElement *
ar_capture_make_speaker_input(ArCapture *capture, GError **error)
{
  static const char *const names[] = {"audioconvert", "audioresample", "capsfilter", "appsink"};
  g_autoptr(ArCaptureBranch) b = NULL;
  g_autoptr(GstElement) bin = NULL;
  g_autoptr(GstCaps) caps = gst_caps_from_string(AR_CAPTURE_AUDIO_CAPS);
  g_autoptr(GstPad) in = NULL;
  g_autoptr(GstPad) srcpad = NULL;
  GstElement *e[G_N_ELEMENTS(names)], *appsrc;
  GstAppSinkCallbacks callbacks = {.new_sample = ar_capture_on_speaker_sample};
  GstPad *ghost;

  if (capture->error != NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "The capture failed: %s",
                capture->error->message);
    return NULL;
  }
  /* The consumer's half: any raw audio to the speaker's format, handed over
   * when due (the appsink syncs on the consumer's clock, as a sink would). */
  bin = gst_object_ref_sink(gst_bin_new("speaker-input"));
  if (!ar_capture_make_elements(names, e, G_N_ELEMENTS(names), error))
    return NULL;
  gst_bin_add_many(GST_BIN(bin), e[0], e[1], e[2], e[3], NULL);
  g_object_set(e[2], "caps", caps, NULL);
  g_object_set(e[3], "sync", TRUE, "enable-last-sample", FALSE, "qos", FALSE, "max-buffers", 4u,
               "drop", TRUE, NULL);
  if (!gst_element_link_many(e[0], e[1], e[2], e[3], NULL)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the speaker input");
    return NULL;
  }
  in = gst_element_get_static_pad(e[0], "sink");
  ghost = gst_ghost_pad_new("sink", in);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);

  /* The capture's half: a live appsrc on a new mixer pad, bounded and leaky. */
  appsrc = ar_media_make_element("appsrc", NULL, error);
  if (appsrc == NULL)
    return NULL;
  g_object_set(appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "block", FALSE, "caps", caps,
               "max-time", (guint64)(200 * GST_MSECOND), "max-bytes", (guint64)0, "min-latency",
               (gint64)0, NULL);
  gst_util_set_object_arg(G_OBJECT(appsrc), "leaky-type", "downstream");
  b = ar_capture_branch_new(capture, AR_CAPTURE_SPEAKER);
  b->appsrc = gst_object_ref(appsrc);
  b->caps = gst_caps_ref(caps);
  g_ptr_array_add(b->elements, gst_object_ref(appsrc));
  gst_bin_add(GST_BIN(capture->pipeline), appsrc);
  b->teepad = gst_element_request_pad_simple(capture->mixer, "sink_%u");
  srcpad = gst_element_get_static_pad(appsrc, "src");
  if (b->teepad == NULL || gst_pad_link(srcpad, b->teepad) != GST_PAD_LINK_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot add a speaker input");
    if (b->teepad != NULL)
      gst_element_release_request_pad(capture->mixer, b->teepad);
    g_clear_object(&b->teepad);
    gst_element_set_state(appsrc, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(capture->pipeline), appsrc);
    return NULL;
  }
  gst_element_sync_state_with_parent(appsrc);
  gst_app_sink_set_callbacks(GST_APP_SINK(e[3]), &callbacks, ar_capture_branch_ref(b),
                             ar_capture_branch_unref);
  b->capture = ar_capture_ref(capture);
  b->source = bin;
  g_object_weak_ref(G_OBJECT(bin), ar_capture_source_gone, ar_capture_branch_ref(b));
  g_ptr_array_add(capture->branches, ar_capture_branch_ref(b));
  GST_DEBUG("capture: speaker input added (%u consumers in all)", capture->branches->len);
  g_object_force_floating(G_OBJECT(bin));
  return g_steal_pointer(&bin);
}

static gboolean
ar_capture_has_factory(const char *name)
{
  g_autoptr(GstElementFactory) f = gst_element_factory_find(name);
  return f != NULL;
}

GstElement *
ar_capture_make_processing_element(const char *probe_name, gboolean echo_cancellation,
                                   gboolean noise_suppression, gboolean gain_control)
{
  GObjectClass *klass;
  GstElement *dsp = gst_element_factory_make("webrtcdsp", "processing");

  if (dsp == NULL)
    return NULL;
  g_object_set(dsp, "probe", probe_name, "echo-cancel", echo_cancellation, "noise-suppression",
               noise_suppression, "gain-control", gain_control, "high-pass-filter", TRUE, NULL);
  klass = G_OBJECT_GET_CLASS(dsp);
  /* webrtc-audio-processing 0.x (Debian 12), measured with one clock for the
   * reference and the microphone (docs/audio.md): the delay from their
   * timestamps, not the canceller's own guess (delay-agnostic mode: 1.7 dB
   * ERLE where the timestamps gave 22), the long filter, and strong
   * suppression of what remains (33 dB instead of 22, and the near end's voice
   * as well kept in double talk). 1.x (AEC3) has none of these. */
  if (g_object_class_find_property(klass, "delay-agnostic") != NULL)
    g_object_set(dsp, "delay-agnostic", FALSE, NULL);
  if (g_object_class_find_property(klass, "extended-filter") != NULL)
    g_object_set(dsp, "extended-filter", TRUE, NULL);
  if (g_object_class_find_property(klass, "echo-suppression-level") != NULL)
    gst_util_set_object_arg(G_OBJECT(dsp), "echo-suppression-level", "high");
  return dsp;
}

/* The microphone into the echo delay estimator, then its timestamps moved
 * earlier by what the estimator says, for the canceller only (the canceller's
 * output gets them back). A change of the shift marks a discontinuity: the
 * canceller drops the few milliseconds it holds, so no output buffer mixes
 * two shifts. Both run on the microphone's streaming thread. */
static GstPadProbeReturn
ar_capture_on_microphone_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ArCapture *capture = data;
  GstBuffer *buf = gst_pad_probe_info_get_buffer(info);
  GstMapInfo map;
  gint64 shift;

  (void)pad;
  if (buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf) || GST_BUFFER_PTS(buf) > G_MAXINT64 / 2)
    return GST_PAD_PROBE_OK;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    ar_echo_delay_push_microphone(capture->echo_delay, (gint64)GST_BUFFER_PTS(buf),
                                  (const gint16 *)map.data, map.size / 2);
    gst_buffer_unmap(buf, &map);
  }
  shift = ar_echo_delay_get_shift_ns(capture->echo_delay);
  if ((GstClockTime)shift > GST_BUFFER_PTS(buf))
    shift = 0; /* a timestamp too early to move: the pipeline's first moments */
  if (shift == 0 && capture->echo_shift == 0)
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable(buf);
  if (shift != capture->echo_shift) {
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_CAPTURE", "echo-delay", "MESSAGE",
                     "capture: the echo comes %d ms after the microphone's timestamps; the "
                     "canceller takes them %" G_GINT64_FORMAT " ms earlier",
                     ar_echo_delay_get_ms(capture->echo_delay), shift / 1000000);
    capture->echo_shift = shift;
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  }
  GST_BUFFER_PTS(buf) -= shift;
  info->data = buf;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
ar_capture_on_microphone_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ArCapture *capture = data;
  GstBuffer *buf = gst_pad_probe_info_get_buffer(info);

  (void)pad;
  if (buf == NULL || capture->echo_shift == 0 || !GST_BUFFER_PTS_IS_VALID(buf))
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable(buf);
  GST_BUFFER_PTS(buf) += capture->echo_shift;
  info->data = buf;
  return GST_PAD_PROBE_OK;
}

/* webrtcdsp with what @spec asks for, its echo reference the speaker's probe;
 * NULL when nothing is asked or the element is not installed (logged). */
static GstElement *
ar_capture_make_processing(ArCapture *capture, const ArCaptureSpec *spec)
{
  g_autoptr(GString) what = g_string_new(NULL);
  GstElement *dsp;

  /* The test tone is no room's sound: noise suppression would take a steady
   * sine for noise. Only a microphone is processed. */
  if (spec->audio_device == NULL ||
      (!spec->echo_cancellation && !spec->noise_suppression && !spec->gain_control))
    return NULL;
  dsp = ar_capture_make_processing_element(capture->probe_name, spec->echo_cancellation,
                                           spec->noise_suppression, spec->gain_control);
  if (dsp == NULL) {
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "AR_CAPTURE", "no-processing", "MESSAGE",
                     "capture: webrtcdsp is not installed (gstreamer1.0-plugins-bad): no echo "
                     "cancellation, noise suppression or gain control");
    return NULL;
  }
  if (spec->echo_cancellation)
    g_string_append(what, "echo cancellation");
  if (spec->noise_suppression)
    g_string_append_printf(what, "%snoise suppression", what->len ? ", " : "");
  if (spec->gain_control)
    g_string_append_printf(what, "%sgain control", what->len ? ", " : "");
  capture->processing = g_string_free(g_steal_pointer(&what), FALSE);
  if (spec->echo_cancellation && capture->echo_delay != NULL) {
    g_autoptr(GstPad) in = gst_element_get_static_pad(dsp, "sink");
    g_autoptr(GstPad) out = gst_element_get_static_pad(dsp, "src");
    gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, ar_capture_on_microphone_in, capture, NULL);
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, ar_capture_on_microphone_out, capture, NULL);
  }
  return dsp;
}

/* The echo canceller's reference asks what latency is upstream of it (D) and
 * then hands the canceller, for a microphone sample taken at t, the speaker's
 * sound that plays at t + D: that sound must have reached it by the time the
 * microphone sample is processed. Upstream of the speaker mixer D is 50 ms (the
 * mixer waits 30 ms for late far ends) while the speaker takes its sound only
 * 30 ms before playing it: the reference was never there and the canceller got
 * silence (docs/audio.md). Its branch answers D = 0: the reference is then the
 * sound that plays at t itself, which the speaker took well before. The
 * speaker's own latency query does not pass here, so the pipeline's latency
 * (the play time the reference computes) is unchanged. */
static GstPadProbeReturn
ar_capture_reference_latency(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstQuery *query = gst_pad_probe_info_get_query(info);
  gboolean live;
  GstClockTime min, max;

  (void)pad;
  (void)data;
  if (query != NULL && GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gst_query_parse_latency(query, &live, &min, &max);
    gst_query_set_latency(query, live, 0, max);
  }
  return GST_PAD_PROBE_OK;
}

/* The pipeline's latency: the speaker plays a buffer this long after its
 * timestamp (what the reference's play time is computed with). */
static GstPadProbeReturn
ar_capture_on_reference_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ArCapture *capture = data;
  GstEvent *event = gst_pad_probe_info_get_event(info);
  GstClockTime latency;

  (void)pad;
  if (event != NULL && GST_EVENT_TYPE(event) == GST_EVENT_LATENCY) {
    gst_event_parse_latency(event, &latency);
    if (GST_CLOCK_TIME_IS_VALID(latency) && latency < 10 * GST_SECOND)
      g_atomic_int_set(&capture->speaker_latency_us, (gint)(latency / GST_USECOND));
  }
  return GST_PAD_PROBE_OK;
}

/* The speaker's sound, with the time it plays, into the echo delay estimator. */
static GstPadProbeReturn
ar_capture_on_reference_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  ArCapture *capture = data;
  GstBuffer *buf = gst_pad_probe_info_get_buffer(info);
  gint latency_us = g_atomic_int_get(&capture->speaker_latency_us);
  GstMapInfo map;

  (void)pad;
  if (buf == NULL || latency_us < 0 || !GST_BUFFER_PTS_IS_VALID(buf) ||
      GST_BUFFER_PTS(buf) > G_MAXINT64 / 2 || !gst_buffer_map(buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  ar_echo_delay_push_speaker(capture->echo_delay,
                             (gint64)(GST_BUFFER_PTS(buf) + latency_us * GST_USECOND),
                             (const gint16 *)map.data, map.size / 2);
  gst_buffer_unmap(buf, &map);
  return GST_PAD_PROBE_OK;
}

/* The echo canceller's reference on a branch of its own beside the speaker:
 * tee ! webrtcechoprobe ! fakesink (no sync: the reference is taken as soon
 * as the mixer makes it). Requested before the speaker's pad, so the tee
 * hands it each buffer before the speaker blocks on it. */
static gboolean
ar_capture_build_reference(ArCapture *capture, GstElement *tee, GError **error)
{
  static const char *const names[] = {"webrtcechoprobe", "fakesink"};
  GstElement *e[G_N_ELEMENTS(names)];
  g_autoptr(GstPad) sink = NULL;
  g_autoptr(GstPad) src = NULL;

  if (!ar_capture_make_elements(names, e, G_N_ELEMENTS(names), error))
    return FALSE;
  /* The echo canceller finds its reference by this name (process-wide). */
  g_object_set(e[0], "name", capture->probe_name, NULL);
  g_object_set(e[1], "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  sink = gst_element_get_static_pad(e[0], "sink");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PULL,
                    ar_capture_reference_latency, NULL, NULL);
  src = gst_element_get_static_pad(e[0], "src");
  capture->echo_delay = ar_echo_delay_new();
  /* No reference on the capture: its pipeline stops before it is freed. */
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, ar_capture_on_reference_buffer, capture, NULL);
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, ar_capture_on_reference_event, capture,
                    NULL);
  if (!ar_capture_add_chain(capture, e, G_N_ELEMENTS(e), error))
    return FALSE;
  if (!gst_element_link(tee, e[0])) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "Cannot link the echo canceller's reference");
    return FALSE;
  }
  return TRUE;
}

/* The room's speaker: a silent live bed (the speaker plays, and the echo
 * canceller's reference runs, with no far end) mixed with every speaker
 * input, at the room's volume, into the speaker (a fakesink that keeps time
 * when there is none) and, beside it, the echo canceller's reference. */
gboolean
ar_capture_build_speaker(ArCapture *capture, const ArCaptureSpec *spec, GError **error)
{
  static const char *const names[] = {"audiotestsrc", "capsfilter", "audiomixer", "capsfilter",
                                      "tee"};
  GstElement *e[1 + G_N_ELEMENTS(names)];
  g_autoptr(GstCaps) caps = gst_caps_from_string(AR_CAPTURE_AUDIO_CAPS);
  g_autoptr(GstPad) volume = NULL;
  GstElement *sink, *tee;

  if (!ar_capture_make_elements(names, e, G_N_ELEMENTS(names), error))
    return FALSE;
  const char *speaker_device = NULL;
  const char *sink_name = spec->speaker_device != NULL
                              ? ar_media_audio_element(spec->speaker_device, FALSE, &speaker_device)
                              : "fakesink";
  sink = gst_element_factory_make(sink_name, "speaker");
  if (sink == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ELEMENT,
                "GStreamer element \"%s\" is missing", sink_name);
    for (gsize j = 0; j < G_N_ELEMENTS(names); j++)
      gst_object_unref(gst_object_ref_sink(e[j]));
    return FALSE;
  }
  e[G_N_ELEMENTS(e) - 1] = sink;
  tee = e[G_N_ELEMENTS(e) - 2];
  /* 10 ms of silence at a time, in real time. */
  g_object_set(e[0], "is-live", TRUE, "samplesperbuffer", 480, NULL);
  gst_util_set_object_arg(G_OBJECT(e[0]), "wave", "silence");
  g_object_set(e[1], "caps", caps, NULL);
  g_object_set(e[2], "latency", (guint64)AR_SPEAKER_MIX_LATENCY, NULL);
  capture->mixer = e[2];
  g_object_set(e[3], "caps", caps, NULL);
  if (spec->speaker_device != NULL)
    g_object_set(sink, "device", speaker_device, "buffer-time", (gint64)AR_SPEAKER_BUFFER_US,
                 "latency-time", (gint64)10000, NULL);
  g_object_set(sink, "sync", TRUE, NULL);
  /* The reference only where a canceller reads it: a microphone with echo
   * cancellation (and webrtcdsp's plugin installed). Unread, webrtcechoprobe
   * keeps a copy of the last 1 MB of the speaker's sound (~11 s; measured: 1.4
   * MB of a call's heap with the test tone). The reference's tee pad comes
   * first (see ar_capture_build_reference). */
  for (gsize i = 0; i + 1 < G_N_ELEMENTS(e); i++)
    gst_bin_add(GST_BIN(capture->pipeline), e[i]);
  if (!gst_element_link_many(e[0], e[1], e[2], e[3], tee, NULL)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the speaker path");
    gst_object_unref(gst_object_ref_sink(sink));
    return FALSE;
  }
  if (spec->audio_device != NULL && spec->echo_cancellation &&
      ar_capture_has_factory("webrtcechoprobe") &&
      !ar_capture_build_reference(capture, tee, error)) {
    gst_object_unref(gst_object_ref_sink(sink));
    return FALSE;
  }
  gst_bin_add(GST_BIN(capture->pipeline), sink);
  if (!gst_element_link(tee, sink)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the speaker");
    return FALSE;
  }
  /* The volume applies before the tee: the reference is what the room hears. */
  volume = gst_element_get_static_pad(tee, "sink");
  ar_media_controls_attach_speaker(capture->controls, volume);
  return TRUE;
}

gboolean
ar_capture_build_audio(ArCapture *capture, const ArCaptureSpec *spec, GError **error)
{
  static const char *const names[] = {"audioconvert", "audioresample", "capsfilter"};
  GstElement *e[3 + G_N_ELEMENTS(names)]; /* source, names, processing, tee */
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstPad) gate = NULL;

  if (spec->audio_device != NULL) {
    const char *device = NULL;
    e[0] = ar_media_make_element(ar_media_audio_element(spec->audio_device, TRUE, &device),
                                 "microphone", error);
    if (e[0] != NULL)
      g_object_set(e[0], "device", device, NULL);
    /* The pipeline's clock, not the driver's: ALSA's pulse and PipeWire
     * plugins stamp with the wall clock (measured: PTS in 2026's seconds
     * while the pipeline ran from 0), and the echo canceller compares the
     * microphone's timestamps with the speaker's. */
    if (e[0] != NULL &&
        g_object_class_find_property(G_OBJECT_GET_CLASS(e[0]), "use-driver-timestamps") != NULL)
      g_object_set(e[0], "use-driver-timestamps", FALSE, NULL);
  } else {
    e[0] = ar_media_make_element("audiotestsrc", "microphone", error);
    if (e[0] != NULL) {
      g_object_set(e[0], "is-live", TRUE, "freq", 440.0, "volume", 0.3, NULL);
      gst_util_set_object_arg(G_OBJECT(e[0]), "wave", "sine");
    }
  }
  if (e[0] == NULL)
    return FALSE;
  if (!ar_capture_make_elements(names, e + 1, G_N_ELEMENTS(names), error)) {
    gst_object_unref(gst_object_ref_sink(e[0]));
    return FALSE;
  }
  /* Mono S16 at 48 kHz: what Opus wants and what the level probe reads. */
  caps = gst_caps_from_string(AR_CAPTURE_AUDIO_CAPS);
  g_object_set(e[G_N_ELEMENTS(names)], "caps", caps, NULL);
  /* Echo cancellation, noise suppression and gain control, before the tee:
   * every consumer gets processed audio, and the mute gate stays last. */
  e[G_N_ELEMENTS(e) - 2] = ar_capture_make_processing(capture, spec);
  e[G_N_ELEMENTS(e) - 1] = capture->tee[AR_CAPTURE_AUDIO] =
      ar_capture_make_tee(capture, "audio-tee", error);
  if (e[G_N_ELEMENTS(e) - 1] == NULL) {
    for (gsize j = 0; j + 1 < G_N_ELEMENTS(e); j++)
      if (e[j] != NULL)
        gst_object_unref(gst_object_ref_sink(e[j]));
    return FALSE;
  }
  if (e[G_N_ELEMENTS(e) - 2] == NULL) {
    /* No processing: the capsfilter goes straight to the tee. */
    e[G_N_ELEMENTS(e) - 2] = e[G_N_ELEMENTS(e) - 1];
    if (!ar_capture_add_chain(capture, e, G_N_ELEMENTS(e) - 1, error))
      return FALSE;
  } else if (!ar_capture_add_chain(capture, e, G_N_ELEMENTS(e), error)) {
    return FALSE;
  }
  /* Microphone mute: digital silence from here on, for every consumer. */
  gate = gst_element_get_static_pad(capture->tee[AR_CAPTURE_AUDIO], "sink");
  ar_media_controls_attach_microphone(capture->controls, gate);
  return TRUE;
}
