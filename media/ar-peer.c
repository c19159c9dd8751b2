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
 * Security: webrtcbin does not check the DTLS certificate against the SDP
 * a=fingerprint. We do, when each DTLS transport reaches "connected"; until
 * the check passed, RTP is dropped at webrtcbin's pads (nothing is sent to, or
 * decoded from, an unverified peer), and CONNECTED is reported only after it.
 */
#include "ar-peer-priv.h"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <string.h>

#define AR_PEER_MAX_MLINE 64

typedef struct {
  ArPeer *peer;
  GSource *source;
  ArPeerCallFunc func;
  gpointer data;
  GDestroyNotify data_free;
} ArPeerCall;

static ArPeer *
ar_peer_ref(ArPeer *peer)
{
  g_atomic_int_inc(&peer->ref_count);
  return peer;
}

static void
ar_peer_unref(ArPeer *peer)
{
  if (peer == NULL || !g_atomic_int_dec_and_test(&peer->ref_count))
    return;
  g_clear_pointer(&peer->stats, ar_peer_stats_free);
  g_clear_pointer(&peer->rate, ar_rate_free);
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

/* ---- ICE candidates ---- */

typedef struct {
  guint mline;
  char *candidate; /* NULL = end of candidates */
} ArPeerCandidate;

static void
ar_peer_candidate_free(gpointer data)
{
  ArPeerCandidate *c = data;

  g_free(c->candidate);
  g_free(c);
}

static void
ar_peer_local_candidate_in_context(ArPeer *peer, gpointer data)
{
  ArPeerCandidate *c = data;

  if (ar_peer_state_is_terminal(peer->state))
    return;
  if (!peer->local_set) {
    /* Providers send the description first: keep candidates until then. */
    ArPeerCandidate *copy = g_new0(ArPeerCandidate, 1);

    copy->mline = c->mline;
    copy->candidate = g_strdup(c->candidate);
    g_ptr_array_add(peer->early_candidates, copy);
    return;
  }
  if (c->candidate == NULL) {
    if (peer->gathering_done)
      return;
    peer->gathering_done = TRUE;
  }
  if (peer->cb.local_candidate != NULL)
    peer->cb.local_candidate(peer, c->mline, c->candidate, peer->user_data);
}

/* webrtcbin thread. */
static void
ar_peer_on_ice_candidate(GstElement *webrtc, guint mline, const char *candidate, gpointer user_data)
{
  ArPeerCandidate *c;

  if (candidate == NULL || *candidate == '\0')
    return;
  c = g_new0(ArPeerCandidate, 1);
  c->mline = mline;
  c->candidate = g_str_has_prefix(candidate, "a=") ? g_strdup(candidate + 2) : g_strdup(candidate);
  ar_peer_post(user_data, ar_peer_local_candidate_in_context, c, ar_peer_candidate_free);
}

/* webrtcbin thread. */
static void
ar_peer_on_gathering_state(GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCICEGatheringState st = GST_WEBRTC_ICE_GATHERING_STATE_NEW;

  g_object_get(webrtc, "ice-gathering-state", &st, NULL);
  if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    ar_peer_post(user_data, ar_peer_local_candidate_in_context, g_new0(ArPeerCandidate, 1),
                 ar_peer_candidate_free);
}

/* ---- offer / answer ---- */

typedef struct {
  GstWebRTCSDPType type;
  char *sdp;
} ArPeerDescription;

static void
ar_peer_description_free(gpointer data)
{
  ArPeerDescription *d = data;

  g_free(d->sdp);
  g_free(d);
}

static void
ar_peer_local_description_in_context(ArPeer *peer, gpointer data)
{
  ArPeerDescription *d = data;

  if (ar_peer_state_is_terminal(peer->state))
    return;
  peer->local_set = TRUE;
  if (peer->remote_set)
    ar_peer_descriptions_applied(peer);
  if (peer->cb.local_description != NULL)
    peer->cb.local_description(peer, gst_webrtc_sdp_type_to_string(d->type), d->sdp,
                               peer->user_data);
  /* Then the candidates gathered meanwhile (the callback may have closed us). */
  while (!ar_peer_is_closed(peer) && !ar_peer_state_is_terminal(peer->state) &&
         peer->early_candidates->len > 0) {
    ArPeerCandidate *c = g_ptr_array_steal_index(peer->early_candidates, 0);

    ar_peer_local_candidate_in_context(peer, c);
    ar_peer_candidate_free(c);
  }
}

static void
ar_peer_remote_applied_in_context(ArPeer *peer, gpointer data)
{
  if (ar_peer_state_is_terminal(peer->state))
    return;
  peer->remote_set = TRUE;
  if (peer->local_set)
    ar_peer_descriptions_applied(peer);
}

/* Returns the error of a webrtcbin promise reply, or NULL if it succeeded. */
static char *
ar_promise_error(GstPromise *promise, GstPromiseResult result, const char *what)
{
  const GstStructure *reply;
  g_autoptr(GError) error = NULL;

  if (result != GST_PROMISE_RESULT_REPLIED)
    return g_strdup_printf("%s was interrupted", what);
  reply = gst_promise_get_reply(promise);
  if (reply != NULL && gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
    return g_strdup_printf("%s failed: %s", what, error != NULL ? error->message : "unknown");
  }
  return NULL;
}

/* Emits a webrtcbin action taking (pointer @arg, GstPromise); @func gets
 * @data, freed with @data_free when webrtcbin drops the promise. */
static void
ar_peer_emit_with_promise(ArPeer *peer, const char *action, gpointer arg, GstPromiseChangeFunc func,
                          gpointer data, GDestroyNotify data_free)
{
  GstPromise *promise = gst_promise_new_with_change_func(func, data, data_free);

  g_signal_emit_by_name(peer->webrtc, action, arg, promise);
  gst_promise_unref(promise);
}

typedef struct {
  ArPeer *peer;
  ArPeerDescription *desc;
} ArPeerLocalApply;

static void
ar_peer_local_apply_free(gpointer data)
{
  ArPeerLocalApply *a = data;

  if (a->desc != NULL)
    ar_peer_description_free(a->desc);
  ar_peer_unref(a->peer);
  g_free(a);
}

/* webrtcbin thread: the local description was applied. */
static void
ar_peer_on_local_applied(GstPromise *promise, gpointer user_data)
{
  ArPeerLocalApply *a = user_data;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise), "Applying the local description");
  if (err != NULL) {
    ar_peer_post_failure(a->peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  ar_peer_post(a->peer, ar_peer_local_description_in_context, g_steal_pointer(&a->desc),
               ar_peer_description_free);
}

/* webrtcbin thread: create-offer / create-answer replied. */
static void
ar_peer_on_description_created(GstPromise *promise, gpointer user_data)
{
  ArPeer *peer = user_data;
  const char *field = peer->offers ? "offer" : "answer";
  const GstStructure *reply;
  GstWebRTCSessionDescription *desc = NULL;
  ArPeerLocalApply *apply;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise),
                         peer->offers ? "Creating the offer" : "Creating the answer");
  if (err == NULL) {
    reply = gst_promise_get_reply(promise);
    if (reply == NULL ||
        !gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL) ||
        desc == NULL)
      err = g_strdup_printf("webrtcbin returned no %s", field);
  }
  if (err != NULL) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  if (ar_peer_is_closed(peer)) {
    gst_webrtc_session_description_free(desc);
    return;
  }

  apply = g_new0(ArPeerLocalApply, 1);
  apply->peer = ar_peer_ref(peer);
  apply->desc = g_new0(ArPeerDescription, 1);
  apply->desc->type = desc->type;
  apply->desc->sdp = gst_sdp_message_as_text(desc->sdp);
  ar_peer_emit_with_promise(peer, "set-local-description", desc, ar_peer_on_local_applied, apply,
                            ar_peer_local_apply_free);
  gst_webrtc_session_description_free(desc);
}

