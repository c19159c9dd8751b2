/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-peer-stats.c: per-track statistics of a peer.
 *
 * Two sources: webrtcbin's "get-stats" (RTP packets/bytes, loss, NACK, RTT),
 * asked about once a second without blocking (the reply arrives on
 * webrtcbin's thread and is stored under a mutex), and our own pad probes
 * (frames, size, audio level) that run on streaming threads.
 */
#include "ar-media-priv.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <math.h>
#include <string.h>

#define AR_STATS_INTERVAL_MS 1000
#define AR_LEVEL_FLOOR_DB -127.0

enum { AR_TRACK_AUDIO, AR_TRACK_VIDEO, AR_N_TRACKS };

/* Filled from streaming threads by pad probes; guarded by its own mutex. */
struct _ArTrackProbe {
  GMutex lock;
  guint64 frames;
  gint64 last_frame_us; /* video: monotonic time of the last frame */
  guint64 freezes;      /* video: gaps of at least AR_FREEZE_MIN_MS between frames */
  gint64 freeze_us;     /* their total length */
  guint width, height;
  double sum_squares; /* audio: since the last refresh, normalized samples */
  guint64 n_samples;
  GstVideoInfo vinfo; /* video: raw caps, when the pad carries raw video */
  gboolean have_vinfo;
  gboolean vp8; /* encoded VP8 (no size in its caps): read from key frames */
  /* The latency benchmark (ANYROOM_TEST_STAMP=1): delays read from the time
   * stamps in decoded frames, the last AR_STAMP_SAMPLES of them. */
  float *stamp_ms;
  guint stamp_n; /* samples in all (the ring holds the last ones) */
  double luma;   /* video: mean luma of the last sampled frame, -1 unknown */
};

#define AR_STAMP_SAMPLES 4096

/* The size in a VP8 key frame's header (RFC 6386, 9.1): a 3-byte frame tag
 * whose bit 0 is 0 for a key frame, the start code 9d 01 2a, then 14-bit
 * width and height (little endian; the top 2 bits are a scale). */
static gboolean
ar_vp8_key_frame_size(GstBuffer *buf, guint *width, guint *height)
{
  guint8 h[10];

  if (gst_buffer_extract(buf, 0, h, sizeof(h)) != sizeof(h) || (h[0] & 1) != 0 || h[3] != 0x9d ||
      h[4] != 0x01 || h[5] != 0x2a)
    return FALSE;
  *width = (h[6] | (h[7] << 8)) & 0x3fff;
  *height = (h[8] | (h[9] << 8)) & 0x3fff;
  return *width > 0 && *height > 0;
}

typedef struct {
  char codec[16];
  guint ssrc; /* of the media stream, 0 until known */
  /* From get-stats (under ArPeerStats.lock). */
  guint64 packets, bytes, packets_lost, nack_count;
  double rtt_ms;
  double jitter_ms; /* -1: unknown */
  gboolean have_rtp;
  /* Derived at each refresh. */
  guint64 prev_bytes;
  gint64 prev_bytes_time;
  double bitrate_bps;
  guint64 prev_frames;
  gint64 prev_frames_time;
  double framerate;
  double audio_level;
} ArTrackCounters;

struct _ArPeerStats {
  gint ref_count; /* atomic: held by pending promises too */
  gint stopped;   /* atomic */
  GstElement *webrtc;
  GMainContext *context;
  gboolean send;
  GSource *timer;
  gboolean request_pending; /* main context only */

  GMutex lock; /* protects counters */
  ArTrackCounters counters[AR_N_TRACKS];
  ArTrackProbe probes[AR_N_TRACKS];
  char *ice_path;      /* under lock: selected candidate pair, NULL until known */
  char *local_address; /* under lock: its local candidate's address */
  gboolean local_is_host;

  /* RECV, main context: the jitter buffer's latency follows the loss
   * (ar_peer_stats_adapt_jitter). 0 base: fixed. */
  guint jitter_base_ms, jitter_now_ms;
  guint64 jitter_lost_seen;
  gint64 jitter_hold_until; /* monotonic us */
};

/* Under packet loss, retransmissions (NACK -> RTX) need a jitter buffer that
 * waits long enough for a second or third try: at 60 ms a 10 % loss froze the
 * picture for 14 s of 30, at 200 ms not at all (./build.sh bench loss). A
 * loss raises the latency to AR_JITTER_LOSS_MS at once; AR_JITTER_CALM_S
 * without one brings it back to the configured value (the lowest delay). */
#define AR_JITTER_LOSS_MS 200
#define AR_JITTER_CALM_S 10

static ArPeerStats *
ar_peer_stats_ref(ArPeerStats *stats)
{
  g_atomic_int_inc(&stats->ref_count);
  return stats;
}

static void
ar_peer_stats_unref(gpointer data)
{
  ArPeerStats *stats = data;

  if (!g_atomic_int_dec_and_test(&stats->ref_count))
    return;
  for (int i = 0; i < AR_N_TRACKS; i++) {
    g_mutex_clear(&stats->probes[i].lock);
    g_free(stats->probes[i].stamp_ms);
  }
  g_mutex_clear(&stats->lock);
  g_free(stats->ice_path);
  g_free(stats->local_address);
  gst_object_unref(stats->webrtc);
  g_main_context_unref(stats->context);
  g_free(stats);
}

ArPeerStats *
ar_peer_stats_new(GstElement *webrtc, GMainContext *context, gboolean send)
{
  ArPeerStats *stats = g_new0(ArPeerStats, 1);

  stats->ref_count = 1;
  stats->webrtc = gst_object_ref(webrtc);
  stats->context = g_main_context_ref(context);
  stats->send = send;
  g_mutex_init(&stats->lock);
  for (int i = 0; i < AR_N_TRACKS; i++) {
    g_mutex_init(&stats->probes[i].lock);
    stats->counters[i].rtt_ms = -1;
    stats->counters[i].jitter_ms = -1;
    stats->counters[i].audio_level = AR_LEVEL_FLOOR_DB;
    stats->probes[i].luma = -1;
  }
  return stats;
}

void
ar_peer_stats_free(ArPeerStats *stats)
{
  if (stats == NULL)
    return;
  ar_peer_stats_stop(stats);
  ar_peer_stats_unref(stats);
}

static int
ar_track_index(const char *kind)
{
  return g_strcmp0(kind, "video") == 0 ? AR_TRACK_VIDEO : AR_TRACK_AUDIO;
}

ArTrackProbe *
ar_peer_stats_get_probe(ArPeerStats *stats, const char *kind)
{
  return &stats->probes[ar_track_index(kind)];
}

void
ar_peer_stats_set_codec(ArPeerStats *stats, const char *kind, const char *codec)
{
  ArTrackCounters *c = &stats->counters[ar_track_index(kind)];

  g_mutex_lock(&stats->lock);
  g_strlcpy(c->codec, codec != NULL ? codec : "", sizeof(c->codec));
  for (char *p = c->codec; *p; p++)
    *p = g_ascii_toupper(*p);
  g_mutex_unlock(&stats->lock);
}

void
ar_peer_stats_set_ssrc(ArPeerStats *stats, const char *kind, guint ssrc)
{
  g_mutex_lock(&stats->lock);
  stats->counters[ar_track_index(kind)].ssrc = ssrc;
  g_mutex_unlock(&stats->lock);
}

/* ---- pad probes ---- */

/* Mean luma of an 8-bit YUV frame from an 8x8 grid of samples (cheap). */
static double
ar_sample_luma(const GstVideoInfo *vinfo, GstBuffer *buf)
{
  GstVideoFrame frame;
  guint w = GST_VIDEO_INFO_WIDTH(vinfo), h = GST_VIDEO_INFO_HEIGHT(vinfo);
  guint sum = 0;

  if (!GST_VIDEO_INFO_IS_YUV(vinfo) || GST_VIDEO_INFO_COMP_DEPTH(vinfo, 0) != 8 || w < 8 || h < 8 ||
      !gst_video_frame_map(&frame, vinfo, buf, GST_MAP_READ))
    return -1;
  for (guint j = 0; j < 8; j++) {
    for (guint i = 0; i < 8; i++) {
      const guint8 *line = (const guint8 *)GST_VIDEO_FRAME_COMP_DATA(&frame, 0) +
                           (gsize)((h * (2 * j + 1)) / 16) * GST_VIDEO_FRAME_COMP_STRIDE(&frame, 0);
      sum += line[((w * (2 * i + 1)) / 16) * GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, 0)];
    }
  }
  gst_video_frame_unmap(&frame);
  return sum / 64.0;
}

