/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* ArBridge: the room's devices in the meeting browser (web engine, issue 11).
 *
 * Per web call, one GStreamer pipeline per path (on the system clock), built around elements the
 * caller gives (the capture graph's consumers):
 *   video source  -> [frame rate down to 30] -> [camera off: black] -> I420 WxH@F (the source's
 *                    size fitted within 1920x1080) -> pipewiresink mode=render
 *                    (a PipeWire Video/Source node, media.role Camera: the browser's camera
 *                     through the xdg-desktop-portal Camera portal)
 *   audio source  -> [mute: silence] -> 48 kHz mono -> pulsesink into the null sink whose
 *                    remapped source is the browser's default microphone
 *   pulsesrc (the browser's default output sink's monitor) -> the caller's speaker sink
 *                    (which applies the room's volume; it is the echo canceller's reference)
 * Start at join, stop at leave: stopping removes the camera node and ends the audio streams,
 * so the page's tracks end. A stopped bridge can start again (a new PipeWire node each time:
 * PipeWire 0.3's pipewiresink does not serve a second consumer), unless a stop left a path
 * behind (ar_bridge_stop()). */

#define AR_BRIDGE_ERROR (ar_bridge_error_quark())
GQuark ar_bridge_error_quark(void);

typedef enum {
  AR_BRIDGE_ERROR_MISSING_ELEMENT, /* a GStreamer plugin is not installed */
  AR_BRIDGE_ERROR_CONNECT,         /* the PipeWire socket cannot be reached */
  AR_BRIDGE_ERROR_STATE,           /* the pipeline did not start */
  AR_BRIDGE_ERROR_INVALID,
} ArBridgeError;

typedef struct {
  /* PipeWire socket path (ArWebMedia's); NULL: the process's default PipeWire. */
  const char *pipewire_socket;
  /* The camera node's node.name / node.description; NULL: "anyroom-camera" / "Anyroom camera". */
  const char *camera_name;
  const char *camera_description;
  /* The video source's format (the room's capture); 0: 1280x720 at 30 fps. The camera node
   * offers ar_bridge_camera_format() of it: this size and rate, at most 1920x1080 at 30. */
  int width, height, fps;
  /* PulseAudio (or pipewire-pulse) server; NULL: the default. */
  const char *pulse_server;
  /* The sink that feeds the browser's microphone, and the source carrying its output. */
  const char *mic_sink;
  const char *speaker_source;
} ArBridgeConfig;

/* The most the camera node offers the page: what services take from a guest (issue 11,
 * part 6; docs/web-engine.md "Send resolution"). */
#define AR_BRIDGE_MAX_WIDTH 1920
#define AR_BRIDGE_MAX_HEIGHT 1080
#define AR_BRIDGE_MAX_FPS 30

/* The one format the camera node offers for a video source of @width x @height at @fps (any <= 0:
 * 1280x720 at 30): the source's own, scaled down to fit within AR_BRIDGE_MAX_WIDTH x
 * AR_BRIDGE_MAX_HEIGHT (aspect ratio kept, even sizes) and slowed to AR_BRIDGE_MAX_FPS. Never more
 * than the source: a smaller capture is offered as it is, never upscaled. The page's own
 * constraints then pick within it (Chromium scales and crops down, never up). */
void ar_bridge_camera_format(int width, int height, int fps, int *out_width, int *out_height,
                             int *out_fps);

/* Called on the thread-default main context of ar_bridge_new() when the pipeline fails. */
typedef void (*ArBridgeErrorFunc)(const GError *error, gpointer user_data);

typedef struct _ArBridge ArBridge;

/* The three paths, each its own pipeline. */
typedef enum {
  AR_BRIDGE_CAMERA,
  AR_BRIDGE_MIC,
  AR_BRIDGE_SPEAKER,
  AR_BRIDGE_N_PATHS,
} ArBridgePath;

/* Builds the pipeline. The elements (floating references are sunk; any may be NULL to leave
 * that path out) must have an always "src" pad (sources) or "sink" pad (speaker sink); bins with
 * ghost pads are fine. Nothing runs until ar_bridge_start(). */
G_GNUC_WARN_UNUSED_RESULT ArBridge *ar_bridge_new(const ArBridgeConfig *config,
                                                  GstElement *video_source,
                                                  GstElement *audio_source,
                                                  GstElement *speaker_sink, GError **error);

void ar_bridge_set_error_func(ArBridge *self, ArBridgeErrorFunc func, gpointer user_data);

/* Starts (or restarts after a stop) the three paths without blocking: fails at once if an element
 * cannot start (e.g. the PulseAudio server is gone); later failures reach the error callback. */
gboolean ar_bridge_start(ArBridge *self, GError **error);
/* How long ar_bridge_stop() waits for the paths to stop. */
#define AR_BRIDGE_STOP_DEADLINE_MS 3000
/* How long the camera path stays paused, out of PipeWire's graph, before its stream is freed
 * (ar-bridge.c, stop_path: libpipewire 0.3.65 may otherwise run a call queued for the stream
 * after it was freed). */
#define AR_BRIDGE_CAMERA_SETTLE_MS 200

/* Stops them: the camera node goes away, the audio streams close. Idempotent. Each path stops on
 * a thread of its own; the caller waits at most AR_BRIDGE_STOP_DEADLINE_MS. A path still stopping
 * then (an element that does not return) is left behind: it is made black and silent, the camera's
 * PipeWire connection is shut down (the page loses the node), the bridge lets go of it (it cannot
 * start again), and its thread ends it whenever the element returns. The caller's main loop never
 * waits longer than the deadline. */
void ar_bridge_stop(ArBridge *self);
gboolean ar_bridge_is_running(ArBridge *self);
/* How many paths the stops of @self left behind (0 normally). */
guint ar_bridge_get_left_behind(ArBridge *self);
/* How many paths left behind by any bridge of this process are still stopping. */
guint ar_bridge_stopping_paths(void);

/* Enforced here too, whatever the source feeds: camera off sends black frames (no trace of the
 * live picture), mute sends silence. */
void ar_bridge_set_camera_off(ArBridge *self, gboolean off);
void ar_bridge_set_mute(ArBridge *self, gboolean mute);

/* The pipeline of one path, NULL if that path was left out (tests, statistics); owned by @self. */
GstElement *ar_bridge_get_pipeline(ArBridge *self, ArBridgePath path);

void ar_bridge_free(ArBridge *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArBridge, ar_bridge_free)

G_END_DECLS