/* webrtcbin thread: the remote description was applied. */
static void
ar_peer_on_remote_applied(GstPromise *promise, gpointer user_data)
{
  ArPeer *peer = user_data;
  g_autofree char *err = NULL;

  err = ar_promise_error(promise, gst_promise_wait(promise), "Applying the remote description");
  if (err != NULL) {
    ar_peer_post_failure(peer, AR_MEDIA_ERROR_SDP, err);
    return;
  }
  ar_peer_post(peer, ar_peer_remote_applied_in_context, NULL, NULL);
  if (!peer->offers && !ar_peer_is_closed(peer))
    ar_peer_emit_with_promise(peer, "create-answer", NULL, ar_peer_on_description_created,
                              ar_peer_ref(peer), (GDestroyNotify)ar_peer_unref);
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

static gboolean
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

static gboolean
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

/* Key frame requests leave as PLI, never FIR. GStreamer 1.22's rtpsession
 * turns our upstream force-key-unit into an RTCP FIR whenever the remote side
 * announced "a=rtcp-fb:PT ccm fir" (Janus does), and Janus 1.1 then asked the
 * publisher for nothing: a lost key frame froze the picture until Janus's
 * periodic one (fir_freq, 10 s in the lab). Without the ccm fir attribute the
 * session sends a PLI, which every SFU and browser honours. */
static void
ar_sdp_drop_fir(GstSDPMessage *msg)
{
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    GstSDPMedia *media = (GstSDPMedia *)gst_sdp_message_get_media(msg, i);

    for (guint j = gst_sdp_media_attributes_len(media); j > 0; j--) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, j - 1);

      if (g_strcmp0(a->key, "rtcp-fb") == 0 && a->value != NULL &&
          g_str_has_suffix(a->value, " ccm fir"))
        gst_sdp_media_remove_attribute(media, j - 1);
    }
  }
}

