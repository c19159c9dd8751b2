/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-probe.c: a SEND peer's bandwidth probes (issue 14, part 2). When
 * the controller (ar-rate.c) wants to know whether the link passes more than
 * the target, padding goes on top of the video for a short while: our newest
 * video packets sent again through rtprtxsend, paced; the RTP session numbers
 * them as any packet, the far end's transport-wide feedback tells what
 * arrived of them (ar-twcc.h), and the controller decides (ar_rate_on_probe).
 * The packets to send again come from a ring that rtprtxsend's thread fills
 * without a lock (ArRecentPackets).
 */
#include "ar-peer-priv.h"

/* A probe's padding goes out every this many ms. */
#define AR_PEER_PROBE_PACE_MS 10

/* rtprtxsend's thread: one of our video packets went (ArRecentPackets). */
void
ar_recent_packets_add(ArRecentPackets *recent, guint16 seqnum, gsize size)
{
  guint n = (guint)g_atomic_int_get(&recent->count);

  g_atomic_int_set(&recent->slot[n % AR_RECENT_PACKETS],
                   (gint)((guint)MIN(size, 0xffffu) << 16 | seqnum));
  g_atomic_int_set(&recent->count, (gint)(n + 1));
}

static guint
ar_recent_packets_count(ArRecentPackets *recent)
{
  return MIN((guint)g_atomic_int_get(&recent->count), (guint)AR_RECENT_PACKETS);
}

/* The packet @back before the newest, over those kept (again and again);
 * FALSE before the first. */
static gboolean
ar_recent_packets_get(ArRecentPackets *recent, guint back, guint16 *seqnum, guint *size)
{
  guint n = (guint)g_atomic_int_get(&recent->count);
  guint kept = MIN(n, (guint)AR_RECENT_PACKETS);

  if (kept == 0)
    return FALSE;
  guint v = (guint)g_atomic_int_get(&recent->slot[(n - 1 - back % kept) % AR_RECENT_PACKETS]);
  *seqnum = (guint16)(v & 0xffffu);
  *size = v >> 16;
  return TRUE;
}

/* A streaming thread (the session's send), under the peer's lock: while a
 * probe runs, a packet's number makes it the probe's. */
static void
ar_peer_probe_note(ArPeer *peer, guint16 seqnum, guint size, guint64 now_ns)
{
  (void)size;
  (void)now_ns;
  ar_twcc_probe_note(peer->probe, seqnum);
}

static GstPadProbeReturn
ar_peer_on_probe_sent(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArPeer *peer = user_data;

  (void)pad;
  if (!g_atomic_int_get(&peer->probe_noting))
    return GST_PAD_PROBE_OK;
  g_mutex_lock(&peer->lock);
  if (peer->probe != NULL)
    ar_peer_each_sent(peer, info, peer->probe_twcc_id, ar_peer_probe_note, 0);
  g_mutex_unlock(&peer->lock);
  return GST_PAD_PROBE_OK;
}

/* The peer's context: no padding any more; the packets still leaving
 * (rtprtxsend pushes from its own thread) had a tick to go. */
void
ar_peer_probe_stop(ArPeer *peer)
{
  g_atomic_int_set(&peer->probe_noting, 0);
  g_atomic_int_set(&peer->probe_padding, 0);
  g_mutex_lock(&peer->lock);
  if (peer->probe != NULL)
    ar_twcc_probe_end(peer->probe);
  g_mutex_unlock(&peer->lock);
  if (peer->probe_timer != NULL) {
    g_source_destroy(peer->probe_timer);
    g_clear_pointer(&peer->probe_timer, g_source_unref);
  }
}

/* The peer's context, every AR_PEER_PROBE_PACE_MS while a probe runs: the
 * padding due since the last tick, as retransmission requests to rtprtxsend
 * for our newest video packets. */
