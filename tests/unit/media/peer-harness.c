/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * peer-harness.c: the call harness shared by the peer tests (see
 * peer-harness.h).
 */
#include "peer-harness.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

/* ---- helpers ---- */

static gboolean
has_non_loopback_address(void)
{
  struct ifaddrs *ifs = NULL, *i;
  gboolean found = FALSE;

  if (getifaddrs(&ifs) != 0)
    return FALSE;
  for (i = ifs; i != NULL && !found; i = i->ifa_next) {
    if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
      continue;
    found = i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6;
  }
  freeifaddrs(ifs);
  return found;
}

gboolean
require_network(void)
{
  if (has_non_loopback_address())
    return TRUE;
  g_test_fail_printf("No network interface besides lo is up: libnice gathers no loopback "
                     "candidates. Run this test inside a network namespace with a veth pair "
                     "(ip netns exec ...), as the integration harness does.");
  return FALSE;
}

static gboolean
wake_up(gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default main context until @pred holds or @timeout_ms passed.
 * Returns FALSE and fails the test on timeout. */
gboolean
wait_for(Call *call, gboolean (*pred)(Call *call), guint timeout_ms, const char *what)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  guint ticker = g_timeout_add(20, wake_up, NULL);
  gboolean ok = TRUE;

  while (!pred(call)) {
    if (g_get_monotonic_time() > deadline) {
      g_test_fail_printf("timed out after %u ms waiting for %s (send %s%s%s, recv %s%s%s)",
                         timeout_ms, what, ar_peer_state_to_string(call->send.state),
                         call->send.error ? ": " : "",
                         call->send.error ? call->send.error->message : "",
                         ar_peer_state_to_string(call->recv.state), call->recv.error ? ": " : "",
                         call->recv.error ? call->recv.error->message : "");
      ok = FALSE;
      break;
    }
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(ticker);
  return ok;
}

/* Runs the main loop for @ms regardless. */
void
spin(guint ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
  guint ticker = g_timeout_add(20, wake_up, NULL);

  while (g_get_monotonic_time() < deadline)
    g_main_context_iteration(NULL, TRUE);
  g_source_remove(ticker);
}

/* Changes one hex digit in every a=fingerprint line (all carry the same one). */
static char *
tamper_fingerprint(const char *sdp)
{
  char *out = g_strdup(sdp);
  char *p = out;
  guint changed = 0;

  while ((p = strstr(p, "a=fingerprint:")) != NULL) {
    char *space = strchr(p, ' ');
    char *digit;

    g_assert_nonnull(space);
    digit = space + 1 + 4; /* a hex digit of the third byte */
    g_assert_true(g_ascii_isxdigit(*digit));
    *digit = *digit == '0' ? '1' : '0';
    changed++;
    p = space;
  }
  g_assert_cmpuint(changed, >, 0);
  return out;
}

const ArTrackStats *
find_track(GArray *stats, const char *kind)
{
  for (guint i = 0; i < stats->len; i++) {
    const ArTrackStats *t = &g_array_index(stats, ArTrackStats, i);

    if (g_str_equal(t->kind, kind))
      return t;
  }
  return NULL;
}

/* ---- callbacks ---- */

static Side *
side_of(Call *call, ArPeer *peer)
{
  return peer == call->send.peer ? &call->send : &call->recv;
}

static gboolean
side_check_alive(Side *side)
{
  if (side->closing || side->state == AR_PEER_STATE_CLOSED) {
    side->callbacks_after_close++;
    return FALSE;
  }
  return TRUE;
}

static void
on_local_description(ArPeer *peer, const char *type, const char *sdp, gpointer user_data)
{
  Call *call = user_data;
  Side *side = side_of(call, peer);
  g_autofree char *sent = NULL;
  GError **err = &call->signalling_error;

  if (!side_check_alive(side))
    return;
  g_test_message("%s %s:\n%s", side->name, type, sdp);
  if (side == &call->send) {
    g_assert_cmpstr(type, ==, "offer");
    call->offer = g_strdup(sdp);
    sent = call->tamper_offer ? tamper_fingerprint(sdp) : g_strdup(sdp);
    if (!ar_peer_set_remote_description(call->recv.peer, "offer", sent, *err ? NULL : err))
      g_test_message("recv refused the offer");
  } else {
    g_assert_cmpstr(type, ==, "answer");
    call->answer = g_strdup(sdp);
    sent = call->tamper_answer ? tamper_fingerprint(sdp) : g_strdup(sdp);
    if (!ar_peer_set_remote_description(call->send.peer, "answer", sent, *err ? NULL : err))
      g_test_message("send refused the answer");
  }
}

static void
on_local_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer user_data)
{
  Call *call = user_data;
  Side *side = side_of(call, peer);
  ArPeer *other = side == &call->send ? call->recv.peer : call->send.peer;
  g_autoptr(GError) error = NULL;

  if (!side_check_alive(side))
    return;
  if (candidate == NULL) {
    g_assert_false(side->gathering_done);
    side->gathering_done = TRUE;
    return;
  }
  g_assert_false(side->gathering_done);
  g_assert_true(g_str_has_prefix(candidate, "candidate:"));
  side->n_candidates++;
  g_autofree char *sent = g_strdup(candidate);
  if (side == &call->recv && call->rewrite_recv_candidate != NULL) {
    g_free(sent);
    sent = call->rewrite_recv_candidate(call, candidate);
  }
  if (other != NULL && !ar_peer_add_remote_candidate(other, mline, sent, &error))
    g_test_message("%s: candidate refused: %s", side->name, error->message);
}

