/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capture-harness.h: what the capture graph's tests share (test-capture.c,
 * test-capture-speaker.c): an engine with the test sources at a small size,
 * consumer pipelines that record what they receive, and waits on them.
 */
#pragma once

#include <gst/gst.h>

#include "ar-capture-priv.h"
#include "ar-capture.h"
#include "ar-media-priv.h"

#define W 320
#define H 240
#define FPS 15

/* One consumer pipeline: source bin ! [identity] ! appsink (the test's). */
typedef struct {
  GstElement *pipeline;
  GstElement *source; /* the capture's bin, in @pipeline */
  GMutex lock;
  guint64 buffers;
  GstCaps *caps;
  double luma, chroma_u; /* video: means of the last frame's Y and U planes */
  guint max_abs;         /* audio: largest |sample| of the last buffer */
  GstClockTime last_pts;
  gboolean pts_backwards;
} Consumer;

/* A consumer of @capture's video or audio, PLAYING; @slow_us: an identity
 * that sleeps this long per buffer (a slow encoder). */
Consumer *consumer_new(ArCapture *capture, gboolean video, guint slow_us);
void consumer_free(Consumer *c);
guint64 consumer_count(Consumer *c);

/* Iterates the default context until @check(@a) && @check(@b) or @ms pass. */
typedef gboolean (*CheckFunc)(Consumer *c);
gboolean wait_both(CheckFunc check, Consumer *a, Consumer *b, guint ms);
/* Iterates the default context for @ms. */
void spin(guint ms);

/* Checks of the last buffer a consumer got: buffers come; video-range black; the test camera's
 * picture; audio silence; the 440 Hz test tone. */
gboolean flowing(Consumer *c);
gboolean black(Consumer *c);
gboolean lit(Consumer *c);
gboolean silent(Consumer *c);
gboolean loud(Consumer *c);

/* An engine with @camera and @microphone ("test": the tone; "null": ALSA's
 * null device, a microphone that gives silence), W x H at FPS. */
ArMediaEngine *make_engine_with(const char *camera, const char *microphone);
/* The same with the test tone as the microphone. */
ArMediaEngine *make_engine(const char *camera);

/* How many elements made by @factory are in @bin, at any depth. */
guint count_factory(GstElement *bin, const char *factory);
