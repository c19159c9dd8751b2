/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer.c: one WebRTC peer connection = one GstPipeline with a webrtcbin.
 *
 * SEND: camera -> encoder -> payloader -> webrtcbin (sendonly, we offer)
 *       microphone -> opusenc -> rtpopuspay -> webrtcbin
 * RECV: webrtcbin (recvonly, remote offers) -> decodebin -> screen / speaker
 *
 * Threads: webrtcbin signals, promise replies, DTLS state changes and pad
 * probes run on GStreamer threads. They only post work to the peer's
 * GMainContext (ar_peer_post), where every user callback runs. Posted work
 * holds a reference on the peer; ar_peer_close() cancels what is pending, so
 * nothing is called after it.
 *
 * Signalling (candidates, descriptions) is in ar-peer-signal.c, what a
 * running peer watches in ar-peer-watch.c, its media in ar-peer-media.c.
 *
 * Security: webrtcbin does not check the DTLS certificate against the SDP
 * a=fingerprint. We do, when each DTLS transport reaches "connected"; until
 * the check passed, RTP is dropped at webrtcbin's pads (nothing is sent to, or
 * decoded from, an unverified peer), and CONNECTED is reported only after it.
 */
#include "ar-peer-priv.h"

#include <gst/video/video.h>
#include <string.h>

typedef struct {
  ArPeer *peer;
  GSource *source;
  ArPeerCallFunc func;
  gpointer data;
  GDestroyNotify data_free;
} ArPeerCall;

ArPeer *
ar_peer_ref(ArPeer *peer)
{
  g_atomic_int_inc(&peer->ref_count);
  return peer;
}

void
ar_peer_unref(ArPeer *peer)
{
  if (peer == NULL || !g_atomic_int_dec_and_test(&peer->ref_count))
    return;
  g_clear_pointer(&peer->stats, ar_peer_stats_free);
  g_clear_pointer(&peer->rate, ar_rate_free);
  g_clear_pointer(&peer->twcc, ar_twcc_windows_free);
  g_clear_pointer(&peer->probe, ar_twcc_probe_free);
  gst_clear_object(&peer->rtx_send);
  g_clear_object(&peer->video_out);
  g_clear_object(&peer->audio_out);
  g_clear_object(&peer->video_send_pad);
  g_clear_pointer(&peer->tap, ar_video_tap_free);
  g_clear_object(&peer->webrtc);
  g_clear_object(&peer->pipeline);
  g_clear_pointer(&peer->transports, g_array_unref);
  g_clear_pointer(&peer->early_candidates, g_ptr_array_unref);
  g_strfreev(peer->remote_fingerprints);
  g_strfreev(peer->decoders);
  g_main_context_unref(peer->context);
  g_mutex_clear(&peer->lock);
  g_mutex_clear(&peer->out_lock);
  g_free(peer->label);
  g_free(peer);
}

gboolean
ar_peer_is_closed(ArPeer *peer)
{
  return g_atomic_int_get(&peer->closed);
}

/* ---- marshalling to the peer's main context ---- */

static gboolean
ar_peer_call_dispatch(gpointer user_data)
{
  ArPeerCall *call = user_data;
  ArPeer *peer = call->peer;
  gboolean closed;

  g_mutex_lock(&peer->lock);
  if (g_queue_remove(&peer->pending, call->source))
    g_source_unref(call->source);
  closed = peer->closed;
  g_mutex_unlock(&peer->lock);
  if (!closed)
    call->func(peer, call->data);
  return G_SOURCE_REMOVE;
}

static void
ar_peer_call_free(gpointer user_data)
{
  ArPeerCall *call = user_data;

  if (call->data_free != NULL && call->data != NULL)
    call->data_free(call->data);
  ar_peer_unref(call->peer);
  g_free(call);
}

/* Runs @func(peer, data) later in the peer's context, unless the peer is
 * closed by then. Callable from any thread. Takes ownership of @data. */
void
ar_peer_post(ArPeer *peer, ArPeerCallFunc func, gpointer data, GDestroyNotify data_free)
{
  ArPeerCall *call;

  g_mutex_lock(&peer->lock);
  if (peer->closed) {
    g_mutex_unlock(&peer->lock);
    if (data_free != NULL && data != NULL)
      data_free(data);
    return;
  }
  call = g_new0(ArPeerCall, 1);
  call->peer = ar_peer_ref(peer);
  call->func = func;
  call->data = data;
  call->data_free = data_free;
  call->source = g_idle_source_new();
  g_source_set_priority(call->source, G_PRIORITY_DEFAULT);
  g_source_set_static_name(call->source, "ar-peer-call");
  g_source_set_callback(call->source, ar_peer_call_dispatch, call, ar_peer_call_free);
  g_queue_push_tail(&peer->pending, g_source_ref(call->source));
  g_source_attach(call->source, peer->context);
  g_source_unref(call->source);
  g_mutex_unlock(&peer->lock);
}

