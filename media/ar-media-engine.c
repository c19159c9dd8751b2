/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-media-engine.c: GStreamer setup, configuration, and the capture/render
 * elements chosen for this room (camera or test pattern, microphone or tone).
 */
#include "ar-media-priv.h"

#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

GST_DEBUG_CATEGORY(ar_media_debug);

G_DEFINE_QUARK(ar - media - error - quark, ar_media_error)

typedef enum {
  AR_SRC_TEST,
  AR_SRC_DEVICE,
} ArSourceKind;

typedef enum {
  AR_SINK_NONE,
  AR_SINK_DEVICE, /* alsasink / autovideosink */
} ArSinkKind;

struct _ArMediaEngine {
  ArMediaConfig cfg; /* strings point into the fields below */
  char *video_source;
  char *audio_source;
  char *audio_sink;
  char *video_sink;
  char **encoders;
  char **decoders;

  const ArEncoderInfo *encoder;
  ArSourceKind video_kind;
  char *video_device; /* v4l2 path when AR_SRC_DEVICE */
  ArSourceKind audio_kind;
  char *audio_device; /* ALSA name when AR_SRC_DEVICE */
  ArSinkKind audio_sink_kind;
  char *audio_sink_device;
  ArSinkKind video_sink_kind;
  char *description;
  ArIceConfig ice;             /* given to every new peer */
  GPtrArray *turn_tls;         /* ArTurnTls, one per turns: server */
  GHashTable *turn_tls_failed; /* ArTurnTls* whose last connection failed */
  char *turn_tls_error;        /* why, the last one */
  GPtrArray *peers;            /* ArPeer*, not owned: the live ones */
  ArMediaControls *controls;
  ArVideoSinkFuncs frame_sink; /* all NULL: no taps */
  gpointer frame_sink_data;
  GPtrArray *taps;    /* ArVideoTap*, not owned (a peer owns its tap) */
  ArCapture *capture; /* weak: the open capture, cleared when it goes */
};

/* ---- common ---- */

/* libnice's debug output names TURN credentials in clear ("added relay
 * server ... with user/pass : USER -- PASSWORD"); the rest passes as is. */
static void
ar_media_nice_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  const char *cred = message != NULL ? strstr(message, "user/pass") : NULL;

  if (cred != NULL) {
    g_autofree char *clean =
        g_strdup_printf("%.*suser/pass (hidden by anyroom)", (int)(cred - message), message);
    g_log_default_handler(domain, level, clean, data);
    return;
  }
  g_log_default_handler(domain, level, message, data);
}

/* The room's devices are V4L2 cameras and ALSA microphones and speakers: the
 * engine takes no other device (ar_media_setting_check), so the device
 * monitors (the "auto" camera's lookup, the admin's device list) take only
 * those two providers. Every other provider would load its plugin and
 * libraries for devices that are then left out: DeckLink's (C++, about 0.2 MB of an idle
 * anyroomd's RSS in a room without its cards), PipeWire's (it connects
 * to whatever PipeWire it finds, the web bridge's own camera node included,
 * and libpipewire 0.3.65 crashes when the process is out of file
 * descriptors: found by the attack suite's EMFILE case), PulseAudio's
 * (a connection to a sound server per list). Monitors take providers of
 * rank MARGINAL and up only. */
static void
ar_media_keep_room_device_providers(void)
{
  static const char *const keep[] = {"v4l2deviceprovider", "alsadeviceprovider"};
  GList *providers =
      gst_registry_get_feature_list(gst_registry_get(), GST_TYPE_DEVICE_PROVIDER_FACTORY);

  for (GList *l = providers; l != NULL; l = l->next) {
    GstPluginFeature *feature = l->data;
    const char *name = gst_plugin_feature_get_name(feature);
    gboolean wanted = FALSE;

    for (guint i = 0; i < G_N_ELEMENTS(keep) && !wanted; i++)
      wanted = g_str_equal(name, keep[i]);
    if (!wanted)
      gst_plugin_feature_set_rank(feature, GST_RANK_NONE);
  }
  gst_plugin_feature_list_free(providers);
}

