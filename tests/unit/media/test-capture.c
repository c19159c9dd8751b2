/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-capture.c: the capture graph (media/ar-capture.c) with the engine's
 * test sources (videotestsrc, audiotestsrc: what it opens with no device):
 * consumers in separate pipelines receive frames of the configured caps from
 * one camera; camera off gives every consumer black frames and mute gives
 * silence (checked on the pixels and samples); a consumer removed while the
 * graph runs, or a slow one, leaves the others flowing; an in-graph sink; a
 * missing camera is a GError; the last reference frees the pipeline; the lab's
 * clip camera (ANYROOM_TEST_CLIP) plays a file's frames and refuses a file that
 * is not frames of the capture's size.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "capture-harness.h"

/* The capture graph's own fakesinks: the speaker (none in these tests). The
 * echo canceller's reference is one more beside a microphone with echo
 * cancellation; the test tone has none. */
#define SPEAKER_SINKS 1u

static void
test_consumers(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine("test");
  ArCapture *capture = ar_media_engine_capture_acquire(engine, &error);
  GWeakRef pipeline_ref;
  Consumer *v1, *v2, *a1, *a2;
  int width = 0, height = 0, fps_n = 0, fps_d = 0;
  guint64 before;

  g_assert_no_error(error);
  g_assert_nonnull(capture);
  {
    /* The call's owner and a peer share one capture. */
    g_autoptr(ArCapture) again = ar_media_engine_capture_acquire(engine, &error);
    g_assert_no_error(error);
    g_assert_true(again == capture);
  }
  g_weak_ref_init(&pipeline_ref, ar_capture_get_pipeline(capture));

  v1 = consumer_new(capture, TRUE, 0);
  v2 = consumer_new(capture, TRUE, 0);
  a1 = consumer_new(capture, FALSE, 0);
  a2 = consumer_new(capture, FALSE, 0);
  g_assert_true(wait_both(flowing, v1, v2, 5000));
  g_assert_true(wait_both(flowing, a1, a2, 5000));

  /* The configured caps, in both video consumers. */
  for (Consumer *c = v1; c != NULL; c = c == v1 ? v2 : NULL) {
    const GstStructure *s = gst_caps_get_structure(c->caps, 0);
    g_assert_cmpstr(gst_structure_get_string(s, "format"), ==, "I420");
    g_assert_true(gst_structure_get_int(s, "width", &width));
    g_assert_true(gst_structure_get_int(s, "height", &height));
    g_assert_true(gst_structure_get_fraction(s, "framerate", &fps_n, &fps_d));
    g_assert_cmpint(width, ==, W);
    g_assert_cmpint(height, ==, H);
    g_assert_cmpint(fps_n, ==, FPS);
    g_assert_cmpint(fps_d, ==, 1);
  }
  for (Consumer *c = a1; c != NULL; c = c == a1 ? a2 : NULL) {
    g_autoptr(GstCaps) want = gst_caps_from_string(AR_CAPTURE_AUDIO_CAPS);
    g_assert_true(gst_caps_is_subset(c->caps, want));
  }

  /* The consumers' appsrcs report the capture's latency (live). */
  for (Consumer *c = v1; c != NULL; c = c == v1 ? a1 : NULL) {
    g_autoptr(GstElement) appsrc =
        gst_bin_get_by_name(GST_BIN(c->source), c == v1 ? "camera" : "microphone");
    gint64 latency = -1;
    g_assert_nonnull(appsrc);
    g_object_get(appsrc, "min-latency", &latency, NULL);
    g_test_message("%s consumer latency %.1f ms", c == v1 ? "video" : "audio", latency / 1e6);
    g_assert_cmpint(latency, >, 0);
    g_assert_cmpint(latency, <, 500 * GST_MSECOND);
  }

  /* One camera and one microphone, in the capture graph only. */
  g_assert_cmpuint(count_factory(ar_capture_get_pipeline(capture), "videotestsrc"), ==, 1);
  /* (and the speaker's silent bed: this engine has no speaker) */
  g_assert_cmpuint(count_factory(ar_capture_get_pipeline(capture), "audiotestsrc"), ==, 2);
  g_assert_cmpuint(count_factory(v1->pipeline, "videotestsrc"), ==, 0);
  g_assert_cmpuint(count_factory(v2->pipeline, "videotestsrc"), ==, 0);
  g_assert_cmpuint(count_factory(a1->pipeline, "audiotestsrc"), ==, 0);

  /* Camera off: every consumer sees black, never the live picture. */
  g_assert_true(wait_both(lit, v1, v2, 5000));
  ar_media_engine_set_camera_enabled(engine, FALSE);
  g_assert_true(wait_both(black, v1, v2, 5000));
  spin(300);
  g_assert_true(black(v1) && black(v2));
  ar_media_engine_set_camera_enabled(engine, TRUE);
  g_assert_true(wait_both(lit, v1, v2, 5000));

  /* Mute: digital silence for every consumer. */
  g_assert_true(wait_both(loud, a1, a2, 5000));
  ar_media_engine_set_microphone_muted(engine, TRUE);
  g_assert_true(wait_both(silent, a1, a2, 5000));
  spin(300);
  g_assert_true(silent(a1) && silent(a2));
  ar_media_engine_set_microphone_muted(engine, FALSE);
  g_assert_true(wait_both(loud, a1, a2, 5000));

  /* Every consumer's branch is freed with it (weak references). */
  GPtrArray *branch_refs = g_ptr_array_new();
  {
    g_autoptr(GstIterator) it = gst_bin_iterate_recurse(GST_BIN(ar_capture_get_pipeline(capture)));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      GstElement *e = g_value_get_object(&item);
      GstElementFactory *f = gst_element_get_factory(e);
      if (f != NULL && g_str_equal(GST_OBJECT_NAME(f), "appsink")) {
        GWeakRef *w = g_new0(GWeakRef, 1);
        g_weak_ref_init(w, e);
        g_ptr_array_add(branch_refs, w);
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
  }
  g_assert_cmpuint(branch_refs->len, ==, 4);

  /* One consumer removed while the graph runs: the other flows on. */
  ar_capture_remove_source(capture, v1->source);
  ar_capture_remove_source(capture, a1->source);
  spin(200);
  before = consumer_count(v1);
  {
    guint64 v2_before = consumer_count(v2), a2_before = consumer_count(a2);
    spin(1000);
    g_assert_cmpuint(consumer_count(v1), ==, before);
    g_assert_cmpuint(consumer_count(v2), >=, v2_before + FPS / 2);
    g_assert_cmpuint(consumer_count(a2), >, a2_before + 10);
  }
  g_assert_false(v1->pts_backwards || v2->pts_backwards || a1->pts_backwards || a2->pts_backwards);
  consumer_free(v1);
  consumer_free(a1);

  /* The others go without ar_capture_remove_source(): their bins' end takes
   * their branches out. The last reference then stops the graph and frees
   * it. */
  consumer_free(v2);
  consumer_free(a2);
  spin(50);
  {
    GstElement *p = g_weak_ref_get(&pipeline_ref);
    g_assert_nonnull(p);
    /* Only the tees' sink-side chains are left: no consumer branch. */
    g_assert_cmpuint(count_factory(p, "appsink"), ==, 0);
    gst_object_unref(p);
  }
  ar_capture_unref(capture);
  g_assert_null(g_weak_ref_get(&pipeline_ref));
  g_weak_ref_clear(&pipeline_ref);
  for (guint i = 0; i < branch_refs->len; i++) {
    GWeakRef *w = branch_refs->pdata[i];
    g_assert_null(g_weak_ref_get(w));
    g_weak_ref_clear(w);
    g_free(w);
  }
  g_ptr_array_unref(branch_refs);

  /* The next call opens the devices again. */
  capture = ar_media_engine_capture_acquire(engine, &error);
  g_assert_no_error(error);
  g_assert_nonnull(capture);
  ar_capture_unref(capture);
}

/* A consumer that takes 200 ms per frame does not slow the others down. */
static void
test_slow_consumer(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine("test");
  g_autoptr(ArCapture) capture = ar_media_engine_capture_acquire(engine, &error);
  Consumer *slow, *fast;
  guint64 n_slow, n_fast;

  g_assert_no_error(error);
  slow = consumer_new(capture, TRUE, 200 * 1000);
  fast = consumer_new(capture, TRUE, 0);
  g_assert_true(wait_both(flowing, fast, NULL, 5000));
  n_slow = consumer_count(slow);
  n_fast = consumer_count(fast);
  spin(2000);
  n_slow = consumer_count(slow) - n_slow;
  n_fast = consumer_count(fast) - n_fast;
  g_test_message("in 2 s: fast consumer %" G_GUINT64_FORMAT " frames, slow %" G_GUINT64_FORMAT,
                 n_fast, n_slow);
  /* 15 fps: about 30 frames; the slow one gets about 10. */
  g_assert_cmpuint(n_fast, >=, 2 * FPS - 6);
  g_assert_cmpuint(n_slow, <=, 12);
  consumer_free(slow);
  consumer_free(fast);
}

static void
on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  g_atomic_int_inc((gint *)data);
}