/* Streaming thread: the delay since the frame's time stamp, if it carries one. */
static void
ar_probe_read_stamp(ArTrackProbe *probe, const GstVideoInfo *vinfo, GstBuffer *buf)
{
  GstVideoFrame frame;
  guint32 stamp;
  gboolean read;

  if (!ar_stamp_fits(vinfo) ||
      !gst_video_frame_map(&frame, (GstVideoInfo *)vinfo, buf, GST_MAP_READ))
    return;
  read = ar_stamp_read(&frame, &stamp);
  gst_video_frame_unmap(&frame);
  gint32 delay = (gint32)(ar_stamp_now() - stamp);
  if (!read || delay < 0 || delay > 10000)
    return;
  g_mutex_lock(&probe->lock);
  if (probe->stamp_ms == NULL)
    probe->stamp_ms = g_new0(float, AR_STAMP_SAMPLES);
  probe->stamp_ms[probe->stamp_n++ % AR_STAMP_SAMPLES] = (float)delay;
  g_mutex_unlock(&probe->lock);
}

static int
ar_cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static GstPadProbeReturn
ar_video_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArTrackProbe *probe = user_data;

  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstVideoInfo vinfo;
    gboolean raw, have_vinfo;
    double luma = -1;
    gint64 now = g_get_monotonic_time();

    g_mutex_lock(&probe->lock);
    probe->frames++;
    if (probe->last_frame_us > 0 && now - probe->last_frame_us >= AR_FREEZE_MIN_MS * 1000) {
      probe->freezes++;
      probe->freeze_us += now - probe->last_frame_us;
    }
    probe->last_frame_us = now;
    raw = probe->have_vinfo && probe->frames % 10 == 1;
    have_vinfo = probe->have_vinfo;
    vinfo = probe->vinfo;
    if (probe->vp8) {
      guint w, h;
      if (ar_vp8_key_frame_size(GST_PAD_PROBE_INFO_BUFFER(info), &w, &h)) {
        probe->width = w;
        probe->height = h;
      }
    }
    g_mutex_unlock(&probe->lock);
    if (have_vinfo && ar_stamp_enabled())
      ar_probe_read_stamp(probe, &vinfo, GST_PAD_PROBE_INFO_BUFFER(info));
    if (raw) {
      luma = ar_sample_luma(&vinfo, GST_PAD_PROBE_INFO_BUFFER(info));
      g_mutex_lock(&probe->lock);
      probe->luma = luma;
      g_mutex_unlock(&probe->lock);
    }
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);

    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps = NULL;
      const GstStructure *s;
      int w = 0, h = 0;

      gst_event_parse_caps(event, &caps);
      if (caps != NULL && gst_caps_get_size(caps) > 0) {
        GstVideoInfo vinfo;
        gboolean raw = gst_structure_has_name(gst_caps_get_structure(caps, 0), "video/x-raw") &&
                       gst_video_info_from_caps(&vinfo, caps);

        g_mutex_lock(&probe->lock);
        probe->have_vinfo = raw;
        probe->vp8 = gst_structure_has_name(gst_caps_get_structure(caps, 0), "video/x-vp8");
        if (raw)
          probe->vinfo = vinfo;
        g_mutex_unlock(&probe->lock);
        s = gst_caps_get_structure(caps, 0);
        if (gst_structure_get_int(s, "width", &w) && gst_structure_get_int(s, "height", &h) &&
            w > 0 && h > 0) {
          g_mutex_lock(&probe->lock);
          probe->width = (guint)w;
          probe->height = (guint)h;
          g_mutex_unlock(&probe->lock);
        }
      }
    }
  }
  return GST_PAD_PROBE_OK;
}

