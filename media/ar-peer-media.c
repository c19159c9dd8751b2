/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-media.c: the media chains of a peer. SEND: camera/microphone ->
 * encoders -> webrtcbin sink pads. RECV: webrtcbin src pads -> decodebin (the
 * board's decoder preference first: ar-decoder.c) ->
 * screen/speaker. Pad probes: the verification gate (RTP dropped until the
 * DTLS certificate matched), first-frame events, SSRCs for the stats.
 * Most of this runs on streaming threads: it only posts to the peer's context.
 */
#include "ar-peer-priv.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video.h>
#include <string.h>

/* Keyframe recovery. When a received video packet is lost for good (the jitter
 * buffer gave up on it: a gap in the sequence numbers it hands out), the
 * decoder cannot go on until the next key frame. Ask for one at once: an
 * upstream force-key-unit event becomes an RTCP PLI in the RTP session.
 * And while packets keep coming but nothing has been decoded for
 * AR_STALL_TIMEOUT (the request or the key frame got lost, or the SFU
 * rate-limited it), ask again every AR_STALL_TIMEOUT. Without this the
 * picture froze until the sender's periodic key frame (seconds). */
#define AR_KEYFRAME_REQUEST_GAP (300 * G_TIME_SPAN_MILLISECOND)
#define AR_STALL_TIMEOUT G_TIME_SPAN_SECOND

typedef struct {
  gboolean have_seq;
  guint16 next_seq;
  gint64 last_request; /* monotonic us, 0 = never */
  gint64 last_frame;   /* monotonic us of the last decoded frame; atomic */
  guint count;
} ArLossWatch;

static void
ar_loss_watch_request(ArLossWatch *w, GstPad *pad, guint32 ssrc, gint64 now, const char *why)
{
  w->last_request = now;
  GST_DEBUG_OBJECT(pad, "%s: requesting a key frame from SSRC %u", why, ssrc);
  GstEvent *event =
      gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE, ++w->count);
  /* The RTP session finds the media source by this field. */
  gst_structure_set(gst_event_writable_structure(event), "ssrc", G_TYPE_UINT, ssrc, NULL);
  gst_pad_send_event(pad, event);
}

static void
ar_loss_watch_check(ArLossWatch *w, GstPad *pad, GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return;
  guint16 seq = gst_rtp_buffer_get_seq(&rtp);
  guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  /* A forward jump is a loss; anything else only resynchronizes. */
  gboolean lost = w->have_seq && seq != w->next_seq && (guint16)(seq - w->next_seq) < 0x8000;
  w->have_seq = TRUE;
  w->next_seq = seq + 1;
  gint64 now = g_get_monotonic_time();
  gint64 last_frame = __atomic_load_n(&w->last_frame, __ATOMIC_RELAXED);
  if (lost && (!w->last_request || now - w->last_request >= AR_KEYFRAME_REQUEST_GAP))
    ar_loss_watch_request(w, pad, ssrc, now, "packet loss");
  else if (last_frame && now - last_frame >= AR_STALL_TIMEOUT &&
           (!w->last_request || now - w->last_request >= AR_STALL_TIMEOUT))
    ar_loss_watch_request(w, pad, ssrc, now, "no picture for a second");
}

static GstPadProbeReturn
ar_peer_loss_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArLossWatch *w = user_data;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    ar_loss_watch_check(w, pad, GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      ar_loss_watch_check(w, pad, gst_buffer_list_get(list, i));
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
ar_peer_frame_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArLossWatch *w = user_data;
  __atomic_store_n(&w->last_frame, g_get_monotonic_time(), __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

static void
ar_loss_watch_unref(gpointer w)
{
  g_atomic_rc_box_release(w);
}

/* ---- media probes ---- */

/* Drops RTP until the remote certificate was verified. */
static GstPadProbeReturn
ar_peer_gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  if (g_atomic_int_get(&peer->media_open))
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_DROP;
}

static void
ar_peer_event_in_context(ArPeer *peer, gpointer data)
{
  ArPeerEvent event = GPOINTER_TO_INT(data);

  if (ar_peer_state_is_terminal(peer->state))
    return;
  if (peer->cb.media_event != NULL)
    peer->cb.media_event(peer, event, peer->user_data);
}

static GstPadProbeReturn
ar_peer_first_video_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  if (g_atomic_int_compare_and_exchange(&peer->first_video, 0, 1))
    ar_peer_post(peer, ar_peer_event_in_context, GINT_TO_POINTER(AR_PEER_EVENT_FIRST_VIDEO_FRAME),
                 NULL);
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
ar_peer_first_audio_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  if (g_atomic_int_compare_and_exchange(&peer->first_audio, 0, 1))
    ar_peer_post(peer, ar_peer_event_in_context, GINT_TO_POINTER(AR_PEER_EVENT_FIRST_AUDIO), NULL);
  return GST_PAD_PROBE_REMOVE;
}