/* A sink inside the capture graph (the web bridge's kind) gets frames, and
 * goes while a source consumer flows on. */
static void
test_in_graph_sink(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine("test");
  g_autoptr(ArCapture) capture = ar_media_engine_capture_acquire(engine, &error);
  GstElement *sink = gst_element_factory_make("fakesink", "bridge-video");
  GstElement *asink = gst_element_factory_make("fakesink", "bridge-audio");
  gint frames = 0, samples = 0;
  Consumer *peer;
  guint64 before;

  g_assert_no_error(error);
  g_object_set(sink, "signal-handoffs", TRUE, "sync", TRUE, NULL);
  g_object_set(asink, "signal-handoffs", TRUE, "sync", TRUE, NULL);
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &frames);
  g_signal_connect(asink, "handoff", G_CALLBACK(on_handoff), &samples);
  g_assert_true(ar_capture_add_video_sink(capture, sink, &error));
  g_assert_no_error(error);
  g_assert_true(ar_capture_add_audio_sink(capture, asink, &error));
  g_assert_no_error(error);
  peer = consumer_new(capture, TRUE, 0);
  g_assert_true(wait_both(flowing, peer, NULL, 5000));
  spin(500);
  g_assert_cmpint(g_atomic_int_get(&frames), >, 3);
  g_assert_cmpint(g_atomic_int_get(&samples), >, 3);

  ar_capture_remove_sink(capture, sink);
  ar_capture_remove_sink(capture, asink);
  spin(100);
  frames = 0;
  before = consumer_count(peer);
  spin(700);
  g_assert_cmpint(g_atomic_int_get(&frames), ==, 0);
  g_assert_cmpuint(consumer_count(peer), >=, before + 5);
  g_assert_cmpuint(count_factory(ar_capture_get_pipeline(capture), "fakesink"), ==, SPEAKER_SINKS);
  consumer_free(peer);
}

