/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-rate.c: a SEND peer's bandwidth adaptation (issue 14, part 2). While
 * the peer is connected, every AR_PEER_RATE_TICK_MS it hands the bandwidth
 * controller (ar-rate.c) what the far end reported of our video (RTCP receiver
 * reports: loss, round-trip time; REMB, from the RTP session's feedback) and
 * what we sent, and applies its answer to the encoder: the bitrate, and below
 * thresholds a smaller picture and a lower frame rate. Its probes of the
 * link: ar-peer-probe.c.
 */
#include "ar-peer-priv.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#define AR_PEER_RATE_TICK_MS 500
/* Retransmissions (answers to the far end's NACKs) take at most this share of
 * the target bitrate, and at least AR_PEER_RTX_MIN_KBPS, with a bucket of
 * AR_PEER_RTX_DEPTH_MS of it. Unbounded, they were what froze the far end
 * when a cap came: lost in the full queue, asked again, they took more than
 * the whole link (380 kbit/s of them under a 300 kbit/s cap). */
#define AR_PEER_RTX_SHARE 0.3
#define AR_PEER_RTX_MIN_KBPS 30.0
#define AR_PEER_RTX_DEPTH_MS 250.0
#define AR_PEER_RTX_KEY_EVERY_US (1500 * G_TIME_SPAN_MILLISECOND)

/* The RTP session's feedback (an RTCP thread): a REMB for our stream caps us. */
static void
ar_peer_on_feedback(GObject *session, guint type, guint fbtype, guint sender_ssrc, guint media_ssrc,
                    GstBuffer *fci, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstMapInfo map;
  guint64 bps = 0;
  gboolean ok;

  (void)session;
  (void)sender_ssrc;
  (void)media_ssrc;
  if (type != GST_RTCP_TYPE_PSFB || fbtype != GST_RTCP_PSFB_TYPE_AFB || fci == NULL)
    return;
  if (!gst_buffer_map(fci, &map, GST_MAP_READ))
    return;
  ok = ar_rate_parse_remb(map.data, map.size, &bps);
  gst_buffer_unmap(fci, &map);
  if (!ok)
    return;
  g_mutex_lock(&peer->lock);
  peer->remb_bps = bps;
  peer->remb_count++;
  g_mutex_unlock(&peer->lock);
}

/* The RTP session's incoming RTCP (an RTCP thread): the receiver report
 * blocks about our video, as they come (webrtcbin's stats lag a second). */
static void
ar_peer_on_rtcp(GObject *session, GstBuffer *buffer, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  gboolean more;

  (void)session;
  if (peer->video_ssrc == 0 || !gst_rtcp_buffer_map(buffer, GST_MAP_READ, &rtcp))
    return;
  for (more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    GstRTCPType type = gst_rtcp_packet_get_type(&packet);

    if (type != GST_RTCP_TYPE_RR && type != GST_RTCP_TYPE_SR)
      continue;
    for (guint i = 0; i < gst_rtcp_packet_get_rb_count(&packet); i++) {
      guint32 ssrc = 0, ehs, jitter, lsr, dlsr;
      guint8 fraction = 0;
      gint32 lost;

      gst_rtcp_packet_get_rb(&packet, i, &ssrc, &fraction, &lost, &ehs, &jitter, &lsr, &dlsr);
      if (ssrc != peer->video_ssrc)
        continue;
      g_mutex_lock(&peer->lock);
      peer->rr_loss = MAX(peer->rr_loss, fraction / 256.0);
      peer->rr_count++;
      g_mutex_unlock(&peer->lock);
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
}

static void ar_peer_rate_keys(ArPeer *peer, gint64 now);

/* The peer's context: a key frame request went to the encoder; one that goes
 * into a queue losing its packets is asked for again, held until the queue
 * drained, with the frames stopped meanwhile (ar_rate_take_key_again). */
static void
ar_peer_key_asked_in_context(ArPeer *peer, gpointer data)
{
  (void)data;
  if (peer->rate == NULL || peer->rate_timer == NULL) /* not connected (any more) */
    return;
  gint64 now = g_get_monotonic_time();
  ar_rate_on_key_request(peer->rate, now);
  ar_peer_rate_keys(peer, now);
}

/* A streaming thread: a key frame request on its way to the encoder (the far
 * end's PLI through the RTP session, or ours) waits while the controller says
 * the queue drains; one key frame goes when it has (ar_peer_rate_keys). */
static GstPadProbeReturn
ar_peer_on_key_request(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);

  (void)pad;
  if (event == NULL || !gst_video_event_is_force_key_unit(event))
    return GST_PAD_PROBE_OK;
  if (!ar_key_wait_holding(&peer->key_wait)) {
    ar_peer_post(peer, ar_peer_key_asked_in_context, NULL, NULL);
    return GST_PAD_PROBE_OK;
  }
  g_atomic_int_inc(&peer->key_held);
  ar_key_wait_arm(&peer->key_wait);
  return GST_PAD_PROBE_DROP;
}

/* The peer's context: a frame was not sent; the key frame goes once the queue
 * has room for it (ar_rate_on_key_wait). */
static void
ar_peer_key_wait_in_context(ArPeer *peer, gpointer data)
{
  gint64 now = g_get_monotonic_time();

  (void)data;
  if (peer->rate == NULL || peer->rate_timer == NULL) /* not connected (any more) */
    return;
  ar_rate_on_key_wait(peer->rate, now);
  GST_DEBUG("peer %s: a frame not sent while a key frame waits (key frames %s)", peer->label,
            ar_rate_key_frame_ok(peer->rate, now) ? "go" : "wait");
  ar_peer_rate_keys(peer, now);
}

/* The encoder's streaming thread: one encoded frame. */
static GstPadProbeReturn
ar_peer_on_encoded(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);

  (void)pad;
  if (buffer == NULL)
    return GST_PAD_PROBE_OK;
  gboolean delta = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (ar_key_wait_pass(&peer->key_wait, g_get_monotonic_time(), delta))
    return GST_PAD_PROBE_OK;
  /* A key frame not sent while key frames wait: one goes once they may. */
  if (!delta) {
    g_atomic_int_inc(&peer->key_held);
    GST_INFO("peer %s: a key frame made while key frames wait not sent: another once they may",
             peer->label);
  }
  ar_peer_post(peer, ar_peer_key_wait_in_context, NULL, NULL);
  return GST_PAD_PROBE_DROP;
}

void
ar_peer_rate_watch_frames(ArPeer *peer, GstPad *encoded)
{
  if (encoded != NULL)
    gst_pad_add_probe(encoded, GST_PAD_PROBE_TYPE_BUFFER, ar_peer_on_encoded, peer, NULL);
}

/* The peer's context, after the controller decided: the hold follows it, and
 * a key frame asked for while it held goes now. */
static void
ar_peer_rate_keys(ArPeer *peer, gint64 now)
{
  gboolean hold = !ar_rate_key_frame_ok(peer->rate, now);

  ar_key_wait_hold(&peer->key_wait, hold);
  /* TRUE only while key frames wait (taken after every decision, so none is left over). */
  if (ar_rate_take_key_again(peer->rate, now)) {
    g_atomic_int_inc(&peer->key_held);
    ar_key_wait_arm(&peer->key_wait);
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                     "peer %s: the last key frame went into a queue that loses packets: another "
                     "once it drained",
                     peer->label);
  }
  if (hold || peer->video_send_pad == NULL)
    return;
  guint held = g_atomic_int_and(&peer->key_held, 0u);
  if (held == 0)
    return;
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                   "peer %s: the queue drained: a key frame for the %u requests held meanwhile",
                   peer->label, held);
  gst_pad_push_event(peer->video_send_pad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

/* ar_peer_each_sent()'s: for each packet, @func with its number. */
typedef struct {
  ArPeer *peer;
  guint id;
  ArPeerSentFunc func;
  guint64 now_ns;
} ArPeerSent;

static gboolean
ar_peer_sent_one(GstBuffer **buffer, guint idx, gpointer data)
{
  const ArPeerSent *sent = data;
  guint16 seqnum;
  guint size;

  (void)idx;
  if (ar_rtp_buffer_twcc_seqnum(*buffer, sent->id, &seqnum, &size))
    sent->func(sent->peer, seqnum, size, sent->now_ns);
  return TRUE;
}

void
ar_peer_each_sent(ArPeer *peer, GstPadProbeInfo *info, guint id, ArPeerSentFunc func,
                  guint64 now_ns)
{
  ArPeerSent sent = {peer, id, func, now_ns};

  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach(GST_PAD_PROBE_INFO_BUFFER_LIST(info), ar_peer_sent_one, &sent);
  } else {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    ar_peer_sent_one(&buffer, 0, &sent);
  }
}

