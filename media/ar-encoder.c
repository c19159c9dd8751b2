/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-encoder.c: video encoder table, selection and the encode/payload bin.
 */
#include "ar-media-priv.h"

#include <gst/rtp/rtp.h>
#include <string.h>

/* Hardware first, then software. The order is the default preference. */
static const ArEncoderInfo ar_encoders[] = {
    {"v4l2h264enc", AR_VIDEO_CODEC_H264, TRUE},  {"vah264enc", AR_VIDEO_CODEC_H264, TRUE},
    {"vaapih264enc", AR_VIDEO_CODEC_H264, TRUE}, {"nvh264enc", AR_VIDEO_CODEC_H264, TRUE},
    {"x264enc", AR_VIDEO_CODEC_H264, FALSE},     {"vp8enc", AR_VIDEO_CODEC_VP8, FALSE},
};

/* At most this many names of a preference list are looked at: the list comes
 * from configuration and names a handful of encoders. */
#define AR_ENCODER_MAX_PREFERENCES 64

const ArEncoderInfo *
ar_encoder_table(gsize *n_out)
{
  if (n_out != NULL)
    *n_out = G_N_ELEMENTS(ar_encoders);
  return ar_encoders;
}

static const ArEncoderInfo *
ar_encoder_lookup(const char *factory)
{
  for (gsize i = 0; i < G_N_ELEMENTS(ar_encoders); i++) {
    if (g_strcmp0(ar_encoders[i].factory, factory) == 0)
      return &ar_encoders[i];
  }
  return NULL;
}

gboolean
ar_encoder_probe_default(const char *factory, gpointer user_data)
{
  g_autoptr(GstElementFactory) f = NULL;
  g_autoptr(GstElement) element = NULL;
  GstStateChangeReturn ret;

  if (factory == NULL || !ar_media_init(NULL))
    return FALSE;
  f = gst_element_factory_find(factory);
  if (f == NULL) {
    GST_DEBUG("encoder %s: no such element", factory);
    return FALSE;
  }
  element = gst_element_factory_create(f, NULL);
  if (element == NULL) {
    GST_DEBUG("encoder %s: cannot create an instance", factory);
    return FALSE;
  }
  gst_object_ref_sink(element);
  ret = gst_element_set_state(element, GST_STATE_READY);
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state(element, NULL, NULL, 2 * GST_SECOND);
  gst_element_set_state(element, GST_STATE_NULL);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    GST_DEBUG("encoder %s: does not reach READY (no device?)", factory);
    return FALSE;
  }
  return TRUE;
}

const ArEncoderInfo *
ar_encoder_select(const char *const *preference, ArVideoCodec codec, ArEncoderProbeFunc probe,
                  gpointer probe_data, GError **error)
{
  g_autoptr(GString) tried = g_string_new(NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new();

  if (probe == NULL)
    probe = ar_encoder_probe_default;

  if (preference == NULL) {
    for (gsize i = 0; i < G_N_ELEMENTS(ar_encoders); i++)
      g_ptr_array_add(names, (gpointer)ar_encoders[i].factory);
  } else {
    for (gsize i = 0; preference[i] != NULL && i < AR_ENCODER_MAX_PREFERENCES; i++)
      g_ptr_array_add(names, (gpointer)preference[i]);
  }

  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    const ArEncoderInfo *info = ar_encoder_lookup(name);

    if (info == NULL) {
      GST_DEBUG("encoder preference '%s' is not a known encoder: ignored", name);
      continue;
    }
    if (codec != AR_VIDEO_CODEC_AUTO && info->codec != codec)
      continue;
    if (probe(info->factory, probe_data)) {
      GST_DEBUG("selected encoder %s (%s, %s)", info->factory,
                ar_video_codec_to_string(info->codec), info->hardware ? "hardware" : "software");
      return info;
    }
    g_string_append_printf(tried, "%s%s", tried->len > 0 ? ", " : "", info->factory);
  }

  g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER,
              "No usable %s video encoder (tried: %s)",
              codec == AR_VIDEO_CODEC_AUTO ? "H.264 or VP8" : ar_video_codec_to_string(codec),
              tried->len > 0 ? tried->str : "none of the preferred encoders is known or matches");
  return NULL;
}

