/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ar-room-call-priv.h: what the files of the room calls share. */
#pragma once

#include "ar-room-call.h"

G_BEGIN_DECLS

/* A peer whose local description is handed over whole: with every candidate
 * gathered within AR_ROOM_CALL_GATHER_MS (no trickle). */
typedef struct _ArRcPeer ArRcPeer;

typedef struct {
  /* The local description with its candidates (an offer for SEND, an answer for RECV). */
  void (*sdp_ready)(ArRcPeer *rp, const char *sdp, gpointer user_data);
  void (*state_changed)(ArRcPeer *rp, ArPeerState state, const GError *error, gpointer user_data);
  void (*media_event)(ArRcPeer *rp, ArPeerEvent event, gpointer user_data);
} ArRcPeerCallbacks;

ArRcPeer *ar_rc_peer_new(ArMediaEngine *engine, ArPeerDirection direction, const char *label,
                         const ArRcPeerCallbacks *cb, gpointer user_data, GError **error);
/* SEND: starts and offers. RECV: starts and answers @offer (untrusted), or
 * with @offer NULL only starts (ar_rc_peer_take_offer() later). */
gboolean ar_rc_peer_start(ArRcPeer *rp, const char *offer, GError **error);
/* RECV, started: answers @offer (untrusted). */
gboolean ar_rc_peer_take_offer(ArRcPeer *rp, const char *offer, GError **error);
/* SEND: the remote answer (untrusted). */
gboolean ar_rc_peer_take_answer(ArRcPeer *rp, const char *answer, GError **error);
ArPeer *ar_rc_peer_get(ArRcPeer *rp);
void ar_rc_peer_free(ArRcPeer *rp);

/* What the two providers share: a call of two peers, one sending (it
 * offered) and one receiving, connected once both are. */
typedef struct {
  ArProvider parent;
  ArProviderCallbacks cb;
  gpointer user_data;
  ArRcPeer *send, *recv;
  gboolean send_up, recv_up, connected;
  const char *participant; /* the other end's name, borrowed; listed once connected */
} ArRcCall;

/* A peer's state (not FAILED: the provider ends the call its own way):
 * connected is reported once both peers are. */
void ar_rc_call_peer_state(ArRcCall *c, ArRcPeer *rp, ArPeerState state);
void ar_rc_call_peer_media(ArRcCall *c, ArRcPeer *rp, ArPeerEvent event);
/* ArProviderClass.collect_tracks and collect_participants of both. */
void ar_rc_call_collect_tracks(ArProvider *base, GPtrArray *out);
void ar_rc_call_collect_participants(ArProvider *base, GPtrArray *out);
void ar_rc_call_close_peers(ArRcCall *c);

/* The "anyroom-in" class (ar-room-call-in.c) and "anyroom" (ar-room-call-out.c). */
extern const ArProviderClass ar_room_call_in_class;
extern const ArProviderClass ar_room_call_out_class;

G_END_DECLS
