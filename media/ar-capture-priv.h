/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-capture-priv.h: what the capture graph's two halves share. ar-capture.c
 * holds the graph, its consumers and its errors; ar-capture-audio.c the
 * speaker path (inputs, mixer, the echo canceller's reference) and the
 * microphone with its processing.
 */
#pragma once

#include "ar-capture.h"
#include "ar-echo-delay.h"
#include "ar-media-priv.h"

#include <gst/app/app.h>

G_BEGIN_DECLS

typedef enum {
  AR_CAPTURE_VIDEO,
  AR_CAPTURE_AUDIO,
  AR_CAPTURE_SPEAKER, /* a far end's sound into the speaker mixer */
} ArCaptureKind;

/* The speaker path: inputs are played at the time they reach their appsink;
 * a buffer that arrives within this much of where the previous one ended
 * continues it (no click from scheduling jitter). */
#define AR_SPEAKER_CONTINUITY (15 * GST_MSECOND)
/* How long the mixer waits for a late input (must exceed the continuity). */
#define AR_SPEAKER_MIX_LATENCY (30 * GST_MSECOND)
/* The speaker device's buffer: short, it is part of the echo path. */
#define AR_SPEAKER_BUFFER_US 60000

/* A consumer: its branch in the capture pipeline, and for a source consumer
 * the appsrc it feeds (a speaker input: the appsrc in the capture pipeline
 * that its appsink feeds). Refcounted (g_atomic_rc_box): held by the capture's
 * list, by the appsink's callbacks and by the source bin's weak reference. */
typedef struct {
  ArCapture *capture; /* source consumers: a reference until detached */
  ArCaptureKind kind;
  GstPad *teepad;      /* the tee's request pad (speaker input: the mixer's) */
  GPtrArray *elements; /* the branch's elements in the capture pipeline */
  GstElement *sink;    /* sink consumers: the caller's sink (the key) */
  GMainContext *context;

  GMutex lock;
  GstElement *source; /* source consumers: the bin handed out (weak; the key) */
  GstElement *appsrc; /* strong; NULL once detached: no more buffers */
  GstCaps *caps;      /* the caps last set on the appsrc */
  gboolean discont;   /* mark the next buffer pushed */
  GstClockTime next;  /* speaker input: where the last buffer pushed ended */
} ArCaptureBranch;

struct _ArCapture {
  gint ref_count; /* atomic */
  GMainContext *context;
  ArMediaControls *controls;
  GstElement *pipeline;
  GstElement *tee[2]; /* ArCaptureKind: video, audio */
  GstElement *mixer;  /* the speaker's: far ends in, speaker out */
  char *probe_name;   /* the echo canceller's reference (webrtcechoprobe) */
  char *processing;   /* what the microphone's processing does, or NULL */
  /* Echo cancellation on: the echo's delay, measured (ar-echo-delay.h), and
   * what the microphone's timestamps need to be moved by for the canceller. */
  ArEchoDelay *echo_delay;
  gint speaker_latency_us; /* atomic: the pipeline's latency, -1 until known */
  gint64 echo_shift;       /* the microphone's streaming thread only: applied */
  GSource *bus_source;
  GPtrArray *branches; /* ArCaptureBranch*, in the graph */
  GError *error;       /* set once: the capture failed */
  ArCapture **owner_slot;
  guint framerate;
  ArCaptureErrorFunc error_func;
  gpointer error_data;
  char *description;
};

extern const char *const ar_capture_kind_names[];

/* ar-capture.c: @videorate (the capture's, out at @framerate fps) sends a
 * camera's frames at once when the camera gives @framerate or more (drop-only),
 * and repeats frames only for a slower camera; switched as the caps pass. */
void ar_capture_follow_camera_rate(GstElement *videorate, guint framerate);

/* ar-capture.c: branches and elements. */
ArCaptureBranch *ar_capture_branch_new(ArCapture *capture, ArCaptureKind kind);
ArCaptureBranch *ar_capture_branch_ref(ArCaptureBranch *b);
void ar_capture_branch_unref(gpointer b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArCaptureBranch, ar_capture_branch_unref)
/* The weak reference on a source consumer's bin: the consumer dropped it. */
void ar_capture_source_gone(gpointer data, GObject *where_the_object_was);
gboolean ar_capture_make_elements(const char *const *names, GstElement **out, gsize n,
                                  GError **error);
/* Adds and links @e[0..n) to the capture's pipeline. */
gboolean ar_capture_add_chain(ArCapture *capture, GstElement **e, gsize n, GError **error);
GstElement *ar_capture_make_tee(ArCapture *capture, const char *name, GError **error);

/* ar-capture-audio.c: the speaker (live silence + mixer + reference probe +
 * device) and the microphone (device, conversion, processing, mute gate, tee). */
gboolean ar_capture_build_speaker(ArCapture *capture, const ArCaptureSpec *spec, GError **error);
gboolean ar_capture_build_audio(ArCapture *capture, const ArCaptureSpec *spec, GError **error);

G_END_DECLS
