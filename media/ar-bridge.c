/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-bridge.c: the room's devices in the meeting browser (see ar-bridge.h and
 * docs/decisions.md "web engine bridge, issue 11").
 */
#include "ar-bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC(ar_bridge_debug);
#define GST_CAT_DEFAULT ar_bridge_debug

G_DEFINE_QUARK(ar - bridge - error - quark, ar_bridge_error)

struct _ArBridge {
  /* One pipeline per path: they share no clock domain, and one failing (e.g. the PulseAudio
   * server gone) does not stop the others. */
  GstElement *pipelines[AR_BRIDGE_N_PATHS];
  guint bus_watches[AR_BRIDGE_N_PATHS];
  GstElement *camera_sink; /* pipewiresink */
  GstElement *camera_gate; /* videobalance */
  GstElement *mic_gate;    /* volume */
  char *pipewire_socket;
  int pipewire_fd;
  gboolean running;
  gboolean camera_off;
  guint left_behind; /* paths a stop gave up on (see ar_bridge_stop) */
  ArBridgeErrorFunc error_func;
  gpointer error_data;
};

static GstElement *
make(const char *factory, const char *name, GError **error)
{
  GstElement *e = gst_element_factory_make(factory, name);
  if (e == NULL)
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_MISSING_ELEMENT,
                "GStreamer element %s is missing (install %s)", factory,
                g_str_has_prefix(factory, "pipewire") ? "gstreamer1.0-pipewire"
                : g_str_has_prefix(factory, "pulse")  ? "gstreamer1.0-pulseaudio"
                                                      : "gstreamer1.0-plugins-base/good");
  return e;
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer user_data);

/* Makes the pipeline of @path, adds the elements (NULL-terminated; the bin takes floating
 * references and refs the others), all of them, then links them in a row. */
static gboolean
add_chain(ArBridge *self, ArBridgePath path, GError **error, GstElement *first, ...)
{
  static const char *const names[] = {"anyroom-bridge-camera", "anyroom-bridge-mic",
                                      "anyroom-bridge-speaker"};
  g_autoptr(GPtrArray) chain = g_ptr_array_new();
  g_autoptr(GstClock) clock = gst_system_clock_obtain();
  g_autoptr(GstBus) bus = NULL;
  GstElement *pipeline;
  va_list ap;

  pipeline = self->pipelines[path] = gst_object_ref_sink(gst_pipeline_new(names[path]));
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock);
  bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline));
  self->bus_watches[path] = gst_bus_add_watch(bus, on_bus, self);
  va_start(ap, first);
  for (GstElement *e = first; e != NULL; e = va_arg(ap, GstElement *)) {
    gst_bin_add(GST_BIN(pipeline), e);
    g_ptr_array_add(chain, e);
  }
  va_end(ap);
  for (guint i = 1; i < chain->len; i++) {
    GstElement *a = g_ptr_array_index(chain, i - 1), *b = g_ptr_array_index(chain, i);
    if (!gst_element_link(a, b)) {
      g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_INVALID, "Cannot link %s to %s",
                  GST_ELEMENT_NAME(a), GST_ELEMENT_NAME(b));
      return FALSE;
    }
  }
  return TRUE;
}

void
ar_bridge_camera_format(int width, int height, int fps, int *out_width, int *out_height,
                        int *out_fps)
{
  /* 64-bit products: no overflow whatever the caller passes. */
  gint64 w = width > 0 && height > 0 ? MIN(width, 65536) : 1280;
  gint64 h = width > 0 && height > 0 ? MIN(height, 65536) : 720;

  if (w > AR_BRIDGE_MAX_WIDTH || h > AR_BRIDGE_MAX_HEIGHT) {
    if (w * AR_BRIDGE_MAX_HEIGHT > h * AR_BRIDGE_MAX_WIDTH) { /* wider than the box */
      h = h * AR_BRIDGE_MAX_WIDTH / w;
      w = AR_BRIDGE_MAX_WIDTH;
    } else {
      w = w * AR_BRIDGE_MAX_HEIGHT / h;
      h = AR_BRIDGE_MAX_HEIGHT;
    }
    /* I420 wants even sizes; scaling down never makes one bigger than the source. */
    w = MAX(w & ~(gint64)1, 2);
    h = MAX(h & ~(gint64)1, 2);
  }
  *out_width = (int)w;
  *out_height = (int)h;
  *out_fps = fps > 0 ? MIN(fps, AR_BRIDGE_MAX_FPS) : 30;
}