/* Every link the capture's tees make: whether the consumer's pad was already active (running)
 * when the tee linked to it. A buffer pushed into a pad that is not active comes back FLUSHING,
 * which stops the capture's streaming task for good (a web call's camera once never reached
 * the page): a consumer must run before it is linked. */
typedef struct {
  guint links;
  guint inactive;
} LinkWatch;

static void
on_tee_pad_linked(GstPad *pad, GstPad *peer, gpointer data)
{
  LinkWatch *w = data;
  w->links++;
  if (!gst_pad_is_active(peer))
    w->inactive++;
}

static void
on_tee_pad_added(GstElement *tee, GstPad *pad, gpointer data)
{
  g_signal_connect(pad, "linked", G_CALLBACK(on_tee_pad_linked), data);
}

static void
test_consumer_runs_before_link(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine("test");
  g_autoptr(ArCapture) capture = ar_media_engine_capture_acquire(engine, &error);
  LinkWatch w = {0};
  const char *tees[] = {"video-tee", "audio-tee"};

  g_assert_no_error(error);
  for (gsize i = 0; i < G_N_ELEMENTS(tees); i++) {
    g_autoptr(GstElement) tee =
        gst_bin_get_by_name(GST_BIN(ar_capture_get_pipeline(capture)), tees[i]);
    g_assert_nonnull(tee);
    g_signal_connect(tee, "pad-added", G_CALLBACK(on_tee_pad_added), &w);
  }
  Consumer *video = consumer_new(capture, TRUE, 0);
  Consumer *audio = consumer_new(capture, FALSE, 0);
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_assert_true(ar_capture_add_video_sink(capture, sink, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(w.links, ==, 3);
  g_assert_cmpuint(w.inactive, ==, 0);
  g_assert_true(wait_both(flowing, video, audio, 5000));
  ar_capture_remove_sink(capture, sink);
  consumer_free(video);
  consumer_free(audio);
  spin(100);
}

typedef struct {
  guint calls;
  GstElement *sink; /* of the last call */
  GError *error;
} ErrorSeen;

static void
on_capture_error(ArCapture *capture, GstElement *sink, const GError *error, gpointer data)
{
  ErrorSeen *seen = data;
  seen->calls++;
  seen->sink = sink;
  g_clear_error(&seen->error);
  seen->error = g_error_copy(error);
}

/* Posts an error as if @element (in the capture graph) failed. */
static void
post_error(GstElement *element, const char *message)
{
  g_autoptr(GError) error =
      g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, message);
  gst_element_post_message(element, gst_message_new_error(GST_OBJECT(element), error, NULL));
}

/* The first ERROR on @pipeline's bus within @ms, or NULL. */
static GstMessage *
wait_bus_error(GstElement *pipeline, guint ms)
{
  g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
  return gst_bus_timed_pop_filtered(bus, ms * GST_MSECOND, GST_MESSAGE_ERROR);
}

/* An in-graph sink's error removes that sink only; a device error stops the
 * capture, reaches every source consumer's bus and the owner, and the next
 * acquire opens the devices again. */
static void
test_errors(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine("test");
  ArCapture *capture = ar_media_engine_capture_acquire(engine, &error);
  GstElement *sink = gst_element_factory_make("fakesink", "bridge-video");
  ErrorSeen seen = {0};
  Consumer *peer;
  guint64 before;

  g_assert_no_error(error);
  ar_capture_set_error_func(capture, on_capture_error, &seen);
  g_assert_true(ar_capture_add_video_sink(capture, sink, &error));
  g_assert_no_error(error);
  peer = consumer_new(capture, TRUE, 0);
  g_assert_true(wait_both(flowing, peer, NULL, 5000));

  post_error(sink, "the bridge's sink broke");
  spin(200);
  g_assert_cmpuint(seen.calls, ==, 1);
  g_assert_true(seen.sink == sink);
  g_assert_null(ar_capture_get_error(capture));
  g_assert_cmpuint(count_factory(ar_capture_get_pipeline(capture), "fakesink"), ==, SPEAKER_SINKS);
  before = consumer_count(peer);
  spin(500);
  g_assert_cmpuint(consumer_count(peer), >=, before + 3);

  {
    g_autoptr(GstElement) camera =
        gst_bin_get_by_name(GST_BIN(ar_capture_get_pipeline(capture)), "camera");
    post_error(camera, "the camera was unplugged");
  }
  spin(200);
  g_assert_cmpuint(seen.calls, ==, 2);
  g_assert_null(seen.sink);
  g_assert_nonnull(ar_capture_get_error(capture));
  g_test_message("%s", ar_capture_get_error(capture)->message);
  g_assert_nonnull(strstr(ar_capture_get_error(capture)->message, "unplugged"));
  {
    g_autoptr(GstMessage) msg = wait_bus_error(peer->pipeline, 1000);
    g_assert_nonnull(msg);
    g_autoptr(GError) e = NULL;
    g_assert_cmpstr(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), ==, "camera");
    gst_message_parse_error(msg, &e, NULL);
    g_assert_cmpstr(e->message, ==, "the camera was unplugged");
  }
  /* No new consumer of a failed capture; the next acquire is a new one. */
  g_assert_null(ar_capture_make_audio_source(capture, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE);
  g_clear_error(&error);
  {
    g_autoptr(ArCapture) again = ar_media_engine_capture_acquire(engine, &error);
    g_assert_no_error(error);
    g_assert_true(again != capture);
    g_assert_null(ar_capture_get_error(again));
  }
  consumer_free(peer);
  ar_capture_unref(capture);
  g_clear_error(&seen.error);
}

/* The capture's videorate (ar_capture_follow_camera_rate) out at 15 fps: what
 * went in last, and how many frames went in, came out, and came out as the
 * frame that had just gone in (not one held back until the next came). */
typedef struct {
  gpointer last_in; /* the last input frame's memory */
  guint in, out, out_at_once;
} RateSeen;

static GstPadProbeReturn
rate_in_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RateSeen *r = data;
  r->last_in = gst_buffer_peek_memory(GST_PAD_PROBE_INFO_BUFFER(info), 0);
  r->in++;
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
rate_out_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  RateSeen *r = data;
  r->out++;
  if (gst_buffer_peek_memory(GST_PAD_PROBE_INFO_BUFFER(info), 0) == r->last_in)
    r->out_at_once++;
  return GST_PAD_PROBE_OK;
}