/* ---- state ---- */

const char *
ar_peer_state_to_string(ArPeerState state)
{
  switch (state) {
  case AR_PEER_STATE_NEW:
    return "new";
  case AR_PEER_STATE_CONNECTING:
    return "connecting";
  case AR_PEER_STATE_CONNECTED:
    return "connected";
  case AR_PEER_STATE_FAILED:
    return "failed";
  case AR_PEER_STATE_CLOSED:
    return "closed";
  }
  return "unknown";
}

gboolean
ar_peer_state_is_terminal(ArPeerState state)
{
  return state == AR_PEER_STATE_FAILED || state == AR_PEER_STATE_CLOSED;
}

void
ar_peer_set_state(ArPeer *peer, ArPeerState state, const GError *error)
{
  if (peer->state == state)
    return;
  GST_INFO("peer %s: %s -> %s%s%s", peer->label, ar_peer_state_to_string(peer->state),
           ar_peer_state_to_string(state), error != NULL ? ": " : "",
           error != NULL ? error->message : "");
  peer->state = state;
  if (peer->cb.state_changed != NULL)
    peer->cb.state_changed(peer, state, error, peer->user_data);
}

void
ar_peer_disarm_connect_timer(ArPeer *peer)
{
  if (peer->connect_timer != NULL) {
    g_source_destroy(peer->connect_timer);
    g_clear_pointer(&peer->connect_timer, g_source_unref);
  }
}

static void
ar_peer_disarm_liveness(ArPeer *peer)
{
  ar_peer_rate_disarm(peer);
  if (peer->netwatch != NULL) {
    g_source_destroy(peer->netwatch);
    g_clear_pointer(&peer->netwatch, g_source_unref);
  }
  if (peer->liveness_timer != NULL) {
    g_source_destroy(peer->liveness_timer);
    g_clear_pointer(&peer->liveness_timer, g_source_unref);
    GST_INFO("peer %s: longest silence from the remote peer while connected: %.1f s", peer->label,
             (double)peer->rx_longest_gap / G_USEC_PER_SEC);
  }
}

static void
ar_peer_stop_pipeline(ArPeer *peer)
{
  ar_peer_disarm_connect_timer(peer);
  ar_peer_disarm_liveness(peer);
  if (peer->stats != NULL)
    ar_peer_stats_stop(peer->stats);
  g_atomic_int_set(&peer->media_open, 0);
  if (peer->pipeline != NULL)
    gst_element_set_state(peer->pipeline, GST_STATE_NULL);
}

/* Main context: ends the call with an error (once). */
void
ar_peer_fail(ArPeer *peer, ArMediaError code, const char *format, ...)
{
  g_autoptr(GError) error = NULL;
  va_list ap;

  if (ar_peer_state_is_terminal(peer->state) || ar_peer_is_closed(peer))
    return;
  va_start(ap, format);
  error = g_error_new_valist(AR_MEDIA_ERROR, code, format, ap);
  va_end(ap);
  /* ICE found no path: say so when a TURN-over-TLS relay was refused. */
  if ((code == AR_MEDIA_ERROR_ICE || code == AR_MEDIA_ERROR_TIMEOUT) &&
      peer->state != AR_PEER_STATE_CONNECTED &&
      ar_media_engine_get_turn_tls_error(peer->engine) != NULL) {
    char *message = g_strdup_printf("%s (%s)", error->message,
                                    ar_media_engine_get_turn_tls_error(peer->engine));

    g_free(error->message);
    error->message = message;
  }
  ar_peer_stop_pipeline(peer);
  ar_peer_set_state(peer, AR_PEER_STATE_FAILED, error);
}

typedef struct {
  ArMediaError code;
  char *message;
} ArPeerFailure;

static void
ar_peer_failure_free(gpointer data)
{
  ArPeerFailure *f = data;

  g_free(f->message);
  g_free(f);
}

static void
ar_peer_fail_in_context(ArPeer *peer, gpointer data)
{
  ArPeerFailure *f = data;

  ar_peer_fail(peer, f->code, "%s", f->message);
}

