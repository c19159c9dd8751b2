/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-media-config.c: what an ArMediaConfig may say, checked without devices.
 * The engine resolves its devices through the same parser, so a value this
 * check passes is one the engine accepts.
 */
#include "ar-media-priv.h"

#include <string.h>

void
ar_media_config_init_defaults(ArMediaConfig *cfg)
{
  if (cfg == NULL)
    return;
  *cfg = (ArMediaConfig){
      .video_source = "auto",
      .audio_source = "auto",
      .audio_sink = "auto",
      .video_sink = "auto",
      .encoders = NULL,
      .decoders = NULL,
      .codec = AR_VIDEO_CODEC_AUTO,
      .width = 1280,
      .height = 720,
      .framerate = 30,
      .video_bitrate_kbps = 1500,
      .jitter_latency_ms = 60,
      .echo_cancellation = TRUE,
      .noise_suppression = TRUE,
      .gain_control = TRUE,
  };
}

/* A V4L2 device node: /dev/videoN, or one of udev's stable links,
 * /dev/v4l/by-id/NAME and /dev/v4l/by-path/NAME (NAME: no '/', not starting
 * with '.'). Nothing else under /dev: v4l2src opens what it is given. */
static gboolean
ar_is_device_path(const char *s)
{
  const char *name = NULL;
  if (strlen(s) > 128)
    return FALSE;
  if (g_str_has_prefix(s, "/dev/video")) {
    const char *n = s + strlen("/dev/video");
    gsize digits = strspn(n, "0123456789");
    return digits >= 1 && digits <= 3 && n[digits] == '\0';
  }
  if (g_str_has_prefix(s, "/dev/v4l/by-id/"))
    name = s + strlen("/dev/v4l/by-id/");
  else if (g_str_has_prefix(s, "/dev/v4l/by-path/"))
    name = s + strlen("/dev/v4l/by-path/");
  if (name == NULL || *name == '\0' || *name == '.')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && strchr("_.:-", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* An ALSA card or device value: "0", "Loopback", "Bar_2". */
static gboolean
alsa_value_ok(const char *s, gsize len)
{
  if (len == 0 || len > 32)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

/* ALSA's PCM definitions that address a card: the only ones that may take
 * arguments here, and then only a card, a device and a subdevice. Other
 * plugins take arguments that are files, sockets or whole configurations
 * (file:FILE=..., tee:..., shm:..., plug:{...}): those never get through. */
static const char *const alsa_card_pcms[] = {
    "default", "sysdefault", "hw",         "plughw",     "front",      "rear",       "center_lfe",
    "side",    "surround21", "surround40", "surround41", "surround50", "surround51", "surround71",
    "iec958",  "spdif",      "hdmi",       "dmix",       "dsnoop",     NULL};

/* An ALSA PCM name, strictly:
 *   NAME                 a PCM defined in the ALSA configuration ("default",
 *                        "pulse", a board's own), [A-Za-z][A-Za-z0-9_-]*
 *   PCM:ARGS             PCM one of alsa_card_pcms, ARGS one to three
 *                        comma-separated values, each VALUE or KEY=VALUE with
 *                        KEY CARD, DEV or SUBDEV and VALUE [A-Za-z0-9_-]{1,32}:
 *                        "hw:0", "hw:Loopback,1,0", "plughw:CARD=Bar,DEV=0",
 *                        "sysdefault:CARD=Bar".
 * No quotes, braces, '.', '/', spaces or other keys: no plugin arguments. */
static gboolean
ar_is_alsa_name(const char *s)
{
  gsize len = strlen(s);
  if (len == 0 || len > 128 || !g_ascii_isalpha(s[0]))
    return FALSE;
  const char *colon = strchr(s, ':');
  gsize base = colon ? (gsize)(colon - s) : len;
  for (gsize i = 0; i < base; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '_' && s[i] != '-')
      return FALSE;
  /* alsa.conf's definitions that are only whole with arguments (a file, a
   * socket, a slave): bare, an error at best. */
  static const char *const needs_arguments[] = {"file", "tee", "shm", "plug", "cards", NULL};
  if (!colon)
    return !g_strv_contains(needs_arguments, s);
  g_autofree char *pcm = g_strndup(s, base);
  if (!g_strv_contains(alsa_card_pcms, pcm))
    return FALSE;
  g_auto(GStrv) args = g_strsplit(colon + 1, ",", -1);
  guint n = g_strv_length(args);
  if (n < 1 || n > 3)
    return FALSE;
  for (guint i = 0; i < n; i++) {
    const char *eq = strchr(args[i], '=');
    const char *value = args[i];
    if (eq) {
      gsize klen = (gsize)(eq - args[i]);
      if (!((klen == 4 && strncmp(args[i], "CARD", 4) == 0) ||
            (klen == 3 && strncmp(args[i], "DEV", 3) == 0) ||
            (klen == 6 && strncmp(args[i], "SUBDEV", 6) == 0)))
        return FALSE;
      value = eq + 1;
    }
    if (!alsa_value_ok(value, strlen(value)))
      return FALSE;
  }
  return TRUE;
}

/* A PulseAudio (or PipeWire's pulse server) device: "pulse:NAME", NAME a
 * source or sink name as `pactl list short` gives it, [A-Za-z0-9_.:-]{1,128}.
 * The sound server, not ALSA's pulse plugin, then carries the audio: its
 * timing is what the echo canceller needs (docs/audio.md). */
static gboolean
ar_is_pulse_name(const char *s)
{
  if (!g_str_has_prefix(s, AR_MEDIA_PULSE_PREFIX))
    return FALSE;
  const char *name = s + strlen(AR_MEDIA_PULSE_PREFIX);
  gsize len = strlen(name);
  if (len == 0 || len > 128)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum(name[i]) && strchr("_.:-", name[i]) == NULL)
      return FALSE;
  return TRUE;
}

const char *
ar_media_audio_element(const char *device, gboolean source, const char **element_device)
{
  gboolean pulse = device != NULL && ar_is_pulse_name(device);

  if (element_device != NULL)
    *element_device = pulse ? device + strlen(AR_MEDIA_PULSE_PREFIX) : device;
  if (pulse)
    return source ? "pulsesrc" : "pulsesink";
  return source ? "alsasrc" : "alsasink";
}

/* The word each setting takes for "nothing from a device". */
static const struct {
  const char *what;  /* for messages */
  const char *off;   /* "test" (generated) or "none" (nothing played or shown) */
  const char *valid; /* the message's list of valid values */
} settings[] = {
    [AR_MEDIA_SETTING_VIDEO_SOURCE] = {"video source", "test",
                                       "auto, test or a /dev/ path (/dev/videoN, "
                                       "/dev/v4l/by-id/NAME, /dev/v4l/by-path/NAME)"},
    [AR_MEDIA_SETTING_AUDIO_SOURCE] = {"audio source", "test",
                                       "auto, test, an ALSA device name (NAME, hw:N,M, "
                                       "plughw:CARD=X,DEV=N; no plugin arguments) or "
                                       "pulse:SOURCE"},
    [AR_MEDIA_SETTING_AUDIO_SINK] = {"audio sink", "none",
                                     "auto, none, an ALSA device name (NAME, hw:N,M, "
                                     "plughw:CARD=X,DEV=N; no plugin arguments) or pulse:SINK"},
    [AR_MEDIA_SETTING_VIDEO_SINK] = {"video sink", "none", "auto, none, kiosk or window"},
};

/* Words with a meaning of their own, never taken for a device name. */
static const char *const reserved[] = {"auto", "test", "none", "kiosk", "window", NULL};

gboolean
ar_media_setting_parse(ArMediaSetting setting, const char *value, ArMediaValue *out, GError **error)
{
  ArMediaValue kind;

  if ((guint)setting >= G_N_ELEMENTS(settings)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Unknown media setting %d",
                (int)setting);
    return FALSE;
  }
  if (value == NULL || g_str_equal(value, "auto"))
    kind = AR_MEDIA_VALUE_AUTO;
  else if (g_str_equal(value, settings[setting].off))
    kind = AR_MEDIA_VALUE_OFF;
  /* The room screen is the kiosk browser, which shows the remote video
   * itself (encoded frames relayed over /api/v1/video): draw nothing. */
  else if (setting == AR_MEDIA_SETTING_VIDEO_SINK && g_str_equal(value, "kiosk"))
    kind = AR_MEDIA_VALUE_OFF;
  else if (setting == AR_MEDIA_SETTING_VIDEO_SINK && g_str_equal(value, "window"))
    kind = AR_MEDIA_VALUE_DEVICE;
  else if (setting == AR_MEDIA_SETTING_VIDEO_SOURCE && ar_is_device_path(value))
    kind = AR_MEDIA_VALUE_DEVICE;
  /* The other settings' words are ALSA names too, but say something else:
   * microphone=none would open a PCM called "none" and fail in the call. */
  else if ((setting == AR_MEDIA_SETTING_AUDIO_SOURCE || setting == AR_MEDIA_SETTING_AUDIO_SINK) &&
           ((ar_is_alsa_name(value) && !g_strv_contains(reserved, value)) ||
            ar_is_pulse_name(value)))
    kind = AR_MEDIA_VALUE_DEVICE;
  else {
    /* The value may be anything: quote it escaped and bounded. */
    g_autofree char *quoted = g_strescape(value, NULL);

    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Invalid %s '%.64s%s' (expected %s)",
                settings[setting].what, quoted, strlen(quoted) > 64 ? "..." : "",
                settings[setting].valid);
    return FALSE;
  }
  if (out != NULL)
    *out = kind;
  return TRUE;
}