/* The peer's context: one window of transport-wide feedback. */
static void
ar_peer_twcc_in_context(ArPeer *peer, gpointer data)
{
  const ArRateTwcc *w = data;
  guint old_kbps;
  ArRateLevel old_level;

  if (peer->rate == NULL || peer->rate_timer == NULL) /* not connected (yet, or any more) */
    return;
  old_kbps = ar_rate_get_target_kbps(peer->rate);
  old_level = ar_rate_get_level(peer->rate);
  gint64 now = g_get_monotonic_time();
  gboolean changed = ar_rate_on_twcc(peer->rate, now, w);
  ar_peer_rate_keys(peer, now);
  if (ar_rate_probe_failing(peer->rate) && peer->probe_timer != NULL && peer->probe_ended_us == 0)
    peer->probe_ended_us = now; /* the queue it fills showed: the padding stops */
  ar_peer_probe_maybe_start(peer, now);
  GST_DEBUG("peer %s: transport-wide window: sent %.0f, arrived %.0f kbit/s, %u packets, loss "
            "%.1f %%, delay growth %.2f ms, queue %.1f ms; target %u kbit/s, ceiling %.0f kbit/s",
            peer->label, w->sent_kbps, w->recv_kbps, w->packets_sent, w->loss * 100.0,
            w->delay_growth_ms, w->queue_ms, ar_rate_get_target_kbps(peer->rate),
            ar_rate_get_ceiling_kbps(peer->rate));
  if (!changed)
    return;
  g_autofree char *why =
      g_strdup_printf("transport-wide feedback: sent %.0f, arrived %.0f kbit/s, loss %.0f %%, "
                      "delay growth %.2f ms, queue %.0f ms",
                      w->sent_kbps, w->recv_kbps, w->loss * 100.0, w->delay_growth_ms, w->queue_ms);
  ar_peer_rate_apply(peer, old_kbps, old_level, why);
}