/* Any thread: posts a failure. */
void
ar_peer_post_failure(ArPeer *peer, ArMediaError code, const char *message)
{
  ArPeerFailure *f = g_new0(ArPeerFailure, 1);

  f->code = code;
  f->message = g_strdup(message);
  ar_peer_post(peer, ar_peer_fail_in_context, f, ar_peer_failure_free);
}

gboolean
ar_peer_all_verified(ArPeer *peer)
{
  guint verified = 0;

  for (guint i = 0; i < peer->transports->len; i++) {
    ArWatchedTransport *w = &g_array_index(peer->transports, ArWatchedTransport, i);
    GstWebRTCDTLSTransportState st = GST_WEBRTC_DTLS_TRANSPORT_STATE_NEW;

    g_object_get(w->transport, "state", &st, NULL);
    if (w->verified)
      verified++;
    else if (st == GST_WEBRTC_DTLS_TRANSPORT_STATE_CONNECTED)
      return FALSE;
  }
  return verified > 0;
}

/* ---- webrtcbin state ---- */

static void
ar_peer_webrtc_state_in_context(ArPeer *peer, gpointer data)
{
  GstWebRTCPeerConnectionState pc = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  GstWebRTCICEConnectionState ice = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;

  if (ar_peer_state_is_terminal(peer->state))
    return;
  g_object_get(peer->webrtc, "connection-state", &pc, "ice-connection-state", &ice, NULL);
  GST_DEBUG("peer %s: connection-state %d, ice-connection-state %d", peer->label, pc, ice);

  if (ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
    ar_peer_fail(peer, AR_MEDIA_ERROR_ICE, "ICE failed: no network path to the remote peer");
    return;
  }
  if (pc == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    ar_peer_fail(peer, AR_MEDIA_ERROR_DTLS, "The connection to the remote peer failed (DTLS)");
    return;
  }
  peer->ice_connected = ice == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED ||
                        ice == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED;
  if (pc == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    peer->webrtc_connected = TRUE;
  } else if (peer->ice_connected && ar_peer_all_verified(peer)) {
    /* ICE up and DTLS connected + verified: connected even if webrtcbin's
     * aggregate state lags behind. */
    peer->webrtc_connected = TRUE;
  }
  /* Transports may have appeared since the descriptions were applied. */
  ar_peer_watch_transports(peer);
}

/* webrtcbin thread. */
static void
ar_peer_on_webrtc_state(GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  ar_peer_post(user_data, ar_peer_webrtc_state_in_context, NULL, NULL);
}

/* ---- bus ---- */

static gboolean
ar_peer_on_bus(GstBus *bus, GstMessage *msg, gpointer user_data)
{
  ArPeer *peer = user_data;

  if (ar_peer_is_closed(peer))
    return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr(GError) error = NULL;
    g_autofree char *debug = NULL;

    gst_message_parse_error(msg, &error, &debug);
    GST_WARNING("peer %s: pipeline error from %s: %s (%s)", peer->label,
                GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message, debug ? debug : "");
    ar_peer_fail(peer, AR_MEDIA_ERROR_PIPELINE, "Pipeline error from %s: %s",
                 GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message);
    break;
  }
  case GST_MESSAGE_LATENCY:
    /* A jitter buffer's latency changed (under loss): the sinks sync anew. */
    gst_bin_recalculate_latency(GST_BIN(peer->pipeline));
    break;
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) error = NULL;

    gst_message_parse_warning(msg, &error, NULL);
    GST_DEBUG("peer %s: warning from %s: %s", peer->label, GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
              error->message);
    break;
  }
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* No UPnP: the room must not ask the LAN's router to open ports (libnice does
 * by default, and probes the network with SSDP). */
static void
ar_peer_configure_ice(ArPeer *peer)
{
  g_autoptr(GObject) ice = NULL;
  g_autoptr(GObject) agent = NULL;

  g_object_get(peer->webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL || g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") == NULL)
    return;
  g_object_get(ice, "agent", &agent, NULL);
  if (agent != NULL && g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp") != NULL)
    g_object_set(agent, "upnp", FALSE, NULL);
}

/* STUN, TURN servers and the transport policy from the engine. The TURN
 * URIs carry credentials: only their redacted form is logged. */
static gboolean
ar_peer_apply_ice(ArPeer *peer, const ArIceConfig *ice, GError **error)
{
  if (ice == NULL)
    return TRUE;
  if (ice->stun != NULL)
    g_object_set(peer->webrtc, "stun-server", ice->stun, NULL);
  for (gsize i = 0; ice->turn != NULL && ice->turn[i] != NULL; i++) {
    gboolean added = FALSE;
    g_autofree char *shown = ar_ice_redact(ice->turn[i]);
    g_signal_emit_by_name(peer->webrtc, "add-turn-server", ice->turn[i], &added);
    if (!added) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_ICE, "webrtcbin refused TURN server %s",
                  shown);
      return FALSE;
    }
    GST_DEBUG("peer %s: TURN server %s", peer->label, shown);
  }
  if (ice->relay_only)
    gst_util_set_object_arg(G_OBJECT(peer->webrtc), "ice-transport-policy", "relay");
  return TRUE;
}

