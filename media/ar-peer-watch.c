/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-watch.c: what a peer watches once it runs (ar-peer.c has the rest):
 *   - dead-peer detection: media or RTCP from the far end, checked every
 *     second; the local address going away; the connect deadline;
 *   - DTLS: each transport's certificate checked against the remote SDP's
 *     a=fingerprint when it connects (webrtcbin does not), before CONNECTED.
 */
#include "ar-peer-priv.h"

#include <string.h>

/* From both descriptions applied to CONNECTED: ICE (with TURN) and DTLS. */
#define AR_PEER_CONNECT_TIMEOUT_S 30

/* ---- dead-peer detection ---- */

#define AR_PEER_LIVENESS_TICK_MS 500
#define AR_PEER_RTCP_INTERVAL_MS 1000

/* Streaming thread: anything the ICE transport delivered (STUN stays inside
 * libnice, so this is RTP, RTCP or DTLS from the remote peer). */
static GstPadProbeReturn
ar_peer_on_received(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  g_atomic_int_inc(&peer->rx_packets);
  return GST_PAD_PROBE_OK;
}

/* Any thread: tunes the RTCP interval of webrtcbin's RTP sessions and the
 * retransmission history of its RTX senders, and counts what each ICE
 * transport receives. */
static void
ar_peer_probe_element(const GValue *value, gpointer user_data)
{
  GstElement *element = g_value_get_object(value);
  GstElementFactory *factory = gst_element_get_factory(element);
  g_autoptr(GstPad) pad = NULL;

  if (factory == NULL)
    return;
  /* Regular RTCP every ~1 s instead of rtpsession's 5 s minimum (SAVPF
   * allows it; browsers send video RTCP every second): a remote sender that
   * hears only our receiver reports then never meets a silence near the
   * dead-peer timeout (with 5 s, randomized up to 6.2 s, it would). */
  if (g_str_equal(GST_OBJECT_NAME(factory), "rtpsession")) {
    g_object_set(element, "rtcp-min-interval", (guint64)AR_PEER_RTCP_INTERVAL_MS * GST_MSECOND,
                 NULL);
    return;
  }
  /* Our retransmissions, within a budget (ar-peer-rate.c). */
  if (g_str_equal(GST_OBJECT_NAME(factory), "rtprtxsend")) {
    /* Until the first round trip is measured (ar-peer-rate.c). */
    g_object_set(element, "max-size-time", (guint)AR_PEER_RTX_HISTORY_MS, NULL);
    ar_peer_rate_watch_rtx(user_data, element);
    return;
  }
  if (!g_str_equal(GST_OBJECT_NAME(factory), "nicesrc") ||
      g_object_get_data(G_OBJECT(element), "ar-peer-liveness") != NULL)
    return;
  g_object_set_data(G_OBJECT(element), "ar-peer-liveness", user_data);
  pad = gst_element_get_static_pad(element, "src");
  if (pad != NULL)
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                      ar_peer_on_received, user_data, NULL);
}

/* Any thread: webrtcbin adds a transportreceivebin (with its nicesrc) per
 * transport when a description is applied. */
void
ar_peer_watch_on_deep_element_added(GstBin *bin, GstBin *sub_bin, GstElement *element,
                                    gpointer user_data)
{
  GValue value = G_VALUE_INIT;

  g_value_init(&value, GST_TYPE_ELEMENT);
  g_value_set_object(&value, element);
  ar_peer_probe_element(&value, user_data);
  g_value_unset(&value);
  if (GST_IS_BIN(element)) {
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(element));

    while (gst_iterator_foreach(it, ar_peer_probe_element, user_data) == GST_ITERATOR_RESYNC)
      gst_iterator_resync(it);
    gst_iterator_free(it);
  }
}

