/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-media-devices.c: the devices an admin picks from (GstDeviceMonitor), a
 * test tone through a speaker and a still picture of a camera. Each runs in
 * the caller's thread and blocks for a bounded time: call from a worker. */
#include <gst/gst.h>
#include <string.h>

#include "ar-media-priv.h"
#include "ar-media.h"

GST_DEBUG_CATEGORY_STATIC(ar_devices_debug);
#undef GST_CAT_DEFAULT
#define GST_CAT_DEFAULT ar_devices_debug

/* The engine's initialization (its device providers: V4L2 and ALSA only). */
static gboolean
devices_init(GError **error)
{
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    GST_DEBUG_CATEGORY_INIT(ar_devices_debug, "ar-devices", 0, "Anyroom device helpers");
    g_once_init_leave(&done, 1);
  }
  return ar_media_init(error);
}

void
ar_media_device_free(ArMediaDevice *d)
{
  if (!d)
    return;
  g_free(d->id);
  g_free(d->name);
  g_free(d);
}

static ArMediaDevice *
device_new(ArMediaDeviceKind kind, const char *id, const char *name)
{
  ArMediaDevice *d = g_new0(ArMediaDevice, 1);
  d->kind = kind;
  d->id = g_strdup(id);
  d->name = g_strdup(name);
  return d;
}

/* The value the engine takes for @device: the "device" property of the
 * element it makes, if that element is one the engine uses. */
static char *
device_id(GstDevice *device, ArMediaDeviceKind kind)
{
  g_autoptr(GstElement) e = gst_device_create_element(device, NULL);
  if (!e)
    return NULL;
  GstElementFactory *f = gst_element_get_factory(e);
  const char *fname = f ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)) : "";
  const char *want = kind == AR_MEDIA_DEVICE_CAMERA       ? "v4l2src"
                     : kind == AR_MEDIA_DEVICE_MICROPHONE ? "alsasrc"
                                                          : "alsasink";
  if (!g_str_equal(fname, want) || !g_object_class_find_property(G_OBJECT_GET_CLASS(e), "device"))
    return NULL;
  char *id = NULL;
  g_object_get(e, "device", &id, NULL);
  return id;
}

GPtrArray *
ar_media_list_devices(void)
{
  g_autoptr(GError) error = NULL;
  gboolean ready = devices_init(&error);
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)ar_media_device_free);
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_CAMERA, "auto", "Automatic (first camera)"));
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_CAMERA, "test", "Test pattern"));
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_MICROPHONE, "auto", "Automatic (default)"));
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_MICROPHONE, "test", "Test tone"));
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_SPEAKER, "auto", "Automatic (default)"));
  g_ptr_array_add(out, device_new(AR_MEDIA_DEVICE_SPEAKER, "none", "None"));
  if (!ready) {
    GST_INFO("no devices listed: %s", error->message);
    return out;
  }
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new();
  gst_device_monitor_add_filter(monitor, "Video/Source", NULL);
  gst_device_monitor_add_filter(monitor, "Audio/Source", NULL);
  gst_device_monitor_add_filter(monitor, "Audio/Sink", NULL);
  if (!gst_device_monitor_start(monitor)) {
    GST_INFO("the device monitor did not start");
    return out;
  }
  GList *devices = gst_device_monitor_get_devices(monitor);
  guint n = 0;
  for (GList *l = devices; l && n < AR_MEDIA_MAX_DEVICES; l = l->next) {
    GstDevice *d = GST_DEVICE(l->data);
    ArMediaDeviceKind kind;
    if (gst_device_has_classes(d, "Video/Source"))
      kind = AR_MEDIA_DEVICE_CAMERA;
    else if (gst_device_has_classes(d, "Audio/Source"))
      kind = AR_MEDIA_DEVICE_MICROPHONE;
    else if (gst_device_has_classes(d, "Audio/Sink"))
      kind = AR_MEDIA_DEVICE_SPEAKER;
    else
      continue;
    g_autofree char *id = device_id(d, kind);
    if (!id || !*id)
      continue;
    /* Only names the engine (and so the admin's choice) would take. */
    ArMediaSetting setting = kind == AR_MEDIA_DEVICE_CAMERA       ? AR_MEDIA_SETTING_VIDEO_SOURCE
                             : kind == AR_MEDIA_DEVICE_MICROPHONE ? AR_MEDIA_SETTING_AUDIO_SOURCE
                                                                  : AR_MEDIA_SETTING_AUDIO_SINK;
    if (!ar_media_setting_check(setting, id, NULL)) {
      GST_INFO("device '%s' left out: not a name the engine takes", id);
      continue;
    }
    gboolean dup = FALSE;
    for (guint i = 0; i < out->len && !dup; i++) {
      ArMediaDevice *x = out->pdata[i];
      dup = x->kind == kind && g_str_equal(x->id, id);
    }
    if (dup)
      continue;
    g_autofree char *name = gst_device_get_display_name(d);
    g_ptr_array_add(out, device_new(kind, id, name ? name : id));
    n++;
  }
  g_list_free_full(devices, gst_object_unref);
  gst_device_monitor_stop(monitor);
  return out;
}