static void
ar_peer_learn_ssrc(ArPeer *peer, const char *kind, const GstCaps *caps)
{
  guint ssrc = 0;

  if (caps != NULL && gst_caps_get_size(caps) > 0 &&
      gst_structure_get_uint(gst_caps_get_structure(caps, 0), "ssrc", &ssrc))
    ar_peer_stats_set_ssrc(peer->stats, kind, ssrc);
}

/* Learns the SSRC of a sent stream from the caps entering webrtcbin. */
static GstPadProbeReturn
ar_peer_ssrc_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  GstCaps *caps = NULL;

  if (event != NULL && GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    gst_event_parse_caps(event, &caps);
    ar_peer_learn_ssrc(peer, g_object_get_data(G_OBJECT(pad), "ar-kind"), caps);
  }
  return GST_PAD_PROBE_OK;
}

/* ---- RECV: decoding ---- */

/* queue ! videoconvert ! sink, probe counts decoded frames. */
GstElement *
ar_peer_make_video_out(ArPeer *peer, ArMediaEngine *engine, GError **error)
{
  g_autoptr(GstElement) bin = gst_object_ref_sink(gst_bin_new("video-out"));
  GstElement *queue, *convert, *sink;
  g_autoptr(GstPad) pad = NULL;
  GstPad *ghost;

  if ((queue = ar_media_make_element("queue", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), queue);
  /* Decoded 720p frames are 1.4 MB each: keep two, drop the oldest when the
   * screen is slow (the default queue holds up to 10 MB and adds latency). */
  g_object_set(queue, "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time", (guint64)0,
               NULL);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  if ((convert = ar_media_make_element("videoconvert", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), convert);
  if ((sink = ar_media_engine_make_video_sink(engine, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), sink);
  if (!gst_element_link_many(queue, convert, sink, NULL)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the video output");
    return NULL;
  }
  if (ar_media_engine_has_video_sink(engine) && peer->tap == NULL)
    peer->tap = ar_video_tap_new(engine, peer->label, FALSE, AR_VIDEO_CODEC_AUTO, peer->context);
  pad = gst_element_get_static_pad(queue, "sink");
  ar_track_probe_attach_video(ar_peer_stats_get_probe(peer->stats, "video"), pad);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_first_video_probe, peer, NULL);
  {
    ArLossWatch *w = g_atomic_rc_box_new0(ArLossWatch);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_frame_probe,
                      g_atomic_rc_box_acquire(w), ar_loss_watch_unref);
    g_object_set_data_full(G_OBJECT(bin), "ar-loss-watch", w, ar_loss_watch_unref);
  }
  ghost = gst_ghost_pad_new("sink", pad);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);
  return g_steal_pointer(&bin);
}

/* queue ! audioconvert ! audioresample ! S16 ! the room's speaker (the
 * capture graph's mixer, ar_capture_make_speaker_input); a probe measures the
 * level of what the far end sent, before the room's volume. */
