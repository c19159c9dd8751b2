/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-peer.c: real WebRTC calls between a SEND and a RECV peer in this
 * process (test pattern + tone, 320x240), the DTLS fingerprint check with a
 * tampered SDP, and the validation of untrusted SDP/candidates.
 *
 * The two webrtcbins connect over the host's own addresses. libnice does not
 * gather candidates on the loopback interface: the machine (or the network
 * namespace the test runs in) needs one non-loopback interface with an
 * address; the test says so and fails otherwise.
 */
#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ar-media.h"

#define CALL_TIMEOUT_MS 20000

typedef struct _Call Call;

typedef struct {
  Call *call;
  ArPeer *peer;
  const char *name;
  ArPeerState state;
  gboolean ever_connected;
  GError *error;
  guint closed_count;
  guint n_candidates;
  gboolean gathering_done;
  gboolean first_video;
  gboolean first_audio;
  guint callbacks_after_close;
  gboolean closing;
} Side;

struct _Call {
  ArMediaEngine *engine;
  Side send, recv;
  gboolean tamper_offer;
  gboolean tamper_answer;
  gboolean mdns_recv; /* the send side gets recv's host candidates as <uuid>.local */
  guint n_mdns;
  char *offer;
  char *answer;
  GError *signalling_error;
};

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

static gboolean
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
static gboolean
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
static void
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

static const ArTrackStats *
find_track(GArray *stats, const char *kind)
{
  for (guint i = 0; i < stats->len; i++) {
    const ArTrackStats *t = &g_array_index(stats, ArTrackStats, i);

    if (g_str_equal(t->kind, kind))
      return t;
  }
  return NULL;
}

static void
log_stats(const char *name, GArray *stats)
{
  for (guint i = 0; i < stats->len; i++) {
    const ArTrackStats *t = &g_array_index(stats, ArTrackStats, i);

    g_test_message("%s %s/%s %s: %ux%u frames=%" G_GUINT64_FORMAT
                   " %.1f fps packets=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT
                   " lost=%" G_GUINT64_FORMAT " nack=%" G_GUINT64_FORMAT
                   " %.0f bit/s rtt=%.1f ms level=%.1f dB",
                   name, t->kind, t->direction, t->codec, t->width, t->height, t->frames,
                   t->framerate, t->packets, t->bytes, t->packets_lost, t->nack_count,
                   t->bitrate_bps, t->rtt_ms, t->audio_level);
  }
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

/* ---- mDNS host candidates (what browsers send: "<uuid>.local") ---- */

/* The system's resolver stands in for nss-mdns/avahi, which cannot run in the
 * test's private namespace (no system bus, no multicast daemon): a GResolver
 * that knows the names this test made up (or none), installed as the default
 * one, which webrtcbin asks for ".local" candidates. */
typedef struct {
  GResolver parent;
} TestResolver;
typedef struct {
  GResolverClass parent_class;
} TestResolverClass;
G_DEFINE_TYPE(TestResolver, test_resolver, G_TYPE_RESOLVER)

static GHashTable *mdns_names; /* "<uuid>.local" -> address; NULL: nothing resolves */
static guint mdns_lookups;

static GList *
test_resolver_lookup(GResolver *r, const char *name, GCancellable *c, GError **error)
{
  const char *address = mdns_names != NULL ? g_hash_table_lookup(mdns_names, name) : NULL;

  mdns_lookups++;
  if (address == NULL) {
    g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "no mDNS answer for %s", name);
    return NULL;
  }
  return g_list_append(NULL, g_inet_address_new_from_string(address));
}

static void
test_resolver_lookup_async(GResolver *r, const char *name, GCancellable *c, GAsyncReadyCallback cb,
                           gpointer data)
{
  g_autoptr(GTask) task = g_task_new(r, c, cb, data);
  GError *error = NULL;
  GList *list = test_resolver_lookup(r, name, c, &error);

  if (list != NULL)
    g_task_return_pointer(task, list, (GDestroyNotify)g_resolver_free_addresses);
  else
    g_task_return_error(task, error);
}

static GList *
test_resolver_lookup_finish(GResolver *r, GAsyncResult *res, GError **error)
{
  return g_task_propagate_pointer(G_TASK(res), error);
}

static void
test_resolver_class_init(TestResolverClass *klass)
{
  GResolverClass *rc = G_RESOLVER_CLASS(klass);

  rc->lookup_by_name = test_resolver_lookup;
  rc->lookup_by_name_async = test_resolver_lookup_async;
  rc->lookup_by_name_finish = test_resolver_lookup_finish;
}

static void
test_resolver_init(TestResolver *r)
{
}