void
ar_track_probe_attach_video(ArTrackProbe *probe, GstPad *pad)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    ar_video_probe, probe, NULL);
}

/* Audio arrives as interleaved S16LE (capsfilters before the probe). */
static GstPadProbeReturn
ar_audio_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  ArTrackProbe *probe = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  double sum = 0;
  gsize n;

  if (buf == NULL || !gst_buffer_map(buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  n = map.size / 2;
  for (gsize i = 0; i < n; i++) {
    gint16 v = (gint16)GUINT16_FROM_LE(((const guint16 *)map.data)[i]);
    double x = v / 32768.0;

    sum += x * x;
  }
  gst_buffer_unmap(buf, &map);
  g_mutex_lock(&probe->lock);
  probe->sum_squares += sum;
  probe->n_samples += n;
  g_mutex_unlock(&probe->lock);
  return GST_PAD_PROBE_OK;
}

void
ar_track_probe_attach_audio(ArTrackProbe *probe, GstPad *pad)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, ar_audio_probe, probe, NULL);
}

/* ---- webrtcbin stats ---- */

static guint64
ar_get_u64(const GstStructure *s, const char *field)
{
  const GValue *v = gst_structure_get_value(s, field);

  if (v == NULL)
    return 0;
  if (G_VALUE_HOLDS_UINT64(v))
    return g_value_get_uint64(v);
  if (G_VALUE_HOLDS_INT64(v))
    return (guint64)MAX(g_value_get_int64(v), 0);
  if (G_VALUE_HOLDS_UINT(v))
    return g_value_get_uint(v);
  if (G_VALUE_HOLDS_INT(v))
    return (guint64)MAX(g_value_get_int(v), 0);
  return 0;
}