const char *
ar_media_device_kind_to_string(ArMediaDeviceKind kind)
{
  switch (kind) {
  case AR_MEDIA_DEVICE_CAMERA:
    return "camera";
  case AR_MEDIA_DEVICE_MICROPHONE:
    return "microphone";
  case AR_MEDIA_DEVICE_SPEAKER:
    return "speaker";
  }
  return "?";
}

static GstElement *
make(const char *factory, GError **error)
{
  GstElement *e = gst_element_factory_make(factory, NULL);
  if (!e)
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ELEMENT, "GStreamer element %s missing",
                factory);
  return e;
}

/* Runs @pipeline to EOS or error, at most @timeout_ms. */
static gboolean
run_to_end(GstElement *pipeline, guint timeout_ms, GError **error)
{
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "the device did not open");
    return FALSE;
  }
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_ms * GST_MSECOND,
                                                       GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gboolean ok = m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
  if (!m) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "no end within %u ms", timeout_ms);
  } else if (!ok) {
    g_autoptr(GError) e = NULL;
    gst_message_parse_error(m, &e, NULL);
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "%s",
                e ? e->message : "pipeline error");
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return ok;
}

gboolean
ar_media_play_test_tone(const char *speaker, guint ms, GError **error)
{
  if (!devices_init(error))
    return FALSE;
  /* The one device-name check (ar-media-config.c): no ALSA plugin arguments
   * (file:FILE=... would write a file) whoever the caller is. */
  if (speaker && !ar_media_setting_check(AR_MEDIA_SETTING_AUDIO_SINK, speaker, error))
    return FALSE;
  if (!speaker || g_str_equal(speaker, "none")) {
    g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                        "no speaker is configured (none)");
    return FALSE;
  }
  ms = CLAMP(ms, 100, 5000);
  g_autoptr(GstElement) pipeline = gst_pipeline_new("ar-test-tone");
  GstElement *src = make("audiotestsrc", error);
  GstElement *conv = src ? make("audioconvert", error) : NULL;
  GstElement *res = conv ? make("audioresample", error) : NULL;
  const char *device = g_str_equal(speaker, "auto") ? "default" : speaker;
  GstElement *sink = res ? make(ar_media_audio_element(device, FALSE, &device), error) : NULL;
  if (!sink) {
    g_clear_object(&src);
    g_clear_object(&conv);
    g_clear_object(&res);
    return FALSE;
  }
  /* 440 Hz at -12 dBFS; 48 kHz buffers of 10 ms. */
  g_object_set(src, "freq", 440.0, "volume", 0.25, "samplesperbuffer", 480, "num-buffers",
               (gint)(ms / 10), NULL);
  g_object_set(sink, "device", device, NULL);
  gst_bin_add_many(GST_BIN(pipeline), src, conv, res, sink, NULL);
  if (!gst_element_link_many(src, conv, res, sink, NULL)) {
    g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "cannot link the tone");
    return FALSE;
  }
  GST_INFO("test tone %u ms on %s", ms, speaker);
  return run_to_end(pipeline, ms + 4000, error);
}