GstElement *
ar_peer_make_audio_out(ArPeer *peer, ArMediaEngine *engine, GError **error)
{
  g_autoptr(GstElement) bin = gst_object_ref_sink(gst_bin_new("audio-out"));
  g_autoptr(GstCaps) caps = gst_caps_from_string("audio/x-raw,format=S16LE,layout=interleaved");
  GstElement *queue, *convert, *resample, *filter, *speaker;
  g_autoptr(GstPad) in = NULL;
  g_autoptr(GstPad) measured = NULL;
  GstPad *ghost;

  if ((queue = ar_media_make_element("queue", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), queue);
  if ((convert = ar_media_make_element("audioconvert", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), convert);
  if ((resample = ar_media_make_element("audioresample", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), resample);
  if ((filter = ar_media_make_element("capsfilter", NULL, error)) == NULL)
    return NULL;
  gst_bin_add(GST_BIN(bin), filter);
  g_object_set(filter, "caps", caps, NULL);
  /* The room's speaker is in the capture graph, which the call holds open:
   * every far end is mixed there and is the echo canceller's reference. */
  if (peer->capture == NULL &&
      (peer->capture = ar_media_engine_capture_acquire(engine, error)) == NULL)
    return NULL;
  if ((speaker = ar_capture_make_speaker_input(peer->capture, error)) == NULL)
    return NULL;
  peer->speaker_input = speaker;
  gst_bin_add(GST_BIN(bin), speaker);
  if (!gst_element_link_many(queue, convert, resample, filter, speaker, NULL)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link the audio output");
    return NULL;
  }
  measured = gst_element_get_static_pad(filter, "src");
  ar_track_probe_attach_audio(ar_peer_stats_get_probe(peer->stats, "audio"), measured);
  in = gst_element_get_static_pad(queue, "sink");
  gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_first_audio_probe, peer, NULL);
  ghost = gst_ghost_pad_new("sink", in);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);
  return g_steal_pointer(&bin);
}

/* Streaming thread: links @pad to a discarding sink. */
static void
ar_peer_discard_pad(ArPeer *peer, GstPad *pad)
{
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_autoptr(GstPad) sinkpad = NULL;

  if (sink == NULL)
    return;
  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(peer->pipeline), sink);
  sinkpad = gst_element_get_static_pad(sink, "sink");
  if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
    GST_DEBUG("peer %s: cannot discard %s", peer->label, GST_PAD_NAME(pad));
  gst_element_sync_state_with_parent(sink);
}

/* Streaming thread: says once per stream which decoder decodebin chose (the
 * board's preference first, else GStreamer's ranks): a room that decodes in
 * software where the board has a hardware decoder shows it here. */
static void
ar_peer_log_decoder_name(ArPeer *peer, const char *kind, const char *decoder)
{
  g_autofree char *preference = peer->decoders != NULL && peer->decoders[0] != NULL
                                    ? g_strjoinv(";", peer->decoders)
                                    : g_strdup("GStreamer's ranks");

  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_PEER", peer->label, "AR_MEDIA", kind,
                   "AR_DECODER", decoder != NULL ? decoder : "none", "MESSAGE",
                   "peer %s: %s decoded by %s (preference: %s)", peer->label, kind,
                   decoder != NULL ? decoder : "no decoder", preference);
}

static void
ar_peer_log_decoder(ArPeer *peer, GstElement *decodebin, const char *caps_name)
{
  g_autofree char *decoder = ar_decoder_find_in(GST_BIN(decodebin));

  ar_peer_log_decoder_name(peer, g_str_has_prefix(caps_name, "video/") ? "video" : "audio",
                           decoder);
}

/* Streaming thread: decodebin found a decoded stream. */
static void
ar_peer_on_decoded_pad(GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  ArPeer *peer = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  const GstStructure *s;
  GstElement *out = NULL;
  g_autoptr(GstPad) sinkpad = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps(pad, NULL);
  s = caps != NULL && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : NULL;

  g_mutex_lock(&peer->out_lock);
  if (s != NULL && gst_structure_has_name(s, "video/x-raw") && !peer->video_out_used) {
    peer->video_out_used = TRUE;
    out = peer->video_out;
  } else if (s != NULL && gst_structure_has_name(s, "audio/x-raw") && !peer->audio_out_used) {
    peer->audio_out_used = TRUE;
    out = peer->audio_out;
  }
  g_mutex_unlock(&peer->out_lock);

  if (out == NULL) {
    ar_peer_discard_pad(peer, pad);
    return;
  }
  gst_bin_add(GST_BIN(peer->pipeline), out);
  sinkpad = gst_element_get_static_pad(out, "sink");
  if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_PIPELINE,
                         "Cannot link a decoded stream to its output");
    return;
  }
  gst_element_sync_state_with_parent(out);
  ar_peer_log_decoder(peer, decodebin, gst_structure_get_name(s));
}

/* Streaming thread: make depayloaders ask for a key frame instead of waiting. */
static void
ar_peer_on_deep_element_added(GstBin *bin, GstBin *sub_bin, GstElement *element, gpointer user_data)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS(element);

  if (g_object_class_find_property(klass, "request-keyframe") != NULL)
    g_object_set(element, "request-keyframe", TRUE, NULL);
  /* Do not freeze the picture until the next key frame after a loss: decode on
   * (the decoder conceals) while the key frame request is under way. */
  if (g_object_class_find_property(klass, "wait-for-keyframe") != NULL)
    g_object_set(element, "wait-for-keyframe", FALSE, NULL);
}