/* One second of a camera at @in_fps (not live: as fast as it goes, and the
 * videorate works in the camera's thread, so what it holds shows without
 * timing) through the videorate at 15 fps. */
static RateSeen
camera_rate_run(guint in_fps)
{
  RateSeen r = {0};
  g_autofree char *desc = g_strdup_printf(
      "videotestsrc num-buffers=%u ! video/x-raw,format=I420,width=64,height=48,framerate=%u/1 "
      "! videorate name=rate ! video/x-raw,framerate=15/1 ! fakesink sync=false",
      in_fps, in_fps);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(desc, &error);
  g_assert_no_error(error);
  g_autoptr(GstElement) rate = gst_bin_get_by_name(GST_BIN(pipeline), "rate");
  ar_capture_follow_camera_rate(rate, 15);
  g_autoptr(GstPad) in = gst_element_get_static_pad(rate, "sink");
  g_autoptr(GstPad) out = gst_element_get_static_pad(rate, "src");
  gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, rate_in_probe, &r, NULL);
  gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, rate_out_probe, &r, NULL);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) e = NULL;
    gst_message_parse_error(msg, &e, NULL);
    g_error("a camera at %u fps: %s", in_fps, e->message);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  g_test_message("camera at %u fps: %u frames in, %u out, %u of them at once", in_fps, r.in, r.out,
                 r.out_at_once);
  return r;
}