/* Reads one packet of an RTPTWCCPackets event (GStreamer 1.22: seqnum,
 * local-ts, the send time, our socket's when it has it, remote-ts, the
 * arrival time, none when lost, and the payload's size); FALSE when it is
 * none. */
static gboolean
ar_peer_twcc_packet(const GValue *v, ArTwccPacket *p)
{
  const GstStructure *s = GST_VALUE_HOLDS_STRUCTURE(v) ? gst_value_get_structure(v) : NULL;
  guint seqnum = 0, size = 0;
  guint64 local = GST_CLOCK_TIME_NONE, remote = GST_CLOCK_TIME_NONE;

  if (s == NULL || !gst_structure_get_uint(s, "seqnum", &seqnum))
    return FALSE;
  gst_structure_get_uint64(s, "local-ts", &local);
  gst_structure_get_uint64(s, "remote-ts", &remote);
  gst_structure_get_uint(s, "size", &size);
  p->seqnum = (guint16)seqnum;
  p->sent_ns = GST_CLOCK_TIME_IS_VALID(local) ? local : AR_TWCC_TIME_NONE;
  p->arrive_ns = GST_CLOCK_TIME_IS_VALID(remote) ? remote : AR_TWCC_TIME_NONE;
  p->size = size;
  return TRUE;
}

/* A streaming thread: one of our packets leaves the RTP session; its
 * transport-wide number and the time go in our log. */
static void
ar_peer_log_sent(ArPeer *peer, guint16 seqnum, guint size, guint64 now_ns)
{
  ar_twcc_send_log_add(peer->twcc_log, seqnum, now_ns, size);
}

static GstPadProbeReturn
ar_peer_on_sent(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;
  guint64 now_ns = (guint64)g_get_monotonic_time() * 1000; /* (not the lock's wait) */

  (void)pad;
  g_mutex_lock(&peer->lock);
  if (peer->twcc_log != NULL)
    ar_peer_each_sent(peer, info, peer->twcc_log_id, ar_peer_log_sent, now_ns);
  g_mutex_unlock(&peer->lock);
  return GST_PAD_PROBE_OK;
}

/* A pad of the bundle's RTP session element (rtpbin's session 0), or NULL
 * before webrtcbin made it. */
GstPad *
ar_peer_session_pad(ArPeer *peer, const char *name)
{
  g_autoptr(GstElement) rtpbin = gst_bin_get_by_name(GST_BIN(peer->webrtc), "rtpbin");
  GstElement *session = NULL;
  GstPad *pad;

  if (rtpbin == NULL)
    return NULL;
  g_signal_emit_by_name(rtpbin, "get-session", 0u, &session);
  if (session == NULL)
    return NULL;
  pad = gst_element_get_static_pad(session, name);
  gst_object_unref(session);
  return pad;
}