/* Streaming thread: received Opus, depayloaded and decoded by name into the speaker's chain, not
 * through a decodebin: for one known codec it only added its plugin, typefinding and a bin to a
 * call's memory (docs/decisions.md "Media efficiency"). FALSE when the chain cannot be made or
 * the speaker's chain is taken (decodebin then, or the pad is discarded as before). */
static gboolean
ar_peer_decode_opus(ArPeer *peer, GstPad *pad)
{
  GstElement *depay, *dec, *out = NULL;
  g_autoptr(GstPad) sinkpad = NULL;
  g_autofree char *decoder = NULL;

  depay = gst_element_factory_make("rtpopusdepay", NULL);
  dec = ar_decoder_make((const char *const *)peer->decoders, "audio/x-opus", "opusdec");
  g_mutex_lock(&peer->out_lock);
  if (depay != NULL && dec != NULL && peer->audio_out != NULL && !peer->audio_out_used) {
    peer->audio_out_used = TRUE;
    out = peer->audio_out;
  }
  g_mutex_unlock(&peer->out_lock);
  if (out == NULL) {
    if (depay != NULL)
      gst_object_unref(gst_object_ref_sink(depay));
    if (dec != NULL)
      gst_object_unref(gst_object_ref_sink(dec));
    return FALSE;
  }
  decoder = gst_object_get_name(GST_OBJECT(gst_element_get_factory(dec)));
  gst_bin_add_many(GST_BIN(peer->pipeline), depay, dec, out, NULL);
  sinkpad = gst_element_get_static_pad(depay, "sink");
  if (!gst_element_link_many(depay, dec, out, NULL) || !gst_element_sync_state_with_parent(out) ||
      !gst_element_sync_state_with_parent(dec) || !gst_element_sync_state_with_parent(depay) ||
      gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_PIPELINE, "Cannot link the received audio");
    return TRUE;
  }
  ar_peer_log_decoder_name(peer, "audio", decoder);
  return TRUE;
}

/* Streaming thread: received video that nothing in anyroomd shows (the room
 * screen decodes it from the encoded video tap, or nobody looks): no decoder.
 * The frames are only depayloaded (and parsed: H.264's size comes from its
 * SPS) into a fakesink whose pad carries the statistics (frames, size,
 * freezes), the first-frame event and the stall watch: one buffer per frame
 * the depayloader completes, as many as a concealing decoder would decode. */
static void
ar_peer_count_received_video(ArPeer *peer, GstPad *pad, const char *encoding, guint ssrc)
{
  gboolean h264 = encoding != NULL && g_ascii_strcasecmp(encoding, "H264") == 0;
  gboolean vp8 = encoding != NULL && g_ascii_strcasecmp(encoding, "VP8") == 0;
  GstElement *depay, *parse = NULL, *sink;
  g_autoptr(GstPad) sinkpad = NULL;
  g_autoptr(GstPad) in = NULL;
  g_autoptr(GstPad) from = NULL;
  ArLossWatch *w;

  if (!h264 && !vp8) {
    GST_DEBUG("peer %s: video in %s: not counted", peer->label, encoding ? encoding : "?");
    ar_peer_discard_pad(peer, pad);
    return;
  }
  depay = gst_element_factory_make(h264 ? "rtph264depay" : "rtpvp8depay", NULL);
  sink = gst_element_factory_make("fakesink", NULL);
  if (h264)
    parse = gst_element_factory_make("h264parse", NULL);
  if (depay == NULL || sink == NULL || (h264 && parse == NULL)) {
    GstElement *made[] = {depay, parse, sink};
    for (gsize i = 0; i < G_N_ELEMENTS(made); i++)
      if (made[i] != NULL)
        gst_object_unref(gst_object_ref_sink(made[i]));
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_NO_ELEMENT,
                         "GStreamer's RTP depayloaders or h264parse are missing");
    return;
  }
  /* As the decoding path does: after a loss, ask for a key frame and go on
   * (a decoder conceals); the room screen's own tap waits for the key frame. */
  g_object_set(depay, "request-keyframe", TRUE, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(depay), "wait-for-keyframe") != NULL)
    g_object_set(depay, "wait-for-keyframe", FALSE, NULL);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  gst_bin_add_many(GST_BIN(peer->pipeline), depay, sink, NULL);
  if (parse != NULL) {
    gst_bin_add(GST_BIN(peer->pipeline), parse);
    gst_element_link_many(depay, parse, sink, NULL);
  } else {
    gst_element_link(depay, sink);
  }
  sinkpad = gst_element_get_static_pad(sink, "sink");
  ar_track_probe_attach_video(ar_peer_stats_get_probe(peer->stats, "video"), sinkpad);
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_first_video_probe, peer, NULL);
  w = g_atomic_rc_box_new0(ArLossWatch);
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_frame_probe,
                    g_atomic_rc_box_acquire(w), ar_loss_watch_unref);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                    ar_peer_loss_probe, w, ar_loss_watch_unref);
  gst_element_sync_state_with_parent(sink);
  if (parse != NULL)
    gst_element_sync_state_with_parent(parse);
  gst_element_sync_state_with_parent(depay);
  /* The encoded video also goes to the engine's video sink (the room screen). */
  if (peer->tap != NULL)
    from = ar_video_tap_branch(peer->tap, GST_BIN(peer->pipeline), pad, encoding, ssrc);
  else
    from = gst_object_ref(pad);
  in = gst_element_get_static_pad(depay, "sink");
  if (gst_pad_link(from, in) != GST_PAD_LINK_OK)
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_PIPELINE, "Cannot link an incoming video stream");
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_PEER", peer->label, "AR_MEDIA", "video",
                   "AR_DECODER", "none", "MESSAGE", "peer %s: video not decoded here (%s)",
                   peer->label,
                   peer->tap != NULL ? "the room screen decodes it" : "nothing shows it");
}