gboolean
ar_media_init(GError **error)
{
  static gsize done = 0;
  static gboolean ok = FALSE;
  static GError *init_error = NULL;

  if (g_once_init_enter(&done)) {
    ok = gst_init_check(NULL, NULL, &init_error);
    GST_DEBUG_CATEGORY_INIT(ar_media_debug, "armedia", 0, "Anyroom media engine");
    g_log_set_handler("libnice", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      ar_media_nice_log, NULL);
    if (ok)
      ar_media_keep_room_device_providers();
    g_once_init_leave(&done, 1);
  }
  if (!ok) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Cannot initialize GStreamer: %s",
                init_error != NULL ? init_error->message : "unknown error");
    return FALSE;
  }
  return TRUE;
}

const char *
ar_video_codec_to_string(ArVideoCodec codec)
{
  switch (codec) {
  case AR_VIDEO_CODEC_AUTO:
    return "auto";
  case AR_VIDEO_CODEC_H264:
    return "H264";
  case AR_VIDEO_CODEC_VP8:
    return "VP8";
  }
  return "unknown";
}

gboolean
ar_video_codec_from_string(const char *s, ArVideoCodec *out)
{
  ArVideoCodec codec;

  if (s == NULL)
    return FALSE;
  if (g_ascii_strcasecmp(s, "auto") == 0)
    codec = AR_VIDEO_CODEC_AUTO;
  else if (g_ascii_strcasecmp(s, "h264") == 0 || g_ascii_strcasecmp(s, "h.264") == 0)
    codec = AR_VIDEO_CODEC_H264;
  else if (g_ascii_strcasecmp(s, "vp8") == 0)
    codec = AR_VIDEO_CODEC_VP8;
  else
    return FALSE;
  if (out != NULL)
    *out = codec;
  return TRUE;
}

GSource *
ar_media_timer_attach(guint ms, const char *name, GSourceFunc func, gpointer data,
                      GMainContext *context)
{
  GSource *source = g_timeout_source_new(ms);

  g_source_set_static_name(source, name);
  g_source_set_callback(source, func, data, NULL);
  g_source_attach(source, context);
  return source;
}

GstElement *
ar_media_make_element(const char *factory, const char *name, GError **error)
{
  GstElement *element = gst_element_factory_make(factory, name);

  if (element == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ELEMENT,
                "GStreamer element '%s' is missing (is its plugin package installed?)", factory);
  }
  return element;
}

/* ---- device discovery ---- */

static gboolean
ar_v4l2_is_capture(const char *path)
{
  struct v4l2_capability cap = {0};
  guint32 caps;
  int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  if (ioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
    close(fd);
    return FALSE;
  }
  close(fd);
  caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  return (caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0 &&
         (caps & V4L2_CAP_STREAMING) != 0;
}

static char *
ar_find_v4l2_capture_from_monitor(void)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new();
  GList *devices;
  char *found = NULL;

  gst_device_monitor_add_filter(monitor, "Video/Source", NULL);
  if (!gst_device_monitor_start(monitor))
    return NULL;
  devices = gst_device_monitor_get_devices(monitor);
  for (GList *l = devices; l != NULL && found == NULL; l = l->next) {
    g_autoptr(GstStructure) props = gst_device_get_properties(GST_DEVICE(l->data));
    const char *path;

    if (props == NULL)
      continue;
    path = gst_structure_get_string(props, "api.v4l2.path");
    if (path == NULL)
      path = gst_structure_get_string(props, "device.path");
    if (path != NULL && g_str_has_prefix(path, "/dev/video") && ar_v4l2_is_capture(path))
      found = g_strdup(path);
  }
  g_list_free_full(devices, gst_object_unref);
  gst_device_monitor_stop(monitor);
  return found;
}

static char *
ar_find_v4l2_capture(void)
{
  char *found = ar_find_v4l2_capture_from_monitor();

  if (found != NULL)
    return found;
  for (int i = 0; i < 64; i++) {
    g_autofree char *path = g_strdup_printf("/dev/video%d", i);

    if (ar_v4l2_is_capture(path))
      return g_steal_pointer(&path);
  }
  return NULL;
}