/* The peer's context: feedback comes about packets the RTP session kept no
 * send time of. GStreamer's rtpfunnel can lose the caps that name our
 * extension to the session (a race between our two streams' first caps,
 * tests/unit/media/test-hdrext.c); the packets still carry our payloader's
 * numbers (the funnel keeps those of a single stream), so we note when each
 * leaves. Telling the session the id late would not do: it would number the
 * packets anew, and at that jump Janus reported thousands of packets lost,
 * then no feedback at all for the rest of the call (measured in the lab with
 * the session's id changed under a running call). */
static void
ar_peer_twcc_log_in_context(ArPeer *peer, gpointer data)
{
  g_autoptr(GstCaps) video = NULL;
  guint id;

  (void)data;
  if (peer->twcc_log_pad != NULL || peer->video_send_pad == NULL || peer->rtp_session == NULL)
    return;
  video = gst_pad_get_current_caps(peer->video_send_pad);
  id = ar_rtp_caps_twcc_id(video);
  if (id == 0 || (peer->twcc_log_pad = ar_peer_session_pad(peer, "send_rtp_src")) == NULL)
    return;
  g_mutex_lock(&peer->lock);
  peer->twcc_log = ar_twcc_send_log_new();
  peer->twcc_log_id = id;
  g_mutex_unlock(&peer->lock);
  peer->twcc_log_probe = gst_pad_add_probe(
      peer->twcc_log_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      ar_peer_on_sent, peer, NULL);
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "AR_MEDIA", "bandwidth", "MESSAGE",
                   "peer %s: the RTP session keeps no send times of our video (its caps never "
                   "named the transport-wide extension: GStreamer's rtpfunnel lost that update): "
                   "they are taken as the packets leave",
                   peer->label);
}

/* An RTCP thread: the packets of one transport-wide feedback as the RTP
 * session matched them with what it sent (its "RTPTWCCPackets" event, sent
 * upstream): a window for the controller (ar-twcc.h). GStreamer's own
 * window ("twcc-stats") is not used: it gives the growth of two packets'
 * delays, and in one lab call of 13 (2026-12-06) it gave no rates at all for
 * the whole call. */
static GstPadProbeReturn
ar_peer_on_twcc_packets(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  const GstStructure *s = event != NULL ? gst_event_get_structure(event) : NULL;
  guint reported = 0, timed = 0, untimed = 0;
  ArRateTwcc window;
  gboolean made = FALSE;

  if (s == NULL || !gst_structure_has_name(s, "RTPTWCCPackets"))
    return GST_PAD_PROBE_OK;
  /* GStreamer 1.22 gives the packets as a GValueArray (not a GstValueArray,
   * which gst_structure_get_array() reads). */
  const GValue *value = gst_structure_get_value(s, "packets");
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (value == NULL || G_VALUE_TYPE(value) != g_value_array_get_type())
    return GST_PAD_PROBE_OK;
  const GValueArray *array = g_value_get_boxed(value);
  guint n = array != NULL ? MIN(array->n_values, 65536u) : 0;
  g_autofree ArTwccPacket *packets = g_new0(ArTwccPacket, MAX(n, 1u));
  guint taken = 0;
  for (guint i = 0; i < n; i++)
    if (ar_peer_twcc_packet(&array->values[i], &packets[taken]))
      taken++;
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_mutex_lock(&peer->lock);
  /* Our own send times, when the session keeps none: for every packet, so
   * that all of them are on one clock. */
  if (peer->twcc_log != NULL)
    for (guint i = 0; i < taken; i++)
      ar_twcc_send_log_fill(peer->twcc_log, &packets[i]);
  if (peer->twcc != NULL) {
    made = ar_twcc_windows_add(peer->twcc, packets, taken, &window);
    ar_twcc_windows_get_last(peer->twcc, &reported, &timed);
    /* Feedback about packets with no send time (GStreamer's window gave no
     * rates for a whole lab call once): said once a streak, so a log tells
     * why a call adapted poorly; the receiver reports decide meanwhile. */
    untimed = made || taken < 3 ? 0 : peer->twcc_untimed + 1;
    peer->twcc_untimed = untimed;
  }
  /* A probe's packets: its figures once all were reported. */
  ArRateProbe probed;
  gboolean probe_done = FALSE, probe_measured = FALSE;
  if (peer->probe != NULL && ar_twcc_probe_pending(peer->probe)) {
    probe_measured = ar_twcc_probe_add(peer->probe, packets, taken, &probed);
    probe_done = !ar_twcc_probe_pending(peer->probe);
  }
  g_mutex_unlock(&peer->lock);
  if (probe_done)
    ar_peer_post(peer, ar_peer_probe_done_in_context,
                 probe_measured ? g_memdup2(&probed, sizeof(probed)) : NULL, g_free);
  /* Three in a row with no send time at all: the session lacks the id. */
  if (untimed == 3 && timed == 0)
    ar_peer_post(peer, ar_peer_twcc_log_in_context, NULL, NULL);
  if (untimed == 25) {
    /* The session numbers our packets only with the extension id its caps
     * gave it: what it has (with our own log of send times running, a
     * cause not known yet). */
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    g_autofree char *said = caps != NULL ? gst_caps_to_string(caps) : g_strdup("none");
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "AR_MEDIA", "bandwidth", "MESSAGE",
                     "peer %s: transport-wide feedback comes, but 25 in a row made no window "
                     "(the last: %u packets, %u with send times): the receiver reports decide "
                     "the bitrate alone (the RTP session's send caps: %.600s)",
                     peer->label, reported, timed, said);
  }
  GST_LOG("peer %s: transport-wide feedback: %u packets, %u with send times", peer->label, reported,
          timed);
  if (made)
    ar_peer_post(peer, ar_peer_twcc_in_context, g_memdup2(&window, sizeof(window)), g_free);
  return GST_PAD_PROBE_OK;
}