typedef struct {
  gboolean have_rtp;
  guint64 packets, bytes, packets_lost, nack_count;
  double rtt_ms;    /* send: of this stream's report block, 0: none */
  double jitter_ms; /* recv: inbound-rtp; send: the report block's; 0: none */
} ArParsedTrack;

typedef struct {
  ArParsedTrack tracks[AR_N_TRACKS];
  guint ssrcs[AR_N_TRACKS];
  gboolean send;
  double rtt_ms; /* of the (bundled) transport: any report block */
} ArParseCtx;

/* Which track a stats entry is about. webrtcbin 1.22 labels every stream of a
 * bundled transport with the same "kind" and "codec-id", so we go by SSRC
 * (learnt from our pads' caps), else by the RTP clock rate. Unknown SSRCs
 * (RTX repair streams) are skipped once the media SSRCs are known. */
static int
ar_stats_track_of(ArParseCtx *ctx, const GstStructure *s)
{
  guint ssrc = 0;
  gboolean known_any = FALSE;
  const GstStructure *src = NULL;
  int clock_rate = -1;
  int index = -1;

  if (gst_structure_get_uint(s, "ssrc", &ssrc)) {
    for (int i = 0; i < AR_N_TRACKS; i++) {
      if (ctx->ssrcs[i] != 0) {
        known_any = TRUE;
        if (ctx->ssrcs[i] == ssrc)
          return i;
      }
    }
  }
  if (known_any)
    return -1;
  if (gst_structure_has_field_typed(s, "gst-rtpsource-stats", GST_TYPE_STRUCTURE)) {
    src = gst_value_get_structure(gst_structure_get_value(s, "gst-rtpsource-stats"));
    if (src != NULL && gst_structure_get_int(src, "clock-rate", &clock_rate) && clock_rate > 0)
      index = clock_rate == 90000 ? AR_TRACK_VIDEO : AR_TRACK_AUDIO;
  }
  return index;
}

/* "jitter" (seconds) of an inbound-rtp or remote-inbound-rtp block. */
static void
ar_stats_jitter(const GstStructure *s, ArParsedTrack *t)
{
  double jitter = -1;

  if (gst_structure_get_double(s, "jitter", &jitter) && jitter >= 0 && jitter < 60)
    t->jitter_ms = MAX(t->jitter_ms, jitter * 1000.0);
}