/* TRUE if /proc/asound/pcm lists a device with @what ("capture"/"playback"). */
static gboolean
ar_alsa_has_pcm(const char *what)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents("/proc/asound/pcm", &contents, NULL, NULL))
    return FALSE;
  return strstr(contents, what) != NULL;
}

static gboolean
ar_engine_resolve(ArMediaEngine *engine, GError **error)
{
  const ArMediaConfig *cfg = &engine->cfg;
  ArMediaValue video_source, audio_source, audio_sink, video_sink;

  /* The rules are ar_media_config_check()'s: one parser for both. */
  if (!ar_media_setting_parse(AR_MEDIA_SETTING_VIDEO_SOURCE, cfg->video_source, &video_source,
                              error) ||
      !ar_media_setting_parse(AR_MEDIA_SETTING_AUDIO_SOURCE, cfg->audio_source, &audio_source,
                              error) ||
      !ar_media_setting_parse(AR_MEDIA_SETTING_AUDIO_SINK, cfg->audio_sink, &audio_sink, error) ||
      !ar_media_setting_parse(AR_MEDIA_SETTING_VIDEO_SINK, cfg->video_sink, &video_sink, error))
    return FALSE;

  /* Video source. */
  switch (video_source) {
  case AR_MEDIA_VALUE_OFF:
    engine->video_kind = AR_SRC_TEST;
    break;
  case AR_MEDIA_VALUE_AUTO:
    engine->video_device = ar_find_v4l2_capture();
    engine->video_kind = engine->video_device != NULL ? AR_SRC_DEVICE : AR_SRC_TEST;
    break;
  case AR_MEDIA_VALUE_DEVICE:
    engine->video_kind = AR_SRC_DEVICE;
    engine->video_device = g_strdup(cfg->video_source);
    break;
  }

  /* Audio source. */
  switch (audio_source) {
  case AR_MEDIA_VALUE_OFF:
    engine->audio_kind = AR_SRC_TEST;
    break;
  case AR_MEDIA_VALUE_AUTO:
    engine->audio_kind = ar_alsa_has_pcm("capture") ? AR_SRC_DEVICE : AR_SRC_TEST;
    engine->audio_device = engine->audio_kind == AR_SRC_DEVICE ? g_strdup("default") : NULL;
    break;
  case AR_MEDIA_VALUE_DEVICE:
    engine->audio_kind = AR_SRC_DEVICE;
    engine->audio_device = g_strdup(cfg->audio_source);
    break;
  }

  /* Audio sink. */
  switch (audio_sink) {
  case AR_MEDIA_VALUE_OFF:
    engine->audio_sink_kind = AR_SINK_NONE;
    break;
  case AR_MEDIA_VALUE_AUTO:
    engine->audio_sink_kind = ar_alsa_has_pcm("playback") ? AR_SINK_DEVICE : AR_SINK_NONE;
    engine->audio_sink_device =
        engine->audio_sink_kind == AR_SINK_DEVICE ? g_strdup("default") : NULL;
    break;
  case AR_MEDIA_VALUE_DEVICE:
    engine->audio_sink_kind = AR_SINK_DEVICE;
    engine->audio_sink_device = g_strdup(cfg->audio_sink);
    break;
  }

  /* Video sink: "none" and "kiosk" (the kiosk page shows the video) draw
   * nothing; "window" an autovideosink. */
  switch (video_sink) {
  case AR_MEDIA_VALUE_OFF:
    engine->video_sink_kind = AR_SINK_NONE;
    break;
  case AR_MEDIA_VALUE_DEVICE:
    engine->video_sink_kind = AR_SINK_DEVICE;
    break;
  case AR_MEDIA_VALUE_AUTO: {
    const char *x = g_getenv("DISPLAY");
    const char *wl = g_getenv("WAYLAND_DISPLAY");

    engine->video_sink_kind =
        (x != NULL && *x != '\0') || (wl != NULL && *wl != '\0') ? AR_SINK_DEVICE : AR_SINK_NONE;
    break;
  }
  }
  return TRUE;
}

