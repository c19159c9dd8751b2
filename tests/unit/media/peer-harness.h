/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * peer-harness.h: the call harness shared by the peer tests (test-peer.c,
 * test-peer-controls.c, test-peer-network.c, one test-media-peer binary): a
 * SEND and a RECV peer in this process, signalled to each other directly, and
 * helpers to drive the main context until something happens.
 *
 * The two webrtcbins connect over the host's own addresses. libnice does not
 * gather candidates on the loopback interface: the machine (or the network
 * namespace the test runs in) needs one non-loopback interface with an
 * address; require_network() says so and fails the test otherwise.
 */
#pragma once

#include <glib.h>

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
  /* When set, recv's candidates reach the send side as this returns them
   * (test-peer-network.c: host candidates as "<uuid>.local"). */
  char *(*rewrite_recv_candidate)(Call *call, const char *candidate);
  guint n_mdns;
  char *offer;
  char *answer;
  GError *signalling_error;
};

/* ---- helpers ---- */

/* Fails the test (and returns FALSE) when no interface besides lo is up. */
gboolean require_network(void);
/* Iterates the default main context until @pred holds or @timeout_ms passed.
 * Returns FALSE and fails the test on timeout. */
gboolean wait_for(Call *call, gboolean (*pred)(Call *call), guint timeout_ms, const char *what);
/* Runs the main loop for @ms regardless. */
void spin(guint ms);
const ArTrackStats *find_track(GArray *stats, const char *kind);

/* ---- setup ---- */

/* Set before call_init (or make_engine) to tap the engine's encoded video. */
extern const ArVideoSinkFuncs *test_video_sink;
extern gpointer test_video_sink_data;
/* Set before call_init (or make_engine): the engine's decoder preference. */
extern const char *const *test_decoders;
/* Set before call_init (or make_engine): RECV peers decode video even though
 * the engine shows none (ArMediaConfig.decode_received_video). */
extern gboolean test_decode_video;

/* An engine with the test camera and tone, 320x240, no sinks. */
ArMediaEngine *make_engine(const char *const *encoders);
/* A SEND peer "publisher" and a RECV peer "feed-1" on a new engine. */
void call_init(Call *call, const char *const *encoders);
void call_start(Call *call);
/* Closes @side and checks that CLOSED is reported synchronously, once. */
void side_close(Side *side);
/* Closes both sides, checks that nothing fires afterwards, frees it all. */
void call_clear(Call *call);

/* ---- predicates ---- */

gboolean both_connected(Call *call);
gboolean recv_has_media(Call *call);
gboolean someone_failed(Call *call);

/* ---- the test groups, in the order test-peer.c's main() adds them ---- */

void test_peer_add_control_tests(void);
void test_peer_add_network_tests(void);
