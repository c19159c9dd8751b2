/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-priv.h: the ArPeer structure, shared by ar-peer.c (state, signalling,
 * DTLS verification) and ar-peer-media.c (media chains and probes).
 */
#pragma once

#include "ar-capture.h"
#include "ar-media-priv.h"
#include "ar-rate.h"
#include "ar-twcc.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

typedef struct {
  GstWebRTCDTLSTransport *transport;
  gulong handler;
  gboolean verified;
} ArWatchedTransport;

/* The newest packets of a stream: one thread writes, another reads, with no
 * lock (the writer is on every packet's path). A slot holds a packet's
 * sequence number (low 16 bits) and size (high 16), so a read never pairs
 * one packet's number with another's size. */
#define AR_RECENT_PACKETS 16
typedef struct {
  gint slot[AR_RECENT_PACKETS]; /* atomic */
  gint count;                   /* atomic: packets written in all (wraps) */
} ArRecentPackets;

struct _ArPeer {
  gint ref_count; /* atomic */
  ArPeerDirection direction;
  gboolean
      offers; /* we make the offer: every SEND peer, a RECV peer given ar_peer_set_offering() */
  char *label;
  ArPeerCallbacks cb;
  gpointer user_data;
  GMainContext *context;

  GstElement *pipeline;
  GstElement *webrtc;
  GSource *bus_source;
  GSource *connect_timer;   /* main context */
  GstPad *video_send_pad;   /* SEND: webrtcbin sink pad of the video stream */
  ArVideoTap *tap;          /* encoded video for the engine's video sink, or NULL */
  ArCapture *capture;       /* the engine's capture, consumed until closed */
  GstElement *video_source; /* SEND: our consumer bins of it (in the pipeline) */
  GstElement *audio_source;
  GstElement *video_encode; /* SEND: the encoder bin (in the pipeline) */
  ArRate *rate;             /* SEND: the bandwidth controller (ar-peer-rate.c) */
  GSource *rate_timer;      /* SEND, while CONNECTED: its tick */
  GObject *rtp_session;     /* SEND: the bundle's RTPSession, for its feedback */
  gulong feedback_handler, rtcp_handler;
  GstPad *twcc_packets_pad; /* SEND: the session's send_rtp_sink, probed for its packets */
  gulong twcc_packets_probe;
  /* SEND: the windows of transport-wide feedback (ar-twcc.h), and feedbacks
   * in a row that gave none; under lock (the RTCP thread's). */
  ArTwccWindows *twcc;
  guint twcc_untimed;
  /* SEND: our own send times (ar-twcc.h), once feedback came about packets
   * the session kept none of: the log and its extension id under lock (the
   * packets' thread adds, the RTCP thread reads), the probe on the session's
   * send_rtp_src (the peer's context). */
  ArTwccSendLog *twcc_log;
  guint twcc_log_id;
  GstPad *twcc_log_pad;
  gulong twcc_log_probe;
  /* SEND: probes (ar-rate.h): the packets that leave the session while one
   * runs are its (probe under lock: the session's send thread notes, the
   * RTCP thread reads the feedback; probe_noting atomic, probe_pad its
   * probe on the session's send_rtp_src); its padding is our recent video
   * packets sent again through rtprtxsend (recent: rtprtxsend's thread
   * writes, the peer's context reads), paced by probe_timer (the peer's
   * context). */
  ArTwccProbe *probe;
  gint probe_noting;
  gint probe_padding; /* atomic: retransmissions are the probe's padding */
  GstPad *probe_pad;
  gulong probe_pad_probe;
  guint probe_twcc_id;
  GSource *probe_timer;
  gint64 probe_started_us, probe_last_us, probe_ended_us;
  gint64 probe_us; /* how long this probe lasts (ar_rate_probe_duration_us) */
  double probe_kbps, probe_pad_kbps, probe_due_bytes;
  guint probe_requests, probe_pick;
  ArRecentPackets recent;
  guint video_ssrc; /* SEND: our video's and audio's SSRCs (set before it runs) */
  guint audio_ssrc;
  /* SEND: the retransmission budget (ar-peer-rate.c): the bucket belongs to
   * rtprtxsend's streaming thread; the target and the count are atomic. */
  double rtx_tokens;
  gint64 rtx_last_us;
  gint rtx_target_kbps;
  gint rtx_dropped;
  gint rtx_dropped_seen; /* main context */
  gint64 rtx_key_us;     /* main context: the last key frame asked for instead */
  gint rtx_key_seen;     /* main context: rtx_dropped then */
  gint rtx_posted;       /* atomic: a drop posted to the context, not yet run */
  GstElement *rtx_send;  /* webrtcbin's retransmission sender (under lock), or NULL */
  guint rtx_history_ms;  /* main context: the history it was last given */
  /* SEND: key frame requests (the far end's, ours) wait while the queue of a
   * link that narrowed drains (ar-peer-rate.c; key_wait says whether they
   * wait now): atomic. */
  guint key_held;            /* requests held since the last release */
  ArKeyWait key_wait;        /* whether they wait, and the frames not sent meanwhile */
  gulong key_probe;          /* on video_send_pad, 0: none */
  guint remb_seen;           /* main context: remb_count at the last tick */
  GstElement *speaker_input; /* RECV: the room's speaker (in audio_out) */
  char **decoders;           /* RECV: the engine's decoder preference (copy), or NULL */
  ArPeerStats *stats;
  /* RECV: output chains, added to the pipeline when the first stream of their
   * kind arrives (under out_lock, from a streaming thread). */
  GMutex out_lock;
  gboolean decode_video; /* RECV: something here shows it (else only counted) */
  GstElement *video_out; /* RECV, decode_video: the decoded video's chain */
  GstElement *audio_out;
  gboolean video_out_used;
  gboolean audio_out_used;