static gboolean
ar_engine_check_elements(ArMediaEngine *engine, GError **error)
{
  GPtrArray *needed = g_ptr_array_new();
  gboolean ok = TRUE;
  static const char *const always[] = {
      "webrtcbin",     "capsfilter", "videoconvert", "videoscale", "videorate",    "audioconvert",
      "audioresample", "opusenc",    "rtpopuspay",   "decodebin",  "fakesink",     "queue",
      "tee",           "appsrc",     "appsink",      "audiomixer", "audiotestsrc",
  };

  for (gsize i = 0; i < G_N_ELEMENTS(always); i++)
    g_ptr_array_add(needed, (gpointer)always[i]);
  g_ptr_array_add(needed, engine->video_kind == AR_SRC_TEST ? "videotestsrc" : "v4l2src");
  if (engine->audio_kind != AR_SRC_TEST)
    g_ptr_array_add(needed, (gpointer)ar_media_audio_element(engine->audio_device, TRUE, NULL));
  if (engine->audio_sink_kind == AR_SINK_DEVICE)
    g_ptr_array_add(needed,
                    (gpointer)ar_media_audio_element(engine->audio_sink_device, FALSE, NULL));
  if (engine->video_sink_kind == AR_SINK_DEVICE)
    g_ptr_array_add(needed, "autovideosink");

  for (guint i = 0; i < needed->len && ok; i++) {
    const char *name = g_ptr_array_index(needed, i);
    g_autoptr(GstElementFactory) f = gst_element_factory_find(name);

    if (f == NULL) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ELEMENT,
                  "GStreamer element '%s' is missing (is its plugin package installed?)", name);
      ok = FALSE;
    }
  }
  g_ptr_array_unref(needed);
  return ok;
}

static char *
ar_engine_make_description(ArMediaEngine *engine)
{
  const ArMediaConfig *cfg = &engine->cfg;
  g_autofree char *video = NULL;
  g_autofree char *audio = NULL;
  g_autofree char *speaker = NULL;
  g_autofree char *decoders = NULL;

  if (engine->video_kind == AR_SRC_DEVICE)
    video = g_strdup_printf("v4l2src %s", engine->video_device);
  else
    video = g_strdup("videotestsrc (moving test pattern)");
  if (engine->audio_kind == AR_SRC_DEVICE)
    audio = g_strdup_printf("%s %s", ar_media_audio_element(engine->audio_device, TRUE, NULL),
                            engine->audio_device);
  else
    audio = g_strdup("audiotestsrc (440 Hz tone)");
  if (engine->audio_sink_kind == AR_SINK_DEVICE)
    speaker =
        g_strdup_printf("%s %s", ar_media_audio_element(engine->audio_sink_device, FALSE, NULL),
                        engine->audio_sink_device);
  else
    speaker = g_strdup("discarded");

  if (cfg->decoders != NULL && cfg->decoders[0] != NULL)
    decoders = g_strjoinv(";", (char **)cfg->decoders);
  else
    decoders = g_strdup("GStreamer's ranks");

  return g_strdup_printf(
      "camera: %s, %ux%u@%u; microphone: %s (echo cancellation %s, noise "
      "suppression %s, gain control %s); speaker: %s; screen: %s; "
      "encoder: %s (%s, %s, %u kbit/s); decoders: %s; jitter buffer %u ms",
      video, cfg->width, cfg->height, cfg->framerate, audio, cfg->echo_cancellation ? "on" : "off",
      cfg->noise_suppression ? "on" : "off", cfg->gain_control ? "on" : "off", speaker,
      engine->video_sink_kind == AR_SINK_DEVICE ? "autovideosink"
      : g_str_equal(cfg->video_sink, "kiosk")   ? "none (kiosk: the room page shows the video)"
                                                : "discarded",
      engine->encoder->factory, ar_video_codec_to_string(engine->encoder->codec),
      engine->encoder->hardware ? "hardware" : "software", cfg->video_bitrate_kbps, decoders,
      cfg->jitter_latency_ms);
}

