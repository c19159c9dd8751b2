/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-capture.h: the room's capture graph and its consumers (public header of
 * the media library; knows GStreamer).
 *
 * One ArCapture is one GstPipeline: camera -> convert/scale/rate -> the
 * configured size and rate -> camera-off gate -> tee, and microphone ->
 * convert/resample -> mono S16LE 48 kHz -> (processing) -> mute gate -> tee.
 * Capture and processing run once; every consumer gets the same frames and
 * samples, black while the camera is off and silent while muted.
 *
 * Consumers in OTHER pipelines (a native call's peers) add the bin that
 * ar_capture_make_video_source()/_audio_source() return; consumers INSIDE the
 * capture graph (the web engine's bridge: a pipewiresink, a pulsesink) hand
 * their sink to ar_capture_add_video_sink()/_audio_sink(). A slow consumer
 * never stalls the capture nor another consumer: each has its own bounded,
 * leaky queue. docs/decisions.md "Capture graph" says why.
 *
 * The lifetime functions (ar_media_engine_capture_acquire, ar_capture_ref,
 * ar_capture_unref) are declared in ar-media.h, which firmware code includes
 * without GStreamer. Every function here is called from the GMainContext that
 * was thread-default at ar_media_engine_capture_acquire().
 */
#pragma once

#include <gst/gst.h>

#include "ar-media.h"

G_BEGIN_DECLS

/* What every video consumer receives: raw I420 at the engine's configured
 * size and frame rate, pixel-aspect-ratio 1/1. Audio: S16LE, interleaved,
 * 48000 Hz, mono. */
#define AR_CAPTURE_VIDEO_FORMAT "I420"
#define AR_CAPTURE_AUDIO_CAPS "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"

/* The room's speaker, for another pipeline (a native call's received audio,
 * the web engine's meeting browser): a bin (floating) with a "sink" pad
 * taking any raw audio. Its sink syncs on that pipeline's clock and hands
 * each buffer to the capture graph when it is due; there it is mixed with
 * every other input, scaled by the room's volume, seen by the microphone's
 * echo canceller as its reference, and played by the configured speaker (in
 * real time into nothing when there is none). The consumer holds a reference
 * on @capture until the bin is removed (ar_capture_remove_source()) or
 * finalized. NULL + error if the capture failed. */
GstElement *ar_capture_make_speaker_input(ArCapture *capture,
                                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* A source for another pipeline: a bin (floating reference) with a "src"
 * ghost pad, holding an appsrc named "camera" (raw video, a videoconvert
 * after it so any encoder can link) or "microphone" (raw audio). Timestamps
 * are the capture's, in the consumer pipeline's running time; buffers flow
 * while the consumer's pipeline is PLAYING and are dropped otherwise. A
 * capture error is posted on the consumer's bus as an ERROR from that appsrc.
 * The consumer holds a reference on @capture until it is removed:
 * ar_capture_remove_source(), or when the bin is finalized. NULL + error if
 * the capture failed. */
GstElement *ar_capture_make_video_source(ArCapture *capture,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
GstElement *ar_capture_make_audio_source(ArCapture *capture,
                                         GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Stops feeding @source (no buffer enters it after this returns) and takes
 * its branch out of the running capture graph. Unknown or already removed
 * sources are ignored. */
void ar_capture_remove_source(ArCapture *capture, GstElement *source);

/* A sink INSIDE the capture pipeline, behind its own leaky queue (takes
 * ownership of a floating @sink). The sink sees the consumers' caps (see
 * above). FALSE + error if the capture failed or the sink does not link. */
gboolean ar_capture_add_video_sink(ArCapture *capture, GstElement *sink,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean ar_capture_add_audio_sink(ArCapture *capture, GstElement *sink,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Unlinks @sink from the running graph (as soon as the tee's pad is idle: at
 * once, or after the buffer in flight), sets it to NULL and drops it.
 * Unknown sinks are ignored. */
void ar_capture_remove_sink(ArCapture *capture, GstElement *sink);

/* Called in the capture's context when the capture failed (@sink NULL: a
 * device error, the camera or microphone gone; every source consumer also
 * gets the error on its bus) or when an in-graph sink posted an error (@sink:
 * that sink, already taken out of the graph; the capture goes on). */
typedef void (*ArCaptureErrorFunc)(ArCapture *capture, GstElement *sink, const GError *error,
                                   gpointer user_data);
void ar_capture_set_error_func(ArCapture *capture, ArCaptureErrorFunc func, gpointer user_data);

/* The capture pipeline (borrowed), for tests and diagnostics. */
GstElement *ar_capture_get_pipeline(ArCapture *capture);

/* The microphone's processing exactly as the capture graph makes it: webrtcdsp
 * (named "processing") with the echo canceller's settings, its reference the
 * webrtcechoprobe named @probe_name; NULL when webrtcdsp is not installed.
 * For the echo lab's one-clock check (tests/bench/echo-dut.c), which runs it
 * on files so that the canceller is measured without device timing. */
GstElement *ar_capture_make_processing_element(const char *probe_name, gboolean echo_cancellation,
                                               gboolean noise_suppression, gboolean gain_control);

G_END_DECLS
