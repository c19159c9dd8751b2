/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo-dut.c: the room's media engine as the echo lab's device under test
 * (tests/lab/echo/echo-lab.sh runs it; docs/audio.md).
 *
 * The product's own capture graph, nothing of its own: an ArMediaEngine with
 * the lab's microphone and speaker (the lab's PulseAudio source and sink, as
 * the settings name them: "pulse:NAME"), the far end's
 * speech into the room's speaker exactly as a native call's received audio
 * goes (ar_capture_make_speaker_input), and the processed microphone taken
 * exactly as a call's sender takes it (ar_capture_make_audio_source), written
 * to a WAV file.
 *
 * Environment (the lab's): AR_ECHO_MIC, AR_ECHO_SPEAKER (the PulseAudio source
 * and sink; AR_ECHO_DUT_MIC, AR_ECHO_DUT_SPEAKER: other engine settings instead,
 * e.g. "pulse" for ALSA's pulse plugin),
 * AR_ECHO_FAR (WAV to play), AR_ECHO_OUT (WAV written), AR_ECHO_SECONDS
 * (default 32), AR_ECHO_PROCESSING: a comma list of aec, ns, agc, or "off"
 * (default aec,ns,agc: the product's default).
 *
 * One-clock mode (AR_ECHO_MIC_WAV: a recorded microphone, from
 * tests/lab/echo/one-clock.sh --engine): no devices. One pipeline plays
 * AR_ECHO_FAR through the echo canceller's reference probe into a fakesink and
 * AR_ECHO_MIC_WAV through the capture graph's own processing element
 * (ar_capture_make_processing_element) into AR_ECHO_OUT, both in real time on
 * the pipeline's clock: the canceller exactly as the engine configures it,
 * without device timing in the way.
 */
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

#include "ar-capture.h"
#include "ar-media.h"

static const char *
env_or(const char *name, const char *fallback)
{
  const char *v = g_getenv(name);
  return v != NULL && *v != '\0' ? v : fallback;
}

static gboolean
has_item(const char *list, const char *item)
{
  g_auto(GStrv) items = g_strsplit(list, ",", -1);
  return g_strv_contains((const char *const *)items, item);
}

static gboolean
on_timeout(gpointer data)
{
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) error = NULL;
    gst_message_parse_error(msg, &error, NULL);
    g_printerr("echo-dut: %s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message);
    exit(1);
  }
  return G_SOURCE_CONTINUE;
}

static GstElement *
pipeline_with(GstElement *first, const char *description, GError **error)
{
  GstElement *pipeline = gst_pipeline_new(NULL);
  GstElement *rest = gst_parse_bin_from_description(description, TRUE, error);
  g_autoptr(GstBus) bus = NULL;

  if (rest == NULL)
    return NULL;
  gst_bin_add_many(GST_BIN(pipeline), first, rest, NULL);
  if (!gst_element_link(first, rest)) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link");
    return NULL;
  }
  bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
  gst_bus_add_watch(bus, on_bus, NULL);
  return pipeline;
}