static gboolean
build_camera(ArBridge *self, const ArBridgeConfig *c, GstElement *src, GError **error)
{
  int width, height, fps;
  ar_bridge_camera_format(c->width, c->height, c->fps, &width, &height, &fps);
  /* A faster source (a capture at 50 or 60 fps) is slowed by dropping frames, never by
   * duplicating them. */
  gboolean slow = c->fps > fps;
  g_autoptr(GstElement) rate = slow ? make("videorate", "bridge-vrate", error) : NULL;
  if (slow && rate == NULL)
    return FALSE;
  g_autoptr(GstElement) convert = make("videoconvert", "bridge-vconvert", error);
  g_autoptr(GstElement) scale = convert ? make("videoscale", "bridge-vscale", error) : NULL;
  g_autoptr(GstElement) gate = scale ? make("videobalance", "bridge-camera-gate", error) : NULL;
  g_autoptr(GstElement) filter = gate ? make("capsfilter", "bridge-vcaps", error) : NULL;
  g_autoptr(GstElement) sink = filter ? make("pipewiresink", "bridge-camera", error) : NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstStructure) props = NULL;

  if (sink == NULL)
    return FALSE;
  caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT,
                             width, "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION,
                             fps, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set(filter, "caps", caps, NULL);
  /* videorate only for a faster source: otherwise the source delivers the rate (the capture
   * graph does; caps negotiation fails with a clear error if not). Measured: with the camera in
   * one pipeline with the audio paths, the browser got a single frame (PipeWire 1.4 with
   * videorate, 0.3.65 without it); in a pipeline of its own, 29-30 fps on both. */
  if (rate != NULL)
    g_object_set(rate, "drop-only", TRUE, NULL);
  GST_INFO("camera node: %dx%d at %d fps (source %dx%d at %d fps)", width, height, fps, c->width,
           c->height, c->fps);
  /* The browser finds the camera by its class and role (the Camera portal lists only
   * Video/Source nodes with media.role Camera). */
  props = gst_structure_new("props", "media.class", G_TYPE_STRING, "Video/Source", "media.role",
                            G_TYPE_STRING, "Camera", "node.name", G_TYPE_STRING,
                            c->camera_name ? c->camera_name : "anyroom-camera", "node.description",
                            G_TYPE_STRING,
                            c->camera_description ? c->camera_description : "Anyroom camera", NULL);
  /* mode=render, not provide: in provide mode the node drives its graph, which then runs only
   * when a frame is queued; pipewiresink (0.3.65) gets its buffers back in those runs and blocks
   * in render when all of them are queued. When the browser's capture falls behind, the queue
   * fills, no frame is queued, no run comes: the camera stops for good (seen in web-hd: 8-11
   * frames, then none, the track live). As a follower the node runs on PipeWire's own driver,
   * with or without frames. No session manager links it: it is not a stream (media.class). */
  gst_util_set_object_arg(G_OBJECT(sink), "mode", "render");
  g_object_set(sink, "stream-properties", props, "sync", FALSE, "client-name", "anyroom-bridge",
               NULL);
  self->camera_sink = sink;
  self->camera_gate = gate;
  if (rate != NULL)
    return add_chain(self, AR_BRIDGE_CAMERA, error, src, g_steal_pointer(&rate),
                     g_steal_pointer(&convert), g_steal_pointer(&scale), g_steal_pointer(&gate),
                     g_steal_pointer(&filter), g_steal_pointer(&sink), NULL);
  return add_chain(self, AR_BRIDGE_CAMERA, error, src, g_steal_pointer(&convert),
                   g_steal_pointer(&scale), g_steal_pointer(&gate), g_steal_pointer(&filter),
                   g_steal_pointer(&sink), NULL);
}