GstCaps *
ar_encoder_rtp_caps(ArVideoCodec codec, guint pt)
{
  GstCaps *caps;

  if (codec == AR_VIDEO_CODEC_VP8) {
    caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
                               "encoding-name", G_TYPE_STRING, "VP8", "clock-rate", G_TYPE_INT,
                               90000, "payload", G_TYPE_INT, (int)pt, NULL);
  } else {
    /* Constrained baseline 3.1, non-interleaved: what every browser decodes. */
    caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
                               "encoding-name", G_TYPE_STRING, "H264", "clock-rate", G_TYPE_INT,
                               90000, "payload", G_TYPE_INT, (int)pt, "profile-level-id",
                               G_TYPE_STRING, "42e01f", "packetization-mode", G_TYPE_STRING, "1",
                               "level-asymmetry-allowed", G_TYPE_STRING, "1", NULL);
  }
  /* Offered (a=extmap): a far end that takes it sends transport-wide
   * feedback (Janus every 100 ms), what the bandwidth controller reads. */
  gst_caps_set_simple(caps, "extmap-" G_STRINGIFY(AR_MEDIA_EXT_TWCC), G_TYPE_STRING,
                      AR_MEDIA_TWCC_URI, NULL);
  /* And the playout-delay wish the payloader writes (ar-playout-delay.c). */
  gst_caps_set_simple(caps, "extmap-" G_STRINGIFY(AR_MEDIA_EXT_PLAYOUT_DELAY), G_TYPE_STRING,
                      AR_MEDIA_PLAYOUT_DELAY_URI, NULL);
  return caps;
}

/* The payloader writes the transport-wide sequence number slot (rtpsession
 * numbers the packets as they leave, once the far end accepted it) and our
 * playout-delay wish on every packet. */
static gboolean
ar_encoder_add_extensions(GstElement *pay, GError **error)
{
  GstRTPHeaderExtension *ext = gst_rtp_header_extension_create_from_uri(AR_MEDIA_TWCC_URI);

  if (ext == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ELEMENT,
                "GStreamer's rtphdrexttwcc (gst-plugins-good) is missing");
    return FALSE;
  }
  gst_rtp_header_extension_set_id(ext, AR_MEDIA_EXT_TWCC);
  g_signal_emit_by_name(pay, "add-extension", ext);
  gst_object_unref(ext);
  ext = ar_playout_delay_new(AR_MEDIA_PLAYOUT_MIN_MS, AR_MEDIA_PLAYOUT_MAX_MS);
  gst_rtp_header_extension_set_id(ext, AR_MEDIA_EXT_PLAYOUT_DELAY);
  g_signal_emit_by_name(pay, "add-extension", ext);
  gst_object_unref(ext);
  return TRUE;
}

/* An "extmap-N" value: the URI, or <direction, URI, attributes>. */
static const char *
ar_extmap_uri(const GValue *value)
{
  if (G_VALUE_HOLDS_STRING(value))
    return g_value_get_string(value);
  if (GST_VALUE_HOLDS_ARRAY(value) && gst_value_array_get_size(value) >= 2) {
    const GValue *uri = gst_value_array_get_value(value, 1);
    if (G_VALUE_HOLDS_STRING(uri))
      return g_value_get_string(uri);
  }
  return NULL;
}

/* The id of field I of S if it is an "extmap-N" naming the transport-wide
 * sequence number, or 0. */