GBytes *
ar_media_camera_snapshot(const char *camera, guint width, guint height, GError **error)
{
  if (!devices_init(error))
    return NULL;
  width = CLAMP(width, 32, 1280);
  height = CLAMP(height, 32, 720);
  g_autoptr(GstElement) pipeline = gst_pipeline_new("ar-snapshot");
  GstElement *src = NULL;
  if (camera && !ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE, camera, error))
    return NULL;
  /* "auto": the first camera, else the test picture (as the engine does). */
  if (camera && g_str_equal(camera, "auto") && !g_file_test("/dev/video0", G_FILE_TEST_EXISTS))
    camera = "test";
  if (!camera || g_str_equal(camera, "test")) {
    src = make("videotestsrc", error);
    if (src)
      g_object_set(src, "pattern", 0 /* smpte */, NULL);
  } else {
    src = make("v4l2src", error);
    if (src && !g_str_equal(camera, "auto"))
      g_object_set(src, "device", camera, NULL);
  }
  if (!src)
    return NULL;
  g_object_set(src, "num-buffers", 5, NULL); /* a camera's first frames are often dark */
  GstElement *conv = make("videoconvert", error);
  GstElement *scale = conv ? make("videoscale", error) : NULL;
  GstElement *caps = scale ? make("capsfilter", error) : NULL;
  GstElement *enc = caps ? make("jpegenc", error) : NULL;
  GstElement *sink = enc ? make("appsink", error) : NULL;
  gst_bin_add(GST_BIN(pipeline), src);
  if (!sink) {
    g_clear_object(&conv);
    g_clear_object(&scale);
    g_clear_object(&caps);
    g_clear_object(&enc);
    return NULL;
  }
  g_autoptr(GstCaps) c = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, (gint)width,
                                             "height", G_TYPE_INT, (gint)height, NULL);
  g_object_set(caps, "caps", c, NULL);
  g_object_set(enc, "quality", 80, NULL);
  g_object_set(sink, "sync", FALSE, "max-buffers", 1, "drop", TRUE, "emit-signals", FALSE, NULL);
  gst_bin_add_many(GST_BIN(pipeline), conv, scale, caps, enc, sink, NULL);
  if (!gst_element_link_many(src, conv, scale, caps, enc, sink, NULL)) {
    g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                        "cannot link the snapshot pipeline");
    return NULL;
  }
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "the camera did not open");
    return NULL;
  }
  /* The last of the first frames (a camera's first ones are often dark). */
  GstSample *sample = NULL;
  for (int i = 0; i < 5; i++) {
    GstSample *next = NULL;
    g_signal_emit_by_name(sink, "try-pull-sample", (GstClockTime)(5 * GST_SECOND), &next);
    if (!next)
      break;
    if (sample)
      gst_sample_unref(sample);
    sample = next;
  }
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) err = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (!sample) {
    g_autoptr(GError) e = NULL;
    if (err)
      gst_message_parse_error(err, &e, NULL);
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "no picture from the camera%s%s",
                e ? ": " : "", e ? e->message : "");
    return NULL;
  }
  GstBuffer *buf = gst_sample_get_buffer(sample);
  GstMapInfo map;
  GBytes *out = NULL;
  if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
    if (map.size > 0 && map.size <= AR_MEDIA_SNAPSHOT_MAX_BYTES)
      out = g_bytes_new(map.data, map.size);
    gst_buffer_unmap(buf, &map);
  }
  gst_sample_unref(sample);
  if (!out)
    g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "no picture");
  return out;
}