static gboolean
build_mic(ArBridge *self, const ArBridgeConfig *c, GstElement *src, GError **error)
{
  g_autoptr(GstElement) convert = make("audioconvert", "bridge-aconvert", error);
  g_autoptr(GstElement) resample =
      convert ? make("audioresample", "bridge-aresample", error) : NULL;
  g_autoptr(GstElement) gate = resample ? make("volume", "bridge-mic-gate", error) : NULL;
  g_autoptr(GstElement) filter = gate ? make("capsfilter", "bridge-acaps", error) : NULL;
  g_autoptr(GstElement) sink = filter ? make("pulsesink", "bridge-mic", error) : NULL;
  g_autoptr(GstCaps) caps = NULL;

  if (sink == NULL)
    return FALSE;
  caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT,
                             48000, "channels", G_TYPE_INT, 1, NULL);
  g_object_set(filter, "caps", caps, NULL);
  g_object_set(sink, "device", c->mic_sink, "server", c->pulse_server, "client-name",
               "anyroom-bridge-mic", "buffer-time", (gint64)60000, "latency-time", (gint64)10000,
               "provide-clock", FALSE, NULL);
  self->mic_gate = gate;
  return add_chain(self, AR_BRIDGE_MIC, error, src, g_steal_pointer(&convert),
                   g_steal_pointer(&resample), g_steal_pointer(&gate), g_steal_pointer(&filter),
                   g_steal_pointer(&sink), NULL);
}

static gboolean
build_speaker(ArBridge *self, const ArBridgeConfig *c, GstElement *sink, GError **error)
{
  g_autoptr(GstElement) src = make("pulsesrc", "bridge-speaker", error);
  g_autoptr(GstElement) queue = src ? make("queue", "bridge-squeue", error) : NULL;
  g_autoptr(GstElement) convert = queue ? make("audioconvert", "bridge-sconvert", error) : NULL;
  g_autoptr(GstElement) resample =
      convert ? make("audioresample", "bridge-sresample", error) : NULL;

  if (resample == NULL)
    return FALSE;
  g_object_set(src, "device", c->speaker_source, "server", c->pulse_server, "client-name",
               "anyroom-bridge-speaker", "buffer-time", (gint64)60000, "latency-time",
               (gint64)10000, "provide-clock", FALSE, "do-timestamp", TRUE, NULL);
  g_object_set(queue, "max-size-time", (guint64)200 * GST_MSECOND, "max-size-buffers", 0,
               "max-size-bytes", 0, "leaky", 2 /* downstream: drop old audio */, NULL);
  return add_chain(self, AR_BRIDGE_SPEAKER, error, g_steal_pointer(&src), g_steal_pointer(&queue),
                   g_steal_pointer(&convert), g_steal_pointer(&resample), sink, NULL);
}

static gboolean
on_bus(GstBus *bus, GstMessage *msg, gpointer user_data)
{
  ArBridge *self = user_data;

  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) err = NULL;
    g_autofree char *dbg = NULL;
    gst_message_parse_error(msg, &err, &dbg);
    GST_WARNING("bridge error from %s: %s (%s)", GST_OBJECT_NAME(msg->src), err->message,
                dbg ? dbg : "");
    g_prefix_error(&err, "Web call bridge (%s): ", GST_OBJECT_NAME(msg->src));
    if (self->error_func != NULL)
      self->error_func(err, self->error_data);
  }
  return G_SOURCE_CONTINUE;
}