static gboolean
ar_peer_on_liveness_tick(gpointer user_data)
{
  ArPeer *peer = user_data;
  gint n = g_atomic_int_get(&peer->rx_packets);
  gint64 now = g_get_monotonic_time();
  gint64 gap = now - peer->rx_last_time;

  if (n != peer->rx_seen) {
    if (gap > 2 * G_USEC_PER_SEC)
      GST_INFO("peer %s: the remote peer is heard again after %.1f s of silence", peer->label,
               (double)gap / G_USEC_PER_SEC);
    peer->rx_seen = n;
    peer->rx_last_time = now;
    return G_SOURCE_CONTINUE;
  }
  peer->rx_longest_gap = MAX(peer->rx_longest_gap, gap);
  if (gap < (gint64)AR_PEER_DEAD_TIMEOUT_S * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  /* The source ends with this return: ar_peer_fail must not destroy it. */
  g_clear_pointer(&peer->liveness_timer, g_source_unref);
  GST_WARNING("peer %s: nothing from the remote peer for %.1f s", peer->label,
              (double)gap / G_USEC_PER_SEC);
  ar_peer_fail(peer, AR_MEDIA_ERROR_DEAD_PEER, "No media or RTCP from the remote peer for %d s",
               AR_PEER_DEAD_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

void
ar_peer_turn_tls_refused(ArPeer *peer, const char *message)
{
  if (peer->state != AR_PEER_STATE_NEW && peer->state != AR_PEER_STATE_CONNECTING)
    return;
  ar_peer_fail(peer, AR_MEDIA_ERROR_TURN_TLS, "%s", message);
}

/* The machine lost @address. If the connection used it (or may have: a
 * relayed or server-reflexive candidate whose base we do not know, or no
 * pair known yet), it is dead: fail now rather than after the dead-peer
 * timeout, so the call can be rebuilt on the new address at once. */
static void
ar_peer_on_address_gone(const char *address, gpointer user_data)
{
  ArPeer *peer = user_data;
  gboolean is_host = FALSE;
  g_autofree char *local = NULL;

  if (peer->state != AR_PEER_STATE_CONNECTED || ar_peer_is_closed(peer))
    return;
  if (g_str_has_prefix(address, "127.") || g_str_equal(address, "::1"))
    return;
  local = ar_peer_stats_get_local_address(peer->stats, &is_host);
  if (local != NULL && is_host && !g_str_equal(local, address)) {
    GST_INFO("peer %s: address %s went away; the connection uses %s", peer->label, address, local);
    return;
  }
  GST_WARNING("peer %s: the local address %s went away (connection on %s %s)", peer->label, address,
              local != NULL ? (is_host ? "host" : "non-host candidate") : "an unknown",
              local != NULL ? local : "address");
  ar_peer_fail(peer, AR_MEDIA_ERROR_NETWORK, "the room's network address %s went away", address);
}

static void
ar_peer_arm_liveness(ArPeer *peer)
{
  if (peer->liveness_timer != NULL || peer->state != AR_PEER_STATE_CONNECTED ||
      ar_peer_is_closed(peer))
    return;
  peer->rx_seen = g_atomic_int_get(&peer->rx_packets);
  peer->rx_last_time = g_get_monotonic_time();
  peer->rx_longest_gap = 0;
  ar_peer_rate_arm(peer);
  peer->liveness_timer = ar_media_timer_attach(AR_PEER_LIVENESS_TICK_MS, "ar-peer-liveness",
                                               ar_peer_on_liveness_tick, peer, peer->context);
  if (peer->netwatch == NULL) {
    g_autoptr(GError) error = NULL;

    peer->netwatch = ar_netwatch_source_new(ar_peer_on_address_gone, peer, &error);
    if (peer->netwatch != NULL)
      g_source_attach(peer->netwatch, peer->context);
    else
      GST_INFO("peer %s: address changes not watched: %s", peer->label, error->message);
  }
}

static void
ar_peer_maybe_connected(ArPeer *peer)
{
  if (peer->state != AR_PEER_STATE_CONNECTING)
    return;
  if (!peer->webrtc_connected || !ar_peer_all_verified(peer))
    return;
  ar_peer_disarm_connect_timer(peer);
  ar_peer_set_state(peer, AR_PEER_STATE_CONNECTED, NULL);
  /* The callback may have closed the peer: then nothing is armed. */
  ar_peer_arm_liveness(peer);
}

static gboolean
ar_peer_on_connect_timeout(gpointer user_data)
{
  ArPeer *peer = user_data;

  g_clear_pointer(&peer->connect_timer, g_source_unref);
  ar_peer_fail(peer, AR_MEDIA_ERROR_TIMEOUT,
               "No connection to the remote peer within %d s (ICE or DTLS did not complete)",
               AR_PEER_CONNECT_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* Main context: both descriptions are applied; the connection must follow. */
void
ar_peer_descriptions_applied(ArPeer *peer)
{
  if (peer->connect_timer == NULL && peer->state == AR_PEER_STATE_CONNECTING) {
    peer->connect_timer = g_timeout_source_new_seconds(AR_PEER_CONNECT_TIMEOUT_S);
    g_source_set_static_name(peer->connect_timer, "ar-peer-connect-timeout");
    g_source_set_callback(peer->connect_timer, ar_peer_on_connect_timeout, peer, NULL);
    g_source_attach(peer->connect_timer, peer->context);
  }
  ar_peer_watch_transports(peer);
}

/* ---- DTLS fingerprint verification ---- */

/* Main context: the transport @w reached "connected": check its certificate. */
static void
ar_peer_verify_transport(ArPeer *peer, ArWatchedTransport *w)
{
  g_autofree char *pem = NULL;
  g_autoptr(GError) error = NULL;

  if (w->verified || ar_peer_state_is_terminal(peer->state))
    return;
  if (peer->remote_fingerprints == NULL) {
    /* Cannot happen through the API (the remote SDP comes first), but never
     * let media through unverified. */
    ar_peer_fail(peer, AR_MEDIA_ERROR_FINGERPRINT,
                 "DTLS connected before a remote SDP fingerprint was known");
    return;
  }
  g_object_get(w->transport, "remote-certificate", &pem, NULL);
  if (!ar_fingerprint_verify(pem, (const char *const *)peer->remote_fingerprints, &error)) {
    ar_peer_fail(peer, AR_MEDIA_ERROR_FINGERPRINT, "%s", error->message);
    return;
  }
  GST_INFO("peer %s: DTLS certificate matches %s", peer->label, peer->remote_fingerprints[0]);
  w->verified = TRUE;
  if (ar_peer_all_verified(peer)) {
    g_atomic_int_set(&peer->media_open, 1);
    /* Frames dropped before the check included the first key frame. */
    if (peer->video_send_pad != NULL)
      gst_pad_push_event(peer->video_send_pad,
                         gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  ar_peer_maybe_connected(peer);
}

static void
ar_peer_check_transports(ArPeer *peer)
{
  for (guint i = 0; i < peer->transports->len; i++) {
    ArWatchedTransport *w = &g_array_index(peer->transports, ArWatchedTransport, i);
    GstWebRTCDTLSTransportState st = GST_WEBRTC_DTLS_TRANSPORT_STATE_NEW;

    g_object_get(w->transport, "state", &st, NULL);
    if (st == GST_WEBRTC_DTLS_TRANSPORT_STATE_CONNECTED) {
      ar_peer_verify_transport(peer, w);
    } else if (st == GST_WEBRTC_DTLS_TRANSPORT_STATE_FAILED) {
      ar_peer_fail(peer, AR_MEDIA_ERROR_DTLS, "DTLS handshake with the remote peer failed");
    }
    if (ar_peer_state_is_terminal(peer->state))
      return;
  }
  ar_peer_maybe_connected(peer);
}

static void
ar_peer_dtls_changed_in_context(ArPeer *peer, gpointer data)
{
  ar_peer_check_transports(peer);
}

/* DTLS thread. */
static void
ar_peer_on_dtls_state(GObject *transport, GParamSpec *pspec, gpointer user_data)
{
  ArPeer *peer = user_data;

  ar_peer_post(peer, ar_peer_dtls_changed_in_context, NULL, NULL);
}

static void
ar_peer_watch_transport(ArPeer *peer, GstWebRTCDTLSTransport *transport)
{
  ArWatchedTransport w = {0};

  if (transport == NULL)
    return;
  for (guint i = 0; i < peer->transports->len; i++) {
    if (g_array_index(peer->transports, ArWatchedTransport, i).transport == transport)
      return;
  }
  w.transport = gst_object_ref(transport);
  w.handler = g_signal_connect(transport, "notify::state", G_CALLBACK(ar_peer_on_dtls_state), peer);
  g_array_append_val(peer->transports, w);
  GST_DEBUG("peer %s: watching DTLS transport %p", peer->label, transport);
}

/* Main context: finds the DTLS transports of all transceivers (one with
 * max-bundle) and checks their state. */
void
ar_peer_watch_transports(ArPeer *peer)
{
  GArray *transceivers = NULL;

  if (peer->webrtc == NULL || ar_peer_state_is_terminal(peer->state))
    return;
  g_signal_emit_by_name(peer->webrtc, "get-transceivers", &transceivers);
  for (guint i = 0; transceivers != NULL && i < transceivers->len; i++) {
    GstWebRTCRTPTransceiver *trans = g_array_index(transceivers, GstWebRTCRTPTransceiver *, i);
    g_autoptr(GstWebRTCRTPReceiver) receiver = NULL;
    g_autoptr(GstWebRTCRTPSender) sender = NULL;
    g_autoptr(GstWebRTCDTLSTransport) rt = NULL;
    g_autoptr(GstWebRTCDTLSTransport) st = NULL;

    g_object_get(trans, "receiver", &receiver, "sender", &sender, NULL);
    if (receiver != NULL)
      g_object_get(receiver, "transport", &rt, NULL);
    if (sender != NULL)
      g_object_get(sender, "transport", &st, NULL);
    ar_peer_watch_transport(peer, rt);
    ar_peer_watch_transport(peer, st);
  }
  if (transceivers != NULL)
    g_array_unref(transceivers);
  ar_peer_check_transports(peer);
}

void
ar_peer_unwatch_transports(ArPeer *peer)
{
  for (guint i = 0; peer->transports != NULL && i < peer->transports->len; i++) {
    ArWatchedTransport *w = &g_array_index(peer->transports, ArWatchedTransport, i);

    g_clear_signal_handler(&w->handler, w->transport);
    gst_clear_object(&w->transport);
  }
  if (peer->transports != NULL)
    g_array_set_size(peer->transports, 0);
}