/* "candidate:F 1 udp P 10.97.0.2 5000 typ host ..." -> "... <uuid>.local 5000 typ host ...". */
static char *
mdns_rewrite(Call *call, const char *candidate)
{
  g_auto(GStrv) f = g_strsplit(candidate, " ", -1);
  g_autofree char *uuid = NULL;

  if (g_strv_length(f) < 8 || !g_str_equal(f[7], "host"))
    return g_strdup(candidate);
  uuid = g_uuid_string_random();
  g_autofree char *name = g_strdup_printf("%s.local", uuid);
  if (mdns_names != NULL)
    g_hash_table_insert(mdns_names, g_strdup(name), g_strdup(f[4]));
  g_free(f[4]);
  f[4] = g_steal_pointer(&name);
  call->n_mdns++;
  return g_strjoinv(" ", f);
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
  if (side == &call->recv && call->mdns_recv)
    sent = mdns_rewrite(call, candidate);
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
static const ArVideoSinkFuncs *test_video_sink;
static gpointer test_video_sink_data;

static ArMediaEngine *
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

static void
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

static void
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

static void
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

static void
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

static gboolean
both_connected(Call *call)
{
  return (call->send.state == AR_PEER_STATE_CONNECTED &&
          call->recv.state == AR_PEER_STATE_CONNECTED) ||
         call->send.state == AR_PEER_STATE_FAILED || call->recv.state == AR_PEER_STATE_FAILED;
}

static gboolean
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

static gboolean
send_has_rtt(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->send.peer);
  const ArTrackStats *v = find_track(stats, "video");

  return v != NULL && v->rtt_ms >= 0;
}

static gboolean
gathering_done(Call *call)
{
  return call->send.gathering_done && call->recv.gathering_done;
}

static gboolean
someone_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED || call->recv.state == AR_PEER_STATE_FAILED;
}

/* ---- tests ---- */