ArBridge *
ar_bridge_new(const ArBridgeConfig *config, GstElement *video_source, GstElement *audio_source,
              GstElement *speaker_sink, GError **error)
{
  g_autoptr(ArBridge) self = NULL;

  /* Our references to the caller's elements, whatever happens below (the bin takes its own). */
  g_autoptr(GstElement) video = video_source ? gst_object_ref_sink(video_source) : NULL;
  g_autoptr(GstElement) audio = audio_source ? gst_object_ref_sink(audio_source) : NULL;
  g_autoptr(GstElement) speaker = speaker_sink ? gst_object_ref_sink(speaker_sink) : NULL;

  g_return_val_if_fail(config != NULL, NULL);
  static gsize debug_init = 0;
  if (g_once_init_enter(&debug_init)) {
    GST_DEBUG_CATEGORY_INIT(ar_bridge_debug, "ar-bridge", 0, "Anyroom web call bridge");
    g_once_init_leave(&debug_init, 1);
  }
  self = g_new0(ArBridge, 1);
  self->pipewire_fd = -1;
  self->pipewire_socket = g_strdup(config->pipewire_socket);

  if (audio != NULL && (config->mic_sink == NULL || config->mic_sink[0] == '\0')) {
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_INVALID, "No microphone sink configured");
    return NULL;
  }
  if (speaker != NULL && (config->speaker_source == NULL || config->speaker_source[0] == '\0')) {
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_INVALID, "No speaker source configured");
    return NULL;
  }
  if (video != NULL && !build_camera(self, config, video, error))
    return NULL;
  if (audio != NULL && !build_mic(self, config, audio, error))
    return NULL;
  if (speaker != NULL && !build_speaker(self, config, speaker, error))
    return NULL;
  return g_steal_pointer(&self);
}

void
ar_bridge_set_error_func(ArBridge *self, ArBridgeErrorFunc func, gpointer user_data)
{
  self->error_func = func;
  self->error_data = user_data;
}

/* Connects to PipeWire's socket ourselves and hands the fd to pipewiresink: the daemon's
 * environment (PIPEWIRE_RUNTIME_DIR) stays untouched. */
static gboolean
connect_pipewire(ArBridge *self, GError **error)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd;

  if (self->pipewire_socket == NULL || self->camera_sink == NULL)
    return TRUE;
  if (strlen(self->pipewire_socket) >= sizeof(addr.sun_path)) {
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_CONNECT, "PipeWire socket path too long");
    return FALSE;
  }
  strcpy(addr.sun_path, self->pipewire_socket);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_CONNECT,
                "Cannot connect to PipeWire at %s: %s", self->pipewire_socket, g_strerror(e));
    return FALSE;
  }
  self->pipewire_fd = fd;
  g_object_set(self->camera_sink, "fd", fd, NULL);
  return TRUE;
}

gboolean
ar_bridge_start(ArBridge *self, GError **error)
{
  g_return_val_if_fail(self != NULL, FALSE);
  if (self->running)
    return TRUE;
  if (self->left_behind > 0) {
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_STATE,
                "The web call bridge cannot start again: %u of its paths did not stop",
                self->left_behind);
    return FALSE;
  }
  if (!connect_pipewire(self, error))
    return FALSE;
  /* No wait for PLAYING here: PipeWire 1.4's pipewiresink holds its first buffer
   * until a consumer (the browser) connects, and the main context must keep running meanwhile
   * (the Access backend answers the portal on it). Later failures reach the error callback. */
  for (int i = 0; i < AR_BRIDGE_N_PATHS; i++) {
    GstElement *p = self->pipelines[i];
    if (p == NULL || gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE)
      continue;
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(p));
    g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    g_autoptr(GError) err = NULL;
    if (msg != NULL)
      gst_message_parse_error(msg, &err, NULL);
    g_set_error(error, AR_BRIDGE_ERROR, AR_BRIDGE_ERROR_STATE,
                "The web call bridge did not start (%s)%s%s", GST_ELEMENT_NAME(p), err ? ": " : "",
                err ? err->message : "");
    ar_bridge_stop(self);
    return FALSE;
  }
  self->running = TRUE;
  GST_INFO("bridge started");
  return TRUE;
}

/* Paths left behind by stops of any bridge, still stopping (atomic). */
static gint stopping_paths;

static const char *const path_names[] = {"camera", "microphone", "speaker"};