/* ---- public API ---- */

ArPeer *
ar_peer_new(ArMediaEngine *engine, ArPeerDirection direction, const char *label,
            const ArPeerCallbacks *callbacks, gpointer user_data, GError **error)
{
  ArPeer *peer;
  const ArMediaConfig *cfg;
  g_autoptr(GstBus) bus = NULL;
  g_autofree char *name = NULL;

  if (engine == NULL || (direction != AR_PEER_SEND && direction != AR_PEER_RECV)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Invalid peer arguments");
    return NULL;
  }
  if (!ar_media_init(error))
    return NULL;
  cfg = ar_media_engine_get_config(engine);

  peer = g_new0(ArPeer, 1);
  peer->ref_count = 1;
  peer->direction = direction;
  peer->label = g_strdup(label != NULL ? label : (direction == AR_PEER_SEND ? "send" : "recv"));
  peer->offers = direction == AR_PEER_SEND;
  if (callbacks != NULL)
    peer->cb = *callbacks;
  peer->user_data = user_data;
  peer->context = g_main_context_ref_thread_default();
  g_mutex_init(&peer->lock);
  g_mutex_init(&peer->out_lock);
  g_queue_init(&peer->pending);
  peer->transports = g_array_new(FALSE, TRUE, sizeof(ArWatchedTransport));
  peer->early_candidates = g_ptr_array_new_with_free_func(ar_peer_candidate_free);
  peer->state = AR_PEER_STATE_NEW;
  /* Read by streaming threads (decodebin's autoplug-sort): a copy of our own. */
  peer->decoders = cfg->decoders != NULL ? g_strdupv((char **)cfg->decoders) : NULL;

  name = g_strdup_printf("ar-peer-%s", peer->label);
  g_strcanon(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", '_');
  peer->pipeline = gst_object_ref_sink(gst_pipeline_new(name));
  g_signal_connect(peer->pipeline, "deep-element-added",
                   G_CALLBACK(ar_peer_watch_on_deep_element_added), peer);
  peer->webrtc = ar_media_make_element("webrtcbin", "webrtc", error);
  if (peer->webrtc == NULL)
    goto fail;
  gst_object_ref_sink(peer->webrtc);
  gst_bin_add(GST_BIN(peer->pipeline), peer->webrtc);
  gst_util_set_object_arg(G_OBJECT(peer->webrtc), "bundle-policy", "max-bundle");
  g_object_set(peer->webrtc, "latency", cfg->jitter_latency_ms, "stun-server", NULL, NULL);
  if (!ar_peer_apply_ice(peer, ar_media_engine_get_ice(engine), error))
    goto fail;
  /* Let the jitter buffer tell the depayloader about packets it gave up on,
   * so the depayloader asks the sender for a key frame (PLI) at once instead
   * of freezing until the next periodic one (webrtcbin leaves do-lost off). */
  {
    g_autoptr(GstElement) rtpbin = gst_bin_get_by_name(GST_BIN(peer->webrtc), "rtpbin");
    if (rtpbin != NULL)
      g_object_set(rtpbin, "do-lost", TRUE, NULL);
  }

  ar_peer_configure_ice(peer);
  peer->stats = ar_peer_stats_new(peer->webrtc, peer->context, direction == AR_PEER_SEND);
  if (direction == AR_PEER_RECV)
    ar_peer_stats_set_jitter(peer->stats, cfg->jitter_latency_ms);

  g_signal_connect(peer->webrtc, "on-ice-candidate", G_CALLBACK(ar_peer_on_ice_candidate), peer);
  g_signal_connect(peer->webrtc, "notify::ice-gathering-state",
                   G_CALLBACK(ar_peer_on_gathering_state), peer);
  g_signal_connect(peer->webrtc, "notify::connection-state", G_CALLBACK(ar_peer_on_webrtc_state),
                   peer);
  g_signal_connect(peer->webrtc, "notify::ice-connection-state",
                   G_CALLBACK(ar_peer_on_webrtc_state), peer);
  g_signal_connect(peer->webrtc, "on-new-transceiver", G_CALLBACK(ar_peer_on_new_transceiver),
                   peer);
  g_signal_connect(peer->webrtc, "pad-added", G_CALLBACK(ar_peer_on_pad_added), peer);

  if (direction == AR_PEER_SEND) {
    if (!ar_peer_build_send(peer, engine, error))
      goto fail;
  } else {
    /* Decoding costs the most CPU of a call: only when anyroomd itself shows
     * the picture (a window), not when the room screen decodes it. */
    peer->decode_video = ar_media_engine_decodes_received_video(engine);
    if (!peer->decode_video && ar_media_engine_has_video_sink(engine))
      peer->tap = ar_video_tap_new(engine, peer->label, FALSE, AR_VIDEO_CODEC_AUTO, peer->context);
    if (peer->decode_video &&
        (peer->video_out = ar_peer_make_video_out(peer, engine, error)) == NULL)
      goto fail;
    peer->audio_out = ar_peer_make_audio_out(peer, engine, error);
    if (peer->audio_out == NULL)
      goto fail;
  }

  bus = gst_pipeline_get_bus(GST_PIPELINE(peer->pipeline));
  peer->bus_source = gst_bus_create_watch(bus);
  g_source_set_callback(peer->bus_source, (GSourceFunc)(void (*)(void))ar_peer_on_bus, peer, NULL);
  g_source_attach(peer->bus_source, peer->context);
  peer->engine = engine;
  ar_media_engine_add_peer(engine, peer);
  GST_DEBUG("peer %s: created (%s)", peer->label, direction == AR_PEER_SEND ? "send" : "recv");
  return peer;

fail:
  g_prefix_error(error, "Cannot create the %s peer: ", peer->label);
  /* The caller never saw this peer: no callback. */
  memset(&peer->cb, 0, sizeof(peer->cb));
  ar_peer_free(peer);
  return NULL;
}

gboolean
ar_peer_check_usable(ArPeer *peer, GError **error)
{
  if (peer == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "No peer");
    return FALSE;
  }
  if (ar_peer_state_is_terminal(peer->state)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "Peer %s is %s", peer->label,
                ar_peer_state_to_string(peer->state));
    return FALSE;
  }
  return TRUE;
}