gboolean
ar_peer_set_remote_description(ArPeer *peer, const char *type, const char *sdp, GError **error)
{
  GstWebRTCSDPType sdp_type;
  g_autoptr(GstSDPMessage) msg = NULL;
  g_auto(GStrv) fingerprints = NULL;
  GstWebRTCSessionDescription *desc;
  gsize len;

  if (!ar_peer_check_usable(peer, error))
    return FALSE;
  if (type == NULL || sdp == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "No remote description");
    return FALSE;
  }
  if (peer->offers && g_str_equal(type, "answer")) {
    sdp_type = GST_WEBRTC_SDP_TYPE_ANSWER;
  } else if (!peer->offers && g_str_equal(type, "offer")) {
    sdp_type = GST_WEBRTC_SDP_TYPE_OFFER;
  } else {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "A peer that %s cannot take a remote description of type '%.16s'",
                peer->offers ? "made the offer" : "answers", type);
    return FALSE;
  }
  if (peer->remote_fingerprints != NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP,
                "The remote description was already set (renegotiation is not supported)");
    return FALSE;
  }
  len = strnlen(sdp, AR_MEDIA_MAX_SDP_SIZE + 1);
  if (len > AR_MEDIA_MAX_SDP_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP larger than %d bytes",
                AR_MEDIA_MAX_SDP_SIZE);
    return FALSE;
  }
  if (gst_sdp_message_new(&msg) != GST_SDP_OK ||
      gst_sdp_message_parse_buffer((const guint8 *)sdp, (guint)len, msg) != GST_SDP_OK) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP does not parse");
    return FALSE;
  }
  if (gst_sdp_message_medias_len(msg) == 0) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP, "Remote SDP has no media");
    return FALSE;
  }
  fingerprints = ar_sdp_get_fingerprints(sdp, error);
  if (fingerprints == NULL) {
    g_prefix_error(error, "Remote SDP: ");
    return FALSE;
  }
  /* The CONNECTING callback may close or free the peer. */
  ar_peer_ref(peer);
  if (!ar_peer_start_pipeline(peer, error)) {
    ar_peer_unref(peer);
    return FALSE;
  }
  if (ar_peer_is_closed(peer)) {
    ar_peer_unref(peer);
    return TRUE;
  }

  peer->remote_mlines = gst_sdp_message_medias_len(msg);
  peer->remote_fingerprints = g_steal_pointer(&fingerprints);
  if (peer->direction == AR_PEER_RECV)
    ar_sdp_drop_fir(msg);
  desc = gst_webrtc_session_description_new(sdp_type, g_steal_pointer(&msg));
  ar_peer_emit_with_promise(peer, "set-remote-description", desc, ar_peer_on_remote_applied,
                            ar_peer_ref(peer), (GDestroyNotify)ar_peer_unref);
  gst_webrtc_session_description_free(desc);
  ar_peer_unref(peer);
  return TRUE;
}

static gboolean
ar_candidate_is_valid(const char *c)
{
  if (!g_str_has_prefix(c, "candidate:") || c[strlen("candidate:")] == '\0')
    return FALSE;
  for (const char *p = c; *p; p++) {
    if (*p < 0x20 || *p > 0x7e)
      return FALSE;
  }
  return TRUE;
}

gboolean
ar_peer_add_remote_candidate(ArPeer *peer, guint mline_index, const char *candidate, GError **error)
{
  gsize len;

  if (peer == NULL) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED, "No peer");
    return FALSE;
  }
  if (candidate == NULL || *candidate == '\0')
    return TRUE; /* end of candidates: libnice needs nothing */
  len = strnlen(candidate, AR_MEDIA_MAX_CANDIDATE_SIZE + 1);
  if (len > AR_MEDIA_MAX_CANDIDATE_SIZE) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Remote ICE candidate larger than %d bytes", AR_MEDIA_MAX_CANDIDATE_SIZE);
    return FALSE;
  }
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  if (!ar_candidate_is_valid(candidate)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Malformed remote ICE candidate (expected printable \"candidate:...\")");
    return FALSE;
  }
  if (mline_index >= AR_PEER_MAX_MLINE ||
      (peer->remote_mlines > 0 && mline_index >= peer->remote_mlines)) {
    g_set_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE,
                "Remote ICE candidate for m-line %u, which does not exist", mline_index);
    return FALSE;
  }
  if (ar_peer_state_is_terminal(peer->state))
    return TRUE; /* too late to matter */
  g_signal_emit_by_name(peer->webrtc, "add-ice-candidate", mline_index, candidate);
  return TRUE;
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