ArMediaEngine *
ar_media_engine_new(const ArMediaConfig *cfg, GError **error)
{
  g_autoptr(ArMediaEngine) engine = NULL;
  ArMediaConfig defaults;

  if (!ar_media_init(error))
    return NULL;
  if (cfg == NULL) {
    ar_media_config_init_defaults(&defaults);
    cfg = &defaults;
  }
  if (!ar_media_config_check(cfg, error))
    return NULL;

  engine = g_new0(ArMediaEngine, 1);
  engine->controls = ar_media_controls_new();
  engine->taps = g_ptr_array_new();
  engine->cfg = *cfg;
  engine->video_source = g_strdup(cfg->video_source != NULL ? cfg->video_source : "auto");
  engine->audio_source = g_strdup(cfg->audio_source != NULL ? cfg->audio_source : "auto");
  engine->audio_sink = g_strdup(cfg->audio_sink != NULL ? cfg->audio_sink : "auto");
  engine->video_sink = g_strdup(cfg->video_sink != NULL ? cfg->video_sink : "auto");
  engine->encoders = cfg->encoders != NULL ? g_strdupv((char **)cfg->encoders) : NULL;
  engine->decoders = cfg->decoders != NULL ? g_strdupv((char **)cfg->decoders) : NULL;
  engine->cfg.video_source = engine->video_source;
  engine->cfg.audio_source = engine->audio_source;
  engine->cfg.audio_sink = engine->audio_sink;
  engine->cfg.video_sink = engine->video_sink;
  engine->cfg.encoders = (const char *const *)engine->encoders;
  engine->cfg.decoders = (const char *const *)engine->decoders;

  if (!ar_engine_resolve(engine, error))
    return NULL;
  if (!ar_engine_check_elements(engine, error))
    return NULL;
  engine->encoder = ar_encoder_select(engine->cfg.encoders, engine->cfg.codec, NULL, NULL, error);
  if (engine->encoder == NULL)
    return NULL;
  engine->description = ar_engine_make_description(engine);
  GST_DEBUG("media engine: %s", engine->description);
  return g_steal_pointer(&engine);
}

gboolean
ar_media_engine_set_devices(ArMediaEngine *engine, const char *video_source,
                            const char *audio_source, const char *audio_sink, GError **error)
{
  /* Resolved on a scratch copy: on failure nothing changes. */
  ArMediaEngine tmp = {0};
  tmp.cfg = engine->cfg;
  tmp.cfg.video_source = video_source != NULL ? video_source : "auto";
  tmp.cfg.audio_source = audio_source != NULL ? audio_source : "auto";
  tmp.cfg.audio_sink = audio_sink != NULL ? audio_sink : "auto";
  if (!ar_engine_resolve(&tmp, error) || !ar_engine_check_elements(&tmp, error)) {
    g_free(tmp.video_device);
    g_free(tmp.audio_device);
    g_free(tmp.audio_sink_device);
    return FALSE;
  }
  g_free(engine->video_source);
  g_free(engine->audio_source);
  g_free(engine->audio_sink);
  engine->video_source = g_strdup(tmp.cfg.video_source);
  engine->audio_source = g_strdup(tmp.cfg.audio_source);
  engine->audio_sink = g_strdup(tmp.cfg.audio_sink);
  engine->cfg.video_source = engine->video_source;
  engine->cfg.audio_source = engine->audio_source;
  engine->cfg.audio_sink = engine->audio_sink;
  g_free(engine->video_device);
  g_free(engine->audio_device);
  g_free(engine->audio_sink_device);
  engine->video_kind = tmp.video_kind;
  engine->video_device = tmp.video_device;
  engine->audio_kind = tmp.audio_kind;
  engine->audio_device = tmp.audio_device;
  engine->audio_sink_kind = tmp.audio_sink_kind;
  engine->audio_sink_device = tmp.audio_sink_device;
  g_free(engine->description);
  engine->description = ar_engine_make_description(engine);
  GST_DEBUG("media engine: devices now %s", engine->description);
  return TRUE;
}