  /* Shared with GStreamer threads. */
  GMutex lock;      /* protects pending and closed */
  GQueue pending;   /* GSource* posted to context and not yet dispatched */
  gboolean closed;  /* also read atomically */
  guint64 remb_bps; /* SEND: the last REMB of the far end, and how many came */
  guint remb_count;
  double rr_loss;          /* SEND: the worst loss fraction of our video's receiver reports */
  guint rr_count, rr_seen; /* since rr_seen (the rate tick's) */
  gint media_open;         /* atomic: fingerprint verified, RTP may flow */
  gint first_video;        /* atomic */
  gint first_audio;        /* atomic */
  gint rx_packets;         /* atomic: buffers out of the ICE transport (RTP, RTCP, DTLS) */

  /* Main context only. */
  ArPeerState state;
  gboolean started;
  gboolean remote_set;
  gboolean local_set;
  gboolean webrtc_connected;
  gboolean ice_connected;
  gboolean gathering_done;
  guint remote_mlines;
  char **remote_fingerprints;
  GArray *transports;          /* ArWatchedTransport */
  GPtrArray *early_candidates; /* ArPeerCandidate before the local description */
  GSource *liveness_timer;     /* while CONNECTED: dead-peer detection */
  GSource *netwatch;           /* while CONNECTED: local addresses removed */
  ArMediaEngine *engine;       /* registered with it until closed */
  gint rx_seen;                /* rx_packets at the last change seen */
  gint64 rx_last_time;         /* monotonic time of that change */
  gint64 rx_longest_gap;       /* longest silence while connected (us), for logs */
};

typedef void (*ArPeerCallFunc)(ArPeer *peer, gpointer data);

/* ar-peer.c */
ArPeer *ar_peer_ref(ArPeer *peer);
void ar_peer_unref(ArPeer *peer);
gboolean ar_peer_is_closed(ArPeer *peer);
gboolean ar_peer_state_is_terminal(ArPeerState state);
/* Runs @func(peer, data) later in the peer's context, unless the peer is
 * closed by then. Callable from any thread. Takes ownership of @data. */
void ar_peer_post(ArPeer *peer, ArPeerCallFunc func, gpointer data, GDestroyNotify data_free);
/* Any thread: ends the call with @code/@message (in the peer's context). */
void ar_peer_post_failure(ArPeer *peer, ArMediaError code, const char *message);
/* Main context: ends the call with an error (once). */
void ar_peer_fail(ArPeer *peer, ArMediaError code, const char *format, ...) G_GNUC_PRINTF(3, 4);
void ar_peer_set_state(ArPeer *peer, ArPeerState state, const GError *error);
void ar_peer_disarm_connect_timer(ArPeer *peer);
/* Every DTLS transport watched has passed the fingerprint check. */
gboolean ar_peer_all_verified(ArPeer *peer);
/* FALSE (and @error) when the peer is closed or ended. */
gboolean ar_peer_check_usable(ArPeer *peer, GError **error);
/* The pipeline to PLAYING (once); CONNECTING is reported. */
gboolean ar_peer_start_pipeline(ArPeer *peer, GError **error);

/* ar-peer-signal.c: ICE candidates and the descriptions. */
void ar_peer_candidate_free(gpointer data); /* an ArPeerCandidate */
void ar_peer_on_ice_candidate(GstElement *webrtc, guint mline, const char *candidate,
                              gpointer user_data);