/* Streaming thread: webrtcbin has a new incoming RTP stream. */
void
ar_peer_on_pad_added(GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  ArPeer *peer = user_data;
  g_autoptr(GstCaps) caps = NULL;
  const GstStructure *s = NULL;
  const char *media = NULL;
  const char *encoding = NULL;
  GstElement *decodebin;
  g_autoptr(GstPad) sinkpad = NULL;
  g_autoptr(GstPad) decode_from = NULL;
  guint ssrc = 0;

  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                    ar_peer_gate_probe, peer, NULL);
  if (peer->direction == AR_PEER_SEND) {
    ar_peer_discard_pad(peer, pad);
    return;
  }

  caps = gst_pad_get_current_caps(pad);
  if (caps == NULL)
    caps = gst_pad_query_caps(pad, NULL);
  if (caps != NULL && gst_caps_get_size(caps) > 0) {
    s = gst_caps_get_structure(caps, 0);
    media = gst_structure_get_string(s, "media");
    encoding = gst_structure_get_string(s, "encoding-name");
    if (media != NULL)
      ar_peer_learn_ssrc(peer, media, caps);
    gst_structure_get_uint(s, "ssrc", &ssrc);
  }
  GST_DEBUG("peer %s: incoming %s stream (%s)", peer->label, media ? media : "?",
            encoding ? encoding : "?");
  if (media != NULL && encoding != NULL)
    ar_peer_stats_set_codec(peer->stats, media, encoding);
  if (media != NULL && g_str_equal(media, "video") && !peer->decode_video) {
    ar_peer_count_received_video(peer, pad, encoding, ssrc);
    return;
  }
  if (media != NULL && g_str_equal(media, "video") && peer->video_out != NULL) {
    ArLossWatch *w = g_object_get_data(G_OBJECT(peer->video_out), "ar-loss-watch");
    if (w != NULL)
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                        ar_peer_loss_probe, g_atomic_rc_box_acquire(w), ar_loss_watch_unref);
  }

  if (media != NULL && g_str_equal(media, "audio") && encoding != NULL &&
      g_ascii_strcasecmp(encoding, "OPUS") == 0 && ar_peer_decode_opus(peer, pad))
    return;

  decodebin = gst_element_factory_make("decodebin", NULL);
  if (decodebin == NULL) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_NO_ELEMENT,
                         "GStreamer element 'decodebin' is missing");
    return;
  }
  /* The board's decoder preference, for this decodebin only. */
  ar_decoder_attach(decodebin, (const char *const *)peer->decoders);
  g_signal_connect(decodebin, "pad-added", G_CALLBACK(ar_peer_on_decoded_pad), peer);
  g_signal_connect(decodebin, "deep-element-added", G_CALLBACK(ar_peer_on_deep_element_added),
                   NULL);
  gst_bin_add(GST_BIN(peer->pipeline), decodebin);
  gst_element_sync_state_with_parent(decodebin);
  sinkpad = gst_element_get_static_pad(decodebin, "sink");
  /* The encoded video also goes to the engine's video sink (the room screen). */
  if (media != NULL && g_str_equal(media, "video") && peer->tap != NULL)
    decode_from = ar_video_tap_branch(peer->tap, GST_BIN(peer->pipeline), pad, encoding, ssrc);
  else
    decode_from = gst_object_ref(pad);
  if (gst_pad_link(decode_from, sinkpad) != GST_PAD_LINK_OK)
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_PIPELINE,
                         "Cannot link an incoming stream to a decoder");
}