void
ar_media_engine_set_processing(ArMediaEngine *engine, gboolean echo_cancellation,
                               gboolean noise_suppression, gboolean gain_control)
{
  engine->cfg.echo_cancellation = echo_cancellation;
  engine->cfg.noise_suppression = noise_suppression;
  engine->cfg.gain_control = gain_control;
  g_free(engine->description);
  engine->description = ar_engine_make_description(engine);
}

void
ar_media_engine_free(ArMediaEngine *engine)
{
  if (engine == NULL)
    return;
  if (engine->capture != NULL)
    ar_capture_set_owner_slot(engine->capture, NULL);
  g_clear_pointer(&engine->peers, g_ptr_array_unref);
  g_clear_pointer(&engine->turn_tls_failed, g_hash_table_unref);
  g_clear_pointer(&engine->turn_tls_error, g_free);
  g_free(engine->video_source);
  g_free(engine->audio_source);
  g_free(engine->audio_sink);
  g_free(engine->video_sink);
  g_strfreev(engine->encoders);
  g_strfreev(engine->decoders);
  g_free(engine->video_device);
  g_free(engine->audio_device);
  g_free(engine->audio_sink_device);
  g_free(engine->description);
  ar_ice_config_clear(&engine->ice);
  g_clear_pointer(&engine->turn_tls, g_ptr_array_unref);
  ar_media_controls_unref(engine->controls);
  g_ptr_array_unref(engine->taps);
  g_free(engine);
}

/* "turns://USERINFO@HOST:PORT" -> a TLS shim to HOST:PORT and
 * "turn://USERINFO@127.0.0.1:SHIM?transport=tcp". */
static char *
ar_media_engine_tls_turn(const char *uri, const char *ca_file, GPtrArray *shims, GError **error)
{
  const char *rest = uri + strlen("turns://");
  const char *at = strrchr(rest, '@');
  const char *hostport = at != NULL ? at + 1 : NULL;
  const char *colon;
  g_autofree char *host = NULL;
  guint64 port = 0;
  ArTurnTls *tls;

  if (hostport == NULL)
    goto bad;
  if (*hostport == '[') {
    const char *end = strchr(hostport, ']');
    if (end == NULL || end[1] != ':')
      goto bad;
    host = g_strndup(hostport + 1, end - hostport - 1);
    colon = end + 1;
  } else {
    colon = strrchr(hostport, ':');
    if (colon == NULL)
      goto bad;
    host = g_strndup(hostport, colon - hostport);
  }
  if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
    goto bad;
  tls = ar_turn_tls_new(host, (guint16)port, ca_file, error);
  if (tls == NULL)
    return NULL;
  g_ptr_array_add(shims, tls);
  return g_strdup_printf("turn://%.*s@127.0.0.1:%u?transport=tcp", (int)(at - rest), rest,
                         ar_turn_tls_get_local_port(tls));
bad:
  g_set_error_literal(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "malformed turns: server");
  return NULL;
}

void
ar_media_engine_add_peer(ArMediaEngine *engine, ArPeer *peer)
{
  if (engine->peers == NULL)
    engine->peers = g_ptr_array_new();
  g_ptr_array_add(engine->peers, peer);
}

void
ar_media_engine_remove_peer(ArMediaEngine *engine, ArPeer *peer)
{
  if (engine->peers != NULL)
    g_ptr_array_remove_fast(engine->peers, peer);
}

const char *
ar_media_engine_get_turn_tls_error(ArMediaEngine *engine)
{
  return engine != NULL ? engine->turn_tls_error : NULL;
}

/* A turns: connection ended its handshake. When every relay a peer may use is
 * a turns: server and each one just failed (relay-only), no peer can connect:
 * fail the connecting ones now with the reason (a certificate that is not
 * trusted, an unreachable server) rather than at the join timeout. */