void ar_peer_on_gathering_state(GObject *webrtc, GParamSpec *pspec, gpointer user_data);
/* Emits webrtcbin's @action with @arg and a promise that calls @func(data). */
void ar_peer_emit_with_promise(ArPeer *peer, const char *action, gpointer arg,
                               GstPromiseChangeFunc func, gpointer data, GDestroyNotify notify);
/* create-offer / create-answer replied: apply it locally, then report it. */
void ar_peer_on_description_created(GstPromise *promise, gpointer user_data);

/* ar-peer-watch.c: dead-peer detection and the DTLS fingerprint check. */
/* Both descriptions applied: the connect deadline starts, CONNECTED may follow. */
void ar_peer_descriptions_applied(ArPeer *peer);
/* deep-element-added on the pipeline: receive probes on webrtcbin's inner
 * elements feed the dead-peer detection. */
void ar_peer_watch_on_deep_element_added(GstBin *bin, GstBin *sub_bin, GstElement *element,
                                         gpointer user_data);
void ar_peer_watch_transports(ArPeer *peer);
void ar_peer_unwatch_transports(ArPeer *peer);

/* ar-peer-media.c */
gboolean ar_peer_build_send(ArPeer *peer, ArMediaEngine *engine, GError **error);
GstElement *ar_peer_make_video_out(ArPeer *peer, ArMediaEngine *engine, GError **error);
GstElement *ar_peer_make_audio_out(ArPeer *peer, ArMediaEngine *engine, GError **error);
void ar_peer_on_pad_added(GstElement *webrtc, GstPad *pad, gpointer user_data);
void ar_peer_on_new_transceiver(GstElement *webrtc, GstWebRTCRTPTransceiver *trans,
                                gpointer user_data);

/* ar-peer-rate.c: SEND peers, main context. Armed while CONNECTED. */
void ar_peer_rate_arm(ArPeer *peer);
void ar_peer_rate_disarm(ArPeer *peer);
/* The controller's target and limit in the video track of @tracks. */
void ar_peer_rate_fill_stats(ArPeer *peer, GArray *tracks);
/* Any thread: webrtcbin made its retransmission sender; what it sends over
 * the budget is dropped. */
void ar_peer_rate_watch_rtx(ArPeer *peer, GstElement *rtxsend);
/* The encoder's output (@encoded, its src pad): the delta frames made while
 * a key frame request waits are not sent (ArKeyWait). */
void ar_peer_rate_watch_frames(ArPeer *peer, GstPad *encoded);
/* The peer's context: the controller decided (a window, a probe's figures, a
 * tick); the encoder hears it, with @why in the log. */
void ar_peer_rate_apply(ArPeer *peer, guint old_kbps, ArRateLevel old_level, const char *why);
/* A pad of the bundle's RTP session element (rtpbin's session 0), or NULL. */
GstPad *ar_peer_session_pad(ArPeer *peer, const char *name);
/* A streaming thread (the session's send), under the peer's lock: what to do
 * with one packet's transport-wide number and size, sent at @now_ns. */
typedef void (*ArPeerSentFunc)(ArPeer *peer, guint16 seqnum, guint size, guint64 now_ns);
/* ...each packet of a pad probe's buffer or list, by extension @id. */
void ar_peer_each_sent(ArPeer *peer, GstPadProbeInfo *info, guint id, ArPeerSentFunc func,
                       guint64 now_ns);

/* ar-peer-probe.c: SEND peers, main context (the peer's). */
/* rtprtxsend's thread: one of our video packets went (ArRecentPackets). */
void ar_recent_packets_add(ArRecentPackets *recent, guint16 seqnum, gsize size);
/* A probe, if the controller wants one and we can send its padding. */
void ar_peer_probe_maybe_start(ArPeer *peer, gint64 now);
/* No padding any more (the probe's time is up, or the call ends). */
void ar_peer_probe_stop(ArPeer *peer);
/* The probe's packets were all reported (@data its figures, or NULL). */
void ar_peer_probe_done_in_context(ArPeer *peer, gpointer data);

/* How long our sent packets are kept for retransmission: a request later than
 * that comes after its frame's playout (browsers' jitter buffers hold well
 * under a second). The larger of 1 s and three round trips (a second request
 * for a packet comes a round trip after the first), at most 3 s, as libwebrtc
 * keeps its own. webrtcbin keeps 500 packets per stream instead: 16 s of easy
 * 720p content at 200 kbit/s, ~0.6 MB of a call's memory. */
#define AR_PEER_RTX_HISTORY_MS 1000
#define AR_PEER_RTX_HISTORY_MAX_MS 3000
guint ar_peer_rtx_history_ms(double rtt_ms);

G_END_DECLS