/* on-new-transceiver (any thread): NACK/RTX for video; RECV receives only. */
void
ar_peer_on_new_transceiver(GstElement *webrtc, GstWebRTCRTPTransceiver *trans, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;

  /* Retransmissions help video; audio rather conceals a loss than waits. */
  g_object_get(trans, "kind", &kind, NULL);
  g_object_set(trans, "do-nack", kind != GST_WEBRTC_KIND_AUDIO, NULL);
  if (peer->direction == AR_PEER_RECV)
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, NULL);
}

/* ---- SEND: capture and encode ---- */

static gboolean
ar_peer_link_to_webrtc(ArPeer *peer, GstElement *src, const char *kind, GstCaps *codec_caps,
                       GstPad **pad_out, GError **error)
{
  gboolean nack = g_str_equal(kind, "video");
  g_autoptr(GstPad) srcpad = gst_element_get_static_pad(src, "src");
  GstPad *sinkpad = gst_element_request_pad_simple(peer->webrtc, "sink_%u");
  g_autoptr(GstWebRTCRTPTransceiver) trans = NULL;

  if (sinkpad == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "webrtcbin refused a sink pad");
    return FALSE;
  }
  g_object_get(sinkpad, "transceiver", &trans, NULL);
  if (trans != NULL) {
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack", nack,
                 "codec-preferences", codec_caps, NULL);
  }
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                    ar_peer_gate_probe, peer, NULL);
  g_object_set_data(G_OBJECT(sinkpad), "ar-kind", (gpointer)kind);
  gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, ar_peer_ssrc_probe, peer, NULL);
  if (gst_pad_link(srcpad, sinkpad) != GST_PAD_LINK_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE, "Cannot link %s to webrtcbin",
                GST_OBJECT_NAME(src));
    gst_object_unref(sinkpad);
    return FALSE;
  }
  if (pad_out != NULL)
    *pad_out = sinkpad;
  else
    gst_object_unref(sinkpad);
  return TRUE;
}