static void
on_state_changed(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data)
{
  Call *call = user_data;
  Side *side = side_of(call, peer);

  g_test_message("%s: %s%s%s", side->name, ar_peer_state_to_string(state), error ? ": " : "",
                 error ? error->message : "");
  if (state == AR_PEER_STATE_CLOSED) {
    side->closed_count++;
    side->state = state;
    return;
  }
  if (!side_check_alive(side))
    return;
  if (state == AR_PEER_STATE_FAILED) {
    g_assert_nonnull(error);
    g_clear_error(&side->error);
    side->error = g_error_copy(error);
  } else {
    g_assert_null(error);
  }
  if (state == AR_PEER_STATE_CONNECTED)
    side->ever_connected = TRUE;
  side->state = state;
}

static void
on_media_event(ArPeer *peer, ArPeerEvent event, gpointer user_data)
{
  Call *call = user_data;
  Side *side = side_of(call, peer);

  if (!side_check_alive(side))
    return;
  if (event == AR_PEER_EVENT_FIRST_VIDEO_FRAME) {
    g_assert_false(side->first_video);
    side->first_video = TRUE;
  } else if (event == AR_PEER_EVENT_FIRST_AUDIO) {
    g_assert_false(side->first_audio);
    side->first_audio = TRUE;
  }
}

static const ArPeerCallbacks callbacks = {
    .local_description = on_local_description,
    .local_candidate = on_local_candidate,
    .state_changed = on_state_changed,
    .media_event = on_media_event,
};

/* ---- setup ---- */

/* Set before call_init to tap the engine's encoded video. */
const ArVideoSinkFuncs *test_video_sink;
gpointer test_video_sink_data;
const char *const *test_decoders;
gboolean test_decode_video;

ArMediaEngine *
make_engine(const char *const *encoders)
{
  ArMediaConfig cfg;
  g_autoptr(GError) error = NULL;
  ArMediaEngine *engine;

  ar_media_config_init_defaults(&cfg);
  cfg.video_source = "test";
  cfg.audio_source = "test";
  cfg.audio_sink = "none";
  cfg.video_sink = "none";
  cfg.encoders = encoders;
  cfg.decoders = test_decoders;
  cfg.decode_received_video = test_decode_video;
  cfg.width = 320;
  cfg.height = 240;
  cfg.video_bitrate_kbps = 400;
  engine = ar_media_engine_new(&cfg, &error);
  g_assert_no_error(error);
  g_test_message("engine: %s", ar_media_engine_describe(engine));
  if (test_video_sink != NULL)
    ar_media_engine_set_video_sink(engine, test_video_sink, test_video_sink_data);
  return engine;
}