static void
run_loopback_call(const char *const *encoders, const char *codec)
{
  Call call;
  g_autoptr(GArray) rs = NULL;
  g_autoptr(GArray) ss = NULL;
  const ArTrackStats *v, *a, *sv, *sa;
  gint64 t0;

  if (!require_network())
    return;
  call_init(&call, encoders);
  t0 = g_get_monotonic_time();
  call_start(&call);

  if (!wait_for(&call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED"))
    goto out;
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_no_error(call.signalling_error);
  g_test_message("connected after %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpuint(call.send.n_candidates, >, 0);
  g_assert_cmpuint(call.recv.n_candidates, >, 0);
  /* End of candidates is reported once (NULL), after the candidates. */
  wait_for(&call, gathering_done, CALL_TIMEOUT_MS, "end of candidates on both sides");

  /* The SDP carries what browsers need. */
  g_assert_nonnull(call.offer);
  g_assert_nonnull(strstr(call.offer, "a=fingerprint:sha-256 "));
  g_assert_nonnull(strstr(call.offer, "a=sendonly"));
  g_assert_nonnull(strstr(call.offer, "a=group:BUNDLE"));
  /* RFC 7587: Opus is always "opus/48000/2"; Janus refuses the m-line otherwise. */
  g_assert_nonnull(g_strstr_len(call.offer, -1, "OPUS/48000/2")
                       ? call.offer
                       : strstr(call.offer, "opus/48000/2"));
  g_assert_nonnull(strstr(call.offer, "nack"));
  if (g_str_equal(codec, "H264")) {
    g_assert_nonnull(strstr(call.offer, "H264/90000"));
    g_assert_nonnull(strstr(call.offer, "profile-level-id=42e01f"));
    g_assert_nonnull(strstr(call.offer, "packetization-mode=1"));
    g_assert_nonnull(strstr(call.offer, "level-asymmetry-allowed=1"));
  } else {
    g_assert_nonnull(strstr(call.offer, "VP8/90000"));
  }
  g_assert_nonnull(call.answer);
  g_assert_nonnull(strstr(call.answer, "a=recvonly"));

  if (!wait_for(&call, recv_has_media, CALL_TIMEOUT_MS, ">= 30 decoded frames and audio"))
    goto out;
  g_assert_false(someone_failed(&call));
  g_test_message("media after %.0f ms", (g_get_monotonic_time() - t0) / 1000.0);

  /* Let one more stats round pass so RTCP-based values and rates are in. */
  wait_for(&call, send_has_rtt, 8000, "an RTT measurement on the sending side");
  spin(1100);

  rs = ar_peer_get_stats(call.recv.peer);
  ss = ar_peer_get_stats(call.send.peer);
  log_stats("recv", rs);
  log_stats("send", ss);
  v = find_track(rs, "video");
  a = find_track(rs, "audio");
  sv = find_track(ss, "video");
  sa = find_track(ss, "audio");
  g_assert_nonnull(v);
  g_assert_nonnull(a);
  g_assert_nonnull(sv);
  g_assert_nonnull(sa);

  g_assert_cmpstr(v->direction, ==, "recv");
  g_assert_cmpstr(v->codec, ==, codec);
  g_assert_cmpuint(v->width, ==, 320);
  g_assert_cmpuint(v->height, ==, 240);
  g_assert_cmpuint(v->frames, >=, 30);
  g_assert_cmpuint(v->packets, >, 0);
  g_assert_cmpuint(v->bytes, >, 0);
  g_assert_cmpfloat(v->framerate, >, 10.0);
  g_assert_cmpfloat(v->bitrate_bps, >, 0.0);

  g_assert_cmpstr(a->codec, ==, "OPUS");
  g_assert_cmpuint(a->packets, >, 0);
  /* A 0.3 sine is about -13.5 dBov: real energy, not silence. */
  g_assert_cmpfloat(a->audio_level, >, -30.0);
  g_assert_cmpfloat(a->audio_level, <=, 0.0);

  g_assert_cmpstr(sv->direction, ==, "send");
  g_assert_cmpstr(sv->codec, ==, codec);
  g_assert_cmpuint(sv->width, ==, 320);
  g_assert_cmpuint(sv->height, ==, 240);
  g_assert_cmpuint(sv->frames, >=, 30);
  g_assert_cmpuint(sv->packets, >, 0);
  g_assert_cmpfloat(sv->bitrate_bps, >, 0.0);
  g_assert_cmpstr(sa->codec, ==, "OPUS");
  g_assert_cmpuint(sa->packets, >, 0);
  g_assert_cmpfloat(sa->audio_level, >, -30.0);
  g_assert_true(call.send.first_video);

out:
  call_clear(&call);
}

static void
test_loopback_call(void)
{
  static const char *const h264[] = {"x264enc", NULL};

  run_loopback_call(h264, "H264");
}

static void
test_loopback_call_vp8(void)
{
  static const char *const vp8[] = {"vp8enc", NULL};

  run_loopback_call(vp8, "VP8");
}

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
  call_init(&call, h264);
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

static void
run_tampered(gboolean tamper_offer)
{
  Call call;
  Side *victim, *other;
  g_autoptr(GArray) rs = NULL;
  const ArTrackStats *v;

  if (!require_network())
    return;
  call_init(&call, NULL);
  call.tamper_offer = tamper_offer;
  call.tamper_answer = !tamper_offer;
  /* The peer that got the tampered SDP is the one that must refuse. */
  victim = tamper_offer ? &call.recv : &call.send;
  other = tamper_offer ? &call.send : &call.recv;
  call_start(&call);

  if (!wait_for(&call, someone_failed, CALL_TIMEOUT_MS, "the peer with the tampered SDP to fail"))
    goto out;
  g_assert_cmpint(victim->state, ==, AR_PEER_STATE_FAILED);
  g_assert_error(victim->error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FINGERPRINT);
  g_assert_nonnull(strstr(victim->error->message, "does not match the SDP fingerprint"));
  g_assert_false(victim->ever_connected);
  g_assert_no_error(call.signalling_error);

  /* Give media time to flow if it could: nothing may be decoded, because
   * RTP is held back until the certificate is verified. */
  spin(2000);
  g_assert_false(victim->ever_connected);
  g_assert_cmpint(victim->state, ==, AR_PEER_STATE_FAILED);
  rs = ar_peer_get_stats(call.recv.peer);
  v = find_track(rs, "video");
  g_assert_true(v == NULL || v->frames == 0);
  g_assert_false(call.recv.first_video);
  g_test_message("other side ended %s", ar_peer_state_to_string(other->state));

out:
  call_clear(&call);
}

static void
test_tampered_offer(void)
{
  run_tampered(TRUE);
}

static void
test_tampered_answer(void)
{
  run_tampered(FALSE);
}

static void
test_remote_sdp_validation(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) big = g_string_new("v=0\r\n");
  const char *no_media = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                         "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                         "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n";
  const char *no_fp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
                      "a=rtpmap:96 VP8/90000\r\na=sendonly\r\n";

  call_init(&call, NULL);
  while (big->len <= 64 * 1024)
    g_string_append(big, "a=x-filler:0123456789012345678901234567890123456789\r\n");

  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", big->str, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", no_media, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_assert_nonnull(strstr(error->message, "fingerprint"));
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "answer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.send.peer, "offer", no_fp, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(ar_peer_set_remote_description(call.recv.peer, "offer", NULL, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);
  g_assert_false(
      ar_peer_set_remote_description(call.recv.peer, "offer", "\x01\x02garbage", &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_SDP);
  g_clear_error(&error);

  /* On error nothing changed. */
  g_assert_cmpint(ar_peer_get_state(call.recv.peer), ==, AR_PEER_STATE_NEW);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_NEW);
  call_clear(&call);
}

static void
test_candidate_validation(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_candidate = NULL;
  const char *good = "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host";
  g_autofree char *with_a = g_strconcat("a=", good, NULL);
  const char *bad[] = {
      "1 1 UDP 2122252543 10.97.0.1 40000 typ host",
      "candidate:",
      "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host\r\na=evil",
      "candidate:1 1 UDP 2122252543 10.97.0.1 40000 typ host\xff",
      "a=a=candidate:1",
      "xcandidate:1 1 UDP 1 1.2.3.4 1 typ host",
  };

  call_init(&call, NULL);
  long_candidate = g_strnfill(2000, 'x');
  memcpy(long_candidate, "candidate:", strlen("candidate:"));

  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, good, &error));
  g_assert_no_error(error);
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, with_a, &error));
  g_assert_no_error(error);
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, NULL, &error));
  g_assert_true(ar_peer_add_remote_candidate(call.recv.peer, 0, "", &error));
  g_assert_no_error(error);

  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    if (ar_peer_add_remote_candidate(call.recv.peer, 0, bad[i], &error))
      g_test_fail_printf("accepted bad candidate %" G_GSIZE_FORMAT, i);
    g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
    g_clear_error(&error);
  }
  g_assert_false(ar_peer_add_remote_candidate(call.recv.peer, 0, long_candidate, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
  g_clear_error(&error);
  g_assert_false(ar_peer_add_remote_candidate(call.recv.peer, 100000, good, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_CANDIDATE);
  g_clear_error(&error);
  call_clear(&call);
}

static void
test_close_silences_callbacks(void)
{
  Call call;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) stats = NULL;

  /* Close right after start, while webrtcbin is still creating the offer:
   * whatever it posts must not reach us. */
  call_init(&call, NULL);
  g_assert_true(ar_peer_start(call.send.peer, &error));
  g_assert_no_error(error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTING);
  side_close(&call.send);
  g_assert_false(ar_peer_start(call.send.peer, &error));
  g_assert_error(error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_FAILED);
  stats = ar_peer_get_stats(call.send.peer);
  g_assert_nonnull(stats);
  call_clear(&call);

  /* Freeing without closing first also works, and NULL is accepted. */
  call_init(&call, NULL);
  g_assert_true(ar_peer_start(call.send.peer, &error));
  spin(200);
  ar_peer_free(call.send.peer);
  call.send.peer = NULL;
  g_assert_cmpuint(call.send.closed_count, ==, 1);
  ar_peer_free(NULL);
  call.send.closing = TRUE;
  spin(300);
  g_assert_cmpuint(call.send.callbacks_after_close, ==, 0);
  ar_peer_free(call.recv.peer);
  ar_media_engine_free(call.engine);
  g_free(call.offer);
  g_free(call.answer);
}

/* ---- a call across two processes ----
 *
 * GStreamer uses one DTLS certificate per process, so the two peers of the
 * in-process calls present the same certificate. Here the RECV peer runs in a
 * child process (this binary with --child-recv), so the certificates differ:
 * a check that hashed the local certificate instead of the remote one would
 * fail this call. Signalling is one line per message on stdin/stdout. */

static void child_write(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
child_write(const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list ap;
  gsize off = 0, len;

  va_start(ap, format);
  line = g_strdup_vprintf(format, ap);
  va_end(ap);
  len = strlen(line);
  while (off < len) {
    ssize_t n = write(STDOUT_FILENO, line + off, len - off);

    if (n <= 0)
      return;
    off += (gsize)n;
  }
}

typedef struct {
  GMainLoop *loop;
  ArPeer *peer;
  gboolean media_reported;
} Child;

static void
child_on_description(ArPeer *peer, const char *type, const char *sdp, gpointer user_data)
{
  g_autofree char *b64 = g_base64_encode((const guchar *)sdp, strlen(sdp));

  child_write("%s %s\n", type, b64);
}

static void
child_on_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer user_data)
{
  if (candidate != NULL)
    child_write("cand %u %s\n", mline, candidate);
}

static void
child_on_state(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data)
{
  child_write("state %s %s\n", ar_peer_state_to_string(state), error ? error->message : "");
}

static gboolean
child_on_input(GIOChannel *ch, GIOCondition cond, gpointer user_data)
{
  Child *child = user_data;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  GIOStatus st = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);

  if (st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (st != G_IO_STATUS_NORMAL || line == NULL) {
    g_main_loop_quit(child->loop);
    return G_SOURCE_REMOVE;
  }
  g_strchomp(line);
  if (g_str_has_prefix(line, "offer ")) {
    gsize len = 0;
    g_autofree guchar *sdp = g_base64_decode(line + 6, &len);
    g_autofree char *text = g_strndup((const char *)sdp, len);

    if (!ar_peer_set_remote_description(child->peer, "offer", text, &error))
      child_write("state error %s\n", error->message);
  } else if (g_str_has_prefix(line, "cand ")) {
    char *end = NULL;
    guint64 mline = g_ascii_strtoull(line + 5, &end, 10);

    if (end != NULL && *end == ' ' &&
        !ar_peer_add_remote_candidate(child->peer, (guint)mline, end + 1, &error))
      child_write("state error %s\n", error->message);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
child_report_media(gpointer user_data)
{
  Child *child = user_data;
  g_autoptr(GArray) stats = ar_peer_get_stats(child->peer);
  const ArTrackStats *v = find_track(stats, "video");
  const ArTrackStats *a = find_track(stats, "audio");

  if (!child->media_reported && v != NULL && v->frames >= 30 && a != NULL && a->packets > 0) {
    child->media_reported = TRUE;
    child_write("media %" G_GUINT64_FORMAT " %u %u %.1f\n", v->frames, v->width, v->height,
                a->audio_level);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
child_give_up(gpointer user_data)
{
  g_main_loop_quit(((Child *)user_data)->loop);
  return G_SOURCE_REMOVE;
}

static int
child_main(void)
{
  static const ArPeerCallbacks cbs = {
      .local_description = child_on_description,
      .local_candidate = child_on_candidate,
      .state_changed = child_on_state,
  };
  Child child = {0};
  g_autoptr(GError) error = NULL;
  g_autoptr(ArMediaEngine) engine = make_engine(NULL);
  GIOChannel *in = g_io_channel_unix_new(STDIN_FILENO);

  child.loop = g_main_loop_new(NULL, FALSE);
  child.peer = ar_peer_new(engine, AR_PEER_RECV, "child", &cbs, &child, &error);
  if (child.peer == NULL || !ar_peer_start(child.peer, &error)) {
    child_write("state error %s\n", error->message);
    return 1;
  }
  g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, child_on_input, &child);
  g_timeout_add(100, child_report_media, &child);
  g_timeout_add_seconds(60, child_give_up, &child);
  g_main_loop_run(child.loop);
  ar_peer_free(child.peer);
  g_io_channel_unref(in);
  g_main_loop_unref(child.loop);
  return 0;
}

typedef struct {
  Call call; /* only .send, .engine used */
  GSubprocess *proc;
  GOutputStream *to_child;
  GDataInputStream *from_child;
  GCancellable *cancel;
  char *child_state;
  char *child_answer;
  gboolean child_media;
  guint media_frames, media_width, media_height;
  double media_level;
  gboolean child_exited;
} XCall;

static void
xcall_send_line(XCall *x, const char *line)
{
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all(x->to_child, line, strlen(line), NULL, NULL, &error))
    g_test_message("cannot write to the child: %s", error->message);
}

static void
x_on_description(ArPeer *peer, const char *type, const char *sdp, gpointer user_data)
{
  XCall *x = user_data;
  g_autofree char *b64 = g_base64_encode((const guchar *)sdp, strlen(sdp));
  g_autofree char *line = g_strdup_printf("offer %s\n", b64);

  x->call.offer = g_strdup(sdp);
  xcall_send_line(x, line);
}

static void
x_on_candidate(ArPeer *peer, guint mline, const char *candidate, gpointer user_data)
{
  g_autofree char *line = NULL;

  if (candidate == NULL)
    return;
  line = g_strdup_printf("cand %u %s\n", mline, candidate);
  xcall_send_line(user_data, line);
}

static void
x_on_state(ArPeer *peer, ArPeerState state, const GError *error, gpointer user_data)
{
  XCall *x = user_data;

  g_test_message("parent send: %s%s%s", ar_peer_state_to_string(state), error ? ": " : "",
                 error ? error->message : "");
  x->call.send.state = state;
  if (error != NULL && x->call.send.error == NULL)
    x->call.send.error = g_error_copy(error);
}

static void xcall_read_next(XCall *x);

static void
xcall_on_line(GObject *source, GAsyncResult *res, gpointer user_data)
{
  XCall *x = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line =
      g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, NULL, &error);

  if (line == NULL) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      x->child_exited = TRUE;
    return;
  }
  if (g_str_has_prefix(line, "answer ")) {
    gsize len = 0;
    g_autofree guchar *sdp = g_base64_decode(line + 7, &len);

    x->child_answer = g_strndup((const char *)sdp, len);
    if (!ar_peer_set_remote_description(x->call.send.peer, "answer", x->child_answer, &error))
      g_test_message("parent refused the answer: %s", error->message);
  } else if (g_str_has_prefix(line, "cand ")) {
    char *end = NULL;
    guint64 mline = g_ascii_strtoull(line + 5, &end, 10);

    if (end != NULL && *end == ' ' &&
        !ar_peer_add_remote_candidate(x->call.send.peer, (guint)mline, end + 1, &error))
      g_test_message("parent refused a candidate: %s", error->message);
  } else if (g_str_has_prefix(line, "state ")) {
    g_test_message("child recv: %s", line + 6);
    g_free(x->child_state);
    x->child_state = g_strdup(line + 6);
  } else if (g_str_has_prefix(line, "media ")) {
    x->child_media = sscanf(line + 6, "%u %u %u %lf", &x->media_frames, &x->media_width,
                            &x->media_height, &x->media_level) == 4;
  }
  xcall_read_next(x);
}

static void
xcall_read_next(XCall *x)
{
  g_data_input_stream_read_line_async(x->from_child, G_PRIORITY_DEFAULT, x->cancel, xcall_on_line,
                                      x);
}

static gboolean
xcall_done(Call *call)
{
  XCall *x = (XCall *)call;

  return (call->send.state == AR_PEER_STATE_CONNECTED && x->child_media) ||
         call->send.state == AR_PEER_STATE_FAILED || x->child_exited ||
         (x->child_state != NULL && !g_str_has_prefix(x->child_state, "connect"));
}

static gboolean
xcall_child_gone(Call *call)
{
  return ((XCall *)call)->child_exited;
}

static void
test_cross_process_call(void)
{
  static const ArPeerCallbacks cbs = {
      .local_description = x_on_description,
      .local_candidate = x_on_candidate,
      .state_changed = x_on_state,
  };
  XCall x = {0};
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) offer_fp = NULL;
  g_auto(GStrv) answer_fp = NULL;

  if (!require_network())
    return;
  x.call.engine = make_engine(NULL);
  x.cancel = g_cancellable_new();
  x.proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            "/proc/self/exe", "--child-recv", NULL);
  g_assert_no_error(error);
  x.to_child = g_subprocess_get_stdin_pipe(x.proc);
  x.from_child = g_data_input_stream_new(g_subprocess_get_stdout_pipe(x.proc));
  xcall_read_next(&x);

  x.call.send.peer = ar_peer_new(x.call.engine, AR_PEER_SEND, "parent", &cbs, &x, &error);
  g_assert_no_error(error);
  g_assert_true(ar_peer_start(x.call.send.peer, &error));
  g_assert_no_error(error);

  if (wait_for(&x.call, xcall_done, CALL_TIMEOUT_MS, "a connected call with the child process")) {
    g_assert_no_error(x.call.send.error);
    g_assert_cmpint(x.call.send.state, ==, AR_PEER_STATE_CONNECTED);
    g_assert_cmpstr(x.child_state, ==, "connected ");
    g_assert_true(x.child_media);
    g_assert_cmpuint(x.media_frames, >=, 30);
    g_assert_cmpuint(x.media_width, ==, 320);
    g_assert_cmpuint(x.media_height, ==, 240);
    g_assert_cmpfloat(x.media_level, >, -30.0);
    /* The point of this test: each side verified a certificate not its own. */
    offer_fp = ar_sdp_get_fingerprints(x.call.offer, &error);
    g_assert_no_error(error);
    answer_fp = ar_sdp_get_fingerprints(x.child_answer, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(offer_fp[0], !=, answer_fp[0]);
  }

  ar_peer_close(x.call.send.peer);
  g_output_stream_close(x.to_child, NULL, NULL);
  if (!wait_for(&x.call, xcall_child_gone, 10000, "the child to exit"))
    g_subprocess_force_exit(x.proc);
  g_cancellable_cancel(x.cancel);
  g_subprocess_wait(x.proc, NULL, NULL);
  spin(50);
  g_clear_pointer(&x.call.send.peer, ar_peer_free);
  g_clear_pointer(&x.call.engine, ar_media_engine_free);
  g_clear_error(&x.call.send.error);
  g_clear_object(&x.from_child);
  g_clear_object(&x.proc);
  g_clear_object(&x.cancel);
  g_free(x.call.offer);
  g_free(x.child_answer);
  g_free(x.child_state);
}