/* One-clock mode: see the header. Returns the exit code. */
static int
run_one_clock(const char *mic_wav, const char *far, const char *out, const char *processing)
{
  g_autoptr(GError) error = NULL;
  const char *probe_name = "ar-echo-one-clock-probe";
  g_autofree char *mic_desc = g_strdup_printf(
      "filesrc location=\"%s\" ! wavparse ! audioconvert ! audioresample ! capsfilter "
      "caps=\"" AR_CAPTURE_AUDIO_CAPS "\"",
      mic_wav);
  g_autofree char *out_desc = g_strdup_printf("audioconvert ! " AR_CAPTURE_AUDIO_CAPS
                                              " ! wavenc ! filesink sync=true location=\"%s\"",
                                              out);
  g_autofree char *far_desc = g_strdup_printf(
      "filesrc location=\"%s\" ! wavparse ! audioconvert ! audioresample ! " AR_CAPTURE_AUDIO_CAPS
      " ! webrtcechoprobe name=%s ! fakesink sync=true",
      far, probe_name);
  GstElement *pipeline = gst_pipeline_new(NULL);
  GstElement *mic = gst_parse_bin_from_description(mic_desc, TRUE, &error);
  GstElement *rec = mic != NULL ? gst_parse_bin_from_description(out_desc, TRUE, &error) : NULL;
  GstElement *ref = rec != NULL ? gst_parse_bin_from_description(far_desc, FALSE, &error) : NULL;
  GstElement *proc;
  gboolean aec = has_item(processing, "aec"), ns = has_item(processing, "ns"),
           agc = has_item(processing, "agc");

  if (ref == NULL) {
    g_printerr("echo-dut: %s\n", error->message);
    return 1;
  }
  /* Off: the same path without the element, the lab's control. */
  proc = aec || ns || agc ? ar_capture_make_processing_element(probe_name, aec, ns, agc)
                          : gst_element_factory_make("identity", NULL);
  if (proc == NULL) {
    g_printerr("echo-dut: webrtcdsp is not installed\n");
    return 1;
  }
  gst_bin_add_many(GST_BIN(pipeline), ref, mic, proc, rec, NULL);
  if (!gst_element_link_many(mic, proc, rec, NULL)) {
    g_printerr("echo-dut: cannot link the one-clock pipeline\n");
    return 1;
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  int rc = 0;
  if (msg == NULL || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS) {
    g_autoptr(GError) e = NULL;
    if (msg != NULL)
      gst_message_parse_error(msg, &e, NULL);
    g_printerr("echo-dut: one clock: %s\n", e != NULL ? e->message : "no end within 120 s");
    rc = 1;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return rc;
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pulse_mic =
      g_strconcat("pulse:", env_or("AR_ECHO_MIC", "room_air.monitor"), NULL);
  g_autofree char *pulse_speaker =
      g_strconcat("pulse:", env_or("AR_ECHO_SPEAKER", "room_speaker"), NULL);
  const char *mic = env_or("AR_ECHO_DUT_MIC", pulse_mic);
  const char *speaker = env_or("AR_ECHO_DUT_SPEAKER", pulse_speaker);
  const char *far = g_getenv("AR_ECHO_FAR");
  const char *out = g_getenv("AR_ECHO_OUT");
  const char *processing = env_or("AR_ECHO_PROCESSING", "aec,ns,agc");
  guint seconds = (guint)CLAMP(atoi(env_or("AR_ECHO_SECONDS", "32")), 1, 600);
  ArMediaConfig cfg;
  g_autoptr(ArMediaEngine) engine = NULL;
  ArCapture *capture;
  GstElement *input, *source, *play, *record;
  g_autofree char *play_desc = NULL;
  g_autofree char *record_desc = NULL;
  g_autoptr(GMainLoop) loop = NULL;

  gst_init(&argc, &argv);
  if (far == NULL || out == NULL || strchr(far, '"') || strchr(out, '"')) {
    g_printerr("echo-dut: AR_ECHO_FAR and AR_ECHO_OUT must name WAV files\n");
    return 2;
  }
  if (g_getenv("AR_ECHO_MIC_WAV") != NULL) {
    const char *mic_wav = g_getenv("AR_ECHO_MIC_WAV");
    if (strchr(mic_wav, '"')) {
      g_printerr("echo-dut: AR_ECHO_MIC_WAV must name a WAV file\n");
      return 2;
    }
    return run_one_clock(mic_wav, far, out, processing);
  }
  ar_media_config_init_defaults(&cfg);
  cfg.video_source = "test";
  cfg.video_sink = "none";
  cfg.audio_source = mic;
  cfg.audio_sink = speaker;
  cfg.width = 320;
  cfg.height = 180;
  cfg.framerate = 5;
  cfg.echo_cancellation = has_item(processing, "aec");
  cfg.noise_suppression = has_item(processing, "ns");
  cfg.gain_control = has_item(processing, "agc");
  engine = ar_media_engine_new(&cfg, &error);
  if (engine == NULL) {
    g_printerr("echo-dut: %s\n", error->message);
    return 1;
  }
  /* The far end at full volume: the lab's room sets the acoustic level. */
  ar_media_engine_set_speaker_volume(engine, AR_MEDIA_VOLUME_MAX);
  capture = ar_media_engine_capture_acquire(engine, &error);
  if (capture == NULL) {
    g_printerr("echo-dut: %s\n", error->message);
    return 1;
  }
  g_printerr("echo-dut: %s\n", ar_media_engine_describe(engine));

  /* The processed microphone, as a call's sender takes it. */
  source = ar_capture_make_audio_source(capture, &error);
  record_desc = g_strdup_printf("wavenc ! filesink location=\"%s\"", out);
  record = source != NULL ? pipeline_with(source, record_desc, &error) : NULL;
  /* The far end's speech, as a call's received audio reaches the speaker. */
  play_desc = g_strdup_printf("filesrc location=\"%s\" ! wavparse ! audioconvert", far);
  input = ar_capture_make_speaker_input(capture, &error);
  play = NULL;
  if (input != NULL) {
    GstElement *file = gst_parse_bin_from_description(play_desc, TRUE, &error);
    if (file != NULL) {
      play = gst_pipeline_new(NULL);
      gst_bin_add_many(GST_BIN(play), file, input, NULL);
      if (!gst_element_link(file, input))
        g_clear_object(&play);
      else {
        g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(play));
        gst_bus_add_watch(bus, on_bus, NULL);
      }
    }
  }
  if (record == NULL || play == NULL) {
    g_printerr("echo-dut: %s\n", error != NULL ? error->message : "cannot build the pipelines");
    return 1;
  }
  gst_element_set_state(record, GST_STATE_PLAYING);
  gst_element_set_state(play, GST_STATE_PLAYING);
  loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add_seconds(seconds, on_timeout, loop);
  g_main_loop_run(loop);

  /* EOS through the recorder: wavenc writes its header's sizes. */
  gst_element_set_state(play, GST_STATE_NULL);
  gst_element_send_event(record, gst_event_new_eos());
  {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(record));
    g_autoptr(GstMessage) msg =
        gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (msg == NULL || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS)
      g_printerr("echo-dut: the recording did not end cleanly\n");
  }
  gst_element_set_state(record, GST_STATE_NULL);
  gst_object_unref(play);
  gst_object_unref(record);
  ar_capture_unref(capture);
  return 0;
}