static guint
ar_twcc_field_id(const GstStructure *s, int i)
{
  const char *name = gst_structure_nth_field_name(s, i);
  guint64 id;
  char *end = NULL;

  if (!g_str_has_prefix(name, "extmap-") ||
      g_strcmp0(ar_extmap_uri(gst_structure_get_value(s, name)), AR_MEDIA_TWCC_URI) != 0)
    return 0;
  id = g_ascii_strtoull(name + strlen("extmap-"), &end, 10);
  /* RFC 8285: 1-14 in one-byte headers, up to 255 in two-byte ones. */
  return end != NULL && *end == '\0' && id >= 1 && id <= 255 ? (guint)id : 0;
}

guint
ar_rtp_caps_twcc_id(const GstCaps *caps)
{
  const GstStructure *s;

  if (caps == NULL || gst_caps_get_size(caps) == 0)
    return 0;
  s = gst_caps_get_structure(caps, 0);
  for (int i = 0; i < gst_structure_n_fields(s); i++) {
    guint id = ar_twcc_field_id(s, i);
    if (id != 0)
      return id;
  }
  return 0;
}

gboolean
ar_rtp_buffer_twcc_seqnum(GstBuffer *buffer, guint id, guint16 *seqnum, guint *payload_size)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gpointer data = NULL;
  guint size = 0;
  gboolean found = FALSE;

  if (id == 0 || id > 255 || !gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
    return FALSE;
  if (id <= 14)
    found = gst_rtp_buffer_get_extension_onebyte_header(&rtp, (guint8)id, 0, &data, &size);
  if (!found)
    found = gst_rtp_buffer_get_extension_twobytes_header(&rtp, NULL, (guint8)id, 0, &data, &size);
  found = found && size == 2;
  if (found) {
    *seqnum = GST_READ_UINT16_BE(data);
    *payload_size = gst_rtp_buffer_get_payload_len(&rtp);
  }
  gst_rtp_buffer_unmap(&rtp);
  return found;
}

/* Sets a property only if the element has it (hardware encoders differ
 * between versions and drivers). Value given as a string, like gst-launch. */
static void
ar_set_if_exists(GstElement *element, const char *property, const char *value)
{
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(element), property) == NULL) {
    GST_DEBUG("%s has no property %s", GST_OBJECT_NAME(element), property);
    return;
  }
  gst_util_set_object_arg(G_OBJECT(element), property, value);
}

/* The bitrate, in each encoder's property. x264enc and vpxenc reconfigure
 * themselves while they run; the VA and NVENC encoders take a new bitrate at
 * the next frame. V4L2 stateful encoders take theirs as a control when they
 * start (ar_encoder_configure) and keep it. */
static void
ar_encoder_apply_bitrate(GstElement *enc, const ArEncoderInfo *info, guint bitrate_kbps)
{
  g_autofree char *kbps = g_strdup_printf("%u", bitrate_kbps);

  if (g_str_equal(info->factory, "x264enc"))
    g_object_set(enc, "bitrate", bitrate_kbps, NULL);
  else if (g_str_equal(info->factory, "vp8enc"))
    g_object_set(enc, "target-bitrate", (int)MIN(bitrate_kbps * 1000u, (guint)G_MAXINT), NULL);
  else if (!g_str_equal(info->factory, "v4l2h264enc"))
    ar_set_if_exists(enc, "bitrate", kbps);
}