static gboolean
ar_stats_parse_one(GQuark field, const GValue *value, gpointer user_data)
{
  ArParseCtx *ctx = user_data;
  const GstStructure *s;
  GstWebRTCStatsType type = 0;
  int index;
  ArParsedTrack *t;

  if (!GST_VALUE_HOLDS_STRUCTURE(value))
    return TRUE;
  s = gst_value_get_structure(value);
  if (!gst_structure_get_enum(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, (gint *)&type))
    return TRUE;
  if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
    double rtt = -1;

    /* webrtcbin 1.22 files report blocks under either stream of a bundle. */
    if (gst_structure_get_double(s, "round-trip-time", &rtt) && rtt >= 0 && rtt < 60)
      ctx->rtt_ms = MAX(ctx->rtt_ms, rtt * 1000.0);
  }
  if (type != GST_WEBRTC_STATS_OUTBOUND_RTP && type != GST_WEBRTC_STATS_INBOUND_RTP &&
      type != GST_WEBRTC_STATS_REMOTE_INBOUND_RTP)
    return TRUE;
  index = ar_stats_track_of(ctx, s);
  if (index < 0)
    return TRUE;
  t = &ctx->tracks[index];

  if (type == GST_WEBRTC_STATS_OUTBOUND_RTP && ctx->send) {
    t->have_rtp = TRUE;
    t->packets += ar_get_u64(s, "packets-sent");
    t->bytes += ar_get_u64(s, "bytes-sent");
    t->nack_count += ar_get_u64(s, "nack-count");
  } else if (type == GST_WEBRTC_STATS_INBOUND_RTP && !ctx->send) {
    t->have_rtp = TRUE;
    t->packets += ar_get_u64(s, "packets-received");
    t->bytes += ar_get_u64(s, "bytes-received");
    t->packets_lost += ar_get_u64(s, "packets-lost");
    t->nack_count += ar_get_u64(s, "nack-count");
    ar_stats_jitter(s, t);
  } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP && ctx->send) {
    double rtt = -1;

    t->packets_lost += ar_get_u64(s, "packets-lost");
    /* The stream's own report block (the bandwidth controller wants the
     * video's; another stream's may be older). */
    if (gst_structure_get_double(s, "round-trip-time", &rtt) && rtt >= 0 && rtt < 60)
      t->rtt_ms = rtt * 1000.0;
    ar_stats_jitter(s, t);
  }
  return TRUE;
}

static const GstStructure *
ar_stats_by_id(const GstStructure *reply, const char *id)
{
  const GValue *v;

  if (id == NULL || *id == '\0')
    return NULL;
  v = gst_structure_get_value(reply, id);
  return v != NULL && GST_VALUE_HOLDS_STRUCTURE(v) ? gst_value_get_structure(v) : NULL;
}

static gboolean
ar_stats_find_pair(GQuark field, const GValue *value, gpointer user_data)
{
  const char **pair_id = user_data;
  const GstStructure *s;
  GstWebRTCStatsType type = 0;

  (void)field;
  if (!GST_VALUE_HOLDS_STRUCTURE(value))
    return TRUE;
  s = gst_value_get_structure(value);
  if (!gst_structure_get_enum(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, (gint *)&type) ||
      type != GST_WEBRTC_STATS_TRANSPORT)
    return TRUE;
  *pair_id = gst_structure_get_string(s, "selected-candidate-pair-id");
  return *pair_id == NULL;
}

static void
ar_stats_append_candidate(GString *out, const GstStructure *cand)
{
  const char *type = cand ? gst_structure_get_string(cand, "candidate-type") : NULL;
  const char *relay = cand ? gst_structure_get_string(cand, "relay-protocol") : NULL;

  guint priority = 0;

  g_string_append(out, type != NULL ? type : "unknown");
  if (type == NULL || !g_str_equal(type, "relay"))
    return;
  /* webrtcbin 1.22 says relay-protocol "none". libnice gives a relayed
   * candidate the type preference 30 when it reaches its TURN server over
   * UDP and 20 over TCP or TLS (priority = type preference << 24 | ...). */
  if ((relay == NULL || *relay == '\0' || g_str_equal(relay, "none")) &&
      gst_structure_get_uint(cand, "priority", &priority))
    relay = (priority >> 24) >= 30 ? "udp" : "tcp";
  if (relay != NULL && *relay != '\0')
    g_string_append_printf(out, "/%s", relay);
}