static void
ar_media_engine_on_turn_tls(ArTurnTls *tls, const char *message, gpointer data)
{
  ArMediaEngine *engine = data;
  guint n_turn = engine->ice.turn != NULL ? g_strv_length(engine->ice.turn) : 0;

  if (message == NULL) {
    g_hash_table_remove(engine->turn_tls_failed, tls);
    if (g_hash_table_size(engine->turn_tls_failed) == 0)
      g_clear_pointer(&engine->turn_tls_error, g_free);
    return;
  }
  g_hash_table_add(engine->turn_tls_failed, tls);
  g_free(engine->turn_tls_error);
  engine->turn_tls_error = g_strdup(message);
  if (!engine->ice.relay_only || engine->turn_tls == NULL || engine->peers == NULL ||
      engine->turn_tls->len != n_turn ||
      g_hash_table_size(engine->turn_tls_failed) != engine->turn_tls->len)
    return;
  /* A failing peer may free others from its callback: call only those still
   * registered. */
  g_autoptr(GPtrArray) peers = g_ptr_array_copy(engine->peers, NULL, NULL);
  for (guint i = 0; i < peers->len; i++)
    if (engine->peers != NULL && g_ptr_array_find(engine->peers, peers->pdata[i], NULL))
      ar_peer_turn_tls_refused(peers->pdata[i], message);
}

gboolean
ar_media_engine_set_ice(ArMediaEngine *engine, const ArIceConfig *ice, GError **error)
{
  g_autoptr(GPtrArray) shims = g_ptr_array_new_with_free_func((GDestroyNotify)ar_turn_tls_free);
  g_autoptr(GStrvBuilder) turn = g_strv_builder_new();

  if (engine == NULL)
    return TRUE;
  for (gsize i = 0; ice != NULL && ice->turn != NULL && ice->turn[i] != NULL; i++) {
    if (g_str_has_prefix(ice->turn[i], "turns://")) {
      g_autofree char *local =
          ar_media_engine_tls_turn(ice->turn[i], ice->tls_ca_file, shims, error);
      if (local == NULL)
        return FALSE;
      g_strv_builder_add(turn, local);
    } else {
      g_strv_builder_add(turn, ice->turn[i]);
    }
  }
  ar_ice_config_clear(&engine->ice);
  g_clear_pointer(&engine->turn_tls, g_ptr_array_unref);
  if (engine->turn_tls_failed == NULL)
    engine->turn_tls_failed = g_hash_table_new(NULL, NULL);
  g_hash_table_remove_all(engine->turn_tls_failed);
  g_clear_pointer(&engine->turn_tls_error, g_free);
  for (guint i = 0; i < shims->len; i++)
    ar_turn_tls_set_result_func(shims->pdata[i], ar_media_engine_on_turn_tls, engine);
  if (ice == NULL)
    return TRUE;
  engine->ice.stun = g_strdup(ice->stun);
  engine->ice.turn = g_strv_builder_end(turn);
  engine->ice.relay_only = ice->relay_only;
  engine->ice.tls_ca_file = g_strdup(ice->tls_ca_file);
  engine->turn_tls = g_steal_pointer(&shims);
  return TRUE;
}

const ArIceConfig *
ar_media_engine_get_ice(ArMediaEngine *engine)
{
  return &engine->ice;
}

const ArEncoderInfo *
ar_media_engine_get_encoder(ArMediaEngine *engine)
{
  return engine != NULL ? engine->encoder : NULL;
}

const char *
ar_media_engine_describe(ArMediaEngine *engine)
{
  return engine != NULL && engine->description != NULL ? engine->description : "";
}

const ArMediaConfig *
ar_media_engine_get_config(ArMediaEngine *engine)
{
  return &engine->cfg;
}

void
ar_media_engine_set_video_sink(ArMediaEngine *engine, const ArVideoSinkFuncs *funcs,
                               gpointer user_data)
{
  engine->frame_sink = funcs != NULL ? *funcs : (ArVideoSinkFuncs){0};
  engine->frame_sink_data = funcs != NULL ? user_data : NULL;
}

gboolean
ar_media_engine_has_video_sink(ArMediaEngine *engine)
{
  return engine->frame_sink.unit != NULL;
}

gboolean
ar_media_engine_decodes_received_video(ArMediaEngine *engine)
{
  return engine->video_sink_kind == AR_SINK_DEVICE || engine->cfg.decode_received_video;
}