/* A camera at the configured rate or faster: every frame that goes out goes at
 * once (the default videorate held each one a frame period, until the next
 * came; it fails this). A slower camera still negotiates and its frames are
 * repeated up to the rate. */
static void
test_camera_rate(void)
{
  for (guint fps = 15; fps <= 30; fps += 15) {
    RateSeen r = camera_rate_run(fps);
    g_assert_cmpuint(r.in, ==, fps);
    g_assert_cmpuint(r.out, >=, 14);
    g_assert_cmpuint(r.out, <=, 16);
    g_assert_cmpuint(r.out_at_once, ==, r.out);
  }
  /* 5 frames at 0-800 ms: 12-13 frames at 15 fps up to the last one's time */
  RateSeen slow = camera_rate_run(5);
  g_assert_cmpuint(slow.in, ==, 5);
  g_assert_cmpuint(slow.out, >=, 2 * slow.in);
}

/* A camera that is not there: a GError naming it, not an assertion. */
static void
test_missing_camera(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = NULL;
  ArCapture *capture;

  if (!g_file_test("/dev", G_FILE_TEST_IS_DIR) || g_file_test("/dev/video63", G_FILE_TEST_EXISTS)) {
    g_test_skip("/dev/video63 exists here");
    return;
  }
  engine = make_engine("/dev/video63");
  capture = ar_media_engine_capture_acquire(engine, &error);
  g_assert_null(capture);
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "camera"));
}