/* ---- dead-peer detection ---- */

/* Drops (or stops dropping) every UDP packet of the private namespace the
 * test runs in (tests/lab/in-netns.sh sets AR_NETNS): a total blackout. */
static gboolean
netns_block_udp(gboolean block)
{
  const char *add[] = {"nft",
                       "add table inet ar_test_liveness; "
                       "add chain inet ar_test_liveness out "
                       "{ type filter hook output priority 0; policy accept; }; "
                       "add rule inet ar_test_liveness out meta l4proto udp drop",
                       NULL};
  const char *del[] = {"nft", "delete table inet ar_test_liveness", NULL};
  g_autoptr(GError) error = NULL;
  gint status = 0;

  if (!g_spawn_sync(NULL, (char **)(block ? add : del), NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                    NULL, &status, &error) ||
      !g_spawn_check_wait_status(status, &error)) {
    g_test_fail_printf("nft (%s UDP): %s", block ? "blocking" : "unblocking", error->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
in_private_netns(void)
{
  if (g_getenv("AR_NETNS") == NULL) {
    g_test_skip("needs the private network namespace of tests/lab/in-netns.sh (nftables rules)");
    return FALSE;
  }
  return TRUE;
}

static gboolean
recv_failed(Call *call)
{
  return call->recv.state == AR_PEER_STATE_FAILED;
}

static gboolean
send_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED;
}

static guint64
recv_frames(Call *call)
{
  g_autoptr(GArray) stats = ar_peer_get_stats(call->recv.peer);
  const ArTrackStats *v = find_track(stats, "video");

  return v != NULL ? v->frames : 0;
}

/* Starts @call (initialized): connected with media flowing, or FALSE (test failed). */
static gboolean
start_call_with_media(Call *call)
{
  call_start(call);
  if (!wait_for(call, both_connected, CALL_TIMEOUT_MS, "both peers CONNECTED") ||
      !wait_for(call, recv_has_media, CALL_TIMEOUT_MS, "media on the receiving side"))
    return FALSE;
  g_assert_no_error(call->send.error);
  g_assert_no_error(call->recv.error);
  return TRUE;
}

/* One side vanishes (its pipeline goes to NULL: no BYE, no DTLS close, like
 * a crash or a pulled cable); the survivor must fail with DEAD_PEER
 * AR_PEER_DEAD_TIMEOUT_S after the last packet it heard, and not before. */
static void
run_dead_remote(gboolean send_dies)
{
  Call call;
  Side *dying, *survivor;
  gint64 t0;
  double elapsed;

  if (!require_network())
    return;
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  dying = send_dies ? &call.send : &call.recv;
  survivor = send_dies ? &call.recv : &call.send;
  /* Long enough for the RTCP of a steady call. */
  spin(3000);
  g_assert_cmpint(survivor->state, ==, AR_PEER_STATE_CONNECTED);
  t0 = g_get_monotonic_time();
  side_close(dying);
  if (!wait_for(&call, send_dies ? recv_failed : send_failed, (AR_PEER_DEAD_TIMEOUT_S + 2) * 1000,
                "the survivor to detect the dead peer"))
    goto out;
  elapsed = (g_get_monotonic_time() - t0) / 1e6;
  g_test_message("%s detected the dead %s peer after %.1f s: %s", survivor->name, dying->name,
                 elapsed, survivor->error->message);
  g_assert_error(survivor->error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_DEAD_PEER);
  g_assert_nonnull(strstr(survivor->error->message, "No media or RTCP from the remote peer"));
  /* Counted from the last packet heard: a SEND peer hears an RTCP report
   * about every second, so up to ~1.5 s before the close (with the 0.5 s tick). */
  g_assert_cmpfloat(elapsed, >=, AR_PEER_DEAD_TIMEOUT_S - 1.5);
  g_assert_cmpfloat(elapsed, <=, AR_PEER_DEAD_TIMEOUT_S + 2);
out:
  call_clear(&call);
}

static void
test_dead_sender(void)
{
  run_dead_remote(TRUE);
}

static void
test_dead_receiver(void)
{
  run_dead_remote(FALSE);
}

static gboolean
recv_frames_moving(Call *call)
{
  static guint64 last;
  guint64 now = recv_frames(call);
  gboolean moving = now > last;

  last = now;
  return moving || someone_failed(call);
}

/* A 2 s blackout of all UDP: both sides stay CONNECTED, media resumes. */
static void
test_short_outage(void)
{
  Call call;
  guint64 frames_before;
  gint64 t_unblock;

  if (!in_private_netns() || !require_network())
    return;
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  if (!netns_block_udp(TRUE))
    goto out;
  spin(500);
  frames_before = recv_frames(&call);
  spin(1500);
  if (!netns_block_udp(FALSE))
    goto out;
  t_unblock = g_get_monotonic_time();
  g_assert_cmpuint(recv_frames(&call), <=, frames_before + 2);
  recv_frames_moving(&call);
  if (wait_for(&call, recv_frames_moving, 10000, "new frames after the blackout"))
    g_test_message("first new frame %.2f s after the blackout ended",
                   (g_get_monotonic_time() - t_unblock) / 1e6);
  /* Past the dead-peer timeout, counted from the start of the blackout. */
  spin((AR_PEER_DEAD_TIMEOUT_S + 1) * 1000);
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpuint(recv_frames(&call), >, frames_before + 60);
out:
  if (g_getenv("AR_NETNS") != NULL)
    g_spawn_command_line_sync("nft delete table inet ar_test_liveness", NULL, NULL, NULL, NULL);
  call_clear(&call);
}

/* ---- the room's address goes away ---- */

static gboolean
run_ip(const char *args)
{
  g_autofree char *cmd = g_strdup_printf("ip %s", args);
  g_autoptr(GError) error = NULL;
  gint status = 0;

  if (!g_spawn_command_line_sync(cmd, NULL, NULL, &status, &error) ||
      !g_spawn_check_wait_status(status, &error)) {
    g_test_fail_printf("%s: %s", cmd, error->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
both_failed(Call *call)
{
  return call->send.state == AR_PEER_STATE_FAILED && call->recv.state == AR_PEER_STATE_FAILED;
}

/* An address the call does not use comes and goes: nothing happens. Then the
 * namespace loses every address: both peers fail at once with
 * AR_MEDIA_ERROR_NETWORK (rtnetlink), not after the dead-peer timeout. */
static void
test_address_gone(void)
{
  const char *a1 = g_getenv("AR_NETNS_ADDR1");
  const char *a2 = g_getenv("AR_NETNS_ADDR2");
  Call call;
  gint64 t0;
  double elapsed;
  gboolean removed = FALSE;

  if (!in_private_netns() || !require_network())
    return;
  g_assert_nonnull(a1);
  g_assert_nonnull(a2);
  call_init(&call, NULL);
  if (!start_call_with_media(&call))
    goto out;
  /* The stats (selected pair, its local address) refresh every second. */
  spin(2500);
  if (!run_ip("addr add 10.97.0.77/24 dev ar0") || !run_ip("addr del 10.97.0.77/24 dev ar0"))
    goto out;
  spin(1000);
  g_assert_no_error(call.send.error);
  g_assert_no_error(call.recv.error);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);

  /* Every address of both ends (IPv4 and the IPv6 link-local ones: the pair
   * may use either). */
  t0 = g_get_monotonic_time();
  removed = TRUE;
  if (!run_ip("addr flush dev ar0") || !run_ip("addr flush dev ar1"))
    goto out;
  if (!wait_for(&call, both_failed, 3000, "both peers to fail after their addresses went away"))
    goto out;
  elapsed = (g_get_monotonic_time() - t0) / 1e6;
  g_test_message("both peers failed %.3f s after the addresses went away: %s", elapsed,
                 call.send.error->message);
  g_assert_error(call.send.error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NETWORK);
  g_assert_error(call.recv.error, AR_MEDIA_ERROR, AR_MEDIA_ERROR_NETWORK);
  g_assert_nonnull(strstr(call.send.error->message, "went away"));
  g_assert_cmpfloat(elapsed, <, 1.0);
out:
  if (removed) {
    g_autofree char *r1 = g_strdup_printf("ip addr replace %s/24 dev ar0", a1);
    g_autofree char *r2 = g_strdup_printf("ip addr replace %s/24 dev ar1", a2);

    /* Down and up gives the links their IPv6 link-local addresses back. */
    g_spawn_command_line_sync("ip link set ar0 down", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar1 down", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar0 up", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync("ip link set ar1 up", NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync(r1, NULL, NULL, NULL, NULL);
    g_spawn_command_line_sync(r2, NULL, NULL, NULL, NULL);
  }
  call_clear(&call);
}

static gboolean
send_path_known(Call *call)
{
  g_autofree char *path = ar_peer_get_ice_path(call->send.peer);

  return path != NULL || someone_failed(call);
}

/* The send side learns the receiver's host candidates only as "<uuid>.local"
 * names. @resolvable: the system resolves them (as nss-mdns would) or not. The
 * call must connect and carry media either way: resolved names give host
 * candidates; unresolved ones are dropped, and the receiver's own checks still
 * reach the sender (a peer-reflexive candidate). */
static void
run_mdns(gboolean resolvable)
{
  g_autoptr(GResolver) saved = g_resolver_get_default();
  g_autoptr(GResolver) fake = g_object_new(test_resolver_get_type(), NULL);
  g_autofree char *path = NULL;
  Call call;

  if (!require_network())
    return;
  mdns_lookups = 0;
  mdns_names = resolvable ? g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free) : NULL;
  g_resolver_set_default(fake);
  call_init(&call, NULL);
  call.mdns_recv = TRUE;
  if (!start_call_with_media(&call))
    goto out;
  wait_for(&call, send_path_known, 5000, "the sender's selected pair");
  path = ar_peer_get_ice_path(call.send.peer);
  g_test_message("%u .local candidates given, %u lookups; sender's path %s", call.n_mdns,
                 mdns_lookups, path);
  g_assert_cmpuint(call.n_mdns, >, 0);
  g_assert_cmpuint(mdns_lookups, >, 0);
  g_assert_cmpint(call.send.state, ==, AR_PEER_STATE_CONNECTED);
  g_assert_cmpint(call.recv.state, ==, AR_PEER_STATE_CONNECTED);
  /* Resolved: the sender pairs with the receiver's host candidates. Not
   * resolved: only with what the receiver's checks revealed. */
  g_assert_nonnull(path);
  g_assert_true(g_str_has_suffix(path, resolvable ? "-> host" : "-> prflx"));
out:
  call_clear(&call);
  g_resolver_set_default(saved);
  g_clear_pointer(&mdns_names, g_hash_table_unref);
}

static void
test_mdns_resolved(void)
{
  run_mdns(TRUE);
}

static void
test_mdns_unresolved(void)
{
  run_mdns(FALSE);
}

int
main(int argc, char **argv)
{
  if (argc == 2 && g_str_equal(argv[1], "--child-recv"))
    return child_main();
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/media/peer/remote-sdp-validation", test_remote_sdp_validation);
  g_test_add_func("/media/peer/candidate-validation", test_candidate_validation);
  g_test_add_func("/media/peer/close-silences-callbacks", test_close_silences_callbacks);
  g_test_add_func("/media/peer/loopback-call", test_loopback_call);
  g_test_add_func("/media/peer/loopback-call-vp8", test_loopback_call_vp8);
  g_test_add_func("/media/peer/media-controls", test_media_controls);
  g_test_add_func("/media/peer/volume-curve", test_volume_curve);
  g_test_add_func("/media/peer/video-tap-h264", test_video_tap_h264);
  g_test_add_func("/media/peer/video-tap-vp8", test_video_tap_vp8);
  g_test_add_func("/media/peer/cross-process-call", test_cross_process_call);
  g_test_add_func("/media/peer/tampered-fingerprint-fails", test_tampered_offer);
  g_test_add_func("/media/peer/tampered-answer-fingerprint-fails", test_tampered_answer);
  g_test_add_func("/media/peer/dead-sender-detected", test_dead_sender);
  g_test_add_func("/media/peer/dead-receiver-detected", test_dead_receiver);
  g_test_add_func("/media/peer/short-outage-survives", test_short_outage);
  g_test_add_func("/media/peer/mdns-candidate-resolved", test_mdns_resolved);
  g_test_add_func("/media/peer/mdns-candidate-unresolved", test_mdns_unresolved);
  g_test_add_func("/media/peer/address-gone-fails-fast", test_address_gone);
  return g_test_run();
}
