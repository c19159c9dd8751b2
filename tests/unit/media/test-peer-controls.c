/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-peer-controls.c: media controls on a running call (mute, camera off,
 * the volume curve) and the engine's encoded video tap, over the call
 * harness of peer-harness.c (part of test-media-peer).
 */
#include "peer-harness.h"

/* ---- media controls ---- */

static gboolean
recv_audio_silent(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *a = find_track(stats, "audio");
  return someone_failed(call) || (a != NULL && a->audio_level < -80.0);
}

static gboolean
recv_audio_loud(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *a = find_track(stats, "audio");
  return someone_failed(call) || (a != NULL && a->audio_level > -30.0);
}

/* Video-range black is 16; the test camera's dark blue is about 60. */
static gboolean
recv_video_black(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");
  return someone_failed(call) || (v != NULL && v->luma >= 0 && v->luma < 24.0);
}

static gboolean
recv_video_lit(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");
  return someone_failed(call) || (v != NULL && v->luma > 35.0);
}

static guint64
recv_video_frames(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");
  return v != NULL ? v->frames : 0;
}

/* Mute and camera off act on a running call, at the far end: silence and a
 * black (still moving) picture; unmute and camera on bring them back. */
static void
test_media_controls(void)
{
  static const char *const h264[] = {"x264enc", NULL};
  Call call;
  guint64 frames;

  if (!require_network())
    return;
  /* The far end's picture is checked decoded (its luma). */
  test_decode_video = TRUE;
  call_init(&call, h264);
  test_decode_video = FALSE;
  g_assert_false(ar_media_engine_get_microphone_muted(call.engine));
  g_assert_true(ar_media_engine_get_camera_enabled(call.engine));
  g_assert_cmpuint(ar_media_engine_get_speaker_volume(call.engine), ==, AR_MEDIA_VOLUME_DEFAULT);
  call_start(&call);
  if (!wait_for(&call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED") ||
      !wait_for(&call, recv_has_media, CALL_TIMEOUT_MS, ">= 30 decoded frames and audio"))
    goto out;
  g_assert_false(someone_failed(&call));
  g_assert_true(wait_for(&call, recv_video_lit, 5000, "a lit picture before camera off"));
  g_assert_true(wait_for(&call, recv_audio_loud, 5000, "the tone before mute"));

  ar_media_engine_set_microphone_muted(call.engine, TRUE);
  g_assert_true(ar_media_engine_get_microphone_muted(call.engine));
  g_assert_true(wait_for(&call, recv_audio_silent, 8000, "silence at the far end after mute"));
  ar_media_engine_set_microphone_muted(call.engine, FALSE);
  g_assert_true(wait_for(&call, recv_audio_loud, 8000, "the tone again after unmute"));

  ar_media_engine_set_camera_enabled(call.engine, FALSE);
  g_assert_true(wait_for(&call, recv_video_black, 8000, "a black picture after camera off"));
  /* The picture goes on (black), it does not freeze. */
  frames = recv_video_frames(&call);
  spin(1500);
  g_assert_cmpuint(recv_video_frames(&call), >, frames + 10);
  g_assert_true(recv_video_black(&call));
  ar_media_engine_set_camera_enabled(call.engine, TRUE);
  g_assert_true(wait_for(&call, recv_video_lit, 8000, "the camera again after camera on"));
  g_assert_false(someone_failed(&call));

out:
  call_clear(&call);
}

static void
test_volume_curve(void)
{
  g_assert_cmpfloat(ar_media_volume_to_gain(0), ==, 0.0);
  g_assert_cmpfloat(ar_media_volume_to_gain(AR_MEDIA_VOLUME_MAX), ==, 1.0);
  g_assert_cmpfloat(ar_media_volume_to_gain(1000), ==, 1.0);
  for (guint i = 1; i <= AR_MEDIA_VOLUME_MAX; i++)
    g_assert_cmpfloat(ar_media_volume_to_gain(i), >, ar_media_volume_to_gain(i - 1));
}

/* ---- encoded video tap ---- */

typedef struct {
  guint units[2], keys[2]; /* [0] local "publisher", [1] remote "feed-1" */
  gboolean first_is_key[2];
  gboolean key_has_config[2]; /* H.264: every key unit carries SPS+PPS */
  gboolean wrong_codec;
  ArVideoCodec codec;
  guint ended[2];
  guint other;
} TapSeen;

static gboolean
has_nal(GBytes *data, guint type)
{
  gsize n;
  const guint8 *p = g_bytes_get_data(data, &n);
  for (gsize i = 0; i + 3 < n; i++) {
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == type)
      return TRUE;
  }
  return FALSE;
}