/* One stop: the caller waits on it until the deadline, each path's thread signals it. */
typedef struct {
  gint refs;
  GMutex lock;
  GCond cond;
  gboolean done[AR_BRIDGE_N_PATHS];
  gboolean left[AR_BRIDGE_N_PATHS]; /* the caller gave up waiting */
  int left_fd[AR_BRIDGE_N_PATHS];   /* closed by the path's thread once it stopped */
  gint64 left_us;
} StopWait;

typedef struct {
  StopWait *wait;
  ArBridgePath path;
  GstElement *pipeline; /* a reference */
} StopJob;

static void
stop_wait_unref(StopWait *w)
{
  if (!g_atomic_int_dec_and_test(&w->refs))
    return;
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
  g_free(w);
}

static gpointer
stop_path(gpointer data)
{
  StopJob *job = data;
  StopWait *w = job->wait;

  /* The camera's pipewiresink frees its PipeWire stream on the way to READY. libpipewire 0.3.65
   * (Debian 12) asks for each frame from PipeWire's data thread by queueing a call on its own
   * thread loop, and does not drop the calls still queued when the stream is freed: one that ran
   * after it crashed anyroomd in that loop's thread at a web call's leave (1 in 10 runs of web-hd,
   * 2026-12-07: "pipewire-main-loop", the stream's listener list read from freed memory). PipeWire
   * 1.1.81 and later (1.4 on Debian 13) call it without queueing. Paused, the sink takes its node
   * out of the data thread (no call is queued any more), and the thread loop runs the calls already
   * queued as soon as it gets its lock, which the pause gave back: freed only after a while, the
   * stream has none left. The wait is on this path's own thread, inside the stop's deadline. */
  if (job->path == AR_BRIDGE_CAMERA &&
      gst_element_set_state(job->pipeline, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE)
    g_usleep(AR_BRIDGE_CAMERA_SETTLE_MS * G_TIME_SPAN_MILLISECOND);
  gst_element_set_state(job->pipeline, GST_STATE_NULL);
  g_mutex_lock(&w->lock);
  w->done[job->path] = TRUE;
  gboolean left = w->left[job->path];
  int fd = w->left_fd[job->path];
  w->left_fd[job->path] = -1;
  g_cond_signal(&w->cond);
  g_mutex_unlock(&w->lock);
  if (left) {
    g_message("web call bridge: the %s path stopped after all, %.1f s after it was left behind",
              path_names[job->path], (g_get_monotonic_time() - w->left_us) / 1e6);
    if (fd >= 0)
      close(fd);
    g_atomic_int_add(&stopping_paths, -1);
  }
  gst_object_unref(job->pipeline);
  stop_wait_unref(w);
  g_free(job);
  return NULL;
}

static gboolean
is_stopped(GstElement *p)
{
  GST_OBJECT_LOCK(p);
  gboolean stopped =
      GST_STATE(p) == GST_STATE_NULL && GST_STATE_PENDING(p) == GST_STATE_VOID_PENDING;
  GST_OBJECT_UNLOCK(p);
  return stopped;
}

/* Contrast and saturation 0, brightness -1: every pixel black, nothing of the picture. */
static void
set_gate_black(GstElement *gate, gboolean black)
{
  if (gate != NULL)
    g_object_set(gate, "contrast", black ? 0.0 : 1.0, "saturation", black ? 0.0 : 1.0, "brightness",
                 black ? -1.0 : 0.0, NULL);
}

/* Called with w->lock held: @path did not stop in time. Its pipeline stays with its thread. */
static void
leave_path(ArBridge *self, StopWait *w, ArBridgePath path)
{
  w->left[path] = TRUE;
  w->left_fd[path] = -1;
  if (path == AR_BRIDGE_CAMERA) {
    set_gate_black(self->camera_gate, TRUE);
    /* The socket, not only our descriptor (pipewiresink holds a duplicate): PipeWire removes the
     * node and the page's track ends. Our descriptor stays open until the pipeline stopped:
     * pipewiresink shares its connections by descriptor number, and a new bridge that got the
     * same number would get the stuck one's connection. */
    if (self->pipewire_fd >= 0) {
      shutdown(self->pipewire_fd, SHUT_RDWR);
      w->left_fd[path] = self->pipewire_fd;
      self->pipewire_fd = -1;
    }
    self->camera_gate = self->camera_sink = NULL;
  } else if (path == AR_BRIDGE_MIC) {
    if (self->mic_gate != NULL)
      g_object_set(self->mic_gate, "mute", TRUE, NULL);
    self->mic_gate = NULL;
  }
  if (self->bus_watches[path] != 0)
    g_source_remove(self->bus_watches[path]);
  self->bus_watches[path] = 0;
  gst_clear_object(&self->pipelines[path]);
  self->left_behind++;
  g_atomic_int_inc(&stopping_paths);
  g_warning("web call bridge: the %s path did not stop within %d ms; it is left to stop on its own "
            "thread, black and silent",
            path_names[path], AR_BRIDGE_STOP_DEADLINE_MS);
}

void
ar_bridge_stop(ArBridge *self)
{
  g_return_if_fail(self != NULL);
  StopWait *w = g_new0(StopWait, 1);
  w->refs = 1;
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  for (int i = 0; i < AR_BRIDGE_N_PATHS; i++) {
    GstElement *p = self->pipelines[i];
    w->done[i] = TRUE;
    if (p == NULL || is_stopped(p))
      continue;
    StopJob *job = g_new0(StopJob, 1);
    job->wait = w;
    job->path = i;
    job->pipeline = gst_object_ref(p);
    w->done[i] = FALSE;
    g_atomic_int_inc(&w->refs);
    g_autoptr(GError) error = NULL;
    GThread *thread = g_thread_try_new("ar-bridge-stop", stop_path, job, &error);
    if (thread != NULL) {
      g_thread_unref(thread); /* it ends by itself */
      continue;
    }
    GST_WARNING("no thread to stop the %s path (%s): stopping it here", path_names[i],
                error->message);
    stop_path(job);
  }
  gint64 deadline = g_get_monotonic_time() + AR_BRIDGE_STOP_DEADLINE_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock(&w->lock);
  for (;;) {
    gboolean all = TRUE;
    for (int i = 0; i < AR_BRIDGE_N_PATHS; i++)
      all = all && w->done[i];
    if (all || !g_cond_wait_until(&w->cond, &w->lock, deadline))
      break;
  }
  w->left_us = g_get_monotonic_time();
  for (int i = 0; i < AR_BRIDGE_N_PATHS; i++)
    if (!w->done[i])
      leave_path(self, w, i);
  g_mutex_unlock(&w->lock);
  stop_wait_unref(w);
  if (self->pipewire_fd >= 0) {
    close(self->pipewire_fd);
    self->pipewire_fd = -1;
  }
  if (self->running)
    GST_INFO("bridge stopped");
  self->running = FALSE;
}

guint
ar_bridge_get_left_behind(ArBridge *self)
{
  return self->left_behind;
}

guint
ar_bridge_stopping_paths(void)
{
  return (guint)g_atomic_int_get(&stopping_paths);
}

gboolean
ar_bridge_is_running(ArBridge *self)
{
  return self->running;
}

void
ar_bridge_set_camera_off(ArBridge *self, gboolean off)
{
  self->camera_off = off;
  set_gate_black(self->camera_gate, off);
}

void
ar_bridge_set_mute(ArBridge *self, gboolean mute)
{
  if (self->mic_gate != NULL)
    g_object_set(self->mic_gate, "mute", mute, NULL);
}

GstElement *
ar_bridge_get_pipeline(ArBridge *self, ArBridgePath path)
{
  g_return_val_if_fail(path < AR_BRIDGE_N_PATHS, NULL);
  return self->pipelines[path];
}

void
ar_bridge_free(ArBridge *self)
{
  if (self == NULL)
    return;
  ar_bridge_stop(self);
  for (int i = 0; i < AR_BRIDGE_N_PATHS; i++) {
    if (self->bus_watches[i] != 0)
      g_source_remove(self->bus_watches[i]);
    gst_clear_object(&self->pipelines[i]);
  }
  g_free(self->pipewire_socket);
  g_free(self);
}