/* "relay/tcp -> host" from the transport's selected candidate pair. */
static char *
ar_stats_ice_path(const GstStructure *reply)
{
  const char *pair_id = NULL;
  const GstStructure *pair;
  GString *out;

  gst_structure_foreach(reply, ar_stats_find_pair, &pair_id);
  pair = ar_stats_by_id(reply, pair_id);
  if (pair == NULL)
    return NULL;
  out = g_string_new(NULL);
  ar_stats_append_candidate(
      out, ar_stats_by_id(reply, gst_structure_get_string(pair, "local-candidate-id")));
  g_string_append(out, " -> ");
  ar_stats_append_candidate(
      out, ar_stats_by_id(reply, gst_structure_get_string(pair, "remote-candidate-id")));
  return g_string_free(out, FALSE);
}

/* The selected pair's local candidate (borrowed from @reply), or NULL. */
static const GstStructure *
ar_stats_local_candidate(const GstStructure *reply)
{
  const char *pair_id = NULL;
  const GstStructure *pair;

  gst_structure_foreach(reply, ar_stats_find_pair, &pair_id);
  pair = ar_stats_by_id(reply, pair_id);
  if (pair == NULL)
    return NULL;
  return ar_stats_by_id(reply, gst_structure_get_string(pair, "local-candidate-id"));
}

char *
ar_peer_stats_get_local_address(ArPeerStats *stats, gboolean *is_host)
{
  char *address;

  *is_host = FALSE;
  if (stats == NULL)
    return NULL;
  g_mutex_lock(&stats->lock);
  address = g_strdup(stats->local_address);
  *is_host = stats->local_is_host;
  g_mutex_unlock(&stats->lock);
  return address;
}

char *
ar_peer_stats_get_ice_path(ArPeerStats *stats)
{
  char *path;

  if (stats == NULL)
    return NULL;
  g_mutex_lock(&stats->lock);
  path = g_strdup(stats->ice_path);
  g_mutex_unlock(&stats->lock);
  return path;
}