void
call_init(Call *call, const char *const *encoders)
{
  g_autoptr(GError) error = NULL;

  memset(call, 0, sizeof(*call));
  call->engine = make_engine(encoders);
  call->send.call = call->recv.call = call;
  call->send.name = "send";
  call->recv.name = "recv";
  call->send.peer = ar_peer_new(call->engine, AR_PEER_SEND, "publisher", &callbacks, call, &error);
  g_assert_no_error(error);
  call->recv.peer = ar_peer_new(call->engine, AR_PEER_RECV, "feed-1", &callbacks, call, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ar_peer_get_state(call->send.peer), ==, AR_PEER_STATE_NEW);
  g_assert_cmpint(ar_peer_get_direction(call->recv.peer), ==, AR_PEER_RECV);
  g_assert_cmpstr(ar_peer_get_label(call->send.peer), ==, "publisher");
}

void
call_start(Call *call)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(ar_peer_start(call->recv.peer, &error));
  g_assert_no_error(error);
  g_assert_true(ar_peer_start(call->send.peer, &error));
  g_assert_no_error(error);
  g_assert_cmpint(call->send.state, ==, AR_PEER_STATE_CONNECTING);
  g_assert_cmpint(call->recv.state, ==, AR_PEER_STATE_CONNECTING);
}

void
side_close(Side *side)
{
  guint before = side->closed_count;

  if (side->state == AR_PEER_STATE_CLOSED) {
    ar_peer_close(side->peer);
    g_assert_cmpuint(side->closed_count, ==, before);
    return;
  }
  side->closing = FALSE;
  ar_peer_close(side->peer);
  /* Synchronous, once. */
  g_assert_cmpuint(side->closed_count, ==, before + 1);
  g_assert_cmpint(ar_peer_get_state(side->peer), ==, AR_PEER_STATE_CLOSED);
  side->closing = TRUE;
  ar_peer_close(side->peer);
  g_assert_cmpuint(side->closed_count, ==, before + 1);
}

void
call_clear(Call *call)
{
  side_close(&call->send);
  side_close(&call->recv);
  /* Nothing fires after close, even with the main loop running. */
  spin(300);
  g_assert_cmpuint(call->send.callbacks_after_close, ==, 0);
  g_assert_cmpuint(call->recv.callbacks_after_close, ==, 0);
  g_clear_pointer(&call->send.peer, ar_peer_free);
  g_clear_pointer(&call->recv.peer, ar_peer_free);
  g_clear_pointer(&call->engine, ar_media_engine_free);
  g_clear_error(&call->send.error);
  g_clear_error(&call->recv.error);
  g_clear_error(&call->signalling_error);
  g_free(call->offer);
  g_free(call->answer);
}

/* ---- predicates ---- */

gboolean
both_connected(Call *call)
{
  return (call->send.state == AR_PEER_STATE_CONNECTED &&
          call->recv.state == AR_PEER_STATE_CONNECTED) ||
         call->send.state == AR_PEER_STATE_FAILED || call->recv.state == AR_PEER_STATE_FAILED;
}

gboolean
recv_has_media(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");
  const ArTrackStats *a = find_track(stats, "audio");

  if (call->recv.state == AR_PEER_STATE_FAILED || call->send.state == AR_PEER_STATE_FAILED)
    return TRUE;
  return v != NULL && v->frames >= 30 && a != NULL && a->packets > 0 && a->audio_level > -60.0 &&
         call->recv.first_audio && call->recv.first_video;
}

gboolean
someone_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED || call->recv.state == AR_PEER_STATE_FAILED;
}
