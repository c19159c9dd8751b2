/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "ar-access-portal.h"

G_BEGIN_DECLS

/* The per-call media environment of a web call: the processes the meeting browser needs to see
 * the room's camera, microphone and speaker, started by anyroomd itself (as its own user) in a
 * fresh private directory, and stopped by PID at leave:
 *   dbus-daemon (a private session bus, no service activation)
 *   pipewire + wireplumber (camera only: wireplumber's ALSA, V4L2, libcamera and BlueZ monitors
 *     are off, so the only camera the browser can see is the bridge's node)
 *   xdg-permission-store + xdg-desktop-portal (Camera portal), with the room's Access backend
 *     (ArAccessPortal, in this process) chosen through anyroom.portal / anyroom-portals.conf
 *   pulseaudio (private, no modules but ours): null sink "anyroom_speaker" = the browser's
 *     default output (read back from "anyroom_speaker.monitor"); null sink "anyroom_mic_feed"
 *     remapped into the source "anyroom_mic" = the browser's default input.
 * Every child also dies with anyroomd (PR_SET_PDEATHSIG). */

#define AR_WEB_MEDIA_ERROR (ar_web_media_error_quark())
GQuark ar_web_media_error_quark(void);

typedef enum {
  AR_WEB_MEDIA_ERROR_MISSING, /* a program is not installed */
  AR_WEB_MEDIA_ERROR_START,   /* a process did not start or did not get ready in time */
  AR_WEB_MEDIA_ERROR_FAILED,
} ArWebMediaError;

/* Names the bridge uses (ArBridge's configuration). */
#define AR_WEB_MEDIA_SPEAKER_SINK "anyroom_speaker"
#define AR_WEB_MEDIA_SPEAKER_MONITOR "anyroom_speaker.monitor"
#define AR_WEB_MEDIA_MIC_FEED_SINK "anyroom_mic_feed"
#define AR_WEB_MEDIA_MIC_SOURCE "anyroom_mic"

/* The Chromium feature the browser needs (--enable-features=...). Chromium reads one
 * --enable-features value (the last switch given): merge it into the driver's own list. */
#define AR_WEB_MEDIA_BROWSER_FEATURE "WebRtcPipeWireCamera"

typedef struct {
  /* Parent folder of the per-call directory; NULL: $XDG_RUNTIME_DIR if writable, else the temp
   * dir. On the device pass the unit's RuntimeDirectory, /run/anyroom. */
  const char *parent_dir;
  /* The Access backend's policy (see ArAccessPortal). NULL denies everything. */
  ArAccessAllowFunc allow;
  gpointer allow_data;
  /* Bound on each process's start (ms); 0: 10 s. */
  guint start_timeout_ms;
  /* Keep the children's stderr in <dir>/<name>.log (tests, debugging). */
  gboolean keep_logs;
} ArWebMediaOptions;

typedef struct _ArWebMedia ArWebMedia;

/* Called once when the environment is ready (@error NULL) or could not start; free @self then. */
typedef void (*ArWebMediaReadyFunc)(ArWebMedia *self, const GError *error, gpointer user_data);

/* Starts everything and returns at once: each part is spawned when the one it needs answers
 * (bus names, sockets), polled every 10 ms on the caller's thread-default main context, each
 * wait bounded by start_timeout_ms. @ready follows on that context (0.1-0.4 s on a PC, seconds
 * on a slow board), unless @self is stopped or freed first. NULL and @error only if the folder
 * or the first process cannot be made. The Access backend is served from a thread of its own;
 * its callback runs on the caller's thread-default main context. Stopping or freeing @self
 * stops whatever was started. */
G_GNUC_WARN_UNUSED_RESULT ArWebMedia *ar_web_media_start_async(const ArWebMediaOptions *options,
                                                               ArWebMediaReadyFunc ready,
                                                               gpointer user_data, GError **error);

/* The same, waiting for it without running the caller's main context (tools and tests). */
G_GNUC_WARN_UNUSED_RESULT ArWebMedia *ar_web_media_start(const ArWebMediaOptions *options,
                                                         GError **error);

/* The environment for the meeting browser (NULL-terminated "KEY=value" list, owned by @self):
 * DBUS_SESSION_BUS_ADDRESS (the portal) and PULSE_SERVER. Add it to the browser's environment
 * and pass --enable-features=WebRtcPipeWireCamera. Nothing else is needed: the browser reaches
 * PipeWire only through the fd the Camera portal hands it, so XDG_RUNTIME_DIR stays the browser
 * driver's (cage's, for WAYLAND_DISPLAY, on the device) and PIPEWIRE_RUNTIME_DIR is not given. */
const char *const *ar_web_media_get_browser_environ(ArWebMedia *self);

/* For ArBridge: the PipeWire socket path and the PulseAudio server string. */
const char *ar_web_media_get_pipewire_socket(ArWebMedia *self);
const char *ar_web_media_get_pulse_server(ArWebMedia *self);
const char *ar_web_media_get_dir(ArWebMedia *self);
ArAccessPortal *ar_web_media_get_access_portal(ArWebMedia *self);

/* At leave, right after the bridge stops and before the browser is closed: revokes the camera
 * grant and stops PulseAudio. Measured with Chromium 156: the page's tracks (microphone and
 * camera) end within about 50 ms, even if the browser is slow to close. (The bridge's stop alone
 * removes the camera node: no more frames, but Chromium keeps the camera track "live".) */
void ar_web_media_release_devices(ArWebMedia *self);

/* Close the browser before this: Chromium aborts when its session bus goes away.
 * Stops every child by PID (SIGTERM, then SIGKILL after a bound), revokes the camera grant and
 * removes the directory. Idempotent; ar_web_media_free() does it too. */
void ar_web_media_stop(ArWebMedia *self);
void ar_web_media_free(ArWebMedia *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArWebMedia, ar_web_media_free)

G_END_DECLS