/* The RTP session of the bundle, once webrtcbin made it. */
static void
ar_peer_rate_hook_session(ArPeer *peer)
{
  g_autoptr(GstElement) rtpbin = NULL;
  GObject *session = NULL;

  if (peer->rtp_session != NULL)
    return;
  rtpbin = gst_bin_get_by_name(GST_BIN(peer->webrtc), "rtpbin");
  if (rtpbin == NULL)
    return;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
  if (session == NULL)
    return;
  peer->twcc_packets_pad = ar_peer_session_pad(peer, "send_rtp_sink");
  if (peer->twcc_packets_pad != NULL) {
    g_mutex_lock(&peer->lock);
    if (peer->twcc == NULL)
      peer->twcc = ar_twcc_windows_new();
    g_mutex_unlock(&peer->lock);
    peer->twcc_packets_probe =
        gst_pad_add_probe(peer->twcc_packets_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                          ar_peer_on_twcc_packets, peer, NULL);
  }
  peer->rtp_session = session;
  peer->feedback_handler =
      g_signal_connect(session, "on-feedback-rtcp", G_CALLBACK(ar_peer_on_feedback), peer);
  peer->rtcp_handler =
      g_signal_connect(session, "on-receiving-rtcp", G_CALLBACK(ar_peer_on_rtcp), peer);
}

/* The peer's context: the far end will not get the packets whose
 * retransmissions went over the budget: a key frame (at the new rate) instead
 * of its waiting, at most one each AR_PEER_RTX_KEY_EVERY_US. */
static void
ar_peer_rtx_key(ArPeer *peer, gint64 now)
{
  gint dropped = g_atomic_int_get(&peer->rtx_dropped);

  if (dropped == peer->rtx_key_seen || peer->video_send_pad == NULL)
    return;
  peer->rtx_key_seen = dropped;
  if (peer->rtx_key_us != 0 && now - peer->rtx_key_us < AR_PEER_RTX_KEY_EVERY_US)
    return;
  peer->rtx_key_us = now;
  gst_pad_push_event(peer->video_send_pad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                   "peer %s: a key frame instead of the retransmissions not sent", peer->label);
}

/* ...at once, not at the next tick: the far end is frozen from the first
 * packet it misses, and a key frame asked for while a queue drains waits
 * with the frames stopped (ArKeyWait), which drains it sooner (the drop to
 * 1 Mbit/s of a lab run: the tick asked 0.5 s after the first retransmission
 * went over, and the far end froze 1.0 s). */
static void
ar_peer_rtx_dropped_in_context(ArPeer *peer, gpointer data)
{
  (void)data;
  g_atomic_int_set(&peer->rtx_posted, 0);
  if (peer->rate == NULL || peer->rate_timer == NULL) /* not connected (any more) */
    return;
  ar_peer_rtx_key(peer, g_get_monotonic_time());
}