gboolean
ar_peer_start_pipeline(ArPeer *peer, GError **error)
{
  if (peer->started)
    return TRUE;
  if (gst_element_set_state(peer->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                "The %s pipeline refused to start (is a device busy or missing?)", peer->label);
    gst_element_set_state(peer->pipeline, GST_STATE_NULL);
    return FALSE;
  }
  peer->started = TRUE;
  ar_peer_stats_start(peer->stats);
  ar_peer_set_state(peer, AR_PEER_STATE_CONNECTING, NULL);
  return TRUE;
}

void
ar_peer_set_offering(ArPeer *peer)
{
  g_return_if_fail(peer != NULL && !peer->started);
  peer->offers = TRUE;
}

gboolean
ar_peer_add_ice(ArPeer *peer, const ArIceConfig *ice, GError **error)
{
  g_autofree char *stun = NULL;
  if (!ar_peer_check_usable(peer, error))
    return FALSE;
  if (ice == NULL)
    return TRUE;
  /* webrtcbin answers "" for none. */
  g_object_get(peer->webrtc, "stun-server", &stun, NULL);
  ArIceConfig more = {.stun = stun == NULL || stun[0] == '\0' ? ice->stun : NULL,
                      .turn = ice->turn,
                      .relay_only = FALSE};
  return ar_peer_apply_ice(peer, &more, error);
}

/* A RECV peer that offers: one recvonly transceiver per kind, with the codecs the room decodes
 * (the answer picks). */
static gboolean
ar_peer_add_recv_transceivers(ArPeer *peer, GError **error)
{
  static const char *const caps_text[] = {
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,"
      "encoding-params=(string)2",
      "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96;"
      "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=102,"
      "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
      "level-asymmetry-allowed=(string)1",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(caps_text); i++) {
    g_autoptr(GstCaps) caps = gst_caps_from_string(caps_text[i]);
    GstWebRTCRTPTransceiver *trans = NULL;
    g_signal_emit_by_name(peer->webrtc, "add-transceiver",
                          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    if (trans == NULL) {
      g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_PIPELINE,
                  "Cannot add a receive-only %s transceiver", i == 0 ? "audio" : "video");
      return FALSE;
    }
    gst_object_unref(trans);
  }
  return TRUE;
}