/* webrtcbin thread (or wherever the promise is replied). */
static void
ar_peer_stats_on_reply(GstPromise *promise, gpointer user_data)
{
  ArPeerStats *stats = user_data;
  const GstStructure *reply;
  ArParseCtx ctx = {0};
  gint64 now = g_get_monotonic_time();

  if (g_atomic_int_get(&stats->stopped) || gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED)
    return;
  reply = gst_promise_get_reply(promise);
  if (reply == NULL)
    return;
  if (gst_debug_category_get_threshold(GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    g_autofree char *text = gst_structure_to_string(reply);

    GST_LOG("stats: %s", text);
  }
  ctx.send = stats->send;
  g_mutex_lock(&stats->lock);
  for (int i = 0; i < AR_N_TRACKS; i++)
    ctx.ssrcs[i] = stats->counters[i].ssrc;
  g_mutex_unlock(&stats->lock);
  ctx.rtt_ms = -1;
  gst_structure_foreach(reply, ar_stats_parse_one, &ctx);
  g_autofree char *ice_path = ar_stats_ice_path(reply);
  const GstStructure *local = ar_stats_local_candidate(reply);
  const char *local_address = local != NULL ? gst_structure_get_string(local, "address") : NULL;
  const char *local_type = local != NULL ? gst_structure_get_string(local, "candidate-type") : NULL;

  g_mutex_lock(&stats->lock);
  if (ice_path != NULL) {
    g_free(stats->ice_path);
    stats->ice_path = g_steal_pointer(&ice_path);
  }
  if (local_address != NULL) {
    g_free(stats->local_address);
    stats->local_address = g_strdup(local_address);
    stats->local_is_host = g_strcmp0(local_type, "host") == 0;
  }
  for (int i = 0; i < AR_N_TRACKS; i++) {
    ArTrackCounters *c = &stats->counters[i];
    ArParsedTrack *t = &ctx.tracks[i];

    if (!t->have_rtp)
      continue;
    c->have_rtp = TRUE;
    c->packets = t->packets;
    c->bytes = t->bytes;
    c->packets_lost = t->packets_lost;
    c->nack_count = t->nack_count;
    if (t->rtt_ms > 0)
      c->rtt_ms = t->rtt_ms;
    else if (ctx.rtt_ms >= 0)
      c->rtt_ms = ctx.rtt_ms;
    if (t->jitter_ms > 0)
      c->jitter_ms = t->jitter_ms;
    if (c->prev_bytes_time > 0 && now > c->prev_bytes_time && c->bytes >= c->prev_bytes)
      c->bitrate_bps = (double)(c->bytes - c->prev_bytes) * 8.0 * G_USEC_PER_SEC /
                       (double)(now - c->prev_bytes_time);
    c->prev_bytes = c->bytes;
    c->prev_bytes_time = now;
  }
  g_mutex_unlock(&stats->lock);
}

/* Main context: frame rate and audio level over the last interval. */
static void
ar_peer_stats_refresh_probes(ArPeerStats *stats)
{
  gint64 now = g_get_monotonic_time();

  for (int i = 0; i < AR_N_TRACKS; i++) {
    ArTrackProbe *p = &stats->probes[i];
    ArTrackCounters *c = &stats->counters[i];
    guint64 frames, n;
    double sum;

    g_mutex_lock(&p->lock);
    frames = p->frames;
    sum = p->sum_squares;
    n = p->n_samples;
    p->sum_squares = 0;
    p->n_samples = 0;
    g_mutex_unlock(&p->lock);

    g_mutex_lock(&stats->lock);
    if (c->prev_frames_time > 0 && now > c->prev_frames_time && frames >= c->prev_frames)
      c->framerate =
          (double)(frames - c->prev_frames) * G_USEC_PER_SEC / (double)(now - c->prev_frames_time);
    c->prev_frames = frames;
    c->prev_frames_time = now;
    if (n > 0) {
      double ms = sum / (double)n;

      c->audio_level = ms > 0 ? CLAMP(10.0 * log10(ms), AR_LEVEL_FLOOR_DB, 0.0) : AR_LEVEL_FLOOR_DB;
    } else {
      c->audio_level = AR_LEVEL_FLOOR_DB;
    }
    g_mutex_unlock(&stats->lock);
  }
}

/* Main context, each tick: the jitter buffer's latency from the loss seen
 * since the last tick (the counters of the previous get-stats reply). */
static void
ar_peer_stats_adapt_jitter(ArPeerStats *stats)
{
  guint64 lost = 0;
  gint64 now = g_get_monotonic_time();
  guint want;

  if (stats->send || stats->jitter_base_ms == 0 || stats->jitter_base_ms >= AR_JITTER_LOSS_MS)
    return;
  g_mutex_lock(&stats->lock);
  for (int i = 0; i < AR_N_TRACKS; i++)
    lost += stats->counters[i].packets_lost;
  g_mutex_unlock(&stats->lock);
  if (lost > stats->jitter_lost_seen)
    stats->jitter_hold_until = now + AR_JITTER_CALM_S * G_USEC_PER_SEC;
  stats->jitter_lost_seen = lost;
  want = now < stats->jitter_hold_until ? AR_JITTER_LOSS_MS : stats->jitter_base_ms;
  if (want == stats->jitter_now_ms)
    return;
  g_autoptr(GstElement) rtpbin = gst_bin_get_by_name(GST_BIN(stats->webrtc), "rtpbin");
  if (rtpbin == NULL)
    return;
  /* rtpbin hands it to every jitter buffer it has. */
  g_object_set(rtpbin, "latency", want, NULL);
  g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "AR_MEDIA", "jitter", "MESSAGE",
                   "jitter buffer %u -> %u ms (%s)", stats->jitter_now_ms, want,
                   want > stats->jitter_now_ms ? "packet loss: time for retransmissions"
                                               : "no loss for a while");
  stats->jitter_now_ms = want;
}