/* A streaming thread (rtprtxsend's): whether a retransmission of @bytes fits
 * the budget now. */
static gboolean
ar_peer_rtx_fits(ArPeer *peer, gsize bytes)
{
  gint64 now = g_get_monotonic_time();
  double kbps =
      MAX(AR_PEER_RTX_SHARE * g_atomic_int_get(&peer->rtx_target_kbps), AR_PEER_RTX_MIN_KBPS);
  double depth = kbps * 1000.0 / 8.0 * AR_PEER_RTX_DEPTH_MS / 1000.0;

  if (peer->rtx_last_us == 0)
    peer->rtx_tokens = depth;
  else
    peer->rtx_tokens = MIN(depth, peer->rtx_tokens + (double)(now - peer->rtx_last_us) / 1e6 *
                                                         kbps * 1000.0 / 8.0);
  peer->rtx_last_us = now;
  if (peer->rtx_tokens < (double)bytes) {
    g_atomic_int_inc(&peer->rtx_dropped);
    if (g_atomic_int_compare_and_exchange(&peer->rtx_posted, 0, 1))
      ar_peer_post(peer, ar_peer_rtx_dropped_in_context, NULL, NULL);
    return FALSE;
  }
  peer->rtx_tokens -= (double)bytes;
  return TRUE;
}

/* Whether @buffer is a retransmission (none of our media SSRCs) not to send:
 * over the budget, or while a key frame waits (it repairs a frame before the
 * key frame, which the far end no longer needs, and it would wait in the
 * queue the key frame waits behind). */
static gboolean
ar_peer_rtx_over(ArPeer *peer, GstBuffer *buffer)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint32 ssrc;

  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
    return FALSE;
  ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  guint16 seqnum = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  if (ssrc == peer->video_ssrc) {
    /* A probe's padding sends these again. */
    ar_recent_packets_add(&peer->recent, seqnum, gst_buffer_get_size(buffer));
    return FALSE;
  }
  if (ssrc == peer->audio_ssrc)
    return FALSE;
  if (ar_key_wait_active(&peer->key_wait))
    return TRUE;
  /* A probe's padding is not the far end's repair: outside the budget. */
  if (g_atomic_int_get(&peer->probe_padding))
    return FALSE;
  return !ar_peer_rtx_fits(peer, gst_buffer_get_size(buffer));
}

static gboolean
ar_peer_rtx_filter_list(GstBuffer **buffer, guint idx, gpointer user_data)
{
  (void)idx;
  if (ar_peer_rtx_over(user_data, *buffer))
    gst_clear_buffer(buffer); /* removed from the list */
  return TRUE;
}

static GstPadProbeReturn
ar_peer_on_rtx_out(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  (void)pad;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return ar_peer_rtx_over(peer, GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_DROP
                                                                   : GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));

    GST_PAD_PROBE_INFO_DATA(info) = list;
    gst_buffer_list_foreach(list, ar_peer_rtx_filter_list, peer);
    if (gst_buffer_list_length(list) == 0)
      return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

guint
ar_peer_rtx_history_ms(double rtt_ms)
{
  double ms = 3.0 * rtt_ms;

  if (!(ms > AR_PEER_RTX_HISTORY_MS)) /* NaN too */
    return AR_PEER_RTX_HISTORY_MS;
  return (guint)MIN(ms, (double)AR_PEER_RTX_HISTORY_MAX_MS);
}

/* Main context: the retransmission history follows the round trip (a change
 * of 100 ms or more). */
static void
ar_peer_rate_follow_rtt(ArPeer *peer, double rtt_ms)
{
  guint ms = ar_peer_rtx_history_ms(rtt_ms);
  g_autoptr(GstElement) rtx = NULL;

  if (peer->rtx_history_ms != 0 && ABS((gint)ms - (gint)peer->rtx_history_ms) < 100)
    return;
  g_mutex_lock(&peer->lock);
  if (peer->rtx_send != NULL)
    rtx = gst_object_ref(peer->rtx_send);
  g_mutex_unlock(&peer->lock);
  if (rtx == NULL)
    return;
  GST_INFO("peer %s: retransmission history %u ms (round trip %.0f ms)", peer->label, ms, rtt_ms);
  g_object_set(rtx, "max-size-time", ms, NULL);
  peer->rtx_history_ms = ms;
}