static int
tap_index(const char *track)
{
  return g_str_equal(track, "publisher") ? 0 : g_str_equal(track, "feed-1") ? 1 : -1;
}

static void
tap_unit(const ArVideoUnit *unit, gpointer data)
{
  TapSeen *t = data;
  int i = tap_index(unit->track);
  if (i < 0) {
    t->other++;
    return;
  }
  g_assert_cmpint(unit->local, ==, i == 0);
  if (unit->codec != t->codec)
    t->wrong_codec = TRUE;
  if (t->units[i] == 0) {
    t->first_is_key[i] = unit->key;
    t->key_has_config[i] = TRUE;
  }
  t->units[i]++;
  if (unit->key) {
    t->keys[i]++;
    if (unit->codec == AR_VIDEO_CODEC_H264 &&
        !(has_nal(unit->data, 7) && has_nal(unit->data, 8) && has_nal(unit->data, 5)))
      t->key_has_config[i] = FALSE;
    if (unit->codec == AR_VIDEO_CODEC_VP8 &&
        (((const guint8 *)g_bytes_get_data(unit->data, NULL))[0] & 1) != 0)
      t->key_has_config[i] = FALSE; /* VP8: bit 0 of a key frame's tag is 0 */
  }
}

static void
tap_ended(const char *track, gpointer data)
{
  TapSeen *t = data;
  int i = tap_index(track);
  if (i >= 0)
    t->ended[i]++;
}

static TapSeen *tap_seen;

static gboolean
tap_has_units(Call *call)
{
  return someone_failed(call) || (tap_seen->units[0] >= 30 && tap_seen->units[1] >= 30);
}

/* Both peers hand their encoded frames to the engine's video sink: whole
 * access units starting with a key frame that carries its parameter sets,
 * as a WebCodecs decoder needs them. */
static void
run_video_tap(const char *const *encoders, ArVideoCodec codec)
{
  static const ArVideoSinkFuncs funcs = {.unit = tap_unit, .ended = tap_ended};
  TapSeen seen = {.codec = codec};
  Call call;

  if (!require_network())
    return;
  tap_seen = &seen;
  test_video_sink = &funcs;
  test_video_sink_data = &seen;
  call_init(&call, encoders);
  test_video_sink = NULL;
  call_start(&call);
  if (!wait_for(&call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED") ||
      !wait_for(&call, tap_has_units, CALL_TIMEOUT_MS, "30 encoded units of each track"))
    goto out;
  g_assert_false(someone_failed(&call));
  g_assert_false(seen.wrong_codec);
  g_assert_cmpuint(seen.other, ==, 0);
  for (int i = 0; i < 2; i++) {
    g_assert_true(seen.first_is_key[i]);
    g_assert_true(seen.key_has_config[i]);
    g_assert_cmpuint(seen.keys[i], >=, 1);
    g_assert_cmpuint(seen.keys[i], <, seen.units[i]);
  }
  g_assert_true(ar_media_engine_request_key_frame(call.engine, "publisher"));
  g_assert_true(ar_media_engine_request_key_frame(call.engine, "feed-1"));
  g_assert_false(ar_media_engine_request_key_frame(call.engine, "nobody"));
  g_assert_cmpuint(seen.ended[0] + seen.ended[1], ==, 0);
out:
  call_clear(&call);
  g_assert_cmpuint(seen.ended[0], ==, 1);
  g_assert_cmpuint(seen.ended[1], ==, 1);
  tap_seen = NULL;
}

static void
test_video_tap_h264(void)
{
  static const char *const h264[] = {"x264enc", NULL};
  run_video_tap(h264, AR_VIDEO_CODEC_H264);
}

static void
test_video_tap_vp8(void)
{
  static const char *const vp8[] = {"vp8enc", NULL};
  run_video_tap(vp8, AR_VIDEO_CODEC_VP8);
}

void
test_peer_add_control_tests(void)
{
  g_test_add_func("/media/peer/media-controls", test_media_controls);
  g_test_add_func("/media/peer/volume-curve", test_volume_curve);
  g_test_add_func("/media/peer/video-tap-h264", test_video_tap_h264);
  g_test_add_func("/media/peer/video-tap-vp8", test_video_tap_vp8);
}
