/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-test-clip.c: the lab's clip camera (ANYROOM_TEST_CLIP=FILE, a test-only knob like
 * ANYROOM_TEST_PATTERN). The test camera reads raw I420 frames of the capture's size from FILE,
 * one after the other and from the start again, at the capture's frame rate: the efficiency
 * benchmark (tests/bench/bench-media.mjs) gives a Chromium room the same frames as a Y4M file
 * (--use-file-for-fake-video-capture), so both rooms encode the same picture and neither pays
 * for drawing it (videotestsrc's ball costs ~10 % of a core at 720p30; a V4L2 camera hands over
 * its buffers). Reading a frame is one pread() from the page cache, as Chromium's file camera
 * reads its frames.
 *
 * The file is not parsed: its size must be a non-zero multiple of one frame's size, at most
 * AR_TEST_CLIP_MAX_BYTES; anything else is a one-line error and the capture does not open.
 */
#include "ar-media-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <gst/app/gstappsrc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AR_TEST_CLIP_MAX_BYTES ((goffset)4 << 30)

typedef struct {
  int fd;
  gsize frame_size;
  guint64 frames; /* in the file */
  guint64 next;   /* frames handed out */
  gint64 start_us;
  guint framerate;
} ArTestClip;

static void
ar_test_clip_free(gpointer data)
{
  ArTestClip *clip = data;

  if (clip->fd >= 0)
    close(clip->fd);
  g_free(clip);
}

static gboolean
ar_test_clip_read(ArTestClip *clip, guint8 *out)
{
  off_t at = (off_t)((clip->next % clip->frames) * clip->frame_size);
  gsize done = 0;

  while (done < clip->frame_size) {
    ssize_t n = pread(clip->fd, out + done, clip->frame_size - done, at + (off_t)done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    done += (gsize)n;
  }
  return TRUE;
}

/* The appsrc's streaming thread, when its queue is empty: the next frame, on time (as a camera's
 * driver hands a frame when it is exposed; at most one frame's wait here). */
static void
ar_test_clip_need_data(GstAppSrc *src, guint length, gpointer data)
{
  ArTestClip *clip = data;
  GstBuffer *buf = gst_buffer_new_allocate(NULL, clip->frame_size, NULL);
  gint64 period = G_USEC_PER_SEC / clip->framerate;
  GstMapInfo map;
  gint64 now, due;
  gboolean ok;

  (void)length;
  if (!gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
    gst_buffer_unref(buf);
    gst_app_src_end_of_stream(src);
    return;
  }
  ok = ar_test_clip_read(clip, map.data);
  gst_buffer_unmap(buf, &map);
  if (!ok) {
    g_warning("capture: the test clip cannot be read (%s): the camera ends", g_strerror(errno));
    gst_buffer_unref(buf);
    gst_app_src_end_of_stream(src);
    return;
  }
  now = g_get_monotonic_time();
  if (clip->start_us == 0)
    clip->start_us = now;
  due = clip->start_us + (gint64)(clip->next * (guint64)G_USEC_PER_SEC / clip->framerate);
  if (due > now)
    g_usleep((gulong)MIN(due - now, period));
  else if (now - due > 2 * period)
    clip->start_us = now - (gint64)(clip->next * (guint64)G_USEC_PER_SEC / clip->framerate);
  clip->next++;
  gst_app_src_push_buffer(src, buf);
}

GstElement *
ar_test_clip_new(const char *file, guint width, guint height, guint framerate, GError **error)
{
  g_autofree char *name = g_path_get_basename(file);
  g_autoptr(GstCaps) caps = NULL;
  GstAppSrcCallbacks callbacks = {.need_data = ar_test_clip_need_data};
  ArTestClip *clip;
  GstElement *src;
  struct stat st;

  clip = g_new0(ArTestClip, 1);
  clip->frame_size = (gsize)width * height + 2 * ((gsize)((width + 1) / 2) * ((height + 1) / 2));
  clip->framerate = MAX(framerate, 1u);
  clip->fd = open(file, O_RDONLY | O_CLOEXEC);
  if (clip->fd < 0 || fstat(clip->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      st.st_size > AR_TEST_CLIP_MAX_BYTES || st.st_size % (off_t)clip->frame_size != 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "test clip %s: not raw I420 frames of %ux%u (%s)", name, width, height,
                clip->fd < 0 ? g_strerror(errno) : "wrong size");
    ar_test_clip_free(clip);
    return NULL;
  }
  clip->frames = (guint64)st.st_size / clip->frame_size;
  src = ar_media_make_element("appsrc", "camera", error);
  if (src == NULL) {
    ar_test_clip_free(clip);
    return NULL;
  }
  caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                             (int)width, "height", G_TYPE_INT, (int)height, "framerate",
                             GST_TYPE_FRACTION, (int)clip->framerate, 1, "pixel-aspect-ratio",
                             GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set(src, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE,
               "max-buffers", (guint64)1, "max-bytes", (guint64)0, NULL);
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, clip, ar_test_clip_free);
  g_info("capture: test clip %s, %" G_GUINT64_FORMAT " frames of %ux%u", name, clip->frames, width,
         height);
  return src;
}