static gboolean
has_two_frames(Consumer *c)
{
  return consumer_count(c) >= 2;
}

/* Writes @n frames of W x H I420, frame i all luma 40 + 40 * i, into a new file. */
static char *
write_clip(const char *dir, guint n, gsize extra)
{
  gsize frame = (gsize)W * H * 3 / 2;
  g_autofree guint8 *data = g_malloc(frame * n + extra);
  char *path = g_build_filename(dir, "clip.yuv", NULL);

  for (guint i = 0; i < n; i++) {
    memset(data + i * frame, 40 + 40 * i, (gsize)W * H);
    memset(data + i * frame + (gsize)W * H, 128, frame - (gsize)W * H);
  }
  memset(data + frame * n, 0, extra);
  g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)(frame * n + extra), NULL));
  return path;
}

/* ANYROOM_TEST_CLIP: the camera plays the clip's frames (luma of one of them, the chroma
 * neutral); a file that is not whole frames of the capture's size is an error naming it. */
static void
test_clip_camera(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("ar-test-clip-XXXXXX", NULL);
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  ArCapture *capture;
  Consumer *c;
  double luma;

  g_assert_nonnull(dir);
  good = write_clip(dir, 2, 0);
  g_setenv("ANYROOM_TEST_CLIP", good, TRUE);
  {
    g_autoptr(ArMediaEngine) engine = make_engine("test");

    capture = ar_media_engine_capture_acquire(engine, &error);
    g_assert_no_error(error);
    c = consumer_new(capture, TRUE, 0);
    g_assert_true(wait_both(has_two_frames, c, NULL, 10000));
    g_mutex_lock(&c->lock);
    luma = c->luma;
    g_assert_cmpfloat(c->chroma_u, ==, 128.0);
    g_mutex_unlock(&c->lock);
    g_test_message("clip frame luma %.1f", luma);
    g_assert_true(luma == 40.0 || luma == 80.0);
    consumer_free(c);
    ar_capture_unref(capture);
  }
  g_remove(good);
  bad = write_clip(dir, 1, 7);
  {
    g_autoptr(ArMediaEngine) engine = make_engine("test");

    capture = ar_media_engine_capture_acquire(engine, &error);
    g_assert_null(capture);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "clip.yuv: not raw I420 frames of 320x240"));
  }
  g_unsetenv("ANYROOM_TEST_CLIP");
  g_remove(bad);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  gst_init(&argc, &argv);
  g_test_add_func("/media/capture/consumers", test_consumers);
  g_test_add_func("/media/capture/slow-consumer", test_slow_consumer);
  g_test_add_func("/media/capture/in-graph-sink", test_in_graph_sink);
  g_test_add_func("/media/capture/consumer-runs-before-link", test_consumer_runs_before_link);
  g_test_add_func("/media/capture/errors", test_errors);
  g_test_add_func("/media/capture/missing-camera", test_missing_camera);
  g_test_add_func("/media/capture/camera-rate", test_camera_rate);
  g_test_add_func("/media/capture/clip-camera", test_clip_camera);
  return g_test_run();
}