static void
ar_encoder_configure(GstElement *enc, const ArEncoderInfo *info, guint bitrate_kbps,
                     guint framerate)
{
  g_autofree char *bps = g_strdup_printf("%u", bitrate_kbps * 1000);
  /* A key frame every two seconds: late joiners and losses recover fast. */
  g_autofree char *gop = g_strdup_printf("%u", MAX(framerate, 1) * 2);

  ar_encoder_apply_bitrate(enc, info, bitrate_kbps);

  if (g_str_equal(info->factory, "x264enc")) {
    gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
    /* One thread: at 720p30 ultrafast it needs ~21 % of a core, and each extra
     * thread holds frames (measured: 62 -> 51 MB anonymous memory in a call,
     * CPU 24 -> 21 %). Revisit for 1080p. */
    /* A 200 ms rate buffer (the default is 600): a key frame is at most a
     * fifth of a second's bits, so a bottleneck's queue takes it whole
     * (./build.sh bench bandwidth). */
    g_object_set(enc, "key-int-max", 60u, "bframes", 0u, "threads", 1u, "vbv-buf-capacity", 200u,
                 NULL);
  } else if (g_str_equal(info->factory, "vp8enc")) {
    g_object_set(enc, "deadline", (gint64)1, "cpu-used", 8, "keyframe-max-dist", 60,
                 "lag-in-frames", 0, NULL);
    gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
    gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
  } else if (g_str_equal(info->factory, "vah264enc")) {
    ar_set_if_exists(enc, "rate-control", "cbr");
    ar_set_if_exists(enc, "key-int-max", gop);
    ar_set_if_exists(enc, "b-frames", "0");
  } else if (g_str_equal(info->factory, "vaapih264enc")) {
    ar_set_if_exists(enc, "rate-control", "cbr");
    ar_set_if_exists(enc, "keyframe-period", gop);
    ar_set_if_exists(enc, "max-bframes", "0");
    ar_set_if_exists(enc, "tune", "low-power");
  } else if (g_str_equal(info->factory, "nvh264enc")) {
    ar_set_if_exists(enc, "rc-mode", "cbr");
    ar_set_if_exists(enc, "gop-size", gop);
    ar_set_if_exists(enc, "bframes", "0");
    ar_set_if_exists(enc, "zerolatency", "true");
    ar_set_if_exists(enc, "preset", "low-latency-hq");
  } else if (g_str_equal(info->factory, "v4l2h264enc")) {
    /* V4L2 stateful encoders take their settings as controls. */
    g_autofree char *controls = g_strdup_printf(
        "controls,video_bitrate=%s,h264_i_frame_period=%s,repeat_sequence_header=1", bps, gop);
    ar_set_if_exists(enc, "extra-controls", controls);
  }
}

static gboolean
ar_link_many(GError **error, GstElement *first, ...)
{
  va_list ap;
  GstElement *prev = first;
  GstElement *next;
  gboolean ok = TRUE;

  va_start(ap, first);
  while ((next = va_arg(ap, GstElement *)) != NULL) {
    if (!gst_element_link(prev, next)) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link %s to %s",
                  GST_OBJECT_NAME(prev), GST_OBJECT_NAME(next));
      ok = FALSE;
      break;
    }
    prev = next;
  }
  va_end(ap);
  return ok;
}

static gboolean
ar_bin_ghost(GstElement *bin, GstElement *element, const char *pad_name, const char *ghost_name)
{
  g_autoptr(GstPad) target = gst_element_get_static_pad(element, pad_name);
  GstPad *ghost;

  if (target == NULL)
    return FALSE;
  ghost = gst_ghost_pad_new(ghost_name, target);
  gst_pad_set_active(ghost, TRUE);
  return gst_element_add_pad(bin, ghost);
}