void
ar_peer_stats_set_jitter(ArPeerStats *stats, guint base_ms)
{
  stats->jitter_base_ms = stats->jitter_now_ms = base_ms;
}

static gboolean
ar_peer_stats_tick(gpointer user_data)
{
  ArPeerStats *stats = user_data;
  GstPromise *promise;

  if (g_atomic_int_get(&stats->stopped))
    return G_SOURCE_REMOVE;
  ar_peer_stats_adapt_jitter(stats);
  ar_peer_stats_refresh_probes(stats);
  promise = gst_promise_new_with_change_func(ar_peer_stats_on_reply, ar_peer_stats_ref(stats),
                                             ar_peer_stats_unref);
  g_signal_emit_by_name(stats->webrtc, "get-stats", NULL, promise);
  gst_promise_unref(promise);
  return G_SOURCE_CONTINUE;
}

void
ar_peer_stats_start(ArPeerStats *stats)
{
  if (stats == NULL || stats->timer != NULL || g_atomic_int_get(&stats->stopped))
    return;
  stats->timer = ar_media_timer_attach(AR_STATS_INTERVAL_MS, "ar-peer-stats", ar_peer_stats_tick,
                                       stats, stats->context);
}

void
ar_peer_stats_stop(ArPeerStats *stats)
{
  if (stats == NULL)
    return;
  g_atomic_int_set(&stats->stopped, 1);
  if (stats->timer != NULL) {
    g_source_destroy(stats->timer);
    g_clear_pointer(&stats->timer, g_source_unref);
  }
}

GArray *
ar_peer_stats_snapshot(ArPeerStats *stats)
{
  GArray *out = g_array_new(FALSE, TRUE, sizeof(ArTrackStats));
  static const char *const kinds[AR_N_TRACKS] = {"audio", "video"};

  for (int i = AR_N_TRACKS - 1; i >= 0; i--) {
    ArTrackProbe *p = &stats->probes[i];
    ArTrackCounters *c = &stats->counters[i];
    ArTrackStats t = {0};
    guint64 frames;
    guint w, h;
    double luma;

    g_mutex_lock(&p->lock);
    frames = p->frames;
    luma = p->luma;
    w = p->width;
    h = p->height;
    t.freezes = p->freezes;
    t.freeze_ms = p->freeze_us / 1000.0;
    if (p->stamp_n > 0) {
      guint n = MIN(p->stamp_n, AR_STAMP_SAMPLES);
      g_autofree float *sorted = g_memdup2(p->stamp_ms, n * sizeof(float));
      qsort(sorted, n, sizeof(float), ar_cmp_float);
      t.stamps = p->stamp_n;
      t.stamp_p50_ms = sorted[n / 2];
      t.stamp_p95_ms = sorted[MIN(n - 1, (guint)(n * 0.95))];
    }
    g_mutex_unlock(&p->lock);

    g_strlcpy(t.kind, kinds[i], sizeof(t.kind));
    g_strlcpy(t.direction, stats->send ? "send" : "recv", sizeof(t.direction));
    g_mutex_lock(&stats->lock);
    /* A receiving peer only reports the tracks that arrived. */
    if (!stats->send && !c->have_rtp && c->codec[0] == '\0' && frames == 0) {
      g_mutex_unlock(&stats->lock);
      continue;
    }
    g_strlcpy(t.codec, c->codec, sizeof(t.codec));
    t.packets = c->packets;
    t.bytes = c->bytes;
    t.packets_lost = c->packets_lost;
    t.nack_count = c->nack_count;
    t.bitrate_bps = c->bitrate_bps;
    t.rtt_ms = c->rtt_ms;
    t.jitter_ms = c->jitter_ms;
    if (i == AR_TRACK_VIDEO) {
      t.frames = frames;
      t.width = w;
      t.height = h;
      t.framerate = c->framerate;
      t.audio_level = AR_LEVEL_FLOOR_DB;
      t.luma = luma;
    } else {
      t.audio_level = c->audio_level;
      t.luma = -1;
    }
    g_mutex_unlock(&stats->lock);
    g_array_append_val(out, t);
  }
  return out;
}