void
ar_peer_rate_watch_rtx(ArPeer *peer, GstElement *rtxsend)
{
  g_autoptr(GstPad) pad = NULL;

  if (peer->direction != AR_PEER_SEND ||
      g_object_get_data(G_OBJECT(rtxsend), "ar-peer-rtx-budget") != NULL)
    return;
  g_object_set_data(G_OBJECT(rtxsend), "ar-peer-rtx-budget", peer);
  g_mutex_lock(&peer->lock);
  if (peer->rtx_send == NULL)
    peer->rtx_send = gst_object_ref(rtxsend);
  g_mutex_unlock(&peer->lock);
  pad = gst_element_get_static_pad(rtxsend, "src");
  if (pad != NULL)
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                      ar_peer_on_rtx_out, peer, NULL);
}

static const ArTrackStats *
ar_peer_rate_video(GArray *tracks)
{
  for (guint i = 0; i < tracks->len; i++) {
    const ArTrackStats *t = &g_array_index(tracks, ArTrackStats, i);

    if (g_str_equal(t->kind, "video"))
      return t;
  }
  return NULL;
}

/* The controller changed its answer: the encoder hears it, and the log when
 * it moved by a tenth or more (the ramp moves every tick) or the picture
 * changed. */
void
ar_peer_rate_apply(ArPeer *peer, guint old_kbps, ArRateLevel old_level, const char *why)
{
  ArRateLevel level = ar_rate_get_level(peer->rate);
  guint kbps = ar_rate_get_target_kbps(peer->rate);
  const ArMediaConfig *cfg;

  if (peer->engine == NULL) /* closing */
    return;
  cfg = ar_media_engine_get_config(peer->engine);
  g_atomic_int_set(&peer->rtx_target_kbps, (gint)kbps);
  ar_encoder_set_bitrate(peer->video_encode, ar_media_engine_get_encoder(peer->engine), kbps);
  if (level != old_level) {
    guint w = 0, h = 0, fps = 0;

    if (level != AR_RATE_LEVEL_FULL && cfg->width >= 4 && cfg->height >= 4) {
      /* Even sizes: every encoder takes them. */
      w = (cfg->width / 2) & ~1u;
      h = (cfg->height / 2) & ~1u;
    }
    if (level == AR_RATE_LEVEL_HALF_SIZE_FPS && cfg->framerate >= 2)
      fps = cfg->framerate / 2;
    ar_encoder_set_picture(peer->video_encode, w, h, fps);
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "AR_MEDIA", "bandwidth", "MESSAGE",
                     "peer %s: video picture %ux%u at %u fps (bandwidth: %u kbit/s)", peer->label,
                     w ? w : cfg->width, h ? h : cfg->height, fps ? fps : cfg->framerate, kbps);
  }
  if (kbps * 10 < old_kbps * 9 || kbps * 10 > old_kbps * 11 || level != old_level)
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                     "peer %s: video bitrate %u -> %u kbit/s (%s; %s)", peer->label, old_kbps, kbps,
                     ar_rate_limit_to_string(ar_rate_get_limit(peer->rate)), why);
}