gboolean
ar_media_setting_check(ArMediaSetting setting, const char *value, GError **error)
{
  return ar_media_setting_parse(setting, value, NULL, error);
}

gboolean
ar_media_config_check(const ArMediaConfig *cfg, GError **error)
{
  ArMediaConfig defaults;

  if (cfg == NULL) {
    ar_media_config_init_defaults(&defaults);
    cfg = &defaults;
  }
  if (!ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SOURCE, cfg->video_source, error) ||
      !ar_media_setting_check(AR_MEDIA_SETTING_AUDIO_SOURCE, cfg->audio_source, error) ||
      !ar_media_setting_check(AR_MEDIA_SETTING_AUDIO_SINK, cfg->audio_sink, error) ||
      !ar_media_setting_check(AR_MEDIA_SETTING_VIDEO_SINK, cfg->video_sink, error))
    return FALSE;
  if (cfg->width < 16 || cfg->width > 7680 || cfg->height < 16 || cfg->height > 4320 ||
      (cfg->width % 2) != 0 || (cfg->height % 2) != 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                "Invalid video size %ux%u (even numbers, 16x16 to 7680x4320)", cfg->width,
                cfg->height);
    return FALSE;
  }
  if (cfg->framerate < 1 || cfg->framerate > 120) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Invalid frame rate %u (1 to 120)",
                cfg->framerate);
    return FALSE;
  }
  if (cfg->video_bitrate_kbps < 50 || cfg->video_bitrate_kbps > 100000) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                "Invalid video bitrate %u kbit/s (50 to 100000)", cfg->video_bitrate_kbps);
    return FALSE;
  }
  if (cfg->jitter_latency_ms > 10000) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED,
                "Invalid jitter buffer latency %u ms (0 to 10000)", cfg->jitter_latency_ms);
    return FALSE;
  }
  if (cfg->codec != AR_VIDEO_CODEC_AUTO && cfg->codec != AR_VIDEO_CODEC_H264 &&
      cfg->codec != AR_VIDEO_CODEC_VP8) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Invalid video codec %d",
                (int)cfg->codec);
    return FALSE;
  }
  return TRUE;
}