static gboolean
ar_peer_probe_pace(gpointer data)
{
  ArPeer *peer = data;
  gint64 now = g_get_monotonic_time();
  g_autoptr(GstElement) rtx = NULL;
  g_autoptr(GstPad) src = NULL;

  if (peer->probe_ended_us == 0 && now - peer->probe_started_us >= peer->probe_us)
    peer->probe_ended_us = now;
  if (peer->probe_ended_us != 0) {
    /* One tick for the last requests to leave, then the end. */
    if (now - peer->probe_ended_us >= AR_PEER_PROBE_PACE_MS * G_TIME_SPAN_MILLISECOND) {
      GST_INFO("peer %s: probe to %.0f kbit/s ended after %" G_GINT64_FORMAT " ms: %u packets "
               "sent again as padding",
               peer->label, peer->probe_kbps,
               (peer->probe_ended_us - peer->probe_started_us) / 1000, peer->probe_requests);
      GSource *timer = g_steal_pointer(&peer->probe_timer); /* destroyed by returning */

      ar_peer_probe_stop(peer);
      g_source_unref(timer);
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }
  peer->probe_due_bytes += (double)(now - peer->probe_last_us) / 1e6 * peer->probe_pad_kbps * 125.0;
  peer->probe_due_bytes = MIN(peer->probe_due_bytes, 16 * 1200.0);
  peer->probe_last_us = now;
  g_mutex_lock(&peer->lock);
  if (peer->rtx_send != NULL)
    rtx = gst_object_ref(peer->rtx_send);
  g_mutex_unlock(&peer->lock);
  if (rtx == NULL || (src = gst_element_get_static_pad(rtx, "src")) == NULL)
    return G_SOURCE_CONTINUE;
  while (peer->probe_due_bytes > 0) {
    guint16 seqnum;
    guint size;

    /* The newest first, then back over the others, again and again. */
    if (!ar_recent_packets_get(&peer->recent, peer->probe_pick++, &seqnum, &size))
      break;
    GstStructure *s = gst_structure_new("GstRTPRetransmissionRequest", "seqnum", G_TYPE_UINT,
                                        (guint)seqnum, "ssrc", G_TYPE_UINT, peer->video_ssrc, NULL);
    gst_pad_send_event(src, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
    peer->probe_requests++;
    peer->probe_due_bytes -= MAX(size, 100u) + 2.0;
  }
  return G_SOURCE_CONTINUE;
}

/* The peer's context: the packets that leave the session while a probe
 * runs are its; a probe on its send_rtp_src notes them, once our video's
 * caps named the transport-wide extension (they may come after the
 * session). */
static void
ar_peer_probe_hook(ArPeer *peer)
{
  g_autoptr(GstCaps) video = NULL;

  if (peer->probe_pad != NULL || peer->rtp_session == NULL || peer->video_send_pad == NULL ||
      (video = gst_pad_get_current_caps(peer->video_send_pad)) == NULL ||
      (peer->probe_twcc_id = ar_rtp_caps_twcc_id(video)) == 0 ||
      (peer->probe_pad = ar_peer_session_pad(peer, "send_rtp_src")) == NULL)
    return;
  g_mutex_lock(&peer->lock);
  if (peer->probe == NULL)
    peer->probe = ar_twcc_probe_new();
  g_mutex_unlock(&peer->lock);
  peer->probe_pad_probe =
      gst_pad_add_probe(peer->probe_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                        ar_peer_on_probe_sent, peer, NULL);
}

/* The peer's context: a probe, if the controller wants one and we can send
 * its padding (rtprtxsend, a video packet to send again, the session
 * numbering our packets: with our own log of send times, a retransmission
 * carries its original's number and neither would have a send time). */
void
ar_peer_probe_maybe_start(ArPeer *peer, gint64 now)
{
  double kbps = 0;
  gboolean ready;

  ar_peer_probe_hook(peer);
  if (peer->rate == NULL || peer->probe_timer != NULL || peer->probe_pad == NULL ||
      peer->video_ssrc == 0)
    return;
  g_mutex_lock(&peer->lock);
  ready = peer->probe != NULL && peer->rtx_send != NULL && peer->twcc_log == NULL &&
          ar_recent_packets_count(&peer->recent) >= 4;
  g_mutex_unlock(&peer->lock);
  if (!ready || !ar_rate_probe_start(peer->rate, now, &kbps))
    return;
  g_mutex_lock(&peer->lock);
  ar_twcc_probe_begin(peer->probe);
  g_mutex_unlock(&peer->lock);
  peer->probe_kbps = kbps;
  peer->probe_us = ar_rate_probe_duration_us(kbps);
  peer->probe_pad_kbps = MAX(kbps - ar_rate_get_target_kbps(peer->rate), 0.0);
  peer->probe_due_bytes = 0;
  peer->probe_requests = 0;
  peer->probe_started_us = peer->probe_last_us = now;
  peer->probe_ended_us = 0;
  g_atomic_int_set(&peer->probe_padding, 1);
  g_atomic_int_set(&peer->probe_noting, 1);
  peer->probe_timer = ar_media_timer_attach(AR_PEER_PROBE_PACE_MS, "ar-peer-probe",
                                            ar_peer_probe_pace, peer, peer->context);
  GST_INFO("peer %s: probe to %.0f kbit/s for %" G_GINT64_FORMAT
           " ms (target %u, ceiling %.0f kbit/s)",
           peer->label, kbps, peer->probe_us / 1000, ar_rate_get_target_kbps(peer->rate),
           ar_rate_get_ceiling_kbps(peer->rate));
}

/* The peer's context: the probe's packets were all reported (@data its
 * figures, or NULL: none). */
void
ar_peer_probe_done_in_context(ArPeer *peer, gpointer data)
{
  const ArRateProbe *p = data;
  guint old_kbps;
  ArRateLevel old_level;

  if (peer->rate == NULL || peer->rate_timer == NULL || !ar_rate_probing(peer->rate))
    return;
  gint64 now = g_get_monotonic_time();
  old_kbps = ar_rate_get_target_kbps(peer->rate);
  old_level = ar_rate_get_level(peer->rate);
  gboolean failing = ar_rate_probe_failing(peer->rate), passed = FALSE;
  gboolean changed = ar_rate_on_probe(peer->rate, now, p, &passed);
  g_autofree char *why =
      p != NULL ? g_strdup_printf("probe to %.0f kbit/s %s%s: sent %.0f, arrived %.0f kbit/s, %u "
                                  "packets, %u lost, the delay up %.0f ms",
                                  peer->probe_kbps, passed ? "passed" : "failed",
                                  failing ? " (a queue showed)" : "", p->sent_kbps, p->recv_kbps,
                                  p->packets, p->lost, p->rise_ms)
                : g_strdup_printf("probe to %.0f kbit/s failed: no figures", peer->probe_kbps);
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "bandwidth", "MESSAGE",
                   "peer %s: %s; target %u kbit/s, ceiling %.0f kbit/s", peer->label, why,
                   ar_rate_get_target_kbps(peer->rate), ar_rate_get_ceiling_kbps(peer->rate));
  if (changed)
    ar_peer_rate_apply(peer, old_kbps, old_level, why);
}