GstElement *
ar_encoder_make_bin(const ArEncoderInfo *info, guint bitrate_kbps, guint framerate, GError **error)
{
  g_autoptr(GstElement) bin = NULL;
  g_autoptr(GstCaps) rtp_caps = NULL;
  GstElement *scale, *rate, *picture, *enc, *pay, *rtpfilter;

  g_return_val_if_fail(info != NULL, NULL);

  bin = gst_object_ref_sink(gst_bin_new("video-encode"));
  /* The picture the bandwidth controller asks for: passthrough (the scaler)
   * and one timestamp check per frame (the rate) while it asks nothing. */
  if ((scale = ar_media_make_element("videoscale", "scale", error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), scale);
  if ((rate = ar_media_make_element("videorate", "rate", error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), rate);
  g_object_set(rate, "drop-only", TRUE, "skip-to-first", TRUE, NULL);
  if ((picture = ar_media_make_element("capsfilter", "picture", error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), picture);
  enc = ar_media_make_element(info->factory, "enc", error);
  if (enc == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), enc);
  ar_encoder_configure(enc, info, bitrate_kbps, framerate);
  if (!ar_link_many(error, scale, rate, picture, enc, NULL))
    return NULL;

  rtp_caps = ar_encoder_rtp_caps(info->codec, AR_MEDIA_PT_VIDEO);

  if (info->codec == AR_VIDEO_CODEC_H264) {
    g_autoptr(GstCaps) enc_caps = gst_caps_from_string(
        "video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au");
    g_autoptr(GstCaps) parsed_caps =
        gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
    GstElement *encfilter, *parse, *parsefilter;

    if ((encfilter = ar_media_make_element("capsfilter", "enc-caps", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), encfilter);
    if ((parse = ar_media_make_element("h264parse", "parse", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), parse);
    if ((parsefilter = ar_media_make_element("capsfilter", "parse-caps", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), parsefilter);
    if ((pay = ar_media_make_element("rtph264pay", "pay", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), pay);

    g_object_set(encfilter, "caps", enc_caps, NULL);
    g_object_set(parse, "config-interval", -1, NULL);
    g_object_set(parsefilter, "caps", parsed_caps, NULL);
    g_object_set(pay, "config-interval", -1, "pt", (guint)AR_MEDIA_PT_VIDEO, NULL);
    gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
    if (!ar_encoder_add_extensions(pay, error))
      return NULL;
    if ((rtpfilter = ar_media_make_element("capsfilter", "rtp-caps", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), rtpfilter);
    if (!ar_link_many(error, enc, encfilter, parse, parsefilter, pay, rtpfilter, NULL))
      return NULL;
  } else if (info->codec == AR_VIDEO_CODEC_VP8) {
    if ((pay = ar_media_make_element("rtpvp8pay", "pay", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), pay);
    g_object_set(pay, "pt", (guint)AR_MEDIA_PT_VIDEO, NULL);
    gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
    if (!ar_encoder_add_extensions(pay, error))
      return NULL;
    if ((rtpfilter = ar_media_make_element("capsfilter", "rtp-caps", error)) == NULL)
      return NULL;
    gst_bin_add(GST_BIN(bin), rtpfilter);
    if (!ar_link_many(error, enc, pay, rtpfilter, NULL))
      return NULL;
  } else {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NO_ENCODER, "Encoder %s has no codec",
                info->factory);
    return NULL;
  }
  g_object_set(rtpfilter, "caps", rtp_caps, NULL);

  if (!ar_bin_ghost(bin, scale, "sink", "sink") || !ar_bin_ghost(bin, rtpfilter, "src", "src")) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "Cannot expose the pads of the %s encoder bin", info->factory);
    return NULL;
  }
  /* Like gst_element_factory_make(): the caller gets a floating reference. */
  g_object_force_floating(G_OBJECT(bin));
  return g_steal_pointer(&bin);
}

void
ar_encoder_set_bitrate(GstElement *bin, const ArEncoderInfo *info, guint bitrate_kbps)
{
  g_autoptr(GstElement) enc = gst_bin_get_by_name(GST_BIN(bin), "enc");

  if (enc != NULL)
    ar_encoder_apply_bitrate(enc, info, bitrate_kbps);
}

void
ar_encoder_set_picture(GstElement *bin, guint width, guint height, guint framerate)
{
  g_autoptr(GstElement) picture = gst_bin_get_by_name(GST_BIN(bin), "picture");
  g_autoptr(GstCaps) caps = NULL;

  if (picture == NULL)
    return;
  if (width == 0 || height == 0) {
    caps = gst_caps_new_any();
  } else {
    caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, (int)width, "height", G_TYPE_INT,
                               (int)height, NULL);
    if (framerate > 0)
      gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, (int)framerate, 1, NULL);
  }
  /* The scaler and the encoder renegotiate at the next frame. */
  g_object_set(picture, "caps", caps, NULL);
}