gboolean
ar_peer_start(ArPeer *peer, GError **error)
{
  gboolean ok;

  if (!ar_peer_check_usable(peer, error))
    return FALSE;
  if (peer->started)
    return TRUE;
  /* The CONNECTING callback may close or free the peer. */
  ar_peer_ref(peer);
  ok = ar_peer_start_pipeline(peer, error);
  if (ok && peer->offers && peer->direction == AR_PEER_RECV)
    ok = ar_peer_add_recv_transceivers(peer, error);
  if (ok && peer->offers && !ar_peer_is_closed(peer)) {
    ar_peer_emit_with_promise(peer, "create-offer", NULL, ar_peer_on_description_created,
                              ar_peer_ref(peer), (GDestroyNotify)ar_peer_unref);
  }
  ar_peer_unref(peer);
  return ok;
}

ArPeerState
ar_peer_get_state(ArPeer *peer)
{
  return peer != NULL ? peer->state : AR_PEER_STATE_CLOSED;
}

ArPeerDirection
ar_peer_get_direction(ArPeer *peer)
{
  return peer != NULL ? peer->direction : AR_PEER_RECV;
}

const char *
ar_peer_get_label(ArPeer *peer)
{
  return peer != NULL ? peer->label : "";
}

GArray *
ar_peer_get_stats(ArPeer *peer)
{
  if (peer == NULL || peer->stats == NULL)
    return g_array_new(FALSE, TRUE, sizeof(ArTrackStats));
  GArray *tracks = ar_peer_stats_snapshot(peer->stats);
  ar_peer_rate_fill_stats(peer, tracks);
  return tracks;
}

char *
ar_peer_get_ice_path(ArPeer *peer)
{
  return peer != NULL ? ar_peer_stats_get_ice_path(peer->stats) : NULL;
}

void
ar_peer_close(ArPeer *peer)
{
  GQueue pending = G_QUEUE_INIT;
  GSource *source;

  if (peer == NULL)
    return;
  g_mutex_lock(&peer->lock);
  if (peer->closed) {
    g_mutex_unlock(&peer->lock);
    return;
  }
  g_atomic_int_set(&peer->closed, TRUE);
  pending = peer->pending;
  g_queue_init(&peer->pending);
  g_mutex_unlock(&peer->lock);
  if (peer->engine != NULL)
    ar_media_engine_remove_peer(peer->engine, peer);
  peer->engine = NULL;

  /* Nothing posted before the close runs after it. */
  while ((source = g_queue_pop_head(&pending)) != NULL) {
    g_source_destroy(source);
    g_source_unref(source);
  }
  if (peer->bus_source != NULL) {
    g_source_destroy(peer->bus_source);
    g_clear_pointer(&peer->bus_source, g_source_unref);
  }
  ar_video_tap_close(peer->tap);
  ar_peer_stop_pipeline(peer);
  /* Let go of the capture: the camera stays open for whoever holds it. */
  if (peer->capture != NULL) {
    ar_capture_remove_source(peer->capture, peer->video_source);
    ar_capture_remove_source(peer->capture, peer->audio_source);
    ar_capture_remove_source(peer->capture, peer->speaker_input);
    peer->video_source = peer->audio_source = peer->speaker_input = NULL;
    g_clear_pointer(&peer->capture, ar_capture_unref);
  }
  /* The pipeline is in NULL: no GStreamer thread runs our handlers any more. */
  ar_peer_unwatch_transports(peer);
  if (peer->webrtc != NULL)
    g_signal_handlers_disconnect_by_data(peer->webrtc, peer);

  if (peer->state != AR_PEER_STATE_CLOSED) {
    void (*cb)(ArPeer *, ArPeerState, const GError *, gpointer) = peer->cb.state_changed;

    GST_INFO("peer %s: %s -> closed", peer->label, ar_peer_state_to_string(peer->state));
    peer->state = AR_PEER_STATE_CLOSED;
    if (cb != NULL)
      cb(peer, AR_PEER_STATE_CLOSED, NULL, peer->user_data);
  }
}

void
ar_peer_free(ArPeer *peer)
{
  if (peer == NULL)
    return;
  ar_peer_close(peer);
  ar_peer_unref(peer);
}