void
ar_media_engine_add_tap(ArMediaEngine *engine, ArVideoTap *tap)
{
  g_ptr_array_add(engine->taps, tap);
}

void
ar_media_engine_remove_tap(ArMediaEngine *engine, ArVideoTap *tap)
{
  if (g_ptr_array_remove(engine->taps, tap) && engine->frame_sink.ended != NULL)
    engine->frame_sink.ended(ar_video_tap_get_track(tap), engine->frame_sink_data);
}

void
ar_media_engine_emit_video_unit(ArMediaEngine *engine, const ArVideoUnit *unit)
{
  if (engine->frame_sink.unit != NULL)
    engine->frame_sink.unit(unit, engine->frame_sink_data);
}

gboolean
ar_media_engine_request_key_frame(ArMediaEngine *engine, const char *track)
{
  for (guint i = 0; i < engine->taps->len; i++) {
    ArVideoTap *tap = engine->taps->pdata[i];
    if (g_strcmp0(ar_video_tap_get_track(tap), track) == 0) {
      ar_video_tap_request_key_frame(tap);
      return TRUE;
    }
  }
  return FALSE;
}

ArMediaControls *
ar_media_engine_get_controls(ArMediaEngine *engine)
{
  return engine->controls;
}

void
ar_media_engine_set_microphone_muted(ArMediaEngine *engine, gboolean muted)
{
  ar_media_controls_set_mic_muted(engine->controls, muted);
}

gboolean
ar_media_engine_get_microphone_muted(ArMediaEngine *engine)
{
  return ar_media_controls_get_mic_muted(engine->controls);
}

void
ar_media_engine_set_camera_enabled(ArMediaEngine *engine, gboolean enabled)
{
  ar_media_controls_set_camera_enabled(engine->controls, enabled);
}

gboolean
ar_media_engine_get_camera_enabled(ArMediaEngine *engine)
{
  return ar_media_controls_get_camera_enabled(engine->controls);
}

void
ar_media_engine_set_speaker_volume(ArMediaEngine *engine, guint level)
{
  ar_media_controls_set_volume(engine->controls, level);
}

guint
ar_media_engine_get_speaker_volume(ArMediaEngine *engine)
{
  return ar_media_controls_get_volume(engine->controls);
}

/* ---- capture ---- */

ArCapture *
ar_media_engine_capture_acquire(ArMediaEngine *engine, GError **error)
{
  ArCaptureSpec spec = {0};
  ArCapture *capture;

  if (engine == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "No media engine");
    return NULL;
  }
  if (engine->capture != NULL)
    return ar_capture_ref(engine->capture);
  spec.video_device = engine->video_kind == AR_SRC_DEVICE ? engine->video_device : NULL;
  spec.audio_device = engine->audio_kind == AR_SRC_DEVICE ? engine->audio_device : NULL;
  spec.speaker_device =
      engine->audio_sink_kind == AR_SINK_DEVICE ? engine->audio_sink_device : NULL;
  spec.width = engine->cfg.width;
  spec.height = engine->cfg.height;
  spec.framerate = engine->cfg.framerate;
  spec.echo_cancellation = engine->cfg.echo_cancellation;
  spec.noise_suppression = engine->cfg.noise_suppression;
  spec.gain_control = engine->cfg.gain_control;
  capture = ar_capture_new(&spec, engine->controls, error);
  if (capture == NULL)
    return NULL;
  engine->capture = capture;
  ar_capture_set_owner_slot(capture, &engine->capture);
  return capture;
}

/* ---- element factories ---- */

static GstElement *
ar_make_fakesink(const char *name, GError **error)
{
  GstElement *sink = ar_media_make_element("fakesink", name, error);

  if (sink != NULL)
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  return sink;
}

GstElement *
ar_media_engine_make_video_sink(ArMediaEngine *engine, GError **error)
{
  GstElement *sink;

  if (engine->video_sink_kind == AR_SINK_NONE)
    return ar_make_fakesink(NULL, error);
  sink = ar_media_make_element("autovideosink", NULL, error);
  if (sink != NULL)
    g_object_set(sink, "sync", TRUE, NULL);
  return sink;
}