static gboolean
ar_peer_rate_tick(gpointer data)
{
  ArPeer *peer = data;
  g_autoptr(GArray) tracks = NULL;
  const ArTrackStats *video;
  gint64 now = g_get_monotonic_time();
  guint64 remb;
  guint remb_count;
  double loss = -1;
  guint old_kbps = ar_rate_get_target_kbps(peer->rate);
  ArRateLevel old_level = ar_rate_get_level(peer->rate);

  ar_peer_rate_hook_session(peer);
  g_mutex_lock(&peer->lock);
  remb = peer->remb_bps;
  remb_count = peer->remb_count;
  if (peer->rr_count != peer->rr_seen) {
    /* The worst of the reports since the last tick. */
    loss = peer->rr_loss;
    peer->rr_seen = peer->rr_count;
    peer->rr_loss = 0;
  }
  g_mutex_unlock(&peer->lock);
  if (remb_count != peer->remb_seen) {
    if (peer->remb_seen == 0)
      g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                       "peer %s: the far end sends REMB (%" G_GUINT64_FORMAT " bit/s)", peer->label,
                       remb);
    peer->remb_seen = remb_count;
    ar_rate_on_remb(peer->rate, now, remb);
  }
  gint dropped = g_atomic_int_get(&peer->rtx_dropped);
  if (dropped != peer->rtx_dropped_seen) {
    g_log_structured(
        G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
        "peer %s: %d retransmissions over the budget (%.0f kbit/s) not sent", peer->label,
        dropped - peer->rtx_dropped_seen,
        MAX(AR_PEER_RTX_SHARE * ar_rate_get_target_kbps(peer->rate), AR_PEER_RTX_MIN_KBPS));
    peer->rtx_dropped_seen = dropped;
  }
  ar_peer_rtx_key(peer, now);
  ar_peer_rate_keys(peer, now); /* the hold ends at the latest with its time */
  guint unsent = ar_key_wait_take_dropped(&peer->key_wait);
  if (unsent > 0)
    g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                     "peer %s: %u frames the far end could not decode not sent while its key "
                     "frame waited",
                     peer->label, unsent);
  ar_peer_probe_maybe_start(peer, now);
  tracks = ar_peer_stats_snapshot(peer->stats);
  video = ar_peer_rate_video(tracks);
  if (video != NULL && video->rtt_ms > 0)
    ar_peer_rate_follow_rtt(peer, video->rtt_ms);
  if (video == NULL ||
      !ar_rate_on_report(peer->rate, now, loss, video->rtt_ms, video->bitrate_bps / 1000.0))
    return G_SOURCE_CONTINUE;
  g_autofree char *why = g_strdup_printf(
      "receiver reports: loss %.0f %%, rtt %.0f ms, sent %.0f kbit/s",
      ar_rate_get_loss(peer->rate) * 100.0, video->rtt_ms, video->bitrate_bps / 1000.0);
  ar_peer_rate_apply(peer, old_kbps, old_level, why);
  return G_SOURCE_CONTINUE;
}

void
ar_peer_rate_arm(ArPeer *peer)
{
  if (peer->rate != NULL)
    g_atomic_int_set(&peer->rtx_target_kbps, (gint)ar_rate_get_target_kbps(peer->rate));
  if (peer->direction != AR_PEER_SEND || peer->video_encode == NULL || peer->rate_timer != NULL ||
      peer->rate == NULL)
    return;
  peer->rate_timer = ar_media_timer_attach(AR_PEER_RATE_TICK_MS, "ar-peer-rate", ar_peer_rate_tick,
                                           peer, peer->context);
  if (peer->video_send_pad != NULL && peer->key_probe == 0)
    peer->key_probe = gst_pad_add_probe(peer->video_send_pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                                        ar_peer_on_key_request, peer, NULL);
}

void
ar_peer_rate_disarm(ArPeer *peer)
{
  if (peer->key_probe != 0) {
    gst_pad_remove_probe(peer->video_send_pad, peer->key_probe);
    peer->key_probe = 0;
  }
  ar_key_wait_reset(&peer->key_wait);
  if (peer->rate_timer != NULL) {
    g_source_destroy(peer->rate_timer);
    g_clear_pointer(&peer->rate_timer, g_source_unref);
  }
  if (peer->rtp_session != NULL) {
    g_signal_handler_disconnect(peer->rtp_session, peer->feedback_handler);
    g_signal_handler_disconnect(peer->rtp_session, peer->rtcp_handler);
    g_clear_object(&peer->rtp_session);
  }
  if (peer->twcc_packets_pad != NULL) {
    gst_pad_remove_probe(peer->twcc_packets_pad, peer->twcc_packets_probe);
    g_clear_object(&peer->twcc_packets_pad);
  }
  if (peer->twcc_log_pad != NULL) {
    gst_pad_remove_probe(peer->twcc_log_pad, peer->twcc_log_probe);
    g_clear_object(&peer->twcc_log_pad);
  }
  ar_peer_probe_stop(peer);
  if (peer->probe_pad != NULL) {
    gst_pad_remove_probe(peer->probe_pad, peer->probe_pad_probe);
    g_clear_object(&peer->probe_pad);
  }
  g_mutex_lock(&peer->lock);
  g_clear_pointer(&peer->twcc_log, ar_twcc_send_log_free);
  g_mutex_unlock(&peer->lock);
}

void
ar_peer_rate_fill_stats(ArPeer *peer, GArray *tracks)
{
  if (peer->rate == NULL)
    return;
  for (guint i = 0; i < tracks->len; i++) {
    ArTrackStats *t = &g_array_index(tracks, ArTrackStats, i);

    if (!g_str_equal(t->kind, "video"))
      continue;
    t->target_kbps = ar_rate_get_target_kbps(peer->rate);
    g_strlcpy(t->limit, ar_rate_limit_to_string(ar_rate_get_limit(peer->rate)), sizeof(t->limit));
  }
}