gboolean
ar_peer_build_send(ArPeer *peer, ArMediaEngine *engine, GError **error)
{
  const ArMediaConfig *cfg = ar_media_engine_get_config(engine);
  const ArEncoderInfo *encoder = ar_media_engine_get_encoder(engine);
  GstElement *vsrc, *venc, *asrc, *opus, *pay, *afilter;
  g_autoptr(GstCaps) vcaps = ar_encoder_rtp_caps(encoder->codec, AR_MEDIA_PT_VIDEO);
  g_autoptr(GstCaps) acaps = gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name", G_TYPE_STRING, "OPUS",
      "clock-rate", G_TYPE_INT, 48000, "payload", G_TYPE_INT, AR_MEDIA_PT_AUDIO,
      /* Without it an offer made before caps flow says "OPUS/48000", and Janus
       * (like the RFC 7587 browsers) only accepts "opus/48000/2". */
      "encoding-params", G_TYPE_STRING, "2", NULL);
  g_autoptr(GstPad) encoded = NULL;
  g_autoptr(GstPad) captured = NULL;
  GstElement *pay_in;
  /* Fixed SSRCs, set on the payloaders and named in the codec preferences, so
   * every offer carries a=ssrc even when it is made before caps flow. Janus
   * (without the MID header extension, which webrtcbin 1.22 does not send)
   * drops RTP whose SSRC the SDP did not announce. */
  guint video_ssrc = g_random_int_range(1, G_MAXINT32);
  guint audio_ssrc = g_random_int_range(1, G_MAXINT32);

  gst_caps_set_simple(vcaps, "ssrc", G_TYPE_UINT, video_ssrc, NULL);
  gst_caps_set_simple(acaps, "ssrc", G_TYPE_UINT, audio_ssrc, NULL);

  /* The room's camera and microphone come from the engine's capture graph,
   * opened once per call (ar-capture.c): this peer is one of its consumers. */
  if ((peer->capture = ar_media_engine_capture_acquire(engine, error)) == NULL)
    return FALSE;
  if ((vsrc = ar_capture_make_video_source(peer->capture, error)) == NULL)
    return FALSE;
  peer->video_source = vsrc;
  gst_bin_add(GST_BIN(peer->pipeline), vsrc);
  if ((venc = ar_encoder_make_bin(encoder, cfg->video_bitrate_kbps, cfg->framerate, error)) == NULL)
    return FALSE;
  gst_bin_add(GST_BIN(peer->pipeline), venc);
  peer->video_encode = venc;
  peer->video_ssrc = video_ssrc;
  peer->audio_ssrc = audio_ssrc;
  /* From 100 kbit/s (the lowest the config takes) to the configured bitrate. */
  peer->rate = ar_rate_new(MIN(100u, cfg->video_bitrate_kbps), cfg->video_bitrate_kbps);
  if (!gst_element_link(vsrc, venc)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "Cannot link the camera to the %s encoder", encoder->factory);
    return FALSE;
  }
  if (!ar_peer_link_to_webrtc(peer, venc, "video", vcaps, &peer->video_send_pad, error))
    return FALSE;

  /* The encoder's frames, before the parser and the payloader: those the far
   * end cannot decode while its key frame waits are not sent. */
  g_autoptr(GstElement) enc = gst_bin_get_by_name(GST_BIN(venc), "enc");
  if (enc != NULL) {
    g_autoptr(GstPad) enc_src = gst_element_get_static_pad(enc, "src");
    ar_peer_rate_watch_frames(peer, enc_src);
  }
  /* One buffer per encoded frame enters the payloader. */
  pay_in = gst_bin_get_by_name(GST_BIN(venc), "pay");
  if (pay_in != NULL) {
    g_object_set(pay_in, "ssrc", video_ssrc, NULL);
    encoded = gst_element_get_static_pad(pay_in, "sink");
    ar_track_probe_attach_video(ar_peer_stats_get_probe(peer->stats, "video"), encoded);
    gst_pad_add_probe(encoded, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_first_video_probe, peer, NULL);
    if (ar_media_engine_has_video_sink(engine)) {
      /* Our self view: the frames we send (black while the camera is off). */
      peer->tap = ar_video_tap_new(engine, peer->label, TRUE, encoder->codec, peer->context);
      ar_video_tap_attach(peer->tap, encoded, encoded, 0);
    }
    gst_object_unref(pay_in);
  }
  ar_peer_stats_set_codec(peer->stats, "video", ar_video_codec_to_string(encoder->codec));

  if ((asrc = ar_capture_make_audio_source(peer->capture, error)) == NULL)
    return FALSE;
  peer->audio_source = asrc;
  gst_bin_add(GST_BIN(peer->pipeline), asrc);
  if ((opus = ar_media_make_element("opusenc", "opusenc", error)) == NULL)
    return FALSE;
  gst_bin_add(GST_BIN(peer->pipeline), opus);
  gst_util_set_object_arg(G_OBJECT(opus), "audio-type", "voice");
  g_object_set(opus, "inband-fec", TRUE, NULL);
  if ((pay = ar_media_make_element("rtpopuspay", "opuspay", error)) == NULL)
    return FALSE;
  gst_bin_add(GST_BIN(peer->pipeline), pay);
  g_object_set(pay, "pt", (guint)AR_MEDIA_PT_AUDIO, "ssrc", audio_ssrc, NULL);
  if ((afilter = ar_media_make_element("capsfilter", "opus-rtp-caps", error)) == NULL)
    return FALSE;
  gst_bin_add(GST_BIN(peer->pipeline), afilter);
  g_object_set(afilter, "caps", acaps, NULL);
  if (!gst_element_link_many(asrc, opus, pay, afilter, NULL)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "Cannot link the microphone to the Opus encoder");
    return FALSE;
  }
  captured = gst_element_get_static_pad(asrc, "src");
  ar_track_probe_attach_audio(ar_peer_stats_get_probe(peer->stats, "audio"), captured);
  ar_peer_stats_set_codec(peer->stats, "audio", "OPUS");
  return ar_peer_link_to_webrtc(peer, afilter, "audio", acaps, NULL, error);
}
